#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace mcpbroker::oauth {

// OAuth 2.0 Protected Resource Metadata (RFC 9728 §2) of one MCP server, validated.
struct ProtectedResourceMetadata
{
    QUrl resource;                    // equals the MCP server's URL (RFC 9728 §3.3)
    QStringList authorizationServers; // issuer identifiers, exactly as published; never empty
    QStringList scopesSupported;      // empty when the server does not say
    QStringList bearerMethodsSupported;
    QString resourceName; // human-readable, may be empty

    // Parses and validates a metadata document fetched for the MCP server at `serverUrl`:
    // `resource` must be that URL (compared in canonical form: scheme and host case, default
    // port, a trailing "/" do not matter) or, same origin, a path above it (see describes()); `authorization_servers` must list at least one
    // https issuer (http only to this computer) without query or fragment.
    static Result<ProtectedResourceMetadata> fromJson(const QByteArray &json,
                                                      const QUrl &serverUrl);

    // The form in which resource identifiers are compared and sent as RFC 8707 `resource`:
    // lower-case scheme and host, no default port, no fragment or user info, no trailing "/".
    static QUrl canonicalResource(const QUrl &url);
    // Whether metadata naming `resource` may be used for the server at `serverUrl`.
    static bool describes(const QUrl &resource, const QUrl &serverUrl);
};

} // namespace mcpbroker::oauth
