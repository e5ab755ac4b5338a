// The aggregated endpoint /mcp and the per-server endpoints /mcp/<server> of the real
// `mcp-broker serve`, driven by real clients (the SDK's Client and
// @modelcontextprotocol/inspector-cli) against real upstreams: two SDK fixture servers (alpha
// with a bearer token, beta without) and @modelcontextprotocol/server-everything, all added
// with `mcp-broker add`. The clients use the broker's default grant (BrokerProcess); clients
// of an upstream itself (to compare with) send none.
// Every test builds its own deployment and tears every process down at its end.

#include "BrokerProcess.h"
#include "McpHttp.h"
#include "PeerClients.h"
#include "Peers.h"
#include "UpstreamServer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTest>

#include <map>
#include <memory>
#include <optional>

using namespace mcpbroker::integration;

namespace {

constexpr int kReadyTimeoutMs = 30'000;

// The upstreams of one test and the broker in front of them.
struct Deployment
{
    std::map<QString, std::unique_ptr<UpstreamServer>> upstreams;
    BrokerProcess broker;

    UpstreamServer &upstream(const QString &name) { return *upstreams.at(name); }
    // Options for an SDK client of the broker: its grant, and `options`.
    SdkClientOptions client(SdkClientOptions options = {}) const
    {
        options.bearerToken = broker.token();
        return options;
    }
    // Raw HTTP that sends the broker's grant to the broker (only).
    void authorize(McpHttp &http) const
    {
        http.setDefaultHeaders(broker.authorization(), broker.endpoint());
    }
    QString diagnostics() const
    {
        QString text = broker.diagnostics();
        for (const auto &[name, upstream] : upstreams)
            text += upstream->diagnostics();
        return text;
    }
};

QStringList sorted(QStringList list)
{
    list.sort();
    return list;
}

// "missing: …; unexpected: …" between two name lists, for failure messages.
QString listDifference(const QStringList &actual, const QStringList &expected)
{
    QStringList missing;
    QStringList unexpected;
    for (const QString &name : expected) {
        if (!actual.contains(name))
            missing << name;
    }
    for (const QString &name : actual) {
        if (!expected.contains(name) || actual.count(name) > 1)
            unexpected << name;
    }
    return QStringLiteral("missing: [%1]; unexpected or repeated: [%2]")
            .arg(missing.join(QStringLiteral(", ")), unexpected.join(QStringLiteral(", ")));
}

QStringList prefixed(const QString &server, const QStringList &names)
{
    QStringList result;
    for (const QString &name : names)
        result << server + QStringLiteral("__") + name;
    return result;
}

// The JSON object that fixture-server.mjs's whoami prints as its text.
QJsonObject whoamiOf(const SdkClientRun &run, const QString &tool)
{
    return QJsonDocument::fromJson(run.callText(tool).toUtf8()).object();
}

QJsonObject headersOf(const QJsonObject &whoami)
{
    return whoami.value(QStringLiteral("headers")).toObject();
}

// Every entry of a paginated list method (`key` of each result), following nextCursor;
// `field` of each entry. Empty with `*why` set when a page fails.
QStringList listAll(McpHttp &http, const McpSession &session, const QString &method,
                    const QString &key, const QString &field, QString *why)
{
    QStringList values;
    QString cursor;
    for (int page = 0; page < 100; ++page) {
        QJsonObject params;
        if (!cursor.isEmpty())
            params.insert(QStringLiteral("cursor"), cursor);
        const HttpResult answer = http.call(session, method, params, 100 + page);
        const QJsonObject result
                = answer.response(100 + page).value(QStringLiteral("result")).toObject();
        if (answer.status != 200 || !result.contains(key)) {
            *why = QStringLiteral("%1 on %2: %3")
                           .arg(method, session.url.toString(), answer.describe());
            return {};
        }
        for (const QJsonValue &entry : result.value(key).toArray())
            values << entry.toObject().value(field).toString();
        cursor = result.value(QStringLiteral("nextCursor")).toString();
        if (cursor.isEmpty())
            return values;
    }
    *why = QStringLiteral("%1 on %2: more than 100 pages").arg(method, session.url.toString());
    return {};
}

// The first content's text of a resources/read or prompts/get result.
QString firstText(const QJsonObject &result)
{
    if (result.contains(QStringLiteral("contents")))
        return result.value(QStringLiteral("contents"))
                .toArray()
                .at(0)
                .toObject()
                .value(QStringLiteral("text"))
                .toString();
    return result.value(QStringLiteral("messages"))
            .toArray()
            .at(0)
            .toObject()
            .value(QStringLiteral("content"))
            .toObject()
            .value(QStringLiteral("text"))
            .toString();
}

} // namespace

