#include "PeerProcess.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSet>
#include <QTest>

#include <csignal>
#include <sys/types.h>
#include <unistd.h>

namespace mcpbroker::integration {

namespace {
constexpr int kReapTimeoutMs = 10'000;

// Every process group a PeerProcess created in this test program.
QSet<qint64> &createdProcessGroups()
{
    static QSet<qint64> groups;
    return groups;
}

QString tail(const QByteArray &text, int lines)
{
    QList<QByteArray> all = text.split('\n');
    if (all.size() > lines)
        all = all.mid(all.size() - lines);
    return QString::fromUtf8(all.join('\n'));
}
} // namespace

QString ProcessRun::describe() const
{
    const QString outcome = finished ? QStringLiteral("exit %1").arg(exitCode)
                                     : QStringLiteral("still running at the deadline, killed");
    return QStringLiteral("\n--- `%1`: %2 after %3 ms\n--- stdout:\n%4\n--- stderr:\n%5\n---")
            .arg(commandLine, outcome)
            .arg(elapsedMs)
            .arg(QString::fromUtf8(out.left(6000)), QString::fromUtf8(err.left(6000)));
}

PeerProcess::PeerProcess(QString label, QString program, QStringList arguments, QObject *parent)
    : QObject(parent), m_label(std::move(label))
{
    m_process.setProgram(program);
    m_process.setArguments(arguments);
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    // Its own process group: kill() reaches whatever it spawned (the conformance runner starts
    // node, node may start workers), and a test never leaves a stray peer behind.
    m_process.setChildProcessModifier([] { ::setpgid(0, 0); });
    connect(&m_process, &QProcess::readyReadStandardOutput, this, [this] {
        const qsizetype before = m_stdoutLines.size();
        appendLines(m_stdout, m_stdoutLines, m_process.readAllStandardOutput());
        for (qsizetype i = before; i < m_stdoutLines.size(); ++i)
            Q_EMIT stdoutLine(m_stdoutLines[i]);
    });
    connect(&m_process, &QProcess::readyReadStandardError, this,
            [this] { appendLines(m_stderr, m_stderrLines, m_process.readAllStandardError()); });
    connect(&m_process, &QProcess::started, this, [this] {
        m_pid = m_process.processId();
        createdProcessGroups().insert(m_pid);
        if (!m_stdin.isEmpty())
            m_process.write(m_stdin);
        m_process.closeWriteChannel();
    });
}

PeerProcess::~PeerProcess()
{
    kill();
}

void PeerProcess::setEnvironment(const QProcessEnvironment &environment)
{
    m_process.setProcessEnvironment(environment);
}

void PeerProcess::setWorkingDirectory(const QString &directory)
{
    m_process.setWorkingDirectory(directory);
}

void PeerProcess::setStandardInput(const QByteArray &data)
{
    m_stdin = data;
}

void PeerProcess::start()
{
    m_stdout.clear();
    m_stderr.clear();
    m_stdoutLines.clear();
    m_stderrLines.clear();
    m_process.start();
}

ProcessRun PeerProcess::run(int timeoutMs)
{
    start();
    return finish(timeoutMs);
}

ProcessRun PeerProcess::finish(int timeoutMs)
{
    QElapsedTimer elapsed;
    elapsed.start();
    ProcessRun result;
    result.commandLine = commandLine();
    result.finished = waitForExit(timeoutMs);
    result.elapsedMs = elapsed.elapsed();
    if (!result.finished)
        kill();
    if (m_process.state() == QProcess::NotRunning && m_process.exitStatus() == QProcess::NormalExit)
        result.exitCode = exitCode(); // whatever the code: a test may expect a failure
    result.out = m_stdout;
    result.err = m_stderr;
    return result;
}

void PeerProcess::appendLines(QByteArray &all, QList<QByteArray> &lines, const QByteArray &chunk)
{
    // `all` keeps every byte; `lines` gets each line once it is complete.
    const qsizetype lineStart = all.lastIndexOf('\n') + 1;
    all += chunk;
    const QByteArray pending = all.mid(lineStart);
    const QList<QByteArray> parts = pending.split('\n');
    for (qsizetype i = 0; i + 1 < parts.size(); ++i) {
        QByteArray line = parts[i];
        if (line.endsWith('\r'))
            line.chop(1);
        lines.append(line);
    }
}

QRegularExpressionMatch PeerProcess::waitForLine(const QList<QByteArray> &lines,
                                                 const QRegularExpression &pattern, int timeoutMs)
{
    QRegularExpressionMatch found;
    qsizetype checked = 0;
    auto matched = [&] {
        for (; checked < lines.size(); ++checked) {
            const QRegularExpressionMatch match = pattern.match(QString::fromUtf8(lines[checked]));
            if (match.hasMatch()) {
                found = match;
                return true;
            }
        }
        return false;
    };
    (void)QTest::qWaitFor([&] { return matched() || m_process.state() == QProcess::NotRunning; },
                          timeoutMs);
    // The process may have printed the line just before exiting: look once more.
    if (!found.hasMatch()) {
        if (m_process.state() == QProcess::NotRunning) {
            appendLines(m_stdout, m_stdoutLines, m_process.readAllStandardOutput());
            appendLines(m_stderr, m_stderrLines, m_process.readAllStandardError());
        }
        matched();
    }
    return found;
}

QRegularExpressionMatch PeerProcess::waitForStdoutLine(const QRegularExpression &pattern,
                                                       int timeoutMs)
{
    return waitForLine(m_stdoutLines, pattern, timeoutMs);
}

QRegularExpressionMatch PeerProcess::waitForStderrLine(const QRegularExpression &pattern,
                                                       int timeoutMs)
{
    return waitForLine(m_stderrLines, pattern, timeoutMs);
}

bool PeerProcess::waitForExit(int timeoutMs)
{
    if (m_process.state() == QProcess::NotRunning)
        return true;
    if (!QTest::qWaitFor([this] { return m_process.state() == QProcess::NotRunning; }, timeoutMs))
        return false;
    // Everything it wrote before exiting.
    appendLines(m_stdout, m_stdoutLines, m_process.readAllStandardOutput());
    appendLines(m_stderr, m_stderrLines, m_process.readAllStandardError());
    return true;
}

bool PeerProcess::terminate(int timeoutMs)
{
    if (m_process.state() == QProcess::NotRunning)
        return true;
    m_process.terminate();
    return waitForExit(timeoutMs);
}

void PeerProcess::kill()
{
    if (m_pid > 0)
        ::kill(pid_t(-m_pid), SIGKILL); // the group: the process and all it started
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        waitForExit(kReapTimeoutMs);
    }
}

