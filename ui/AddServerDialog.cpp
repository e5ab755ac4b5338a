#include "AddServerDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QVBoxLayout>

#include <algorithm>
#include <optional>

namespace mcpbroker::ui {

namespace {

using Auth = Broker::NewServer::Auth;

QLineEdit *lineEdit(const char *objectName, const QString &placeholder,
                    QLineEdit::EchoMode echo = QLineEdit::Normal)
{
    auto *edit = new QLineEdit;
    edit->setObjectName(QLatin1String(objectName));
    edit->setPlaceholderText(placeholder);
    edit->setEchoMode(echo);
    return edit;
}

// Clears a field and its undo history, so that nothing typed can be brought back.
void wipe(QLineEdit *edit)
{
    edit->clear();
    edit->setText(QString());
}

// Our own copy of a secret that was handed on: a receiver that kept it holds its own buffer.
void wipe(QByteArray &secret)
{
    secret.fill('\0');
    secret.clear();
}

struct Problem
{
    QString message;
    bool missing = false; // a field not filled in yet (a hint), rather than a mistake
};

} // namespace

struct AddServerDialog::Private
{
    AddServerDialog *q = nullptr;
    QStringList existingNames;
    QFormLayout *form = nullptr;
    QLineEdit *name = nullptr;
    QLineEdit *url = nullptr;
    QComboBox *authMethod = nullptr;
    QLabel *authHint = nullptr;
    QLineEdit *clientId = nullptr;
    QLineEdit *clientSecret = nullptr;
    QLineEdit *scopes = nullptr;
    QLineEdit *bearerToken = nullptr;
    QLabel *error = nullptr;
    QPushButton *add = nullptr;
    QPushButton *cancel = nullptr;
    bool submitting = false;

