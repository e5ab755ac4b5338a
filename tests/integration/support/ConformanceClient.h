#pragma once

#include "PeerProcess.h"

#include <QList>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

// The conformance suite (@modelcontextprotocol/conformance) as a judge of a client: it starts a
// scenario's MCP server (and authorization server), runs a command against it and records what
// that command did as checks.
namespace mcpbroker::integration {

// One entry of a scenario's checks.json.
struct ConformanceCheck
{
    QString id;
    QString status; // SUCCESS, FAILURE, WARNING or INFO
    QString description;
    QString errorMessage;

    // FAILURE and WARNING both fail a scenario (the suite's own rule).
    bool isFailing() const;
    QString describe() const; // "id WARNING: description (errorMessage)"
};

// One run of `conformance client --command CMD --scenario S -o DIR`.
struct ConformanceClientRun
{
    QString scenario;
    ProcessRun process;      // the suite itself
    QString resultDirectory; // DIR/auth/<name>-<time>/ (checks.json, stdout.txt, stderr.txt)
    QList<ConformanceCheck> checks;
    QString checksError;      // why no checks could be read; empty when they were
    QString clientOutcome;    // "exited with code N", "timed out after N ms" or empty (exit 0)
    int browserLaunches = -1; // lines in the browser log; -1 when no log was asked for

    // The suite exited 0 (no FAILURE or WARNING check; the client neither timed out nor exited
    // non-zero where that is not allowed) and its checks were read.
    bool passed() const;
    QList<ConformanceCheck> failingChecks() const;
    QString clientStandardError() const; // the stderr.txt the suite kept, empty when none
    // For failure messages: failing checks, the client's outcome and the end of its stderr.
    QString describe() const;
};

struct ConformanceClientOptions
{
    // CMD. The suite runs `/bin/sh -c "CMD <server-url>"`: quote for the shell, and start
    // with `exec` so that its SIGTERM at the timeout reaches the command.
    QString command;
    QString resultsDirectory;        // emptied, then DIR for -o
    QProcessEnvironment environment; // of the suite, and so of the command
    QString browserLog;              // when set, counted into browserLaunches afterwards
    int suiteTimeoutMs = 30'000;     // the suite's --timeout for the command (its default)
    int timeoutMs = 60'000;          // for the whole run, then the suite's group is killed
};

namespace ConformanceSuite {
QString script(); // node_modules/@modelcontextprotocol/conformance/dist/index.js
// Single-quoted for /bin/sh.
QString shellQuoted(const QString &text);
// The names listed under `client:` in an expected-failures file in the suite's baseline
// format (`client:` / `  - auth/xyz`, comments allowed). On a line it cannot read, `error`
// says which and the list is empty.
QStringList expectedClientFailures(const QString &path, QString *error);
} // namespace ConformanceSuite

ConformanceClientRun runConformanceClient(const QString &scenario,
                                          const ConformanceClientOptions &options);

} // namespace mcpbroker::integration
