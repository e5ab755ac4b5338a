#pragma once

#include "TrayState.h"

#include <QList>
#include <QString>

namespace mcpbroker::ui {

// The tray messages a change of state deserves: a server that now needs sign-in (including a
// refresh that failed and left it signed out), a server that failed, a new client that was
// allowed. Pure: compares the state before and after. The first state after start-up tells
// nothing (`before` empty) except servers already needing sign-in.
struct TrayNotification
{
    enum class Severity { Information, Warning, Critical };
    QString title;
    QString message;
    Severity severity = Severity::Information;
    QString serverName; // the server it is about, if any: clicking it offers Sign in
};

QList<TrayNotification> notificationsBetween(const TrayState *before, const TrayState &after);

} // namespace mcpbroker::ui
