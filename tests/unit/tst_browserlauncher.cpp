// BrowserLauncher / SystemBrowser: only absolute http(s) URLs with a host are ever opened, and
// the URL reaches the browser program as exactly one argument, unchanged, with no shell in
// between. $BROWSER points at a script this test writes, which records the arguments it got.

#include "oauth/BrowserLauncher.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace mcpbroker;
using namespace mcpbroker::oauth;

namespace {

// One environment variable, put back as it was (set or unset) when this goes out of scope.
class SavedVariable
{
public:
    explicit SavedVariable(const char *name) : m_name(name)
    {
        if (qEnvironmentVariableIsSet(name))
            m_value = qgetenv(name);
    }
    ~SavedVariable()
    {
        if (m_value)
            qputenv(m_name, *m_value);
        else
            qunsetenv(m_name);
    }
    SavedVariable(const SavedVariable &) = delete;
    SavedVariable &operator=(const SavedVariable &) = delete;

private:
    const char *m_name;
    std::optional<QByteArray> m_value;
};

QString why(const Result<void> &result)
{
    return result.ok() ? QString() : result.error().message;
}

} // namespace

class TestBrowserLauncher : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SavedVariable> m_browser;
    std::unique_ptr<SavedVariable> m_path;

    // Each run of the script leaves one file "call.<pid>": its argument count on the first line,
    // then every argument ended by a NUL byte. Written under another name and renamed, so a
    // file that exists is complete.
    QString writeRecordingBrowser()
    {
        const QString script = m_dir->filePath(u"fake-browser"_qs);
        QFile file(script);
        if (!file.open(QIODevice::WriteOnly))
            return {};
        const QByteArray calls = QFile::encodeName(m_dir->path());
        file.write("#!/bin/sh\n"
                   "out='"
                   + calls
                   + "/call.'$$\n"
                     "{ printf '%s\\n' \"$#\"; printf '%s\\0' \"$@\"; } > \"$out.part\"\n"
                     "mv \"$out.part\" \"$out\"\n");
        file.close();
        file.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        return script;
    }

    QStringList callFiles() const
    {
        return QDir(m_dir->path()).entryList({u"call.*"_qs}, QDir::Files);
    }

    // The arguments of every finished run of the script.
    QList<QStringList> calls() const
    {
        QList<QStringList> result;
        for (const QString &name : callFiles()) {
            if (name.endsWith(u".part"_qs))
                continue;
            QFile file(m_dir->filePath(name));
            if (!file.open(QIODevice::ReadOnly))
                continue;
            const QByteArray count = file.readLine().trimmed();
            QByteArray rest = file.readAll();
            QStringList arguments;
            if (rest.endsWith('\0'))
                rest.chop(1);
            if (count != "0") {
                for (const QByteArray &argument : rest.split('\0'))
                    arguments.append(QString::fromLocal8Bit(argument));
            }
            if (arguments.size() != count.toInt()) // fails every comparison of arguments
                arguments.prepend(u"<%1 arguments, %2 read>"_qs.arg(count).arg(arguments.size()));
            result.append(arguments);
        }
        return result;
    }

    qsizetype finishedCalls() const { return calls().size(); }

