#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

// The pieces of HTTP/1.1 syntax (RFC 9110 §5, RFC 9112) that the request and the response parser
// both read. Pure functions.
namespace mcpbroker::http::syntax {

// RFC 9110 §5.6.2: a token, as field names and transfer-codings are.
bool isToken(QByteArrayView text);
// RFC 9110 §5.5: VCHAR, obs-text, SP and HTAB; no other controls, so no bare CR either.
bool isFieldValue(QByteArrayView text);
// OWS: SP or HTAB.
bool isWhitespace(char c);
QByteArray trimmedOws(QByteArrayView text);
// 0–15 for a hex digit, else -1.
int hexValue(char c);
// The non-empty elements of a comma-separated field value (RFC 9110 §5.6.1), OWS trimmed.
QList<QByteArray> listElements(const QByteArray &value);

} // namespace mcpbroker::http::syntax
