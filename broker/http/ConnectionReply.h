#pragma once

#include "http/ClientReply.h"
#include "http/HttpClient.h"
#include "http/HttpResponseParser.h"

#include <QAbstractSocket>
#include <QPointer>

class QTcpSocket;

namespace mcpbroker::http {

class ConnectionPool;

// A ClientReply that HttpClient carries itself, over HTTP/1.1 on a TCP connection from its pool
// (or a new one), for plain http:// URLs. Reads the response as it arrives, hands its body out
// at once (SSE streams), follows 307/308 redirects within the origin, gives the connection back
// when the response allows another on it, and sends the request once more on a new connection
// when a kept-alive one turns out to have been closed by the server before any answer came.
class ConnectionReply : public ClientReply
{
    Q_OBJECT
public:
    // Sends at once on a kept-alive connection, else from the event loop; either way it emits
    // nothing before the caller returns to the event loop, so it can connect to the signals.
    ConnectionReply(ClientRequest request, ConnectionPool *pool, QObject *parent);
    ~ConnectionReply() override;

    // Whether `request` can go on the wire as it is: no line break in its method or in a header
    // field, where it would start a field of its own. A ConnectionReply fails any other request
    // (Failure::Other) without connecting.
    static bool isSendable(const ClientRequest &request);

    int status() const override;
    QByteArray reasonPhrase() const override;
    QByteArray header(QByteArrayView name) const override;
    qint64 bytesAvailable() const override;
    QByteArray readAll() override;
    Failure failure() const override;
    bool isRunning() const override;
    void abort() override;
    void discard() override;

private:
    QTcpSocket *takeKeptAlive();
    void start(QTcpSocket *keptAlive); // nullptr: on a new connection
    void writeRequest();
    void onReadyRead();
    void onSocketError(QAbstractSocket::SocketError error);
    void onClosed();
    void onParsed(HttpResponseParser::State state);
    // The target of a 307/308 within the origin (the method and body go there); empty for any
    // other answer, which is the caller's.
    QUrl redirectWithinOrigin() const;
    void followRedirect();
    bool retryOnNewConnection();
    void releaseConnection();
    void fail(Failure failure);

    ClientRequest m_request;
    QString m_origin;
    QPointer<ConnectionPool> m_pool;
    QTcpSocket *m_socket = nullptr;
    HttpResponseParser m_parser;
    QByteArray m_body; // arrived, not yet read
    Failure m_failure = Failure::None;
    bool m_running = true;
    bool m_starting = false; // inside the constructor: signals must wait for the event loop
    bool m_headSeen = false;
    QUrl m_redirectTarget; // set: this answer is a redirect we follow, its body is not ours
    bool m_reusedConnection = false;
    bool m_answerStarted = false; // a byte of the answer arrived on this connection
    bool m_retried = false;
    bool m_discarded = false; // discard(): reading the rest of the answer, for the connection
    int m_redirects = 0;
};

} // namespace mcpbroker::http
