// Faults, end to end with the real broker and real peers: an upstream killed in the middle of a
// call and started again, an upstream that hangs (in a call, or from its first request), an
// authorization server that goes down and comes back, tokens revoked upstream, a keychain that
// is absent, locked or does not answer, a corrupt config or grants file, a port already taken.
// Each fault must give a sentence the user can act on, within a bounded time, without losing
// data, and leave whatever does not depend on the fault working. No test waits by sleeping:
// they wait on output lines, on /status, on signals.

#include "KeyringSession.h"
#include "OAuthBrokerSuite.h"
#include "Peers.h"
#include "UpstreamServer.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTest>

#include <memory>

using namespace mcpbroker::integration;

namespace {

constexpr int kReadyTimeoutMs = 30'000;
// How long a call may take to fail once its fault happened: well past the broker's own
// timeouts in these tests (a few seconds), far below "hangs".
constexpr int kPromptMs = 15'000;
const QString kProtocol = QStringLiteral("2025-06-18");

QJsonObject serverEntry(const QString &name, const QUrl &url, const QJsonObject &more = {})
{
    QJsonObject entry = more;
    entry[QStringLiteral("name")] = name;
    entry[QStringLiteral("url")] = url.toString();
    return entry;
}

QByteArray configWith(const QJsonArray &servers)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("servers"), servers}}).toJson();
}

QJsonObject toolCall(const QString &tool, const QJsonObject &arguments = {})
{
    return {{QStringLiteral("name"), tool}, {QStringLiteral("arguments"), arguments}};
}

// A tools/call answer: failed (a JSON-RPC error or a tool error) and its sentence or text.
struct Answer
{
    bool answered = false;
    bool failed = false;
    QString text;
};

Answer answerOf(const QJsonObject &response)
{
    Answer answer;
    answer.answered = response.contains(QStringLiteral("result"))
            || response.contains(QStringLiteral("error"));
    if (response.contains(QStringLiteral("error"))) {
        answer.failed = true;
        answer.text = response[QStringLiteral("error")][QStringLiteral("message")].toString();
    } else {
        answer.failed = isToolError(response);
        answer.text = toolResultText(response);
    }
    return answer;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            && file.write(bytes) == bytes.size();
}

// Every file of a folder with its bytes, to show that nothing changed.
QMap<QString, QByteArray> snapshot(const QString &directory)
{
    QMap<QString, QByteArray> files;
    for (const QString &name : QDir(directory).entryList(QDir::Files | QDir::Hidden))
        files.insert(name, readFile(QDir(directory).filePath(name)));
    return files;
}

} // namespace

class TestFaults : public OAuthBrokerSuite
{
    Q_OBJECT

private Q_SLOTS:
    void cleanupTestCase();

    void upstreamKilledMidCallFailsItPromptlyAndRecoversWhenRestarted();
    void hangingToolCallTimesOutWithASentenceAndIsCancelledUpstream();
    void upstreamThatNeverAnswersBlocksNeitherStartNorOtherServers();
    void authorizationServerDownKeepsTheTokensForWhenItIsBack();
    void tokensRevokedUpstreamAskForSignInAndSpareOtherServers();
    void serveWithoutUsableKeychainStartsAndSaysWhy_data();
    void serveWithoutUsableKeychainStartsAndSaysWhy();
    void corruptConfigIsKeptAsABackupAndServeStartsAnyway();
    void corruptGrantsFileIsSetAsideAndServeStartsAnyway();
    void serveOnATakenPortExitsWithASentenceAndChangesNothing_data();
    void serveOnATakenPortExitsWithASentenceAndChangesNothing();

private:
    McpSession openSession(const QUrl &url);
    Answer call(const McpSession &session, const QString &tool, const QJsonObject &arguments = {},
                int id = 2);
    // Starts each upstream, then waits for each to listen.
    static bool startUpstreams(const QList<UpstreamServer *> &upstreams, QString *why);
    bool waitForStates(const QMap<QString, QString> &wanted, int timeoutMs = kReadyTimeoutMs);
    QJsonObject statusDocument();
    // Starts `upstream` and a fixture (`steady`), configures them as servers `name` (with
    // `options` in its entry) and "steady", and starts the broker.
    void startBesideSteady(UpstreamServer *upstream, const QString &name,
                           std::unique_ptr<UpstreamServer> *steady,
                           const QJsonObject &options = {});
};

