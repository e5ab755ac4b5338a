// The tray app as a user meets it, on a real X server (Xvfb) with a real tray host (trayer),
// both started by tests/desktop/with-desktop.sh: the real `mcp-broker tray` binary embeds its
// icon in the tray, a right click opens its menu, a second launch shows the running one's
// window, and Quit in the menu ends it. Screenshots of each step land in MCPB_SCREENSHOTS_DIR.
// X is inspected and driven with xwininfo and xdotool, like a user's mouse would.

#include "PeerProcess.h"
#include "UpstreamServer.h"

#include <QApplication>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRect>
#include <QRegularExpression>
#include <QScreen>
#include <QSystemTrayIcon>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <optional>

using namespace mcpbroker::integration;

namespace {

constexpr int kStartTimeoutMs = 30'000;
constexpr int kWindowTimeoutMs = 15'000;

// Runs a short X tool and returns its standard output ("" when it failed).
QString runTool(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.start(program, arguments);
    if (!process.waitForFinished(10'000) || process.exitCode() != 0)
        return {};
    return QString::fromUtf8(process.readAllStandardOutput());
}

struct XWindow
{
    QString id;
    QRect geometry; // absolute, on the root window
};

// The windows of one application class that are mapped, with their absolute geometry.
QList<XWindow> visibleWindows(const QString &windowClass)
{
    QList<XWindow> windows;
    const QStringList ids = runTool(QStringLiteral("xdotool"),
                                    {QStringLiteral("search"), QStringLiteral("--onlyvisible"),
                                     QStringLiteral("--class"), windowClass})
                                    .split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    static const QRegularExpression corner(QStringLiteral("Absolute upper-left X:\\s+(-?\\d+)\\s+"
                                                          "Absolute upper-left Y:\\s+(-?\\d+)"));
    static const QRegularExpression size(QStringLiteral("Width:\\s+(\\d+)\\s+Height:\\s+(\\d+)"));
    for (const QString &id : ids) {
        const QString info = runTool(QStringLiteral("xwininfo"), {QStringLiteral("-id"), id});
        const auto at = corner.match(info);
        const auto extent = size.match(info);
        if (!at.hasMatch() || !extent.hasMatch())
            continue;
        windows.append({id,
                        QRect(at.captured(1).toInt(), at.captured(2).toInt(),
                              extent.captured(1).toInt(), extent.captured(2).toInt())});
    }
    return windows;
}

// The tray host's panel: where embedded icons live.
std::optional<QRect> trayPanel()
{
    for (const XWindow &window : visibleWindows(QStringLiteral("trayer"))) {
        if (window.geometry.height() >= 16)
            return window.geometry;
    }
    return std::nullopt;
}

// The app's icon, once the tray host has embedded it: a small visible window of ours inside the
// panel's rectangle.
std::optional<QRect> embeddedIcon()
{
    const std::optional<QRect> panel = trayPanel();
    if (!panel)
        return std::nullopt;
    for (const XWindow &window : visibleWindows(QStringLiteral("mcp-broker"))) {
        if (window.geometry.width() >= 8 && panel->adjusted(-2, -2, 2, 2).contains(window.geometry))
            return window.geometry;
    }
    return std::nullopt;
}

// A popup menu of ours: a visible window of the app that is neither in the panel nor tiny.
std::optional<QRect> openMenu()
{
    const std::optional<QRect> panel = trayPanel();
    for (const XWindow &window : visibleWindows(QStringLiteral("mcp-broker"))) {
        if (window.geometry.width() >= 120 && window.geometry.height() >= 120
            && !(panel && panel->contains(window.geometry)))
            return window.geometry;
    }
    return std::nullopt;
}

// How many different colours a rectangle of the screen has: a drawn icon or menu has many, an
// empty panel one or two.
int colourCount(const QImage &image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x)
            colours.insert(image.pixel(x, y));
    }
    return int(colours.size());
}

QImage screenshot(const QString &name)
{
    const QImage image = QGuiApplication::primaryScreen()->grabWindow(0).toImage();
    QDir().mkpath(QStringLiteral(MCPB_SCREENSHOTS_DIR));
    image.save(QStringLiteral(MCPB_SCREENSHOTS_DIR "/%1.png").arg(name));
    return image;
}

void xdotool(const QStringList &arguments)
{
    QProcess process;
    process.start(QStringLiteral("xdotool"), arguments);
    QVERIFY2(process.waitForFinished(10'000) && process.exitCode() == 0,
             qPrintable(QStringLiteral("xdotool %1 failed: %2")
                                .arg(arguments.join(QLatin1Char(' ')),
                                     QString::fromUtf8(process.readAllStandardError()))));
}

} // namespace

class TestTrayApp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void iconIsEmbeddedInTheTray();
    void rightClickOpensTheMenu();
    void secondLaunchShowsTheRunningWindow();
    void quitInTheMenuEndsTheApp();

private:
    QTemporaryDir m_directory;
    QString m_configPath;
    std::unique_ptr<UpstreamServer> m_upstream;
    std::unique_ptr<PeerProcess> m_app;
    QRect m_icon;
};

