#include "http/HttpClient.h"

#include "http/ConnectionPool.h"
#include "http/ConnectionReply.h"
#include "http/NetworkAccessReply.h"

#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace mcpbroker::http {

HttpClient::HttpClient(QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_network(network), m_pool(new ConnectionPool(this))
{ }

HttpClient::~HttpClient() = default;

ClientReply *HttpClient::send(const ClientRequest &request)
{
    // QNetworkAccessManager writes header fields out as they are, line breaks and all, so a
    // value with CR or LF would add fields of its own to the request. ConnectionReply fails
    // such a request without sending it, whatever the URL.
    if (usesOwnConnections(request.url) || !ConnectionReply::isSendable(request))
        return new ConnectionReply(request, m_pool, this);
    return sendThroughNetworkAccess(request);
}

bool HttpClient::usesOwnConnections(const QUrl &url) const
{
    if (url.scheme() != QLatin1String("http") || url.host().isEmpty() || !url.userInfo().isEmpty())
        return false;
    // A proxy chosen for the manager or the application: QNetworkAccessManager knows its ways.
    if (m_network->proxyFactory())
        return false;
    const QNetworkProxy::ProxyType managerProxy = m_network->proxy().type();
    if (managerProxy == QNetworkProxy::NoProxy)
        return true;
    if (managerProxy != QNetworkProxy::DefaultProxy)
        return false;
    const QList<QNetworkProxy> proxies
            = QNetworkProxyFactory::proxyForQuery(QNetworkProxyQuery(url));
    return proxies.isEmpty() || proxies.constFirst().type() == QNetworkProxy::NoProxy;
}

ClientReply *HttpClient::sendThroughNetworkAccess(const ClientRequest &request)
{
    QNetworkRequest networkRequest(request.url);
    // Credentials in our headers must never follow a redirect to another origin.
    networkRequest.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                                QNetworkRequest::SameOriginRedirectPolicy);
    networkRequest.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                                QNetworkRequest::AlwaysNetwork);
    networkRequest.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    for (const auto &[name, value] : request.headers)
        networkRequest.setRawHeader(name, value);

    QNetworkReply *reply = nullptr;
    if (request.method == "GET")
        reply = m_network->get(networkRequest);
    else if (request.method == "POST")
        reply = m_network->post(networkRequest, request.body);
    else if (request.method == "DELETE")
        reply = m_network->deleteResource(networkRequest);
    else
        reply = m_network->sendCustomRequest(networkRequest, request.method, request.body);
    return new NetworkAccessReply(reply, this);
}

} // namespace mcpbroker::http
