#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QUrlQuery>

namespace mcpbroker::http {

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

// One parsed HTTP/1.1 request. Header names keep their original spelling; look them up
// with header(), which compares case-insensitively (RFC 9110 §5.1).
struct HttpRequest
{
    QByteArray method;    // "GET", "POST", … as sent (methods are case-sensitive)
    QByteArray target;    // raw request-target, e.g. "/mcp/github?x=1"
    QString path;         // percent-decoded path of the target, e.g. "/mcp/github"
    QUrlQuery query;      // query of the target
    int versionMinor = 1; // HTTP/1.<versionMinor>
    HeaderList headers;
    QByteArray body;      // de-chunked
    QHostAddress peerAddress;

    // First value of the header `name`, or an empty array when absent.
    QByteArray header(QByteArrayView name) const;
    bool hasHeader(QByteArrayView name) const;
    // All values of `name` joined by ", " (RFC 9110 §5.3 list semantics).
    QByteArray headerList(QByteArrayView name) const;
};

} // namespace mcpbroker::http
