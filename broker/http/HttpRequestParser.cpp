#include "http/HttpRequestParser.h"

#include "http/HttpSyntax.h"

#include <QList>

#include <optional>

namespace mcpbroker::http {

using syntax::hexValue;
using syntax::isFieldValue;
using syntax::isToken;
using syntax::isWhitespace;
using syntax::listElements;
using syntax::trimmedOws;

namespace {

// A chunk-size line with its extensions; longer is an attack, not a client.
constexpr qsizetype kMaxChunkLineBytes = 4096;

// Percent-decodes `text`; nullopt when a '%' is not followed by two hex digits.
std::optional<QByteArray> percentDecoded(QByteArrayView text)
{
    QByteArray out;
    out.reserve(text.size());
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text.at(i) != '%') {
            out += text.at(i);
            continue;
        }
        if (i + 2 >= text.size())
            return std::nullopt;
        const int high = hexValue(text.at(i + 1));
        const int low = hexValue(text.at(i + 2));
        if (high < 0 || low < 0)
            return std::nullopt;
        out += char(high * 16 + low);
        i += 2;
    }
    return out;
}

enum class LengthParse { Ok, Invalid, TooLarge };

// A Content-Length value; `limit` caps it so that huge values never overflow.
LengthParse parseContentLength(QByteArrayView text, qsizetype limit, qsizetype *length)
{
    if (text.isEmpty())
        return LengthParse::Invalid;
    qsizetype value = 0;
    bool tooLarge = false;
    for (char c : text) {
        if (c < '0' || c > '9')
            return LengthParse::Invalid;
        if (!tooLarge) {
            value = value * 10 + (c - '0');
            tooLarge = value > limit;
        }
    }
    if (tooLarge)
        return LengthParse::TooLarge;
    *length = value;
    return LengthParse::Ok;
}

} // namespace

HttpRequestParser::HttpRequestParser(Limits limits) : m_limits(limits) {}

HttpRequestParser::State HttpRequestParser::feed(QByteArrayView bytes)
{
    if (m_phase == Phase::Failed)
        return State::Error;
    m_buffer.append(bytes);
    if (m_phase == Phase::Done)
        return State::Complete; // the caller has not taken the previous request yet

    if (m_phase == Phase::Head) {
        const State state = parseHead();
        if (state != State::Complete)
            return state;
    }
    return parseBody();
}

HttpRequest HttpRequestParser::takeRequest()
{
    if (m_phase != Phase::Done)
        return {};
    HttpRequest request = std::move(m_request);
    m_request = HttpRequest{};
    m_phase = Phase::Head;
    m_remaining = 0;
    m_scanPos = 0;
    m_lineStart = 0;
    m_trailerBytes = 0;
    return request;
}

HttpRequestParser::State HttpRequestParser::fail(int status, QByteArray reason)
{
    m_phase = Phase::Failed;
    m_errorStatus = status;
    m_errorReason = std::move(reason);
    m_buffer.clear();
    m_request = HttpRequest{};
    return State::Error;
}

bool HttpRequestParser::takeLine(QByteArray *line)
{
    const qsizetype lf = m_buffer.indexOf('\n');
    if (lf < 0)
        return false;
    qsizetype end = lf;
    if (end > 0 && m_buffer.at(end - 1) == '\r')
        --end;
    *line = m_buffer.left(end);
    m_buffer.remove(0, lf + 1);
    return true;
}

