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

// One run of `mcp-broker grant create`: the token it printed, and the run with that token
// withheld from its output (so describe() can go into a failure message).
struct GrantCreation
{
    CliResult cli;    // stdout and stderr with every "mcpb_…" token replaced by a placeholder
    QByteArray token; // "mcpb_<id>_<secret>"; empty unless exactly one token line was printed
    bool tokenOnStandardError = false; // stderr held a token too (a leak; withheld from `cli`)

    bool succeeded() const { return cli.succeeded() && !token.isEmpty(); }
    QString describe() const { return cli.describe(); }
};

// A secret given to `mcp-broker add` on stdin.
struct SecretHeader
{
    QByteArray name; // e.g. "X-Api-Key"
    QByteArray value;
};

// The broker under test: the real `mcp-broker` binary with a config file of its own in a
// temporary directory (`--config FILE` on every command). Runs CLI commands to completion and
// `serve --port 0` in the background, reading the port from its one stdout line.
//
// Every client of the broker's endpoint needs a grant: the first start() makes one with
// `grant create` (client "integration-tests", every server) unless told not to, and token() /
// authorization() give it to the test's clients. Tokens travel in memory and in environment
// variables only, never on a command line; no diagnostics here print them.
class BrokerProcess
{
public:
    static constexpr int kCliTimeoutMs = 30'000;
    static constexpr int kStartTimeoutMs = 20'000;

    BrokerProcess();
    ~BrokerProcess(); // kills `serve` if still running

    QString configPath() const;
    QString configDirectory() const;
    // Replaces the config file with `bytes` (a test's own config, valid or not).
    bool writeConfig(const QByteArray &bytes) const;
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

    // `grant create CLIENT [--server S]... [--expires-in E]` (E like "90s", "30m", "12h", "30d").
    GrantCreation createGrant(const QString &client, const QStringList &servers = {},
                              const QString &expiresIn = {}) const;
    // `grant revoke NAME_OR_ID`.
    CliResult revokeGrant(const QString &clientOrId) const;

    // Whether the first start() makes the default grant (default: yes). Set before start().
    void setDefaultGrant(bool make) { m_makeDefaultGrant = make; }
    // Makes the default grant now if it is due (start() does it otherwise), e.g. while the
    // keychain still works or the config file is still valid; true when there is one.
    bool makeDefaultGrant();
    // The default grant's token (empty before the first start() or without a default grant).
    QByteArray token() const { return m_token; }
    // {"Authorization", "Bearer <token()>"}, or nothing when there is no token.
    RawHeaders authorization() const;

    // Makes the default grant if due (once per BrokerProcess: restarts keep it), then
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

    // The entry of server `name` in one GET /status (with the default grant; no waiting), or
    // an empty object.
    QJsonObject serverStatus(const QString &name) const;

    // Polls GET /status (QTRY-style) until every named server has the given state
    // ("ready", "failed", …). On failure `lastStatus` holds the last answer.
    bool waitForServerStates(const QMap<QString, QString> &wanted, int timeoutMs,
                             QString *lastStatus);
    bool waitUntilReady(const QStringList &servers, int timeoutMs, QString *lastStatus);

    // The broker's stdout/stderr and what it was started with (or why the default grant could
    // not be made), for failure messages.
    QString diagnostics() const;

private:
    std::unique_ptr<PeerProcess> makeProcess(const QString &label,
                                             const QStringList &arguments) const;

    QTemporaryDir m_directory;
    QProcessEnvironment m_environment;
    QStringList m_launcher;
    std::unique_ptr<PeerProcess> m_serve;
    quint16 m_port = 0;
    bool m_makeDefaultGrant = true;
    QByteArray m_token;
    QString m_grantFailure;
};

} // namespace mcpbroker::integration
