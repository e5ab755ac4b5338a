// SignInRecord: what the keychain keeps of where the broker signed in to one server. toJson() and
// fromJson() must give back every field, and anything toJson() did not write (a damaged or
// foreign keychain entry) must be an InvalidInput error, never a crash or a half-read record.

#include "oauth/SignInRecord.h"

#include <QTest>

#include <nlohmann/json.hpp>

using namespace mcpbroker;
using namespace mcpbroker::oauth;
using json = nlohmann::json;

namespace {

// Every field set, with values that are easy to mangle: a path and trailing slash in the
// issuer, percent-encoding and a port in the endpoints, several auth methods.
SignInRecord fullRecord()
{
    SignInRecord record;
    record.server.issuer = u"https://auth.example.com/tenant1/"_qs;
    record.server.authorizationEndpoint = QUrl(u"https://auth.example.com/tenant1/authorize"_qs);
    record.server.tokenEndpoint = QUrl(u"https://auth.example.com:8443/t/token?realm=a%20b%2Fc"_qs);
    record.server.registrationEndpoint = QUrl(u"https://auth.example.com/tenant1/register"_qs);
    record.server.revocationEndpoint = QUrl(u"https://auth.example.com/tenant1/revoke"_qs);
    record.server.tokenEndpointAuthMethodsSupported
            = {u"client_secret_basic"_qs, u"client_secret_post"_qs, u"none"_qs};
    record.server.clientIdMetadataDocumentSupported = true;
    record.server.authorizationResponseIssParameterSupported = true;
    record.resource = u"https://mcp.example.com/mcp"_qs;
    return record;
}

// What toJson() writes for fullRecord(), as JSON that a test can damage one key at a time.
json fullRecordJson()
{
    return json::parse(fullRecord().toJson().toStdString());
}

QByteArray withKey(const char *key, const json &value)
{
    json record = fullRecordJson();
    record[key] = value;
    return QByteArray::fromStdString(record.dump());
}

QByteArray withoutKey(const char *key)
{
    json record = fullRecordJson();
    record.erase(key);
    return QByteArray::fromStdString(record.dump());
}

QString why(const Result<SignInRecord> &result)
{
    return result.ok() ? QString() : result.error().message;
}

} // namespace

