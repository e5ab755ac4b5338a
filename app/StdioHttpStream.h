#pragma once

#include "mcp/SseParser.h"

#include <QNetworkReply>
#include <QObject>
#include <QPointer>

#include <nlohmann/json.hpp>

#include <optional>

namespace mcpbroker::app {

// One answer of the broker's Streamable HTTP endpoint to the stdio bridge (MCP 2025-11-25,
// basic/transports), read as it arrives: the status and headers first, then the JSON-RPC
// messages of an SSE stream one by one, or of a JSON body once it is complete. Owns the reply.
class StdioHttpStream : public QObject
{
    Q_OBJECT
public:
    static constexpr qint64 kMaxBodyBytes = 64 * 1024 * 1024;

    explicit StdioHttpStream(QNetworkReply *reply, QObject *parent = nullptr);
    ~StdioHttpStream() override; // aborts a reply still running

    bool hasHeaders() const { return m_hasHeaders; }
    int status() const; // 0 until the headers are in, and when none came
    QByteArray header(const QByteArray &name) const;
    bool isEventStream() const { return m_eventStream; }
    bool isFinished() const { return m_finished; }
    // NoError, or why the exchange failed or ended early (an HTTP error status included).
    QNetworkReply::NetworkError networkError() const;
    // The connection itself failed or dropped (as opposed to an HTTP status).
    bool failedInTransport() const;
    // The "message" of a JSON-RPC error in a (non-2xx) JSON body, else empty.
    QString errorText() const;

    // SSE: the id of the last event and the last "retry" field, for resuming the stream.
    QString lastEventId() const;
    std::optional<qint64> retryMs() const;
    bool receivedEvent() const { return m_receivedEvent; }

    void abort();

Q_SIGNALS:
    void headersReceived(); // once, before any message; not at all when no answer came
    void messageReceived(const nlohmann::json &message); // an object, or a batch (array)
    void finished();                                     // once, last

private:
    void onReadyRead();
    void onFinished();
    bool takeHeaders(); // false when this was deleted meanwhile
    void emitBody(const QByteArray &body);

    QPointer<QNetworkReply> m_reply;
    mcp::SseParser m_parser; // SSE only
    QByteArray m_body;       // JSON and error bodies
    bool m_hasHeaders = false;
    bool m_eventStream = false;
    bool m_receivedEvent = false;
    bool m_finished = false;
    QNetworkReply::NetworkError m_error = QNetworkReply::NoError;
};

} // namespace mcpbroker::app
