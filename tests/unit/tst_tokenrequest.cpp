#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "oauth/TokenRequest.h"

#include "LogWatch.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QPointer>
#include <QTcpServer>
#include <QTest>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <functional>
#include <memory>
#include <vector>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

Q_DECLARE_METATYPE(mcpbroker::Error::Kind)

namespace {

const QUrl kResource(u"https://mcp.example.com/mcp"_qs);
const QByteArray kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// A token endpoint on 127.0.0.1 that answers every request with `answer` and
// keeps what it got.
struct FakeTokenEndpoint
{
    std::vector<http::HttpRequest> requests;
    std::function<http::HttpResponse(const http::HttpRequest &)> answer;
    bool silent = false; // never answer
    std::unique_ptr<http::HttpServer> server;

    FakeTokenEndpoint()
    {
        server = std::make_unique<http::HttpServer>(
                [this](const http::HttpRequest &request, http::HttpResponder *responder) {
                    requests.push_back(request);
                    if (!silent)
                        responder->send(answer(request));
                });
        if (!server->listen(0))
            qFatal("cannot listen");
        respondJson(200,
                    R"({"access_token":"AT-1","token_type":"bearer","expires_in":3600,)"
                    R"("refresh_token":"RT-2","scope":"read write"})");
    }

    void respondJson(int status, QByteArray body)
    {
        answer = [status, body](const http::HttpRequest &) {
            return http::HttpResponse::json(status, body);
        };
    }

    QUrl url() const { return QUrl(u"http://127.0.0.1:%1/token"_qs.arg(server->port())); }
};

// A TokenRequest and every result it reported.
struct Call
{
    std::unique_ptr<TokenRequest> request;
    std::vector<Result<TokenResponse>> results;

    Call(QNetworkAccessManager *network, const QUrl &endpoint, ClientAuthentication client,
         int timeoutMs = 10'000)
        : request(std::make_unique<TokenRequest>(network, endpoint, std::move(client), timeoutMs))
    {
        QObject::connect(
                request.get(), &TokenRequest::finished, request.get(),
                [this](const Result<TokenResponse> &result) { results.push_back(result); });
    }
};

// The error message of a failed result (QVERIFY2 evaluates its message even on success).
template<typename T>
QString why(const Result<T> &result)
{
    return result.ok() ? QString() : result.error().message;
}

ClientAuthentication publicClient()
{
    return {u"client-1"_qs, {}, ClientAuthentication::Method::None};
}

// A fresh EC P-256 private key, PKCS#8 PEM.
QByteArray newPrivateKeyPem()
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    if (!key || !bio || !PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr))
        qFatal("cannot make a key");
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    QByteArray pem(data, qsizetype(size));
    BIO_free(bio);
    EVP_PKEY_free(key);
    return pem;
}

// The JSON object of one part of a compact JWS.
QJsonObject jwsPart(const QByteArray &jws, int part)
{
    return QJsonDocument::fromJson(QByteArray::fromBase64(jws.split('.').value(part),
                                                          QByteArray::Base64UrlEncoding))
            .object();
}

} // namespace

class TestTokenRequest : public QObject
{
    Q_OBJECT

private:
    QNetworkAccessManager m_network;

private Q_SLOTS:
    void initTestCase() { m_network.setProxy(QNetworkProxy::NoProxy); }

