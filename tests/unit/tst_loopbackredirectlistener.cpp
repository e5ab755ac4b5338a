#include "oauth/LoopbackRedirectListener.h"

#include "LogWatch.h"

#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>
#include <QUrlQuery>

#include <memory>
#include <vector>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

const QByteArray kState = "dGhpcyBpcyBhIHN0YXRlIHZhbHVlIG9mIDMyIGJ5dGVz";
const QString kIssuer = u"https://auth.example.com/tenant1"_qs;

// A listener on a real port, with every finished() result it reported.
struct Flow
{
    std::unique_ptr<LoopbackRedirectListener> listener;
    std::vector<Result<QString>> results;

    explicit Flow(LoopbackRedirectListener::Expected expected = {kState, kIssuer, false},
                  int timeoutMs = 60'000)
        : listener(std::make_unique<LoopbackRedirectListener>(std::move(expected), timeoutMs))
    {
        QObject::connect(listener.get(), &LoopbackRedirectListener::finished, listener.get(),
                         [this](const Result<QString> &result) { results.push_back(result); });
    }

    QUrl callback(const QList<QPair<QString, QString>> &params) const
    {
        QUrl url(listener->redirectUri());
        QUrlQuery query;
        for (const auto &[name, value] : params)
            query.addQueryItem(name, QString::fromLatin1(QUrl::toPercentEncoding(value)));
        url.setQuery(query);
        return url;
    }
};

} // namespace

class TestLoopbackRedirectListener : public QObject
{
    Q_OBJECT

private:
    QNetworkAccessManager m_network;

    // GET `url` like a browser following the authorization server's redirect.
    QNetworkReply *get(const QUrl &url, const QByteArray &method = "GET")
    {
        QNetworkRequest request(url);
        request.setTransferTimeout(10'000);
        QNetworkReply *reply = m_network.sendCustomRequest(request, method);
        reply->setParent(this);
        return reply;
    }

private Q_SLOTS:
    void initTestCase() { m_network.setProxy(QNetworkProxy::NoProxy); }

    void redirectUriIsLoopbackIpLiteralWithEphemeralPort()
    {
        Flow flow;
        QVERIFY(flow.listener->redirectUri().isEmpty());
        QVERIFY(flow.listener->listen().ok());
        QVERIFY(flow.listener->isListening());
        const QRegularExpression shape(u"^http://127\\.0\\.0\\.1:(\\d+)/callback$"_qs);
        const auto match = shape.match(flow.listener->redirectUri());
        QVERIFY2(match.hasMatch(), qPrintable(flow.listener->redirectUri()));
        QVERIFY(match.captured(1).toUInt() > 0);
        QVERIFY(!flow.listener->listen().ok()); // one listener per flow
    }

    void validCallbackYieldsTheCodeOnceAndStopsListening()
    {
        Flow flow;
        QVERIFY(flow.listener->listen().ok());
        const QUrl callback = flow.callback({{u"code"_qs, u"abc+/=123"_qs},
                                             {u"state"_qs, QString::fromLatin1(kState)},
                                             {u"iss"_qs, kIssuer}});
        QNetworkReply *reply = get(callback);
        QTRY_VERIFY(reply->isFinished());
        QCOMPARE(reply->error(), QNetworkReply::NoError);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QCOMPARE(reply->rawHeader("Content-Type"), QByteArray("text/html; charset=utf-8"));
        QCOMPARE(reply->rawHeader("Content-Security-Policy"), QByteArray("default-src 'none'"));
        QCOMPARE(reply->rawHeader("X-Frame-Options"), QByteArray("DENY"));
        QVERIFY(reply->readAll().contains("You can close this tab"));

        QCOMPARE(flow.results.size(), size_t(1));
        QVERIFY(flow.results[0].ok());
        QCOMPARE(flow.results[0].value(), u"abc+/=123"_qs);

        // A replay is never a second code: "already used" now, refused once closed.
        QNetworkReply *replay = get(callback);
        QTRY_VERIFY(replay->isFinished());
        QVERIFY2(replay->error() != QNetworkReply::NoError, qPrintable(replay->errorString()));
        QTRY_VERIFY(!flow.listener->isListening());
        QTcpSocket late;
        QSignalSpy refused(&late, &QTcpSocket::errorOccurred);
        late.connectToHost(QHostAddress::LocalHost, quint16(callback.port()));
        QTRY_COMPARE(refused.size(), 1);
        QCOMPARE(late.error(), QAbstractSocket::ConnectionRefusedError);
        QCOMPARE(flow.results.size(), size_t(1));
    }

    void wrongStateFailsTheFlowAndIsSingleUse()
    {
        Flow flow;
        QVERIFY(flow.listener->listen().ok());
        QNetworkReply *reply = get(flow.callback({{u"code"_qs, u"stolen"_qs},
                                                  {u"state"_qs, u"guessed"_qs}}));
        QTRY_VERIFY(reply->isFinished());
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 400);
        QCOMPARE(reply->rawHeader("Content-Security-Policy"), QByteArray("default-src 'none'"));
        QVERIFY(reply->readAll().contains("state did not match"));
        QCOMPARE(flow.results.size(), size_t(1));
        QVERIFY(!flow.results[0].ok());
        QCOMPARE(flow.results[0].error().kind, Error::Kind::Protocol);
        QVERIFY(flow.results[0].error().message.contains(u"state did not match"_qs));
        QVERIFY(!flow.results[0].error().message.contains(u"stolen"_qs));

        // The right state afterwards does not revive the flow.
        QNetworkReply *retry = get(flow.callback({{u"code"_qs, u"good"_qs},
                                                  {u"state"_qs, QString::fromLatin1(kState)}}));
        QTRY_VERIFY(retry->isFinished());
        QVERIFY(retry->error() != QNetworkReply::NoError);
        QTRY_VERIFY(!flow.listener->isListening());
        QCOMPARE(flow.results.size(), size_t(1));
    }

