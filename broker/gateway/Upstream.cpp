#include "gateway/Upstream.h"

#include "Logging.h"
#include "mcp/JsonRpc.h"
#include "mcp/StreamableHttpClient.h"
#include "oauth/UpstreamAuthorization.h"

#include <QDateTime>
#include <QNetworkAccessManager>
#include <QPointer>

#include <algorithm>

namespace mcpbroker::gateway {

using json = nlohmann::json;
using namespace mcp::jsonrpc;

namespace {

constexpr int kMaxListPages = 100;
// A catalog of a server that does not announce list changes is fetched again after this long.
constexpr qint64 kUnannouncedCatalogTtlMs = 2'000;
constexpr int kFirstRetryMs = 2'000;
constexpr int kMaxRetryMs = 60'000;
// How long a call that needs sign-in waits for the sign-in page, to name it in its error.
constexpr int kSignInPageWaitMs = 10'000;
constexpr qint64 kSignInCheckIntervalMs = 5'000;

// The server capability that announces a catalog kind.
const char *capabilityKey(CatalogKind kind)
{
    switch (kind) {
    case CatalogKind::Tools:
        return "tools";
    case CatalogKind::Prompts:
        return "prompts";
    case CatalogKind::Resources:
    case CatalogKind::ResourceTemplates:
        return "resources";
    }
    return "";
}

} // namespace

Upstream::Upstream(store::ServerConfig config, QNetworkAccessManager *network, QObject *parent)
    : QObject(parent), m_config(std::move(config)),
      m_network(network ? network : new QNetworkAccessManager(this))
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] {
        if (m_client)
            m_client->connectToServer();
    });
}

Upstream::~Upstream()
{
    if (m_client)
        m_client->disconnectFromServer();
    m_client.reset(); // before the authorization it uses
}

void Upstream::useOAuth(store::SecretStore *secrets, oauth::BrowserLauncher *browser)
{
    m_authorization
            = std::make_shared<oauth::UpstreamAuthorization>(m_config, m_network, secrets, browser);
    connect(m_authorization.get(), &oauth::UpstreamAuthorization::stateChanged, this,
            &Upstream::onAuthorizationStateChanged);
}

void Upstream::onAuthorizationStateChanged()
{
    using AuthState = oauth::UpstreamAuthorization::State;
    const AuthState state = m_authorization->state();
    if (state == AuthState::SignedIn && m_client
        && (m_state == State::NeedsSignIn || m_state == State::Failed)) {
        qCInfo(lcGateway).noquote() << "Server" << name() << "is signed in; connecting";
        m_retryTimer.stop();
        setState(State::Connecting);
        m_client->connectToServer();
    } else if (state == AuthState::NeedsSignIn && m_state == State::Ready) {
        // Signed out (or the refresh was refused): calls fail until the user signs in again.
        setState(State::NeedsSignIn, m_authorization->signInNeededError().message);
    } else {
        Q_EMIT stateChanged(); // the sign-in state is part of what the status shows
    }
}

bool Upstream::needsSignIn() const
{
    return m_authorization
            && m_authorization->state() != oauth::UpstreamAuthorization::State::SignedIn;
}

void Upstream::requireSignIn(std::function<void(Error)> done)
{
    if (!m_authorization)
        return done(Error::make(
                Error::Kind::Unauthorized,
                QStringLiteral("Server '%1' refused the broker's credentials.").arg(name())));
    QPointer<Upstream> self(this);
    auto answered = std::make_shared<bool>(false);
    auto answer = [self, answered, done] {
        if (*answered || !self)
            return;
        *answered = true;
        done(self->m_authorization->signInNeededError());
    };
    if (!m_authorization->signInUrl().isEmpty())
        return answer();
    connect(m_authorization.get(), &oauth::UpstreamAuthorization::signInUrlReady, this, answer,
            Qt::SingleShotConnection);
    QTimer::singleShot(kSignInPageWaitMs, this, answer);
    m_authorization->signIn([self, answered, done](Result<void> signedIn) {
        if (signedIn || *answered || !self)
            return;
        // It failed before it had a page (discovery, registration): that is the answer.
        *answered = true;
        Error error = signedIn.error();
        error.message = QStringLiteral("Server '%1' needs sign-in, but it cannot start: %2")
                                .arg(self->name(), error.message);
        done(error);
    });
}

int Upstream::toolCount() const
{
    const auto it = m_caches.find(CatalogKind::Tools);
    return it == m_caches.end() ? 0 : int(it->second.items->size());
}

const char *Upstream::itemsKey(CatalogKind kind)
{
    switch (kind) {
    case CatalogKind::Tools:
        return "tools";
    case CatalogKind::Prompts:
        return "prompts";
    case CatalogKind::Resources:
        return "resources";
    case CatalogKind::ResourceTemplates:
        return "resourceTemplates";
    }
    return "";
}

