#include "store/SecretStore.h"

#include "AnswerLater.h"
#include "Logging.h"
#include "store/SecretChunker.h"

#include <QDeadlineTimer>
#include <QPointer>
#include <QTimer>

#include <qt6keychain/keychain.h>

#if defined(Q_OS_UNIX) && !defined(Q_OS_DARWIN)
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusVariant>
#endif

#include <algorithm>
#include <memory>

namespace mcpbroker::store {

namespace {

// Windows Credential Manager limits the size of one entry, so there a secret is split over
// several entries (SecretChunker). Both branches are compiled everywhere so that neither rots.
#ifdef Q_OS_WIN
constexpr bool kChunkedEntries = true;
#else
constexpr bool kChunkedEntries = false;
#endif

// With the Secret Service, deleting from a locked collection neither prompts nor fails: libsecret
// finds no unlocked item, deletes nothing and QtKeychain reports success, so "sign out" would
// leave the token behind. Writing an empty value first does prompt, and fails when the keychain
// stays locked; after it, the delete really deletes.
#if defined(Q_OS_UNIX) && !defined(Q_OS_DARWIN)
constexpr bool kWriteBeforeRemove = true;
#else
constexpr bool kWriteBeforeRemove = false;
#endif

// libsecret reports a secret in a locked collection that it could not unlock (no prompter, or
// the user dismissed the prompt) as missing: the Secret Service is asked whether its default
// collection is locked, so that the user hears "locked" rather than "missing".
#if defined(Q_OS_UNIX) && !defined(Q_OS_DARWIN)
constexpr bool kCheckLockedOnNotFound = true;
#else
constexpr bool kCheckLockedOnNotFound = false;
#endif

enum class Operation { Read, Write, Remove };

QString verb(Operation operation)
{
    switch (operation) {
    case Operation::Read:
        return QStringLiteral("read");
    case Operation::Write:
        return QStringLiteral("store");
    case Operation::Remove:
        return QStringLiteral("remove");
    }
    return {};
}

QString unavailableMessage()
{
    return QStringLiteral("No keychain is available: MCP Broker stores secrets only in the OS "
                          "keychain (Secret Service on Linux, e.g. gnome-keyring or KWallet). "
                          "Start one and try again.");
}

// With libsecret, "no Secret Service on the bus" and "no session bus at all" arrive as
// QKeychain::OtherError with GDBus's message; recognise them so the user hears "no keychain"
// instead of a D-Bus error.
bool meansNoSecretService(const QString &errorString)
{
    static const char *const markers[] = {
            // The Secret Service's bus name: only "nobody owns it" errors mention it (a running
            // service's own errors name object paths like /org/freedesktop/secrets/…).
            "org.freedesktop.secrets",
            "org.freedesktop.DBus.Error.ServiceUnknown",
            "org.freedesktop.DBus.Error.NameHasNoOwner",
            "org.freedesktop.DBus.Error.Spawn",
            "org.freedesktop.DBus.Error.NoServer",
            "Cannot autolaunch D-Bus",
            "Could not connect:", // GDBus: the session bus address leads nowhere
            "DBUS_SESSION_BUS_ADDRESS",
    };
    for (const char *marker : markers) {
        if (errorString.contains(QLatin1String(marker), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

Error mapJobError(QKeychain::Error code, const QString &errorString, Operation operation,
                  const QString &key)
{
    switch (code) {
    case QKeychain::NoError:
        break;
    case QKeychain::EntryNotFound:
        return Error::make(Error::Kind::NotFound,
                           QStringLiteral("The keychain has no secret '%1'.").arg(key));
    case QKeychain::AccessDenied:
    case QKeychain::AccessDeniedByUser:
        return Error::make(Error::Kind::KeychainLocked,
                           QStringLiteral("The keychain is locked or refused access to the "
                                          "secret '%1'. Unlock it (e.g. log in to your desktop "
                                          "keyring) and try again.")
                                   .arg(key));
    case QKeychain::NoBackendAvailable:
        return Error::make(Error::Kind::KeychainUnavailable, unavailableMessage());
    case QKeychain::CouldNotDeleteEntry:
    case QKeychain::NotImplemented:
    case QKeychain::OtherError:
        break;
    }
    if (meansNoSecretService(errorString))
        return Error::make(Error::Kind::KeychainUnavailable, unavailableMessage());
    if (errorString.contains(QLatin1String("/org/freedesktop/secrets/collection/login"))) {
        // A Secret Service without the default ("login") keyring: nothing to store secrets in.
        return Error::make(Error::Kind::KeychainUnavailable,
                           QStringLiteral("The keychain has no default keyring to keep secrets "
                                          "in. Create one (for example in \"Passwords and "
                                          "Keys\") and try again."));
    }
    // QtKeychain's error strings describe the failure, never the secret.
    return Error::make(Error::Kind::Generic,
                       QStringLiteral("The keychain could not %1 the secret '%2': %3")
                               .arg(verb(operation), key, errorString));
}

Error lockedError(const QString &key)
{
    return Error::make(Error::Kind::KeychainLocked,
                       QStringLiteral("The keychain is locked, so the secret '%1' cannot be "
                                      "read. Unlock it (e.g. log in to your desktop keyring) and "
                                      "try again.")
                               .arg(key));
}

Error timeoutError(int timeoutMs)
{
    return Error::make(Error::Kind::KeychainLocked,
                       QStringLiteral("The keychain did not answer within %1 seconds: it may be "
                                      "locked. Unlock it (e.g. log in to your desktop keyring) "
                                      "and try again.")
                               .arg(QString::number(timeoutMs / 1000.0, 'g', 3)));
}

// Where and how one keychain entry is accessed: the store (whose lifetime bounds every answer),
// the service name, and the deadline of the whole public call.
struct Access
{
    QObject *owner = nullptr;
    QString service;
    int timeoutMs = 0;
    QDeadlineTimer deadline;
};

// Starts `job` and delivers exactly one answer, on the event loop: QtKeychain's (`onAnswer`) or,
// when `access.deadline` runs out first, a timeout (`onTimeout`). Both are delivered through a
// context object owned by the store: destroying it (after the answer, or with the store) drops
// the connections, so a late answer from QtKeychain is ignored.
//
// The job itself is never deleted while it runs: QtKeychain's libsecret backend keeps a raw
// pointer to it until D-Bus answers. It has no parent and deletes itself (autoDelete) when it
// finishes; one that never finishes stays allocated, which is the price of not crashing.
void runJob(const Access &access, QKeychain::Job *job,
            std::function<void(QKeychain::Job *)> onAnswer, std::function<void()> onTimeout)
{
    job->setAutoDelete(true);
    job->setInsecureFallback(false); // never a plaintext file, whatever the build's default

    auto *context = new QObject(access.owner);
    auto answered = std::make_shared<bool>(false);

    auto *timer = new QTimer(context);
    timer->setSingleShot(true);
    QObject::connect(timer, &QTimer::timeout, context, [context, answered, onTimeout] {
        if (*answered)
            return;
        *answered = true;
        context->deleteLater();
        onTimeout();
    });
    QObject::connect(job, &QKeychain::Job::finished, context,
                     [context, answered, onAnswer](QKeychain::Job *finished) {
                         if (*answered)
                             return;
                         *answered = true;
                         context->deleteLater();
                         onAnswer(finished);
                     });
    timer->start(std::max<qint64>(0, access.deadline.remainingTime()));
    job->start(); // QtKeychain starts (and answers) on the event loop, never inside start()
}

using ReadCallback = SecretStore::ReadCallback;
using DoneCallback = SecretStore::DoneCallback;

// Answers whether the Secret Service's default collection is locked (false when it cannot
// tell), on the event loop and within what is left of `access.deadline`.
void askWhetherLocked(const Access &access, std::function<void(bool locked)> done)
{
#if defined(Q_OS_UNIX) && !defined(Q_OS_DARWIN)
    QDBusMessage get = QDBusMessage::createMethodCall(
            QStringLiteral("org.freedesktop.secrets"),
            QStringLiteral("/org/freedesktop/secrets/aliases/default"),
            QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Get"));
    get << QStringLiteral("org.freedesktop.Secret.Collection") << QStringLiteral("Locked");
    const int timeoutMs = int(std::clamp<qint64>(access.deadline.remainingTime(), 1, 60'000));
    auto *watcher = new QDBusPendingCallWatcher(
            QDBusConnection::sessionBus().asyncCall(get, timeoutMs), access.owner);
    QObject::connect(watcher, &QDBusPendingCallWatcher::finished, watcher,
                     [watcher, done = std::move(done)] {
                         watcher->deleteLater();
                         const QDBusMessage reply = watcher->reply();
                         done(reply.type() == QDBusMessage::ReplyMessage
                              && !reply.arguments().isEmpty()
                              && qvariant_cast<QDBusVariant>(reply.arguments().constFirst())
                                         .variant()
                                         .toBool());
                     });
#else
    answerLater(access.owner, std::move(done), false);
#endif
}

void readEntry(const Access &access, const QString &key, ReadCallback done)
{
    auto *job = new QKeychain::ReadPasswordJob(access.service);
    job->setKey(key);
    const int timeoutMs = access.timeoutMs;
    runJob(
            access, job,
            [access, key, done](QKeychain::Job *finished) {
                if (finished->error() != QKeychain::NoError) {
                    const Error error = mapJobError(finished->error(), finished->errorString(),
                                                    Operation::Read, key);
                    if (error.kind == Error::Kind::NotFound && kCheckLockedOnNotFound) {
                        askWhetherLocked(access, [key, done, error](bool locked) {
                            if (locked)
                                qCWarning(lcStore) << "Keychain read of" << key
                                                   << "failed: the keychain is locked";
                            else
                                qCDebug(lcStore) << "No secret" << key << "in the keychain";
                            done(locked ? lockedError(key) : error);
                        });
                        return;
                    }
                    if (error.kind == Error::Kind::NotFound)
                        qCDebug(lcStore) << "No secret" << key << "in the keychain";
                    else
                        qCWarning(lcStore) << "Keychain read of" << key
                                           << "failed:" << finished->errorString();
                    done(error);
                    return;
                }
                qCDebug(lcStore) << "Read secret" << key << "from the keychain";
                done(static_cast<QKeychain::ReadPasswordJob *>(finished)->binaryData());
            },
            [key, done, timeoutMs] {
                qCWarning(lcStore) << "Keychain read of" << key << "timed out";
                done(timeoutError(timeoutMs));
            });
}

void writeEntry(const Access &access, const QString &key, const QByteArray &secret,
                DoneCallback done, Operation operation = Operation::Write)
{
    auto *job = new QKeychain::WritePasswordJob(access.service);
    job->setKey(key);
    // Binary, so that any bytes (NUL included) survive; QtKeychain encodes it for the backend.
    job->setBinaryData(secret);
    const int timeoutMs = access.timeoutMs;
    runJob(
            access, job,
            [key, done, operation](QKeychain::Job *finished) {
                if (finished->error() != QKeychain::NoError) {
                    qCWarning(lcStore)
                            << "Keychain write of" << key << "failed:" << finished->errorString();
                    done(mapJobError(finished->error(), finished->errorString(), operation, key));
                    return;
                }
                qCDebug(lcStore) << "Stored secret" << key << "in the keychain";
                done({});
            },
            [key, done, timeoutMs] {
                qCWarning(lcStore) << "Keychain write of" << key << "timed out";
                done(timeoutError(timeoutMs));
            });
}

void deleteEntry(const Access &access, const QString &key, DoneCallback done)
{
    auto *job = new QKeychain::DeletePasswordJob(access.service);
    job->setKey(key);
    const int timeoutMs = access.timeoutMs;
    runJob(
            access, job,
            [key, done](QKeychain::Job *finished) {
                const auto code = finished->error();
                if (code != QKeychain::NoError && code != QKeychain::EntryNotFound) {
                    qCWarning(lcStore)
                            << "Keychain removal of" << key << "failed:" << finished->errorString();
                    done(mapJobError(code, finished->errorString(), Operation::Remove, key));
                    return;
                }
                qCDebug(lcStore) << "Removed secret" << key << "from the keychain";
                done({});
            },
            [key, done, timeoutMs] {
                qCWarning(lcStore) << "Keychain removal of" << key << "timed out";
                done(timeoutError(timeoutMs));
            });
}

void removeEntry(const Access &access, const QString &key, DoneCallback done)
{
    if constexpr (!kWriteBeforeRemove) {
        deleteEntry(access, key, std::move(done));
        return;
    }
    writeEntry(
            access, key, QByteArray(),
            [access, key, done](Result<void> unlocked) {
                if (!unlocked) {
                    done(unlocked);
                    return;
                }
                deleteEntry(access, key, done);
            },
            Operation::Remove);
}

// Runs step(index, next) for index = from … to-1, one after the other; `next` continues with the
// following index or stops with an error. `done` gets the first error or success.
void sequence(int from, int to, std::function<void(int, DoneCallback)> step, DoneCallback done)
{
    if (from >= to) {
        done({});
        return;
    }
    step(from, [from, to, step, done](Result<void> result) {
        if (!result) {
            done(result);
            return;
        }
        sequence(from + 1, to, step, done);
    });
}

// Windows: chunk 0 (with the header) under `key`, the others under "key.1", "key.2", …

void readChunked(const Access &access, const QString &key, ReadCallback done)
{
    readEntry(access, key, [access, key, done](Result<QByteArray> first) {
        if (!first) {
            done(first.error());
            return;
        }
        const auto count = SecretChunker::chunkCount(first.value());
        if (!count) {
            done(count.error());
            return;
        }
        auto chunks = std::make_shared<QList<QByteArray>>();
        chunks->append(first.value());
        sequence(
                1, count.value(),
                [access, key, chunks](int index, DoneCallback next) {
                    readEntry(access, SecretChunker::chunkKey(key, index),
                              [chunks, next](Result<QByteArray> chunk) {
                                  if (!chunk) {
                                      next(chunk.error());
                                      return;
                                  }
                                  chunks->append(chunk.value());
                                  next({});
                              });
                },
                [chunks, done](Result<void> result) {
                    if (!result) {
                        done(result.error());
                        return;
                    }
                    done(SecretChunker::join(*chunks));
                });
    });
}

void removeChunked(const Access &access, const QString &key, DoneCallback done)
{
    // The first entry's header says how many parts there are; remove the parts, then the first.
    readEntry(access, key, [access, key, done](Result<QByteArray> first) {
        if (!first) {
            if (first.error().kind == Error::Kind::NotFound)
                done({});
            else
                done(first.error());
            return;
        }
        const auto count = SecretChunker::chunkCount(first.value());
        sequence(
                1, count ? count.value() : 1,
                [access, key](int index, DoneCallback next) {
                    removeEntry(access, SecretChunker::chunkKey(key, index), next);
                },
                [access, key, done](Result<void> result) {
                    if (!result) {
                        done(result);
                        return;
                    }
                    removeEntry(access, key, done);
                });
    });
}

void writeChunked(const Access &access, const QString &key, const QByteArray &secret,
                  DoneCallback done)
{
    auto chunks = SecretChunker::split(secret);
    if (!chunks) {
        done(chunks.error());
        return;
    }
    auto parts = std::make_shared<QList<QByteArray>>(std::move(chunks).value());
    // Remove the old value's parts first (it may have had more), then write the parts and the
    // first entry last, so that a header never points at parts that are not there yet.
    removeChunked(access, key, [access, key, parts, done](Result<void> removed) {
        if (!removed) {
            done(removed);
            return;
        }
        sequence(
                1, static_cast<int>(parts->size()),
                [access, key, parts](int index, DoneCallback next) {
                    writeEntry(access, SecretChunker::chunkKey(key, index), parts->at(index), next);
                },
                [access, key, parts, done](Result<void> result) {
                    if (!result) {
                        done(result);
                        return;
                    }
                    writeEntry(access, key, parts->first(), done);
                });
    });
}

Error emptyKeyError()
{
    return Error::make(
            Error::Kind::InvalidInput,
            QStringLiteral("A keychain entry needs a name; this is a bug in MCP Broker."));
}

} // namespace

SecretStore::SecretStore(QString service, int timeoutMs, QObject *parent)
    : QObject(parent), m_service(std::move(service)), m_timeoutMs(std::max(1, timeoutMs))
{ }

void SecretStore::read(const QString &key, ReadCallback done)
{
    qCDebug(lcStore) << "Reading secret" << key;
    if (key.isEmpty())
        return answerLater(this, std::move(done), Result<QByteArray>(emptyKeyError()));
    const Access access{this, m_service, m_timeoutMs, QDeadlineTimer(m_timeoutMs)};
    if constexpr (kChunkedEntries)
        readChunked(access, key, std::move(done));
    else
        readEntry(access, key, std::move(done));
}

void SecretStore::write(const QString &key, const QByteArray &secret, DoneCallback done)
{
    qCDebug(lcStore) << "Storing secret" << key;
    if (key.isEmpty())
        return answerLater(this, std::move(done), Result<void>(emptyKeyError()));
    const Access access{this, m_service, m_timeoutMs, QDeadlineTimer(m_timeoutMs)};
    if constexpr (kChunkedEntries) {
        // Splitting can fail before any job runs; answer on the event loop all the same.
        writeChunked(access, key, secret, [this, done](Result<void> result) {
            answerLater(this, done, std::move(result));
        });
    } else {
        writeEntry(access, key, secret, std::move(done));
    }
}

void SecretStore::remove(const QString &key, DoneCallback done)
{
    qCDebug(lcStore) << "Removing secret" << key;
    if (key.isEmpty())
        return answerLater(this, std::move(done), Result<void>(emptyKeyError()));
    const Access access{this, m_service, m_timeoutMs, QDeadlineTimer(m_timeoutMs)};
    if constexpr (kChunkedEntries)
        removeChunked(access, key, std::move(done));
    else
        removeEntry(access, key, std::move(done));
}

} // namespace mcpbroker::store
