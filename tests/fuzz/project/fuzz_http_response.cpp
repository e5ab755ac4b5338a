// HTTP/1.1 response parsing (broker/http/HttpResponseParser): the bytes an upstream MCP server
// (or anything listening where one was configured) sends back on a kept-alive connection.
// The input is the byte stream of the connection up to the server's close, read once as the
// responses to GET requests and once as the responses to HEAD requests. Properties, besides no
// crash, UB or leak:
// - the same bytes give the same responses, bodies and end (or the same error) whether they
//   arrive at once, one byte at a time, in random chunks or in two pieces split at a point the
//   input chooses, back-to-back responses included;
// - the state only moves forward within a response (Head, Body, then Complete or Error), the
//   head is readable exactly once it is parsed, and no body byte comes before it;
// - a complete response is final (2xx..9xx), has no body to HEAD or as 204/304, has as many
//   bytes as its Content-Length says, and is reusable only when its framing allows;
// - an error has one of the documented lower-case reasons and is sticky, also at the close.

#include "FuzzSupport.h"

#include "http/HttpResponseParser.h"

using mcpbroker::http::HttpResponseParser;
using State = HttpResponseParser::State;

namespace {

// Small limits, so that short inputs reach them.
HttpResponseParser::Limits fuzzLimits()
{
    HttpResponseParser::Limits limits;
    limits.maxHeaderBytes = 1024;
    limits.maxHeaderCount = 16;
    return limits;
}

const QList<QByteArray> &documentedErrorReasons()
{
    static const QList<QByteArray> reasons = {
            "malformed status line",
            "unsupported http version",
            "unexpected protocol switch",
            "obsolete line folding in a header field",
            "header field without a colon",
            "whitespace before a header field's colon",
            "malformed header field name",
            "malformed header field value",
            "response header section too large",
            "too many header fields",
            "invalid content-length",
            "content-length too large",
            "conflicting content-length values",
            "transfer-encoding in an http/1.0 response",
            "chunked applied more than once",
            "malformed chunk size",
            "chunk size too large",
            "chunk size line too long",
            "chunk data longer than its size",
            "the connection closed before the response was complete",
    };
    return reasons;
}

// Elements of a comma-separated field value, trimmed and lower-cased, empty ones dropped.
QList<QByteArray> listElements(const QByteArray &value)
{
    QList<QByteArray> elements;
    for (const QByteArray &part : value.split(',')) {
        const QByteArray element = part.trimmed().toLower();
        if (!element.isEmpty())
            elements.append(element);
    }
    return elements;
}

bool hasNoLineBreakOrNul(const QByteArray &value)
{
    return !value.contains('\r') && !value.contains('\n') && !value.contains('\0');
}

int rank(State state)
{
    switch (state) {
    case State::Head:
        return 0;
    case State::Body:
        return 1;
    case State::Complete:
    case State::Error:
        return 2;
    }
    return -1;
}

class Transcript
{
public:
    explicit Transcript(QByteArrayView method) : m_method(method.toByteArray())
    {
        m_parser.expectResponseTo(m_method);
    }

    void feed(QByteArrayView bytes)
    {
        if (m_parser.state() == State::Error)
            return;
        observe(m_parser.feed(bytes));
    }

    QList<QByteArray> finish()
    {
        const State before = m_parser.state();
        const State state = m_parser.finishAtEof();
        FUZZ_CHECK(state == m_parser.state());
        FUZZ_CHECK(state == State::Complete || state == State::Error);
        FUZZ_CHECK(before != State::Complete || state == State::Complete);
        FUZZ_CHECK(before != State::Error || state == State::Error);
        // Recorded already when the parser got there.
        if (before == State::Complete || before == State::Error)
            return m_events;
        // A second close changes nothing.
        FUZZ_CHECK(m_parser.finishAtEof() == state);
        observe(state);
        return m_events;
    }

private:
    void observe(State state)
    {
        for (;;) {
            FUZZ_CHECK(state == m_parser.state());
            FUZZ_CHECK(rank(state) >= rank(m_lastState));
            m_lastState = state;
            checkHeadVisibility(state);
            m_body += m_parser.takeBody();
            FUZZ_CHECK(m_parser.bodyBytesAvailable() == 0);
            if (state == State::Error) {
                recordError();
                return;
            }
            if (state != State::Complete)
                return;
            recordResponse();
            // The next response on the connection, from the bytes already buffered.
            m_parser.expectResponseTo(m_method);
            m_body.clear();
            m_lastState = State::Head;
            state = m_parser.state();
        }
    }

