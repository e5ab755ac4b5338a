#include "Broker.h"

#include "Logging.h"
#include "gateway/ApprovalQueue.h"
#include "gateway/ClientGrants.h"
#include "gateway/LocalAuthorizationServer.h"
#include "gateway/LocalEndpoint.h"
#include "gateway/Router.h"
#include "gateway/ToolAccess.h"
#include "gateway/Upstream.h"
#include "gateway/UpstreamRegistry.h"
#include "mcp/JsonRpc.h"
#include "oauth/BrowserLauncher.h"
#include "oauth/UpstreamAuthorization.h"
#include "store/AtomicFile.h"
#include "store/AuditLog.h"
#include "store/ConfigStore.h"
#include "store/SecretBytes.h"
#include "store/SecretStore.h"
#include "store/ServerEditor.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QTimer>

namespace mcpbroker {

using json = nlohmann::json;
using mcp::jsonrpc::toStd;

namespace {

Broker::ServerStatus::SignIn signInState(oauth::UpstreamAuthorization::State state)
{
    using SignIn = Broker::ServerStatus::SignIn;
    switch (state) {
    case oauth::UpstreamAuthorization::State::Unknown:
        return SignIn::Unknown;
    case oauth::UpstreamAuthorization::State::SignedIn:
        return SignIn::SignedIn;
    case oauth::UpstreamAuthorization::State::NeedsSignIn:
        return SignIn::NeedsSignIn;
    case oauth::UpstreamAuthorization::State::SigningIn:
        return SignIn::SigningIn;
    }
    return SignIn::Unknown;
}

// Editors and AtomicFile replace the file; several events arrive for one change.
constexpr int kConfigSettleMs = 200;

QByteArray fileDigest(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&file);
    return hash.result();
}

// What the tray's dialog asked for, as the config file keeps it. Secret values stay out.
Result<store::ServerConfig> serverConfigOf(const Broker::NewServer &server)
{
    using Auth = Broker::NewServer::Auth;
    store::ServerConfig config;
    config.name = server.name;
    config.url = server.url;
    switch (server.auth) {
    case Auth::None:
        break;
    case Auth::Bearer:
        if (server.bearerToken.isEmpty()) {
            return Error::make(Error::Kind::InvalidInput,
                               QStringLiteral("Enter the bearer token for '%1'.").arg(server.name));
        }
        config.auth = store::UpstreamAuth::Bearer;
        break;
    case Auth::PreRegisteredClient:
        if (server.clientId.trimmed().isEmpty()) {
            return Error::make(Error::Kind::InvalidInput,
                               QStringLiteral("Enter the client id registered for MCP Broker at "
                                              "the provider of '%1'.")
                                       .arg(server.name));
        }
        config.oauth.clientId = server.clientId.trimmed();
        config.oauth.hasClientSecret = !server.clientSecret.isEmpty();
        Q_FALLTHROUGH();
    case Auth::OAuth:
        config.auth = store::UpstreamAuth::OAuth;
        config.oauth.scopes = server.scopes;
        break;
    }
    for (const QByteArray &secret : {server.bearerToken, server.clientSecret}) {
        const bool unsafe = std::any_of(secret.begin(), secret.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        });
        if (unsafe) {
            return Error::make(Error::Kind::InvalidInput,
                               QStringLiteral("A secret for '%1' contains a line break or another "
                                              "control character; paste it again.")
                                       .arg(server.name));
        }
    }
    return config;
}

void wipeSecrets(Broker::NewServer &server)
{
    store::wipe(server.bearerToken);
    store::wipe(server.clientSecret);
}

} // namespace

