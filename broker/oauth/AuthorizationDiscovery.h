#pragma once

#include "Result.h"
#include "oauth/AuthorizationServerMetadata.h"
#include "oauth/ProtectedResourceMetadata.h"
#include "oauth/WwwAuthenticate.h"

#include <QObject>
#include <QStringList>
#include <QUrl>

#include <memory>
#include <optional>

class QNetworkAccessManager;

namespace mcpbroker::oauth {

// Where and how to sign in for one MCP server: what discovery found.
struct Discovered
{
    // The server's RFC 9728 metadata; absent when it publishes none (the 2025-03-26 fallback).
    std::optional<ProtectedResourceMetadata> resource;
    AuthorizationServerMetadata server;
    // The challenge's scope, else the metadata's scopes_supported, else empty.
    QStringList scopes;
    // True when the server publishes no protected resource metadata and its origin was taken
    // as the authorization server, as MCP 2025-03-26 did.
    bool legacyFallback = false;
};

// Finds the authorization server of an MCP server and reads its metadata.
//
// MCP 2025-11-25: the protected resource metadata is fetched from the challenge's
// resource_metadata URL, then from the RFC 9728 well-known URLs (path-aware, then root); the
// first authorization server it lists is asked for metadata at the WellKnownUrls addresses,
// in order. A URL that answers 4xx, or 2xx with something other than a JSON object (an HTML
// catch-all page), is passed over; a document that fails validation, a 5xx and a transport
// failure end discovery with that error.
//
// MCP 2025-03-26 fallback, only when no protected resource metadata URL had a document: the
// server's origin is the authorization server; its metadata is read at the origin's
// well-known URLs, and when there is none, the default endpoints /authorize, /token and
// /register are assumed (with PKCE S256).
//
// Single use: call start() once. `timeoutMs` bounds each request.
class AuthorizationDiscovery : public QObject
{
    Q_OBJECT
public:
    static constexpr int kDefaultTimeoutMs = 30'000;

    explicit AuthorizationDiscovery(QNetworkAccessManager *network,
                                    int timeoutMs = kDefaultTimeoutMs, QObject *parent = nullptr);
    ~AuthorizationDiscovery() override;

    // For the client_credentials grant: metadata without an authorization endpoint or PKCE
    // is fine. Call before start().
    void setAuthorizationCodeRequired(bool required);
    // `challenge`: the Bearer challenge of the server's 401, when there was one.
    void start(const QUrl &mcpServerUrl, const std::optional<BearerChallenge> &challenge);
    // Ends discovery with a Cancelled error (no-op once finished).
    void abort();

Q_SIGNALS:
    // Exactly once per start(), unless destroyed first. Errors: InvalidInput (not an http(s)
    // server URL), Unreachable (connection failed, or HTTP 5xx), Timeout, Protocol (metadata
    // that cannot be used, or none from the authorization server), Cancelled.
    void finished(const mcpbroker::Result<mcpbroker::oauth::Discovered> &discovered);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::oauth
