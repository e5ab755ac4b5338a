// What the tray shows (ui/TrayState.h): the overall state and its summary line from the
// servers' states, each server's text and sign-in actions, and the clients by last use.

#include "TrayFixtures.h"

#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::ui;
using namespace trayfixtures;

namespace {

QStringList clientNames(const TrayState &state)
{
    QStringList names;
    for (const ClientEntry &client : state.clients)
        names.append(client.name);
    return names;
}

} // namespace

Q_DECLARE_METATYPE(mcpbroker::ui::OverallState)
Q_DECLARE_METATYPE(mcpbroker::Broker::ServerStatus)
Q_DECLARE_METATYPE(mcpbroker::Broker::ServerStatus::State)
Q_DECLARE_METATYPE(mcpbroker::Broker::ServerStatus::SignIn)

class TestTrayState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void overallStateFollowsTheWorstServer_data();
    void overallStateFollowsTheWorstServer();
    void summaryNamesOneServerAndCountsMore_data();
    void summaryNamesOneServerAndCountsMore();
    void tooltipHasSummaryAndEndpoint();
    void serverTextSaysStateToolsAndError_data();
    void serverTextSaysStateToolsAndError();
    void signInAndSignOutApplyToOAuthServersOnly_data();
    void signInAndSignOutApplyToOAuthServersOnly();
    void serversKeepConfigOrder();
    void clientsMostRecentlyUsedFirstNeverUsedLastTiesByName();
    void clientTextsSayLastUseAndServers();
    void describeLastUseBoundaries_data();
    void describeLastUseBoundaries();
};

void TestTrayState::overallStateFollowsTheWorstServer_data()
{
    QTest::addColumn<QList<Status>>("servers");
    QTest::addColumn<bool>("paused");
    QTest::addColumn<OverallState>("expected");

    const Status ready = server(QStringLiteral("docs"), State::Ready);
    const Status connecting = server(QStringLiteral("slow"), State::Connecting);
    const Status signedOut
            = server(QStringLiteral("github"), State::NeedsSignIn, SignIn::NeedsSignIn);
    // How a refresh that failed shows: still ready, but the sign-in is gone.
    const Status refreshFailed = server(QStringLiteral("notes"), State::Ready, SignIn::NeedsSignIn);
    const Status failed = server(QStringLiteral("linear"), State::Failed);
    const Status disabledFailed = [] {
        Status status = server(QStringLiteral("off"), State::Disabled, SignIn::NeedsSignIn);
        status.error = QStringLiteral("Server 'off' is disabled.");
        return status;
    }();

    QTest::newRow("no servers") << QList<Status>{} << false << OverallState::Ok;
    QTest::newRow("all ready") << QList<Status>{ready, ready} << false << OverallState::Ok;
    QTest::newRow("connecting") << QList<Status>{ready, connecting} << false
                                << OverallState::Connecting;
    QTest::newRow("sign-in beats connecting")
            << QList<Status>{connecting, signedOut} << false << OverallState::NeedsSignIn;
    QTest::newRow("failed refresh needs sign-in")
            << QList<Status>{ready, refreshFailed} << false << OverallState::NeedsSignIn;
    QTest::newRow("failure beats sign-in")
            << QList<Status>{signedOut, failed, connecting} << false << OverallState::Error;
    QTest::newRow("paused beats failure")
            << QList<Status>{failed, signedOut} << true << OverallState::Paused;
    QTest::newRow("paused without servers") << QList<Status>{} << true << OverallState::Paused;
    QTest::newRow("disabled servers do not count")
            << QList<Status>{ready, disabledFailed} << false << OverallState::Ok;
}

void TestTrayState::overallStateFollowsTheWorstServer()
{
    QFETCH(QList<Status>, servers);
    QFETCH(bool, paused);
    QFETCH(OverallState, expected);

    const TrayState state = trayState(servers, {}, paused);
    QCOMPARE(state.overall, expected);
    QCOMPARE(state.paused, paused);
}

