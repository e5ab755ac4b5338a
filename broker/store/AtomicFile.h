#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>

namespace mcpbroker::store {

// Whole-file writes that either happen completely or not at all: write a temporary file in the
// same directory, fsync it, rename it over the target (and fsync the directory). Creates the
// parent directory (mode 0700) when missing. New files get mode 0600.
namespace AtomicFile {

Result<void> write(const QString &path, const QByteArray &contents);

// Creates `dir` and every missing parent with mode 0700 (Unix); existing folders are left as
// they are.
Result<void> makePrivateDirectories(const QString &dir);

// Copies `path` to "<path>.bak-<yyyyMMdd-HHmmss>" (atomically) before a rewrite of a file that
// another program owns; returns the backup's path. No-op returning "" when `path` is missing.
Result<QString> backup(const QString &path);
// The same with another tag: "<path>.<tag>-<yyyyMMdd-HHmmss>".
Result<QString> backup(const QString &path, const QString &tag);

// Keeps a byte-identical copy of a file that cannot be used (corrupt) next to it,
// "<path>.corrupt-<yyyyMMdd-HHmmss>", so that what it held survives whatever happens to it next;
// returns the copy's path. An earlier copy with the same bytes is reused rather than repeated
// at every start.
Result<QString> keepCorruptCopy(const QString &path);

} // namespace AtomicFile
} // namespace mcpbroker::store
