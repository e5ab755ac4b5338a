#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "oauth/AuthorizationDiscovery.h"

#include <QElapsedTimer>
#include <QHash>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

#include <memory>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

const QString kPrmPathAware = u"/.well-known/oauth-protected-resource/mcp"_qs;
const QString kPrmRoot = u"/.well-known/oauth-protected-resource"_qs;
const QString kAsmTenant = u"/.well-known/oauth-authorization-server/auth"_qs;
const QString kOidcTenant = u"/.well-known/openid-configuration/auth"_qs;
const QString kAsmRoot = u"/.well-known/oauth-authorization-server"_qs;
const QString kOidcRoot = u"/.well-known/openid-configuration"_qs;

// An MCP server and its authorization server on one 127.0.0.1 port, answering from a script:
// one canned answer per path, 404 for the rest. Keeps the paths asked, in order.
struct ScriptedServer
{
    QHash<QString, http::HttpResponse> answers;
    QStringList asked;
    bool silent = false;
    std::unique_ptr<http::HttpServer> server;

    ScriptedServer()
    {
        server = std::make_unique<http::HttpServer>([this](const http::HttpRequest &request,
                                                           http::HttpResponder *responder) {
            asked.append(request.path);
            if (!silent)
                responder->send(answers.value(request.path, http::HttpResponse::text(404, "no")));
        });
        if (!server->listen(0))
            qFatal("cannot listen");
    }

    QString origin() const { return u"http://127.0.0.1:%1"_qs.arg(server->port()); }
    QUrl mcpUrl() const { return QUrl(origin() + u"/mcp"_qs); }
    QString issuer() const { return origin() + u"/auth"_qs; }

    void json(const QString &path, const QByteArray &body)
    {
        answers.insert(path, http::HttpResponse::json(200, body));
    }

    void resourceMetadata(const QString &path, const QString &resource,
                          const QString &scopes = u"\"files:read\""_qs)
    {
        json(path,
             QStringLiteral(R"({"resource":"%1","authorization_servers":["%2"],)"
                            R"("scopes_supported":[%3]})")
                     .arg(resource, issuer(), scopes)
                     .toUtf8());
    }

    void serverMetadata(const QString &path, const QString &issuer,
                        const QString &pkce = u"\"S256\""_qs)
    {
        json(path,
             QStringLiteral(R"({"issuer":"%1","authorization_endpoint":"%1/authorize",)"
                            R"("token_endpoint":"%1/token","response_types_supported":)"
                            R"(["code"],"code_challenge_methods_supported":[%2]})")
                     .arg(issuer, pkce)
                     .toUtf8());
    }
};

struct Run
{
    std::unique_ptr<AuthorizationDiscovery> discovery;
    std::unique_ptr<QSignalSpy> spy;

    Run(QNetworkAccessManager *network, int timeoutMs = 10'000)
        : discovery(std::make_unique<AuthorizationDiscovery>(network, timeoutMs)),
          spy(std::make_unique<QSignalSpy>(discovery.get(), &AuthorizationDiscovery::finished))
    { }

    // The first result reported (Result has no default constructor, so no qvariant_cast).
    Result<Discovered> result() const
    {
        const QVariant argument = spy->at(0).at(0);
        Q_ASSERT(argument.metaType() == QMetaType::fromType<Result<Discovered>>());
        return *static_cast<const Result<Discovered> *>(argument.constData());
    }
};

BearerChallenge challenge(const QString &resourceMetadata, const QString &scope = {})
{
    BearerChallenge bearer;
    bearer.resourceMetadata = resourceMetadata;
    bearer.scope = scope;
    return bearer;
}

QString why(const Result<Discovered> &result)
{
    return result ? QString() : result.error().message;
}

} // namespace

class TestAuthorizationDiscovery : public QObject
{
    Q_OBJECT

    QNetworkAccessManager m_network;

private Q_SLOTS:
    void initTestCase() { m_network.setProxy(QNetworkProxy::NoProxy); }

