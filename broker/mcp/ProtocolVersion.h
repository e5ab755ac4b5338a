#pragma once

#include <QString>
#include <QStringList>

namespace mcpbroker::mcp {

// MCP protocol revisions this broker speaks, newest first.
namespace ProtocolVersion {
inline const QString kLatest = QStringLiteral("2025-11-25");
inline const QString k2025_06_18 = QStringLiteral("2025-06-18");
inline const QString k2025_03_26 = QStringLiteral("2025-03-26");

inline QStringList supported() { return {kLatest, k2025_06_18, k2025_03_26}; }
inline bool isSupported(const QString &version) { return supported().contains(version); }
// Lifecycle: answer with the client's version when we support it, else our latest.
inline QString negotiate(const QString &requested)
{
    return isSupported(requested) ? requested : kLatest;
}
// JSON-RPC batches were allowed only in 2025-03-26 (removed in 2025-06-18).
inline bool allowsBatching(const QString &version) { return version == k2025_03_26; }
} // namespace ProtocolVersion

} // namespace mcpbroker::mcp
