// The tray's two questions (ui/ClientConsentDialog.h, ui/ToolApprovalDialog.h): each dialog
// gives exactly one answer — a button, the countdown running out, closing the window — or none
// when the question was answered elsewhere; Enter never allows, and whatever the client chose
// to call itself is shown literally.

#include "ClientConsentDialog.h"
#include "ToolApprovalDialog.h"

#include <QCheckBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

using namespace mcpbroker;
using namespace mcpbroker::ui;
using namespace std::chrono_literals;

namespace {

constexpr auto kLong = 600s; // a countdown that never runs out during a test
constexpr int kTimeoutMs = 5000;

const QStringList kServers{QStringLiteral("github"), QStringLiteral("notes"),
                           QStringLiteral("linear")};

gateway::ConsentRequest consent(const QStringList &requested = {})
{
    gateway::ConsentRequest request;
    request.id = QStringLiteral("consent-1");
    request.clientName = QStringLiteral("Claude Code");
    request.clientId = QStringLiteral("client-1");
    request.redirectUri = QStringLiteral("http://127.0.0.1:33418/callback");
    request.requestedServers = requested;
    request.requestedAt = QDateTime::currentDateTimeUtc();
    return request;
}

gateway::ApprovalRequest approval()
{
    gateway::ApprovalRequest request;
    request.id = QStringLiteral("approval-1");
    request.client = QStringLiteral("cursor");
    request.server = QStringLiteral("github");
    request.tool = QStringLiteral("delete_repo");
    request.reason = QStringLiteral("Tool 'delete_repo' on server 'github' is marked destructive.");
    request.argumentsSummary = QStringLiteral("owner: \"octo\", repo: \"hello\"");
    return request;
}

// Lets a 200 ms countdown run out, to show that it answers nothing (no answer is awaited here:
// the absence of one is the point).
bool outlastCountdown()
{
    QTimer sentinel;
    sentinel.setSingleShot(true);
    QSignalSpy fired(&sentinel, &QTimer::timeout);
    sentinel.start(600ms);
    return fired.wait(kTimeoutMs);
}

template<typename T = QWidget>
T *child(const QWidget &dialog, const QString &objectName)
{
    T *found = dialog.findChild<T *>(objectName);
    if (!found)
        qFatal("no child \"%s\"", qPrintable(objectName));
    return found;
}

QCheckBox *serverBox(const ClientConsentDialog &dialog, const QString &server)
{
    return child<QCheckBox>(dialog, QStringLiteral("server:") + server);
}

QString labelText(const QWidget &dialog, const QString &objectName)
{
    return child<QLabel>(dialog, objectName)->text();
}

// Both signals of a consent dialog, to tell "one answer" from "one of each".
struct ConsentAnswers
{
    explicit ConsentAnswers(ClientConsentDialog *dialog)
        : allowed(dialog, &ClientConsentDialog::allowed),
          denied(dialog, &ClientConsentDialog::denied)
    { }
    qsizetype count() const { return allowed.count() + denied.count(); }

    QSignalSpy allowed;
    QSignalSpy denied;
};

struct ToolAnswers
{
    explicit ToolAnswers(ToolApprovalDialog *dialog)
        : once(dialog, &ToolApprovalDialog::allowedOnce),
          always(dialog, &ToolApprovalDialog::allowedAlways),
          denied(dialog, &ToolApprovalDialog::denied)
    { }
    qsizetype count() const { return once.count() + always.count() + denied.count(); }

    QSignalSpy once;
    QSignalSpy always;
    QSignalSpy denied;
};

} // namespace

