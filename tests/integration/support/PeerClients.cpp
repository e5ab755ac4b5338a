#include "PeerClients.h"

#include "Peers.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcessEnvironment>
#include <QRegularExpression>

namespace mcpbroker::integration {

namespace {

// The test's environment for a client peer, with the grant handed over for `url`'s origin.
// Whatever the test itself was started with never stands in for it.
QProcessEnvironment clientEnvironment(const QUrl &url, const QByteArray &bearerToken)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const char *name :
         {"MCPB_AUTHORIZATION_TOKEN", "MCPB_AUTHORIZATION_ORIGIN", "NODE_OPTIONS"})
        environment.remove(QLatin1String(name));
    if (!bearerToken.isEmpty()) {
        environment.insert(QStringLiteral("MCPB_AUTHORIZATION_TOKEN"),
                           QString::fromLatin1(bearerToken));
        environment.insert(QStringLiteral("MCPB_AUTHORIZATION_ORIGIN"),
                           url.adjusted(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment
                                        | QUrl::RemoveUserInfo)
                                   .toString());
    }
    return environment;
}

QString authorizationPreload()
{
    return Peers::directory() + QStringLiteral("/add-authorization.cjs");
}

} // namespace

QStringList SdkClientRun::tools() const
{
    QStringList names;
    for (const QJsonValue &name : output.value(QStringLiteral("tools")).toArray())
        names << name.toString();
    return names;
}

QJsonObject SdkClientRun::call(const QString &name) const
{
    return output.value(QStringLiteral("calls")).toObject().value(name).toObject();
}

QString SdkClientRun::callText(const QString &name) const
{
    QStringList texts;
    for (const QJsonValue &block : call(name).value(QStringLiteral("content")).toArray()) {
        if (block.toObject().value(QStringLiteral("type")).toString() == QLatin1String("text"))
            texts << block.toObject().value(QStringLiteral("text")).toString();
    }
    return texts.join(QLatin1Char('\n'));
}

SdkClientRun runSdkClient(const QUrl &url, const QList<ToolCall> &calls,
                          const SdkClientOptions &options)
{
    QStringList arguments{Peers::sdkClientScript(), url.toString()};
    for (const QString &header : options.headers)
        arguments << QStringLiteral("--header") << header;
    for (const ToolCall &call : calls) {
        arguments << QStringLiteral("--call") << call.name;
        if (!call.arguments.isEmpty())
            arguments << QStringLiteral("--args")
                      << QString::fromUtf8(
                                 QJsonDocument(call.arguments).toJson(QJsonDocument::Compact));
    }
    arguments << QStringLiteral("--timeout-ms") << QString::number(options.timeoutMs / 2);
    if (options.allowToolError)
        arguments << QStringLiteral("--allow-tool-error");
    PeerProcess process(QStringLiteral("SDK client"), Peers::node22(), arguments);
    process.setWorkingDirectory(Peers::directory());
    process.setEnvironment(clientEnvironment(url, options.bearerToken));
    SdkClientRun run;
    run.process = process.run(options.timeoutMs);
    run.output = jsonObjectIn(run.process.out);
    return run;
}

InspectorRun runInspectorCli(const QUrl &url, const QByteArray &bearerToken, const QString &method,
                             const QStringList &moreArguments, int timeoutMs)
{
    QStringList arguments;
    if (!bearerToken.isEmpty())
        arguments << QStringLiteral("--require") << authorizationPreload();
    arguments << QStringLiteral("index.js") << url.toString() << QStringLiteral("--transport")
              << QStringLiteral("http") << QStringLiteral("--method") << method << moreArguments;
    PeerProcess process(QStringLiteral("inspector-cli"), Peers::node22(), arguments);
    process.setWorkingDirectory(Peers::inspectorCliDirectory());
    process.setEnvironment(clientEnvironment(url, bearerToken));
    InspectorRun run;
    run.process = process.run(timeoutMs);
    run.output = jsonObjectIn(run.process.out);
    return run;
}

namespace {
QRegularExpressionMatch summaryLine(const QByteArray &output)
{
    static const QRegularExpression line(QStringLiteral("^(\\d+) passed, (\\d+) failed$"),
                                         QRegularExpression::MultilineOption);
    return line.match(QString::fromUtf8(output));
}
} // namespace

QString ConformanceRun::summary() const
{
    return summaryLine(process.out).captured(0);
}

int ConformanceRun::passed() const
{
    const QRegularExpressionMatch match = summaryLine(process.out);
    return match.hasMatch() ? match.captured(1).toInt() : -1;
}

int ConformanceRun::failed() const
{
    const QRegularExpressionMatch match = summaryLine(process.out);
    return match.hasMatch() ? match.captured(2).toInt() : -1;
}

ConformanceRun runConformance(const QUrl &url, const ConformanceOptions &options)
{
    QStringList arguments{QStringLiteral("--results"), options.resultsDirectory};
    if (!options.scenario.isEmpty())
        arguments << QStringLiteral("--scenario") << options.scenario;
    arguments << url.toString();
    if (!options.expectedFailuresFile.isEmpty())
        arguments << options.expectedFailuresFile;
    PeerProcess process(QStringLiteral("conformance suite"), Peers::conformanceRunner(), arguments);
    process.setWorkingDirectory(Peers::directory());
    // run-conformance-server.sh preloads add-authorization.cjs when it is given a token.
    process.setEnvironment(clientEnvironment(url, options.bearerToken));
    ConformanceRun run;
    run.process = process.run(options.timeoutMs);
    return run;
}

} // namespace mcpbroker::integration