    void build();
    Auth auth() const { return Auth(authMethod->currentData().toInt()); }
    std::optional<Problem> problem() const;
    void showMessage(const QString &message, bool isError);
    void showMethodFields();
    void setFieldsEnabled(bool enabled);
    void check();
    void fitHeight();
    void refresh(); // after every edit
    Broker::NewServer server() const;
    void submit();
    void wipeSecrets();
};

void AddServerDialog::Private::build()
{
    q->setWindowTitle(AddServerDialog::tr("Add server"));

    name = lineEdit("name", AddServerDialog::tr("github"));
    url = lineEdit("url", AddServerDialog::tr("https://mcp.example.com/mcp"));
    authMethod = new QComboBox;
    authMethod->setObjectName(QStringLiteral("authMethod"));
    authMethod->addItem(AddServerDialog::tr("Automatic sign-in (OAuth)"), int(Auth::OAuth));
    authMethod->addItem(AddServerDialog::tr("Pre-registered OAuth client"),
                        int(Auth::PreRegisteredClient));
    authMethod->addItem(AddServerDialog::tr("Bearer token"), int(Auth::Bearer));
    authMethod->addItem(AddServerDialog::tr("None"), int(Auth::None));
    authHint = new QLabel;
    authHint->setObjectName(QStringLiteral("authHint"));
    authHint->setWordWrap(true);
    authHint->setForegroundRole(QPalette::PlaceholderText);
    clientId = lineEdit("clientId", QString());
    clientSecret = lineEdit("clientSecret", AddServerDialog::tr("Empty for a public client"),
                            QLineEdit::Password);
    scopes = lineEdit("scopes", AddServerDialog::tr("Optional, space-separated: read write"));
    bearerToken = lineEdit("bearerToken", QString(), QLineEdit::Password);

    form = new QFormLayout;
    form->addRow(AddServerDialog::tr("Name:"), name);
    form->addRow(AddServerDialog::tr("URL:"), url);
    form->addRow(AddServerDialog::tr("Sign-in:"), authMethod);
    form->addRow(QString(), authHint);
    form->addRow(AddServerDialog::tr("Client ID:"), clientId);
    form->addRow(AddServerDialog::tr("Client secret:"), clientSecret);
    form->addRow(AddServerDialog::tr("Scopes:"), scopes);
    form->addRow(AddServerDialog::tr("Bearer token:"), bearerToken);

    error = new QLabel;
    error->setObjectName(QStringLiteral("error"));
    error->setTextFormat(Qt::PlainText);
    error->setWordWrap(true);

    auto *buttons = new QDialogButtonBox;
    add = buttons->addButton(AddServerDialog::tr("Add"), QDialogButtonBox::AcceptRole);
    add->setObjectName(QStringLiteral("add"));
    add->setDefault(true);
    cancel = buttons->addButton(QDialogButtonBox::Cancel);
    cancel->setObjectName(QStringLiteral("cancel"));

    auto *layout = new QVBoxLayout(q);
    layout->addLayout(form);
    layout->addWidget(error);
    layout->addWidget(buttons);
    q->setMinimumWidth(q->fontMetrics().averageCharWidth() * 60);

    for (QLineEdit *edit : {name, url, clientId, clientSecret, scopes, bearerToken})
        QObject::connect(edit, &QLineEdit::textChanged, q, [this] { refresh(); });
    QObject::connect(authMethod, &QComboBox::currentIndexChanged, q, [this] { refresh(); });
    QObject::connect(add, &QPushButton::clicked, q, [this] { submit(); });
    QObject::connect(cancel, &QPushButton::clicked, q, &QDialog::reject);
    // Cancel, Escape, the window's close button and finish() all end here.
    QObject::connect(q, &QDialog::finished, q, [this] { wipeSecrets(); });
    name->setFocus();
    refresh();
}

std::optional<Problem> AddServerDialog::Private::problem() const
{
    const QString serverName = name->text().trimmed();
    if (serverName.isEmpty())
        return Problem{AddServerDialog::tr("Enter a name for the server, such as github."), true};
    if (auto valid = Broker::checkServerName(serverName); !valid)
        return Problem{valid.error().message, false};
    if (existingNames.contains(serverName))
        return Problem{AddServerDialog::tr("A server named \"%1\" already exists: choose another "
                                           "name.")
                               .arg(serverName),
                       false};

    const QString urlText = url->text().trimmed();
    if (urlText.isEmpty())
        return Problem{AddServerDialog::tr("Enter the server's URL, such as "
                                           "https://mcp.example.com/mcp."),
                       true};
    if (auto valid = Broker::checkServerUrl(QUrl(urlText, QUrl::StrictMode)); !valid)
        return Problem{valid.error().message, false};

    if (auth() == Auth::PreRegisteredClient && clientId->text().trimmed().isEmpty())
        return Problem{AddServerDialog::tr("Enter the client ID that was registered for MCP "
                                           "Broker at the server."),
                       true};
    if (auth() == Auth::Bearer) {
        const QString token = bearerToken->text().trimmed();
        if (token.isEmpty())
            return Problem{AddServerDialog::tr("Enter the bearer token."), true};
        if (token.startsWith(QLatin1String("bearer "), Qt::CaseInsensitive))
            return Problem{AddServerDialog::tr("Enter the token without the \"Bearer \" in front "
                                               "of it."),
                           false};
        static const QRegularExpression space(QStringLiteral("\\s"));
        if (token.contains(space))
            return Problem{AddServerDialog::tr("The token contains spaces: enter it without "
                                               "spaces."),
                           false};
    }
    return std::nullopt;
}

void AddServerDialog::Private::showMessage(const QString &message, bool isError)
{
    error->setText(message);
    // A mistake stands out; a field still to fill in is only a hint.
    QPalette palette = q->palette();
    if (isError)
        palette.setColor(QPalette::WindowText, QColor(0xc0, 0x1c, 0x28));
    error->setPalette(palette);
}

void AddServerDialog::Private::showMethodFields()
{
    const Auth method = auth();
    form->setRowVisible(clientId, method == Auth::PreRegisteredClient);
    form->setRowVisible(clientSecret, method == Auth::PreRegisteredClient);
    form->setRowVisible(scopes, method == Auth::OAuth || method == Auth::PreRegisteredClient);
    form->setRowVisible(bearerToken, method == Auth::Bearer);
    switch (method) {
    case Auth::OAuth:
        authHint->setText(AddServerDialog::tr("MCP Broker registers itself at the server; you "
                                              "sign in in your browser."));
        break;
    case Auth::PreRegisteredClient:
        authHint->setText(AddServerDialog::tr("A client registered by hand at the server, with "
                                              "the redirect URI http://127.0.0.1/callback (any "
                                              "port)."));
        break;
    case Auth::Bearer:
        authHint->setText(AddServerDialog::tr("A fixed token sent with every request. It is "
                                              "kept in the system keychain."));
        break;
    case Auth::None:
        authHint->setText(AddServerDialog::tr("The server needs no credentials."));
        break;
    }
}

void AddServerDialog::Private::setFieldsEnabled(bool enabled)
{
    for (QWidget *field : std::initializer_list<QWidget *>{name, url, authMethod, clientId,
                                                           clientSecret, scopes, bearerToken})
        field->setEnabled(enabled);
}

void AddServerDialog::Private::check()
{
    if (submitting)
        return;
    const std::optional<Problem> found = problem();
    add->setEnabled(!found);
    showMessage(found ? found->message : QString(), found && !found->missing);
}

void AddServerDialog::Private::refresh()
{
    showMethodFields();
    check();
    fitHeight();
}

void AddServerDialog::Private::fitHeight()
{
    // A window does not follow the height of its wrapped labels by itself: without this, a long
    // message would be cut off, or leave a gap once gone.
    if (!q->isVisible())
        return; // show() gives the window its size
    q->layout()->activate();
    const int needed = std::max(q->heightForWidth(q->width()), q->minimumSizeHint().height());
    if (needed != q->height())
        q->resize(q->width(), needed);
}

Broker::NewServer AddServerDialog::Private::server() const
{
    Broker::NewServer server;
    server.name = name->text().trimmed();
    server.url = QUrl(url->text().trimmed(), QUrl::StrictMode);
    server.auth = auth();
    if (server.auth == Auth::PreRegisteredClient) {
        server.clientId = clientId->text().trimmed();
        server.clientSecret = clientSecret->text().trimmed().toUtf8();
    }
    if (server.auth == Auth::OAuth || server.auth == Auth::PreRegisteredClient) {
        static const QRegularExpression spaces(QStringLiteral("\\s+"));
        server.scopes = scopes->text().split(spaces, Qt::SkipEmptyParts);
        server.scopes.removeDuplicates();
    }
    if (server.auth == Auth::Bearer)
        server.bearerToken = bearerToken->text().trimmed().toUtf8();
    return server;
}

void AddServerDialog::Private::submit()
{
    if (submitting || problem())
        return;
    submitting = true;
    setFieldsEnabled(false);
    add->setEnabled(false);
    Broker::NewServer submitted = server();
    showMessage(AddServerDialog::tr("Adding %1…").arg(submitted.name), false);
    Q_EMIT q->submitted(submitted);
    wipe(submitted.clientSecret);
    wipe(submitted.bearerToken);
}

void AddServerDialog::Private::wipeSecrets()
{
    wipe(clientSecret);
    wipe(bearerToken);
}

AddServerDialog::AddServerDialog(const QStringList &existingNames, QWidget *parent)
    : QDialog(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->existingNames = existingNames;
    setModal(false);
    d->build();
}

AddServerDialog::~AddServerDialog()
{
    d->wipeSecrets();
}

void AddServerDialog::showError(const QString &message)
{
    d->submitting = false;
    d->setFieldsEnabled(true);
    d->check();
    d->showMessage(message, true);
    d->fitHeight();
}

void AddServerDialog::finish()
{
    d->wipeSecrets();
    accept();
}

} // namespace mcpbroker::ui
