#pragma once

#include "gateway/ApprovalQueue.h"

#include <QDialog>

#include <chrono>
#include <memory>

namespace mcpbroker::ui {

// A tool call the policy says to ask about: client, server, tool, why (the rule), a summary of
// the arguments; Allow once, Always allow, Deny. Non-modal; a countdown answers Deny when the
// time is up. Emits exactly one answer, then closes; finishElsewhere() (the call was cancelled
// or timed out in the broker) closes it without one.
// Deny is the default button: Enter never allows by accident. Every string is shown as plain
// text. Closing does not delete the dialog: the owner keeps it in a QPointer and deleteLater()s
// it after the answer (or after finishElsewhere()).
// Object names for tests: "allowOnce", "allowAlways", "deny", "countdown", "arguments",
// "client", "server", "tool", "reason".
class ToolApprovalDialog : public QDialog
{
    Q_OBJECT
public:
    // `timeout`: std::chrono::seconds or minutes convert implicitly (milliseconds: tests).
    ToolApprovalDialog(const gateway::ApprovalRequest &request, std::chrono::milliseconds timeout,
                       QWidget *parent = nullptr);
    ~ToolApprovalDialog() override;

    QString approvalId() const;
    void finishElsewhere();

Q_SIGNALS:
    void allowedOnce(const QString &approvalId);
    void allowedAlways(const QString &approvalId);
    void denied(const QString &approvalId, bool timedOut);

protected:
    void closeEvent(QCloseEvent *event) override; // closing the window is Deny

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::ui
