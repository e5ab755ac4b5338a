#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

class QSocketNotifier;

namespace mcpbroker::app {

class TerminationSignals;

// Reads secrets from standard input, one line each, on the event loop (a QSocketNotifier, no
// blocking read). Trailing CR/LF is not part of a secret. When standard input is a terminal it
// asks for each secret on stderr and hides the typing, and puts the terminal back afterwards,
// also on Ctrl-C. What it read is wiped from its own buffers when it is done.
class SecretInput : public QObject
{
    Q_OBJECT
public:
    using Callback = std::function<void(Result<QList<QByteArray>>)>;
    static constexpr qsizetype kMaxInputBytes = 64 * 1024;

    // One entry per line to read, naming the secret for prompts and errors:
    // "the bearer token for 'github'".
    explicit SecretInput(QStringList secretNames, QObject *parent = nullptr);
    ~SecretInput() override;

    // Answers exactly once, on the event loop, with one value per name.
    void read(Callback done);

    // The line that starts at `from` in `buffer`, without its line break and a trailing CR, and
    // moves `from` past it; nullopt while the line is incomplete. Pure; public for tests.
    static std::optional<QByteArray> takeLine(const QByteArray &buffer, qsizetype &from);

private:
    void onReadable();
    void onEndOfInput();
    void finish(Result<QList<QByteArray>> result);
    void promptForNext();
    void stopReading();

    struct Terminal;
    QStringList m_secretNames;
    QList<QByteArray> m_values;
    QByteArray m_buffer;
    qsizetype m_consumed = 0;
    Callback m_done;
    QSocketNotifier *m_notifier = nullptr;
    TerminationSignals *m_signals = nullptr;
    std::unique_ptr<Terminal> m_terminal; // set while typing is hidden
};

} // namespace mcpbroker::app