void TestTrayState::summaryNamesOneServerAndCountsMore_data()
{
    QTest::addColumn<QList<Status>>("servers");
    QTest::addColumn<bool>("paused");
    QTest::addColumn<QString>("summary");

    const auto ready = [](const QString &name) { return server(name, State::Ready); };
    const auto signedOut = [](const QString &name) {
        return server(name, State::NeedsSignIn, SignIn::NeedsSignIn);
    };
    QTest::newRow("none") << QList<Status>{} << false << u"No servers yet — add one"_qs;
    QTest::newRow("three ready") << QList<Status>{ready(u"a"_qs), ready(u"b"_qs), ready(u"c"_qs)}
                                 << false << u"All 3 servers ready"_qs;
    QTest::newRow("one ready") << QList<Status>{ready(u"docs"_qs)} << false << u"docs is ready"_qs;
    QTest::newRow("disabled not counted")
            << QList<Status>{ready(u"a"_qs), ready(u"b"_qs), server(u"c"_qs, State::Disabled)}
            << false << u"All 2 servers ready"_qs;
    QTest::newRow("only disabled") << QList<Status>{server(u"c"_qs, State::Disabled)} << false
                                   << u"Every server is disabled"_qs;
    QTest::newRow("one sign-in") << QList<Status>{ready(u"docs"_qs), signedOut(u"github"_qs)}
                                 << false << u"github needs sign-in"_qs;
    QTest::newRow("two sign-in") << QList<Status>{signedOut(u"github"_qs), signedOut(u"notes"_qs)}
                                 << false << u"2 servers need sign-in"_qs;
    QTest::newRow("one failed") << QList<Status>{ready(u"docs"_qs),
                                                 server(u"linear"_qs, State::Failed)}
                                << false << u"linear failed"_qs;
    QTest::newRow("two failed") << QList<Status>{server(u"a"_qs, State::Failed),
                                                 server(u"b"_qs, State::Failed)}
                                << false << u"2 servers failed"_qs;
    QTest::newRow("one connecting") << QList<Status>{server(u"slow"_qs, State::Connecting)} << false
                                    << u"Connecting to slow…"_qs;
    QTest::newRow("two connecting")
            << QList<Status>{server(u"a"_qs, State::Connecting), server(u"b"_qs, State::Connecting)}
            << false << u"Connecting to 2 servers…"_qs;
    QTest::newRow("paused") << QList<Status>{server(u"linear"_qs, State::Failed)} << true
                            << u"Paused: clients are refused"_qs;
}

void TestTrayState::summaryNamesOneServerAndCountsMore()
{
    QFETCH(QList<Status>, servers);
    QFETCH(bool, paused);
    QFETCH(QString, summary);

    QCOMPARE(trayState(servers, {}, paused).summary, summary);
}

void TestTrayState::tooltipHasSummaryAndEndpoint()
{
    const TrayState state = trayState({server(u"github"_qs, State::Ready)});
    QCOMPARE(state.tooltip, u"MCP Broker — github is ready\nhttp://127.0.0.1:7823/mcp"_qs);
    QCOMPARE(state.endpoint, kEndpoint);

    const TrayState notListening = buildTrayState({}, {}, false, QUrl(), kNow);
    QCOMPARE(notListening.tooltip, u"MCP Broker — No servers yet — add one"_qs);
}

void TestTrayState::serverTextSaysStateToolsAndError_data()
{
    QTest::addColumn<Status>("status");
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("needsSignIn");

    Status tools = server(u"github"_qs, State::Ready);
    tools.toolCount = 12;
    Status oneTool = tools;
    oneTool.toolCount = 1;
    Status noTools = tools;
    noTools.toolCount = 0;
    const Status failed = server(u"linear"_qs, State::Failed);
    Status failedSilently = failed;
    failedSilently.error.clear();
    Status signingIn = server(u"notes"_qs, State::NeedsSignIn, SignIn::SigningIn);

    QTest::newRow("ready, 12 tools") << tools << u"Ready · 12 tools"_qs << false;
    QTest::newRow("ready, 1 tool") << oneTool << u"Ready · 1 tool"_qs << false;
    QTest::newRow("ready, no tools") << noTools << u"Ready · no tools"_qs << false;
    QTest::newRow("connecting") << server(u"slow"_qs, State::Connecting) << u"Connecting…"_qs
                                << false;
    QTest::newRow("needs sign-in") << server(u"github"_qs, State::NeedsSignIn, SignIn::NeedsSignIn)
                                   << u"Needs sign-in"_qs << true;
    QTest::newRow("refresh failed") << server(u"github"_qs, State::Ready, SignIn::NeedsSignIn)
                                    << u"Needs sign-in"_qs << true;
    QTest::newRow("signing in") << signingIn << u"Signing in…"_qs << true;
    QTest::newRow("failed") << failed
                            << u"Failed: Server 'linear' did not answer: check its URL."_qs
                            << false;
    QTest::newRow("failed, no sentence") << failedSilently << u"Failed"_qs << false;
    QTest::newRow("disabled") << server(u"off"_qs, State::Disabled, SignIn::NeedsSignIn)
                              << u"Disabled"_qs << false;
}

void TestTrayState::serverTextSaysStateToolsAndError()
{
    QFETCH(Status, status);
    QFETCH(QString, text);
    QFETCH(bool, needsSignIn);

    const TrayState state = trayState({status});
    QCOMPARE(state.servers.size(), 1);
    const ServerEntry &entry = state.servers.first();
    QCOMPARE(entry.stateText, text);
    QCOMPARE(entry.needsSignIn, needsSignIn);
    QCOMPARE(entry.name, status.name);
    QCOMPARE(entry.url, status.url);
    QCOMPARE(entry.error, status.error);
    QCOMPARE(entry.state, status.state);
    QCOMPARE(entry.signIn, status.signIn);
}

void TestTrayState::signInAndSignOutApplyToOAuthServersOnly_data()
{
    QTest::addColumn<State>("state");
    QTest::addColumn<SignIn>("signIn");
    QTest::addColumn<bool>("canSignIn");
    QTest::addColumn<bool>("canSignOut");

    QTest::newRow("no OAuth") << State::Ready << SignIn::NotApplicable << false << false;
    QTest::newRow("signed in") << State::Ready << SignIn::SignedIn << true << true;
    QTest::newRow("unknown") << State::Connecting << SignIn::Unknown << true << true;
    // Its refresh token may still be in the keychain: signing out revokes and deletes it.
    QTest::newRow("needs sign-in") << State::NeedsSignIn << SignIn::NeedsSignIn << true << true;
    QTest::newRow("signing in") << State::NeedsSignIn << SignIn::SigningIn << false << false;
    QTest::newRow("failed, signed in") << State::Failed << SignIn::SignedIn << true << true;
    // The broker signs in to enabled servers only; the keychain may still hold tokens.
    QTest::newRow("disabled") << State::Disabled << SignIn::SignedIn << false << true;
}

void TestTrayState::signInAndSignOutApplyToOAuthServersOnly()
{
    QFETCH(State, state);
    QFETCH(SignIn, signIn);
    QFETCH(bool, canSignIn);
    QFETCH(bool, canSignOut);

    const ServerEntry entry = trayState({server(u"notes"_qs, state, signIn)}).servers.first();
    QCOMPARE(entry.canSignIn, canSignIn);
    QCOMPARE(entry.canSignOut, canSignOut);
}

void TestTrayState::serversKeepConfigOrder()
{
    const TrayState state
            = trayState({server(u"zeta"_qs, State::Ready), server(u"alpha"_qs, State::Failed),
                         server(u"mid"_qs, State::Connecting)});
    QStringList names;
    for (const ServerEntry &entry : state.servers)
        names.append(entry.name);
    QCOMPARE(names, (QStringList{u"zeta"_qs, u"alpha"_qs, u"mid"_qs}));
}

