// Per-tool policy for local clients (gateway/ToolPolicy.h): which rule decides a call, what a
// destructive tool gets by default, which tools a client's tools/list hides, and reasons that
// never repeat an argument's value.

#include "gateway/ToolPolicy.h"

#include <QTest>

#include <nlohmann/json.hpp>

using namespace mcpbroker;
using namespace mcpbroker::gateway;
using store::PolicyConfig;
using store::PolicyDecision;
using store::PolicyRule;
using json = nlohmann::json;

namespace {

PolicyRule rule(const QString &client, const QString &server, const QString &tool,
                PolicyDecision decision, QList<QPair<QString, QString>> arguments = {})
{
    PolicyRule made;
    made.client = client;
    made.server = server;
    made.tool = tool;
    made.decision = decision;
    made.arguments = std::move(arguments);
    return made;
}

ToolPolicy policy(QList<PolicyRule> rules, PolicyDecision destructiveTools = PolicyDecision::Ask)
{
    PolicyConfig config;
    config.rules = std::move(rules);
    config.destructiveTools = destructiveTools;
    return ToolPolicy(std::move(config));
}

const json kDestructive = json::parse(R"({"destructiveHint": true})");
const json kNoArguments = json::object();

const QString kCursor = QStringLiteral("cursor");
const QString kGithub = QStringLiteral("github");

} // namespace

Q_DECLARE_METATYPE(mcpbroker::store::PolicyDecision)

class TestToolPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void globMatches_data();
    void globMatches();
    void globMatchingStaysFastOnPathologicalPatterns();

    void withoutRulesToolsAreAllowed();
    void firstMatchingRuleWins();
    void ruleMatchesClientServerAndToolCaseSensitively();
    void argumentRuleMatchesOnlyStringValues();
    void everyArgumentConditionMustMatch();

    void destructiveToolDefaultsToAsk();
    void destructiveToolsFollowTheirSetting_data();
    void destructiveToolsFollowTheirSetting();
    void readOnlyHintOverridesDestructiveHint();
    void missingAnnotationsAreNotDestructive();
    void ruleOverridesTheDestructiveDefault();

    void reasonNamesTheRuleThatDecided();
    void reasonNeverContainsArgumentValues();

    void deniedToolIsHiddenButArgumentConditionalAllowKeepsItVisible();
    void argumentConditionalDenyDoesNotHideTheTool();
    void deniedDestructiveDefaultHidesTheTool();
    void visibilityIsPerClient();

    void askTimeoutIsInMilliseconds();
};

void TestToolPolicy::globMatches_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("matches");

    QTest::newRow("literal") << "search"
                             << "search" << true;
    QTest::newRow("literal is whole string") << "search"
                                             << "search_code" << false;
    QTest::newRow("literal prefix only") << "search_code"
                                         << "search" << false;
    QTest::newRow("case-sensitive") << "Search"
                                    << "search" << false;
    QTest::newRow("star alone") << "*"
                                << "anything at all" << true;
    QTest::newRow("star matches empty") << "*"
                                        << "" << true;
    QTest::newRow("empty pattern, empty text") << ""
                                               << "" << true;
    QTest::newRow("empty pattern, some text") << ""
                                              << "x" << false;
    QTest::newRow("prefix star") << "delete_*"
                                 << "delete_repo" << true;
    QTest::newRow("prefix star, empty rest") << "delete_*"
                                             << "delete_" << true;
    QTest::newRow("prefix star, other tool") << "delete_*"
                                             << "create_repo" << false;
    QTest::newRow("suffix star") << "*_issue"
                                 << "create_issue" << true;
    QTest::newRow("middle star") << "myorg/*/main"
                                 << "myorg/repo/main" << true;
    QTest::newRow("middle star needs suffix") << "myorg/*/main"
                                              << "myorg/repo/dev" << false;
    QTest::newRow("star crosses slashes") << "myorg/*"
                                          << "myorg/a/b/c" << true;
    QTest::newRow("star must backtrack") << "*ab"
                                         << "aab" << true;
    QTest::newRow("several stars") << "*a*b*c*"
                                   << "xxaxxbxxcxx" << true;
    QTest::newRow("several stars, wrong order") << "*a*b*c*"
                                                << "cba" << false;
    QTest::newRow("question mark") << "v?"
                                   << "v1" << true;
    QTest::newRow("question mark needs one") << "v?"
                                             << "v" << false;
    QTest::newRow("question mark only one") << "v?"
                                            << "v12" << false;
    QTest::newRow("question then star") << "?*"
                                        << "" << false;
    QTest::newRow("question then star, one char") << "?*"
                                                  << "x" << true;
    QTest::newRow("brackets are literal") << "[ab]"
                                          << "[ab]" << true;
    QTest::newRow("brackets are not a class") << "[ab]"
                                              << "a" << false;
    QTest::newRow("regex dot is literal") << "a.c"
                                          << "abc" << false;
    QTest::newRow("question mark takes a whole emoji")
            << "?" << QString::fromUtf8("\xf0\x9f\x98\x80") << true;
    QTest::newRow("two question marks need two characters")
            << "??" << QString::fromUtf8("\xf0\x9f\x98\x80") << false;
    QTest::newRow("non-ASCII literal") << QString::fromUtf8("caf\xc3\xa9*")
                                       << QString::fromUtf8("caf\xc3\xa9 au lait") << true;
}

