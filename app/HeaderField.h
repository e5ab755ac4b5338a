#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>

namespace mcpbroker::app {

// Checks of what `add` puts into an upstream request's headers. Messages never contain a value.
namespace HeaderField {
// An RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~.
Result<void> validateName(const QString &name);
// RFC 9110 field value: no control characters (CR, LF, NUL…) except tab, and not empty.
// `what` names the value in the error: "the bearer token", "the value of header X-Api-Key".
Result<void> validateValue(const QByteArray &value, const QString &what);
} // namespace HeaderField

} // namespace mcpbroker::app
