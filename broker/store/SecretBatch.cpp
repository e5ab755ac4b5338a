#include "store/SecretBatch.h"

#include "store/SecretBytes.h"
#include "store/SecretStore.h"

#include <QMetaObject>

#include <memory>

namespace mcpbroker::store {

namespace {

struct WriteState
{
    SecretStore *store = nullptr;
    QList<ServerEditor::Secret> secrets;
    QStringList written;
    std::function<void(Result<void>, QStringList)> done;

    WriteState() = default;
    WriteState(const WriteState &) = delete;
    WriteState &operator=(const WriteState &) = delete;
    // Also when the store goes away before the last answer and drops the callbacks.
    ~WriteState() { SecretBatch::wipe(secrets); }

    void finish(const Result<void> &result)
    {
        SecretBatch::wipe(secrets);
        done(result, written);
    }
};

void writeNext(const std::shared_ptr<WriteState> &state)
{
    const qsizetype index = state->written.size();
    if (index == state->secrets.size()) {
        state->finish({});
        return;
    }
    const ServerEditor::Secret &secret = state->secrets.at(index);
    state->store->write(secret.key, secret.value, [state, key = secret.key](Result<void> result) {
        if (!result) {
            state->finish(result);
            return;
        }
        state->written.append(key);
        writeNext(state);
    });
}

struct RemoveState
{
    SecretStore *store = nullptr;
    QStringList keys;
    qsizetype next = 0;
    Result<void> firstFailure;
    QStringList left;
    std::function<void(Result<void>, QStringList)> done;
};

void removeNext(const std::shared_ptr<RemoveState> &state)
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

// `start` from the event loop (and not once `store` is gone), so that an empty batch answers
// no sooner than a full one.
template<typename Start>
void startLater(SecretStore *store, Start start)
{
    QMetaObject::invokeMethod(store, std::move(start), Qt::QueuedConnection);
}

} // namespace

void SecretBatch::write(SecretStore *store, QList<ServerEditor::Secret> secrets,
                        std::function<void(Result<void>, QStringList)> done)
{
    auto state = std::make_shared<WriteState>();
    state->store = store;
    state->secrets = std::move(secrets);
    state->done = std::move(done);
    startLater(store, [state] { writeNext(state); });
}

void SecretBatch::remove(SecretStore *store, QStringList keys,
                         std::function<void(Result<void>, QStringList)> done)
{
    auto state = std::make_shared<RemoveState>();
    state->store = store;
    state->keys = std::move(keys);
    state->done = std::move(done);
    startLater(store, [state] { removeNext(state); });
}

void SecretBatch::wipe(QList<ServerEditor::Secret> &secrets)
{
    for (ServerEditor::Secret &secret : secrets)
        store::wipe(secret.value);
    secrets.clear();
}

} // namespace mcpbroker::store
