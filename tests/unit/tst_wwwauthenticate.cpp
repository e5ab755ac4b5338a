#include "oauth/WwwAuthenticate.h"

#include <QRandomGenerator>
#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

class TestWwwAuthenticate : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mcpSpecExampleGivesResourceMetadataAndScope()
    {
        const auto bearer = WwwAuthenticate::bearer(
                R"(Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read")");
        QVERIFY(bearer.ok());
        QCOMPARE(bearer.value().resourceMetadata,
                 u"https://mcp.example.com/.well-known/oauth-protected-resource"_qs);
        QCOMPARE(bearer.value().scope, u"files:read"_qs);
        QVERIFY(bearer.value().error.isNull());
        QVERIFY(bearer.value().errorDescription.isNull());
    }

    void insufficientScopeGivesErrorScopesAndDescription()
    {
        const auto unfolded = WwwAuthenticate::bearer(
                R"(Bearer error="insufficient_scope", scope="files:read files:write  user:profile", error_description="Additional file write permission required")");
        QVERIFY(unfolded.ok());
        QCOMPARE(unfolded.value().error, u"insufficient_scope"_qs);
        QCOMPARE(unfolded.value().scopes(),
                 (QStringList{u"files:read"_qs, u"files:write"_qs, u"user:profile"_qs}));
        QCOMPARE(unfolded.value().errorDescription,
                 u"Additional file write permission required"_qs);
    }

    void schemeAndParameterNamesAreCaseInsensitive()
    {
        const auto bearer
                = WwwAuthenticate::bearer(R"(BEARER Resource_Metadata="https://a/b", SCOPE=read)");
        QVERIFY(bearer.ok());
        QCOMPARE(bearer.value().resourceMetadata, u"https://a/b"_qs);
        QCOMPARE(bearer.value().scope, u"read"_qs);
    }

    void tokenValuesAndBadWhitespaceAroundEquals()
    {
        const auto challenges
                = WwwAuthenticate::parse("Bearer realm = example , error=invalid_token");
        QVERIFY(challenges.ok());
        QCOMPARE(challenges.value().size(), 1);
        QCOMPARE(challenges.value().first().param(u"realm"), u"example"_qs);
        QCOMPARE(challenges.value().first().param(u"ERROR"), u"invalid_token"_qs);
    }

    void quotedStringEscapesAreRemoved()
    {
        const auto challenges
                = WwwAuthenticate::parse(R"(Newauth title="Login to \"apps\" \\ now", x="a,b=c")");
        QVERIFY(challenges.ok());
        QCOMPARE(challenges.value().first().param(u"title"), u"Login to \"apps\" \\ now"_qs);
        QCOMPARE(challenges.value().first().param(u"x"), u"a,b=c"_qs);
    }

    void severalChallengesAreSplitAndBearerIsFound()
    {
        // RFC 9110 §11.6.1's example, plus Bearer last.
        const QByteArray header
                = R"(Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple", Bearer scope="a b")";
        const auto challenges = WwwAuthenticate::parse(header);
        QVERIFY(challenges.ok());
        QCOMPARE(challenges.value().size(), 3);
        QCOMPARE(challenges.value().at(0).scheme, u"newauth"_qs);
        QCOMPARE(challenges.value().at(0).params.size(), 3);
        QCOMPARE(challenges.value().at(0).param(u"type"), u"1"_qs);
        QCOMPARE(challenges.value().at(1).scheme, u"basic"_qs);
        QCOMPARE(challenges.value().at(1).param(u"realm"), u"simple"_qs);
        const auto bearer = WwwAuthenticate::bearer(header);
        QVERIFY(bearer.ok());
        QCOMPARE(bearer.value().scopes(), (QStringList{u"a"_qs, u"b"_qs}));
    }

    void token68AndBareSchemesAreChallengesToo()
    {
        const auto challenges = WwwAuthenticate::parse("Negotiate abc+/def==, Bearer, , Basic");
        QVERIFY(challenges.ok());
        QCOMPARE(challenges.value().size(), 3);
        QCOMPARE(challenges.value().at(0).token68, u"abc+/def=="_qs);
        QVERIFY(challenges.value().at(0).params.isEmpty());
        QCOMPARE(challenges.value().at(1).scheme, u"bearer"_qs);
        QVERIFY(challenges.value().at(1).params.isEmpty());
        QCOMPARE(challenges.value().at(2).scheme, u"basic"_qs);
        QVERIFY(WwwAuthenticate::bearer("Bearer").ok());
    }

    void syntaxErrorKeepsWhatWasReadBeforeIt()
    {
        const auto challenges = WwwAuthenticate::parse(R"(Bearer scope="a", error="unterminated)");
        QVERIFY(challenges.ok());
        QCOMPARE(challenges.value().size(), 1);
        QCOMPARE(challenges.value().first().param(u"scope"), u"a"_qs);
        QVERIFY(challenges.value().first().param(u"error").isNull());
    }

    void repeatedParameterKeepsTheFirst()
    {
        const auto bearer = WwwAuthenticate::bearer(R"(Bearer scope="a", SCOPE="b")");
        QVERIFY(bearer.ok());
        QCOMPARE(bearer.value().scope, u"a"_qs);
    }

    // Found by fuzz_www_authenticate: an empty first value hid the repeat, and parsing went on.
    void repeatedParameterIsCaughtWhenItsFirstValueIsEmpty()
    {
        const auto challenges = WwwAuthenticate::parse(R"(Bearer error="", error="x", scope=y)");
        QVERIFY(challenges.ok());
        const AuthChallenge &bearer = challenges.value().first();
        QCOMPARE(bearer.params.size(), 1);
        QCOMPARE(bearer.param(u"error"), QString(u""_qs));
        QVERIFY(bearer.param(u"scope").isNull());
    }

    void anEmptyValueIsPresentNotAbsent()
    {
        const auto bearer = WwwAuthenticate::bearer(R"(Bearer realm="", scope="")");
        QVERIFY(bearer.ok());
        QVERIFY(!bearer.value().realm.isNull());
        QVERIFY(bearer.value().realm.isEmpty());
        QVERIFY(!bearer.value().scope.isNull());
        QVERIFY(bearer.value().scopes().isEmpty());
        QVERIFY(bearer.value().error.isNull());
    }

    void noBearerChallengeIsNotFound()
    {
        const auto bearer = WwwAuthenticate::bearer(R"(Basic realm="x")");
        QVERIFY(!bearer.ok());
        QCOMPARE(bearer.error().kind, Error::Kind::NotFound);
        QVERIFY(!bearer.error().message.isEmpty());
    }

    void garbageIsAnError_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("only commas") << QByteArray(" , ,, ");
        QTest::newRow("starts with quote") << QByteArray("\"Bearer\"");
        QTest::newRow("equals first") << QByteArray("=x");
        QTest::newRow("separator as scheme") << QByteArray("@Bearer realm=x");
        QTest::newRow("control char") << QByteArray("\x01\x02");
        QTest::newRow("nul inside") << QByteArray("\0Bearer", 7);
    }

    void garbageIsAnError()
    {
        QFETCH(QByteArray, header);
        const auto challenges = WwwAuthenticate::parse(header);
        QVERIFY(!challenges.ok());
        QCOMPARE(challenges.error().kind, Error::Kind::Protocol);
        QVERIFY(challenges.error().message.startsWith(u"The server's WWW-Authenticate header"_qs));
    }

    void controlCharacterInQuotedStringEndsParsing()
    {
        const auto challenges = WwwAuthenticate::parse(QByteArray("Bearer a=\"x\ny\", b=c"));
        QVERIFY(challenges.ok());
        QVERIFY(challenges.value().first().params.isEmpty());
    }

    void randomBytesNeverCrash()
    {
        // Fixed seed: reproducible, and every byte value and every grammar character shows up.
        QRandomGenerator random(20251125);
        const QByteArray alphabet = "Bearer realm=\"\\, \t=abc\x01\xff";
        for (int round = 0; round < 20'000; ++round) {
            QByteArray header(random.bounded(1, 40), Qt::Uninitialized);
            for (char &c : header) {
                c = random.bounded(2) ? alphabet.at(random.bounded(int(alphabet.size())))
                                      : char(random.bounded(256));
            }
            const auto challenges = WwwAuthenticate::parse(header);
            if (challenges.ok())
                QVERIFY(!challenges.value().isEmpty());
            (void)WwwAuthenticate::bearer(header);
        }
    }
};

QTEST_GUILESS_MAIN(TestWwwAuthenticate)
#include "tst_wwwauthenticate.moc"
