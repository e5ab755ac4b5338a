#include "mcp/StreamableHttpServer.h"

#include "Logging.h"
#include "http/HttpRequest.h"
#include "http/HttpResponder.h"
#include "http/SseEvent.h"
#include "mcp/JsonRpc.h"
#include "mcp/ProtocolVersion.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QPointer>
#include <QRandomGenerator>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>

namespace mcpbroker::mcp {

using json = nlohmann::json;
using namespace jsonrpc;

namespace {

const QByteArray kSessionHeader = QByteArrayLiteral("Mcp-Session-Id");
const QByteArray kProtocolHeader = QByteArrayLiteral("MCP-Protocol-Version");
constexpr int kSweepIntervalMs = 60'000;

// Transport-level failures carry a JSON-RPC error with a null id, like the SDK servers do.
http::HttpResponse transportError(int status, int code, const QString &message)
{
    return http::HttpResponse::json(status, serialize(makeError(nullptr, code, message)));
}

QString newSessionId()
{
    QByteArray bytes(32, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()),
                                          bytes.size() / int(sizeof(quint32)));
    return QString::fromLatin1(
            bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QByteArray mediaType(const QByteArray &contentType)
{
    QByteArray type = contentType;
    if (const qsizetype semicolon = type.indexOf(';'); semicolon >= 0)
        type.truncate(semicolon);
    return type.trimmed().toLower();
}

bool accepts(const http::HttpRequest &request, QByteArrayView type)
{
    for (const QByteArray &range : request.headerList("Accept").split(',')) {
        const QByteArray media = mediaType(range);
        if (media == type || media == "*/*")
            return true;
    }
    return false;
}

bool primesStreams(const QString &protocolVersion)
{
    // Clients before 2025-11-25 may treat an event with empty data as a broken message.
    return protocolVersion >= ProtocolVersion::kLatest;
}

} // namespace

// One SSE stream (or, for initialize, one JSON answer) of a session, with the events it carried
// so a client that lost the connection can resume it with Last-Event-ID.
struct OutgoingStream
{
    int number = 0;
    bool sse = true;
    bool standalone = false;
    int pendingResponses = 0;
    bool finished = false;
    QPointer<http::HttpResponder> responder;
    std::deque<std::pair<int, QByteArray>> events; // (sequence, serialized SSE event)
    int nextSequence = 1;
    std::function<void(const json &)> onJsonResponse; // JSON mode only
};

struct SessionEntry
{
    ServerSession session;
    std::map<int, std::shared_ptr<OutgoingStream>> streams;
    std::shared_ptr<OutgoingStream> standalone;
    qint64 lastActivityMs = 0;
    // The finished streams still kept (stream number, when it finished), oldest first.
    std::deque<std::pair<int, qint64>> finished;
};

struct StreamableHttpServer::Private
{
    StreamableHttpServer *q;
    ServerMessageHandler *handler;
    Options options;
    std::map<QString, std::unique_ptr<SessionEntry>> sessions;
    int nextStreamNumber = 1;
    QTimer sweepTimer;
    QTimer retentionTimer; // due when the oldest finished stream expires
    QElapsedTimer clock;   // when streams finished, on a clock that never jumps

    void handlePost(const http::HttpRequest &request, http::HttpResponder *responder,
                    const QString &scope, const SessionOwner &owner);
    void handleGet(const http::HttpRequest &request, http::HttpResponder *responder,
                   SessionEntry &entry);
    void handleInitialize(const json &request, http::HttpResponder *responder, const QString &scope,
                          const SessionOwner &owner);

