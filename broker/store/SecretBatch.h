#pragma once

#include "Result.h"
#include "store/ServerEditor.h"

#include <QList>
#include <QStringList>

#include <functional>

namespace mcpbroker::store {

class SecretStore;

// Several keychain changes for one server, one after another through SecretStore (each with
// SecretStore's timeout). Both answer from the event loop, never inside the call, and not at
// all once `store` is gone.
namespace SecretBatch {

// Writes in order and stops at the first failure. `done` gets that failure (or success) and the
// keys that were written. The values are wiped before `done` runs.
void write(SecretStore *store, QList<ServerEditor::Secret> secrets,
           std::function<void(Result<void>, QStringList written)> done);

// Removes every key, going on after a failure. `done` gets the first failure (or success) and
// the keys that are still there.
void remove(SecretStore *store, QStringList keys,
            std::function<void(Result<void>, QStringList left)> done);

// Wipes every value (store::wipe) and empties the list.
void wipe(QList<ServerEditor::Secret> &secrets);

} // namespace SecretBatch

} // namespace mcpbroker::store
