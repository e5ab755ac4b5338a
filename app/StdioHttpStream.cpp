#include "StdioHttpStream.h"

#include "AppLogging.h"
#include "mcp/JsonRpc.h"

#include <QNetworkRequest>

namespace mcpbroker::app {

namespace {

using json = nlohmann::json;

QByteArray mediaType(const QNetworkReply *reply)
{
    QByteArray type = reply->rawHeader("Content-Type");
    if (const qsizetype semicolon = type.indexOf(';'); semicolon >= 0)
        type.truncate(semicolon);
    return type.trimmed().toLower();
}

bool isSuccess(int status)
{
    return status >= 200 && status < 300;
}

} // namespace

StdioHttpStream::StdioHttpStream(QNetworkReply *reply, QObject *parent)
    : QObject(parent), m_reply(reply)
{
    connect(reply, &QNetworkReply::metaDataChanged, this, [this] { takeHeaders(); });
    connect(reply, &QNetworkReply::readyRead, this, &StdioHttpStream::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &StdioHttpStream::onFinished);
}

StdioHttpStream::~StdioHttpStream()
{
    if (QNetworkReply *reply = m_reply.data()) {
        disconnect(reply, nullptr, this, nullptr);
        if (reply->isRunning())
            reply->abort();
        reply->deleteLater();
    }
}

int StdioHttpStream::status() const
{
    return m_hasHeaders && m_reply
            ? m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt()
            : 0;
}

QByteArray StdioHttpStream::header(const QByteArray &name) const
{
    return m_hasHeaders && m_reply ? m_reply->rawHeader(name) : QByteArray();
}

QNetworkReply::NetworkError StdioHttpStream::networkError() const
{
    return m_error;
}

bool StdioHttpStream::failedInTransport() const
{
    return m_error != QNetworkReply::NoError && (!m_hasHeaders || isSuccess(status()));
}

QString StdioHttpStream::errorText() const
{
    if (isSuccess(status()))
        return {};
    const auto value = mcp::jsonrpc::parse(m_body);
    if (!value || !value->is_object())
        return {};
    const json error = value->value("error", json::object());
    return error.is_object() ? mcp::jsonrpc::toQString(error.value("message", json())) : QString();
}

QString StdioHttpStream::lastEventId() const
{
    return m_parser.lastEventId();
}

std::optional<qint64> StdioHttpStream::retryMs() const
{
    return m_parser.retryMs();
}

void StdioHttpStream::abort()
{
    if (m_reply && m_reply->isRunning())
        m_reply->abort(); // finished() follows, with OperationCanceledError
}

bool StdioHttpStream::takeHeaders()
{
    if (m_hasHeaders || !m_reply
        || !m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).isValid())
        return true;
    m_hasHeaders = true;
    m_eventStream = isSuccess(status()) && mediaType(m_reply) == "text/event-stream";
    QPointer<StdioHttpStream> guard(this);
    Q_EMIT headersReceived();
    return !guard.isNull();
}

void StdioHttpStream::onReadyRead()
{
    if (!takeHeaders() || !m_reply)
        return;
    if (!m_eventStream) {
        if (m_body.size() + m_reply->bytesAvailable() > kMaxBodyBytes) {
            qCWarning(lcApp) << "MCP Broker's answer is larger than" << kMaxBodyBytes << "bytes";
            m_reply->abort();
            return;
        }
        m_body.append(m_reply->readAll());
        return;
    }
    const QList<mcp::SseParser::Event> events = m_parser.feed(m_reply->readAll());
    if (m_parser.failed()) {
        qCWarning(lcApp) << "An event from MCP Broker is too large; dropping its stream";
        m_reply->abort();
        return;
    }
    QPointer<StdioHttpStream> guard(this);
    for (const mcp::SseParser::Event &event : events) {
        m_receivedEvent = true;
        // Priming events (an id and a retry time, no data) only matter for resuming.
        if (event.type != QLatin1String("message") || event.data.trimmed().isEmpty())
            continue;
        emitBody(event.data);
        if (!guard)
            return;
    }
}

void StdioHttpStream::onFinished()
{
    QPointer<StdioHttpStream> guard(this);
    onReadyRead(); // whatever arrived with the end
    if (!guard || !m_reply || m_finished)
        return;
    m_error = m_reply->error();
    if (!m_eventStream && isSuccess(status()) && !m_body.trimmed().isEmpty()
        && m_error == QNetworkReply::NoError) {
        emitBody(std::exchange(m_body, {}));
        if (!guard)
            return;
    }
    m_finished = true;
    Q_EMIT finished();
}

void StdioHttpStream::emitBody(const QByteArray &body)
{
    const auto message = mcp::jsonrpc::parse(body);
    if (!message || !(message->is_object() || message->is_array())) {
        qCWarning(lcApp) << "Ignoring a message from MCP Broker that is not JSON-RPC";
        return;
    }
    Q_EMIT messageReceived(*message);
}

} // namespace mcpbroker::app
