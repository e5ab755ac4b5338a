// Server-sent event streams (broker/mcp/SseParser): what an upstream MCP server sends on a
// text/event-stream response, read by StreamableHttpClient and `mcp-broker stdio`. Properties,
// besides no crash, UB or leak:
// - the stream gives the same events, last event ID and retry time whether it arrives at once,
//   one byte at a time or in random chunks;
// - with a small buffer bound the parser stops (failed()) instead of growing, and then returns
//   nothing more until restartStream(), which keeps the last event ID;
// - an event the broker writes (http/SseEvent) reads back as the same event: the same bytes
//   taken as id, event type, retry and data.

#include "FuzzSupport.h"

#include "http/SseEvent.h"
#include "mcp/SseParser.h"

#include <fuzzer/FuzzedDataProvider.h>

using mcpbroker::http::SseEvent;
using mcpbroker::mcp::SseParser;

namespace {

struct Outcome
{
    QList<QByteArray> events; // type, id and data of each event
    QString lastEventId;
    qint64 retryMs = -1;

    bool operator==(const Outcome &other) const = default;
};

Outcome parseInChunks(QByteArrayView stream, const QList<qsizetype> &sizes)
{
    SseParser parser;
    Outcome outcome;
    qsizetype offset = 0;
    for (const qsizetype size : sizes) {
        for (const SseParser::Event &event : parser.feed(stream.sliced(offset, size))) {
            FUZZ_CHECK(!event.type.isEmpty());
            outcome.events.append(event.type.toUtf8() + '\0' + event.lastEventId.toUtf8() + '\0'
                                  + event.data);
        }
        offset += size;
    }
    FUZZ_CHECK(!parser.failed());
    outcome.lastEventId = parser.lastEventId();
    outcome.retryMs = parser.retryMs().value_or(-1);
    return outcome;
}

void checkBufferBound(QByteArrayView stream)
{
    constexpr qsizetype kBound = 64;
    SseParser parser(kBound);
    const QList<qsizetype> sizes = mcpbroker::fuzz::chunkSizes(stream);
    qsizetype offset = 0;
    for (const qsizetype size : sizes) {
        const bool failedBefore = parser.failed();
        const QList<SseParser::Event> events = parser.feed(stream.sliced(offset, size));
        offset += size;
        FUZZ_CHECK(!failedBefore || events.isEmpty());
        for (const SseParser::Event &event : events)
            FUZZ_CHECK(event.data.size() <= kBound + 16);
    }
    const QString lastEventId = parser.lastEventId();
    parser.restartStream();
    FUZZ_CHECK(!parser.failed() && parser.lastEventId() == lastEventId);
    parser.feed(stream);
}

// The line ends a reader sees in `data`: CRLF and CR read as LF.
QByteArray withLfLineEnds(QByteArray data)
{
    return data.replace("\r\n", "\n").replace('\r', '\n');
}

QByteArray withoutLineBreaksAndNul(QByteArray value)
{
    return value.replace('\r', QByteArray())
            .replace('\n', QByteArray())
            .replace('\0', QByteArray());
}

void checkRoundTrip(const uint8_t *data, size_t size)
{
    FuzzedDataProvider provider(data, size);
    SseEvent written;
    written.id = QByteArray::fromStdString(provider.ConsumeRandomLengthString(64));
    written.event = QByteArray::fromStdString(provider.ConsumeRandomLengthString(64));
    written.retryMs = provider.ConsumeIntegralInRange(-1, 1 << 30);
    written.data = QByteArray::fromStdString(provider.ConsumeRemainingBytesAsString());

    SseParser parser;
    const QList<SseParser::Event> events = parser.feed(written.serialize());
    FUZZ_CHECK(events.size() == 1);
    const SseParser::Event &read = events.first();
    FUZZ_CHECK(read.data == withLfLineEnds(written.data));
    const QByteArray type = withoutLineBreaksAndNul(written.event);
    FUZZ_CHECK(read.type == (type.isEmpty() ? QStringLiteral("message") : QString::fromUtf8(type)));
    FUZZ_CHECK(read.lastEventId == QString::fromUtf8(withoutLineBreaksAndNul(written.id)));
    FUZZ_CHECK(parser.retryMs().value_or(-1) == written.retryMs);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView stream = mcpbroker::fuzz::bytesOf(data, size);
    const Outcome whole
            = parseInChunks(stream, size ? QList<qsizetype>{stream.size()} : QList<qsizetype>{});
    FUZZ_CHECK(parseInChunks(stream, QList<qsizetype>(stream.size(), 1)) == whole);
    FUZZ_CHECK(parseInChunks(stream, mcpbroker::fuzz::chunkSizes(stream)) == whole);
    checkBufferBound(stream);
    checkRoundTrip(data, size);
    return 0;
}
