#include "oauth/AuthorizationServerMetadata.h"

#include "oauth/MetadataDocument.h"

namespace mcpbroker::oauth {

namespace {

using Presence = MetadataDocument::Presence;

QStringView withoutTrailingSlash(QStringView text)
{
    return text.endsWith(QLatin1Char('/')) ? text.chopped(1) : text;
}

bool sameIssuer(const QString &published, const QString &expected)
{
    return withoutTrailingSlash(published) == withoutTrailingSlash(expected);
}

bool sameOrigin(const QString &published, const QString &expected)
{
    const QUrl a(published);
    const QUrl b(expected);
    return a.scheme().toLower() == b.scheme().toLower() && a.host().toLower() == b.host().toLower()
            && a.port(a.scheme() == u"https"_qs ? 443 : 80)
            == b.port(b.scheme() == u"https"_qs ? 443 : 80);
}

} // namespace

Result<AuthorizationServerMetadata>
AuthorizationServerMetadata::fromJson(const QByteArray &json, const QString &expectedIssuer,
                                      const Expectations &expectations)
{
    const QString subject = QStringLiteral("the authorization server %1").arg(expectedIssuer);
    Result<MetadataDocument> parsed = MetadataDocument::parse(json, subject);
    if (!parsed)
        return parsed.error();
    MetadataDocument &document = parsed.value();

    AuthorizationServerMetadata metadata;
    const QUrl issuerUrl = document.endpoint("issuer", Presence::Required);
    metadata.issuer = document.string("issuer");
    if (!document.error() && issuerUrl.hasQuery())
        document.fail(QStringLiteral("its issuer has a query component (RFC 8414 §2)"));
    const bool issuerAccepted = expectations.issuerOfSameOrigin
            ? sameOrigin(metadata.issuer, expectedIssuer)
            : sameIssuer(metadata.issuer, expectedIssuer);
    if (!document.error() && !issuerAccepted) {
        // RFC 8414 §3.3: a document naming another issuer must not be used (mix-up attacks).
        document.fail(QStringLiteral("it names the issuer \"%1\" instead (RFC 8414 §3.3)")
                              .arg(metadata.issuer));
    }
    metadata.authorizationEndpoint = document.endpoint(
            "authorization_endpoint",
            expectations.authorizationCode ? Presence::Required : Presence::Optional);
    metadata.tokenEndpoint = document.endpoint("token_endpoint", Presence::Required);
    metadata.registrationEndpoint = document.endpoint("registration_endpoint");
    metadata.revocationEndpoint = document.endpoint("revocation_endpoint");
    metadata.scopesSupported = document.strings("scopes_supported");
    metadata.responseTypesSupported = document.strings("response_types_supported");
    metadata.grantTypesSupported = document.has("grant_types_supported")
            ? document.strings("grant_types_supported")
            : QStringList{u"authorization_code"_qs, u"implicit"_qs}; // RFC 8414 §2 default
    metadata.codeChallengeMethodsSupported = document.strings("code_challenge_methods_supported");
    metadata.tokenEndpointAuthMethodsSupported
            = document.has("token_endpoint_auth_methods_supported")
            ? document.strings("token_endpoint_auth_methods_supported")
            : QStringList{u"client_secret_basic"_qs}; // RFC 8414 §2 default
    metadata.clientIdMetadataDocumentSupported
            = document.boolean("client_id_metadata_document_supported");
    metadata.authorizationResponseIssParameterSupported
            = document.boolean("authorization_response_iss_parameter_supported");

    if (!document.error() && expectations.authorizationCode
        && !metadata.responseTypesSupported.isEmpty()
        && !metadata.responseTypesSupported.contains(u"code"_qs)) {
        document.fail(QStringLiteral("it does not offer the authorization code flow "
                                     "(response_types_supported lacks \"code\")"));
    }
    // MCP 2025-11-25, "Authorization Code Protection": no advertised S256, no sign-in.
    if (!document.error() && expectations.authorizationCode
        && !metadata.codeChallengeMethodsSupported.contains(u"S256"_qs)) {
        const QString offered = metadata.codeChallengeMethodsSupported.isEmpty()
                ? QStringLiteral("it advertises no PKCE support at all")
                : QStringLiteral("it offers only %1")
                          .arg(metadata.codeChallengeMethodsSupported.join(u", "_qs));
        document.fail(QStringLiteral("it does not support PKCE with S256, which MCP requires "
                                     "to sign in safely (%1). Ask the server's operator to "
                                     "enable PKCE S256")
                              .arg(offered));
    }
    if (document.error())
        return *document.error();
    return metadata;
}

} // namespace mcpbroker::oauth
