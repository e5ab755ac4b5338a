#pragma once

#include "ConfigMerger.h"

#include <string>

namespace mcpbroker::app {

// A JSON client config (Claude Code, Cursor, VS Code, Windsurf, Claude Desktop). Keys keep their
// order; the document is written with a 2-space indent, as those clients write it, and ends with
// a line break when the file did. Comments, where the client allows them (VS Code), are read but
// cannot be written back: rewriteNote() says so.
class JsonConfigMerger : public ConfigMerger
{
public:
    JsonConfigMerger(const QString &serversKey, bool allowsComments);

    Result<void> load(const QByteArray &contents, const QString &path) override;
    QStringList entryNames() const override;
    std::optional<nlohmann::ordered_json> entry(const QString &name) const override;
    void setEntry(const QString &name, const nlohmann::ordered_json &entry) override;
    bool removeEntry(const QString &name) override;
    QByteArray contents() const override;
    QString rewriteNote() const override;

    // Whether the document has the servers key at all (`import` looks for either of two).
    bool hasServers() const { return servers() != nullptr; }

private:
    const nlohmann::ordered_json *servers() const;

    nlohmann::ordered_json m_document = nlohmann::ordered_json::object();
    std::string m_serversKey;
    bool m_allowsComments;
    bool m_hadComments = false;
    bool m_endsWithNewline = true;
};

} // namespace mcpbroker::app
