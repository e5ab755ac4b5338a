#include "http/HttpRequest.h"

namespace mcpbroker::http {

namespace {

bool sameName(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && a.compare(b, Qt::CaseInsensitive) == 0;
}

} // namespace

QByteArray HttpRequest::header(QByteArrayView name) const
{
    for (const auto &[headerName, value] : headers) {
        if (sameName(headerName, name))
            return value;
    }
    return {};
}

bool HttpRequest::hasHeader(QByteArrayView name) const
{
    for (const auto &entry : headers) {
        if (sameName(entry.first, name))
            return true;
    }
    return false;
}

QByteArray HttpRequest::headerList(QByteArrayView name) const
{
    QByteArray joined;
    bool first = true;
    for (const auto &[headerName, value] : headers) {
        if (!sameName(headerName, name))
            continue;
        if (!first)
            joined += ", ";
        joined += value;
        first = false;
    }
    return joined;
}

} // namespace mcpbroker::http
