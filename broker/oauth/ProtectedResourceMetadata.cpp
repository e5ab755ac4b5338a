#include "oauth/ProtectedResourceMetadata.h"

#include "oauth/MetadataDocument.h"

namespace mcpbroker::oauth {

namespace {

using Presence = MetadataDocument::Presence;

bool isIssuerIdentifier(const QString &text)
{
    const QUrl url(text, QUrl::StrictMode);
    return MetadataDocument::isAllowedEndpoint(url) && !url.hasQuery();
}

} // namespace

QUrl ProtectedResourceMetadata::canonicalResource(const QUrl &url)
{
    QUrl canonical
            = url.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveFragment | QUrl::StripTrailingSlash);
    canonical.setScheme(canonical.scheme().toLower());
    canonical.setHost(canonical.host().toLower());
    const QString scheme = canonical.scheme();
    if ((scheme == QLatin1String("https") && canonical.port() == 443)
        || (scheme == QLatin1String("http") && canonical.port() == 80))
        canonical.setPort(-1);
    if (canonical.path() == QLatin1String("/"))
        canonical.setPath(QString());
    return canonical;
}

// RFC 9728 §3.3: the resource is the server's URL, or, for metadata at the root well-known
// URL, the identifier it was built from: the origin, or a path above the server's on it.
bool ProtectedResourceMetadata::describes(const QUrl &resource, const QUrl &serverUrl)
{
    const QUrl claimed = canonicalResource(resource);
    const QUrl server = canonicalResource(serverUrl);
    if (claimed == server)
        return true;
    if (claimed.scheme() != server.scheme() || claimed.host() != server.host()
        || claimed.port() != server.port() || claimed.hasQuery())
        return false;
    const QString above = claimed.path();
    return above.isEmpty() || server.path().startsWith(above + QLatin1Char('/'));
}

Result<ProtectedResourceMetadata> ProtectedResourceMetadata::fromJson(const QByteArray &json,
                                                                      const QUrl &serverUrl)
{
    const QString subject = QStringLiteral("the MCP server %1")
                                    .arg(serverUrl.toDisplayString(QUrl::RemoveUserInfo));
    Result<MetadataDocument> parsed = MetadataDocument::parse(json, subject);
    if (!parsed)
        return parsed.error();
    MetadataDocument &document = parsed.value();

    ProtectedResourceMetadata metadata;
    metadata.resource = document.endpoint("resource", Presence::Required);
    metadata.authorizationServers = document.strings("authorization_servers");
    metadata.scopesSupported = document.strings("scopes_supported");
    metadata.bearerMethodsSupported = document.strings("bearer_methods_supported");
    metadata.resourceName = document.string("resource_name");

    if (!document.error() && !describes(metadata.resource, serverUrl)) {
        // RFC 9728 §3.3: metadata describing another resource must not be used (it could
        // send our sign-in, and the token, to an authorization server of someone else's).
        document.fail(QStringLiteral("it describes the resource %1, not this server "
                                     "(RFC 9728 §3.3)")
                              .arg(metadata.resource.toDisplayString()));
    }
    // The MCP authorization spec requires at least one authorization server.
    if (!document.error() && metadata.authorizationServers.isEmpty())
        document.fail(QStringLiteral("it lists no authorization server"));
    for (const QString &issuer : std::as_const(metadata.authorizationServers)) {
        if (!document.error() && !isIssuerIdentifier(issuer)) {
            document.fail(QStringLiteral("the authorization server \"%1\" is not an https URL "
                                         "without query or fragment")
                                  .arg(issuer));
        }
    }
    if (document.error())
        return *document.error();
    return metadata;
}

} // namespace mcpbroker::oauth
