#include "ToolApprovalDialog.h"

#include "AnswerCountdown.h"
#include "DialogText.h"

#include <QCloseEvent>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace mcpbroker::ui {

namespace {

constexpr qsizetype kMaxArgumentsChars = 300;
constexpr qsizetype kMaxNameChars = 120;
constexpr qsizetype kMaxTitleNameChars = 40;

// Names and arguments come from the client and the upstream: shown literally and cleaned up.
QLabel *valueLabel(const QString &text, const char *objectName)
{
    auto *label = plainLabel(shownText(text, kMaxNameChars), QLatin1String(objectName));
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

} // namespace

struct ToolApprovalDialog::Private
{
    enum class Answer { Once, Always, Deny, TimedOut, Closed };

    ToolApprovalDialog *q = nullptr;
    gateway::ApprovalRequest request;
    QLabel *countdownLabel = nullptr;
    AnswerCountdown *countdown = nullptr;
    bool answered = false;

    void build();
    QPlainTextEdit *buildArguments() const;
    void answer(Answer answer);
};

void ToolApprovalDialog::Private::build()
{
    q->setWindowTitle(ToolApprovalDialog::tr("Allow %1 to call %2?")
                              .arg(shownText(request.client, kMaxTitleNameChars),
                                   shownText(request.tool, kMaxTitleNameChars)));

    auto *heading = plainLabel(ToolApprovalDialog::tr("%1 wants to call a tool that needs your "
                                                      "approval.")
                                       .arg(shownText(request.client, kMaxNameChars)),
                               QStringLiteral("heading"));

    auto *details = new QFormLayout;
    details->addRow(ToolApprovalDialog::tr("Client:"), valueLabel(request.client, "client"));
    details->addRow(ToolApprovalDialog::tr("Server:"), valueLabel(request.server, "server"));
    details->addRow(ToolApprovalDialog::tr("Tool:"), valueLabel(request.tool, "tool"));
    if (!request.reason.isEmpty())
        details->addRow(ToolApprovalDialog::tr("Why:"), valueLabel(request.reason, "reason"));
    details->addRow(ToolApprovalDialog::tr("Arguments:"), buildArguments());

    countdownLabel = plainLabel(QString(), QStringLiteral("countdown"));

    auto *buttons = new QDialogButtonBox;
    auto *always = buttons->addButton(ToolApprovalDialog::tr("Always allow"),
                                      QDialogButtonBox::ActionRole);
    always->setObjectName(QStringLiteral("allowAlways"));
    always->setToolTip(ToolApprovalDialog::tr("Adds a policy rule: this client may call this "
                                              "tool of this server from now on."));
    auto *deny = buttons->addButton(ToolApprovalDialog::tr("Deny"), QDialogButtonBox::RejectRole);
    deny->setObjectName(QStringLiteral("deny"));
    auto *once = buttons->addButton(ToolApprovalDialog::tr("Allow once"),
                                    QDialogButtonBox::AcceptRole);
    once->setObjectName(QStringLiteral("allowOnce"));

    q->setMinimumWidth(q->fontMetrics().averageCharWidth() * 60);
    auto *layout = new QVBoxLayout(q);
    layout->addWidget(heading);
    layout->addLayout(details);
    layout->addWidget(countdownLabel);
    layout->addWidget(buttons);

    // Enter answers Deny, even with the focus on an Allow button: allowing takes a click or Space.
    always->setAutoDefault(false);
    once->setAutoDefault(false);
    deny->setDefault(true);
    deny->setFocus();

    QObject::connect(once, &QPushButton::clicked, q, [this] { answer(Answer::Once); });
    QObject::connect(always, &QPushButton::clicked, q, [this] { answer(Answer::Always); });
    QObject::connect(deny, &QPushButton::clicked, q, [this] { answer(Answer::Deny); });
}

QPlainTextEdit *ToolApprovalDialog::Private::buildArguments() const
{
    // Read-only text that wraps anywhere: a long token without spaces must not widen the dialog.
    auto *arguments = new QPlainTextEdit;
    arguments->setObjectName(QStringLiteral("arguments"));
    arguments->setReadOnly(true);
    arguments->setWordWrapMode(QTextOption::WrapAtWordBoundaryOrAnywhere);
    arguments->setPlainText(request.argumentsSummary.isEmpty()
                                    ? ToolApprovalDialog::tr("(none)")
                                    : shownText(request.argumentsSummary, kMaxArgumentsChars));
    const int lineHeight = arguments->fontMetrics().lineSpacing();
    arguments->setFixedHeight(5 * lineHeight + 2 * arguments->frameWidth()
                              + int(arguments->document()->documentMargin() * 2));
    return arguments;
}

void ToolApprovalDialog::Private::answer(Answer answer)
{
    if (answered)
        return; // one answer per dialog
    answered = true;
    countdown->stop();
    if (answer != Answer::Closed)
        q->close();
    switch (answer) {
    case Answer::Once:
        Q_EMIT q->allowedOnce(request.id);
        break;
    case Answer::Always:
        Q_EMIT q->allowedAlways(request.id);
        break;
    case Answer::Deny:
    case Answer::Closed:
        Q_EMIT q->denied(request.id, false);
        break;
    case Answer::TimedOut:
        Q_EMIT q->denied(request.id, true);
        break;
    }
}

ToolApprovalDialog::ToolApprovalDialog(const gateway::ApprovalRequest &request,
                                       std::chrono::milliseconds timeout, QWidget *parent)
    : QDialog(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->request = request;
    setModal(false);
    d->build();
    // Escape rejects without a close event: it is Deny too.
    connect(this, &QDialog::rejected, this, [this] { d->answer(Private::Answer::Closed); });

    d->countdown = new AnswerCountdown(d->countdownLabel, timeout, this);
    connect(d->countdown, &AnswerCountdown::timedOut, this,
            [this] { d->answer(Private::Answer::TimedOut); });
}

ToolApprovalDialog::~ToolApprovalDialog() = default;

QString ToolApprovalDialog::approvalId() const
{
    return d->request.id;
}

void ToolApprovalDialog::finishElsewhere()
{
    d->answered = true;
    d->countdown->stop();
    close();
}

void ToolApprovalDialog::closeEvent(QCloseEvent *event)
{
    d->answer(Private::Answer::Closed);
    QDialog::closeEvent(event);
}

} // namespace mcpbroker::ui
