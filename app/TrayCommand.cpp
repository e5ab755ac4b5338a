#include "TrayCommand.h"

#include "AppLogging.h"
#include "Broker.h"
#include "Console.h"
#include "ExitCode.h"
#include "InstanceChannel.h"
#include "RunningBroker.h"
#include "TerminationSignals.h"
#include "TrayController.h"
#include "TrayIcons.h"

#include <QApplication>
#include <QJsonObject>
#include <QMessageBox>

#ifdef Q_OS_UNIX
#include <csignal>
#endif

namespace mcpbroker::app {

namespace {

constexpr int kActivateTimeoutMs = 5'000;

} // namespace

TrayCommand::TrayCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent)
{ }

TrayCommand::~TrayCommand()
{
    // The tray lets go of the broker (no approver any more) before the broker goes.
    delete m_tray;
}

bool TrayCommand::displayAvailable()
{
#if defined(Q_OS_MACOS) || defined(Q_OS_WIN)
    return true;
#else
    return !qEnvironmentVariableIsEmpty("DISPLAY")
            || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY");
#endif
}

void TrayCommand::start()
{
#ifdef Q_OS_UNIX
    std::signal(SIGPIPE, SIG_IGN); // see ServeCommand
#endif
    auto *termination = new TerminationSignals(this);
    connect(termination, &TerminationSignals::received, this, [this](int signalNumber) {
        qCInfo(lcApp).noquote() << "Stopping on" << TerminationSignals::name(signalNumber);
        finish(kExitOk);
    });
    // Dialogs come and go; only Quit ends the app.
    QApplication::setQuitOnLastWindowClosed(false);
    QApplication::setWindowIcon(ui::TrayIcons::application());
    QApplication::setApplicationDisplayName(QStringLiteral("MCP Broker"));

    m_running = new RunningBroker(command().configFilePath(), command().port, this);
    auto started = m_running->start([this] {
        if (m_tray)
            m_tray->activate();
    });
    if (!started) {
        if (started.error().kind == Error::Kind::Conflict)
            activateRunningInstance();
        else
            failVisibly(started.error().message);
        return;
    }
    m_tray = new ui::TrayController(m_running->broker());
    connect(m_tray, &ui::TrayController::quitRequested, this, [this] { finish(kExitOk); });
    m_tray->start();
    Console::out(QStringLiteral("MCP Broker listening on %1")
                         .arg(m_running->broker()->endpointUrl().toString()));
    if (!m_tray->usesTrayIcon())
        Console::err(QStringLiteral("No system tray was found: MCP Broker shows a status window "
                                    "instead."));
}

void TrayCommand::activateRunningInstance()
{
    InstanceClient::send(m_running->configPath(), QJsonObject{{"command", "activate"}},
                         kActivateTimeoutMs, [this](Result<QJsonObject> reply) {
                             if (!reply) {
                                 failVisibly(reply.error().message);
                                 return;
                             }
                             if (reply.value().value(QStringLiteral("headless")).toBool()) {
                                 failVisibly(QStringLiteral(
                                         "MCP Broker already runs without a window (`mcp-broker "
                                         "serve`) for this configuration; stop it to use the "
                                         "tray app."));
                                 return;
                             }
                             Console::out(QStringLiteral("MCP Broker is already running; its "
                                                         "window is shown."));
                             finish(kExitOk);
                         });
}

void TrayCommand::failVisibly(const QString &message)
{
    Console::err(message);
    auto *box = new QMessageBox(QMessageBox::Critical, QStringLiteral("MCP Broker"), message,
                                QMessageBox::Close);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this] { finish(kExitFailed); });
    box->show();
}

} // namespace mcpbroker::app
