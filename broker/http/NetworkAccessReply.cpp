#include "http/NetworkAccessReply.h"

#include <QNetworkReply>

namespace mcpbroker::http {

namespace {

ClientReply::Failure failureOf(QNetworkReply::NetworkError error)
{
    using Failure = ClientReply::Failure;
    switch (error) {
    case QNetworkReply::ConnectionRefusedError:
        return Failure::ConnectionRefused;
    case QNetworkReply::RemoteHostClosedError:
        return Failure::RemoteClosed;
    case QNetworkReply::HostNotFoundError:
        return Failure::HostNotFound;
    case QNetworkReply::TimeoutError:
        return Failure::Timeout;
    case QNetworkReply::OperationCanceledError:
        return Failure::Aborted;
    case QNetworkReply::SslHandshakeFailedError:
        return Failure::Tls;
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
        return Failure::NetworkUnavailable;
    case QNetworkReply::ProxyConnectionRefusedError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ProxyNotFoundError:
    case QNetworkReply::ProxyTimeoutError:
    case QNetworkReply::ProxyAuthenticationRequiredError:
    case QNetworkReply::UnknownProxyError:
        return Failure::Proxy;
    default:
        return Failure::Other;
    }
}

// The network failed before or while the HTTP answer arrived (as opposed to an HTTP status).
bool isTransportError(QNetworkReply::NetworkError error)
{
    return (error >= QNetworkReply::ConnectionRefusedError
            && error <= QNetworkReply::UnknownNetworkError
            && error != QNetworkReply::TooManyRedirectsError
            && error != QNetworkReply::InsecureRedirectError)
            || (error >= QNetworkReply::ProxyConnectionRefusedError
                && error <= QNetworkReply::UnknownProxyError);
}

} // namespace

NetworkAccessReply::NetworkAccessReply(QNetworkReply *reply, QObject *parent)
    : ClientReply(parent), m_reply(reply)
{
    m_reply->setParent(this);
    connect(m_reply, &QNetworkReply::readyRead, this, &ClientReply::readyRead);
    connect(m_reply, &QNetworkReply::finished, this, &ClientReply::finished);
}

NetworkAccessReply::~NetworkAccessReply()
{
    disconnect(m_reply, nullptr, this, nullptr);
    if (m_reply->isRunning())
        m_reply->abort();
}

int NetworkAccessReply::status() const
{
    return m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

QByteArray NetworkAccessReply::reasonPhrase() const
{
    return m_reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray();
}

QByteArray NetworkAccessReply::header(QByteArrayView name) const
{
    return m_reply->rawHeader(name.toByteArray());
}

qint64 NetworkAccessReply::bytesAvailable() const
{
    return m_reply->bytesAvailable();
}

QByteArray NetworkAccessReply::readAll()
{
    return m_reply->readAll();
}

ClientReply::Failure NetworkAccessReply::failure() const
{
    const QNetworkReply::NetworkError error = m_reply->error();
    if (isTransportError(error))
        return failureOf(error);
    // No HTTP answer at all, for a reason outside the transport (say, an unknown scheme).
    if (m_reply->isFinished() && status() == 0)
        return Failure::Other;
    return Failure::None;
}

bool NetworkAccessReply::isRunning() const
{
    return m_reply->isRunning();
}

void NetworkAccessReply::abort()
{
    m_reply->abort();
}

} // namespace mcpbroker::http
