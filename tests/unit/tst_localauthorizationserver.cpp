// LocalAuthorizationServer: the broker's own OAuth 2.1 authorization server, driven over real
// HTTP (an HttpServer on an ephemeral port, QNetworkAccessManager with redirects not followed)
// against a real ClientGrants whose proofs go to the throwaway gnome-keyring of
// tests/keyring/with-keyring.sh. Outside the wrapper every test skips: they must never touch a
// developer's own keychain.

#include "gateway/ClientGrants.h"
#include "gateway/LocalAuthorizationServer.h"
#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "oauth/Pkce.h"
#include "store/SecretStore.h"

#include "LogWatch.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>
#include <QUuid>

#include <memory>

using namespace mcpbroker;
using namespace mcpbroker::gateway;

namespace {

constexpr int kAnswerTimeoutMs = 20'000;
const QString kRedirect = QStringLiteral("http://127.0.0.1:43117/callback");

LogWatch g_logWatch;

// One HTTP answer, headers by lower-case name.
struct Reply
{
    int status = 0;
    QByteArray body;
    QHash<QByteArray, QByteArray> headers;
    bool finished = false;

    QByteArray header(const QByteArray &name) const { return headers.value(name.toLower()); }
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString error() const { return json().value(QStringLiteral("error")).toString(); }
    QUrl location() const { return QUrl(QString::fromUtf8(header("Location"))); }
    QUrlQuery locationQuery() const { return QUrlQuery(location()); }
    QString describe() const
    {
        return QStringLiteral("HTTP %1: %2").arg(status).arg(QString::fromUtf8(body.left(600)));
    }
};

// What the user's browser reads off a consent page.
struct ConsentForm
{
    QString consentId;
    QString csrf;
    QStringList checkedServers;
    QStringList servers;
};

ConsentForm parseConsentPage(const QByteArray &html)
{
    const QString page = QString::fromUtf8(html);
    ConsentForm form;
    static const QRegularExpression hidden(QStringLiteral(
            "<input type=\"hidden\" name=\"(consent|csrf)\"[^>]* value=\"([^\"]*)\""));
    for (auto it = hidden.globalMatch(page); it.hasNext();) {
        const QRegularExpressionMatch match = it.next();
        (match.captured(1) == QLatin1String("consent") ? form.consentId : form.csrf)
                = match.captured(2);
    }
    static const QRegularExpression box(QStringLiteral(
            "<input type=\"checkbox\" name=\"server\" value=\"([^\"]*)\"( checked)?"));
    for (auto it = box.globalMatch(page); it.hasNext();) {
        const QRegularExpressionMatch match = it.next();
        form.servers << match.captured(1);
        if (!match.captured(2).isEmpty())
            form.checkedServers << match.captured(1);
    }
    return form;
}

QByteArray formEncode(const QList<QPair<QString, QString>> &items)
{
    QByteArray body;
    for (const auto &[name, value] : items) {
        if (!body.isEmpty())
            body += '&';
        body += QUrl::toPercentEncoding(name) + '=' + QUrl::toPercentEncoding(value);
    }
    return body;
}

} // namespace

class TestLocalAuthorizationServer : public QObject
{
    Q_OBJECT

private:
    bool m_haveTestKeyring = false;
    QString m_service;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<store::SecretStore> m_secrets;
    std::unique_ptr<ClientGrants> m_grants;
    std::unique_ptr<LocalAuthorizationServer> m_server;
    std::unique_ptr<http::HttpServer> m_http;
    QNetworkAccessManager m_network;
    QStringList m_serverNames{QStringLiteral("alpha"), QStringLiteral("beta")};

    QString origin() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_http->port()); }

    // Starts everything; a test that wants other lifetimes calls it again with its options.
    void startServer(LocalAuthorizationServer::Options options = {})
    {
        m_http.reset();
        m_server = std::make_unique<LocalAuthorizationServer>(
                m_grants.get(), [this] { return m_serverNames; }, options);
        m_http = std::make_unique<http::HttpServer>(
                [this](const http::HttpRequest &request, http::HttpResponder *responder) {
                    if (m_server->handles(request))
                        m_server->handle(request, responder);
                    else
                        responder->send(http::HttpResponse::text(404, "not ours\n"));
                });
        QVERIFY(m_http->listen(0).ok());
    }

    Reply send(const QByteArray &method, const QString &pathOrUrl, const QByteArray &body = {},
               const QByteArray &contentType = {},
               const QList<QPair<QByteArray, QByteArray>> &headers = {})
    {
        const QUrl url = pathOrUrl.startsWith(QLatin1String("http"))
                ? QUrl(pathOrUrl)
                : QUrl(origin() + pathOrUrl, QUrl::StrictMode);
        QNetworkRequest request(url);
        request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                             QNetworkRequest::ManualRedirectPolicy);
        if (!contentType.isEmpty())
            request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
        for (const auto &[name, value] : headers)
            request.setRawHeader(name, value);
        QNetworkReply *reply = m_network.sendCustomRequest(request, method, body);
        Reply answer;
        QObject::connect(reply, &QNetworkReply::finished, reply, [&answer, reply] {
            answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            answer.body = reply->readAll();
            for (const auto &[name, value] : reply->rawHeaderPairs())
                answer.headers.insert(name.toLower(), value);
            answer.finished = true;
        });
        if (!QTest::qWaitFor([&answer] { return answer.finished; }, kAnswerTimeoutMs)) {
            qWarning("no answer to %s %s", method.constData(), qPrintable(pathOrUrl));
            reply->disconnect();
            reply->abort();
        }
        reply->deleteLater();
        return answer;
    }

    Reply get(const QString &path, const QList<QPair<QByteArray, QByteArray>> &headers = {})
    {
        return send("GET", path, {}, {}, headers);
    }

    Reply postForm(const QString &path, const QList<QPair<QString, QString>> &form,
                   const QList<QPair<QByteArray, QByteArray>> &headers = {})
    {
        return send("POST", path, formEncode(form), "application/x-www-form-urlencoded", headers);
    }

    Reply registerJson(const QJsonObject &metadata)
    {
        return send("POST", QStringLiteral("/oauth/register"),
                    QJsonDocument(metadata).toJson(QJsonDocument::Compact), "application/json");
    }

    // A registered client_id for `redirectUris` (default kRedirect), or empty on failure.
    QString registerClient(const QString &name = QStringLiteral("Test client"),
                           const QStringList &redirectUris = {kRedirect})
    {
        QJsonObject metadata{
                {QStringLiteral("client_name"), name},
                {QStringLiteral("redirect_uris"), QJsonArray::fromStringList(redirectUris)},
                {QStringLiteral("token_endpoint_auth_method"), QStringLiteral("none")},
                {QStringLiteral("grant_types"),
                 QJsonArray{QStringLiteral("authorization_code"),
                            QStringLiteral("refresh_token")}}};
        const Reply reply = registerJson(metadata);
        if (reply.status != 201)
            qWarning() << "registration failed:" << reply.describe();
        return reply.json().value(QStringLiteral("client_id")).toString();
    }

    struct AuthorizeParameters
    {
        QString clientId;
        QString redirectUri = kRedirect;
        QString challenge;
        QString method = QStringLiteral("S256");
        QString state = QStringLiteral("state-123 +/=");
        QString resource; // "-": none
        QString responseType = QStringLiteral("code");
    };

    QString authorizePath(const AuthorizeParameters &p) const
    {
        QList<QPair<QString, QString>> items;
        if (!p.responseType.isNull())
            items.append({QStringLiteral("response_type"), p.responseType});
        if (!p.clientId.isNull())
            items.append({QStringLiteral("client_id"), p.clientId});
        if (!p.redirectUri.isNull())
            items.append({QStringLiteral("redirect_uri"), p.redirectUri});
        if (!p.challenge.isNull())
            items.append({QStringLiteral("code_challenge"), p.challenge});
        if (!p.method.isNull())
            items.append({QStringLiteral("code_challenge_method"), p.method});
        if (!p.state.isNull())
            items.append({QStringLiteral("state"), p.state});
        const QString resource
                = p.resource.isNull() ? origin() + QStringLiteral("/mcp") : p.resource;
        if (resource != QLatin1String("-"))
            items.append({QStringLiteral("resource"), resource});
        return QStringLiteral("/oauth/authorize?") + QString::fromLatin1(formEncode(items));
    }

    // One complete authorization up to the code: register (unless clientId is given), authorize,
    // approve on the page. Returns the code, or empty with a test failure.
    struct Flow
    {
        QString clientId;
        oauth::Pkce pkce;
        QString code;
        QString resource;
    };

    Flow approvedFlow(const QString &clientId = {}, const QString &resource = {})
    {
        Flow flow;
        flow.clientId = clientId.isEmpty() ? registerClient() : clientId;
        flow.pkce = oauth::Pkce::generate();
        flow.resource = resource.isEmpty() ? origin() + QStringLiteral("/mcp") : resource;
        g_logWatch.watch(flow.pkce.verifier);
        AuthorizeParameters parameters;
        parameters.clientId = flow.clientId;
        parameters.challenge = QString::fromLatin1(flow.pkce.challenge);
        parameters.resource = flow.resource;
        const Reply page = get(authorizePath(parameters));
        if (page.status != 200) {
            qWarning() << "authorize:" << page.describe();
            return flow;
        }
        const ConsentForm form = parseConsentPage(page.body);
        g_logWatch.watch(form.csrf.toLatin1());
        QList<QPair<QString, QString>> answer{
                {QStringLiteral("consent"), form.consentId},
                {QStringLiteral("csrf"), form.csrf},
                {QStringLiteral("decision"), QStringLiteral("approve")}};
        for (const QString &server : form.checkedServers)
            answer.append({QStringLiteral("server"), server});
        const Reply decided = postForm(QStringLiteral("/oauth/consent"), answer);
        if (decided.status != 302) {
            qWarning() << "consent:" << decided.describe();
            return flow;
        }
        flow.code = decided.locationQuery().queryItemValue(QStringLiteral("code"));
        g_logWatch.watch(flow.code.toLatin1());
        return flow;
    }

    Reply exchange(const Flow &flow, const QString &verifier = {})
    {
        return postForm(QStringLiteral("/oauth/token"),
                        {{QStringLiteral("grant_type"), QStringLiteral("authorization_code")},
                         {QStringLiteral("code"), flow.code},
                         {QStringLiteral("redirect_uri"), kRedirect},
                         {QStringLiteral("client_id"), flow.clientId},
                         {QStringLiteral("code_verifier"),
                          verifier.isNull() ? QString::fromLatin1(flow.pkce.verifier) : verifier},
                         {QStringLiteral("resource"), flow.resource}});
    }

    Reply refresh(const QString &clientId, const QString &refreshToken)
    {
        return postForm(QStringLiteral("/oauth/token"),
                        {{QStringLiteral("grant_type"), QStringLiteral("refresh_token")},
                         {QStringLiteral("refresh_token"), refreshToken},
                         {QStringLiteral("client_id"), clientId},
                         {QStringLiteral("resource"), origin() + QStringLiteral("/mcp")}});
    }

    void watchTokens(const Reply &tokens)
    {
        for (const char *name : {"access_token", "refresh_token"}) {
            const QString value = tokens.json().value(QLatin1String(name)).toString();
            if (!value.isEmpty())
                g_logWatch.watch(value.toLatin1());
        }
    }

    bool authenticates(const QString &accessToken)
    {
        return m_grants->authenticate(accessToken.toLatin1()).ok();
    }

