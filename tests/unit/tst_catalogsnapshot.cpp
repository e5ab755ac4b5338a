// CatalogSnapshot and CatalogSnapshots (gateway/): one snapshot per catalog content, found again
// while the upstream's items stay the same, replaced as soon as they change, and a tool's
// annotations looked up by name. The snapshots of a real gateway::Upstream session to an
// in-process upstream (ScriptedUpstream) whose catalog the test changes.

#include "gateway/CatalogSnapshot.h"
#include "gateway/CatalogSnapshots.h"
#include "gateway/Upstream.h"

#include "JsonCompare.h"
#include "ScriptedUpstream.h"
#include "UpstreamSessions.h"

#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <optional>

using mcpbroker::Error;
using mcpbroker::Result;
using mcpbroker::gateway::CatalogKind;
using mcpbroker::gateway::CatalogSnapshot;
using mcpbroker::gateway::CatalogSnapshots;
using mcpbroker::gateway::Upstream;
using json = nlohmann::json;
using Snapshot = CatalogSnapshots::Snapshot;

namespace {

constexpr int kWaitMs = 20'000;

json tool(const char *name, json annotations = nullptr)
{
    return ScriptedUpstream::tool(name, std::move(annotations));
}

json prompt(const char *name)
{
    return {{"name", name}};
}

CatalogSnapshot::Items shared(json items)
{
    return std::make_shared<const json>(std::move(items));
}

} // namespace

class TestCatalogSnapshot : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void sameItemsComparesTypesAndValuesAllTheWayDown_data();
    void sameItemsComparesTypesAndValuesAllTheWayDown();
    void everySnapshotHasItsOwnRevision();
    void snapshotOfTheSameItemsAsThePreviousTakesItsRevision();
    void annotationsAreFoundByToolNameTheLastOfANameWinning();
    void annotationsOfUnknownToolsAndOfOtherKindsAreNull();
    void itemsThatAreNotAnArrayCountAsEmpty();

    void fetchGivesTheSameSnapshotWhileTheCatalogIsUnchanged();
    void fetchGivesANewSnapshotOnceTheUpstreamAnnouncedAChange();
    void fetchAsksTheUpstreamAsOftenAsUpstreamCatalogDoes();
    void fetchPassesTheUpstreamsErrorOn();
    void snapshotsOfEachKindAndUpstreamAreApart();

private:
    std::optional<Result<Snapshot>> fetchNow(Upstream *upstream, CatalogKind kind);

    UpstreamSessions m_upstreams;
};

void TestCatalogSnapshot::initTestCase()
{
    UpstreamSessions::prepare();
}

void TestCatalogSnapshot::cleanup()
{
    m_upstreams.clear();
}

std::optional<Result<Snapshot>> TestCatalogSnapshot::fetchNow(Upstream *upstream, CatalogKind kind)
{
    auto answer = std::make_shared<std::optional<Result<Snapshot>>>();
    CatalogSnapshots::fetch(upstream, kind,
                            [answer](Result<Snapshot> snapshot) { *answer = std::move(snapshot); });
    if (!QTest::qWaitFor([&] { return answer->has_value(); }, kWaitMs))
        qWarning() << "fetch() did not answer";
    return *answer;
}

void TestCatalogSnapshot::sameItemsComparesTypesAndValuesAllTheWayDown_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("same");

    QTest::newRow("equal") << QByteArray(R"([{"name":"x","n":1,"f":1.5,"b":true,"z":null}])")
                           << QByteArray(R"([{"z":null,"b":true,"f":1.5,"n":1,"name":"x"}])")
                           << true;
    QTest::newRow("empty") << QByteArray("[]") << QByteArray("[]") << true;
    QTest::newRow("integer and float")
            << QByteArray(R"([{"n":1}])") << QByteArray(R"([{"n":1.0}])") << false;
    QTest::newRow("zero and minus zero") << QByteArray("[0.0]") << QByteArray("[-0.0]") << false;
    QTest::newRow("negative and unsigned") << QByteArray("[-1]") << QByteArray("[1]") << false;
    QTest::newRow("string and number") << QByteArray(R"(["1"])") << QByteArray("[1]") << false;
    QTest::newRow("order of items") << QByteArray(R"([{"name":"a"},{"name":"b"}])")
                                    << QByteArray(R"([{"name":"b"},{"name":"a"}])") << false;
    QTest::newRow("one item more") << QByteArray(R"([{"name":"a"}])")
                                   << QByteArray(R"([{"name":"a"},{"name":"b"}])") << false;
    QTest::newRow("a member renamed") << QByteArray(R"([{"name":"a","x":1}])")
                                      << QByteArray(R"([{"name":"a","y":1}])") << false;
    QTest::newRow("deep change") << QByteArray(R"([{"a":{"b":[1,{"c":"d"}]}}])")
                                 << QByteArray(R"([{"a":{"b":[1,{"c":"e"}]}}])") << false;
    QTest::newRow("null and missing") << QByteArray(R"([{"name":"a","annotations":null}])")
                                      << QByteArray(R"([{"name":"a"}])") << false;
}

