#include "oauth/ProtectedResourceMetadata.h"

#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

const QUrl kServer(u"https://mcp.example.com/mcp"_qs);

QByteArray document(const QByteArray &resource, const QByteArray &servers,
                    const QByteArray &extra = {})
{
    return "{\"resource\":" + resource + ",\"authorization_servers\":" + servers + extra + "}";
}

} // namespace

class TestProtectedResourceMetadata : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void validDocumentKeepsEveryField()
    {
        const auto metadata = ProtectedResourceMetadata::fromJson(
                document("\"https://mcp.example.com/mcp\"",
                         "[\"https://auth.example.com/tenant1\",\"https://other.example\"]",
                         ",\"scopes_supported\":[\"files:read\",\"files:write\"],"
                         "\"bearer_methods_supported\":[\"header\"],\"resource_name\":\"Files\","
                         "\"unknown_field\":{\"ignored\":true}"),
                kServer);
        QVERIFY2(metadata.ok(), qPrintable(metadata.ok() ? QString() : metadata.error().message));
        QCOMPARE(metadata.value().resource, kServer);
        QCOMPARE(metadata.value().authorizationServers,
                 (QStringList{u"https://auth.example.com/tenant1"_qs, u"https://other.example"_qs}));
        QCOMPARE(metadata.value().scopesSupported, (QStringList{u"files:read"_qs, u"files:write"_qs}));
        QCOMPARE(metadata.value().bearerMethodsSupported, QStringList{u"header"_qs});
        QCOMPARE(metadata.value().resourceName, u"Files"_qs);
    }

    void resourceMatchesInCanonicalForm_data()
    {
        QTest::addColumn<QString>("server");
        QTest::addColumn<QByteArray>("resource");
        QTest::newRow("trailing slash on server") << u"https://mcp.example.com/mcp/"_qs << QByteArray("\"https://mcp.example.com/mcp\"");
        QTest::newRow("trailing slash on resource") << u"https://mcp.example.com/mcp"_qs << QByteArray("\"https://mcp.example.com/mcp/\"");
        QTest::newRow("case of scheme and host") << u"HTTPS://MCP.example.com/mcp"_qs << QByteArray("\"https://mcp.EXAMPLE.com/mcp\"");
        QTest::newRow("default port") << u"https://mcp.example.com:443/mcp"_qs << QByteArray("\"https://mcp.example.com/mcp\"");
        QTest::newRow("root") << u"https://mcp.example.com/"_qs << QByteArray("\"https://mcp.example.com\"");
        QTest::newRow("loopback http") << u"http://127.0.0.1:3000/mcp"_qs << QByteArray("\"http://127.0.0.1:3000/mcp\"");
        // RFC 9728 §3.3: metadata at the root well-known URL names the origin it was built from.
        QTest::newRow("origin of root metadata") << u"https://mcp.example.com/mcp"_qs << QByteArray("\"https://mcp.example.com\"");
        QTest::newRow("path above the server") << u"https://mcp.example.com/tenant/mcp"_qs << QByteArray("\"https://mcp.example.com/tenant\"");
    }

    void resourceMatchesInCanonicalForm()
    {
        QFETCH(QString, server);
        QFETCH(QByteArray, resource);
        const auto metadata = ProtectedResourceMetadata::fromJson(
                document(resource, "[\"https://auth.example.com\"]"), QUrl(server));
        QVERIFY2(metadata.ok(), qPrintable(metadata.ok() ? QString() : metadata.error().message));
    }

    void documentForAnotherResourceIsRefused_data()
    {
        QTest::addColumn<QByteArray>("resource");
        QTest::newRow("other host") << QByteArray("\"https://evil.example/mcp\"");
        QTest::newRow("other path") << QByteArray("\"https://mcp.example.com/other\"");
        QTest::newRow("prefix inside a path segment") << QByteArray("\"https://mcp.example.com/m\"");
        QTest::newRow("other port") << QByteArray("\"https://mcp.example.com:8443/mcp\"");
        QTest::newRow("http instead of https") << QByteArray("\"http://mcp.example.com/mcp\"");
    }

    void documentForAnotherResourceIsRefused()
    {
        QFETCH(QByteArray, resource);
        const auto metadata = ProtectedResourceMetadata::fromJson(
                document(resource, "[\"https://auth.example.com\"]"), kServer);
        QVERIFY(!metadata.ok());
        QCOMPARE(metadata.error().kind, Error::Kind::Protocol);
        QVERIFY2(metadata.error().message.startsWith(
                         u"The OAuth metadata of the MCP server https://mcp.example.com/mcp cannot be used: "_qs),
                 qPrintable(metadata.error().message));
    }

    void resourceMismatchNamesTheRfc()
    {
        const auto metadata = ProtectedResourceMetadata::fromJson(
                document("\"https://evil.example/mcp\"", "[\"https://auth.example.com\"]"), kServer);
        QVERIFY(metadata.error().message.contains(u"evil.example"_qs));
        QVERIFY(metadata.error().message.contains(u"RFC 9728 §3.3"_qs));
    }

    void brokenDocumentsAreRefusedWithTheField_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("not json") << QByteArray("<html>") << u"not a JSON object"_qs;
        QTest::newRow("array") << QByteArray("[]") << u"not a JSON object"_qs;
        QTest::newRow("no resource") << QByteArray("{\"authorization_servers\":[\"https://a.example\"]}") << u"\"resource\" is missing"_qs;
        QTest::newRow("resource not string") << document("42", "[\"https://a.example\"]") << u"\"resource\" is not a string"_qs;
        QTest::newRow("no servers") << QByteArray("{\"resource\":\"https://mcp.example.com/mcp\"}") << u"no authorization server"_qs;
        QTest::newRow("empty servers") << document("\"https://mcp.example.com/mcp\"", "[]") << u"no authorization server"_qs;
        QTest::newRow("servers not array") << document("\"https://mcp.example.com/mcp\"", "\"https://a.example\"") << u"\"authorization_servers\" is not an array of strings"_qs;
        QTest::newRow("server not string") << document("\"https://mcp.example.com/mcp\"", "[1]") << u"not an array of strings"_qs;
        QTest::newRow("http server") << document("\"https://mcp.example.com/mcp\"", "[\"http://auth.example.com\"]") << u"\"http://auth.example.com\" is not an https URL"_qs;
        QTest::newRow("server with query") << document("\"https://mcp.example.com/mcp\"", "[\"https://auth.example.com?x=1\"]") << u"without query"_qs;
        QTest::newRow("scopes not strings") << document("\"https://mcp.example.com/mcp\"", "[\"https://a.example\"]", ",\"scopes_supported\":\"a b\"") << u"\"scopes_supported\""_qs;
    }

    void brokenDocumentsAreRefusedWithTheField()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, mentions);
        const auto metadata = ProtectedResourceMetadata::fromJson(json, kServer);
        QVERIFY(!metadata.ok());
        QCOMPARE(metadata.error().kind, Error::Kind::Protocol);
        QVERIFY2(metadata.error().message.contains(mentions), qPrintable(metadata.error().message));
        QVERIFY(metadata.error().message.endsWith(u'.'));
    }

    void httpIsAllowedOnlyForLoopback()
    {
        const QUrl local(u"http://localhost:8080/mcp"_qs);
        const QByteArray resource = "\"http://localhost:8080/mcp\"";
        const auto ipv6Loopback = ProtectedResourceMetadata::fromJson(
                document(resource, "[\"http://[::1]:9000/as\"]"), local);
        QVERIFY(ipv6Loopback.ok());
        const auto ipv4Loopback = ProtectedResourceMetadata::fromJson(
                document(resource, "[\"http://127.0.0.2/as\"]"), local);
        QVERIFY(ipv4Loopback.ok());
        const auto lan = ProtectedResourceMetadata::fromJson(
                document(resource, "[\"http://10.0.0.1/as\"]"), local);
        QVERIFY(!lan.ok());
    }

    void canonicalResourceIsWhatRfc8707Sends()
    {
        QCOMPARE(ProtectedResourceMetadata::canonicalResource(QUrl(u"HTTPS://u:p@MCP.Example.com:443/mcp/#x"_qs)),
                 QUrl(u"https://mcp.example.com/mcp"_qs));
        QCOMPARE(ProtectedResourceMetadata::canonicalResource(QUrl(u"https://mcp.example.com/"_qs))
                         .toString(),
                 u"https://mcp.example.com"_qs);
        QCOMPARE(ProtectedResourceMetadata::canonicalResource(QUrl(u"https://mcp.example.com:8443"_qs))
                         .toString(),
                 u"https://mcp.example.com:8443"_qs);
    }
};

QTEST_GUILESS_MAIN(TestProtectedResourceMetadata)
#include "tst_protectedresourcemetadata.moc"