void TestToolPolicy::globMatches()
{
    QFETCH(QString, pattern);
    QFETCH(QString, text);
    QFETCH(bool, matches);
    QCOMPARE(gateway::globMatches(pattern, text), matches);
}

void TestToolPolicy::globMatchingStaysFastOnPathologicalPatterns()
{
    // A backtracking matcher takes exponential time on this; ours at most pattern × text.
    const QString pattern = QStringLiteral("*a").repeated(100) + QStringLiteral("b");
    const QString text = QString(10'000, QLatin1Char('a'));
    QElapsedTimer timer;
    timer.start();
    QVERIFY(!gateway::globMatches(pattern, text));
    QVERIFY2(timer.elapsed() < 2'000, qPrintable(QString::number(timer.elapsed())));
}

void TestToolPolicy::withoutRulesToolsAreAllowed()
{
    const ToolPolicy none;
    const PolicyVerdict verdict
            = none.decide(kCursor, kGithub, QStringLiteral("search"), json(), kNoArguments);
    QCOMPARE(verdict.decision, PolicyDecision::Allow);
    QCOMPARE(verdict.reason,
             QStringLiteral("No policy rule applies to tool 'search' on server 'github'; it is "
                            "allowed."));
    QVERIFY(none.isVisible(kCursor, kGithub, QStringLiteral("search"), json()));
}

void TestToolPolicy::firstMatchingRuleWins()
{
    const ToolPolicy rules = policy({
            rule("*", "github", "delete_repo", PolicyDecision::Allow),
            rule("*", "github", "delete_*", PolicyDecision::Deny),
            rule("*", "*", "*", PolicyDecision::Ask),
    });
    const auto decide = [&](const QString &tool) {
        return rules.decide(kCursor, kGithub, tool, json(), kNoArguments).decision;
    };
    QCOMPARE(decide(QStringLiteral("delete_repo")), PolicyDecision::Allow);
    QCOMPARE(decide(QStringLiteral("delete_branch")), PolicyDecision::Deny);
    QCOMPARE(decide(QStringLiteral("search")), PolicyDecision::Ask);
}

void TestToolPolicy::ruleMatchesClientServerAndToolCaseSensitively()
{
    const ToolPolicy rules = policy({rule("cursor", "github", "push", PolicyDecision::Deny)});
    const auto decide = [&](const QString &client, const QString &server, const QString &tool) {
        return rules.decide(client, server, tool, json(), kNoArguments).decision;
    };
    QCOMPARE(decide(kCursor, kGithub, QStringLiteral("push")), PolicyDecision::Deny);
    QCOMPARE(decide(QStringLiteral("claude-code"), kGithub, QStringLiteral("push")),
             PolicyDecision::Allow);
    QCOMPARE(decide(kCursor, QStringLiteral("gitlab"), QStringLiteral("push")),
             PolicyDecision::Allow);
    QCOMPARE(decide(kCursor, kGithub, QStringLiteral("Push")), PolicyDecision::Allow);
    QCOMPARE(decide(kCursor, kGithub, QStringLiteral("push_files")), PolicyDecision::Allow);
}

void TestToolPolicy::argumentRuleMatchesOnlyStringValues()
{
    const ToolPolicy rules = policy({
            rule("*", "github", "create_issue", PolicyDecision::Allow,
                 {{QStringLiteral("repo"), QStringLiteral("myorg/*")}}),
            rule("*", "github", "create_issue", PolicyDecision::Deny),
    });
    const auto decide = [&](const json &arguments) {
        return rules.decide(kCursor, kGithub, QStringLiteral("create_issue"), json(), arguments)
                .decision;
    };
    QCOMPARE(decide(json::parse(R"({"repo": "myorg/app"})")), PolicyDecision::Allow);
    QCOMPARE(decide(json::parse(R"({"repo": "otherorg/app"})")), PolicyDecision::Deny);
    // Values that are not text never meet a condition, whatever they would print as.
    QCOMPARE(decide(json::parse(R"({"repo": ["myorg/app"]})")), PolicyDecision::Deny);
    QCOMPARE(decide(json::parse(R"({"repo": {"name": "myorg/app"}})")), PolicyDecision::Deny);
    QCOMPARE(decide(json::parse(R"({"repo": 42})")), PolicyDecision::Deny);
    QCOMPARE(decide(json::parse(R"({"repo": null})")), PolicyDecision::Deny);
    // Missing, or nested deeper than the top level.
    QCOMPARE(decide(kNoArguments), PolicyDecision::Deny);
    QCOMPARE(decide(json()), PolicyDecision::Deny);
    QCOMPARE(decide(json::parse(R"({"options": {"repo": "myorg/app"}})")), PolicyDecision::Deny);
    QCOMPARE(decide(json::parse(R"(["myorg/app"])")), PolicyDecision::Deny);
}

void TestToolPolicy::everyArgumentConditionMustMatch()
{
    const ToolPolicy rules = policy({rule("*", "*", "*", PolicyDecision::Deny,
                                          {{QStringLiteral("repo"), QStringLiteral("prod/*")},
                                           {QStringLiteral("branch"), QStringLiteral("main")}})});
    const auto decide = [&](const char *arguments) {
        return rules
                .decide(kCursor, kGithub, QStringLiteral("push"), json(), json::parse(arguments))
                .decision;
    };
    QCOMPARE(decide(R"({"repo": "prod/api", "branch": "main"})"), PolicyDecision::Deny);
    QCOMPARE(decide(R"({"repo": "prod/api", "branch": "dev"})"), PolicyDecision::Allow);
    QCOMPARE(decide(R"({"repo": "test/api", "branch": "main"})"), PolicyDecision::Allow);
    QCOMPARE(decide(R"({"repo": "prod/api"})"), PolicyDecision::Allow);
}

void TestToolPolicy::destructiveToolDefaultsToAsk()
{
    const ToolPolicy defaults;
    const PolicyVerdict verdict = defaults.decide(kCursor, kGithub, QStringLiteral("delete_repo"),
                                                  kDestructive, kNoArguments);
    QCOMPARE(verdict.decision, PolicyDecision::Ask);
    QCOMPARE(verdict.reason,
             QStringLiteral("Tool 'delete_repo' on server 'github' is marked destructive; "
                            "destructive tools need your approval."));
    QVERIFY(defaults.isVisible(kCursor, kGithub, QStringLiteral("delete_repo"), kDestructive));
}

void TestToolPolicy::destructiveToolsFollowTheirSetting_data()
{
    QTest::addColumn<PolicyDecision>("setting");
    QTest::addColumn<QString>("reasonEnd");

    QTest::newRow("allow") << PolicyDecision::Allow << "destructive tools are allowed by policy.";
    QTest::newRow("ask") << PolicyDecision::Ask << "destructive tools need your approval.";
    QTest::newRow("deny") << PolicyDecision::Deny << "destructive tools are denied by policy.";
}

void TestToolPolicy::destructiveToolsFollowTheirSetting()
{
    QFETCH(PolicyDecision, setting);
    QFETCH(QString, reasonEnd);

    const ToolPolicy rules = policy({}, setting);
    const PolicyVerdict verdict = rules.decide(kCursor, kGithub, QStringLiteral("delete_repo"),
                                               kDestructive, kNoArguments);
    QCOMPARE(verdict.decision, setting);
    QVERIFY2(verdict.reason.endsWith(reasonEnd), qPrintable(verdict.reason));
    // Tools not marked destructive are untouched by the setting.
    QCOMPARE(
            rules.decide(kCursor, kGithub, QStringLiteral("search"), json(), kNoArguments).decision,
            PolicyDecision::Allow);
}

void TestToolPolicy::readOnlyHintOverridesDestructiveHint()
{
    const ToolPolicy denying = policy({}, PolicyDecision::Deny);
    const json annotations = json::parse(R"({"destructiveHint": true, "readOnlyHint": true})");
    QCOMPARE(denying.decide(kCursor, kGithub, QStringLiteral("get_repo"), annotations, kNoArguments)
                     .decision,
             PolicyDecision::Allow);
    QVERIFY(denying.isVisible(kCursor, kGithub, QStringLiteral("get_repo"), annotations));

    // readOnlyHint false is no exemption.
    const json notReadOnly = json::parse(R"({"destructiveHint": true, "readOnlyHint": false})");
    QCOMPARE(denying.decide(kCursor, kGithub, QStringLiteral("drop"), notReadOnly, kNoArguments)
                     .decision,
             PolicyDecision::Deny);
}

void TestToolPolicy::missingAnnotationsAreNotDestructive()
{
    // The MCP spec defaults destructiveHint to true; we take only an explicit hint.
    const ToolPolicy denying = policy({}, PolicyDecision::Deny);
    for (const json &annotations :
         {json(), json::object(), json::parse(R"({"destructiveHint": false})"),
          json::parse(R"({"destructiveHint": "true"})"), json::parse(R"({"title": "Drop"})"),
          json::parse(R"([{"destructiveHint": true}])")}) {
        QCOMPARE(denying.decide(kCursor, kGithub, QStringLiteral("drop"), annotations, kNoArguments)
                         .decision,
                 PolicyDecision::Allow);
        QVERIFY(denying.isVisible(kCursor, kGithub, QStringLiteral("drop"), annotations));
    }
}

void TestToolPolicy::ruleOverridesTheDestructiveDefault()
{
    const ToolPolicy rules = policy({rule("*", "github", "delete_branch", PolicyDecision::Allow)},
                                    PolicyDecision::Deny);
    QCOMPARE(rules.decide(kCursor, kGithub, QStringLiteral("delete_branch"), kDestructive,
                          kNoArguments)
                     .decision,
             PolicyDecision::Allow);
    QCOMPARE(rules.decide(kCursor, kGithub, QStringLiteral("delete_repo"), kDestructive,
                          kNoArguments)
                     .decision,
             PolicyDecision::Deny);
}

void TestToolPolicy::reasonNamesTheRuleThatDecided()
{
    const ToolPolicy rules = policy({
            rule("*", "gitlab", "*", PolicyDecision::Allow),
            rule("cursor", "github", "delete_*", PolicyDecision::Deny),
            rule("*", "github", "create_issue", PolicyDecision::Allow,
                 {{QStringLiteral("repo"), QStringLiteral("myorg/*")}}),
            rule("*", "github", "*", PolicyDecision::Ask),
            rule("*", "*", "*", PolicyDecision::Deny),
    });
    const auto reason = [&](const QString &server, const QString &tool, const char *arguments) {
        return rules.decide(kCursor, server, tool, json(), json::parse(arguments)).reason;
    };
    QCOMPARE(reason(kGithub, QStringLiteral("delete_repo"), "{}"),
             QStringLiteral("Denied by policy rule 2 (client 'cursor', server 'github', tool "
                            "'delete_*')."));
    QCOMPARE(reason(kGithub, QStringLiteral("create_issue"), R"({"repo": "myorg/x"})"),
             QStringLiteral("Allowed by policy rule 3 (server 'github', tool 'create_issue', "
                            "argument 'repo')."));
    QCOMPARE(reason(kGithub, QStringLiteral("search"), "{}"),
             QStringLiteral("Policy rule 4 (server 'github') asks for your approval."));
    QCOMPARE(reason(QStringLiteral("jira"), QStringLiteral("search"), "{}"),
             QStringLiteral("Denied by policy rule 5 (every tool)."));
}

void TestToolPolicy::reasonNeverContainsArgumentValues()
{
    const QString secret = QStringLiteral("ghp_s3cr3tT0kenValue1234567890");
    const json arguments = {{"token", secret.toStdString()}, {"repo", "myorg/app"}};
    const ToolPolicy rules = policy({
            rule("*", "*", "create_issue", PolicyDecision::Ask,
                 {{QStringLiteral("token"), QStringLiteral("ghp_*")},
                  {QStringLiteral("repo"), QStringLiteral("myorg/*")}}),
            rule("*", "*", "delete_*", PolicyDecision::Deny),
    });
    for (const QString &tool : {QStringLiteral("create_issue"), QStringLiteral("delete_repo"),
                                QStringLiteral("search")}) {
        for (const json &annotations : {json(), kDestructive}) {
            const QString reason
                    = rules.decide(kCursor, kGithub, tool, annotations, arguments).reason;
            QVERIFY(!reason.isEmpty());
            QVERIFY2(!reason.contains(secret), qPrintable(reason));
            QVERIFY2(!reason.contains(QStringLiteral("s3cr3t")), qPrintable(reason));
            QVERIFY2(!reason.contains(QStringLiteral("myorg/app")), qPrintable(reason));
        }
    }
    // The argument names are fine to show.
    QCOMPARE(rules.decide(kCursor, kGithub, QStringLiteral("create_issue"), json(), arguments)
                     .reason,
             QStringLiteral("Policy rule 1 (tool 'create_issue', arguments 'token', 'repo') asks "
                            "for your approval."));
}

void TestToolPolicy::deniedToolIsHiddenButArgumentConditionalAllowKeepsItVisible()
{
    const ToolPolicy rules = policy({
            rule("*", "github", "create_issue", PolicyDecision::Allow,
                 {{QStringLiteral("repo"), QStringLiteral("myorg/*")}}),
            rule("*", "github", "*", PolicyDecision::Deny),
    });
    QVERIFY(!rules.isVisible(kCursor, kGithub, QStringLiteral("delete_repo"), json()));
    QVERIFY(!rules.isVisible(kCursor, kGithub, QStringLiteral("search"), json()));
    QVERIFY(rules.isVisible(kCursor, kGithub, QStringLiteral("create_issue"), json()));
    QVERIFY(rules.isVisible(kCursor, QStringLiteral("gitlab"), QStringLiteral("search"), json()));

    // An ask with conditions keeps it visible too.
    const ToolPolicy asking = policy({
            rule("*", "github", "push", PolicyDecision::Ask,
                 {{QStringLiteral("branch"), QStringLiteral("feature/*")}}),
            rule("*", "github", "push", PolicyDecision::Deny),
    });
    QVERIFY(asking.isVisible(kCursor, kGithub, QStringLiteral("push"), json()));
}

void TestToolPolicy::argumentConditionalDenyDoesNotHideTheTool()
{
    const ToolPolicy rules = policy({
            rule("*", "github", "push", PolicyDecision::Deny,
                 {{QStringLiteral("branch"), QStringLiteral("main")}}),
            rule("*", "github", "merge", PolicyDecision::Deny,
                 {{QStringLiteral("branch"), QStringLiteral("main")}}),
            rule("*", "github", "merge", PolicyDecision::Deny),
    });
    // Only some pushes are denied: the rest fall through to the default, allow.
    QVERIFY(rules.isVisible(kCursor, kGithub, QStringLiteral("push"), json()));
    // The walk goes on past a conditional deny to a rule that denies every merge.
    QVERIFY(!rules.isVisible(kCursor, kGithub, QStringLiteral("merge"), json()));
}

void TestToolPolicy::deniedDestructiveDefaultHidesTheTool()
{
    const ToolPolicy rules = policy({rule("*", "github", "delete_branch", PolicyDecision::Ask)},
                                    PolicyDecision::Deny);
    QVERIFY(!rules.isVisible(kCursor, kGithub, QStringLiteral("delete_repo"), kDestructive));
    QVERIFY(rules.isVisible(kCursor, kGithub, QStringLiteral("delete_branch"), kDestructive));
    QVERIFY(rules.isVisible(kCursor, kGithub, QStringLiteral("search"), json()));
}

void TestToolPolicy::visibilityIsPerClient()
{
    const ToolPolicy rules = policy({rule("cursor", "*", "*", PolicyDecision::Deny)});
    QVERIFY(!rules.isVisible(kCursor, kGithub, QStringLiteral("search"), json()));
    QVERIFY(rules.isVisible(QStringLiteral("claude-code"), kGithub, QStringLiteral("search"),
                            json()));
}

void TestToolPolicy::askTimeoutIsInMilliseconds()
{
    QCOMPARE(ToolPolicy().askTimeoutMs(), 60'000);
    PolicyConfig config;
    config.askTimeoutSeconds = 5;
    QCOMPARE(ToolPolicy(config).askTimeoutMs(), 5'000);
}

QTEST_APPLESS_MAIN(TestToolPolicy)
#include "tst_toolpolicy.moc"
