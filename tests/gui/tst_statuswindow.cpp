// The window shown where no tray exists (ui/StatusWindow.h): why it shows, the overall state,
// the endpoint, each server, the tray menu behind "Menu"; closing only hides it. Saves a
// screenshot to MCPB_SCREENSHOTS_DIR for people to look at.

#include "StatusWindow.h"
#include "TrayFixtures.h"
#include "TrayIcons.h"
#include "TrayMenu.h"

#include <QApplication>
#include <QDir>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::ui;
using namespace trayfixtures;

namespace {

const QString kNotice = u"No system tray was found, so MCP Broker shows this window instead."_qs;

TrayState sampleState()
{
    return trayState({server(u"github"_qs, State::NeedsSignIn, SignIn::NeedsSignIn),
                      server(u"docs"_qs, State::Ready), server(u"linear"_qs, State::Failed)});
}

QString labelText(const QWidget &window, const QString &objectName)
{
    const auto *label = window.findChild<QLabel *>(objectName);
    return label ? label->text() : u"<no label %1>"_qs.arg(objectName);
}

} // namespace

class TestStatusWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void showsNoticeSummaryEndpointAndServers();
    void emptyNoticeIsHidden();
    void updateReplacesTheServerLines();
    void menuButtonPopsUpTheTrayMenu();
    void closingOnlyHidesIt();
    void screenshotIsSaved();
};

void TestStatusWindow::showsNoticeSummaryEndpointAndServers()
{
    TrayMenu tray;
    StatusWindow window(tray.menu());
    window.setNotice(kNotice);
    window.update(sampleState());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    QCOMPARE(window.windowTitle(), u"MCP Broker"_qs);
    QVERIFY(!window.windowIcon().isNull());
    QCOMPARE(window.windowIcon().pixmap(32).toImage(),
             TrayIcons::application().pixmap(32).toImage());
    const auto *notice = window.findChild<QLabel *>(u"notice"_qs);
    QVERIFY(notice && notice->isVisible());
    QCOMPARE(notice->text(), kNotice);
    QCOMPARE(labelText(window, u"summary"_qs), u"linear failed"_qs);
    const auto *endpoint = window.findChild<QLabel *>(u"endpoint"_qs);
    QVERIFY(endpoint);
    QCOMPARE(endpoint->text(), u"http://127.0.0.1:7823/mcp"_qs);
    QVERIFY(endpoint->textInteractionFlags().testFlag(Qt::TextSelectableByMouse));
    QCOMPARE(labelText(window, u"server:github"_qs), u"github — Needs sign-in"_qs);
    QCOMPARE(labelText(window, u"server:docs"_qs), u"docs — Ready · 12 tools"_qs);
    QCOMPARE(labelText(window, u"server:linear"_qs),
             u"linear — Failed: Server 'linear' did not answer: check its URL."_qs);
}

void TestStatusWindow::emptyNoticeIsHidden()
{
    StatusWindow window(nullptr);
    window.setNotice(kNotice);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.findChild<QLabel *>(u"notice"_qs)->isVisible());

    window.setNotice(QString());
    QVERIFY(!window.findChild<QLabel *>(u"notice"_qs)->isVisible());
    // Without a menu the button has nothing to show.
    QVERIFY(!window.findChild<QPushButton *>(u"menuButton"_qs)->isEnabled());
}

void TestStatusWindow::updateReplacesTheServerLines()
{
    StatusWindow window(nullptr);
    window.update(sampleState());
    QVERIFY(window.findChild<QLabel *>(u"server:github"_qs));

    window.update(trayState({server(u"docs"_qs, State::Ready)}));
    QVERIFY(!window.findChild<QLabel *>(u"server:github"_qs));
    QVERIFY(!window.findChild<QLabel *>(u"server:linear"_qs));
    QCOMPARE(window.findChildren<QLabel *>(u"server:docs"_qs).size(), 1);
    QCOMPARE(labelText(window, u"summary"_qs), u"docs is ready"_qs);

    window.update(buildTrayState({}, {}, false, QUrl(), kNow));
    QVERIFY(window.findChildren<QLabel *>(u"server:docs"_qs).isEmpty());
    QCOMPARE(labelText(window, u"summary"_qs), u"No servers yet — add one"_qs);
    QCOMPARE(labelText(window, u"endpoint"_qs), u"not listening yet"_qs);
}

void TestStatusWindow::menuButtonPopsUpTheTrayMenu()
{
    TrayMenu tray;
    tray.update(sampleState());
    StatusWindow window(tray.menu());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    auto *button = window.findChild<QPushButton *>(u"menuButton"_qs);
    QVERIFY(button);
    QCOMPARE(button->text(), u"Menu"_qs);
    QVERIFY(button->isEnabled());
    QSignalSpy shown(tray.menu(), &QMenu::aboutToShow);
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(shown.size(), 1, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(tray.menu()->isVisible(), 5000);
    tray.menu()->hide();
}

void TestStatusWindow::closingOnlyHidesIt()
{
    StatusWindow window(nullptr);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy lastWindowClosed(qApp, &QGuiApplication::lastWindowClosed);

    window.close();
    QVERIFY(!window.isVisible());
    QCOMPARE(lastWindowClosed.size(), 0);

    // Shown again (a second launch asks for it), it is all there.
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.findChild<QPushButton *>(u"menuButton"_qs)->isVisible());
}

void TestStatusWindow::screenshotIsSaved()
{
    TrayMenu tray;
    tray.update(sampleState());
    StatusWindow window(tray.menu());
    window.setNotice(kNotice);
    window.update(sampleState());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    const QDir dir(QStringLiteral(MCPB_SCREENSHOTS_DIR));
    QVERIFY(dir.mkpath(u"."_qs));
    const QString windowPath = dir.filePath(u"statuswindow.png"_qs);
    const QString menuPath = dir.filePath(u"traymenu.png"_qs);
    QFile::remove(windowPath);
    QFile::remove(menuPath);

    const QPixmap shot = window.grab();
    QVERIFY(!shot.isNull());
    QVERIFY(shot.save(windowPath));
    tray.menu()->adjustSize();
    QVERIFY(tray.menu()->grab().save(menuPath));
    QVERIFY(QImage(windowPath).width() >= window.minimumWidth());
    QVERIFY(!QImage(menuPath).isNull());
}

QTEST_MAIN(TestStatusWindow)
#include "tst_statuswindow.moc"
