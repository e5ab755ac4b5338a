#include "oauth/ClientIdentity.h"

#include "AnswerLater.h"
#include "Logging.h"
#include "oauth/ClientRegistration.h"
#include "oauth/RegisteredClient.h"
#include "oauth/TokenSet.h"
#include "store/SecretStore.h"

#include <QCryptographicHash>
#include <QDateTime>

namespace mcpbroker::oauth {

namespace {

Result<ClientAuthentication::Method> methodFromName(const QString &name)
{
    if (auto method = ClientAuthentication::methodFromName(name))
        return *method;
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("The authorization server registered MCP Broker for the "
                                      "client authentication \"%1\", which MCP Broker does not "
                                      "support.")
                               .arg(name));
}

} // namespace

ClientIdentity::ClientIdentity(QString serverName, store::OAuthSettings settings,
                               store::SecretStore *secrets, QNetworkAccessManager *network,
                               QObject *parent)
    : QObject(parent), m_serverName(std::move(serverName)), m_settings(std::move(settings)),
      m_secrets(secrets), m_network(network)
{ }

QString ClientIdentity::registrationKey(const QString &issuer)
{
    // Hashed like TokenStore's keys: keychain keys are visible to other programs.
    const QByteArray digest = QCryptographicHash::hash(issuer.toUtf8(), QCryptographicHash::Sha256);
    return QStringLiteral("oauth/client/") + QString::fromLatin1(digest.toHex().left(32));
}

Result<ClientAuthentication::Method>
ClientIdentity::configuredMethod(const store::OAuthSettings &settings,
                                 const AuthorizationServerMetadata &server)
{
    if (!settings.tokenEndpointAuthMethod.isEmpty())
        return methodFromName(settings.tokenEndpointAuthMethod);
    if (!settings.hasClientSecret)
        return ClientAuthentication::Method::None;
    const QStringList &offered = server.tokenEndpointAuthMethodsSupported;
    if (offered.contains(QLatin1String("client_secret_basic")) || offered.isEmpty())
        return ClientAuthentication::Method::ClientSecretBasic;
    if (offered.contains(QLatin1String("client_secret_post")))
        return ClientAuthentication::Method::ClientSecretPost;
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("The authorization server accepts only %1 to authenticate "
                                      "clients, which MCP Broker does not support with a client "
                                      "secret.")
                               .arg(offered.join(QStringLiteral(", "))));
}

bool ClientIdentity::usesMetadataDocument(const AuthorizationServerMetadata &server) const
{
    return m_settings.clientId.isEmpty() && !m_settings.clientMetadataUrl.isEmpty()
            && server.clientIdMetadataDocumentSupported;
}

void ClientIdentity::current(const AuthorizationServerMetadata &server, Callback done)
{
    if (!m_settings.clientId.isEmpty())
        return configured(server, std::move(done));
    if (usesMetadataDocument(server)) {
        Identity identity;
        identity.source = Source::MetadataDocument;
        identity.client.clientId = m_settings.clientMetadataUrl.toString(QUrl::FullyEncoded);
        identity.client.method = ClientAuthentication::Method::None;
        answerLater(this, std::move(done), identity);
        return;
    }
    registered(server, std::move(done));
}

void ClientIdentity::forSignIn(const AuthorizationServerMetadata &server,
                               const QString &redirectUri, Callback done)
{
    QPointer<ClientIdentity> self(this);
    current(server, [self, server, redirectUri, done](Result<Identity> identity) {
        if (!self)
            return;
        if (identity
            && (identity.value().source != Source::Registered
                || identity.value().redirectUris.contains(redirectUri)))
            return done(std::move(identity));
        if (!identity && identity.error().kind != Error::Kind::NotFound)
            return done(std::move(identity));
        if (identity)
            TokenSet::wipe(identity.value().client.clientSecret);
        self->registerAt(server, redirectUri, done);
    });
}

void ClientIdentity::configured(const AuthorizationServerMetadata &server, Callback done)
{
    auto method = configuredMethod(m_settings, server);
    Identity identity;
    identity.client.clientId = m_settings.clientId;
    identity.client.assertionAudience = server.issuer; // private_key_jwt: aud = the issuer
    if (method)
        identity.client.method = method.value();
    if (!method || !m_settings.hasClientSecret) {
        Result<Identity> answer = method ? Result<Identity>(identity) : method.error();
        answerLater(this, std::move(done), answer);
        return;
    }
    if (!m_secrets)
        return done(Error::make(Error::Kind::KeychainUnavailable,
                                QStringLiteral("MCP Broker has no keychain to read the client "
                                               "secret of server '%1' from.")
                                        .arg(m_serverName)));
    const QString name = m_serverName;
    m_secrets->read(store::SecretKeys::oauthClientSecret(name),
                    [identity, name, done](Result<QByteArray> secret) mutable {
                        if (!secret) {
                            if (secret.error().kind != Error::Kind::NotFound)
                                return done(secret.error());
                            return done(Error::make(
                                    Error::Kind::InvalidInput,
                                    QStringLiteral("The client secret of server '%1' is missing "
                                                   "from the keychain: add the server again with "
                                                   "`mcp-broker add %1 URL --oauth --client-id ID "
                                                   "--client-secret-stdin`.")
                                            .arg(name)));
                        }
                        identity.client.clientSecret = std::move(secret).value();
                        done(std::move(identity));
                    });
}

