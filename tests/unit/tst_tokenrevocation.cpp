#include "http/HttpResponder.h"
#include "http/HttpServer.h"
#include "oauth/TokenRevocation.h"

#include "LogWatch.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QTcpServer>
#include <QTest>

#include <memory>
#include <vector>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

// A revocation endpoint on 127.0.0.1 answering `status` / `body`, keeping the
// requests.
struct FakeRevocationEndpoint
{
    std::vector<http::HttpRequest> requests;
    int status = 200;
    QByteArray body;
    bool silent = false;
    http::HttpServer server{
            [this](const http::HttpRequest &request, http::HttpResponder *responder) {
                requests.push_back(request);
                if (!silent)
                    responder->send(body.isEmpty() ? http::HttpResponse::empty(status)
                                                   : http::HttpResponse::json(status, body));
            }};

    FakeRevocationEndpoint()
    {
        if (!server.listen(0))
            qFatal("cannot listen");
    }
    QUrl url() const { return QUrl(u"http://127.0.0.1:%1/revoke"_qs.arg(server.port())); }
};

struct Revocation
{
    std::unique_ptr<TokenRevocation> job;
    std::vector<Result<void>> results;

    Revocation(QNetworkAccessManager *network, const QUrl &endpoint, ClientAuthentication client,
               int timeoutMs = 10'000)
        : job(std::make_unique<TokenRevocation>(network, endpoint, std::move(client), timeoutMs))
    {
        QObject::connect(job.get(), &TokenRevocation::finished, job.get(),
                         [this](const Result<void> &result) { results.push_back(result); });
    }
};

} // namespace

class TestTokenRevocation : public QObject
{
    Q_OBJECT

private:
    QNetworkAccessManager m_network;

private Q_SLOTS:
    void initTestCase() { m_network.setProxy(QNetworkProxy::NoProxy); }

    void publicClientPostsTokenHintAndClientId()
    {
        FakeRevocationEndpoint endpoint;
        Revocation revocation(&m_network, endpoint.url(),
                              {u"client-1"_qs, {}, ClientAuthentication::Method::None});
        revocation.job->revoke("RT+1/=", TokenRevocation::TokenTypeHint::RefreshToken);
        QTRY_COMPARE(revocation.results.size(), size_t(1));
        QVERIFY(revocation.results.front().ok());
        const http::HttpRequest &sent = endpoint.requests.front();
        QCOMPARE(sent.method, QByteArray("POST"));
        QCOMPARE(sent.header("Content-Type"), QByteArray("application/x-www-form-urlencoded"));
        QCOMPARE(sent.body,
                 QByteArray("token=RT%2B1%2F%3D&token_type_hint=refresh_"
                            "token&client_id=client-1"));
    }

    void confidentialClientUsesBasicAuthentication()
    {
        FakeRevocationEndpoint endpoint;
        Revocation revocation(&m_network, endpoint.url(),
                              {u"c 1"_qs, "s:2%", ClientAuthentication::Method::ClientSecretBasic});
        revocation.job->revoke("AT-1", TokenRevocation::TokenTypeHint::AccessToken);
        QTRY_COMPARE(revocation.results.size(), size_t(1));
        QVERIFY(revocation.results.front().ok());
        const http::HttpRequest &sent = endpoint.requests.front();
        QCOMPARE(sent.header("Authorization"), "Basic " + QByteArray("c+1:s%3A2%25").toBase64());
        QCOMPARE(sent.body, QByteArray("token=AT-1&token_type_hint=access_token"));
    }

