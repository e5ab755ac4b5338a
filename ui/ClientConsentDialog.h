#pragma once

#include "gateway/LocalAuthorizationServer.h"

#include <QDialog>

#include <chrono>
#include <memory>

namespace mcpbroker::ui {

// A local client asks for access (the consent step of the broker's authorization server):
// shows the client's self-declared name (marked as such), its redirect URI and the servers,
// each a checkbox (the ones requested ticked; none requested: all ticked), a "Remember this
// decision" checkbox, Allow and Deny. Allowing never widens what the client asked for: only a
// client that asked for every server, with every server left ticked, gets every server (also
// the ones added later); a client that named servers gets the ticked ones by name.
// Non-modal; a countdown shows the time left and answers Deny when it runs out. Emits exactly
// one of allowed/denied, then closes; a request answered elsewhere (the browser page) closes it
// with finishElsewhere(), which emits nothing.
// Deny is the default button: Enter never allows by accident. Every string the client gave is
// shown as plain text. Closing does not delete the dialog: the owner keeps it in a QPointer and
// deleteLater()s it after the answer (or after finishElsewhere()).
// Object names for tests: "allow", "deny", "remember", "server:<name>", "countdown",
// "clientName", "redirectUri", "scopeNote", "unknownServers".
class ClientConsentDialog : public QDialog
{
    Q_OBJECT
public:
    // `timeout`: std::chrono::seconds or minutes convert implicitly (milliseconds: tests).
    ClientConsentDialog(const gateway::ConsentRequest &request, const QStringList &allServers,
                        std::chrono::milliseconds timeout, QWidget *parent = nullptr);
    ~ClientConsentDialog() override;

    QString consentId() const;
    void finishElsewhere();

Q_SIGNALS:
    // `servers`: the ticked ones by name, even when they are all of them, if the client named
    // servers; an empty list (every server, also later ones) if it asked for every server and
    // all are ticked.
    void allowed(const QString &consentId, const QStringList &servers, bool remember);
    // `remember` is false when the dialog was closed or the time ran out (`timedOut`).
    void denied(const QString &consentId, bool remember, bool timedOut);

protected:
    void closeEvent(QCloseEvent *event) override; // closing the window is Deny (not remembered)

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::ui
