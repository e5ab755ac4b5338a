#include "ConformanceClient.h"

#include "Peers.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

namespace mcpbroker::integration {

namespace {

// The suite colours its report with ANSI escapes whatever the terminal.
QString withoutColours(const QByteArray &text)
{
    static const QRegularExpression escape(QStringLiteral("\x1b\\[[0-9;]*m"));
    return QString::fromUtf8(text).remove(escape);
}

QString lastLines(const QString &text, int count)
{
    QStringList lines = text.trimmed().split(QLatin1Char('\n'));
    if (lines.size() > count)
        lines = lines.mid(lines.size() - count);
    return lines.join(QLatin1Char('\n'));
}

// The one checks.json under `directory` (the suite names its folder after the scenario and
// the time), or an error.
QString findChecksFile(const QString &directory, QString *error)
{
    QStringList found;
    QDirIterator it(directory, {QStringLiteral("checks.json")}, QDir::Files,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        found << it.next();
    if (found.size() == 1)
        return found.constFirst();
    *error = found.isEmpty()
            ? QStringLiteral("the suite wrote no checks.json under %1").arg(directory)
            : QStringLiteral("more than one checks.json under %1").arg(directory);
    return {};
}

QList<ConformanceCheck> readChecks(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return {};
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!document.isArray()) {
        *error = QStringLiteral("%1 is not a JSON array: %2").arg(path, parseError.errorString());
        return {};
    }
    QList<ConformanceCheck> checks;
    for (const QJsonValue &value : document.array()) {
        const QJsonObject object = value.toObject();
        checks.append({object.value(QStringLiteral("id")).toString(),
                       object.value(QStringLiteral("status")).toString(),
                       object.value(QStringLiteral("description")).toString(),
                       object.value(QStringLiteral("errorMessage")).toString()});
    }
    if (checks.isEmpty())
        *error = QStringLiteral("%1 holds no checks").arg(path);
    return checks;
}

// What the suite said about the command: it reports a non-zero exit and a timeout on stderr.
QString clientOutcomeIn(const QString &suiteStandardError)
{
    static const QRegularExpression timedOut(QStringLiteral("Client timed out after (\\d+)ms"));
    static const QRegularExpression exited(QStringLiteral("Client exited with code (-?\\d+)"));
    if (const QRegularExpressionMatch match = timedOut.match(suiteStandardError); match.hasMatch())
        return QStringLiteral("timed out after %1 ms").arg(match.captured(1));
    if (const QRegularExpressionMatch match = exited.match(suiteStandardError); match.hasMatch())
        return QStringLiteral("exited with code %1").arg(match.captured(1));
    return {};
}

int countLines(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    return int(file.readAll().count('\n'));
}

} // namespace

bool ConformanceCheck::isFailing() const
{
    return status == QLatin1String("FAILURE") || status == QLatin1String("WARNING");
}

QString ConformanceCheck::describe() const
{
    QString text = QStringLiteral("%1 %2: %3").arg(id, status, description);
    if (!errorMessage.isEmpty())
        text += QStringLiteral(" (%1)").arg(errorMessage);
    return text;
}

bool ConformanceClientRun::passed() const
{
    return process.succeeded() && checksError.isEmpty() && failingChecks().isEmpty();
}

QList<ConformanceCheck> ConformanceClientRun::failingChecks() const
{
    QList<ConformanceCheck> failing;
    for (const ConformanceCheck &check : checks) {
        if (check.isFailing())
            failing << check;
    }
    return failing;
}

QString ConformanceClientRun::clientStandardError() const
{
    if (resultDirectory.isEmpty())
        return {};
    QFile file(QDir(resultDirectory).filePath(QStringLiteral("stderr.txt")));
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

QString ConformanceClientRun::describe() const
{
    QStringList parts{QStringLiteral("%1: %2").arg(
            scenario, passed() ? QStringLiteral("passed") : QStringLiteral("failed"))};
    if (!checksError.isEmpty()) {
        parts << QStringLiteral("no checks: ") + checksError << process.describe();
        return parts.join(QLatin1Char('\n'));
    }
    const QList<ConformanceCheck> failing = failingChecks();
    if (!failing.isEmpty()) {
        parts << QStringLiteral("failing checks:");
        for (const ConformanceCheck &check : failing)
            parts << QStringLiteral("  - ") + check.describe();
    }
    if (!clientOutcome.isEmpty())
        parts << QStringLiteral("the client command %1").arg(clientOutcome);
    if (!process.finished)
        parts << QStringLiteral("the suite did not finish within %1 ms and was killed")
                         .arg(process.elapsedMs);
    else if (process.exitCode != 0 && failing.isEmpty() && clientOutcome.isEmpty())
        parts << QStringLiteral("the suite exited %1:\n%2")
                         .arg(process.exitCode)
                         .arg(lastLines(withoutColours(process.err), 20));
    if (browserLaunches >= 0)
        parts << QStringLiteral("browser launches: %1").arg(browserLaunches);
    const QString clientErr = clientStandardError();
    if (!clientErr.trimmed().isEmpty())
        parts << QStringLiteral("the client's stderr (end):\n") + lastLines(clientErr, 30);
    parts << QStringLiteral("results: ") + resultDirectory;
    return parts.join(QLatin1Char('\n'));
}

namespace ConformanceSuite {

QString script()
{
    return Peers::directory()
            + QStringLiteral("/node_modules/@modelcontextprotocol/conformance/dist/index.js");
}

QString shellQuoted(const QString &text)
{
    QString quoted = text;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

QStringList expectedClientFailures(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return {};
    }
    static const QRegularExpression comment(QStringLiteral("(^|\\s)#.*$"));
    static const QRegularExpression key(QStringLiteral("^([A-Za-z_]+):\\s*(\\[\\s*\\])?\\s*$"));
    static const QRegularExpression item(QStringLiteral("^\\s+-\\s+(\\S+)\\s*$"));
    QStringList names;
    QString section;
    int lineNumber = 0;
    const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
    for (QString line : lines) {
        ++lineNumber;
        line.remove(comment);
        if (line.trimmed().isEmpty())
            continue;
        if (const QRegularExpressionMatch match = key.match(line); match.hasMatch()) {
            section = match.captured(1);
            continue;
        }
        if (const QRegularExpressionMatch match = item.match(line);
            match.hasMatch() && !section.isEmpty()) {
            if (section == QLatin1String("client"))
                names << match.captured(1);
            continue;
        }
        *error = QStringLiteral("%1:%2: cannot read \"%3\" (want `client:` then `  - name` lines)")
                         .arg(path)
                         .arg(lineNumber)
                         .arg(line.trimmed());
        return {};
    }
    return names;
}

} // namespace ConformanceSuite

ConformanceClientRun runConformanceClient(const QString &scenario,
                                          const ConformanceClientOptions &options)
{
    ConformanceClientRun run;
    run.scenario = scenario;
    QDir(options.resultsDirectory).removeRecursively();
    QDir().mkpath(options.resultsDirectory);

    PeerProcess suite(QStringLiteral("conformance client"), Peers::node22(),
                      {ConformanceSuite::script(), QStringLiteral("client"),
                       QStringLiteral("--command"), options.command, QStringLiteral("--scenario"),
                       scenario, QStringLiteral("--timeout"),
                       QString::number(options.suiteTimeoutMs), QStringLiteral("-o"),
                       options.resultsDirectory});
    suite.setWorkingDirectory(Peers::directory());
    suite.setEnvironment(options.environment);
    run.process = suite.run(options.timeoutMs);

    const QString checksFile = findChecksFile(options.resultsDirectory, &run.checksError);
    if (!checksFile.isEmpty()) {
        run.resultDirectory = QFileInfo(checksFile).absolutePath();
        run.checks = readChecks(checksFile, &run.checksError);
    } else {
        run.resultDirectory = options.resultsDirectory;
    }
    run.clientOutcome = clientOutcomeIn(withoutColours(run.process.err));
    if (!options.browserLog.isEmpty())
        run.browserLaunches = countLines(options.browserLog);
    return run;
}

} // namespace mcpbroker::integration
