#pragma once

#include <QByteArrayView>

namespace mcpbroker {

// Compares two secrets (states, CSRF tokens, PKCE challenges, token hashes) in constant time
// (CRYPTO_memcmp). Their lengths are not secret; two empty values are never equal, so a
// secret that was never set matches nothing.
bool secretsEqual(QByteArrayView a, QByteArrayView b);

} // namespace mcpbroker