    // The session named by the request's header, or an error response sent.
    SessionEntry *sessionFor(const http::HttpRequest &request, http::HttpResponder *responder,
                             const QString &scope, const SessionOwner &owner);
    std::shared_ptr<OutgoingStream> openStream(SessionEntry &entry, http::HttpResponder *responder);
    void attach(SessionEntry &entry, OutgoingStream &stream, http::HttpResponder *responder);
    void emitEvent(OutgoingStream &stream, const json &message);
    void finishStream(SessionEntry &entry, const std::shared_ptr<OutgoingStream> &stream);
    void dropExpiredStreams();
    void closeSession(const QString &id);
    bool makeRoom();
    void sweep();
    static bool hasLiveResponder(const SessionEntry &entry);
};

// ReplyChannel over one stream of one session. Holds only weak references: the session may end
// (DELETE, expiry) while the handler still works on the request.
class StreamReply : public ReplyChannel
{
public:
    StreamReply(StreamableHttpServer::Private *server, QString sessionId,
                std::weak_ptr<OutgoingStream> stream, QPointer<StreamableHttpServer> guard)
        : m_server(server), m_sessionId(std::move(sessionId)), m_stream(std::move(stream)),
          m_guard(std::move(guard))
    { }

    void send(const json &message) override
    {
        if (auto [entry, stream] = target(); stream && stream->sse && !m_done)
            m_server->emitEvent(*stream, message);
    }

    void respond(const json &response) override
    {
        if (m_done)
            return;
        m_done = true;
        auto [entry, stream] = target();
        if (!stream)
            return;
        if (!stream->sse) {
            if (stream->onJsonResponse)
                stream->onJsonResponse(response);
            return;
        }
        m_server->emitEvent(*stream, response);
        complete(*entry, stream);
    }

    void abandon() override
    {
        if (m_done)
            return;
        m_done = true;
        if (auto [entry, stream] = target(); stream)
            complete(*entry, stream);
    }

private:
    std::pair<SessionEntry *, std::shared_ptr<OutgoingStream>> target() const
    {
        if (!m_guard)
            return {nullptr, nullptr};
        auto stream = m_stream.lock();
        const auto it = m_server->sessions.find(m_sessionId);
        if (!stream || it == m_server->sessions.end())
            return {nullptr, nullptr};
        return {it->second.get(), stream};
    }

    void complete(SessionEntry &entry, const std::shared_ptr<OutgoingStream> &stream)
    {
        if (--stream->pendingResponses <= 0)
            m_server->finishStream(entry, stream);
    }