bool PeerProcess::sendSignal(int signalNumber)
{
    return isRunning() && m_pid > 0 && ::kill(pid_t(m_pid), signalNumber) == 0;
}

bool PeerProcess::isRunning() const
{
    return m_process.state() != QProcess::NotRunning;
}

bool PeerProcess::hasExitedNormally() const
{
    return m_process.state() == QProcess::NotRunning && m_pid > 0
            && m_process.exitStatus() == QProcess::NormalExit && m_process.exitCode() == 0;
}

int PeerProcess::exitCode() const
{
    return m_process.exitCode();
}

QString PeerProcess::commandLine() const
{
    QStringList parts{m_process.program()};
    parts += m_process.arguments();
    return parts.join(QLatin1Char(' '));
}

QStringList PeerProcess::survivors()
{
    QStringList alive;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString &entry : entries) {
        bool isPid = false;
        entry.toLongLong(&isPid);
        if (!isPid)
            continue;
        QFile statFile(QStringLiteral("/proc/%1/stat").arg(entry));
        if (!statFile.open(QIODevice::ReadOnly))
            continue; // gone meanwhile
        // "pid (comm) state ppid pgrp …": comm may hold spaces, so split after the last ')'.
        const QByteArray stat = statFile.readAll();
        const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
        if (fields.size() < 3 || fields[0] == "Z" || fields[0] == "X")
            continue;
        if (!createdProcessGroups().contains(fields[2].toLongLong()))
            continue;
        QFile commandFile(QStringLiteral("/proc/%1/cmdline").arg(entry));
        QByteArray command = commandFile.open(QIODevice::ReadOnly) ? commandFile.readAll() : "";
        command.replace('\0', ' ');
        alive << entry + QLatin1Char(' ') + QString::fromUtf8(command.trimmed());
    }
    return alive;
}

QString PeerProcess::diagnostics(int stderrLines) const
{
    QString state;
    if (m_pid == 0)
        state = QStringLiteral("did not start (%1)").arg(m_process.errorString());
    else if (isRunning())
        state = QStringLiteral("running (pid %1)").arg(m_pid);
    else if (m_process.exitStatus() == QProcess::CrashExit)
        state = QStringLiteral("killed by a signal or crashed");
    else
        state = QStringLiteral("exited with code %1").arg(m_process.exitCode());
    return QStringLiteral(
                   "\n--- %1: %2\n    %3\n--- stdout (tail):\n%4\n--- stderr (tail):\n%5\n---")
            .arg(m_label, state, commandLine(), tail(m_stdout, 20), tail(m_stderr, stderrLines));
}

} // namespace mcpbroker::integration
