// "Add server…" (ui/AddServerDialog.h): it says what is wrong as the user types, with the same
// sentences as `mcp-broker add`; Add is enabled only when the server can be added; it hands on
// exactly what the chosen sign-in method needs, and secrets do not outlive the dialog.

#include "AddServerDialog.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

#include <optional>

using namespace mcpbroker;
using namespace mcpbroker::ui;

using NewServer = Broker::NewServer;
using Auth = NewServer::Auth;

Q_DECLARE_METATYPE(Auth)

namespace {

const QStringList kExisting{QStringLiteral("github"), QStringLiteral("notes")};

// The dialog and what it submitted.
struct Form
{
    Form() : dialog(kExisting)
    {
        QObject::connect(&dialog, &AddServerDialog::submitted, &dialog,
                         [this](const NewServer &server) { submitted.append(server); });
    }

    template<typename T = QLineEdit>
    T *child(const char *objectName) const
    {
        T *found = dialog.findChild<T *>(QLatin1String(objectName));
        if (!found)
            qFatal("no child \"%s\"", objectName);
        return found;
    }
    QLineEdit *edit(const char *objectName) const { return child(objectName); }
    QPushButton *button(const char *objectName) const { return child<QPushButton>(objectName); }
    QString error() const { return child<QLabel>("error")->text(); }
    bool canAdd() const { return button("add")->isEnabled(); }

    void type(const char *objectName, const QString &text)
    {
        edit(objectName)->clear();
        QTest::keyClicks(edit(objectName), text);
    }
    void chooseAuth(Auth auth)
    {
        auto *combo = child<QComboBox>("authMethod");
        const int index = combo->findData(int(auth));
        QVERIFY(index >= 0);
        combo->setCurrentIndex(index);
    }
    void fillValid(Auth auth)
    {
        type("name", QStringLiteral("linear"));
        type("url", QStringLiteral("https://mcp.linear.app/mcp"));
        chooseAuth(auth);
    }

    AddServerDialog dialog;
    QList<NewServer> submitted;
};

QString nameError(const QString &name)
{
    auto checked = Broker::checkServerName(name);
    return checked.ok() ? QString() : checked.error().message;
}

QString urlError(const QString &url)
{
    auto checked = Broker::checkServerUrl(QUrl(url, QUrl::StrictMode));
    return checked.ok() ? QString() : checked.error().message;
}

} // namespace

class TestAddServerDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void offersTheFourSignInMethods();
    void startsWithAddDisabledAndAskingForAName();
    void invalidNameSaysWhyInTheBrokersWords();
    void takenNameIsRefused();
    void missingUrlIsAskedFor();
    void invalidUrlSaysWhyInTheBrokersWords_data();
    void invalidUrlSaysWhyInTheBrokersWords();
    void eachMethodShowsItsFields_data();
    void eachMethodShowsItsFields();
    void secretFieldsArePasswordFields();
    void longTextIsShownWhole();
    void preRegisteredClientNeedsAClientId();
    void bearerNeedsAPlainToken();
    void submitsAnAutomaticOAuthServerWithScopes();
    void submitsAPreRegisteredClient();
    void submitsAPublicPreRegisteredClient();
    void submitsABearerToken();
    void submitsAServerWithoutCredentials();
    void fieldsOfOtherMethodsAreNotSubmitted();
    void enterAddsOnlyWhenValid();
    void addDisablesTheFormUntilAnswered();
    void showErrorKeepsTheFieldsAndReenablesTheForm();
    void finishWipesTheSecretsAndCloses();
    void cancelWipesTheSecrets();
};

void TestAddServerDialog::offersTheFourSignInMethods()
{
    Form form;
    auto *combo = form.child<QComboBox>("authMethod");
    QCOMPARE(combo->count(), 4);
    QCOMPARE(combo->itemText(0), QStringLiteral("Automatic sign-in (OAuth)"));
    QCOMPARE(combo->itemText(1), QStringLiteral("Pre-registered OAuth client"));
    QCOMPARE(combo->itemText(2), QStringLiteral("Bearer token"));
    QCOMPARE(combo->itemText(3), QStringLiteral("None"));
    QCOMPARE(combo->currentData().toInt(), int(Auth::OAuth));
    QVERIFY(!form.dialog.isModal());
}

