#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "oauth/ClientRegistration.h"

#include "LogWatch.h"

#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QTest>

#include <memory>
#include <vector>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

const QString kRedirect = u"http://127.0.0.1:4711/callback"_qs;

// A registration endpoint on 127.0.0.1 answering `status` / `body`, keeping the
// requests.
struct FakeRegistrationEndpoint
{
    std::vector<http::HttpRequest> requests;
    int status = 201;
    // "\/" in the raw strings below: moc would read "//" in one as a comment.
    QByteArray body =
            R"({"client_id":"dyn-1","redirect_uris":["http:\/\/127.0.0.1:4711\/callback"],)"
            R"("token_endpoint_auth_method":"none","client_id_issued_at":1700000000})";
    bool silent = false;
    http::HttpServer server{
            [this](const http::HttpRequest &request, http::HttpResponder *responder) {
                requests.push_back(request);
                if (!silent)
                    responder->send(http::HttpResponse::json(status, body));
            }};

    FakeRegistrationEndpoint()
    {
        if (!server.listen(0))
            qFatal("cannot listen");
    }
    QUrl url() const { return QUrl(u"http://127.0.0.1:%1/register"_qs.arg(server.port())); }
};

struct Registration
{
    std::unique_ptr<ClientRegistration> job;
    std::vector<Result<RegisteredClient>> results;

    Registration(QNetworkAccessManager *network, const QUrl &endpoint, int timeoutMs = 10'000)
        : job(std::make_unique<ClientRegistration>(network, endpoint, timeoutMs))
    {
        QObject::connect(job.get(), &ClientRegistration::finished, job.get(),
                         [this](const Result<RegisteredClient> &r) { results.push_back(r); });
    }
};

template<typename T>
QString why(const Result<T> &result)
{
    return result.ok() ? QString() : result.error().message;
}

} // namespace

class TestClientRegistration : public QObject
{
    Q_OBJECT

private:
    QNetworkAccessManager m_network;

private Q_SLOTS:
    void initTestCase() { m_network.setProxy(QNetworkProxy::NoProxy); }

    void registersAsNativePublicClient()
    {
        FakeRegistrationEndpoint endpoint;
        Registration registration(&m_network, endpoint.url());
        registration.job->registerClient(
                {{kRedirect}, {u"read"_qs, u"write"_qs}, {u"client_secret_basic"_qs, u"none"_qs}});
        QTRY_COMPARE(registration.results.size(), size_t(1));
        const Result<RegisteredClient> &result = registration.results.front();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QCOMPARE(result.value().clientId, u"dyn-1"_qs);
        QVERIFY(result.value().clientSecret.isEmpty());
        QCOMPARE(result.value().tokenEndpointAuthMethod, u"none"_qs);
        QCOMPARE(result.value().redirectUris, QStringList{kRedirect});
        QCOMPARE(result.value().raw.value("client_id_issued_at", 0), 1700000000);

        const http::HttpRequest &sent = endpoint.requests.front();
        QCOMPARE(sent.method, QByteArray("POST"));
        QCOMPARE(sent.header("Content-Type"), QByteArray("application/json"));
        const nlohmann::json body = nlohmann::json::parse(sent.body.toStdString());
        const nlohmann::json expected = {
                {"client_name", "MCP Broker"},
                {"redirect_uris", {kRedirect.toStdString()}},
                {"grant_types", {"authorization_code", "refresh_token"}},
                {"response_types", {"code"}},
                {"token_endpoint_auth_method", "none"},
                {"application_type", "native"},
                {"scope", "read write"},
        };
        QCOMPARE(QString::fromStdString(body.dump()), QString::fromStdString(expected.dump()));
    }

    void authMethodIsNoneUnlessTheServerListsOnlyOthers()
    {
        QCOMPARE(ClientRegistration::chooseAuthMethod({}).value(), u"none"_qs);
        QCOMPARE(ClientRegistration::chooseAuthMethod({u"client_secret_post"_qs, u"none"_qs})
                         .value(),
                 u"none"_qs);
        QCOMPARE(ClientRegistration::chooseAuthMethod(
                         {u"client_secret_post"_qs, u"client_secret_basic"_qs})
                         .value(),
                 u"client_secret_basic"_qs);
        QCOMPARE(ClientRegistration::chooseAuthMethod({u"client_secret_post"_qs}).value(),
                 u"client_secret_post"_qs);
        const Result<QString> jwtOnly =
                ClientRegistration::chooseAuthMethod({u"private_key_jwt"_qs});
        QVERIFY(!jwtOnly.ok());
        QVERIFY(jwtOnly.error().message.contains(u"private_key_jwt"_qs));
    }