    void errorsAreValues_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("kind");
        QTest::newRow("unsupported_token_type")
                << 400 << QByteArray(R"({"error":"unsupported_token_type"})")
                << int(Error::Kind::Protocol);
        QTest::newRow("invalid_client") << 401 << QByteArray(R"({"error":"invalid_client"})")
                                        << int(Error::Kind::Unauthorized);
        QTest::newRow("503") << 503 << QByteArray() << int(Error::Kind::Unreachable);
    }

    void errorsAreValues()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(int, kind);
        FakeRevocationEndpoint endpoint;
        endpoint.status = status;
        endpoint.body = body;
        Revocation revocation(&m_network, endpoint.url(),
                              {u"client-1"_qs, {}, ClientAuthentication::Method::None});
        revocation.job->revoke("RT-1", TokenRevocation::TokenTypeHint::RefreshToken);
        QTRY_COMPARE(revocation.results.size(), size_t(1));
        QVERIFY(!revocation.results.front().ok());
        QCOMPARE(int(revocation.results.front().error().kind), kind);
        QVERIFY(revocation.results.front().error().message.contains(u"127.0.0.1"_qs));
    }

    void unreachableAndSilentServersFailWithoutHanging()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        const quint16 port = probe.serverPort();
        probe.close();
        Revocation refused(&m_network, QUrl(u"http://127.0.0.1:%1/revoke"_qs.arg(port)),
                           {u"client-1"_qs, {}, ClientAuthentication::Method::None}, 30'000);
        QElapsedTimer clock;
        clock.start();
        refused.job->revoke("RT-1", TokenRevocation::TokenTypeHint::RefreshToken);
        QTRY_COMPARE_WITH_TIMEOUT(refused.results.size(), size_t(1), 5000);
        QVERIFY(clock.elapsed() < 5000);
        QCOMPARE(refused.results.front().error().kind, Error::Kind::Unreachable);

        FakeRevocationEndpoint endpoint;
        endpoint.silent = true;
        Revocation silent(&m_network, endpoint.url(),
                          {u"client-1"_qs, {}, ClientAuthentication::Method::None}, 300);
        silent.job->revoke("RT-1", TokenRevocation::TokenTypeHint::RefreshToken);
        QTRY_COMPARE(silent.results.size(), size_t(1));
        QCOMPARE(silent.results.front().error().kind, Error::Kind::Timeout);
    }

    void abortReportsCancelledOnce()
    {
        FakeRevocationEndpoint endpoint;
        endpoint.silent = true;
        Revocation revocation(&m_network, endpoint.url(),
                              {u"client-1"_qs, {}, ClientAuthentication::Method::None});
        revocation.job->revoke("RT-1", TokenRevocation::TokenTypeHint::RefreshToken);
        QTRY_COMPARE(endpoint.requests.size(), size_t(1));
        revocation.job->abort();
        revocation.job->abort();
        QCOMPARE(revocation.results.size(), size_t(1));
        QCOMPARE(revocation.results.front().error().kind, Error::Kind::Cancelled);
    }

    void tokenNeverReachesTheLog()
    {
        LogWatch log(LogWatch::Forward::Nowhere);
        log.watch("SECRET");
        QLoggingCategory::setFilterRules(u"mcpbroker.*=true"_qs);
        log.install();
        {
            FakeRevocationEndpoint endpoint;
            endpoint.status = 400;
            endpoint.body = R"({"error":"invalid_request","error_description":"bad SECRET-RT"})";
            Revocation revocation(
                    &m_network, endpoint.url(),
                    {u"client-1"_qs, "SECRET-CS", ClientAuthentication::Method::ClientSecretPost});
            revocation.job->revoke("SECRET-RT", TokenRevocation::TokenTypeHint::RefreshToken);
            QTRY_COMPARE(revocation.results.size(), size_t(1));
            QVERIFY(!revocation.results.front().error().message.contains(u"SECRET"_qs));
        }
        log.uninstall();
        QLoggingCategory::setFilterRules(QString());
        QVERIFY(!log.lines().isEmpty());
        VERIFY_NO_LOG_LEAKS(log);
    }
};

QTEST_GUILESS_MAIN(TestTokenRevocation)
#include "tst_tokenrevocation.moc"
