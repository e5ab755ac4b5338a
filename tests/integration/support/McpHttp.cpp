#include "McpHttp.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTcpSocket>
#include <QTest>

#include <utility>

namespace mcpbroker::integration {

namespace {

// The data of each event in a text/event-stream body, as JSON objects. `rest` keeps an
// incomplete trailing event.
QList<QJsonObject> eventStreamMessages(const QByteArray &stream, QByteArray *rest = nullptr)
{
    QList<QJsonObject> messages;
    QByteArray text = stream;
    text.replace("\r\n", "\n");
    qsizetype start = 0;
    for (qsizetype end; (end = text.indexOf("\n\n", start)) >= 0; start = end + 2) {
        QByteArray data;
        for (const QByteArray &line : text.mid(start, end - start).split('\n')) {
            if (!line.startsWith("data:"))
                continue;
            QByteArray value = line.mid(5);
            if (value.startsWith(' '))
                value.remove(0, 1);
            if (!data.isEmpty())
                data += '\n';
            data += value;
        }
        const QJsonDocument document = QJsonDocument::fromJson(data);
        if (document.isObject())
            messages << document.object();
    }
    if (rest)
        *rest = text.mid(start);
    return messages;
}

QNetworkRequest makeRequest(const QUrl &url, const RawHeaders &headers)
{
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                         QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    // A raw "Host" given here replaces the one Qt would derive from the URL.
    for (const auto &[name, value] : headers)
        request.setRawHeader(name, value);
    return request;
}

QByteArray headerValue(const RawHeaders &headers, const QByteArray &name)
{
    for (const auto &[key, value] : headers) {
        if (key.compare(name, Qt::CaseInsensitive) == 0)
            return value;
    }
    return {};
}

// The status and headers of a response head (status line and header lines, no empty line).
RawHeaders parseResponseHead(const QByteArray &head, int *status)
{
    const QList<QByteArray> lines = head.split('\n');
    const QList<QByteArray> statusLine = lines.first().trimmed().split(' ');
    *status = statusLine.size() > 1 ? statusLine.at(1).toInt() : 0;
    RawHeaders headers;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0)
            headers.append({lines[i].left(colon).trimmed(), lines[i].mid(colon + 1).trimmed()});
    }
    return headers;
}

QByteArray decodeChunked(const QByteArray &body)
{
    QByteArray decoded;
    for (qsizetype at = 0;;) {
        const qsizetype lineEnd = body.indexOf("\r\n", at);
        bool ok = false;
        const qsizetype size = lineEnd < 0 ? 0 : body.mid(at, lineEnd - at).toLongLong(&ok, 16);
        if (!ok || size == 0)
            return decoded;
        decoded += body.mid(lineEnd + 2, size);
        at = lineEnd + 2 + size + 2;
    }
}

