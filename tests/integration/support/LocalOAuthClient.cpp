#include "LocalOAuthClient.h"

#include "Peers.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace mcpbroker::integration {

QStringList LocalOAuthClientRun::tools() const
{
    QStringList names;
    for (const auto &name : output.value(QStringLiteral("tools")).toArray())
        names << name.toString();
    return names;
}

QString LocalOAuthClientRun::callText() const
{
    QStringList texts;
    const QJsonObject call = output.value(QStringLiteral("call")).toObject();
    for (const auto &block : call.value(QStringLiteral("content")).toArray()) {
        if (block.toObject().value(QStringLiteral("type")).toString() == QLatin1String("text"))
            texts << block.toObject().value(QStringLiteral("text")).toString();
    }
    return texts.join(QLatin1Char('\n'));
}

bool LocalOAuthClientRun::browserUsed() const
{
    return output.value(QStringLiteral("browser"))
            .toObject()
            .value(QStringLiteral("used"))
            .toBool();
}

bool LocalOAuthClientRun::hasAccessToken() const
{
    return output.value(QStringLiteral("tokens"))
            .toObject()
            .value(QStringLiteral("hasAccess"))
            .toBool();
}

bool LocalOAuthClientRun::hasRefreshToken() const
{
    return output.value(QStringLiteral("tokens"))
            .toObject()
            .value(QStringLiteral("hasRefresh"))
            .toBool();
}

QStringList LocalOAuthClientRun::http() const
{
    QStringList lines;
    for (const auto &line : output.value(QStringLiteral("http")).toArray())
        lines << line.toString();
    return lines;
}

QString localOAuthClientScript()
{
    return Peers::directory() + QStringLiteral("/local-oauth-client.mjs");
}

std::unique_ptr<PeerProcess> startLocalOAuthClient(const QUrl &url,
                                                   const LocalOAuthClientOptions &options)
{
    QStringList arguments{localOAuthClientScript(), url.toString()};
    if (!options.call.isEmpty()) {
        arguments << QStringLiteral("--call") << options.call;
        if (!options.arguments.isEmpty())
            arguments << QStringLiteral("--args")
                      << QString::fromUtf8(
                                 QJsonDocument(options.arguments).toJson(QJsonDocument::Compact));
    }
    if (!options.statePath.isEmpty())
        arguments << QStringLiteral("--state") << options.statePath;
    if (options.discardAccessToken)
        arguments << QStringLiteral("--discard-access-token");
    if (options.noBrowser)
        arguments << QStringLiteral("--no-browser");
    arguments << QStringLiteral("--decision") << options.decision;
    for (const QString &server : options.servers)
        arguments << QStringLiteral("--server") << server;
    arguments << QStringLiteral("--timeout-ms") << QString::number(options.timeoutMs);
    auto process = std::make_unique<PeerProcess>(QStringLiteral("local OAuth client"),
                                                 Peers::node22(), arguments);
    process->setWorkingDirectory(Peers::directory());
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("LOCAL_OAUTH_DECISION"));
    process->setEnvironment(environment);
    process->start();
    return process;
}

LocalOAuthClientRun finishLocalOAuthClient(PeerProcess &process,
                                           const LocalOAuthClientOptions &options)
{
    LocalOAuthClientRun run;
    run.process = process.finish(options.timeoutMs + 10'000);
    run.output = jsonObjectIn(run.process.out);
    return run;
}

LocalOAuthClientRun runLocalOAuthClient(const QUrl &url, const LocalOAuthClientOptions &options)
{
    const std::unique_ptr<PeerProcess> process = startLocalOAuthClient(url, options);
    return finishLocalOAuthClient(*process, options);
}

} // namespace mcpbroker::integration
