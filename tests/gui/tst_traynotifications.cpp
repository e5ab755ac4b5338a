// The tray's messages (ui/TrayNotifications.h): a server that now needs sign-in or failed, a
// client newly allowed; nothing repeated, nothing at start-up but sign-ins, nothing when paused.

#include "TrayFixtures.h"
#include "TrayNotifications.h"

#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::ui;
using namespace trayfixtures;

using Severity = TrayNotification::Severity;

namespace {

Status ready(const QString &name)
{
    return server(name, State::Ready, SignIn::SignedIn);
}

Status signedOut(const QString &name)
{
    return server(name, State::NeedsSignIn, SignIn::NeedsSignIn);
}

QStringList titles(const QList<TrayNotification> &notifications)
{
    QStringList made;
    for (const TrayNotification &notification : notifications)
        made.append(notification.title);
    return made;
}

} // namespace

class TestTrayNotifications : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void startUpTellsOnlyServersThatNeedSignIn();
    void serverNewlyNeedingSignInWarnsWithTheBrokersSentence();
    void failedRefreshWarnsLikeASignOut();
    void sentenceMissingFallsBackToWhatToDo();
    void stillNeedingSignInIsNotRepeated();
    void signInThatEndsSignedOutSaysNothing();
    void serverAddedNeedingSignInWarns();
    void serverNewlyFailedIsCritical();
    void stillFailedIsNotRepeatedEvenWithAnotherSentence();
    void newClientGrantIsAnnounced();
    void removedServersAndClientsSayNothing();
    void disabledServersSayNothing();
    void pausedSaysNothing();
    void recoveryIsSilent();
};

void TestTrayNotifications::startUpTellsOnlyServersThatNeedSignIn()
{
    const TrayState after = trayState(
            {ready(u"docs"_qs), signedOut(u"github"_qs), server(u"linear"_qs, State::Failed)},
            {grant(u"g000000000001"_qs, u"cursor"_qs)});

    const QList<TrayNotification> notifications = notificationsBetween(nullptr, after);
    QCOMPARE(titles(notifications), QStringList{u"Sign in to github"_qs});
    QCOMPARE(notifications.first().severity, Severity::Warning);
    QCOMPARE(notifications.first().serverName, u"github"_qs);
}

void TestTrayNotifications::serverNewlyNeedingSignInWarnsWithTheBrokersSentence()
{
    const TrayState before = trayState({ready(u"github"_qs), ready(u"docs"_qs)});
    const TrayState after = trayState({signedOut(u"github"_qs), ready(u"docs"_qs)});

    const QList<TrayNotification> notifications = notificationsBetween(&before, after);
    QCOMPARE(notifications.size(), 1);
    const TrayNotification &notification = notifications.first();
    QCOMPARE(notification.title, u"Sign in to github"_qs);
    QCOMPARE(notification.message,
             u"Server 'github' needs sign-in: click the tray icon or run "
             "`mcp-broker login github`."_qs);
    QCOMPARE(notification.severity, Severity::Warning);
    QCOMPARE(notification.serverName, u"github"_qs);
}

void TestTrayNotifications::failedRefreshWarnsLikeASignOut()
{
    const TrayState before = trayState({ready(u"notes"_qs)});
    // The refresh token was refused: the server is still connected, its sign-in is gone.
    const TrayState after = trayState({server(u"notes"_qs, State::Ready, SignIn::NeedsSignIn)});

    const QList<TrayNotification> notifications = notificationsBetween(&before, after);
    QCOMPARE(titles(notifications), QStringList{u"Sign in to notes"_qs});
    QCOMPARE(notifications.first().severity, Severity::Warning);
    QVERIFY(notifications.first().message.contains(u"mcp-broker login notes"_qs));
}

void TestTrayNotifications::sentenceMissingFallsBackToWhatToDo()
{
    Status quiet = signedOut(u"github"_qs);
    quiet.error.clear();
    Status failed = server(u"linear"_qs, State::Failed);
    failed.error.clear();
    const TrayState before = trayState({ready(u"github"_qs), ready(u"linear"_qs)});
    const TrayState after = trayState({quiet, failed});

    const QList<TrayNotification> notifications = notificationsBetween(&before, after);
    QCOMPARE(titles(notifications), (QStringList{u"Sign in to github"_qs, u"linear failed"_qs}));
    QVERIFY(notifications.at(0).message.contains(u"mcp-broker login github"_qs));
    QVERIFY(notifications.at(1).message.contains(u"mcp-broker status"_qs));
}

void TestTrayNotifications::stillNeedingSignInIsNotRepeated()
{
    const TrayState before = trayState({signedOut(u"github"_qs)});
    // Another status change of the same server (the broker retried): still signed out.
    const TrayState after = trayState({server(u"github"_qs, State::Ready, SignIn::NeedsSignIn)});

    QVERIFY(notificationsBetween(&before, after).isEmpty());
}