QString Upstream::listMethod(CatalogKind kind)
{
    switch (kind) {
    case CatalogKind::Tools:
        return QStringLiteral("tools/list");
    case CatalogKind::Prompts:
        return QStringLiteral("prompts/list");
    case CatalogKind::Resources:
        return QStringLiteral("resources/list");
    case CatalogKind::ResourceTemplates:
        return QStringLiteral("resources/templates/list");
    }
    return {};
}

void Upstream::start(Headers headers)
{
    m_headers = std::move(headers);
    m_started = true;
    m_caches.clear();
    mcp::StreamableHttpClient::Options options;
    options.url = m_config.url;
    options.headers = m_headers;
    options.requestTimeoutMs = m_config.requestTimeoutMs;
    // A server that takes longer to answer initialize than any request may take is not coming.
    options.connectTimeoutMs = std::min(options.connectTimeoutMs, m_config.requestTimeoutMs);
    // The broker passes sampling and elicitation requests on to the downstream client that made
    // the call; it says no for a client that cannot answer them.
    options.capabilities = {{"sampling", json::object()}, {"elicitation", json::object()}};
    options.authorizer = m_authorization;
    m_client = std::make_unique<mcp::StreamableHttpClient>(options, m_network);
    connect(m_client.get(), &mcp::StreamableHttpClient::stateChanged, this,
            &Upstream::onClientStateChanged);
    connect(m_client.get(), &mcp::StreamableHttpClient::serverMessage, this,
            &Upstream::onServerMessage);
    setState(State::Connecting);
    if (!m_authorization)
        return m_client->connectToServer();
    // The tokens first, so that the first request already carries one.
    QPointer<Upstream> self(this);
    m_authorization->restore([self](Result<void>) {
        if (self && self->m_client)
            self->m_client->connectToServer();
    });
}

void Upstream::fail(const Error &error)
{
    m_client.reset();
    setState(State::Failed, error.message);
}

json Upstream::capabilities() const
{
    return m_client ? m_client->serverCapabilities() : json::object();
}

QString Upstream::instructions() const
{
    return m_client ? m_client->instructions() : QString();
}

void Upstream::setState(State state, const QString &errorText)
{
    if (m_state == state && m_errorText == errorText)
        return;
    m_state = state;
    m_errorText = errorText;
    Q_EMIT stateChanged();
}

void Upstream::onClientStateChanged()
{
    switch (m_client->state()) {
    case mcp::StreamableHttpClient::State::Ready:
        m_failures = 0;
        qCInfo(lcGateway).noquote() << "Server" << name() << "is ready";
        setState(State::Ready);
        // Catalogs from the previous session may be out of date.
        for (auto &[kind, cache] : m_caches)
            cache.stale = true;
        load(CatalogKind::Tools);
        Q_EMIT catalogChanged(CatalogKind::Tools);
        break;
    case mcp::StreamableHttpClient::State::Failed: {
        if (m_authorization && m_client->lastError().kind == Error::Kind::Unauthorized
            && m_authorization->state() != oauth::UpstreamAuthorization::State::SignedIn) {
            // Waits for a sign-in (onAuthorizationStateChanged), not for a timer.
            setState(State::NeedsSignIn, m_client->lastError().message);
            break;
        }
        setState(State::Failed,
                 QStringLiteral("Server '%1': %2").arg(name(), m_client->lastError().message));
        const int delay = std::min(kFirstRetryMs << std::min(m_failures, 5), kMaxRetryMs);
        ++m_failures;
        m_retryTimer.start(delay);
        break;
    }
    case mcp::StreamableHttpClient::State::Disconnected:
        // The connection dropped (e.g. the upstream restarted): reconnect now.
        setState(State::Connecting);
        m_retryTimer.start(0);
        break;
    case mcp::StreamableHttpClient::State::Connecting:
        if (m_state != State::Failed && m_state != State::NeedsSignIn)
            setState(State::Connecting);
        break;
    }
}

void Upstream::onServerMessage(const json &message)
{
    const QString method = mcp::jsonrpc::method(message);
    auto changed = [this](std::initializer_list<CatalogKind> kinds) {
        for (CatalogKind kind : kinds) {
            m_caches[kind].stale = true;
            if (kind == CatalogKind::Tools)
                load(kind); // keeps the tool count in the status current
            Q_EMIT catalogChanged(kind);
        }
    };
    if (method == QLatin1String("notifications/tools/list_changed"))
        changed({CatalogKind::Tools});
    else if (method == QLatin1String("notifications/prompts/list_changed"))
        changed({CatalogKind::Prompts});
    else if (method == QLatin1String("notifications/resources/list_changed"))
        changed({CatalogKind::Resources, CatalogKind::ResourceTemplates});
    else if (method == QLatin1String("ping") && classify(message) == MessageKind::Request)
        m_client->respond(makeResult(message["id"], json::object()));
    else
        Q_EMIT serverMessage(message);
}