class AggregationTest : public QObject
{
    Q_OBJECT

private:
    QByteArray m_alphaToken; // random per run; alpha's upstream credential

    // Starts the named upstreams ("alpha", "beta": fixtures; "everything": server-everything)
    // in parallel. Empty on success, else what went wrong.
    static QString startUpstreams(Deployment &deployment, const QStringList &names)
    {
        for (const QString &name : names) {
            deployment.upstreams[name] = name == QLatin1String("everything")
                    ? UpstreamServer::everything()
                    : UpstreamServer::fixture(name);
            deployment.upstreams[name]->start();
        }
        for (const QString &name : names) {
            if (!deployment.upstream(name).waitUntilListening())
                return QStringLiteral("upstream %1 did not start").arg(name)
                        + deployment.upstream(name).diagnostics();
        }
        return {};
    }

    // `mcp-broker add` for one started upstream; alpha gets the bearer token on stdin.
    QString addToBroker(Deployment &deployment, const QString &name) const
    {
        const std::optional<QByteArray> bearer = name == QLatin1String("alpha")
                ? std::optional<QByteArray>(m_alphaToken)
                : std::nullopt;
        const CliResult added
                = deployment.broker.add(name, deployment.upstream(name).url(), bearer);
        return added.succeeded() ? QString()
                                 : QStringLiteral("mcp-broker add failed") + added.describe();
    }

    // Upstreams started, added with the CLI, broker serving, every upstream ready.
    QString deploy(Deployment &deployment, const QStringList &names) const
    {
        if (QString failed = startUpstreams(deployment, names); !failed.isEmpty())
            return failed;
        for (const QString &name : names) {
            if (QString failed = addToBroker(deployment, name); !failed.isEmpty())
                return failed;
        }
        if (!deployment.broker.start())
            return QStringLiteral("the broker did not print its listening line")
                    + deployment.diagnostics();
        QString status;
        if (!deployment.broker.waitUntilReady(names, kReadyTimeoutMs, &status))
            return QStringLiteral("GET /status never showed %1 ready; last answer: %2")
                           .arg(names.join(QStringLiteral(", ")), status)
                    + deployment.diagnostics();
        return {};
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString missing = Peers::missing();
        QVERIFY2(missing.isEmpty(), qPrintable(missing));
        m_alphaToken = randomSecret("alpha-token-");
    }

    void cleanupTestCase()
    {
        const QStringList survivors = PeerProcess::survivors();
        QVERIFY2(survivors.isEmpty(), qPrintable(survivors.join(QLatin1Char('\n'))));
    }