void TestTrayNotifications::signInThatEndsSignedOutSaysNothing()
{
    // The user is signing in; when that fails, the sign-in reports it, not a notification.
    const TrayState signingIn
            = trayState({server(u"github"_qs, State::NeedsSignIn, SignIn::SigningIn)});
    const TrayState after = trayState({signedOut(u"github"_qs)});

    QVERIFY(notificationsBetween(&signingIn, after).isEmpty());
    QVERIFY(notificationsBetween(nullptr, signingIn).isEmpty());
}

void TestTrayNotifications::serverAddedNeedingSignInWarns()
{
    const TrayState before = trayState({ready(u"docs"_qs)});
    const TrayState after = trayState({ready(u"docs"_qs), signedOut(u"notes"_qs)});

    QCOMPARE(titles(notificationsBetween(&before, after)), QStringList{u"Sign in to notes"_qs});
}

void TestTrayNotifications::serverNewlyFailedIsCritical()
{
    const TrayState before = trayState({server(u"linear"_qs, State::Connecting)});
    const TrayState after = trayState({server(u"linear"_qs, State::Failed)});

    const QList<TrayNotification> notifications = notificationsBetween(&before, after);
    QCOMPARE(notifications.size(), 1);
    const TrayNotification &notification = notifications.first();
    QCOMPARE(notification.title, u"linear failed"_qs);
    QCOMPARE(notification.message, u"Server 'linear' did not answer: check its URL."_qs);
    QCOMPARE(notification.severity, Severity::Critical);
    QCOMPARE(notification.serverName, u"linear"_qs);
}

void TestTrayNotifications::stillFailedIsNotRepeatedEvenWithAnotherSentence()
{
    const TrayState before = trayState({server(u"linear"_qs, State::Failed)});
    Status again = server(u"linear"_qs, State::Failed);
    again.error = u"Server 'linear' refused the connection: is it running?"_qs;
    const TrayState after = trayState({again});

    QVERIFY(notificationsBetween(&before, after).isEmpty());
}

void TestTrayNotifications::newClientGrantIsAnnounced()
{
    gateway::ClientGrant inspector = grant(u"g000000000002"_qs, u"MCP Inspector"_qs);
    inspector.kind = gateway::ClientGrant::Kind::OAuth;
    inspector.servers = QStringList{u"github"_qs};
    const TrayState before
            = trayState({ready(u"github"_qs)}, {grant(u"g000000000001"_qs, u"cursor"_qs)});
    const TrayState after = trayState({ready(u"github"_qs)},
                                      {grant(u"g000000000001"_qs, u"cursor"_qs), inspector});

    const QList<TrayNotification> notifications = notificationsBetween(&before, after);
    QCOMPARE(notifications.size(), 1);
    const TrayNotification &notification = notifications.first();
    QCOMPARE(notification.title, u"MCP Inspector can now use MCP Broker"_qs);
    QVERIFY2(notification.message.contains(u"github"_qs), qPrintable(notification.message));
    QCOMPARE(notification.severity, Severity::Information);
    QVERIFY(notification.serverName.isEmpty());
}

void TestTrayNotifications::removedServersAndClientsSayNothing()
{
    const TrayState before = trayState({ready(u"docs"_qs), signedOut(u"github"_qs)},
                                       {grant(u"g000000000001"_qs, u"cursor"_qs)});
    const TrayState after = trayState({ready(u"docs"_qs)});

    QVERIFY(notificationsBetween(&before, after).isEmpty());
}

void TestTrayNotifications::disabledServersSayNothing()
{
    const TrayState before = trayState({ready(u"github"_qs)});
    const TrayState after = trayState({server(u"github"_qs, State::Disabled, SignIn::NeedsSignIn)});

    QVERIFY(notificationsBetween(&before, after).isEmpty());
    QVERIFY(notificationsBetween(nullptr, after).isEmpty());
}

void TestTrayNotifications::pausedSaysNothing()
{
    const TrayState before = trayState({ready(u"github"_qs), ready(u"linear"_qs)}, {}, true);
    const TrayState after
            = trayState({signedOut(u"github"_qs), server(u"linear"_qs, State::Failed)},
                        {grant(u"g000000000001"_qs, u"cursor"_qs)}, true);

    QVERIFY(notificationsBetween(&before, after).isEmpty());
    QVERIFY(notificationsBetween(nullptr, after).isEmpty());
}

void TestTrayNotifications::recoveryIsSilent()
{
    const TrayState before
            = trayState({signedOut(u"github"_qs), server(u"linear"_qs, State::Failed)});
    const TrayState after = trayState({ready(u"github"_qs), ready(u"linear"_qs)});

    QVERIFY(notificationsBetween(&before, after).isEmpty());
}

QTEST_GUILESS_MAIN(TestTrayNotifications)
#include "tst_traynotifications.moc"
