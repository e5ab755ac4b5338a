#include "ClientServerImport.h"

#include "ClientConfigs.h"
#include "JsonConfigMerger.h"
#include "store/ConfigStore.h"

#include <QDir>
#include <QRegularExpression>
#include <QUrlQuery>

#include <memory>

namespace mcpbroker::app {

namespace {

using nlohmann::ordered_json;

QString textOf(const ordered_json &entry, const char *key)
{
    const auto found = entry.find(key);
    return found != entry.end() && found->is_string()
            ? QString::fromStdString(found->get<std::string>())
            : QString();
}

// A query parameter that looks like it carries a credential (?key=…, ?access_token=…).
QString credentialParameter(const QUrl &url)
{
    static const QRegularExpression secretish(
            QStringLiteral("key|token|secret|auth|pass|sig|credential"),
            QRegularExpression::CaseInsensitiveOption);
    const auto items = QUrlQuery(url).queryItems();
    for (const auto &[name, value] : items) {
        if (secretish.match(name).hasMatch())
            return name;
    }
    return {};
}

QStringList headerNames(const ordered_json &entry)
{
    QStringList names;
    const auto headers = entry.find("headers");
    if (headers == entry.end() || !headers->is_object())
        return names;
    for (auto it = headers->begin(); it != headers->end(); ++it)
        names.append(QString::fromStdString(it.key()));
    return names;
}

QString withoutSecretsNote(const QString &name, const QString &url, const QStringList &headers)
{
    if (headers.contains(QLatin1String("Authorization"), Qt::CaseInsensitive)) {
        return QStringLiteral("'%1' was added without its Authorization header: MCP Broker never "
                              "copies a secret from a file. Give it the token with `mcp-broker "
                              "remove %1` and `… | mcp-broker add %1 %2 --bearer-stdin`, or, if "
                              "the server signs in with OAuth, `mcp-broker add %1 %2 --oauth` and "
                              "`mcp-broker login %1`.")
                .arg(name, url);
    }
    QStringList options;
    for (const QString &header : headers)
        options.append(QStringLiteral("--header-stdin ") + header);
    return QStringLiteral("'%1' was added without its headers (%2): MCP Broker never copies a "
                          "secret from a file. Give them with `mcp-broker remove %1` and `… | "
                          "mcp-broker add %1 %3 %4`.")
            .arg(name, headers.join(QLatin1String(", ")), url, options.join(QLatin1Char(' ')));
}

} // namespace

namespace ClientServerImport {

QString serverNameFor(const QString &name)
{
    static const QRegularExpression other(QStringLiteral("[^a-z0-9-]+"));
    static const QRegularExpression hyphens(QStringLiteral("-{2,}"));
    QString result = name.toLower()
                             .replace(other, QStringLiteral("-"))
                             .replace(hyphens, QStringLiteral("-"));
    while (result.startsWith(QLatin1Char('-')))
        result.remove(0, 1);
    while (result.endsWith(QLatin1Char('-')))
        result.chop(1);
    return result.left(63);
}

Result<Plan> plan(const QByteArray &contents, const QString &path,
                  const store::BrokerConfig &config)
{
    // Claude Desktop, Cursor, Windsurf, Claude Code: "mcpServers"; VS Code: "servers".
    auto document = std::make_unique<JsonConfigMerger>(QStringLiteral("mcpServers"), true);
    if (auto loaded = document->load(contents, path); !loaded)
        return loaded.error();
    if (!document->hasServers()) {
        document = std::make_unique<JsonConfigMerger>(QStringLiteral("servers"), true);
        if (auto loaded = document->load(contents, path); !loaded)
            return loaded.error();
        if (!document->hasServers()) {
            return Error::make(Error::Kind::InvalidInput,
                               QStringLiteral("%1 has no \"mcpServers\" (or \"servers\") object, "
                                              "so it is not an MCP client's config.")
                                       .arg(QDir::toNativeSeparators(path)));
        }
    }

    Plan plan;
    QStringList imported;
    for (const QString &sourceName : document->entryNames()) {
        const ordered_json entry = *document->entry(sourceName);
        auto skip = [&plan, &sourceName](const QString &why) {
            plan.notes.append(QStringLiteral("Skipped '%1': %2.").arg(sourceName, why));
        };
        if (!entry.is_object()) {
            skip(QStringLiteral("it is not a server entry"));
            continue;
        }
        if (ClientConfigs::pointsAtBroker(entry)) {
            skip(QStringLiteral("it is MCP Broker itself"));
            continue;
        }
        if (entry.contains("command")) {
            skip(QStringLiteral("it is a command (a stdio server), which MCP Broker does not run"));
            continue;
        }
        const QString address = !textOf(entry, "url").isEmpty() ? textOf(entry, "url")
                                                                : textOf(entry, "serverUrl");
        if (address.isEmpty()) {
            skip(QStringLiteral("it has no URL"));
            continue;
        }
        const QString transport = textOf(entry, "type").isEmpty() ? textOf(entry, "transport")
                                                                  : textOf(entry, "type");
        if (transport.compare(QLatin1String("sse"), Qt::CaseInsensitive) == 0) {
            skip(QStringLiteral(
                    "it uses the old SSE transport; MCP Broker speaks Streamable HTTP"));
            continue;
        }
        const QUrl url(address, QUrl::StrictMode);
        // Checked before the URL is ever shown: the credential must not reach the terminal.
        if (const QString parameter = credentialParameter(url); !parameter.isEmpty()) {
            skip(QStringLiteral("its URL carries what looks like a credential (query parameter "
                                "'%1'); add it by hand, with the credential as a header from "
                                "stdin")
                         .arg(parameter));
            continue;
        }
        if (auto valid = store::ConfigStore::validateServerUrl(url); !valid) {
            QString why = valid.error().message.chopped(1); // the sentence goes on after it
            why[0] = why[0].toLower();
            skip(why);
            continue;
        }
        const QString name = serverNameFor(sourceName);
        if (auto valid = store::ConfigStore::validateServerName(name); !valid) {
            skip(QStringLiteral("its name cannot be made a server name (lowercase letters, digits "
                                "and hyphens, starting with a letter)"));
            continue;
        }
        if (config.server(name)) {
            skip(QStringLiteral("a server named '%1' is configured already").arg(name));
            continue;
        }
        if (imported.contains(name)) {
            skip(QStringLiteral("an entry above is imported as '%1' already").arg(name));
            continue;
        }
        imported.append(name);

        store::ServerConfig server;
        server.name = name;
        server.url = url;
        plan.servers.append(server);
        const QString shownUrl = url.toDisplayString();
        plan.added.append(name == sourceName
                                  ? QStringLiteral("Added '%1' (%2).").arg(name, shownUrl)
                                  : QStringLiteral("Added '%1' (%2), from '%3'.")
                                            .arg(name, shownUrl, sourceName));
        if (const QStringList headers = headerNames(entry); !headers.isEmpty())
            plan.notes.append(withoutSecretsNote(name, shownUrl, headers));
    }
    return plan;
}

} // namespace ClientServerImport
} // namespace mcpbroker::app
