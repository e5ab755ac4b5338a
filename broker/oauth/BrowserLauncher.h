#pragma once

#include "Result.h"

#include <QUrl>

namespace mcpbroker::oauth {

// Shows the user an authorization page in their web browser. Only http and https URLs are
// ever opened, and never through a shell. Tests put a launcher of their own in its place, or
// point $BROWSER at a script that completes the sign-in.
class BrowserLauncher
{
public:
    virtual ~BrowserLauncher() = default;
    virtual Result<void> open(const QUrl &url) = 0;

    // InvalidInput unless `url` is an absolute http or https URL with a host.
    static Result<void> checkOpenable(const QUrl &url);
};

// The system browser of a process without a GUI: the first program of $BROWSER (a list
// separated by ':', as xdg-open reads it) that exists, else xdg-open (Linux), open (macOS) or
// the URL handler of Windows, started detached with the URL as its only argument. The tray app
// uses QDesktopServices instead.
class SystemBrowser : public BrowserLauncher
{
public:
    Result<void> open(const QUrl &url) override;
};

} // namespace mcpbroker::oauth
