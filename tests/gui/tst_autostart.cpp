// "Start at login" on Linux: the XDG Autostart entry that Autostart writes, read back with an
// independent reader of the Desktop Entry spec and checked by desktop-file-validate.

#include "Autostart.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace mcpbroker;
using namespace mcpbroker::ui;

namespace {

// String-value escapes of the Desktop Entry spec (\s \n \t \r \\).
QString unescapeString(const QString &value)
{
    QString out;
    for (qsizetype i = 0; i < value.size(); ++i) {
        if (value[i] != QLatin1Char('\\') || i + 1 == value.size()) {
            out += value[i];
            continue;
        }
        const QChar next = value[++i];
        if (next == QLatin1Char('s'))
            out += QLatin1Char(' ');
        else if (next == QLatin1Char('n'))
            out += QLatin1Char('\n');
        else if (next == QLatin1Char('t'))
            out += QLatin1Char('\t');
        else if (next == QLatin1Char('r'))
            out += QLatin1Char('\r');
        else if (next == QLatin1Char('\\'))
            out += QLatin1Char('\\');
        else
            out += QStringLiteral("\\") + next; // left for the Exec rules
    }
    return out;
}

// The Exec key's arguments after undoing its quoting and %% (the spec's "The Exec key"), or
// nothing when the quoting is broken.
std::optional<QStringList> splitExec(const QString &exec)
{
    QStringList arguments;
    QString current;
    bool inArgument = false;
    bool quoted = false;
    for (qsizetype i = 0; i < exec.size(); ++i) {
        const QChar c = exec[i];
        if (quoted) {
            if (c == QLatin1Char('"')) {
                quoted = false;
            } else if (c == QLatin1Char('\\')) {
                if (i + 1 == exec.size() || !QStringLiteral("\"`$\\").contains(exec[i + 1]))
                    return std::nullopt;
                current += exec[++i];
            } else {
                current += c;
            }
        } else if (c == QLatin1Char(' ')) {
            if (inArgument)
                arguments << current;
            current.clear();
            inArgument = false;
        } else if (c == QLatin1Char('"')) {
            quoted = true;
            inArgument = true;
        } else {
            current += c;
            inArgument = true;
        }
    }
    if (quoted)
        return std::nullopt;
    if (inArgument)
        arguments << current;
    for (QString &argument : arguments) {
        QString literal;
        for (qsizetype i = 0; i < argument.size(); ++i) {
            if (argument[i] == QLatin1Char('%')) {
                if (i + 1 == argument.size() || argument[i + 1] != QLatin1Char('%'))
                    return std::nullopt; // a field code: we never write one
                ++i;
            }
            literal += argument[i];
        }
        argument = literal;
    }
    return arguments;
}

// The [Desktop Entry] group's keys with their string escapes undone.
QMap<QString, QString> readDesktopEntry(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    QMap<QString, QString> keys;
    bool inMainGroup = false;
    while (!file.atEnd()) {
        const QString line = QString::fromUtf8(file.readLine()).chopped(1);
        if (line.startsWith(QLatin1Char('['))) {
            inMainGroup = line == QLatin1String("[Desktop Entry]");
            continue;
        }
        const qsizetype equals = line.indexOf(QLatin1Char('='));
        if (inMainGroup && equals > 0)
            keys.insert(line.left(equals), unescapeString(line.mid(equals + 1)));
    }
    return keys;
}

QString validatorComplaint(const QString &path)
{
    const QString validator
            = QStandardPaths::findExecutable(QStringLiteral("desktop-file-validate"));
    if (validator.isEmpty())
        return QStringLiteral(
                "desktop-file-validate is missing: run installer/bootstrap.sh --test");
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(validator, {path});
    if (!process.waitForFinished(30000))
        return QStringLiteral("desktop-file-validate did not finish");
    const QString output = QString::fromUtf8(process.readAll());
    // It prints hints (suggestions) with exit code 0; only errors and warnings count.
    if (process.exitCode() != 0 || output.contains(QLatin1String("warning:")))
        return output;
    return {};
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &contents)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(contents) == contents.size();
}

