#pragma once

// What every fuzz target uses: a property check that fails like a crash (so libFuzzer keeps
// the input), and ways to cut one input into chunks as a network would.

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace mcpbroker::fuzz {

// A broken property: print why and abort, which libFuzzer reports as a crash with the input.
[[noreturn]] inline void propertyFailed(const char *file, int line, const char *condition)
{
    std::fprintf(stderr, "%s:%d: property failed: %s\n", file, line, condition);
    std::abort();
}

#define FUZZ_CHECK(condition) \
    do { \
        if (!(condition)) \
            ::mcpbroker::fuzz::propertyFailed(__FILE__, __LINE__, #condition); \
    } while (false)

inline QByteArrayView bytesOf(const uint8_t *data, size_t size)
{
    return QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(size));
}

// Chunk sizes for `size` bytes from a small PRNG seeded by the input itself: the same input
// always splits the same way (a crash reproduces), different inputs split differently.
// Chunks are 1 to 16 bytes long, so every parser state sees a boundary sooner or later.
inline QList<qsizetype> chunkSizes(QByteArrayView bytes)
{
    uint64_t state = 0x9E3779B97F4A7C15ull ^ uint64_t(bytes.size());
    for (char c : bytes)
        state = (state ^ uint8_t(c)) * 0x100000001B3ull; // FNV-1a
    QList<qsizetype> sizes;
    for (qsizetype left = bytes.size(); left > 0;) {
        state = state * 6364136223846793005ull + 1442695040888963407ull; // LCG (Knuth)
        const qsizetype size = qMin(left, qsizetype(1 + ((state >> 33) % 16)));
        sizes.append(size);
        left -= size;
    }
    return sizes;
}

} // namespace mcpbroker::fuzz
