#include "gateway/GrantFile.h"

#include "store/AtomicFile.h"

#include <QFile>

#include <nlohmann/json.hpp>

namespace mcpbroker::gateway {

namespace {

using nlohmann::json;

constexpr int kVersion = 1;

QString text(const json &object, const char *key)
{
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? QString::fromStdString(it->get<std::string>())
                                                 : QString();
}

QStringList texts(const json &object, const char *key)
{
    QStringList list;
    const auto it = object.find(key);
    if (it != object.end() && it->is_array()) {
        for (const json &item : *it) {
            if (item.is_string())
                list.append(QString::fromStdString(item.get<std::string>()));
        }
    }
    return list;
}

QDateTime time(const json &object, const char *key)
{
    return QDateTime::fromString(text(object, key), Qt::ISODateWithMs);
}

std::string isoTime(const QDateTime &time)
{
    return time.toUTC().toString(Qt::ISODateWithMs).toStdString();
}

json toJson(const QStringList &list)
{
    json array = json::array();
    for (const QString &item : list)
        array.push_back(item.toStdString());
    return array;
}

Error damaged(const QString &path, const QString &what)
{
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("The grants file %1 is damaged (%2); it was left as it "
                                      "is. Fix or remove it; removing it revokes every local "
                                      "client's access.")
                               .arg(path, what));
}

Result<ClientGrant> grantFrom(const json &item)
{
    ClientGrant grant;
    grant.id = text(item, "id");
    grant.clientName = text(item, "client");
    grant.kind = text(item, "kind") == QLatin1String("oauth") ? ClientGrant::Kind::OAuth
                                                              : ClientGrant::Kind::Static;
    grant.createdAt = time(item, "createdAt");
    grant.expiresAt = time(item, "expiresAt");
    grant.servers = texts(item, "servers");
    grant.oauthClientId = text(item, "oauthClientId");
    if (grant.id.isEmpty() || grant.clientName.isEmpty())
        return Error::make(Error::Kind::InvalidInput, QStringLiteral("a grant lacks id or client"));
    return grant;
}

} // namespace

Result<GrantFile> GrantFile::read(const QString &path)
{
    QFile file(path);
    if (!file.exists())
        return GrantFile{};
    if (!file.open(QIODevice::ReadOnly)) {
        return Error::make(Error::Kind::Io,
                           QStringLiteral("Could not read the grants file %1: %2.")
                                   .arg(path, file.errorString()));
    }
    const json document = json::parse(file.readAll().toStdString(), nullptr, false);
    if (!document.is_object())
        return damaged(path, QStringLiteral("not a JSON object"));
    if (document.value("version", 0) != kVersion)
        return damaged(path, QStringLiteral("unknown version"));
    GrantFile contents;
    for (const json &item : document.value("grants", json::array())) {
        if (!item.is_object())
            return damaged(path, QStringLiteral("a grant is not an object"));
        auto grant = grantFrom(item);
        if (!grant)
            return damaged(path, grant.error().message);
        contents.grants.append(std::move(grant).value());
    }
    for (const json &item : document.value("clients", json::array())) {
        if (!item.is_object())
            return damaged(path, QStringLiteral("a client is not an object"));
        LocalClientRegistration client;
        client.clientId = text(item, "clientId");
        client.clientName = text(item, "clientName");
        client.redirectUris = texts(item, "redirectUris");
        client.createdAt = time(item, "createdAt");
        if (client.clientId.isEmpty())
            return damaged(path, QStringLiteral("a client lacks its clientId"));
        const QString remembered = text(item, "rememberedConsent");
        if (remembered == QLatin1String("allow"))
            client.remembered = LocalClientRegistration::RememberedConsent::Allow;
        else if (remembered == QLatin1String("deny"))
            client.remembered = LocalClientRegistration::RememberedConsent::Deny;
        else if (!remembered.isEmpty())
            return damaged(path, QStringLiteral("a client's rememberedConsent is unknown"));
        client.rememberedServers = texts(item, "rememberedServers");
        contents.clients.append(std::move(client));
    }
    return contents;
}

Result<void> GrantFile::write(const QString &path) const
{
    json grantList = json::array();
    for (const ClientGrant &grant : grants) {
        json item = {{"id", grant.id.toStdString()},
                     {"client", grant.clientName.toStdString()},
                     {"kind", grant.kind == ClientGrant::Kind::OAuth ? "oauth" : "static"},
                     {"createdAt", isoTime(grant.createdAt)},
                     {"servers", toJson(grant.servers)}};
        if (grant.expiresAt.isValid())
            item["expiresAt"] = isoTime(grant.expiresAt);
        if (!grant.oauthClientId.isEmpty())
            item["oauthClientId"] = grant.oauthClientId.toStdString();
        grantList.push_back(std::move(item));
    }
    json clientList = json::array();
    for (const LocalClientRegistration &client : clients) {
        json item = {{"clientId", client.clientId.toStdString()},
                     {"clientName", client.clientName.toStdString()},
                     {"redirectUris", toJson(client.redirectUris)},
                     {"createdAt", isoTime(client.createdAt)}};
        if (client.remembered != LocalClientRegistration::RememberedConsent::None) {
            item["rememberedConsent"]
                    = client.remembered == LocalClientRegistration::RememberedConsent::Allow
                    ? "allow"
                    : "deny";
            item["rememberedServers"] = toJson(client.rememberedServers);
        }
        clientList.push_back(std::move(item));
    }
    const json document = {{"version", kVersion}, {"grants", grantList}, {"clients", clientList}};
    return store::AtomicFile::write(path, QByteArray::fromStdString(document.dump(2) + '\n'));
}

QHash<QString, QDateTime> GrantFile::readUsage(const QString &path)
{
    QHash<QString, QDateTime> usage;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return usage;
    const json document = json::parse(file.readAll().toStdString(), nullptr, false);
    if (!document.is_object())
        return usage; // only a convenience: a damaged one is started afresh
    for (const auto &[id, when] : document.items()) {
        if (when.is_string()) {
            usage.insert(QString::fromStdString(id),
                         QDateTime::fromString(QString::fromStdString(when.get<std::string>()),
                                               Qt::ISODateWithMs));
        }
    }
    return usage;
}

Result<void> GrantFile::writeUsage(const QString &path, const QHash<QString, QDateTime> &usage)
{
    json document = json::object();
    for (auto it = usage.begin(); it != usage.end(); ++it)
        document[it.key().toStdString()] = isoTime(it.value());
    return store::AtomicFile::write(path, QByteArray::fromStdString(document.dump(2) + '\n'));
}

} // namespace mcpbroker::gateway
