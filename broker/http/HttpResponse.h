#pragma once

#include "http/HttpRequest.h"

#include <QByteArray>

namespace mcpbroker::http {

struct HttpResponse
{
    int status = 200;
    HeaderList headers;
    QByteArray body;

    static HttpResponse json(int status, QByteArray body);
    static HttpResponse text(int status, QByteArray body); // text/plain; charset=utf-8
    static HttpResponse empty(int status);

    HttpResponse &withHeader(QByteArray name, QByteArray value);
};

// "OK", "Not Found", … for a status code; "Unknown" when we have no phrase for it.
QByteArray reasonPhrase(int status);

} // namespace mcpbroker::http
