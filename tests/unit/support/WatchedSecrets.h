// The one LogWatch of a test executable that checks every log line of the process (install it
// for the whole test class, see LogWatch.h), and the secrets a test makes for it to watch.

#pragma once

#include "LogWatch.h"

#include <QByteArray>

inline LogWatch g_logWatch;

// A fresh secret value, "<what>_<uuid>", that no log line may hold from now on.
inline QByteArray secret(const char *what)
{
    return g_logWatch.newSecret(what);
}
