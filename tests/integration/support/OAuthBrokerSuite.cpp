#include "OAuthBrokerSuite.h"

#include "Peers.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

namespace mcpbroker::integration {

namespace {

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            && file.write(bytes) == bytes.size();
}

int lineCount(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    return int(file.readAll().count('\n'));
}

QString browserLog(const QTemporaryDir &scratch)
{
    return scratch.filePath(QStringLiteral("browser.log"));
}

} // namespace

OAuthBrokerSuite::OAuthBrokerSuite() = default;
OAuthBrokerSuite::~OAuthBrokerSuite() = default;

void OAuthBrokerSuite::initTestCase()
{
    const QString missing = Peers::missing();
    if (!missing.isEmpty())
        QFAIL(qPrintable(missing));
}

void OAuthBrokerSuite::init()
{
    m_server = QStringLiteral("secure-%1").arg(++m_testNumber);
    m_scratch = std::make_unique<QTemporaryDir>();
    QVERIFY(m_scratch->isValid());
    m_peers = std::make_unique<OAuthPeers>();
    m_broker = std::make_unique<BrokerProcess>();
    QProcessEnvironment &environment = m_broker->environment();
    environment.insert(QStringLiteral("BROWSER"), OAuthPeers::browserScript());
    environment.insert(QStringLiteral("MCPB_BROWSER_LOG"), browserLog(*m_scratch));
    environment.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("mcpbroker.*.info=true"));
}

void OAuthBrokerSuite::cleanup()
{
    if (QTest::currentTestFailed() && m_broker && m_peers) {
        qWarning().noquote() << m_broker->diagnostics();
        qWarning().noquote() << m_peers->diagnostics();
    }
    m_broker.reset();
    m_peers.reset();
    m_scratch.reset();
}

void OAuthBrokerSuite::setUpOAuthServer(const QStringList &serverArguments,
                                        const QJsonObject &oauth,
                                        const QStringList &resourceArguments)
{
    QString why;
    QVERIFY2(m_peers->start(serverArguments, resourceArguments, &why), qPrintable(why));
    QJsonObject server{{QStringLiteral("name"), m_server},
                       {QStringLiteral("url"), m_peers->mcpUrl().toString()},
                       {QStringLiteral("auth"), QStringLiteral("oauth")}};
    if (!oauth.isEmpty())
        server[QStringLiteral("oauth")] = oauth;
    const QJsonObject config{{QStringLiteral("servers"), QJsonArray{server}}};
    QVERIFY(writeFile(m_broker->configPath(), QJsonDocument(config).toJson()));
}

bool OAuthBrokerSuite::startBroker()
{
    if (!m_broker->start())
        return false;
    m_http.setDefaultHeaders(m_broker->authorization());
    return true;
}

int OAuthBrokerSuite::browserLaunches() const
{
    return lineCount(browserLog(*m_scratch));
}

QString OAuthBrokerSuite::scratchPath(const QString &name) const
{
    return m_scratch->filePath(name);
}

} // namespace mcpbroker::integration
