#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QNetworkAccessManager>
#include <QPair>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <memory>

class QNetworkReply;

namespace mcpbroker::integration {

using RawHeaders = QList<QPair<QByteArray, QByteArray>>;

// One finished HTTP exchange.
struct HttpResult
{
    bool finished = false; // false: no answer before the deadline
    int status = 0;        // 0: no HTTP answer at all (see networkError)
    QString networkError;  // Qt's text for a transport failure, empty otherwise
    RawHeaders headers;
    QByteArray body;

    QByteArray header(const QByteArray &name) const; // case-insensitive, empty if absent
    // The JSON-RPC messages in the body: one JSON object, a JSON array (batch), or the data of
    // each event of a text/event-stream body.
    QList<QJsonObject> messages() const;
    // The response whose id equals `id` (an empty object if there is none).
    QJsonObject response(const QJsonValue &id) const;
    QString describe() const; // for failure messages
};

// A tools/call response: the text of its content blocks joined by '\n', and its isError flag.
QString toolResultText(const QJsonObject &response);
bool isToolError(const QJsonObject &response);

// An MCP session opened on one endpoint by McpHttp::open.
struct McpSession
{
    QUrl url;
    QByteArray id;              // Mcp-Session-Id
    QByteArray protocolVersion; // what the server negotiated
    QJsonObject initializeResult;
};

// An open event stream: the standalone server-to-client channel of a session (GET), or the
// answer to a POST read while it arrives (McpHttp::startCall), which may also be plain JSON.
class EventStream : public QObject
{
    Q_OBJECT
public:
    explicit EventStream(QNetworkReply *reply);
    ~EventStream() override; // aborts the request

    int status() const;
    bool isOpen() const; // the response has started and has not ended
    QList<QJsonObject> messages() const { return m_messages; }
    // Waits for a message with this "method" (a notification or request from the server).
    bool waitForMethod(const QString &method, int timeoutMs);
    // Waits for the response with this id; an empty object when none came in time.
    QJsonObject waitForResponse(const QJsonValue &id, int timeoutMs);
    QString describe() const;

private:
    void parse();

    QPointer<QNetworkReply> m_reply;
    QByteArray m_buffer;
    QByteArray m_raw;
    QList<QJsonObject> m_messages;
};

// Raw HTTP against the broker (QNetworkAccessManager), for the checks a well-behaved client
// library would never make: foreign Host or Origin, broken JSON, missing or unknown sessions,
// unsupported protocol versions, huge bodies, batches. No redirects are followed, no cookies.
class McpHttp
{
public:
    static constexpr int kDefaultTimeoutMs = 20'000;

    McpHttp();
    ~McpHttp();

    // Headers added to every request (send, post, get, open, openEventStream…) whose URL has
    // the scheme, host and port of `scope` (any URL when `scope` is empty), e.g. the broker's
    // grant: `http.setDefaultHeaders(broker.authorization(), broker.endpoint())`. A header of
    // the same name given to a call replaces the default. For a request without them, use an
    // McpHttp of its own. exchangeOverSocket, which sends a head the test wrote, adds none.
    void setDefaultHeaders(const RawHeaders &headers, const QUrl &scope = {});

    HttpResult send(const QByteArray &verb, const QUrl &url, const RawHeaders &headers = {},
                    const QByteArray &body = {}, int timeoutMs = kDefaultTimeoutMs);
    // POST with Content-Type: application/json and Accept: application/json, text/event-stream
    // (unless `headers` names them).
    HttpResult post(const QUrl &url, const QByteArray &body, const RawHeaders &headers = {},
                    int timeoutMs = kDefaultTimeoutMs);
    HttpResult get(const QUrl &url, const RawHeaders &headers = {},
                   int timeoutMs = kDefaultTimeoutMs);
    // Over a plain socket, the way curl or Node's fetch behave: sends `head` (request line and
    // headers, ending in an empty line), then `body` in pieces, and stops sending as soon as an
    // answer arrives (a server may refuse a body before it has read it all: 413). QNAM cannot
    // do that: it reads nothing until it has sent everything.
    static HttpResult exchangeOverSocket(const QUrl &url, const QByteArray &head,
                                         const QByteArray &body, int timeoutMs = kDefaultTimeoutMs);

    static QByteArray initializeRequest(const QString &protocolVersion, int id = 1,
                                        const QJsonObject &capabilities = {});
    static QByteArray request(const QString &method, const QJsonObject &params, int id);
    static QByteArray notification(const QString &method, const QJsonObject &params = {});

    // initialize + notifications/initialized. On failure returns false and says why in `why`.
    bool open(const QUrl &url, const QString &protocolVersion, McpSession *session, QString *why,
              const RawHeaders &extraHeaders = {}, const QJsonObject &capabilities = {});
    // Mcp-Session-Id and MCP-Protocol-Version of `session`, plus `extra`.
    static RawHeaders sessionHeaders(const McpSession &session, const RawHeaders &extra = {});
    HttpResult call(const McpSession &session, const QString &method,
                    const QJsonObject &params = {}, int id = 2);
    HttpResult postInSession(const McpSession &session, const QByteArray &body,
                             const RawHeaders &extra = {});
    HttpResult close(const McpSession &session); // DELETE
    std::unique_ptr<EventStream> openEventStream(const McpSession &session);
    // POSTs a request in `session` and hands over its answer while it arrives (progress
    // notifications first, then the response), rather than once it is complete.
    std::unique_ptr<EventStream> startCall(const McpSession &session, const QString &method,
                                           const QJsonObject &params, int id);

private:
    // `headers` plus the defaults that apply to `url` and are not named in `headers`.
    RawHeaders withDefaults(const QUrl &url, const RawHeaders &headers) const;

    QNetworkAccessManager m_network;
    RawHeaders m_defaultHeaders;
    QUrl m_defaultScope;
};

} // namespace mcpbroker::integration
