#pragma once

#include "Result.h"

#include <QString>
#include <QStringList>
#include <QUrl>

#include <nlohmann/json.hpp>

#include <optional>

namespace mcpbroker::oauth {

// A JSON metadata document (RFC 8414, RFC 9728) read field by field, with the type rules of
// those RFCs: the first field that breaks them is remembered as an Error naming the document
// and the field, and later reads return empty values. Read everything, then check error().
class MetadataDocument
{
public:
    enum class Presence { Optional, Required };

    // `subject` names the document's owner in error sentences, e.g. "authorization server
    // https://auth.example.com". Fails when `json` is not a JSON object.
    static Result<MetadataDocument> parse(const QByteArray &json, const QString &subject);

    bool has(const char *key) const;
    QString string(const char *key, Presence presence = Presence::Optional);
    // An array of strings; an absent field is an empty list.
    QStringList strings(const char *key);
    bool boolean(const char *key); // absent: false
    // An absolute URL usable as an OAuth endpoint: https, or http only to a loopback host
    // (OAuth 2.1 §1.5; RFC 8252 §8.3 for local development servers). No fragment, no user
    // info. An absent optional field is an empty QUrl.
    QUrl endpoint(const char *key, Presence presence = Presence::Optional);

    // Records `reason` (a clause, e.g. "\"resource\" is not the server's URL") as the
    // document's error unless one is already recorded.
    void fail(const QString &reason);
    const std::optional<Error> &error() const { return m_error; }

    // The rule behind endpoint(), for URLs that come from elsewhere.
    static bool isAllowedEndpoint(const QUrl &url);
    static bool isLoopbackHost(const QString &host);

private:
    MetadataDocument(nlohmann::json object, QString subject);
    const nlohmann::json *field(const char *key, Presence presence);

    nlohmann::json m_object;
    QString m_subject;
    std::optional<Error> m_error;
};

} // namespace mcpbroker::oauth
