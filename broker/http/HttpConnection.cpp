#include "http/HttpConnection.h"

#include "Logging.h"
#include "http/HttpResponder.h"

#include <QTcpSocket>

#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <sys/socket.h>
#endif

namespace mcpbroker::http {

namespace {

// Requests parsed ahead of the one being answered. Beyond this we stop reading, and the
// socket's bounded read buffer pushes back on the client.
constexpr qsizetype kMaxQueuedRequests = 8;
constexpr qint64 kReadChunkBytes = 64 * 1024;
// Longest wait for a closing connection's last bytes to drain to a client that stopped reading.
constexpr int kCloseTimeoutMs = 10'000;
// Response bytes waiting for a client that does not read.
constexpr qint64 kMaxUnsentBytes = 32 * 1024 * 1024;

bool hasConnectionOption(const HttpRequest &request, QByteArrayView option)
{
    for (const QByteArray &element : request.headerList("Connection").split(',')) {
        if (element.trimmed().compare(option, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// RFC 9112 §9.3: HTTP/1.1 persists unless told "close"; HTTP/1.0 only with "keep-alive".
bool wantsKeepAlive(const HttpRequest &request)
{
    if (hasConnectionOption(request, "close"))
        return false;
    return request.versionMinor >= 1 || hasConnectionOption(request, "keep-alive");
}

} // namespace

HttpConnection::HttpConnection(QTcpSocket *socket, HttpHandler handler,
                               const HttpServer::Options &options, QObject *parent)
    : QObject(parent), m_socket(socket), m_handler(std::move(handler)), m_parser(options.limits),
      m_peer(socket->peerAddress())
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(4 * kReadChunkBytes);
    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(options.idleTimeoutMs);

    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &HttpConnection::finish);
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        if (error != QAbstractSocket::RemoteHostClosedError)
            qCDebug(lcHttp) << "Connection error:" << m_socket->errorString();
        // Qt closes the socket itself after fatal errors (and emits disconnected()); this only
        // makes sure that a socket which is no longer connected never lingers half-alive.
        QMetaObject::invokeMethod(
                this,
                [this] {
                    if (m_socket->state() != QAbstractSocket::ConnectedState) {
                        m_socket->abort();
                        finish();
                    }
                },
                Qt::QueuedConnection);
    });
    connect(&m_idleTimer, &QTimer::timeout, this, [this] {
        if (!m_current && m_queue.isEmpty()) {
            qCDebug(lcHttp) << "Closing idle connection";
            closeGracefully();
        }
    });