    void stateProblemsAreRejected_data()
    {
        QTest::addColumn<QString>("query");
        QTest::newRow("missing") << u"code=c"_qs;
        QTest::newRow("empty") << u"code=c&state="_qs;
        QTest::newRow("prefix") << u"code=c&state="_qs + QString::fromLatin1(kState.left(42));
        QTest::newRow("longer") << u"code=c&state="_qs + QString::fromLatin1(kState) + u"x"_qs;
        QTest::newRow("repeated") << u"code=c&state="_qs + QString::fromLatin1(kState)
                        + u"&state="_qs + QString::fromLatin1(kState);
    }

    void stateProblemsAreRejected()
    {
        QFETCH(QString, query);
        Flow flow;
        QVERIFY(flow.listener->listen().ok());
        QUrl url(flow.listener->redirectUri());
        url.setQuery(query);
        QNetworkReply *reply = get(url);
        QTRY_COMPARE(flow.results.size(), size_t(1));
        QVERIFY(!flow.results[0].ok());
        QVERIFY(flow.results[0].error().message.contains(u"state"_qs));
        QTRY_VERIFY(reply->isFinished());
    }

    void issuerIsCheckedPerRfc9207_data()
    {
        QTest::addColumn<bool>("required");
        QTest::addColumn<QString>("iss"); // null: not sent
        QTest::addColumn<bool>("accepted");
        QTest::newRow("matching") << false << kIssuer << true;
        QTest::newRow("absent, optional") << false << QString() << true;
        QTest::newRow("absent, required") << true << QString() << false;
        QTest::newRow("other issuer") << false << u"https://evil.example"_qs << false;
        QTest::newRow("trailing slash differs") << false << kIssuer + u'/' << false;
        QTest::newRow("case differs") << true << kIssuer.toUpper() << false;
    }

