#pragma once

#include "Result.h"
#include "oauth/TokenSet.h"

#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::oauth {

// Keeps TokenSets in the keychain (SecretStore), one entry per (issuer, resource): every
// downstream client of the broker shares the tokens of one upstream, and a resource's tokens
// from one authorization server are never handed to another. Every call answers through its
// callback exactly once, on the event loop (SecretStore's rule, and its timeout). Keychain
// errors (KeychainLocked, KeychainUnavailable, …) arrive unchanged; the tokens are never logged.
class TokenStore : public QObject
{
    Q_OBJECT
public:
    using LoadCallback = std::function<void(Result<TokenSet>)>;
    using DoneCallback = std::function<void(Result<void>)>;

    // `secrets` must outlive this store.
    explicit TokenStore(store::SecretStore *secrets, QObject *parent = nullptr);

    // The keychain key of (issuer, resource): "oauth/tokens/<32 hex digits>".
    static QString keyFor(const QString &issuer, const QString &resource);

    // NotFound when nothing is saved for (issuer, resource); InvalidInput when the entry is
    // damaged or belongs to another (issuer, resource).
    void load(const QString &issuer, const QString &resource, LoadCallback done);
    // Saves under (tokens.issuer, tokens.resource), replacing what was there.
    void save(const TokenSet &tokens, DoneCallback done);
    // Removing what is not there succeeds.
    void remove(const QString &issuer, const QString &resource, DoneCallback done);

private:
    QPointer<store::SecretStore> m_secrets;
};

} // namespace mcpbroker::oauth
