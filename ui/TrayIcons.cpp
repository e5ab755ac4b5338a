#include "TrayIcons.h"

#include <mutex>

// Q_INIT_RESOURCE must be used outside any namespace; the icons live in a static library, so
// nothing else would pull them into the executable.
static void initIconResources()
{
    Q_INIT_RESOURCE(icons);
}

namespace mcpbroker::ui::TrayIcons {

namespace {

void ensureResources()
{
    static std::once_flag once;
    std::call_once(once, initIconResources);
}

} // namespace

QString resourcePath(OverallState state)
{
    ensureResources();
    switch (state) {
    case OverallState::Ok:
        return QStringLiteral(":/icons/tray-ok.svg");
    case OverallState::Connecting:
        return QStringLiteral(":/icons/tray-connecting.svg");
    case OverallState::NeedsSignIn:
        return QStringLiteral(":/icons/tray-needs-sign-in.svg");
    case OverallState::Error:
        return QStringLiteral(":/icons/tray-error.svg");
    case OverallState::Paused:
        return QStringLiteral(":/icons/tray-paused.svg");
    }
    return QStringLiteral(":/icons/mcp-broker.svg");
}

QIcon forState(OverallState state)
{
    return QIcon(resourcePath(state));
}

QIcon forServer(const ServerEntry &server)
{
    using State = Broker::ServerStatus::State;
    using SignIn = Broker::ServerStatus::SignIn;
    // A disabled server shows the paused (grey) badge: it is off on purpose.
    if (server.state == State::Disabled)
        return forState(OverallState::Paused);
    if (server.state == State::Failed)
        return forState(OverallState::Error);
    if (server.signIn == SignIn::SigningIn)
        return forState(OverallState::Connecting);
    if (server.needsSignIn)
        return forState(OverallState::NeedsSignIn);
    if (server.state == State::Connecting)
        return forState(OverallState::Connecting);
    return forState(OverallState::Ok);
}

QIcon application()
{
    ensureResources();
    return QIcon(QStringLiteral(":/icons/mcp-broker.svg"));
}

} // namespace mcpbroker::ui::TrayIcons
