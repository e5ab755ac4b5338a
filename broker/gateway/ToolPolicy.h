#pragma once

#include "store/PolicyConfig.h"

#include <QString>
#include <QStringView>

#include <nlohmann/json.hpp>

namespace mcpbroker::gateway {

// Whole-string, case-sensitive match where '*' matches any run of characters (also none) and
// '?' exactly one character (a code point); every other character matches itself. Linear
// memory and at worst pattern × text steps: no regex, no exponential backtracking.
bool globMatches(QStringView pattern, QStringView text);

struct PolicyVerdict
{
    store::PolicyDecision decision = store::PolicyDecision::Allow;
    // One sentence for the audit log and a refused call. Names rules, tools and argument
    // names, never an argument's value: values may be secrets.
    QString reason;
};

// Decides whether a local client may call one upstream tool (store/PolicyConfig.h): rules in
// file order, the first that matches wins; without one a tool is allowed, unless it is
// destructive, then it gets `destructiveTools`. No state, no Qt objects: cheap to copy and to
// replace when the config changes.
class ToolPolicy
{
public:
    explicit ToolPolicy(store::PolicyConfig config = {});

    // `annotations`: the tool's annotations from the upstream's tools/list (null if unknown);
    // `arguments`: the tools/call arguments.
    PolicyVerdict decide(const QString &client, const QString &server, const QString &tool,
                         const nlohmann::json &annotations, const nlohmann::json &arguments) const;
    // Whether tools/list shows the tool to the client: false only when every call of it would
    // be denied, so a tool that some arguments may call stays listed.
    bool isVisible(const QString &client, const QString &server, const QString &tool,
                   const nlohmann::json &annotations) const;
    int askTimeoutMs() const;
    const store::PolicyConfig &config() const { return m_config; }

private:
    store::PolicyConfig m_config;
};

} // namespace mcpbroker::gateway
