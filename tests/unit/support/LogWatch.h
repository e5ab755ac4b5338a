// LogWatch: a Qt message handler for tests that records every line the process logs while it is
// installed and looks in each for the secrets a test registers, so a test can fail when a token,
// code or client secret reaches a log line.
//
// One LogWatch is installed at a time: either for a whole test class (install() in
// initTestCase(), uninstall() in cleanupTestCase(), VERIFY_NO_LOG_LEAKS in cleanup()) or for
// one test function in a scope.

#pragma once

#include <QByteArray>
#include <QMutex>
#include <QMutexLocker>
#include <QString>
#include <QStringList>
#include <QTest>
#include <QUuid>
#include <QtGlobal>

#include <utility>

class LogWatch
{
public:
    // Whether a recorded line still goes on to the handler that was installed before.
    enum class Forward { ToPreviousHandler, Nowhere };

    explicit LogWatch(Forward forward = Forward::ToPreviousHandler) : m_forward(forward) { }
    ~LogWatch() { uninstall(); }
    LogWatch(const LogWatch &) = delete;
    LogWatch &operator=(const LogWatch &) = delete;

    void install()
    {
        Q_ASSERT(!s_installed);
        s_installed = this;
        m_previous = qInstallMessageHandler(&LogWatch::handle);
    }

    void uninstall()
    {
        if (s_installed != this)
            return;
        qInstallMessageHandler(m_previous);
        m_previous = nullptr;
        s_installed = nullptr;
    }

    // Every line logged from now on is checked for `secret` (compared as Latin-1 text).
    void watch(const QByteArray &secret)
    {
        QMutexLocker lock(&m_mutex);
        m_secrets.append(secret);
    }

    // A fresh secret value, "<what>_<uuid>", already watched.
    QByteArray newSecret(const char *what)
    {
        QByteArray value = what + QByteArray("_") + QUuid::createUuid().toByteArray(QUuid::Id128);
        watch(value);
        return value;
    }

    bool watchesAnySecret() const
    {
        QMutexLocker lock(&m_mutex);
        return !m_secrets.isEmpty();
    }

    // The lines recorded since install() or the last clearLines().
    QStringList lines() const
    {
        QMutexLocker lock(&m_mutex);
        return m_lines;
    }

    void clearLines()
    {
        QMutexLocker lock(&m_mutex);
        m_lines.clear();
    }

    // The lines that held a watched secret when they were logged, since the last call.
    QStringList takeLeaks()
    {
        QMutexLocker lock(&m_mutex);
        return std::exchange(m_leaks, {});
    }

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
    {
        LogWatch *self = s_installed;
        if (!self)
            return;
        {
            QMutexLocker lock(&self->m_mutex);
            self->m_lines.append(message);
            for (const QByteArray &secret : std::as_const(self->m_secrets)) {
                if (message.contains(QString::fromLatin1(secret)))
                    self->m_leaks.append(message);
            }
        }
        if (self->m_forward == Forward::ToPreviousHandler && self->m_previous)
            self->m_previous(type, context, message);
    }

    inline static LogWatch *s_installed = nullptr;

    const Forward m_forward;
    QtMessageHandler m_previous = nullptr;
    mutable QMutex m_mutex;
    QList<QByteArray> m_secrets;
    QStringList m_lines;
    QStringList m_leaks;
};

// Fails the current test if any line logged since the last check held a watched secret.
#define VERIFY_NO_LOG_LEAKS(logWatch)                                                              \
    do {                                                                                           \
        const QStringList leaks_ = (logWatch).takeLeaks();                                         \
        QVERIFY2(leaks_.isEmpty(),                                                                 \
                 qPrintable(QStringLiteral("a secret reached the log: ") + leaks_.join(u'\n')));   \
    } while (false)
