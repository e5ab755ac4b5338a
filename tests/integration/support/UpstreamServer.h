#pragma once

#include "PeerProcess.h"

#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace mcpbroker::integration {

// A real upstream MCP server run by the pinned Node 22: the SDK-based fixture-server.mjs or
// hanging-upstream.mjs (both bind port 0 and print "LISTENING <port>") or
// @modelcontextprotocol/server-everything in Streamable HTTP mode (cannot report an ephemeral
// port, so it gets one reserved here, and prints "MCP Streamable HTTP Server listening on port
// <port>" on stderr). Start several, then wait for each: they boot in parallel.
class UpstreamServer
{
public:
    static constexpr int kStartTimeoutMs = 20'000;

    static std::unique_ptr<UpstreamServer> fixture(const QString &name,
                                                   const QStringList &extraArguments = {});
    static std::unique_ptr<UpstreamServer> everything();
    // hanging-upstream.mjs: a tool `hang` that never returns, or (`hangInitialize`) no answer
    // to anything.
    static std::unique_ptr<UpstreamServer> hanging(bool hangInitialize = false);

    void start();
    // Starts it again, after kill(), on the port it had (a new process, fresh state); wait
    // with waitUntilListening().
    void restartOnSamePort();
    bool waitUntilListening(int timeoutMs = kStartTimeoutMs);
    QUrl url() const; // http://127.0.0.1:<port>/mcp
    quint16 port() const { return m_port; }
    PeerProcess &process() { return *m_process; }
    void kill() { m_process->kill(); }
    QString diagnostics() const { return m_process->diagnostics(); }

private:
    enum class Kind { Fixture, Everything, Hanging };
    UpstreamServer(Kind kind, std::unique_ptr<PeerProcess> process, quint16 port);
    // A node process for `script` with `arguments`, its port from --port (0: any).
    static std::unique_ptr<PeerProcess> nodeProcess(const QString &label, const QString &script,
                                                    const QStringList &arguments);

    Kind m_kind;
    std::unique_ptr<PeerProcess> m_process;
    quint16 m_port = 0;
};

} // namespace mcpbroker::integration
