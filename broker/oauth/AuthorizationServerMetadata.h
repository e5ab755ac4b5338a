#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace mcpbroker::oauth {

// OAuth 2.0 Authorization Server Metadata (RFC 8414 §2; an OpenID Connect Discovery document
// reads the same way), validated for the authorization code flow with PKCE S256 that MCP
// 2025-11-25 requires.
struct AuthorizationServerMetadata
{
    QString issuer; // exactly as the server publishes it: what an RFC 9207 `iss` must equal
    QUrl authorizationEndpoint;
    QUrl tokenEndpoint;
    QUrl registrationEndpoint; // RFC 7591; empty when the server offers no registration
    QUrl revocationEndpoint;   // RFC 7009; empty when absent
    QStringList scopesSupported;
    QStringList responseTypesSupported;
    QStringList grantTypesSupported;               // RFC 8414 default applied when absent
    QStringList codeChallengeMethodsSupported;     // always contains "S256"
    QStringList tokenEndpointAuthMethodsSupported; // RFC 8414 default applied when absent
    bool clientIdMetadataDocumentSupported = false;
    bool authorizationResponseIssParameterSupported = false; // RFC 9207 §3

    // Parses and validates a document fetched from one of the well-known URLs built from
    // `expectedIssuer` (RFC 8414 §3.3, OIDC Discovery §4.3): `issuer` must be identical to it
    // (a lone trailing "/" aside, which providers add or drop inconsistently); endpoints must
    // be https (http only to this computer); the server must support PKCE with S256, else it
    // is refused with a sentence saying so.
    struct Expectations
    {
        // MCP 2025-03-26 servers without resource metadata may publish their metadata at the
        // origin for an issuer below it (".../oauth"): then any issuer of that origin is
        // accepted, else only `expectedIssuer` itself (RFC 8414 §3.3).
        bool issuerOfSameOrigin = false;
        // False for the client_credentials grant: no authorization endpoint or PKCE needed.
        bool authorizationCode = true;
    };
    static Result<AuthorizationServerMetadata> fromJson(const QByteArray &json,
                                                        const QString &expectedIssuer,
                                                        const Expectations &expectations);
    static Result<AuthorizationServerMetadata> fromJson(const QByteArray &json,
                                                        const QString &expectedIssuer)
    {
        return fromJson(json, expectedIssuer, Expectations());
    }
};

} // namespace mcpbroker::oauth
