#include "StdioBridgeGrant.h"

#include "AppLogging.h"
#include "Console.h"
#include "gateway/ClientGrants.h"
#include "gateway/GrantFile.h"
#include "gateway/GrantToken.h"
#include "store/SecretStore.h"
#include "store/ServerConfig.h"

#include <QPointer>
#include <QTimer>

#include <openssl/crypto.h>

#include <algorithm>

namespace mcpbroker::app {

namespace {

Error grantError(const QString &message)
{
    return Error::make(Error::Kind::Unauthorized, message);
}

// Answers on the event loop, never inside the call that was given `done`.
void answerLater(QObject *context, StdioBridgeGrant::Callback done, Result<void> result,
                 int delayMs = 0)
{
    QTimer::singleShot(delayMs, context,
                       [done = std::move(done), result = std::move(result)] { done(result); });
}

std::optional<QString> grantIdOf(QByteArrayView token)
{
    const auto parsed = gateway::GrantToken::parse(token);
    if (!parsed || parsed->use != gateway::GrantToken::Use::Static)
        return std::nullopt;
    return parsed->grantId;
}

} // namespace

StdioBridgeGrant::StdioBridgeGrant(QString configPath, store::SecretStore *keychain,
                                   QObject *parent)
    : QObject(parent), m_configPath(std::move(configPath)), m_keychain(keychain)
{ }

StdioBridgeGrant::~StdioBridgeGrant()
{
    setToken({});
}

void StdioBridgeGrant::setToken(QByteArray token)
{
    if (!m_token.isEmpty())
        OPENSSL_cleanse(m_token.data(), size_t(m_token.size()));
    m_token = std::move(token);
}

QByteArray StdioBridgeGrant::authorization() const
{
    return m_token.isEmpty() ? QByteArray() : QByteArrayLiteral("Bearer ") + m_token;
}

void StdioBridgeGrant::load(Callback done)
{
    QPointer<StdioBridgeGrant> guard(this);
    m_keychain->read(
            store::SecretKeys::stdioBridgeToken(m_configPath),
            [this, guard, done = std::move(done)](Result<QByteArray> stored) mutable {
                if (!guard)
                    return;
                if (stored && grantIdOf(stored.value())) {
                    setToken(std::move(stored).value());
                    done({});
                    return;
                }
                if (!stored && stored.error().kind != Error::Kind::NotFound) {
                    done(Error::make(stored.error().kind,
                                     QStringLiteral("The stdio bridge keeps its access grant in "
                                                    "the keychain, which failed: %1")
                                             .arg(Console::sentence(stored.error().message))));
                    return;
                }
                create(std::move(done));
            });
}

void StdioBridgeGrant::renew(Callback done)
{
    if (!m_refusedSince.isValid())
        m_refusedSince.start();
    const auto file = gateway::GrantFile::read(gateway::ClientGrants::grantsPathFor(m_configPath));
    if (!file) {
        answerLater(this, std::move(done), file.error());
        return;
    }
    const auto inFile = [grants = file.value().grants](const std::optional<QString> &id) {
        return id && std::any_of(grants.begin(), grants.end(), [&](const gateway::ClientGrant &g) {
                   return g.id == *id;
               });
    };
    if (inFile(grantIdOf(m_token))) {
        if (m_refusedSince.elapsed() > kAcceptDeadlineMs) {
            const QString message = QStringLiteral(
                    "MCP Broker does not accept the stdio bridge's access grant: revoke it "
                    "(`mcp-broker grant revoke \"%1\"`) and start the bridge again to make a new "
                    "one.");
            answerLater(this, std::move(done), grantError(message.arg(kClientName)));
            return;
        }
        answerLater(this, std::move(done), {}, kRetryDelayMs);
        return;
    }
    // Revoked, or never known to this broker. Another bridge may have made a new one already.
    QPointer<StdioBridgeGrant> guard(this);
    m_keychain->read(
            store::SecretKeys::stdioBridgeToken(m_configPath),
            [this, guard, inFile, done = std::move(done)](Result<QByteArray> stored) mutable {
                if (!guard)
                    return;
                const auto storedId = stored ? grantIdOf(stored.value()) : std::nullopt;
                if (storedId != grantIdOf(m_token) && inFile(storedId)) {
                    setToken(std::move(stored).value());
                    m_refusedSince.restart();
                    done({});
                    return;
                }
                if (m_renewed) {
                    done(grantError(QStringLiteral(
                            "MCP Broker refused the stdio bridge's new access grant as well: "
                            "check `mcp-broker grant list` and the broker's log.")));
                    return;
                }
                m_renewed = true;
                m_refusedSince.restart();
                qCInfo(lcApp) << "The broker no longer knows the stdio bridge's grant; making a "
                                 "new one";
                create(std::move(done));
            });
}

void StdioBridgeGrant::create(Callback done)
{
    auto *grants = new gateway::ClientGrants(gateway::ClientGrants::grantsPathFor(m_configPath),
                                             m_keychain, this);
    if (auto started = grants->start(false); !started) {
        grants->deleteLater();
        answerLater(this, std::move(done), started.error());
        return;
    }
    QPointer<StdioBridgeGrant> guard(this);
    grants->createStatic(
            kClientName, {}, QDateTime(),
            [this, guard, grants,
             done = std::move(done)](Result<gateway::ClientGrants::IssuedTokens> issued) mutable {
                if (!guard)
                    return;
                grants->deleteLater();
                if (!issued) {
                    done(Error::make(issued.error().kind,
                                     QStringLiteral("Could not make the stdio bridge's access "
                                                    "grant: %1")
                                             .arg(Console::sentence(issued.error().message))));
                    return;
                }
                qCInfo(lcApp).noquote()
                        << "Made access grant" << issued.value().grant.id << "for the stdio bridge";
                keep(std::exchange(issued.value().accessToken, {}), issued.value().grant.id,
                     std::move(done));
            });
}

void StdioBridgeGrant::keep(QByteArray token, const QString &grantId, Callback done)
{
    // In use from now on; wiped again if the keychain does not take it.
    setToken(std::move(token));
    QPointer<StdioBridgeGrant> guard(this);
    m_keychain->write(
            store::SecretKeys::stdioBridgeToken(m_configPath), m_token,
            [this, guard, grantId, done = std::move(done)](Result<void> written) mutable {
                if (!guard)
                    return;
                if (written) {
                    done({});
                    return;
                }
                setToken({});
                // Nobody could use the grant after this run: take it back.
                auto *grants = new gateway::ClientGrants(
                        gateway::ClientGrants::grantsPathFor(m_configPath), m_keychain, this);
                if (grants->start(false))
                    grants->revoke(grantId, [grants](auto) { grants->deleteLater(); });
                else
                    grants->deleteLater();
                done(Error::make(written.error().kind,
                                 QStringLiteral("Could not keep the stdio bridge's access grant "
                                                "in the keychain: %1")
                                         .arg(Console::sentence(written.error().message))));
            });
}

} // namespace mcpbroker::app
