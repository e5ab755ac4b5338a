#pragma once

#include "Result.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <functional>

namespace mcpbroker::store {

// Secrets in the OS keychain through QtKeychain (Secret Service on Linux, Keychain on macOS,
// Credential Manager on Windows). Asynchronous: every call answers through its callback, on the
// event loop, exactly once, and never later than `timeoutMs` — QtKeychain has no timeout of its
// own, and a locked gnome-keyring under a display can wait for an unlock prompt forever.
// There is no plaintext fallback: with no keychain every call fails with KeychainUnavailable.
// Values are never logged.
class SecretStore : public QObject
{
    Q_OBJECT
public:
    static constexpr int kDefaultTimeoutMs = 15'000;

    explicit SecretStore(QString service = QStringLiteral("mcp-broker"),
                         int timeoutMs = kDefaultTimeoutMs, QObject *parent = nullptr);

    using ReadCallback = std::function<void(Result<QByteArray>)>;
    using DoneCallback = std::function<void(Result<void>)>;

    // A missing key gives Error::Kind::NotFound.
    void read(const QString &key, ReadCallback done);
    void write(const QString &key, const QByteArray &secret, DoneCallback done);
    // Removing a key that does not exist succeeds.
    void remove(const QString &key, DoneCallback done);

    QString service() const { return m_service; }

private:
    QString m_service;
    int m_timeoutMs;
};

} // namespace mcpbroker::store
