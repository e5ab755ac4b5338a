#include "oauth/AuthorizationServerMetadata.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

const QString kIssuer = u"https://auth.example.com/tenant1"_qs;

// A complete, valid document; tests change or remove one field at a time.
QJsonObject validDocument()
{
    return QJsonObject{
            {u"issuer"_qs, kIssuer},
            {u"authorization_endpoint"_qs, u"https://auth.example.com/tenant1/authorize"_qs},
            {u"token_endpoint"_qs, u"https://auth.example.com/tenant1/token"_qs},
            {u"registration_endpoint"_qs, u"https://auth.example.com/tenant1/register"_qs},
            {u"revocation_endpoint"_qs, u"https://auth.example.com/tenant1/revoke"_qs},
            {u"scopes_supported"_qs, QJsonArray{u"openid"_qs, u"files:read"_qs}},
            {u"response_types_supported"_qs, QJsonArray{u"code"_qs}},
            {u"grant_types_supported"_qs, QJsonArray{u"authorization_code"_qs, u"refresh_token"_qs}},
            {u"code_challenge_methods_supported"_qs, QJsonArray{u"plain"_qs, u"S256"_qs}},
            {u"token_endpoint_auth_methods_supported"_qs, QJsonArray{u"none"_qs, u"client_secret_post"_qs}},
            {u"client_id_metadata_document_supported"_qs, true},
            {u"authorization_response_iss_parameter_supported"_qs, true},
    };
}

Result<AuthorizationServerMetadata> parse(const QJsonObject &object, const QString &issuer = kIssuer)
{
    return AuthorizationServerMetadata::fromJson(QJsonDocument(object).toJson(), issuer);
}

QString messageOf(const Result<AuthorizationServerMetadata> &result)
{
    return result.ok() ? QString() : result.error().message;
}

} // namespace

