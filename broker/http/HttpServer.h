#pragma once

#include "Result.h"
#include "http/HttpRequest.h"
#include "http/HttpRequestParser.h"

#include <QObject>

#include <functional>
#include <memory>

class QTcpServer;

namespace mcpbroker::http {

class HttpResponder;

// Called once per complete request. The handler answers now or later through `responder`
// (valid until it finishes or emits disconnected()).
using HttpHandler = std::function<void(const HttpRequest &request, HttpResponder *responder)>;

// A small HTTP/1.1 server that listens on loopback only (127.0.0.1 and, when available, ::1).
// Why not QHttpServer: Qt 6.4's buffers a request body of any size before a handler sees it,
// and does not report a client that goes away from a kept (streaming) responder; both matter
// here (body limit, SSE streams). Requests on one connection are answered in order.
class HttpServer : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        HttpRequestParser::Limits limits;
        int idleTimeoutMs = 120'000; // a keep-alive connection with no request in flight
    };

    HttpServer(HttpHandler handler, Options options, QObject *parent = nullptr);
    explicit HttpServer(HttpHandler handler, QObject *parent = nullptr)
        : HttpServer(std::move(handler), Options{}, parent) {}
    ~HttpServer() override;

    // Binds 127.0.0.1:port (port 0 = any free port); ::1 on the same port is best-effort.
    // Fails with a clear message when the port is taken.
    Result<void> listen(quint16 port);
    quint16 port() const;
    // Stops listening and closes every connection (responders emit disconnected()).
    void close();

    int connectionCount() const;

private:
    // implementation-defined members follow
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::http
