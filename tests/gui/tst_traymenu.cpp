// The tray's context menu (ui/TrayMenu.h) and its icons (ui/TrayIcons.h): the layout and
// objectNames drawn from a TrayState, which items apply, the signal each item emits, rebuilds
// that leave nothing behind, the checkboxes and the "Connect a client" submenu.

#include "TrayFixtures.h"
#include "TrayIcons.h"
#include "TrayMenu.h"

#include <QAction>
#include <QApplication>
#include <QImage>
#include <QMenu>
#include <QPointer>
#include <QSignalSpy>
#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::ui;
using namespace trayfixtures;

namespace {

// github (OAuth, needs sign-in), docs (no OAuth, ready); cursor (github only).
TrayState sampleState(bool paused = false)
{
    return trayState({server(u"github"_qs, State::NeedsSignIn, SignIn::NeedsSignIn),
                      server(u"docs"_qs, State::Ready)},
                     {grant(u"g0000000000c1"_qs, u"cursor"_qs, kNow.addSecs(-300), {u"github"_qs})},
                     paused);
}

// Each item of a menu as text: "--Title" for a section or separator, "[x]" for a checked
// checkbox, "(off)" for a disabled item, objectName or text, "▸" for a submenu.
QStringList describe(const QMenu *menu)
{
    QStringList items;
    for (const QAction *action : menu->actions()) {
        if (action->isSeparator()) {
            items.append(u"--"_qs + action->text());
            continue;
        }
        QString item = action->objectName().isEmpty() ? action->text() : action->objectName();
        if (action->menu())
            item += u" ▸"_qs;
        if (action->isChecked())
            item += u" [x]"_qs;
        if (!action->isEnabled())
            item += u" (off)"_qs;
        items.append(item);
    }
    return items;
}

QMenu *submenu(const TrayMenu &tray, const QString &objectName)
{
    QAction *action = tray.findAction(objectName);
    return action ? action->menu() : nullptr;
}

// Every QAction the tray could still show: its own and those in its menus.
int actionCount(const TrayMenu &tray)
{
    return int(tray.findChildren<QAction *>().size()
               + tray.menu()->findChildren<QAction *>().size());
}

void deleteDeferred()
{
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
}

bool near(QColor actual, QColor expected)
{
    constexpr int kTolerance = 24;
    return qAbs(actual.red() - expected.red()) <= kTolerance
            && qAbs(actual.green() - expected.green()) <= kTolerance
            && qAbs(actual.blue() - expected.blue()) <= kTolerance && actual.alpha() == 255;
}

} // namespace

Q_DECLARE_METATYPE(mcpbroker::ui::OverallState)

class TestTrayMenu : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void layoutFollowsTheState();
    void emptyStateShowsPlaceholders();
    void serverSubmenuHasTitleIconAndActions();
    void serverActionsApplyOnlyWhereTheyCan_data();
    void serverActionsApplyOnlyWhereTheyCan();
    void clientSubmenuShowsServersAndRevokes();
    void clientNamesShowLiterallyAndShort();
    void eachActionEmitsItsSignalWithItsArgument();
    void rebuildLeavesNoStaleActions();
    void rebuildFromTheTriggeredActionIsSafe();
    void checkboxesFollowTheStateWithoutEmitting();
    void connectMenuAttachesAndDetaches();
    void stateIconsRenderFrom16To64Pixels_data();
    void stateIconsRenderFrom16To64Pixels();
    void applicationIconRenders();
};

void TestTrayMenu::layoutFollowsTheState()
{
    TrayMenu tray;
    tray.update(sampleState());

    QCOMPARE(describe(tray.menu()),
             (QStringList{u"github needs sign-in (off)"_qs, u"--Servers"_qs, u"server:github ▸"_qs,
                          u"server:docs ▸"_qs, u"addServer"_qs, u"--Clients"_qs,
                          u"client:g0000000000c1 ▸"_qs, u"--"_qs, u"copyEndpoint"_qs,
                          u"connectMenu (off)"_qs, u"--"_qs, u"pause"_qs, u"openAuditLog"_qs,
                          u"startAtLogin"_qs, u"--"_qs, u"quit"_qs}));
    const QAction *header = tray.menu()->actions().first();
    QVERIFY(!header->icon().isNull());
    QCOMPARE(tray.findAction(u"addServer"_qs)->text(), u"Add server…"_qs);
    QCOMPARE(tray.findAction(u"copyEndpoint"_qs)->text(), u"Copy endpoint URL"_qs);
    QCOMPARE(tray.findAction(u"connectMenu"_qs)->text(), u"Connect a client"_qs);
    QCOMPARE(tray.findAction(u"pause"_qs)->text(), u"Pause all access"_qs);
    QCOMPARE(tray.findAction(u"openAuditLog"_qs)->text(), u"Open audit log"_qs);
    QCOMPARE(tray.findAction(u"startAtLogin"_qs)->text(), u"Start at login"_qs);
    QCOMPARE(tray.findAction(u"quit"_qs)->text(), u"Quit MCP Broker"_qs);
}

