#pragma once

#include "PeerProcess.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>

namespace mcpbroker::integration {

// tests/peers/local-oauth-client.mjs: the SDK's Client with an OAuthClientProvider that gets
// its grant from the broker's own authorization server, answering the consent page like a
// browser. Prints {"tools", "call", "tokens": {"hasAccess", "hasRefresh"}, "browser": {"used",
// "decision", "servers"}, "http": ["METHOD path status", …], "error"?} and never a token.
struct LocalOAuthClientOptions
{
    QString call; // a tool to call after tools/list; empty: none
    QJsonObject arguments;
    QString statePath;               // --state: registration and tokens kept here (mode 0600)
    bool discardAccessToken = false; // the saved access token is replaced: refresh must happen
    bool noBrowser = false;          // fail rather than open the consent page
    QString decision = QStringLiteral("approve"); // or "deny", or "tray": wait for the tray
    QStringList servers; // ticked on the consent page; empty: as the page pre-checks them
    int timeoutMs = 60'000;
};

struct LocalOAuthClientRun
{
    ProcessRun process;
    QJsonObject output;

    bool succeeded() const
    {
        return process.succeeded() && !output.contains(QStringLiteral("error"));
    }
    QString error() const { return output.value(QStringLiteral("error")).toString(); }
    QStringList tools() const;
    QString callText() const; // the text blocks of the tool call's result, joined by '\n'
    bool browserUsed() const;
    bool hasAccessToken() const;
    bool hasRefreshToken() const;
    QStringList http() const; // "POST /oauth/token 200", … in order
    QString describe() const { return process.describe(); }
};

QString localOAuthClientScript();
// Started and left running (a test answers its consent meanwhile, e.g. in the tray), then
// waited for; runLocalOAuthClient does both.
std::unique_ptr<PeerProcess> startLocalOAuthClient(const QUrl &url,
                                                   const LocalOAuthClientOptions &options = {});
LocalOAuthClientRun finishLocalOAuthClient(PeerProcess &process,
                                           const LocalOAuthClientOptions &options = {});
LocalOAuthClientRun runLocalOAuthClient(const QUrl &url,
                                        const LocalOAuthClientOptions &options = {});

} // namespace mcpbroker::integration
