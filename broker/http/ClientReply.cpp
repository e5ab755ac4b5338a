#include "http/ClientReply.h"

namespace mcpbroker::http {

void ClientReply::discard()
{
    blockSignals(true);
    if (isRunning())
        abort();
    deleteLater();
}

QString ClientReply::describe(Failure failure)
{
    switch (failure) {
    case Failure::ConnectionRefused:
        return QStringLiteral("connection refused");
    case Failure::RemoteClosed:
        return QStringLiteral("the server closed the connection");
    case Failure::HostNotFound:
        return QStringLiteral("host not found");
    case Failure::Timeout:
        return QStringLiteral("the connection timed out");
    case Failure::Aborted:
        return QStringLiteral("the request was aborted");
    case Failure::Tls:
        return QStringLiteral("the TLS handshake failed");
    case Failure::NetworkUnavailable:
        return QStringLiteral("the network is unavailable");
    case Failure::Proxy:
        return QStringLiteral("the proxy failed");
    case Failure::MalformedResponse:
        return QStringLiteral("the server sent a malformed HTTP response");
    case Failure::None:
    case Failure::Other:
        break;
    }
    return QStringLiteral("the network request failed");
}

} // namespace mcpbroker::http
