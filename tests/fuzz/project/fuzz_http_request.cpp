// HTTP/1.1 request parsing (broker/http/HttpRequestParser): the bytes any local process may
// send to the broker's port. Properties, besides no crash, UB or leak:
// - the same bytes give the same requests (or the same error) whether they arrive at once, one
//   byte at a time or in random chunks, pipelined requests included;
// - a complete request keeps the limits and the grammar the parser checked (token method, one
//   Host in HTTP/1.1, the body as long as Content-Length says);
// - an error carries one of the documented status codes and a reason.
// The bearer token of a request is read as LocalEndpoint does and given to GrantToken::parse.

#include "FuzzSupport.h"

#include "gateway/GrantToken.h"
#include "http/HttpRequestParser.h"

#include <QUrl>

#include <algorithm>

using namespace mcpbroker;
using http::HttpRequest;
using http::HttpRequestParser;

namespace {

// Small limits, so that short inputs reach them.
HttpRequestParser::Limits fuzzLimits()
{
    HttpRequestParser::Limits limits;
    limits.maxHeaderBytes = 1024;
    limits.maxBodyBytes = 2048;
    limits.maxHeaderCount = 16;
    return limits;
}

bool isTokenChar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

// As LocalEndpoint reads "Authorization: Bearer <token>".
void checkBearerToken(const HttpRequest &request)
{
    const QByteArray value = request.header("Authorization").trimmed();
    const qsizetype space = value.indexOf(' ');
    if (space < 0 || value.left(space).toLower() != "bearer")
        return;
    if (const auto token = gateway::GrantToken::parse(value.mid(space + 1).trimmed())) {
        FUZZ_CHECK(token->grantId.size() == 13 && token->grantId.startsWith(QLatin1Char('g')));
    }
}

// Checks what the parser promises of a complete request and returns it as text to compare.
QByteArray checkedRequest(const HttpRequest &request, const HttpRequestParser::Limits &limits)
{
    FUZZ_CHECK(isToken(request.method));
    FUZZ_CHECK(!request.target.isEmpty());
    FUZZ_CHECK(request.path.startsWith(QLatin1Char('/')));
    FUZZ_CHECK(request.versionMinor >= 0 && request.versionMinor <= 9);
    FUZZ_CHECK(request.headers.size() <= limits.maxHeaderCount);
    FUZZ_CHECK(request.body.size() <= limits.maxBodyBytes);
    int hosts = 0;
    for (const auto &[name, value] : request.headers) {
        FUZZ_CHECK(isToken(name));
        FUZZ_CHECK(!value.contains('\r') && !value.contains('\n'));
        FUZZ_CHECK(request.hasHeader(name));
        FUZZ_CHECK(request.headerList(name).startsWith(request.header(name)));
        if (name.compare("Host", Qt::CaseInsensitive) == 0)
            ++hosts;
    }
    FUZZ_CHECK(hosts <= 1 && (hosts == 1 || request.versionMinor == 0));
    if (request.hasHeader("Content-Length") && !request.hasHeader("Transfer-Encoding")) {
        const QByteArray first = request.headerList("Content-Length").split(',').first();
        FUZZ_CHECK(first.trimmed().toLongLong() == request.body.size());
    }
    checkBearerToken(request);

    QByteArray text = request.method + ' ' + request.target + " 1."
            + QByteArray::number(request.versionMinor) + '\n' + request.path.toUtf8() + '?'
            + request.query.toString(QUrl::FullyEncoded).toUtf8() + '\n';
    for (const auto &[name, value] : request.headers)
        text += name + ": " + value + '\n';
    return text + '\n' + request.body;
}

// What the parser makes of `bytes` fed in chunks of `sizes`: each request, then the end state.
QList<QByteArray> transcript(QByteArrayView bytes, const QList<qsizetype> &sizes)
{
    const HttpRequestParser::Limits limits = fuzzLimits();
    HttpRequestParser parser(limits);
    QList<QByteArray> events;
    qsizetype offset = 0;
    for (const qsizetype size : sizes) {
        HttpRequestParser::State state = parser.feed(bytes.sliced(offset, size));
        offset += size;
        while (state == HttpRequestParser::State::Complete) {
            events.append(checkedRequest(parser.takeRequest(), limits));
            state = parser.resume();
        }
        if (state == HttpRequestParser::State::Error) {
            const int status = parser.errorStatus();
            FUZZ_CHECK(status == 400 || status == 413 || status == 431 || status == 501
                       || status == 505);
            FUZZ_CHECK(!parser.errorReason().isEmpty());
            FUZZ_CHECK(parser.feed("more") == HttpRequestParser::State::Error);
            events.append("error " + QByteArray::number(status) + ' ' + parser.errorReason());
            return events;
        }
    }
    events.append("need more");
    return events;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes = fuzz::bytesOf(data, size);
    const QList<QByteArray> whole
            = transcript(bytes, size ? QList<qsizetype>{bytes.size()} : QList<qsizetype>{});
    const QList<QByteArray> byteByByte = transcript(bytes, QList<qsizetype>(bytes.size(), 1));
    FUZZ_CHECK(byteByByte == whole);
    FUZZ_CHECK(transcript(bytes, fuzz::chunkSizes(bytes)) == whole);
    return 0;
}
