#pragma once

#include "BrokerProcess.h"
#include "McpHttp.h"
#include "OAuthPeers.h"

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>

class QTemporaryDir;

namespace mcpbroker::integration {

// The base of a suite in which the real broker signs in to an OAuth-protected MCP server through
// the scripted browser. Each test gets fresh OAuth peers, a broker whose $BROWSER is the scripted
// browser (it notes each launch in a log of the test's own), an HTTP client with the broker's
// grant, and a server name of its own (the tests of a run share the keychain). A failed test
// logs the broker's and the peers' output.
class OAuthBrokerSuite : public QObject
{
    Q_OBJECT

public:
    OAuthBrokerSuite();
    ~OAuthBrokerSuite() override;

protected:
    // Starts the peers (arguments as for OAuthPeers::start) and writes a config with the one
    // OAuth server m_server, `oauth` as its "oauth" entry. The broker is not started.
    void setUpOAuthServer(const QStringList &serverArguments = {}, const QJsonObject &oauth = {},
                          const QStringList &resourceArguments = {});
    // Starts the broker and gives m_http its grant (the first start makes the grant; restarts
    // keep it).
    bool startBroker();
    // m_server's entry in one GET /status (no waiting).
    QJsonObject serverStatus() const { return m_broker->serverStatus(m_server); }
    // How often the scripted browser was launched in this test.
    int browserLaunches() const;
    // A path in this test's scratch folder.
    QString scratchPath(const QString &name) const;

    QString m_server;
    std::unique_ptr<OAuthPeers> m_peers;
    std::unique_ptr<BrokerProcess> m_broker;
    McpHttp m_http;

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

private:
    int m_testNumber = 0;
    std::unique_ptr<QTemporaryDir> m_scratch;
};

} // namespace mcpbroker::integration