    void challengeResourceMetadataUrlWinsAndWellKnownIsNotAsked()
    {
        ScriptedServer server;
        server.resourceMetadata(u"/meta/prm"_qs, server.mcpUrl().toString());
        server.resourceMetadata(kPrmPathAware, server.mcpUrl().toString());
        server.serverMetadata(kAsmTenant, server.issuer());
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), challenge(server.origin() + u"/meta/prm"_qs));
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QCOMPARE(server.asked, QStringList({u"/meta/prm"_qs, kAsmTenant}));
        QVERIFY(result.value().resource.has_value());
        QCOMPARE(result.value().server.issuer, server.issuer());
        QCOMPARE(result.value().server.tokenEndpoint, QUrl(server.issuer() + u"/token"_qs));
        QVERIFY(!result.value().legacyFallback);
    }

    void wellKnownUrlsAreAskedPathAwareFirstThenRoot()
    {
        ScriptedServer server;
        server.resourceMetadata(kPrmRoot, server.mcpUrl().toString());
        server.serverMetadata(kOidcTenant, server.issuer());
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QCOMPARE(server.asked, QStringList({kPrmPathAware, kPrmRoot, kAsmTenant, kOidcTenant}));
        QVERIFY(!result.value().legacyFallback);
    }

    void htmlCatchAllPageIsPassedOver()
    {
        ScriptedServer server;
        server.answers.insert(
                kPrmPathAware,
                http::HttpResponse{200, {{"Content-Type", "text/html"}}, "<html>Welcome</html>"});
        server.resourceMetadata(kPrmRoot, server.mcpUrl().toString());
        server.serverMetadata(kAsmTenant, server.issuer());
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QCOMPARE(server.asked, QStringList({kPrmPathAware, kPrmRoot, kAsmTenant}));
    }

    void metadataOfAnotherResourceIsAnErrorWithoutFallback()
    {
        ScriptedServer server;
        server.resourceMetadata(kPrmPathAware, u"https://other.example.com/mcp"_qs);
        server.serverMetadata(kAsmRoot, server.origin());
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, Error::Kind::Protocol);
        QVERIFY2(result.error().message.contains(u"other.example.com"_qs),
                 qPrintable(result.error().message));
        QCOMPARE(server.asked, QStringList({kPrmPathAware}));
    }

    void noResourceMetadataFallsBackToRootServerMetadata()
    {
        ScriptedServer server;
        server.serverMetadata(kAsmRoot, server.origin());
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QCOMPARE(server.asked, QStringList({kPrmPathAware, kPrmRoot, kAsmRoot}));
        QVERIFY(result.value().legacyFallback);
        QVERIFY(!result.value().resource.has_value());
        QCOMPARE(result.value().server.issuer, server.origin());
        QVERIFY(result.value().scopes.isEmpty());
    }

    void noMetadataAtAllAssumesDefaultEndpoints()
    {
        ScriptedServer server;
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QCOMPARE(server.asked, QStringList({kPrmPathAware, kPrmRoot, kAsmRoot, kOidcRoot}));
        const AuthorizationServerMetadata &metadata = result.value().server;
        QVERIFY(result.value().legacyFallback);
        QCOMPARE(metadata.issuer, server.origin());
        QCOMPARE(metadata.authorizationEndpoint, QUrl(server.origin() + u"/authorize"_qs));
        QCOMPARE(metadata.tokenEndpoint, QUrl(server.origin() + u"/token"_qs));
        QCOMPARE(metadata.registrationEndpoint, QUrl(server.origin() + u"/register"_qs));
        QCOMPARE(metadata.codeChallengeMethodsSupported, QStringList({u"S256"_qs}));
        QVERIFY(metadata.tokenEndpointAuthMethodsSupported.isEmpty());
    }

    void serverMetadataOfAnotherIssuerIsRefused()
    {
        ScriptedServer server;
        server.resourceMetadata(kPrmPathAware, server.mcpUrl().toString());
        server.serverMetadata(kAsmTenant, u"https://evil.example.com"_qs);
        server.serverMetadata(kOidcTenant, server.issuer());
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, Error::Kind::Protocol);
        QVERIFY2(result.error().message.contains(u"evil.example.com"_qs),
                 qPrintable(result.error().message));
        QCOMPARE(server.asked, QStringList({kPrmPathAware, kAsmTenant})); // reported, not skipped
    }

    void serverWithoutS256IsRefusedWithTheReason()
    {
        ScriptedServer server;
        server.resourceMetadata(kPrmPathAware, server.mcpUrl().toString());
        server.serverMetadata(kAsmTenant, server.issuer(), u"\"plain\""_qs);
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, Error::Kind::Protocol);
        QVERIFY2(result.error().message.contains(u"does not support PKCE with S256"_qs),
                 qPrintable(result.error().message));
    }

    void serverErrorStopsDiscovery()
    {
        ScriptedServer server;
        server.answers.insert(kPrmPathAware, http::HttpResponse::text(503, "busy"));
        server.serverMetadata(kAsmRoot, server.origin());
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, Error::Kind::Unreachable);
        QCOMPARE(server.asked, QStringList({kPrmPathAware}));
    }

    void serverDownFailsFastAsUnreachable()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        const quint16 port = probe.serverPort();
        probe.close();
        Run run(&m_network, 30'000);
        QElapsedTimer clock;
        clock.start();
        run.discovery->start(QUrl(u"http://127.0.0.1:%1/mcp"_qs.arg(port)), std::nullopt);
        QTRY_COMPARE_WITH_TIMEOUT(run.spy->count(), 1, 5000);
        QVERIFY(clock.elapsed() < 5000);
        const Result<Discovered> result = run.result();
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, Error::Kind::Unreachable);
        QVERIFY2(result.error().message.contains(u"the MCP server http://127.0.0.1"_qs),
                 qPrintable(result.error().message));
    }

    void silentServerTimesOut()
    {
        ScriptedServer server;
        server.silent = true;
        Run run(&m_network, 300);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(run.spy->count(), 1);
        QCOMPARE(run.result().error().kind, Error::Kind::Timeout);
        QCOMPARE(server.asked, QStringList({kPrmPathAware}));
    }

    void abortReportsCancelledOnceAndDestructionIsQuiet()
    {
        ScriptedServer server;
        server.silent = true;
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(server.asked.size(), 1);
        run.discovery->abort();
        run.discovery->abort();
        QCOMPARE(run.spy->count(), 1);
        QCOMPARE(run.result().error().kind, Error::Kind::Cancelled);
        QCoreApplication::processEvents();
        QCOMPARE(run.spy->count(), 1);

        Run dropped(&m_network);
        dropped.discovery->start(server.mcpUrl(), std::nullopt);
        QTRY_COMPARE(server.asked.size(), 2);
        dropped.discovery.reset();
        QCoreApplication::processEvents();
        QCOMPARE(dropped.spy->count(), 0);
    }

    void invalidServerUrlIsReportedFromTheEventLoop()
    {
        Run run(&m_network);
        run.discovery->start(QUrl(u"ftp://example.com/mcp"_qs), std::nullopt);
        QCOMPARE(run.spy->count(), 0);
        QTRY_COMPARE(run.spy->count(), 1);
        QCOMPARE(run.result().error().kind, Error::Kind::InvalidInput);
    }

    void challengeScopeWinsOverScopesSupported()
    {
        ScriptedServer server;
        server.resourceMetadata(kPrmPathAware, server.mcpUrl().toString(),
                                u"\"files:read\",\"files:write\""_qs);
        server.serverMetadata(kAsmTenant, server.issuer());

        Run fromChallenge(&m_network);
        fromChallenge.discovery->start(server.mcpUrl(),
                                       challenge(QString(), u"files:write admin"_qs));
        QTRY_COMPARE(fromChallenge.spy->count(), 1);
        const Result<Discovered> first = fromChallenge.result();
        QVERIFY2(first.ok(), qPrintable(why(first)));
        QCOMPARE(first.value().scopes, QStringList({u"files:write"_qs, u"admin"_qs}));

        Run fromMetadata(&m_network);
        fromMetadata.discovery->start(server.mcpUrl(), challenge(QString()));
        QTRY_COMPARE(fromMetadata.spy->count(), 1);
        const Result<Discovered> second = fromMetadata.result();
        QVERIFY2(second.ok(), qPrintable(why(second)));
        QCOMPARE(second.value().scopes, QStringList({u"files:read"_qs, u"files:write"_qs}));
    }

    void challengeScopeIsKeptInTheFallback()
    {
        ScriptedServer server;
        Run run(&m_network);
        run.discovery->start(server.mcpUrl(), challenge(QString(), u"mcp"_qs));
        QTRY_COMPARE(run.spy->count(), 1);
        const Result<Discovered> result = run.result();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QVERIFY(result.value().legacyFallback);
        QCOMPARE(result.value().scopes, QStringList({u"mcp"_qs}));
    }
};

QTEST_GUILESS_MAIN(TestAuthorizationDiscovery)
#include "tst_authorizationdiscovery.moc"