    restartIdleTimer();
    // Bytes may have arrived before this object connected to readyRead.
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &HttpConnection::onReadyRead, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection()
{
    // No slot of ours may run while the socket (our child) is torn down.
    m_socket->disconnect(this);
}

void HttpConnection::restartIdleTimer()
{
    if (m_idleTimer.interval() > 0) // 0 or less: idle connections are kept
        m_idleTimer.start();
}

void HttpConnection::shutdown()
{
    m_closing = true;
    m_socket->abort();
    finish();
}

void HttpConnection::onReadyRead()
{
    if (m_closing || m_parseFailed) {
        // Drain what still arrives so that closing does not reset the connection (and lose the
        // error response) because of unread data.
        m_socket->readAll();
        return;
    }
    if (!m_current)
        restartIdleTimer(); // progress on a request restarts the idle clock
    processInput();
}

void HttpConnection::processInput()
{
    using State = HttpRequestParser::State;
    while (!m_closing && !m_parseFailed && m_queue.size() < kMaxQueuedRequests) {
        State state;
        if (m_parserState == State::Complete)
            state = m_parser.resume(); // bytes left over after the previous request
        else if (m_socket->bytesAvailable() > 0)
            state = m_parser.feed(m_socket->read(kReadChunkBytes));
        else
            break;
        m_parserState = state;

        if (state == State::Complete) {
            HttpRequest request = m_parser.takeRequest();
            request.peerAddress = m_peer;
            m_queue.enqueue(std::move(request));
        } else if (state == State::Error) {
            m_parseFailed = true;
            m_socket->readAll();
        }
    }
    dispatchNext();
}

void HttpConnection::dispatchNext()
{
    if (m_closing || m_current)
        return;
    if (m_queue.isEmpty()) {
        if (m_parseFailed)
            sendParseError();
        return;
    }

    const HttpRequest request = m_queue.dequeue();
    m_idleTimer.stop();
    m_currentMethod = request.method;
    m_currentPath = request.path;
    m_currentVersionMinor = request.versionMinor;
    m_current = new HttpResponder(this, wantsKeepAlive(request));
    // The handler may answer at once, later, or close the server from inside: re-check state
    // after it returns instead of assuming anything.
    m_handler(request, m_current.data());
}

void HttpConnection::writeResponseBytes(const QByteArray &bytes)
{
    if (m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    if (m_socket->bytesToWrite() > kMaxUnsentBytes) {
        // The client stopped reading a stream; buffering without end would exhaust memory.
        qCDebug(lcHttp) << "Closing a connection whose client does not read";
        shutdown();
        return;
    }
    m_socket->write(bytes);
}

void HttpConnection::responseStarted(int status)
{
    qCDebug(lcHttp).noquote() << m_currentMethod << m_currentPath << status;
}

void HttpConnection::responderFinished(HttpResponder *responder)
{
    if (responder != m_current)
        return;
    // A whole answer goes out now; pieces of one still running leave after this event-loop pass,
    // together (writeResponseBytes).
    if (m_socket->state() == QAbstractSocket::ConnectedState)
        m_socket->flush();
    m_current = nullptr;
    responder->deleteLater();
    if (!responder->m_keepAlive) {
        closeGracefully();
        return;
    }
    restartIdleTimer();
    // Serve the next pipelined request from the event loop, not from inside the responder
    // call that the handler is still executing.
    QMetaObject::invokeMethod(this, &HttpConnection::processInput, Qt::QueuedConnection);
}

void HttpConnection::sendParseError()
{
    const int status = m_parser.errorStatus();
    qCDebug(lcHttp) << "Refusing malformed request:" << status << m_parser.errorReason();
    const QByteArray body = m_parser.errorReason() + '\n';
    QByteArray bytes = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status)
            + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    writeResponseBytes(bytes);
    closeGracefully();
}

void HttpConnection::closeGracefully()
{
    if (m_closing)
        return;
    m_closing = true;
    m_queue.clear();
    m_idleTimer.stop();
    QTimer::singleShot(kCloseTimeoutMs, this, [this] {
        m_socket->abort();
        finish();
    });
    if (m_socket->state() != QAbstractSocket::ConnectedState) {
        finish();
        return;
    }
    // Lingering close (RFC 9112 §9.6): closing while the client still sends (say, the rest of
    // a body we refused) makes the kernel reset the connection, and the client loses our
    // answer. So stop sending once the answer is out, and read (and drop) until the client
    // closes its side; the timer above bounds the wait.
    m_socket->flush();
    if (m_socket->bytesToWrite() == 0) {
        shutdownSending();
        return;
    }
    connect(m_socket, &QTcpSocket::bytesWritten, this, [this] {
        if (m_socket->bytesToWrite() == 0)
            shutdownSending();
    });
}

void HttpConnection::shutdownSending()
{
#ifdef Q_OS_WIN
    ::shutdown(SOCKET(m_socket->socketDescriptor()), SD_SEND);
#else
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
#endif
}

void HttpConnection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_closing = true;
    m_queue.clear();
    m_idleTimer.stop();
    if (m_current) {
        HttpResponder *responder = m_current;
        m_current = nullptr;
        responder->deleteLater();
        responder->m_connected = false;
        Q_EMIT responder->disconnected();
    }
    Q_EMIT closed();
    deleteLater();
}

} // namespace mcpbroker::http
