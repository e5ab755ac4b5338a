#pragma once

#include "Result.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <functional>

namespace mcpbroker::store {
class SecretStore;
}

namespace mcpbroker::app {

// The stdio bridge's own access grant to the broker's endpoint: a static grant named
// kClientName for every server, made with ClientGrants::createStatic the first time (or when
// the broker no longer knows the one it had), its token kept in the keychain under
// SecretKeys::stdioBridgeToken(config) and in memory while the bridge runs. Never printed.
class StdioBridgeGrant : public QObject
{
    Q_OBJECT
public:
    using Callback = std::function<void(Result<void>)>;

    static inline const QString kClientName = QStringLiteral("stdio bridge");
    // How long a grant that is in the grants file may be refused while the broker takes it in
    // (it follows the file and reads the grant's proof from the keychain).
    static constexpr int kAcceptDeadlineMs = 10'000;
    static constexpr int kRetryDelayMs = 150;

    StdioBridgeGrant(QString configPath, store::SecretStore *keychain, QObject *parent = nullptr);
    ~StdioBridgeGrant() override; // wipes the token

    // The token from the keychain; a new grant when there is none. Answers on the event loop.
    void load(Callback done);
    // The broker refused the token (HTTP 401) before a session began: answers (after a short
    // wait) when a request is worth repeating. While the grant is still in the grants file the
    // broker has not taken it in yet; once it is gone a new grant replaces it, once per run.
    // An error when neither helps.
    void renew(Callback done);
    // The broker took the token: a later refusal starts a new wait.
    void noteAccepted() { m_refusedSince.invalidate(); }

    // "Bearer <token>" for the Authorization header (secret).
    QByteArray authorization() const;

private:
    void create(Callback done);
    void keep(QByteArray token, const QString &grantId, Callback done);
    void setToken(QByteArray token);

    QString m_configPath;
    store::SecretStore *m_keychain;
    QByteArray m_token;
    bool m_renewed = false;
    QElapsedTimer m_refusedSince;
};

} // namespace mcpbroker::app
