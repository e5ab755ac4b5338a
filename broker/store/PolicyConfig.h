#pragma once

#include "Result.h"

#include <QList>
#include <QPair>
#include <QString>

#include <nlohmann/json.hpp>

// Which tools each local client may call, from the "policy" member of config.json:
//
//   "policy": {
//     "destructiveTools": "ask",   // optional; what a tool annotated destructiveHint (and not
//                                  //   readOnlyHint) gets when no rule matches it: "allow",
//                                  //   "ask" (default) or "deny"
//     "askTimeoutSeconds": 60,     // optional; how long an "ask" waits for the user, 5-3600
//     "rules": [                   // optional; first matching rule wins
//       {"client": "cursor", "server": "github", "tool": "delete_*", "decision": "deny"},
//       {"server": "github", "tool": "create_issue", "decision": "allow",
//        "arguments": {"repo": "myorg/*"}},
//       {"server": "github", "decision": "ask"}
//     ]
//   }
//
// "client", "server" and "tool" are patterns (default "*") where '*' matches any run of
// characters and '?' one character; every other character matches itself, case-sensitively.
// "arguments" maps a top-level argument name to a pattern its text value must match.
// A member this version does not know is an error, never ignored: a typo ("rule", "tools")
// must not silently widen what a client may do.
namespace mcpbroker::store {

enum class PolicyDecision { Allow, Ask, Deny };

struct PolicyRule
{
    QString client = QStringLiteral("*");
    QString server = QStringLiteral("*");
    QString tool = QStringLiteral("*");
    PolicyDecision decision = PolicyDecision::Deny; // required in the file; fail closed in code
    QList<QPair<QString, QString>> arguments;       // argument name -> pattern, all must match

    bool operator==(const PolicyRule &) const = default;
};

struct PolicyConfig
{
    static constexpr int kDefaultAskTimeoutSeconds = 60;
    static constexpr int kMinAskTimeoutSeconds = 5;
    static constexpr int kMaxAskTimeoutSeconds = 3600;
    static constexpr int kMaxPatternLength = 200;

    PolicyDecision destructiveTools = PolicyDecision::Ask;
    int askTimeoutSeconds = kDefaultAskTimeoutSeconds;
    QList<PolicyRule> rules;

    bool operator==(const PolicyConfig &) const = default;
};

// `value` is the "policy" member; null means the defaults. Errors are InvalidInput sentences
// naming the rule by its 1-based position ("Policy rule 3: …").
Result<PolicyConfig> parsePolicyConfig(const nlohmann::json &value);
// What parsePolicyConfig reads back to `config`, leaving out defaults.
nlohmann::json toJson(const PolicyConfig &config);
QString decisionName(PolicyDecision decision); // "allow", "ask", "deny"

} // namespace mcpbroker::store