// A stand-in for the installed binary: Autostart wants an executable file at the path.
QString makeProgram(const QString &path)
{
    if (!writeFile(path, QByteArrayLiteral("#!/bin/sh\n")))
        return {};
    QFile(path).setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner
                               | QFileDevice::ExeOwner);
    return path;
}

QStringList filesIn(const QString &dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
}

} // namespace

class TestAutostart : public QObject
{
    Q_OBJECT

private slots:
    void init();

    void entryPathIsInTheUsersAutostartFolder();
    void entryPathFallsBackToDotConfig();
    void enableWritesAValidEntryThatStartsTheTray();
    void execQuotesEveryReservedCharacter_data();
    void execQuotesEveryReservedCharacter();
    void execQuotesAPathWithSpacesInDoubleQuotes();
    void entryIsWhatInstallShWrites();
    void execWritesABackslashAsFourInAQuotedArgument();
    void enablingTwiceLeavesOneIdenticalEntry();
    void disableRemovesTheEntry();
    void disableWhenNothingIsEnabledSucceeds();
    void disableHidesAnEntryInstalledForEveryone();
    void hiddenOrGnomeDisabledEntriesAreNotEnabled_data();
    void hiddenOrGnomeDisabledEntriesAreNotEnabled();
    void enableRefusesAProgramThatIsNotThere();
    void enableRefusesARelativePath();
    void enableRefusesAPathWithAnEqualsSign();
    void unusableAutostartFolderGivesAClearErrorAndWritesNothing();
    void failedReplaceLeavesNoTemporaryFile();
    void failedRemovalGivesAClearError();

private:
    QString autostartDir() const { return m_root->path() + QStringLiteral("/config/autostart"); }
    QString program(const QString &relative) const
    {
        return makeProgram(m_root->path() + QLatin1Char('/') + relative);
    }

    std::optional<QTemporaryDir> m_root;
};

void TestAutostart::init()
{
    m_root.emplace();
    QVERIFY(m_root->isValid());
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_root->path() + QStringLiteral("/config")));
    // Nothing installed for everyone unless a test puts it there.
    qputenv("XDG_CONFIG_DIRS", QFile::encodeName(m_root->path() + QStringLiteral("/system")));
}

void TestAutostart::entryPathIsInTheUsersAutostartFolder()
{
    QCOMPARE(Autostart::entryPath(), autostartDir() + QStringLiteral("/mcp-broker.desktop"));
}

void TestAutostart::entryPathFallsBackToDotConfig()
{
    const QByteArray home = qgetenv("HOME");
    qputenv("HOME", QFile::encodeName(m_root->path()));
    qunsetenv("XDG_CONFIG_HOME");
    const QString unset = Autostart::entryPath();
    qputenv("XDG_CONFIG_HOME", "relative/ignored");
    const QString relative = Autostart::entryPath();
    qputenv("HOME", home);

    const QString expected
            = m_root->path() + QStringLiteral("/.config/autostart/mcp-broker.desktop");
    QCOMPARE(unset, expected);
    QCOMPARE(relative, expected);
}

void TestAutostart::enableWritesAValidEntryThatStartsTheTray()
{
    const QString exe = program(QStringLiteral("My Apps/bin/mcp-broker"));
    QVERIFY(!Autostart::isEnabled());

    const auto enabled = Autostart::setEnabled(true, exe);
    QVERIFY2(enabled.ok(), qPrintable(enabled.ok() ? QString() : enabled.error().message));

    QVERIFY(Autostart::isEnabled());
    const QString complaint = validatorComplaint(Autostart::entryPath());
    QVERIFY2(complaint.isEmpty(), qPrintable(complaint));
    const auto keys = readDesktopEntry(Autostart::entryPath());
    QCOMPARE(keys.value(QStringLiteral("Type")), QStringLiteral("Application"));
    QCOMPARE(keys.value(QStringLiteral("Name")), QStringLiteral("MCP Broker"));
    QCOMPARE(keys.value(QStringLiteral("X-GNOME-Autostart-enabled")), QStringLiteral("true"));
    QCOMPARE(keys.value(QStringLiteral("TryExec")), exe);
    QVERIFY(!keys.contains(QStringLiteral("Hidden")));
    const auto arguments = splitExec(keys.value(QStringLiteral("Exec")));
    QVERIFY(arguments);
    QCOMPARE(*arguments, QStringList({exe, QStringLiteral("tray")}));
}

