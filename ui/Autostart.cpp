#include "Autostart.h"

#include "store/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>

#if defined(Q_OS_WIN)
#include <QSettings>
#endif

namespace mcpbroker::ui {

namespace {

Error invalidInput(QString message)
{
    return Error::make(Error::Kind::InvalidInput, std::move(message));
}

Error ioError(QString message)
{
    return Error::make(Error::Kind::Io, std::move(message));
}

// The entry must start a program that is there: a relative path would depend on the folder the
// session starts in, and a missing one would fail silently at every login.
Result<void> checkExecutable(const QString &executablePath)
{
    if (executablePath.isEmpty() || !QDir::isAbsolutePath(executablePath)) {
        return invalidInput(QStringLiteral("Start at login needs the full path of the mcp-broker "
                                           "program, not \"%1\".")
                                    .arg(executablePath));
    }
    const QFileInfo info(executablePath);
    if (!info.isFile() || !info.isExecutable()) {
        return invalidInput(QStringLiteral("Start at login cannot use %1: there is no program "
                                           "there. Reinstall MCP Broker and try again.")
                                    .arg(QDir::toNativeSeparators(executablePath)));
    }
    return {};
}

#if defined(Q_OS_MACOS)

// launchd starts every plist in ~/Library/LaunchAgents at login; RunAtLoad runs it right away.
const QString kLabel = QStringLiteral("dev.mcp-broker");

QString launchAgentPath()
{
    return QDir::homePath() + QStringLiteral("/Library/LaunchAgents/") + kLabel
            + QStringLiteral(".plist");
}

QByteArray launchAgentPlist(const QString &executablePath)
{
    const QString plist = QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                         "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
                                         "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
                                         "<plist version=\"1.0\">\n"
                                         "<dict>\n"
                                         "\t<key>Label</key>\n"
                                         "\t<string>%1</string>\n"
                                         "\t<key>ProgramArguments</key>\n"
                                         "\t<array>\n"
                                         "\t\t<string>%2</string>\n"
                                         "\t\t<string>tray</string>\n"
                                         "\t</array>\n"
                                         "\t<key>RunAtLoad</key>\n"
                                         "\t<true/>\n"
                                         "\t<key>ProcessType</key>\n"
                                         "\t<string>Interactive</string>\n"
                                         "\t<key>LimitLoadToSessionType</key>\n"
                                         "\t<string>Aqua</string>\n"
                                         "</dict>\n"
                                         "</plist>\n");
    return plist.arg(kLabel, executablePath.toHtmlEscaped()).toUtf8();
}

#elif defined(Q_OS_WIN)

const QString kRunKey
        = QStringLiteral("HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run");
const QString kRunValue = QStringLiteral("MCP Broker");

#else

// XDG Autostart: $XDG_CONFIG_HOME/autostart wins over the same file name in $XDG_CONFIG_DIRS.
const QString kEntryName = QStringLiteral("/autostart/mcp-broker.desktop");

QString configHome()
{
    // The Base Directory spec ignores relative paths in these variables.
    const QString configured = qEnvironmentVariable("XDG_CONFIG_HOME");
    if (QDir::isAbsolutePath(configured))
        return configured;
    return QDir::homePath() + QStringLiteral("/.config");
}

QStringList systemEntryPaths()
{
    QStringList dirs = qEnvironmentVariable("XDG_CONFIG_DIRS").split(QLatin1Char(':'));
    dirs.removeIf([](const QString &dir) { return !QDir::isAbsolutePath(dir); });
    if (dirs.isEmpty())
        dirs = {QStringLiteral("/etc/xdg")};
    QStringList paths;
    for (const QString &dir : std::as_const(dirs))
        paths << dir + kEntryName;
    return paths;
}

// Desktop Entry spec, "The Exec key": an argument holding a reserved character is put in double
// quotes, and inside them ", `, $ and \ get a backslash; a literal % is always written %%.
QString quoteExecArgument(const QString &argument)
{
    static const QString reserved = QStringLiteral(" \t\n\"'\\><~|&;$*?#()`");
    const QString percentEscaped
            = QString(argument).replace(QLatin1Char('%'), QStringLiteral("%%"));
    const bool needsQuotes = std::any_of(argument.cbegin(), argument.cend(),
                                         [](QChar c) { return reserved.contains(c); });
    if (!needsQuotes)
        return percentEscaped;
    QString quoted = QStringLiteral("\"");
    for (const QChar c : percentEscaped) {
        if (c == QLatin1Char('"') || c == QLatin1Char('`') || c == QLatin1Char('$')
            || c == QLatin1Char('\\')) {
            quoted += QLatin1Char('\\');
        }
        quoted += c;
    }
    return quoted + QLatin1Char('"');
}

// The escapes of a "string" value, applied after the Exec quoting (so a literal backslash in a
// quoted argument ends up as four).
QString escapeStringValue(const QString &value)
{
    QString escaped;
    for (const QChar c : value) {
        if (c == QLatin1Char('\\'))
            escaped += QStringLiteral("\\\\");
        else if (c == QLatin1Char('\n'))
            escaped += QStringLiteral("\\n");
        else if (c == QLatin1Char('\t'))
            escaped += QStringLiteral("\\t");
        else if (c == QLatin1Char('\r'))
            escaped += QStringLiteral("\\r");
        else
            escaped += c;
    }
    return escaped;
}

// installer/install.sh --autostart writes the same bytes: keep the two in step.
QByteArray desktopEntry(const QString &executablePath)
{
    const QString exec = quoteExecArgument(executablePath) + QStringLiteral(" tray");
    return QStringLiteral("[Desktop Entry]\n"
                          "Type=Application\n"
                          "Name=MCP Broker\n"
                          "Comment=Credential broker for MCP clients, in the tray\n"
                          "Exec=%1\n"
                          "TryExec=%2\n"
                          "Icon=mcp-broker\n"
                          "Terminal=false\n"
                          "X-GNOME-Autostart-enabled=true\n")
            .arg(escapeStringValue(exec), escapeStringValue(executablePath))
            .toUtf8();
}

// Written over the user's copy to switch off an entry that an administrator installed for
// everyone (XDG Autostart spec: Hidden=true in the user's folder wins).
QByteArray hiddenDesktopEntry()
{
    return QByteArrayLiteral("[Desktop Entry]\n"
                             "Type=Application\n"
                             "Name=MCP Broker\n"
                             "Hidden=true\n");
}

// True when the entry's [Desktop Entry] group switches it off: Hidden=true (the spec) or
// X-GNOME-Autostart-enabled=false (what GNOME's own "Startup Applications" writes).
bool entrySwitchedOff(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return true;
    bool inMainGroup = false;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        if (line.startsWith('[')) {
            inMainGroup = line == "[Desktop Entry]";
            continue;
        }
        const qsizetype equals = line.indexOf('=');
        if (!inMainGroup || equals < 0)
            continue;
        const QByteArray key = line.left(equals).trimmed();
        const QByteArray value = line.mid(equals + 1).trimmed();
        if ((key == "Hidden" && value == "true")
            || (key == "X-GNOME-Autostart-enabled" && value == "false")) {
            return true;
        }
    }
    return false;
}