void TestTrayState::clientsMostRecentlyUsedFirstNeverUsedLastTiesByName()
{
    const QDateTime hourAgo = kNow.addSecs(-3600);
    const QList<gateway::ClientGrant> grants{
            grant(u"g000000000001"_qs, u"windsurf"_qs, QDateTime()),
            grant(u"g000000000002"_qs, u"cursor"_qs, kNow.addDays(-3)),
            grant(u"g000000000003"_qs, u"zed"_qs, hourAgo),
            grant(u"g000000000004"_qs, u"Codex"_qs, QDateTime()),
            grant(u"g000000000005"_qs, u"claude-code"_qs, kNow.addSecs(-30)),
            grant(u"g000000000006"_qs, u"vscode"_qs, hourAgo),
    };
    const TrayState state = trayState({}, grants);
    QCOMPARE(clientNames(state),
             (QStringList{u"claude-code"_qs, u"vscode"_qs, u"zed"_qs, u"cursor"_qs, u"Codex"_qs,
                          u"windsurf"_qs}));
}

void TestTrayState::clientTextsSayLastUseAndServers()
{
    gateway::ClientGrant cursor = grant(u"g0123456789ab"_qs, u"cursor"_qs, kNow.addSecs(-300));
    cursor.servers = QStringList{u"github"_qs, u"linear"_qs};
    gateway::ClientGrant inspector = grant(u"g0123456789ac"_qs, u"inspector"_qs, QDateTime());
    inspector.kind = gateway::ClientGrant::Kind::OAuth;

    const TrayState state = trayState({}, {inspector, cursor});
    QCOMPARE(state.clients.size(), 2);
    const ClientEntry &first = state.clients.at(0);
    QCOMPARE(first.grantId, u"g0123456789ab"_qs);
    QCOMPARE(first.name, u"cursor"_qs);
    QCOMPARE(first.lastUseText, u"used 5 minutes ago"_qs);
    QCOMPARE(first.serversText, u"github, linear"_qs);
    QVERIFY(!first.viaOAuth);
    const ClientEntry &second = state.clients.at(1);
    QCOMPARE(second.lastUseText, u"never used"_qs);
    QCOMPARE(second.serversText, u"all servers"_qs);
    QVERIFY(second.viaOAuth);
}

void TestTrayState::describeLastUseBoundaries_data()
{
    QTest::addColumn<qint64>("secondsAgo");
    QTest::addColumn<QString>("text");

    constexpr qint64 kMinute = 60;
    constexpr qint64 kHour = 3600;
    constexpr qint64 kDay = 86400;
    QTest::newRow("now") << qint64(0) << u"just now"_qs;
    QTest::newRow("59 s") << kMinute - 1 << u"just now"_qs;
    QTest::newRow("ahead of the clock") << qint64(-120) << u"just now"_qs;
    QTest::newRow("60 s") << kMinute << u"a minute ago"_qs;
    QTest::newRow("119 s") << 2 * kMinute - 1 << u"a minute ago"_qs;
    QTest::newRow("2 min") << 2 * kMinute << u"2 minutes ago"_qs;
    QTest::newRow("59 min") << kHour - 1 << u"59 minutes ago"_qs;
    QTest::newRow("1 h") << kHour << u"an hour ago"_qs;
    QTest::newRow("3 h") << 3 * kHour + 59 * kMinute << u"3 hours ago"_qs;
    QTest::newRow("23 h 59") << kDay - 1 << u"23 hours ago"_qs;
    QTest::newRow("24 h") << kDay << u"yesterday"_qs;
    QTest::newRow("47 h 59") << 2 * kDay - 1 << u"yesterday"_qs;
    QTest::newRow("2 days") << 2 * kDay << u"2 days ago"_qs;
    QTest::newRow("12 days") << 12 * kDay + kHour << u"12 days ago"_qs;
}

void TestTrayState::describeLastUseBoundaries()
{
    QFETCH(qint64, secondsAgo);
    QFETCH(QString, text);

    QCOMPARE(describeLastUse(kNow.addSecs(-secondsAgo), kNow), text);
    QCOMPARE(describeLastUse(QDateTime(), kNow), u"never"_qs);
}

QTEST_GUILESS_MAIN(TestTrayState)
#include "tst_traystate.moc"