    void checkHeadVisibility(State state)
    {
        if (state == State::Head) {
            FUZZ_CHECK(m_parser.status() == 0);
            FUZZ_CHECK(m_parser.reasonPhrase().isEmpty());
            FUZZ_CHECK(m_parser.bodyBytesAvailable() == 0);
            FUZZ_CHECK(!m_parser.keepAlive());
            return;
        }
        FUZZ_CHECK(m_parser.keepAlive() == false || state == State::Complete);
        if (state == State::Error && m_parser.status() == 0) {
            FUZZ_CHECK(m_parser.bodyBytesAvailable() == 0 && m_body.isEmpty());
            return;
        }
        // 1xx responses are skipped, 101 is an error: the head is a final response's.
        FUZZ_CHECK(m_parser.status() >= 200 && m_parser.status() <= 999);
        FUZZ_CHECK(hasNoLineBreakOrNul(m_parser.reasonPhrase()));
    }

    void recordResponse()
    {
        const int status = m_parser.status();
        const QByteArray contentLength = m_parser.header("Content-Length");
        const QByteArray transferEncoding = m_parser.header("Transfer-Encoding");
        const QByteArray connection = m_parser.header("Connection");
        for (const QByteArray *value : {&contentLength, &transferEncoding, &connection})
            FUZZ_CHECK(hasNoLineBreakOrNul(*value));
        FUZZ_CHECK(m_parser.header("content-length") == contentLength);

        const bool bodiless = m_method == "HEAD" || status == 204 || status == 304;
        if (bodiless)
            FUZZ_CHECK(m_body.isEmpty());

        const bool keepAlive = m_parser.keepAlive();
        if (keepAlive) {
            FUZZ_CHECK(!listElements(connection).contains("close"));
            // Framed by its length or by chunks, never by the close, and not by both.
            const QList<QByteArray> codings = listElements(transferEncoding);
            const bool chunked = !codings.isEmpty() && codings.last() == "chunked";
            FUZZ_CHECK(contentLength.isEmpty() || transferEncoding.isEmpty());
            if (!bodiless) {
                FUZZ_CHECK(chunked || !contentLength.isEmpty());
                if (!chunked)
                    FUZZ_CHECK(contentLength.split(',').first().trimmed().toLongLong()
                               == m_body.size());
            }
        }

        m_events.append("response " + QByteArray::number(status) + ' ' + m_parser.reasonPhrase()
                        + "\nlength " + contentLength + "\ncoding " + transferEncoding
                        + "\nkeep-alive " + QByteArray::number(int(keepAlive)) + '\n' + m_body);
    }

    void recordError()
    {
        const QByteArray reason = m_parser.errorReason();
        FUZZ_CHECK(documentedErrorReasons().contains(reason));
        FUZZ_CHECK(!m_parser.keepAlive());
        // Sticky: more bytes and the close change nothing.
        FUZZ_CHECK(m_parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == State::Error);
        FUZZ_CHECK(m_parser.finishAtEof() == State::Error);
        FUZZ_CHECK(m_parser.errorReason() == reason);
        FUZZ_CHECK(m_parser.bodyBytesAvailable() == 0);
        m_events.append("error " + reason + " after status " + QByteArray::number(m_parser.status())
                        + '\n' + m_body);
    }

    QByteArray m_method;
    HttpResponseParser m_parser{fuzzLimits()};
    State m_lastState = State::Head;
    QByteArray m_body; // of the current response, taken as it came
    QList<QByteArray> m_events;
};

// What the parser makes of `bytes` fed in pieces of `sizes`, then closed.
QList<QByteArray> transcript(QByteArrayView method, QByteArrayView bytes,
                             const QList<qsizetype> &sizes)
{
    Transcript run(method);
    qsizetype offset = 0;
    for (const qsizetype size : sizes) {
        run.feed(bytes.sliced(offset, size));
        offset += size;
    }
    return run.finish();
}

// Two pieces, split where the input's first and last bytes say.
QList<qsizetype> twoPieces(QByteArrayView bytes)
{
    if (bytes.isEmpty())
        return {};
    const auto seed = qsizetype(uint8_t(bytes.first())) * 256 + uint8_t(bytes.last());
    const qsizetype first = seed % (bytes.size() + 1);
    return {first, bytes.size() - first};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes = mcpbroker::fuzz::bytesOf(data, size);
    for (const QByteArrayView method : {QByteArrayView("GET"), QByteArrayView("HEAD")}) {
        const QList<QByteArray> whole = transcript(
                method, bytes, size ? QList<qsizetype>{bytes.size()} : QList<qsizetype>{});
        FUZZ_CHECK(!whole.isEmpty()); // the close ends every transcript with an event
        FUZZ_CHECK(transcript(method, bytes, QList<qsizetype>(bytes.size(), 1)) == whole);
        FUZZ_CHECK(transcript(method, bytes, mcpbroker::fuzz::chunkSizes(bytes)) == whole);
        FUZZ_CHECK(transcript(method, bytes, twoPieces(bytes)) == whole);
    }
    return 0;
}
