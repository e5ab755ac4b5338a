#pragma once

#include "http/HttpRequest.h"

#include <QByteArray>

namespace mcpbroker::http {

// Incremental HTTP/1.1 request parser (RFC 9112). Pure: no sockets, no Qt event loop, so it
// can be unit-tested and fuzzed. Feed it bytes as they arrive; it reports a complete request,
// a need for more bytes, or an error carrying the status code to answer with.
class HttpRequestParser
{
public:
    struct Limits
    {
        qsizetype maxHeaderBytes = 32 * 1024;     // request line + all header lines
        qsizetype maxBodyBytes = 4 * 1024 * 1024; // after de-chunking
        int maxHeaderCount = 100;
    };

    enum class State { NeedMore, Complete, Error };

    explicit HttpRequestParser(Limits limits);
    HttpRequestParser() : HttpRequestParser(Limits{}) {}

    // Appends `bytes` and parses as far as possible. After Complete, takeRequest() returns the
    // request and the parser keeps any bytes past it (pipelining) for the next request.
    State feed(QByteArrayView bytes);
    // Parses buffered bytes again without adding any (the next pipelined request).
    State resume() { return feed({}); }

    HttpRequest takeRequest();

    // When state is Error: 400 (malformed), 413 (body too large), 431 (headers too large),
    // 501 (unsupported transfer-coding), 505 (not HTTP/1.x); and a short reason.
    int errorStatus() const { return m_errorStatus; }
    QByteArray errorReason() const { return m_errorReason; }

private:
    // implementation-defined members follow
    State parseHead();
    State parseHeadBlock(QByteArrayView head);
    State parseTarget(const QByteArray &target);
    State startBody();
    State parseBody();
    // Moves up to m_remaining buffered bytes into the body; true when the part is complete.
    bool takeBodyBytes();
    State fail(int status, QByteArray reason);
    // Next line of m_buffer without its CRLF or bare LF, consumed; false when incomplete.
    bool takeLine(QByteArray *line);

    Limits m_limits;
    QByteArray m_buffer;
    HttpRequest m_request;
    enum class Phase { Head, FixedBody, ChunkSize, ChunkData, ChunkDataEnd, Trailers, Done, Failed };
    Phase m_phase = Phase::Head;
    qsizetype m_remaining = 0;
    qsizetype m_scanPos = 0;      // head: bytes of m_buffer already searched for a line end
    qsizetype m_lineStart = 0;    // head: start of the line being scanned
    qsizetype m_trailerBytes = 0; // trailer section counts against maxHeaderBytes
    int m_errorStatus = 0;
    QByteArray m_errorReason;
};

} // namespace mcpbroker::http
