#include "http/ConnectionReply.h"

#include "http/ConnectionPool.h"

#include <QNetworkProxy>
#include <QTcpSocket>
#include <QTimer>

#include <openssl/crypto.h>

namespace mcpbroker::http {

namespace {

constexpr int kMaxRedirects = 5;
// How long a discarded reply waits for the rest of its answer to keep the connection: an MCP
// server ends a POST's event stream right after the response that the caller was waiting for.
constexpr int kDrainMs = 2'000;
constexpr quint16 kDefaultHttpPort = 80;

quint16 portOf(const QUrl &url)
{
    return quint16(url.port(kDefaultHttpPort));
}

QString originOf(const QUrl &url)
{
    return url.host() + QLatin1Char(':') + QString::number(portOf(url));
}

// RFC 9112 §3.2: the Host field carries the URL's authority (an IPv6 address in brackets).
QByteArray hostField(const QUrl &url)
{
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (url.port() != -1)
        host += ':' + QByteArray::number(url.port());
    return host;
}

bool hasLineBreak(QByteArrayView text)
{
    return text.contains('\r') || text.contains('\n');
}

bool namesField(const QList<QPair<QByteArray, QByteArray>> &headers, QByteArrayView name)
{
    return std::any_of(headers.begin(), headers.end(), [name](const auto &field) {
        return field.first.compare(name, Qt::CaseInsensitive) == 0;
    });
}

// The request as it goes on the wire (RFC 9112 §3). Holds the credentials of its headers.
QByteArray serialize(const ClientRequest &request)
{
    QByteArray target = request.url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (request.url.hasQuery())
        target += '?' + request.url.query(QUrl::FullyEncoded).toLatin1();

    QByteArray wire;
    wire.reserve(256 + request.body.size());
    wire += request.method + ' ' + target + " HTTP/1.1\r\nHost: " + hostField(request.url) + "\r\n";
    if (!namesField(request.headers, "User-Agent"))
        wire += "User-Agent: mcp-broker/" MCPB_VERSION "\r\n";
    for (const auto &[name, value] : request.headers)
        wire += name + ": " + value + "\r\n";
    if (!request.body.isEmpty() || request.method == "POST" || request.method == "PUT")
        wire += "Content-Length: " + QByteArray::number(request.body.size()) + "\r\n";
    wire += "\r\n";
    wire += request.body;
    return wire;
}

ClientReply::Failure failureOf(QAbstractSocket::SocketError error)
{
    using Failure = ClientReply::Failure;
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        return Failure::ConnectionRefused;
    case QAbstractSocket::RemoteHostClosedError:
        return Failure::RemoteClosed;
    case QAbstractSocket::HostNotFoundError:
        return Failure::HostNotFound;
    case QAbstractSocket::SocketTimeoutError:
        return Failure::Timeout;
    case QAbstractSocket::NetworkError:
        return Failure::NetworkUnavailable;
    case QAbstractSocket::ProxyAuthenticationRequiredError:
    case QAbstractSocket::ProxyConnectionRefusedError:
    case QAbstractSocket::ProxyConnectionClosedError:
    case QAbstractSocket::ProxyConnectionTimeoutError:
    case QAbstractSocket::ProxyNotFoundError:
    case QAbstractSocket::ProxyProtocolError:
        return Failure::Proxy;
    default:
        return Failure::Other;
    }
}

} // namespace

ConnectionReply::ConnectionReply(ClientRequest request, ConnectionPool *pool, QObject *parent)
    : ClientReply(parent), m_request(std::move(request)), m_origin(originOf(m_request.url)),
      m_pool(pool)
{
    // On a kept-alive connection the request goes out at once (nothing is emitted before the
    // caller can connect: failures are reported from the event loop while m_starting).
    if (QTcpSocket *keptAlive = isSendable(m_request) ? takeKeptAlive() : nullptr) {
        m_starting = true;
        start(keptAlive);
        m_starting = false;
        return;
    }
    QTimer::singleShot(0, this, [this] {
        if (!m_running)
            return; // aborted before it started
        if (!isSendable(m_request))
            fail(Failure::Other);
        else
            start(takeKeptAlive());
    });
}

