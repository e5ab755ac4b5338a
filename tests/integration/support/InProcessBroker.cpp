#include "InProcessBroker.h"

#include "gateway/ClientGrants.h"
#include "store/SecretStore.h"

#include <QDir>
#include <QFile>
#include <QTest>
#include <QUuid>

#include <optional>

namespace mcpbroker::integration {

namespace {

constexpr int kGrantTimeoutMs = 20'000;
constexpr int kReadyTimeoutMs = 30'000;

std::optional<QByteArray> createGrant(const QString &configPath, const QString &keychainService,
                                      const QString &clientName, QString *why)
{
    store::SecretStore secrets(keychainService);
    gateway::ClientGrants grants(gateway::ClientGrants::grantsPathFor(configPath), &secrets);
    if (auto started = grants.start(false); !started) {
        *why = started.error().message;
        return std::nullopt;
    }
    std::optional<Result<gateway::ClientGrants::IssuedTokens>> issued;
    grants.createStatic(clientName, {}, {}, [&issued](auto result) { issued = std::move(result); });
    if (!QTest::qWaitFor([&issued] { return issued.has_value(); }, kGrantTimeoutMs)) {
        *why = QStringLiteral("the keychain did not answer");
        return std::nullopt;
    }
    if (!issued->ok()) {
        *why = issued->error().message;
        return std::nullopt;
    }
    return issued->value().accessToken;
}

} // namespace

InProcessBroker InProcessBroker::start(const QString &directory, const QByteArray &config,
                                       const QString &clientName, QString *why)
{
    InProcessBroker started;
    started.configPath = QDir(directory).filePath(QStringLiteral("config.json"));
    QFile file(started.configPath);
    if (!file.open(QIODevice::WriteOnly) || file.write(config) != config.size()) {
        *why = QStringLiteral("cannot write %1").arg(started.configPath);
        return started;
    }
    file.close();

    const QString keychainService
            = QStringLiteral("mcp-broker-test-") + QUuid::createUuid().toString(QUuid::Id128);
    const std::optional<QByteArray> token
            = createGrant(started.configPath, keychainService, clientName, why);
    if (!token)
        return started;

    Broker::Options options;
    options.configPath = started.configPath;
    options.port = 0;
    options.keychainService = keychainService;
    options.auditLogPath = QDir(directory).filePath(QStringLiteral("audit.log"));
    auto broker = std::make_unique<Broker>(options);
    if (auto running = broker->start(); !running) {
        *why = running.error().message;
        return started;
    }
    const bool ready = QTest::qWaitFor(
            [&broker] {
                return broker->serverStatuses().value(0).state
                        == Broker::ServerStatus::State::Ready;
            },
            kReadyTimeoutMs);
    if (!ready) {
        *why = QStringLiteral("the first server did not get ready: %1")
                       .arg(broker->serverStatuses().value(0).error);
        return started;
    }
    started.broker = std::move(broker);
    started.token = *token;
    return started;
}

} // namespace mcpbroker::integration
