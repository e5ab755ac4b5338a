#include "gateway/UpstreamRegistry.h"

#include "Logging.h"
#include "gateway/Upstream.h"
#include "store/SecretStore.h"

#include <QPointer>

#include <algorithm>

namespace mcpbroker::gateway {

namespace {

bool sameConnection(const store::ServerConfig &a, const store::ServerConfig &b)
{
    return a.url == b.url && a.auth == b.auth && a.secretHeaderNames == b.secretHeaderNames
            && a.oauth == b.oauth && a.requestTimeoutMs == b.requestTimeoutMs;
}

// Where each credential of a server lives in the keychain, and the header it becomes.
struct CredentialSlot
{
    QString key;
    QByteArray headerName;
    QByteArray valuePrefix;
};

QList<CredentialSlot> credentialSlots(const store::ServerConfig &config)
{
    switch (config.auth) {
    case store::UpstreamAuth::None:
    case store::UpstreamAuth::OAuth: // tokens come from the sign-in (UpstreamAuthorization)
        return {};
    case store::UpstreamAuth::Bearer:
        return {{store::SecretKeys::bearer(config.name), "Authorization", "Bearer "}};
    case store::UpstreamAuth::Headers: {
        QList<CredentialSlot> credentials;
        for (const QString &header : config.secretHeaderNames)
            credentials.append(
                    {store::SecretKeys::header(config.name, header), header.toLatin1(), {}});
        return credentials;
    }
    }
    return {};
}

} // namespace

UpstreamRegistry::UpstreamRegistry(store::SecretStore *secrets, oauth::BrowserLauncher *browser,
                                   QObject *parent)
    : QObject(parent), m_secrets(secrets), m_browser(browser)
{ }

UpstreamRegistry::~UpstreamRegistry() = default;

void UpstreamRegistry::apply(const QList<store::ServerConfig> &servers)
{
    std::vector<std::unique_ptr<Upstream>> next;
    bool changed = false;
    for (const store::ServerConfig &config : servers) {
        if (!config.enabled)
            continue;
        auto existing = std::find_if(m_upstreams.begin(), m_upstreams.end(), [&](const auto &u) {
            return u && u->name() == config.name && sameConnection(u->config(), config);
        });
        if (existing != m_upstreams.end()) {
            next.push_back(std::move(*existing));
        } else {
            auto upstream = std::make_unique<Upstream>(config, nullptr, this);
            if (config.auth == store::UpstreamAuth::OAuth)
                upstream->useOAuth(m_secrets, m_browser);
            const QString name = config.name;
            connect(upstream.get(), &Upstream::stateChanged, this,
                    [this, name] { Q_EMIT upstreamStateChanged(name); });
            connect(upstream.get(), &Upstream::catalogChanged, this,
                    [this, name](CatalogKind kind) { Q_EMIT catalogChanged(name, kind); });
            connect(upstream.get(), &Upstream::serverMessage, this,
                    [this, name](const nlohmann::json &message) {
                        Q_EMIT serverMessage(name, message);
                    });
            next.push_back(std::move(upstream));
            changed = true;
        }
    }
    changed = changed || std::any_of(m_upstreams.begin(), m_upstreams.end(), [](const auto &u) {
                  return bool(u);
              });
    m_upstreams = std::move(next); // the ones left out end their sessions here
    for (const auto &upstream : m_upstreams)
        loadCredentials(upstream.get());
    if (changed)
        Q_EMIT upstreamsChanged();
}

Upstream *UpstreamRegistry::find(const QString &name) const
{
    for (const auto &upstream : m_upstreams) {
        if (upstream->name() == name)
            return upstream.get();
    }
    return nullptr;
}

QList<Upstream *> UpstreamRegistry::upstreams() const
{
    QList<Upstream *> list;
    for (const auto &upstream : m_upstreams)
        list.append(upstream.get());
    return list;
}

void UpstreamRegistry::loadCredentials(Upstream *upstream)
{
    const QList<CredentialSlot> credentials = credentialSlots(upstream->config());
    auto headers = std::make_shared<Upstream::Headers>();
    auto remaining = std::make_shared<int>(int(credentials.size()));
    auto failed = std::make_shared<bool>(false);
    QPointer<Upstream> guard(upstream);
    auto finishOne = [guard, headers, remaining, failed] {
        if (--*remaining > 0 || *failed || !guard)
            return;
        // Keychain reads finish in any order; sorted headers compare equal across reloads.
        std::sort(headers->begin(), headers->end());
        if (!guard->hasHeaders(*headers))
            guard->start(*headers);
    };
    if (credentials.isEmpty()) {
        ++*remaining;
        finishOne();
        return;
    }
    for (const CredentialSlot &slot : credentials) {
        m_secrets->read(
                slot.key, [guard, headers, failed, finishOne, slot](Result<QByteArray> secret) {
                    if (!guard || *failed)
                        return;
                    if (!secret) {
                        *failed = true;
                        const QString what = secret.error().kind == Error::Kind::NotFound
                                ? QStringLiteral(
                                        "its credential is missing from the keychain; add the "
                                        "server again with `mcp-broker add`")
                                : secret.error().message;
                        guard->fail(Error::make(
                                secret.error().kind,
                                QStringLiteral("Server '%1': %2").arg(guard->name(), what)));
                        return;
                    }
                    headers->append({slot.headerName, slot.valuePrefix + secret.value()});
                    finishOne();
                });
    }
}

} // namespace mcpbroker::gateway
