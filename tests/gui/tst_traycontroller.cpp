// The tray end to end through the Broker facade, with the broker in this process as in the tray
// app and TrayController's real menu and dialogs on the offscreen platform: a real SDK client
// asks the broker's authorization server for access and a real upstream's tool call needs
// approval; the tray asks, and the answer, or the lack of one, reaches the client. Also the
// menu's actions that change the broker: pause, add a server, remove it.

#include "InProcessBroker.h"
#include "LocalOAuthClient.h"
#include "McpHttp.h"
#include "UpstreamServer.h"

#include "AddServerDialog.h"
#include "Broker.h"
#include "ClientConsentDialog.h"
#include "ToolApprovalDialog.h"
#include "TrayController.h"
#include "TrayMenu.h"
#include "gateway/ClientGrant.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <optional>

using namespace mcpbroker;
using namespace mcpbroker::integration;

namespace {

constexpr int kReadyTimeoutMs = 30'000;
constexpr int kDialogTimeoutMs = 30'000;
constexpr int kAskTimeoutSeconds = 5; // the policy's minimum: the timeout case waits this long

QByteArray configFor(const QUrl &upstream)
{
    const QJsonObject policy{
            {"rules",
             QJsonArray{QJsonObject{{"server", "alpha"}, {"tool", "echo"}, {"decision", "ask"}}}},
            {"askTimeoutSeconds", kAskTimeoutSeconds}};
    const QJsonObject server{{"name", "alpha"}, {"url", upstream.toString()}};
    return QJsonDocument(
                   QJsonObject{{"version", 1}, {"servers", QJsonArray{server}}, {"policy", policy}})
            .toJson();
}

void click(QWidget *dialog, const QString &buttonName)
{
    auto *button = dialog->findChild<QPushButton *>(buttonName);
    QVERIFY2(button, qPrintable(QStringLiteral("no button '%1'").arg(buttonName)));
    QTest::mouseClick(button, Qt::LeftButton);
}

int oauthGrantCount(const Broker &broker)
{
    int count = 0;
    for (const gateway::ClientGrant &grant : broker.clients())
        count += grant.kind == gateway::ClientGrant::Kind::OAuth ? 1 : 0;
    return count;
}

} // namespace

class TestTrayController : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void clientAllowedInDialogGetsItsGrant();
    void clientDeniedInDialogGetsNone();
    void consentDialogAnswersDenyWhenTimeIsUp();
    void answerOnTheBrowserPageClosesTheDialog();
    void toolCallAllowedOnceRuns();
    void toolCallDeniedIsRefused();
    void toolCallDialogAnswersDenyWhenTimeIsUp();
    void alwaysAllowAddsARuleAndStopsAsking();
    void pauseRefusesClientsUntilResumed();
    void serverAddedInDialogIsServedAtOnce();
    void serverRemovedFromMenuAfterConfirmation();

private:
    // Answers each tool-call question in its dialog by clicking `button` (empty: no answer).
    void answerToolCallsWith(const QString &button);
    QJsonObject callEcho(const QString &text);
    ui::ClientConsentDialog *waitForConsentDialog();

    QTemporaryDir m_directory;
    QString m_configPath;
    std::unique_ptr<UpstreamServer> m_upstream;
    std::unique_ptr<Broker> m_broker;
    std::unique_ptr<ui::TrayController> m_tray;
    McpHttp m_http;
    McpSession m_session;
    QMetaObject::Connection m_answering;
    QStringList m_argumentsShown; // what each approval dialog showed as the arguments
    int m_nextId = 10;
};

