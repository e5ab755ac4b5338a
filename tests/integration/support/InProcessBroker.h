#pragma once

#include "Broker.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace mcpbroker::integration {

// A Broker in the test process (the facade, as the tray app runs it) on any free port, with its
// own keychain service and one static grant made before it starts, the way `mcp-broker grant
// create` makes one. For suites that answer the broker's questions themselves.
struct InProcessBroker
{
    std::unique_ptr<Broker> broker;
    QByteArray token; // the grant's bearer token
    QString configPath;

    // Writes `config` to <directory>/config.json, grants `clientName`, starts the broker and waits
    // until its first server is ready. On failure `broker` is null and `why` says what happened.
    static InProcessBroker start(const QString &directory, const QByteArray &config,
                                 const QString &clientName, QString *why);
};

} // namespace mcpbroker::integration
