#include "SecretCompare.h"

#include <openssl/crypto.h>

namespace mcpbroker {

bool secretsEqual(QByteArrayView a, QByteArrayView b)
{
    return a.size() == b.size() && !a.isEmpty()
            && CRYPTO_memcmp(a.data(), b.data(), size_t(a.size())) == 0;
}

} // namespace mcpbroker
