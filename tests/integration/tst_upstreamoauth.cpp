// Upstream OAuth end to end: the real broker signs in to a real MCP server protected by a real
// authorization server (oidc-provider with DCR, PKCE, refresh-token rotation, resource
// indicators and revocation), through a scripted browser ($BROWSER = oauth-browser.mjs, which
// completes the login and consent pages by plain HTTP). Every test has its own authorization
// server, protected server, broker and keychain entries (with-keyring.sh's throwaway keyring).

#include "OAuthBrokerSuite.h"
#include "Peers.h"

#include "store/SecretStore.h"
#include "store/ServerConfig.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTest>

#include <algorithm>
#include <optional>

using namespace mcpbroker::integration;
using mcpbroker::Result;

namespace {

constexpr int kReadyTimeoutMs = 30'000;

QJsonObject toolCall(const QString &tool, const QJsonObject &arguments = {})
{
    return {{QStringLiteral("name"), tool}, {QStringLiteral("arguments"), arguments}};
}

// The text of a tools/call result (its first text content), and whether it is an error.
struct ToolAnswer
{
    bool answered = false;
    bool isError = false;
    int rpcError = 0;
    QString text;
};

ToolAnswer toolAnswer(const QJsonObject &response)
{
    ToolAnswer answer;
    if (response.contains(QStringLiteral("error"))) {
        answer.answered = true;
        answer.rpcError = response[QStringLiteral("error")][QStringLiteral("code")].toInt();
        answer.text = response[QStringLiteral("error")][QStringLiteral("message")].toString();
        return answer;
    }
    const QJsonObject result = response[QStringLiteral("result")].toObject();
    if (result.isEmpty())
        return answer;
    answer.answered = true;
    answer.isError = result[QStringLiteral("isError")].toBool();
    const QJsonArray content = result[QStringLiteral("content")].toArray();
    if (!content.isEmpty())
        answer.text = content.first()[QStringLiteral("text")].toString();
    return answer;
}

bool writeKeychain(const QString &key, const QByteArray &secret)
{
    mcpbroker::store::SecretStore store(QStringLiteral("mcp-broker"), 10'000);
    std::optional<bool> written;
    store.write(key, secret, [&written](Result<void> result) { written = result.ok(); });
    return QTest::qWaitFor([&written] { return written.has_value(); }, 15'000) && *written;
}

} // namespace

class TestUpstreamOAuth : public OAuthBrokerSuite
{
    Q_OBJECT

private Q_SLOTS:
    void signsInWithDynamicRegistrationWhenACallNeedsIt();
    void givesAUrlElicitationToAClientThatCanOpenUrls();
    void signsInWithAPreRegisteredClient();
    void usesClientCredentialsWithoutABrowser();
    void refreshesOnceForConcurrentCallsAndKeepsTheRotatedToken();
    void revokedRefreshTokenAsksForOneSignIn();
    void stepsUpWhenTheServerWantsMoreScopes();
    void refusesACallbackWithAWrongState();
    void refusesAnAuthorizationResponseFromAnotherIssuer();
    void refusesAnAuthorizationServerWithoutS256();
    void reportsAnAuthorizationServerThatIsDown();

private:
    // Peers, config and broker for one test. `oauth` goes into the server's "oauth" entry.
    void startEverything(const QStringList &serverArguments, const QJsonObject &oauth = {},
                         const QStringList &resourceArguments = {});
    McpSession openSession();
    ToolAnswer call(const McpSession &session, const QString &tool,
                    const QJsonObject &arguments = {});
    // A first call fails with the sign-in sentence while the browser signs in; then calls work.
    void signInThroughACall(McpSession *session);
    void waitUntilTokenExpired();
};

void TestUpstreamOAuth::startEverything(const QStringList &serverArguments,
                                        const QJsonObject &oauth,
                                        const QStringList &resourceArguments)
{
    setUpOAuthServer(serverArguments, oauth, resourceArguments);
    if (QTest::currentTestFailed())
        return;
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
}

McpSession TestUpstreamOAuth::openSession()
{
    McpSession session;
    QString why;
    if (!m_http.open(m_broker->serverEndpoint(m_server), QStringLiteral("2025-06-18"), &session,
                     &why))
        qWarning().noquote() << "initialize failed:" << why;
    return session;
}

ToolAnswer TestUpstreamOAuth::call(const McpSession &session, const QString &tool,
                                   const QJsonObject &arguments)
{
    const HttpResult result
            = m_http.call(session, QStringLiteral("tools/call"), toolCall(tool, arguments), 7);
    ToolAnswer answer = toolAnswer(result.response(7));
    if (!answer.answered)
        answer.text = result.describe();
    return answer;
}

void TestUpstreamOAuth::signInThroughACall(McpSession *session)
{
    *session = openSession();
    QVERIFY(!session->id.isEmpty());
    const ToolAnswer first = call(*session, QStringLiteral("whoami"));
    QVERIFY2(first.answered && first.isError, qPrintable(first.text));
    QVERIFY2(first.text.contains(QStringLiteral("needs sign-in")), qPrintable(first.text));
    QString status;
    QVERIFY2(m_broker->waitForServerStates({{m_server, QStringLiteral("ready")}}, kReadyTimeoutMs,
                                           &status),
             qPrintable(status));
    const ToolAnswer second = call(*session, QStringLiteral("whoami"));
    QVERIFY2(second.answered && !second.isError, qPrintable(second.text));
}

// Stops the broker so no proactive refresh happens, and waits out the access token.
void TestUpstreamOAuth::waitUntilTokenExpired()
{
    const QString expiresAt = serverStatus()[QStringLiteral("tokenExpiresAt")].toString();
    const QDateTime expiry = QDateTime::fromString(expiresAt, Qt::ISODate);
    QVERIFY2(expiry.isValid(),
             qPrintable(QStringLiteral("no expiry in the status: %1").arg(expiresAt)));
    QVERIFY(m_broker->stop());
    QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTimeUtc() > expiry.addMSecs(500), 20'000);
}

// --- tests -------------------------------------------------------------------------------------

void TestUpstreamOAuth::signsInWithDynamicRegistrationWhenACallNeedsIt()
{
    startEverything({});
    QString status;
    QVERIFY2(m_broker->waitForServerStates({{m_server, QStringLiteral("needs-sign-in")}},
                                           kReadyTimeoutMs, &status),
             qPrintable(status));
    McpSession session;
    signInThroughACall(&session);
    if (QTest::currentTestFailed())
        return;
    const QJsonObject stats = m_peers->authorizationStats();
    QCOMPARE(stats[QStringLiteral("registrations")].toInt(), 1);
    QCOMPARE(m_peers->tokenRequests(QStringLiteral("authorization_code")), 1);
    QCOMPARE(browserLaunches(), 1);
    QCOMPARE(serverStatus()[QStringLiteral("signIn")].toString(), QStringLiteral("signed-in"));

    // The sign-in is kept: a restarted broker needs no browser.
    QVERIFY(m_broker->stop());
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    QVERIFY2(m_broker->waitForServerStates({{m_server, QStringLiteral("ready")}}, kReadyTimeoutMs,
                                           &status),
             qPrintable(status));
    session = openSession();
    const ToolAnswer again = call(session, QStringLiteral("echo"),
                                  {{QStringLiteral("text"), QStringLiteral("hello")}});
    QVERIFY2(again.answered && !again.isError, qPrintable(again.text));
    QCOMPARE(browserLaunches(), 1);

    // `logout` revokes the grant and forgets the tokens; `login` signs in again with the kept
    // registration.
    const CliResult logout = m_broker->run({QStringLiteral("logout"), m_server});
    QVERIFY2(logout.succeeded(), qPrintable(logout.describe()));
    QCOMPARE(m_peers->authorizationStats()[QStringLiteral("revocations")][QStringLiteral("success")]
                     .toInt(),
             1);
    QVERIFY2(m_broker->waitForServerStates({{m_server, QStringLiteral("needs-sign-in")}},
                                           kReadyTimeoutMs, &status),
             qPrintable(status));
    const CliResult login = m_broker->run({QStringLiteral("login"), m_server});
    QVERIFY2(login.succeeded(), qPrintable(login.describe()));
    QVERIFY2(!login.err.contains("state="), qPrintable(login.describe()));
    QCOMPARE(m_peers->authorizationStats()[QStringLiteral("registrations")].toInt(), 1);
    QCOMPARE(browserLaunches(), 2);
    // The running broker finds the new tokens when a client next asks for the server.
    const ToolAnswer afterLogin = call(session, QStringLiteral("whoami"));
    QVERIFY2(afterLogin.answered && !afterLogin.isError, qPrintable(afterLogin.text));
}

void TestUpstreamOAuth::givesAUrlElicitationToAClientThatCanOpenUrls()
{
    m_broker->environment().insert(QStringLiteral("MCPB_BROWSER_ACTION"), QStringLiteral("deny"));
    startEverything({});
    McpSession session;
    QString why;
    const QJsonObject urlElicitation{
            {QStringLiteral("elicitation"), QJsonObject{{QStringLiteral("url"), QJsonObject{}}}}};
    QVERIFY2(m_http.open(m_broker->serverEndpoint(m_server), QStringLiteral("2025-11-25"), &session,
                         &why, {}, urlElicitation),
             qPrintable(why));
    const HttpResult result = m_http.call(session, QStringLiteral("tools/call"),
                                          toolCall(QStringLiteral("whoami")), 9);
    const QJsonObject error = result.response(9)[QStringLiteral("error")].toObject();
    QVERIFY2(error[QStringLiteral("code")].toInt() == -32042, qPrintable(result.describe()));
    const QJsonArray elicitations
            = error[QStringLiteral("data")][QStringLiteral("elicitations")].toArray();
    QCOMPARE(elicitations.size(), 1);
    const QJsonObject elicitation = elicitations.first().toObject();
    QCOMPARE(elicitation[QStringLiteral("mode")].toString(), QStringLiteral("url"));
    QVERIFY(!elicitation[QStringLiteral("elicitationId")].toString().isEmpty());
    QVERIFY(!elicitation[QStringLiteral("message")].toString().isEmpty());
    const QUrl page(elicitation[QStringLiteral("url")].toString());
    QCOMPARE(page.adjusted(QUrl::RemoveQuery).toString(),
             m_peers->issuer() + QStringLiteral("/auth"));
    QTRY_COMPARE_WITH_TIMEOUT(browserLaunches(), 1, 10'000);
}

void TestUpstreamOAuth::signsInWithAPreRegisteredClient()
{
    const QByteArray secret = randomSecret("client-secret-");
    QVERIFY(writeKeychain(mcpbroker::store::SecretKeys::oauthClientSecret(m_server), secret));
    startEverything(
            {QStringLiteral("--client-id"), QStringLiteral("broker-by-hand"),
             QStringLiteral("--client-secret"), QString::fromLatin1(secret),
             QStringLiteral("--client-auth"), QStringLiteral("client_secret_post")},
            {{QStringLiteral("clientId"), QStringLiteral("broker-by-hand")},
             {QStringLiteral("clientSecret"), true},
             {QStringLiteral("tokenEndpointAuthMethod"), QStringLiteral("client_secret_post")}});
    McpSession session;
    signInThroughACall(&session);
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(m_peers->authorizationStats()[QStringLiteral("registrations")].toInt(), 0);
    QVERIFY(!m_broker->serveProcess()->standardError().contains(secret));
}

void TestUpstreamOAuth::usesClientCredentialsWithoutABrowser()
{
    const QByteArray secret = randomSecret("m2m-secret-");
    QVERIFY(writeKeychain(mcpbroker::store::SecretKeys::oauthClientSecret(m_server), secret));
    startEverything({QStringLiteral("--client-id"), QStringLiteral("machine"),
                     QStringLiteral("--client-secret"), QString::fromLatin1(secret),
                     QStringLiteral("--client-credentials")},
                    {{QStringLiteral("clientId"), QStringLiteral("machine")},
                     {QStringLiteral("clientSecret"), true},
                     {QStringLiteral("grant"), QStringLiteral("client_credentials")}});
    QString status;
    QVERIFY2(m_broker->waitForServerStates({{m_server, QStringLiteral("ready")}}, kReadyTimeoutMs,
                                           &status),
             qPrintable(status));
    const McpSession session = openSession();
    const ToolAnswer answer = call(session, QStringLiteral("whoami"));
    QVERIFY2(answer.answered && !answer.isError, qPrintable(answer.text));
    QCOMPARE(browserLaunches(), 0);
    QCOMPARE(m_peers->tokenRequests(QStringLiteral("client_credentials")), 1);
}

void TestUpstreamOAuth::refreshesOnceForConcurrentCallsAndKeepsTheRotatedToken()
{
    startEverything({QStringLiteral("--access-token-ttl"), QStringLiteral("2")});
    McpSession session;
    signInThroughACall(&session);
    if (QTest::currentTestFailed())
        return;

    for (int round = 1; round <= 2; ++round) {
        waitUntilTokenExpired();
        if (QTest::currentTestFailed())
            return;
        QVERIFY(m_peers->resetStats());
        QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
        session = openSession();
        // 20 calls at once, each on its own connection, while the token is expired.
        constexpr int kCalls = 20;
        QNetworkAccessManager network;
        QList<QNetworkReply *> replies;
        for (int i = 0; i < kCalls; ++i) {
            QNetworkRequest request(m_broker->serverEndpoint(m_server));
            request.setHeader(QNetworkRequest::ContentTypeHeader, "application/json");
            request.setRawHeader("Accept", "application/json, text/event-stream");
            for (const auto &[name, value] :
                 McpHttp::sessionHeaders(session, m_broker->authorization()))
                request.setRawHeader(name, value);
            replies.append(
                    network.post(request,
                                 McpHttp::request(QStringLiteral("tools/call"),
                                                  toolCall(QStringLiteral("whoami")), 100 + i)));
        }
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(replies.cbegin(), replies.cend(),
                                             [](QNetworkReply *r) { return r->isFinished(); }),
                                 30'000);
        for (int i = 0; i < kCalls; ++i) {
            HttpResult result;
            result.finished = true;
            result.status = replies[i]->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            result.body = replies[i]->readAll();
            result.headers.append({"Content-Type", replies[i]->rawHeader("Content-Type")});
            const ToolAnswer answer = toolAnswer(result.response(100 + i));
            QVERIFY2(answer.answered && !answer.isError,
                     qPrintable(QStringLiteral("round %1, call %2: %3")
                                        .arg(round)
                                        .arg(i)
                                        .arg(answer.answered ? answer.text : result.describe())));
        }
        qDeleteAll(replies);
        // One refresh for all of them; the second round works only if the rotated refresh
        // token of the first was kept (reusing the old one revokes the whole grant).
        QCOMPARE(m_peers->tokenRequests(QStringLiteral("refresh_token")), 1);
    }
    QCOMPARE(browserLaunches(), 1);
}

void TestUpstreamOAuth::revokedRefreshTokenAsksForOneSignIn()
{
    startEverything({QStringLiteral("--access-token-ttl"), QStringLiteral("2")});
    McpSession session;
    signInThroughACall(&session);
    if (QTest::currentTestFailed())
        return;
    waitUntilTokenExpired();
    if (QTest::currentTestFailed())
        return;
    QVERIFY(m_peers->revokeAll());
    // The user does not finish the next sign-in.
    m_broker->environment().insert(QStringLiteral("MCPB_BROWSER_ACTION"), QStringLiteral("deny"));
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    QString status;
    QVERIFY2(m_broker->waitForServerStates({{m_server, QStringLiteral("needs-sign-in")}},
                                           kReadyTimeoutMs, &status),
             qPrintable(status));
    // Several calls: each fails at once with the sentence, and one browser window opens.
    session = openSession();
    for (int i = 0; i < 3; ++i) {
        QElapsedTimer timer;
        timer.start();
        const ToolAnswer answer = call(session, QStringLiteral("whoami"));
        QVERIFY2(answer.answered && answer.isError, qPrintable(answer.text));
        QVERIFY2(answer.text.contains(QStringLiteral("needs sign-in")), qPrintable(answer.text));
        QVERIFY2(timer.elapsed() < 15'000, qPrintable(QString::number(timer.elapsed())));
    }
    QTRY_COMPARE_WITH_TIMEOUT(browserLaunches(), 2, 10'000);
}

void TestUpstreamOAuth::stepsUpWhenTheServerWantsMoreScopes()
{
    startEverything({});
    McpSession session;
    signInThroughACall(&session);
    if (QTest::currentTestFailed())
        return;
    // admin_action needs mcp:admin: 403 insufficient_scope, a second sign-in for the union of
    // scopes, and the call goes through.
    const ToolAnswer admin = call(session, QStringLiteral("admin_action"));
    QVERIFY2(admin.answered && !admin.isError, qPrintable(admin.text));
    QCOMPARE(browserLaunches(), 2);
    const ToolAnswer whoami = call(session, QStringLiteral("whoami"));
    QVERIFY2(whoami.text.contains(QStringLiteral("mcp:admin")), qPrintable(whoami.text));
    QVERIFY2(whoami.text.contains(QStringLiteral("mcp:read")), qPrintable(whoami.text));
}

void TestUpstreamOAuth::refusesACallbackWithAWrongState()
{
    m_broker->environment().insert(QStringLiteral("MCPB_BROWSER_TAMPER"), QStringLiteral("state"));
    startEverything({});
    const McpSession session = openSession();
    const ToolAnswer answer = call(session, QStringLiteral("whoami"));
    QVERIFY2(answer.isError && answer.text.contains(QStringLiteral("needs sign-in")),
             qPrintable(answer.text));
    const auto failed = m_broker->serveProcess()->waitForStderrLine(
            QRegularExpression(QStringLiteral("Sign-in to server %1 failed:.*state").arg(m_server)),
            20'000);
    QVERIFY2(failed.hasMatch(), qPrintable(m_broker->diagnostics()));
    QCOMPARE(m_peers->tokenRequests(QStringLiteral("authorization_code")), 0);
    QCOMPARE(serverStatus()[QStringLiteral("signIn")].toString(), QStringLiteral("needs-sign-in"));
}

void TestUpstreamOAuth::refusesAnAuthorizationResponseFromAnotherIssuer()
{
    startEverything({QStringLiteral("--wrong-iss")});
    const McpSession session = openSession();
    const ToolAnswer answer = call(session, QStringLiteral("whoami"));
    QVERIFY2(answer.isError, qPrintable(answer.text));
    const auto failed = m_broker->serveProcess()->waitForStderrLine(
            QRegularExpression(
                    QStringLiteral("Sign-in to server %1 failed:.*(iss|issuer)").arg(m_server)),
            20'000);
    QVERIFY2(failed.hasMatch(), qPrintable(m_broker->diagnostics()));
    QCOMPARE(m_peers->tokenRequests(QStringLiteral("authorization_code")), 0);
}

void TestUpstreamOAuth::refusesAnAuthorizationServerWithoutS256()
{
    startEverything({QStringLiteral("--no-s256")});
    const McpSession session = openSession();
    const ToolAnswer answer = call(session, QStringLiteral("whoami"));
    QVERIFY2(answer.isError && answer.text.contains(QStringLiteral("S256")),
             qPrintable(answer.text));
    QCOMPARE(browserLaunches(), 0);
    QCOMPARE(m_peers->authorizationStats()[QStringLiteral("registrations")].toInt(), 0);
}

void TestUpstreamOAuth::reportsAnAuthorizationServerThatIsDown()
{
    startEverything({QStringLiteral("--access-token-ttl"), QStringLiteral("2")});
    McpSession session;
    signInThroughACall(&session);
    if (QTest::currentTestFailed())
        return;
    waitUntilTokenExpired();
    if (QTest::currentTestFailed())
        return;
    m_peers->stopAuthorizationServer();
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    session = openSession();
    const ToolAnswer answer = call(session, QStringLiteral("whoami"));
    QVERIFY2(answer.isError && answer.text.contains(QStringLiteral("authorization server")),
             qPrintable(answer.text));
    // The tokens stay for when it is back; no browser for a server that is only down.
    QCOMPARE(browserLaunches(), 1);
}

QTEST_GUILESS_MAIN(TestUpstreamOAuth)
#include "tst_upstreamoauth.moc"