class TestConsentDialogs : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // ClientConsentDialog
    void consentAsksWithTheClientNameMarkedUnverified();
    void consentShowsHtmlInTheClientNameLiterally();
    void consentFlattensLineBreaksInTheClientName();
    void consentTicksOnlyTheRequestedServers();
    void consentAllowsTheTickedServers();
    void consentNamingServersAllowsThemByNameEvenWithAllTicked();
    void consentWithNoServerRequestedTicksAllAndAllowsEveryServer();
    void consentWithNoServerRequestedAndOneUntickedAllowsTheRestByName();
    void consentNoteSaysWhetherLaterServersAreIncluded();
    void consentNamingOnlyUnconfiguredServersCannotBeAllowed();
    void consentAskingForEveryServerWithNoneConfiguredAllowsEveryServer();
    void consentAllowIsDisabledWithoutATickedServer();
    void consentRemembersTheDecisionWhenAsked();
    void consentDenyButtonDenies();
    void consentDenyIsTheDefaultButton();
    void consentEnterOnAllowAnswersDeny();
    void consentCountdownShowsTheTimeLeft();
    void consentCountdownSwitchesToMinutesAtTwoMinutes_data();
    void consentCountdownSwitchesToMinutesAtTwoMinutes();
    void consentCountdownTicksEverySecond();
    void consentTimeoutDeniesExactlyOnce();
    void consentClosingTheWindowDenies();
    void consentEscapeDenies();
    void consentAnswersOnlyOnce();

    // ToolApprovalDialog
    void toolAsksWithTheCallsDetails();
    void toolShowsHtmlLiterally();
    void toolCutsLongArguments();
    void toolEachButtonGivesItsAnswer_data();
    void toolEachButtonGivesItsAnswer();
    void toolDenyIsTheDefaultButton();
    void toolTimeoutDeniesExactlyOnce();
    void toolClosingTheWindowDenies();
    void toolAnswersOnlyOnce();

    // Both
    void bothEmitNothingWhenFinishedElsewhere();
    void bothTimeOutOnceTheEventLoopRunsWithNoTimeLeft();
    void bothAreNonModalAndKeptAfterTheAnswer();
};

void TestConsentDialogs::consentAsksWithTheClientNameMarkedUnverified()
{
    ClientConsentDialog dialog(consent(), kServers, kLong);
    QCOMPARE(dialog.windowTitle(), QStringLiteral("Allow Claude Code to use MCP Broker?"));
    QCOMPARE(labelText(dialog, QStringLiteral("clientName")),
             QStringLiteral("Claude Code (name given by the client itself, not verified)"));
    QCOMPARE(labelText(dialog, QStringLiteral("redirectUri")),
             QStringLiteral("http://127.0.0.1:33418/callback"));
    QCOMPARE(dialog.consentId(), QStringLiteral("consent-1"));
}

void TestConsentDialogs::consentShowsHtmlInTheClientNameLiterally()
{
    gateway::ConsentRequest request = consent();
    request.clientName = QStringLiteral("<b>Evil</b> & <img src=x>");
    request.redirectUri = QStringLiteral("http://127.0.0.1:1/<i>cb</i>");
    ClientConsentDialog dialog(request, kServers, kLong);

    QCOMPARE(dialog.windowTitle(),
             QStringLiteral("Allow <b>Evil</b> & <img src=x> to use MCP Broker?"));
    for (const QString &name :
         {QStringLiteral("clientName"), QStringLiteral("redirectUri"), QStringLiteral("heading")}) {
        auto *label = child<QLabel>(dialog, name);
        QCOMPARE(label->textFormat(), Qt::PlainText);
    }
    QVERIFY(labelText(dialog, QStringLiteral("clientName"))
                    .startsWith(QStringLiteral("<b>Evil</b> & <img src=x> (name given")));
    QCOMPARE(labelText(dialog, QStringLiteral("redirectUri")),
             QStringLiteral("http://127.0.0.1:1/<i>cb</i>"));
}

void TestConsentDialogs::consentFlattensLineBreaksInTheClientName()
{
    gateway::ConsentRequest request = consent();
    request.clientName = QStringLiteral("Cursor\n(verified by MCP Broker)\u202E");
    ClientConsentDialog dialog(request, kServers, kLong);
    QCOMPARE(labelText(dialog, QStringLiteral("clientName")),
             QStringLiteral("Cursor (verified by MCP Broker) (name given by the client itself, "
                            "not verified)"));
}

