// The broker as the authorization server of its own endpoint, end to end: the real
// `mcp-broker serve` in front of an SDK fixture upstream, and a real downstream client (the SDK's
// Client with an OAuthClientProvider, tests/peers/local-oauth-client.mjs) that runs the MCP
// authorization flow against it — 401 with resource_metadata, RFC 9728 and RFC 8414 discovery,
// RFC 7591 registration, the consent page answered like a browser, code + PKCE, refresh.
// Every test builds its own deployment and tears every process down at its end.

#include "BrokerProcess.h"
#include "LocalOAuthClient.h"
#include "Peers.h"
#include "UpstreamServer.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace mcpbroker::integration;

namespace {

constexpr int kReadyTimeoutMs = 30'000;

struct Deployment
{
    std::unique_ptr<UpstreamServer> alpha;
    BrokerProcess broker;

    QString diagnostics() const
    {
        return broker.diagnostics() + (alpha ? alpha->diagnostics() : QString());
    }
};

// One answer to a plain HTTP request.
struct Answer
{
    int status = 0;
    QByteArray body;
    QByteArray wwwAuthenticate;
};

Answer postInitialize(const QUrl &url)
{
    QNetworkAccessManager network;
    network.setProxy(QNetworkProxy::NoProxy);
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
    request.setRawHeader("Accept", "application/json, text/event-stream");
    const QByteArray body = R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{)"
                            R"("protocolVersion":"2025-11-25","capabilities":{},)"
                            R"("clientInfo":{"name":"tst_localoauth","version":"1"}}})";
    QNetworkReply *reply = network.post(request, body);
    Answer answer;
    if (!QTest::qWaitFor([reply] { return reply->isFinished(); }, 20'000))
        reply->abort();
    answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    answer.body = reply->readAll();
    answer.wwwAuthenticate = reply->rawHeader("WWW-Authenticate");
    delete reply;
    return answer;
}

// The tokens a --state file holds (the test's own temporary file), to look for leaks.
QList<QByteArray> tokensIn(const QString &statePath)
{
    QFile file(statePath);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QJsonObject tokens = QJsonDocument::fromJson(file.readAll())
                                       .object()
                                       .value(QStringLiteral("tokens"))
                                       .toObject();
    QList<QByteArray> secrets;
    for (const char *name : {"access_token", "refresh_token"}) {
        const QString value = tokens.value(QLatin1String(name)).toString();
        if (!value.isEmpty())
            secrets << value.toLatin1();
    }
    return secrets;
}

QString describe(const LocalOAuthClientRun &run, const Deployment &deployment)
{
    return run.describe() + deployment.diagnostics();
}

} // namespace

class LocalOAuthTest : public QObject
{
    Q_OBJECT

private:
    // The fixture upstream "alpha", added with the CLI, the broker serving, alpha ready.
    static QString deploy(Deployment &deployment)
    {
        deployment.alpha = UpstreamServer::fixture(QStringLiteral("alpha"));
        deployment.alpha->start();
        if (!deployment.alpha->waitUntilListening())
            return QStringLiteral("upstream alpha did not start") + deployment.alpha->diagnostics();
        const CliResult added
                = deployment.broker.add(QStringLiteral("alpha"), deployment.alpha->url());
        if (!added.succeeded())
            return QStringLiteral("mcp-broker add failed") + added.describe();
        if (!deployment.broker.start())
            return QStringLiteral("the broker did not print its listening line")
                    + deployment.diagnostics();
        QString status;
        if (!deployment.broker.waitUntilReady({QStringLiteral("alpha")}, kReadyTimeoutMs, &status))
            return QStringLiteral("GET /status never showed alpha ready; last answer: %1")
                           .arg(status)
                    + deployment.diagnostics();
        return {};
    }

    // The OAuth grants of `mcp-broker grant list --json` (a suite's support may add a static
    // one of its own). Empty with `*why` set on failure.
    static QJsonArray oauthGrants(const Deployment &deployment, QString *why)
    {
        const CliResult listed = deployment.broker.run(
                {QStringLiteral("grant"), QStringLiteral("list"), QStringLiteral("--json")});
        const QJsonDocument document = QJsonDocument::fromJson(listed.out);
        if (!listed.succeeded() || !document.object().contains(QStringLiteral("grants"))) {
            *why = QStringLiteral("`mcp-broker grant list --json` failed") + listed.describe();
            return {};
        }
        QJsonArray grants;
        for (const auto &grant : document.object().value(QStringLiteral("grants")).toArray()) {
            if (grant.toObject().value(QStringLiteral("kind")).toString() == QLatin1String("oauth"))
                grants.append(grant);
        }
        return grants;
    }

    static LocalOAuthClientOptions echoOptions(const QString &statePath = {})
    {
        LocalOAuthClientOptions options;
        options.call = QStringLiteral("alpha__echo");
        options.arguments = {{QStringLiteral("text"), QStringLiteral("hello")}};
        options.statePath = statePath;
        return options;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStringList absent;
        for (const QString &path : {Peers::node22(), Peers::fixtureServerScript(),
                                    localOAuthClientScript(), brokerBinary()}) {
            if (!QFileInfo::exists(path))
                absent << path;
        }
        QVERIFY2(absent.isEmpty(),
                 qPrintable(QStringLiteral("missing: %1 (run `npm ci` in tests/peers and build "
                                           "mcp-broker)")
                                    .arg(absent.join(QStringLiteral(", ")))));
    }

    void cleanupTestCase()
    {
        const QStringList survivors = PeerProcess::survivors();
        QVERIFY2(survivors.isEmpty(), qPrintable(survivors.join(QLatin1Char('\n'))));
    }

    void sdkClientGetsGrantThroughConsentPage()
    {
        Deployment deployment;
        const QString failed = deploy(deployment);
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        // Without a grant: 401, and the challenge names the metadata of the endpoint.
        const Answer refused = postInitialize(deployment.broker.endpoint());
        QCOMPARE(refused.status, 401);
        const QString origin = QStringLiteral("http://127.0.0.1:%1").arg(deployment.broker.port());
        QVERIFY2(refused.wwwAuthenticate.startsWith("Bearer "),
                 refused.wwwAuthenticate.constData());
        QVERIFY2(
                refused.wwwAuthenticate.contains(
                        QStringLiteral(
                                "resource_metadata=\"%1/.well-known/oauth-protected-resource/mcp\"")
                                .arg(origin)
                                .toLatin1()),
                refused.wwwAuthenticate.constData());

        QTemporaryDir scratch;
        QVERIFY(scratch.isValid());
        const QString statePath = scratch.filePath(QStringLiteral("client-state.json"));
        const LocalOAuthClientRun run
                = runLocalOAuthClient(deployment.broker.endpoint(), echoOptions(statePath));
        QVERIFY2(run.succeeded(), qPrintable(describe(run, deployment)));
        QVERIFY(run.browserUsed());
        QVERIFY2(run.tools().contains(QStringLiteral("alpha__echo")),
                 qPrintable(run.tools().join(QStringLiteral(", "))));
        QCOMPARE(run.callText(), QStringLiteral("alpha: hello"));
        QVERIFY(run.hasAccessToken());
        QVERIFY(run.hasRefreshToken());
        const QStringList http = run.http();
        for (const QString &step :
             {QStringLiteral("GET /.well-known/oauth-protected-resource/mcp 200"),
              QStringLiteral("GET /.well-known/oauth-authorization-server 200"),
              QStringLiteral("POST /oauth/register 201"),
              QStringLiteral("GET /oauth/authorize 200"), QStringLiteral("POST /oauth/consent 302"),
              QStringLiteral("GET /callback 200"), QStringLiteral("POST /oauth/token 200")}) {
            QVERIFY2(http.contains(step),
                     qPrintable(step + QStringLiteral(" missing from: ")
                                + http.join(QStringLiteral("; "))));
        }

        // The state file is the client's (0600); the tokens in it reach no log and no file of
        // the broker's (the keychain has their hashes only).
        QCOMPARE(QFileInfo(statePath).permissions() & (QFile::ReadGroup | QFile::ReadOther),
                 QFileDevice::Permissions());
        const QList<QByteArray> tokens = tokensIn(statePath);
        QCOMPARE(tokens.size(), 2);
        const QByteArray brokerOutput = deployment.broker.serveProcess()->standardOutput()
                + deployment.broker.serveProcess()->standardError();
        QVERIFY2(leakedPieces(brokerOutput, tokens).isEmpty(),
                 qPrintable(leakedPieces(brokerOutput, tokens).join(QStringLiteral(", "))));
        QVERIFY2(filesContainingSecrets(deployment.broker.configDirectory(), tokens).isEmpty(),
                 qPrintable(filesContainingSecrets(deployment.broker.configDirectory(), tokens)
                                    .join(QStringLiteral(", "))));
    }

    void deniedConsentGivesNoGrant()
    {
        Deployment deployment;
        const QString failed = deploy(deployment);
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        LocalOAuthClientOptions options = echoOptions();
        options.decision = QStringLiteral("deny");
        const LocalOAuthClientRun run = runLocalOAuthClient(deployment.broker.endpoint(), options);
        QVERIFY2(run.process.finished && run.process.exitCode == 1,
                 qPrintable(describe(run, deployment)));
        QVERIFY2(run.error().contains(QStringLiteral("access_denied")), qPrintable(run.error()));
        QVERIFY(run.browserUsed());
        QVERIFY(!run.hasAccessToken());
        QVERIFY(run.tools().isEmpty());
        QVERIFY2(run.http().contains(QStringLiteral("POST /oauth/consent 302")),
                 qPrintable(run.http().join(QStringLiteral("; "))));
        for (const QString &line : run.http())
            QVERIFY2(!line.startsWith(QLatin1String("POST /oauth/token")), qPrintable(line));

        QString why;
        const QJsonArray grants = oauthGrants(deployment, &why);
        QVERIFY2(why.isEmpty(), qPrintable(why));
        QCOMPARE(grants.size(), 0);
        QCOMPARE(postInitialize(deployment.broker.endpoint()).status, 401);
    }

    void grantFromOAuthAppearsInGrantList()
    {
        Deployment deployment;
        const QString failed = deploy(deployment);
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        // Through the per-server endpoint: the page pre-checks that server only.
        LocalOAuthClientOptions options = echoOptions();
        options.call = QStringLiteral("echo");
        const LocalOAuthClientRun run = runLocalOAuthClient(
                deployment.broker.serverEndpoint(QStringLiteral("alpha")), options);
        QVERIFY2(run.succeeded(), qPrintable(describe(run, deployment)));
        QCOMPARE(run.output.value(QStringLiteral("browser"))
                         .toObject()
                         .value(QStringLiteral("servers")),
                 QJsonValue(QJsonArray{QStringLiteral("alpha")}));
        QCOMPARE(run.callText(), QStringLiteral("alpha: hello"));

        QString why;
        const QJsonArray grants = oauthGrants(deployment, &why);
        QVERIFY2(why.isEmpty(), qPrintable(why));
        QCOMPARE(grants.size(), 1);
        const QJsonObject grant = grants.first().toObject();
        QCOMPARE(grant.value(QStringLiteral("client")).toString(),
                 QStringLiteral("local-oauth-client"));
        QCOMPARE(grant.value(QStringLiteral("kind")).toString(), QStringLiteral("oauth"));
        QCOMPARE(grant.value(QStringLiteral("servers")).toArray(),
                 QJsonArray{QStringLiteral("alpha")});
        QVERIFY(!grant.value(QStringLiteral("id")).toString().isEmpty());
    }

    void refreshTokenRotates()
    {
        Deployment deployment;
        const QString failed = deploy(deployment);
        QVERIFY2(failed.isEmpty(), qPrintable(failed));
        QTemporaryDir scratch;
        QVERIFY(scratch.isValid());
        const QString statePath = scratch.filePath(QStringLiteral("client-state.json"));
        const QString oldStatePath = scratch.filePath(QStringLiteral("old-client-state.json"));

        const LocalOAuthClientRun first
                = runLocalOAuthClient(deployment.broker.endpoint(), echoOptions(statePath));
        QVERIFY2(first.succeeded(), qPrintable(describe(first, deployment)));
        QVERIFY(first.browserUsed());
        QVERIFY(QFile::copy(statePath, oldStatePath));
        const QList<QByteArray> firstTokens = tokensIn(statePath);
        QCOMPARE(firstTokens.size(), 2);

        // The saved access token no longer works: the SDK refreshes, without any browser.
        LocalOAuthClientOptions again = echoOptions(statePath);
        again.discardAccessToken = true;
        again.noBrowser = true;
        const LocalOAuthClientRun second = runLocalOAuthClient(deployment.broker.endpoint(), again);
        QVERIFY2(second.succeeded(), qPrintable(describe(second, deployment)));
        QVERIFY(!second.browserUsed());
        QCOMPARE(second.callText(), QStringLiteral("alpha: hello"));
        QVERIFY2(second.http().contains(QStringLiteral("POST /oauth/token 200")),
                 qPrintable(second.http().join(QStringLiteral("; "))));
        const QList<QByteArray> secondTokens = tokensIn(statePath);
        QCOMPARE(secondTokens.size(), 2);
        QVERIFY(secondTokens.at(1) != firstTokens.at(1)); // a new refresh token

        // The first refresh token was rotated away: refused, and nothing else gets in.
        LocalOAuthClientOptions stale = echoOptions(oldStatePath);
        stale.discardAccessToken = true;
        stale.noBrowser = true;
        const LocalOAuthClientRun third = runLocalOAuthClient(deployment.broker.endpoint(), stale);
        QVERIFY2(third.process.finished && third.process.exitCode == 1,
                 qPrintable(describe(third, deployment)));
        QVERIFY2(third.http().contains(QStringLiteral("POST /oauth/token 400")),
                 qPrintable(third.http().join(QStringLiteral("; "))));
        QVERIFY(third.tools().isEmpty());

        // A rotated refresh token used again means it leaked: the grant is revoked (OAuth 2.1
        // §4.3.1).
        QString why;
        const QJsonArray grants = oauthGrants(deployment, &why);
        QVERIFY2(why.isEmpty(), qPrintable(why));
        QCOMPARE(grants.size(), 0);
    }
};

QTEST_GUILESS_MAIN(LocalOAuthTest)
#include "tst_localoauth.moc"
