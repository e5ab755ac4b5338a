#include "gateway/ToolPolicy.h"

#include <QStringList>

namespace mcpbroker::gateway {

namespace {

using json = nlohmann::json;
using store::PolicyDecision;
using store::PolicyRule;

// Code units of the character at `index`: 2 for a surrogate pair, so '?' and '*' never split
// one character in two.
qsizetype characterLength(QStringView text, qsizetype index)
{
    return index + 1 < text.size() && text.at(index).isHighSurrogate()
                    && text.at(index + 1).isLowSurrogate()
            ? 2
            : 1;
}

// The spec defaults destructiveHint to true when a tool has no annotations; taking that
// literally would put nearly every tool behind a prompt, so only an explicit hint counts.
bool isDestructive(const json &annotations)
{
    if (!annotations.is_object())
        return false;
    const auto destructive = annotations.find("destructiveHint");
    const auto readOnly = annotations.find("readOnlyHint");
    const bool isReadOnly = readOnly != annotations.end() && *readOnly == true;
    return destructive != annotations.end() && *destructive == true && !isReadOnly;
}

bool targetMatches(const PolicyRule &rule, const QString &client, const QString &server,
                   const QString &tool)
{
    return globMatches(rule.client, client) && globMatches(rule.server, server)
            && globMatches(rule.tool, tool);
}

// Every condition names a top-level argument whose value is text matching the pattern: a
// number or an object never matches, so a rule cannot be met by a value it cannot read.
bool argumentsMatch(const PolicyRule &rule, const json &arguments)
{
    for (const auto &[name, pattern] : rule.arguments) {
        if (!arguments.is_object())
            return false;
        const auto value = arguments.find(name.toStdString());
        if (value == arguments.end() || !value->is_string())
            return false;
        const auto &text = value->get_ref<const json::string_t &>();
        if (!globMatches(pattern, QString::fromUtf8(text.data(), qsizetype(text.size()))))
            return false;
    }
    return true;
}

// "rule 2 (client 'cursor', server 'github', tool 'delete_*', argument 'repo')":
// what the rule says, with argument names but not their patterns (they echo values).
QString describeRule(const PolicyRule &rule, int position)
{
    QStringList parts;
    for (const auto &[what, pattern] :
         {std::pair{"client", &rule.client}, std::pair{"server", &rule.server},
          std::pair{"tool", &rule.tool}}) {
        if (*pattern != QLatin1String("*"))
            parts.append(QStringLiteral("%1 '%2'").arg(QLatin1String(what), *pattern));
    }
    if (!rule.arguments.isEmpty()) {
        QStringList names;
        for (const auto &argument : rule.arguments)
            names.append(QStringLiteral("'%1'").arg(argument.first));
        parts.append(QStringLiteral("%1 %2").arg(names.size() == 1 ? QStringLiteral("argument")
                                                                   : QStringLiteral("arguments"),
                                                 names.join(QStringLiteral(", "))));
    }
    if (parts.isEmpty())
        parts.append(QStringLiteral("every tool"));
    return QStringLiteral("rule %1 (%2)").arg(position).arg(parts.join(QStringLiteral(", ")));
}

QString ruleReason(const PolicyRule &rule, int position)
{
    const QString described = describeRule(rule, position);
    switch (rule.decision) {
    case PolicyDecision::Allow:
        return QStringLiteral("Allowed by policy %1.").arg(described);
    case PolicyDecision::Ask:
        return QStringLiteral("Policy %1 asks for your approval.").arg(described);
    case PolicyDecision::Deny:
        break;
    }
    return QStringLiteral("Denied by policy %1.").arg(described);
}

QString destructiveReason(PolicyDecision decision, const QString &server, const QString &tool)
{
    const QString marked
            = QStringLiteral("Tool '%1' on server '%2' is marked destructive; ").arg(tool, server);
    switch (decision) {
    case PolicyDecision::Allow:
        return marked + QStringLiteral("destructive tools are allowed by policy.");
    case PolicyDecision::Ask:
        return marked + QStringLiteral("destructive tools need your approval.");
    case PolicyDecision::Deny:
        break;
    }
    return marked + QStringLiteral("destructive tools are denied by policy.");
}

} // namespace

bool globMatches(QStringView pattern, QStringView text)
{
    // Greedy with one resume point: on a mismatch, the last '*' takes one more character.
    // A later '*' replaces the resume point, which is what keeps this linear in memory and
    // free of exponential backtracking.
    qsizetype p = 0;
    qsizetype t = 0;
    qsizetype starPattern = -1; // just after the last '*' seen
    qsizetype starText = 0;     // where that '*' would resume in the text
    while (t < text.size()) {
        if (p < pattern.size() && pattern.at(p) == QLatin1Char('*')) {
            starPattern = ++p;
            starText = t;
        } else if (p < pattern.size() && pattern.at(p) == QLatin1Char('?')) {
            t += characterLength(text, t);
            ++p;
        } else if (p < pattern.size() && pattern.at(p) == text.at(t)) {
            ++p;
            ++t;
        } else if (starPattern >= 0) {
            starText += characterLength(text, starText);
            p = starPattern;
            t = starText;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern.at(p) == QLatin1Char('*'))
        ++p;
    return p == pattern.size();
}

ToolPolicy::ToolPolicy(store::PolicyConfig config) : m_config(std::move(config)) { }

PolicyVerdict ToolPolicy::decide(const QString &client, const QString &server, const QString &tool,
                                 const json &annotations, const json &arguments) const
{
    int position = 0;
    for (const PolicyRule &rule : m_config.rules) {
        ++position;
        if (targetMatches(rule, client, server, tool) && argumentsMatch(rule, arguments))
            return {rule.decision, ruleReason(rule, position)};
    }
    if (isDestructive(annotations)) {
        return {m_config.destructiveTools,
                destructiveReason(m_config.destructiveTools, server, tool)};
    }
    return {PolicyDecision::Allow,
            QStringLiteral("No policy rule applies to tool '%1' on server '%2'; it is allowed.")
                    .arg(tool, server)};
}

bool ToolPolicy::isVisible(const QString &client, const QString &server, const QString &tool,
                           const json &annotations) const
{
    for (const PolicyRule &rule : m_config.rules) {
        if (!targetMatches(rule, client, server, tool))
            continue;
        if (rule.arguments.isEmpty())
            return rule.decision != PolicyDecision::Deny;
        // With conditions, an allow or ask lets some calls through; a deny only some of them
        // out, so a later rule or the default still decides the rest.
        if (rule.decision != PolicyDecision::Deny)
            return true;
    }
    const PolicyDecision fallback
            = isDestructive(annotations) ? m_config.destructiveTools : PolicyDecision::Allow;
    return fallback != PolicyDecision::Deny;
}

int ToolPolicy::askTimeoutMs() const
{
    return m_config.askTimeoutSeconds * 1000;
}

} // namespace mcpbroker::gateway
