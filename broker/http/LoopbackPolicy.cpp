#include "http/LoopbackPolicy.h"

#include <QByteArray>
#include <QUrl>

namespace mcpbroker::http::LoopbackPolicy {

namespace {

bool isLoopbackName(QByteArrayView host)
{
    const QByteArray lower = host.toByteArray().toLower();
    return lower == "localhost" || lower == "127.0.0.1" || lower == "[::1]";
}

} // namespace

bool isAllowedHost(QByteArrayView hostHeader, quint16 port)
{
    const QByteArray host = hostHeader.toByteArray().trimmed();
    // The port follows the last ':' outside an IPv6 literal's brackets.
    const qsizetype bracket = host.lastIndexOf(']');
    const qsizetype colon = host.lastIndexOf(':');
    if (colon < 0 || colon < bracket)
        return isLoopbackName(host);
    bool ok = false;
    const uint hostPort = host.mid(colon + 1).toUInt(&ok);
    return ok && hostPort == port && isLoopbackName(host.left(colon));
}

bool isAllowedOrigin(QByteArrayView origin)
{
    const QUrl url(QString::fromLatin1(origin.toByteArray().trimmed()), QUrl::StrictMode);
    if (!url.isValid()
        || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
        return false;
    if (!url.path().isEmpty() || url.hasQuery() || url.hasFragment() || !url.userInfo().isEmpty())
        return false;
    const QString host = url.host();
    return host == QLatin1String("localhost") || host == QLatin1String("127.0.0.1")
            || host == QLatin1String("::1");
}

} // namespace mcpbroker::http::LoopbackPolicy
