// The "policy" member of config.json (store/PolicyConfig.h): what it reads, what it refuses
// with a sentence naming the rule, and that writing it back reads the same.

#include "store/PolicyConfig.h"

#include "JsonCompare.h"

#include <QTest>

#include <nlohmann/json.hpp>

using namespace mcpbroker;
using namespace mcpbroker::store;
using json = nlohmann::json;

namespace {

// For QVERIFY2, which builds its message even when the check passes.
QString messageOf(const Result<PolicyConfig> &result)
{
    return result ? QString() : result.error().message;
}

} // namespace

class TestPolicyConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void absentPolicyGivesDefaults();
    void rulesAreReadInFileOrderWithWildcardDefaults();
    void argumentConditionsAreRead();
    void settingsAreRead();

    void invalidPolicyIsRejectedWithSentence_data();
    void invalidPolicyIsRejectedWithSentence();
    void unknownRuleMemberIsRejected();
    void unknownPolicyMemberIsRejected();
    void ruleWithoutDecisionIsRejected();

    void toJsonOmitsDefaults();
    void toJsonRoundTrips();
    void decisionNamesAreTheFileWords();
};

void TestPolicyConfig::absentPolicyGivesDefaults()
{
    for (const json &value : {json(), json::object()}) {
        const auto config = parsePolicyConfig(value);
        QVERIFY2(config, qPrintable(messageOf(config)));
        QCOMPARE(config.value(), PolicyConfig{});
        QCOMPARE(config.value().destructiveTools, PolicyDecision::Ask);
        QCOMPARE(config.value().askTimeoutSeconds, 60);
        QVERIFY(config.value().rules.isEmpty());
    }
}

void TestPolicyConfig::rulesAreReadInFileOrderWithWildcardDefaults()
{
    const auto config = parsePolicyConfig(json::parse(R"({"rules": [
        {"client": "cursor", "server": "github", "tool": "delete_*", "decision": "deny"},
        {"server": "github", "decision": "ask"},
        {"decision": "allow"}
    ]})"));
    QVERIFY2(config, qPrintable(messageOf(config)));
    const QList<PolicyRule> &rules = config.value().rules;
    QCOMPARE(rules.size(), 3);

    QCOMPARE(rules[0].client, QStringLiteral("cursor"));
    QCOMPARE(rules[0].server, QStringLiteral("github"));
    QCOMPARE(rules[0].tool, QStringLiteral("delete_*"));
    QCOMPARE(rules[0].decision, PolicyDecision::Deny);

    QCOMPARE(rules[1].client, QStringLiteral("*"));
    QCOMPARE(rules[1].server, QStringLiteral("github"));
    QCOMPARE(rules[1].tool, QStringLiteral("*"));
    QCOMPARE(rules[1].decision, PolicyDecision::Ask);

    QCOMPARE(rules[2].client, QStringLiteral("*"));
    QCOMPARE(rules[2].decision, PolicyDecision::Allow);
    QVERIFY(rules[2].arguments.isEmpty());
}

void TestPolicyConfig::argumentConditionsAreRead()
{
    const auto config = parsePolicyConfig(json::parse(R"({"rules": [
        {"server": "github", "tool": "create_issue", "decision": "allow",
         "arguments": {"repo": "myorg/*", "title": "?*"}}
    ]})"));
    QVERIFY2(config, qPrintable(messageOf(config)));
    const QList<QPair<QString, QString>> expected{
            {QStringLiteral("repo"), QStringLiteral("myorg/*")},
            {QStringLiteral("title"), QStringLiteral("?*")}};
    QCOMPARE(config.value().rules.at(0).arguments, expected);
}

void TestPolicyConfig::settingsAreRead()
{
    const auto config = parsePolicyConfig(
            json::parse(R"({"destructiveTools": "deny", "askTimeoutSeconds": 5})"));
    QVERIFY2(config, qPrintable(messageOf(config)));
    QCOMPARE(config.value().destructiveTools, PolicyDecision::Deny);
    QCOMPARE(config.value().askTimeoutSeconds, 5);

    const auto longest = parsePolicyConfig(json::parse(R"({"askTimeoutSeconds": 3600})"));
    QVERIFY(longest);
    QCOMPARE(longest.value().askTimeoutSeconds, 3600);
}

