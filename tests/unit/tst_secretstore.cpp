// SecretStore against a real Secret Service: tests/keyring/with-keyring.sh runs this binary in a
// private D-Bus session with a fresh, unlocked gnome-keyring. Nothing here fakes the keychain:
// the "no keychain" case runs a child process on a bus that has no Secret Service at all, and
// the "keychain does not answer" case stops the real gnome-keyring-daemon with SIGSTOP.
//
// Run outside the wrapper, the keychain tests skip: they must never touch a developer's own
// keychain.

#include "store/SecretStore.h"

#include "LogWatch.h"

#include <QCoreApplication>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

#include <csignal>
#include <cstdio>
#include <optional>
#include <sys/types.h>

using namespace mcpbroker;
using namespace mcpbroker::store;

namespace {

constexpr char kChildModeVariable[] = "MCPB_TST_SECRETSTORE_CHILD";
constexpr int kAnswerTimeoutMs = 20'000;

// What one SecretStore call answered, and how often.
template<typename T>
struct Answer
{
    int calls = 0;
    bool returnedFirst = false; // the call had returned before the callback ran
    std::optional<Result<T>> result;

    bool ok() const { return result && result->ok(); }
    Error::Kind kind() const
    {
        return result && !result->ok() ? result->error().kind : Error::Kind::Generic;
    }
    QString message() const
    {
        return result && !result->ok() ? result->error().message : QString();
    }
};

template<typename T>
struct Call
{
    std::shared_ptr<Answer<T>> answer = std::make_shared<Answer<T>>();
    std::shared_ptr<bool> returned = std::make_shared<bool>(false);

    std::function<void(Result<T>)> callback()
    {
        return [answer = answer, returned = returned](Result<T> result) {
            ++answer->calls;
            answer->returnedFirst = *returned;
            answer->result = std::move(result);
        };
    }
    void markReturned() { *returned = true; }
};

QString kindName(Error::Kind kind)
{
    switch (kind) {
    case Error::Kind::Generic:
        return QStringLiteral("Generic");
    case Error::Kind::InvalidInput:
        return QStringLiteral("InvalidInput");
    case Error::Kind::NotFound:
        return QStringLiteral("NotFound");
    case Error::Kind::Unreachable:
        return QStringLiteral("Unreachable");
    case Error::Kind::Timeout:
        return QStringLiteral("Timeout");
    case Error::Kind::Cancelled:
        return QStringLiteral("Cancelled");
    case Error::Kind::Unauthorized:
        return QStringLiteral("Unauthorized");
    case Error::Kind::Protocol:
        return QStringLiteral("Protocol");
    case Error::Kind::Rpc:
        return QStringLiteral("Rpc");
    case Error::Kind::KeychainUnavailable:
        return QStringLiteral("KeychainUnavailable");
    case Error::Kind::KeychainLocked:
        return QStringLiteral("KeychainLocked");
    case Error::Kind::Io:
        return QStringLiteral("Io");
    case Error::Kind::Forbidden:
        return QStringLiteral("Forbidden");
    case Error::Kind::Conflict:
        return QStringLiteral("Conflict");
    }
    return QStringLiteral("?");
}

// Every log line of the process, to check that no secret value is ever logged.
LogWatch g_logWatch;

// Files (recursively) under `dir` whose contents contain `needle`.
QStringList filesContaining(const QString &dir, const QByteArray &needle)
{
    QStringList found;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile file(path);
        if (file.open(QIODevice::ReadOnly) && file.readAll().contains(needle))
            found.append(path);
    }
    return found;
}

QStringList filesUnder(const QString &dir)
{
    QStringList found;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext())
        found.append(it.next());
    return found;
}