void TestAutostart::execQuotesEveryReservedCharacter_data()
{
    QTest::addColumn<QString>("folder");
    QTest::newRow("plain") << QStringLiteral("plain");
    QTest::newRow("space and tab") << QStringLiteral("a b\tc");
    QTest::newRow("double quote") << QStringLiteral("say \"hi\"");
    QTest::newRow("single quote") << QStringLiteral("it's");
    QTest::newRow("backslash") << QStringLiteral("back\\slash");
    QTest::newRow("dollar") << QStringLiteral("$HOME");
    QTest::newRow("backtick") << QStringLiteral("`id`");
    QTest::newRow("percent") << QStringLiteral("100%u");
    QTest::newRow("shell operators") << QStringLiteral("a&b;c|d<e>f");
    QTest::newRow("glob and comment") << QStringLiteral("*?#~(x)");
    QTest::newRow("non-ASCII") << QStringLiteral("Programme für Entwickler");
}

void TestAutostart::execQuotesEveryReservedCharacter()
{
    QFETCH(QString, folder);
    const QString exe = program(folder + QStringLiteral("/mcp-broker"));
    QVERIFY(!exe.isEmpty());

    const auto enabled = Autostart::setEnabled(true, exe);
    QVERIFY2(enabled.ok(), qPrintable(enabled.ok() ? QString() : enabled.error().message));

    const QString complaint = validatorComplaint(Autostart::entryPath());
    QVERIFY2(complaint.isEmpty(), qPrintable(complaint));
    const auto keys = readDesktopEntry(Autostart::entryPath());
    const auto arguments = splitExec(keys.value(QStringLiteral("Exec")));
    QVERIFY2(arguments, qPrintable(keys.value(QStringLiteral("Exec"))));
    QCOMPARE(*arguments, QStringList({exe, QStringLiteral("tray")}));
    QCOMPARE(keys.value(QStringLiteral("TryExec")), exe);
}

void TestAutostart::execQuotesAPathWithSpacesInDoubleQuotes()
{
    const QString exe = program(QStringLiteral("My Apps/mcp-broker"));
    QVERIFY(Autostart::setEnabled(true, exe).ok());
    const QList<QByteArray> lines = readAll(Autostart::entryPath()).split('\n');
    QVERIFY(lines.contains("Exec=\"" + QFile::encodeName(exe) + "\" tray"));
}

// installer/install.sh --autostart writes these bytes too (tests/package/check-user-install.sh
// checks that side): change both together.
void TestAutostart::entryIsWhatInstallShWrites()
{
    const QString exe = program(QStringLiteral("home of tester/.local/bin/mcp-broker"));
    QVERIFY(Autostart::setEnabled(true, exe).ok());
    const QString expected
            = QStringLiteral("[Desktop Entry]\n"
                             "Type=Application\n"
                             "Name=MCP Broker\n"
                             "Comment=Credential broker for MCP clients, in the tray\n"
                             "Exec=\"%1\" tray\n"
                             "TryExec=%1\n"
                             "Icon=mcp-broker\n"
                             "Terminal=false\n"
                             "X-GNOME-Autostart-enabled=true\n")
                      .arg(exe);
    QCOMPARE(QString::fromUtf8(readAll(Autostart::entryPath())), expected);
    const auto others = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ReadOther
            | QFileDevice::WriteOther;
    QCOMPARE(QFileInfo(Autostart::entryPath()).permissions() & others, QFileDevice::Permissions());
}

