#include "TrayMenu.h"

#include "TrayIcons.h"

#include <QAction>
#include <QMenu>

namespace mcpbroker::ui {

namespace {

constexpr qsizetype kMaxClientName = 48;

QAction *makeAction(QObject *owner, const QString &objectName, const QString &text)
{
    auto *action = new QAction(text, owner);
    action->setObjectName(objectName);
    return action;
}

// Text from outside (server sentences, the name a local client registered) shown as it is: a
// '&' would otherwise become a keyboard shortcut.
QString menuText(const QString &text)
{
    QString escaped = text;
    return escaped.replace(QLatin1Char('&'), QStringLiteral("&&"));
}

// A local client chooses its own name: a long one must not stretch the menu.
QString clientName(const QString &name)
{
    return name.size() <= kMaxClientName ? name : name.left(kMaxClientName - 1) + u'…';
}

} // namespace

struct TrayMenu::Private
{
    std::unique_ptr<QMenu> menu;
    QMetaObject::Connection connectMenuGone;

    // The items every state shows, children of the TrayMenu: a rebuild only re-adds them.
    QAction *addServer = nullptr;
    QAction *copyEndpoint = nullptr;
    QAction *connect = nullptr;
    QAction *pause = nullptr;
    QAction *openAuditLog = nullptr;
    QAction *startAtLogin = nullptr;
    QAction *quit = nullptr;

    // What the last update() made: header, sections and placeholders (children of `built`), and
    // the server and client submenus. A rebuild detaches them and deletes them later, since
    // the action being triggered may be among them (revoking a client rebuilds the menu).
    QObject *built = nullptr;
    QList<QMenu *> submenus;