void TestAddServerDialog::startsWithAddDisabledAndAskingForAName()
{
    Form form;
    QVERIFY(!form.canAdd());
    QCOMPARE(form.error(), QStringLiteral("Enter a name for the server, such as github."));
    form.button("add")->click();
    QVERIFY(form.submitted.isEmpty());
}

void TestAddServerDialog::invalidNameSaysWhyInTheBrokersWords()
{
    Form form;
    form.type("url", QStringLiteral("https://mcp.example.com/mcp"));
    for (const QString &name :
         {QStringLiteral("Git_Hub"), QStringLiteral("9lives"), QStringLiteral("a b")}) {
        form.type("name", name);
        QVERIFY(!nameError(name).isEmpty());
        QCOMPARE(form.error(), nameError(name));
        QVERIFY(!form.canAdd());
    }
    form.type("name", QStringLiteral("my-server-2"));
    QCOMPARE(form.error(), QString());
    QVERIFY(form.canAdd());
}

void TestAddServerDialog::takenNameIsRefused()
{
    Form form;
    form.type("url", QStringLiteral("https://mcp.example.com/mcp"));
    form.type("name", QStringLiteral("notes"));
    QCOMPARE(form.error(),
             QStringLiteral("A server named \"notes\" already exists: choose another name."));
    QVERIFY(!form.canAdd());
    form.type("name", QStringLiteral("notes2"));
    QVERIFY(form.canAdd());
}

void TestAddServerDialog::missingUrlIsAskedFor()
{
    Form form;
    form.type("name", QStringLiteral("linear"));
    QCOMPARE(form.error(),
             QStringLiteral("Enter the server's URL, such as https://mcp.example.com/mcp."));
    QVERIFY(!form.canAdd());
}

void TestAddServerDialog::invalidUrlSaysWhyInTheBrokersWords_data()
{
    QTest::addColumn<QString>("url");
    QTest::newRow("not http") << QStringLiteral("ftp://files.example.com/mcp");
    QTest::newRow("no scheme") << QStringLiteral("mcp.example.com/mcp");
    QTest::newRow("user info") << QStringLiteral("https://me:hunter2@mcp.example.com/mcp");
    QTest::newRow("fragment") << QStringLiteral("https://mcp.example.com/mcp#top");
    QTest::newRow("space") << QStringLiteral("https://mcp.example.com/m cp");
}

void TestAddServerDialog::invalidUrlSaysWhyInTheBrokersWords()
{
    QFETCH(QString, url);
    Form form;
    form.type("name", QStringLiteral("linear"));
    form.type("url", url);
    QVERIFY(!urlError(url).isEmpty());
    QCOMPARE(form.error(), urlError(url));
    QVERIFY(!form.error().contains(QStringLiteral("hunter2")));
    QVERIFY(!form.canAdd());
}

void TestAddServerDialog::eachMethodShowsItsFields_data()
{
    QTest::addColumn<Auth>("auth");
    QTest::addColumn<QStringList>("shown");
    const QStringList all{QStringLiteral("clientId"), QStringLiteral("clientSecret"),
                          QStringLiteral("scopes"), QStringLiteral("bearerToken")};
    QTest::newRow("oauth") << Auth::OAuth << QStringList{QStringLiteral("scopes")};
    QTest::newRow("pre-registered")
            << Auth::PreRegisteredClient
            << QStringList{QStringLiteral("clientId"), QStringLiteral("clientSecret"),
                           QStringLiteral("scopes")};
    QTest::newRow("bearer") << Auth::Bearer << QStringList{QStringLiteral("bearerToken")};
    QTest::newRow("none") << Auth::None << QStringList();
}

