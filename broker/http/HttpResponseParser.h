#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>

namespace mcpbroker::http {

// Incremental HTTP/1.1 response parser (RFC 9112) for the client that talks to upstream MCP
// servers over kept-alive connections. Pure: no sockets, no Qt event loop, so it can be
// unit-tested and fuzzed. The body is handed out as it arrives (takeBody()), because a
// response may be an SSE stream that lasts as long as the session.
class HttpResponseParser
{
public:
    struct Limits
    {
        // Status line + header lines of the response, its interim (1xx) responses and its
        // trailers, together: one budget per response.
        qsizetype maxHeaderBytes = 64 * 1024;
        int maxHeaderCount = 100; // fields of one head
    };

    enum class State { Head, Body, Complete, Error };

    explicit HttpResponseParser(Limits limits);
    HttpResponseParser() : HttpResponseParser(Limits{}) {}

    // Starts on the response to a request with `method` ("GET", "POST", "DELETE", "HEAD"...):
    // clears the previous response's head and body (an error too, for a parser reused on a new
    // connection); keeps bytes buffered past the previous response (a server should send none,
    // but they are not lost) and parses them at once: check state() afterwards. Until the first
    // call the parser expects the response to a request other than HEAD.
    void expectResponseTo(QByteArrayView method);
    // Appends bytes from the connection and parses as far as possible. In state Complete the
    // bytes are only kept for the next expectResponseTo(); in state Error they are dropped.
    State feed(QByteArrayView bytes);
    // The connection was closed by the server: a body delimited by the close (no
    // Content-Length, not chunked) is complete now -> Complete; any other unfinished response
    // -> Error ("the connection closed before the response was complete"). In state Complete
    // or Error it changes nothing.
    State finishAtEof();
    State state() const;

    // After the head (state Body or Complete, or Error once the head had been parsed);
    // 0 and empty before:
    int status() const; // 100..999
    QByteArray reasonPhrase() const;
    // The field's value, case-insensitive name; several fields of that name joined with ", ".
    // Empty when absent.
    QByteArray header(QByteArrayView name) const;
    // Decoded body bytes (de-chunked) that arrived and were not yet taken. An error keeps the
    // bytes decoded before it.
    qsizetype bodyBytesAvailable() const { return m_body.size(); }
    QByteArray takeBody();
    // After Complete: whether the connection may carry another request (HTTP/1.1 without
    // "Connection: close", HTTP/1.0 only with "Connection: keep-alive", and the body was not
    // delimited by the close). False in any other state.
    bool keepAlive() const;
    // When state is Error: a short lower-case reason for a log line / error message,
    // e.g. "malformed status line".
    QByteArray errorReason() const { return m_errorReason; }

private:
    enum class Phase {
        StatusLine,
        FieldLines,
        FixedBody,
        CloseDelimitedBody,
        ChunkSize,
        ChunkData,
        ChunkDataEnd,
        Trailers,
        Done,
        Failed,
    };

    State parse();
    State parseHeadLine();
    State parseStatusLine(QByteArrayView line);
    State endOfHead();
    State startBody();
    State parseChunkSize();
    State parseChunkDataEnd();
    State parseTrailerLine();
    // Moves up to m_remaining buffered bytes into the body; true when the part is complete.
    bool takeBodyBytes();
    State fail(QByteArray reason);
    // Next line of m_buffer without its CRLF or bare LF, consumed, and how many bytes it took
    // on the wire; false when no line end has arrived yet.
    bool takeLine(QByteArray *line, qsizetype *wireBytes);
    bool hasField(QByteArrayView name) const;

    Limits m_limits;
    QByteArray m_buffer;     // received and not parsed yet
    qsizetype m_scanPos = 0; // bytes of m_buffer already searched for a line end
    Phase m_phase = Phase::StatusLine;
    bool m_headRequest = false;
    bool m_headParsed = false; // the final (not interim) head
    int m_versionMinor = 1;
    int m_status = 0;
    QByteArray m_reasonPhrase;
    QList<QPair<QByteArray, QByteArray>> m_fields;
    qsizetype m_headerBytes = 0; // heads and trailers of this response so far
    qsizetype m_remaining = 0;   // of the Content-Length body or of the current chunk
    QByteArray m_body;
    bool m_reusable = false;
    QByteArray m_errorReason;
};

} // namespace mcpbroker::http