// Returns Complete once the head is parsed (the body may still be missing).
HttpRequestParser::State HttpRequestParser::parseHead()
{
    if (m_scanPos == 0) {
        // RFC 9112 §2.2: ignore empty lines before the request line.
        for (;;) {
            if (m_buffer.startsWith('\n'))
                m_buffer.remove(0, 1);
            else if (m_buffer.startsWith("\r\n"))
                m_buffer.remove(0, 2);
            else
                break;
        }
        if (m_buffer.isEmpty() || m_buffer == "\r")
            return State::NeedMore;
    }

    // Find the empty line that ends the head, resuming where the last call stopped.
    qsizetype headEnd = -1;
    while (m_scanPos < m_buffer.size()) {
        const qsizetype lf = m_buffer.indexOf('\n', m_scanPos);
        if (lf < 0) {
            m_scanPos = m_buffer.size();
            break;
        }
        const qsizetype lineLength = lf - m_lineStart;
        if (lineLength == 0 || (lineLength == 1 && m_buffer.at(m_lineStart) == '\r')) {
            headEnd = lf + 1;
            break;
        }
        m_lineStart = lf + 1;
        m_scanPos = lf + 1;
    }

    if (headEnd < 0) {
        if (m_buffer.size() > m_limits.maxHeaderBytes)
            return fail(431, "Request header section too large");
        return State::NeedMore;
    }
    if (headEnd > m_limits.maxHeaderBytes)
        return fail(431, "Request header section too large");

    const QByteArray head = m_buffer.left(headEnd);
    m_buffer.remove(0, headEnd);
    m_scanPos = 0;
    m_lineStart = 0;
    const State state = parseHeadBlock(head);
    if (state == State::Error)
        return state;
    return startBody();
}

HttpRequestParser::State HttpRequestParser::parseHeadBlock(QByteArrayView head)
{
    // Split into lines without their CRLF or LF; the last one is the empty terminator.
    QList<QByteArrayView> lines;
    qsizetype start = 0;
    while (start < head.size()) {
        qsizetype lf = start;
        while (lf < head.size() && head.at(lf) != '\n')
            ++lf;
        qsizetype end = lf;
        if (end > start && head.at(end - 1) == '\r')
            --end;
        lines.append(head.sliced(start, end - start));
        start = lf + 1;
    }
    if (lines.size() < 2)
        return fail(400, "Malformed request head");

    // Request line: method SP request-target SP HTTP-version (RFC 9112 §3).
    const QByteArrayView requestLine = lines.first();
    if (requestLine.contains('\r'))
        return fail(400, "Malformed request line");
    const qsizetype sp1 = requestLine.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : requestLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || requestLine.indexOf(' ', sp2 + 1) >= 0)
        return fail(400, "Malformed request line");

    const QByteArrayView version = requestLine.sliced(sp2 + 1);
    if (!version.startsWith("HTTP/"))
        return fail(505, "Only HTTP/1.x is supported");
    const bool wellFormed = version.size() == 8 && version.at(5) >= '0' && version.at(5) <= '9'
            && version.at(6) == '.' && version.at(7) >= '0' && version.at(7) <= '9';
    if (version.size() > 5 && version.at(5) >= '2' && version.at(5) <= '9')
        return fail(505, "Only HTTP/1.x is supported");
    if (!wellFormed)
        return fail(400, "Malformed HTTP version");
    if (version.at(5) != '1')
        return fail(505, "Only HTTP/1.x is supported");
    m_request.versionMinor = version.at(7) - '0';

    const QByteArrayView method = requestLine.first(sp1);
    if (!isToken(method))
        return fail(400, "Malformed request method");
    m_request.method = method.toByteArray();

    const QByteArrayView target = requestLine.sliced(sp1 + 1, sp2 - sp1 - 1);
    if (target.isEmpty())
        return fail(400, "Malformed request target");
    for (char c : target) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return fail(400, "Malformed request target");
    }
    m_request.target = target.toByteArray();
    if (parseTarget(m_request.target) == State::Error)
        return State::Error;

    // Header fields (RFC 9112 §5); lines.last() is the empty terminator.
    int hostCount = 0;
    for (qsizetype i = 1; i + 1 < lines.size(); ++i) {
        const QByteArrayView line = lines.at(i);
        if (line.isEmpty() || isWhitespace(line.first()))
            return fail(400, "Folded or malformed header line"); // obs-fold, RFC 9112 §5.2
        if (line.contains('\r'))
            return fail(400, "Malformed header line");
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return fail(400, "Malformed header line");
        const QByteArrayView name = line.first(colon);
        if (!isToken(name))
            return fail(400, "Malformed header name");
        const QByteArrayView rawValue = line.sliced(colon + 1);
        if (!isFieldValue(rawValue))
            return fail(400, "Malformed header value");
        if (m_request.headers.size() >= m_limits.maxHeaderCount)
            return fail(431, "Too many request header fields");
        if (name.compare("Host", Qt::CaseInsensitive) == 0)
            ++hostCount;
        m_request.headers.append({name.toByteArray(), trimmedOws(rawValue)});
    }

    // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one otherwise.
    if (hostCount > 1 || (hostCount == 0 && m_request.versionMinor >= 1))
        return fail(400, "Missing or repeated Host header");
    return State::Complete;
}