#define REQUIRE_TEST_KEYRING() \
    do { \
        if (!m_haveTestKeyring) \
            QSKIP("needs the throwaway keychain of tests/keyring/with-keyring.sh"); \
    } while (false)

private Q_SLOTS:
    void initTestCase()
    {
        m_haveTestKeyring = qEnvironmentVariableIsSet("MCPB_KEYRING_BUS")
                && qEnvironmentVariable("MCPB_KEYRING") != QLatin1String("none");
        m_service = QStringLiteral("mcp-broker-tst-localas-%1")
                            .arg(QUuid::createUuid().toString(QUuid::WithoutBraces).left(8));
        m_network.setProxy(QNetworkProxy::NoProxy);
        QLoggingCategory::setFilterRules(QStringLiteral("mcpbroker.*.debug=true"));
        g_logWatch.install();
    }

    void cleanupTestCase()
    {
        g_logWatch.uninstall();
    }

    void init()
    {
        if (!m_haveTestKeyring)
            return;
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_secrets = std::make_unique<store::SecretStore>(m_service);
        m_grants = std::make_unique<ClientGrants>(m_dir->filePath(QStringLiteral("grants.json")),
                                                  m_secrets.get());
        const Result<void> started = m_grants->start(false);
        QVERIFY2(started.ok(), qPrintable(started.error().message));
        QTRY_VERIFY_WITH_TIMEOUT(m_grants->isReady(), kAnswerTimeoutMs);
        m_serverNames = {QStringLiteral("alpha"), QStringLiteral("beta")};
        startServer();
    }

    void cleanup()
    {
        VERIFY_NO_LOG_LEAKS(g_logWatch);
        m_http.reset();
        m_server.reset();
        m_grants.reset();
        m_secrets.reset();
        m_dir.reset();
    }

    // ---- metadata

    void authorizationServerMetadataNamesTheOriginTheClientUsed_data()
    {
        QTest::addColumn<QString>("host");
        QTest::newRow("127.0.0.1") << QStringLiteral("127.0.0.1");
        QTest::newRow("localhost") << QStringLiteral("localhost");
    }

    void authorizationServerMetadataNamesTheOriginTheClientUsed()
    {
        REQUIRE_TEST_KEYRING();
        QFETCH(QString, host);
        const QString base = QStringLiteral("http://%1:%2").arg(host).arg(m_http->port());
        const Reply reply = get(base + QStringLiteral("/.well-known/oauth-authorization-server"));
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.header("Content-Type").startsWith("application/json"));
        const QJsonObject metadata = reply.json();
        QCOMPARE(metadata.value(QStringLiteral("issuer")).toString(), base);
        QCOMPARE(metadata.value(QStringLiteral("authorization_endpoint")).toString(),
                 base + QStringLiteral("/oauth/authorize"));
        QCOMPARE(metadata.value(QStringLiteral("token_endpoint")).toString(),
                 base + QStringLiteral("/oauth/token"));
        QCOMPARE(metadata.value(QStringLiteral("registration_endpoint")).toString(),
                 base + QStringLiteral("/oauth/register"));
        QCOMPARE(metadata.value(QStringLiteral("revocation_endpoint")).toString(),
                 base + QStringLiteral("/oauth/revoke"));
        auto list = [&metadata](const char *name) {
            return metadata.value(QLatin1String(name)).toArray().toVariantList();
        };
        QCOMPARE(list("response_types_supported"), QVariantList{QStringLiteral("code")});
        QCOMPARE(list("grant_types_supported"),
                 (QVariantList{QStringLiteral("authorization_code"),
                               QStringLiteral("refresh_token")}));
        QCOMPARE(list("code_challenge_methods_supported"), QVariantList{QStringLiteral("S256")});
        QCOMPARE(list("token_endpoint_auth_methods_supported"),
                 QVariantList{QStringLiteral("none")});
        QCOMPARE(list("revocation_endpoint_auth_methods_supported"),
                 QVariantList{QStringLiteral("none")});
        QCOMPARE(metadata.value(QStringLiteral("authorization_response_iss_parameter_supported")),
                 QJsonValue(true));
    }

    void protectedResourceMetadataForAggregatedAndPerServerEndpoints()
    {
        REQUIRE_TEST_KEYRING();
        const Reply all = get(QStringLiteral("/.well-known/oauth-protected-resource/mcp"));
        QCOMPARE(all.status, 200);
        QCOMPARE(all.json().value(QStringLiteral("resource")).toString(),
                 origin() + QStringLiteral("/mcp"));
        QCOMPARE(all.json().value(QStringLiteral("authorization_servers")).toArray(),
                 QJsonArray{origin()});
        QCOMPARE(all.json().value(QStringLiteral("bearer_methods_supported")).toArray(),
                 QJsonArray{QStringLiteral("header")});
        QVERIFY(!all.json().value(QStringLiteral("resource_name")).toString().isEmpty());

        const Reply alpha = get(QStringLiteral("/.well-known/oauth-protected-resource/mcp/alpha"));
        QCOMPARE(alpha.status, 200);
        QCOMPARE(alpha.json().value(QStringLiteral("resource")).toString(),
                 origin() + QStringLiteral("/mcp/alpha"));
        QCOMPARE(alpha.json().value(QStringLiteral("authorization_servers")).toArray(),
                 QJsonArray{origin()});

        QCOMPARE(get(QStringLiteral("/.well-known/oauth-protected-resource/mcp/nope")).status, 404);

        http::HttpRequest request;
        request.headers = {{"Host", "localhost:1234"}};
        QCOMPARE(LocalAuthorizationServer::resourceMetadataUrl(request),
                 QStringLiteral("http://localhost:1234/.well-known/oauth-protected-resource/mcp"));
        QCOMPARE(LocalAuthorizationServer::resourceMetadataUrl(request, QStringLiteral("alpha")),
                 QStringLiteral(
                         "http://localhost:1234/.well-known/oauth-protected-resource/mcp/alpha"));
    }

    void openIdConfigurationAndUnknownPathsAreCleanNotFounds()
    {
        REQUIRE_TEST_KEYRING();
        for (const QString &path : {QStringLiteral("/.well-known/openid-configuration"),
                                    QStringLiteral("/oauth/nothing-here")}) {
            const Reply reply = get(path);
            QCOMPARE(reply.status, 404);
            QVERIFY2(reply.json().contains(QStringLiteral("error")), qPrintable(reply.describe()));
        }
        http::HttpRequest request;
        request.path = QStringLiteral("/mcp");
        QVERIFY(!m_server->handles(request));
        request.path = QStringLiteral("/.well-known/openid-configuration");
        QVERIFY(m_server->handles(request));
        request.path = QStringLiteral("/oauth/token");
        QVERIFY(m_server->handles(request));
        QCOMPARE(send("DELETE", QStringLiteral("/oauth/token")).status, 405);
    }

    // ---- registration

    void registrationAnswersWhatWasRegistered()
    {
        REQUIRE_TEST_KEYRING();
        const QStringList uris{kRedirect, QStringLiteral("http://localhost:43118/cb?x=1"),
                               QStringLiteral("http://[::1]:43119/cb")};
        const Reply reply = registerJson(
                {{QStringLiteral("client_name"), QStringLiteral("Claude Code")},
                 {QStringLiteral("redirect_uris"), QJsonArray::fromStringList(uris)}});
        QCOMPARE(reply.status, 201);
        const QJsonObject client = reply.json();
        const QString clientId = client.value(QStringLiteral("client_id")).toString();
        QVERIFY(!clientId.isEmpty());
        QVERIFY(client.value(QStringLiteral("client_id_issued_at")).toInteger() > 1'600'000'000);
        QCOMPARE(client.value(QStringLiteral("client_name")).toString(),
                 QStringLiteral("Claude Code"));
        QCOMPARE(client.value(QStringLiteral("redirect_uris")).toArray(),
                 QJsonArray::fromStringList(uris));
        QCOMPARE(client.value(QStringLiteral("grant_types")).toArray(),
                 (QJsonArray{QStringLiteral("authorization_code"),
                             QStringLiteral("refresh_token")}));
        QCOMPARE(client.value(QStringLiteral("response_types")).toArray(),
                 QJsonArray{QStringLiteral("code")});
        QCOMPARE(client.value(QStringLiteral("token_endpoint_auth_method")).toString(),
                 QStringLiteral("none"));
        QVERIFY(!client.contains(QStringLiteral("client_secret")));
        const auto registered = m_grants->findClient(clientId);
        QVERIFY(registered);
        QCOMPARE(registered->redirectUris, uris);
    }

    void registrationRejectsRedirectUris_data()
    {
        QTest::addColumn<QJsonValue>("redirectUris");
        QTest::newRow("not on this computer")
                << QJsonValue(QJsonArray{QStringLiteral("http://example.com:8080/cb")});
        QTest::newRow("https") << QJsonValue(
                QJsonArray{QStringLiteral("https://127.0.0.1:8080/cb")});
        QTest::newRow("custom scheme")
                << QJsonValue(QJsonArray{QStringLiteral("com.example.app:/cb")});
        QTest::newRow("no port") << QJsonValue(
                QJsonArray{QStringLiteral("http://127.0.0.1/callback")});
        QTest::newRow("fragment") << QJsonValue(
                QJsonArray{QStringLiteral("http://127.0.0.1:8080/cb#x")});
        QTest::newRow("empty fragment")
                << QJsonValue(QJsonArray{QStringLiteral("http://127.0.0.1:8080/cb#")});
        QTest::newRow("user info")
                << QJsonValue(QJsonArray{QStringLiteral("http://a:b@127.0.0.1:8080/cb")});
        QTest::newRow("lookalike host")
                << QJsonValue(QJsonArray{QStringLiteral("http://127.0.0.1.evil.example:8080/cb")});
        QTest::newRow("one bad among good")
                << QJsonValue(QJsonArray{kRedirect, QStringLiteral("http://10.0.0.1:8080/cb")});
        QTest::newRow("empty list") << QJsonValue(QJsonArray{});
        QTest::newRow("not a list") << QJsonValue(kRedirect);
        QTest::newRow("not strings") << QJsonValue(QJsonArray{42});
        QTest::newRow("missing") << QJsonValue(QJsonValue::Undefined);
    }

    void registrationRejectsRedirectUris()
    {
        REQUIRE_TEST_KEYRING();
        QFETCH(QJsonValue, redirectUris);
        QJsonObject metadata{{QStringLiteral("client_name"), QStringLiteral("x")}};
        if (!redirectUris.isUndefined())
            metadata.insert(QStringLiteral("redirect_uris"), redirectUris);
        const Reply reply = registerJson(metadata);
        QCOMPARE(reply.status, 400);
        QCOMPARE(reply.error(), QStringLiteral("invalid_redirect_uri"));
        QVERIFY(!reply.json().value(QStringLiteral("error_description")).toString().isEmpty());
    }

    void registrationRejectsConfidentialOrOtherGrants_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QJsonValue>("value");
        QTest::newRow("client_secret_basic") << QStringLiteral("token_endpoint_auth_method")
                                             << QJsonValue(QStringLiteral("client_secret_basic"));
        QTest::newRow("private_key_jwt") << QStringLiteral("token_endpoint_auth_method")
                                         << QJsonValue(QStringLiteral("private_key_jwt"));
        QTest::newRow("client_credentials")
                << QStringLiteral("grant_types")
                << QJsonValue(QJsonArray{QStringLiteral("authorization_code"),
                                         QStringLiteral("client_credentials")});
        QTest::newRow("implicit") << QStringLiteral("response_types")
                                  << QJsonValue(QJsonArray{QStringLiteral("token")});
        QTest::newRow("name not a string") << QStringLiteral("client_name") << QJsonValue(7);
    }

    void registrationRejectsConfidentialOrOtherGrants()
    {
        REQUIRE_TEST_KEYRING();
        QFETCH(QString, field);
        QFETCH(QJsonValue, value);
        QJsonObject metadata{{QStringLiteral("redirect_uris"), QJsonArray{kRedirect}}};
        metadata.insert(field, value);
        const Reply reply = registerJson(metadata);
        QCOMPARE(reply.status, 400);
        QCOMPARE(reply.error(), QStringLiteral("invalid_client_metadata"));
        QCOMPARE(send("POST", QStringLiteral("/oauth/register"), "not json", "application/json")
                         .error(),
                 QStringLiteral("invalid_client_metadata"));
    }

    // ---- authorization endpoint

    void authorizeShowsAnErrorPageUntilTheRedirectIsTrusted_data()
    {
        QTest::addColumn<QString>("clientId"); // "*": the registered one
        QTest::addColumn<QString>("redirectUri");
        QTest::newRow("unknown client") << QStringLiteral("no-such-client") << kRedirect;
        QTest::newRow("no client") << QString() << kRedirect;
        QTest::newRow("no redirect_uri") << QStringLiteral("*") << QString();
        QTest::newRow("other port")
                << QStringLiteral("*") << QStringLiteral("http://127.0.0.1:43118/callback");
        QTest::newRow("other host")
                << QStringLiteral("*") << QStringLiteral("http://localhost:43117/callback");
        QTest::newRow("trailing slash") << QStringLiteral("*") << kRedirect + QLatin1Char('/');
        QTest::newRow("extra query") << QStringLiteral("*") << kRedirect + QStringLiteral("?a=b");
        QTest::newRow("foreign site")
                << QStringLiteral("*") << QStringLiteral("https://evil.example/cb");
    }

    void authorizeShowsAnErrorPageUntilTheRedirectIsTrusted()
    {
        REQUIRE_TEST_KEYRING();
        QFETCH(QString, clientId);
        QFETCH(QString, redirectUri);
        AuthorizeParameters parameters;
        parameters.clientId = clientId == QLatin1String("*") ? registerClient() : clientId;
        parameters.redirectUri = redirectUri;
        parameters.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        QSignalSpy requested(m_server.get(), &LocalAuthorizationServer::consentRequested);
        const Reply reply = get(authorizePath(parameters));
        QCOMPARE(reply.status, 400);
        QVERIFY(reply.header("Content-Type").startsWith("text/html"));
        QVERIFY2(reply.header("Location").isEmpty(), reply.header("Location").constData());
        QCOMPARE(reply.header("X-Frame-Options"), QByteArray("DENY"));
        QCOMPARE(requested.count(), 0);
        QVERIFY(m_server->pendingConsents().isEmpty());
    }

    void authorizeRedirectsLaterErrorsWithStateAndIss_data()
    {
        QTest::addColumn<QString>("change");
        QTest::addColumn<QString>("error");
        QTest::newRow("no code_challenge")
                << QStringLiteral("no-challenge") << QStringLiteral("invalid_request");
        QTest::newRow("plain method")
                << QStringLiteral("plain") << QStringLiteral("invalid_request");
        QTest::newRow("no method (means plain)")
                << QStringLiteral("no-method") << QStringLiteral("invalid_request");
        QTest::newRow("malformed challenge")
                << QStringLiteral("short-challenge") << QStringLiteral("invalid_request");
        QTest::newRow("response_type token")
                << QStringLiteral("token") << QStringLiteral("unsupported_response_type");
        QTest::newRow("no response_type")
                << QStringLiteral("no-response-type") << QStringLiteral("invalid_request");
        QTest::newRow("foreign resource")
                << QStringLiteral("foreign-resource") << QStringLiteral("invalid_target");
        QTest::newRow("unknown server")
                << QStringLiteral("unknown-server") << QStringLiteral("invalid_target");
    }

    void authorizeRedirectsLaterErrorsWithStateAndIss()
    {
        REQUIRE_TEST_KEYRING();
        QFETCH(QString, change);
        QFETCH(QString, error);
        AuthorizeParameters p;
        p.clientId = registerClient();
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        if (change == QLatin1String("no-challenge"))
            p.challenge = QString();
        else if (change == QLatin1String("plain"))
            p.method = QStringLiteral("plain");
        else if (change == QLatin1String("no-method"))
            p.method = QString();
        else if (change == QLatin1String("short-challenge"))
            p.challenge = QStringLiteral("abc");
        else if (change == QLatin1String("token"))
            p.responseType = QStringLiteral("token");
        else if (change == QLatin1String("no-response-type"))
            p.responseType = QString();
        else if (change == QLatin1String("foreign-resource"))
            p.resource = QStringLiteral("https://api.example.com/mcp");
        else if (change == QLatin1String("unknown-server"))
            p.resource = origin() + QStringLiteral("/mcp/gamma");
        const Reply reply = get(authorizePath(p));
        QCOMPARE(reply.status, 302);
        const QUrl location = reply.location();
        QCOMPARE(location.toString(QUrl::RemoveQuery), kRedirect);
        const QUrlQuery query(location);
        QCOMPARE(query.queryItemValue(QStringLiteral("error")), error);
        QCOMPARE(query.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded), p.state);
        QCOMPARE(query.queryItemValue(QStringLiteral("iss"), QUrl::FullyDecoded), origin());
        QVERIFY(!query.hasQueryItem(QStringLiteral("code")));
        QVERIFY(m_server->pendingConsents().isEmpty());
    }

    // ---- the whole flow

    void fullCodeFlowThenRefreshRotates()
    {
        REQUIRE_TEST_KEYRING();
        QSignalSpy requested(m_server.get(), &LocalAuthorizationServer::consentRequested);
        QSignalSpy finished(m_server.get(), &LocalAuthorizationServer::consentFinished);
        const QString clientId = registerClient(QStringLiteral("Flow client"));
        const oauth::Pkce pkce = oauth::Pkce::generate();
        g_logWatch.watch(pkce.verifier);
        AuthorizeParameters p;
        p.clientId = clientId;
        p.challenge = QString::fromLatin1(pkce.challenge);
        const Reply page = get(authorizePath(p));
        QCOMPARE(page.status, 200);
        QCOMPARE(requested.count(), 1);
        const auto request = requested.at(0).at(0).value<ConsentRequest>();
        QCOMPARE(request.clientName, QStringLiteral("Flow client"));
        QCOMPARE(request.clientId, clientId);
        QCOMPARE(request.redirectUri, kRedirect);
        QVERIFY(request.requestedServers.isEmpty());
        QCOMPARE(m_server->pendingConsents().size(), 1);
        QCOMPARE(m_server->pendingConsents().first().id, request.id);

        const ConsentForm form = parseConsentPage(page.body);
        g_logWatch.watch(form.csrf.toLatin1());
        QCOMPARE(form.consentId, request.id);
        QCOMPARE(form.servers, m_serverNames);
        QCOMPARE(form.checkedServers, m_serverNames);
        QVERIFY(page.body.contains("Flow client"));
        QVERIFY(page.body.contains(kRedirect.toUtf8()));

        const Reply decided
                = postForm(QStringLiteral("/oauth/consent"),
                           {{QStringLiteral("consent"), form.consentId},
                            {QStringLiteral("csrf"), form.csrf},
                            {QStringLiteral("decision"), QStringLiteral("approve")},
                            {QStringLiteral("server"), QStringLiteral("alpha")},
                            {QStringLiteral("server"), QStringLiteral("beta")}},
                           {{"Origin", origin().toLatin1()}, {"Sec-Fetch-Site", "same-origin"}});
        QCOMPARE(decided.status, 302);
        QCOMPARE(decided.location().toString(QUrl::RemoveQuery), kRedirect);
        const QUrlQuery answer = decided.locationQuery();
        const QString code = answer.queryItemValue(QStringLiteral("code"));
        g_logWatch.watch(code.toLatin1());
        QCOMPARE(code.size(), 43);
        QCOMPARE(answer.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded), p.state);
        QCOMPARE(answer.queryItemValue(QStringLiteral("iss"), QUrl::FullyDecoded), origin());
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toString(), request.id);
        QCOMPARE(finished.at(0).at(1).toBool(), true);
        QVERIFY(m_server->pendingConsents().isEmpty());

        Flow flow{clientId, pkce, code, origin() + QStringLiteral("/mcp")};
        const Reply tokens = exchange(flow);
        watchTokens(tokens);
        QCOMPARE(tokens.status, 200);
        QCOMPARE(tokens.header("Cache-Control"), QByteArray("no-store"));
        QCOMPARE(tokens.header("Pragma"), QByteArray("no-cache"));
        const QJsonObject issued = tokens.json();
        QCOMPARE(issued.value(QStringLiteral("token_type")).toString(), QStringLiteral("Bearer"));
        QVERIFY(issued.value(QStringLiteral("expires_in")).toInt() > 0);
        QVERIFY(!issued.contains(QStringLiteral("scope")));
        const QString access = issued.value(QStringLiteral("access_token")).toString();
        const QString refreshToken = issued.value(QStringLiteral("refresh_token")).toString();
        QVERIFY(!access.isEmpty());
        QVERIFY(!refreshToken.isEmpty());
        const Result<ClientGrant> grant = m_grants->authenticate(access.toLatin1());
        QVERIFY2(grant.ok(), grant.ok() ? "" : qPrintable(grant.error().message));
        QCOMPARE(grant.value().kind, ClientGrant::Kind::OAuth);
        QCOMPARE(grant.value().oauthClientId, clientId);
        QCOMPARE(grant.value().clientName, QStringLiteral("Flow client"));
        QVERIFY(grant.value().servers.isEmpty()); // every server, also later ones

        const Reply refreshed = refresh(clientId, refreshToken);
        watchTokens(refreshed);
        QCOMPARE(refreshed.status, 200);
        QCOMPARE(refreshed.header("Cache-Control"), QByteArray("no-store"));
        const QString newRefresh
                = refreshed.json().value(QStringLiteral("refresh_token")).toString();
        const QString newAccess = refreshed.json().value(QStringLiteral("access_token")).toString();
        QVERIFY(!newRefresh.isEmpty());
        QVERIFY(newRefresh != refreshToken);
        QVERIFY(authenticates(newAccess));

        const Reply old = refresh(clientId, refreshToken);
        QCOMPARE(old.status, 400);
        QCOMPARE(old.error(), QStringLiteral("invalid_grant"));

        const Reply otherClient = refresh(registerClient(), newRefresh);
        QCOMPARE(otherClient.error(), QStringLiteral("invalid_grant"));
        // The old refresh token came back: it leaked, so the whole grant is gone (OAuth 2.1
        // §4.3.1), the newest refresh token with it.
        const Reply again = refresh(clientId, newRefresh);
        QCOMPARE(again.status, 400);
        QCOMPARE(again.error(), QStringLiteral("invalid_grant"));
        QVERIFY(!authenticates(newAccess));
    }

    void serversChosenOnThePageBoundTheGrant()
    {
        REQUIRE_TEST_KEYRING();
        // Per-server request: only that server is pre-checked, and the grant names it.
        Flow flow;
        flow.clientId = registerClient();
        flow.pkce = oauth::Pkce::generate();
        flow.resource = origin() + QStringLiteral("/mcp/beta");
        AuthorizeParameters p;
        p.clientId = flow.clientId;
        p.challenge = QString::fromLatin1(flow.pkce.challenge);
        p.resource = flow.resource;
        const Reply page = get(authorizePath(p));
        QCOMPARE(page.status, 200);
        const ConsentForm form = parseConsentPage(page.body);
        QCOMPARE(form.checkedServers, QStringList{QStringLiteral("beta")});
        QCOMPARE(m_server->pendingConsents().first().requestedServers,
                 QStringList{QStringLiteral("beta")});

        // Nothing checked: asked again, still pending.
        const Reply none = postForm(QStringLiteral("/oauth/consent"),
                                    {{QStringLiteral("consent"), form.consentId},
                                     {QStringLiteral("csrf"), form.csrf},
                                     {QStringLiteral("decision"), QStringLiteral("approve")}});
        QCOMPARE(none.status, 400);
        QVERIFY(none.body.contains("Choose at least one server"));
        QCOMPARE(m_server->pendingConsents().size(), 1);

        const Reply decided = postForm(QStringLiteral("/oauth/consent"),
                                       {{QStringLiteral("consent"), form.consentId},
                                        {QStringLiteral("csrf"), form.csrf},
                                        {QStringLiteral("decision"), QStringLiteral("approve")},
                                        {QStringLiteral("server"), QStringLiteral("beta")},
                                        {QStringLiteral("server"), QStringLiteral("nonexistent")}});
        QCOMPARE(decided.status, 302);
        flow.code = decided.locationQuery().queryItemValue(QStringLiteral("code"));
        g_logWatch.watch(flow.code.toLatin1());
        const Reply tokens = exchange(flow);
        watchTokens(tokens);
        QCOMPARE(tokens.status, 200);
        const auto grant = m_grants->authenticate(
                tokens.json().value(QStringLiteral("access_token")).toString().toLatin1());
        QVERIFY(grant.ok());
        QCOMPARE(grant.value().servers, QStringList{QStringLiteral("beta")});
    }

    void codeIsSingleUseAndReuseRevokesItsGrant()
    {
        REQUIRE_TEST_KEYRING();
        const Flow flow = approvedFlow();
        QVERIFY(!flow.code.isEmpty());
        const Reply first = exchange(flow);
        watchTokens(first);
        QCOMPARE(first.status, 200);
        const QString access = first.json().value(QStringLiteral("access_token")).toString();
        QVERIFY(authenticates(access));

        const Reply second = exchange(flow);
        QCOMPARE(second.status, 400);
        QCOMPARE(second.error(), QStringLiteral("invalid_grant"));
        QCOMPARE(second.header("Cache-Control"), QByteArray("no-store"));
        QTRY_VERIFY_WITH_TIMEOUT(!authenticates(access), kAnswerTimeoutMs);
        const Reply refreshed = refresh(
                flow.clientId, first.json().value(QStringLiteral("refresh_token")).toString());
        QCOMPARE(refreshed.error(), QStringLiteral("invalid_grant"));
    }

    void wrongVerifierIsRefusedAndSpendsTheCode()
    {
        REQUIRE_TEST_KEYRING();
        const Flow flow = approvedFlow();
        QVERIFY(!flow.code.isEmpty());
        const Reply wrong = exchange(flow, QString::fromLatin1(oauth::Pkce::generate().verifier));
        QCOMPARE(wrong.status, 400);
        QCOMPARE(wrong.error(), QStringLiteral("invalid_grant"));
        const Reply missing = exchange(approvedFlow(), QStringLiteral(""));
        QCOMPARE(missing.error(), QStringLiteral("invalid_grant"));
        // The code is spent: the right verifier comes too late.
        const Reply right = exchange(flow);
        QCOMPARE(right.error(), QStringLiteral("invalid_grant"));
        QVERIFY(m_grants->grants().isEmpty());
    }

    void tokenRequestMustMatchTheAuthorization_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("error");
        QTest::newRow("other redirect_uri")
                << QStringLiteral("redirect_uri") << QStringLiteral("http://127.0.0.1:43117/other")
                << 400 << QStringLiteral("invalid_grant");
        QTest::newRow("no redirect_uri") << QStringLiteral("redirect_uri") << QString() << 400
                                         << QStringLiteral("invalid_request");
        QTest::newRow("other resource")
                << QStringLiteral("resource") << QStringLiteral("/mcp/alpha") << 400
                << QStringLiteral("invalid_target");
        QTest::newRow("other client") << QStringLiteral("client_id") << QStringLiteral("*") << 400
                                      << QStringLiteral("invalid_grant");
        QTest::newRow("unknown client") << QStringLiteral("client_id") << QStringLiteral("nobody")
                                        << 401 << QStringLiteral("invalid_client");
        QTest::newRow("client secret")
                << QStringLiteral("client_secret") << QStringLiteral("s3cret") << 401
                << QStringLiteral("invalid_client");
        QTest::newRow("unknown code") << QStringLiteral("code") << QStringLiteral("bogus") << 400
                                      << QStringLiteral("invalid_grant");
        QTest::newRow("password grant")
                << QStringLiteral("grant_type") << QStringLiteral("password") << 400
                << QStringLiteral("unsupported_grant_type");
    }

    void tokenRequestMustMatchTheAuthorization()
    {
        REQUIRE_TEST_KEYRING();
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(int, status);
        QFETCH(QString, error);
        const Flow flow = approvedFlow();
        QList<QPair<QString, QString>> form{
                {QStringLiteral("grant_type"), QStringLiteral("authorization_code")},
                {QStringLiteral("code"), flow.code},
                {QStringLiteral("redirect_uri"), kRedirect},
                {QStringLiteral("client_id"), flow.clientId},
                {QStringLiteral("code_verifier"), QString::fromLatin1(flow.pkce.verifier)},
                {QStringLiteral("resource"), flow.resource}};
        QString replacement = value;
        if (value == QLatin1String("*"))
            replacement = registerClient();
        else if (value.startsWith(QLatin1Char('/')))
            replacement = origin() + value;
        bool replaced = false;
        for (auto &item : form) {
            if (item.first == field) {
                item.second = replacement;
                replaced = true;
            }
        }
        if (!replaced)
            form.append({field, replacement});
        if (value.isNull())
            form.removeIf([&field](const auto &item) { return item.first == field; });
        const Reply reply = postForm(QStringLiteral("/oauth/token"), form);
        watchTokens(reply);
        QCOMPARE(reply.status, status);
        QCOMPARE(reply.error(), error);
        QCOMPARE(reply.header("Cache-Control"), QByteArray("no-store"));
        QVERIFY(m_grants->grants().isEmpty());
    }

    void tokenEndpointRefusesCredentialsAndOtherBodies()
    {
        REQUIRE_TEST_KEYRING();
        const QString clientId = registerClient();
        const Reply basic
                = postForm(QStringLiteral("/oauth/token"),
                           {{QStringLiteral("grant_type"), QStringLiteral("refresh_token")},
                            {QStringLiteral("refresh_token"), QStringLiteral("x")}},
                           {{"Authorization",
                             "Basic " + (clientId + QStringLiteral(":")).toLatin1().toBase64()}});
        QCOMPARE(basic.status, 401);
        QCOMPARE(basic.error(), QStringLiteral("invalid_client"));
        QVERIFY(basic.header("WWW-Authenticate").startsWith("Basic"));

        const Reply json = send("POST", QStringLiteral("/oauth/token"),
                                R"({"grant_type":"refresh_token"})", "application/json");
        QCOMPARE(json.status, 400);
        QCOMPARE(json.error(), QStringLiteral("invalid_request"));

        const Reply repeated
                = postForm(QStringLiteral("/oauth/token"),
                           {{QStringLiteral("grant_type"), QStringLiteral("refresh_token")},
                            {QStringLiteral("client_id"), clientId},
                            {QStringLiteral("client_id"), clientId}});
        QCOMPARE(repeated.error(), QStringLiteral("invalid_request"));
        QCOMPARE(get(QStringLiteral("/oauth/token")).status, 405);
    }

    void codeExpiresAfterItsLifetime()
    {
        REQUIRE_TEST_KEYRING();
        LocalAuthorizationServer::Options options;
        options.codeLifetimeMs = 200;
        startServer(options);
        const Flow flow = approvedFlow();
        QVERIFY(!flow.code.isEmpty());
        const QDateTime expired = QDateTime::currentDateTimeUtc().addMSecs(300);
        QTRY_VERIFY(QDateTime::currentDateTimeUtc() > expired);
        const Reply late = exchange(flow);
        QCOMPARE(late.status, 400);
        QCOMPARE(late.error(), QStringLiteral("invalid_grant"));
        QVERIFY(m_grants->grants().isEmpty());
    }

    // ---- the consent page

    void consentWithWrongCsrfTokenIsRefused()
    {
        REQUIRE_TEST_KEYRING();
        AuthorizeParameters p;
        p.clientId = registerClient();
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        const ConsentForm form = parseConsentPage(get(authorizePath(p)).body);
        g_logWatch.watch(form.csrf.toLatin1());
        QVERIFY(!form.csrf.isEmpty());
        QString wrong = form.csrf;
        wrong[0] = wrong[0] == QLatin1Char('A') ? QLatin1Char('B') : QLatin1Char('A');
        for (const QString &csrf : {wrong, QString(), form.csrf.left(10)}) {
            const Reply reply = postForm(QStringLiteral("/oauth/consent"),
                                         {{QStringLiteral("consent"), form.consentId},
                                          {QStringLiteral("csrf"), csrf},
                                          {QStringLiteral("decision"), QStringLiteral("approve")}});
            QCOMPARE(reply.status, 403);
            QVERIFY(reply.header("Location").isEmpty());
            QVERIFY(reply.header("Content-Type").startsWith("text/html"));
        }
        QCOMPARE(m_server->pendingConsents().size(), 1);
    }

    void crossSiteConsentPostIsRefused_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("Sec-Fetch-Site cross-site")
                << QByteArray("Sec-Fetch-Site") << QByteArray("cross-site");
        QTest::newRow("Sec-Fetch-Site same-site")
                << QByteArray("Sec-Fetch-Site") << QByteArray("same-site");
        QTest::newRow("Origin of another loopback page")
                << QByteArray("Origin") << QByteArray("http://localhost:1");
        QTest::newRow("Origin of the other loopback name")
                << QByteArray("Origin") << QByteArray("*");
    }

    void crossSiteConsentPostIsRefused()
    {
        REQUIRE_TEST_KEYRING();
        QFETCH(QByteArray, header);
        QFETCH(QByteArray, value);
        if (value == "*")
            value = QStringLiteral("http://localhost:%1").arg(m_http->port()).toLatin1();
        AuthorizeParameters p;
        p.clientId = registerClient();
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        const ConsentForm form = parseConsentPage(get(authorizePath(p)).body);
        g_logWatch.watch(form.csrf.toLatin1());
        const Reply reply = postForm(QStringLiteral("/oauth/consent"),
                                     {{QStringLiteral("consent"), form.consentId},
                                      {QStringLiteral("csrf"), form.csrf},
                                      {QStringLiteral("decision"), QStringLiteral("approve")},
                                      {QStringLiteral("server"), QStringLiteral("alpha")}},
                                     {{header, value}});
        QCOMPARE(reply.status, 403);
        QVERIFY(reply.header("Location").isEmpty());
        QCOMPARE(m_server->pendingConsents().size(), 1);
    }

    void htmlPagesCannotBeFramedOrCached()
    {
        REQUIRE_TEST_KEYRING();
        AuthorizeParameters p;
        p.clientId = registerClient();
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        const Reply consent = get(authorizePath(p));
        p.clientId = QStringLiteral("unknown");
        const Reply error = get(authorizePath(p));
        for (const Reply &page : {consent, error}) {
            QVERIFY(page.header("Content-Type").startsWith("text/html"));
            QCOMPARE(page.header("X-Frame-Options"), QByteArray("DENY"));
            QCOMPARE(page.header("X-Content-Type-Options"), QByteArray("nosniff"));
            QCOMPARE(page.header("Cache-Control"), QByteArray("no-store"));
            QVERIFY(!page.header("Referrer-Policy").isEmpty());
            const QByteArray csp = page.header("Content-Security-Policy");
            QVERIFY2(csp.contains("frame-ancestors 'none'"), csp.constData());
            QVERIFY2(csp.contains("default-src 'none'"), csp.constData());
            QVERIFY2(csp.contains("base-uri 'none'"), csp.constData());
            QVERIFY2(csp.contains("form-action 'self'"), csp.constData());
        }
        // The page's only script carries the nonce of its CSP, and its form may redirect to the
        // client.
        const QByteArray csp = consent.header("Content-Security-Policy");
        const QRegularExpression nonceIn(QStringLiteral("script-src 'nonce-([A-Za-z0-9_-]+)'"));
        const QString nonce = nonceIn.match(QString::fromLatin1(csp)).captured(1);
        QVERIFY2(nonce.size() >= 16, csp.constData());
        QVERIFY(consent.body.contains(("<script nonce=\"" + nonce + "\">").toLatin1()));
        QCOMPARE(consent.body.count("<script"), 1);
        QVERIFY2(csp.contains("form-action 'self' http://127.0.0.1:43117"), csp.constData());
        QVERIFY(consent.body.contains("chosen by the application itself"));
        // Another page, another nonce.
        p.clientId = registerClient();
        const QByteArray csp2 = get(authorizePath(p)).header("Content-Security-Policy");
        QVERIFY(nonceIn.match(QString::fromLatin1(csp2)).captured(1) != nonce);
    }

    void clientSuppliedTextIsEscaped()
    {
        REQUIRE_TEST_KEYRING();
        const QString redirect = QStringLiteral("http://127.0.0.1:43117/cb?a=1&b='x'");
        const QString clientId = registerClient(
                QStringLiteral("<script>alert(1)</script>{{CSRF}}\"'&"), {redirect});
        QVERIFY(!clientId.isEmpty());
        AuthorizeParameters p;
        p.clientId = clientId;
        p.redirectUri = redirect;
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        const Reply page = get(authorizePath(p));
        QCOMPARE(page.status, 200);
        const ConsentForm form = parseConsentPage(page.body);
        g_logWatch.watch(form.csrf.toLatin1());
        QVERIFY(!page.body.contains("<script>alert"));
        QVERIFY(page.body.contains("/cb?a=1&amp;b='x'"));
        QVERIFY(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;{{CSRF}}&quot;"));
        QCOMPARE(page.body.count(form.csrf.toLatin1()), 1); // only in the hidden field
    }

    void denyRedirectsAccessDeniedWithStateAndIss()
    {
        REQUIRE_TEST_KEYRING();
        QSignalSpy finished(m_server.get(), &LocalAuthorizationServer::consentFinished);
        AuthorizeParameters p;
        p.clientId = registerClient();
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        const ConsentForm form = parseConsentPage(get(authorizePath(p)).body);
        g_logWatch.watch(form.csrf.toLatin1());
        const Reply reply = postForm(QStringLiteral("/oauth/consent"),
                                     {{QStringLiteral("consent"), form.consentId},
                                      {QStringLiteral("csrf"), form.csrf},
                                      {QStringLiteral("decision"), QStringLiteral("deny")}},
                                     {{"Sec-Fetch-Site", "same-origin"}});
        QCOMPARE(reply.status, 302);
        QCOMPARE(reply.location().toString(QUrl::RemoveQuery), kRedirect);
        const QUrlQuery query = reply.locationQuery();
        QCOMPARE(query.queryItemValue(QStringLiteral("error")), QStringLiteral("access_denied"));
        QCOMPARE(query.queryItemValue(QStringLiteral("state"), QUrl::FullyDecoded), p.state);
        QCOMPARE(query.queryItemValue(QStringLiteral("iss"), QUrl::FullyDecoded), origin());
        QVERIFY(!query.hasQueryItem(QStringLiteral("code")));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(1).toBool(), false);
        QVERIFY(m_server->pendingConsents().isEmpty());
        QVERIFY(m_grants->grants().isEmpty());
    }

    void trayAnswerReachesThePageThroughStatus()
    {
        REQUIRE_TEST_KEYRING();
        QSignalSpy requested(m_server.get(), &LocalAuthorizationServer::consentRequested);
        QSignalSpy finished(m_server.get(), &LocalAuthorizationServer::consentFinished);
        Flow flow;
        flow.clientId = registerClient();
        flow.pkce = oauth::Pkce::generate();
        flow.resource = origin() + QStringLiteral("/mcp");
        AuthorizeParameters p;
        p.clientId = flow.clientId;
        p.challenge = QString::fromLatin1(flow.pkce.challenge);
        const ConsentForm form = parseConsentPage(get(authorizePath(p)).body);
        QCOMPARE(requested.count(), 1);
        const QString id = requested.at(0).at(0).value<ConsentRequest>().id;
        const QString status = QStringLiteral("/oauth/consent/status?id=")
                + QString::fromLatin1(QUrl::toPercentEncoding(id));
        QCOMPARE(get(status).json().value(QStringLiteral("status")).toString(),
                 QStringLiteral("pending"));
        QCOMPARE(get(QStringLiteral("/oauth/consent/status?id=nope")).status, 404);

        m_server->approve(id, {QStringLiteral("alpha"), QStringLiteral("gone")});
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(1).toBool(), true);
        QVERIFY(m_server->pendingConsents().isEmpty());
        const Reply decided = get(status);
        QCOMPARE(decided.json().value(QStringLiteral("status")).toString(),
                 QStringLiteral("approved"));
        QCOMPARE(decided.header("Cache-Control"), QByteArray("no-store"));
        const QUrl location(decided.json().value(QStringLiteral("location")).toString());
        QCOMPARE(location.toString(QUrl::RemoveQuery), kRedirect);
        flow.code = QUrlQuery(location).queryItemValue(QStringLiteral("code"));
        g_logWatch.watch(flow.code.toLatin1());
        QCOMPARE(QUrlQuery(location).queryItemValue(QStringLiteral("iss"), QUrl::FullyDecoded),
                 origin());

        // The page, answering late, is sent on with the tray's answer.
        const Reply late = postForm(QStringLiteral("/oauth/consent"),
                                    {{QStringLiteral("consent"), form.consentId},
                                     {QStringLiteral("csrf"), form.csrf},
                                     {QStringLiteral("decision"), QStringLiteral("deny")}});
        QCOMPARE(late.status, 302);
        QCOMPARE(late.location(), location);
        const Reply forged = postForm(QStringLiteral("/oauth/consent"),
                                      {{QStringLiteral("consent"), form.consentId},
                                       {QStringLiteral("csrf"), QStringLiteral("forged")},
                                       {QStringLiteral("decision"), QStringLiteral("approve")}});
        QCOMPARE(forged.status, 403);
        QVERIFY(forged.header("Location").isEmpty());
        m_server->deny(id); // already answered: ignored
        QCOMPARE(finished.count(), 1);

        const Reply tokens = exchange(flow);
        watchTokens(tokens);
        QCOMPARE(tokens.status, 200);
        const auto grant = m_grants->authenticate(
                tokens.json().value(QStringLiteral("access_token")).toString().toLatin1());
        QVERIFY(grant.ok());
        QCOMPARE(grant.value().servers, QStringList{QStringLiteral("alpha")});

        // A tray denial.
        get(authorizePath(p));
        QCOMPARE(requested.count(), 2);
        const QString second = requested.at(1).at(0).value<ConsentRequest>().id;
        m_server->deny(second);
        const Reply denied = get(QStringLiteral("/oauth/consent/status?id=")
                                 + QString::fromLatin1(QUrl::toPercentEncoding(second)));
        QCOMPARE(denied.json().value(QStringLiteral("status")).toString(),
                 QStringLiteral("denied"));
        QCOMPARE(QUrlQuery(QUrl(denied.json().value(QStringLiteral("location")).toString()))
                         .queryItemValue(QStringLiteral("error")),
                 QStringLiteral("access_denied"));
    }

    void rememberedAnswersSkipTheQuestionUntilRevoked()
    {
        REQUIRE_TEST_KEYRING();
        QSignalSpy requested(m_server.get(), &LocalAuthorizationServer::consentRequested);
        const QString alphaResource = origin() + QStringLiteral("/mcp/alpha");
        AuthorizeParameters p;
        p.clientId = registerClient();
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        p.resource = alphaResource;
        QCOMPARE(get(authorizePath(p)).status, 200);
        QCOMPARE(requested.count(), 1);
        m_server->approve(requested.at(0).at(0).value<ConsentRequest>().id,
                          {QStringLiteral("alpha")}, true);

        // Asked again for the same server: answered at once, with a code.
        Flow flow;
        flow.clientId = p.clientId;
        flow.pkce = oauth::Pkce::generate();
        flow.resource = alphaResource;
        p.challenge = QString::fromLatin1(flow.pkce.challenge);
        const Reply remembered = get(authorizePath(p));
        QCOMPARE(remembered.status, 302);
        QCOMPARE(requested.count(), 1);
        flow.code = remembered.locationQuery().queryItemValue(QStringLiteral("code"));
        g_logWatch.watch(flow.code.toLatin1());
        QVERIFY(!flow.code.isEmpty());
        const Reply tokens = exchange(flow);
        watchTokens(tokens);
        QCOMPARE(tokens.status, 200);

        // Every server is more than the user allowed: asked again.
        p.resource = origin() + QStringLiteral("/mcp");
        QCOMPARE(get(authorizePath(p)).status, 200);
        QCOMPARE(requested.count(), 2);
        m_server->deny(requested.at(1).at(0).value<ConsentRequest>().id);

        // Revoking the client's grant forgets the remembered answer.
        std::optional<bool> revoked;
        m_grants->revoke(QStringLiteral("Test client"),
                         [&revoked](auto result) { revoked = result.ok(); });
        QTRY_VERIFY(revoked.has_value());
        QVERIFY(*revoked);
        p.resource = alphaResource;
        QCOMPARE(get(authorizePath(p)).status, 200);
        QCOMPARE(requested.count(), 3);
    }

    void rememberedDenialRefusesAtOnce()
    {
        REQUIRE_TEST_KEYRING();
        QSignalSpy requested(m_server.get(), &LocalAuthorizationServer::consentRequested);
        AuthorizeParameters p;
        p.clientId = registerClient();
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        QCOMPARE(get(authorizePath(p)).status, 200);
        m_server->deny(requested.at(0).at(0).value<ConsentRequest>().id, true);

        const Reply refused = get(authorizePath(p));
        QCOMPARE(refused.status, 302);
        QCOMPARE(refused.locationQuery().queryItemValue(QStringLiteral("error")),
                 QStringLiteral("access_denied"));
        QCOMPARE(requested.count(), 1);
        // Kept in grants.json: a restarted broker still refuses.
        const auto client = m_grants->findClient(p.clientId);
        QVERIFY(client.has_value());
        QCOMPARE(client->remembered, LocalClientRegistration::RememberedConsent::Deny);
    }

    void pendingConsentExpires()
    {
        REQUIRE_TEST_KEYRING();
        LocalAuthorizationServer::Options options;
        options.consentLifetimeMs = 300;
        startServer(options);
        QSignalSpy finished(m_server.get(), &LocalAuthorizationServer::consentFinished);
        AuthorizeParameters p;
        p.clientId = registerClient();
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        const ConsentForm form = parseConsentPage(get(authorizePath(p)).body);
        g_logWatch.watch(form.csrf.toLatin1());
        QCOMPARE(m_server->pendingConsents().size(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 5000);
        QCOMPARE(finished.at(0).at(1).toBool(), false);
        QVERIFY(m_server->pendingConsents().isEmpty());
        QCOMPARE(get(QStringLiteral("/oauth/consent/status?id=")
                     + QString::fromLatin1(QUrl::toPercentEncoding(form.consentId)))
                         .json()
                         .value(QStringLiteral("status"))
                         .toString(),
                 QStringLiteral("expired"));
        const Reply late = postForm(QStringLiteral("/oauth/consent"),
                                    {{QStringLiteral("consent"), form.consentId},
                                     {QStringLiteral("csrf"), form.csrf},
                                     {QStringLiteral("decision"), QStringLiteral("approve")}});
        QCOMPARE(late.status, 400);
        QVERIFY(late.header("Location").isEmpty());
    }

    void tooManyPendingConsentsDropTheOldest()
    {
        REQUIRE_TEST_KEYRING();
        LocalAuthorizationServer::Options options;
        options.maxPendingConsents = 2;
        startServer(options);
        QSignalSpy requested(m_server.get(), &LocalAuthorizationServer::consentRequested);
        QSignalSpy finished(m_server.get(), &LocalAuthorizationServer::consentFinished);
        AuthorizeParameters p;
        p.clientId = registerClient();
        p.challenge = QString::fromLatin1(oauth::Pkce::generate().challenge);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(get(authorizePath(p)).status, 200);
        QCOMPARE(m_server->pendingConsents().size(), 2);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.at(0).at(0).toString(), requested.at(0).at(0).value<ConsentRequest>().id);
    }

    // ---- revocation

    void revocationEndsTheGrantAndUnknownTokensAreFine()
    {
        REQUIRE_TEST_KEYRING();
        const Flow flow = approvedFlow();
        const Reply tokens = exchange(flow);
        watchTokens(tokens);
        QCOMPARE(tokens.status, 200);
        const QString access = tokens.json().value(QStringLiteral("access_token")).toString();
        const QString refreshToken
                = tokens.json().value(QStringLiteral("refresh_token")).toString();
        QVERIFY(authenticates(access));

        const Reply unknown = postForm(QStringLiteral("/oauth/revoke"),
                                       {{QStringLiteral("token"), QStringLiteral("not-a-token")},
                                        {QStringLiteral("client_id"), flow.clientId}});
        QCOMPARE(unknown.status, 200);
        QVERIFY(authenticates(access));

        const Reply revoked
                = postForm(QStringLiteral("/oauth/revoke"),
                           {{QStringLiteral("token"), refreshToken},
                            {QStringLiteral("token_type_hint"), QStringLiteral("refresh_token")},
                            {QStringLiteral("client_id"), flow.clientId}});
        QCOMPARE(revoked.status, 200);
        QTRY_VERIFY_WITH_TIMEOUT(!authenticates(access), kAnswerTimeoutMs);
        QCOMPARE(refresh(flow.clientId, refreshToken).error(), QStringLiteral("invalid_grant"));

        QCOMPARE(postForm(QStringLiteral("/oauth/revoke"), {}).error(),
                 QStringLiteral("invalid_request"));
        QCOMPARE(postForm(QStringLiteral("/oauth/revoke"),
                          {{QStringLiteral("token"), QStringLiteral("x")},
                           {QStringLiteral("client_id"), QStringLiteral("nobody")}})
                         .status,
                 401);
    }
};

QTEST_GUILESS_MAIN(TestLocalAuthorizationServer)
#include "tst_localauthorizationserver.moc"
