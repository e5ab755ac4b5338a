#include "oauth/TokenStore.h"

#include "AnswerLater.h"
#include "Logging.h"
#include "store/SecretStore.h"

#include <QCryptographicHash>
#include <QMetaObject>

#include <memory>

namespace mcpbroker::oauth {

namespace {

Error notFound(const QString &issuer, const QString &resource)
{
    return Error::make(Error::Kind::NotFound,
                       QStringLiteral("There are no saved OAuth tokens for %1 from %2: sign in "
                                      "to the server first.")
                               .arg(resource, issuer));
}

Error missingKeyParts()
{
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("OAuth tokens need an issuer and a resource to be kept in "
                                      "the keychain; this is a bug in MCP Broker."));
}

Error noSecretStore()
{
    return Error::make(Error::Kind::KeychainUnavailable,
                       QStringLiteral("The keychain is no longer available to MCP Broker; "
                                      "restart it and try again."));
}

} // namespace

TokenStore::TokenStore(store::SecretStore *secrets, QObject *parent)
    : QObject(parent), m_secrets(secrets)
{ }

QString TokenStore::keyFor(const QString &issuer, const QString &resource)
{
    // A hash, not the URLs: keychain keys are not secret (the Secret Service shows item
    // attributes to any program on the session bus, locked or not; Windows lists credential
    // targets), while the URLs tell which services and tenants the user works with. The hash
    // also keeps the key short and free of characters a backend might treat specially.
    // 128 bits of SHA-256 make a collision practically impossible; load() checks anyway.
    const QByteArray material = issuer.toUtf8() + '\n' + resource.toUtf8();
    const QByteArray digest = QCryptographicHash::hash(material, QCryptographicHash::Sha256);
    return QStringLiteral("oauth/tokens/") + QString::fromLatin1(digest.toHex().left(32));
}

void TokenStore::load(const QString &issuer, const QString &resource, LoadCallback done)
{
    if (issuer.isEmpty() || resource.isEmpty())
        return answerLater(this, std::move(done), Result<TokenSet>(missingKeyParts()));
    if (!m_secrets)
        return answerLater(this, std::move(done), Result<TokenSet>(noSecretStore()));
    const QString key = keyFor(issuer, resource);
    m_secrets->read(key, [issuer, resource, key, done](Result<QByteArray> entry) {
        if (!entry) {
            if (entry.error().kind == Error::Kind::NotFound)
                return done(notFound(issuer, resource));
            return done(entry.error()); // keychain errors as SecretStore said them
        }
        // SecretStore removes an entry by emptying it first (see SecretStore.cpp): a read
        // between the two steps finds it empty, which means "being removed".
        if (entry.value().isEmpty())
            return done(notFound(issuer, resource));
        Result<TokenSet> tokens = TokenSet::fromJson(entry.value());
        TokenSet::wipe(entry.value());
        if (!tokens) {
            qCWarning(lcOAuth) << "The keychain entry" << key << "is damaged";
            return done(tokens);
        }
        if (tokens.value().issuer != issuer || tokens.value().resource != resource) {
            qCWarning(lcOAuth) << "The keychain entry" << key << "belongs to another resource";
            tokens.value().wipe();
            return done(Error::make(Error::Kind::InvalidInput,
                                    QStringLiteral("The OAuth tokens saved for %1 belong to "
                                                   "another server. Sign in again to replace "
                                                   "them.")
                                            .arg(resource)));
        }
        qCDebug(lcOAuth) << "Loaded the tokens for" << resource << "from" << key;
        done(std::move(tokens));
    });
}

void TokenStore::save(const TokenSet &tokens, DoneCallback done)
{
    if (tokens.issuer.isEmpty() || tokens.resource.isEmpty())
        return answerLater(this, std::move(done), Result<void>(missingKeyParts()));
    if (!m_secrets)
        return answerLater(this, std::move(done), Result<void>(noSecretStore()));
    const QString key = keyFor(tokens.issuer, tokens.resource);
    auto entry = std::make_shared<QByteArray>(tokens.toJson());
    qCDebug(lcOAuth) << "Saving the tokens for" << tokens.resource << "as" << key;
    m_secrets->write(key, *entry, [entry, done](Result<void> result) {
        TokenSet::wipe(*entry);
        done(std::move(result));
    });
}

void TokenStore::remove(const QString &issuer, const QString &resource, DoneCallback done)
{
    if (issuer.isEmpty() || resource.isEmpty())
        return answerLater(this, std::move(done), Result<void>(missingKeyParts()));
    if (!m_secrets)
        return answerLater(this, std::move(done), Result<void>(noSecretStore()));
    const QString key = keyFor(issuer, resource);
    qCDebug(lcOAuth) << "Removing the tokens for" << resource << "from" << key;
    m_secrets->remove(key, std::move(done));
}

} // namespace mcpbroker::oauth
