#include "AppLogging.h"

Q_LOGGING_CATEGORY(lcApp, "mcpbroker.app", QtInfoMsg)

namespace mcpbroker::app {

void configureLogging(bool oneShotCommand)
{
    // QT_MESSAGE_PATTERN and QT_LOGGING_RULES, when set, take precedence over both.
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-dd hh:mm:ss.zzz} "
                                      "%{if-warning}warning %{endif}%{if-critical}critical %{endif}"
                                      "%{if-fatal}fatal %{endif}%{category}: %{message}"));
    if (oneShotCommand)
        QLoggingCategory::setFilterRules(QStringLiteral("mcpbroker.*.info=false\n"
                                                        "mcpbroker.*.warning=false"));
}

} // namespace mcpbroker::app