HttpRequestParser::State HttpRequestParser::parseTarget(const QByteArray &target)
{
    if (target == "*")
        return fail(400, "Asterisk-form request target is not supported");
    if (target.contains('#'))
        return fail(400, "Malformed request target");

    QByteArrayView pathAndQuery = target;
    if (!target.startsWith('/')) {
        // absolute-form (RFC 9112 §3.2.2): only http(s) URIs; use their path and query.
        const qsizetype schemeEnd = target.indexOf("://");
        const QByteArrayView scheme =
                schemeEnd < 0 ? QByteArrayView() : QByteArrayView(target).first(schemeEnd);
        if (scheme.compare("http", Qt::CaseInsensitive) != 0
            && scheme.compare("https", Qt::CaseInsensitive) != 0)
            return fail(400, "Malformed request target");
        qsizetype pathStart = schemeEnd + 3;
        while (pathStart < target.size() && target.at(pathStart) != '/'
               && target.at(pathStart) != '?')
            ++pathStart;
        if (pathStart == schemeEnd + 3)
            return fail(400, "Malformed request target"); // no authority
        pathAndQuery = QByteArrayView(target).sliced(pathStart);
    }

    const qsizetype question = pathAndQuery.indexOf('?');
    QByteArrayView rawPath = question < 0 ? pathAndQuery : pathAndQuery.first(question);
    if (rawPath.isEmpty())
        rawPath = "/";
    const std::optional<QByteArray> path = percentDecoded(rawPath);
    if (!path)
        return fail(400, "Malformed percent-encoding in request target");
    m_request.path = QString::fromUtf8(*path);
    if (question >= 0)
        m_request.query = QUrlQuery(QString::fromLatin1(pathAndQuery.sliced(question + 1)));
    return State::Complete;
}

HttpRequestParser::State HttpRequestParser::startBody()
{
    const bool hasTransferEncoding = m_request.hasHeader("Transfer-Encoding");
    const bool hasContentLength = m_request.hasHeader("Content-Length");

    if (hasTransferEncoding) {
        // Both framings at once is the classic smuggling vector (RFC 9112 §6.3): refuse.
        if (hasContentLength)
            return fail(400, "Both Transfer-Encoding and Content-Length present");
        if (m_request.versionMinor == 0)
            return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
        const QList<QByteArray> codings = listElements(m_request.headerList("Transfer-Encoding"));
        if (codings.isEmpty())
            return fail(400, "Empty Transfer-Encoding");
        for (const QByteArray &coding : codings) {
            if (coding.compare("chunked", Qt::CaseInsensitive) != 0)
                return fail(501, "Unsupported transfer coding");
        }
        if (codings.size() > 1)
            return fail(400, "Transfer coding chunked applied more than once");
        m_phase = Phase::ChunkSize;
        return State::Complete;
    }

    if (hasContentLength) {
        // Repeated or listed values are acceptable only when all equal (RFC 9110 §8.6).
        std::optional<qsizetype> length;
        for (const QByteArray &element : m_request.headerList("Content-Length").split(',')) {
            qsizetype value = 0;
            switch (parseContentLength(trimmedOws(element), m_limits.maxBodyBytes, &value)) {
            case LengthParse::Invalid:
                return fail(400, "Invalid Content-Length");
            case LengthParse::TooLarge:
                return fail(413, "Request body too large");
            case LengthParse::Ok:
                break;
            }
            if (length && *length != value)
                return fail(400, "Conflicting Content-Length values");
            length = value;
        }
        m_remaining = length.value_or(0);
        m_phase = Phase::FixedBody;
        return State::Complete;
    }

    m_phase = Phase::Done; // no framing: a request without a body (RFC 9112 §6.3)
    return State::Complete;
}

