#include "ClientConsentDialog.h"

#include "AnswerCountdown.h"
#include "DialogText.h"

#include <QCheckBox>
#include <QCloseEvent>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace mcpbroker::ui {

namespace {

constexpr qsizetype kMaxNameChars = 200;
constexpr qsizetype kMaxTitleNameChars = 40;
constexpr qsizetype kMaxUriChars = 300;
constexpr qsizetype kMaxServerChars = 64;

} // namespace

struct ClientConsentDialog::Private
{
    ClientConsentDialog *q = nullptr;
    gateway::ConsentRequest request;
    QStringList allServers;
    QList<QCheckBox *> serverBoxes; // in the order of allServers
    QLabel *scopeNote = nullptr;
    QCheckBox *remember = nullptr;
    QLabel *countdownLabel = nullptr;
    AnswerCountdown *countdown = nullptr;
    QPushButton *allow = nullptr;
    QPushButton *deny = nullptr;
    bool answered = false;

    void build();
    QWidget *buildServerList();
    void updateServers();
    QStringList tickedServers() const;
    bool grantsEveryServer() const;
    bool takeAnswer(); // false when already answered: one answer per dialog
    void answerAllow();
    void answerDeny(bool remember, bool timedOut);
    void answerClosed();
};

void ClientConsentDialog::Private::build()
{
    const QString name = shownText(request.clientName, kMaxNameChars);
    const QString question = ClientConsentDialog::tr("Allow %1 to use MCP Broker?");
    q->setWindowTitle(question.arg(shownText(request.clientName, kMaxTitleNameChars)));

    auto *heading = plainLabel(question.arg(name), QStringLiteral("heading"));
    QFont bold = heading->font();
    bold.setBold(true);
    heading->setFont(bold);

    auto *details = new QFormLayout;
    details->addRow(ClientConsentDialog::tr("Client:"),
                    plainLabel(ClientConsentDialog::tr("%1 (name given by the client itself, not "
                                                       "verified)")
                                       .arg(name),
                               QStringLiteral("clientName")));
    auto *redirect = plainLabel(shownText(request.redirectUri, kMaxUriChars),
                                QStringLiteral("redirectUri"));
    redirect->setToolTip(ClientConsentDialog::tr("Where your browser goes back to after you "
                                                 "answer: the client's own address."));
    details->addRow(ClientConsentDialog::tr("Redirect URI:"), redirect);

    remember = new QCheckBox(ClientConsentDialog::tr("Remember this decision for this client"));
    remember->setObjectName(QStringLiteral("remember"));
    countdownLabel = plainLabel(QString(), QStringLiteral("countdown"));

    auto *buttons = new QDialogButtonBox;
    deny = buttons->addButton(ClientConsentDialog::tr("Deny"), QDialogButtonBox::RejectRole);
    deny->setObjectName(QStringLiteral("deny"));
    allow = buttons->addButton(ClientConsentDialog::tr("Allow"), QDialogButtonBox::AcceptRole);
    allow->setObjectName(QStringLiteral("allow"));

    q->setMinimumWidth(q->fontMetrics().averageCharWidth() * 60);
    auto *layout = new QVBoxLayout(q);
    layout->addWidget(heading);
    layout->addLayout(details);
    layout->addWidget(buildServerList());
    layout->addWidget(remember);
    layout->addWidget(countdownLabel);
    layout->addWidget(buttons);

    // Enter answers Deny, even with the focus on Allow: allowing takes a click or Space.
    allow->setAutoDefault(false);
    deny->setDefault(true);
    deny->setFocus();

    QObject::connect(allow, &QPushButton::clicked, q, [this] { answerAllow(); });
    QObject::connect(deny, &QPushButton::clicked, q,
                     [this] { answerDeny(remember->isChecked(), false); });
    updateServers();
}

