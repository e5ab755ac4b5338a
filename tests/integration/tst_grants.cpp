// Local client grants at the broker's endpoint (issue #4): every request to /mcp and
// /mcp/<server> needs `Authorization: Bearer <token>` of a grant made with
// `mcp-broker grant create`; without one the answer is 401 with a challenge that names the
// protected resource metadata (RFC 9728, RFC 6750). A grant may be limited to some servers,
// may expire, and can be revoked from the CLI while the broker runs, which ends its sessions
// and streams at once. Host and Origin checks come first: a grant does not open the door to a
// rebinding page. Tokens appear nowhere but on the one stdout line of `grant create`.
//
// One `mcp-broker serve` (every mcpbroker category at debug) with two fixture upstreams, alpha
// and beta, serves the whole suite; each test makes the grants it needs. The last test stops the
// broker and searches everything it wrote for every token the suite made.

#include "BrokerProcess.h"
#include "McpHttp.h"
#include "PeerClients.h"
#include "Peers.h"
#include "UpstreamServer.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <map>
#include <memory>

using namespace mcpbroker::integration;

namespace {

constexpr int kReadyTimeoutMs = 30'000;
// How long a grant made or revoked by the CLI may take to reach the running broker.
constexpr int kGrantChangeTimeoutMs = 10'000;

RawHeaders bearer(const QByteArray &token)
{
    return {{QByteArray("Authorization"), "Bearer " + token}};
}

QStringList namesIn(const HttpResult &answer, int id, const QString &key, const QString &field)
{
    QStringList names;
    const QJsonArray entries
            = answer.response(id).value(QStringLiteral("result")).toObject().value(key).toArray();
    for (const QJsonValue &entry : entries)
        names << entry.toObject().value(field).toString();
    return names;
}

// The text of a tools/call answer: its first text block, or the JSON-RPC error's message.
QString toolCallText(const HttpResult &answer, int id, bool *isError)
{
    const QJsonObject response = answer.response(id);
    if (response.contains(QStringLiteral("error"))) {
        *isError = true;
        return response.value(QStringLiteral("error"))
                .toObject()
                .value(QStringLiteral("message"))
                .toString();
    }
    const QJsonObject result = response.value(QStringLiteral("result")).toObject();
    *isError = result.isEmpty() || result.value(QStringLiteral("isError")).toBool();
    return result.value(QStringLiteral("content"))
            .toArray()
            .at(0)
            .toObject()
            .value(QStringLiteral("text"))
            .toString();
}

QJsonObject echo(const QString &tool)
{
    return {{QStringLiteral("name"), tool},
            {QStringLiteral("arguments"),
             QJsonObject{{QStringLiteral("text"), QStringLiteral("hi")}}}};
}

} // namespace

class GrantsTest : public QObject
{
    Q_OBJECT

private:
    std::map<QString, std::unique_ptr<UpstreamServer>> m_upstreams;
    std::unique_ptr<BrokerProcess> m_broker;
    McpHttp m_http;                   // sends the broker's default grant
    McpHttp m_anonymous;              // sends none unless a test gives one
    QList<QByteArray> m_tokens;       // every token this run made, for the last test
    QList<CliResult> m_grantCommands; // outputs of `grant …` commands, for the last test
    bool m_brokerStopped = false;
    QByteArray m_earlierBrokerOutput; // of a serve process before a restart

    QString diagnostics() const
    {
        QString text = m_broker ? m_broker->diagnostics() : QString();
        for (const auto &[name, upstream] : m_upstreams)
            text += upstream->diagnostics();
        return text;
    }

