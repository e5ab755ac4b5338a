#include "http/HttpResponseParser.h"

#include "http/HttpSyntax.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

namespace mcpbroker::http {

using syntax::hexValue;
using syntax::isFieldValue;
using syntax::isToken;
using syntax::isWhitespace;
using syntax::listElements;
using syntax::trimmedOws;

namespace {

// A chunk-size line with its extensions; a longer one is an attack or garbage, not a server.
constexpr qsizetype kMaxChunkLineBytes = 4096;

constexpr qsizetype kMaxSize = std::numeric_limits<qsizetype>::max();

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool listContains(const QList<QByteArray> &elements, QByteArrayView token)
{
    for (const QByteArray &element : elements) {
        if (element.compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

// Why a header or trailer field line (not empty) is malformed (RFC 9112 §5), or nullopt.
std::optional<QByteArray> fieldLineError(QByteArrayView line)
{
    // obs-fold (RFC 9112 §5.2); also whitespace between the status line and the first field,
    // which §2.2 lets a recipient reject.
    if (isWhitespace(line.first()))
        return QByteArray("obsolete line folding in a header field");
    const qsizetype colon = line.indexOf(':');
    if (colon < 0)
        return QByteArray("header field without a colon");
    const QByteArrayView name = line.first(colon);
    // RFC 9112 §5.1: servers reject it and proxies strip it from responses; a client that
    // forwards nothing has no safe reading of it but refusal.
    if (!name.isEmpty() && isWhitespace(name.last()))
        return QByteArray("whitespace before a header field's colon");
    if (!isToken(name))
        return QByteArray("malformed header field name");
    if (!isFieldValue(line.sliced(colon + 1)))
        return QByteArray("malformed header field value");
    return std::nullopt;
}

} // namespace

HttpResponseParser::HttpResponseParser(Limits limits) : m_limits(limits) {}

void HttpResponseParser::expectResponseTo(QByteArrayView method)
{
    // Methods are case-sensitive (RFC 9110 §9.1): "head" is not HEAD.
    m_headRequest = method == QByteArrayView("HEAD");
    m_scanPos = 0;
    m_phase = Phase::StatusLine;
    m_headParsed = false;
    m_versionMinor = 1;
    m_status = 0;
    m_reasonPhrase.clear();
    m_fields.clear();
    m_headerBytes = 0;
    m_remaining = 0;
    m_body.clear();
    m_reusable = false;
    m_errorReason.clear();
    if (!m_buffer.isEmpty())
        parse();
}

HttpResponseParser::State HttpResponseParser::feed(QByteArrayView bytes)
{
    if (m_phase == Phase::Failed)
        return State::Error;
    m_buffer.append(bytes);
    if (m_phase == Phase::Done)
        return State::Complete; // kept for the next expectResponseTo()
    return parse();
}

HttpResponseParser::State HttpResponseParser::finishAtEof()
{
    switch (m_phase) {
    case Phase::Done:
    case Phase::Failed:
        return state();
    case Phase::CloseDelimitedBody:
        m_phase = Phase::Done;
        return State::Complete;
    default:
        return fail("the connection closed before the response was complete");
    }
}

HttpResponseParser::State HttpResponseParser::state() const
{
    switch (m_phase) {
    case Phase::StatusLine:
    case Phase::FieldLines:
        return State::Head;
    case Phase::FixedBody:
    case Phase::CloseDelimitedBody:
    case Phase::ChunkSize:
    case Phase::ChunkData:
    case Phase::ChunkDataEnd:
    case Phase::Trailers:
        return State::Body;
    case Phase::Done:
        return State::Complete;
    case Phase::Failed:
        return State::Error;
    }
    return State::Error;
}

int HttpResponseParser::status() const
{
    return m_headParsed ? m_status : 0;
}

QByteArray HttpResponseParser::reasonPhrase() const
{
    return m_headParsed ? m_reasonPhrase : QByteArray();
}

QByteArray HttpResponseParser::header(QByteArrayView name) const
{
    if (!m_headParsed)
        return {};
    QByteArray joined;
    bool found = false;
    for (const auto &[fieldName, value] : m_fields) {
        if (fieldName.size() != name.size() || fieldName.compare(name, Qt::CaseInsensitive) != 0)
            continue;
        if (found)
            joined += ", ";
        joined += value;
        found = true;
    }
    return joined;
}

QByteArray HttpResponseParser::takeBody()
{
    return std::exchange(m_body, QByteArray());
}

bool HttpResponseParser::keepAlive() const
{
    return m_phase == Phase::Done && m_reusable;
}

HttpResponseParser::State HttpResponseParser::fail(QByteArray reason)
{
    // The head and the body decoded so far stay readable for the error message; the rest of
    // the stream cannot be trusted, so it goes.
    m_phase = Phase::Failed;
    m_errorReason = std::move(reason);
    m_buffer.clear();
    m_scanPos = 0;
    return State::Error;
}

bool HttpResponseParser::takeLine(QByteArray *line, qsizetype *wireBytes)
{
    // Resumes where the last call stopped: bytes fed one at a time stay linear.
    const qsizetype lf = m_buffer.indexOf('\n', m_scanPos);
    if (lf < 0) {
        m_scanPos = m_buffer.size();
        return false;
    }
    qsizetype end = lf;
    if (end > 0 && m_buffer.at(end - 1) == '\r')
        --end;
    *line = m_buffer.left(end);
    *wireBytes = lf + 1;
    m_buffer.remove(0, lf + 1); // O(1) at the front of a QByteArray
    m_scanPos = 0;
    return true;
}

bool HttpResponseParser::hasField(QByteArrayView name) const
{
    for (const auto &field : m_fields) {
        if (field.first.size() == name.size()
            && field.first.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

bool HttpResponseParser::takeBodyBytes()
{
    const qsizetype n = qMin(m_remaining, m_buffer.size());
    if (n == m_buffer.size() && m_body.isEmpty()) {
        m_body = std::exchange(m_buffer, QByteArray()); // the common case of a streamed body
    } else {
        m_body.append(m_buffer.constData(), n);
        m_buffer.remove(0, n);
    }
    m_remaining -= n;
    return m_remaining == 0;
}

HttpResponseParser::State HttpResponseParser::parse()
{
    for (;;) {
        State step = State::Complete;
        switch (m_phase) {
        case Phase::Done:
        case Phase::Failed:
            return state();

        case Phase::StatusLine:
        case Phase::FieldLines:
            step = parseHeadLine();
            break;

        case Phase::FixedBody:
            if (!takeBodyBytes())
                return State::Body;
            m_phase = Phase::Done;
            break;

        case Phase::CloseDelimitedBody:
            m_remaining = m_buffer.size();
            takeBodyBytes();
            return State::Body;

        case Phase::ChunkSize:
            step = parseChunkSize();
            break;

        case Phase::ChunkData:
            if (!takeBodyBytes())
                return State::Body;
            m_phase = Phase::ChunkDataEnd;
            break;

        case Phase::ChunkDataEnd:
            step = parseChunkDataEnd();
            break;

        case Phase::Trailers:
            step = parseTrailerLine();
            break;
        }
        // The helpers return Head or Body when they need more bytes, Error when they failed,
        // and Complete when they made progress.
        if (step != State::Complete)
            return step;
    }
}

HttpResponseParser::State HttpResponseParser::parseHeadLine()
{
    QByteArray line;
    qsizetype wireBytes = 0;
    if (!takeLine(&line, &wireBytes)) {
        // No line end yet: everything buffered belongs to this line and already counts.
        if (m_headerBytes + m_buffer.size() > m_limits.maxHeaderBytes)
            return fail("response header section too large");
        return State::Head;
    }
    // The size before the content, so that the verdict does not depend on how bytes arrive.
    m_headerBytes += wireBytes;
    if (m_headerBytes > m_limits.maxHeaderBytes)
        return fail("response header section too large");

    if (m_phase == Phase::StatusLine)
        return parseStatusLine(line);
    if (line.isEmpty())
        return endOfHead();
    if (const std::optional<QByteArray> error = fieldLineError(line))
        return fail(*error);
    if (m_fields.size() >= m_limits.maxHeaderCount)
        return fail("too many header fields");
    const qsizetype colon = line.indexOf(':');
    m_fields.append({line.left(colon), trimmedOws(QByteArrayView(line).sliced(colon + 1))});
    return State::Complete;
}

HttpResponseParser::State HttpResponseParser::parseStatusLine(QByteArrayView line)
{
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
    const qsizetype space = line.indexOf(' ');
    const QByteArrayView version = space < 0 ? line : line.first(space);
    if (version == QByteArrayView("HTTP/1.1")) {
        m_versionMinor = 1;
    } else if (version == QByteArrayView("HTTP/1.0")) {
        m_versionMinor = 0;
    } else {
        // HTTP-version = "HTTP/" DIGIT "." DIGIT; HTTP/2 writes its version as one digit.
        const QByteArrayView number = version.startsWith("HTTP/") ? version.sliced(5) : "";
        const bool wellFormed = (number.size() == 1 && isDigit(number.at(0)))
                || (number.size() == 3 && isDigit(number.at(0)) && number.at(1) == '.'
                    && isDigit(number.at(2)));
        return fail(wellFormed ? "unsupported http version" : "malformed status line");
    }

    // A status line that ends right after the code, without the SP before an empty reason,
    // is a common server mistake and harmless.
    const QByteArrayView rest = line.sliced(version.size());
    if (rest.size() < 4 || rest.at(0) != ' ' || !isDigit(rest.at(1)) || rest.at(1) == '0'
        || !isDigit(rest.at(2)) || !isDigit(rest.at(3)))
        return fail("malformed status line");
    const QByteArrayView reason = rest.sliced(4);
    if (!reason.isEmpty() && (reason.first() != ' ' || !isFieldValue(reason)))
        return fail("malformed status line");

    m_status = (rest.at(1) - '0') * 100 + (rest.at(2) - '0') * 10 + (rest.at(3) - '0');
    m_reasonPhrase = reason.isEmpty() ? QByteArray() : reason.sliced(1).toByteArray();
    m_fields.clear();
    m_phase = Phase::FieldLines;
    return State::Complete;
}

HttpResponseParser::State HttpResponseParser::endOfHead()
{
    if (m_status == 101)
        return fail("unexpected protocol switch"); // the client never asks for an Upgrade
    if (m_status < 200) {
        // Interim response (RFC 9110 §15.2): a client must take any number of them before
        // the final one, whether it asked (Expect: 100-continue) or not. Their bytes still
        // count against the header budget, so that a server cannot stream them forever.
        m_status = 0;
        m_reasonPhrase.clear();
        m_fields.clear();
        m_phase = Phase::StatusLine;
        return State::Complete;
    }
    m_headParsed = true;
    return startBody();
}

HttpResponseParser::State HttpResponseParser::startBody()
{
    const QList<QByteArray> connection = listElements(header("Connection"));
    if (m_versionMinor == 0)
        m_reusable = listContains(connection, "keep-alive") && !listContains(connection, "close");
    else
        m_reusable = !listContains(connection, "close");

    const bool hasTransferEncoding = hasField("Transfer-Encoding");
    const bool hasContentLength = hasField("Content-Length");
    // Both framings at once is how responses are split and smuggled (RFC 9112 §6.3, §11.1):
    // the body follows Transfer-Encoding, but what comes after it is not trusted.
    if (hasTransferEncoding && hasContentLength)
        m_reusable = false;
    // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing; close afterwards.
    if (hasTransferEncoding && m_versionMinor == 0)
        m_reusable = false;

    // RFC 9112 §6.3 items 1 and 2: no body, whatever the fields say; the Content-Length of a
    // response to HEAD or of a 304 describes another response.
    if (m_headRequest || m_status == 204 || m_status == 304) {
        m_phase = Phase::Done;
        return State::Complete;
    }

    if (hasTransferEncoding) {
        if (m_versionMinor == 0)
            return fail("transfer-encoding in an http/1.0 response");
        const QList<QByteArray> codings = listElements(header("Transfer-Encoding"));
        const auto isChunked = [](const QByteArray &coding) {
            return coding.compare("chunked", Qt::CaseInsensitive) == 0;
        };
        if (!codings.isEmpty() && isChunked(codings.last())) {
            // RFC 9112 §6.1: a sender MUST NOT chunk twice; de-chunking once would hand the
            // caller chunk framing as if it were content.
            if (std::count_if(codings.begin(), codings.end(), isChunked) > 1)
                return fail("chunked applied more than once");
            m_phase = Phase::ChunkSize;
            return State::Complete;
        }
        // Item 4: another final coding (the client asks for none) is delimited by the close.
        m_reusable = false;
        m_phase = Phase::CloseDelimitedBody;
        return State::Complete;
    }

    if (hasContentLength) {
        // Repeated or listed values are acceptable only when all equal (RFC 9110 §8.6);
        // anything else leaves the end of the body unknown (§6.3 item 5).
        std::optional<qsizetype> length;
        for (const QByteArray &element : header("Content-Length").split(',')) {
            const QByteArray digits = trimmedOws(element);
            if (digits.isEmpty())
                return fail("invalid content-length");
            qsizetype value = 0;
            for (char c : digits) {
                if (!isDigit(c))
                    return fail("invalid content-length");
                if (value > (kMaxSize - (c - '0')) / 10)
                    return fail("content-length too large");
                value = value * 10 + (c - '0');
            }
            if (length && *length != value)
                return fail("conflicting content-length values");
            length = value;
        }
        m_remaining = length.value_or(0);
        m_phase = m_remaining == 0 ? Phase::Done : Phase::FixedBody;
        return State::Complete;
    }

    // Item 7: a response without framing ends when the server closes the connection.
    m_reusable = false;
    m_phase = Phase::CloseDelimitedBody;
    return State::Complete;
}

HttpResponseParser::State HttpResponseParser::parseChunkSize()
{
    QByteArray line;
    qsizetype wireBytes = 0;
    if (!takeLine(&line, &wireBytes)) {
        if (m_buffer.size() > kMaxChunkLineBytes)
            return fail("chunk size line too long");
        return State::Body;
    }
    if (wireBytes > kMaxChunkLineBytes)
        return fail("chunk size line too long");
    if (line.contains('\r'))
        return fail("malformed chunk size");

    // chunk = chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1), chunk-size = 1*HEXDIG
    qsizetype size = 0;
    qsizetype i = 0;
    for (; i < line.size() && hexValue(line.at(i)) >= 0; ++i) {
        if (size > (kMaxSize >> 4))
            return fail("chunk size too large");
        size = size * 16 + hexValue(line.at(i));
    }
    if (i == 0)
        return fail("malformed chunk size");
    while (i < line.size() && isWhitespace(line.at(i)))
        ++i;
    if (i < line.size() && line.at(i) != ';')
        return fail("malformed chunk size");
    // Chunk extensions (after ';') carry nothing we use: ignored (RFC 9112 §7.1.1).
    m_remaining = size;
    m_phase = size == 0 ? Phase::Trailers : Phase::ChunkData;
    return State::Complete;
}

HttpResponseParser::State HttpResponseParser::parseChunkDataEnd()
{
    if (m_buffer.startsWith("\r\n")) {
        m_buffer.remove(0, 2);
    } else if (m_buffer.startsWith('\n')) {
        m_buffer.remove(0, 1);
    } else if (m_buffer.isEmpty() || m_buffer == "\r") {
        return State::Body;
    } else {
        return fail("chunk data longer than its size");
    }
    m_phase = Phase::ChunkSize;
    return State::Complete;
}

HttpResponseParser::State HttpResponseParser::parseTrailerLine()
{
    QByteArray line;
    qsizetype wireBytes = 0;
    if (!takeLine(&line, &wireBytes)) {
        if (m_headerBytes + m_buffer.size() > m_limits.maxHeaderBytes)
            return fail("response header section too large");
        return State::Body;
    }
    m_headerBytes += wireBytes;
    if (m_headerBytes > m_limits.maxHeaderBytes)
        return fail("response header section too large");
    if (line.isEmpty()) {
        m_phase = Phase::Done;
        return State::Complete;
    }
    // Trailer fields are checked and dropped: nothing the client does needs them, and
    // merging them into the head would let the end of a stream rewrite its beginning.
    if (const std::optional<QByteArray> error = fieldLineError(line))
        return fail(*error);
    return State::Complete;
}

} // namespace mcpbroker::http
