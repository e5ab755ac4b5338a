#include "oauth/BrowserLauncher.h"

#include "Logging.h"

#include <QProcess>
#include <QStandardPaths>

namespace mcpbroker::oauth {

namespace {

// Program and leading arguments; the URL is appended as one more argument.
QStringList browserCommand()
{
    const QString fromEnvironment = qEnvironmentVariable("BROWSER");
    for (const QString &candidate : fromEnvironment.split(QLatin1Char(':'), Qt::SkipEmptyParts)) {
        const QString program = QStandardPaths::findExecutable(candidate.trimmed());
        if (!program.isEmpty())
            return {program};
    }
#if defined(Q_OS_WIN)
    return {QStringLiteral("rundll32.exe"), QStringLiteral("url.dll,FileProtocolHandler")};
#elif defined(Q_OS_MACOS)
    return {QStringLiteral("/usr/bin/open")};
#else
    const QString xdgOpen = QStandardPaths::findExecutable(QStringLiteral("xdg-open"));
    return xdgOpen.isEmpty() ? QStringList() : QStringList{xdgOpen};
#endif
}

} // namespace

Result<void> BrowserLauncher::checkOpenable(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || url.host().isEmpty()
        || (scheme != QLatin1String("https") && scheme != QLatin1String("http")))
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("MCP Broker opens only http and https pages in the "
                                          "browser; the sign-in page it was given is neither."));
    return {};
}

Result<void> SystemBrowser::open(const QUrl &url)
{
    if (auto openable = checkOpenable(url); !openable)
        return openable;
    QStringList command = browserCommand();
    if (command.isEmpty())
        return Error::make(Error::Kind::NotFound,
                           QStringLiteral("No web browser was found (set $BROWSER or install "
                                          "xdg-utils)."));
    const QString program = command.takeFirst();
    command.append(url.toString(QUrl::FullyEncoded));
    if (!QProcess::startDetached(program, command))
        return Error::make(Error::Kind::Generic,
                           QStringLiteral("The web browser %1 could not be started.").arg(program));
    qCInfo(lcOAuth).noquote() << "Opened the sign-in page of" << url.host() << "with" << program;
    return {};
}

} // namespace mcpbroker::oauth
