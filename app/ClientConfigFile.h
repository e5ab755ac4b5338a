#pragma once

#include "ClientConfigs.h"
#include "Result.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <memory>

namespace mcpbroker::app {

class ConfigMerger;

// One MCP client's config file, as `connect`, `disconnect` (and their tests) change it: read
// once, server entries changed in memory, written back only when something changed — after a
// timestamped backup of the old file next to it, atomically (store::AtomicFile). A file that
// cannot be parsed is refused and never written. A new file is created with mode 0600 (and its
// folders with 0700); an existing one keeps its mode.
class ClientConfigFile
{
public:
    enum class Put { Added, Replaced, Unchanged };

    struct Saved
    {
        bool written = false; // false: nothing changed, the file is as it was
        bool created = false; // the file did not exist before
        QString backupPath;   // the old file's copy; empty when there was none
    };

    ~ClientConfigFile();

    // Reads `path` (a missing file is an empty document). The error is one or two sentences
    // naming the file: unreadable, or not valid JSON/TOML (where), and that it was left as it
    // was.
    static Result<std::unique_ptr<ClientConfigFile>> open(const ClientProfile &client,
                                                          const QString &path);

    const ClientProfile &client() const { return m_client; }
    QString path() const { return m_path; }
    bool exists() const { return m_exists; }

    QStringList entryNames() const;
    std::optional<nlohmann::ordered_json> entry(const QString &name) const;
    // "mcp-broker" or "mcp-broker-…" and pointing at a broker (ClientConfigs::pointsAtBroker).
    bool isBrokerEntry(const QString &name) const;
    // Every broker entry in the file, in the file's order.
    QStringList brokerEntryNames() const;

    // Sets `name` to `entry` unless it already says the same (key order aside).
    Put put(const QString &name, const nlohmann::ordered_json &entry);
    bool remove(const QString &name);
    bool changed() const { return m_changed; }

    // Writes the document when changed(); see the class comment.
    Result<Saved> save();
    // What rewriting the file loses (comments, key order); empty when nothing.
    QString rewriteNote() const;

    // "The old file is kept as BACKUP." and `rewriteNote`, for the user; empty without backup.
    static QString keptNote(const Saved &saved, const QString &rewriteNote);
    // "<path>.mcp-broker-backup-<yyyyMMddTHHmmss, UTC>".
    static QString backupPathFor(const QString &path, const QDateTime &time);

private:
    ClientConfigFile(const ClientProfile &client, QString path);

    ClientProfile m_client;
    QString m_path;
    QByteArray m_original;
    bool m_exists = false;
    bool m_changed = false;
    std::unique_ptr<ConfigMerger> m_document;
};

} // namespace mcpbroker::app