void TestPolicyConfig::invalidPolicyIsRejectedWithSentence_data()
{
    QTest::addColumn<QString>("policy");
    QTest::addColumn<QString>("message");

    QTest::newRow("not an object") << R"([])"
                                   << R"(Policy: "policy" must be an object ({ … }), not a list.)";
    QTest::newRow("rules not a list")
            << R"({"rules": {}})"
            << R"(Policy: "rules" must be a list ([ … ]), not an object.)";
    QTest::newRow("rule not an object")
            << R"({"rules": [{"decision": "deny"}, "deny"]})"
            << R"(Policy rule 2: it must be an object ({ … }), not text.)";
    QTest::newRow("unknown decision")
            << R"({"rules": [{"decision": "deny"}, {"decision": "deny"}, {"decision": "alow"}]})"
            << R"(Policy rule 3: "decision" must be allow, ask or deny, not "alow".)";
    QTest::newRow("decision in capitals")
            << R"({"rules": [{"decision": "Deny"}]})"
            << R"(Policy rule 1: "decision" must be allow, ask or deny, not "Deny".)";
    QTest::newRow("decision not text")
            << R"({"rules": [{"decision": true}]})"
            << R"(Policy rule 1: "decision" must be allow, ask or deny, not true.)";
    QTest::newRow("empty tool pattern")
            << R"({"rules": [{"tool": "", "decision": "deny"}]})"
            << R"(Policy rule 1: "tool" must not be empty; use "*" for anything.)";
    QTest::newRow("server pattern not text")
            << R"({"rules": [{"server": ["github"], "decision": "deny"}]})"
            << R"(Policy rule 1: "server" must be a pattern (text), not a list.)";
    QTest::newRow("client pattern too long")
            << QStringLiteral(R"({"rules": [{"client": "%1", "decision": "deny"}]})")
                       .arg(QString(201, QLatin1Char('a')))
            << R"(Policy rule 1: "client" is longer than 200 characters.)";
    QTest::newRow("arguments not an object")
            << R"({"rules": [{"arguments": ["repo"], "decision": "allow"}]})"
            << R"(Policy rule 1: "arguments" must be an object mapping argument names to )"
               R"(patterns, not a list.)";
    QTest::newRow("argument pattern not text")
            << R"({"rules": [{"arguments": {"count": 3}, "decision": "allow"}]})"
            << R"(Policy rule 1: "arguments.count" must be a pattern (text), not a whole number.)";
    QTest::newRow("empty argument pattern")
            << R"({"rules": [{"arguments": {"repo": ""}, "decision": "allow"}]})"
            << R"(Policy rule 1: "arguments.repo" must not be empty; use "*" for anything.)";
    QTest::newRow("empty argument name")
            << R"({"rules": [{"arguments": {"": "x"}, "decision": "allow"}]})"
            << R"(Policy rule 1: an argument name in "arguments" must have 1 to 200 characters.)";
    QTest::newRow("unknown destructiveTools")
            << R"({"destructiveTools": "never"})"
            << R"(Policy: "destructiveTools" must be allow, ask or deny, not "never".)";
    QTest::newRow("timeout too short")
            << R"({"askTimeoutSeconds": 4})"
            << R"(Policy: "askTimeoutSeconds" must be a whole number from 5 to 3600, not 4.)";
    QTest::newRow("timeout too long")
            << R"({"askTimeoutSeconds": 3601})"
            << R"(Policy: "askTimeoutSeconds" must be a whole number from 5 to 3600, not 3601.)";
    QTest::newRow("timeout fractional")
            << R"({"askTimeoutSeconds": 10.5})"
            << R"(Policy: "askTimeoutSeconds" must be a whole number from 5 to 3600, not 10.5.)";
    QTest::newRow("timeout as text")
            << R"({"askTimeoutSeconds": "60"})"
            << R"(Policy: "askTimeoutSeconds" must be a whole number from 5 to 3600, not "60".)";
}