void TestCatalogSnapshot::sameItemsComparesTypesAndValuesAllTheWayDown()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, same);
    const json first = json::parse(a.toStdString());
    const json second = json::parse(b.toStdString());
    QCOMPARE(CatalogSnapshot::sameItems(first, second), same);
    QCOMPARE(CatalogSnapshot::sameItems(second, first), same);
    QVERIFY(CatalogSnapshot::sameItems(first, first));
}

void TestCatalogSnapshot::everySnapshotHasItsOwnRevision()
{
    const CatalogSnapshot a(QStringLiteral("s"), CatalogKind::Tools,
                            shared(json::array({tool("x")})));
    const CatalogSnapshot b(QStringLiteral("s"), CatalogKind::Tools,
                            shared(json::array({tool("x")})));
    const CatalogSnapshot c(QStringLiteral("t"), CatalogKind::Prompts, shared(json::array()));
    QVERIFY(a.revision() != b.revision());
    QVERIFY(a.revision() != c.revision() && b.revision() != c.revision());
    QCOMPARE(a.server(), QStringLiteral("s"));
    QVERIFY(c.kind() == CatalogKind::Prompts);
    COMPARE_JSON(a.items(), json::array({tool("x")}));
}

void TestCatalogSnapshot::snapshotOfTheSameItemsAsThePreviousTakesItsRevision()
{
    const auto items = shared(json::array({tool("x"), tool("y")}));
    const CatalogSnapshot first(QStringLiteral("s"), CatalogKind::Tools, items);
    QVERIFY(first.holds(items));

    // A new load (another pointer) of the same items: the same content, the same revision.
    const auto reloaded = shared(json::array({tool("x"), tool("y")}));
    const CatalogSnapshot same(QStringLiteral("s"), CatalogKind::Tools, reloaded, &first);
    QCOMPARE(same.revision(), first.revision());
    QVERIFY(same.holds(reloaded) && !same.holds(items) && !first.holds(reloaded));

    const CatalogSnapshot changed(QStringLiteral("s"), CatalogKind::Tools,
                                  shared(json::array({tool("y"), tool("x")})), &first);
    const CatalogSnapshot otherServer(QStringLiteral("t"), CatalogKind::Tools, items, &first);
    const CatalogSnapshot otherKind(QStringLiteral("s"), CatalogKind::Prompts, items, &first);
    for (const CatalogSnapshot *other : {&changed, &otherServer, &otherKind})
        QVERIFY(other->revision() != first.revision());
}

void TestCatalogSnapshot::annotationsAreFoundByToolNameTheLastOfANameWinning()
{
    const json destructive = {{"destructiveHint", true}};
    const json readOnly = {{"readOnlyHint", true}};
    const CatalogSnapshot snapshot(
            QStringLiteral("s"), CatalogKind::Tools,
            shared(json::array({tool("drop", destructive),
                                tool("read", readOnly),
                                tool("plain"),
                                tool("twice", readOnly),
                                tool("twice", destructive),
                                {{"name", "odd"}, {"annotations", "not an object"}}})));
    COMPARE_JSON(snapshot.annotationsOf(QStringLiteral("drop")), destructive);
    COMPARE_JSON(snapshot.annotationsOf(QStringLiteral("read")), readOnly);
    QVERIFY(snapshot.annotationsOf(QStringLiteral("plain")).is_null());
    COMPARE_JSON(snapshot.annotationsOf(QStringLiteral("twice")), destructive);
    COMPARE_JSON(snapshot.annotationsOf(QStringLiteral("odd")), json("not an object"));
}

