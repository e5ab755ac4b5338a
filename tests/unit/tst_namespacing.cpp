// How the aggregated endpoint names what several upstreams offer (gateway/Namespacing.h):
// "<server>__<name>" for tools and prompts, "<server>+<uri>" for resources and templates, and
// splitting those back to the upstream that owns them.

#include "gateway/Namespacing.h"

#include <QTest>

namespace Namespacing = mcpbroker::gateway::Namespacing;

class TestNamespacing : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void qualifyNameJoinsServerAndNameWithTwoUnderscores();
    void qualifyUriJoinsServerAndUriWithAPlus();

    void nameRoundTripsThroughQualifyAndSplit_data();
    void nameRoundTripsThroughQualifyAndSplit();
    void uriRoundTripsThroughQualifyAndSplit_data();
    void uriRoundTripsThroughQualifyAndSplit();

    void splitNameRefusesTextWithoutAValidServerPart_data();
    void splitNameRefusesTextWithoutAValidServerPart();
    void splitUriRefusesTextWithoutAValidServerPart_data();
    void splitUriRefusesTextWithoutAValidServerPart();

    void nameAndUriSeparatorsAreNotInterchangeable();
};

void TestNamespacing::qualifyNameJoinsServerAndNameWithTwoUnderscores()
{
    QCOMPARE(Namespacing::qualifyName(QStringLiteral("github"), QStringLiteral("create_issue")),
             QStringLiteral("github__create_issue"));
    QCOMPARE(Namespacing::qualifyName(QStringLiteral("my-server2"), QStringLiteral("echo")),
             QStringLiteral("my-server2__echo"));
}

void TestNamespacing::qualifyUriJoinsServerAndUriWithAPlus()
{
    QCOMPARE(Namespacing::qualifyUri(QStringLiteral("github"),
                                     QStringLiteral("repo://octo/readme")),
             QStringLiteral("github+repo://octo/readme"));
    QCOMPARE(Namespacing::qualifyUri(QStringLiteral("files"), QStringLiteral("file:///{path}")),
             QStringLiteral("files+file:///{path}"));
}

void TestNamespacing::nameRoundTripsThroughQualifyAndSplit_data()
{
    QTest::addColumn<QString>("server");
    QTest::addColumn<QString>("name");

    QTest::newRow("plain") << "github" << "search";
    QTest::newRow("name with one underscore") << "github" << "create_issue";
    // Split at the first "__": the server part never contains '_'.
    QTest::newRow("name containing __") << "github" << "a__b";
    QTest::newRow("name starting with _") << "github" << "_private";
    QTest::newRow("name starting with __") << "github" << "__dunder__";
    QTest::newRow("name ending with __") << "github" << "trailing__";
    QTest::newRow("name that looks qualified") << "outer" << "inner__tool";
    QTest::newRow("name with +") << "github" << "a+b";
    QTest::newRow("name with spaces and unicode") << "s" << QString::fromUtf8("caf\xc3\xa9 tool");
    QTest::newRow("server with digits and hyphens") << "a1-b2-" << "x";
    QTest::newRow("one-letter server") << "a" << "x";
    QTest::newRow("63-character server") << QString(63, QLatin1Char('z')) << "x";
}

void TestNamespacing::nameRoundTripsThroughQualifyAndSplit()
{
    QFETCH(QString, server);
    QFETCH(QString, name);

    const QString qualified = Namespacing::qualifyName(server, name);
    const auto parts = Namespacing::splitName(qualified);
    QVERIFY2(parts, qPrintable(qualified));
    QCOMPARE(parts->server, server);
    QCOMPARE(parts->name, name);
}