struct Broker::Private
{
    Broker *q;
    Options options;
    store::BrokerConfig config;
    std::unique_ptr<store::SecretStore> secrets;
    std::shared_ptr<oauth::BrowserLauncher> browser;
    std::unique_ptr<gateway::UpstreamRegistry> registry;
    std::unique_ptr<gateway::Router> router;
    std::unique_ptr<gateway::ClientGrants> grants;
    std::unique_ptr<gateway::LocalAuthorizationServer> authorizationServer;
    std::unique_ptr<gateway::ApprovalQueue> approvals;
    std::unique_ptr<store::AuditLog> audit;
    std::unique_ptr<gateway::ToolAccess> access;
    std::unique_ptr<gateway::LocalEndpoint> endpoint;
    QFileSystemWatcher watcher;
    QTimer reloadTimer;
    QByteArray configDigest; // of the file as last applied; other files in its folder change too
    bool paused = false;
    QString configProblem; // why the config file is not in use, while it is not
    QString grantsProblem; // why the grants file was set aside at start

    void watchConfig();
    void reloadConfig();
    void startWithoutConfig(const Error &why);
    Result<void> startGrants();
    json statusReport() const;
    oauth::UpstreamAuthorization *authorizationOf(const QString &serverName, Error *error) const;
    Result<void> allowFromNowOn(const gateway::ApprovalRequest &request);
};

Broker::Broker(Options options, QObject *parent) : QObject(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->options = std::move(options);
    if (d->options.configPath.isEmpty())
        d->options.configPath = store::ConfigStore::defaultPath();
    d->secrets = std::make_unique<store::SecretStore>(d->options.keychainService);
    d->browser = d->options.browser ? d->options.browser : std::make_shared<oauth::SystemBrowser>();
    d->registry = std::make_unique<gateway::UpstreamRegistry>(d->secrets.get(), d->browser.get());
    d->router = std::make_unique<gateway::Router>(d->registry.get());
    d->grants = std::make_unique<gateway::ClientGrants>(
            gateway::ClientGrants::grantsPathFor(d->options.configPath), d->secrets.get());
    connect(d->grants.get(), &gateway::ClientGrants::grantsChanged, this, &Broker::clientsChanged);
    d->authorizationServer
            = std::make_unique<gateway::LocalAuthorizationServer>(d->grants.get(), [this] {
                  QStringList names;
                  for (const store::ServerConfig &server : d->config.servers)
                      names.append(server.name);
                  return names;
              });
    connect(d->authorizationServer.get(), &gateway::LocalAuthorizationServer::consentRequested,
            this, &Broker::consentRequested);
    connect(d->authorizationServer.get(), &gateway::LocalAuthorizationServer::consentFinished, this,
            &Broker::consentFinished);
    d->approvals = std::make_unique<gateway::ApprovalQueue>();
    connect(d->approvals.get(), &gateway::ApprovalQueue::approvalRequested, this,
            &Broker::toolCallApprovalRequested);
    connect(d->approvals.get(), &gateway::ApprovalQueue::approvalFinished, this,
            &Broker::toolCallApprovalFinished);
    d->audit = std::make_unique<store::AuditLog>(d->options.auditLogPath.isEmpty()
                                                         ? store::AuditLog::defaultPath()
                                                         : d->options.auditLogPath);
    d->access = std::make_unique<gateway::ToolAccess>(d->approvals.get(), d->audit.get());
    d->router->setToolAccess(d->access.get());
    connect(d->registry.get(), &gateway::UpstreamRegistry::upstreamStateChanged, this,
            &Broker::serverStatusChanged);
    d->reloadTimer.setSingleShot(true);
    d->reloadTimer.setInterval(kConfigSettleMs);
    connect(&d->reloadTimer, &QTimer::timeout, this, [this] { d->reloadConfig(); });
}

Broker::~Broker()
{
    // The endpoint's sessions refer to the router, and the router to the upstreams.
    d->endpoint.reset();
    d->authorizationServer.reset();
    d->router.reset();
    d->registry.reset();
}