void TestCatalogSnapshot::annotationsOfUnknownToolsAndOfOtherKindsAreNull()
{
    const json destructive = {{"destructiveHint", true}};
    const CatalogSnapshot tools(QStringLiteral("s"), CatalogKind::Tools,
                                shared(json::array({tool("drop", destructive),
                                                    "drop",
                                                    5,
                                                    nullptr,
                                                    {{"name", 7}, {"annotations", destructive}},
                                                    {{"annotations", destructive}}})));
    QVERIFY(tools.annotationsOf(QStringLiteral("Drop")).is_null());
    QVERIFY(tools.annotationsOf(QStringLiteral("drop ")).is_null());
    QVERIFY(tools.annotationsOf(QStringLiteral("7")).is_null());
    QVERIFY(tools.annotationsOf(QString()).is_null());
    COMPARE_JSON(tools.annotationsOf(QStringLiteral("drop")), destructive);

    const CatalogSnapshot prompts(QStringLiteral("s"), CatalogKind::Prompts,
                                  shared(json::array({tool("drop", destructive)})));
    QVERIFY(prompts.annotationsOf(QStringLiteral("drop")).is_null());
}

void TestCatalogSnapshot::itemsThatAreNotAnArrayCountAsEmpty()
{
    const CatalogSnapshot snapshot(QStringLiteral("s"), CatalogKind::Tools,
                                   shared({{"name", "drop"}, {"annotations", {{"x", 1}}}}));
    COMPARE_JSON(snapshot.items(), json::array());
    QVERIFY(snapshot.annotationsOf(QStringLiteral("drop")).is_null());
    const CatalogSnapshot none(QStringLiteral("s"), CatalogKind::Tools, nullptr);
    COMPARE_JSON(none.items(), json::array());
}

void TestCatalogSnapshot::fetchGivesTheSameSnapshotWhileTheCatalogIsUnchanged()
{
    ScriptedUpstream server;
    QVERIFY(server.listen());
    server.setItems(CatalogKind::Tools, json::array({tool("a"), tool("b")}));
    Upstream *upstream = m_upstreams.ready(QStringLiteral("s"), server.url());
    QVERIFY(upstream);

    const auto first = fetchNow(upstream, CatalogKind::Tools);
    QVERIFY(first && first->ok());
    const Snapshot snapshot = first->value();
    QCOMPARE(snapshot->server(), QStringLiteral("s"));
    COMPARE_JSON(snapshot->items(), json::array({tool("a"), tool("b")}));
    for (int i = 0; i < 3; ++i) {
        const auto again = fetchNow(upstream, CatalogKind::Tools);
        QVERIFY(again && again->ok());
        QCOMPARE(again->value().get(), snapshot.get());
        QCOMPARE(again->value()->revision(), snapshot->revision());
    }
}

void TestCatalogSnapshot::fetchGivesANewSnapshotOnceTheUpstreamAnnouncedAChange()
{
    ScriptedUpstream server;
    QVERIFY(server.listen());
    const json destructive = {{"destructiveHint", true}};
    server.setItems(CatalogKind::Tools, json::array({tool("a"), tool("drop", destructive)}));
    Upstream *upstream = m_upstreams.ready(QStringLiteral("s"), server.url());
    QVERIFY(upstream);
    const auto before = fetchNow(upstream, CatalogKind::Tools);
    QVERIFY(before && before->ok());
    COMPARE_JSON(before->value()->annotationsOf(QStringLiteral("drop")), destructive);

    const json readOnly = {{"readOnlyHint", true}};
    server.setItems(CatalogKind::Tools, json::array({tool("drop", readOnly), tool("c")}));
    QTRY_VERIFY_WITH_TIMEOUT(server.hasListener(), kWaitMs);
    QSignalSpy changed(upstream, &Upstream::catalogChanged);
    QVERIFY(server.announce(CatalogKind::Tools));
    QTRY_VERIFY_WITH_TIMEOUT(!changed.isEmpty(), kWaitMs);

    const auto after = fetchNow(upstream, CatalogKind::Tools);
    QVERIFY(after && after->ok());
    QVERIFY(after->value()->revision() != before->value()->revision());
    COMPARE_JSON(after->value()->items(), json::array({tool("drop", readOnly), tool("c")}));
    COMPARE_JSON(after->value()->annotationsOf(QStringLiteral("drop")), readOnly);
    QVERIFY(after->value()->annotationsOf(QStringLiteral("a")).is_null());
    // The old snapshot is what it was: a list still holding it is not changed under its feet.
    COMPARE_JSON(before->value()->annotationsOf(QStringLiteral("drop")), destructive);
}