void TestAddServerDialog::eachMethodShowsItsFields()
{
    QFETCH(Auth, auth);
    QFETCH(QStringList, shown);
    Form form;
    form.dialog.show();
    form.chooseAuth(auth);
    for (const char *name : {"clientId", "clientSecret", "scopes", "bearerToken"}) {
        QCOMPARE(form.edit(name)->isVisible(), shown.contains(QLatin1String(name)));
    }
    for (const char *name : {"name", "url"})
        QVERIFY(form.edit(name)->isVisible());
    QVERIFY(!form.child<QLabel>("authHint")->text().isEmpty());
}

void TestAddServerDialog::secretFieldsArePasswordFields()
{
    Form form;
    QCOMPARE(form.edit("clientSecret")->echoMode(), QLineEdit::Password);
    QCOMPARE(form.edit("bearerToken")->echoMode(), QLineEdit::Password);
    QCOMPARE(form.edit("clientId")->echoMode(), QLineEdit::Normal);
}

void TestAddServerDialog::longTextIsShownWhole()
{
    Form form;
    form.dialog.show();
    form.type("url", QStringLiteral("https://mcp.example.com/mcp"));
    form.chooseAuth(Auth::PreRegisteredClient);
    form.type("name", QStringLiteral("Git_Hub")); // a message of several lines
    for (const char *name : {"error", "authHint"}) {
        auto *label = form.child<QLabel>(name);
        QVERIFY2(label->height() >= label->heightForWidth(label->width()), name);
    }
}

void TestAddServerDialog::preRegisteredClientNeedsAClientId()
{
    Form form;
    form.fillValid(Auth::PreRegisteredClient);
    QCOMPARE(form.error(),
             QStringLiteral("Enter the client ID that was registered for MCP "
                            "Broker at the server."));
    QVERIFY(!form.canAdd());
    form.type("clientId", QStringLiteral("mcp-broker"));
    QCOMPARE(form.error(), QString());
    QVERIFY(form.canAdd());
}

void TestAddServerDialog::bearerNeedsAPlainToken()
{
    Form form;
    form.fillValid(Auth::Bearer);
    QCOMPARE(form.error(), QStringLiteral("Enter the bearer token."));
    QVERIFY(!form.canAdd());

    form.type("bearerToken", QStringLiteral("Bearer abc123"));
    QCOMPARE(form.error(),
             QStringLiteral("Enter the token without the \"Bearer \" in front of it."));
    QVERIFY(!form.canAdd());

    form.type("bearerToken", QStringLiteral("abc 123"));
    QCOMPARE(form.error(), QStringLiteral("The token contains spaces: enter it without spaces."));
    QVERIFY(!form.canAdd());

    form.type("bearerToken", QStringLiteral("abc123"));
    QCOMPARE(form.error(), QString());
    QVERIFY(form.canAdd());
    // Another method does not need the token.
    form.edit("bearerToken")->clear();
    form.chooseAuth(Auth::None);
    QVERIFY(form.canAdd());
}

void TestAddServerDialog::submitsAnAutomaticOAuthServerWithScopes()
{
    Form form;
    form.fillValid(Auth::OAuth);
    form.edit("scopes")->setText(QStringLiteral("  read write\tread admin ")); // pasted
    form.button("add")->click();

    QCOMPARE(form.submitted.size(), 1);
    const NewServer &server = form.submitted.at(0);
    QCOMPARE(server.name, QStringLiteral("linear"));
    QCOMPARE(server.url, QUrl(QStringLiteral("https://mcp.linear.app/mcp")));
    QCOMPARE(server.auth, Auth::OAuth);
    QCOMPARE(server.scopes,
             QStringList(
                     {QStringLiteral("read"), QStringLiteral("write"), QStringLiteral("admin")}));
    QVERIFY(server.clientId.isEmpty());
    QVERIFY(server.clientSecret.isEmpty());
    QVERIFY(server.bearerToken.isEmpty());
}

