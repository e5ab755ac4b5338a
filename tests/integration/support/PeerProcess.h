#pragma once

#include <QByteArray>
#include <QObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStringList>

namespace mcpbroker::integration {

// One finished run of a command (PeerProcess::run).
struct ProcessRun
{
    bool finished = false; // false: still running at the deadline (then killed)
    int exitCode = -1;     // -1 when it did not exit by itself
    QByteArray out;
    QByteArray err;
    qint64 elapsedMs = 0;
    QString commandLine;

    bool succeeded() const { return finished && exitCode == 0; }
    QString describe() const; // for failure messages: command, outcome, stdout, stderr
};

// One child process of a test: a peer (node upstream, SDK client, conformance suite) or the
// broker. It runs in a process group of its own, so teardown kills it with everything it
// started; stdout and stderr are kept whole for assertions and diagnostics. Waiting is done the
// way QTRY_* does it (the event loop runs until a condition holds or a deadline passes), so the
// process's output keeps flowing while a test waits.
class PeerProcess : public QObject
{
    Q_OBJECT
public:
    PeerProcess(QString label, QString program, QStringList arguments, QObject *parent = nullptr);
    ~PeerProcess() override; // kills the whole process group

    void setEnvironment(const QProcessEnvironment &environment);
    void setWorkingDirectory(const QString &directory);
    // Written to stdin right after start, then stdin is closed. Without it stdin is closed at
    // once, so a program that reads stdin sees end-of-file rather than waiting forever.
    void setStandardInput(const QByteArray &data);

    void start();
    // Starts it and waits for it to exit; kills it at the deadline.
    ProcessRun run(int timeoutMs);
    // Waits for a started process to exit (killed at the deadline) and reports the run; the
    // elapsed time counts from this call.
    ProcessRun finish(int timeoutMs);

    // Waits for a complete line on stdout (or stderr) that matches `pattern`, looking at every
    // line seen so far. Gives up at the deadline or when the process exits.
    QRegularExpressionMatch waitForStdoutLine(const QRegularExpression &pattern, int timeoutMs);
    QRegularExpressionMatch waitForStderrLine(const QRegularExpression &pattern, int timeoutMs);
    // True once the process has exited (by itself or not) within the deadline.
    bool waitForExit(int timeoutMs);
    // SIGTERM to the process itself (not its group), then waits for it to exit.
    bool terminate(int timeoutMs);
    // SIGKILL to the whole group; waits (bounded) until Qt has seen the process end.
    void kill();
    // Sends `signalNumber` (SIGSTOP, SIGUSR1…) to the process itself; false when it is not running.
    bool sendSignal(int signalNumber);

    bool isRunning() const;
    // Exited by itself (not killed by a signal) with code 0. In an MCPB_SANITIZE build a
    // leak or error report at exit makes the code non-zero, so this also says "no report".
    bool hasExitedNormally() const;
    int exitCode() const;
    qint64 processId() const { return m_pid; }
    QString label() const { return m_label; }
    QStringList arguments() const { return m_process.arguments(); }
    QString commandLine() const;

    QByteArray standardOutput() const { return m_stdout; }
    QByteArray standardError() const { return m_stderr; }
    QList<QByteArray> stdoutLines() const { return m_stdoutLines; }

    // For failure messages: the command, its state and the tail of its output.
    QString diagnostics(int stderrLines = 60) const;

    // Processes (not zombies) still alive in any process group a PeerProcess of this test
    // program created, as "pid command line": empty when every peer is really gone.
    static QStringList survivors();

Q_SIGNALS:
    void stdoutLine(const QByteArray &line);

private:
    static void appendLines(QByteArray &all, QList<QByteArray> &lines, const QByteArray &chunk);
    QRegularExpressionMatch waitForLine(const QList<QByteArray> &lines,
                                        const QRegularExpression &pattern, int timeoutMs);

    QString m_label;
    QProcess m_process;
    QByteArray m_stdin;
    QByteArray m_stdout;
    QByteArray m_stderr;
    QList<QByteArray> m_stdoutLines;
    QList<QByteArray> m_stderrLines;
    qint64 m_pid = 0;
};

} // namespace mcpbroker::integration