private Q_SLOTS:
    void init()
    {
        m_browser = std::make_unique<SavedVariable>("BROWSER");
        m_path = std::make_unique<SavedVariable>("PATH");
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void cleanup()
    {
        m_path.reset(); // puts PATH and $BROWSER back as they were
        m_browser.reset();
        m_dir.reset();
    }

    void checkOpenableAcceptsHttpAndHttps_data()
    {
        QTest::addColumn<QString>("url");
        QTest::newRow("https") << u"https://auth.example.com/authorize?client_id=a&state=b"_qs;
        QTest::newRow("http loopback") << u"http://127.0.0.1:8080/authorize"_qs;
        QTest::newRow("uppercase scheme") << u"HTTPS://Auth.Example.com/authorize"_qs;
        QTest::newRow("ipv6 literal") << u"http://[::1]:9000/authorize"_qs;
    }

    void checkOpenableAcceptsHttpAndHttps()
    {
        QFETCH(QString, url);
        const auto openable = BrowserLauncher::checkOpenable(QUrl(url, QUrl::StrictMode));
        QVERIFY2(openable.ok(), qPrintable(why(openable)));
    }

    void checkOpenableRefusesEverythingElse_data()
    {
        QTest::addColumn<QString>("url");
        QTest::newRow("file") << u"file:///etc/passwd"_qs;
        QTest::newRow("file with host") << u"file://localhost/etc/passwd"_qs;
        QTest::newRow("javascript") << u"javascript:alert(document.cookie)"_qs;
        QTest::newRow("javascript with slashes") << u"javascript://auth.example.com/%0Aalert(1)"_qs;
        QTest::newRow("data") << u"data:text/html,%3Cscript%3Ealert(1)%3C/script%3E"_qs;
        QTest::newRow("mailto") << u"mailto:someone@example.com"_qs;
        QTest::newRow("ftp") << u"ftp://files.example.com/authorize"_qs;
        QTest::newRow("custom scheme") << u"x-helper://run?cmd=calc"_qs;
        QTest::newRow("relative path") << u"/authorize?state=x"_qs;
        QTest::newRow("relative host-like") << u"auth.example.com/authorize"_qs;
        QTest::newRow("scheme-relative") << u"//auth.example.com/authorize"_qs;
        QTest::newRow("https without host") << u"https:///authorize"_qs;
        QTest::newRow("http without host") << u"http:authorize"_qs;
        QTest::newRow("empty") << QString();
        QTest::newRow("invalid") << u"https://auth example.com/"_qs;
    }

    void checkOpenableRefusesEverythingElse()
    {
        QFETCH(QString, url);
        const auto openable = BrowserLauncher::checkOpenable(QUrl(url, QUrl::StrictMode));
        QVERIFY2(!openable.ok(), qPrintable(url));
        QCOMPARE(openable.error().kind, Error::Kind::InvalidInput);
        QVERIFY2(openable.error().message.contains(u"http and https"_qs),
                 qPrintable(openable.error().message));
    }

    void openPassesTheUrlAsExactlyOneUnchangedArgument_data()
    {
        QTest::addColumn<QString>("url");
        QTest::newRow("plain") << u"https://auth.example.com/authorize?client_id=abc&state=xyz"_qs;
        // Spaces, quotes, ';', '$()' and backticks, percent-encoded as an authorization URL has
        // them: a shell would not see them, but a program that decodes would.
        QTest::newRow("encoded shell characters")
                << u"https://auth.example.com/authorize?redirect_uri=http%3A%2F%2F127.0.0.1%3A5"
                   "000%2Fcallback&scope=read%20write&state=a%22b%27c%3Bd%24(id)%60e%60"_qs;
        // The same characters as they may stand in a query unencoded: sub-delims that a shell
        // would take as a command separator, a substitution or an end of quote.
        QTest::newRow("raw sub-delims")
                << u"https://auth.example.com/authorize?x=1;touch+pwned&y=$(id)&z='q'&w=a*b"_qs;
        QTest::newRow("leading dash in query") << u"https://auth.example.com/a?--help=-x"_qs;
    }

    void openPassesTheUrlAsExactlyOneUnchangedArgument()
    {
        QFETCH(QString, url);
        const QString browser = writeRecordingBrowser();
        QVERIFY(!browser.isEmpty());
        qputenv("BROWSER", QFile::encodeName(browser));

        const QUrl target(url, QUrl::StrictMode);
        QVERIFY2(target.isValid(), qPrintable(target.errorString()));
        const auto opened = SystemBrowser().open(target);
        QVERIFY2(opened.ok(), qPrintable(why(opened)));

        QTRY_COMPARE(finishedCalls(), 1);
        const QList<QStringList> got = calls();
        QCOMPARE(got.first(), QStringList{target.toString(QUrl::FullyEncoded)});
        // What the authorization server gets is what the broker built: nothing decoded or
        // re-encoded on the way.
        QCOMPARE(QUrl(got.first().first(), QUrl::StrictMode), target);
        QCOMPARE(got.first().first(), url);
        // No shell ran the query: nothing it names was created.
        QVERIFY(!QFileInfo::exists(u"pwned"_qs));
        QVERIFY(!QFileInfo::exists(m_dir->filePath(u"pwned"_qs)));
    }

    void openTakesTheFirstBrowserOfTheListThatExists()
    {
        const QString browser = writeRecordingBrowser();
        qputenv("BROWSER",
                QFile::encodeName(m_dir->filePath(u"no-such-browser"_qs) + u':' + browser));
        const QUrl target(u"https://auth.example.com/authorize?state=s"_qs);
        const auto opened = SystemBrowser().open(target);
        QVERIFY2(opened.ok(), qPrintable(why(opened)));
        QTRY_COMPARE(finishedCalls(), 1);
        QCOMPARE(calls().first(), QStringList{target.toString(QUrl::FullyEncoded)});
    }

    void refusedUrlNeverStartsTheBrowser_data() { checkOpenableRefusesEverythingElse_data(); }

    void refusedUrlNeverStartsTheBrowser()
    {
        QFETCH(QString, url);
        const QString browser = writeRecordingBrowser();
        qputenv("BROWSER", QFile::encodeName(browser));

        const auto opened = SystemBrowser().open(QUrl(url, QUrl::StrictMode));
        QVERIFY(!opened.ok());
        QCOMPARE(opened.error().kind, Error::Kind::InvalidInput);

        // Then a good URL: once its run has finished, a run started before it for the refused
        // URL would have left its file too.
        const QUrl good(u"https://auth.example.com/authorize?after=refusal"_qs);
        QVERIFY(SystemBrowser().open(good).ok());
        QTRY_COMPARE(finishedCalls(), 1);
        QCOMPARE(callFiles().size(), 1);
        QCOMPARE(calls().first(), QStringList{good.toString(QUrl::FullyEncoded)});
    }

    void noBrowserAnywhereIsNotFoundWithASentence()
    {
        qputenv("BROWSER",
                QFile::encodeName(m_dir->filePath(u"no-such-browser"_qs)) + ":firefox-x");
        qputenv("PATH", QByteArray(""));
        const auto opened
                = SystemBrowser().open(QUrl(u"https://auth.example.com/authorize?state=s"_qs));
        QVERIFY(!opened.ok());
        QCOMPARE(opened.error().kind, Error::Kind::NotFound);
        const QString message = opened.error().message;
        QVERIFY2(message.contains(u"browser"_qs), qPrintable(message));
        QVERIFY2(message.contains(u"$BROWSER"_qs), qPrintable(message));
        QVERIFY2(message.endsWith(u'.'), qPrintable(message));
        QVERIFY(callFiles().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestBrowserLauncher)
#include "tst_browserlauncher.moc"
