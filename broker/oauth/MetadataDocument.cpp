#include "oauth/MetadataDocument.h"

#include <QHostAddress>

namespace mcpbroker::oauth {

MetadataDocument::MetadataDocument(nlohmann::json object, QString subject)
    : m_object(std::move(object)), m_subject(std::move(subject))
{
}

Result<MetadataDocument> MetadataDocument::parse(const QByteArray &json, const QString &subject)
{
    nlohmann::json object = nlohmann::json::parse(json.cbegin(), json.cend(), nullptr, false);
    if (!object.is_object()) {
        return Error::make(Error::Kind::Protocol,
                           QStringLiteral("The OAuth metadata of %1 cannot be used: it is not a "
                                          "JSON object.")
                                   .arg(subject));
    }
    return MetadataDocument(std::move(object), subject);
}

bool MetadataDocument::has(const char *key) const
{
    const auto it = m_object.find(key);
    return it != m_object.end() && !it->is_null();
}

void MetadataDocument::fail(const QString &reason)
{
    if (m_error)
        return;
    m_error = Error::make(Error::Kind::Protocol,
                          QStringLiteral("The OAuth metadata of %1 cannot be used: %2.")
                                  .arg(m_subject, reason));
}

const nlohmann::json *MetadataDocument::field(const char *key, Presence presence)
{
    if (m_error)
        return nullptr;
    const auto it = m_object.find(key);
    if (it == m_object.end() || it->is_null()) {
        if (presence == Presence::Required)
            fail(QStringLiteral("the required field \"%1\" is missing").arg(QLatin1String(key)));
        return nullptr;
    }
    return &*it;
}

QString MetadataDocument::string(const char *key, Presence presence)
{
    const nlohmann::json *value = field(key, presence);
    if (!value)
        return {};
    if (!value->is_string()) {
        fail(QStringLiteral("\"%1\" is not a string").arg(QLatin1String(key)));
        return {};
    }
    return QString::fromStdString(value->get<std::string>());
}

QStringList MetadataDocument::strings(const char *key)
{
    const nlohmann::json *value = field(key, Presence::Optional);
    if (!value)
        return {};
    QStringList result;
    if (value->is_array()) {
        for (const nlohmann::json &element : *value) {
            if (!element.is_string())
                break;
            result.append(QString::fromStdString(element.get<std::string>()));
        }
        if (result.size() == qsizetype(value->size()))
            return result;
    }
    fail(QStringLiteral("\"%1\" is not an array of strings").arg(QLatin1String(key)));
    return {};
}

bool MetadataDocument::boolean(const char *key)
{
    const nlohmann::json *value = field(key, Presence::Optional);
    if (!value)
        return false;
    if (!value->is_boolean()) {
        fail(QStringLiteral("\"%1\" is not true or false").arg(QLatin1String(key)));
        return false;
    }
    return value->get<bool>();
}

QUrl MetadataDocument::endpoint(const char *key, Presence presence)
{
    const QString text = string(key, presence);
    if (text.isNull())
        return {};
    const QUrl url(text, QUrl::StrictMode);
    if (!isAllowedEndpoint(url)) {
        fail(QStringLiteral("\"%1\" (%2) is not an https URL (plain http is allowed only to "
                            "this computer)")
                     .arg(QLatin1String(key), url.toDisplayString(QUrl::RemoveUserInfo)));
        return {};
    }
    return url;
}

bool MetadataDocument::isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

bool MetadataDocument::isAllowedEndpoint(const QUrl &url)
{
    if (!url.isValid() || url.isRelative() || url.host().isEmpty() || url.hasFragment()
        || !url.userInfo().isEmpty())
        return false;
    const QString scheme = url.scheme().toLower();
    if (scheme == QLatin1String("https"))
        return true;
    return scheme == QLatin1String("http") && isLoopbackHost(url.host());
}

} // namespace mcpbroker::oauth
