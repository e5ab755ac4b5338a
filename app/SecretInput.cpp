#include "SecretInput.h"

#include "Console.h"
#include "TerminationSignals.h"
#include "store/SecretBytes.h"

#include <QMetaObject>
#include <QScopeGuard>
#include <QSocketNotifier>

#include <openssl/crypto.h>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#endif

namespace mcpbroker::app {

namespace {

constexpr int kStdin = 0;

Error inputError(const QString &message)
{
    return Error::make(Error::Kind::InvalidInput, message);
}

} // namespace

// The terminal's settings from before typing was hidden.
struct SecretInput::Terminal
{
#ifdef Q_OS_UNIX
    termios saved = {};
#endif
};

SecretInput::SecretInput(QStringList secretNames, QObject *parent)
    : QObject(parent), m_secretNames(std::move(secretNames))
{
    // Reserved once, so that appending never reallocates and leaves copies of a secret behind.
    m_buffer.reserve(kMaxInputBytes + 1);
}

SecretInput::~SecretInput()
{
    stopReading();
    // Values read before the input ended or was interrupted; complete ones went to the callback.
    for (QByteArray &value : m_values)
        store::wipe(value);
}

std::optional<QByteArray> SecretInput::takeLine(const QByteArray &buffer, qsizetype &from)
{
    const qsizetype end = buffer.indexOf('\n', from);
    if (end < 0)
        return std::nullopt;
    qsizetype length = end - from;
    if (length > 0 && buffer.at(from + length - 1) == '\r')
        --length;
    QByteArray line = buffer.mid(from, length);
    from = end + 1;
    return line;
}

#ifdef Q_OS_UNIX

void SecretInput::read(Callback done)
{
    m_done = std::move(done);
    if (m_secretNames.isEmpty()) {
        finish(QList<QByteArray>());
        return;
    }
    struct stat info = {};
    if (::fstat(kStdin, &info) != 0) {
        finish(inputError(QStringLiteral("There is no standard input to read %1 from: pipe it in, "
                                         "for example from your password manager.")
                                  .arg(m_secretNames.first())));
        return;
    }

    if (::isatty(kStdin)) {
        auto terminal = std::make_unique<Terminal>();
        if (::tcgetattr(kStdin, &terminal->saved) == 0) {
            termios hidden = terminal->saved;
            hidden.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            hidden.c_lflag |= ECHONL; // the Enter key still moves to the next line
            if (::tcsetattr(kStdin, TCSAFLUSH, &hidden) == 0)
                m_terminal = std::move(terminal);
        }
        // Ctrl-C must not leave the terminal without echo.
        m_signals = new TerminationSignals(this);
        connect(m_signals, &TerminationSignals::received, this, [this] {
            Console::err(QString()); // end the prompt's line
            finish(Error::make(Error::Kind::Cancelled, QStringLiteral("Interrupted.")));
        });
        promptForNext();
    }

    m_notifier = new QSocketNotifier(kStdin, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &SecretInput::onReadable);
}

void SecretInput::onReadable()
{
    char chunk[4096];
    const auto wipeChunk = qScopeGuard([&chunk] { OPENSSL_cleanse(chunk, sizeof chunk); });
    const ssize_t count = ::read(kStdin, chunk, sizeof chunk);
    if (count < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return;
        finish(inputError(
                QStringLiteral("Could not read standard input: %1.").arg(qt_error_string(errno))));
        return;
    }
    if (count == 0) {
        onEndOfInput();
        return;
    }
    if (m_buffer.size() + count > kMaxInputBytes) {
        finish(inputError(QStringLiteral("Standard input holds more than %1 KiB: give one line "
                                         "per secret.")
                                  .arg(kMaxInputBytes / 1024)));
        return;
    }
    m_buffer.append(chunk, count);
    while (m_values.size() < m_secretNames.size()) {
        auto line = takeLine(m_buffer, m_consumed);
        if (!line)
            break;
        m_values.append(std::move(*line));
        if (m_values.size() < m_secretNames.size())
            promptForNext();
    }
    if (m_values.size() == m_secretNames.size())
        finish(std::exchange(m_values, {}));
}

void SecretInput::onEndOfInput()
{
    // The last line may lack its line break.
    if (m_consumed < m_buffer.size() && m_values.size() < m_secretNames.size()) {
        QByteArray last = m_buffer.mid(m_consumed);
        if (last.endsWith('\r'))
            last.chop(1);
        m_values.append(std::move(last));
        m_consumed = m_buffer.size();
    }
    if (m_values.size() == m_secretNames.size()) {
        finish(std::exchange(m_values, {}));
        return;
    }
    finish(inputError(QStringLiteral("Standard input ended before %1 was read: give one line per "
                                     "secret, in the order of the options.")
                              .arg(m_secretNames.at(m_values.size()))));
}

void SecretInput::promptForNext()
{
    if (!m_terminal)
        return;
    const QString name = m_secretNames.at(m_values.size());
    // No newline: the answer is typed on the same line.
    const QByteArray prompt = QStringLiteral("Enter %1 (typing is hidden): ").arg(name).toUtf8();
    [[maybe_unused]] const auto written
            = ::write(STDERR_FILENO, prompt.constData(), static_cast<size_t>(prompt.size()));
}

void SecretInput::stopReading()
{
    delete m_notifier;
    m_notifier = nullptr;
    delete m_signals;
    m_signals = nullptr;
    if (m_terminal) {
        ::tcsetattr(kStdin, TCSAFLUSH, &m_terminal->saved);
        m_terminal.reset();
    }
    // Whatever was read, the secrets included, does not outlive the reading.
    m_buffer.resize(m_buffer.capacity());
    store::wipe(m_buffer);
}

#else

void SecretInput::read(Callback done)
{
    m_done = std::move(done);
    if (m_secretNames.isEmpty())
        finish(QList<QByteArray>());
    else
        finish(inputError(QStringLiteral("Reading secrets from standard input is not supported "
                                         "on this system yet.")));
}

void SecretInput::onReadable() { }
void SecretInput::onEndOfInput() { }
void SecretInput::promptForNext() { }
void SecretInput::stopReading() { }

#endif

void SecretInput::finish(Result<QList<QByteArray>> result)
{
    if (!m_done)
        return;
    stopReading();
    // Always on the event loop, never inside read(), and only once.
    QMetaObject::invokeMethod(
            this, [done = std::exchange(m_done, {}), result = std::move(result)] { done(result); },
            Qt::QueuedConnection);
}

} // namespace mcpbroker::app