QTcpSocket *ConnectionReply::takeKeptAlive()
{
    return m_pool ? m_pool->take(m_origin) : nullptr;
}

ConnectionReply::~ConnectionReply()
{
    if (m_socket)
        ConnectionPool::close(m_socket);
}

bool ConnectionReply::isSendable(const ClientRequest &request)
{
    if (request.method.isEmpty() || hasLineBreak(request.method))
        return false;
    return std::none_of(request.headers.begin(), request.headers.end(), [](const auto &field) {
        return field.first.isEmpty() || hasLineBreak(field.first) || hasLineBreak(field.second);
    });
}

int ConnectionReply::status() const
{
    return m_headSeen && m_redirectTarget.isEmpty() ? m_parser.status() : 0;
}

QByteArray ConnectionReply::reasonPhrase() const
{
    return status() != 0 ? m_parser.reasonPhrase() : QByteArray();
}

QByteArray ConnectionReply::header(QByteArrayView name) const
{
    return status() != 0 ? m_parser.header(name) : QByteArray();
}

qint64 ConnectionReply::bytesAvailable() const
{
    return m_body.size();
}

QByteArray ConnectionReply::readAll()
{
    return std::exchange(m_body, {});
}

ClientReply::Failure ConnectionReply::failure() const
{
    return m_failure;
}

bool ConnectionReply::isRunning() const
{
    return m_running;
}

void ConnectionReply::abort()
{
    if (m_running)
        fail(Failure::Aborted);
}

void ConnectionReply::discard()
{
    blockSignals(true);
    m_body.clear();
    if (!m_running || !m_headSeen || !m_redirectTarget.isEmpty())
        return ClientReply::discard();
    m_discarded = true;
    // Too slow: abort() ends it, and fail() deletes a discarded reply.
    QTimer::singleShot(kDrainMs, this, [this] { abort(); });
}

void ConnectionReply::start(QTcpSocket *keptAlive)
{
    m_parser.expectResponseTo(m_request.method);
    m_headSeen = false;
    m_redirectTarget.clear();
    m_answerStarted = false;
    QTcpSocket *socket = keptAlive;
    m_reusedConnection = socket != nullptr;
    if (socket) {
        socket->setParent(this);
    } else {
        socket = new QTcpSocket(this);
        // HttpClient sends a URL here only when no proxy applies to it.
        socket->setProxy(QNetworkProxy::NoProxy);
        connect(socket, &QTcpSocket::connected, this, [this, socket] {
            // A request and its answer are small and wait for each other: no Nagle delays.
            socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            writeRequest();
        });
    }
    m_socket = socket;
    connect(socket, &QTcpSocket::readyRead, this, &ConnectionReply::onReadyRead);
    connect(socket, &QTcpSocket::disconnected, this, &ConnectionReply::onClosed);
    connect(socket, &QTcpSocket::errorOccurred, this, &ConnectionReply::onSocketError);
    if (m_reusedConnection)
        writeRequest();
    else
        socket->connectToHost(m_request.url.host(), portOf(m_request.url));
}

// Flushed at once: QAbstractSocket would otherwise wait for the next pass of the event loop.
void ConnectionReply::writeRequest()
{
    QByteArray wire = serialize(m_request);
    m_socket->write(wire);
    m_socket->flush();
    OPENSSL_cleanse(wire.data(), size_t(wire.size()));
}

void ConnectionReply::onReadyRead()
{
    const QByteArray bytes = m_socket->readAll();
    if (bytes.isEmpty())
        return;
    m_answerStarted = true;
    onParsed(m_parser.feed(bytes));
}

