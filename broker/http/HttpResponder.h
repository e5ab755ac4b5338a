#pragma once

#include "http/HttpResponse.h"

#include <QObject>

namespace mcpbroker::http {

class HttpConnection;

// The answer side of one request. A handler gets a pointer to it and either sends one whole
// response, or starts a stream (chunked transfer, used for text/event-stream) and writes to it
// over time. It is owned by the connection: hold it in a QPointer, and treat disconnected() as
// "stop writing" (the client went away, or the server shut down).
class HttpResponder : public QObject
{
    Q_OBJECT
public:
    // Whole response. Adds Content-Length (and Connection: close when the connection will close).
    // Ignored (with a debug log) when something was already sent.
    void send(const HttpResponse &response);

    // Starts a streamed response with Transfer-Encoding: chunked. `headers` must not contain
    // Content-Length. Returns false when the client is gone.
    bool startStream(int status, const HeaderList &headers);
    // One chunk; returns false when the client is gone or no stream was started.
    bool write(QByteArrayView bytes);
    // Ends the stream (last chunk). The connection may then serve its next request.
    void endStream();

    bool isFinished() const; // a whole response sent or the stream ended
    bool isStreaming() const;
    bool isConnected() const;

Q_SIGNALS:
    // The client closed the connection or the server is closing it. Emitted at most once.
    void disconnected();

private:
    friend class HttpConnection;
    explicit HttpResponder(HttpConnection *connection, bool keepAlive);

    HttpConnection *m_connection;
    bool m_keepAlive;
    bool m_started = false;
    bool m_finished = false;
    bool m_streaming = false;
    bool m_connected = true;
};

} // namespace mcpbroker::http