bool hasHeader(const RawHeaders &headers, const QByteArray &name)
{
    for (const auto &header : headers) {
        if (header.first.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

} // namespace

QByteArray HttpResult::header(const QByteArray &name) const
{
    return headerValue(headers, name);
}

QList<QJsonObject> HttpResult::messages() const
{
    if (header("Content-Type").startsWith("text/event-stream"))
        return eventStreamMessages(body);
    const QJsonDocument document = QJsonDocument::fromJson(body);
    if (document.isObject())
        return {document.object()};
    QList<QJsonObject> messages;
    for (const QJsonValue &value : document.array())
        messages << value.toObject();
    return messages;
}

QJsonObject HttpResult::response(const QJsonValue &id) const
{
    for (const QJsonObject &message : messages()) {
        if (message.value(QStringLiteral("id")) == id
            && (message.contains(QStringLiteral("result"))
                || message.contains(QStringLiteral("error"))))
            return message;
    }
    return {};
}

QString HttpResult::describe() const
{
    if (!finished)
        return QStringLiteral("no answer before the deadline");
    QString text = QStringLiteral("HTTP %1").arg(status);
    if (!networkError.isEmpty())
        text += QStringLiteral(" (%1)").arg(networkError);
    const QByteArray type = header("Content-Type");
    if (!type.isEmpty())
        text += QStringLiteral(", Content-Type: %1").arg(QString::fromLatin1(type));
    text += QStringLiteral(", body: %1").arg(QString::fromUtf8(body.left(2000)));
    return text;
}

EventStream::EventStream(QNetworkReply *reply) : m_reply(reply)
{
    connect(reply, &QNetworkReply::readyRead, this, &EventStream::parse);
    connect(reply, &QNetworkReply::finished, this, &EventStream::parse);
}

EventStream::~EventStream()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

int EventStream::status() const
{
    return m_reply ? m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() : 0;
}

bool EventStream::isOpen() const
{
    return m_reply && status() != 0 && !m_reply->isFinished();
}

void EventStream::parse()
{
    if (!m_reply)
        return;
    const QByteArray chunk = m_reply->readAll();
    m_raw += chunk;
    m_buffer += chunk;
    if (!m_reply->rawHeader("Content-Type").startsWith("text/event-stream")) {
        // A plain JSON answer: read whole, once it is complete.
        if (m_reply->isFinished()) {
            HttpResult whole;
            whole.headers.append({QByteArray("Content-Type"), m_reply->rawHeader("Content-Type")});
            whole.body = std::exchange(m_buffer, {});
            m_messages += whole.messages();
        }
        return;
    }
    QByteArray rest;
    m_messages += eventStreamMessages(m_buffer, &rest);
    m_buffer = rest;
}

bool EventStream::waitForMethod(const QString &method, int timeoutMs)
{
    auto seen = [&] {
        for (const QJsonObject &message : std::as_const(m_messages)) {
            if (message.value(QStringLiteral("method")).toString() == method)
                return true;
        }
        return false;
    };
    return QTest::qWaitFor(seen, timeoutMs) || seen();
}

QJsonObject EventStream::waitForResponse(const QJsonValue &id, int timeoutMs)
{
    QJsonObject response;
    auto seen = [&] {
        for (const QJsonObject &message : std::as_const(m_messages)) {
            if (message.value(QStringLiteral("id")) == id
                && (message.contains(QStringLiteral("result"))
                    || message.contains(QStringLiteral("error")))) {
                response = message;
                return true;
            }
        }
        return false;
    };
    if (!QTest::qWaitFor(seen, timeoutMs))
        seen();
    return response;
}

QString EventStream::describe() const
{
    return QStringLiteral("stream: HTTP %1, %2, received: %3")
            .arg(status())
            .arg(m_reply && m_reply->isFinished() ? QStringLiteral("ended")
                                                  : QStringLiteral("open"))
            .arg(QString::fromUtf8(m_raw.left(4000)));
}

McpHttp::McpHttp()
{
    m_network.setAutoDeleteReplies(false);
}

McpHttp::~McpHttp() = default;

void McpHttp::setDefaultHeaders(const RawHeaders &headers, const QUrl &scope)
{
    m_defaultHeaders = headers;
    m_defaultScope = scope;
}

RawHeaders McpHttp::withDefaults(const QUrl &url, const RawHeaders &headers) const
{
    if (m_defaultScope.isValid()
        && (url.scheme() != m_defaultScope.scheme() || url.host() != m_defaultScope.host()
            || url.port(80) != m_defaultScope.port(80)))
        return headers;
    RawHeaders all = headers;
    for (const auto &header : m_defaultHeaders) {
        if (!hasHeader(headers, header.first))
            all.append(header);
    }
    return all;
}

HttpResult McpHttp::send(const QByteArray &verb, const QUrl &url, const RawHeaders &headers,
                         const QByteArray &body, int timeoutMs)
{
    QNetworkReply *reply
            = m_network.sendCustomRequest(makeRequest(url, withDefaults(url, headers)), verb, body);
    const std::unique_ptr<QNetworkReply> owner(reply);
    HttpResult result;
    result.finished = QTest::qWaitFor([reply] { return reply->isFinished(); }, timeoutMs);
    if (!result.finished) {
        reply->abort();
        return result;
    }
    result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    // An HTTP error status is an answer, not a transport failure.
    if (reply->error() != QNetworkReply::NoError && result.status == 0)
        result.networkError = reply->errorString();
    result.headers = reply->rawHeaderPairs();
    result.body = reply->readAll();
    return result;
}

HttpResult McpHttp::post(const QUrl &url, const QByteArray &body, const RawHeaders &headers,
                         int timeoutMs)
{
    RawHeaders all = headers;
    if (!hasHeader(all, "Content-Type"))
        all.append({QByteArray("Content-Type"), QByteArray("application/json")});
    if (!hasHeader(all, "Accept"))
        all.append({QByteArray("Accept"), QByteArray("application/json, text/event-stream")});
    return send("POST", url, all, body, timeoutMs);
}

HttpResult McpHttp::get(const QUrl &url, const RawHeaders &headers, int timeoutMs)
{
    return send("GET", url, headers, {}, timeoutMs);
}

HttpResult McpHttp::exchangeOverSocket(const QUrl &url, const QByteArray &head,
                                       const QByteArray &body, int timeoutMs)
{
    constexpr qsizetype kPiece = 64 * 1024;
    QTcpSocket socket;
    QByteArray received;
    qsizetype sent = 0;
    bool closed = false;
    auto sendMore = [&] {
        // Keep a little in flight; stop once the server has started answering.
        if (!received.isEmpty() || sent >= body.size() || socket.bytesToWrite() > 0)
            return;
        socket.write(body.mid(sent, kPiece));
        sent += kPiece;
    };
    QObject::connect(&socket, &QTcpSocket::connected, &socket, [&] {
        socket.write(head);
        sendMore();
    });
    QObject::connect(&socket, &QTcpSocket::bytesWritten, &socket, sendMore);
    QObject::connect(&socket, &QTcpSocket::readyRead, &socket,
                     [&] { received += socket.readAll(); });
    // A reset after the answer is fine: the answer is what counts.
    QObject::connect(&socket, &QTcpSocket::errorOccurred, &socket, [&] {
        received += socket.readAll();
        closed = true;
    });
    QObject::connect(&socket, &QTcpSocket::disconnected, &socket, [&] { closed = true; });
    socket.connectToHost(url.host(), quint16(url.port(80)));

    // The answer is complete when its Content-Length worth of body is in, its last chunk is in,
    // or the server closed.
    auto complete = [&] {
        const qsizetype end = received.indexOf("\r\n\r\n");
        if (closed || end < 0)
            return closed;
        int status = 0;
        const RawHeaders headers = parseResponseHead(received.left(end), &status);
        const QByteArray length = headerValue(headers, "Content-Length");
        if (!length.isEmpty())
            return received.size() - end - 4 >= length.toLongLong();
        return headerValue(headers, "Transfer-Encoding").contains("chunked")
                && received.endsWith("\r\n0\r\n\r\n");
    };
    HttpResult result;
    result.finished = QTest::qWaitFor(complete, timeoutMs) || complete();
    const qsizetype end = received.indexOf("\r\n\r\n");
    if (end < 0) {
        result.networkError = socket.errorString();
        return result;
    }
    result.headers = parseResponseHead(received.left(end), &result.status);
    result.body = received.mid(end + 4);
    if (result.header("Transfer-Encoding").contains("chunked"))
        result.body = decodeChunked(result.body);
    return result;
}

QByteArray McpHttp::initializeRequest(const QString &protocolVersion, int id,
                                      const QJsonObject &capabilities)
{
    const QJsonObject params{
            {QStringLiteral("protocolVersion"), protocolVersion},
            {QStringLiteral("capabilities"), capabilities},
            {QStringLiteral("clientInfo"),
             QJsonObject{{QStringLiteral("name"), QStringLiteral("mcpb-integration-tests")},
                         {QStringLiteral("version"), QStringLiteral("1.0.0")}}}};
    return request(QStringLiteral("initialize"), params, id);
}

QByteArray McpHttp::request(const QString &method, const QJsonObject &params, int id)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                                     {QStringLiteral("id"), id},
                                     {QStringLiteral("method"), method},
                                     {QStringLiteral("params"), params}})
            .toJson(QJsonDocument::Compact);
}

