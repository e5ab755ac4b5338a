#include "gateway/ToolAccess.h"

#include "gateway/ApprovalQueue.h"
#include "gateway/CatalogSnapshots.h"
#include "gateway/Upstream.h"
#include "store/AuditLog.h"

#include <QPointer>

#include <atomic>

namespace mcpbroker::gateway {

namespace {

using nlohmann::json;
using store::PolicyDecision;

// Policies of every ToolAccess get different numbers, so a filter key never outlives its policy.
quint64 nextPolicyRevision()
{
    static std::atomic<quint64> last{0};
    return ++last;
}

QString cut(const QString &text, qsizetype length)
{
    return text.size() <= length ? text : text.left(length - 1) + QChar(0x2026);
}

} // namespace

QString ToolAccess::argumentsSummary(const json &arguments)
{
    if (!arguments.is_object())
        return arguments.is_null()
                ? QString()
                : cut(QString::fromStdString(arguments.dump()), kMaxSummaryLength);
    QStringList parts;
    for (const auto &[name, value] : arguments.items()) {
        // dump() replaces invalid UTF-8 rather than throwing: arguments come from a client.
        const std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
        parts.append(QStringLiteral("%1: %2").arg(
                QString::fromStdString(name), cut(QString::fromStdString(text), kMaxValueLength)));
    }
    return cut(parts.join(QStringLiteral(", ")), kMaxSummaryLength);
}

ToolAccess::ToolAccess(ApprovalQueue *approvals, store::AuditLog *audit, QObject *parent)
    : QObject(parent), m_approvals(approvals), m_audit(audit),
      m_policyRevision(nextPolicyRevision())
{ }

void ToolAccess::setPolicy(ToolPolicy policy)
{
    // The config is applied again for any change; an unchanged policy keeps its filtered lists.
    if (policy.config() == m_policy.config())
        return;
    m_policy = std::move(policy);
    m_policyRevision = nextPolicyRevision();
}

bool ToolAccess::isVisible(const mcp::SessionOwner &owner, const QString &server,
                           const json &tool) const
{
    QString name;
    if (tool.is_object()) {
        if (const auto it = tool.find("name"); it != tool.end() && it->is_string())
            name = QString::fromStdString(it->get_ref<const std::string &>());
    }
    return m_policy.isVisible(owner.clientName, server, name, CatalogSnapshot::annotationsIn(tool));
}

CatalogFilter ToolAccess::listFilter(const mcp::SessionOwner &owner) const
{
    const QPointer<const ToolAccess> guard(this);
    return {[guard, owner](const QString &server, const json &tool) {
                return !guard || guard->isVisible(owner, server, tool);
            },
            [guard, client = owner.clientName] {
                return guard ? QString::number(guard->m_policyRevision) + QLatin1Char('\n') + client
                             : QString();
            }};
}

void ToolAccess::check(const mcp::SessionOwner &owner, Upstream *upstream, const QString &tool,
                       const json &arguments, std::function<void(Clearance)> done)
{
    QPointer<ToolAccess> guard(this);
    const QString server = upstream->name();
    // Unknown annotations (the list failed) count as none: rules still apply.
    auto decideWith = [this, guard, owner, server, tool, arguments,
                       done = std::move(done)](Result<CatalogSnapshots::Snapshot> tools) {
        if (guard)
            decide(owner, server, tool,
                   tools ? tools.value()->annotationsOf(tool) : CatalogSnapshot::noAnnotations(),
                   arguments, done);
    };
    CatalogSnapshots::fetch(upstream, CatalogKind::Tools, std::move(decideWith));
}

void ToolAccess::decide(const mcp::SessionOwner &owner, const QString &server, const QString &tool,
                        const json &annotations, const json &arguments,
                        const std::function<void(Clearance)> &done)
{
    const PolicyVerdict verdict
            = m_policy.decide(owner.clientName, server, tool, annotations, arguments);
    switch (verdict.decision) {
    case PolicyDecision::Allow:
        return done({true, QStringLiteral("allow"), verdict.reason});
    case PolicyDecision::Deny:
        return done({false, QStringLiteral("deny"), verdict.reason});
    case PolicyDecision::Ask:
        break;
    }
    ApprovalRequest request;
    request.client = owner.clientName;
    request.server = server;
    request.tool = tool;
    request.reason = verdict.reason;
    request.argumentsSummary = argumentsSummary(arguments);
    m_approvals->ask(request, m_policy.askTimeoutMs(), [done](Result<void> answer) {
        if (answer)
            return done({true, QStringLiteral("approved"), QString()});
        const Error::Kind kind = answer.error().kind;
        const QString decision = kind == Error::Kind::Timeout ? QStringLiteral("ask-timeout")
                : kind == Error::Kind::Unreachable            ? QStringLiteral("no-approver")
                                                              : QStringLiteral("declined");
        done({false, decision, answer.error().message});
    });
}

void ToolAccess::record(const mcp::SessionOwner &owner, const QString &server, const QString &tool,
                        const Clearance &clearance, const QString &outcome, qint64 durationMs)
{
    if (!m_audit)
        return;
    store::AuditEntry entry;
    entry.time = QDateTime::currentDateTimeUtc();
    entry.client = owner.clientName;
    entry.grantId = owner.grantId;
    entry.server = server;
    entry.tool = tool;
    entry.decision = clearance.decision;
    entry.outcome = outcome;
    entry.durationMs = durationMs;
    if (!clearance.allowed)
        entry.reason = clearance.reason;
    m_audit->append(entry);
}

} // namespace mcpbroker::gateway
