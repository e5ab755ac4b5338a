#pragma once

#include "oauth/HttpExchange.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

namespace mcpbroker::oauth {

// How the broker proves which client it is at the token and revocation
// endpoints (RFC 6749 §2.3.1, §3.2.1; the token_endpoint_auth_method values of
// RFC 7591 §2). The secret stays in this struct only while a request is built;
// it never reaches a log line.
struct ClientAuthentication
{
    enum class Method {
        None, // a public client: client_id in the body, no secret
        ClientSecretBasic, // HTTP Basic with the form-urlencoded id and secret (RFC
                           // 6749 §2.3.1)
        ClientSecretPost, // client_id and client_secret in the body
    };

    QString clientId;
    QByteArray clientSecret; // empty for Method::None
    Method method = Method::None;

    // "none", "client_secret_basic", "client_secret_post"; nullopt for any other
    // name.
    static std::optional<Method> methodFromName(const QString &name);
    static QString methodName(Method method);

    // Adds the authentication to a request: fields to the form body, or an
    // Authorization header.
    void apply(HttpExchange::FormFields &fields, HttpExchange::HeaderList &headers) const;
};

} // namespace mcpbroker::oauth