    void aggregatedEndpointListsEveryUpstreamToolUnderItsServerPrefix()
    {
        Deployment deployment;
        const QString failed = deploy(deployment, {"alpha", "beta", "everything"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        const SdkClientRun aggregated
                = runSdkClient(deployment.broker.endpoint(), {}, deployment.client());
        QVERIFY2(aggregated.succeeded(),
                 qPrintable(aggregated.describe() + deployment.diagnostics()));
        const QStringList all = aggregated.tools();

        // Each upstream's tools as the same client sees them directly, under the server's prefix.
        // The fixtures offer the same tools to every client: exactly those. server-everything
        // adds tools for clients that declare sampling/elicitation (as the broker, which relays
        // those requests, does upstream): every directly listed one, and maybe those.
        for (const QString &name : QStringList{"alpha", "beta", "everything"}) {
            const SdkClientRun direct = runSdkClient(deployment.upstream(name).url());
            QVERIFY2(direct.succeeded() && !direct.tools().isEmpty(),
                     qPrintable(direct.describe()));
            const QStringList expected = prefixed(name, direct.tools());
            QStringList actual;
            for (const QString &tool : all) {
                if (tool.startsWith(name + QStringLiteral("__")))
                    actual << tool;
            }
            if (name == QLatin1String("everything")) {
                for (const QString &tool : expected)
                    QVERIFY2(actual.contains(tool), qPrintable(listDifference(actual, expected)));
                QVERIFY2(actual.size() == QSet<QString>(actual.begin(), actual.end()).size(),
                         qPrintable(listDifference(actual, expected)));
            } else {
                QVERIFY2(sorted(actual) == sorted(expected),
                         qPrintable(listDifference(actual, expected)));
            }
        }
        // Nothing without a server prefix, nothing from anywhere else.
        for (const QString &tool : all) {
            QVERIFY2(tool.startsWith(QLatin1String("alpha__"))
                             || tool.startsWith(QLatin1String("beta__"))
                             || tool.startsWith(QLatin1String("everything__")),
                     qPrintable(tool));
        }
        QVERIFY(all.contains(QStringLiteral("alpha__echo")));
        QVERIFY(all.contains(QStringLiteral("beta__echo")));
        QVERIFY(all.contains(QStringLiteral("everything__get-sum")));
    }

    void toolCallsReachTheUpstreamNamedByThePrefix()
    {
        Deployment deployment;
        const QString failed = deploy(deployment, {"alpha", "beta", "everything"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        const QJsonObject hi{{QStringLiteral("text"), QStringLiteral("hi")}};
        const SdkClientRun run
                = runSdkClient(deployment.broker.endpoint(),
                               {{QStringLiteral("alpha__echo"), hi},
                                {QStringLiteral("beta__echo"), hi},
                                {QStringLiteral("everything__echo"),
                                 QJsonObject{{QStringLiteral("message"), QStringLiteral("hi")}}}},
                               deployment.client());
        QVERIFY2(run.succeeded(), qPrintable(run.describe() + deployment.diagnostics()));
        QCOMPARE(run.callText(QStringLiteral("alpha__echo")), QStringLiteral("alpha: hi"));
        QCOMPARE(run.callText(QStringLiteral("beta__echo")), QStringLiteral("beta: hi"));
        QCOMPARE(run.callText(QStringLiteral("everything__echo")), QStringLiteral("Echo: hi"));
    }

    void eachUpstreamGetsOnlyItsOwnCredentialAndNoDownstreamHeader()
    {
        Deployment deployment;
        const QString failed = deploy(deployment, {"alpha", "beta"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        // The downstream client sends its own Authorization (its grant for the broker) and a
        // marker header: neither may reach any upstream (no token passthrough).
        const QByteArray marker = randomSecret("marker-");
        SdkClientOptions downstream;
        downstream.headers
                = {QStringLiteral("X-Downstream-Marker: ") + QString::fromLatin1(marker)};
        const SdkClientRun run = runSdkClient(
                deployment.broker.endpoint(),
                {{QStringLiteral("alpha__whoami"), {}}, {QStringLiteral("beta__whoami"), {}}},
                deployment.client(downstream));
        QVERIFY2(run.succeeded(), qPrintable(run.describe() + deployment.diagnostics()));

        const QJsonObject alpha = whoamiOf(run, QStringLiteral("alpha__whoami"));
        const QJsonObject beta = whoamiOf(run, QStringLiteral("beta__whoami"));
        QCOMPARE(alpha.value(QStringLiteral("server")).toString(), QStringLiteral("alpha"));
        QCOMPARE(beta.value(QStringLiteral("server")).toString(), QStringLiteral("beta"));

        QCOMPARE(headersOf(alpha).value(QStringLiteral("authorization")).toString(),
                 authorizationFingerprint("Bearer " + m_alphaToken));
        QVERIFY2(!headersOf(beta).contains(QStringLiteral("authorization")),
                 qPrintable(run.callText(QStringLiteral("beta__whoami"))));
        const QByteArray grant = grantTokenSecret(deployment.broker.token());
        for (const QJsonObject &whoami : {alpha, beta}) {
            QVERIFY2(!headersOf(whoami).contains(QStringLiteral("x-downstream-marker")),
                     qPrintable(QJsonDocument(whoami).toJson()));
            QVERIFY(!QJsonDocument(whoami).toJson().contains(marker));
            QVERIFY2(leakedPieces(QJsonDocument(whoami).toJson(), {grant}).isEmpty(),
                     "the downstream grant reached an upstream");
        }
    }

    void inspectorCliListsAndCallsAggregatedTools()
    {
        Deployment deployment;
        const QString failed = deploy(deployment, {"alpha", "beta", "everything"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        const InspectorRun listed
                = runInspectorCli(deployment.broker.endpoint(), deployment.broker.token(),
                                  QStringLiteral("tools/list"));
        QVERIFY2(listed.process.succeeded(),
                 qPrintable(listed.describe() + deployment.diagnostics()));
        QStringList names;
        for (const QJsonValue &tool : listed.output.value(QStringLiteral("tools")).toArray())
            names << tool.toObject().value(QStringLiteral("name")).toString();
        for (const QString &expected : QStringList{"alpha__echo", "beta__echo", "everything__echo"})
            QVERIFY2(names.contains(expected), qPrintable(names.join(QLatin1Char(' '))));
        for (const QString &name : std::as_const(names)) {
            QVERIFY2(name.startsWith(QLatin1String("alpha__"))
                             || name.startsWith(QLatin1String("beta__"))
                             || name.startsWith(QLatin1String("everything__")),
                     qPrintable(name));
        }

        const InspectorRun called
                = runInspectorCli(deployment.broker.endpoint(), deployment.broker.token(),
                                  QStringLiteral("tools/call"),
                                  {QStringLiteral("--tool-name"), QStringLiteral("beta__echo"),
                                   QStringLiteral("--tool-arg"), QStringLiteral("text=hi")});
        QVERIFY2(called.process.succeeded(),
                 qPrintable(called.describe() + deployment.diagnostics()));
        const QJsonArray content = called.output.value(QStringLiteral("content")).toArray();
        QCOMPARE(content.size(), 1);
        QCOMPARE(content.at(0).toObject().value(QStringLiteral("text")).toString(),
                 QStringLiteral("beta: hi"));
    }

    void perServerEndpointProxiesOneUpstreamUnderOriginalNames()
    {
        Deployment deployment;
        const QString failed = deploy(deployment, {"alpha", "beta"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        const SdkClientRun direct = runSdkClient(deployment.upstream(QStringLiteral("beta")).url());
        QVERIFY2(direct.succeeded(), qPrintable(direct.describe()));

        const QJsonObject hi{{QStringLiteral("text"), QStringLiteral("hi")}};
        const SdkClientRun beta
                = runSdkClient(deployment.broker.serverEndpoint(QStringLiteral("beta")),
                               {{QStringLiteral("echo"), hi}}, deployment.client());
        QVERIFY2(beta.succeeded(), qPrintable(beta.describe() + deployment.diagnostics()));
        QCOMPARE(beta.tools(), direct.tools());
        QCOMPARE(beta.callText(QStringLiteral("echo")), QStringLiteral("beta: hi"));

        // The per-server endpoint adds that server's credential too.
        const SdkClientRun alpha
                = runSdkClient(deployment.broker.serverEndpoint(QStringLiteral("alpha")),
                               {{QStringLiteral("whoami"), {}}}, deployment.client());
        QVERIFY2(alpha.succeeded(), qPrintable(alpha.describe() + deployment.diagnostics()));
        QCOMPARE(headersOf(whoamiOf(alpha, QStringLiteral("whoami")))
                         .value(QStringLiteral("authorization"))
                         .toString(),
                 authorizationFingerprint("Bearer " + m_alphaToken));
    }

    void resourcesTemplatesAndPromptsAreNamespacedByServer()
    {
        Deployment deployment;
        const QString failed = deploy(deployment, {"alpha", "everything"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        McpHttp http;
        deployment.authorize(http);
        QString why;
        McpSession aggregated;
        QVERIFY2(http.open(deployment.broker.endpoint(), QStringLiteral("2025-11-25"), &aggregated,
                           &why),
                 qPrintable(why + deployment.diagnostics()));
        struct Listing
        {
            QString method, key, field, separator;
        };
        const QList<Listing> listings{
                {"resources/list", "resources", "uri", "+"},
                {"resources/templates/list", "resourceTemplates", "uriTemplate", "+"},
                {"prompts/list", "prompts", "name", "__"}};
        for (const Listing &listing : listings) {
            const QStringList all
                    = listAll(http, aggregated, listing.method, listing.key, listing.field, &why);
            QVERIFY2(!all.isEmpty(), qPrintable(why + deployment.diagnostics()));
            QStringList expectedAll;
            for (const QString &server : QStringList{"alpha", "everything"}) {
                McpSession direct;
                QVERIFY2(http.open(deployment.upstream(server).url(), QStringLiteral("2025-11-25"),
                                   &direct, &why),
                         qPrintable(why));
                QStringList expected;
                for (const QString &value :
                     listAll(http, direct, listing.method, listing.key, listing.field, &why))
                    expected << server + listing.separator + value;
                QVERIFY2(!expected.isEmpty(), qPrintable(why));
                QStringList actual;
                for (const QString &value : all) {
                    if (value.startsWith(server + listing.separator))
                        actual << value;
                }
                QVERIFY2(sorted(actual) == sorted(expected),
                         qPrintable(listing.method + QStringLiteral(": ")
                                    + listDifference(actual, expected)));
                expectedAll += expected;
            }
            QVERIFY2(all.size() == expectedAll.size(),
                     qPrintable(listing.method + QStringLiteral(": ")
                                + listDifference(all, expectedAll)));
        }

        // Reads and gets reach the upstream named by the prefix (each has only its own URIs).
        struct Fetch
        {
            QString method;
            QJsonObject params;
            QString text;
            QString uri; // the URI the client should see in the answer; empty for prompts
        };
        const QList<Fetch> fetches{{"resources/read",
                                    {{"uri", "alpha+test://static-text"}},
                                    "This is the content of the static text resource.",
                                    "alpha+test://static-text"},
                                   {"resources/read",
                                    {{"uri", "alpha+test://template/42/data"}},
                                    R"({"id":"42","templateTest":true,"data":"Data for ID: 42"})",
                                    "alpha+test://template/42/data"},
                                   {"resources/read",
                                    {{"uri", "everything+demo://resource/dynamic/text/7"}},
                                    "Resource 7: ",
                                    "everything+demo://resource/dynamic/text/7"},
                                   {"prompts/get",
                                    {{"name", "alpha__test_prompt_with_arguments"},
                                     {"arguments", QJsonObject{{"arg1", "a"}, {"arg2", "b"}}}},
                                    "Prompt with arguments: arg1='a', arg2='b'",
                                    {}},
                                   {"prompts/get",
                                    {{"name", "everything__simple-prompt"}},
                                    "This is a simple prompt without arguments.",
                                    {}}};
        int id = 10;
        for (const Fetch &fetch : fetches) {
            const HttpResult answer = http.call(aggregated, fetch.method, fetch.params, ++id);
            const QJsonObject result
                    = answer.response(id).value(QStringLiteral("result")).toObject();
            QVERIFY2(firstText(result).startsWith(fetch.text), qPrintable(answer.describe()));
            if (!fetch.uri.isEmpty()) {
                const QString uri = result.value(QStringLiteral("contents"))
                                            .toArray()
                                            .at(0)
                                            .toObject()
                                            .value(QStringLiteral("uri"))
                                            .toString();
                QVERIFY2(uri == fetch.uri, qPrintable(answer.describe()));
            }
        }
    }

    void statusReportsEveryServerWithStateAndToolCount()
    {
        Deployment deployment;
        const QString failed = deploy(deployment, {"alpha", "beta"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));
        const SdkClientRun direct
                = runSdkClient(deployment.upstream(QStringLiteral("alpha")).url());
        QVERIFY2(direct.succeeded(), qPrintable(direct.describe()));

        McpHttp http; // no grant: /status is open (it holds nothing secret)
        const HttpResult answer = http.get(deployment.broker.statusUrl());
        QVERIFY2(answer.status == 200, qPrintable(answer.describe()));
        const QJsonObject status = QJsonDocument::fromJson(answer.body).object();
        QVERIFY2(!status.value(QStringLiteral("version")).toString().isEmpty(),
                 answer.body.constData());
        QCOMPARE(status.value(QStringLiteral("endpoint")).toString(),
                 deployment.broker.endpoint().toString());
        const QJsonArray servers = status.value(QStringLiteral("servers")).toArray();
        QCOMPARE(servers.size(), 2);
        for (const QJsonValue &value : servers) {
            const QJsonObject server = value.toObject();
            const QString name = server.value(QStringLiteral("name")).toString();
            QVERIFY2(name == QLatin1String("alpha") || name == QLatin1String("beta"),
                     answer.body.constData());
            QCOMPARE(server.value(QStringLiteral("url")).toString(),
                     deployment.upstream(name).url().toString());
            QCOMPARE(server.value(QStringLiteral("state")).toString(), QStringLiteral("ready"));
            QVERIFY2(server.contains(QStringLiteral("error")), answer.body.constData());
            QCOMPARE(server.value(QStringLiteral("tools")).toInt(), int(direct.tools().size()));
        }
    }

    void deadUpstreamGivesAnErrorNamingItWhileOthersKeepWorking()
    {
        Deployment deployment;
        const QString failed = deploy(deployment, {"alpha", "beta"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        deployment.upstream(QStringLiteral("beta")).kill();

        const QJsonObject hi{{QStringLiteral("text"), QStringLiteral("hi")}};
        const SdkClientRun alpha
                = runSdkClient(deployment.broker.endpoint(), {{QStringLiteral("alpha__echo"), hi}},
                               deployment.client());
        QVERIFY2(alpha.succeeded(), qPrintable(alpha.describe() + deployment.diagnostics()));
        QCOMPARE(alpha.callText(QStringLiteral("alpha__echo")), QStringLiteral("alpha: hi"));

        // Called directly (a client may still hold the tool from an earlier list): the answer is
        // a JSON-RPC error or a tool error, soon, and it names the server.
        McpHttp http;
        deployment.authorize(http);
        McpSession session;
        QString why;
        QVERIFY2(http.open(deployment.broker.endpoint(), QStringLiteral("2025-11-25"), &session,
                           &why),
                 qPrintable(why + deployment.diagnostics()));
        const HttpResult answer
                = http.call(session, QStringLiteral("tools/call"),
                            QJsonObject{{QStringLiteral("name"), QStringLiteral("beta__echo")},
                                        {QStringLiteral("arguments"), hi}});
        QVERIFY2(answer.finished, "no answer within 20 s for a tool of a dead upstream");
        const QJsonObject response = answer.response(2);
        QVERIFY2(!response.isEmpty(), qPrintable(answer.describe()));
        QString message;
        if (response.contains(QStringLiteral("error"))) {
            message = response.value(QStringLiteral("error"))
                              .toObject()
                              .value(QStringLiteral("message"))
                              .toString();
        } else {
            const QJsonObject result = response.value(QStringLiteral("result")).toObject();
            QVERIFY2(result.value(QStringLiteral("isError")).toBool(),
                     qPrintable(answer.describe()));
            for (const QJsonValue &block : result.value(QStringLiteral("content")).toArray())
                message += block.toObject().value(QStringLiteral("text")).toString();
        }
        // Naming the server, not merely echoing the tool name back.
        QString withoutToolName = message;
        withoutToolName.remove(QStringLiteral("beta__echo"));
        QVERIFY2(withoutToolName.contains(QLatin1String("beta")), qPrintable(message));

        // The status (what `mcp-broker status` and the tray show) no longer calls beta ready.
        QString status;
        QVERIFY2(deployment.broker.waitForServerStates(
                         {{QStringLiteral("alpha"), QStringLiteral("ready")},
                          {QStringLiteral("beta"), QStringLiteral("failed")}},
                         kReadyTimeoutMs, &status),
                 qPrintable(status + deployment.diagnostics()));
        QVERIFY2(deployment.broker.isRunning(), qPrintable(deployment.diagnostics()));
    }

    void serverAddedWhileRunningAppearsWithoutRestart()
    {
        Deployment deployment;
        QString failed = deploy(deployment, {"alpha"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));
        failed = startUpstreams(deployment, {"beta"});
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        // A connected client with its standalone event stream open.
        McpHttp http;
        deployment.authorize(http);
        McpSession session;
        QString why;
        QVERIFY2(http.open(deployment.broker.endpoint(), QStringLiteral("2025-11-25"), &session,
                           &why),
                 qPrintable(why + deployment.diagnostics()));
        QVERIFY2(session.initializeResult.value(QStringLiteral("capabilities"))
                         .toObject()
                         .value(QStringLiteral("tools"))
                         .toObject()
                         .value(QStringLiteral("listChanged"))
                         .toBool(),
                 qPrintable(QJsonDocument(session.initializeResult).toJson()));
        const std::unique_ptr<EventStream> events = http.openEventStream(session);
        QTRY_VERIFY2_WITH_TIMEOUT(events->status() != 0, qPrintable(events->describe()), 10'000);
        QCOMPARE(events->status(), 200);

        failed = addToBroker(deployment, QStringLiteral("beta"));
        QVERIFY2(failed.isEmpty(), qPrintable(failed));

        QVERIFY2(events->waitForMethod(QStringLiteral("notifications/tools/list_changed"),
                                       kReadyTimeoutMs),
                 qPrintable(events->describe() + deployment.diagnostics()));
        QString status;
        QVERIFY2(deployment.broker.waitUntilReady({QStringLiteral("beta")}, kReadyTimeoutMs,
                                                  &status),
                 qPrintable(status + deployment.diagnostics()));

        const SdkClientRun run
                = runSdkClient(deployment.broker.endpoint(),
                               {{QStringLiteral("beta__echo"),
                                 QJsonObject{{QStringLiteral("text"), QStringLiteral("hi")}}}},
                               deployment.client());
        QVERIFY2(run.succeeded(), qPrintable(run.describe() + deployment.diagnostics()));
        QVERIFY(run.tools().contains(QStringLiteral("alpha__echo")));
        QCOMPARE(run.callText(QStringLiteral("beta__echo")), QStringLiteral("beta: hi"));
        QVERIFY2(deployment.broker.isRunning(), qPrintable(deployment.diagnostics()));
    }
};

QTEST_GUILESS_MAIN(AggregationTest)
#include "tst_aggregation.moc"
