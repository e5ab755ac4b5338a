#pragma once

#include "Result.h"
#include "oauth/HttpExchange.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace mcpbroker::oauth {

// How the broker proves which client it is at the token and revocation
// endpoints (RFC 6749 §2.3.1, §3.2.1; the token_endpoint_auth_method values of
// RFC 7591 §2 and RFC 7523 §2.2). The secret stays in this struct only while a
// request is built; it never reaches a log line.
struct ClientAuthentication
{
    enum class Method {
        None,              // a public client: client_id in the body, no secret
        ClientSecretBasic, // HTTP Basic with the form-urlencoded id and secret (RFC
                           // 6749 §2.3.1)
        ClientSecretPost,  // client_id and client_secret in the body
        PrivateKeyJwt,     // client_id and a client assertion signed with the
                           // client's private key in the body (RFC 7523 §2.2)
    };

    QString clientId;
    // The secret: the client secret, or for Method::PrivateKeyJwt the PEM of the
    // private key (ClientAssertion::create tells which PEMs), so that every
    // place that keeps, moves and wipes a client's secret does so for the key
    // too. Empty for Method::None.
    QByteArray clientSecret;
    Method method = Method::None;
    // Method::PrivateKeyJwt: the audience of the client assertion, the
    // authorization server's issuer identifier exactly as its metadata publishes
    // it.
    QString assertionAudience = {};

    // "none", "client_secret_basic", "client_secret_post", "private_key_jwt";
    // nullopt for any other name.
    static std::optional<Method> methodFromName(const QString &name);
    static QString methodName(Method method);

    // Adds the authentication to a request: fields to the form body, or an
    // Authorization header; and to `secrets` what it creates for this request
    // that must stay secret (the client assertion), for the caller to wipe and to
    // redact from error answers. Fails, adding nothing, when no client assertion
    // can be signed (an unreadable or unsuitable key, no audience): InvalidInput
    // with a sentence that never contains the key.
    Result<void> apply(HttpExchange::FormFields &fields, HttpExchange::HeaderList &headers,
                       QList<QByteArray> &secrets) const;
};

} // namespace mcpbroker::oauth
