#pragma once

#include <QByteArray>

namespace mcpbroker::store {

// Overwrites a secret's bytes in place (OPENSSL_cleanse), in every QByteArray that shares them,
// then empties `bytes`.
void wipe(QByteArray &bytes);

} // namespace mcpbroker::store
