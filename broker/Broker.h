#pragma once

#include "Result.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>

namespace mcpbroker {

namespace oauth {
class BrowserLauncher;
}
namespace gateway {
struct ApprovalRequest;
struct ClientGrant;
struct ConsentRequest;
} // namespace gateway

// The one facade that app/ and ui/ use (DESIGN.md). It loads the configuration, reads each
// upstream's credentials from the keychain, connects the upstreams and serves the localhost
// MCP endpoint:
//
//   http://127.0.0.1:<port>/mcp           every enabled upstream, names namespaced
//   http://127.0.0.1:<port>/mcp/<server>  one upstream, names as the upstream gives them
//   http://127.0.0.1:<port>/status        JSON: {"version", "endpoint", "servers": [ServerStatus]}
//
// It watches the configuration file and applies changes (servers added, removed, edited)
// without a restart; a change of port needs one.
class Broker : public QObject
{
    Q_OBJECT
public:
    struct Options
    {
        QString configPath;          // empty: ConfigStore::defaultPath()
        std::optional<quint16> port; // overrides the config file's port; 0 = any free port
        QString keychainService = QStringLiteral("mcp-broker");
        // Shows OAuth sign-in pages; null: the system browser (oauth::SystemBrowser).
        std::shared_ptr<oauth::BrowserLauncher> browser;
        QString auditLogPath; // empty: store::AuditLog::defaultPath()
    };

    struct ServerStatus
    {
        enum class State { Connecting, Ready, Failed, Disabled, NeedsSignIn };
        // For OAuth servers: the sign-in's state.
        enum class SignIn { NotApplicable, Unknown, SignedIn, NeedsSignIn, SigningIn };
        QString name;
        QUrl url;
        State state = State::Connecting;
        QString error; // a sentence for the user when state is Failed or NeedsSignIn
        int toolCount = 0;
        SignIn signIn = SignIn::NotApplicable;
        qint64 tokenExpiresAtMs = 0; // when the access token expires; 0: unknown or none
    };

    explicit Broker(Options options, QObject *parent = nullptr);
    ~Broker() override;

    // Loads the configuration and binds the endpoint. Fails with a sentence the user can act
    // on: a corrupt config file (left untouched), a port already in use. Upstreams connect in
    // the background; their credentials come from the keychain.
    Result<void> start();

    quint16 port() const;
    QUrl endpointUrl() const; // http://127.0.0.1:<port>/mcp
    QList<ServerStatus> serverStatuses() const;

    static QString stateName(ServerStatus::State state);    // "connecting", "ready", …
    static QString signInName(ServerStatus::SignIn signIn); // "signed-in", …; "" when n/a

    using DoneCallback = std::function<void(Result<void>)>;
    // Signs in to an OAuth server in the browser (or with its client credentials); NotFound
    // for a server that is not configured, enabled and using OAuth.
    void signIn(const QString &serverName, DoneCallback done);
    // Revokes the server's tokens where it offers revocation and removes them from the
    // keychain. The string is a note for the user (e.g. the server could not be told).
    void signOut(const QString &serverName, std::function<void(Result<QString>)> done);

    // Local clients: their grants (none secret), and cutting one off — its sessions and
    // streams end at once, its next request is refused.
    QList<gateway::ClientGrant> clients() const;
    void revokeClient(const QString &grantIdOrName, DoneCallback done);

    // Tool calls the policy says to ask about. Without an approver (the headless `serve`)
    // they fail at once with a sentence; the tray sets one.
    void setApproverPresent(bool present);
    QList<gateway::ApprovalRequest> pendingApprovals() const;
    void approveToolCall(const QString &approvalId);
    void denyToolCall(const QString &approvalId);

    // Local OAuth clients asking for a grant (the consent step of the broker's own
    // authorization server); the browser page answers too. `servers` empty: every server.
    QList<gateway::ConsentRequest> pendingConsents() const;
    void approveConsent(const QString &consentId, const QStringList &servers);
    void denyConsent(const QString &consentId);

Q_SIGNALS:
    void serverStatusChanged(const QString &name);
    void clientsChanged();
    void consentRequested(const mcpbroker::gateway::ConsentRequest &request);
    void toolCallApprovalRequested(const mcpbroker::gateway::ApprovalRequest &request);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker
