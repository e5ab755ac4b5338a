#pragma once

#include "Result.h"

#include <QList>
#include <QUrl>

// Where to look for OAuth metadata, in the order the MCP 2025-11-25 authorization spec
// ("Protected Resource Metadata Discovery Requirements", "Authorization Server Metadata
// Discovery") says to try them. Pure functions: they build URLs, they fetch nothing. The first
// URL that answers with valid metadata wins; the caller moves on after a 4xx or bad document.
namespace mcpbroker::oauth::WellKnownUrls {

// RFC 9728 §3.1, for an MCP server URL:
//   1. /.well-known/oauth-protected-resource inserted between the host and the path (and
//      query), when the server URL has a path: https://h/.well-known/oauth-protected-resource/mcp
//   2. the root: https://h/.well-known/oauth-protected-resource
// (A resource_metadata URL from a WWW-Authenticate challenge comes before both; that is the
// caller's to add.) Error when `serverUrl` is not an absolute http(s) URL.
Result<QList<QUrl>> protectedResourceMetadata(const QUrl &serverUrl);

// RFC 8414 §3.1 and OpenID Connect Discovery 1.0 §4, for an issuer identifier:
//   with a path (https://h/tenant1):  https://h/.well-known/oauth-authorization-server/tenant1,
//                                     https://h/.well-known/openid-configuration/tenant1,
//                                     https://h/tenant1/.well-known/openid-configuration
//   without a path (https://h):       https://h/.well-known/oauth-authorization-server,
//                                     https://h/.well-known/openid-configuration
// A terminating "/" of the issuer's path is removed first. Error when `issuer` is not an
// absolute http(s) URL, or has a query or fragment (RFC 8414 §2: an issuer has neither).
Result<QList<QUrl>> authorizationServerMetadata(const QUrl &issuer);

} // namespace mcpbroker::oauth::WellKnownUrls
