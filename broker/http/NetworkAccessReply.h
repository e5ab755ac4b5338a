#pragma once

#include "http/ClientReply.h"

class QNetworkReply;

namespace mcpbroker::http {

// A ClientReply carried by QNetworkAccessManager: for TLS, proxies and anything else
// HttpClient's own connections do not do. Owns the QNetworkReply.
class NetworkAccessReply : public ClientReply
{
    Q_OBJECT
public:
    NetworkAccessReply(QNetworkReply *reply, QObject *parent);
    ~NetworkAccessReply() override;

    int status() const override;
    QByteArray reasonPhrase() const override;
    QByteArray header(QByteArrayView name) const override;
    qint64 bytesAvailable() const override;
    QByteArray readAll() override;
    Failure failure() const override;
    bool isRunning() const override;
    void abort() override;

private:
    QNetworkReply *m_reply;
};

} // namespace mcpbroker::http
