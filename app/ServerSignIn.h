#pragma once

#include "Result.h"
#include "store/ServerConfig.h"

#include <QObject>

#include <memory>

class QNetworkAccessManager;

namespace mcpbroker::oauth {
class SystemBrowser;
class UpstreamAuthorization;
} // namespace mcpbroker::oauth

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::app {

// The sign-in of one OAuth server, run in this process for `login`, `logout` and `remove`: an
// oauth::UpstreamAuthorization with network access of its own, the keychain it is given and
// the system browser, as a running broker has them. A running `serve` finds what this one
// stores in the keychain.
class ServerSignIn : public QObject
{
    Q_OBJECT
public:
    // `keychain` must outlive this object.
    ServerSignIn(const store::ServerConfig &server, store::SecretStore *keychain,
                 QObject *parent = nullptr);
    ~ServerSignIn() override;

    oauth::UpstreamAuthorization *authorization() const { return m_authorization; }

    // The server `name` of the config file `configPath`, when it signs in with OAuth; else a
    // sentence saying why not (NotFound for a name the config does not have).
    static Result<store::ServerConfig> oauthServer(const QString &configPath, const QString &name);

private:
    QNetworkAccessManager *m_network;
    std::unique_ptr<oauth::SystemBrowser> m_browser;
    oauth::UpstreamAuthorization *m_authorization;
};

} // namespace mcpbroker::app
