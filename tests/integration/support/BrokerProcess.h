#pragma once

#include "McpHttp.h"
#include "PeerProcess.h"

#include <QByteArray>
#include <QJsonObject>
#include <QProcessEnvironment>
#include <QStringList>
#include <QTemporaryDir>
#include <QUrl>

#include <memory>
#include <optional>

namespace mcpbroker::integration {

// One finished run of a `mcp-broker` command.
using CliResult = ProcessRun;

// A secret given to `mcp-broker add` on stdin.
struct SecretHeader
{
    QByteArray name; // e.g. "X-Api-Key"
    QByteArray value;
};

// The broker under test: the real `mcp-broker` binary with a config file of its own in a
// temporary directory (`--config FILE` on every command). Runs CLI commands to completion and
// `serve --port 0` in the background, reading the port from its one stdout line.
class BrokerProcess
{
public:
    static constexpr int kCliTimeoutMs = 30'000;
    static constexpr int kStartTimeoutMs = 20'000;

    BrokerProcess();
    ~BrokerProcess(); // kills `serve` if still running

    QString configPath() const;
    QString configDirectory() const;
    // The environment of every command (the test's own, plus what is set here).
    QProcessEnvironment &environment() { return m_environment; }
    // Runs every command through a launcher, `LAUNCHER… mcp-broker ARGS…` (e.g. a D-Bus session
    // without a keychain); empty: directly.
    void setLauncher(const QStringList &launcher) { m_launcher = launcher; }

    CliResult run(const QStringList &arguments, const QByteArray &standardInput = {},
                  int timeoutMs = kCliTimeoutMs) const;
    // `add NAME URL [--bearer-stdin] [--header-stdin H]... [--header 'K: V']...`, the bearer
    // first then each header's value on stdin, one line each.
    CliResult add(const QString &name, const QUrl &url,
                  const std::optional<QByteArray> &bearer = {},
                  const QList<SecretHeader> &secretHeaders = {},
                  const QStringList &plainHeaders = {}) const;

    // `serve --port 0`; true once it printed "MCP Broker listening on http://127.0.0.1:<port>/mcp".
    bool start(const QStringList &extraServeArguments = {}, int timeoutMs = kStartTimeoutMs);
    bool isRunning() const;
    // SIGTERM; true when it exited by itself within the deadline.
    bool stop(int timeoutMs = 10'000);
    PeerProcess *serveProcess() const { return m_serve.get(); }

    quint16 port() const { return m_port; }
    QUrl endpoint() const;                          // /mcp (aggregated)
    QUrl serverEndpoint(const QString &name) const; // /mcp/<name>
    QUrl statusUrl() const;                         // /status

    // Polls GET /status (QTRY-style) until every named server has the given state
    // ("ready", "failed", …). On failure `lastStatus` holds the last answer.
    bool waitForServerStates(const QMap<QString, QString> &wanted, int timeoutMs,
                             QString *lastStatus);
    bool waitUntilReady(const QStringList &servers, int timeoutMs, QString *lastStatus);

    // The broker's stdout/stderr and what it was started with, for failure messages.
    QString diagnostics() const;

private:
    std::unique_ptr<PeerProcess> makeProcess(const QString &label,
                                             const QStringList &arguments) const;

    QTemporaryDir m_directory;
    QProcessEnvironment m_environment;
    QStringList m_launcher;
    std::unique_ptr<PeerProcess> m_serve;
    quint16 m_port = 0;
};

} // namespace mcpbroker::integration
