#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>

namespace mcpbroker::app {

struct ClientProfile;

// A client's config document, parsed, in which MCP Broker changes server entries (the object
// or table under one key) and nothing else: other entries and unknown keys stay as they are.
// Entries are handed in and out as JSON whatever the file's format.
class ConfigMerger
{
public:
    virtual ~ConfigMerger() = default;

    // The merger for `client`'s format (JSON or TOML).
    static std::unique_ptr<ConfigMerger> create(const ClientProfile &client);

    // Parses `contents`; empty (or blank) contents are an empty document. The error is one
    // sentence naming `path` and where the problem is, without quoting the file (it may hold
    // secrets).
    virtual Result<void> load(const QByteArray &contents, const QString &path) = 0;

    virtual QStringList entryNames() const = 0;
    virtual std::optional<nlohmann::ordered_json> entry(const QString &name) const = 0;
    // Adds or replaces one entry (in place, when it was there).
    virtual void setEntry(const QString &name, const nlohmann::ordered_json &entry) = 0;
    virtual bool removeEntry(const QString &name) = 0;

    // The whole document as it is to be written.
    virtual QByteArray contents() const = 0;
    // What rewriting the document loses (comments, the order of keys); empty when nothing.
    virtual QString rewriteNote() const = 0;
};

} // namespace mcpbroker::app