void TestTrayMenu::emptyStateShowsPlaceholders()
{
    TrayMenu tray;
    tray.update(buildTrayState({}, {}, false, QUrl(), kNow));

    QCOMPARE(describe(tray.menu()),
             (QStringList{u"No servers yet — add one (off)"_qs, u"--Servers"_qs,
                          u"No servers yet (off)"_qs, u"addServer"_qs, u"--Clients"_qs,
                          u"No clients yet (off)"_qs, u"--"_qs, u"copyEndpoint (off)"_qs,
                          u"connectMenu (off)"_qs, u"--"_qs, u"pause"_qs, u"openAuditLog"_qs,
                          u"startAtLogin"_qs, u"--"_qs, u"quit"_qs}));
}

void TestTrayMenu::serverSubmenuHasTitleIconAndActions()
{
    TrayMenu tray;
    tray.update(sampleState());

    QMenu *github = submenu(tray, u"server:github"_qs);
    QVERIFY(github);
    QCOMPARE(github->objectName(), u"server:github"_qs);
    QCOMPARE(github->title(), u"github — Needs sign-in"_qs);
    QVERIFY(!github->icon().isNull());
    // The broker's sentence first, then what the user can do about it.
    QCOMPARE(describe(github),
             (QStringList{u"Server 'github' needs sign-in: click the tray icon or run "
                          "`mcp-broker login github`. (off)"_qs,
                          u"signIn:github"_qs, u"signOut:github"_qs, u"openUrl:github"_qs, u"--"_qs,
                          u"remove:github"_qs}));
    QCOMPARE(tray.findAction(u"signIn:github"_qs)->text(), u"Sign in…"_qs);
    QCOMPARE(tray.findAction(u"signOut:github"_qs)->text(), u"Sign out and revoke"_qs);
    QCOMPARE(tray.findAction(u"openUrl:github"_qs)->text(), u"Open server URL"_qs);
    QCOMPARE(tray.findAction(u"remove:github"_qs)->text(), u"Remove…"_qs);

    QCOMPARE(submenu(tray, u"server:docs"_qs)->title(), u"docs — Ready · 12 tools"_qs);

    // A failed server says why in its title, not once more inside.
    tray.update(trayState({server(u"linear"_qs, State::Failed)}));
    QMenu *linear = submenu(tray, u"server:linear"_qs);
    QCOMPARE(linear->title(),
             u"linear — Failed: Server 'linear' did not answer: check its URL."_qs);
    QCOMPARE(describe(linear).size(), 5);
}

void TestTrayMenu::serverActionsApplyOnlyWhereTheyCan_data()
{
    QTest::addColumn<int>("stateValue");
    QTest::addColumn<int>("signInValue");
    QTest::addColumn<bool>("signInEnabled");
    QTest::addColumn<bool>("signOutEnabled");

    const auto row = [](const char *name, State state, SignIn signIn, bool in, bool out) {
        QTest::newRow(name) << int(state) << int(signIn) << in << out;
    };
    row("no OAuth", State::Ready, SignIn::NotApplicable, false, false);
    row("signed in", State::Ready, SignIn::SignedIn, true, true);
    row("needs sign-in", State::NeedsSignIn, SignIn::NeedsSignIn, true, true);
    row("signing in", State::NeedsSignIn, SignIn::SigningIn, false, false);
    row("unknown", State::Connecting, SignIn::Unknown, true, true);
}

void TestTrayMenu::serverActionsApplyOnlyWhereTheyCan()
{
    QFETCH(int, stateValue);
    QFETCH(int, signInValue);
    QFETCH(bool, signInEnabled);
    QFETCH(bool, signOutEnabled);

    TrayMenu tray;
    tray.update(trayState({server(u"notes"_qs, State(stateValue), SignIn(signInValue))}));
    QCOMPARE(tray.findAction(u"signIn:notes"_qs)->isEnabled(), signInEnabled);
    QCOMPARE(tray.findAction(u"signOut:notes"_qs)->isEnabled(), signOutEnabled);
    QVERIFY(tray.findAction(u"openUrl:notes"_qs)->isEnabled());
    QVERIFY(tray.findAction(u"remove:notes"_qs)->isEnabled());
}

