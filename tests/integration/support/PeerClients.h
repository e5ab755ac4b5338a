#pragma once

#include "PeerProcess.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace mcpbroker::integration {

// Real downstream clients of the broker, run to completion.

struct ToolCall
{
    QString name;
    QJsonObject arguments;
};

// tests/peers/two-upstreams-client.mjs: the SDK's Client over Streamable HTTP. Connects, lists
// all tools, calls each ToolCall, ends the session, prints {"tools": [...], "calls": {...}}.
struct SdkClientRun
{
    ProcessRun process;
    QJsonObject output; // the JSON it printed (it prints it even when a step failed)

    bool succeeded() const { return process.succeeded(); }
    QStringList tools() const;
    QJsonObject call(const QString &name) const; // the CallToolResult for `name`
    QString callText(const QString &name) const; // its text content blocks, joined by '\n'
    QString describe() const { return process.describe(); }
};

struct SdkClientOptions
{
    QStringList headers; // "K: V", sent on every request (on its command line: nothing secret)
    // Sent as "Authorization: Bearer <token>" on every request (the broker's grant), unless
    // `headers` names an Authorization; handed over in the environment. Empty: none.
    QByteArray bearerToken;
    bool allowToolError = false;
    int timeoutMs = 60'000;
};

SdkClientRun runSdkClient(const QUrl &url, const QList<ToolCall> &calls = {},
                          const SdkClientOptions &options = {});

// @modelcontextprotocol/inspector-cli: `<url> --transport http --method M [more]`; prints the
// method's result as JSON. With a `bearerToken` (the broker's grant) its requests to the origin
// of `url` carry "Authorization: Bearer <token>": inspector-cli takes headers only on its
// command line, so tests/peers/add-authorization.cjs adds it from the environment instead.
struct InspectorRun
{
    ProcessRun process;
    QJsonObject output;
    QString describe() const { return process.describe(); }
};

InspectorRun runInspectorCli(const QUrl &url, const QByteArray &bearerToken, const QString &method,
                             const QStringList &moreArguments = {}, int timeoutMs = 60'000);

// tests/peers/run-conformance-server.sh: the conformance suite's server scenarios.
struct ConformanceRun
{
    ProcessRun process;
    QString summary() const; // its "N passed, N failed" line, or empty
    int passed() const;      // the numbers in that line; -1 when there is none
    int failed() const;
    QString describe() const { return process.describe(); }
};

struct ConformanceOptions
{
    QString resultsDirectory;
    QString expectedFailuresFile; // empty: none
    QString scenario;             // empty: all 32
    // The broker's grant: the suite's requests to the origin of the URL carry
    // "Authorization: Bearer <token>" (tests/peers/add-authorization.cjs). Empty: none.
    QByteArray bearerToken;
    int timeoutMs = 240'000;
};

ConformanceRun runConformance(const QUrl &url, const ConformanceOptions &options);

} // namespace mcpbroker::integration