QWidget *ClientConsentDialog::Private::buildServerList()
{
    auto *list = new QWidget;
    auto *rows = new QVBoxLayout(list);
    rows->setContentsMargins(0, 0, 0, 0);
    rows->addWidget(new QLabel(allServers.isEmpty()
                                       ? ClientConsentDialog::tr("No servers are configured yet.")
                                       : ClientConsentDialog::tr("Servers it may use:")));
    for (const QString &server : allServers) {
        auto *box = new QCheckBox(server);
        box->setObjectName(QStringLiteral("server:") + server);
        box->setChecked(request.requestedServers.isEmpty()
                        || request.requestedServers.contains(server));
        QObject::connect(box, &QCheckBox::toggled, q, [this] { updateServers(); });
        rows->addWidget(box);
        serverBoxes.append(box);
    }
    QStringList unknown;
    for (const QString &server : request.requestedServers) {
        if (!allServers.contains(server))
            unknown.append(shownText(server, kMaxServerChars));
    }
    if (!unknown.isEmpty()) {
        rows->addWidget(plainLabel(ClientConsentDialog::tr("It also asks for servers that are not "
                                                           "configured: %1.")
                                           .arg(unknown.join(QStringLiteral(", "))),
                                   QStringLiteral("unknownServers")));
    }
    scopeNote = plainLabel(QString(), QStringLiteral("scopeNote"));
    rows->addWidget(scopeNote);

    // Many servers scroll instead of making the dialog taller than the screen.
    auto *scroll = new QScrollArea;
    scroll->setWidget(list);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    return scroll;
}

void ClientConsentDialog::Private::updateServers()
{
    const qsizetype ticked = tickedServers().size();
    const bool everyServer = grantsEveryServer();
    // With no server to tick, only a client that asked for every server can be allowed.
    allow->setEnabled(everyServer || ticked > 0);
    if (everyServer)
        scopeNote->setText(ClientConsentDialog::tr("Allow gives access to every server, also to "
                                                   "the ones you add later."));
    else if (serverBoxes.isEmpty())
        scopeNote->setText(ClientConsentDialog::tr("None of the servers it asks for is "
                                                   "configured: add them first, or Deny."));
    else if (ticked == 0)
        scopeNote->setText(ClientConsentDialog::tr("Tick at least one server to allow access."));
    else
        scopeNote->setText(ClientConsentDialog::tr("Allow gives access to the ticked servers "
                                                   "only, not to the ones you add later."));
}

QStringList ClientConsentDialog::Private::tickedServers() const
{
    QStringList servers;
    for (qsizetype i = 0; i < serverBoxes.size(); ++i) {
        if (serverBoxes.at(i)->isChecked())
            servers.append(allServers.at(i));
    }
    return servers;
}

// An empty list in allowed() means every server, also the ones added later: only a client that
// asked for every server gets that, and only with every server still ticked. A client that named
// servers gets the ticked ones by name, even when they happen to be all of them.
bool ClientConsentDialog::Private::grantsEveryServer() const
{
    return request.requestedServers.isEmpty() && tickedServers().size() == serverBoxes.size();
}

bool ClientConsentDialog::Private::takeAnswer()
{
    if (answered)
        return false;
    answered = true;
    countdown->stop();
    return true;
}

void ClientConsentDialog::Private::answerAllow()
{
    if (!takeAnswer())
        return;
    const QStringList servers = grantsEveryServer() ? QStringList() : tickedServers();
    const bool remembered = remember->isChecked();
    q->close();
    Q_EMIT q->allowed(request.id, servers, remembered);
}

void ClientConsentDialog::Private::answerDeny(bool remembered, bool timedOut)
{
    if (!takeAnswer())
        return;
    q->close();
    Q_EMIT q->denied(request.id, remembered, timedOut);
}

void ClientConsentDialog::Private::answerClosed()
{
    if (takeAnswer())
        Q_EMIT q->denied(request.id, false, false);
}

ClientConsentDialog::ClientConsentDialog(const gateway::ConsentRequest &request,
                                         const QStringList &allServers,
                                         std::chrono::milliseconds timeout, QWidget *parent)
    : QDialog(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->request = request;
    d->allServers = allServers;
    setModal(false);
    d->build();
    // Escape rejects without a close event: it is Deny too.
    connect(this, &QDialog::rejected, this, [this] { d->answerClosed(); });

    d->countdown = new AnswerCountdown(d->countdownLabel, timeout, this);
    connect(d->countdown, &AnswerCountdown::timedOut, this, [this] { d->answerDeny(false, true); });
}

ClientConsentDialog::~ClientConsentDialog() = default;

QString ClientConsentDialog::consentId() const
{
    return d->request.id;
}

void ClientConsentDialog::finishElsewhere()
{
    d->takeAnswer();
    close();
}

void ClientConsentDialog::closeEvent(QCloseEvent *event)
{
    d->answerClosed();
    QDialog::closeEvent(event);
}

} // namespace mcpbroker::ui
