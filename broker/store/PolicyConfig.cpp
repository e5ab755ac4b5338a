#include "store/PolicyConfig.h"
#include "store/JsonTypeName.h"

#include <optional>

namespace mcpbroker::store {

namespace {

using json = nlohmann::json;

const char kDestructiveTools[] = "destructiveTools";
const char kAskTimeoutSeconds[] = "askTimeoutSeconds";
const char kRules[] = "rules";
const char kClient[] = "client";
const char kServer[] = "server";
const char kTool[] = "tool";
const char kDecision[] = "decision";
const char kArguments[] = "arguments";

std::optional<PolicyDecision> decisionFromName(const json &value)
{
    if (!value.is_string())
        return std::nullopt;
    const auto &name = value.get_ref<const json::string_t &>();
    if (name == "allow")
        return PolicyDecision::Allow;
    if (name == "ask")
        return PolicyDecision::Ask;
    if (name == "deny")
        return PolicyDecision::Deny;
    return std::nullopt;
}

QString fromJsonString(const json &value)
{
    const auto &text = value.get_ref<const json::string_t &>();
    return QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size()));
}

// The value as written in the file, short enough for a sentence.
QString quoted(const json &value)
{
    QString text
            = QString::fromStdString(value.dump(-1, ' ', false, json::error_handler_t::replace));
    if (text.size() > 60)
        text = text.left(57) + QStringLiteral("...");
    return text;
}

Error invalid(const QString &where, const QString &problem)
{
    return Error::make(Error::Kind::InvalidInput, QStringLiteral("%1: %2.").arg(where, problem));
}

Result<QString> readPattern(const json &value, const QString &where, const QString &member)
{
    if (!value.is_string())
        return invalid(where,
                       QStringLiteral("\"%1\" must be a pattern (text), not %2")
                               .arg(member, jsonTypeName(value)));
    QString pattern = fromJsonString(value);
    if (pattern.isEmpty())
        return invalid(
                where,
                QStringLiteral("\"%1\" must not be empty; use \"*\" for anything").arg(member));
    if (pattern.size() > PolicyConfig::kMaxPatternLength)
        return invalid(where,
                       QStringLiteral("\"%1\" is longer than %2 characters")
                               .arg(member, QString::number(PolicyConfig::kMaxPatternLength)));
    return pattern;
}

Result<QList<QPair<QString, QString>>> readArguments(const json &value, const QString &where)
{
    if (!value.is_object())
        return invalid(where,
                       QStringLiteral("\"arguments\" must be an object mapping argument "
                                      "names to patterns, not %1")
                               .arg(jsonTypeName(value)));
    QList<QPair<QString, QString>> arguments;
    for (auto it = value.begin(); it != value.end(); ++it) {
        const QString name = QString::fromStdString(it.key());
        if (name.isEmpty() || name.size() > PolicyConfig::kMaxPatternLength)
            return invalid(where,
                           QStringLiteral("an argument name in \"arguments\" must have "
                                          "1 to %1 characters")
                                   .arg(PolicyConfig::kMaxPatternLength));
        auto pattern = readPattern(it.value(), where, QStringLiteral("arguments.%1").arg(name));
        if (!pattern)
            return pattern.error();
        arguments.append({name, std::move(pattern).value()});
    }
    return arguments;
}

Result<PolicyRule> readRule(const json &entry, int position)
{
    const QString where = QStringLiteral("Policy rule %1").arg(position);
    if (!entry.is_object())
        return invalid(
                where,
                QStringLiteral("it must be an object ({ … }), not %1").arg(jsonTypeName(entry)));

    PolicyRule rule;
    bool hasDecision = false;
    for (auto it = entry.begin(); it != entry.end(); ++it) {
        const std::string &key = it.key();
        QString *pattern = key == kClient ? &rule.client
                : key == kServer          ? &rule.server
                : key == kTool            ? &rule.tool
                                          : nullptr;
        if (pattern) {
            auto read = readPattern(it.value(), where, QString::fromStdString(key));
            if (!read)
                return read.error();
            *pattern = std::move(read).value();
        } else if (key == kDecision) {
            const auto decision = decisionFromName(it.value());
            if (!decision)
                return invalid(where,
                               QStringLiteral("\"decision\" must be allow, ask or deny, "
                                              "not %1")
                                       .arg(quoted(it.value())));
            rule.decision = *decision;
            hasDecision = true;
        } else if (key == kArguments) {
            auto arguments = readArguments(it.value(), where);
            if (!arguments)
                return arguments.error();
            rule.arguments = std::move(arguments).value();
        } else {
            return invalid(where,
                           QStringLiteral("unknown member \"%1\"; a rule has \"client\", "
                                          "\"server\", \"tool\", \"arguments\" and "
                                          "\"decision\"")
                                   .arg(QString::fromStdString(key)));
        }
    }
    if (!hasDecision)
        return invalid(where, QStringLiteral("it needs a \"decision\": allow, ask or deny"));
    return rule;
}

} // namespace

