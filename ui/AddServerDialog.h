#pragma once

#include "Broker.h"

#include <QDialog>

#include <memory>

namespace mcpbroker::ui {

// "Add server…": name, URL and how to authenticate (automatic OAuth, a pre-registered client
// id and secret, a bearer token, none). Checks as the user types (Broker::checkServerName,
// checkServerUrl, name not taken, the fields the chosen method needs) and says what is wrong
// in one line; Add is enabled only when everything is. Secret fields are password fields and
// are cleared when the dialog closes. Non-modal: Add emits `submitted` and waits for
// TrayController to call finish() (success: closes) or showError() (stays open, fields kept).
// Closing does not delete the dialog: the owner keeps it in a QPointer and deleteLater()s it.
// Object names for tests: "name", "url", "authMethod", "authHint", "clientId", "clientSecret",
// "scopes", "bearerToken", "error", "add", "cancel".
class AddServerDialog : public QDialog
{
    Q_OBJECT
public:
    explicit AddServerDialog(const QStringList &existingNames, QWidget *parent = nullptr);
    ~AddServerDialog() override;

    void showError(const QString &message); // re-enables the form
    void finish();                          // wipes the secret fields and closes

Q_SIGNALS:
    void submitted(const mcpbroker::Broker::NewServer &server);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::ui