void TestTrayController::initTestCase()
{
    QVERIFY(m_directory.isValid());
    m_upstream = UpstreamServer::fixture(QStringLiteral("alpha"));
    m_upstream->start();
    QVERIFY2(m_upstream->waitUntilListening(), qPrintable(m_upstream->diagnostics()));

    QString why;
    InProcessBroker started = InProcessBroker::start(
            m_directory.path(), configFor(m_upstream->url()), QStringLiteral("tray-client"), &why);
    QVERIFY2(started.broker, qPrintable(why));
    m_broker = std::move(started.broker);
    m_configPath = started.configPath;
    const QByteArray token = started.token;

    ui::TrayController::Options trayOptions;
    trayOptions.consentTimeout = std::chrono::seconds(2);
    trayOptions.forceStatusWindow = true; // offscreen: no tray host
    m_tray = std::make_unique<ui::TrayController>(m_broker.get(), trayOptions);
    m_tray->start();

    m_http.setDefaultHeaders({{"Authorization", "Bearer " + token}}, m_broker->endpointUrl());
    QVERIFY2(m_http.open(m_broker->endpointUrl(), QStringLiteral("2025-06-18"), &m_session, &why),
             qPrintable(why));
}

void TestTrayController::cleanupTestCase()
{
    m_tray.reset();
    m_broker.reset();
    m_upstream.reset();
}

void TestTrayController::cleanup()
{
    disconnect(m_answering);
    m_argumentsShown.clear();
    QTRY_VERIFY(m_tray->consentDialogs().isEmpty());
    QTRY_VERIFY(m_tray->approvalDialogs().isEmpty());
}

ui::ClientConsentDialog *TestTrayController::waitForConsentDialog()
{
    // Null when none comes: the caller's QVERIFY fails.
    if (!QTest::qWaitFor([this] { return m_tray->consentDialogs().size() == 1; }, kDialogTimeoutMs))
        return nullptr;
    return m_tray->consentDialogs().first();
}

void TestTrayController::answerToolCallsWith(const QString &button)
{
    // Queued: the tray makes its dialog for the request first.
    m_answering = connect(
            m_broker.get(), &Broker::toolCallApprovalRequested, this,
            [this, button](const gateway::ApprovalRequest &request) {
                for (ui::ToolApprovalDialog *dialog : m_tray->approvalDialogs()) {
                    if (dialog->approvalId() != request.id)
                        continue;
                    if (auto *arguments
                        = dialog->findChild<QPlainTextEdit *>(QStringLiteral("arguments")))
                        m_argumentsShown << arguments->toPlainText();
                    if (!button.isEmpty())
                        click(dialog, button);
                }
            },
            Qt::QueuedConnection);
}

QJsonObject TestTrayController::callEcho(const QString &text)
{
    const int id = m_nextId++;
    const HttpResult answer = m_http.call(
            m_session, QStringLiteral("tools/call"),
            {{"name", "alpha__echo"}, {"arguments", QJsonObject{{"text", text}}}}, id);
    return answer.response(id);
}

void TestTrayController::clientAllowedInDialogGetsItsGrant()
{
    QSignalSpy notified(m_tray.get(), &ui::TrayController::notified);
    LocalOAuthClientOptions options;
    options.decision = QStringLiteral("tray");
    const auto client = startLocalOAuthClient(m_broker->endpointUrl(), options);

    ui::ClientConsentDialog *dialog = waitForConsentDialog();
    QVERIFY(dialog);
    auto *alpha = dialog->findChild<QCheckBox *>(QStringLiteral("server:alpha"));
    QVERIFY(alpha);
    QVERIFY(alpha->isChecked());
    click(dialog, QStringLiteral("allow"));

    const LocalOAuthClientRun run = finishLocalOAuthClient(*client, options);
    QVERIFY2(run.succeeded(), qPrintable(run.describe()));
    QVERIFY2(run.tools().contains(QStringLiteral("alpha__echo")), qPrintable(run.describe()));
    QCOMPARE(oauthGrantCount(*m_broker), 1);
    QTRY_VERIFY(std::any_of(notified.begin(), notified.end(), [](const QList<QVariant> &args) {
        return args.value(1).toString().contains(QStringLiteral("local-oauth-client"))
                || args.value(0).toString().contains(QStringLiteral("local-oauth-client"));
    }));
}

