#pragma once

#include "Result.h"
#include "store/ServerConfig.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

namespace mcpbroker::app {

// The remote servers of an MCP client's JSON config ("mcpServers" of Claude Desktop, Cursor,
// Windsurf, Claude Code; "servers" of VS Code), as servers MCP Broker can add: each entry with
// an http(s) "url" (or "serverUrl"), under a valid server name (lowercased, other characters
// made '-') that is not taken yet. Secrets are never copied: headers and env stay behind, and a
// note says how to give them to MCP Broker. Commands (stdio servers), SSE servers, URLs that
// carry a credential and MCP Broker's own entries are skipped, each with a note.
namespace ClientServerImport {

struct Plan
{
    QList<store::ServerConfig> servers; // to add, in the file's order
    QStringList added;                  // one line per server: what was added
    QStringList notes;                  // one sentence per server skipped or added without secrets
};

// `path` names the file in messages. The error says where the file is not valid JSON, or that
// it has no servers object; it never quotes the file.
Result<Plan> plan(const QByteArray &contents, const QString &path,
                  const store::BrokerConfig &config);

// A name from another client's file as an MCP Broker server name: "My_Server" → "my-server".
QString serverNameFor(const QString &name);

} // namespace ClientServerImport
} // namespace mcpbroker::app