    StreamableHttpServer::Private *m_server;
    QString m_sessionId;
    std::weak_ptr<OutgoingStream> m_stream;
    QPointer<StreamableHttpServer> m_guard;
    bool m_done = false;
};

StreamableHttpServer::StreamableHttpServer(ServerMessageHandler *handler, Options options,
                                           QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->q = this;
    d->handler = handler;
    d->options = options;
    d->sweepTimer.setInterval(kSweepIntervalMs);
    connect(&d->sweepTimer, &QTimer::timeout, this, [this] { d->sweep(); });
    d->sweepTimer.start();
    d->clock.start();
    d->retentionTimer.setSingleShot(true);
    connect(&d->retentionTimer, &QTimer::timeout, this, [this] { d->dropExpiredStreams(); });
}

StreamableHttpServer::~StreamableHttpServer()
{
    // Streams end with the server; the handler hears nothing more (it goes down with us).
    for (auto &[id, entry] : d->sessions) {
        for (auto &[number, stream] : entry->streams) {
            if (stream->responder && stream->responder->isStreaming())
                stream->responder->endStream();
        }
    }
}

void StreamableHttpServer::handle(const http::HttpRequest &request, http::HttpResponder *responder,
                                  const QString &scope, const SessionOwner &owner)
{
    if (request.method == "POST") {
        d->handlePost(request, responder, scope, owner);
        return;
    }
    if (request.method == "GET") {
        if (!accepts(request, "text/event-stream")) {
            responder->send(transportError(406, -32000,
                                           QStringLiteral("Not Acceptable: a GET stream needs "
                                                          "Accept: text/event-stream.")));
            return;
        }
        if (SessionEntry *entry = d->sessionFor(request, responder, scope, owner))
            d->handleGet(request, responder, *entry);
        return;
    }
    if (request.method == "DELETE") {
        if (SessionEntry *entry = d->sessionFor(request, responder, scope, owner)) {
            qCInfo(lcMcp) << "Client ended its session on" << (scope.isEmpty() ? "/mcp" : scope);
            d->closeSession(entry->session.id);
            responder->send(http::HttpResponse::empty(200));
        }
        return;
    }
    responder->send(transportError(405, -32000, QStringLiteral("Method not allowed."))
                            .withHeader("Allow", "GET, POST, DELETE"));
}

void StreamableHttpServer::closeSessions(const std::function<bool(const ServerSession &)> &which)
{
    QStringList ids;
    for (const auto &[id, entry] : d->sessions) {
        if (which(entry->session))
            ids.append(id);
    }
    for (const QString &id : std::as_const(ids))
        d->closeSession(id);
}

bool StreamableHttpServer::sendToSession(const QString &sessionId, const json &message)
{
    const auto it = d->sessions.find(sessionId);
    if (it == d->sessions.end() || !it->second->standalone)
        return false;
    SessionEntry &entry = *it->second;
    d->emitEvent(*entry.standalone, message);
    return entry.standalone->responder && entry.standalone->responder->isConnected();
}

ServerSession *StreamableHttpServer::findSession(const QString &sessionId)
{
    const auto it = d->sessions.find(sessionId);
    return it == d->sessions.end() ? nullptr : &it->second->session;
}

void StreamableHttpServer::forEachSession(const std::function<void(ServerSession &)> &visit)
{
    // Collect first: a visitor may cause a session to end.
    QStringList ids;
    for (const auto &[id, entry] : d->sessions)
        ids.append(id);
    for (const QString &id : ids) {
        if (const auto it = d->sessions.find(id); it != d->sessions.end())
            visit(it->second->session);
    }
}

int StreamableHttpServer::sessionCount() const
{
    return int(d->sessions.size());
}

void StreamableHttpServer::Private::handlePost(const http::HttpRequest &request,
                                               http::HttpResponder *responder, const QString &scope,
                                               const SessionOwner &owner)
{
    if (!accepts(request, "application/json") || !accepts(request, "text/event-stream")) {
        responder->send(transportError(
                406, -32000,
                QStringLiteral("Not Acceptable: the client must accept both application/json "
                               "and text/event-stream.")));
        return;
    }
    if (mediaType(request.header("Content-Type")) != "application/json") {
        responder->send(transportError(
                415, -32000,
                QStringLiteral("Unsupported Media Type: the body must be application/json.")));
        return;
    }
    const std::optional<json> body = parse(request.body);
    if (!body) {
        responder->send(transportError(400, ErrorCode::kParseError,
                                       QStringLiteral("Parse error: the body is not valid JSON.")));
        return;
    }
    const bool isBatch = body->is_array();
    const json messages = isBatch ? *body : json::array({*body});
    if (messages.empty()) {
        responder->send(transportError(400, ErrorCode::kInvalidRequest,
                                       QStringLiteral("Invalid Request: the batch is empty.")));
        return;
    }
    bool hasInitialize = false;
    for (const json &message : messages) {
        if (classify(message) == MessageKind::Invalid) {
            responder->send(transportError(
                    400, ErrorCode::kInvalidRequest,
                    QStringLiteral("Invalid Request: not a JSON-RPC 2.0 request, notification or "
                                   "response.")));
            return;
        }
        hasInitialize = hasInitialize || method(message) == QLatin1String("initialize");
    }
    if (hasInitialize) {
        if (isBatch) {
            responder->send(transportError(
                    400, ErrorCode::kInvalidRequest,
                    QStringLiteral("Invalid Request: initialize must not be part of a batch.")));
            return;
        }
        if (classify(messages[0]) != MessageKind::Request) {
            responder->send(
                    transportError(400, ErrorCode::kInvalidRequest,
                                   QStringLiteral("Invalid Request: initialize needs an id.")));
            return;
        }
        handleInitialize(messages[0], responder, scope, owner);
        return;
    }

    SessionEntry *entry = sessionFor(request, responder, scope, owner);
    if (!entry)
        return;
    if (isBatch && !ProtocolVersion::allowsBatching(entry->session.protocolVersion)) {
        responder->send(transportError(
                400, ErrorCode::kInvalidRequest,
                QStringLiteral("Invalid Request: JSON-RPC batches are not allowed in protocol "
                               "version %1 (only in 2025-03-26).")
                        .arg(entry->session.protocolVersion)));
        return;
    }

    const QString sessionId = entry->session.id;
    std::vector<json> requests;
    for (const json &message : messages) {
        if (classify(message) == MessageKind::Request)
            requests.push_back(message);
    }
    if (requests.empty()) {
        responder->send(http::HttpResponse::empty(202));
    } else {
        std::shared_ptr<OutgoingStream> stream = openStream(*entry, responder);
        stream->pendingResponses = int(requests.size());
        for (const json &message : messages) {
            // The handler may end the session (or the server) while we go through the batch.
            const auto it = sessions.find(sessionId);
            if (it == sessions.end())
                return;
            const MessageKind kind = classify(message);
            if (kind == MessageKind::Request) {
                auto reply = std::make_shared<StreamReply>(this, sessionId, stream,
                                                           QPointer<StreamableHttpServer>(q));
                handler->handleRequest(it->second->session, message, std::move(reply));
            } else if (kind == MessageKind::Notification) {
                handler->handleNotification(it->second->session, message);
            } else {
                handler->handleResponse(it->second->session, message);
            }
        }
        return;
    }
    for (const json &message : messages) {
        const auto it = sessions.find(sessionId);
        if (it == sessions.end())
            return;
        if (classify(message) == MessageKind::Notification)
            handler->handleNotification(it->second->session, message);
        else
            handler->handleResponse(it->second->session, message);
    }
}

void StreamableHttpServer::Private::handleInitialize(const json &request,
                                                     http::HttpResponder *responder,
                                                     const QString &scope,
                                                     const SessionOwner &owner)
{
    if (!makeRoom()) {
        responder->send(transportError(
                503, -32000,
                QStringLiteral("Too many open sessions (%1): close unused clients and retry.")
                        .arg(options.maxSessions)));
        return;
    }
    auto entry = std::make_unique<SessionEntry>();
    entry->session.id = newSessionId();
    entry->session.scope = scope;
    entry->session.owner = owner;
    entry->lastActivityMs = QDateTime::currentMSecsSinceEpoch();
    const QString sessionId = entry->session.id;

    auto stream = std::make_shared<OutgoingStream>();
    stream->number = nextStreamNumber++;
    stream->sse = false;
    stream->pendingResponses = 1;
    stream->responder = responder;
    QPointer<StreamableHttpServer> guard(q);
    stream->onJsonResponse
            = [this, guard, sessionId, responder = QPointer(responder)](const json &response) {
                  if (!guard)
                      return;
                  const auto it = sessions.find(sessionId);
                  const bool accepted = response.contains("result") && it != sessions.end();
                  if (it != sessions.end()) {
                      it->second->streams.clear();
                      if (!accepted)
                          sessions.erase(it);
                  }
                  if (!responder)
                      return;
                  http::HttpResponse answer = http::HttpResponse::json(200, serialize(response));
                  if (accepted)
                      answer.withHeader(kSessionHeader, sessionId.toLatin1());
                  responder->send(answer);
              };
    entry->streams[stream->number] = stream;
    ServerSession &session = entry->session;
    sessions[sessionId] = std::move(entry);
    handler->handleRequest(session, request,
                           std::make_shared<StreamReply>(this, sessionId, stream, guard));
}

SessionEntry *StreamableHttpServer::Private::sessionFor(const http::HttpRequest &request,
                                                        http::HttpResponder *responder,
                                                        const QString &scope,
                                                        const SessionOwner &owner)
{
    const QString id = QString::fromLatin1(request.header(kSessionHeader));
    if (id.isEmpty()) {
        responder->send(transportError(
                400, -32000,
                QStringLiteral("Bad Request: the Mcp-Session-Id header is required; send "
                               "initialize first.")));
        return nullptr;
    }
    const auto it = sessions.find(id);
    if (it == sessions.end() || it->second->session.scope != scope
        || it->second->session.owner.grantId != owner.grantId) {
        responder->send(transportError(
                404, -32001,
                QStringLiteral("Session not found: it ended or expired; initialize a "
                               "new one.")));
        return nullptr;
    }
    if (request.hasHeader(kProtocolHeader)) {
        const QString version = QString::fromLatin1(request.header(kProtocolHeader)).trimmed();
        if (!ProtocolVersion::isSupported(version)) {
            responder->send(transportError(
                    400, -32000,
                    QStringLiteral("Bad Request: unsupported MCP-Protocol-Version '%1' (supported: "
                                   "%2).")
                            .arg(version.left(40), ProtocolVersion::supported().join(", "))));
            return nullptr;
        }
    }
    it->second->lastActivityMs = QDateTime::currentMSecsSinceEpoch();
    return it->second.get();
}

void StreamableHttpServer::Private::handleGet(const http::HttpRequest &request,
                                              http::HttpResponder *responder, SessionEntry &entry)
{
    // Resumption: "<stream>.<sequence>" names the last event the client saw.
    const QByteArray lastEventId = request.header("Last-Event-ID");
    if (!lastEventId.isEmpty()) {
        const QList<QByteArray> parts = lastEventId.split('.');
        bool streamOk = false, sequenceOk = false;
        const int number = parts.size() == 2 ? parts[0].toInt(&streamOk) : 0;
        const int sequence = parts.size() == 2 ? parts[1].toInt(&sequenceOk) : 0;
        const auto it = entry.streams.find(number);
        if (streamOk && sequenceOk && it != entry.streams.end() && it->second->sse) {
            OutgoingStream &stream = *it->second;
            if (stream.responder && stream.responder->isStreaming())
                stream.responder->endStream(); // the client replaces a connection it lost
            responder->startStream(
                    200, {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}});
            stream.responder = responder;
            for (const auto &[eventSequence, bytes] : stream.events) {
                if (eventSequence > sequence)
                    responder->write(bytes);
            }
            if (stream.finished)
                responder->endStream();
            return;
        }
        qCDebug(lcMcp) << "Unknown Last-Event-ID; opening a new standalone stream";
    }
    if (entry.standalone && entry.standalone->responder
        && entry.standalone->responder->isConnected()) {
        responder->send(transportError(
                409, -32000,
                QStringLiteral("Conflict: this session already has an open GET stream.")));
        return;
    }
    if (entry.standalone)
        entry.streams.erase(entry.standalone->number);
    entry.standalone = openStream(entry, responder);
    entry.standalone->standalone = true;
}

std::shared_ptr<OutgoingStream>
StreamableHttpServer::Private::openStream(SessionEntry &entry, http::HttpResponder *responder)
{
    auto stream = std::make_shared<OutgoingStream>();
    stream->number = nextStreamNumber++;
    entry.streams[stream->number] = stream;
    attach(entry, *stream, responder);
    if (primesStreams(entry.session.protocolVersion)) {
        // Priming event (SEP-1699): an id to resume from, and how long to wait before that.
        http::SseEvent priming;
        priming.id = QByteArray::number(stream->number) + ".0";
        priming.retryMs = options.retryMs;
        responder->write(priming.serialize());
    }
    return stream;
}

void StreamableHttpServer::Private::attach(SessionEntry &entry, OutgoingStream &stream,
                                           http::HttpResponder *responder)
{
    http::HeaderList headers = {{"Content-Type", "text/event-stream"},
                                {"Cache-Control", "no-cache"},
                                {kSessionHeader, entry.session.id.toLatin1()}};
    responder->startStream(200, headers);
    stream.responder = responder;
    // Idle time counts from when the client's last stream went away, not from its last request.
    QObject::connect(responder, &http::HttpResponder::disconnected, q,
                     [this, sessionId = entry.session.id] {
                         if (const auto it = sessions.find(sessionId); it != sessions.end())
                             it->second->lastActivityMs = QDateTime::currentMSecsSinceEpoch();
                     });
}

void StreamableHttpServer::Private::emitEvent(OutgoingStream &stream, const json &message)
{
    http::SseEvent event;
    const int sequence = stream.nextSequence++;
    event.id = QByteArray::number(stream.number) + '.' + QByteArray::number(sequence);
    event.event = "message";
    event.data = serialize(message);
    QByteArray bytes = event.serialize();
    if (stream.responder && stream.responder->isConnected())
        stream.responder->write(bytes);
    stream.events.emplace_back(sequence, std::move(bytes));
    while (int(stream.events.size()) > options.maxStoredEventsPerStream)
        stream.events.pop_front();
}

void StreamableHttpServer::Private::finishStream(SessionEntry &entry,
                                                 const std::shared_ptr<OutgoingStream> &stream)
{
    if (stream->finished)
        return;
    stream->finished = true;
    if (stream->responder && stream->responder->isStreaming())
        stream->responder->endStream();
    // Keep it a while for a client that lost the connection before the last event; a client
    // resumes what it was waiting for, so the most recent streams are the ones worth keeping.
    entry.finished.emplace_back(stream->number, clock.elapsed());
    while (int(entry.finished.size()) > std::max(0, options.maxFinishedStreamsPerSession)) {
        entry.streams.erase(entry.finished.front().first);
        entry.finished.pop_front();
    }
    if (!retentionTimer.isActive() && !entry.finished.empty())
        retentionTimer.start(options.finishedStreamRetentionMs);
}

void StreamableHttpServer::Private::dropExpiredStreams()
{
    const qint64 now = clock.elapsed();
    const qint64 cutoff = now - options.finishedStreamRetentionMs;
    std::optional<qint64> nextExpiry;
    for (auto &[id, entry] : sessions) {
        while (!entry->finished.empty() && entry->finished.front().second <= cutoff) {
            entry->streams.erase(entry->finished.front().first);
            entry->finished.pop_front();
        }
        if (!entry->finished.empty()) {
            const qint64 expiry
                    = entry->finished.front().second + options.finishedStreamRetentionMs;
            nextExpiry = std::min(nextExpiry.value_or(expiry), expiry);
        }
    }
    if (nextExpiry)
        retentionTimer.start(int(std::max<qint64>(0, *nextExpiry - now)));
}

void StreamableHttpServer::Private::closeSession(const QString &id)
{
    const auto it = sessions.find(id);
    if (it == sessions.end())
        return;
    std::unique_ptr<SessionEntry> entry = std::move(it->second);
    sessions.erase(it);
    for (auto &[number, stream] : entry->streams) {
        if (stream->responder && stream->responder->isStreaming())
            stream->responder->endStream();
    }
    handler->sessionClosed(entry->session);
}

bool StreamableHttpServer::Private::hasLiveResponder(const SessionEntry &entry)
{
    for (const auto &[number, stream] : entry.streams) {
        if (stream->responder && stream->responder->isConnected() && !stream->finished)
            return true;
    }
    return false;
}

bool StreamableHttpServer::Private::makeRoom()
{
    if (int(sessions.size()) < options.maxSessions)
        return true;
    // Evict the session idle the longest, unless every session is in use.
    QString oldest;
    qint64 oldestMs = std::numeric_limits<qint64>::max();
    for (const auto &[id, entry] : sessions) {
        if (!hasLiveResponder(*entry) && entry->lastActivityMs < oldestMs) {
            oldest = id;
            oldestMs = entry->lastActivityMs;
        }
    }
    if (oldest.isEmpty())
        return false;
    qCInfo(lcMcp) << "Session limit reached; ending the session idle the longest";
    closeSession(oldest);
    return true;
}

void StreamableHttpServer::Private::sweep()
{
    const qint64 cutoff = QDateTime::currentMSecsSinceEpoch() - options.sessionIdleTimeoutMs;
    QStringList expired;
    for (const auto &[id, entry] : sessions) {
        if (entry->lastActivityMs < cutoff && !hasLiveResponder(*entry))
            expired.append(id);
    }
    for (const QString &id : expired) {
        qCDebug(lcMcp) << "Ending an idle session";
        closeSession(id);
    }
}

} // namespace mcpbroker::mcp
