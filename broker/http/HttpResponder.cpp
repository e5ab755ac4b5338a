#include "http/HttpResponder.h"

#include "Logging.h"
#include "http/HttpConnection.h"

#include <QDateTime>
#include <QLocale>

namespace mcpbroker::http {

namespace {

bool isHeaderName(QByteArrayView name)
{
    if (name.isEmpty())
        return false;
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == ':')
            return false;
    }
    return true;
}

bool isSafeHeaderValue(QByteArrayView value)
{
    // CR or LF would let a value start a new header or the body (response splitting).
    return !value.contains('\r') && !value.contains('\n') && !value.contains('\0');
}

// Headers that describe framing or the connection are ours to write, not the handler's.
bool isFramingHeader(QByteArrayView name)
{
    return name.compare("Content-Length", Qt::CaseInsensitive) == 0
            || name.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0
            || name.compare("Connection", Qt::CaseInsensitive) == 0;
}

// RFC 9110 §15.3.5, §15.4.5: these never carry content, nor (204, 1xx) a Content-Length.
bool statusHasNoContent(int status)
{
    return status == 204 || status == 304;
}

QByteArray httpDate()
{
    // IMF-fixdate (RFC 9110 §5.6.7), always in English.
    return QLocale::c()
            .toString(QDateTime::currentDateTimeUtc(), QStringLiteral("ddd, dd MMM yyyy hh:mm:ss"))
            .toLatin1()
            + " GMT";
}

QByteArray responseHead(int status, const HeaderList &headers, const HeaderList &framing)
{
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status)
            + "\r\nDate: " + httpDate() + "\r\n";
    for (const auto &[name, value] : headers) {
        if (!isHeaderName(name) || !isSafeHeaderValue(value)) {
            qCWarning(lcHttp) << "Dropping a response header with an invalid name or value";
            continue;
        }
        if (isFramingHeader(name)) {
            qCDebug(lcHttp) << "Ignoring handler-set framing header" << name;
            continue;
        }
        head += name + ": " + value + "\r\n";
    }
    for (const auto &[name, value] : framing)
        head += name + ": " + value + "\r\n";
    head += "\r\n";
    return head;
}

int finalStatus(int status)
{
    if (status >= 200 && status <= 599)
        return status;
    qCWarning(lcHttp) << "Handler answered with invalid status" << status << "- sending 500";
    return 500;
}

} // namespace

HttpResponder::HttpResponder(HttpConnection *connection, bool keepAlive)
    : QObject(connection), m_connection(connection), m_keepAlive(keepAlive)
{
}

void HttpResponder::send(const HttpResponse &response)
{
    if (m_started) {
        qCDebug(lcHttp) << "Ignoring a second response to the same request";
        return;
    }
    m_started = true;
    m_finished = true;
    if (!m_connected)
        return;

    const int status = finalStatus(response.status);
    const bool noContent = statusHasNoContent(status);
    HeaderList framing;
    if (!noContent)
        framing.emplaceBack("Content-Length", QByteArray::number(response.body.size()));
    if (!m_keepAlive)
        framing.emplaceBack("Connection", "close");
    else if (m_connection->requestVersionMinor() == 0)
        framing.emplaceBack("Connection", "keep-alive");

    QByteArray bytes = responseHead(status, response.headers, framing);
    if (!noContent && !m_connection->answersHeadRequest())
        bytes += response.body;
    m_connection->responseStarted(status);
    m_connection->writeResponseBytes(bytes);
    m_connection->responderFinished(this);
}

bool HttpResponder::startStream(int status, const HeaderList &headers)
{
    if (m_started) {
        qCDebug(lcHttp) << "Ignoring a stream start after a response was started";
        return false;
    }
    if (!m_connected)
        return false;
    m_started = true;
    m_streaming = true;

    status = finalStatus(status);
    HeaderList framing;
    if (m_connection->requestVersionMinor() == 0) {
        // HTTP/1.0 has no chunked coding: the stream ends when the connection closes.
        m_keepAlive = false;
    } else {
        framing.emplaceBack("Transfer-Encoding", "chunked");
    }
    if (!m_keepAlive)
        framing.emplaceBack("Connection", "close");

    m_connection->responseStarted(status);
    m_connection->writeResponseBytes(responseHead(status, headers, framing));
    return m_connected;
}

bool HttpResponder::write(QByteArrayView bytes)
{
    if (!m_streaming || m_finished || !m_connected)
        return false;
    // An empty chunk would end the stream; HEAD answers carry no content.
    if (bytes.isEmpty() || m_connection->answersHeadRequest())
        return true;
    if (m_connection->requestVersionMinor() == 0) {
        m_connection->writeResponseBytes(bytes.toByteArray());
    } else {
        m_connection->writeResponseBytes(QByteArray::number(bytes.size(), 16) + "\r\n"
                                         + bytes.toByteArray() + "\r\n");
    }
    return m_connected;
}

void HttpResponder::endStream()
{
    if (!m_streaming || m_finished)
        return;
    m_finished = true;
    if (!m_connected)
        return;
    if (m_connection->requestVersionMinor() != 0 && !m_connection->answersHeadRequest())
        m_connection->writeResponseBytes("0\r\n\r\n");
    m_connection->responderFinished(this);
}

bool HttpResponder::isFinished() const
{
    return m_finished;
}

bool HttpResponder::isStreaming() const
{
    return m_streaming && !m_finished;
}

bool HttpResponder::isConnected() const
{
    return m_connected;
}

} // namespace mcpbroker::http
