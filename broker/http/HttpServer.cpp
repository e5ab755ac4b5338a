#include "http/HttpServer.h"

#include "Logging.h"
#include "http/HttpConnection.h"

#include <QPointer>
#include <QSet>
#include <QTcpServer>
#include <QTcpSocket>

namespace mcpbroker::http {

struct HttpServer::Private
{
    HttpHandler handler;
    Options options;
    QPointer<QTcpServer> ipv4;
    QPointer<QTcpServer> ipv6; // null when ::1 is unavailable
    QSet<HttpConnection *> connections;
};

namespace {

QString listenError(const QTcpServer &server, quint16 port)
{
    if (server.serverError() == QAbstractSocket::AddressInUseError) {
        return QStringLiteral("Port %1 on 127.0.0.1 is already in use: another MCP Broker may be "
                              "running, or choose another port with --port.")
                .arg(port);
    }
    return QStringLiteral("Could not listen on 127.0.0.1 port %1: %2.")
            .arg(port)
            .arg(server.errorString());
}

} // namespace

HttpServer::HttpServer(HttpHandler handler, Options options, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->handler = std::move(handler);
    d->options = options;
}

HttpServer::~HttpServer()
{
    close();
    // Connections are our children; delete them now, while the handler they copy from is alive.
    qDeleteAll(findChildren<HttpConnection *>(Qt::FindDirectChildrenOnly));
}

Result<void> HttpServer::listen(quint16 port)
{
    if (d->ipv4)
        return Error::make(Error::Kind::Generic,
                           QStringLiteral("The HTTP server is already listening on port %1.")
                                   .arg(d->ipv4->serverPort()));

    auto acceptAll = [this](QTcpServer *server) {
        while (server->hasPendingConnections()) {
            QTcpSocket *socket = server->nextPendingConnection();
            // A response goes out in several small writes (headers, SSE events, the last
            // chunk): with Nagle's algorithm each later one waits for the client's delayed
            // ACK, about 40 ms per call on loopback (bench/README.md).
            socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            auto *connection = new HttpConnection(socket, d->handler, d->options, this);
            d->connections.insert(connection);
            connect(connection, &HttpConnection::closed, this,
                    [this, connection] { d->connections.remove(connection); });
        }
    };

    auto *ipv4 = new QTcpServer(this);
    if (!ipv4->listen(QHostAddress::LocalHost, port)) {
        Error error = Error::make(Error::Kind::Generic, listenError(*ipv4, port));
        qCDebug(lcHttp).noquote() << error.message; // the caller reports it
        delete ipv4;
        return error;
    }
    connect(ipv4, &QTcpServer::newConnection, this, [ipv4, acceptAll] { acceptAll(ipv4); });
    d->ipv4 = ipv4;

    // Best effort: clients that resolve "localhost" to ::1 first find us there too.
    auto *ipv6 = new QTcpServer(this);
    if (ipv6->listen(QHostAddress::LocalHostIPv6, ipv4->serverPort())) {
        connect(ipv6, &QTcpServer::newConnection, this, [ipv6, acceptAll] { acceptAll(ipv6); });
        d->ipv6 = ipv6;
    } else {
        qCDebug(lcHttp) << "Not listening on [::1]:" << ipv4->serverPort() << "-"
                        << ipv6->errorString();
        delete ipv6;
    }

    qCInfo(lcHttp).noquote() << QStringLiteral("Listening on 127.0.0.1:%1%2")
                                        .arg(ipv4->serverPort())
                                        .arg(d->ipv6 ? QStringLiteral(" and [::1]") : QString());
    return {};
}

quint16 HttpServer::port() const
{
    return d->ipv4 ? d->ipv4->serverPort() : 0;
}

void HttpServer::close()
{
    for (QPointer<QTcpServer> *server : {&d->ipv4, &d->ipv6}) {
        if (*server) {
            (*server)->close();
            (*server)->deleteLater();
            *server = nullptr;
        }
    }
    // shutdown() emits closed(), which edits the set: iterate over a copy.
    const QSet<HttpConnection *> connections = d->connections;
    for (HttpConnection *connection : connections)
        connection->shutdown();
    d->connections.clear();
}

int HttpServer::connectionCount() const
{
    return int(d->connections.size());
}

} // namespace mcpbroker::http