    void confidentialRegistrationKeepsSecretAndSurvivesTheKeychainForm()
    {
        FakeRegistrationEndpoint endpoint;
        endpoint.body = R"({"client_id":"dyn-2","client_secret":"SECRET-CS",)"
                        R"("client_secret_expires_at":1900000000,"extra":{"a":1}})";
        Registration registration(&m_network, endpoint.url());
        registration.job->registerClient({{kRedirect}, {}, {u"client_secret_basic"_qs}});
        QTRY_COMPARE(registration.results.size(), size_t(1));
        const Result<RegisteredClient> &result = registration.results.front();
        QVERIFY2(result.ok(), qPrintable(why(result)));
        QCOMPARE(result.value().clientSecret, QByteArray("SECRET-CS"));
        QCOMPARE(result.value().tokenEndpointAuthMethod, u"client_secret_basic"_qs);
        QCOMPARE(result.value().clientSecretExpiresAt, qint64(1900000000));
        QCOMPARE(result.value().redirectUris, QStringList{kRedirect});
        QVERIFY(!result.value().isExpired(1800000000));
        QVERIFY(result.value().isExpired(1900000000));
        QVERIFY(!nlohmann::json::parse(endpoint.requests.front().body.toStdString())
                         .contains("scope"));

        const Result<RegisteredClient> stored = RegisteredClient::fromJson(result.value().toJson());
        QVERIFY2(stored.ok(), qPrintable(why(stored)));
        QCOMPARE(stored.value().clientId, u"dyn-2"_qs);
        QCOMPARE(stored.value().clientSecret, QByteArray("SECRET-CS"));
        QCOMPARE(stored.value().tokenEndpointAuthMethod, u"client_secret_basic"_qs);
        QCOMPARE(stored.value().clientSecretExpiresAt, qint64(1900000000));
        QCOMPARE(stored.value().redirectUris, QStringList{kRedirect});
        QCOMPARE(stored.value().raw.value("extra", nlohmann::json()).value("a", 0), 1);
    }

    void refusalsAndUnusableAnswersAreSentences_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("invalid_redirect_uri")
                << 400
                << QByteArray(
                           R"({"error":"invalid_redirect_uri","error_description":"loopback not allowed"})")
                << int(Error::Kind::Protocol) << u"invalid_redirect_uri: loopback not allowed"_qs;
        QTest::newRow("initial access token")
                << 401 << QByteArray(R"({"error":"invalid_token"})")
                << int(Error::Kind::Unauthorized) << u"pre-registered"_qs;
        QTest::newRow("500") << 500 << QByteArray("oops") << int(Error::Kind::Unreachable)
                             << u"HTTP 500"_qs;
        QTest::newRow("no client_id") << 201 << QByteArray(R"({"client_secret":"x"})")
                                      << int(Error::Kind::Protocol) << u"client_id"_qs;
        QTest::newRow("other redirect")
                << 201
                << QByteArray(R"({"client_id":"a","redirect_uris":["https:\/\/x.example\/cb"]})")
                << int(Error::Kind::Protocol) << u"redirect URI"_qs;
        QTest::newRow("jwt method")
                << 201
                << QByteArray(R"({"client_id":"a","token_endpoint_auth_method":"private_key_jwt"})")
                << int(Error::Kind::Protocol) << u"private_key_jwt"_qs;
        QTest::newRow("basic without secret")
                << 201
                << QByteArray(
                           R"({"client_id":"a","token_endpoint_auth_method":"client_secret_basic"})")
                << int(Error::Kind::Protocol) << u"no client secret"_qs;
    }

    void refusalsAndUnusableAnswersAreSentences()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(int, kind);
        QFETCH(QString, mentions);
        FakeRegistrationEndpoint endpoint;
        endpoint.status = status;
        endpoint.body = body;
        Registration registration(&m_network, endpoint.url());
        registration.job->registerClient({{kRedirect}, {}, {}});
        QTRY_COMPARE(registration.results.size(), size_t(1));
        const Result<RegisteredClient> &result = registration.results.front();
        QVERIFY(!result.ok());
        QCOMPARE(int(result.error().kind), kind);
        QVERIFY2(result.error().message.contains(mentions), qPrintable(result.error().message));
        QVERIFY2(result.error().message.contains(u"127.0.0.1"_qs),
                 qPrintable(result.error().message));
    }

    void timeoutAbortAndInsecureEndpoint()
    {
        FakeRegistrationEndpoint endpoint;
        endpoint.silent = true;
        Registration silent(&m_network, endpoint.url(), 300);
        silent.job->registerClient({{kRedirect}, {}, {}});
        QTRY_COMPARE(silent.results.size(), size_t(1));
        QCOMPARE(silent.results.front().error().kind, Error::Kind::Timeout);

        Registration aborted(&m_network, endpoint.url());
        aborted.job->registerClient({{kRedirect}, {}, {}});
        aborted.job->abort();
        aborted.job->abort();
        QCOMPARE(aborted.results.size(), size_t(1));
        QCOMPARE(aborted.results.front().error().kind, Error::Kind::Cancelled);

        Registration insecure(&m_network, QUrl(u"http://auth.example.com/register"_qs));
        insecure.job->registerClient({{kRedirect}, {}, {}});
        QTRY_COMPARE(insecure.results.size(), size_t(1));
        QCOMPARE(insecure.results.front().error().kind, Error::Kind::InvalidInput);
    }

    void clientSecretNeverReachesTheLog()
    {
        LogWatch log(LogWatch::Forward::Nowhere);
        log.watch("SECRET");
        QLoggingCategory::setFilterRules(u"mcpbroker.*=true"_qs);
        log.install();
        {
            FakeRegistrationEndpoint endpoint;
            endpoint.body = R"({"client_id":"dyn-3","client_secret":"SECRET-CS"})";
            Registration registration(&m_network, endpoint.url());
            registration.job->registerClient({{kRedirect}, {}, {u"client_secret_post"_qs}});
            QTRY_COMPARE(registration.results.size(), size_t(1));
            QVERIFY(registration.results.front().ok());
        }
        log.uninstall();
        QLoggingCategory::setFilterRules(QString());
        QVERIFY(!log.lines().isEmpty());
        VERIFY_NO_LOG_LEAKS(log);
    }
};

QTEST_GUILESS_MAIN(TestClientRegistration)
#include "tst_clientregistration.moc"
