#include "StatusWindow.h"

#include "TrayIcons.h"

#include <QCloseEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QVBoxLayout>

namespace mcpbroker::ui {

namespace {

constexpr int kSummaryIconSize = 32;
constexpr int kServerIconSize = 16;

QLabel *iconLabel(const QIcon &icon, int size, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setPixmap(icon.pixmap(size, size));
    label->setFixedSize(size, size);
    return label;
}

QLabel *heading(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    QFont font = label->font();
    font.setBold(true);
    label->setFont(font);
    return label;
}

// "<icon> <name> — <state>", the sentence wrapping under a long error.
QWidget *serverRow(const ServerEntry &server, QWidget *parent)
{
    auto *row = new QWidget(parent);
    auto *layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(iconLabel(TrayIcons::forServer(server), kServerIconSize, row), 0,
                      Qt::AlignTop);
    auto *text = new QLabel(StatusWindow::tr("%1 — %2").arg(server.name, server.stateText), row);
    text->setObjectName(QStringLiteral("server:") + server.name);
    text->setWordWrap(true);
    text->setTextFormat(Qt::PlainText);
    layout->addWidget(text, 1);
    return row;
}

} // namespace

StatusWindow::StatusWindow(QMenu *menu, QWidget *parent)
    : QWidget(parent), m_menu(menu), m_notice(new QLabel(this)), m_summaryIcon(new QLabel(this)),
      m_summary(new QLabel(this)), m_endpoint(new QLabel(this)), m_servers(new QWidget(this)),
      m_menuButton(new QPushButton(tr("Menu"), this))
{
    setWindowTitle(tr("MCP Broker"));
    setWindowIcon(TrayIcons::application());
    setMinimumWidth(380);

    m_notice->setObjectName(QStringLiteral("notice"));
    m_notice->setWordWrap(true);
    m_notice->setTextFormat(Qt::PlainText);
    m_notice->setFrameShape(QFrame::StyledPanel);
    m_notice->setMargin(6);
    m_notice->hide();

    m_summaryIcon->setFixedSize(kSummaryIconSize, kSummaryIconSize);
    m_summary->setObjectName(QStringLiteral("summary"));
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);
    QFont summaryFont = m_summary->font();
    summaryFont.setBold(true);
    summaryFont.setPointSizeF(summaryFont.pointSizeF() * 1.2);
    m_summary->setFont(summaryFont);

    m_endpoint->setObjectName(QStringLiteral("endpoint"));
    m_endpoint->setTextFormat(Qt::PlainText);
    m_endpoint->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);

    m_servers->setObjectName(QStringLiteral("servers"));
    auto *serverRows = new QVBoxLayout(m_servers);
    serverRows->setContentsMargins(0, 0, 0, 0);

    m_menuButton->setObjectName(QStringLiteral("menuButton"));
    m_menuButton->setEnabled(m_menu != nullptr);
    connect(m_menuButton, &QPushButton::clicked, this, &StatusWindow::popUpMenu);

    auto *summaryRow = new QHBoxLayout;
    summaryRow->addWidget(m_summaryIcon);
    summaryRow->addWidget(m_summary, 1);

    auto *endpointRow = new QHBoxLayout;
    endpointRow->addWidget(heading(tr("Endpoint:"), this));
    endpointRow->addWidget(m_endpoint, 1);

    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_menuButton);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_notice);
    layout->addLayout(summaryRow);
    layout->addLayout(endpointRow);
    layout->addWidget(heading(tr("Servers"), this));
    layout->addWidget(m_servers);
    layout->addStretch(1);
    layout->addLayout(buttons);

    update(TrayState());
}

void StatusWindow::update(const TrayState &state)
{
    m_summaryIcon->setPixmap(
            TrayIcons::forState(state.overall).pixmap(kSummaryIconSize, kSummaryIconSize));
    m_summary->setText(state.summary);
    m_endpoint->setText(state.endpoint.isEmpty() ? tr("not listening yet")
                                                 : state.endpoint.toString());

    qDeleteAll(m_servers->findChildren<QWidget *>(QString(), Qt::FindDirectChildrenOnly));
    if (state.servers.isEmpty()) {
        auto *none = new QLabel(tr("No servers yet: add one from the menu."), m_servers);
        m_servers->layout()->addWidget(none);
    }
    for (const ServerEntry &server : state.servers)
        m_servers->layout()->addWidget(serverRow(server, m_servers));
}

void StatusWindow::setNotice(const QString &notice)
{
    m_notice->setText(notice);
    m_notice->setVisible(!notice.isEmpty());
}

void StatusWindow::closeEvent(QCloseEvent *event)
{
    // The broker keeps running without this window; Quit is in the menu.
    event->ignore();
    hide();
}

void StatusWindow::popUpMenu()
{
    if (m_menu)
        m_menu->popup(m_menuButton->mapToGlobal(QPoint(0, m_menuButton->height())));
}

} // namespace mcpbroker::ui
