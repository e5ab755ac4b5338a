#include "oauth/Pkce.h"

#include <QSet>
#include <QTest>

using namespace mcpbroker::oauth;

class TestPkce : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void s256MatchesRfc7636AppendixB()
    {
        QCOMPARE(Pkce::s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
                 QByteArray("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    void generatedVerifierIs43UnreservedCharactersWithMatchingChallenge()
    {
        const Pkce pkce = Pkce::generate();
        QCOMPARE(pkce.verifier.size(), 43);
        QVERIFY(Pkce::isValidVerifier(pkce.verifier));
        QCOMPARE(pkce.challenge, Pkce::s256Challenge(pkce.verifier));
        QCOMPARE(pkce.challenge.size(), 43); // 32-byte digest, base64url, no padding
        QVERIFY(!pkce.challenge.contains('='));
        QCOMPARE(QByteArray(Pkce::kMethod.data(), Pkce::kMethod.size()), QByteArray("S256"));
    }

    void verifiersAndStatesNeverRepeat()
    {
        QSet<QByteArray> seen;
        for (int i = 0; i < 1000; ++i) {
            seen.insert(Pkce::generate().verifier);
            seen.insert(Pkce::randomState());
        }
        QCOMPARE(seen.size(), 2000);
    }

    void stateIs43Base64UrlCharacters()
    {
        const QByteArray state = Pkce::randomState();
        QCOMPARE(state.size(), 43);
        QVERIFY(Pkce::isValidVerifier(state)); // same alphabet and length rules
        QVERIFY(!state.contains('+') && !state.contains('/') && !state.contains('='));
    }

    void verifierValidationFollowsRfc7636_data()
    {
        QTest::addColumn<QByteArray>("verifier");
        QTest::addColumn<bool>("valid");
        QTest::newRow("42 chars") << QByteArray(42, 'a') << false;
        QTest::newRow("43 chars") << QByteArray(43, 'a') << true;
        QTest::newRow("128 chars") << QByteArray(128, '~') << true;
        QTest::newRow("129 chars") << QByteArray(129, 'a') << false;
        QTest::newRow("all unreserved") << QByteArray("ABCXYZabcxyz0189-._~ABCXYZabcxyz0189-._~abc") << true;
        QTest::newRow("plus") << QByteArray(42, 'a') + '+' << false;
        QTest::newRow("slash") << QByteArray(42, 'a') + '/' << false;
        QTest::newRow("padding") << QByteArray(42, 'a') + '=' << false;
        QTest::newRow("space") << QByteArray(42, 'a') + ' ' << false;
        QTest::newRow("non-ascii") << QByteArray(42, 'a') + '\xc3' << false;
    }

    void verifierValidationFollowsRfc7636()
    {
        QFETCH(QByteArray, verifier);
        QFETCH(bool, valid);
        QCOMPARE(Pkce::isValidVerifier(verifier), valid);
    }
};

QTEST_GUILESS_MAIN(TestPkce)
#include "tst_pkce.moc"