Result<void> Broker::start()
{
    auto config = store::ConfigStore(d->options.configPath).load();
    if (config)
        d->config = config.value();
    d->configDigest = fileDigest(d->options.configPath);
    d->access->setPolicy(gateway::ToolPolicy(d->config.policy));

    d->endpoint = std::make_unique<gateway::LocalEndpoint>(
            d->router.get(), d->grants.get(), d->authorizationServer.get(),
            [this](const QString &name) { return d->registry->find(name) != nullptr; },
            [this] { return d->statusReport(); });
    d->router->setTransport(d->endpoint->transport());
    if (auto listening = d->endpoint->listen(d->options.port.value_or(d->config.port)); !listening)
        return listening;
    // Only a broker that runs sets files aside. Requests wait for the grants (whenReady).
    if (!config)
        d->startWithoutConfig(config.error());
    if (auto grants = d->startGrants(); !grants)
        return grants;
    qCInfo(lcGateway).noquote() << "Serving" << endpointUrl().toString() << "with"
                                << d->config.servers.size() << "configured server(s)";
    d->registry->apply(d->config.servers);
    d->watchConfig();
    return {};
}

// A config file that cannot be used does not keep the broker from starting: it serves with no
// servers, says why (log, status), keeps a copy of the file and leaves the file itself alone,
// so that the user can fix it; the watcher applies it once it is valid.
void Broker::Private::startWithoutConfig(const Error &why)
{
    configProblem = why.message + QStringLiteral(" Until then it runs without servers");
    const QFileInfo file(options.configPath);
    if (!file.isFile() || !file.isReadable()) {
        configProblem += QLatin1Char('.'); // nothing to keep a copy of
    } else if (const auto copy = store::AtomicFile::keepCorruptCopy(options.configPath); copy) {
        configProblem += QStringLiteral("; a copy of the file is kept as %1.")
                                 .arg(QDir::toNativeSeparators(copy.value()));
    } else {
        configProblem += QStringLiteral(" (no copy of the file could be kept: %1)")
                                 .arg(copy.error().message);
    }
    qCWarning(lcStore).noquote() << configProblem;
}

// A damaged grants file is moved aside (the copy keeps every byte) and the broker starts with
// no local grants: clients are refused until they are granted again, or until the user puts
// the fixed file back. Left in place it would block every new grant as well.
Result<void> Broker::Private::startGrants()
{
    const auto started = grants->start(true);
    if (started)
        return {};
    qCWarning(lcGateway).noquote() << started.error().message;
    const QString path = gateway::ClientGrants::grantsPathFor(options.configPath);
    const auto copy = store::AtomicFile::keepCorruptCopy(path);
    if (!copy || !QFile::remove(path) || !grants->start(true))
        return started; // still there: nothing to serve clients with
    grantsProblem
            = QStringLiteral("The grants file %1 is damaged: MCP Broker moved it to %2 and "
                             "started without local grants. Grant each client again "
                             "(`mcp-broker grant create`, or sign in again), or fix the "
                             "copy and move it back.")
                      .arg(QDir::toNativeSeparators(path), QDir::toNativeSeparators(copy.value()));
    qCWarning(lcGateway).noquote() << grantsProblem;
    return {};
}

void Broker::Private::watchConfig()
{
    // Watch the directory too: an atomic rename replaces the file the watcher was following.
    const QFileInfo file(options.configPath);
    if (file.exists())
        watcher.addPath(file.absoluteFilePath());
    if (file.absoluteDir().exists())
        watcher.addPath(file.absolutePath());
    QObject::connect(&watcher, &QFileSystemWatcher::fileChanged, q,
                     [this] { reloadTimer.start(); });
    QObject::connect(&watcher, &QFileSystemWatcher::directoryChanged, q,
                     [this] { reloadTimer.start(); });
}