bool HttpRequestParser::takeBodyBytes()
{
    const qsizetype n = qMin(m_remaining, m_buffer.size());
    m_request.body.append(m_buffer.constData(), n);
    m_buffer.remove(0, n);
    m_remaining -= n;
    return m_remaining == 0;
}

HttpRequestParser::State HttpRequestParser::parseBody()
{
    for (;;) {
        switch (m_phase) {
        case Phase::Head:
        case Phase::Failed:
            return State::Error; // not reached: feed() handles these
        case Phase::Done:
            return State::Complete;

        case Phase::FixedBody:
            if (!takeBodyBytes())
                return State::NeedMore;
            m_phase = Phase::Done;
            break;

        case Phase::ChunkSize: {
            QByteArray line;
            if (!takeLine(&line)) {
                if (m_buffer.size() > kMaxChunkLineBytes)
                    return fail(400, "Malformed chunk size line");
                return State::NeedMore;
            }
            if (line.size() > kMaxChunkLineBytes || line.contains('\r'))
                return fail(400, "Malformed chunk size line");
            const qsizetype room = m_limits.maxBodyBytes - m_request.body.size();
            qsizetype size = 0;
            qsizetype i = 0;
            for (; i < line.size() && hexValue(line.at(i)) >= 0; ++i) {
                size = size * 16 + hexValue(line.at(i));
                if (size > room)
                    return fail(413, "Request body too large");
            }
            if (i == 0)
                return fail(400, "Malformed chunk size");
            while (i < line.size() && isWhitespace(line.at(i)))
                ++i;
            if (i < line.size() && line.at(i) != ';')
                return fail(400, "Malformed chunk size");
            // Chunk extensions (after ';') carry nothing we use: ignored (RFC 9112 §7.1.1).
            m_remaining = size;
            m_phase = size == 0 ? Phase::Trailers : Phase::ChunkData;
            break;
        }

        case Phase::ChunkData:
            if (!takeBodyBytes())
                return State::NeedMore;
            m_phase = Phase::ChunkDataEnd;
            break;

        case Phase::ChunkDataEnd:
            if (m_buffer.startsWith("\r\n")) {
                m_buffer.remove(0, 2);
            } else if (m_buffer.startsWith('\n')) {
                m_buffer.remove(0, 1);
            } else if (m_buffer.isEmpty() || m_buffer == "\r") {
                return State::NeedMore;
            } else {
                return fail(400, "Chunk data longer than its size");
            }
            m_phase = Phase::ChunkSize;
            break;

        case Phase::Trailers: {
            // Trailer fields are read and dropped: nothing here needs them.
            QByteArray line;
            if (!takeLine(&line)) {
                if (m_trailerBytes + m_buffer.size() > m_limits.maxHeaderBytes)
                    return fail(431, "Trailer section too large");
                return State::NeedMore;
            }
            m_trailerBytes += line.size() + 1;
            if (m_trailerBytes > m_limits.maxHeaderBytes)
                return fail(431, "Trailer section too large");
            if (line.isEmpty()) {
                m_phase = Phase::Done;
                break;
            }
            const qsizetype colon = line.indexOf(':');
            if (colon <= 0 || !isToken(QByteArrayView(line).first(colon))
                || !isFieldValue(QByteArrayView(line).sliced(colon + 1)))
                return fail(400, "Malformed trailer field");
            break;
        }
        }
    }
}

} // namespace mcpbroker::http
