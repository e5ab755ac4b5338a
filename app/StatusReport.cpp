#include "StatusReport.h"

#include "ServerListing.h"
#include "TextTable.h"

#include <QDateTime>

#include <algorithm>

namespace mcpbroker::app {

namespace {

using json = nlohmann::json;

QString text(const json &object, const char *key)
{
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? QString::fromStdString(it->get<std::string>())
                                                 : QString();
}

QString expiry(const QDateTime &at, const QDateTime &now)
{
    const QDateTime local = at.toLocalTime();
    const QString format = local.date() == now.toLocalTime().date()
            ? QStringLiteral("HH:mm")
            : QStringLiteral("yyyy-MM-dd HH:mm");
    return local.toString(format);
}

} // namespace

std::optional<json> StatusReport::parse(const QByteArray &body)
{
    json status = json::parse(body.constBegin(), body.constEnd(), nullptr, false);
    if (!status.is_object() || !status.contains("servers") || !status["servers"].is_array())
        return std::nullopt;
    for (const json &server : status["servers"]) {
        if (!server.is_object())
            return std::nullopt;
    }
    return status;
}

QString StatusReport::signInDescription(const QString &signIn, const QString &tokenExpiresAt,
                                        const QDateTime &now)
{
    if (signIn != QLatin1String("signed-in")) {
        // "needs-sign-in" → "needs sign-in"; a state a newer broker names passes as it is.
        return signIn == QLatin1String("needs-sign-in") ? QStringLiteral("needs sign-in")
                                                        : QString(signIn).replace(u'-', u' ');
    }
    const QDateTime expiresAt = QDateTime::fromString(tokenExpiresAt, Qt::ISODate);
    if (!expiresAt.isValid())
        return QStringLiteral("signed in");
    // An expired access token is renewed on the next call when there is a refresh token.
    return expiresAt > now
            ? QStringLiteral("signed in, expires %1").arg(expiry(expiresAt, now))
            : QStringLiteral("signed in, token expired %1").arg(expiry(expiresAt, now));
}

QStringList StatusReport::lines(const json &status, const QDateTime &now)
{
    QStringList lines = {QStringLiteral("MCP Broker %1 is running: %2")
                                 .arg(text(status, "version"), text(status, "endpoint"))};
    // The broker's own trouble (a config file it set aside, grants it could not read) comes
    // first: it explains why servers may be missing from the table below.
    if (const auto problems = status.find("problems");
        problems != status.end() && problems->is_array()) {
        for (const json &problem : *problems) {
            if (problem.is_string())
                lines.append(QStringLiteral("Problem: %1")
                                     .arg(QString::fromStdString(problem.get<std::string>())));
        }
    }
    const json &servers = status["servers"];
    if (servers.empty()) {
        lines.append(ServerListing::noServersHint());
        return lines;
    }
    const bool signsIn = std::any_of(servers.begin(), servers.end(),
                                     [](const json &server) { return server.contains("signIn"); });
    QStringList header = {QStringLiteral("NAME"), QStringLiteral("STATE"), QStringLiteral("TOOLS"),
                          QStringLiteral("ERROR")};
    if (signsIn)
        header.insert(2, QStringLiteral("SIGN-IN"));
    QList<QStringList> rows = {header};
    for (const json &server : servers) {
        const auto tools = server.find("tools");
        QStringList row = {text(server, "name"), text(server, "state"),
                           tools != server.end() && tools->is_number_integer()
                                   ? QString::number(tools->get<long long>())
                                   : QString(),
                           text(server, "error")};
        if (signsIn) {
            const QString signIn = text(server, "signIn");
            row.insert(2,
                       signIn.isEmpty()
                               ? QString()
                               : signInDescription(signIn, text(server, "tokenExpiresAt"), now));
        }
        rows.append(row);
    }
    return lines + TextTable::format(rows);
}

} // namespace mcpbroker::app