void TestTrayMenu::clientSubmenuShowsServersAndRevokes()
{
    TrayMenu tray;
    tray.update(sampleState());

    QMenu *cursor = submenu(tray, u"client:g0000000000c1"_qs);
    QVERIFY(cursor);
    QCOMPARE(cursor->title(), u"cursor — used 5 minutes ago"_qs);
    QCOMPARE(describe(cursor), (QStringList{u"github (off)"_qs, u"revoke:g0000000000c1"_qs}));
    QCOMPARE(tray.findAction(u"revoke:g0000000000c1"_qs)->text(), u"Revoke access"_qs);
}

void TestTrayMenu::clientNamesShowLiterallyAndShort()
{
    // A local OAuth client picks its own name: '&' is no shortcut, a long name is cut.
    TrayMenu tray;
    const QString longName(200, u'x');
    tray.update(
            trayState({},
                      {grant(u"g0000000000d1"_qs, u"R&D bot"_qs, kNow.addSecs(-300), {u"a&b"_qs}),
                       grant(u"g0000000000d2"_qs, longName, kNow.addSecs(-300))}));

    QMenu *rd = submenu(tray, u"client:g0000000000d1"_qs);
    QCOMPARE(rd->title(), u"R&&D bot — used 5 minutes ago"_qs);
    QCOMPARE(rd->actions().first()->text(), u"a&&b"_qs);
    QCOMPARE(submenu(tray, u"client:g0000000000d2"_qs)->title(),
             QString(47, u'x') + u"… — used 5 minutes ago"_qs);

    QSignalSpy revoke(&tray, &TrayMenu::revokeClientRequested);
    tray.findAction(u"revoke:g0000000000d2"_qs)->trigger();
    QCOMPARE(revoke.size(), 1);
    QCOMPARE(revoke.first().at(1).toString(), longName);
}

void TestTrayMenu::eachActionEmitsItsSignalWithItsArgument()
{
    TrayMenu tray;
    tray.update(sampleState());

    QSignalSpy signIn(&tray, &TrayMenu::signInRequested);
    QSignalSpy signOut(&tray, &TrayMenu::signOutRequested);
    QSignalSpy openUrl(&tray, &TrayMenu::openServerUrlRequested);
    QSignalSpy remove(&tray, &TrayMenu::removeServerRequested);
    QSignalSpy revoke(&tray, &TrayMenu::revokeClientRequested);
    QSignalSpy addServer(&tray, &TrayMenu::addServerRequested);
    QSignalSpy copyEndpoint(&tray, &TrayMenu::copyEndpointRequested);
    QSignalSpy pause(&tray, &TrayMenu::pauseToggled);
    QSignalSpy auditLog(&tray, &TrayMenu::openAuditLogRequested);
    QSignalSpy startAtLogin(&tray, &TrayMenu::startAtLoginToggled);
    QSignalSpy quit(&tray, &TrayMenu::quitRequested);
    const QList<QSignalSpy *> spies{&signIn,   &signOut,      &openUrl,      &remove,
                                    &revoke,   &addServer,    &copyEndpoint, &pause,
                                    &auditLog, &startAtLogin, &quit};
    // Triggers one action; exactly `expected` hears it, once, and keeps the arguments.
    const auto trigger = [&](const QString &objectName, const QSignalSpy &expected) {
        for (QSignalSpy *spy : spies)
            spy->clear();
        QAction *action = tray.findAction(objectName);
        QVERIFY2(action, qPrintable(objectName));
        action->trigger();
        for (QSignalSpy *spy : spies)
            QCOMPARE(spy->size(), spy == &expected ? 1 : 0);
    };

    trigger(u"signIn:github"_qs, signIn);
    QCOMPARE(signIn.first().at(0).toString(), u"github"_qs);
    trigger(u"signOut:github"_qs, signOut);
    QCOMPARE(signOut.first().at(0).toString(), u"github"_qs);
    trigger(u"openUrl:docs"_qs, openUrl);
    QCOMPARE(openUrl.first().at(0).toUrl(), QUrl(u"https://docs.example.com/mcp"_qs));
    trigger(u"remove:docs"_qs, remove);
    QCOMPARE(remove.first().at(0).toString(), u"docs"_qs);
    trigger(u"revoke:g0000000000c1"_qs, revoke);
    QCOMPARE(revoke.first().at(0).toString(), u"g0000000000c1"_qs);
    QCOMPARE(revoke.first().at(1).toString(), u"cursor"_qs);
    trigger(u"addServer"_qs, addServer);
    trigger(u"copyEndpoint"_qs, copyEndpoint);
    trigger(u"pause"_qs, pause);
    QCOMPARE(pause.first().at(0).toBool(), true);
    trigger(u"openAuditLog"_qs, auditLog);
    trigger(u"startAtLogin"_qs, startAtLogin);
    QCOMPARE(startAtLogin.first().at(0).toBool(), true);
    trigger(u"quit"_qs, quit);
}

