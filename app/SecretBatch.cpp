#include "SecretBatch.h"

#include "store/SecretStore.h"
#include "store/ServerConfig.h"

#include <memory>

namespace mcpbroker::app {

QStringList SecretBatch::keysOf(const store::ServerConfig &server)
{
    switch (server.auth) {
    case store::UpstreamAuth::None:
        return {};
    case store::UpstreamAuth::Bearer:
        return {store::SecretKeys::bearer(server.name)};
    case store::UpstreamAuth::Headers: {
        QStringList keys;
        for (const QString &header : server.secretHeaderNames)
            keys.append(store::SecretKeys::header(server.name, header));
        return keys;
    }
    case store::UpstreamAuth::OAuth: {
        // The tokens are the sign-in's (UpstreamAuthorization::signOut removes them).
        QStringList keys{store::SecretKeys::oauthSession(server.name)};
        if (server.oauth.hasClientSecret)
            keys.append(store::SecretKeys::oauthClientSecret(server.name));
        return keys;
    }
    }
    return {};
}

namespace {

struct WriteState
{
    store::SecretStore *store;
    QList<SecretBatch::Secret> secrets;
    QStringList written;
    std::function<void(Result<void>, QStringList)> done;
};

void writeNext(std::shared_ptr<WriteState> state)
{
    const qsizetype index = state->written.size();
    if (index == state->secrets.size()) {
        state->done({}, state->written);
        return;
    }
    const SecretBatch::Secret &secret = state->secrets.at(index);
    state->store->write(secret.key, secret.value, [state, key = secret.key](Result<void> result) {
        if (!result) {
            state->done(result, state->written);
            return;
        }
        state->written.append(key);
        writeNext(state);
    });
}

struct RemoveState
{
    store::SecretStore *store;
    QStringList keys;
    qsizetype next = 0;
    Result<void> firstFailure;
    QStringList left;
    std::function<void(Result<void>, QStringList)> done;
};

void removeNext(std::shared_ptr<RemoveState> state)
{
    if (state->next == state->keys.size()) {
        state->done(state->firstFailure, state->left);
        return;
    }
    const QString key = state->keys.at(state->next++);
    state->store->remove(key, [state, key](Result<void> result) {
        if (!result) {
            if (state->firstFailure)
                state->firstFailure = result;
            state->left.append(key);
        }
        removeNext(state);
    });
}

} // namespace

void SecretBatch::write(store::SecretStore *store, QList<Secret> secrets,
                        std::function<void(Result<void>, QStringList)> done)
{
    writeNext(std::make_shared<WriteState>(
            WriteState{store, std::move(secrets), {}, std::move(done)}));
}

void SecretBatch::remove(store::SecretStore *store, QStringList keys,
                         std::function<void(Result<void>, QStringList)> done)
{
    auto state = std::make_shared<RemoveState>();
    state->store = store;
    state->keys = std::move(keys);
    state->done = std::move(done);
    removeNext(state);
}

} // namespace mcpbroker::app
