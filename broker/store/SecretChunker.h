#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace mcpbroker::store {

// Splits a secret into pieces small enough for Windows Credential Manager (which limits the size
// of one entry) and joins them back. SecretStore uses it on Windows only; elsewhere a secret is
// one keychain entry. Pure functions, no keychain access.
//
// The first chunk starts with a header "mcpb-chunks:1:<count>:<length>\n" followed by the first
// bytes of the value; chunks 1…count-1 are raw bytes. Every chunk is at most kChunkSize bytes,
// and there are at most kMaxChunks of them. Chunk i is stored under chunkKey(key, i): "key",
// "key.1", "key.2", …
namespace SecretChunker {

inline constexpr int kChunkSize = 2048;
inline constexpr int kMaxChunks = 64;

// The largest value split() accepts.
qsizetype maxValueSize();

// InvalidInput when the value is larger than maxValueSize().
Result<QList<QByteArray>> split(const QByteArray &value);

// How many chunks the value whose first chunk this is has (1…kMaxChunks); InvalidInput when the
// first chunk has no valid header (the entry was not written by split()).
Result<int> chunkCount(const QByteArray &firstChunk);

// The value back; InvalidInput when the chunks do not fit together (wrong count, wrong total
// length, a chunk too large, no header).
Result<QByteArray> join(const QList<QByteArray> &chunks);

QString chunkKey(const QString &key, int index);

} // namespace SecretChunker
} // namespace mcpbroker::store