    void authorizationCodeIsExchangedWithVerifierRedirectUriAndResource()
    {
        FakeTokenEndpoint endpoint;
        Call call(&m_network, endpoint.url(), publicClient());
        const qint64 before = QDateTime::currentMSecsSinceEpoch();
        call.request->exchangeCode(u"CODE-1"_qs, u"http://127.0.0.1:4711/callback"_qs, kVerifier,
                                   kResource);
        QTRY_COMPARE(call.results.size(), size_t(1));
        const Result<TokenResponse> &result = call.results.front();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QCOMPARE(result.value().accessToken, QByteArray("AT-1"));
        QCOMPARE(result.value().refreshToken, QByteArray("RT-2"));
        QCOMPARE(result.value().tokenType, u"Bearer"_qs);
        QCOMPARE(result.value().scopes, QStringList({u"read"_qs, u"write"_qs}));
        QVERIFY(result.value().expiresAtMs >= before + 3600'000);
        QVERIFY(result.value().expiresAtMs <= QDateTime::currentMSecsSinceEpoch() + 3600'000);

        QCOMPARE(endpoint.requests.size(), size_t(1));
        const http::HttpRequest &sent = endpoint.requests.front();
        QCOMPARE(sent.method, QByteArray("POST"));
        QCOMPARE(sent.path, u"/token"_qs);
        QCOMPARE(sent.header("Content-Type"), QByteArray("application/x-www-form-urlencoded"));
        QVERIFY(!sent.hasHeader("Authorization"));
        QCOMPARE(sent.body,
                 QByteArray("grant_type=authorization_code&code=CODE-1"
                            "&redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2Fcallback"
                            "&code_verifier="
                            + kVerifier
                            + "&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
                              "&client_id=client-1"));
    }

    void specialCharactersAreFormEncoded()
    {
        FakeTokenEndpoint endpoint;
        Call call(&m_network, endpoint.url(),
                  {u"id &=+"_qs, {}, ClientAuthentication::Method::None});
        call.request->exchangeCode(u"a b+c&d=e/\u00e9~%"_qs, u"http://127.0.0.1:1/cb"_qs, kVerifier,
                                   QUrl(u"https://h.example/mcp?x=1&y=2"_qs));
        QTRY_COMPARE(call.results.size(), size_t(1));
        const QByteArray body = endpoint.requests.front().body;
        QVERIFY2(body.contains("&code=a+b%2Bc%26d%3De%2F%C3%A9~%25&"), body.constData());
        QVERIFY2(body.contains("&resource=https%3A%2F%2Fh.example%2Fmcp%3Fx%3D1%26y%3D2&"),
                 body.constData());
        QVERIFY2(body.endsWith("&client_id=id+%26%3D%2B"), body.constData());
        // What a form decoder reads back is what was sent.
        const QUrlQuery decoded(QString::fromLatin1(QByteArray(body).replace('+', ' ')));
        QCOMPARE(decoded.queryItemValue(u"code"_qs, QUrl::FullyDecoded), u"a b+c&d=e/\u00e9~%"_qs);
    }

    void clientSecretBasicFormEncodesIdAndSecretBeforeBase64()
    {
        FakeTokenEndpoint endpoint;
        Call call(&m_network, endpoint.url(),
                  {u"my client:1"_qs,
                   "p@ss+w%rd/=", ClientAuthentication::Method::ClientSecretBasic});
        call.request->refresh("RT-1", kResource);
        QTRY_COMPARE(call.results.size(), size_t(1));
        const http::HttpRequest &sent = endpoint.requests.front();
        // RFC 6749 §2.3.1: "my+client%3A1" ":" "p%40ss%2Bw%25rd%2F%3D", then
        // Base64.
        QCOMPARE(sent.header("Authorization"),
                 "Basic " + QByteArray("my+client%3A1:p%40ss%2Bw%25rd%2F%3D").toBase64());
        QCOMPARE(sent.body,
                 QByteArray("grant_type=refresh_token&refresh_token=RT-1"
                            "&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"));
    }

    void clientSecretPostPutsIdAndSecretInTheBody()
    {
        FakeTokenEndpoint endpoint;
        Call call(&m_network, endpoint.url(),
                  {u"client-2"_qs, "s3cr&t", ClientAuthentication::Method::ClientSecretPost});
        call.request->requestClientCredentials({u"tools:read"_qs, u"tools:call"_qs}, kResource);
        QTRY_COMPARE(call.results.size(), size_t(1));
        const http::HttpRequest &sent = endpoint.requests.front();
        QVERIFY(!sent.hasHeader("Authorization"));
        QCOMPARE(sent.body,
                 QByteArray("grant_type=client_credentials&scope=tools%3Aread+tools%3Acall"
                            "&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
                            "&client_id=client-2&client_secret=s3cr%26t"));
    }

    void privateKeyJwtSendsASignedAssertionForTheIssuerAndLogsNeither()
    {
        LogWatch log(LogWatch::Forward::Nowhere);
        QLoggingCategory::setFilterRules(u"mcpbroker.*=true\nqt.network.*=true"_qs);
        log.install();
        FakeTokenEndpoint endpoint;
        const QByteArray pem = newPrivateKeyPem();
        Call call(&m_network, endpoint.url(),
                  {u"client-jwt"_qs, pem, ClientAuthentication::Method::PrivateKeyJwt,
                   u"https://auth.example.com"_qs});
        const qint64 before = QDateTime::currentSecsSinceEpoch();
        call.request->requestClientCredentials({u"tools:read"_qs}, kResource);
        QTRY_COMPARE(call.results.size(), size_t(1));
        log.uninstall();
        QLoggingCategory::setFilterRules(QString());
        QVERIFY2(call.results.front().ok(), qPrintable(why(call.results.front())));

        const http::HttpRequest &sent = endpoint.requests.front();
        QVERIFY(!sent.hasHeader("Authorization"));
        const QByteArray prefix = "grant_type=client_credentials&scope=tools%3Aread"
                                  "&resource=https%3A%2F%2Fmcp.example.com%2Fmcp"
                                  "&client_id=client-jwt"
                                  "&client_assertion_type="
                                  "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                                  "&client_assertion=";
        QVERIFY2(sent.body.startsWith(prefix), sent.body.constData());
        const QByteArray assertion = sent.body.mid(prefix.size());
        QCOMPARE(assertion.count('.'), 2);
        QCOMPARE(jwsPart(assertion, 0).value(u"alg"_qs).toString(), u"ES256"_qs);
        const QJsonObject claims = jwsPart(assertion, 1);
        QCOMPARE(claims.value(u"iss"_qs).toString(), u"client-jwt"_qs);
        QCOMPARE(claims.value(u"sub"_qs).toString(), u"client-jwt"_qs);
        QCOMPARE(claims.value(u"aud"_qs).toString(), u"https://auth.example.com"_qs);
        const qint64 issuedAt = claims.value(u"iat"_qs).toInteger();
        QVERIFY(issuedAt >= before && issuedAt <= QDateTime::currentSecsSinceEpoch());
        QVERIFY(claims.value(u"exp"_qs).toInteger() > issuedAt);

        QVERIFY(!log.lines().isEmpty());
        for (const QString &line : log.lines()) {
            QVERIFY2(!line.contains(QString::fromLatin1(assertion.split('.').at(2))),
                     qPrintable(line));
            QVERIFY2(!line.contains(QString::fromLatin1(pem.split('\n').at(1))), qPrintable(line));
        }
    }

    void unusablePrivateKeyFailsWithoutSendingAnything()
    {
        FakeTokenEndpoint endpoint;
        Call call(&m_network, endpoint.url(),
                  {u"client-jwt"_qs, "SECRET-NOT-A-KEY",
                   ClientAuthentication::Method::PrivateKeyJwt, u"https://auth.example.com"_qs});
        call.request->requestClientCredentials({}, kResource);
        QCOMPARE(call.results.size(), size_t(0)); // reported from the event loop
        QTRY_COMPARE(call.results.size(), size_t(1));
        const Result<TokenResponse> &result = call.results.front();
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, Error::Kind::InvalidInput);
        QVERIFY2(result.error().message.contains(u"127.0.0.1"_qs), qPrintable(why(result)));
        QVERIFY2(result.error().message.contains(u"PEM private key"_qs), qPrintable(why(result)));
        QVERIFY(!result.error().message.contains(u"SECRET"_qs));
        QCOMPARE(endpoint.requests.size(), size_t(0));
    }

    void refreshWithoutOptionalFieldsKeepsRequestedScopesAndNoExpiry()
    {
        FakeTokenEndpoint endpoint;
        endpoint.respondJson(200, R"({"access_token":"AT-3","token_type":"BEARER"})");
        Call call(&m_network, endpoint.url(), publicClient());
        call.request->refresh("RT-1", kResource, {u"read"_qs});
        QTRY_COMPARE(call.results.size(), size_t(1));
        const Result<TokenResponse> &result = call.results.front();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QVERIFY(result.value().refreshToken.isEmpty());
        QCOMPARE(result.value().expiresAtMs, qint64(0));
        QCOMPARE(result.value().scopes, QStringList{u"read"_qs});
        QCOMPARE(endpoint.requests.front().body,
                 QByteArray("grant_type=refresh_token&refresh_token=RT-1&scope=read"
                            "&resource=https%3A%2F%2Fmcp.example.com%2Fmcp&client_"
                            "id=client-1"));
    }

    void invalidGrantIsUnauthorizedWithoutEchoingTheToken()
    {
        FakeTokenEndpoint endpoint;
        endpoint.respondJson(400,
                             R"({"error":"invalid_grant",)"
                             R"("error_description":"refresh token RT-SECRET-9 expired"})");
        Call call(&m_network, endpoint.url(), publicClient());
        call.request->refresh("RT-SECRET-9", kResource);
        QTRY_COMPARE(call.results.size(), size_t(1));
        const Result<TokenResponse> &result = call.results.front();
        QVERIFY(!result.ok());
        QCOMPARE(result.error().kind, Error::Kind::Unauthorized);
        QCOMPARE(call.request->oauthError(), u"invalid_grant"_qs);
        QVERIFY2(result.error().message.contains(u"invalid_grant"_qs),
                 qPrintable(result.error().message));
        QVERIFY2(result.error().message.contains(u"Sign in again"_qs),
                 qPrintable(result.error().message));
        QVERIFY(!result.error().message.contains(u"RT-SECRET-9"_qs));
    }

    void refusalsAndServerTroubleAreTold_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<Error::Kind>("kind");
        QTest::addColumn<QString>("oauthError");
        QTest::newRow("invalid_client") << 401 << QByteArray(R"({"error":"invalid_client"})")
                                        << Error::Kind::Unauthorized << u"invalid_client"_qs;
        QTest::newRow("invalid_scope") << 400 << QByteArray(R"({"error":"invalid_scope"})")
                                       << Error::Kind::Protocol << u"invalid_scope"_qs;
        QTest::newRow("503") << 503 << QByteArray("busy") << Error::Kind::Unreachable << QString();
        QTest::newRow("400 html") << 400 << QByteArray("<html>") << Error::Kind::Protocol
                                  << QString();
        QTest::newRow("mac token")
                << 200 << QByteArray(R"({"access_token":"x","token_type":"mac"})")
                << Error::Kind::Protocol << QString();
        QTest::newRow("no access token") << 200 << QByteArray(R"({"token_type":"Bearer"})")
                                         << Error::Kind::Protocol << QString();
        QTest::newRow("bad expires_in")
                << 200
                << QByteArray(R"({"access_token":"x","token_type":"Bearer","expires_in":[]})")
                << Error::Kind::Protocol << QString();
    }