QByteArray McpHttp::notification(const QString &method, const QJsonObject &params)
{
    QJsonObject message{{QStringLiteral("jsonrpc"), QStringLiteral("2.0")},
                        {QStringLiteral("method"), method}};
    if (!params.isEmpty())
        message.insert(QStringLiteral("params"), params);
    return QJsonDocument(message).toJson(QJsonDocument::Compact);
}

bool McpHttp::open(const QUrl &url, const QString &protocolVersion, McpSession *session,
                   QString *why, const RawHeaders &extraHeaders, const QJsonObject &capabilities)
{
    const HttpResult initialized
            = post(url, initializeRequest(protocolVersion, 1, capabilities), extraHeaders);
    const QJsonObject answer = initialized.response(1);
    if (initialized.status != 200 || !answer.contains(QStringLiteral("result"))) {
        *why = QStringLiteral("initialize on %1: %2").arg(url.toString(), initialized.describe());
        return false;
    }
    session->url = url;
    session->id = initialized.header("Mcp-Session-Id");
    session->initializeResult = answer.value(QStringLiteral("result")).toObject();
    session->protocolVersion = session->initializeResult.value(QStringLiteral("protocolVersion"))
                                       .toString()
                                       .toLatin1();
    if (session->id.isEmpty()) {
        *why = QStringLiteral("initialize on %1 gave no Mcp-Session-Id: %2")
                       .arg(url.toString(), initialized.describe());
        return false;
    }
    const HttpResult acknowledged = postInSession(
            *session, notification(QStringLiteral("notifications/initialized")), extraHeaders);
    if (acknowledged.status != 202) {
        *why = QStringLiteral("notifications/initialized on %1: want HTTP 202, got %2")
                       .arg(url.toString(), acknowledged.describe());
        return false;
    }
    return true;
}

