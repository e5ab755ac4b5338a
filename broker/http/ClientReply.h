#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

namespace mcpbroker::http {

// The answer to one request that HttpClient sent: the status line and header fields once they
// arrived, the body as it arrives (an SSE stream can last for hours), then finished(). Whether it
// travelled on one of HttpClient's own connections or through QNetworkAccessManager does not
// show here.
class ClientReply : public QObject
{
    Q_OBJECT
public:
    // Why no (complete) HTTP answer arrived. HTTP error statuses are answers, not failures.
    enum class Failure {
        None,
        ConnectionRefused,
        RemoteClosed, // the server closed the connection before the answer was complete
        HostNotFound,
        Timeout,
        Aborted,
        Tls,
        NetworkUnavailable,
        Proxy,
        MalformedResponse,
        Other,
    };

    using QObject::QObject;

    virtual int status() const = 0; // 0 until the status line arrived
    virtual QByteArray reasonPhrase() const = 0;
    // A response header field, by case-insensitive name; empty when absent.
    virtual QByteArray header(QByteArrayView name) const = 0;
    virtual qint64 bytesAvailable() const = 0;
    virtual QByteArray readAll() = 0;
    virtual Failure failure() const = 0;
    virtual bool isRunning() const = 0;
    // Stops the exchange: failure() becomes Aborted and finished() is emitted.
    virtual void abort() = 0;
    // The caller is done with this reply, which emits nothing more and deletes itself. By
    // default it aborts what is still running; a reply that can keep its connection for another
    // request reads the rest of the answer first, if that comes soon.
    virtual void discard();

    // "connection refused": to follow "Cannot reach the MCP server at <url>: ".
    static QString describe(Failure failure);

Q_SIGNALS:
    void readyRead();
    void finished();
};

} // namespace mcpbroker::http
