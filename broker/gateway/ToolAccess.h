#pragma once

#include "gateway/CatalogFilter.h"
#include "gateway/ToolPolicy.h"
#include "mcp/ServerSession.h"

#include <QObject>
#include <QString>

#include <nlohmann/json.hpp>

#include <functional>

namespace mcpbroker::store {
class AuditLog;
}

namespace mcpbroker::gateway {

class ApprovalQueue;
class Upstream;

// The policy box of the data flow (DESIGN.md): which tools a local client sees, whether one of
// its calls goes ahead — at once, after the user approved it in the tray, or not at all — and
// the audit line each call leaves.
class ToolAccess : public QObject
{
    Q_OBJECT
public:
    struct Clearance
    {
        bool allowed = false;
        // for the audit log: allow, deny, approved, declined, ask-timeout, no-approver
        QString decision;
        QString reason; // a sentence without argument values
    };

    ToolAccess(ApprovalQueue *approvals, store::AuditLog *audit, QObject *parent = nullptr);

    void setPolicy(ToolPolicy policy);

    bool isVisible(const mcp::SessionOwner &owner, const QString &server,
                   const nlohmann::json &tool) const;
    // isVisible for CatalogListing, with the policy of the moment and the client as its key,
    // so that a filtered tools/list is kept until either changes.
    CatalogFilter listFilter(const mcp::SessionOwner &owner) const;
    // Answers once. The tool's annotations come from the upstream's (cached) tools/list,
    // looked up by name in its CatalogSnapshot.
    void check(const mcp::SessionOwner &owner, Upstream *upstream, const QString &tool,
               const nlohmann::json &arguments, std::function<void(Clearance)> done);
    // The arguments in one line for the approval dialog: `name: <JSON value>, …`, each value
    // cut at kMaxValueLength characters and the whole at kMaxSummaryLength (ending in "…").
    static QString argumentsSummary(const nlohmann::json &arguments);
    static constexpr qsizetype kMaxValueLength = 80;
    static constexpr qsizetype kMaxSummaryLength = 300;

    // outcome: ok, error, tool-error, cancelled, refused.
    void record(const mcp::SessionOwner &owner, const QString &server, const QString &tool,
                const Clearance &clearance, const QString &outcome, qint64 durationMs);

private:
    void decide(const mcp::SessionOwner &owner, const QString &server, const QString &tool,
                const nlohmann::json &annotations, const nlohmann::json &arguments,
                const std::function<void(Clearance)> &done);

    ApprovalQueue *m_approvals;
    store::AuditLog *m_audit;
    ToolPolicy m_policy;
    quint64 m_policyRevision; // unique in the process, see setPolicy
};

} // namespace mcpbroker::gateway
