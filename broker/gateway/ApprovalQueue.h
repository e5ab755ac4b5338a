#pragma once

#include "Result.h"

#include <QDateTime>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>

#include <functional>
#include <vector>

class QTimer;

namespace mcpbroker::gateway {

// One tool call waiting for the user to say yes or no (a policy "ask").
struct ApprovalRequest
{
    QString id; // filled by ApprovalQueue::ask
    QString client;
    QString server;
    QString tool;
    QString reason; // PolicyVerdict::reason: why the user is asked
    // The call's arguments in one short line for the dialog (`path: "/tmp/a", force: true`),
    // long values cut. Shown to the user only: never logged or audited.
    QString argumentsSummary;
    QDateTime askedAt;   // filled by ApprovalQueue::ask (UTC)
    QDateTime expiresAt; // filled by ApprovalQueue::ask (UTC)
};

// The tool calls that wait for the user's approval in the tray. Each gets exactly one answer:
// approved, declined, timed out, or at once when no tray runs to ask (the headless `serve`),
// so a client never hangs on a question nobody can see. Cancelled requests get none.
class ApprovalQueue : public QObject
{
    Q_OBJECT

public:
    using Answer = std::function<void(Result<void>)>;

    explicit ApprovalQueue(QObject *parent = nullptr);
    ~ApprovalQueue() override;

    // Whether a tray icon is there to show requests. False by default; turning it off fails
    // the pending requests, as nobody is left to answer them.
    void setApproverPresent(bool present);
    bool approverPresent() const;

    // Queues `request` and returns its id, for cancel(). Without an approver, `answer` gets
    // the failure from the event loop and the id is empty.
    QString ask(ApprovalRequest request, int timeoutMs, Answer answer);
    void approve(const QString &id);
    void deny(const QString &id);
    // The caller went away: the request leaves the queue and its answer is dropped.
    void cancel(const QString &id);

    QList<ApprovalRequest> pending() const; // oldest first

Q_SIGNALS:
    void approvalRequested(const mcpbroker::gateway::ApprovalRequest &request);
    void approvalFinished(const QString &id); // answered, timed out or cancelled

private:
    struct Waiting
    {
        ApprovalRequest request;
        Answer answer;
        QTimer *timer = nullptr;

        const QString &id() const { return request.id; }
    };

    const Waiting *find(const QString &id) const;

    // Takes the request out of the queue; then answers it, unless `answer` is false.
    void finish(const QString &id, const Result<void> &result, bool answer = true);

    std::vector<Waiting> m_waiting;
    bool m_approverPresent = false;
};

} // namespace mcpbroker::gateway

Q_DECLARE_METATYPE(mcpbroker::gateway::ApprovalRequest)