void TestTrayMenu::rebuildLeavesNoStaleActions()
{
    TrayMenu tray;
    tray.update(sampleState());
    deleteDeferred();
    const int actionsForSample = actionCount(tray);
    const qsizetype widgetsForSample = QApplication::allWidgets().size();

    QPointer<QAction> oldSignIn = tray.findAction(u"signIn:github"_qs);
    QPointer<QMenu> oldGithub = submenu(tray, u"server:github"_qs);
    QPointer<QAction> oldRevoke = tray.findAction(u"revoke:g0000000000c1"_qs);
    QVERIFY(oldSignIn && oldGithub && oldRevoke);

    // github and the client are gone.
    tray.update(trayState({server(u"docs"_qs, State::Ready)}));
    QVERIFY(!tray.findAction(u"server:github"_qs));
    QVERIFY(!tray.findAction(u"signIn:github"_qs));
    QVERIFY(!tray.findAction(u"client:g0000000000c1"_qs));
    QVERIFY(!tray.findAction(u"revoke:g0000000000c1"_qs));
    QVERIFY(tray.findAction(u"signIn:docs"_qs));
    QVERIFY(!tray.menu()->actions().contains(oldGithub->menuAction()));
    deleteDeferred();
    QVERIFY(!oldSignIn);
    QVERIFY(!oldGithub);
    QVERIFY(!oldRevoke);

    // The same state again and again: exactly as many actions and widgets as the first time.
    for (int i = 0; i < 5; ++i)
        tray.update(sampleState());
    deleteDeferred();
    QCOMPARE(actionCount(tray), actionsForSample);
    QCOMPARE(QApplication::allWidgets().size(), widgetsForSample);
    QCOMPARE(tray.menu()->actions().size(), 16);
}

void TestTrayMenu::rebuildFromTheTriggeredActionIsSafe()
{
    TrayMenu tray;
    tray.update(sampleState());
    // Revoking a client changes the broker's clients at once, which rebuilds the menu while the
    // "Revoke access" action is still being triggered.
    connect(&tray, &TrayMenu::revokeClientRequested, &tray,
            [&tray] { tray.update(trayState({})); });
    QSignalSpy revoke(&tray, &TrayMenu::revokeClientRequested);

    tray.findAction(u"revoke:g0000000000c1"_qs)->trigger();
    QCOMPARE(revoke.size(), 1);
    QVERIFY(!tray.findAction(u"revoke:g0000000000c1"_qs));
    deleteDeferred();
    QCOMPARE(describe(tray.menu()).at(5), u"No clients yet (off)"_qs);
}

void TestTrayMenu::checkboxesFollowTheStateWithoutEmitting()
{
    TrayMenu tray;
    QSignalSpy pause(&tray, &TrayMenu::pauseToggled);
    QSignalSpy startAtLogin(&tray, &TrayMenu::startAtLoginToggled);
    QAction *pauseAction = tray.findAction(u"pause"_qs);
    QAction *startAction = tray.findAction(u"startAtLogin"_qs);
    QVERIFY(pauseAction->isCheckable());
    QVERIFY(startAction->isCheckable());

    tray.update(sampleState(true));
    QVERIFY(pauseAction->isChecked());
    tray.setStartAtLogin(true);
    QVERIFY(startAction->isChecked());
    // A rebuild keeps both: the pause from the state, start at login as last set.
    tray.update(sampleState(true));
    QVERIFY(tray.findAction(u"pause"_qs)->isChecked());
    QVERIFY(tray.findAction(u"startAtLogin"_qs)->isChecked());
    tray.update(sampleState(false));
    QVERIFY(!pauseAction->isChecked());
    QVERIFY(startAction->isChecked());
    tray.setStartAtLogin(false);
    QVERIFY(!startAction->isChecked());
    QCOMPARE(pause.size(), 0);
    QCOMPARE(startAtLogin.size(), 0);

    // The user unticks what the state ticked: the signal carries the new value.
    tray.update(sampleState(true));
    pauseAction->trigger();
    QCOMPARE(pause.size(), 1);
    QCOMPARE(pause.takeFirst().at(0).toBool(), false);
}

