#pragma once

#include "PeerProcess.h"

#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace mcpbroker::integration {

// A real upstream MCP server run by the pinned Node 22: the SDK-based fixture-server.mjs (binds
// port 0 and prints "LISTENING <port>") or @modelcontextprotocol/server-everything in Streamable
// HTTP mode (cannot report an ephemeral port, so it gets one reserved here, and prints
// "MCP Streamable HTTP Server listening on port <port>" on stderr). Start several, then wait
// for each: they boot in parallel.
class UpstreamServer
{
public:
    static constexpr int kStartTimeoutMs = 20'000;

    static std::unique_ptr<UpstreamServer> fixture(const QString &name,
                                                   const QStringList &extraArguments = {});
    static std::unique_ptr<UpstreamServer> everything();

    void start();
    bool waitUntilListening(int timeoutMs = kStartTimeoutMs);
    QUrl url() const; // http://127.0.0.1:<port>/mcp
    quint16 port() const { return m_port; }
    PeerProcess &process() { return *m_process; }
    void kill() { m_process->kill(); }
    QString diagnostics() const { return m_process->diagnostics(); }

private:
    enum class Kind { Fixture, Everything };
    UpstreamServer(Kind kind, std::unique_ptr<PeerProcess> process, quint16 port);

    Kind m_kind;
    std::unique_ptr<PeerProcess> m_process;
    quint16 m_port = 0;
};

} // namespace mcpbroker::integration
