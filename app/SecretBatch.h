#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

namespace mcpbroker::store {
class SecretStore;
struct ServerConfig;
} // namespace mcpbroker::store

namespace mcpbroker::app {

// Several keychain changes for one server, one after another through SecretStore (each with
// SecretStore's timeout).
namespace SecretBatch {

struct Secret
{
    QString key;
    QByteArray value;
};

// The keychain keys that hold `server`'s secrets, from its auth settings (SecretKeys).
QStringList keysOf(const store::ServerConfig &server);

// Writes in order and stops at the first failure. `done` gets that failure (or success) and the
// keys that were written.
void write(store::SecretStore *store, QList<Secret> secrets,
           std::function<void(Result<void>, QStringList written)> done);

// Removes every key, going on after a failure. `done` gets the first failure (or success) and
// the keys that are still there.
void remove(store::SecretStore *store, QStringList keys,
            std::function<void(Result<void>, QStringList left)> done);

} // namespace SecretBatch

} // namespace mcpbroker::app
