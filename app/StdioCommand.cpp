#include "StdioCommand.h"

#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "InstanceRecord.h"
#include "StdioBridge.h"
#include "StdioBridgeGrant.h"
#include "TerminationSignals.h"
#include "store/ConfigStore.h"
#include "store/SecretStore.h"

#ifdef Q_OS_UNIX
#include <csignal>
#endif

namespace mcpbroker::app {

StdioCommand::StdioCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent)
{ }

StdioCommand::~StdioCommand() = default;

void StdioCommand::start()
{
#ifdef Q_OS_UNIX
    // A client that went away shows as a failed write (EPIPE), not as a killed bridge.
    std::signal(SIGPIPE, SIG_IGN);
#endif
    const QString &server = command().serverName;
    if (!server.isEmpty()) {
        if (auto valid = store::ConfigStore::validateServerName(server); !valid) {
            fail(valid.error().message);
            return;
        }
    }
    const auto port = InstanceRecord::port(command().configFilePath());
    if (!port) {
        fail(QStringLiteral("MCP Broker is not running: start it (mcp-broker, or mcp-broker "
                            "serve) and try again."));
        return;
    }

    // The client ends the bridge by closing its input, else with SIGTERM (MCP lifecycle, stdio).
    m_signals = new TerminationSignals(this);
    connect(m_signals, &TerminationSignals::received, this, [this] {
        if (m_bridge)
            m_bridge->stop();
        else
            finish(kExitOk);
    });

    m_keychain = new store::SecretStore(Broker::Options().keychainService,
                                        store::SecretStore::kDefaultTimeoutMs, this);
    m_grant = new StdioBridgeGrant(command().configFilePath(), m_keychain, this);
    m_grant->load([this, port = *port](Result<void> loaded) {
        if (!loaded) {
            fail(loaded.error().message);
            return;
        }
        startBridge(port);
    });
}

void StdioCommand::startBridge(quint16 port)
{
    StdioBridge::Options options;
    options.endpoint = QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(port));
    if (!command().serverName.isEmpty())
        options.endpoint.setPath(QStringLiteral("/mcp/") + command().serverName);
    m_bridge = new StdioBridge(options, m_grant, this);
    connect(m_bridge, &StdioBridge::finished, this, [this](const Result<void> &result) {
        if (!result) {
            fail(result.error().message);
            return;
        }
        finish(kExitOk);
    });
    m_bridge->start();
}

void StdioCommand::fail(const QString &message)
{
    Console::err(message);
    finish(kExitFailed);
}

} // namespace mcpbroker::app