void TestFaults::cleanupTestCase()
{
    const QStringList survivors = PeerProcess::survivors();
    QVERIFY2(survivors.isEmpty(), qPrintable(survivors.join(QLatin1Char('\n'))));
}

McpSession TestFaults::openSession(const QUrl &url)
{
    McpSession session;
    QString why;
    if (!m_http.open(url, kProtocol, &session, &why))
        qWarning().noquote() << "initialize failed:" << why;
    return session;
}

Answer TestFaults::call(const McpSession &session, const QString &tool,
                        const QJsonObject &arguments, int id)
{
    const HttpResult result
            = m_http.call(session, QStringLiteral("tools/call"), toolCall(tool, arguments), id);
    Answer answer = answerOf(result.response(id));
    if (!answer.answered)
        answer.text = result.describe();
    return answer;
}

bool TestFaults::startUpstreams(const QList<UpstreamServer *> &upstreams, QString *why)
{
    for (UpstreamServer *upstream : upstreams)
        upstream->start();
    for (UpstreamServer *upstream : upstreams) {
        if (!upstream->waitUntilListening()) {
            *why = upstream->diagnostics();
            return false;
        }
    }
    return true;
}

bool TestFaults::waitForStates(const QMap<QString, QString> &wanted, int timeoutMs)
{
    QString status;
    if (m_broker->waitForServerStates(wanted, timeoutMs, &status))
        return true;
    qWarning().noquote() << "last status:" << status;
    return false;
}

QJsonObject TestFaults::statusDocument()
{
    return QJsonDocument::fromJson(m_http.get(m_broker->statusUrl()).body).object();
}

void TestFaults::startBesideSteady(UpstreamServer *upstream, const QString &name,
                                   std::unique_ptr<UpstreamServer> *steady,
                                   const QJsonObject &options)
{
    *steady = UpstreamServer::fixture(QStringLiteral("steady"));
    QString why;
    QVERIFY2(startUpstreams({upstream, steady->get()}, &why), qPrintable(why));
    QVERIFY(m_broker->writeConfig(
            configWith({serverEntry(name, upstream->url(), options),
                        serverEntry(QStringLiteral("steady"), (*steady)->url())})));
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
}

// --- an upstream killed in the middle of a call ---------------------------------------------

void TestFaults::upstreamKilledMidCallFailsItPromptlyAndRecoversWhenRestarted()
{
    auto everything = UpstreamServer::everything();
    std::unique_ptr<UpstreamServer> steady;
    startBesideSteady(everything.get(), QStringLiteral("everything"), &steady);
    if (QTest::currentTestFailed())
        return;
    QVERIFY(waitForStates({{QStringLiteral("everything"), QStringLiteral("ready")},
                           {QStringLiteral("steady"), QStringLiteral("ready")}}));
    const McpSession session = openSession(m_broker->endpoint());
    QVERIFY(!session.id.isEmpty());

    // A minute-long tool that reports progress every second, over SSE.
    QJsonObject params
            = toolCall(QStringLiteral("everything__trigger-long-running-operation"),
                       {{QStringLiteral("duration"), 60}, {QStringLiteral("steps"), 60}});
    params[QStringLiteral("_meta")] = QJsonObject{{QStringLiteral("progressToken"), "slow-1"}};
    const auto running = m_http.startCall(session, QStringLiteral("tools/call"), params, 11);
    QVERIFY2(running->waitForMethod(QStringLiteral("notifications/progress"), kReadyTimeoutMs),
             qPrintable(running->describe()));

    everything->kill();
    QElapsedTimer sinceKill;
    sinceKill.start();
    const Answer killed = answerOf(running->waitForResponse(11, kPromptMs));
    QVERIFY2(killed.answered, qPrintable(running->describe()));
    QVERIFY2(killed.failed, qPrintable(killed.text));
    QVERIFY2(killed.text.contains(QStringLiteral("'everything'")), qPrintable(killed.text));
    QVERIFY2(sinceKill.elapsed() < kPromptMs, qPrintable(QString::number(sinceKill.elapsed())));
    qInfo().noquote() << "the call after" << sinceKill.elapsed() << "ms:" << killed.text;

    // The other upstream goes on as if nothing happened.
    const Answer other = call(session, QStringLiteral("steady__echo"),
                              {{QStringLiteral("text"), QStringLiteral("still here")}}, 12);
    QVERIFY2(other.answered && !other.failed, qPrintable(other.text));
    QVERIFY2(other.text.contains(QStringLiteral("still here")), qPrintable(other.text));

    // /status tells which server failed and why.
    QVERIFY(waitForStates({{QStringLiteral("everything"), QStringLiteral("failed")},
                           {QStringLiteral("steady"), QStringLiteral("ready")}}));
    const QString error = m_broker->serverStatus(QStringLiteral("everything"))
                                  .value(QStringLiteral("error"))
                                  .toString();
    QVERIFY2(error.contains(QStringLiteral("'everything'"))
                     && error.contains(everything->url().toString()),
             qPrintable(error));

    // Back on the same port: the next call works, on a new upstream session.
    everything->restartOnSamePort();
    QVERIFY2(everything->waitUntilListening(), qPrintable(everything->diagnostics()));
    const Answer back = call(session, QStringLiteral("everything__echo"),
                             {{QStringLiteral("message"), QStringLiteral("back again")}}, 13);
    QVERIFY2(back.answered && !back.failed, qPrintable(back.text + m_broker->diagnostics()));
    QVERIFY2(back.text.contains(QStringLiteral("back again")), qPrintable(back.text));
    QVERIFY(waitForStates({{QStringLiteral("everything"), QStringLiteral("ready")}}));
}