void TestNamespacing::uriRoundTripsThroughQualifyAndSplit_data()
{
    QTest::addColumn<QString>("server");
    QTest::addColumn<QString>("uri");

    QTest::newRow("plain") << "github" << "repo://octo/readme";
    QTest::newRow("file uri") << "files" << "file:///home/u/a.txt";
    // "git+ssh" is a valid scheme with its own '+': split at the first one.
    QTest::newRow("scheme containing +") << "github" << "git+ssh://host/repo";
    QTest::newRow("uri with + in path and query") << "s" << "http://h/a+b?q=c+d";
    QTest::newRow("uri that looks qualified") << "outer" << "inner+file:///x";
    QTest::newRow("uri containing __") << "s" << "mem://a__b";
    QTest::newRow("uri template") << "files" << "file:///{+path}";
    QTest::newRow("uri starting with +") << "s" << "+odd";
}

void TestNamespacing::uriRoundTripsThroughQualifyAndSplit()
{
    QFETCH(QString, server);
    QFETCH(QString, uri);

    const QString qualified = Namespacing::qualifyUri(server, uri);
    const auto parts = Namespacing::splitUri(qualified);
    QVERIFY2(parts, qPrintable(qualified));
    QCOMPARE(parts->server, server);
    QCOMPARE(parts->name, uri);
}

void TestNamespacing::splitNameRefusesTextWithoutAValidServerPart_data()
{
    QTest::addColumn<QString>("qualified");

    QTest::newRow("no separator") << "github";
    QTest::newRow("single underscore only") << "github_search";
    QTest::newRow("empty") << "";
    QTest::newRow("only the separator") << "__";
    QTest::newRow("empty server") << "__search";
    QTest::newRow("empty name") << "github__";
    QTest::newRow("uppercase server") << "GitHub__search";
    QTest::newRow("server starting with a digit") << "1github__search";
    QTest::newRow("server starting with a hyphen") << "-github__search";
    QTest::newRow("server containing _") << "git_hub__search";
    QTest::newRow("server containing +") << "git+hub__search";
    QTest::newRow("server containing a dot") << "git.hub__search";
    QTest::newRow("server containing a space") << "git hub__search";
    QTest::newRow("server longer than 63 characters") << QString(64, QLatin1Char('z')) + "__x";
    QTest::newRow("uri form") << "github+repo://x";
}

void TestNamespacing::splitNameRefusesTextWithoutAValidServerPart()
{
    QFETCH(QString, qualified);
    const auto parts = Namespacing::splitName(qualified);
    QVERIFY2(!parts, qPrintable(parts ? parts->server + " / " + parts->name : QString()));
}

void TestNamespacing::splitUriRefusesTextWithoutAValidServerPart_data()
{
    QTest::addColumn<QString>("qualified");

    QTest::newRow("no separator") << "repo://octo/readme";
    QTest::newRow("empty") << "";
    QTest::newRow("only the separator") << "+";
    QTest::newRow("empty server") << "+repo://x";
    QTest::newRow("empty uri") << "github+";
    QTest::newRow("uppercase server") << "GitHub+repo://x";
    QTest::newRow("server starting with a digit") << "9s+repo://x";
    QTest::newRow("server containing _") << "my_server+repo://x";
    QTest::newRow("server longer than 63 characters") << QString(64, QLatin1Char('z')) + "+x";
    // The first '+' comes after a ':' here, so what precedes it is no server name.
    QTest::newRow("unqualified uri with +") << "http://h/a+b";
    QTest::newRow("name form") << "github__repo";
}

void TestNamespacing::splitUriRefusesTextWithoutAValidServerPart()
{
    QFETCH(QString, qualified);
    const auto parts = Namespacing::splitUri(qualified);
    QVERIFY2(!parts, qPrintable(parts ? parts->server + " / " + parts->name : QString()));
}

void TestNamespacing::nameAndUriSeparatorsAreNotInterchangeable()
{
    // A qualified tool name does not split as a URI, and the other way round.
    QVERIFY(!Namespacing::splitUri(Namespacing::qualifyName(QStringLiteral("github"),
                                                             QStringLiteral("search"))));
    QVERIFY(!Namespacing::splitName(Namespacing::qualifyUri(QStringLiteral("github"),
                                                            QStringLiteral("repo://x"))));
}

QTEST_APPLESS_MAIN(TestNamespacing)
#include "tst_namespacing.moc"
