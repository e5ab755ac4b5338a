#include "store/SecretBytes.h"

#include <openssl/crypto.h>

namespace mcpbroker::store {

void wipe(QByteArray &bytes)
{
    // constData(), not data(): data() would detach and wipe a fresh copy instead of the secret.
    if (!bytes.isEmpty())
        OPENSSL_cleanse(const_cast<char *>(bytes.constData()), static_cast<size_t>(bytes.size()));
    bytes.clear();
}

} // namespace mcpbroker::store