void TestTrayMenu::connectMenuAttachesAndDetaches()
{
    TrayMenu tray;
    tray.update(sampleState());
    QAction *connectItem = tray.findAction(u"connectMenu"_qs);
    QVERIFY(!connectItem->isEnabled());
    QVERIFY(!connectItem->menu());

    auto connectMenu = std::make_unique<QMenu>(u"Connect a client"_qs);
    connectMenu->addAction(u"Claude Code"_qs)->setObjectName(u"connect:claude-code"_qs);
    tray.setConnectMenu(connectMenu.get());
    QVERIFY(connectItem->isEnabled());
    QCOMPARE(connectItem->menu(), connectMenu.get());

    // A rebuild keeps it attached.
    tray.update(sampleState());
    QCOMPARE(tray.findAction(u"connectMenu"_qs), connectItem);
    QVERIFY(tray.menu()->actions().contains(connectItem));
    QCOMPARE(connectItem->menu(), connectMenu.get());

    tray.setConnectMenu(nullptr);
    QVERIFY(!connectItem->isEnabled());
    QVERIFY(!connectItem->menu());

    // Deleted by its owner while attached: the item is disabled again.
    tray.setConnectMenu(connectMenu.get());
    connectMenu.reset();
    QVERIFY(!connectItem->isEnabled());
    QVERIFY(!connectItem->menu());
}

void TestTrayMenu::stateIconsRenderFrom16To64Pixels_data()
{
    QTest::addColumn<OverallState>("state");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QColor>("badge");

    QTest::newRow("ok") << OverallState::Ok << u":/icons/tray-ok.svg"_qs
                        << QColor(0x2e, 0xa0, 0x43);
    QTest::newRow("connecting") << OverallState::Connecting << u":/icons/tray-connecting.svg"_qs
                                << QColor(0xdf, 0xe6, 0xf0);
    QTest::newRow("needs sign-in")
            << OverallState::NeedsSignIn << u":/icons/tray-needs-sign-in.svg"_qs
            << QColor(0xf0, 0xa3, 0x0a);
    QTest::newRow("error") << OverallState::Error << u":/icons/tray-error.svg"_qs
                           << QColor(0xd1, 0x24, 0x2f);
    QTest::newRow("paused") << OverallState::Paused << u":/icons/tray-paused.svg"_qs
                            << QColor(0x37, 0x41, 0x51);
}

void TestTrayMenu::stateIconsRenderFrom16To64Pixels()
{
    QFETCH(OverallState, state);
    QFETCH(QString, path);
    QFETCH(QColor, badge);

    QCOMPARE(TrayIcons::resourcePath(state), path);
    const QIcon fromResource(path);
    QVERIFY(!fromResource.pixmap(32).isNull());
    for (int size : {16, 22, 24, 32, 48, 64}) {
        const QImage image = TrayIcons::forState(state).pixmap(size).toImage();
        QVERIFY2(!image.isNull(), qPrintable(QString::number(size)));
        QCOMPARE(image.width(), size);
        // The hub in the middle is drawn, opaque.
        QCOMPARE(image.pixelColor(size / 2, size / 2).alpha(), 255);
    }
    // The badge, bottom right, has the state's colour (below its glyph).
    const QImage large = TrayIcons::forState(state).pixmap(64).toImage();
    const QColor sampled = large.pixelColor(46, 56);
    QVERIFY2(near(sampled, badge), qPrintable(sampled.name(QColor::HexArgb)));
}

void TestTrayMenu::applicationIconRenders()
{
    const QIcon icon = TrayIcons::application();
    QVERIFY(!icon.isNull());
    QVERIFY(!QIcon(u":/icons/mcp-broker.svg"_qs).pixmap(32).isNull());
    const QImage image = icon.pixmap(64).toImage();
    QCOMPARE(image.width(), 64);
    // Blue tile, white hub, no badge: the bottom-right node is white.
    QVERIFY(near(image.pixelColor(8, 32), QColor(0x2d, 0x5b, 0x9a)));
    QVERIFY(near(image.pixelColor(47, 47), Qt::white));
    QCOMPARE(image.pixelColor(0, 0).alpha(), 0);
}

QTEST_MAIN(TestTrayMenu)
#include "tst_traymenu.moc"
