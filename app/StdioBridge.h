#pragma once

#include "Result.h"

#include <QObject>
#include <QUrl>

#include <memory>

namespace mcpbroker::app {

class StdioBridgeGrant;

// The MCP stdio transport (2025-11-25, basic/transports) on one side, the broker's Streamable
// HTTP endpoint on the other: each line of the input is one JSON-RPC message, POSTed as it is
// (Mcp-Session-Id and MCP-Protocol-Version from the initialize exchange, the grant's
// Authorization); the messages of the answers (JSON or SSE) and of the session's GET stream
// are written to the output, one line each. Messages reach the broker in the order they were
// read: the next POST leaves once the broker has taken the one before (its status is in).
// Only JSON-RPC goes to the output; sentences for a person go to stderr (a refused initialize)
// or come with `finished`'s error.
//
// It ends, with `finished`, after the input ended and the answers still due came in (or
// kDrainTimeoutMs passed), or after stop(): both end the session with DELETE. It ends with an
// error when the broker goes away, ends the session or revokes the grant: requests still
// waiting for an answer then get a JSON-RPC error saying so.
class StdioBridge : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QUrl endpoint; // http://127.0.0.1:<port>/mcp or /mcp/<server>
        int inputFd = 0;
        int outputFd = 1;
        int answerTimeoutMs = 60'000; // until the broker answers a POST with its status
        int deleteTimeoutMs = 2'000;
        int drainTimeoutMs = 10'000; // after the end of the input, for answers still due
    };

    // JSON-RPC error code of the answers to requests the broker can no longer answer.
    static constexpr int kBridgeErrorCode = -32000;

    StdioBridge(Options options, StdioBridgeGrant *grant, QObject *parent = nullptr);
    ~StdioBridge() override;

    void start();
    // Ends at once (a termination signal): the session is ended, answers due are not awaited.
    void stop();

Q_SIGNALS:
    void finished(const mcpbroker::Result<void> &result);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::app