void TestConsentDialogs::consentTicksOnlyTheRequestedServers()
{
    ClientConsentDialog dialog(consent({QStringLiteral("notes")}), kServers, kLong);
    QVERIFY(!serverBox(dialog, QStringLiteral("github"))->isChecked());
    QVERIFY(serverBox(dialog, QStringLiteral("notes"))->isChecked());
    QVERIFY(!serverBox(dialog, QStringLiteral("linear"))->isChecked());
}

void TestConsentDialogs::consentAllowsTheTickedServers()
{
    ClientConsentDialog dialog(consent({QStringLiteral("notes")}), kServers, kLong);
    ConsentAnswers answers(&dialog);
    dialog.show();
    serverBox(dialog, QStringLiteral("linear"))->click();
    child<QPushButton>(dialog, QStringLiteral("allow"))->click();

    QCOMPARE(answers.allowed.count(), 1);
    QCOMPARE(answers.denied.count(), 0);
    const QList<QVariant> arguments = answers.allowed.at(0);
    QCOMPARE(arguments.at(0).toString(), QStringLiteral("consent-1"));
    QCOMPARE(arguments.at(1).toStringList(),
             QStringList({QStringLiteral("notes"), QStringLiteral("linear")}));
    QCOMPARE(arguments.at(2).toBool(), false);
    QVERIFY(!dialog.isVisible());
}

void TestConsentDialogs::consentNamingServersAllowsThemByNameEvenWithAllTicked()
{
    // An empty list would also give the servers added later: more than the client asked for.
    ClientConsentDialog dialog(consent({QStringLiteral("github")}), kServers, kLong);
    ConsentAnswers answers(&dialog);
    serverBox(dialog, QStringLiteral("notes"))->click();
    serverBox(dialog, QStringLiteral("linear"))->click();
    child<QPushButton>(dialog, QStringLiteral("allow"))->click();

    QCOMPARE(answers.allowed.count(), 1);
    QCOMPARE(answers.allowed.at(0).at(1).toStringList(), kServers);
}

void TestConsentDialogs::consentWithNoServerRequestedTicksAllAndAllowsEveryServer()
{
    ClientConsentDialog dialog(consent(), kServers, kLong);
    ConsentAnswers answers(&dialog);
    for (const QString &server : kServers)
        QVERIFY2(serverBox(dialog, server)->isChecked(), qPrintable(server));
    child<QPushButton>(dialog, QStringLiteral("allow"))->click();

    QCOMPARE(answers.allowed.count(), 1);
    QCOMPARE(answers.allowed.at(0).at(1).toStringList(), QStringList());
}

void TestConsentDialogs::consentWithNoServerRequestedAndOneUntickedAllowsTheRestByName()
{
    ClientConsentDialog dialog(consent(), kServers, kLong);
    ConsentAnswers answers(&dialog);
    serverBox(dialog, QStringLiteral("notes"))->click();
    child<QPushButton>(dialog, QStringLiteral("allow"))->click();

    QCOMPARE(answers.allowed.count(), 1);
    QCOMPARE(answers.allowed.at(0).at(1).toStringList(),
             QStringList({QStringLiteral("github"), QStringLiteral("linear")}));
}

