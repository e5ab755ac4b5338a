#pragma once

#include "Result.h"

#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
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
//   http://127.0.0.1:<port>/status        JSON: {"version", "endpoint", "servers": [ServerStatus],
//                                          "problems": [sentence]}
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

    // A server to add from the tray's "Add server…" dialog. The secrets go to the keychain
    // before the config names them; nothing secret is ever written to the config file.
    struct NewServer
    {
        enum class Auth {
            None,                // no credentials (or the URL is all it takes)
            OAuth,               // automatic: discovery, dynamic registration, browser sign-in
            PreRegisteredClient, // OAuth with a client id (and secret) registered by hand
            Bearer,              // a fixed `Authorization: Bearer` token
        };
        QString name;
        QUrl url;
        Auth auth = Auth::None;
        QString clientId;        // PreRegisteredClient
        QByteArray clientSecret; // PreRegisteredClient; empty: a public client
        QByteArray bearerToken;  // Bearer
        QStringList scopes;      // OAuth and PreRegisteredClient; empty: what the server says
    };

    explicit Broker(Options options, QObject *parent = nullptr);
    ~Broker() override;

    // Loads the configuration and binds the endpoint. Fails with a sentence the user can act
    // on: a port already in use. A config file that cannot be used does not stop it: it runs
    // with no servers, leaves the file as it is, keeps a copy next to it
    // ("config.json.corrupt-<time>") and says so in problems(); the file is applied once fixed.
    // A damaged grants file is moved aside the same way. Upstreams connect in the background;
    // their credentials come from the keychain.
    Result<void> start();
    // What keeps the broker from working as configured (a corrupt config or grants file), one
    // sentence each for the user; empty when all is well. In /status as "problems".
    QStringList problems() const;

    // What a server name and URL must look like: the same checks as `mcp-broker add`, with the
    // same sentences, for a dialog to show while the user types.
    static Result<void> checkServerName(const QString &name);
    static Result<void> checkServerUrl(const QUrl &url);

    // Applies the config file now if it changed, rather than once the watcher has seen it
    // settle: another process may have just added the server it asks about.
    void applyConfigNow();

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

    // Adds a server (secrets to the keychain first, then the config, which the broker then
    // applies). OAuth servers are added signed out: call signIn() next. Fails with a sentence
    // for a name already taken, a bad URL, a keychain or config file that cannot be written;
    // nothing is left behind then.
    void addServer(NewServer server, DoneCallback done);
    // Signs out (OAuth), takes the server out of the config and deletes its secrets. The string
    // is a note for the user when something stayed behind (empty when all went).
    void removeServer(const QString &serverName, std::function<void(Result<QString>)> done);

    // Pausing refuses every client request (503 with a sentence) and ends the open sessions,
    // until resumed. Not remembered across restarts.
    void setPaused(bool paused);
    bool isPaused() const;

    QString auditLogPath() const;
    QString configPath() const;

    // Local clients: their grants (none secret), and cutting one off — its sessions and
    // streams end at once, its next request is refused.
    QList<gateway::ClientGrant> clients() const;
    void revokeClient(const QString &grantIdOrName, DoneCallback done);

    // Tool calls the policy says to ask about. Without an approver (the headless `serve`)
    // they fail at once with a sentence; the tray sets one.
    void setApproverPresent(bool present);
    QList<gateway::ApprovalRequest> pendingApprovals() const;
    void approveToolCall(const QString &approvalId);
    // Approves and adds a policy rule (first in the list, saved in config.json) that allows this
    // client to call this tool of this server from now on. The call goes ahead even when the
    // rule cannot be saved (the error says why: a name with a wildcard character, the file).
    Result<void> approveToolCallAlways(const QString &approvalId);
    void denyToolCall(const QString &approvalId);

    // Local OAuth clients asking for a grant (the consent step of the broker's own
    // authorization server); the browser page answers too. `servers` empty: every server.
    QList<gateway::ConsentRequest> pendingConsents() const;
    // `remember`: the same registered client asking again gets the same answer without asking
    // (kept with its registration in grants.json until the client is revoked).
    void approveConsent(const QString &consentId, const QStringList &servers,
                        bool remember = false);
    void denyConsent(const QString &consentId, bool remember = false);

Q_SIGNALS:
    void serverStatusChanged(const QString &name);
    void clientsChanged();
    void consentRequested(const mcpbroker::gateway::ConsentRequest &request);
    // Answered (here or on the browser page), expired or dropped: a dialog for it can close.
    void consentFinished(const QString &consentId, bool approved);
    void toolCallApprovalRequested(const mcpbroker::gateway::ApprovalRequest &request);
    void toolCallApprovalFinished(const QString &approvalId); // answered, timed out, cancelled
    void pausedChanged(bool paused);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker
