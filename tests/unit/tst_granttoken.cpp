// GrantToken: the shape of the bearer tokens the broker gives local clients, their hash and the
// grant ids inside them. No keychain needed.

#include "gateway/GrantToken.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace mcpbroker::gateway;

Q_DECLARE_METATYPE(mcpbroker::gateway::GrantToken::Use)

namespace {

const QString kGrantId = u"g0123456789ab"_qs;

// A secret of the right length and alphabet (43 base64url characters).
const QByteArray kSecret = QByteArray("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde").left(43);

QByteArray token(const char *prefix, const QByteArray &grantId, const QByteArray &secret)
{
    return QByteArray(prefix) + '_' + grantId + '_' + secret;
}

bool isLowerHex(const QByteArray &text)
{
    static const QRegularExpression hex(u"^[0-9a-f]*$"_qs);
    return hex.match(QString::fromLatin1(text)).hasMatch();
}

bool isBase64Url(const QByteArray &text)
{
    static const QRegularExpression base64Url(u"^[A-Za-z0-9_-]*$"_qs);
    return base64Url.match(QString::fromLatin1(text)).hasMatch();
}

} // namespace

class TestGrantToken : public QObject
{
    Q_OBJECT

private slots:
    void generatedTokensParseBackToTheirUseAndGrant_data()
    {
        QTest::addColumn<GrantToken::Use>("use");
        QTest::addColumn<QByteArray>("prefix");
        QTest::newRow("static") << GrantToken::Use::Static << QByteArray("mcpb_");
        QTest::newRow("access") << GrantToken::Use::Access << QByteArray("mcpb-at_");
        QTest::newRow("refresh") << GrantToken::Use::Refresh << QByteArray("mcpb-rt_");
    }

    void generatedTokensParseBackToTheirUseAndGrant()
    {
        QFETCH(GrantToken::Use, use);
        QFETCH(QByteArray, prefix);
        const QString grantId = GrantToken::newGrantId();
        const QByteArray generated = GrantToken::generate(use, grantId);
        QVERIFY2(generated.startsWith(prefix + grantId.toLatin1() + '_'), generated.constData());
        // "<prefix>_<grant id>_<32 bytes in base64url>"
        QCOMPARE(generated.size(), prefix.size() + grantId.size() + 1 + 43);
        QVERIFY(isBase64Url(generated.sliced(prefix.size() + grantId.size() + 1)));

        const auto parsed = GrantToken::parse(generated);
        QVERIFY(parsed.has_value());
        QCOMPARE(parsed->use, use);
        QCOMPARE(parsed->grantId, grantId);
    }

    void prefixesDifferPerUse()
    {
        const QByteArray staticToken = GrantToken::generate(GrantToken::Use::Static, kGrantId);
        const QByteArray access = GrantToken::generate(GrantToken::Use::Access, kGrantId);
        const QByteArray refresh = GrantToken::generate(GrantToken::Use::Refresh, kGrantId);
        const auto prefixOf
                = [](const QByteArray &token) { return token.left(token.indexOf('_')); };
        QCOMPARE(prefixOf(staticToken), QByteArray("mcpb"));
        QCOMPARE(prefixOf(access), QByteArray("mcpb-at"));
        QCOMPARE(prefixOf(refresh), QByteArray("mcpb-rt"));
        // Another use's prefix on the same id and secret is another use, never a mix-up.
        QCOMPARE(GrantToken::parse(token("mcpb", kGrantId.toLatin1(), kSecret))->use,
                 GrantToken::Use::Static);
        QCOMPARE(GrantToken::parse(token("mcpb-at", kGrantId.toLatin1(), kSecret))->use,
                 GrantToken::Use::Access);
        QCOMPARE(GrantToken::parse(token("mcpb-rt", kGrantId.toLatin1(), kSecret))->use,
                 GrantToken::Use::Refresh);
    }

    void handMadeTokenOfTheRightShapeParses()
    {
        // The reference the rows below are each one change away from.
        const auto parsed = GrantToken::parse(token("mcpb", kGrantId.toLatin1(), kSecret));
        QVERIFY(parsed.has_value());
        QCOMPARE(parsed->grantId, kGrantId);
    }

    void malformedTokensDoNotParse_data()
    {
        QTest::addColumn<QByteArray>("text");
        const QByteArray id = kGrantId.toLatin1();
        const QByteArray good = token("mcpb", id, kSecret);

        QTest::newRow("empty") << QByteArray();
        QTest::newRow("prefix only") << QByteArray("mcpb_");
        QTest::newRow("no secret") << QByteArray("mcpb_" + id + '_');
        QTest::newRow("truncated by one") << good.chopped(1);
        QTest::newRow("truncated to half") << good.left(good.size() / 2);
        QTest::newRow("one character too many") << good + 'x';
        QTest::newRow("secret too short") << token("mcpb", id, kSecret.left(42));
        QTest::newRow("secret too long") << token("mcpb", id, kSecret + 'x');
        QTest::newRow("id too short") << token("mcpb", id.chopped(1), kSecret + 'x');
        QTest::newRow("id too long") << token("mcpb", id + 'a', kSecret.chopped(1));
        QTest::newRow("id not hex") << token("mcpb", "g0123456789xz", kSecret);
        QTest::newRow("id upper-case hex") << token("mcpb", "g0123456789AB", kSecret);
        QTest::newRow("id without its g") << token("mcpb", "h0123456789ab", kSecret);
        QTest::newRow("unknown prefix") << token("mcpx", id, kSecret);
        QTest::newRow("unknown longer prefix") << token("mcpb-xx", id, kSecret);
        QTest::newRow("upper-case prefix") << token("MCPB", id, kSecret);
        QTest::newRow("other separator after prefix") << QByteArray("mcpb-" + id + '_' + kSecret);
        QTest::newRow("other separator after id") << QByteArray("mcpb_" + id + '.' + kSecret);
        QTest::newRow("with a Bearer scheme") << QByteArray("Bearer " + good).left(good.size());
        QTest::newRow("leading space") << QByteArray(' ' + good.chopped(1));
        // Right length, but not base64url: nothing we issue looks like this.
        QTest::newRow("secret with a space")
                << token("mcpb", id, kSecret.left(20) + ' ' + kSecret.sliced(21));
        QTest::newRow("secret with a NUL")
                << token("mcpb", id, kSecret.left(20) + '\0' + kSecret.sliced(21));
        QTest::newRow("secret with padding") << token("mcpb", id, kSecret.left(41) + "==");
        QTest::newRow("secret with a newline") << token("mcpb", id, kSecret.chopped(1) + '\n');
        QTest::newRow("other use's length") << token("mcpb-at", id, kSecret).left(good.size());
    }

    void malformedTokensDoNotParse()
    {
        QFETCH(QByteArray, text);
        QVERIFY2(!GrantToken::parse(text).has_value(), text.toPercentEncoding().constData());
    }

    void hashIsHexSha256()
    {
        // FIPS 180-2's "abc" vector.
        QCOMPARE(GrantToken::hash("abc"),
                 QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));

        const QByteArray generated = GrantToken::generate(GrantToken::Use::Static, kGrantId);
        const QByteArray hash = GrantToken::hash(generated);
        QCOMPARE(hash.size(), 64);
        QVERIFY2(isLowerHex(hash), hash.constData());
        QCOMPARE(hash, QCryptographicHash::hash(generated, QCryptographicHash::Sha256).toHex());
        QCOMPARE(GrantToken::hash(generated), hash); // the same token, the same hash
    }

    void hashesEqualOnlyForTheSameNonEmptyHash()
    {
        const QByteArray a = GrantToken::hash("first");
        const QByteArray b = GrantToken::hash("second");
        QVERIFY(GrantToken::hashesEqual(a, a));
        QVERIFY(GrantToken::hashesEqual(a, QByteArray(a))); // by value, not by address
        QVERIFY(!GrantToken::hashesEqual(a, b));
        QVERIFY(!GrantToken::hashesEqual(b, a));

        QByteArray lastDiffers = a;
        lastDiffers.back() = lastDiffers.back() == '0' ? '1' : '0';
        QVERIFY(!GrantToken::hashesEqual(a, lastDiffers));

        // A prefix is not the hash; nor is nothing (a proof without a refresh hash).
        QVERIFY(!GrantToken::hashesEqual(a, a.left(32)));
        QVERIFY(!GrantToken::hashesEqual(a.left(32), a));
        QVERIFY(!GrantToken::hashesEqual(a, QByteArray()));
        QVERIFY(!GrantToken::hashesEqual(QByteArray(), a));
        QVERIFY(!GrantToken::hashesEqual(QByteArray(), QByteArray()));
        QVERIFY(!GrantToken::hashesEqual(QByteArrayView(), QByteArrayView()));
    }

    void twoGeneratedTokensDiffer()
    {
        QSet<QByteArray> seen;
        for (int i = 0; i < 100; ++i) {
            const QByteArray generated = GrantToken::generate(GrantToken::Use::Static, kGrantId);
            QVERIFY2(!seen.contains(generated), "a token was generated twice");
            seen.insert(generated);
        }
        QVERIFY(GrantToken::generate(GrantToken::Use::Access, kGrantId).sliced(22)
                != GrantToken::generate(GrantToken::Use::Access, kGrantId).sliced(22));
    }

    void newGrantIdIsAGFollowedByTwelveHexDigits()
    {
        static const QRegularExpression shape(u"^g[0-9a-f]{12}$"_qs);
        QSet<QString> seen;
        for (int i = 0; i < 100; ++i) {
            const QString id = GrantToken::newGrantId();
            QVERIFY2(shape.match(id).hasMatch(), qPrintable(id));
            QVERIFY2(!seen.contains(id), "a grant id was generated twice");
            seen.insert(id);
            // Every id it makes fits in a token that parses.
            const auto parsed
                    = GrantToken::parse(GrantToken::generate(GrantToken::Use::Refresh, id));
            QVERIFY(parsed.has_value());
            QCOMPARE(parsed->grantId, id);
        }
    }

    void randomStringIsThirtyTwoBytesOfBase64Url()
    {
        const QByteArray first = GrantToken::randomString();
        QCOMPARE(first.size(), 43);
        QVERIFY2(isBase64Url(first), first.constData());
        QCOMPARE(QByteArray::fromBase64(first, QByteArray::Base64UrlEncoding).size(), 32);
        QVERIFY(GrantToken::randomString() != first);
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    TestGrantToken test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_granttoken.moc"