void TestPolicyConfig::invalidPolicyIsRejectedWithSentence()
{
    QFETCH(QString, policy);
    QFETCH(QString, message);

    const auto config = parsePolicyConfig(json::parse(policy.toStdString()));
    QVERIFY(!config);
    QCOMPARE(config.error().kind, Error::Kind::InvalidInput);
    QCOMPARE(config.error().message, message);
}

void TestPolicyConfig::unknownRuleMemberIsRejected()
{
    // "tools" instead of "tool": ignoring it would turn a narrow deny into one for every tool,
    // and "argument" instead of "arguments" would turn a narrow allow into a wide one.
    for (const char *typo :
         {R"({"rules": [{"decision": "deny"}, {"tools": "x", "decision": "deny"}]})",
          R"({"rules": [{"decision": "deny"}, {"argument": {"repo": "a/*"}, "decision": "allow"}]})"}) {
        const auto config = parsePolicyConfig(json::parse(typo));
        QVERIFY(!config);
        QCOMPARE(config.error().kind, Error::Kind::InvalidInput);
        QVERIFY2(config.error().message.startsWith(
                         QStringLiteral("Policy rule 2: unknown member \"")),
                 qPrintable(config.error().message));
        QVERIFY2(config.error().message.contains(QStringLiteral("\"arguments\"")),
                 qPrintable(config.error().message));
    }
}

void TestPolicyConfig::unknownPolicyMemberIsRejected()
{
    const auto config
            = parsePolicyConfig(json::parse(R"({"rule": [{"tool": "x", "decision": "deny"}]})"));
    QVERIFY(!config);
    QCOMPARE(config.error().kind, Error::Kind::InvalidInput);
    QCOMPARE(config.error().message,
             QStringLiteral("Policy: unknown member \"rule\"; \"policy\" has \"destructiveTools\", "
                            "\"askTimeoutSeconds\" and \"rules\"."));
}

void TestPolicyConfig::ruleWithoutDecisionIsRejected()
{
    const auto config = parsePolicyConfig(json::parse(R"({"rules": [{"tool": "x"}]})"));
    QVERIFY(!config);
    QCOMPARE(config.error().message,
             QStringLiteral("Policy rule 1: it needs a \"decision\": allow, ask or deny."));
}

void TestPolicyConfig::toJsonOmitsDefaults()
{
    COMPARE_JSON(toJson(PolicyConfig{}), json::object());

    PolicyConfig config;
    PolicyRule rule;
    rule.server = QStringLiteral("github");
    rule.decision = PolicyDecision::Ask;
    config.rules.append(rule);
    COMPARE_JSON(toJson(config),
                 json::parse(R"({"rules": [{"server": "github", "decision": "ask"}]})"));
}

void TestPolicyConfig::toJsonRoundTrips()
{
    const json written = json::parse(R"({
        "destructiveTools": "deny",
        "askTimeoutSeconds": 120,
        "rules": [
            {"client": "cursor", "server": "github", "tool": "delete_*", "decision": "deny"},
            {"server": "github", "tool": "create_issue", "decision": "allow",
             "arguments": {"repo": "myorg/*", "label": "bug?"}},
            {"client": "claude-code", "decision": "ask"}
        ]
    })");
    const auto config = parsePolicyConfig(written);
    QVERIFY2(config, qPrintable(messageOf(config)));
    COMPARE_JSON(toJson(config.value()), written);

    const auto again = parsePolicyConfig(toJson(config.value()));
    QVERIFY(again);
    QCOMPARE(again.value(), config.value());
}

void TestPolicyConfig::decisionNamesAreTheFileWords()
{
    QCOMPARE(decisionName(PolicyDecision::Allow), QStringLiteral("allow"));
    QCOMPARE(decisionName(PolicyDecision::Ask), QStringLiteral("ask"));
    QCOMPARE(decisionName(PolicyDecision::Deny), QStringLiteral("deny"));
}

QTEST_APPLESS_MAIN(TestPolicyConfig)
#include "tst_policyconfig.moc"
