#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace mcpbroker::oauth {

// The error answer of an OAuth endpoint: RFC 6749 §5.2 (token endpoint), which
// RFC 7591 §3.2.2 (registration) and RFC 7009 §2.2.1 (revocation) reuse. Both
// fields come from another party and end up in sentences a user reads and in
// logs: they are cut to printable text of bounded length, and every value from
// `secrets` (what we sent: codes, tokens, client secrets) is replaced by
// "[redacted]", so a server echoing our request cannot make us leak it.
struct OAuthErrorResponse
{
    QString error; // e.g. "invalid_grant"
    QString errorDescription; // may be empty

    // Nullopt when `body` is not a JSON object with a string "error".
    static std::optional<OAuthErrorResponse> fromJson(const QByteArray &body,
                                                      const QList<QByteArray> &secrets = {});

    // "invalid_grant: The refresh token has expired" or "invalid_grant".
    QString summary() const;
};

} // namespace mcpbroker::oauth
