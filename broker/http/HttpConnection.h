#pragma once

#include "http/HttpRequestParser.h"
#include "http/HttpServer.h"

#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QQueue>
#include <QTimer>

class QTcpSocket;

namespace mcpbroker::http {

class HttpResponder;

// One accepted TCP connection of HttpServer: reads and parses requests, hands them to the
// handler one at a time (pipelined ones wait their turn), writes what the responder produces,
// and closes on errors, idle timeout, `Connection: close` or server shutdown. Deletes itself
// (deleteLater) after emitting closed().
class HttpConnection : public QObject
{
    Q_OBJECT
public:
    HttpConnection(QTcpSocket *socket, HttpHandler handler, const HttpServer::Options &options,
                   QObject *parent);
    ~HttpConnection() override;

    // Closes at once; a responder still in use emits disconnected().
    void shutdown();

    // For HttpResponder: facts about the request it answers, and the way out.
    bool answersHeadRequest() const { return m_currentMethod == "HEAD"; }
    int requestVersionMinor() const { return m_currentVersionMinor; }
    void writeResponseBytes(const QByteArray &bytes);
    void responseStarted(int status);
    void responderFinished(HttpResponder *responder);

Q_SIGNALS:
    void closed();

private:
    void onReadyRead();
    void restartIdleTimer();
    void processInput();
    void dispatchNext();
    void sendParseError();
    void closeGracefully();
    void shutdownSending(); // half-close: our side is done, the client's may still send
    void finish();

    QTcpSocket *m_socket;
    HttpHandler m_handler;
    HttpRequestParser m_parser;
    HttpRequestParser::State m_parserState = HttpRequestParser::State::NeedMore;
    QQueue<HttpRequest> m_queue;
    QPointer<HttpResponder> m_current;
    QByteArray m_currentMethod;
    QString m_currentPath;
    int m_currentVersionMinor = 1;
    QHostAddress m_peer;
    QTimer m_idleTimer;
    bool m_parseFailed = false;
    bool m_closing = false;  // no more requests are read or dispatched
    bool m_finished = false; // closed() emitted
};

} // namespace mcpbroker::http