// --- an upstream that hangs -----------------------------------------------------------------

void TestFaults::hangingToolCallTimesOutWithASentenceAndIsCancelledUpstream()
{
    auto slow = UpstreamServer::hanging();
    std::unique_ptr<UpstreamServer> steady;
    startBesideSteady(slow.get(), QStringLiteral("slow"), &steady,
                      {{QStringLiteral("requestTimeoutMs"), 2000}});
    if (QTest::currentTestFailed())
        return;
    QVERIFY(waitForStates({{QStringLiteral("slow"), QStringLiteral("ready")},
                           {QStringLiteral("steady"), QStringLiteral("ready")}}));
    const McpSession session = openSession(m_broker->endpoint());
    QVERIFY(!session.id.isEmpty());

    const auto hung = m_http.startCall(session, QStringLiteral("tools/call"),
                                       toolCall(QStringLiteral("slow__hang")), 21);
    const QRegularExpressionMatch held = slow->process().waitForStdoutLine(
            QRegularExpression(QStringLiteral("^HELD tools/call (\\d+)$")), kPromptMs);
    QVERIFY2(held.hasMatch(), qPrintable(slow->diagnostics()));

    // While it hangs, the other server answers.
    const Answer other = call(session, QStringLiteral("steady__echo"),
                              {{QStringLiteral("text"), QStringLiteral("meanwhile")}}, 22);
    QVERIFY2(other.answered && !other.failed, qPrintable(other.text));

    const Answer timedOut = answerOf(hung->waitForResponse(21, kPromptMs));
    QVERIFY2(timedOut.answered, qPrintable(hung->describe()));
    QVERIFY2(timedOut.failed, qPrintable(timedOut.text));
    QVERIFY2(timedOut.text.contains(
                     QStringLiteral("Server 'slow' did not answer tools/call within 2 seconds")),
             qPrintable(timedOut.text));

    qInfo().noquote() << "the call:" << timedOut.text;
    // Lifecycle (timeouts): the upstream is told to stop working on it.
    const QRegularExpressionMatch cancelled = slow->process().waitForStdoutLine(
            QRegularExpression(QStringLiteral("^CANCELLED %1 .+").arg(held.captured(1))),
            kPromptMs);
    QVERIFY2(cancelled.hasMatch(), qPrintable(slow->diagnostics()));
    // A timeout is the call's fault, not the server's: it stays ready for the next call.
    QCOMPARE(m_broker->serverStatus(QStringLiteral("slow"))[QStringLiteral("state")].toString(),
             QStringLiteral("ready"));
}

