#include "oauth/WellKnownUrls.h"

namespace mcpbroker::oauth::WellKnownUrls {

namespace {

constexpr QLatin1String kProtectedResource("/.well-known/oauth-protected-resource");
constexpr QLatin1String kAuthorizationServer("/.well-known/oauth-authorization-server");
constexpr QLatin1String kOpenIdConfiguration("/.well-known/openid-configuration");

bool isAbsoluteHttpUrl(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    return url.isValid() && !url.host().isEmpty()
            && (scheme == QLatin1String("https") || scheme == QLatin1String("http"));
}

// Scheme, host and port of `url`: no user info, path, query or fragment.
QUrl originOf(const QUrl &url)
{
    QUrl origin;
    origin.setScheme(url.scheme().toLower());
    origin.setHost(url.host());
    origin.setPort(url.port());
    return origin;
}

// `origin` with `encodedPath` (already percent-encoded, starting with "/").
QUrl withPath(const QUrl &origin, const QString &encodedPath, const QString &encodedQuery = {})
{
    QUrl url = origin;
    url.setPath(encodedPath, QUrl::TolerantMode);
    if (!encodedQuery.isEmpty())
        url.setQuery(encodedQuery, QUrl::TolerantMode);
    return url;
}

Error notAnHttpUrl(const QUrl &url, const char *what)
{
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("The %1 \"%2\" is not an absolute http or https URL, so its "
                                      "OAuth metadata cannot be looked up.")
                               .arg(QLatin1String(what),
                                    url.toDisplayString(QUrl::RemoveUserInfo)));
}

} // namespace

Result<QList<QUrl>> protectedResourceMetadata(const QUrl &serverUrl)
{
    if (!isAbsoluteHttpUrl(serverUrl))
        return notAnHttpUrl(serverUrl, "MCP server URL");
    const QUrl origin = originOf(serverUrl);
    QString path = serverUrl.path(QUrl::FullyEncoded);
    if (path == QLatin1String("/"))
        path.clear(); // RFC 9728 §3.1: a terminating slash after the host is removed
    const QString query = serverUrl.query(QUrl::FullyEncoded);

    QList<QUrl> urls;
    if (!path.isEmpty() || !query.isEmpty())
        urls.append(withPath(origin, kProtectedResource + path, query));
    urls.append(withPath(origin, kProtectedResource));
    return urls;
}

Result<QList<QUrl>> authorizationServerMetadata(const QUrl &issuer)
{
    if (!isAbsoluteHttpUrl(issuer))
        return notAnHttpUrl(issuer, "authorization server");
    if (issuer.hasQuery() || issuer.hasFragment()) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("The authorization server \"%1\" is not a valid issuer: "
                                          "an issuer has no query or fragment (RFC 8414).")
                                   .arg(issuer.toDisplayString(QUrl::RemoveUserInfo)));
    }
    const QUrl origin = originOf(issuer);
    QString path = issuer.path(QUrl::FullyEncoded);
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);

    if (path.isEmpty())
        return QList<QUrl>{withPath(origin, kAuthorizationServer),
                           withPath(origin, kOpenIdConfiguration)};
    return QList<QUrl>{withPath(origin, kAuthorizationServer + path),
                       withPath(origin, kOpenIdConfiguration + path),
                       withPath(origin, path + kOpenIdConfiguration)};
}

} // namespace mcpbroker::oauth::WellKnownUrls