    void issuerIsCheckedPerRfc9207()
    {
        QFETCH(bool, required);
        QFETCH(QString, iss);
        QFETCH(bool, accepted);
        Flow flow({kState, kIssuer, required});
        QVERIFY(flow.listener->listen().ok());
        QList<QPair<QString, QString>> params{{u"code"_qs, u"c"_qs},
                                              {u"state"_qs, QString::fromLatin1(kState)}};
        if (!iss.isNull())
            params.append({u"iss"_qs, iss});
        get(flow.callback(params));
        QTRY_COMPARE(flow.results.size(), size_t(1));
        QCOMPARE(flow.results[0].ok(), accepted);
        if (!accepted) {
            QCOMPARE(flow.results[0].error().kind, Error::Kind::Protocol);
            QVERIFY(flow.results[0].error().message.contains(u"RFC 9207"_qs));
        }
    }

    void authorizationServerErrorIsReported()
    {
        Flow flow;
        QVERIFY(flow.listener->listen().ok());
        QNetworkReply *reply = get(flow.callback({{u"error"_qs, u"access_denied"_qs},
                                                  {u"error_description"_qs, u"The user said <b>no</b>"_qs},
                                                  {u"state"_qs, QString::fromLatin1(kState)},
                                                  {u"iss"_qs, kIssuer}}));
        QTRY_COMPARE(flow.results.size(), size_t(1));
        QVERIFY(!flow.results[0].ok());
        QCOMPARE(flow.results[0].error().kind, Error::Kind::Unauthorized);
        QCOMPARE(flow.results[0].error().message,
                 u"The authorization server did not grant access (access_denied): The user said <b>no</b>."_qs);
        QTRY_VERIFY(reply->isFinished());
        const QByteArray body = reply->readAll();
        QVERIFY2(body.contains("&lt;b&gt;no&lt;/b&gt;"), body.constData());
        QVERIFY(!body.contains("<b>no</b>"));
    }

    void errorDescriptionIsFormDecoded()
    {
        // Authorization servers form-encode the redirect's query (RFC 6749 Appendix B): '+' is
        // a space there, and "%2B" a real plus. Written here as a server sends it, not as
        // QUrlQuery would encode it.
        Flow flow;
        QVERIFY(flow.listener->listen().ok());
        const QUrl callback(
                flow.listener->redirectUri()
                + u"?error=invalid_scope"
                  "&error_description=requested+scope+is+not+allowed%3A+files%3Aadmin%2B"
                  "&state="_qs
                + QString::fromLatin1(kState) + u"&iss="_qs
                + QString::fromLatin1(QUrl::toPercentEncoding(kIssuer)));
        QVERIFY(callback.isValid());
        QNetworkReply *reply = get(callback);
        QTRY_COMPARE(flow.results.size(), size_t(1));
        QVERIFY(!flow.results[0].ok());
        const Error &error = flow.results[0].error();
        QCOMPARE(error.kind, Error::Kind::Unauthorized);
        QVERIFY2(error.message.contains(u"(invalid_scope)"_qs), qPrintable(error.message));
        QVERIFY2(error.message.contains(u"requested scope is not allowed: files:admin+"_qs),
                 qPrintable(error.message));
        QVERIFY2(!error.message.contains(u"requested+scope"_qs), qPrintable(error.message));
        QTRY_VERIFY(reply->isFinished());
        QVERIFY(reply->readAll().contains("requested scope is not allowed"));
    }

    void errorWithWrongStateIsAStateError()
    {
        Flow flow;
        QVERIFY(flow.listener->listen().ok());
        get(flow.callback({{u"error"_qs, u"access_denied"_qs}, {u"state"_qs, u"x"_qs}}));
        QTRY_COMPARE(flow.results.size(), size_t(1));
        QCOMPARE(flow.results[0].error().kind, Error::Kind::Protocol);
        QVERIFY(flow.results[0].error().message.contains(u"state"_qs));
    }

