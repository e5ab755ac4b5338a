// UpstreamSessions: the gateway::Upstream sessions a test makes, each with a network manager of
// its own (as if each upstream were on its own host: Qt opens at most six connections per host
// and manager, and each upstream keeps one for its GET stream), all deleted by clear() (from the
// test's cleanup()) before their managers.

#pragma once

#include "Result.h"
#include "gateway/Upstream.h"

#include <QList>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QTest>
#include <QUrl>

class UpstreamSessions
{
public:
    using Upstream = mcpbroker::gateway::Upstream;
    static constexpr int kReadyTimeoutMs = 20'000;

    UpstreamSessions() = default;
    UpstreamSessions(const UpstreamSessions &) = delete;
    UpstreamSessions &operator=(const UpstreamSessions &) = delete;
    ~UpstreamSessions() { clear(); }

    // For initTestCase: direct connections, and only the warnings of upstream sessions.
    static void prepare()
    {
        qRegisterMetaType<mcpbroker::gateway::CatalogKind>();
        QLoggingCategory::setFilterRules(QStringLiteral("mcpbroker.*.info=false"));
        QNetworkProxyFactory::setUseSystemConfiguration(false);
        QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
    }

    // Connecting to `url`.
    Upstream *start(const QString &name, const QUrl &url)
    {
        Upstream *upstream = make(name, url);
        upstream->start({});
        return upstream;
    }
    // Connected to `url`; nullptr when it did not get ready in time.
    Upstream *ready(const QString &name, const QUrl &url)
    {
        Upstream *upstream = start(name, url);
        const bool isReady = QTest::qWaitFor(
                [&] { return upstream->state() == Upstream::State::Ready; }, kReadyTimeoutMs);
        return isReady ? upstream : nullptr;
    }
    // Never connected: failed with `why` (as with a locked keychain).
    Upstream *failed(const QString &name, const QString &why)
    {
        Upstream *upstream = make(name, QUrl(QStringLiteral("http://127.0.0.1:9/mcp")));
        upstream->fail(mcpbroker::Error::make(mcpbroker::Error::Kind::KeychainLocked, why));
        return upstream;
    }

    void clear()
    {
        qDeleteAll(m_upstreams);
        m_upstreams.clear();
        qDeleteAll(m_networks);
        m_networks.clear();
    }

private:
    Upstream *make(const QString &name, const QUrl &url)
    {
        mcpbroker::store::ServerConfig config;
        config.name = name;
        config.url = url;
        auto *network = new QNetworkAccessManager;
        m_networks.append(network);
        auto *upstream = new Upstream(config, network);
        m_upstreams.append(upstream);
        return upstream;
    }

    QList<Upstream *> m_upstreams;
    QList<QNetworkAccessManager *> m_networks;
};
