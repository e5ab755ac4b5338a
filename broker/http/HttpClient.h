#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QUrl>

class QNetworkAccessManager;

namespace mcpbroker::http {

class ClientReply;
class ConnectionPool;

struct ClientRequest
{
    QByteArray method; // "GET", "POST", "DELETE"
    QUrl url;
    QList<QPair<QByteArray, QByteArray>> headers; // may carry credentials: never logged
    QByteArray body;
};

// Sends the HTTP requests of an MCP client to its server. A plain http:// URL with no proxy to
// go through (a server on this machine, as a rule) travels on connections of our own, kept alive
// between requests: QNetworkAccessManager hands every request to a thread of its own and back,
// which added about 0.2 ms to each round trip to a local server.
// Everything else (TLS, proxies, credentials in the URL) goes through QNetworkAccessManager.
// Neither path follows redirects to another origin, so credentials stay with their server.
class HttpClient : public QObject
{
    Q_OBJECT
public:
    explicit HttpClient(QNetworkAccessManager *network, QObject *parent = nullptr);
    ~HttpClient() override;

    // Sends at once. The reply is a child of this client; delete it (deleteLater) when done with
    // it, which also stops the exchange.
    ClientReply *send(const ClientRequest &request);

    // Whether `url` would travel on a connection of our own.
    bool usesOwnConnections(const QUrl &url) const;

private:
    ClientReply *sendThroughNetworkAccess(const ClientRequest &request);

    QNetworkAccessManager *m_network;
    ConnectionPool *m_pool;
};

} // namespace mcpbroker::http