void TestFaults::upstreamThatNeverAnswersBlocksNeitherStartNorOtherServers()
{
    auto stuck = UpstreamServer::hanging(true);
    // The broker prints its listening line (startBroker() waits for it) before its upstreams
    // connect: it does not wait for them.
    std::unique_ptr<UpstreamServer> steady;
    startBesideSteady(stuck.get(), QStringLiteral("stuck"), &steady,
                      {{QStringLiteral("requestTimeoutMs"), 2000}});
    if (QTest::currentTestFailed())
        return;
    QVERIFY(stuck->process()
                    .waitForStdoutLine(QRegularExpression(QStringLiteral("^HELD initialize")),
                                       kPromptMs)
                    .hasMatch());
    QVERIFY(waitForStates({{QStringLiteral("steady"), QStringLiteral("ready")}}));

    // The aggregated list does not wait for the stuck server forever.
    const McpSession session = openSession(m_broker->endpoint());
    QVERIFY(!session.id.isEmpty());
    const HttpResult listed = m_http.call(session, QStringLiteral("tools/list"), {}, 31);
    QVERIFY2(listed.body.contains("steady__echo"), qPrintable(listed.describe()));

    // Its initialize times out within its request timeout, with a sentence.
    QVERIFY(waitForStates({{QStringLiteral("stuck"), QStringLiteral("failed")},
                           {QStringLiteral("steady"), QStringLiteral("ready")}}));
    const QString error
            = m_broker->serverStatus(QStringLiteral("stuck"))[QStringLiteral("error")].toString();
    QVERIFY2(
            error.contains(QStringLiteral("'stuck'"))
                    && error.contains(QStringLiteral("did not answer initialize within 2 seconds")),
            qPrintable(error));
    qInfo().noquote() << "status:" << error;
    QElapsedTimer timer;
    timer.start();
    const Answer refused = call(session, QStringLiteral("stuck__hang"), {}, 32);
    QVERIFY2(refused.answered && refused.failed, qPrintable(refused.text));
    QVERIFY2(refused.text.contains(QStringLiteral("'stuck'")), qPrintable(refused.text));
    QVERIFY2(timer.elapsed() < kPromptMs, qPrintable(QString::number(timer.elapsed())));
}

// --- the authorization server of an OAuth upstream ------------------------------------------

void TestFaults::authorizationServerDownKeepsTheTokensForWhenItIsBack()
{
    m_peers->allowOutages();
    // Long enough that no refresh is under way when the server goes down (one cut off
    // half-way may have rotated the refresh token without the broker hearing of it).
    setUpOAuthServer({QStringLiteral("--access-token-ttl"), QStringLiteral("5")});
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    McpSession session = openSession(m_broker->serverEndpoint(m_server));
    QVERIFY(!session.id.isEmpty());
    const Answer first = call(session, QStringLiteral("whoami"));
    QVERIFY2(first.failed && first.text.contains(QStringLiteral("needs sign-in")),
             qPrintable(first.text));
    QVERIFY(waitForStates({{m_server, QStringLiteral("ready")}}));
    QVERIFY(m_peers->resetStats());

    QVERIFY2(m_peers->takeAuthorizationServerOffline(), qPrintable(m_peers->diagnostics()));
    // Wait out the access token the broker holds (it cannot refresh it meanwhile).
    const QDateTime expiry = QDateTime::fromString(
            serverStatus()[QStringLiteral("tokenExpiresAt")].toString(), Qt::ISODate);
    QVERIFY2(expiry.isValid(), qPrintable(QJsonDocument(serverStatus()).toJson()));
    QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentDateTimeUtc() > expiry.addMSecs(500), 20'000);

    QElapsedTimer timer;
    timer.start();
    const Answer down = call(session, QStringLiteral("whoami"), {}, 3);
    QVERIFY2(down.answered && down.failed, qPrintable(down.text));
    QVERIFY2(down.text.contains(QStringLiteral("authorization server"))
                     && down.text.contains(m_server),
             qPrintable(down.text));
    QVERIFY2(timer.elapsed() < kPromptMs, qPrintable(QString::number(timer.elapsed())));
    qInfo().noquote() << "the call:" << down.text;
    // Not a sign-in matter: no browser, and the sign-in is still there.
    QCOMPARE(browserLaunches(), 1);
    QCOMPARE(serverStatus()[QStringLiteral("signIn")].toString(), QStringLiteral("signed-in"));

    // Back with its grants: the next call refreshes with the kept refresh token.
    QVERIFY2(m_peers->bringAuthorizationServerBack(), qPrintable(m_peers->diagnostics()));
    const Answer back = call(session, QStringLiteral("whoami"), {}, 4);
    QVERIFY2(back.answered && !back.failed, qPrintable(back.text + m_broker->diagnostics()));
    QVERIFY(m_peers->tokenRequests(QStringLiteral("refresh_token")) >= 1);
    QCOMPARE(browserLaunches(), 1);
    QVERIFY(waitForStates({{m_server, QStringLiteral("ready")}}));
}