// The child side of noSecretServiceMeansKeychainUnavailable: one write, one read, one remove on
// whatever bus DBUS_SESSION_BUS_ADDRESS names; prints "<op> <kind or ok> <message>" lines.
int runChild()
{
    SecretStore store(QStringLiteral("mcp-broker-test-child"), 10'000);
    const QString key = QStringLiteral("server/child/bearer");
    const QByteArray secret = qgetenv("MCPB_TST_SECRET");
    int pending = 3;
    auto print = [&pending](const char *op, const Result<void> &result) {
        std::printf("%s %s %s\n", op, result ? "ok" : qPrintable(kindName(result.error().kind)),
                    result ? "" : qPrintable(result.error().message));
        std::fflush(stdout);
        if (--pending == 0)
            QCoreApplication::quit();
    };
    store.write(key, secret, [print](Result<void> result) { print("write", result); });
    store.read(key, [print](Result<QByteArray> result) {
        print("read", result ? Result<void>() : Result<void>(result.error()));
    });
    store.remove(key, [print](Result<void> result) { print("remove", result); });
    return QCoreApplication::exec();
}

// Runs a command line tool and returns its standard output (empty on failure).
QByteArray runTool(const QString &program, const QStringList &arguments)
{
    QProcess process;
    QSignalSpy finished(&process, &QProcess::finished);
    process.start(program, arguments);
    if (!finished.wait(10'000) || process.exitStatus() != QProcess::NormalExit
        || process.exitCode() != 0)
        return {};
    return process.readAllStandardOutput();
}

// The pid of the process that owns org.freedesktop.secrets on the session bus, or 0.
qint64 secretServicePid()
{
    const QByteArray reply = runTool(
            QStringLiteral("dbus-send"),
            {QStringLiteral("--session"), QStringLiteral("--print-reply"),
             QStringLiteral("--dest=org.freedesktop.DBus"), QStringLiteral("/org/freedesktop/DBus"),
             QStringLiteral("org.freedesktop.DBus.GetConnectionUnixProcessID"),
             QStringLiteral("string:org.freedesktop.secrets")});
    const auto match
            = QRegularExpression(QStringLiteral("uint32 (\\d+)")).match(QString::fromLatin1(reply));
    return match.hasMatch() ? match.captured(1).toLongLong() : 0;
}

} // namespace

#define REQUIRE_TEST_KEYRING() \
    if (!m_haveTestKeyring) \
        QSKIP("needs tests/keyring/with-keyring.sh (a private bus with gnome-keyring)");

class TestSecretStore : public QObject
{
    Q_OBJECT

private:
    QString m_service;
    bool m_haveTestKeyring = false;

    QString uniqueKey(const char *what) const
    {
        return QStringLiteral("server/%1-%2/bearer")
                .arg(QString::fromLatin1(what),
                     QUuid::createUuid().toString(QUuid::WithoutBraces).left(8));
    }

    template<typename T>
    static bool waitFor(const Call<T> &call, int timeoutMs = kAnswerTimeoutMs)
    {
        QElapsedTimer timer;
        timer.start();
        while (call.answer->calls == 0 && timer.elapsed() < timeoutMs)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        return call.answer->calls > 0;
    }

    // A full write/read round trip through a fresh store: when it answers, QtKeychain (which
    // runs one job at a time, in order) has delivered every answer to jobs started before.
    void flushKeychain()
    {
        SecretStore store(m_service, kAnswerTimeoutMs);
        Call<QByteArray> read;
        store.read(uniqueKey("flush"), read.callback());
        QVERIFY(waitFor(read, kAnswerTimeoutMs + 5'000));
        QCOMPARE(read.answer->kind(), Error::Kind::NotFound);
    }

private slots:
    void initTestCase()
    {
        m_service = QStringLiteral("mcp-broker-test-%1")
                            .arg(QUuid::createUuid().toString(QUuid::WithoutBraces).left(8));
        // Only under the wrapper is the keychain a throwaway one.
        m_haveTestKeyring = qEnvironmentVariableIsSet("MCPB_KEYRING_BUS")
                && qEnvironmentVariable("MCPB_KEYRING") != QLatin1String("none")
                && secretServicePid() > 0;
        QLoggingCategory::setFilterRules(QStringLiteral("mcpbroker.store.debug=true"));
        g_logWatch.install();
    }

    void cleanupTestCase() { g_logWatch.uninstall(); }

    void writeReadRemoveRoundTrip()
    {
        REQUIRE_TEST_KEYRING();
        SecretStore store(m_service);
        const QString key = uniqueKey("roundtrip");
        const QByteArray secret = "ghp_roundTripSecretValue0123456789";

        Call<void> write;
        store.write(key, secret, write.callback());
        QVERIFY(waitFor(write));
        QVERIFY2(write.answer->ok(), qPrintable(write.answer->message()));

        Call<QByteArray> read;
        store.read(key, read.callback());
        QVERIFY(waitFor(read));
        QVERIFY2(read.answer->ok(), qPrintable(read.answer->message()));
        QCOMPARE(read.answer->result->value(), secret);

        Call<void> remove;
        store.remove(key, remove.callback());
        QVERIFY(waitFor(remove));
        QVERIFY2(remove.answer->ok(), qPrintable(remove.answer->message()));

        Call<QByteArray> readAgain;
        store.read(key, readAgain.callback());
        QVERIFY(waitFor(readAgain));
        QCOMPARE(readAgain.answer->kind(), Error::Kind::NotFound);
    }

    void overwriteReplacesTheValue()
    {
        REQUIRE_TEST_KEYRING();
        SecretStore store(m_service);
        const QString key = uniqueKey("overwrite");
        for (const QByteArray &value : {QByteArray("first"), QByteArray("second, longer value")}) {
            Call<void> write;
            store.write(key, value, write.callback());
            QVERIFY(waitFor(write));
            QVERIFY(write.answer->ok());
        }
        Call<QByteArray> read;
        store.read(key, read.callback());
        QVERIFY(waitFor(read));
        QVERIFY(read.answer->ok());
        QCOMPARE(read.answer->result->value(), QByteArray("second, longer value"));
    }

    void binarySecretsSurviveByteForByte_data()
    {
        QTest::addColumn<QByteArray>("secret");
        QTest::newRow("nul bytes") << QByteArray("\0a\0b\0\0c\0", 8);
        QByteArray all(256, Qt::Uninitialized);
        for (int i = 0; i < 256; ++i)
            all[i] = static_cast<char>(i);
        QTest::newRow("every byte value") << all;
        QTest::newRow("large, like a JWT refresh token") << all.repeated(40); // 10 KiB
        QTest::newRow("empty") << QByteArray();
    }

    void binarySecretsSurviveByteForByte()
    {
        REQUIRE_TEST_KEYRING();
        QFETCH(QByteArray, secret);
        SecretStore store(m_service);
        const QString key = uniqueKey("binary");
        Call<void> write;
        store.write(key, secret, write.callback());
        QVERIFY(waitFor(write));
        QVERIFY2(write.answer->ok(), qPrintable(write.answer->message()));
        Call<QByteArray> read;
        store.read(key, read.callback());
        QVERIFY(waitFor(read));
        QVERIFY2(read.answer->ok(), qPrintable(read.answer->message()));
        QCOMPARE(read.answer->result->value(), secret);
    }

    void readOfAMissingKeyIsNotFound()
    {
        REQUIRE_TEST_KEYRING();
        SecretStore store(m_service);
        const QString key = uniqueKey("missing");
        Call<QByteArray> read;
        store.read(key, read.callback());
        QVERIFY(waitFor(read));
        QCOMPARE(read.answer->kind(), Error::Kind::NotFound);
        QVERIFY(read.answer->message().contains(key));
    }

    void removeOfAMissingKeySucceeds()
    {
        REQUIRE_TEST_KEYRING();
        SecretStore store(m_service);
        Call<void> remove;
        store.remove(uniqueKey("never-written"), remove.callback());
        QVERIFY(waitFor(remove));
        QVERIFY2(remove.answer->ok(), qPrintable(remove.answer->message()));
    }

    void servicesDoNotShareSecrets()
    {
        REQUIRE_TEST_KEYRING();
        SecretStore mine(m_service);
        SecretStore other(m_service + QStringLiteral("-other"));
        const QString key = uniqueKey("isolated");
        Call<void> write;
        mine.write(key, "mine", write.callback());
        QVERIFY(waitFor(write));
        QVERIFY(write.answer->ok());
        Call<QByteArray> read;
        other.read(key, read.callback());
        QVERIFY(waitFor(read));
        QCOMPARE(read.answer->kind(), Error::Kind::NotFound);
        QCOMPARE(other.service(), m_service + QStringLiteral("-other"));
    }

    void callbacksAreAsynchronousAndRunExactlyOnce()
    {
        REQUIRE_TEST_KEYRING();
        SecretStore store(m_service);
        const QString key = uniqueKey("async");

        Call<void> write;
        store.write(key, "v", write.callback());
        write.markReturned();
        Call<QByteArray> read;
        store.read(key, read.callback());
        read.markReturned();
        Call<void> remove;
        store.remove(key, remove.callback());
        remove.markReturned();
        Call<void> emptyKey; // refused before any keychain job: still answered later
        store.write(QString(), "v", emptyKey.callback());
        emptyKey.markReturned();
        QCOMPARE(emptyKey.answer->calls, 0);

        QVERIFY(waitFor(remove));
        flushKeychain();
        QVERIFY(waitFor(emptyKey));
        for (const auto &answer : {write.answer->calls, read.answer->calls, remove.answer->calls,
                                   emptyKey.answer->calls})
            QCOMPARE(answer, 1);
        QVERIFY(write.answer->returnedFirst);
        QVERIFY(read.answer->returnedFirst);
        QVERIFY(remove.answer->returnedFirst);
        QVERIFY(emptyKey.answer->returnedFirst);
        QVERIFY(write.answer->ok());
        QCOMPARE(read.answer->result->value(), QByteArray("v"));
        QVERIFY(remove.answer->ok());
        QCOMPARE(emptyKey.answer->kind(), Error::Kind::InvalidInput);
    }

    void destroyingTheStoreWithJobsInFlightDropsTheirAnswers()
    {
        REQUIRE_TEST_KEYRING();
        auto *store = new SecretStore(m_service);
        const QString key = uniqueKey("destroyed");
        Call<void> write;
        Call<QByteArray> read;
        Call<void> remove;
        store->write(key, "value", write.callback());
        store->read(key, read.callback());
        store->remove(key, remove.callback());
        QCoreApplication::processEvents(); // let QtKeychain start the first job
        delete store;

        flushKeychain(); // every job above has answered QtKeychain by now
        QCOMPARE(write.answer->calls, 0);
        QCOMPARE(read.answer->calls, 0);
        QCOMPARE(remove.answer->calls, 0);
    }

    void aKeychainThatDoesNotAnswerTimesOutAndItsLateAnswerIsIgnored()
    {
        REQUIRE_TEST_KEYRING();
        const qint64 pid = secretServicePid();
        QVERIFY(pid > 0);
        QCOMPARE(::kill(static_cast<pid_t>(pid), SIGSTOP), 0);
        auto resume = qScopeGuard([pid] { ::kill(static_cast<pid_t>(pid), SIGCONT); });

        SecretStore store(m_service, 300);
        const QString key = uniqueKey("timeout");
        QElapsedTimer elapsed;
        elapsed.start();
        Call<QByteArray> read;
        store.read(key, read.callback());
        QVERIFY(waitFor(read, 5'000));
        QVERIFY2(elapsed.elapsed() < 3'000, qPrintable(QString::number(elapsed.elapsed())));
        QCOMPARE(read.answer->kind(), Error::Kind::KeychainLocked);
        QVERIFY2(
                read.answer->message().contains(QLatin1String("did not answer within 0.3 seconds")),
                qPrintable(read.answer->message()));
        QVERIFY(read.answer->message().contains(QLatin1String("Unlock it")));

        // A job queued behind the stuck one times out too (QtKeychain runs one job at a time).
        Call<void> write;
        store.write(key, "late", write.callback());
        QVERIFY(waitFor(write, 5'000));
        QCOMPARE(write.answer->kind(), Error::Kind::KeychainLocked);

        resume.dismiss();
        QCOMPARE(::kill(static_cast<pid_t>(pid), SIGCONT), 0);
        flushKeychain(); // QtKeychain delivers the late answers before this one
        QCOMPARE(read.answer->calls, 1);
        QCOMPARE(write.answer->calls, 1);
    }

    void destroyingTheStoreWhileTheKeychainIsStuckIsSafe()
    {
        REQUIRE_TEST_KEYRING();
        const qint64 pid = secretServicePid();
        QVERIFY(pid > 0);
        QCOMPARE(::kill(static_cast<pid_t>(pid), SIGSTOP), 0);
        auto resume = qScopeGuard([pid] { ::kill(static_cast<pid_t>(pid), SIGCONT); });

        auto *store = new SecretStore(m_service, 60'000);
        Call<QByteArray> read;
        Call<void> write;
        store->read(uniqueKey("stuck"), read.callback());
        store->write(uniqueKey("stuck"), "v", write.callback());
        for (int i = 0; i < 5; ++i)
            QCoreApplication::processEvents(); // the read's D-Bus call is now pending
        delete store;

        resume.dismiss();
        QCOMPARE(::kill(static_cast<pid_t>(pid), SIGCONT), 0);
        flushKeychain();
        QCOMPARE(read.answer->calls, 0);
        QCOMPARE(write.answer->calls, 0);
    }

    void secretValuesNeverReachALogOrAPlainFile()
    {
        REQUIRE_TEST_KEYRING();
        const QByteArray secret = "tok_" + QUuid::createUuid().toByteArray(QUuid::Id128);
        SecretStore store(m_service);
        const QString key = uniqueKey("logged");
        g_logWatch.clearLines();
        Call<void> write;
        store.write(key, secret, write.callback());
        QVERIFY(waitFor(write));
        QVERIFY(write.answer->ok());
        Call<QByteArray> read;
        store.read(key, read.callback());
        QVERIFY(waitFor(read));
        QVERIFY(read.answer->ok());

        const QStringList log = g_logWatch.lines();
        QVERIFY2(!log.isEmpty(), "debug logging of mcpbroker.store should be on");
        QVERIFY(log.join(QLatin1Char('\n')).contains(key)); // keys may be logged
        for (const QString &line : log)
            QVERIFY2(!line.contains(QString::fromLatin1(secret)), qPrintable(line));

        // No plaintext fallback anywhere in the throwaway XDG dirs (QSettings would write there).
        for (const char *variable : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"}) {
            const QString dir = qEnvironmentVariable(variable);
            QVERIFY(!dir.isEmpty());
            QCOMPARE(filesContaining(dir, secret), QStringList());
        }
    }

    void noSecretServiceMeansKeychainUnavailableAndNoPlaintextFile_data()
    {
        QTest::addColumn<bool>("withBus");
        QTest::newRow("a session bus without Secret Service") << true;
        QTest::newRow("no session bus at all") << false;
    }

    void noSecretServiceMeansKeychainUnavailableAndNoPlaintextFile()
    {
        QFETCH(bool, withBus);
        // A private bus that can start nothing: no Secret Service, no KWallet, no activation.
        // Or, without it, a bus address that leads nowhere.
        QTemporaryDir scratch;
        QVERIFY(scratch.isValid());
        const QString busConfig = scratch.filePath(QStringLiteral("bus.conf"));
        {
            QFile file(busConfig);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QStringLiteral(
                               "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
                               "Configuration 1.0//EN\"\n"
                               " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                               "<busconfig>\n"
                               "  <type>session</type>\n"
                               "  <listen>unix:dir=%1</listen>\n"
                               "  <auth>EXTERNAL</auth>\n"
                               "  <policy context=\"default\">\n"
                               "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                               "    <allow eavesdrop=\"true\"/>\n"
                               "    <allow own=\"*\"/>\n"
                               "  </policy>\n"
                               "</busconfig>\n")
                               .arg(scratch.path())
                               .toUtf8());
        }
        QProcess bus;
        if (withBus)
            bus.start(QStringLiteral("dbus-daemon"),
                      {QStringLiteral("--config-file=") + busConfig, QStringLiteral("--nofork"),
                       QStringLiteral("--print-address=1")});
        auto stopBus = qScopeGuard([&bus] {
            if (bus.state() == QProcess::NotRunning)
                return;
            QSignalSpy finished(&bus, &QProcess::finished);
            bus.terminate();
            if (!finished.wait(5'000)) {
                bus.kill();
                finished.wait(5'000);
            }
        });
        QByteArray address
                = "unix:path=" + QFile::encodeName(scratch.filePath(QStringLiteral("no-bus")));
        if (withBus) {
            address.clear();
            QTRY_VERIFY_WITH_TIMEOUT((address += bus.readAllStandardOutput()).contains('\n'),
                                     10'000);
            address = address.trimmed();
            QVERIFY(address.startsWith("unix:"));
        }

        const QString home = scratch.filePath(QStringLiteral("home"));
        for (const char *dir : {"home", "config", "data", "cache"})
            QVERIFY(QDir().mkpath(scratch.filePath(QString::fromLatin1(dir))));
        const QByteArray secret = "tok_" + QUuid::createUuid().toByteArray(QUuid::Id128);
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QString::fromLatin1(kChildModeVariable), QStringLiteral("1"));
        environment.insert(QStringLiteral("MCPB_TST_SECRET"), QString::fromLatin1(secret));
        environment.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"),
                           QString::fromLatin1(address));
        environment.insert(QStringLiteral("HOME"), home);
        environment.insert(QStringLiteral("XDG_CONFIG_HOME"),
                           scratch.filePath(QStringLiteral("config")));
        environment.insert(QStringLiteral("XDG_DATA_HOME"),
                           scratch.filePath(QStringLiteral("data")));
        environment.insert(QStringLiteral("XDG_CACHE_HOME"),
                           scratch.filePath(QStringLiteral("cache")));
        for (const char *variable : {"DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL",
                                     "XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "KDE_FULL_SESSION",
                                     "KDE_SESSION_VERSION", "GNOME_DESKTOP_SESSION_ID"})
            environment.remove(QString::fromLatin1(variable));

        QProcess child;
        child.setProcessEnvironment(environment);
        child.setProcessChannelMode(QProcess::SeparateChannels);
        QElapsedTimer elapsed;
        elapsed.start();
        child.start(QCoreApplication::applicationFilePath(), {});
        QSignalSpy finished(&child, &QProcess::finished);
        QVERIFY2(finished.wait(30'000), "the child did not answer: SecretStore hung");
        const QString output = QString::fromUtf8(child.readAllStandardOutput());
        QVERIFY2(child.exitStatus() == QProcess::NormalExit && child.exitCode() == 0,
                 qPrintable(output + QString::fromUtf8(child.readAllStandardError())));
        QVERIFY2(elapsed.elapsed() < 15'000, qPrintable(QString::number(elapsed.elapsed())));

        for (const char *op : {"write", "read", "remove"}) {
            const auto line
                    = QRegularExpression(
                              QStringLiteral("^%1 (\\S+) (.*)$").arg(QString::fromLatin1(op)),
                              QRegularExpression::MultilineOption)
                              .match(output);
            QVERIFY2(line.hasMatch(), qPrintable(output));
            QVERIFY2(line.captured(1) == QLatin1String("KeychainUnavailable"), qPrintable(output));
            QVERIFY2(line.captured(2).contains(QLatin1String("No keychain is available")),
                     qPrintable(line.captured(2)));
        }
        QVERIFY(!output.contains(QString::fromLatin1(secret)));
        // No plaintext fallback: the child wrote no file at all.
        QCOMPARE(filesUnder(home), QStringList());
        QCOMPARE(filesUnder(scratch.filePath(QStringLiteral("config"))), QStringList());
        QCOMPARE(filesUnder(scratch.filePath(QStringLiteral("data"))), QStringList());
    }

    // Last: it locks the test keyring, and nothing can unlock it without a prompt.
    void aLockedKeyringIsReportedAsLockedWithinTheTimeout()
    {
        REQUIRE_TEST_KEYRING();
        SecretStore store(m_service, 5'000);
        const QString key = uniqueKey("locked");
        Call<void> write;
        store.write(key, "before-lock", write.callback());
        QVERIFY(waitFor(write));
        QVERIFY(write.answer->ok());

        const QByteArray locked = runTool(
                QStringLiteral("dbus-send"),
                {QStringLiteral("--session"), QStringLiteral("--print-reply"),
                 QStringLiteral("--dest=org.freedesktop.secrets"),
                 QStringLiteral("/org/freedesktop/secrets"),
                 QStringLiteral("org.freedesktop.Secret.Service.Lock"),
                 QStringLiteral("array:objpath:/org/freedesktop/secrets/collection/login")});
        QVERIFY2(locked.contains("/org/freedesktop/secrets/collection/login"), locked.constData());

        // gnome-keyring asks its prompter to unlock; with no display the prompt fails (with a
        // display it could wait forever, which the timeout bounds). Either way: an answer in
        // time, never the secret.
        QElapsedTimer elapsed;
        elapsed.start();
        Call<QByteArray> read;
        store.read(key, read.callback());
        QVERIFY(waitFor(read, 10'000));
        QVERIFY2(elapsed.elapsed() < 7'000, qPrintable(QString::number(elapsed.elapsed())));
        QVERIFY2(!read.answer->ok(), "read a secret from a locked keyring");
        // QtKeychain over libsecret reports a failed or dismissed unlock prompt as EntryNotFound;
        // SecretStore then asks the Secret Service whether the keyring is locked. (With a prompt
        // that stays open, a desktop session, the timeout answers KeychainLocked.)
        QVERIFY2(read.answer->kind() == Error::Kind::KeychainLocked,
                 qPrintable(kindName(read.answer->kind()) + QLatin1Char(' ')
                            + read.answer->message()));
        QVERIFY(read.answer->message().contains(QLatin1String("keychain is locked")));

        Call<void> write2;
        store.write(key, "after-lock", write2.callback());
        QVERIFY(waitFor(write2, 10'000));
        QCOMPARE(write2.answer->kind(), Error::Kind::KeychainLocked);
        QVERIFY(write2.answer->message().contains(QLatin1String("Unlock it")));

        // Removing must not claim success while the secret stays in the locked keyring.
        Call<void> remove;
        store.remove(key, remove.callback());
        QVERIFY(waitFor(remove, 10'000));
        QVERIFY2(!remove.answer->ok(), "remove reported success on a locked keyring");
        QCOMPARE(remove.answer->kind(), Error::Kind::KeychainLocked);
        QVERIFY(elapsed.elapsed() < 20'000);
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (qEnvironmentVariableIsSet(kChildModeVariable))
        return runChild();
    TestSecretStore test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_secretstore.moc"