void TestTrayController::clientDeniedInDialogGetsNone()
{
    const int grantsBefore = oauthGrantCount(*m_broker);
    LocalOAuthClientOptions options;
    options.decision = QStringLiteral("tray");
    const auto client = startLocalOAuthClient(m_broker->endpointUrl(), options);
    ui::ClientConsentDialog *dialog = waitForConsentDialog();
    QVERIFY(dialog);
    click(dialog, QStringLiteral("deny"));

    const LocalOAuthClientRun run = finishLocalOAuthClient(*client, options);
    QVERIFY2(!run.succeeded(), qPrintable(run.describe()));
    QVERIFY2(run.error().contains(QStringLiteral("access_denied")), qPrintable(run.describe()));
    QCOMPARE(oauthGrantCount(*m_broker), grantsBefore);
}

void TestTrayController::consentDialogAnswersDenyWhenTimeIsUp()
{
    const int grantsBefore = oauthGrantCount(*m_broker);
    LocalOAuthClientOptions options;
    options.decision = QStringLiteral("tray");
    const auto client = startLocalOAuthClient(m_broker->endpointUrl(), options);
    QVERIFY(waitForConsentDialog());

    // Nobody answers: the dialog's countdown (2 s here) denies.
    const LocalOAuthClientRun run = finishLocalOAuthClient(*client, options);
    QVERIFY2(run.error().contains(QStringLiteral("access_denied")), qPrintable(run.describe()));
    QVERIFY(m_tray->consentDialogs().isEmpty());
    QCOMPARE(oauthGrantCount(*m_broker), grantsBefore);
}

void TestTrayController::answerOnTheBrowserPageClosesTheDialog()
{
    QSignalSpy asked(m_broker.get(), &Broker::consentRequested);
    LocalOAuthClientOptions options;
    options.decision = QStringLiteral("approve"); // posted on the page, not in the tray
    const LocalOAuthClientRun run = runLocalOAuthClient(m_broker->endpointUrl(), options);
    QVERIFY2(run.succeeded(), qPrintable(run.describe()));
    QCOMPARE(asked.count(), 1);
    QTRY_VERIFY(m_tray->consentDialogs().isEmpty());
}

void TestTrayController::toolCallAllowedOnceRuns()
{
    answerToolCallsWith(QStringLiteral("allowOnce"));
    const QJsonObject response = callEcho(QStringLiteral("hello tray"));
    QVERIFY2(!isToolError(response), qPrintable(toolResultText(response)));
    QCOMPARE(toolResultText(response), QStringLiteral("alpha: hello tray"));
    QCOMPARE(m_argumentsShown.size(), 1);
    QVERIFY2(m_argumentsShown.first().contains(QStringLiteral("text: \"hello tray\"")),
             qPrintable(m_argumentsShown.first()));
}

void TestTrayController::toolCallDeniedIsRefused()
{
    answerToolCallsWith(QStringLiteral("deny"));
    const QJsonObject response = callEcho(QStringLiteral("no"));
    QVERIFY(isToolError(response));
    QVERIFY2(!toolResultText(response).contains(QStringLiteral("alpha: no")),
             qPrintable(toolResultText(response)));
    QCOMPARE(m_argumentsShown.size(), 1);
}

void TestTrayController::toolCallDialogAnswersDenyWhenTimeIsUp()
{
    answerToolCallsWith(QString()); // shows, nobody clicks
    const QJsonObject response = callEcho(QStringLiteral("too late"));
    QVERIFY(isToolError(response));
    QCOMPARE(m_argumentsShown.size(), 1);
    QVERIFY(m_tray->approvalDialogs().isEmpty());
}

void TestTrayController::alwaysAllowAddsARuleAndStopsAsking()
{
    answerToolCallsWith(QStringLiteral("allowAlways"));
    QJsonObject response = callEcho(QStringLiteral("first"));
    QVERIFY2(!isToolError(response), qPrintable(toolResultText(response)));

    QFile config(m_configPath);
    QVERIFY(config.open(QIODevice::ReadOnly));
    const QJsonArray rules = QJsonDocument::fromJson(config.readAll())["policy"]["rules"].toArray();
    QCOMPARE(rules.size(), 2);
    QCOMPARE(rules.first().toObject(),
             (QJsonObject{{"client", "tray-client"},
                          {"server", "alpha"},
                          {"tool", "echo"},
                          {"decision", "allow"}}));

    QSignalSpy asked(m_broker.get(), &Broker::toolCallApprovalRequested);
    response = callEcho(QStringLiteral("second"));
    QVERIFY2(!isToolError(response), qPrintable(toolResultText(response)));
    QCOMPARE(asked.count(), 0);
}

