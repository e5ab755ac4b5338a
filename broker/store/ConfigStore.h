#pragma once

#include "Result.h"
#include "store/ServerConfig.h"

#include <QString>

namespace mcpbroker::store {

// The non-secret configuration file (JSON) in the platform config dir:
// $XDG_CONFIG_HOME/mcp-broker/config.json on Linux. Reads never modify the file; writes are
// atomic (AtomicFile). A corrupt file is an error naming the file and the problem, and is left
// exactly as it was.
class ConfigStore
{
public:
    explicit ConfigStore(QString filePath);
    // $MCP_BROKER_CONFIG if set, else <QStandardPaths::GenericConfigLocation>/mcp-broker/config.json
    static QString defaultPath();

    QString filePath() const { return m_filePath; }

    // A missing file gives the defaults (no servers, default port).
    Result<BrokerConfig> load() const;
    Result<void> save(const BrokerConfig &config) const;

    // Checks a server name against the rule in ServerConfig::name; the error says the rule.
    static Result<void> validateServerName(const QString &name);
    // http or https with a host; the error says what is wrong.
    static Result<void> validateServerUrl(const QUrl &url);

private:
    QString m_filePath;
};

} // namespace mcpbroker::store
