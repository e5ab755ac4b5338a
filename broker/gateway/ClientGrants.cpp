#include "gateway/ClientGrants.h"

#include "Logging.h"
#include "gateway/GrantFile.h"
#include "gateway/GrantToken.h"
#include "store/SecretStore.h"

#include <QDir>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QPointer>
#include <QTimer>

#include <nlohmann/json.hpp>

namespace mcpbroker::gateway {

namespace {

using nlohmann::json;

// Registrations nobody consented to are dropped beyond this many (RFC 7591 registration is
// open to every local process).
constexpr int kMaxUnusedClients = 100;

QString secretKey(const QString &grantId)
{
    return QStringLiteral("grant/") + grantId;
}

Error notValid(const QString &why)
{
    return Error::make(Error::Kind::Unauthorized, why);
}

} // namespace

// What the keychain keeps per grant: hashes, and when the access token ends.
struct ClientGrants::Proof
{
    QByteArray tokenHash;
    QByteArray refreshHash;
    QByteArray previousRefreshHash; // a rotated one: used again, it revokes the grant
    qint64 tokenExpiresAtMs = 0;    // OAuth access tokens

    QByteArray serialize() const
    {
        json object = {{"token", tokenHash.toStdString()}};
        if (!refreshHash.isEmpty())
            object["refresh"] = refreshHash.toStdString();
        if (!previousRefreshHash.isEmpty())
            object["previousRefresh"] = previousRefreshHash.toStdString();
        if (tokenExpiresAtMs > 0)
            object["expiresAt"] = tokenExpiresAtMs;
        return QByteArray::fromStdString(object.dump());
    }

    static std::optional<Proof> parse(const QByteArray &bytes)
    {
        const json object = json::parse(bytes.toStdString(), nullptr, false);
        if (!object.is_object() || !object.contains("token") || !object["token"].is_string())
            return std::nullopt;
        Proof proof;
        proof.tokenHash = QByteArray::fromStdString(object["token"].get<std::string>());
        if (object.contains("refresh") && object["refresh"].is_string())
            proof.refreshHash = QByteArray::fromStdString(object["refresh"].get<std::string>());
        if (object.contains("previousRefresh") && object["previousRefresh"].is_string())
            proof.previousRefreshHash
                    = QByteArray::fromStdString(object["previousRefresh"].get<std::string>());
        if (object.contains("expiresAt") && object["expiresAt"].is_number_integer())
            proof.tokenExpiresAtMs = object["expiresAt"].get<qint64>();
        return proof;
    }
};

struct ClientGrants::Private
{
    QString path;
    QString usagePath;
    store::SecretStore *secrets = nullptr;
    Options options;
    GrantFile file;
    QHash<QString, Proof> proofs;      // by grant id
    QHash<QString, QDateTime> lastUse; // by grant id
    QHash<QString, Error> unreadable;  // by grant id: why its proof could not be read
    int pendingReads = 0;
    QFileSystemWatcher *watcher = nullptr;
    QTimer *usageTimer = nullptr;
    bool usageDirty = false;