void TestTrayController::pauseRefusesClientsUntilResumed()
{
    QAction *pause = m_tray->menu()->findAction(QStringLiteral("pause"));
    QVERIFY(pause);
    pause->trigger();
    QVERIFY(m_broker->isPaused());
    QCOMPARE(m_tray->state().overall, ui::OverallState::Paused);

    const int id = m_nextId++;
    const HttpResult refused = m_http.call(m_session, QStringLiteral("tools/list"), {}, id);
    QCOMPARE(refused.status, 503);
    QVERIFY2(refused.body.contains("paused"), qPrintable(refused.describe()));

    pause->trigger();
    QVERIFY(!m_broker->isPaused());
    // Pausing ended the session: a client starts a new one.
    QString why;
    QVERIFY2(m_http.open(m_broker->endpointUrl(), QStringLiteral("2025-06-18"), &m_session, &why),
             qPrintable(why));
    const int next = m_nextId++;
    const HttpResult served = m_http.call(m_session, QStringLiteral("tools/list"), {}, next);
    QCOMPARE(served.status, 200);
}

void TestTrayController::serverAddedInDialogIsServedAtOnce()
{
    m_tray->menu()->findAction(QStringLiteral("addServer"))->trigger();
    ui::AddServerDialog *dialog = m_tray->addServerDialog();
    QVERIFY(dialog);
    dialog->findChild<QLineEdit *>(QStringLiteral("name"))->setText(QStringLiteral("beta"));
    dialog->findChild<QLineEdit *>(QStringLiteral("url"))->setText(m_upstream->url().toString());
    auto *method = dialog->findChild<QComboBox *>(QStringLiteral("authMethod"));
    QVERIFY(method);
    method->setCurrentIndex(method->findData(int(Broker::NewServer::Auth::None)));
    click(dialog, QStringLiteral("add"));

    QTRY_VERIFY_WITH_TIMEOUT(!m_tray->addServerDialog(), 20'000);
    QTRY_VERIFY_WITH_TIMEOUT(m_broker->serverStatuses().size() == 2
                                     && m_broker->serverStatuses().at(1).state
                                             == Broker::ServerStatus::State::Ready,
                             kReadyTimeoutMs);
    QCOMPARE(m_broker->serverStatuses().at(1).name, QStringLiteral("beta"));
    QTRY_VERIFY(m_tray->menu()->findAction(QStringLiteral("remove:beta")));
}

void TestTrayController::serverRemovedFromMenuAfterConfirmation()
{
    QAction *remove = m_tray->menu()->findAction(QStringLiteral("remove:beta"));
    QVERIFY(remove);
    remove->trigger();
    auto visibleQuestion = [] {
        for (QWidget *widget : QApplication::topLevelWidgets()) {
            if (auto *box = qobject_cast<QMessageBox *>(widget); box && box->isVisible())
                return box;
        }
        return static_cast<QMessageBox *>(nullptr);
    };
    QTRY_VERIFY(visibleQuestion());
    QMessageBox *question = visibleQuestion();
    QVERIFY2(question->text().contains(QStringLiteral("beta")), qPrintable(question->text()));
    QAbstractButton *confirm = nullptr;
    for (QAbstractButton *button : question->buttons()) {
        if (question->buttonRole(button) == QMessageBox::DestructiveRole)
            confirm = button;
    }
    QVERIFY(confirm);
    QTest::mouseClick(confirm, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(m_broker->serverStatuses().size(), 1, 20'000);
    QCOMPARE(m_broker->serverStatuses().first().name, QStringLiteral("alpha"));
}

QTEST_MAIN(TestTrayController)
#include "tst_traycontroller.moc"