void TestFaults::tokensRevokedUpstreamAskForSignInAndSpareOtherServers()
{
    auto steady = UpstreamServer::fixture(QStringLiteral("steady"));
    QString why;
    QVERIFY2(startUpstreams({steady.get()}, &why), qPrintable(why));
    setUpOAuthServer({QStringLiteral("--access-token-ttl"), QStringLiteral("3")});
    QJsonObject config = QJsonDocument::fromJson(readFile(m_broker->configPath())).object();
    QJsonArray servers = config[QStringLiteral("servers")].toArray();
    servers.append(serverEntry(QStringLiteral("steady"), steady->url()));
    QVERIFY(m_broker->writeConfig(configWith(servers)));
    // Signed in before the broker runs (`mcp-broker login`); the sign-in pages it opens later
    // are refused, as by a user who does not sign in again.
    const CliResult login = m_broker->run({QStringLiteral("login"), m_server});
    QVERIFY2(login.succeeded(), qPrintable(login.describe()));
    m_broker->environment().insert(QStringLiteral("MCPB_BROWSER_ACTION"), QStringLiteral("deny"));
    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    QVERIFY(waitForStates({{m_server, QStringLiteral("ready")},
                           {QStringLiteral("steady"), QStringLiteral("ready")}}));

    // The user revokes the app at the provider; the next refresh is invalid_grant.
    QVERIFY(m_peers->revokeAll());
    QVERIFY(waitForStates({{m_server, QStringLiteral("needs-sign-in")},
                           {QStringLiteral("steady"), QStringLiteral("ready")}}));
    const QJsonObject status = serverStatus();
    const QString error = status[QStringLiteral("error")].toString();
    QVERIFY2(error.contains(m_server) && error.contains(QStringLiteral("mcp-broker login")),
             qPrintable(error));
    QCOMPARE(status[QStringLiteral("signIn")].toString(), QStringLiteral("needs-sign-in"));
    qInfo().noquote() << "status:" << error;

    const McpSession session = openSession(m_broker->endpoint());
    QVERIFY(!session.id.isEmpty());
    const Answer refused = call(session, m_server + QStringLiteral("__whoami"), {}, 41);
    QVERIFY2(refused.answered && refused.failed, qPrintable(refused.text));
    QVERIFY2(refused.text.contains(QStringLiteral("needs sign-in")), qPrintable(refused.text));
    const Answer other = call(session, QStringLiteral("steady__echo"),
                              {{QStringLiteral("text"), QStringLiteral("unaffected")}}, 42);
    QVERIFY2(other.answered && !other.failed, qPrintable(other.text));
    QVERIFY(m_broker->isRunning());
}

// --- the keychain ---------------------------------------------------------------------------

void TestFaults::serveWithoutUsableKeychainStartsAndSaysWhy_data()
{
    QTest::addColumn<QString>("fault");
    QTest::addColumn<QString>("sentence"); // in the status of the server with a secret
    QTest::newRow("absent") << QStringLiteral("absent")
                            << QStringLiteral("No keychain is available");
    QTest::newRow("locked") << QStringLiteral("locked") << QStringLiteral("keychain is locked");
    QTest::newRow("not answering")
            << QStringLiteral("not answering")
            << QStringLiteral("The keychain did not answer within 15 seconds");
}