class TestSignInRecord : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTripKeepsEveryField()
    {
        const SignInRecord written = fullRecord();
        const auto read = SignInRecord::fromJson(written.toJson());
        QVERIFY2(read.ok(), qPrintable(why(read)));
        const SignInRecord &record = read.value();
        QCOMPARE(record.resource, written.resource);
        QCOMPARE(record.server.issuer, written.server.issuer);
        QCOMPARE(record.server.authorizationEndpoint, written.server.authorizationEndpoint);
        QCOMPARE(record.server.tokenEndpoint, written.server.tokenEndpoint);
        QCOMPARE(record.server.tokenEndpoint.query(QUrl::FullyDecoded), u"realm=a b/c"_qs);
        QCOMPARE(record.server.registrationEndpoint, written.server.registrationEndpoint);
        QCOMPARE(record.server.revocationEndpoint, written.server.revocationEndpoint);
        QCOMPARE(record.server.tokenEndpointAuthMethodsSupported,
                 written.server.tokenEndpointAuthMethodsSupported);
        QCOMPARE(record.server.clientIdMetadataDocumentSupported, true);
        QCOMPARE(record.server.authorizationResponseIssParameterSupported, true);
        // Only S256 is ever used, so the record need not keep it.
        QCOMPARE(record.server.codeChallengeMethodsSupported, QStringList{u"S256"_qs});

        // Reading and writing again changes nothing.
        QCOMPARE(record.toJson(), written.toJson());
    }

    void roundTripKeepsAMinimalRecord()
    {
        SignInRecord written;
        written.server.issuer = u"https://login.example"_qs;
        written.server.tokenEndpoint = QUrl(u"https://login.example/oauth/token"_qs);
        written.resource = u"https://api.example/mcp"_qs;

        const auto read = SignInRecord::fromJson(written.toJson());
        QVERIFY2(read.ok(), qPrintable(why(read)));
        const SignInRecord &record = read.value();
        QCOMPARE(record.server.issuer, written.server.issuer);
        QCOMPARE(record.resource, written.resource);
        QCOMPARE(record.server.tokenEndpoint, written.server.tokenEndpoint);
        // Absent endpoints stay absent: no empty-but-"present" URL to send requests to.
        QVERIFY(record.server.authorizationEndpoint.isEmpty());
        QVERIFY(record.server.registrationEndpoint.isEmpty());
        QVERIFY(record.server.revocationEndpoint.isEmpty());
        QVERIFY(record.server.tokenEndpointAuthMethodsSupported.isEmpty());
        QCOMPARE(record.server.clientIdMetadataDocumentSupported, false);
        QCOMPARE(record.server.authorizationResponseIssParameterSupported, false);
    }

    void roundTripKeepsUnicode()
    {
        SignInRecord written = fullRecord();
        written.server.issuer = u"https://anmeldung.beispiel.de/mandant-\u00e4\u00f6\u00fc"_qs;
        written.resource = u"https://mcp.example/\u6587\u4ef6"_qs;
        const auto read = SignInRecord::fromJson(written.toJson());
        QVERIFY2(read.ok(), qPrintable(why(read)));
        QCOMPARE(read.value().server.issuer, written.server.issuer);
        QCOMPARE(read.value().resource, written.resource);
    }

    void toJsonWritesFormatOne()
    {
        const json record = fullRecordJson();
        QVERIFY(record.is_object());
        QVERIFY(record.contains("format"));
        QVERIFY(record["format"].is_number_integer());
        QCOMPARE(record["format"].get<int>(), 1);
    }

    void damagedInputIsInvalidInput_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("not json") << QByteArray("issuer=https://auth.example.com");
        QTest::newRow("truncated") << fullRecord().toJson().chopped(7);
        QTest::newRow("trailing garbage") << fullRecord().toJson() + "}";
        QTest::newRow("null") << QByteArray("null");
        QTest::newRow("number") << QByteArray("1");
        QTest::newRow("text") << QByteArray("\"https://auth.example.com\"");
        QTest::newRow("empty array") << QByteArray("[]");
        QTest::newRow("array of a record") << "[" + fullRecord().toJson() + "]";
        QTest::newRow("empty object") << QByteArray("{}");
        QTest::newRow("invalid utf-8") << withKey("issuer", "x").replace("\"x\"", "\"\xff\xfe\"");
        QTest::newRow("nul byte") << fullRecord().toJson().insert(10, '\0');
        QTest::newRow("deeply nested") << QByteArray(100'000, '[') + QByteArray(100'000, ']');

        QTest::newRow("format missing") << withoutKey("format");
        QTest::newRow("format 2") << withKey("format", 2);
        QTest::newRow("format 0") << withKey("format", 0);
        QTest::newRow("format -1") << withKey("format", -1);
        QTest::newRow("format 1.5") << withKey("format", 1.5);
        QTest::newRow("format as text") << withKey("format", "1");
        QTest::newRow("format true") << withKey("format", true);
        QTest::newRow("format null") << withKey("format", nullptr);

        QTest::newRow("issuer missing") << withoutKey("issuer");
        QTest::newRow("issuer empty") << withKey("issuer", "");
        QTest::newRow("issuer a number") << withKey("issuer", 42);
        QTest::newRow("issuer null") << withKey("issuer", nullptr);
        QTest::newRow("resource missing") << withoutKey("resource");
        QTest::newRow("resource empty") << withKey("resource", "");
        QTest::newRow("resource a list")
                << withKey("resource", json::array({"https://mcp.example.com/mcp"}));
        QTest::newRow("token endpoint missing") << withoutKey("tokenEndpoint");
        QTest::newRow("token endpoint empty") << withKey("tokenEndpoint", "");
        QTest::newRow("token endpoint a number") << withKey("tokenEndpoint", 443);
        QTest::newRow("token endpoint an object")
                << withKey("tokenEndpoint", json{{"url", "https://auth.example.com/token"}});

        QTest::newRow("authorization endpoint a number") << withKey("authorizationEndpoint", 1);
        QTest::newRow("revocation endpoint a list")
                << withKey("revocationEndpoint", json::array({"https://auth.example.com/r"}));
        QTest::newRow("registration endpoint true") << withKey("registrationEndpoint", true);

        QTest::newRow("auth methods a number") << withKey("tokenEndpointAuthMethods", 2);
        QTest::newRow("auth methods text")
                << withKey("tokenEndpointAuthMethods", "client_secret_basic");
        QTest::newRow("auth methods an object")
                << withKey("tokenEndpointAuthMethods", json{{"best", "client_secret_basic"}});
        QTest::newRow("auth methods with a number")
                << withKey("tokenEndpointAuthMethods", json::array({"none", 3}));

        QTest::newRow("cimd support as text")
                << withKey("clientIdMetadataDocumentSupported", "true");
        QTest::newRow("cimd support as a number")
                << withKey("clientIdMetadataDocumentSupported", 1);
        QTest::newRow("iss support as text") << withKey("issParameterSupported", "false");
        QTest::newRow("iss support null") << withKey("issParameterSupported", nullptr);
    }

    void damagedInputIsInvalidInput()
    {
        QFETCH(QByteArray, text);
        const auto read = SignInRecord::fromJson(text);
        QVERIFY2(!read.ok(), "a damaged record was read as a sign-in record");
        QCOMPARE(read.error().kind, Error::Kind::InvalidInput);
        // A sentence the user can act on.
        QVERIFY2(read.error().message.contains(u"sign in again"_qs), qPrintable(why(read)));
    }
};

QTEST_GUILESS_MAIN(TestSignInRecord)
#include "tst_signinrecord.moc"
