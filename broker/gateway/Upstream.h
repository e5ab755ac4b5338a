#pragma once

#include "Result.h"
#include "store/ServerConfig.h"

#include <QList>
#include <QObject>
#include <QPair>
#include <QTimer>

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>

class QNetworkAccessManager;

namespace mcpbroker::mcp {
class StreamableHttpClient;
}
namespace mcpbroker::oauth {
class BrowserLauncher;
class UpstreamAuthorization;
} // namespace mcpbroker::oauth
namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::gateway {

// What one upstream server offers, by list method.
enum class CatalogKind { Tools, Prompts, Resources, ResourceTemplates };

// One configured upstream MCP server: its shared client session, its state for the user, and
// a cache of its catalogs (tools, prompts, resources, templates) kept fresh by list_changed.
// Every downstream session shares this one upstream session.
class Upstream : public QObject
{
    Q_OBJECT
public:
    enum class State { Connecting, Ready, Failed, NeedsSignIn };
    using Headers = QList<QPair<QByteArray, QByteArray>>;
    // A whole list, shared rather than copied: the cache hands out the same one until a load
    // replaces it, so a holder can tell an unchanged catalog by the pointer.
    using CatalogItems = std::shared_ptr<const nlohmann::json>;
    using CatalogCallback = std::function<void(Result<CatalogItems> items)>;

    // `network` null: the upstream gets a network manager of its own. Qt opens at most six
    // connections per host and port, and each upstream keeps one busy with its GET stream, so
    // several upstreams behind one gateway must not share a manager.
    Upstream(store::ServerConfig config, QNetworkAccessManager *network = nullptr,
             QObject *parent = nullptr);
    ~Upstream() override;

    QString name() const { return m_config.name; }
    const store::ServerConfig &config() const { return m_config; }
    State state() const { return m_state; }
    QString errorText() const { return m_errorText; }
    int toolCount() const;

    // An OAuth upstream (auth "oauth"): its requests carry the tokens of a sign-in. Call before
    // start(). `secrets` and `browser` must outlive the upstream.
    void useOAuth(store::SecretStore *secrets, oauth::BrowserLauncher *browser);
    oauth::UpstreamAuthorization *authorization() const { return m_authorization.get(); }
    // An OAuth upstream without usable tokens (a refusal while signed in is not this).
    bool needsSignIn() const;
    // The error for a call that needs the user to sign in: starts the sign-in (once, however
    // many calls ask) and answers when its page is known, so the error can name it.
    void requireSignIn(std::function<void(Error)> done);

    // Connects with these request headers (the credentials read from the keychain).
    void start(Headers headers);
    // The upstream cannot be used (e.g. its credentials are unreadable); says why.
    void fail(const Error &error);
    bool hasHeaders(const Headers &headers) const { return m_started && m_headers == headers; }

    mcp::StreamableHttpClient *client() const { return m_client.get(); }
    nlohmann::json capabilities() const; // empty until the first initialize
    QString instructions() const;

    // The whole list (every page) of `kind`, from the cache when it is fresh. Fails when the
    // upstream cannot be reached and nothing is cached.
    void catalog(CatalogKind kind, CatalogCallback done);

    static QString listMethod(CatalogKind kind);
    // The member of a list result that holds the items: "tools", "resourceTemplates", …
    static const char *itemsKey(CatalogKind kind);

Q_SIGNALS:
    void stateChanged();
    void catalogChanged(mcpbroker::gateway::CatalogKind kind);
    // Messages on the upstream's standalone stream other than list_changed.
    void serverMessage(const nlohmann::json &message);

private:
    struct Cache
    {
        CatalogItems items = std::make_shared<const nlohmann::json>(nlohmann::json::array());
        bool loaded = false;
        bool stale = true;
        qint64 loadedAtMs = 0;
        std::vector<CatalogCallback> waiters;
        bool loading = false;
    };

    void setState(State state, const QString &errorText = {});
    void onClientStateChanged();
    void onAuthorizationStateChanged();
    void onServerMessage(const nlohmann::json &message);
    bool offers(CatalogKind kind) const;
    bool isFresh(CatalogKind kind, const Cache &cache) const;
    void load(CatalogKind kind);
    void fetchPage(CatalogKind kind, nlohmann::json collected, const nlohmann::json &cursor,
                   int pageNumber);
    void finishLoad(CatalogKind kind, Result<nlohmann::json> result);

    store::ServerConfig m_config;
    QNetworkAccessManager *m_network;
    std::shared_ptr<oauth::UpstreamAuthorization> m_authorization;
    std::unique_ptr<mcp::StreamableHttpClient> m_client;
    Headers m_headers;
    bool m_started = false;
    State m_state = State::Connecting;
    QString m_errorText;
    std::map<CatalogKind, Cache> m_caches;
    QTimer m_retryTimer;
    int m_failures = 0;
    qint64 m_lastSignInCheckMs = 0;
};

} // namespace mcpbroker::gateway