    void missingCodeIsAnError()
    {
        Flow flow;
        QVERIFY(flow.listener->listen().ok());
        get(flow.callback({{u"state"_qs, QString::fromLatin1(kState)}}));
        QTRY_COMPARE(flow.results.size(), size_t(1));
        QCOMPARE(flow.results[0].error().kind, Error::Kind::Protocol);
        QVERIFY(flow.results[0].error().message.contains(u"no authorization code"_qs));
    }

    void otherRequestsDoNotEndTheFlow()
    {
        Flow flow;
        QVERIFY(flow.listener->listen().ok());
        const QUrl base(flow.listener->redirectUri());

        QNetworkReply *favicon = get(base.resolved(QUrl(u"/favicon.ico"_qs)));
        QTRY_VERIFY(favicon->isFinished());
        QCOMPARE(favicon->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 404);

        QNetworkReply *post = get(flow.callback({{u"code"_qs, u"c"_qs},
                                                 {u"state"_qs, QString::fromLatin1(kState)}}),
                                  "POST");
        QTRY_VERIFY(post->isFinished());
        QCOMPARE(post->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 405);

        // A page that reached us through DNS rebinding carries its own Host name.
        QTcpSocket raw;
        raw.connectToHost(QHostAddress::LocalHost, quint16(base.port()));
        raw.write("GET /callback?code=c&state=" + kState
                  + " HTTP/1.1\r\nHost: attacker.example:" + QByteArray::number(base.port())
                  + "\r\n\r\n");
        QTRY_VERIFY(raw.bytesAvailable() > 0 || raw.state() == QAbstractSocket::UnconnectedState);
        QVERIFY(raw.readAll().startsWith("HTTP/1.1 421"));

        QVERIFY(flow.results.empty());
        QVERIFY(flow.listener->isListening());

        get(flow.callback({{u"code"_qs, u"c"_qs}, {u"state"_qs, QString::fromLatin1(kState)}}));
        QTRY_COMPARE(flow.results.size(), size_t(1));
        QVERIFY(flow.results[0].ok());
    }

    void timeoutIsAClearErrorAndStopsListening()
    {
        Flow flow({kState, kIssuer, false}, 200);
        QVERIFY(flow.listener->listen().ok());
        QTRY_COMPARE(flow.results.size(), size_t(1));
        QCOMPARE(flow.results[0].error().kind, Error::Kind::Timeout);
        QVERIFY(flow.results[0].error().message.startsWith(u"Sign-in did not finish"_qs));
        QVERIFY(!flow.listener->isListening());
    }

    void secretsNeverReachTheLog()
    {
        LogWatch log(LogWatch::Forward::Nowhere);
        log.watch("SECRET");
        log.watch(kState);
        QLoggingCategory::setFilterRules(u"mcpbroker.*=true"_qs);
        log.install();
        {
            Flow good;
            QVERIFY(good.listener->listen().ok());
            get(good.callback({{u"code"_qs, u"SECRET-CODE-1"_qs},
                               {u"state"_qs, QString::fromLatin1(kState)}}));
            QTRY_COMPARE(good.results.size(), size_t(1));
            Flow bad;
            QVERIFY(bad.listener->listen().ok());
            get(bad.callback({{u"code"_qs, u"SECRET-CODE-2"_qs}, {u"state"_qs, u"SECRET-STATE"_qs}}));
            QTRY_COMPARE(bad.results.size(), size_t(1));
        }
        log.uninstall();
        QLoggingCategory::setFilterRules(QString());
        QVERIFY(!log.lines().isEmpty());
        VERIFY_NO_LOG_LEAKS(log);
    }

    void cancelEndsTheFlowOnce()
    {
        Flow flow;
        QVERIFY(flow.listener->listen().ok());
        flow.listener->cancel();
        flow.listener->cancel();
        QCOMPARE(flow.results.size(), size_t(1));
        QCOMPARE(flow.results[0].error().kind, Error::Kind::Cancelled);
        QVERIFY(!flow.listener->isListening());
    }
};

QTEST_GUILESS_MAIN(TestLoopbackRedirectListener)
#include "tst_loopbackredirectlistener.moc"