    QUrl endpoint(const QString &path) const
    {
        return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_broker->port()).arg(path));
    }

    QByteArray challengeFor(const QString &path) const
    {
        return "Bearer resource_metadata=\"http://127.0.0.1:" + QByteArray::number(m_broker->port())
                + "/.well-known/oauth-protected-resource" + path.toUtf8() + '"';
    }

    // `grant create`, checked; the token is kept for the final search. Empty on failure (the
    // test has failed then).
    QByteArray createGrant(const QString &client, const QStringList &servers = {},
                           const QString &expiresIn = {})
    {
        const GrantCreation created = m_broker->createGrant(client, servers, expiresIn);
        m_grantCommands << created.cli;
        if (!created.succeeded()) {
            QTest::qFail(qPrintable(QStringLiteral("grant create %1 failed").arg(client)
                                    + created.describe()),
                         __FILE__, __LINE__);
            return {};
        }
        m_tokens << created.token;
        if (created.tokenOnStandardError) {
            QTest::qFail("grant create printed the token on stderr too", __FILE__, __LINE__);
            return {};
        }
        return created.token;
    }

    // POST initialize to `path` with `token` until the broker stops answering 401 (a grant made
    // by the CLI reaches the running broker through grants.json and the keychain). The last
    // answer goes to `last`.
    bool waitUntilAccepted(const QByteArray &token, const QString &path, HttpResult *last)
    {
        auto accepted = [&] {
            *last = m_anonymous.post(endpoint(path),
                                     McpHttp::initializeRequest(QStringLiteral("2025-11-25")),
                                     bearer(token), 5'000);
            return last->status != 401 && last->status != 0;
        };
        return QTest::qWaitFor(accepted, kGrantChangeTimeoutMs);
    }

    // `grant list --json`'s entry for `client` (empty when there is none: see `why`).
    QJsonObject grantEntry(const QString &client, QString *why)
    {
        const CliResult listed = m_broker->run(
                {QStringLiteral("grant"), QStringLiteral("list"), QStringLiteral("--json")});
        m_grantCommands << listed;
        if (!listed.succeeded()) {
            *why = QStringLiteral("grant list --json failed") + listed.describe();
            return {};
        }
        const QJsonDocument document = QJsonDocument::fromJson(listed.out);
        if (!document.object().value(QStringLiteral("grants")).isArray()) {
            *why = QStringLiteral("grant list --json printed no {\"grants\": [...]}")
                    + listed.describe();
            return {};
        }
        for (const QJsonValue &grant :
             document.object().value(QStringLiteral("grants")).toArray()) {
            if (grant.toObject().value(QStringLiteral("client")).toString() == client)
                return grant.toObject();
        }
        *why = QStringLiteral("grant list --json has no grant for %1").arg(client)
                + listed.describe();
        return {};
    }

    QList<QByteArray> tokenSecrets() const
    {
        QList<QByteArray> secrets;
        for (const QByteArray &token : m_tokens)
            secrets << grantTokenSecret(token);
        return secrets;
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString missing = Peers::missing();
        QVERIFY2(missing.isEmpty(), qPrintable(missing));
        for (const QString &name : {QStringLiteral("alpha"), QStringLiteral("beta")}) {
            m_upstreams[name] = UpstreamServer::fixture(name);
            m_upstreams[name]->start();
        }
        for (const auto &[name, upstream] : m_upstreams)
            QVERIFY2(upstream->waitUntilListening(), qPrintable(upstream->diagnostics()));
        m_broker = std::make_unique<BrokerProcess>();
        // At debug level: the final search for tokens in its output then means something.
        m_broker->environment().insert(QStringLiteral("QT_LOGGING_RULES"),
                                       QStringLiteral("mcpbroker.*.debug=true"));
        for (const auto &[name, upstream] : m_upstreams) {
            const CliResult added = m_broker->add(name, upstream->url());
            QVERIFY2(added.succeeded(), qPrintable(added.describe()));
        }
        QVERIFY2(m_broker->start(), qPrintable(diagnostics()));
        m_tokens << m_broker->token();
        m_http.setDefaultHeaders(m_broker->authorization());
        QString status;
        QVERIFY2(m_broker->waitUntilReady({QStringLiteral("alpha"), QStringLiteral("beta")},
                                          kReadyTimeoutMs, &status),
                 qPrintable(status + diagnostics()));
    }

    void cleanup()
    {
        if (!m_brokerStopped)
            QVERIFY2(
                    m_broker->isRunning(),
                    qPrintable(QStringLiteral("the broker died during this test") + diagnostics()));
    }

    void cleanupTestCase()
    {
        m_broker.reset();
        m_upstreams.clear();
        const QStringList survivors = PeerProcess::survivors();
        QVERIFY2(survivors.isEmpty(), qPrintable(survivors.join(QLatin1Char('\n'))));
    }

    void requestWithoutGrantGets401WithResourceMetadata_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("aggregated") << QStringLiteral("/mcp");
        QTest::newRow("per server") << QStringLiteral("/mcp/alpha");
    }

    void requestWithoutGrantGets401WithResourceMetadata()
    {
        QFETCH(QString, path);
        const HttpResult answer = m_anonymous.post(
                endpoint(path), McpHttp::initializeRequest(QStringLiteral("2025-11-25")));
        QVERIFY2(answer.status == 401, qPrintable(answer.describe()));
        // No token, so no error code (RFC 6750 section 3.1): only where to learn more.
        QCOMPARE(answer.header("WWW-Authenticate"), challengeFor(path));
        QVERIFY(answer.header("Mcp-Session-Id").isEmpty());
        const QList<QJsonObject> messages = answer.messages();
        QVERIFY2(messages.size() == 1, qPrintable(answer.describe()));
        QCOMPARE(messages.first().value(QStringLiteral("jsonrpc")).toString(),
                 QStringLiteral("2.0"));
        QVERIFY2(!messages.first()
                          .value(QStringLiteral("error"))
                          .toObject()
                          .value(QStringLiteral("message"))
                          .toString()
                          .isEmpty(),
                 qPrintable(answer.describe()));

        // The metadata it points to answers, without a grant, naming this endpoint as the
        // protected resource.
        const QUrl metadataUrl(QString::fromLatin1(
                challengeFor(path).mid(int(qstrlen("Bearer resource_metadata=\""))).chopped(1)));
        const HttpResult metadata = m_anonymous.get(metadataUrl);
        QVERIFY2(metadata.status == 200, qPrintable(metadata.describe()));
        QVERIFY2(metadata.header("Content-Type").startsWith("application/json"),
                 qPrintable(metadata.describe()));
        const QJsonObject document = QJsonDocument::fromJson(metadata.body).object();
        QCOMPARE(document.value(QStringLiteral("resource")).toString(), endpoint(path).toString());
    }

    void wrongTokenGets401InvalidToken_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("unknown grant") << QStringLiteral("unknown grant");
        QTest::newRow("known grant, wrong secret") << QStringLiteral("wrong secret");
        QTest::newRow("not a broker token") << QStringLiteral("foreign");
    }

    void wrongTokenGets401InvalidToken()
    {
        QFETCH(QString, kind);
        QByteArray token;
        if (kind == QLatin1String("unknown grant")) {
            token = "mcpb_g" + randomSecret({}).left(12) + '_' + randomSecret({});
        } else if (kind == QLatin1String("wrong secret")) {
            const QByteArray real = m_broker->token();
            const QByteArray secret = grantTokenSecret(real);
            QVERIFY2(secret != real, "the default token has not the form mcpb_<id>_<secret>");
            token = real.chopped(secret.size()) + randomSecret({});
        } else {
            token = randomSecret("not-mcpb-");
        }
        for (const QString &path : {QStringLiteral("/mcp"), QStringLiteral("/mcp/alpha")}) {
            const HttpResult answer = m_anonymous.post(
                    endpoint(path), McpHttp::initializeRequest(QStringLiteral("2025-11-25")),
                    bearer(token));
            QVERIFY2(answer.status == 401, qPrintable(path + QLatin1Char(' ') + answer.describe()));
            const QByteArray challenge = answer.header("WWW-Authenticate");
            QVERIFY2(challenge.startsWith(challengeFor(path) + ", error=\"invalid_token\""),
                     challenge.constData());
            QVERIFY2(challenge.contains(", error_description=\""), challenge.constData());
            QVERIFY(answer.header("Mcp-Session-Id").isEmpty());
            // The answer does not echo what was sent.
            QVERIFY(!challenge.contains(grantTokenSecret(token)));
            QVERIFY(!answer.body.contains(grantTokenSecret(token)));
            QVERIFY2(answer.response(1).isEmpty() && answer.messages().size() == 1
                             && answer.messages().first().contains(QStringLiteral("error")),
                     qPrintable(answer.describe()));
        }
    }

    void revokedGrantGets401AndItsSseStreamCloses()
    {
        const QByteArray token = createGrant(QStringLiteral("revokee"));
        QVERIFY(!token.isEmpty());
        HttpResult last;
        QVERIFY2(waitUntilAccepted(token, QStringLiteral("/mcp"), &last),
                 qPrintable(QStringLiteral("the broker never accepted the new grant: ")
                            + last.describe()));

        // A session with its standalone stream on each kind of endpoint.
        McpHttp http;
        http.setDefaultHeaders(bearer(token));
        McpSession sessions[2];
        std::unique_ptr<EventStream> streams[2];
        const QString paths[2] = {QStringLiteral("/mcp"), QStringLiteral("/mcp/alpha")};
        for (int i = 0; i < 2; ++i) {
            QString why;
            QVERIFY2(
                    http.open(endpoint(paths[i]), QStringLiteral("2025-11-25"), &sessions[i], &why),
                    qPrintable(why));
            streams[i] = http.openEventStream(sessions[i]);
            QTRY_VERIFY2_WITH_TIMEOUT(streams[i]->status() != 0, qPrintable(streams[i]->describe()),
                                      10'000);
            QCOMPARE(streams[i]->status(), 200);
        }

        const CliResult revoked = m_broker->revokeGrant(QStringLiteral("revokee"));
        m_grantCommands << revoked;
        QVERIFY2(revoked.succeeded(), qPrintable(revoked.describe()));

        for (int i = 0; i < 2; ++i) {
            QTRY_VERIFY2_WITH_TIMEOUT(
                    !streams[i]->isOpen(),
                    qPrintable(paths[i] + QLatin1Char(' ') + streams[i]->describe()),
                    kGrantChangeTimeoutMs);
            const HttpResult after = http.call(sessions[i], QStringLiteral("ping"));
            QVERIFY2(after.status == 401,
                     qPrintable(paths[i] + QLatin1Char(' ') + after.describe()));
            QVERIFY2(after.header("WWW-Authenticate").contains("error=\"invalid_token\""),
                     after.header("WWW-Authenticate").constData());
        }
        const HttpResult again
                = http.post(endpoint(QStringLiteral("/mcp")),
                            McpHttp::initializeRequest(QStringLiteral("2025-11-25")));
        QVERIFY2(again.status == 401, qPrintable(again.describe()));

        // Other grants are untouched.
        McpSession other;
        QString why;
        QVERIFY2(m_http.open(endpoint(QStringLiteral("/mcp")), QStringLiteral("2025-11-25"), &other,
                             &why),
                 qPrintable(why));
        QVERIFY(grantEntry(QStringLiteral("revokee"), &why).isEmpty());
    }

    void expiredGrantGets401()
    {
        const QByteArray token
                = createGrant(QStringLiteral("short-lived"), {}, QStringLiteral("2s"));
        QVERIFY(!token.isEmpty());
        QString why;
        const QJsonObject entry = grantEntry(QStringLiteral("short-lived"), &why);
        QVERIFY2(!entry.isEmpty(), qPrintable(why));
        const QDateTime expiresAt = QDateTime::fromString(
                entry.value(QStringLiteral("expiresAt")).toString(), Qt::ISODateWithMs);
        QVERIFY2(expiresAt.isValid(), qPrintable(QJsonDocument(entry).toJson()));
        QVERIFY2(expiresAt <= QDateTime::currentDateTimeUtc().addSecs(3),
                 qPrintable(QJsonDocument(entry).toJson()));

        // It works until it expires…
        HttpResult first;
        QVERIFY2(waitUntilAccepted(token, QStringLiteral("/mcp"), &first),
                 qPrintable(QStringLiteral("never accepted before it expired: ")
                            + first.describe()));
        QVERIFY2(first.status == 200, qPrintable(first.describe()));
        McpSession session{
                endpoint(QStringLiteral("/mcp")), first.header("Mcp-Session-Id"), "2025-11-25", {}};
        QVERIFY(!session.id.isEmpty());

        // …then neither its session nor a new one.
        HttpResult later;
        auto refused = [&] {
            later = m_anonymous.postInSession(
                    session, McpHttp::request(QStringLiteral("ping"), {}, 3), bearer(token));
            return later.status == 401;
        };
        QTRY_VERIFY2_WITH_TIMEOUT(refused(), qPrintable(later.describe()), 15'000);
        QVERIFY2(later.header("WWW-Authenticate").contains("error=\"invalid_token\""),
                 later.header("WWW-Authenticate").constData());
        const HttpResult fresh = m_anonymous.post(
                endpoint(QStringLiteral("/mcp")),
                McpHttp::initializeRequest(QStringLiteral("2025-11-25")), bearer(token));
        QVERIFY2(fresh.status == 401, qPrintable(fresh.describe()));
        QVERIFY2(QDateTime::currentDateTimeUtc() >= expiresAt,
                 "refused before the grant's expiresAt");
    }

    void grantLimitedToOneServerSeesOnlyThatServer()
    {
        const QByteArray token
                = createGrant(QStringLiteral("alpha-only"), {QStringLiteral("alpha")});
        QVERIFY(!token.isEmpty());
        HttpResult last;
        QVERIFY2(waitUntilAccepted(token, QStringLiteral("/mcp/alpha"), &last),
                 qPrintable(last.describe()));
        McpHttp http;
        http.setDefaultHeaders(bearer(token));

        McpSession aggregated;
        QString why;
        QVERIFY2(http.open(endpoint(QStringLiteral("/mcp")), QStringLiteral("2025-11-25"),
                           &aggregated, &why),
                 qPrintable(why));
        const QStringList tools
                = namesIn(http.call(aggregated, QStringLiteral("tools/list"), {}, 2), 2,
                          QStringLiteral("tools"), QStringLiteral("name"));
        QVERIFY2(tools.contains(QStringLiteral("alpha__echo")), qPrintable(tools.join(u' ')));
        for (const QString &tool : tools)
            QVERIFY2(tool.startsWith(QLatin1String("alpha__")), qPrintable(tool));
        const QStringList prompts
                = namesIn(http.call(aggregated, QStringLiteral("prompts/list"), {}, 3), 3,
                          QStringLiteral("prompts"), QStringLiteral("name"));
        QVERIFY2(!prompts.isEmpty(), "no prompts listed");
        for (const QString &prompt : prompts)
            QVERIFY2(prompt.startsWith(QLatin1String("alpha__")), qPrintable(prompt));
        const QStringList resources
                = namesIn(http.call(aggregated, QStringLiteral("resources/list"), {}, 4), 4,
                          QStringLiteral("resources"), QStringLiteral("uri"));
        for (const QString &uri : resources)
            QVERIFY2(uri.startsWith(QLatin1String("alpha+")), qPrintable(uri));

        // A tool of the other server, called by a name the client guessed, does not run.
        bool isError = false;
        const HttpResult beta = http.call(aggregated, QStringLiteral("tools/call"),
                                          echo(QStringLiteral("beta__echo")), 5);
        const QString betaText = toolCallText(beta, 5, &isError);
        QVERIFY2(isError && !betaText.contains(QLatin1String("beta: hi")),
                 qPrintable(beta.describe()));
        const HttpResult alpha = http.call(aggregated, QStringLiteral("tools/call"),
                                           echo(QStringLiteral("alpha__echo")), 6);
        QCOMPARE(toolCallText(alpha, 6, &isError), QStringLiteral("alpha: hi"));
        QVERIFY(!isError);

        // The other server's own endpoint is forbidden; its own works.
        const HttpResult forbidden
                = http.post(endpoint(QStringLiteral("/mcp/beta")),
                            McpHttp::initializeRequest(QStringLiteral("2025-11-25")));
        QVERIFY2(forbidden.status == 403, qPrintable(forbidden.describe()));
        QVERIFY(forbidden.header("Mcp-Session-Id").isEmpty());
        McpSession own;
        QVERIFY2(http.open(endpoint(QStringLiteral("/mcp/alpha")), QStringLiteral("2025-11-25"),
                           &own, &why),
                 qPrintable(why));
        QCOMPARE(toolCallText(http.call(own, QStringLiteral("tools/call"),
                                        echo(QStringLiteral("echo")), 7),
                              7, &isError),
                 QStringLiteral("alpha: hi"));

        QVERIFY2(grantEntry(QStringLiteral("alpha-only"), &why)
                                 .value(QStringLiteral("servers"))
                                 .toArray()
                         == QJsonArray{QStringLiteral("alpha")},
                 qPrintable(why));
    }

    void sessionOfOneGrantCannotBeUsedWithAnother_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("aggregated") << QStringLiteral("/mcp");
        QTest::newRow("per server") << QStringLiteral("/mcp/alpha");
    }

    void sessionOfOneGrantCannotBeUsedWithAnother()
    {
        QFETCH(QString, path);
        const QByteArray other = createGrant(QStringLiteral("other-") + path.section(u'/', -1));
        QVERIFY(!other.isEmpty());
        HttpResult last;
        QVERIFY2(waitUntilAccepted(other, path, &last), qPrintable(last.describe()));

        McpSession session;
        QString why;
        QVERIFY2(m_http.open(endpoint(path), QStringLiteral("2025-11-25"), &session, &why),
                 qPrintable(why));
        // Another grant's holder who learnt the session id: no request, no stream, no DELETE.
        const HttpResult listed = m_anonymous.postInSession(
                session, McpHttp::request(QStringLiteral("tools/list"), {}, 2), bearer(other));
        QVERIFY2(listed.status == 404 || listed.status == 403, qPrintable(listed.describe()));
        QVERIFY2(!listed.body.contains("\"tools\""), qPrintable(listed.describe()));
        const HttpResult stream = m_anonymous.get(
                endpoint(path),
                McpHttp::sessionHeaders(
                        session, bearer(other) + RawHeaders{{"Accept", "text/event-stream"}}),
                5'000);
        QVERIFY2(stream.status == 404 || stream.status == 403, qPrintable(stream.describe()));
        const HttpResult deleted = m_anonymous.send(
                "DELETE", endpoint(path), McpHttp::sessionHeaders(session, bearer(other)));
        QVERIFY2(deleted.status == 404 || deleted.status == 403, qPrintable(deleted.describe()));

        // The session's own grant goes on using it.
        const HttpResult own = m_http.call(session, QStringLiteral("ping"));
        QVERIFY2(own.status == 200, qPrintable(own.describe()));
        QVERIFY(m_http.close(session).status / 100 == 2);
    }

    void crossOriginPageRequestIsRefusedEvenWithGrant()
    {
        for (const QString &path : {QStringLiteral("/mcp"), QStringLiteral("/mcp/alpha")}) {
            const HttpResult answer = m_http.post(
                    endpoint(path), McpHttp::initializeRequest(QStringLiteral("2025-11-25")),
                    {{"Origin", "http://evil.example"}});
            QVERIFY2(answer.status == 403, qPrintable(path + QLatin1Char(' ') + answer.describe()));
            QVERIFY(answer.header("Mcp-Session-Id").isEmpty());

            // Nor inside a session the page learnt of.
            McpSession session;
            QString why;
            QVERIFY2(m_http.open(endpoint(path), QStringLiteral("2025-11-25"), &session, &why),
                     qPrintable(why));
            const HttpResult inSession = m_http.postInSession(
                    session, McpHttp::request(QStringLiteral("tools/list"), {}, 2),
                    {{"Origin", "http://evil.example"}});
            QVERIFY2(inSession.status == 403, qPrintable(inSession.describe()));
            QVERIFY2(!inSession.body.contains("\"tools\""), qPrintable(inSession.describe()));
        }
    }

    void dnsRebindingHostIsRefusedEvenWithGrant()
    {
        for (const QString &path : {QStringLiteral("/mcp"), QStringLiteral("/mcp/alpha")}) {
            const HttpResult answer = m_http.post(
                    endpoint(path), McpHttp::initializeRequest(QStringLiteral("2025-11-25")),
                    {{"Host", "evil.example:" + QByteArray::number(m_broker->port())}});
            QVERIFY2(answer.status == 403, qPrintable(path + QLatin1Char(' ') + answer.describe()));
            QVERIFY(answer.header("Mcp-Session-Id").isEmpty());
        }
    }

    void grantListShowsLastUseWithoutSecrets()
    {
        const QByteArray token = createGrant(QStringLiteral("lister"));
        QVERIFY(!token.isEmpty());
        QString why;
        const QJsonObject before = grantEntry(QStringLiteral("lister"), &why);
        QVERIFY2(!before.isEmpty(), qPrintable(why));
        const QString id = before.value(QStringLiteral("id")).toString();
        QVERIFY2(!id.isEmpty(), qPrintable(QJsonDocument(before).toJson()));
        // The token is "mcpb_<id>_<secret>": the id is public, the rest is not.
        QVERIFY2(token.startsWith("mcpb_" + id.toLatin1() + '_'),
                 qPrintable(QStringLiteral("the token does not start with mcpb_%1_").arg(id)));
        QVERIFY2(grantTokenSecret(token) == token.mid(6 + id.size()),
                 "grantTokenSecret() does not find the part after the id");
        QCOMPARE(before.value(QStringLiteral("kind")).toString(), QStringLiteral("static"));
        QVERIFY(QDateTime::fromString(before.value(QStringLiteral("createdAt")).toString(),
                                      Qt::ISODateWithMs)
                        .isValid());
        QVERIFY2(before.value(QStringLiteral("servers")).toArray().isEmpty(),
                 qPrintable(QJsonDocument(before).toJson()));
        const QJsonValue neverUsed = before.value(QStringLiteral("lastUsedAt"));
        QVERIFY2(neverUsed.isNull() || neverUsed.isUndefined() || neverUsed.toString().isEmpty(),
                 qPrintable(QJsonDocument(before).toJson()));

        const QDateTime used = QDateTime::currentDateTimeUtc();
        HttpResult last;
        QVERIFY2(waitUntilAccepted(token, QStringLiteral("/mcp"), &last),
                 qPrintable(last.describe()));

        // The running broker saves last use lazily; what `grant list` shows is what it saved.
        // Stopping it saves it (a restart then keeps serving the rest of the suite).
        QString status;
        const QByteArray output = m_broker->serveProcess()->standardOutput()
                + m_broker->serveProcess()->standardError();
        m_earlierBrokerOutput += output;
        QVERIFY2(m_broker->stop(), qPrintable(diagnostics()));
        const QJsonObject after = grantEntry(QStringLiteral("lister"), &why);
        QVERIFY2(!after.isEmpty(), qPrintable(why));
        const QDateTime lastUsedAt = QDateTime::fromString(
                after.value(QStringLiteral("lastUsedAt")).toString(), Qt::ISODateWithMs);
        QVERIFY2(lastUsedAt.isValid(), qPrintable(QJsonDocument(after).toJson()));
        QVERIFY2(lastUsedAt >= used.addSecs(-1)
                         && lastUsedAt <= QDateTime::currentDateTimeUtc().addSecs(1),
                 qPrintable(QJsonDocument(after).toJson()));

        const CliResult plain = m_broker->run({QStringLiteral("grant"), QStringLiteral("list")});
        m_grantCommands << plain;
        QVERIFY2(plain.succeeded() && plain.out.contains("lister"), qPrintable(plain.describe()));
        for (const CliResult &listed : std::as_const(m_grantCommands))
            QVERIFY2(leakedPieces(listed.out + listed.err, tokenSecrets()).isEmpty(),
                     qPrintable(QStringLiteral("`%1` shows (part of) a token")
                                        .arg(listed.commandLine)));

        QVERIFY2(m_broker->start(), qPrintable(diagnostics()));
        QVERIFY2(m_broker->waitUntilReady({QStringLiteral("alpha"), QStringLiteral("beta")},
                                          kReadyTimeoutMs, &status),
                 qPrintable(status + diagnostics()));
    }

    // Last: stops the broker.
    void tokenNeverAppearsInBrokerOutputOrFiles()
    {
        // A little more traffic with the default grant, from real clients.
        SdkClientOptions options;
        options.bearerToken = m_broker->token();
        const SdkClientRun run
                = runSdkClient(m_broker->endpoint(),
                               {{QStringLiteral("alpha__echo"),
                                 QJsonObject{{QStringLiteral("text"), QStringLiteral("hi")}}},
                                {QStringLiteral("beta__whoami"), {}}},
                               options);
        QVERIFY2(run.succeeded(), qPrintable(run.describe() + diagnostics()));
        // The grant is the broker's business: beta never sees it.
        QVERIFY2(leakedPieces(run.callText(QStringLiteral("beta__whoami")).toUtf8(), tokenSecrets())
                         .isEmpty(),
                 "an upstream received a grant token");

        QVERIFY2(m_broker->stop(), qPrintable(diagnostics()));
        m_brokerStopped = true;
        const PeerProcess &serve = *m_broker->serveProcess();
        const QByteArray output
                = m_earlierBrokerOutput + serve.standardOutput() + serve.standardError();
        QVERIFY2(serve.standardError().size() > 0,
                 "the broker logged nothing at debug level: the search below would prove nothing");
        const QList<QByteArray> secrets = tokenSecrets();
        QVERIFY(secrets.size() >= 5);
        const QStringList leaks = leakedPieces(output, secrets);
        QVERIFY2(leaks.isEmpty(),
                 qPrintable(QStringLiteral("the broker's output contains ")
                            + leaks.join(QStringLiteral(", "))));
        // config.json, grants.json, the usage file: nothing of any token.
        QCOMPARE(filesContainingSecrets(m_broker->configDirectory(), secrets), QStringList());
        for (const char *variable : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"}) {
            const QString directory = qEnvironmentVariable(variable);
            if (!directory.isEmpty())
                QCOMPARE(filesContainingSecrets(directory, secrets), QStringList());
        }
        for (const CliResult &command : std::as_const(m_grantCommands))
            QVERIFY2(leakedPieces(command.out + command.err, secrets).isEmpty(),
                     qPrintable(QStringLiteral("`%1` shows (part of) a token")
                                        .arg(command.commandLine)));
    }
};

QTEST_GUILESS_MAIN(GrantsTest)
#include "tst_grants.moc"