void TestTrayApp::initTestCase()
{
    QVERIFY2(qEnvironmentVariable("MCPB_TRAY_HOST") == QLatin1String("trayer"),
             "run this suite inside tests/desktop/with-desktop.sh (Xvfb and trayer)");
    QVERIFY2(QGuiApplication::platformName() == QLatin1String("xcb"),
             qPrintable(QGuiApplication::platformName()));
    QTRY_VERIFY_WITH_TIMEOUT(QSystemTrayIcon::isSystemTrayAvailable(), kStartTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(trayPanel().has_value(), kStartTimeoutMs);

    QVERIFY(m_directory.isValid());
    m_upstream = UpstreamServer::fixture(QStringLiteral("alpha"));
    m_upstream->start();
    QVERIFY2(m_upstream->waitUntilListening(), qPrintable(m_upstream->diagnostics()));
    m_configPath = m_directory.filePath(QStringLiteral("config.json"));
    QFile config(m_configPath);
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(
            QJsonDocument(
                    QJsonObject{{"version", 1},
                                {"servers",
                                 QJsonArray{QJsonObject{{"name", "alpha"},
                                                        {"url", m_upstream->url().toString()}}}}})
                    .toJson());
    config.close();

    m_app = std::make_unique<PeerProcess>(
            QStringLiteral("mcp-broker tray"), QStringLiteral(MCPB_BROKER_BINARY),
            QStringList{QStringLiteral("tray"), QStringLiteral("--config"), m_configPath,
                        QStringLiteral("--port"), QStringLiteral("0")});
    m_app->start();
    QVERIFY2(m_app->waitForStdoutLine(QRegularExpression(QStringLiteral("listening on http")),
                                      kStartTimeoutMs)
                     .hasMatch(),
             qPrintable(m_app->diagnostics()));
}

void TestTrayApp::cleanupTestCase()
{
    m_app.reset();
    m_upstream.reset();
}

void TestTrayApp::iconIsEmbeddedInTheTray()
{
    std::optional<QRect> icon;
    QTRY_VERIFY2_WITH_TIMEOUT((icon = embeddedIcon()).has_value(), qPrintable(m_app->diagnostics()),
                              kWindowTimeoutMs);
    m_icon = *icon;
    // The icon is drawn (the server is ready: the "ok" icon), not an empty square. Wait for
    // the first paint rather than assume it happened.
    QTRY_VERIFY_WITH_TIMEOUT(colourCount(screenshot(QStringLiteral("tray-icon")).copy(m_icon)) > 4,
                             kWindowTimeoutMs);
    QVERIFY(!m_app->standardError().contains("No system tray"));
}

void TestTrayApp::rightClickOpensTheMenu()
{
    QVERIFY(m_icon.isValid());
    xdotool({QStringLiteral("mousemove"), QString::number(m_icon.center().x()),
             QString::number(m_icon.center().y()), QStringLiteral("click"), QStringLiteral("3")});
    std::optional<QRect> menu;
    QTRY_VERIFY2_WITH_TIMEOUT((menu = openMenu()).has_value(), qPrintable(m_app->diagnostics()),
                              kWindowTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(colourCount(screenshot(QStringLiteral("tray-menu")).copy(*menu)) > 8,
                             kWindowTimeoutMs);
    xdotool({QStringLiteral("key"), QStringLiteral("Escape")});
    QTRY_VERIFY_WITH_TIMEOUT(!openMenu().has_value(), kWindowTimeoutMs);
}

void TestTrayApp::secondLaunchShowsTheRunningWindow()
{
    PeerProcess second(QStringLiteral("second launch"), QStringLiteral(MCPB_BROKER_BINARY),
                       {QStringLiteral("tray"), QStringLiteral("--config"), m_configPath});
    const ProcessRun run = second.run(kStartTimeoutMs);
    QVERIFY2(run.succeeded(), qPrintable(run.describe()));
    QVERIFY2(run.out.contains("already running"), qPrintable(run.describe()));
    // The running app shows its status window (a window of ours with a title).
    QTRY_VERIFY_WITH_TIMEOUT(!runTool(QStringLiteral("xdotool"),
                                      {QStringLiteral("search"), QStringLiteral("--onlyvisible"),
                                       QStringLiteral("--name"), QStringLiteral("MCP Broker")})
                                      .isEmpty(),
                             kWindowTimeoutMs);
    screenshot(QStringLiteral("status-window"));
    QVERIFY(m_app->isRunning());
}

void TestTrayApp::quitInTheMenuEndsTheApp()
{
    QVERIFY(m_icon.isValid());
    xdotool({QStringLiteral("mousemove"), QString::number(m_icon.center().x()),
             QString::number(m_icon.center().y()), QStringLiteral("click"), QStringLiteral("3")});
    QTRY_VERIFY_WITH_TIMEOUT(openMenu().has_value(), kWindowTimeoutMs);
    // Quit is the last item: Up from the top wraps to it.
    xdotool({QStringLiteral("key"), QStringLiteral("Up"), QStringLiteral("Return")});
    QVERIFY2(m_app->waitForExit(kStartTimeoutMs), qPrintable(m_app->diagnostics()));
    QVERIFY(m_app->hasExitedNormally());
    QCOMPARE(m_app->exitCode(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(!embeddedIcon().has_value(), kWindowTimeoutMs);
}

QTEST_MAIN(TestTrayApp)
#include "tst_trayapp.moc"