class TestAuthorizationServerMetadata : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void validDocumentKeepsEveryField()
    {
        const auto metadata = parse(validDocument());
        QVERIFY2(metadata.ok(), qPrintable(messageOf(metadata)));
        const AuthorizationServerMetadata &m = metadata.value();
        QCOMPARE(m.issuer, kIssuer);
        QCOMPARE(m.authorizationEndpoint, QUrl(u"https://auth.example.com/tenant1/authorize"_qs));
        QCOMPARE(m.tokenEndpoint, QUrl(u"https://auth.example.com/tenant1/token"_qs));
        QCOMPARE(m.registrationEndpoint, QUrl(u"https://auth.example.com/tenant1/register"_qs));
        QCOMPARE(m.revocationEndpoint, QUrl(u"https://auth.example.com/tenant1/revoke"_qs));
        QCOMPARE(m.scopesSupported, (QStringList{u"openid"_qs, u"files:read"_qs}));
        QCOMPARE(m.grantTypesSupported, (QStringList{u"authorization_code"_qs, u"refresh_token"_qs}));
        QCOMPARE(m.codeChallengeMethodsSupported, (QStringList{u"plain"_qs, u"S256"_qs}));
        QCOMPARE(m.tokenEndpointAuthMethodsSupported,
                 (QStringList{u"none"_qs, u"client_secret_post"_qs}));
        QVERIFY(m.clientIdMetadataDocumentSupported);
        QVERIFY(m.authorizationResponseIssParameterSupported);
    }

    void optionalFieldsTakeRfc8414Defaults()
    {
        QJsonObject document = validDocument();
        for (const QString &key : {u"registration_endpoint"_qs, u"revocation_endpoint"_qs,
                                   u"scopes_supported"_qs, u"response_types_supported"_qs,
                                   u"grant_types_supported"_qs,
                                   u"token_endpoint_auth_methods_supported"_qs,
                                   u"client_id_metadata_document_supported"_qs,
                                   u"authorization_response_iss_parameter_supported"_qs})
            document.remove(key);
        const auto metadata = parse(document);
        QVERIFY2(metadata.ok(), qPrintable(messageOf(metadata)));
        QVERIFY(metadata.value().registrationEndpoint.isEmpty());
        QVERIFY(metadata.value().revocationEndpoint.isEmpty());
        QVERIFY(metadata.value().scopesSupported.isEmpty());
        QCOMPARE(metadata.value().grantTypesSupported,
                 (QStringList{u"authorization_code"_qs, u"implicit"_qs}));
        QCOMPARE(metadata.value().tokenEndpointAuthMethodsSupported,
                 QStringList{u"client_secret_basic"_qs});
        QVERIFY(!metadata.value().clientIdMetadataDocumentSupported);
        QVERIFY(!metadata.value().authorizationResponseIssParameterSupported);
    }

    void issuerMustBeTheOneTheUrlWasBuiltFrom()
    {
        QJsonObject document = validDocument();
        document[u"issuer"_qs] = u"https://auth.example.com/tenant2"_qs;
        const auto metadata = parse(document);
        QVERIFY(!metadata.ok());
        QCOMPARE(metadata.error().kind, Error::Kind::Protocol);
        QVERIFY2(metadata.error().message.contains(u"tenant2"_qs), qPrintable(messageOf(metadata)));
        QVERIFY(metadata.error().message.contains(u"RFC 8414 §3.3"_qs));

        document[u"issuer"_qs] = u"https://AUTH.example.com/tenant1"_qs; // identical means identical
        QVERIFY(!parse(document).ok());
    }

    void aLoneTrailingSlashOnTheIssuerIsTolerated()
    {
        QJsonObject document = validDocument();
        document[u"issuer"_qs] = u"https://auth.example.com/"_qs;
        const auto metadata = parse(document, u"https://auth.example.com"_qs);
        QVERIFY2(metadata.ok(), qPrintable(messageOf(metadata)));
        QCOMPARE(metadata.value().issuer, u"https://auth.example.com/"_qs); // as published
        document[u"issuer"_qs] = u"https://auth.example.com"_qs;
        QVERIFY(parse(document, u"https://auth.example.com/"_qs).ok());
    }

    void missingS256IsRefusedWithASentence_data()
    {
        QTest::addColumn<QJsonValue>("methods");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("absent") << QJsonValue(QJsonValue::Undefined) << u"advertises no PKCE support"_qs;
        QTest::newRow("plain only") << QJsonValue(QJsonArray{u"plain"_qs}) << u"offers only plain"_qs;
        QTest::newRow("lower case") << QJsonValue(QJsonArray{u"s256"_qs}) << u"offers only s256"_qs;
        QTest::newRow("empty") << QJsonValue(QJsonArray{}) << u"advertises no PKCE support"_qs;
    }

    void missingS256IsRefusedWithASentence()
    {
        QFETCH(QJsonValue, methods);
        QFETCH(QString, mentions);
        QJsonObject document = validDocument();
        if (methods.isUndefined())
            document.remove(u"code_challenge_methods_supported"_qs);
        else
            document[u"code_challenge_methods_supported"_qs] = methods;
        const auto metadata = parse(document);
        QVERIFY(!metadata.ok());
        const QString message = metadata.error().message;
        QVERIFY2(message.startsWith(u"The OAuth metadata of the authorization server https://auth.example.com/tenant1 cannot be used: it does not support PKCE with S256"_qs),
                 qPrintable(message));
        QVERIFY2(message.contains(mentions), qPrintable(message));
        QVERIFY(message.endsWith(u"Ask the server's operator to enable PKCE S256."_qs));
    }

    void endpointsMustBeHttpsOrLoopback_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("http authorize") << u"authorization_endpoint"_qs << u"http://auth.example.com/a"_qs << false;
        QTest::newRow("http token") << u"token_endpoint"_qs << u"http://auth.example.com/t"_qs << false;
        QTest::newRow("http registration") << u"registration_endpoint"_qs << u"http://auth.example.com/r"_qs << false;
        QTest::newRow("http revocation") << u"revocation_endpoint"_qs << u"http://auth.example.com/r"_qs << false;
        QTest::newRow("javascript") << u"authorization_endpoint"_qs << u"javascript:alert(1)"_qs << false;
        QTest::newRow("relative") << u"token_endpoint"_qs << u"/token"_qs << false;
        QTest::newRow("fragment") << u"token_endpoint"_qs << u"https://auth.example.com/t#x"_qs << false;
        QTest::newRow("user info") << u"token_endpoint"_qs << u"https://a:b@auth.example.com/t"_qs << false;
        QTest::newRow("http localhost") << u"token_endpoint"_qs << u"http://localhost:9000/t"_qs << true;
        QTest::newRow("http 127.0.0.1") << u"authorization_endpoint"_qs << u"http://127.0.0.1:9000/a"_qs << true;
        QTest::newRow("http ::1") << u"token_endpoint"_qs << u"http://[::1]:9000/t"_qs << true;
        QTest::newRow("query kept") << u"authorization_endpoint"_qs << u"https://auth.example.com/a?p=1"_qs << true;
    }

    void endpointsMustBeHttpsOrLoopback()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(bool, accepted);
        QJsonObject document = validDocument();
        document[field] = value;
        const auto metadata = parse(document);
        QCOMPARE(metadata.ok(), accepted);
        if (!accepted)
            QVERIFY2(metadata.error().message.contains(u'"' + field + u'"'), qPrintable(messageOf(metadata)));
    }

    void requiredFieldsAndTypesAreChecked_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("no issuer") << u"issuer"_qs << QJsonValue(QJsonValue::Undefined) << u"\"issuer\" is missing"_qs;
        QTest::newRow("no authorize") << u"authorization_endpoint"_qs << QJsonValue(QJsonValue::Undefined) << u"\"authorization_endpoint\" is missing"_qs;
        QTest::newRow("no token") << u"token_endpoint"_qs << QJsonValue(QJsonValue::Undefined) << u"\"token_endpoint\" is missing"_qs;
        QTest::newRow("token not string") << u"token_endpoint"_qs << QJsonValue(3) << u"\"token_endpoint\" is not a string"_qs;
        QTest::newRow("flag not bool") << u"client_id_metadata_document_supported"_qs << QJsonValue(u"true"_qs) << u"not true or false"_qs;
        QTest::newRow("auth methods not array") << u"token_endpoint_auth_methods_supported"_qs << QJsonValue(u"none"_qs) << u"not an array of strings"_qs;
        QTest::newRow("no code flow") << u"response_types_supported"_qs << QJsonValue(QJsonArray{u"token"_qs}) << u"authorization code flow"_qs;
        QTest::newRow("issuer with query") << u"issuer"_qs << QJsonValue(u"https://auth.example.com/tenant1?x"_qs) << u"query"_qs;
    }

    void requiredFieldsAndTypesAreChecked()
    {
        QFETCH(QString, field);
        QFETCH(QJsonValue, value);
        QFETCH(QString, mentions);
        QJsonObject document = validDocument();
        if (value.isUndefined())
            document.remove(field);
        else
            document[field] = value;
        const auto metadata = parse(document);
        QVERIFY(!metadata.ok());
        QCOMPARE(metadata.error().kind, Error::Kind::Protocol);
        QVERIFY2(metadata.error().message.contains(mentions), qPrintable(messageOf(metadata)));
    }

    void notAJsonObjectIsRefused()
    {
        for (const QByteArray &json : {QByteArray(), QByteArray("null"), QByteArray("{\"issuer\":"),
                                       QByteArray("<!doctype html>")}) {
            const auto metadata = AuthorizationServerMetadata::fromJson(json, kIssuer);
            QVERIFY(!metadata.ok());
            QVERIFY(metadata.error().message.contains(u"not a JSON object"_qs));
        }
    }
};

QTEST_GUILESS_MAIN(TestAuthorizationServerMetadata)
#include "tst_authorizationservermetadata.moc"
