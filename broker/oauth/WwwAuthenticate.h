#pragma once

#include "Result.h"

#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace mcpbroker::oauth {

// One challenge of a WWW-Authenticate header (RFC 9110 §11.6.1). Scheme and parameter names are
// case-insensitive: both are stored lower-cased. Values keep their case, quotes and escapes
// removed. A challenge carries either a token68 or parameters, never both.
struct AuthChallenge
{
    QString scheme; // lower case, e.g. "bearer"
    QString token68;
    QList<QPair<QString, QString>> params; // (lower-cased name, value), in header order

    // The value of parameter `name` (any case), or a null QString when absent.
    QString param(QStringView name) const;
};

// What a Bearer challenge tells an OAuth client (RFC 6750 §3, RFC 9728 §5.1). Absent
// parameters are null strings.
struct BearerChallenge
{
    QString realm;
    QString resourceMetadata; // RFC 9728: URL of the protected resource metadata
    QString scope;            // space-delimited, authoritative for the failed request (MCP)
    QString error;            // invalid_request, invalid_token, insufficient_scope, …
    QString errorDescription; // for developers, not for users

    QStringList scopes() const; // `scope` split on spaces
};

// Parser for the value of WWW-Authenticate (several header lines joined with ", " are one
// value). Hostile input never crashes it: a syntax error ends parsing, and what was read before
// it is kept; only input that yields no challenge at all is an Error.
class WwwAuthenticate
{
public:
    static Result<QList<AuthChallenge>> parse(QByteArrayView headerValue);
    // The first Bearer challenge; Error (NotFound) when there is none.
    static Result<BearerChallenge> bearer(QByteArrayView headerValue);
};

} // namespace mcpbroker::oauth
