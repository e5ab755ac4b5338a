#pragma once

#include "gateway/Upstream.h"
#include "store/ServerConfig.h"

#include <QList>
#include <QObject>

#include <memory>
#include <vector>

namespace mcpbroker::store {
class SecretStore;
}
namespace mcpbroker::oauth {
class BrowserLauncher;
}

namespace mcpbroker::gateway {

// The configured upstream servers, kept in step with the configuration: adds, removes and
// restarts upstreams when their entry changes, and gives each its credentials from the keychain.
class UpstreamRegistry : public QObject
{
    Q_OBJECT
public:
    // `secrets` and `browser` (for OAuth sign-ins) must outlive the registry.
    UpstreamRegistry(store::SecretStore *secrets, oauth::BrowserLauncher *browser,
                     QObject *parent = nullptr);
    ~UpstreamRegistry() override;

    // Makes the set of enabled upstreams match `servers` (config order). Credentials are read
    // again for every server, so a token replaced in the keychain is picked up too.
    void apply(const QList<store::ServerConfig> &servers);

    Upstream *find(const QString &name) const;
    QList<Upstream *> upstreams() const; // config order

Q_SIGNALS:
    void upstreamsChanged(); // one was added or removed
    void upstreamStateChanged(const QString &name);
    // An upstream's catalog changed (list_changed, or a new session after a reconnect).
    void catalogChanged(const QString &name, mcpbroker::gateway::CatalogKind kind);
    // A message on an upstream's standalone stream, other than list_changed.
    void serverMessage(const QString &name, const nlohmann::json &message);

private:
    void loadCredentials(Upstream *upstream);

    store::SecretStore *m_secrets;
    oauth::BrowserLauncher *m_browser;
    std::vector<std::unique_ptr<Upstream>> m_upstreams;
};

} // namespace mcpbroker::gateway
