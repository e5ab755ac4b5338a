#pragma once

#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcApp)

namespace mcpbroker::app {

// Logs go to stderr with a time stamp. A one-shot command (add, list, …) reports every outcome
// itself as a sentence, so it keeps the broker's info and warning lines out of its output;
// QT_LOGGING_RULES (e.g. "mcpbroker.*=true") brings them back for debugging.
void configureLogging(bool oneShotCommand);

} // namespace mcpbroker::app
