#include "oauth/WellKnownUrls.h"

#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

QStringList strings(const Result<QList<QUrl>> &urls)
{
    QStringList result;
    if (!urls)
        return {u"error: "_qs + urls.error().message};
    for (const QUrl &url : urls.value())
        result.append(url.toString(QUrl::FullyEncoded));
    return result;
}

} // namespace

class TestWellKnownUrls : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void protectedResourceMetadataIsPathAwareThenRoot_data()
    {
        QTest::addColumn<QString>("server");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("mcp spec example")
                << u"https://example.com/public/mcp"_qs
                << QStringList{u"https://example.com/.well-known/oauth-protected-resource/public/mcp"_qs,
                               u"https://example.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("trailing slash of the path is kept")
                << u"https://api.githubcopilot.com/mcp/"_qs
                << QStringList{u"https://api.githubcopilot.com/.well-known/oauth-protected-resource/mcp/"_qs,
                               u"https://api.githubcopilot.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("server at the root")
                << u"https://mcp.example.com"_qs
                << QStringList{u"https://mcp.example.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("root with slash")
                << u"https://mcp.example.com/"_qs
                << QStringList{u"https://mcp.example.com/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("port, query kept, fragment and user info dropped")
                << u"http://user:pw@127.0.0.1:8443/v1/mcp?tenant=a%20b#frag"_qs
                << QStringList{u"http://127.0.0.1:8443/.well-known/oauth-protected-resource/v1/mcp?tenant=a%20b"_qs,
                               u"http://127.0.0.1:8443/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("percent-encoding survives")
                << u"https://h.example/a%2Fb/mcp"_qs
                << QStringList{u"https://h.example/.well-known/oauth-protected-resource/a%2Fb/mcp"_qs,
                               u"https://h.example/.well-known/oauth-protected-resource"_qs};
        QTest::newRow("scheme and host lower-cased")
                << u"HTTPS://MCP.Example.COM/mcp"_qs
                << QStringList{u"https://mcp.example.com/.well-known/oauth-protected-resource/mcp"_qs,
                               u"https://mcp.example.com/.well-known/oauth-protected-resource"_qs};
    }

    void protectedResourceMetadataIsPathAwareThenRoot()
    {
        QFETCH(QString, server);
        QFETCH(QStringList, expected);
        QCOMPARE(strings(WellKnownUrls::protectedResourceMetadata(QUrl(server))), expected);
    }

    void authorizationServerMetadataFollowsMcpOrder_data()
    {
        QTest::addColumn<QString>("issuer");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("issuer with path")
                << u"https://auth.example.com/tenant1"_qs
                << QStringList{u"https://auth.example.com/.well-known/oauth-authorization-server/tenant1"_qs,
                               u"https://auth.example.com/.well-known/openid-configuration/tenant1"_qs,
                               u"https://auth.example.com/tenant1/.well-known/openid-configuration"_qs};
        QTest::newRow("terminating slash removed")
                << u"https://auth.example.com/realms/mcp/"_qs
                << QStringList{u"https://auth.example.com/.well-known/oauth-authorization-server/realms/mcp"_qs,
                               u"https://auth.example.com/.well-known/openid-configuration/realms/mcp"_qs,
                               u"https://auth.example.com/realms/mcp/.well-known/openid-configuration"_qs};
        QTest::newRow("issuer without path")
                << u"https://auth.example.com"_qs
                << QStringList{u"https://auth.example.com/.well-known/oauth-authorization-server"_qs,
                               u"https://auth.example.com/.well-known/openid-configuration"_qs};
        QTest::newRow("issuer with only a slash")
                << u"https://auth.example.com/"_qs
                << QStringList{u"https://auth.example.com/.well-known/oauth-authorization-server"_qs,
                               u"https://auth.example.com/.well-known/openid-configuration"_qs};
        QTest::newRow("loopback with port")
                << u"http://localhost:9000/oidc"_qs
                << QStringList{u"http://localhost:9000/.well-known/oauth-authorization-server/oidc"_qs,
                               u"http://localhost:9000/.well-known/openid-configuration/oidc"_qs,
                               u"http://localhost:9000/oidc/.well-known/openid-configuration"_qs};
    }

    void authorizationServerMetadataFollowsMcpOrder()
    {
        QFETCH(QString, issuer);
        QFETCH(QStringList, expected);
        QCOMPARE(strings(WellKnownUrls::authorizationServerMetadata(QUrl(issuer))), expected);
    }

    void notAnHttpUrlIsRefused_data()
    {
        QTest::addColumn<QString>("url");
        QTest::newRow("relative") << u"/mcp"_qs;
        QTest::newRow("no scheme") << u"mcp.example.com"_qs;
        QTest::newRow("file") << u"file:///etc/passwd"_qs;
        QTest::newRow("javascript") << u"javascript:alert(1)"_qs;
        QTest::newRow("empty") << QString();
    }

    void notAnHttpUrlIsRefused()
    {
        QFETCH(QString, url);
        const auto resource = WellKnownUrls::protectedResourceMetadata(QUrl(url));
        QVERIFY(!resource.ok());
        QCOMPARE(resource.error().kind, Error::Kind::InvalidInput);
        QVERIFY(!WellKnownUrls::authorizationServerMetadata(QUrl(url)).ok());
    }

    void issuerWithQueryOrFragmentIsRefused()
    {
        const auto withQuery = WellKnownUrls::authorizationServerMetadata(QUrl(u"https://a.example/?x=1"_qs));
        QVERIFY(!withQuery.ok());
        QVERIFY(withQuery.error().message.contains(u"RFC 8414"_qs));
        QVERIFY(!WellKnownUrls::authorizationServerMetadata(QUrl(u"https://a.example/#f"_qs)).ok());
    }
};

QTEST_GUILESS_MAIN(TestWellKnownUrls)
#include "tst_wellknownurls.moc"
