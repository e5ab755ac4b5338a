// OAuth metadata documents (broker/oauth): RFC 8414 authorization server metadata and RFC 9728
// protected resource metadata, fetched from servers the broker does not control. Every input is
// read as both, for a fixed issuer and server URL and for the ones the document names itself
// (so that the fuzzer gets past the identity checks), with each set of expectations.
// Properties, besides no crash, UB or leak:
// - a refusal is a Protocol error whose sentence names the server;
// - an accepted document keeps the rules it was checked against: endpoints https (http only to
//   this computer) without fragment or user info, the issuer accepted, PKCE S256 offered where
//   the authorization code flow is used, at least one authorization server, the resource
//   describing the server;
// - canonicalResource() is idempotent and describes() accepts a URL for itself.

#include "FuzzSupport.h"

#include "oauth/AuthorizationServerMetadata.h"
#include "oauth/MetadataDocument.h"
#include "oauth/ProtectedResourceMetadata.h"

#include <nlohmann/json.hpp>

using namespace mcpbroker;
using oauth::AuthorizationServerMetadata;
using oauth::MetadataDocument;
using oauth::ProtectedResourceMetadata;

namespace {

const QString kIssuer = QStringLiteral("https://auth.example.com");
const QUrl kServerUrl(QStringLiteral("https://mcp.example.com/mcp"));

bool allowedOrEmpty(const QUrl &url)
{
    return url.isEmpty() || MetadataDocument::isAllowedEndpoint(url);
}

void checkRefusal(const Error &error, const QString &subject)
{
    FUZZ_CHECK(error.kind == Error::Kind::Protocol);
    FUZZ_CHECK(error.message.contains(subject));
}

void checkAuthorizationServer(const QByteArray &document, const QString &expectedIssuer)
{
    for (const bool sameOrigin : {false, true}) {
        for (const bool authorizationCode : {true, false}) {
            AuthorizationServerMetadata::Expectations expectations;
            expectations.issuerOfSameOrigin = sameOrigin;
            expectations.authorizationCode = authorizationCode;
            const auto read
                    = AuthorizationServerMetadata::fromJson(document, expectedIssuer, expectations);
            if (!read) {
                checkRefusal(read.error(), expectedIssuer);
                continue;
            }
            const AuthorizationServerMetadata &metadata = read.value();
            FUZZ_CHECK(
                    MetadataDocument::isAllowedEndpoint(QUrl(metadata.issuer, QUrl::StrictMode)));
            FUZZ_CHECK(MetadataDocument::isAllowedEndpoint(metadata.tokenEndpoint));
            FUZZ_CHECK(allowedOrEmpty(metadata.authorizationEndpoint));
            FUZZ_CHECK(allowedOrEmpty(metadata.registrationEndpoint));
            FUZZ_CHECK(allowedOrEmpty(metadata.revocationEndpoint));
            FUZZ_CHECK(!metadata.tokenEndpointAuthMethodsSupported.isEmpty()
                       || document.contains("token_endpoint_auth_methods_supported"));
            if (!sameOrigin) {
                FUZZ_CHECK(QStringView(metadata.issuer).chopped(metadata.issuer.endsWith(u'/'))
                           == QStringView(expectedIssuer).chopped(expectedIssuer.endsWith(u'/')));
            }
            if (authorizationCode) {
                FUZZ_CHECK(!metadata.authorizationEndpoint.isEmpty());
                FUZZ_CHECK(metadata.codeChallengeMethodsSupported.contains(u"S256"_qs));
                FUZZ_CHECK(metadata.responseTypesSupported.isEmpty()
                           || metadata.responseTypesSupported.contains(u"code"_qs));
            }
        }
    }
}

void checkProtectedResource(const QByteArray &document, const QUrl &serverUrl)
{
    const QUrl canonical = ProtectedResourceMetadata::canonicalResource(serverUrl);
    FUZZ_CHECK(ProtectedResourceMetadata::canonicalResource(canonical) == canonical);
    FUZZ_CHECK(!serverUrl.isValid() || ProtectedResourceMetadata::describes(serverUrl, serverUrl));

    const auto read = ProtectedResourceMetadata::fromJson(document, serverUrl);
    if (!read) {
        checkRefusal(read.error(), serverUrl.toDisplayString(QUrl::RemoveUserInfo));
        return;
    }
    const ProtectedResourceMetadata &metadata = read.value();
    FUZZ_CHECK(MetadataDocument::isAllowedEndpoint(metadata.resource));
    FUZZ_CHECK(ProtectedResourceMetadata::describes(metadata.resource, serverUrl));
    FUZZ_CHECK(!metadata.authorizationServers.isEmpty());
    for (const QString &issuer : metadata.authorizationServers) {
        const QUrl url(issuer, QUrl::StrictMode);
        FUZZ_CHECK(MetadataDocument::isAllowedEndpoint(url) && !url.hasQuery());
    }
}

// The string the document has under `key`, if any: what the fuzzer may turn into a match.
QString ownString(const QByteArray &document, const char *key)
{
    const auto json = nlohmann::json::parse(document.cbegin(), document.cend(), nullptr, false);
    if (!json.is_object())
        return {};
    const auto it = json.find(key);
    return it != json.end() && it->is_string() ? QString::fromStdString(it->get<std::string>())
                                               : QString();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray document(reinterpret_cast<const char *>(data), qsizetype(size));

    checkAuthorizationServer(document, kIssuer);
    if (const QString issuer = ownString(document, "issuer"); !issuer.isEmpty())
        checkAuthorizationServer(document, issuer);

    checkProtectedResource(document, kServerUrl);
    if (const QString resource = ownString(document, "resource"); !resource.isEmpty())
        checkProtectedResource(document, QUrl(resource));
    return 0;
}
