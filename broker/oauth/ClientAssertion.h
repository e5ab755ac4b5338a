#pragma once

#include "Result.h"

#include <QByteArray>
#include <QLatin1String>
#include <QString>

namespace mcpbroker::oauth {

// The JWT with which a client proves its identity at the token endpoint by a
// signature of its private key: "private_key_jwt" (RFC 7523 §2.2 and §3,
// OpenID Connect Core §9). Its header is {alg, typ: "JWT"}; its claims are
// iss = sub = the client id, aud = the authorization server's issuer identifier
// exactly as its metadata publishes it (draft-ietf-oauth-rfc7523bis: the issuer,
// not the token endpoint), iat, exp = iat + kLifetimeSecs and a jti of 32 bytes
// from the system CSPRNG, base64url. The key decides the algorithm: ES256 for an
// EC P-256 key, RS256 for an RSA key of at least 2048 bits (RFC 7518 §3.3).
//
// The private key is a secret: it is read where it lies (never copied), never
// logged and never part of an error sentence. The caller owns it and wipes it.
struct ClientAssertion
{
    // client_assertion_type (RFC 7523 §2.2)
    static constexpr QLatin1String kAssertionType{
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"};
    // How long an assertion is good for: one request, plus room for clock skew.
    static constexpr qint64 kLifetimeSecs = 60;

    // The compact JWS (header.claims.signature) for `clientId` to present to the
    // authorization server `audience`, issued at `nowSecs` (seconds since the
    // epoch). `privateKeyPem` is an unencrypted PEM private key: PKCS#8
    // ("PRIVATE KEY"), SEC1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY").
    // InvalidInput, with a sentence that names the problem but never the key,
    // when the key cannot be read or is of a kind that cannot sign ES256 or
    // RS256, or when the client id or audience is empty.
    static Result<QByteArray> create(const QByteArray &privateKeyPem, const QString &clientId,
                                     const QString &audience, qint64 nowSecs);
};

} // namespace mcpbroker::oauth