    const ClientGrant *grant(const QString &id) const
    {
        for (const ClientGrant &grant : file.grants) {
            if (grant.id == id)
                return &grant;
        }
        return nullptr;
    }
};

QString ClientGrants::grantsPathFor(const QString &configPath)
{
    return QFileInfo(configPath).absoluteDir().filePath(QStringLiteral("grants.json"));
}

ClientGrants::ClientGrants(QString grantsPath, store::SecretStore *secrets, Options options,
                           QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->path = std::move(grantsPath);
    d->usagePath = QFileInfo(d->path).absoluteDir().filePath(QStringLiteral("grant-usage.json"));
    d->secrets = secrets;
    d->options = options;
}

ClientGrants::ClientGrants(QString grantsPath, store::SecretStore *secrets, QObject *parent)
    : ClientGrants(std::move(grantsPath), secrets, Options{}, parent)
{ }

ClientGrants::~ClientGrants()
{
    // Only the running broker (the watching instance) writes last-use times.
    if (d->usageDirty && d->usageTimer)
        GrantFile::writeUsage(d->usagePath, d->lastUse);
}

Result<void> ClientGrants::start(bool watch)
{
    auto file = GrantFile::read(d->path);
    if (!file)
        return file.error();
    d->lastUse = GrantFile::readUsage(d->usagePath);
    if (watch) {
        d->watcher = new QFileSystemWatcher(this);
        const QString directory = QFileInfo(d->path).absolutePath();
        QDir().mkpath(directory);
        d->watcher->addPath(directory);
        connect(d->watcher, &QFileSystemWatcher::directoryChanged, this, [this] { reload(); });
        d->usageTimer = new QTimer(this);
        d->usageTimer->setSingleShot(true);
        connect(d->usageTimer, &QTimer::timeout, this, [this] {
            d->usageDirty = false;
            if (auto saved = GrantFile::writeUsage(d->usagePath, d->lastUse); !saved)
                qCWarning(lcGateway)
                        << "Could not save when grants were last used:" << saved.error().message;
        });
    }
    apply(std::move(file).value());
    if (d->pendingReads == 0)
        markReady();
    return {};
}

void ClientGrants::whenReady(QObject *context, std::function<void()> then)
{
    if (m_ready) {
        then();
        return;
    }
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = connect(this, &ClientGrants::ready, context, [connection, then] {
        QObject::disconnect(*connection);
        then();
    });
}

void ClientGrants::markReady()
{
    if (m_ready)
        return;
    m_ready = true;
    Q_EMIT ready();
}

// Takes the file's contents as the truth: grants gone from it are revoked here, new ones get
// their proof read from the keychain.
void ClientGrants::apply(GrantFile file)
{
    QStringList removed;
    for (const ClientGrant &old : std::as_const(d->file.grants)) {
        const bool kept = std::any_of(file.grants.begin(), file.grants.end(),
                                      [&](const ClientGrant &g) { return g.id == old.id; });
        if (!kept)
            removed.append(old.id);
    }
    // New to the file: made by another process (its proof still to read) or by this one.
    QStringList added;
    for (const ClientGrant &grant : std::as_const(file.grants)) {
        const bool known = std::any_of(d->file.grants.cbegin(), d->file.grants.cend(),
                                       [&](const ClientGrant &g) { return g.id == grant.id; });
        if (!known)
            added.append(grant.id);
    }
    d->file = std::move(file);
    for (const QString &id : std::as_const(removed)) {
        d->proofs.remove(id);
        d->unreadable.remove(id);
        d->lastUse.remove(id);
        qCInfo(lcGateway) << "Grant" << id << "was revoked";
        Q_EMIT grantRevoked(id);
    }
    for (const QString &id : std::as_const(added)) {
        if (!d->proofs.contains(id) && !d->unreadable.contains(id))
            readProof(id);
    }
    if (!removed.isEmpty() || !added.isEmpty())
        Q_EMIT grantsChanged();
}

void ClientGrants::readProof(const QString &id)
{
    ++d->pendingReads;
    QPointer<ClientGrants> guard(this);
    d->secrets->read(secretKey(id), [this, guard, id](Result<QByteArray> secret) {
        if (!guard)
            return;
        --d->pendingReads;
        if (d->grant(id)) {
            std::optional<Proof> proof = secret ? Proof::parse(secret.value()) : std::nullopt;
            if (proof) {
                d->proofs.insert(id, *proof);
                d->unreadable.remove(id);
            } else {
                const Error why = secret ? Error::make(Error::Kind::Generic,
                                                       QStringLiteral("its keychain entry is "
                                                                      "damaged"))
                                         : secret.error();
                qCWarning(lcGateway)
                        << "The proof of grant" << id << "could not be read:" << why.message;
                d->unreadable.insert(id, why);
            }
        }
        if (d->pendingReads == 0)
            markReady();
    });
}

void ClientGrants::reload()
{
    auto file = GrantFile::read(d->path);
    if (!file) {
        qCWarning(lcGateway) << file.error().message;
        return; // keep what we have: a half-written edit must not revoke everyone
    }
    apply(std::move(file).value());
}

Result<ClientGrant> ClientGrants::authenticate(QByteArrayView bearerToken)
{
    const auto token = GrantToken::parse(bearerToken);
    if (!token || token->use == GrantToken::Use::Refresh)
        return notValid(QStringLiteral("This is not an MCP Broker access token."));
    const ClientGrant *grant = d->grant(token->grantId);
    if (!grant) {
        return notValid(QStringLiteral("This access grant was revoked or never issued; ask for "
                                       "a new one (`mcp-broker grant create`, or sign in "
                                       "again)."));
    }
    if (const auto it = d->unreadable.constFind(grant->id); it != d->unreadable.cend()) {
        const Error error = notValid(QStringLiteral("The keychain entry of this grant could not be "
                                                    "read (%1); unlock the keychain and try again.")
                                             .arg(it->message));
        // Ask the keychain again: it may have been unlocked since.
        const QString id = grant->id;
        d->unreadable.erase(it);
        readProof(id);
        return error;
    }
    const auto proof = d->proofs.constFind(grant->id);
    const bool staticToken = token->use == GrantToken::Use::Static;
    if (proof == d->proofs.cend() || staticToken != (grant->kind == ClientGrant::Kind::Static)
        || !GrantToken::hashesEqual(GrantToken::hash(bearerToken), proof->tokenHash))
        return notValid(QStringLiteral("This access token is not valid."));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    if (grant->expiresAt.isValid() && grant->expiresAt <= now)
        return notValid(QStringLiteral("This access grant has expired."));
    if (!staticToken && proof->tokenExpiresAtMs <= now.toMSecsSinceEpoch())
        return notValid(QStringLiteral("This access token has expired; refresh it."));
    noteUse(grant->id, now);
    return *grant;
}

void ClientGrants::noteUse(const QString &id, const QDateTime &now)
{
    d->lastUse.insert(id, now);
    d->usageDirty = true;
    if (d->usageTimer && !d->usageTimer->isActive())
        d->usageTimer->start(d->options.usageSaveIntervalMs);
}

QList<ClientGrant> ClientGrants::grants() const
{
    QList<ClientGrant> list = d->file.grants;
    for (ClientGrant &grant : list)
        grant.lastUsedAt = d->lastUse.value(grant.id);
    return list;
}

std::optional<ClientGrant> ClientGrants::find(const QString &idOrClientName) const
{
    for (const ClientGrant &grant : grants()) {
        if (grant.id == idOrClientName || grant.clientName == idOrClientName)
            return grant;
    }
    return std::nullopt;
}

Result<void> ClientGrants::changeFile(const std::function<void(GrantFile &)> &change)
{
    // Another process may have written since: change what is on disk now.
    auto file = GrantFile::read(d->path);
    if (!file)
        return file.error();
    GrantFile contents = std::move(file).value();
    change(contents);
    if (auto written = contents.write(d->path); !written)
        return written;
    apply(std::move(contents));
    return {};
}

void ClientGrants::createStatic(const QString &clientName, const QStringList &servers,
                                const QDateTime &expiresAt, IssueCallback done)
{
    ClientGrant grant;
    grant.id = GrantToken::newGrantId();
    grant.clientName = clientName;
    grant.kind = ClientGrant::Kind::Static;
    grant.createdAt = QDateTime::currentDateTimeUtc();
    grant.expiresAt = expiresAt;
    grant.servers = servers;
    IssuedTokens issued;
    issued.accessToken = GrantToken::generate(GrantToken::Use::Static, grant.id);
    if (expiresAt.isValid())
        issued.expiresInSeconds = int(std::max<qint64>(0, grant.createdAt.secsTo(expiresAt)));
    Proof proof{GrantToken::hash(issued.accessToken), {}, {}, 0};
    store(std::move(grant), proof, std::move(issued), std::move(done));
}

void ClientGrants::issueOAuth(const LocalClientRegistration &client, const QStringList &servers,
                              IssueCallback done)
{
    ClientGrant grant;
    grant.id = GrantToken::newGrantId();
    grant.clientName = client.clientName.isEmpty() ? client.clientId : client.clientName;
    grant.kind = ClientGrant::Kind::OAuth;
    grant.createdAt = QDateTime::currentDateTimeUtc();
    grant.servers = servers;
    grant.oauthClientId = client.clientId;
    IssuedTokens issued = newOAuthTokens(grant.id);
    const Proof proof = proofOf(issued);
    store(std::move(grant), proof, std::move(issued), std::move(done));
}

ClientGrants::IssuedTokens ClientGrants::newOAuthTokens(const QString &grantId) const
{
    IssuedTokens issued;
    issued.accessToken = GrantToken::generate(GrantToken::Use::Access, grantId);
    issued.refreshToken = GrantToken::generate(GrantToken::Use::Refresh, grantId);
    issued.expiresInSeconds = d->options.accessTokenLifetimeSeconds;
    return issued;
}

qint64 ClientGrants::accessExpiry(const IssuedTokens &issued)
{
    return QDateTime::currentMSecsSinceEpoch() + qint64(issued.expiresInSeconds) * 1000;
}

// Keychain first, then the file: a broker that sees the grant in the file finds its proof.
void ClientGrants::store(ClientGrant grant, const Proof &proof, IssuedTokens issued,
                         IssueCallback done)
{
    QPointer<ClientGrants> guard(this);
    const QString id = grant.id;
    d->secrets->write(secretKey(id), proof.serialize(),
                      [this, guard, grant = std::move(grant), proof, issued = std::move(issued),
                       done = std::move(done)](Result<void> written) mutable {
                          if (!guard)
                              return;
                          if (!written)
                              return done(written.error());
                          d->proofs.insert(grant.id, proof);
                          const auto saved
                                  = changeFile([&](GrantFile &file) { file.grants.append(grant); });
                          if (!saved) {
                              d->proofs.remove(grant.id);
                              d->secrets->remove(secretKey(grant.id), [](Result<void>) {});
                              return done(saved.error());
                          }
                          qCInfo(lcGateway)
                                  << "Granted" << grant.clientName << "access as" << grant.id;
                          issued.grant = grant;
                          done(std::move(issued));
                      });
}

void ClientGrants::revoke(const QString &idOrClientName,
                          std::function<void(Result<QList<ClientGrant>>)> done)
{
    QList<ClientGrant> revoked;
    const auto saved = changeFile([&](GrantFile &file) {
        for (auto it = file.grants.begin(); it != file.grants.end();) {
            if (it->id == idOrClientName || it->clientName == idOrClientName) {
                revoked.append(*it);
                it = file.grants.erase(it);
            } else {
                ++it;
            }
        }
        // A remembered "allow" would let the client straight back in: revoking forgets it.
        for (LocalClientRegistration &client : file.clients) {
            const bool ofRevoked = std::any_of(revoked.begin(), revoked.end(), [&](auto &grant) {
                return grant.oauthClientId == client.clientId;
            });
            if (ofRevoked) {
                client.remembered = LocalClientRegistration::RememberedConsent::None;
                client.rememberedServers.clear();
            }
        }
    });
    if (!saved)
        return done(saved.error());
    if (revoked.isEmpty()) {
        return done(Error::make(Error::Kind::NotFound,
                                QStringLiteral("No grant has the id or client name '%1'; "
                                               "`mcp-broker grant list` shows them.")
                                        .arg(idOrClientName.left(64))));
    }
    removeProofs(revoked, std::move(done));
}

void ClientGrants::removeProofs(QList<ClientGrant> revoked,
                                std::function<void(Result<QList<ClientGrant>>)> done)
{
    auto remaining = std::make_shared<int>(int(revoked.size()));
    auto failure = std::make_shared<std::optional<Error>>();
    for (const ClientGrant &grant : std::as_const(revoked)) {
        d->secrets->remove(
                secretKey(grant.id), [remaining, failure, revoked, done](Result<void> removed) {
                    if (!removed && !*failure)
                        *failure = removed.error();
                    if (--*remaining > 0)
                        return;
                    if (*failure) {
                        // The grant is gone from the file, so nobody can use it; say what is left over.
                        qCWarning(lcGateway) << "A revoked grant's hash stays in the keychain:"
                                             << (*failure)->message;
                    }
                    done(revoked);
                });
    }
}

Result<LocalClientRegistration> ClientGrants::registerClient(const QString &clientName,
                                                             const QStringList &redirectUris)
{
    LocalClientRegistration client;
    client.clientId = QString::fromLatin1(GrantToken::randomString());
    client.clientName = clientName;
    client.redirectUris = redirectUris;
    client.createdAt = QDateTime::currentDateTimeUtc();
    const auto saved = changeFile([&](GrantFile &file) {
        file.clients.append(client);
        // Forget the oldest registrations no grant uses once there are too many.
        int unused = 0;
        for (const LocalClientRegistration &c : std::as_const(file.clients)) {
            const bool used = std::any_of(
                    file.grants.begin(), file.grants.end(),
                    [&](const ClientGrant &g) { return g.oauthClientId == c.clientId; });
            unused += used ? 0 : 1;
        }
        for (auto it = file.clients.begin();
             unused > kMaxUnusedClients && it != file.clients.end();) {
            const bool used = std::any_of(
                    file.grants.begin(), file.grants.end(),
                    [&](const ClientGrant &g) { return g.oauthClientId == it->clientId; });
            if (used) {
                ++it;
            } else {
                it = file.clients.erase(it);
                --unused;
            }
        }
    });
    if (!saved)
        return saved.error();
    return client;
}

Result<void> ClientGrants::rememberConsent(const QString &clientId,
                                           LocalClientRegistration::RememberedConsent remembered,
                                           const QStringList &servers)
{
    bool found = false;
    const auto saved = changeFile([&](GrantFile &file) {
        for (LocalClientRegistration &client : file.clients) {
            if (client.clientId != clientId)
                continue;
            found = true;
            client.remembered = remembered;
            client.rememberedServers = servers;
        }
    });
    if (!saved)
        return saved.error();
    if (!found) {
        return Error::make(Error::Kind::NotFound,
                           QStringLiteral("The client is no longer registered."));
    }
    return {};
}

std::optional<LocalClientRegistration> ClientGrants::findClient(const QString &clientId) const
{
    for (const LocalClientRegistration &client : d->file.clients) {
        if (client.clientId == clientId)
            return client;
    }
    return std::nullopt;
}

void ClientGrants::refresh(QByteArrayView refreshToken, const QString &clientId, IssueCallback done)
{
    const auto token = GrantToken::parse(refreshToken);
    const ClientGrant *grant
            = token && token->use == GrantToken::Use::Refresh ? d->grant(token->grantId) : nullptr;
    const auto proof = grant ? d->proofs.find(grant->id) : d->proofs.end();
    const QByteArray presented = GrantToken::hash(refreshToken);
    if (proof != d->proofs.end()
        && GrantToken::hashesEqual(presented, proof->previousRefreshHash)) {
        // OAuth 2.1 §4.3.1: a rotated refresh token used again means it leaked; whoever holds
        // the newer one loses it too.
        qCWarning(lcGateway) << "A rotated refresh token of grant" << grant->id
                             << "was used again; revoking the grant";
        revoke(grant->id, [](Result<QList<ClientGrant>>) {});
        return done(notValid(QStringLiteral("The refresh token was already used; the grant is "
                                            "revoked. Sign in to MCP Broker again.")));
    }
    if (!grant || grant->oauthClientId != clientId || proof == d->proofs.end()
        || !GrantToken::hashesEqual(presented, proof->refreshHash)) {
        return done(notValid(QStringLiteral("The refresh token is not valid (revoked, already "
                                            "used, or another client's).")));
    }
    IssuedTokens issued = newOAuthTokens(grant->id);
    issued.grant = *grant;
    const Proof previous = *proof;
    Proof next = proofOf(issued);
    next.previousRefreshHash = previous.refreshHash;
    // In memory at once, so a second use of the old refresh token already fails.
    *proof = next;
    QPointer<ClientGrants> guard(this);
    const QString id = grant->id;
    d->secrets->write(secretKey(id), next.serialize(),
                      [this, guard, id, previous, issued = std::move(issued),
                       done = std::move(done)](Result<void> written) mutable {
                          if (!guard)
                              return;
                          if (!written) {
                              if (d->proofs.contains(id))
                                  d->proofs.insert(id, previous);
                              return done(written.error());
                          }
                          done(std::move(issued));
                      });
}

ClientGrants::Proof ClientGrants::proofOf(const IssuedTokens &issued)
{
    return Proof{GrantToken::hash(issued.accessToken),
                 GrantToken::hash(issued.refreshToken),
                 {},
                 accessExpiry(issued)};
}

void ClientGrants::revokeToken(QByteArrayView token, DoneCallback done)
{
    const auto parsed = GrantToken::parse(token);
    const auto proof = parsed ? d->proofs.constFind(parsed->grantId) : d->proofs.cend();
    if (proof == d->proofs.cend())
        return done({});
    const QByteArray hash = GrantToken::hash(token);
    if (!GrantToken::hashesEqual(hash, proof->tokenHash)
        && !GrantToken::hashesEqual(hash, proof->refreshHash))
        return done({});
    revoke(parsed->grantId, [done = std::move(done)](Result<QList<ClientGrant>> revoked) {
        if (!revoked && revoked.error().kind != Error::Kind::NotFound)
            return done(revoked.error());
        done({});
    });
}

} // namespace mcpbroker::gateway