void ClientIdentity::registered(const AuthorizationServerMetadata &server, Callback done)
{
    if (!m_secrets)
        return done(Error::make(Error::Kind::KeychainUnavailable,
                                QStringLiteral("MCP Broker has no keychain for its registration "
                                               "at the authorization server of '%1'.")
                                        .arg(m_serverName)));
    const QString issuer = server.issuer;
    m_secrets->read(registrationKey(issuer), [issuer, done](Result<QByteArray> entry) {
        if (!entry) {
            if (entry.error().kind == Error::Kind::NotFound)
                return done(Error::make(
                        Error::Kind::NotFound,
                        QStringLiteral("MCP Broker is not registered at %1 yet.").arg(issuer)));
            return done(entry.error());
        }
        auto client = RegisteredClient::fromJson(entry.value());
        TokenSet::wipe(entry.value());
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        if (!client || client.value().isExpired(now))
            return done(Error::make(Error::Kind::NotFound,
                                    QStringLiteral("The registration of MCP Broker at %1 is no "
                                                   "longer valid.")
                                            .arg(issuer)));
        auto method = methodFromName(client.value().tokenEndpointAuthMethod);
        if (!method)
            return done(method.error());
        Identity identity;
        identity.source = Source::Registered;
        identity.client.clientId = client.value().clientId;
        identity.client.clientSecret = std::move(client.value().clientSecret);
        identity.client.method = method.value();
        identity.redirectUris = client.value().redirectUris;
        done(std::move(identity));
    });
}

void ClientIdentity::registerAt(const AuthorizationServerMetadata &server,
                                const QString &redirectUri, Callback done)
{
    if (server.registrationEndpoint.isEmpty()) {
        QString advice = QStringLiteral("register MCP Broker there by hand (redirect URI "
                                        "http://127.0.0.1/callback, any port) and add the server "
                                        "with `mcp-broker add %1 URL --oauth --client-id ID`")
                                 .arg(m_serverName);
        if (!m_settings.clientMetadataUrl.isEmpty() && !server.clientIdMetadataDocumentSupported)
            advice.prepend(QStringLiteral("it does not accept client metadata documents either; "));
        const Error error = Error::make(
                Error::Kind::InvalidInput,
                QStringLiteral("The authorization server %1 of server '%2' does not let clients "
                               "register themselves: %3.")
                        .arg(server.issuer, m_serverName, advice));
        answerLater(this, std::move(done), error);
        return;
    }
    auto *registration = new ClientRegistration(m_network, server.registrationEndpoint,
                                                ClientRegistration::kDefaultTimeoutMs, this);
    QPointer<store::SecretStore> secrets = m_secrets;
    const QString issuer = server.issuer;
    const QString name = m_serverName;
    connect(registration, &ClientRegistration::finished, this,
            [registration, secrets, issuer, name, done](const Result<RegisteredClient> &client) {
                registration->deleteLater();
                if (!client)
                    return done(client.error());
                auto method = methodFromName(client.value().tokenEndpointAuthMethod);
                if (!method)
                    return done(method.error());
                Identity identity;
                identity.source = Source::Registered;
                identity.client.clientId = client.value().clientId;
                identity.client.clientSecret = client.value().clientSecret;
                identity.client.method = method.value();
                identity.redirectUris = client.value().redirectUris;
                qCInfo(lcOAuth).noquote()
                        << "Registered MCP Broker at" << issuer << "for server" << name;
                if (!secrets)
                    return done(std::move(identity));
                QByteArray entry = client.value().toJson();
                // Kept before use: a sign-in must never leave a registration the keychain lost.
                secrets->write(registrationKey(issuer), entry,
                               [identity, name, done](Result<void> saved) mutable {
                                   if (!saved)
                                       qCWarning(lcOAuth).noquote()
                                               << "The registration for server" << name
                                               << "could not be kept:" << saved.error().message;
                                   done(std::move(identity));
                               });
                TokenSet::wipe(entry);
            });
    // No `scope`: many servers take it as the most the client may ever ask for, and the kept
    // registration must serve later step-ups too.
    ClientRegistration::Request request;
    request.redirectUris = {redirectUri};
    request.authMethodsSupported = server.tokenEndpointAuthMethodsSupported;
    registration->registerClient(request);
}

void ClientIdentity::forgetRegistration(const QString &issuer)
{
    if (!m_secrets)
        return;
    m_secrets->remove(registrationKey(issuer), [issuer](Result<void> removed) {
        if (!removed)
            qCWarning(lcOAuth).noquote() << "The registration at" << issuer
                                         << "could not be forgotten:" << removed.error().message;
    });
}

} // namespace mcpbroker::oauth