Result<PolicyConfig> parsePolicyConfig(const json &value)
{
    const QString where = QStringLiteral("Policy");
    PolicyConfig config;
    if (value.is_null())
        return config;
    if (!value.is_object())
        return invalid(where,
                       QStringLiteral("\"policy\" must be an object ({ … }), not %1")
                               .arg(jsonTypeName(value)));

    for (auto it = value.begin(); it != value.end(); ++it) {
        const std::string &key = it.key();
        if (key == kDestructiveTools) {
            const auto decision = decisionFromName(it.value());
            if (!decision)
                return invalid(where,
                               QStringLiteral("\"destructiveTools\" must be allow, ask or "
                                              "deny, not %1")
                                       .arg(quoted(it.value())));
            config.destructiveTools = *decision;
        } else if (key == kAskTimeoutSeconds) {
            const auto &seconds = it.value();
            const bool inRange = seconds.is_number_integer()
                    && seconds.get<long long>() >= PolicyConfig::kMinAskTimeoutSeconds
                    && seconds.get<long long>() <= PolicyConfig::kMaxAskTimeoutSeconds;
            if (!inRange)
                return invalid(where,
                               QStringLiteral("\"askTimeoutSeconds\" must be a whole "
                                              "number from %1 to %2, not %3")
                                       .arg(PolicyConfig::kMinAskTimeoutSeconds)
                                       .arg(PolicyConfig::kMaxAskTimeoutSeconds)
                                       .arg(quoted(seconds)));
            config.askTimeoutSeconds = seconds.get<int>();
        } else if (key == kRules) {
            if (!it.value().is_array())
                return invalid(where,
                               QStringLiteral("\"rules\" must be a list ([ … ]), not %1")
                                       .arg(jsonTypeName(it.value())));
            int position = 0;
            for (const json &entry : it.value()) {
                auto rule = readRule(entry, ++position);
                if (!rule)
                    return rule.error();
                config.rules.append(std::move(rule).value());
            }
        } else {
            return invalid(where,
                           QStringLiteral("unknown member \"%1\"; \"policy\" has "
                                          "\"destructiveTools\", \"askTimeoutSeconds\" "
                                          "and \"rules\"")
                                   .arg(QString::fromStdString(key)));
        }
    }
    return config;
}

json toJson(const PolicyConfig &config)
{
    json value = json::object();
    if (config.destructiveTools != PolicyDecision::Ask)
        value[kDestructiveTools] = decisionName(config.destructiveTools).toStdString();
    if (config.askTimeoutSeconds != PolicyConfig::kDefaultAskTimeoutSeconds)
        value[kAskTimeoutSeconds] = config.askTimeoutSeconds;
    if (config.rules.isEmpty())
        return value;

    json rules = json::array();
    for (const PolicyRule &rule : config.rules) {
        json entry = json::object();
        for (const auto &[key, pattern] :
             {std::pair{kClient, &rule.client}, std::pair{kServer, &rule.server},
              std::pair{kTool, &rule.tool}}) {
            if (*pattern != QLatin1String("*"))
                entry[key] = pattern->toStdString();
        }
        if (!rule.arguments.isEmpty()) {
            json arguments = json::object();
            for (const auto &[name, pattern] : rule.arguments)
                arguments[name.toStdString()] = pattern.toStdString();
            entry[kArguments] = std::move(arguments);
        }
        entry[kDecision] = decisionName(rule.decision).toStdString();
        rules.push_back(std::move(entry));
    }
    value[kRules] = std::move(rules);
    return value;
}

QString decisionName(PolicyDecision decision)
{
    switch (decision) {
    case PolicyDecision::Allow:
        return QStringLiteral("allow");
    case PolicyDecision::Ask:
        return QStringLiteral("ask");
    case PolicyDecision::Deny:
        return QStringLiteral("deny");
    }
    return QStringLiteral("deny");
}

} // namespace mcpbroker::store
