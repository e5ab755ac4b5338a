// ToolAccess: what the approval dialog shows of a call's arguments (argumentsSummary); which
// annotations a call is decided by (check), from the catalog of a real gateway::Upstream session
// to an in-process upstream whose catalog the test changes (ScriptedUpstream); and the key of
// its tools/list filter.

#include "gateway/ToolAccess.h"
#include "gateway/Upstream.h"

#include "JsonCompare.h"
#include "ScriptedUpstream.h"
#include "UpstreamSessions.h"

#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <optional>

using namespace mcpbroker::gateway;
using mcpbroker::store::PolicyConfig;
using mcpbroker::store::PolicyDecision;
using mcpbroker::store::PolicyRule;
using nlohmann::json;

namespace {

constexpr int kWaitMs = 20'000;

json tool(const char *name, json annotations = nullptr)
{
    return ScriptedUpstream::tool(name, std::move(annotations));
}

const json kDestructive = {{"destructiveHint", true}};
const json kReadOnly = {{"readOnlyHint", true}, {"destructiveHint", true}};

// Destructive tools are denied; `denied` (if any) by a rule as well.
ToolPolicy denyingDestructiveTools(const QString &denied = {})
{
    PolicyConfig config;
    config.destructiveTools = PolicyDecision::Deny;
    if (!denied.isEmpty()) {
        PolicyRule rule;
        rule.tool = denied;
        rule.decision = PolicyDecision::Deny;
        config.rules.append(rule);
    }
    return ToolPolicy(config);
}

bool isAllowed(const std::optional<ToolAccess::Clearance> &clearance)
{
    return clearance && clearance->allowed;
}

bool isDenied(const std::optional<ToolAccess::Clearance> &clearance)
{
    return clearance && !clearance->allowed;
}

mcpbroker::mcp::SessionOwner owner(const QString &client)
{
    mcpbroker::mcp::SessionOwner made;
    made.grantId = QStringLiteral("grant-") + client;
    made.clientName = client;
    return made;
}

} // namespace

class TestToolAccess : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void summaryNamesEachArgumentWithItsJsonValue()
    {
        const json arguments = {{"path", "/tmp/a b"},
                                {"force", true},
                                {"depth", 3},
                                {"tags", json::array({"x", "y"})}};
        QCOMPARE(ToolAccess::argumentsSummary(arguments),
                 QStringLiteral("depth: 3, force: true, path: \"/tmp/a b\", tags: [\"x\",\"y\"]"));
    }

    void noArgumentsGiveAnEmptySummary()
    {
        QCOMPARE(ToolAccess::argumentsSummary(json()), QString());
        QCOMPARE(ToolAccess::argumentsSummary(json::object()), QString());
    }

    void longValuesAndLongSummariesAreCut()
    {
        const QString summary = ToolAccess::argumentsSummary(
                {{"text", std::string(500, 'a')}, {"more", std::string(500, 'b')}});
        QVERIFY(summary.size() <= ToolAccess::kMaxSummaryLength);
        QVERIFY(summary.contains(QChar(0x2026)));
        QVERIFY(summary.startsWith(QStringLiteral("more: \"bbb")));
        QVERIFY(summary.contains(QStringLiteral("text: \"aaa")));

        json wide = json::object();
        for (int i = 0; i < 50; ++i)
            wide["argument" + std::to_string(i)] = i;
        const QString cut = ToolAccess::argumentsSummary(wide);
        QCOMPARE(cut.size(), ToolAccess::kMaxSummaryLength);
        QVERIFY(cut.endsWith(QChar(0x2026)));
    }

    void invalidUtf8IsReplacedNotThrown()
    {
        const json arguments = {{"bytes", std::string("ok\xff\xfe")}};
        QVERIFY(ToolAccess::argumentsSummary(arguments).startsWith(QStringLiteral("bytes: \"ok")));
    }

    void initTestCase();
    void cleanup();
    void checkDecidesByTheAnnotationsTheUpstreamListed();
    void checkFollowsTheCatalogOnceTheUpstreamAnnouncedAChange();
    void checkWithoutTheUpstreamsCatalogAppliesTheRulesAlone();
    void listFilterKeyNamesThePolicyAndTheClient();
    void listFilterOfAGoneToolAccessShowsEverythingAndKeepsNothing();

private:
    // The clearance check() gave for `tool`; nullopt when it did not answer.
    std::optional<ToolAccess::Clearance> checkNow(ToolAccess &access, Upstream *upstream,
                                                  const char *tool);

    UpstreamSessions m_upstreams;
};

void TestToolAccess::initTestCase()
{
    UpstreamSessions::prepare();
}

void TestToolAccess::cleanup()
{
    m_upstreams.clear();
}

std::optional<ToolAccess::Clearance> TestToolAccess::checkNow(ToolAccess &access,
                                                              Upstream *upstream, const char *tool)
{
    auto clearance = std::make_shared<std::optional<ToolAccess::Clearance>>();
    access.check(owner(QStringLiteral("c")), upstream, QString::fromLatin1(tool), json::object(),
                 [clearance](ToolAccess::Clearance answer) { *clearance = std::move(answer); });
    if (!QTest::qWaitFor([&] { return clearance->has_value(); }, kWaitMs))
        qWarning() << "check() did not answer";
    return *clearance;
}