RawHeaders McpHttp::sessionHeaders(const McpSession &session, const RawHeaders &extra)
{
    RawHeaders headers{{"Mcp-Session-Id", session.id}};
    if (!session.protocolVersion.isEmpty())
        headers.append({QByteArray("MCP-Protocol-Version"), session.protocolVersion});
    return headers + extra;
}

HttpResult McpHttp::postInSession(const McpSession &session, const QByteArray &body,
                                  const RawHeaders &extra)
{
    return post(session.url, body, sessionHeaders(session, extra));
}

HttpResult McpHttp::call(const McpSession &session, const QString &method,
                         const QJsonObject &params, int id)
{
    return postInSession(session, request(method, params, id));
}

HttpResult McpHttp::close(const McpSession &session)
{
    return send("DELETE", session.url, sessionHeaders(session));
}

std::unique_ptr<EventStream> McpHttp::openEventStream(const McpSession &session)
{
    const RawHeaders headers = sessionHeaders(session, {{"Accept", "text/event-stream"}});
    QNetworkRequest request = makeRequest(session.url, withDefaults(session.url, headers));
    return std::make_unique<EventStream>(m_network.get(request));
}

std::unique_ptr<EventStream> McpHttp::startCall(const McpSession &session, const QString &method,
                                                const QJsonObject &params, int id)
{
    const RawHeaders headers = sessionHeaders(session,
                                              {{"Content-Type", "application/json"},
                                               {"Accept", "application/json, text/event-stream"}});
    const QNetworkRequest post = makeRequest(session.url, withDefaults(session.url, headers));
    return std::make_unique<EventStream>(m_network.post(post, request(method, params, id)));
}

QString toolResultText(const QJsonObject &response)
{
    QStringList texts;
    for (const QJsonValue &block : response["result"].toObject()["content"].toArray())
        texts << block.toObject()["text"].toString();
    return texts.join(QLatin1Char('\n'));
}

bool isToolError(const QJsonObject &response)
{
    return response["result"].toObject()["isError"].toBool();
}

} // namespace mcpbroker::integration