void TestAddServerDialog::submitsAPreRegisteredClient()
{
    Form form;
    form.type("name", QStringLiteral(" jira "));
    form.type("url", QStringLiteral(" https://mcp.example.org/mcp "));
    form.chooseAuth(Auth::PreRegisteredClient);
    form.type("clientId", QStringLiteral("mcp-broker"));
    form.type("clientSecret", QStringLiteral("s3cret"));
    form.type("scopes", QStringLiteral("read"));
    form.button("add")->click();

    QCOMPARE(form.submitted.size(), 1);
    const NewServer &server = form.submitted.at(0);
    QCOMPARE(server.name, QStringLiteral("jira"));
    QCOMPARE(server.url, QUrl(QStringLiteral("https://mcp.example.org/mcp")));
    QCOMPARE(server.auth, Auth::PreRegisteredClient);
    QCOMPARE(server.clientId, QStringLiteral("mcp-broker"));
    QCOMPARE(server.clientSecret, QByteArray("s3cret"));
    QCOMPARE(server.scopes, QStringList{QStringLiteral("read")});
    QVERIFY(server.bearerToken.isEmpty());
}

void TestAddServerDialog::submitsAPublicPreRegisteredClient()
{
    Form form;
    form.fillValid(Auth::PreRegisteredClient);
    form.type("clientId", QStringLiteral("public-client"));
    form.button("add")->click();

    QCOMPARE(form.submitted.size(), 1);
    QCOMPARE(form.submitted.at(0).clientId, QStringLiteral("public-client"));
    QVERIFY(form.submitted.at(0).clientSecret.isEmpty());
    QVERIFY(form.submitted.at(0).scopes.isEmpty());
}

void TestAddServerDialog::submitsABearerToken()
{
    Form form;
    form.fillValid(Auth::Bearer);
    form.type("bearerToken", QStringLiteral("ghp_token123"));
    form.button("add")->click();

    QCOMPARE(form.submitted.size(), 1);
    const NewServer &server = form.submitted.at(0);
    QCOMPARE(server.auth, Auth::Bearer);
    QCOMPARE(server.bearerToken, QByteArray("ghp_token123"));
    QVERIFY(server.clientId.isEmpty());
    QVERIFY(server.clientSecret.isEmpty());
    QVERIFY(server.scopes.isEmpty());
}

void TestAddServerDialog::submitsAServerWithoutCredentials()
{
    Form form;
    form.fillValid(Auth::None);
    form.button("add")->click();

    QCOMPARE(form.submitted.size(), 1);
    QCOMPARE(form.submitted.at(0).auth, Auth::None);
    QCOMPARE(form.submitted.at(0).name, QStringLiteral("linear"));
}

void TestAddServerDialog::fieldsOfOtherMethodsAreNotSubmitted()
{
    Form form;
    form.fillValid(Auth::PreRegisteredClient);
    form.type("clientId", QStringLiteral("mcp-broker"));
    form.type("clientSecret", QStringLiteral("s3cret"));
    form.type("scopes", QStringLiteral("read"));
    form.chooseAuth(Auth::Bearer);
    form.type("bearerToken", QStringLiteral("tok"));
    form.chooseAuth(Auth::None);
    form.button("add")->click();

    QCOMPARE(form.submitted.size(), 1);
    const NewServer &server = form.submitted.at(0);
    QCOMPARE(server.auth, Auth::None);
    QVERIFY(server.clientId.isEmpty());
    QVERIFY(server.clientSecret.isEmpty());
    QVERIFY(server.bearerToken.isEmpty());
    QVERIFY(server.scopes.isEmpty());
}

void TestAddServerDialog::enterAddsOnlyWhenValid()
{
    Form form;
    form.dialog.show();
    QVERIFY(form.button("add")->isDefault());
    form.type("name", QStringLiteral("linear"));
    QTest::keyClick(form.edit("name"), Qt::Key_Return);
    QVERIFY(form.submitted.isEmpty());
    QVERIFY(form.dialog.isVisible());

    form.type("url", QStringLiteral("https://mcp.linear.app/mcp"));
    QTest::keyClick(form.edit("url"), Qt::Key_Return);
    QCOMPARE(form.submitted.size(), 1);
}