// The spec's own example: a literal backslash in a quoted argument is "\\\\" in the file.
void TestAutostart::execWritesABackslashAsFourInAQuotedArgument()
{
    const QString exe = program(QStringLiteral("a b\\c/mcp-broker"));
    QVERIFY(Autostart::setEnabled(true, exe).ok());
    const QByteArray root = QFile::encodeName(m_root->path());
    const QList<QByteArray> lines = readAll(Autostart::entryPath()).split('\n');
    QVERIFY(lines.contains("Exec=\"" + root + "/a b\\\\\\\\c/mcp-broker\" tray"));
    QVERIFY(lines.contains("TryExec=" + root + "/a b\\\\c/mcp-broker"));
}

void TestAutostart::enablingTwiceLeavesOneIdenticalEntry()
{
    const QString exe = program(QStringLiteral("bin/mcp-broker"));
    QVERIFY(Autostart::setEnabled(true, exe).ok());
    const QByteArray first = readAll(Autostart::entryPath());
    QVERIFY(Autostart::setEnabled(true, exe).ok());

    QCOMPARE(readAll(Autostart::entryPath()), first);
    QCOMPARE(filesIn(autostartDir()), QStringList{QStringLiteral("mcp-broker.desktop")});
    QVERIFY(Autostart::isEnabled());
}

void TestAutostart::disableRemovesTheEntry()
{
    QVERIFY(Autostart::setEnabled(true, program(QStringLiteral("bin/mcp-broker"))).ok());
    QVERIFY(QFileInfo::exists(Autostart::entryPath()));

    const auto disabled = Autostart::setEnabled(false, QString());
    QVERIFY2(disabled.ok(), qPrintable(disabled.ok() ? QString() : disabled.error().message));

    QVERIFY(!QFileInfo::exists(Autostart::entryPath()));
    QVERIFY(filesIn(autostartDir()).isEmpty());
    QVERIFY(!Autostart::isEnabled());
}

void TestAutostart::disableWhenNothingIsEnabledSucceeds()
{
    QVERIFY(Autostart::setEnabled(false, QString()).ok());
    QVERIFY(!QFileInfo::exists(Autostart::entryPath()));
    QVERIFY(!Autostart::isEnabled());
}

void TestAutostart::disableHidesAnEntryInstalledForEveryone()
{
    const QString systemEntry
            = m_root->path() + QStringLiteral("/system/autostart/mcp-broker.desktop");
    const QByteArray systemContents = "[Desktop Entry]\nType=Application\nName=MCP Broker\n"
                                      "Exec=mcp-broker tray\n";
    QVERIFY(writeFile(systemEntry, systemContents));
    QVERIFY(Autostart::isEnabled());

    QVERIFY(Autostart::setEnabled(false, QString()).ok());

    QVERIFY(!Autostart::isEnabled());
    QCOMPARE(readDesktopEntry(Autostart::entryPath()).value(QStringLiteral("Hidden")),
             QStringLiteral("true"));
    QCOMPARE(readAll(systemEntry), systemContents);
    const QString complaint = validatorComplaint(Autostart::entryPath());
    QVERIFY2(complaint.isEmpty(), qPrintable(complaint));

    QVERIFY(Autostart::setEnabled(true, program(QStringLiteral("bin/mcp-broker"))).ok());
    QVERIFY(Autostart::isEnabled());
}

void TestAutostart::hiddenOrGnomeDisabledEntriesAreNotEnabled_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::newRow("Hidden=true") << QByteArrayLiteral("Hidden=true");
    QTest::newRow("X-GNOME-Autostart-enabled=false")
            << QByteArrayLiteral("X-GNOME-Autostart-enabled=false");
}

void TestAutostart::hiddenOrGnomeDisabledEntriesAreNotEnabled()
{
    QFETCH(QByteArray, line);
    QVERIFY(Autostart::setEnabled(true, program(QStringLiteral("bin/mcp-broker"))).ok());
    QVERIFY(writeFile(
            Autostart::entryPath(),
            readAll(Autostart::entryPath()).replace("X-GNOME-Autostart-enabled=true", line)));
    QVERIFY(!Autostart::isEnabled());
}

