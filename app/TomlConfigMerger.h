#pragma once

#include "ConfigMerger.h"

#include <memory>

namespace mcpbroker::app {

// A TOML client config (Codex's config.toml), read and written with toml++. toml++ keeps the
// data, not the text: a rewrite loses comments and sorts keys (rewriteNote() says so, and the
// backup keeps the original). Entries are tables; tables inside them are written inline.
class TomlConfigMerger : public ConfigMerger
{
public:
    explicit TomlConfigMerger(const QString &serversKey);
    ~TomlConfigMerger() override;

    Result<void> load(const QByteArray &contents, const QString &path) override;
    QStringList entryNames() const override;
    std::optional<nlohmann::ordered_json> entry(const QString &name) const override;
    void setEntry(const QString &name, const nlohmann::ordered_json &entry) override;
    bool removeEntry(const QString &name) override;
    QByteArray contents() const override;
    QString rewriteNote() const override;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::app
