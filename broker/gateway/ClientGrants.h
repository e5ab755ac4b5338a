#pragma once

#include "Result.h"
#include "gateway/ClientGrant.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>
#include <optional>

class QFileSystemWatcher;
class QTimer;

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::gateway {

struct GrantFile;

// Every local client's grant, and the proof of each: the grants file (next to config.json:
// who, when, which servers — nothing secret) plus one keychain entry per grant with the
// SHA-256 of its bearer token (and of its refresh token for OAuth grants). Tokens are shown
// once, when issued, and never kept. The file is watched: a grant revoked by another process
// (`mcp-broker grant revoke`) is dropped here at once and grantRevoked() fires.
//
// Tokens: "mcpb_<grant id>_<32 random bytes, base64url>"; OAuth access tokens "mcpb-at_…" and
// refresh tokens "mcpb-rt_…". Checked by hash in constant time (CRYPTO_memcmp).
class ClientGrants : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        int accessTokenLifetimeSeconds = 3600;
        int usageSaveIntervalMs = 60'000; // last-use times are written at most this often
    };

    struct IssuedTokens
    {
        ClientGrant grant;
        QByteArray accessToken;   // the static grant's token, or the OAuth access token
        QByteArray refreshToken;  // OAuth only
        int expiresInSeconds = 0; // OAuth access tokens; 0 for static grants without an end
    };
    using IssueCallback = std::function<void(Result<IssuedTokens>)>;
    using DoneCallback = std::function<void(Result<void>)>;

    // "grants.json" in the directory of `configPath`.
    static QString grantsPathFor(const QString &configPath);

    ClientGrants(QString grantsPath, store::SecretStore *secrets, Options options,
                 QObject *parent = nullptr);
    ClientGrants(QString grantsPath, store::SecretStore *secrets, QObject *parent = nullptr);
    ~ClientGrants() override;

    // Reads the file (a corrupt one is an error and left untouched), then each grant's hashes
    // from the keychain in the background; ready() fires when those reads are done.
    // `watch`: follow changes other processes make (serve); the CLI does not need to.
    Result<void> start(bool watch);
    bool isReady() const { return m_ready; }
    // Runs `then` once the keychain reads are done (at once if they are).
    void whenReady(QObject *context, std::function<void()> then);

    // The grant a bearer token proves, its last use noted. Errors (kind Unauthorized) say
    // whether the token is unknown, revoked or expired, without echoing it.
    Result<ClientGrant> authenticate(QByteArrayView bearerToken);

    QList<ClientGrant> grants() const;
    std::optional<ClientGrant> find(const QString &idOrClientName) const;

    // A static grant for a client configured by header (`mcp-broker grant create NAME`).
    void createStatic(const QString &clientName, const QStringList &servers,
                      const QDateTime &expiresAt, IssueCallback done);
    // Revokes every grant whose id or client name is `idOrClientName`: out of the file first
    // (a running broker drops it at once), then out of the keychain. NotFound when none.
    void revoke(const QString &idOrClientName,
                std::function<void(Result<QList<ClientGrant>>)> done);

    // The broker's own authorization server (LocalAuthorizationServer) uses these.
    Result<LocalClientRegistration> registerClient(const QString &clientName,
                                                   const QStringList &redirectUris);
    std::optional<LocalClientRegistration> findClient(const QString &clientId) const;
    // Keeps the user's answer for the client's next authorization requests (None forgets it).
    Result<void> rememberConsent(const QString &clientId,
                                 LocalClientRegistration::RememberedConsent remembered,
                                 const QStringList &servers);
    // A new OAuth grant for `client`, with an access and a refresh token.
    void issueOAuth(const LocalClientRegistration &client, const QStringList &servers,
                    IssueCallback done);
    // Exchanges a refresh token of `clientId` for new tokens (the old refresh token stops
    // working: rotation). Unauthorized for an unknown, revoked or other client's token.
    void refresh(QByteArrayView refreshToken, const QString &clientId, IssueCallback done);
    // RFC 7009: a grant's access or refresh token revokes the whole grant. Unknown tokens
    // succeed (the RFC says so).
    void revokeToken(QByteArrayView token, DoneCallback done);

Q_SIGNALS:
    void ready();
    void grantRevoked(const QString &grantId);
    void grantsChanged();

private:
    struct Private;
    struct Proof;

    void markReady();
    void apply(GrantFile file);
    void readProof(const QString &id);
    void reload();
    void noteUse(const QString &id, const QDateTime &now);
    Result<void> changeFile(const std::function<void(GrantFile &)> &change);
    IssuedTokens newOAuthTokens(const QString &grantId) const;
    static qint64 accessExpiry(const IssuedTokens &issued);
    static Proof proofOf(const IssuedTokens &issued);
    void store(ClientGrant grant, const Proof &proof, IssuedTokens issued, IssueCallback done);
    void removeProofs(QList<ClientGrant> revoked,
                      std::function<void(Result<QList<ClientGrant>>)> done);

    std::unique_ptr<Private> d;
    bool m_ready = false;
};

} // namespace mcpbroker::gateway
