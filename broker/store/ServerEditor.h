#pragma once

#include "Result.h"
#include "store/ServerConfig.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>

namespace mcpbroker::store {

class SecretStore;

// Adds servers to and removes them from one config file together with their keychain secrets,
// in the order that never leaves a config naming a secret that is not there:
//
//   add:    secrets to the keychain, then the server into the config (loaded again just before
//           saving); a config that cannot be saved takes the secrets out again.
//   remove: sign out (OAuth; the caller says how), the server out of the config (saved), then
//           its secrets out of the keychain. Secrets that stay behind are a note, not a failure.
//
// `mcp-broker add/remove` and the broker's facade (the tray) share it.
class ServerEditor : public QObject
{
    Q_OBJECT
public:
    struct Secret
    {
        QString key; // SecretKeys::bearer(name), …
        QByteArray value;
    };

    // Signs out of an OAuth server; the string is a note (e.g. the server could not be told),
    // an error means the sign-in record could not be deleted.
    using SignOut = std::function<void(const ServerConfig &server,
                                       std::function<void(Result<QString>)> done)>;

    // `keychain` must outlive this object. Every `done` runs from the event loop, never inside
    // the call; once the editor is deleted, a remove waiting for its sign-out ends there.
    ServerEditor(QString configPath, SecretStore *keychain, QObject *parent = nullptr);

    // Checks `server` against the config (name and URL rules, name not taken), stores `secrets`,
    // saves. `secrets` are exactly those its settings name (secretKeysOf(), but for the sign-in's
    // record, which only a sign-in writes); they are wiped from memory once written. Errors are
    // sentences that end with what was (not) done ("Server 'x' was not added."); Conflict for a
    // name taken.
    void add(ServerConfig server, QList<Secret> secrets, std::function<void(Result<void>)> done);

    // Removes the server `name`. NotFound for an unknown name (nothing touched). The string is
    // a note for the user (empty when everything went): what stayed in the keychain and how to
    // delete it, or what the revocation said; one line each.
    void remove(const QString &name, SignOut signOut, std::function<void(Result<QString>)> done);

    // The keychain keys that hold `server`'s secrets, from its auth settings (SecretKeys).
    static QStringList secretKeysOf(const ServerConfig &server);

private:
    // The rest of remove() once signed out: `signOutNote` what the sign-out said, `signInLeft`
    // why the sign-in record stayed (empty: it is gone).
    void removeSignedOut(const ServerConfig &server, const QString &signOutNote,
                         const QString &signInLeft, std::function<void(Result<QString>)> done);

    QString m_configPath;
    SecretStore *m_keychain;
};

} // namespace mcpbroker::store