void Broker::Private::reloadConfig()
{
    const QFileInfo file(options.configPath);
    if (file.exists() && !watcher.files().contains(file.absoluteFilePath()))
        watcher.addPath(file.absoluteFilePath());
    const QByteArray digest = fileDigest(options.configPath);
    if (digest == configDigest)
        return;
    configDigest = digest;
    auto loaded = store::ConfigStore(options.configPath).load();
    if (!loaded) {
        configProblem = loaded.error().message
                + QStringLiteral(" MCP Broker keeps the servers it had until then.");
        qCWarning(lcStore).noquote() << configProblem;
        Q_EMIT q->serverStatusChanged(QString());
        return;
    }
    if (!configProblem.isEmpty())
        qCInfo(lcStore).noquote() << "The config file" << options.configPath << "is in use again";
    configProblem.clear();
    if (loaded.value().port != config.port && !options.port)
        qCWarning(lcStore)
                << "The port changed in the configuration; restart MCP Broker to use it.";
    config = loaded.value();
    access->setPolicy(gateway::ToolPolicy(config.policy));
    registry->apply(config.servers);
    Q_EMIT q->serverStatusChanged(QString());
}

// An "allow" rule for exactly this client, server and tool, first in the policy. Patterns treat
// '*' and '?' as wildcards, so a name containing one cannot be matched exactly: no rule then.
Result<void> Broker::Private::allowFromNowOn(const gateway::ApprovalRequest &request)
{
    for (const QString &name : {request.client, request.server, request.tool}) {
        if (name.contains(QLatin1Char('*')) || name.contains(QLatin1Char('?'))) {
            return Error::make(Error::Kind::InvalidInput,
                               QStringLiteral("Allowed once: \"%1\" contains a wildcard "
                                              "character, so no rule can name it exactly.")
                                       .arg(name));
        }
    }
    const store::ConfigStore configStore(options.configPath);
    auto loaded = configStore.load();
    if (!loaded)
        return loaded.error();
    store::PolicyRule rule;
    rule.client = request.client;
    rule.server = request.server;
    rule.tool = request.tool;
    rule.decision = store::PolicyDecision::Allow;
    store::BrokerConfig changed = loaded.value();
    if (!changed.policy.rules.contains(rule))
        changed.policy.rules.prepend(rule);
    if (auto saved = configStore.save(changed); !saved)
        return saved.error();
    // Applied now rather than when the watcher notices, so the next call is not asked about.
    config.policy = changed.policy;
    access->setPolicy(gateway::ToolPolicy(config.policy));
    qCInfo(lcGateway).noquote() << QStringLiteral("Always allowing '%1' to call %2 on '%3'")
                                           .arg(request.client, request.tool, request.server);
    return {};
}

json Broker::Private::statusReport() const
{
    json servers = json::array();
    for (const ServerStatus &status : q->serverStatuses()) {
        servers.push_back({{"name", toStd(status.name)},
                           {"url", toStd(status.url.toString())},
                           {"state", toStd(stateName(status.state))},
                           {"error", toStd(status.error)},
                           {"tools", status.toolCount}});
        if (status.signIn != ServerStatus::SignIn::NotApplicable) {
            servers.back()["signIn"] = toStd(signInName(status.signIn));
            servers.back()["tokenExpiresAt"] = status.tokenExpiresAtMs > 0
                    ? json(toStd(QDateTime::fromMSecsSinceEpoch(status.tokenExpiresAtMs, Qt::UTC)
                                         .toString(Qt::ISODate)))
                    : json();
        }
    }
    json problems = json::array();
    for (const QString &problem : q->problems())
        problems.push_back(toStd(problem));
    return {{"version", MCPB_VERSION},
            {"endpoint", toStd(q->endpointUrl().toString())},
            {"servers", std::move(servers)},
            {"problems", std::move(problems)}};
}

Result<void> Broker::checkServerName(const QString &name)
{
    return store::ConfigStore::validateServerName(name);
}

Result<void> Broker::checkServerUrl(const QUrl &url)
{
    return store::ConfigStore::validateServerUrl(url);
}

void Broker::applyConfigNow()
{
    if (d->endpoint)
        d->reloadConfig();
}

QStringList Broker::problems() const
{
    QStringList problems;
    for (const QString &problem : {d->configProblem, d->grantsProblem}) {
        if (!problem.isEmpty())
            problems.append(problem);
    }
    return problems;
}

quint16 Broker::port() const
{
    return d->endpoint ? d->endpoint->port() : 0;
}

QUrl Broker::endpointUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(port()));
}

QList<Broker::ServerStatus> Broker::serverStatuses() const
{
    QList<ServerStatus> statuses;
    for (const store::ServerConfig &server : d->config.servers) {
        ServerStatus status;
        status.name = server.name;
        status.url = server.url;
        const gateway::Upstream *upstream = d->registry->find(server.name);
        if (!server.enabled || !upstream) {
            status.state = ServerStatus::State::Disabled;
        } else {
            switch (upstream->state()) {
            case gateway::Upstream::State::Connecting:
                status.state = ServerStatus::State::Connecting;
                break;
            case gateway::Upstream::State::Ready:
                status.state = ServerStatus::State::Ready;
                break;
            case gateway::Upstream::State::Failed:
                status.state = ServerStatus::State::Failed;
                status.error = upstream->errorText();
                break;
            case gateway::Upstream::State::NeedsSignIn:
                status.state = ServerStatus::State::NeedsSignIn;
                status.error = upstream->errorText();
                break;
            }
            status.toolCount = upstream->toolCount();
            if (const oauth::UpstreamAuthorization *authorization = upstream->authorization()) {
                status.signIn = signInState(authorization->state());
                status.tokenExpiresAtMs = authorization->expiresAtMs();
            }
        }
        statuses.append(status);
    }
    return statuses;
}

QString Broker::stateName(ServerStatus::State state)
{
    switch (state) {
    case ServerStatus::State::Connecting:
        return QStringLiteral("connecting");
    case ServerStatus::State::Ready:
        return QStringLiteral("ready");
    case ServerStatus::State::Failed:
        return QStringLiteral("failed");
    case ServerStatus::State::Disabled:
        return QStringLiteral("disabled");
    case ServerStatus::State::NeedsSignIn:
        return QStringLiteral("needs-sign-in");
    }
    return {};
}

QString Broker::signInName(ServerStatus::SignIn signIn)
{
    switch (signIn) {
    case ServerStatus::SignIn::NotApplicable:
        return {};
    case ServerStatus::SignIn::Unknown:
        return QStringLiteral("unknown");
    case ServerStatus::SignIn::SignedIn:
        return QStringLiteral("signed-in");
    case ServerStatus::SignIn::NeedsSignIn:
        return QStringLiteral("needs-sign-in");
    case ServerStatus::SignIn::SigningIn:
        return QStringLiteral("signing-in");
    }
    return {};
}

oauth::UpstreamAuthorization *Broker::Private::authorizationOf(const QString &serverName,
                                                               Error *error) const
{
    const gateway::Upstream *upstream = registry->find(serverName);
    if (upstream && upstream->authorization())
        return upstream->authorization();
    *error = Error::make(Error::Kind::NotFound,
                         QStringLiteral("No enabled server named '%1' signs in with OAuth; "
                                        "`mcp-broker list` shows the servers.")
                                 .arg(serverName));
    return nullptr;
}

void Broker::signIn(const QString &serverName, DoneCallback done)
{
    Error error;
    oauth::UpstreamAuthorization *authorization = d->authorizationOf(serverName, &error);
    if (!authorization)
        return done(error);
    authorization->signIn(std::move(done));
}

void Broker::signOut(const QString &serverName, std::function<void(Result<QString>)> done)
{
    Error error;
    oauth::UpstreamAuthorization *authorization = d->authorizationOf(serverName, &error);
    if (!authorization)
        return done(error);
    authorization->signOut(std::move(done));
}

QList<gateway::ClientGrant> Broker::clients() const
{
    return d->grants->grants();
}

void Broker::revokeClient(const QString &grantIdOrName, DoneCallback done)
{
    d->grants->revoke(grantIdOrName, [done = std::move(done)](auto revoked) {
        if (!revoked)
            return done(revoked.error());
        done({});
    });
}