void TestToolAccess::checkDecidesByTheAnnotationsTheUpstreamListed()
{
    ScriptedUpstream server;
    QVERIFY(server.listen());
    server.setItems(
            CatalogKind::Tools,
            json::array({tool("drop", kDestructive), tool("read", kReadOnly), tool("plain")}));
    Upstream *upstream = m_upstreams.ready(QStringLiteral("up"), server.url());
    QVERIFY(upstream);
    ToolAccess access(nullptr, nullptr);
    access.setPolicy(denyingDestructiveTools());

    for (int round = 0; round < 2; ++round) { // the second from the same snapshot
        const auto drop = checkNow(access, upstream, "drop");
        QVERIFY(drop);
        QVERIFY(!drop->allowed);
        QCOMPARE(drop->decision, QStringLiteral("deny"));
        QVERIFY2(drop->reason.contains(QStringLiteral("marked destructive")),
                 qPrintable(drop->reason));
        for (const char *allowed : {"read", "plain", "unknown"}) {
            const auto clearance = checkNow(access, upstream, allowed);
            QVERIFY(clearance);
            QVERIFY2(clearance->allowed, allowed);
            QCOMPARE(clearance->decision, QStringLiteral("allow"));
        }
    }
}

void TestToolAccess::checkFollowsTheCatalogOnceTheUpstreamAnnouncedAChange()
{
    ScriptedUpstream server;
    QVERIFY(server.listen());
    server.setItems(CatalogKind::Tools, json::array({tool("drop", kDestructive), tool("plain")}));
    Upstream *upstream = m_upstreams.ready(QStringLiteral("up"), server.url());
    QVERIFY(upstream);
    ToolAccess access(nullptr, nullptr);
    access.setPolicy(denyingDestructiveTools());
    QVERIFY(isDenied(checkNow(access, upstream, "drop")));
    QVERIFY(isAllowed(checkNow(access, upstream, "plain")));

    // The upstream swaps the hints: the next calls are decided by the new ones.
    server.setItems(CatalogKind::Tools,
                    json::array({tool("drop", kReadOnly), tool("plain", kDestructive)}));
    QTRY_VERIFY_WITH_TIMEOUT(server.hasListener(), kWaitMs);
    QSignalSpy changed(upstream, &Upstream::catalogChanged);
    QVERIFY(server.announce(CatalogKind::Tools));
    QTRY_VERIFY_WITH_TIMEOUT(!changed.isEmpty(), kWaitMs);
    QVERIFY(isAllowed(checkNow(access, upstream, "drop")));
    QVERIFY(isDenied(checkNow(access, upstream, "plain")));
}

void TestToolAccess::checkWithoutTheUpstreamsCatalogAppliesTheRulesAlone()
{
    // The upstream cannot be listed: its annotations are unknown, its rules still apply.
    Upstream *upstream
            = m_upstreams.failed(QStringLiteral("locked"), QStringLiteral("Keychain locked."));
    ToolAccess access(nullptr, nullptr);
    access.setPolicy(denyingDestructiveTools(QStringLiteral("delete_*")));

    const auto drop = checkNow(access, upstream, "drop");
    QVERIFY(drop);
    QVERIFY(drop->allowed);
    const auto deleting = checkNow(access, upstream, "delete_repo");
    QVERIFY(deleting);
    QVERIFY(!deleting->allowed);
    QVERIFY2(deleting->reason.contains(QStringLiteral("rule 1")), qPrintable(deleting->reason));
}

void TestToolAccess::listFilterKeyNamesThePolicyAndTheClient()
{
    ToolAccess access(nullptr, nullptr);
    const auto cursor = owner(QStringLiteral("cursor"));
    const auto claude = owner(QStringLiteral("claude"));
    const QString first = access.listFilter(cursor).key();
    QVERIFY(!first.isEmpty());
    QCOMPARE(access.listFilter(cursor).key(), first);
    QVERIFY(access.listFilter(claude).key() != first);

    // The same policy again (the config changed elsewhere) keeps the key.
    access.setPolicy(ToolPolicy());
    QCOMPARE(access.listFilter(cursor).key(), first);
    access.setPolicy(denyingDestructiveTools());
    const QString second = access.listFilter(cursor).key();
    QVERIFY(second != first);
    access.setPolicy(denyingDestructiveTools());
    QCOMPARE(access.listFilter(cursor).key(), second);
    // Back to the first policy: a new key all the same (lists are kept by key only).
    access.setPolicy(ToolPolicy());
    QVERIFY(access.listFilter(cursor).key() != first);
    QVERIFY(access.listFilter(cursor).key() != second);

    // Another ToolAccess with the same policy never shares a key.
    ToolAccess other(nullptr, nullptr);
    QVERIFY(other.listFilter(cursor).key() != access.listFilter(cursor).key());

    // The filter is isVisible under the policy of the moment.
    access.setPolicy(denyingDestructiveTools());
    const auto filter = access.listFilter(cursor);
    QVERIFY(filter(QStringLiteral("s"), tool("plain")));
    QVERIFY(!filter(QStringLiteral("s"), tool("drop", kDestructive)));
    access.setPolicy(ToolPolicy());
    QVERIFY(filter(QStringLiteral("s"), tool("drop", kDestructive)));
}

void TestToolAccess::listFilterOfAGoneToolAccessShowsEverythingAndKeepsNothing()
{
    auto access = std::make_unique<ToolAccess>(nullptr, nullptr);
    access->setPolicy(denyingDestructiveTools());
    const CatalogFilter filter = access->listFilter(owner(QStringLiteral("c")));
    QVERIFY(!filter(QStringLiteral("s"), tool("drop", kDestructive)));
    access.reset();
    QVERIFY(filter(QStringLiteral("s"), tool("drop", kDestructive)));
    QVERIFY(filter.key().isEmpty());
}

QTEST_GUILESS_MAIN(TestToolAccess)
#include "tst_toolaccess.moc"