bool Upstream::offers(CatalogKind kind) const
{
    return capabilities().contains(capabilityKey(kind));
}

bool Upstream::isFresh(CatalogKind kind, const Cache &cache) const
{
    if (!cache.loaded || cache.stale)
        return false;
    const json capability = capabilities().value(capabilityKey(kind), json::object());
    if (capability.is_object() && capability.value("listChanged", false) == true)
        return true;
    return QDateTime::currentMSecsSinceEpoch() - cache.loadedAtMs < kUnannouncedCatalogTtlMs;
}

void Upstream::catalog(CatalogKind kind, CatalogCallback done)
{
    if (!m_client) {
        done(Error::make(Error::Kind::Unreachable, m_errorText));
        return;
    }
    Cache &cache = m_caches[kind];
    if (isFresh(kind, cache)) {
        done(cache.items);
        return;
    }
    if (m_state == State::NeedsSignIn) {
        // Another process (`mcp-broker login`) may have signed in since: a reconnect reads
        // the keychain again. At most every few seconds, whatever the number of lists.
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        if (now - m_lastSignInCheckMs >= kSignInCheckIntervalMs) {
            m_lastSignInCheckMs = now;
            m_client->connectToServer();
        }
        done(Error::make(Error::Kind::Unauthorized, m_errorText));
        return;
    }
    if (m_state == State::Failed) {
        // The retry timer reconnects; a list does not wait for a server known to be down.
        done(cache.loaded
                     ? Result<CatalogItems>(cache.items)
                     : Result<CatalogItems>(Error::make(Error::Kind::Unreachable, m_errorText)));
        return;
    }
    cache.waiters.push_back(std::move(done));
    load(kind);
}

void Upstream::load(CatalogKind kind)
{
    Cache &cache = m_caches[kind];
    if (cache.loading || !m_client)
        return;
    if (m_client->state() == mcp::StreamableHttpClient::State::Ready && !offers(kind)) {
        finishLoad(kind, json::array());
        return;
    }
    cache.loading = true;
    fetchPage(kind, json::array(), json(), 1);
}

void Upstream::fetchPage(CatalogKind kind, json collected, const json &cursor, int pageNumber)
{
    json params = json::object();
    if (!cursor.is_null())
        params["cursor"] = cursor;
    QPointer<Upstream> guard(this);
    mcp::StreamableHttpClient::RequestCallbacks callbacks;
    callbacks.onResult = [this, guard, kind, collected = std::move(collected),
                          pageNumber](Result<json> result) mutable {
        if (!guard)
            return;
        if (!result) {
            finishLoad(kind, result.error());
            return;
        }
        const json &page = result.value();
        const json items = page.value(itemsKey(kind), json::array());
        if (items.is_array())
            collected.insert(collected.end(), items.begin(), items.end());
        const json next = page.value("nextCursor", json());
        if (next.is_string() && pageNumber < kMaxListPages) {
            fetchPage(kind, std::move(collected), next, pageNumber + 1);
            return;
        }
        finishLoad(kind, std::move(collected));
    };
    m_client->request(listMethod(kind), params, std::move(callbacks));
}

void Upstream::finishLoad(CatalogKind kind, Result<json> result)
{
    Cache &cache = m_caches[kind];
    cache.loading = false;
    const bool countChanged
            = kind == CatalogKind::Tools && result && result.value().size() != cache.items->size();
    if (result) {
        cache.items = std::make_shared<const json>(std::move(result).value());
        cache.loaded = true;
        cache.stale = false;
        cache.loadedAtMs = QDateTime::currentMSecsSinceEpoch();
    } else if (result.error().kind == Error::Kind::Rpc
               && result.error().rpcCode == ErrorCode::kMethodNotFound) {
        // the server has no such list
        cache.items = std::make_shared<const json>(json::array());
        cache.loaded = true;
        cache.stale = false;
        cache.loadedAtMs = QDateTime::currentMSecsSinceEpoch();
    } else {
        qCWarning(lcGateway).noquote() << "Server" << name() << "-" << listMethod(kind)
                                       << "failed:" << result.error().message;
    }
    std::vector<CatalogCallback> waiters = std::move(cache.waiters);
    cache.waiters.clear();
    // A failed load answers with the items from before, if any.
    const Result<CatalogItems> answer = cache.loaded ? Result<CatalogItems>(cache.items)
                                                     : Result<CatalogItems>(result.error());
    for (CatalogCallback &waiter : waiters)
        waiter(answer);
    if (countChanged)
        Q_EMIT stateChanged();
}

} // namespace mcpbroker::gateway