    void refusalsAndServerTroubleAreTold()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(Error::Kind, kind);
        QFETCH(QString, oauthError);
        FakeTokenEndpoint endpoint;
        endpoint.respondJson(status, body);
        Call call(&m_network, endpoint.url(), publicClient());
        call.request->exchangeCode(u"CODE"_qs, u"http://127.0.0.1:1/cb"_qs, kVerifier, kResource);
        QTRY_COMPARE(call.results.size(), size_t(1));
        QVERIFY(!call.results.front().ok());
        QCOMPARE(call.results.front().error().kind, kind);
        QCOMPARE(call.request->oauthError(), oauthError);
        QVERIFY(call.results.front().error().message.contains(u"127.0.0.1"_qs));
    }

    void unreachableServerFailsFast()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        const quint16 port = probe.serverPort();
        probe.close();
        Call call(&m_network, QUrl(u"http://127.0.0.1:%1/token"_qs.arg(port)), publicClient(),
                  30'000);
        QElapsedTimer clock;
        clock.start();
        call.request->refresh("RT-1", kResource);
        QTRY_COMPARE_WITH_TIMEOUT(call.results.size(), size_t(1), 5000);
        QVERIFY(clock.elapsed() < 5000);
        QCOMPARE(call.results.front().error().kind, Error::Kind::Unreachable);
        QVERIFY2(call.results.front().error().message.contains(u"refused"_qs),
                 qPrintable(call.results.front().error().message));
    }

    void silentServerTimesOut()
    {
        FakeTokenEndpoint endpoint;
        endpoint.silent = true;
        Call call(&m_network, endpoint.url(), publicClient(), 300);
        call.request->refresh("RT-1", kResource);
        QTRY_COMPARE(call.results.size(), size_t(1));
        QCOMPARE(call.results.front().error().kind, Error::Kind::Timeout);
    }

    void insecureEndpointIsRefusedWithoutSending()
    {
        Call call(&m_network, QUrl(u"http://auth.example.com/token"_qs), publicClient());
        call.request->refresh("RT-1", kResource);
        QCOMPARE(call.results.size(), size_t(0)); // reported from the event loop
        QTRY_COMPARE(call.results.size(), size_t(1));
        QCOMPARE(call.results.front().error().kind, Error::Kind::InvalidInput);
    }

    void abortReportsCancelledOnceAndDestructionIsQuiet()
    {
        FakeTokenEndpoint endpoint;
        endpoint.silent = true;
        Call call(&m_network, endpoint.url(), publicClient());
        call.request->refresh("RT-1", kResource);
        QTRY_COMPARE(endpoint.requests.size(), size_t(1));
        call.request->abort();
        call.request->abort();
        QCOMPARE(call.results.size(), size_t(1));
        QCOMPARE(call.results.front().error().kind, Error::Kind::Cancelled);
        QTest::qWait(0);
        QCOMPARE(call.results.size(), size_t(1));

        Call dropped(&m_network, endpoint.url(), publicClient());
        dropped.request->refresh("RT-1", kResource);
        QTRY_COMPARE(endpoint.requests.size(), size_t(2));
        dropped.request.reset();
        QCOMPARE(dropped.results.size(), size_t(0));
    }

    void secretsNeverReachTheLog()
    {
        LogWatch log(LogWatch::Forward::Nowhere);
        log.watch("SECRET");
        log.watch(QByteArray("client-1:SECRET-CS").toBase64());
        QLoggingCategory::setFilterRules(u"mcpbroker.*=true\nqt.network.*=true"_qs);
        log.install();
        {
            FakeTokenEndpoint endpoint;
            endpoint.respondJson(200,
                                 R"({"access_token":"SECRET-AT","token_type":"Bearer",)"
                                 R"("refresh_token":"SECRET-RT","expires_in":60})");
            Call good(
                    &m_network, endpoint.url(),
                    {u"client-1"_qs, "SECRET-CS", ClientAuthentication::Method::ClientSecretBasic});
            good.request->exchangeCode(u"SECRET-CODE"_qs, u"http://127.0.0.1:1/cb"_qs,
                                       "SECRET-VERIFIER-0123456789-0123456789-01234", kResource);
            QTRY_COMPARE(good.results.size(), size_t(1));
            QVERIFY(good.results.front().ok());

            endpoint.respondJson(400,
                                 R"({"error":"invalid_grant","error_description":)"
                                 R"("SECRET-RT2 and SECRET-CS are no good"})");
            Call bad(&m_network, endpoint.url(),
                     {u"client-1"_qs, "SECRET-CS", ClientAuthentication::Method::ClientSecretPost});
            bad.request->refresh("SECRET-RT2", kResource);
            QTRY_COMPARE(bad.results.size(), size_t(1));
            QVERIFY(!bad.results.front().ok());
        }
        log.uninstall();
        QLoggingCategory::setFilterRules(QString());
        QVERIFY(!log.lines().isEmpty());
        VERIFY_NO_LOG_LEAKS(log);
    }
};

QTEST_GUILESS_MAIN(TestTokenRequest)
#include "tst_tokenrequest.moc"
