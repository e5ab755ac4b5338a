#pragma once

#include "Result.h"

#include <QByteArray>

#include <functional>

namespace mcpbroker::mcp {

// The credentials of every request a StreamableHttpClient sends to one upstream, and what to
// do when the upstream refuses them. Before it sends, the client waits for whenReady(); it
// then asks for the Authorization header as it builds the request (a cached value), and on
// HTTP 401 or 403 hands the refusal here; when recover() succeeds the request is sent again
// with the new header.
class RequestAuthorizer
{
public:
    virtual ~RequestAuthorizer() = default;

    // Calls `ready` once authorization() is worth asking for: at once, inside the call, when
    // there is a current header or nothing to wait for; later, on the event loop, while the
    // credentials are being renewed, so that no request goes out without them meanwhile.
    virtual void whenReady(std::function<void()> ready) { ready(); }

    // The Authorization header value for the next request ("Bearer …"); empty: none. Secret.
    virtual QByteArray authorization() const = 0;

    // The upstream answered `status` (401 or 403) with this WWW-Authenticate value to a request
    // sent with `usedAuthorization`. Answers exactly once, on the event loop: success when the
    // request should be sent again, else the error the request fails with.
    virtual void recover(int status, const QByteArray &wwwAuthenticate,
                         const QByteArray &usedAuthorization,
                         std::function<void(Result<void>)> done)
            = 0;
};

} // namespace mcpbroker::mcp