void ConnectionReply::onParsed(HttpResponseParser::State state)
{
    switch (state) {
    case HttpResponseParser::State::Head:
        return;
    case HttpResponseParser::State::Error:
        fail(Failure::MalformedResponse);
        return;
    case HttpResponseParser::State::Body:
    case HttpResponseParser::State::Complete:
        break;
    }
    if (!m_headSeen) {
        m_headSeen = true;
        m_redirectTarget = redirectWithinOrigin();
    }
    if (!m_redirectTarget.isEmpty()) {
        m_parser.takeBody();
        if (state == HttpResponseParser::State::Complete)
            followRedirect();
        return;
    }
    const bool complete = state == HttpResponseParser::State::Complete;
    if (m_discarded) {
        m_parser.takeBody();
        if (complete) {
            releaseConnection();
            m_running = false;
            deleteLater();
        }
        return;
    }
    // The connection goes back first: a slot that gets what it waited for may discard the reply.
    if (complete) {
        releaseConnection();
        m_running = false;
    }
    if (m_parser.bodyBytesAvailable() > 0) {
        m_body += m_parser.takeBody();
        QPointer<ConnectionReply> alive(this);
        Q_EMIT readyRead();
        if (!alive || (!complete && !m_running))
            return;
    }
    if (complete)
        Q_EMIT finished();
}

void ConnectionReply::onSocketError(QAbstractSocket::SocketError error)
{
    if (error == QAbstractSocket::RemoteHostClosedError)
        return onClosed();
    if (!m_socket || retryOnNewConnection())
        return;
    fail(failureOf(error));
}

void ConnectionReply::onClosed()
{
    if (!m_socket)
        return;
    if (m_socket->bytesAvailable() > 0) {
        QPointer<ConnectionReply> alive(this);
        onReadyRead();
        if (!alive || !m_running || !m_socket)
            return;
    }
    if (retryOnNewConnection())
        return;
    if (m_parser.finishAtEof() == HttpResponseParser::State::Complete)
        onParsed(HttpResponseParser::State::Complete);
    else
        fail(Failure::RemoteClosed);
}

// RFC 9110 §15.4.8/9: the same method and body go to the new target. Other redirects are
// answers: a POST turned into a GET means nothing to an MCP server.
QUrl ConnectionReply::redirectWithinOrigin() const
{
    const int code = m_parser.status();
    if ((code != 307 && code != 308) || m_redirects >= kMaxRedirects)
        return {};
    const QUrl target = m_request.url.resolved(QUrl::fromEncoded(m_parser.header("Location")));
    const bool sameOrigin = target.isValid() && target.scheme() == m_request.url.scheme()
            && originOf(target) == m_origin;
    return sameOrigin ? target : QUrl();
}

void ConnectionReply::followRedirect()
{
    ++m_redirects;
    m_request.url = m_redirectTarget;
    releaseConnection();
    start(takeKeptAlive());
}

// A kept-alive connection may have been closed by the server just as the request went out; the
// server saw none of it, so it goes once more on a new connection.
bool ConnectionReply::retryOnNewConnection()
{
    if (!m_reusedConnection || m_answerStarted || m_retried)
        return false;
    m_retried = true;
    ConnectionPool::close(std::exchange(m_socket, nullptr));
    start(nullptr);
    return true;
}

void ConnectionReply::releaseConnection()
{
    QTcpSocket *socket = std::exchange(m_socket, nullptr);
    if (!socket)
        return;
    disconnect(socket, nullptr, this, nullptr);
    if (m_parser.keepAlive() && m_pool)
        m_pool->giveBack(m_origin, socket);
    else
        ConnectionPool::close(socket);
}

void ConnectionReply::fail(Failure failure)
{
    if (m_socket)
        ConnectionPool::close(std::exchange(m_socket, nullptr));
    m_failure = failure;
    m_running = false;
    if (m_discarded)
        deleteLater();
    else if (m_starting)
        QTimer::singleShot(0, this, [this] { Q_EMIT finished(); });
    else
        Q_EMIT finished();
}

} // namespace mcpbroker::http
