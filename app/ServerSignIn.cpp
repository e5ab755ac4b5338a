#include "ServerSignIn.h"

#include "ServerListing.h"
#include "oauth/BrowserLauncher.h"
#include "oauth/UpstreamAuthorization.h"
#include "store/ConfigStore.h"

#include <QNetworkAccessManager>

namespace mcpbroker::app {

ServerSignIn::ServerSignIn(const store::ServerConfig &server, store::SecretStore *keychain,
                           QObject *parent)
    : QObject(parent), m_network(new QNetworkAccessManager(this)),
      m_browser(std::make_unique<oauth::SystemBrowser>()),
      m_authorization(
              new oauth::UpstreamAuthorization(server, m_network, keychain, m_browser.get(), this))
{ }

ServerSignIn::~ServerSignIn()
{
    // Before the network and the browser it uses: QObject would delete it after them.
    delete m_authorization;
}

Result<store::ServerConfig> ServerSignIn::oauthServer(const QString &configPath,
                                                      const QString &name)
{
    const auto config = store::ConfigStore(configPath).load();
    if (!config)
        return config.error();
    const store::ServerConfig *server = config.value().server(name);
    if (!server)
        return ServerListing::unknownServer(name);
    if (server->auth != store::UpstreamAuth::OAuth) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("Server '%1' does not sign in with OAuth (auth: %2): "
                                          "there is no sign-in to start or end. Servers added "
                                          "with `mcp-broker add NAME URL --oauth` have one.")
                                   .arg(name, ServerListing::authDescription(*server)));
    }
    return *server;
}

} // namespace mcpbroker::app