void TestAutostart::enableRefusesAProgramThatIsNotThere()
{
    const QString missing = m_root->path() + QStringLiteral("/nowhere/mcp-broker");
    const auto enabled = Autostart::setEnabled(true, missing);
    QVERIFY(!enabled.ok());
    QCOMPARE(enabled.error().kind, Error::Kind::InvalidInput);
    QVERIFY2(enabled.error().message.contains(missing), qPrintable(enabled.error().message));
    QVERIFY(!QFileInfo::exists(autostartDir()));
}

void TestAutostart::enableRefusesARelativePath()
{
    const auto enabled = Autostart::setEnabled(true, QStringLiteral("bin/mcp-broker"));
    QVERIFY(!enabled.ok());
    QVERIFY2(enabled.error().message.contains(QLatin1String("full path")),
             qPrintable(enabled.error().message));
    QVERIFY(!QFileInfo::exists(autostartDir()));
}

// The spec does not allow '=' in the program's path, so no entry could start it.
void TestAutostart::enableRefusesAPathWithAnEqualsSign()
{
    const QString exe = program(QStringLiteral("a=b/mcp-broker"));
    const auto enabled = Autostart::setEnabled(true, exe);
    QVERIFY(!enabled.ok());
    QVERIFY2(enabled.error().message.contains(QLatin1String("'='")),
             qPrintable(enabled.error().message));
    QVERIFY(!QFileInfo::exists(autostartDir()));
}

// Runs as root in CI, where permission bits do not stop writes: a file where the folder should
// be makes the folder unusable for everyone.
void TestAutostart::unusableAutostartFolderGivesAClearErrorAndWritesNothing()
{
    const QString exe = program(QStringLiteral("bin/mcp-broker"));
    QVERIFY(writeFile(autostartDir(), "not a folder"));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("^Could not write ")));

    const auto enabled = Autostart::setEnabled(true, exe);

    QVERIFY(!enabled.ok());
    QCOMPARE(enabled.error().kind, Error::Kind::Io);
    const QString message = enabled.error().message;
    QVERIFY2(message.contains(Autostart::entryPath()), qPrintable(message));
    QVERIFY2(message.endsWith(QLatin1Char('.')), qPrintable(message));
    QVERIFY(!message.contains(QLatin1Char('\n')));
    QCOMPARE(readAll(autostartDir()), QByteArrayLiteral("not a folder"));
    QCOMPARE(filesIn(m_root->path() + QStringLiteral("/config")),
             QStringList{QStringLiteral("autostart")});
    QVERIFY(!Autostart::isEnabled());
}

// The temporary file is written, then cannot replace the entry (a folder is in the way): it must
// not be left behind, and the folder must be untouched.
void TestAutostart::failedReplaceLeavesNoTemporaryFile()
{
    const QString exe = program(QStringLiteral("bin/mcp-broker"));
    QVERIFY(QDir().mkpath(Autostart::entryPath()));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("^Could not write ")));

    const auto enabled = Autostart::setEnabled(true, exe);

    QVERIFY(!enabled.ok());
    QVERIFY2(enabled.error().message.contains(Autostart::entryPath()),
             qPrintable(enabled.error().message));
    QCOMPARE(filesIn(autostartDir()), QStringList{QStringLiteral("mcp-broker.desktop")});
    QVERIFY(QFileInfo(Autostart::entryPath()).isDir());
    QVERIFY(!Autostart::isEnabled());
}

void TestAutostart::failedRemovalGivesAClearError()
{
    QVERIFY(writeFile(Autostart::entryPath() + QStringLiteral("/keep"), "x"));

    const auto disabled = Autostart::setEnabled(false, QString());

    QVERIFY(!disabled.ok());
    QCOMPARE(disabled.error().kind, Error::Kind::Io);
    QVERIFY2(
            disabled.error().message.startsWith(QLatin1String("Could not turn off start at login")),
            qPrintable(disabled.error().message));
    QVERIFY2(disabled.error().message.contains(Autostart::entryPath()),
             qPrintable(disabled.error().message));
}

QTEST_GUILESS_MAIN(TestAutostart)
#include "tst_autostart.moc"