QList<gateway::ConsentRequest> Broker::pendingConsents() const
{
    return d->authorizationServer->pendingConsents();
}

void Broker::approveConsent(const QString &consentId, const QStringList &servers, bool remember)
{
    d->authorizationServer->approve(consentId, servers, remember);
}

void Broker::denyConsent(const QString &consentId, bool remember)
{
    d->authorizationServer->deny(consentId, remember);
}

void Broker::setApproverPresent(bool present)
{
    d->approvals->setApproverPresent(present);
}

QList<gateway::ApprovalRequest> Broker::pendingApprovals() const
{
    return d->approvals->pending();
}

void Broker::approveToolCall(const QString &approvalId)
{
    d->approvals->approve(approvalId);
}

Result<void> Broker::approveToolCallAlways(const QString &approvalId)
{
    const QList<gateway::ApprovalRequest> pending = d->approvals->pending();
    const auto request = std::find_if(pending.begin(), pending.end(),
                                      [&](const auto &item) { return item.id == approvalId; });
    if (request == pending.end()) {
        return Error::make(Error::Kind::NotFound,
                           QStringLiteral("The tool call no longer waits for an answer."));
    }
    d->approvals->approve(approvalId);
    return d->allowFromNowOn(*request);
}

void Broker::addServer(NewServer server, DoneCallback done)
{
    auto added = serverConfigOf(server);
    if (!added) {
        wipeSecrets(server);
        return done(added.error());
    }
    // Moved to the editor, which wipes them once written; what the method does not use is
    // wiped here.
    QList<store::ServerEditor::Secret> secrets;
    if (server.auth == NewServer::Auth::Bearer)
        secrets.append({store::SecretKeys::bearer(server.name), std::move(server.bearerToken)});
    if (server.auth == NewServer::Auth::PreRegisteredClient && !server.clientSecret.isEmpty()) {
        secrets.append({store::SecretKeys::oauthClientSecret(server.name),
                        std::move(server.clientSecret)});
    }
    wipeSecrets(server);
    auto *editor = new store::ServerEditor(d->options.configPath, d->secrets.get(), this);
    editor->add(added.value(), std::move(secrets),
                [this, editor, done = std::move(done)](Result<void> result) {
                    editor->deleteLater();
                    // Applied now, not when the watcher notices: the caller may sign in next.
                    if (result)
                        d->reloadConfig();
                    done(std::move(result));
                });
}

void Broker::removeServer(const QString &serverName, std::function<void(Result<QString>)> done)
{
    auto *editor = new store::ServerEditor(d->options.configPath, d->secrets.get(), this);
    auto signOut = [this](const store::ServerConfig &server,
                          std::function<void(Result<QString>)> signedOut) {
        Error error;
        oauth::UpstreamAuthorization *authorization = d->authorizationOf(server.name, &error);
        if (!authorization) {
            // A disabled server has no sign-in running here; its tokens are deleted with its
            // other secrets, without telling its authorization server.
            return signedOut(QString());
        }
        authorization->signOut(std::move(signedOut));
    };
    editor->remove(serverName, signOut,
                   [this, editor, done = std::move(done)](Result<QString> result) {
                       editor->deleteLater();
                       if (result)
                           d->reloadConfig();
                       done(std::move(result));
                   });
}

void Broker::setPaused(bool paused)
{
    if (d->paused == paused)
        return;
    d->paused = paused;
    if (d->endpoint)
        d->endpoint->setPaused(paused);
    qCInfo(lcGateway) << (paused ? "Paused: every client request is refused"
                                 : "Resumed: clients are served again");
    Q_EMIT pausedChanged(paused);
}

bool Broker::isPaused() const
{
    return d->paused;
}

QString Broker::auditLogPath() const
{
    return d->audit->path();
}

QString Broker::configPath() const
{
    return d->options.configPath;
}

void Broker::denyToolCall(const QString &approvalId)
{
    d->approvals->deny(approvalId);
}

} // namespace mcpbroker