void TestConsentDialogs::consentNoteSaysWhetherLaterServersAreIncluded()
{
    const QString every = QStringLiteral("Allow gives access to every server, also to the ones "
                                         "you add later.");
    const QString tickedOnly = QStringLiteral("Allow gives access to the ticked servers only, "
                                              "not to the ones you add later.");
    const QString tickOne = QStringLiteral("Tick at least one server to allow access.");

    ClientConsentDialog askedForAll(consent(), kServers, kLong);
    QCOMPARE(labelText(askedForAll, QStringLiteral("scopeNote")), every);
    serverBox(askedForAll, QStringLiteral("notes"))->click();
    QCOMPARE(labelText(askedForAll, QStringLiteral("scopeNote")), tickedOnly);
    serverBox(askedForAll, QStringLiteral("notes"))->click();
    QCOMPARE(labelText(askedForAll, QStringLiteral("scopeNote")), every);

    ClientConsentDialog named(consent({QStringLiteral("github")}), kServers, kLong);
    QCOMPARE(labelText(named, QStringLiteral("scopeNote")), tickedOnly);
    serverBox(named, QStringLiteral("notes"))->click();
    serverBox(named, QStringLiteral("linear"))->click();
    QCOMPARE(labelText(named, QStringLiteral("scopeNote")), tickedOnly); // all ticked: still named
    for (const QString &server : kServers)
        serverBox(named, server)->click();
    QCOMPARE(labelText(named, QStringLiteral("scopeNote")), tickOne);
}

void TestConsentDialogs::consentNamingOnlyUnconfiguredServersCannotBeAllowed()
{
    for (const QStringList &configured : {kServers, QStringList()}) {
        ClientConsentDialog dialog(consent({QStringLiteral("jira")}), configured, kLong);
        ConsentAnswers answers(&dialog);
        QVERIFY(labelText(dialog, QStringLiteral("unknownServers")).contains(u"jira"));
        auto *allow = child<QPushButton>(dialog, QStringLiteral("allow"));
        QVERIFY(!allow->isEnabled());
        allow->click();
        QCOMPARE(answers.count(), 0);
    }
    ClientConsentDialog noneConfigured(consent({QStringLiteral("jira")}), {}, kLong);
    QCOMPARE(labelText(noneConfigured, QStringLiteral("scopeNote")),
             QStringLiteral("None of the servers it asks for is configured: add them first, or "
                            "Deny."));
}

void TestConsentDialogs::consentAskingForEveryServerWithNoneConfiguredAllowsEveryServer()
{
    ClientConsentDialog dialog(consent(), {}, kLong);
    ConsentAnswers answers(&dialog);
    auto *allow = child<QPushButton>(dialog, QStringLiteral("allow"));
    QVERIFY(allow->isEnabled());
    allow->click();

    QCOMPARE(answers.allowed.count(), 1);
    QCOMPARE(answers.allowed.at(0).at(1).toStringList(), QStringList());
}

void TestConsentDialogs::consentAllowIsDisabledWithoutATickedServer()
{
    ClientConsentDialog dialog(consent({QStringLiteral("notes")}), kServers, kLong);
    ConsentAnswers answers(&dialog);
    auto *allow = child<QPushButton>(dialog, QStringLiteral("allow"));
    QVERIFY(allow->isEnabled());
    serverBox(dialog, QStringLiteral("notes"))->click();
    QVERIFY(!allow->isEnabled());
    allow->click();
    QCOMPARE(answers.count(), 0);

    serverBox(dialog, QStringLiteral("github"))->click();
    QVERIFY(allow->isEnabled());
}

void TestConsentDialogs::consentRemembersTheDecisionWhenAsked()
{
    ClientConsentDialog dialog(consent(), kServers, kLong);
    ConsentAnswers answers(&dialog);
    auto *remember = child<QCheckBox>(dialog, QStringLiteral("remember"));
    QVERIFY(!remember->isChecked());
    QCOMPARE(remember->text(), QStringLiteral("Remember this decision for this client"));
    remember->click();
    child<QPushButton>(dialog, QStringLiteral("allow"))->click();

    QCOMPARE(answers.allowed.count(), 1);
    QCOMPARE(answers.allowed.at(0).at(2).toBool(), true);
}

void TestConsentDialogs::consentDenyButtonDenies()
{
    for (const bool remember : {false, true}) {
        ClientConsentDialog dialog(consent(), kServers, kLong);
        ConsentAnswers answers(&dialog);
        dialog.show();
        if (remember)
            child<QCheckBox>(dialog, QStringLiteral("remember"))->click();
        child<QPushButton>(dialog, QStringLiteral("deny"))->click();

        QCOMPARE(answers.allowed.count(), 0);
        QCOMPARE(answers.denied.count(), 1);
        QCOMPARE(answers.denied.at(0),
                 QList<QVariant>({QStringLiteral("consent-1"), remember, false}));
        QVERIFY(!dialog.isVisible());
    }
}