    void discardBuilt();
    QAction *addInfo(const QString &text);
    void addSection(const QString &text);
    void addSeparator();
    QMenu *addSubmenu(const QString &objectName, const QString &title);
    QAction *addItem(QMenu *submenu, const QString &objectName, const QString &text, bool enabled);
};

void TrayMenu::Private::discardBuilt()
{
    menu->clear(); // the actions it holds belong to others: nothing is deleted here
    for (QMenu *submenu : std::as_const(submenus)) {
        submenu->setParent(nullptr);
        submenu->deleteLater();
    }
    submenus.clear();
    if (built)
        built->deleteLater();
    built = new QObject; // ours: deleted by the destructor or the next rebuild
}

QAction *TrayMenu::Private::addInfo(const QString &text)
{
    auto *action = new QAction(text, built);
    action->setEnabled(false);
    menu->addAction(action);
    return action;
}

void TrayMenu::Private::addSection(const QString &text)
{
    auto *action = new QAction(text, built);
    action->setSeparator(true);
    menu->addAction(action);
}

void TrayMenu::Private::addSeparator()
{
    addSection(QString());
}

QMenu *TrayMenu::Private::addSubmenu(const QString &objectName, const QString &title)
{
    auto *submenu = new QMenu(title, menu.get());
    submenu->setObjectName(objectName);
    submenu->menuAction()->setObjectName(objectName);
    menu->addMenu(submenu);
    submenus.append(submenu);
    return submenu;
}

QAction *TrayMenu::Private::addItem(QMenu *submenu, const QString &objectName, const QString &text,
                                    bool enabled)
{
    QAction *action = submenu->addAction(text);
    action->setObjectName(objectName);
    action->setEnabled(enabled);
    return action;
}

TrayMenu::TrayMenu(QObject *parent) : QObject(parent), d(std::make_unique<Private>())
{
    d->menu = std::make_unique<QMenu>();
    d->menu->setObjectName(QStringLiteral("trayMenu"));

    d->addServer = makeAction(this, QStringLiteral("addServer"), tr("Add server…"));
    d->copyEndpoint = makeAction(this, QStringLiteral("copyEndpoint"), tr("Copy endpoint URL"));
    d->connect = makeAction(this, QStringLiteral("connectMenu"), tr("Connect a client"));
    d->connect->setEnabled(false);
    d->pause = makeAction(this, QStringLiteral("pause"), tr("Pause all access"));
    d->pause->setCheckable(true);
    d->openAuditLog = makeAction(this, QStringLiteral("openAuditLog"), tr("Open audit log"));
    d->startAtLogin = makeAction(this, QStringLiteral("startAtLogin"), tr("Start at login"));
    d->startAtLogin->setCheckable(true);
    d->quit = makeAction(this, QStringLiteral("quit"), tr("Quit MCP Broker"));
    d->quit->setMenuRole(QAction::QuitRole);

    // triggered, not toggled: setting the checkboxes from the state emits nothing.
    QObject::connect(d->addServer, &QAction::triggered, this, &TrayMenu::addServerRequested);
    QObject::connect(d->copyEndpoint, &QAction::triggered, this, &TrayMenu::copyEndpointRequested);
    QObject::connect(d->pause, &QAction::triggered, this, &TrayMenu::pauseToggled);
    QObject::connect(d->openAuditLog, &QAction::triggered, this, &TrayMenu::openAuditLogRequested);
    QObject::connect(d->startAtLogin, &QAction::triggered, this, &TrayMenu::startAtLoginToggled);
    QObject::connect(d->quit, &QAction::triggered, this, &TrayMenu::quitRequested);

    update(TrayState());
}

TrayMenu::~TrayMenu()
{
    QObject::disconnect(d->connectMenuGone);
    d->connect->setMenu(static_cast<QMenu *>(nullptr)); // the connect menu is not ours
    qDeleteAll(d->submenus);
    delete d->built;
}

QMenu *TrayMenu::menu() const
{
    return d->menu.get();
}

void TrayMenu::update(const TrayState &state)
{
    d->discardBuilt();
    QMenu *menu = d->menu.get();

    QAction *header
            = d->addInfo(state.summary.isEmpty() ? tr("MCP Broker") : menuText(state.summary));
    header->setIcon(TrayIcons::forState(state.overall));

    d->addSection(tr("Servers"));
    if (state.servers.isEmpty())
        d->addInfo(tr("No servers yet"));
    for (const ServerEntry &server : state.servers) {
        QMenu *submenu = d->addSubmenu(QStringLiteral("server:") + server.name,
                                       menuText(tr("%1 — %2").arg(server.name, server.stateText)));
        submenu->setIcon(TrayIcons::forServer(server));
        // A failed server's sentence is in its title already; others show it inside.
        if (!server.error.isEmpty() && !server.stateText.contains(server.error))
            submenu->addAction(menuText(server.error))->setEnabled(false);
        const QString name = server.name;
        const QUrl url = server.url;
        QObject::connect(d->addItem(submenu, QStringLiteral("signIn:") + name, tr("Sign in…"),
                                    server.canSignIn),
                         &QAction::triggered, this, [this, name] { Q_EMIT signInRequested(name); });
        QObject::connect(d->addItem(submenu, QStringLiteral("signOut:") + name,
                                    tr("Sign out and revoke"), server.canSignOut),
                         &QAction::triggered, this,
                         [this, name] { Q_EMIT signOutRequested(name); });
        QObject::connect(d->addItem(submenu, QStringLiteral("openUrl:") + name,
                                    tr("Open server URL"), url.isValid()),
                         &QAction::triggered, this,
                         [this, url] { Q_EMIT openServerUrlRequested(url); });
        submenu->addSeparator();
        QObject::connect(d->addItem(submenu, QStringLiteral("remove:") + name, tr("Remove…"), true),
                         &QAction::triggered, this,
                         [this, name] { Q_EMIT removeServerRequested(name); });
    }
    menu->addAction(d->addServer);

    d->addSection(tr("Clients"));
    if (state.clients.isEmpty())
        d->addInfo(tr("No clients yet"));
    for (const ClientEntry &client : state.clients) {
        QMenu *submenu = d->addSubmenu(
                QStringLiteral("client:") + client.grantId,
                menuText(tr("%1 — %2").arg(clientName(client.name), client.lastUseText)));
        submenu->addAction(menuText(client.serversText))->setEnabled(false);
        const QString grantId = client.grantId;
        const QString name = client.name;
        QObject::connect(
                d->addItem(submenu, QStringLiteral("revoke:") + grantId, tr("Revoke access"), true),
                &QAction::triggered, this,
                [this, grantId, name] { Q_EMIT revokeClientRequested(grantId, name); });
    }

    d->addSeparator();
    d->copyEndpoint->setEnabled(state.endpoint.isValid());
    menu->addAction(d->copyEndpoint);
    menu->addAction(d->connect);
    d->addSeparator();
    d->pause->setChecked(state.paused);
    menu->addAction(d->pause);
    menu->addAction(d->openAuditLog);
    menu->addAction(d->startAtLogin);
    d->addSeparator();
    menu->addAction(d->quit);
}

void TrayMenu::setStartAtLogin(bool enabled)
{
    d->startAtLogin->setChecked(enabled);
}

void TrayMenu::setConnectMenu(QMenu *connectMenu)
{
    QObject::disconnect(d->connectMenuGone);
    d->connect->setMenu(connectMenu);
    d->connect->setEnabled(connectMenu != nullptr);
    if (connectMenu) {
        // A menu deleted elsewhere leaves a disabled item (the action forgets the menu itself:
        // calling setMenu() from here would reach into a half-destroyed QMenu).
        d->connectMenuGone = QObject::connect(connectMenu, &QObject::destroyed, this,
                                              [this] { d->connect->setEnabled(false); });
    }
}

QAction *TrayMenu::findAction(const QString &objectName) const
{
    if (auto *action = findChild<QAction *>(objectName))
        return action;
    return d->menu->findChild<QAction *>(objectName);
}

} // namespace mcpbroker::ui