void TestFaults::serveWithoutUsableKeychainStartsAndSaysWhy()
{
    QFETCH(QString, fault);
    QFETCH(QString, sentence);
    auto plain = UpstreamServer::fixture(QStringLiteral("plain"));
    auto alpha = UpstreamServer::fixture(QStringLiteral("alpha"));
    QString why;
    QVERIFY2(startUpstreams({plain.get(), alpha.get()}, &why), qPrintable(why));

    // The secrets go into a keychain that works (the suite's own for "absent", which has no
    // keychain at all later; a private one, locked or stopped later, for the others).
    KeyringSession keyring;
    const bool absent = fault == QLatin1String("absent");
    QVERIFY2(keyring.start(absent ? KeyringSession::Keychain::None
                                  : KeyringSession::Keychain::Unlocked,
                           &why),
             qPrintable(why));
    if (!absent)
        keyring.applyTo(m_broker->environment());
    const CliResult addPlain = m_broker->add(QStringLiteral("plain"), plain->url());
    QVERIFY2(addPlain.succeeded(), qPrintable(addPlain.describe()));
    const CliResult addAlpha
            = m_broker->add(QStringLiteral("alpha"), alpha->url(), randomSecret("bearer-"));
    QVERIFY2(addAlpha.succeeded(), qPrintable(addAlpha.describe()));
    QVERIFY2(m_broker->makeDefaultGrant(), qPrintable(m_broker->diagnostics()));

    if (absent)
        keyring.applyTo(m_broker->environment());
    else if (fault == QLatin1String("locked"))
        QVERIFY2(keyring.lock(&why), qPrintable(why));
    else
        QVERIFY2(keyring.freeze(), qPrintable(keyring.diagnostics()));

    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics() + keyring.diagnostics()));
    // The server without a secret connects; the one with a secret fails with a sentence.
    QVERIFY(waitForStates({{QStringLiteral("plain"), QStringLiteral("ready")},
                           {QStringLiteral("alpha"), QStringLiteral("failed")}},
                          45'000));
    const QString error
            = m_broker->serverStatus(QStringLiteral("alpha"))[QStringLiteral("error")].toString();
    QVERIFY2(error.contains(QStringLiteral("'alpha'")) && error.contains(sentence),
             qPrintable(error));
    qInfo().noquote() << "status:" << error;

    // Clients prove their grant through the keychain too: refused, with the reason.
    const HttpResult refused
            = m_http.post(m_broker->endpoint(), McpHttp::initializeRequest(kProtocol), {}, 45'000);
    QCOMPARE(refused.status, 401);
    QVERIFY2(refused.body.contains("keychain"), qPrintable(refused.describe()));
    qInfo().noquote() << "a client:" << refused.body;
    QVERIFY(m_broker->isRunning());
}

// --- corrupt files --------------------------------------------------------------------------

void TestFaults::corruptConfigIsKeptAsABackupAndServeStartsAnyway()
{
    QVERIFY2(m_broker->makeDefaultGrant(), qPrintable(m_broker->diagnostics()));
    const QByteArray corrupt = "{\"servers\": [{\"name\": \"alpha\", \"url\": "
                               "\"http://127.0.0.1:9/mcp\"},\n  half-written\n";
    QVERIFY(m_broker->writeConfig(corrupt));

    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    // The file stays as it was, and a copy of it sits next to it.
    QCOMPARE(readFile(m_broker->configPath()), corrupt);
    const QDir directory(m_broker->configDirectory());
    const QStringList backups
            = directory.entryList({QStringLiteral("config.json.corrupt-*")}, QDir::Files);
    QCOMPARE(backups.size(), 1);
    QCOMPARE(readFile(directory.filePath(backups.first())), corrupt);

    // A sentence names both, in the log and in the status.
    const QString backupPath = directory.filePath(backups.first());
    const QRegularExpression bothFiles(QStringLiteral("%1.*%2").arg(
            QRegularExpression::escape(m_broker->configPath() + QLatin1Char(' ')),
            QRegularExpression::escape(backupPath)));
    QVERIFY2(m_broker->serveProcess()->waitForStderrLine(bothFiles, kPromptMs).hasMatch(),
             qPrintable(m_broker->diagnostics()));
    const QJsonArray problems = statusDocument()[QStringLiteral("problems")].toArray();
    QVERIFY2(problems.size() == 1 && bothFiles.match(problems.first().toString()).hasMatch(),
             qPrintable(QJsonDocument(problems).toJson()));

    // Commands that edit the config refuse, and leave it alone.
    for (const QStringList &arguments :
         {QStringList{QStringLiteral("add"), QStringLiteral("beta"),
                      QStringLiteral("http://127.0.0.1:9/mcp")},
          QStringList{QStringLiteral("remove"), QStringLiteral("alpha")}}) {
        const CliResult refused = m_broker->run(arguments);
        QVERIFY2(refused.finished && refused.exitCode != 0, qPrintable(refused.describe()));
        QVERIFY2(QString::fromUtf8(refused.err).contains(m_broker->configPath()),
                 qPrintable(refused.describe()));
        QCOMPARE(readFile(m_broker->configPath()), corrupt);
    }

    // Once the user fixes the file, the running broker takes it up.
    auto steady = UpstreamServer::fixture(QStringLiteral("steady"));
    QString why;
    QVERIFY2(startUpstreams({steady.get()}, &why), qPrintable(why));
    QVERIFY(m_broker->writeConfig(
            configWith({serverEntry(QStringLiteral("steady"), steady->url())})));
    QVERIFY(waitForStates({{QStringLiteral("steady"), QStringLiteral("ready")}}));
    QTRY_VERIFY_WITH_TIMEOUT(statusDocument()[QStringLiteral("problems")].toArray().isEmpty(),
                             kPromptMs);
    QCOMPARE(directory.entryList({QStringLiteral("config.json.corrupt-*")}, QDir::Files).size(), 1);
}

void TestFaults::corruptGrantsFileIsSetAsideAndServeStartsAnyway()
{
    QVERIFY2(m_broker->makeDefaultGrant(), qPrintable(m_broker->diagnostics()));
    const QString grantsPath = QDir(m_broker->configDirectory()).filePath("grants.json");
    const QByteArray corrupt = readFile(grantsPath).left(40);
    QVERIFY(!corrupt.isEmpty());
    QVERIFY(writeFile(grantsPath, corrupt));

    QVERIFY2(startBroker(), qPrintable(m_broker->diagnostics()));
    // Moved aside whole (left in place it would block every new grant too).
    const QDir directory(m_broker->configDirectory());
    const QStringList backups
            = directory.entryList({QStringLiteral("grants.json.corrupt-*")}, QDir::Files);
    QCOMPARE(backups.size(), 1);
    QCOMPARE(readFile(directory.filePath(backups.first())), corrupt);
    QVERIFY(!QFile::exists(grantsPath));
    const QJsonArray problems = statusDocument()[QStringLiteral("problems")].toArray();
    QVERIFY2(problems.size() == 1 && problems.first().toString().contains(grantsPath)
                     && problems.first().toString().contains(backups.first())
                     && problems.first().toString().contains(QStringLiteral("grant create")),
             qPrintable(QJsonDocument(problems).toJson()));

    // The old grant proves nothing now; a new one works at once, without a restart.
    const HttpResult refused
            = m_http.post(m_broker->endpoint(), McpHttp::initializeRequest(kProtocol));
    QCOMPARE(refused.status, 401);
    const GrantCreation again = m_broker->createGrant(QStringLiteral("granted-again"));
    QVERIFY2(again.succeeded(), qPrintable(again.describe()));
    QTRY_COMPARE_WITH_TIMEOUT(m_http.post(m_broker->endpoint(),
                                          McpHttp::initializeRequest(kProtocol),
                                          {{"Authorization", "Bearer " + again.token}})
                                      .status,
                              200, kPromptMs);
}

// --- the port -------------------------------------------------------------------------------

void TestFaults::serveOnATakenPortExitsWithASentenceAndChangesNothing_data()
{
    QTest::addColumn<bool>("fromCommandLine");
    QTest::newRow("serve --port P") << true;
    QTest::newRow("\"port\": P in the config") << false;
}

void TestFaults::serveOnATakenPortExitsWithASentenceAndChangesNothing()
{
    QFETCH(bool, fromCommandLine);
    QTcpServer taken;
    QVERIFY(taken.listen(QHostAddress::LocalHost, 0));
    const QString port = QString::number(taken.serverPort());
    QJsonObject config{{QStringLiteral("servers"),
                        QJsonArray{serverEntry(QStringLiteral("alpha"),
                                               QUrl(QStringLiteral("http://127.0.0.1:9/mcp")))}}};
    if (!fromCommandLine)
        config[QStringLiteral("port")] = int(taken.serverPort());
    QVERIFY(m_broker->writeConfig(QJsonDocument(config).toJson()));
    QVERIFY2(m_broker->makeDefaultGrant(), qPrintable(m_broker->diagnostics()));
    const QMap<QString, QByteArray> before = snapshot(m_broker->configDirectory());

    QStringList arguments{QStringLiteral("serve")};
    if (fromCommandLine)
        arguments << QStringLiteral("--port") << port;
    const CliResult serve = m_broker->run(arguments);
    QVERIFY2(serve.finished && serve.exitCode == 1, qPrintable(serve.describe()));
    const QString err = QString::fromUtf8(serve.err);
    QVERIFY2(err.contains(QStringLiteral("Port %1").arg(port))
                     && err.contains(QStringLiteral("--port")),
             qPrintable(serve.describe()));
    QVERIFY2(!serve.out.contains("listening"), qPrintable(serve.describe()));
    QCOMPARE(snapshot(m_broker->configDirectory()), before);
}

QTEST_GUILESS_MAIN(TestFaults)
#include "tst_faults.moc"