void TestConsentDialogs::consentDenyIsTheDefaultButton()
{
    ClientConsentDialog dialog(consent(), kServers, kLong);
    ConsentAnswers answers(&dialog);
    dialog.show();
    QVERIFY(child<QPushButton>(dialog, QStringLiteral("deny"))->isDefault());
    QVERIFY(!child<QPushButton>(dialog, QStringLiteral("allow"))->isDefault());

    QTest::keyClick(&dialog, Qt::Key_Return);
    QCOMPARE(answers.allowed.count(), 0);
    QCOMPARE(answers.denied.count(), 1);
}

void TestConsentDialogs::consentEnterOnAllowAnswersDeny()
{
    ClientConsentDialog dialog(consent(), kServers, kLong);
    ConsentAnswers answers(&dialog);
    dialog.show();
    auto *allow = child<QPushButton>(dialog, QStringLiteral("allow"));
    allow->setFocus();
    QTest::keyClick(allow, Qt::Key_Return);
    QCOMPARE(answers.allowed.count(), 0);
    QCOMPARE(answers.denied.count(), 1);
}

void TestConsentDialogs::consentCountdownShowsTheTimeLeft()
{
    ClientConsentDialog seconds(consent(), kServers, 42s);
    QCOMPARE(labelText(seconds, QStringLiteral("countdown")),
             QStringLiteral("Answers Deny in 42 s"));
    ClientConsentDialog minutes(consent(), kServers, 10min);
    QCOMPARE(labelText(minutes, QStringLiteral("countdown")),
             QStringLiteral("Answers Deny in 10 min"));
}

void TestConsentDialogs::consentCountdownSwitchesToMinutesAtTwoMinutes_data()
{
    QTest::addColumn<int>("timeoutSeconds");
    QTest::addColumn<QString>("shown");
    QTest::newRow("119 s") << 119 << QStringLiteral("Answers Deny in 119 s");
    QTest::newRow("120 s") << 120 << QStringLiteral("Answers Deny in 2 min");
    QTest::newRow("121 s, rounded up") << 121 << QStringLiteral("Answers Deny in 3 min");
}

void TestConsentDialogs::consentCountdownSwitchesToMinutesAtTwoMinutes()
{
    QFETCH(int, timeoutSeconds);
    QFETCH(QString, shown);
    ClientConsentDialog dialog(consent(), kServers, std::chrono::seconds(timeoutSeconds));
    QCOMPARE(labelText(dialog, QStringLiteral("countdown")), shown);
}

