#include "store/ServerEditor.h"

#include "AnswerLater.h"
#include "store/ConfigStore.h"
#include "store/SecretBatch.h"
#include "store/SecretStore.h"

#include <QPointer>

#include <algorithm>

namespace mcpbroker::store {

namespace {

using AddDone = std::function<void(Result<void>)>;
using RemoveDone = std::function<void(Result<QString>)>;

// `text` ending with a full stop, so that another sentence can follow it.
QString fullStop(QString text)
{
    if (!text.isEmpty() && !text.endsWith(QLatin1Char('.')))
        text += QLatin1Char('.');
    return text;
}

// `error` with `outcome` ("Server 'x' was not added.") after its sentence; the kind stays.
Error followedBy(Error error, const QString &outcome)
{
    error.message = QStringLiteral("%1 %2").arg(fullStop(error.message), outcome);
    return error;
}

Error notAdded(Error error, const QString &name)
{
    return followedBy(std::move(error), QStringLiteral("Server '%1' was not added.").arg(name));
}

Error notRemoved(Error error, const QString &name)
{
    return followedBy(std::move(error), QStringLiteral("Server '%1' was not removed.").arg(name));
}

// The keys a new server's secrets must have: those its settings name, but for the sign-in's,
// which only a sign-in writes. Anything else would be a secret that remove() never deletes, or
// a config naming a secret that is not there.
Result<void> checkSecretKeys(const ServerConfig &server, const QList<ServerEditor::Secret> &secrets)
{
    QStringList expected = ServerEditor::secretKeysOf(server);
    expected.removeAll(SecretKeys::oauthSession(server.name));
    QStringList given;
    for (const ServerEditor::Secret &secret : secrets)
        given.append(secret.key);
    std::sort(expected.begin(), expected.end());
    std::sort(given.begin(), given.end());
    if (given == expected)
        return {};
    return Error::make(Error::Kind::InvalidInput,
                       QStringLiteral("The secrets given for server '%1' do not match how it "
                                      "signs in.")
                               .arg(server.name));
}

// Everything that can be checked before a secret is stored: the name and URL rules, the name
// free in the config as it is now, the secrets those the server needs.
Result<void> checkNewServer(const QString &configPath, const ServerConfig &server,
                            const QList<ServerEditor::Secret> &secrets)
{
    if (auto valid = ConfigStore::validateServerName(server.name); !valid)
        return valid;
    if (auto valid = ConfigStore::validateServerUrl(server.url); !valid)
        return valid;
    const auto config = ConfigStore(configPath).load();
    if (!config)
        return config.error();
    if (config.value().server(server.name)) {
        return Error::make(Error::Kind::Conflict,
                           QStringLiteral("A server named '%1' already exists: choose another "
                                          "name, or remove that server first.")
                                   .arg(server.name));
    }
    return checkSecretKeys(server, secrets);
}

// Saves the config with `server` appended, loaded again just now: the file may have changed
// while the secrets were stored.
Result<void> appendToConfig(const QString &configPath, const ServerConfig &server)
{
    const ConfigStore configStore(configPath);
    auto config = configStore.load();
    if (!config)
        return config.error();
    if (config.value().server(server.name)) {
        return Error::make(Error::Kind::Conflict,
                           QStringLiteral("Another program added a server named '%1' meanwhile.")
                                   .arg(server.name));
    }
    config.value().servers.append(server);
    return configStore.save(config.value());
}

// Takes `name` out of the config, loaded again just now (the sign-out took a while). A server
// already gone is no error: its secrets go all the same.
Result<void> removeFromConfig(const QString &configPath, const QString &name)
{
    const ConfigStore configStore(configPath);
    auto config = configStore.load();
    if (!config)
        return config.error();
    const qsizetype removed = config.value().servers.removeIf(
            [&name](const ServerConfig &candidate) { return candidate.name == name; });
    if (removed == 0)
        return {};
    return configStore.save(config.value());
}

// Fails the add with `error` after taking the secrets written for it (`written`) out of the
// keychain again (best effort: what stays is said in the error).
void rollBack(SecretStore *keychain, const QString &name, Error error, const QStringList &written,
              const AddDone &done)
{
    SecretBatch::remove(
            keychain, written, [name, error, done](Result<void> removed, QStringList left) mutable {
                if (!removed) {
                    error.message += QStringLiteral(" The secrets stored for '%1' could not "
                                                    "be removed again (%2): %3")
                                             .arg(name, left.join(QStringLiteral(", ")),
                                                  fullStop(removed.error().message));
                }
                done(error);
            });
}

} // namespace

ServerEditor::ServerEditor(QString configPath, SecretStore *keychain, QObject *parent)
    : QObject(parent), m_configPath(std::move(configPath)), m_keychain(keychain)
{ }

// Past the checks, the add goes on without the editor: the keychain's answers end with the
// keychain, and a rollback must not stop half-way because the editor was deleted.
void ServerEditor::add(ServerConfig server, QList<Secret> secrets,
                       std::function<void(Result<void>)> done)
{
    if (auto checked = checkNewServer(m_configPath, server, secrets); !checked) {
        SecretBatch::wipe(secrets);
        answerLater(this, std::move(done), Result<void>(notAdded(checked.error(), server.name)));
        return;
    }
    SecretBatch::write(m_keychain, std::move(secrets),
                       [configPath = m_configPath, keychain = m_keychain, server,
                        done = std::move(done)](Result<void> written, QStringList keys) {
                           const QString &name = server.name;
                           if (!written) {
                               rollBack(keychain, name, notAdded(written.error(), name), keys,
                                        done);
                               return;
                           }
                           auto saved = appendToConfig(configPath, server);
                           if (saved) {
                               done({});
                           } else if (saved.error().kind == Error::Kind::Conflict) {
                               // Added by someone else, under the same keys: theirs now.
                               done(notAdded(saved.error(), name));
                           } else {
                               rollBack(keychain, name, notAdded(saved.error(), name), keys, done);
                           }
                       });
}

void ServerEditor::remove(const QString &name, SignOut signOut,
                          std::function<void(Result<QString>)> done)
{
    const auto config = ConfigStore(m_configPath).load();
    if (!config) {
        answerLater(this, std::move(done), Result<QString>(notRemoved(config.error(), name)));
        return;
    }
    const ServerConfig *found = config.value().server(name);
    if (!found) {
        answerLater(this, std::move(done),
                    Result<QString>(Error::make(
                            Error::Kind::NotFound,
                            QStringLiteral("There is no server named '%1'.").arg(name))));
        return;
    }
    const ServerConfig server = *found;
    if (server.auth != UpstreamAuth::OAuth || !signOut) {
        removeSignedOut(server, {}, {}, std::move(done));
        return;
    }
    // The tokens are found through the sign-in record, which only the server's name leads to:
    // signed out before the server goes.
    QPointer<ServerEditor> self(this);
    signOut(server, [self, server, done = std::move(done)](Result<QString> signedOut) {
        if (!self)
            return;
        if (signedOut)
            self->removeSignedOut(server, signedOut.value(), {}, done);
        else
            self->removeSignedOut(server, {}, fullStop(signedOut.error().message), done);
    });
}

void ServerEditor::removeSignedOut(const ServerConfig &server, const QString &signOutNote,
                                   const QString &signInLeft,
                                   std::function<void(Result<QString>)> done)
{
    const QString &name = server.name;
    if (auto removed = removeFromConfig(m_configPath, name); !removed) {
        answerLater(this, std::move(done), Result<QString>(notRemoved(removed.error(), name)));
        return;
    }

    QStringList notes;
    if (!signOutNote.isEmpty())
        notes.append(fullStop(signOutNote));
    QStringList keys = secretKeysOf(server);
    if (!signInLeft.isEmpty()) {
        // Kept: without it, nothing would lead to the tokens any more.
        keys.removeAll(SecretKeys::oauthSession(name));
        notes.append(QStringLiteral("The sign-in to '%1' stays in the keychain: %2 Nothing uses "
                                    "it any more. To delete it, add the server again with OAuth "
                                    "and sign out (`mcp-broker logout %1`) once the keychain "
                                    "works.")
                             .arg(name, signInLeft));
    }
    SecretBatch::remove(
            m_keychain, keys,
            [name, notes, service = m_keychain->service(),
             done = std::move(done)](Result<void> removed, QStringList left) mutable {
                if (!removed) {
                    notes.append(QStringLiteral("The secrets of '%1' stay in the keychain (%2): "
                                                "%3 Nothing uses them any more. To delete them, "
                                                "add the server again and remove it once the "
                                                "keychain works, or delete them in your keychain "
                                                "app (service '%4').")
                                         .arg(name, left.join(QStringLiteral(", ")),
                                              fullStop(removed.error().message), service));
                }
                done(notes.join(QLatin1Char('\n')));
            });
}

QStringList ServerEditor::secretKeysOf(const ServerConfig &server)
{
    switch (server.auth) {
    case UpstreamAuth::None:
        return {};
    case UpstreamAuth::Bearer:
        return {SecretKeys::bearer(server.name)};
    case UpstreamAuth::Headers: {
        QStringList keys;
        for (const QString &header : server.secretHeaderNames)
            keys.append(SecretKeys::header(server.name, header));
        return keys;
    }
    case UpstreamAuth::OAuth: {
        // The tokens are the sign-in's (the sign-out removes them).
        QStringList keys{SecretKeys::oauthSession(server.name)};
        if (server.oauth.hasClientSecret)
            keys.append(SecretKeys::oauthClientSecret(server.name));
        return keys;
    }
    }
    return {};
}

} // namespace mcpbroker::store