void TestCatalogSnapshot::fetchAsksTheUpstreamAsOftenAsUpstreamCatalogDoes()
{
    // A server that announces changes is listed once; its snapshots cost no request.
    ScriptedUpstream server;
    QVERIFY(server.listen());
    server.setItems(CatalogKind::Prompts, json::array({prompt("p")}));
    Upstream *upstream = m_upstreams.ready(QStringLiteral("s"), server.url());
    QVERIFY(upstream);
    for (int i = 0; i < 3; ++i) {
        const auto snapshot = fetchNow(upstream, CatalogKind::Prompts);
        QVERIFY(snapshot && snapshot->ok());
    }
    QCOMPARE(server.listRequests(CatalogKind::Prompts), 1);

    // One that does not is listed again once the copy is old: so is its snapshot.
    ScriptedUpstream quiet(false);
    QVERIFY(quiet.listen());
    quiet.setItems(CatalogKind::Tools, json::array({tool("a")}));
    Upstream *quietUpstream = m_upstreams.ready(QStringLiteral("q"), quiet.url());
    QVERIFY(quietUpstream);
    const auto first = fetchNow(quietUpstream, CatalogKind::Tools);
    QVERIFY(first && first->ok());
    quiet.setItems(CatalogKind::Tools, json::array({tool("b")}));
    QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                const auto now = fetchNow(quietUpstream, CatalogKind::Tools);
                return now && now->ok() && now->value()->items() == json::array({tool("b")});
            }(),
            kWaitMs);
    QVERIFY(quiet.listRequests(CatalogKind::Tools) >= 2);
}

void TestCatalogSnapshot::fetchPassesTheUpstreamsErrorOn()
{
    const QString why = QStringLiteral("The keychain is locked; unlock it and retry.");
    Upstream *upstream = m_upstreams.failed(QStringLiteral("locked"), why);

    const auto answer = fetchNow(upstream, CatalogKind::Tools);
    QVERIFY(answer);
    QVERIFY(!answer->ok());
    QCOMPARE(answer->error().message, why);
}

void TestCatalogSnapshot::snapshotsOfEachKindAndUpstreamAreApart()
{
    ScriptedUpstream server;
    QVERIFY(server.listen());
    server.setItems(CatalogKind::Tools, json::array({tool("t")}));
    server.setItems(CatalogKind::Prompts, json::array({prompt("p")}));
    Upstream *alpha = m_upstreams.ready(QStringLiteral("alpha"), server.url());
    Upstream *beta = m_upstreams.ready(QStringLiteral("beta"), server.url());
    QVERIFY(alpha && beta);

    const auto alphaTools = fetchNow(alpha, CatalogKind::Tools);
    const auto alphaPrompts = fetchNow(alpha, CatalogKind::Prompts);
    const auto betaTools = fetchNow(beta, CatalogKind::Tools);
    QVERIFY(alphaTools && alphaTools->ok() && alphaPrompts && alphaPrompts->ok() && betaTools
            && betaTools->ok());
    QCOMPARE(alphaTools->value()->server(), QStringLiteral("alpha"));
    QCOMPARE(betaTools->value()->server(), QStringLiteral("beta"));
    QVERIFY(alphaTools->value()->revision() != betaTools->value()->revision());
    QVERIFY(alphaPrompts->value()->kind() == CatalogKind::Prompts);
    COMPARE_JSON(alphaPrompts->value()->items(), json::array({prompt("p")}));
}

QTEST_GUILESS_MAIN(TestCatalogSnapshot)
#include "tst_catalogsnapshot.moc"