void TestConsentDialogs::consentCountdownTicksEverySecond()
{
    ClientConsentDialog dialog(consent(), kServers, 1500ms);
    ConsentAnswers answers(&dialog);
    QCOMPARE(labelText(dialog, QStringLiteral("countdown")), QStringLiteral("Answers Deny in 2 s"));
    QTRY_COMPARE_WITH_TIMEOUT(labelText(dialog, QStringLiteral("countdown")),
                              QStringLiteral("Answers Deny in 1 s"), kTimeoutMs);
    QCOMPARE(answers.count(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(answers.denied.count(), 1, kTimeoutMs);
}

void TestConsentDialogs::consentTimeoutDeniesExactlyOnce()
{
    ClientConsentDialog dialog(consent(), kServers, 1s);
    ConsentAnswers answers(&dialog);
    dialog.show();
    child<QCheckBox>(dialog, QStringLiteral("remember"))->click(); // not the user's answer

    QTRY_COMPARE_WITH_TIMEOUT(answers.denied.count(), 1, kTimeoutMs);
    QCOMPARE(answers.denied.at(0), QList<QVariant>({QStringLiteral("consent-1"), false, true}));
    QVERIFY(!dialog.isVisible());
    // Nothing after the answer counts: not a button, not closing again.
    child<QPushButton>(dialog, QStringLiteral("allow"))->click();
    dialog.close();
    QCOMPARE(answers.count(), 1);
}

void TestConsentDialogs::consentClosingTheWindowDenies()
{
    ClientConsentDialog dialog(consent(), kServers, kLong);
    ConsentAnswers answers(&dialog);
    dialog.show();
    child<QCheckBox>(dialog, QStringLiteral("remember"))->click();
    QVERIFY(dialog.close());

    QCOMPARE(answers.count(), 1);
    QCOMPARE(answers.denied.at(0), QList<QVariant>({QStringLiteral("consent-1"), false, false}));
    QVERIFY(!dialog.isVisible());
}

void TestConsentDialogs::consentEscapeDenies()
{
    ClientConsentDialog dialog(consent(), kServers, kLong);
    ConsentAnswers answers(&dialog);
    dialog.show();
    QTest::keyClick(&dialog, Qt::Key_Escape);

    QCOMPARE(answers.count(), 1);
    QCOMPARE(answers.denied.at(0), QList<QVariant>({QStringLiteral("consent-1"), false, false}));
    QVERIFY(!dialog.isVisible());
}

void TestConsentDialogs::consentAnswersOnlyOnce()
{
    ClientConsentDialog dialog(consent(), kServers, 200ms);
    ConsentAnswers answers(&dialog);
    dialog.show();
    child<QPushButton>(dialog, QStringLiteral("allow"))->click();
    child<QPushButton>(dialog, QStringLiteral("deny"))->click();
    dialog.close();
    dialog.finishElsewhere();
    QCOMPARE(answers.allowed.count(), 1);

    QVERIFY(outlastCountdown()); // a stopped countdown answers nothing more
    QCOMPARE(answers.count(), 1);
}

void TestConsentDialogs::toolAsksWithTheCallsDetails()
{
    ToolApprovalDialog dialog(approval(), kLong);
    QCOMPARE(dialog.windowTitle(), QStringLiteral("Allow cursor to call delete_repo?"));
    QCOMPARE(labelText(dialog, QStringLiteral("client")), QStringLiteral("cursor"));
    QCOMPARE(labelText(dialog, QStringLiteral("server")), QStringLiteral("github"));
    QCOMPARE(labelText(dialog, QStringLiteral("tool")), QStringLiteral("delete_repo"));
    QCOMPARE(labelText(dialog, QStringLiteral("reason")), approval().reason);
    QCOMPARE(child<QPlainTextEdit>(dialog, QStringLiteral("arguments"))->toPlainText(),
             approval().argumentsSummary);
    QCOMPARE(labelText(dialog, QStringLiteral("countdown")),
             QStringLiteral("Answers Deny in 10 min"));
    QCOMPARE(dialog.approvalId(), QStringLiteral("approval-1"));
    QCOMPARE(child<QPushButton>(dialog, QStringLiteral("allowOnce"))->text(),
             QStringLiteral("Allow once"));
    QCOMPARE(child<QPushButton>(dialog, QStringLiteral("allowAlways"))->text(),
             QStringLiteral("Always allow"));
    QCOMPARE(child<QPushButton>(dialog, QStringLiteral("deny"))->text(), QStringLiteral("Deny"));
}

void TestConsentDialogs::toolShowsHtmlLiterally()
{
    gateway::ApprovalRequest request = approval();
    request.client = QStringLiteral("<b>cursor</b>");
    request.tool = QStringLiteral("<a href=x>run</a>");
    ToolApprovalDialog dialog(request, kLong);
    QCOMPARE(dialog.windowTitle(),
             QStringLiteral("Allow <b>cursor</b> to call <a href=x>run</a>?"));
    for (const QString &name : {QStringLiteral("client"), QStringLiteral("tool")})
        QCOMPARE(child<QLabel>(dialog, name)->textFormat(), Qt::PlainText);
    QCOMPARE(labelText(dialog, QStringLiteral("client")), QStringLiteral("<b>cursor</b>"));
    QCOMPARE(labelText(dialog, QStringLiteral("tool")), QStringLiteral("<a href=x>run</a>"));
}

void TestConsentDialogs::toolCutsLongArguments()
{
    gateway::ApprovalRequest request = approval();
    request.argumentsSummary = QStringLiteral("content: \"") + QString(1000, u'x')
            + QStringLiteral("\"\nforce: true");
    ToolApprovalDialog dialog(request, kLong);
    const QString shown = child<QPlainTextEdit>(dialog, QStringLiteral("arguments"))->toPlainText();
    QCOMPARE(shown.size(), 300);
    QVERIFY(shown.startsWith(QStringLiteral("content: \"xxx")));
    QVERIFY(shown.endsWith(QChar(0x2026)));
    QVERIFY(!shown.contains(u'\n'));
    QVERIFY(child<QPlainTextEdit>(dialog, QStringLiteral("arguments"))->isReadOnly());
}

void TestConsentDialogs::toolEachButtonGivesItsAnswer_data()
{
    QTest::addColumn<QString>("button");
    QTest::addColumn<QString>("answer");
    QTest::newRow("allow once") << QStringLiteral("allowOnce") << QStringLiteral("once");
    QTest::newRow("always allow") << QStringLiteral("allowAlways") << QStringLiteral("always");
    QTest::newRow("deny") << QStringLiteral("deny") << QStringLiteral("denied");
}

void TestConsentDialogs::toolEachButtonGivesItsAnswer()
{
    QFETCH(QString, button);
    QFETCH(QString, answer);
    ToolApprovalDialog dialog(approval(), kLong);
    ToolAnswers answers(&dialog);
    dialog.show();
    child<QPushButton>(dialog, button)->click();

    QCOMPARE(answers.count(), 1);
    const QSignalSpy &given = answer == QLatin1String("once") ? answers.once
            : answer == QLatin1String("always")               ? answers.always
                                                              : answers.denied;
    QCOMPARE(given.count(), 1);
    QCOMPARE(given.at(0).at(0).toString(), QStringLiteral("approval-1"));
    if (&given == &answers.denied)
        QCOMPARE(given.at(0).at(1).toBool(), false); // not timed out
    QVERIFY(!dialog.isVisible());
}

void TestConsentDialogs::toolDenyIsTheDefaultButton()
{
    for (const QString &focused : {QStringLiteral("allowOnce"), QStringLiteral("allowAlways")}) {
        ToolApprovalDialog dialog(approval(), kLong);
        ToolAnswers answers(&dialog);
        dialog.show();
        QVERIFY(child<QPushButton>(dialog, QStringLiteral("deny"))->isDefault());
        auto *button = child<QPushButton>(dialog, focused);
        button->setFocus();
        QTest::keyClick(button, Qt::Key_Return);
        QCOMPARE(answers.count(), 1);
        QCOMPARE(answers.denied.count(), 1);
    }
}

void TestConsentDialogs::toolTimeoutDeniesExactlyOnce()
{
    ToolApprovalDialog dialog(approval(), 1s);
    ToolAnswers answers(&dialog);
    dialog.show();
    QCOMPARE(labelText(dialog, QStringLiteral("countdown")), QStringLiteral("Answers Deny in 1 s"));

    QTRY_COMPARE_WITH_TIMEOUT(answers.denied.count(), 1, kTimeoutMs);
    QCOMPARE(answers.denied.at(0), QList<QVariant>({QStringLiteral("approval-1"), true}));
    QVERIFY(!dialog.isVisible());
    child<QPushButton>(dialog, QStringLiteral("allowOnce"))->click();
    dialog.close();
    QCOMPARE(answers.count(), 1);
}

void TestConsentDialogs::toolClosingTheWindowDenies()
{
    ToolApprovalDialog dialog(approval(), kLong);
    ToolAnswers answers(&dialog);
    dialog.show();
    QVERIFY(dialog.close());
    QCOMPARE(answers.count(), 1);
    QCOMPARE(answers.denied.at(0), QList<QVariant>({QStringLiteral("approval-1"), false}));

    ToolApprovalDialog escaped(approval(), kLong);
    ToolAnswers escapedAnswers(&escaped);
    escaped.show();
    QTest::keyClick(&escaped, Qt::Key_Escape);
    QCOMPARE(escapedAnswers.count(), 1);
    QCOMPARE(escapedAnswers.denied.count(), 1);
}

void TestConsentDialogs::toolAnswersOnlyOnce()
{
    ToolApprovalDialog dialog(approval(), 200ms);
    ToolAnswers answers(&dialog);
    dialog.show();
    child<QPushButton>(dialog, QStringLiteral("allowAlways"))->click();
    child<QPushButton>(dialog, QStringLiteral("allowOnce"))->click();
    child<QPushButton>(dialog, QStringLiteral("deny"))->click();
    dialog.close();
    QCOMPARE(answers.always.count(), 1);

    QVERIFY(outlastCountdown());
    QCOMPARE(answers.count(), 1);
}

void TestConsentDialogs::bothEmitNothingWhenFinishedElsewhere()
{
    ClientConsentDialog consentDialog(consent(), kServers, 200ms);
    ConsentAnswers consentAnswers(&consentDialog);
    ToolApprovalDialog toolDialog(approval(), 200ms);
    ToolAnswers toolAnswers(&toolDialog);
    consentDialog.show();
    toolDialog.show();
    consentDialog.finishElsewhere();
    toolDialog.finishElsewhere();
    QVERIFY(!consentDialog.isVisible());
    QVERIFY(!toolDialog.isVisible());
    consentDialog.close();
    toolDialog.close();

    QVERIFY(outlastCountdown());
    QCOMPARE(consentAnswers.count(), 0);
    QCOMPARE(toolAnswers.count(), 0);
}

void TestConsentDialogs::bothTimeOutOnceTheEventLoopRunsWithNoTimeLeft()
{
    // The owner connects after constructing: an answer given in the constructor would be lost.
    ClientConsentDialog consentDialog(consent(), kServers, 0ms);
    ConsentAnswers consentAnswers(&consentDialog);
    ToolApprovalDialog toolDialog(approval(), -1s);
    ToolAnswers toolAnswers(&toolDialog);

    QTRY_COMPARE_WITH_TIMEOUT(consentAnswers.denied.count(), 1, kTimeoutMs);
    QCOMPARE(consentAnswers.denied.at(0),
             QList<QVariant>({QStringLiteral("consent-1"), false, true}));
    QTRY_COMPARE_WITH_TIMEOUT(toolAnswers.denied.count(), 1, kTimeoutMs);
    QCOMPARE(toolAnswers.denied.at(0), QList<QVariant>({QStringLiteral("approval-1"), true}));
    QCOMPARE(consentAnswers.count() + toolAnswers.count(), 2);
}

void TestConsentDialogs::bothAreNonModalAndKeptAfterTheAnswer()
{
    const QList<QPointer<QDialog>> dialogs{new ClientConsentDialog(consent(), kServers, kLong),
                                           new ToolApprovalDialog(approval(), kLong)};
    for (const QPointer<QDialog> &dialog : dialogs) {
        dialog->show();
        QVERIFY(!dialog->isModal());
        QCOMPARE(dialog->windowModality(), Qt::NonModal);
        child<QPushButton>(*dialog, QStringLiteral("deny"))->click();
    }
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    for (const QPointer<QDialog> &dialog : dialogs) {
        QVERIFY(dialog); // the owner deletes it, after the answer
        delete dialog;
    }
}

QTEST_MAIN(TestConsentDialogs)
#include "tst_consentdialogs.moc"