// The file that decides what happens at login: the user's, else the first system-wide one.
QString effectiveEntryPath()
{
    if (QFileInfo::exists(Autostart::entryPath()))
        return Autostart::entryPath();
    for (const QString &path : systemEntryPaths()) {
        if (QFileInfo::exists(path))
            return path;
    }
    return {};
}

bool systemEntryExists()
{
    const QStringList paths = systemEntryPaths();
    return std::any_of(paths.cbegin(), paths.cend(),
                       [](const QString &path) { return QFileInfo::exists(path); });
}

#endif

#if !defined(Q_OS_WIN)

Result<void> removeEntryFile(const QString &path)
{
    QFile file(path);
    if (!file.exists() || file.remove())
        return {};
    return ioError(QStringLiteral("Could not turn off start at login: removing %1 failed (%2). "
                                  "Check the permissions of its folder, or delete the file.")
                           .arg(QDir::toNativeSeparators(path), file.errorString()));
}

#endif

} // namespace

namespace Autostart {

QString entryPath()
{
#if defined(Q_OS_MACOS)
    return launchAgentPath();
#elif defined(Q_OS_WIN)
    return kRunKey + QLatin1Char('\\') + kRunValue;
#else
    return configHome() + kEntryName;
#endif
}

bool isEnabled()
{
#if defined(Q_OS_MACOS)
    return QFileInfo(launchAgentPath()).isFile();
#elif defined(Q_OS_WIN)
    return QSettings(kRunKey, QSettings::NativeFormat).contains(kRunValue);
#else
    const QString path = effectiveEntryPath();
    return !path.isEmpty() && QFileInfo(path).isFile() && !entrySwitchedOff(path);
#endif
}

Result<void> setEnabled(bool enabled, const QString &executablePath)
{
    if (enabled) {
        if (auto usable = checkExecutable(executablePath); !usable)
            return usable;
    }
#if defined(Q_OS_MACOS)
    if (!enabled)
        return removeEntryFile(launchAgentPath());
    return store::AtomicFile::write(launchAgentPath(), launchAgentPlist(executablePath));
#elif defined(Q_OS_WIN)
    QSettings run(kRunKey, QSettings::NativeFormat);
    if (enabled) {
        run.setValue(kRunValue,
                     QStringLiteral("\"%1\" tray").arg(QDir::toNativeSeparators(executablePath)));
    } else {
        run.remove(kRunValue);
    }
    run.sync();
    if (run.status() != QSettings::NoError) {
        return ioError(QStringLiteral("Could not change start at login: Windows did not let MCP "
                                      "Broker write %1. Check the permissions of that registry "
                                      "key.")
                               .arg(kRunKey));
    }
    return {};
#else
    if (!enabled) {
        if (systemEntryExists())
            return store::AtomicFile::write(entryPath(), hiddenDesktopEntry());
        return removeEntryFile(entryPath());
    }
    if (executablePath.contains(QLatin1Char('='))) {
        return invalidInput(QStringLiteral("Start at login cannot use %1: desktop entries do not "
                                           "allow '=' in a program's path. Move MCP Broker to a "
                                           "folder without '=' and try again.")
                                    .arg(executablePath));
    }
    return store::AtomicFile::write(entryPath(), desktopEntry(executablePath));
#endif
}

} // namespace Autostart
} // namespace mcpbroker::ui