void TestAddServerDialog::addDisablesTheFormUntilAnswered()
{
    Form form;
    form.dialog.show();
    form.fillValid(Auth::Bearer);
    form.type("bearerToken", QStringLiteral("tok"));
    form.button("add")->click();

    QCOMPARE(form.submitted.size(), 1);
    QVERIFY(!form.canAdd());
    for (const char *name : {"name", "url", "bearerToken"})
        QVERIFY2(!form.edit(name)->isEnabled(), name);
    QVERIFY(!form.child<QComboBox>("authMethod")->isEnabled());
    QVERIFY(form.button("cancel")->isEnabled());
    QVERIFY(form.dialog.isVisible());
    // A second Add (Enter) while the first one runs does nothing.
    QTest::keyClick(&form.dialog, Qt::Key_Return);
    QCOMPARE(form.submitted.size(), 1);
}

void TestAddServerDialog::showErrorKeepsTheFieldsAndReenablesTheForm()
{
    Form form;
    form.dialog.show();
    form.fillValid(Auth::Bearer);
    form.type("bearerToken", QStringLiteral("tok"));
    form.button("add")->click();
    const QString message = QStringLiteral("The keychain is locked: unlock it and try again.");
    form.dialog.showError(message);

    QCOMPARE(form.error(), message);
    QVERIFY(form.canAdd());
    QVERIFY(form.edit("name")->isEnabled());
    QCOMPARE(form.edit("name")->text(), QStringLiteral("linear"));
    QCOMPARE(form.edit("url")->text(), QStringLiteral("https://mcp.linear.app/mcp"));
    QCOMPARE(form.edit("bearerToken")->text(), QStringLiteral("tok"));
    QVERIFY(form.dialog.isVisible());

    // The next edit checks the form again; a second Add submits again.
    form.type("name", QStringLiteral("linear2"));
    QCOMPARE(form.error(), QString());
    form.button("add")->click();
    QCOMPARE(form.submitted.size(), 2);
    QCOMPARE(form.submitted.at(1).name, QStringLiteral("linear2"));
}

void TestAddServerDialog::finishWipesTheSecretsAndCloses()
{
    Form form;
    form.dialog.show();
    form.fillValid(Auth::PreRegisteredClient);
    form.type("clientId", QStringLiteral("mcp-broker"));
    form.type("clientSecret", QStringLiteral("s3cret"));
    form.chooseAuth(Auth::Bearer);
    form.type("bearerToken", QStringLiteral("tok"));
    form.button("add")->click();
    form.dialog.finish();

    QVERIFY(!form.dialog.isVisible());
    QCOMPARE(form.dialog.result(), int(QDialog::Accepted));
    for (const char *name : {"clientSecret", "bearerToken"}) {
        QLineEdit *secret = form.edit(name);
        QCOMPARE(secret->text(), QString());
        // Not even undo brings it back (shown as plain text, where undo is allowed).
        secret->setEchoMode(QLineEdit::Normal);
        secret->undo();
        QCOMPARE(secret->text(), QString());
    }
    QCOMPARE(form.edit("clientId")->text(), QStringLiteral("mcp-broker"));
}

void TestAddServerDialog::cancelWipesTheSecrets()
{
    Form form;
    form.dialog.show();
    form.fillValid(Auth::Bearer);
    form.type("bearerToken", QStringLiteral("tok"));
    form.button("cancel")->click();

    QVERIFY(!form.dialog.isVisible());
    QVERIFY(form.submitted.isEmpty());
    QCOMPARE(form.edit("bearerToken")->text(), QString());

    Form escaped;
    escaped.dialog.show();
    escaped.fillValid(Auth::Bearer);
    escaped.type("bearerToken", QStringLiteral("tok"));
    QTest::keyClick(&escaped.dialog, Qt::Key_Escape);
    QVERIFY(!escaped.dialog.isVisible());
    QCOMPARE(escaped.edit("bearerToken")->text(), QString());
}

QTEST_MAIN(TestAddServerDialog)
#include "tst_addserverdialog.moc"
