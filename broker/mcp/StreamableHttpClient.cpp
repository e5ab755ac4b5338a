#include "mcp/StreamableHttpClient.h"

#include "Logging.h"
#include "http/ClientReply.h"
#include "http/HttpClient.h"
#include "mcp/JsonRpc.h"
#include "mcp/ProtocolVersion.h"
#include "mcp/RequestAuthorizer.h"
#include "mcp/SseParser.h"

#include <QPointer>
#include <QTimer>

#include <algorithm>
#include <map>
#include <vector>

namespace mcpbroker::mcp {

using json = nlohmann::json;
using http::ClientReply;
using Failure = http::ClientReply::Failure;

namespace {

// A POST stream that ends before its response is resumed with GET + Last-Event-ID (SEP-1699
// polling) at most this many times in a row without receiving an event.
constexpr int kMaxResumeAttempts = 5;
// Renewals of the authorization per request: a refresh after a 401, then one step-up after a 403.
constexpr int kMaxAuthRecoveries = 2;
// The standalone GET stream gives up for the session after this many failures in a row.
constexpr int kMaxStandaloneFailures = 5;
constexpr int kInitialBackoffMs = 500;
constexpr int kMaxBackoffMs = 30'000;
constexpr qint64 kMaxRetryMs = 10 * 60 * 1000; // cap for a server's "retry:" value
constexpr qint64 kMaxJsonBodyBytes = 64 * 1024 * 1024;
constexpr qsizetype kMaxQuotedServerMessage = 200;

const QByteArray kAcceptPost = QByteArrayLiteral("application/json, text/event-stream");
const QByteArray kAcceptStream = QByteArrayLiteral("text/event-stream");
const QByteArray kSessionHeader = QByteArrayLiteral("Mcp-Session-Id");
const QByteArray kProtocolHeader = QByteArrayLiteral("MCP-Protocol-Version");
const QByteArray kLastEventIdHeader = QByteArrayLiteral("Last-Event-ID");

bool isSuccess(int status)
{
    return status >= 200 && status < 300;
}

// "text/event-stream; charset=utf-8" -> "text/event-stream"
QByteArray mediaType(const ClientReply *reply)
{
    QByteArray type = reply->header("Content-Type");
    if (const qsizetype semicolon = type.indexOf(';'); semicolon >= 0)
        type.truncate(semicolon);
    return type.trimmed().toLower();
}

QString durationText(int ms)
{
    if (ms % 1000 == 0)
        return ms == 1000 ? QStringLiteral("1 second")
                          : QStringLiteral("%1 seconds").arg(ms / 1000);
    if (ms < 1000)
        return QStringLiteral("%1 ms").arg(ms);
    return QStringLiteral("%1 seconds").arg(ms / 1000.0, 0, 'f', 1);
}

int backoffMs(int attempt)
{
    const int shift = std::clamp(attempt, 0, 16);
    return std::min(kInitialBackoffMs << shift, kMaxBackoffMs);
}

int reconnectDelayMs(const SseParser &parser, int attempt)
{
    if (const auto retry = parser.retryMs())
        return int(std::min(*retry, kMaxRetryMs));
    return backoffMs(attempt);
}

// Session ids: visible ASCII only (0x21–0x7E), per the transport spec.
bool isValidSessionId(QByteArrayView id)
{
    return std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
}

bool isResponse(const json &message)
{
    return message.is_object() && message.contains("id") && !message.contains("method")
            && (message.contains("result") || message.contains("error"));
}

bool isRequest(const json &message)
{
    return message.is_object() && message.contains("id") && message.contains("method");
}

std::optional<qint64> integerId(const json &message)
{
    const auto it = message.find("id");
    if (it == message.end() || !it->is_number_integer())
        return std::nullopt;
    return it->get<qint64>();
}

QString jsonString(const json &object, const char *key)
{
    if (!object.is_object())
        return {};
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? QString::fromStdString(it->get<std::string>())
                                                 : QString();
}

// The JSON-RPC error message a server may put in the body of an HTTP error.
QString serverErrorText(QByteArrayView body)
{
    const auto value = jsonrpc::parse(body);
    if (!value || !value->is_object())
        return {};
    QString text = jsonString(value->value("error", json::object()), "message");
    if (text.size() > kMaxQuotedServerMessage)
        text = text.left(kMaxQuotedServerMessage) + QChar(0x2026);
    return text;
}

// The MCP spec answers a request carrying an unknown session id with 404. After a restart, servers
// built on the TypeScript SDK answer 400 instead: "No valid session ID provided" (its
// multi-session example) or "Server not initialized" (one transport per process). All of them
// mean the same to us: the session is gone. A wrong guess costs one initialize, as the request is
// retried on a new session only once.
bool meansSessionNotFound(int status, QByteArrayView body, bool sentSessionId)
{
    if (!sentSessionId)
        return false;
    if (status == 404)
        return true;
    if (status != 400)
        return false;
    const QString text = serverErrorText(body);
    return text.contains(QLatin1String("session"), Qt::CaseInsensitive)
            || text.contains(QLatin1String("not initialized"), Qt::CaseInsensitive);
}

} // namespace

struct StreamableHttpClient::Private
{
    enum class Purpose { Call, Handshake };

    struct Pending
    {
        RequestId id = 0;
        Purpose purpose = Purpose::Call;
        QString method;
        json params;
        RequestCallbacks callbacks;
        int timeoutMs = 0;
        QTimer deadline;
        QTimer resumeTimer;

        QPointer<ClientReply> reply; // the POST, or the GET resuming its stream
        SseParser parser;
        bool modeDecided = false;
        bool sseMode = false;
        bool resuming = false;
        int resumeAttempts = 0;

        bool sent = false;
        bool awaitingAuthorizer = false; // send() waits for RequestAuthorizer::whenReady
        bool retriedOnNewSession = false;
        QByteArray usedAuthorization; // secret: what the last send carried
        int authRecoveries = 0;
        quint64 generation = 0; // the session it was sent in
        bool sentWithSession = false;

        // Handshake only: the initialize result, held while notifications/initialized is posted.
        QByteArray assignedSessionId;
        bool awaitingInitializedAck = false;
        json initializeResult;
    };

    Private(StreamableHttpClient *q, Options options, QNetworkAccessManager *network)
        : q(q), options(std::move(options)), http(network)
    {
        getRetryTimer.setSingleShot(true);
        QObject::connect(&getRetryTimer, &QTimer::timeout, q, [this] { startStandaloneStream(); });
    }

    StreamableHttpClient *q;
    Options options;
    http::HttpClient http;

    State state = State::Disconnected;
    Error lastError;

    // The session (valid while Ready).
    quint64 generation = 1;
    QByteArray sessionId;
    QString protocolVersion;
    json serverCapabilities = json::object();
    json serverInfo = json::object();
    QString instructions;

    RequestId nextId = 1;
    std::map<RequestId, std::unique_ptr<Pending>> pending;
    std::vector<json> queuedOutgoing; // notifications waiting for Ready

    // The standalone GET stream.
    QPointer<ClientReply> getReply;
    SseParser getParser;
    bool getDecided = false;
    bool getSseMode = false;
    bool getReceivedEvent = false;
    bool getUnsupported = false;
    int getFailures = 0;
    QTimer getRetryTimer;

    // --- helpers -------------------------------------------------------------------------

    QString displayUrl() const
    {
        return options.url.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment)
                .toDisplayString();
    }
    QString hostForLog() const
    {
        const int port = options.url.port();
        return port > 0 ? QStringLiteral("%1:%2").arg(options.url.host()).arg(port)
                        : options.url.host();
    }

    Error unreachable(Failure failure) const
    {
        return Error::make(Error::Kind::Unreachable,
                           QStringLiteral("Cannot reach the MCP server at %1: %2.")
                                   .arg(displayUrl(), ClientReply::describe(failure)));
    }
    Error protocolError(const QString &what) const
    {
        return Error::make(Error::Kind::Protocol,
                           QStringLiteral("The MCP server at %1 %2").arg(displayUrl(), what));
    }
    Error httpError(const ClientReply *reply, int status, QByteArrayView body,
                    const QString &method) const;

    void setState(State newState)
    {
        if (state == newState)
            return;
        state = newState;
        Q_EMIT q->stateChanged(newState);
    }

    Pending *find(RequestId id)
    {
        const auto it = pending.find(id);
        return it == pending.end() ? nullptr : it->second.get();
    }

    std::unique_ptr<Pending> take(RequestId id)
    {
        auto node = pending.extract(id);
        if (node.empty())
            return nullptr;
        std::unique_ptr<Pending> p = std::move(node.mapped());
        releaseReply(p->reply);
        p->deadline.stop();
        p->resumeTimer.stop();
        return p;
    }

    // Removes the pending requests that `which` selects; answering them is the caller's job.
    std::vector<std::unique_ptr<Pending>>
    takeCalls(const std::function<bool(const Pending &)> &which)
    {
        std::vector<RequestId> ids;
        for (const auto &[id, p] : pending) {
            if (which(*p))
                ids.push_back(id);
        }
        std::vector<std::unique_ptr<Pending>> taken;
        for (const RequestId id : ids)
            taken.push_back(take(id));
        return taken;
    }

    // Gives each taken call (not the handshake) `error`; stops if a callback deleted the client.
    static void failCalls(std::vector<std::unique_ptr<Pending>> &calls, const Error &error,
                          const QPointer<StreamableHttpClient> &guard)
    {
        for (auto &p : calls) {
            if (!guard)
                return;
            if (p->purpose != Purpose::Call)
                continue;
            if (auto onResult = std::move(p->callbacks.onResult))
                onResult(error);
        }
    }

    void releaseReply(QPointer<ClientReply> &reply)
    {
        if (ClientReply *r = reply.data()) {
            QObject::disconnect(r, nullptr, q, nullptr);
            r->discard();
        }
        reply = nullptr;
    }

    QByteArray currentAuthorization() const
    {
        return options.authorizer ? options.authorizer->authorization() : QByteArray();
    }

    http::ClientRequest makeRequest(QByteArray method, const QByteArray &accept,
                                    bool withSession) const
    {
        http::ClientRequest request{std::move(method), options.url, options.headers, {}};
        if (const QByteArray authorization = currentAuthorization(); !authorization.isEmpty())
            request.headers.append({QByteArrayLiteral("Authorization"), authorization});
        request.headers.append({QByteArrayLiteral("Accept"), accept});
        if (withSession) {
            if (!sessionId.isEmpty())
                request.headers.append({kSessionHeader, sessionId});
            if (!protocolVersion.isEmpty())
                request.headers.append({kProtocolHeader, protocolVersion.toLatin1()});
        }
        return request;
    }
    // A JSON-RPC message POSTed in the session of the moment (or none: initialize).
    ClientReply *postJson(const json &message, bool withSession)
    {
        http::ClientRequest request = makeRequest(QByteArrayLiteral("POST"), kAcceptPost,
                                                  withSession);
        request.headers.append({QByteArrayLiteral("Content-Type"),
                                QByteArrayLiteral("application/json")});
        request.body = jsonrpc::serialize(message);
        return http.send(request);
    }

    // --- lifecycle -----------------------------------------------------------------------

    void startHandshake();
    void acceptInitializeResult(Pending &p, const json &result);
    void handshakeFinished(Result<json> result);
    void connectFailed(const Error &error);
    void connectionLost(const Error &error);
    void dropSession();
    void sendDelete();

    // --- requests ------------------------------------------------------------------------

    void startDeadline(Pending &p);
    void whenAuthorized(std::function<void()> sendNow);
    void send(Pending &p);
    void transmit(Pending &p);
    void attach(Pending &p, ClientReply *reply);
    void onPendingReadyRead(RequestId id, ClientReply *reply);
    void onPendingFinished(RequestId id, ClientReply *reply);
    bool decideMode(Pending &p);
    void processPendingStream(RequestId id, QByteArrayView bytes);
    void handleMessage(const json &message, RequestId owner);
    void completeWithResponse(RequestId id, const json &response);
    void handleHttpAnswer(RequestId id, int status, const QByteArray &type, const QByteArray &body,
                          const ClientReply *reply);
    void handleTransportFailure(RequestId id, Failure failure);
    void streamEnded(RequestId id, Failure failure);
    void resume(RequestId id);
    void sessionNotFound(RequestId id);
    bool recoverAuthorization(RequestId id, int status, const ClientReply *reply);
    void onDeadline(RequestId id);
    void finish(RequestId id, Result<json> result);

    void postMessage(const json &message, const QString &label);
    void post(const json &message, const QString &label);
    void sendQueuedOutgoing();

    // --- the standalone GET stream -------------------------------------------------------

    void startStandaloneStream();
    void stopStandaloneStream();
    void onStandaloneReadyRead(ClientReply *reply);
    void onStandaloneFinished(ClientReply *reply);
    void scheduleStandaloneReconnect();

    void shutdown();
};

Error StreamableHttpClient::Private::httpError(const ClientReply *reply, int status,
                                               QByteArrayView body, const QString &method) const
{
    const QString reason = QString::fromLatin1(reply->reasonPhrase());
    const QString statusText = reason.isEmpty() ? QString::number(status)
                                                : QStringLiteral("%1 %2").arg(status).arg(reason);
    if (status == 401 || status == 403) {
        Error error = Error::make(
                Error::Kind::Unauthorized,
                QStringLiteral("The MCP server at %1 refused %2 (HTTP %3): sign in to it again.")
                        .arg(displayUrl(), method, statusText));
        const QByteArray challenge = reply->header("WWW-Authenticate");
        error.data = json{{"wwwAuthenticate", challenge.toStdString()}};
        return error;
    }
    QString text = QStringLiteral("answered %1 with HTTP %2").arg(method, statusText);
    if (const QString serverText = serverErrorText(body); !serverText.isEmpty())
        text += QStringLiteral(" (\"%1\")").arg(serverText);
    if (status == 404)
        text += QStringLiteral(": check the server URL");
    return protocolError(text + QLatin1Char('.'));
}

// --- lifecycle ---------------------------------------------------------------------------

void StreamableHttpClient::Private::startHandshake()
{
    auto p = std::make_unique<Pending>();
    p->id = nextId++;
    p->purpose = Purpose::Handshake;
    p->method = QStringLiteral("initialize");
    p->params = {{"protocolVersion", ProtocolVersion::kLatest.toStdString()},
                 {"capabilities", options.capabilities},
                 {"clientInfo", options.clientInfo}};
    p->timeoutMs = options.connectTimeoutMs;
    Pending &ref = *p;
    pending.emplace(p->id, std::move(p));
    qCInfo(lcUpstream).noquote() << "Connecting to MCP server at" << hostForLog();
    startDeadline(ref);
    send(ref);
    setState(State::Connecting);
}

void StreamableHttpClient::Private::acceptInitializeResult(Pending &p, const json &result)
{
    const RequestId id = p.id;
    if (!result.is_object() || !result.contains("protocolVersion")
        || !result["protocolVersion"].is_string()) {
        finish(id,
               protocolError(QStringLiteral("answered initialize without a protocol version.")));
        return;
    }
    const QString version = jsonString(result, "protocolVersion");
    if (!ProtocolVersion::isSupported(version)) {
        // Leave the session the server may have opened for us.
        if (!p.assignedSessionId.isEmpty() && isValidSessionId(p.assignedSessionId)) {
            sessionId = p.assignedSessionId;
            sendDelete();
            sessionId.clear();
        }
        finish(id,
               protocolError(
                       QStringLiteral("speaks MCP protocol version %1, which this broker does not "
                                      "support (it supports %2). Update the server or the broker.")
                               .arg(version,
                                    ProtocolVersion::supported().join(QStringLiteral(", ")))));
        return;
    }
    if (!isValidSessionId(p.assignedSessionId)) {
        finish(id, protocolError(QStringLiteral("sent an invalid Mcp-Session-Id header.")));
        return;
    }

    sessionId = p.assignedSessionId;
    protocolVersion = version;
    const json capabilities = result.value("capabilities", json::object());
    serverCapabilities = capabilities.is_object() ? capabilities : json::object();
    const json info = result.value("serverInfo", json::object());
    serverInfo = info.is_object() ? info : json::object();
    instructions = jsonString(result, "instructions");

    // Lifecycle: the client sends notifications/initialized; we are Ready once the server took it,
    // so later requests cannot overtake it on another connection.
    releaseReply(p.reply);
    p.awaitingInitializedAck = true;
    p.initializeResult = result;
    const json initialized = {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}};
    qCDebug(lcUpstream).noquote() << "POST notifications/initialized to" << hostForLog();
    attach(p, postJson(initialized, true));
}

void StreamableHttpClient::Private::handshakeFinished(Result<json> result)
{
    if (!result.ok()) {
        connectFailed(result.error());
        return;
    }
    QPointer<StreamableHttpClient> guard(q);
    lastError = {};
    getUnsupported = false;
    getFailures = 0;
    state = State::Ready; // announced below, once everything queued is on its way
    qCInfo(lcUpstream).noquote() << "Connected to MCP server at" << hostForLog() << "protocol"
                                 << protocolVersion << (sessionId.isEmpty() ? "without" : "with")
                                 << "session";

    std::vector<RequestId> queued;
    for (const auto &[id, p] : pending) {
        if (p->purpose == Purpose::Call && !p->sent && !p->awaitingAuthorizer)
            queued.push_back(id);
    }
    for (const RequestId id : queued) {
        if (Pending *p = find(id))
            send(*p);
    }
    sendQueuedOutgoing();
    startStandaloneStream();
    // Announce Ready only now, so a slot reacting to it cannot overtake the queued requests.
    state = State::Connecting;
    setState(State::Ready);
}

void StreamableHttpClient::Private::connectFailed(const Error &error)
{
    QPointer<StreamableHttpClient> guard(q);
    qCWarning(lcUpstream).noquote()
            << "Connecting to MCP server at" << hostForLog() << "failed:" << error.message;
    if (!sessionId.isEmpty())
        sendDelete();
    dropSession();
    lastError = error;
    if (!queuedOutgoing.empty()) {
        qCWarning(lcUpstream) << "Dropped" << queuedOutgoing.size()
                              << "notification(s) that waited for the connection";
        queuedOutgoing.clear();
    }

    auto failed = takeCalls([](const Pending &p) { return p.purpose == Purpose::Call && !p.sent; });
    setState(State::Failed);
    failCalls(failed, error, guard);
}

void StreamableHttpClient::Private::connectionLost(const Error &error)
{
    if (state != State::Ready)
        return;
    QPointer<StreamableHttpClient> guard(q);
    qCWarning(lcUpstream).noquote()
            << "Lost the connection to MCP server at" << hostForLog() << "-" << error.message;
    dropSession();
    lastError = error;
    queuedOutgoing.clear();

    auto failed = takeCalls([](const Pending &p) { return p.purpose == Purpose::Call && p.sent; });
    setState(State::Disconnected);
    failCalls(failed, error, guard);
}

void StreamableHttpClient::Private::dropSession()
{
    ++generation;
    sessionId.clear();
    protocolVersion.clear();
    serverCapabilities = json::object();
    serverInfo = json::object();
    instructions.clear();
    stopStandaloneStream();
    getParser = SseParser();
    getUnsupported = false;
    getFailures = 0;
}

void StreamableHttpClient::Private::sendDelete()
{
    ClientReply *reply = http.send(
            makeRequest(QByteArrayLiteral("DELETE"), QByteArrayLiteral("application/json"), true));
    const QString host = hostForLog();
    QObject::connect(reply, &ClientReply::finished, reply, [reply, host] {
        const int status = reply->status();
        qCDebug(lcUpstream).noquote() << "DELETE session at" << host << "answered" << status;
        reply->deleteLater();
    });
}

// --- requests ----------------------------------------------------------------------------

void StreamableHttpClient::Private::startDeadline(Pending &p)
{
    if (p.timeoutMs <= 0)
        return;
    const RequestId id = p.id;
    p.deadline.setSingleShot(true);
    QObject::connect(&p.deadline, &QTimer::timeout, q, [this, id] { onDeadline(id); });
    p.deadline.start(p.timeoutMs);
}

// Runs `sendNow` once the authorizer is ready (RequestAuthorizer::whenReady): while it renews
// its credentials, messages wait rather than go out bare to a protected server. Usually it is
// ready at once and `sendNow` runs inside this call.
void StreamableHttpClient::Private::whenAuthorized(std::function<void()> sendNow)
{
    if (!options.authorizer)
        return sendNow();
    QPointer<StreamableHttpClient> alive(q);
    options.authorizer->whenReady([alive, sendNow = std::move(sendNow)] {
        if (alive)
            sendNow();
    });
}

void StreamableHttpClient::Private::send(Pending &p)
{
    p.awaitingAuthorizer = true;
    whenAuthorized([this, id = p.id] {
        Pending *waiting = find(id);
        if (!waiting || !waiting->awaitingAuthorizer)
            return; // answered, cancelled or timed out meanwhile
        waiting->awaitingAuthorizer = false;
        if (waiting->purpose == Purpose::Handshake || state == State::Ready)
            transmit(*waiting);
        else
            q->connectToServer(); // the session went meanwhile: sent once Ready again
    });
}

void StreamableHttpClient::Private::transmit(Pending &p)
{
    json body = {{"jsonrpc", "2.0"}, {"id", p.id}, {"method", p.method.toStdString()}};
    if (!p.params.is_null())
        body["params"] = p.params;
    const bool handshake = p.purpose == Purpose::Handshake;

    p.sent = true;
    p.usedAuthorization = currentAuthorization();
    p.generation = generation;
    p.sentWithSession = !handshake && !sessionId.isEmpty();
    p.parser = SseParser();
    p.modeDecided = false;
    p.sseMode = false;
    p.resuming = false;
    p.resumeAttempts = 0;
    qCDebug(lcUpstream).noquote() << "POST" << p.method << "id" << p.id << "to" << hostForLog();
    attach(p, postJson(body, !handshake));
}

void StreamableHttpClient::Private::attach(Pending &p, ClientReply *reply)
{
    const RequestId id = p.id;
    p.reply = reply;
    QObject::connect(reply, &ClientReply::readyRead, q,
                     [this, id, reply] { onPendingReadyRead(id, reply); });
    QObject::connect(reply, &ClientReply::finished, q,
                     [this, id, reply] { onPendingFinished(id, reply); });
}

bool StreamableHttpClient::Private::decideMode(Pending &p)
{
    if (p.modeDecided)
        return true;
    const int status = p.reply->status();
    if (status == 0)
        return false;
    p.modeDecided = true;
    p.sseMode = isSuccess(status) && mediaType(p.reply) == kAcceptStream;
    if (p.purpose == Purpose::Handshake && !p.awaitingInitializedAck && isSuccess(status))
        p.assignedSessionId = p.reply->header(kSessionHeader);
    return true;
}

void StreamableHttpClient::Private::onPendingReadyRead(RequestId id, ClientReply *reply)
{
    Pending *p = find(id);
    if (!p || p->reply != reply || p->awaitingInitializedAck || !decideMode(*p))
        return;
    if (p->sseMode) {
        processPendingStream(id, reply->readAll());
    } else if (reply->bytesAvailable() > kMaxJsonBodyBytes) {
        finish(id,
               protocolError(
                       QStringLiteral("sent an answer to %1 that is too large.").arg(p->method)));
    }
    // Otherwise a JSON body or an HTTP error: read it whole when the reply finishes.
}

void StreamableHttpClient::Private::onPendingFinished(RequestId id, ClientReply *reply)
{
    Pending *p = find(id);
    if (!p || p->reply != reply)
        return;
    const Failure failure = reply->failure();
    const int status = reply->status();

    if (p->awaitingInitializedAck) {
        if (status == 0 || failure != Failure::None)
            finish(id, unreachable(failure));
        else if (isSuccess(status))
            finish(id, p->initializeResult);
        else
            finish(id,
                   httpError(reply, status, reply->readAll(),
                             QStringLiteral("notifications/initialized")));
        return;
    }

    decideMode(*p);
    if (p->sseMode) {
        QPointer<StreamableHttpClient> guard(q);
        processPendingStream(id, reply->readAll());
        if (!guard)
            return;
        if (const Pending *again = find(id); again && again->reply == reply)
            streamEnded(id, failure);
        return;
    }
    if (status == 0 || failure != Failure::None) {
        handleTransportFailure(id, failure);
        return;
    }
    const QByteArray type = mediaType(reply);
    const QByteArray body = reply->readAll();
    handleHttpAnswer(id, status, type, body, reply);
}

void StreamableHttpClient::Private::processPendingStream(RequestId id, QByteArrayView bytes)
{
    Pending *p = find(id);
    if (!p)
        return;
    const QList<SseParser::Event> events = p->parser.feed(bytes);
    if (p->parser.failed()) {
        finish(id,
               protocolError(
                       QStringLiteral("sent an event for %1 that is too large.").arg(p->method)));
        return;
    }
    QPointer<StreamableHttpClient> guard(q);
    for (const SseParser::Event &event : events) {
        if (!guard || !(p = find(id)))
            return;
        p->resumeAttempts = 0;
        if (event.type != QLatin1String("message") || event.data.trimmed().isEmpty())
            continue; // e.g. the priming event of SEP-1699: only an id
        const auto message = jsonrpc::parse(event.data);
        if (!message || !(message->is_object() || message->is_array())) {
            finish(id,
                   protocolError(QStringLiteral("sent malformed JSON on the stream for %1.")
                                         .arg(p->method)));
            return;
        }
        if (message->is_array()) { // a batch (2025-03-26)
            for (const json &item : *message) {
                if (!guard || !find(id))
                    return;
                handleMessage(item, id);
            }
        } else {
            handleMessage(*message, id);
        }
    }
}

// A message from the server: a response completes its request; anything else goes to the
// request's onMessage (or serverMessage for the GET stream, owner 0, or without onMessage).
void StreamableHttpClient::Private::handleMessage(const json &message, RequestId owner)
{
    if (isResponse(message)) {
        const auto id = integerId(message);
        if (Pending *p = id ? find(*id) : nullptr; p && p->sent) {
            completeWithResponse(*id, message);
        } else {
            qCDebug(lcUpstream) << "Ignoring a response for an unknown request from"
                                << hostForLog();
        }
        return;
    }
    if (!message.is_object() || !message.contains("method") || !message["method"].is_string()) {
        qCWarning(lcUpstream).noquote()
                << "Ignoring a malformed JSON-RPC message from" << hostForLog();
        return;
    }
    if (isRequest(message) && message["method"] == "ping") {
        // Base protocol: the receiver of a ping answers promptly with an empty result.
        postMessage({{"jsonrpc", "2.0"}, {"id", message["id"]}, {"result", json::object()}},
                    QStringLiteral("response to ping"));
        return;
    }
    Pending *p = owner ? find(owner) : nullptr;
    if (p && p->callbacks.onMessage) {
        // A copy: the callback may cancel the request, destroying the original.
        const auto onMessage = p->callbacks.onMessage;
        onMessage(message);
    } else {
        Q_EMIT q->serverMessage(message);
    }
}

void StreamableHttpClient::Private::completeWithResponse(RequestId id, const json &response)
{
    const auto error = response.find("error");
    if (error == response.end()) {
        finish(id, response.value("result", json()));
        return;
    }
    if (!error->is_object() || !error->contains("code") || !(*error)["code"].is_number_integer()) {
        finish(id, protocolError(QStringLiteral("sent a malformed error object.")));
        return;
    }
    Error rpc;
    rpc.kind = Error::Kind::Rpc;
    rpc.rpcCode = (*error)["code"].get<int>();
    rpc.message = jsonString(*error, "message");
    if (rpc.message.isEmpty())
        rpc.message = QStringLiteral("The MCP server at %1 answered with error %2.")
                              .arg(displayUrl())
                              .arg(rpc.rpcCode);
    rpc.data = error->value("data", json());
    finish(id, rpc);
}

void StreamableHttpClient::Private::handleHttpAnswer(RequestId id, int status,
                                                     const QByteArray &type, const QByteArray &body,
                                                     const ClientReply *reply)
{
    Pending *p = find(id);
    if (isSuccess(status)) {
        if (body.isEmpty()) {
            finish(id,
                   protocolError(QStringLiteral("accepted %1 (HTTP %2) without answering it.")
                                         .arg(p->method)
                                         .arg(status)));
            return;
        }
        if (type != "application/json") {
            finish(id,
                   protocolError(
                           QStringLiteral("answered %1 with content type '%2' instead of JSON or "
                                          "an event stream.")
                                   .arg(p->method, QString::fromLatin1(type))));
            return;
        }
        const auto message = jsonrpc::parse(body);
        if (!message || !(message->is_object() || message->is_array())) {
            finish(id,
                   protocolError(
                           QStringLiteral("sent malformed JSON in reply to %1.").arg(p->method)));
            return;
        }
        QPointer<StreamableHttpClient> guard(q);
        if (message->is_array()) {
            for (const json &item : *message) {
                if (!guard || !find(id))
                    return;
                handleMessage(item, id);
            }
        } else {
            handleMessage(*message, id);
        }
        // The handshake stays pending after its response, while notifications/initialized goes.
        if (guard && (p = find(id)) && !p->awaitingInitializedAck) {
            finish(id,
                   protocolError(
                           QStringLiteral("answered %1 without a response to it.").arg(p->method)));
        }
        return;
    }

    if (meansSessionNotFound(status, body, p->sentWithSession)) {
        if (p->resuming) {
            finish(id,
                   Error::make(Error::Kind::Unreachable,
                               QStringLiteral("The MCP server at %1 ended the session while "
                                              "%2 was running.")
                                       .arg(displayUrl(), p->method)));
        } else {
            sessionNotFound(id);
        }
        return;
    }
    if (recoverAuthorization(id, status, reply))
        return;
    qCWarning(lcUpstream).noquote()
            << p->method << "id" << id << "to" << hostForLog() << "failed with HTTP" << status;
    finish(id, httpError(reply, status, body, p->method));
}

// MCP authorization: a 401 (no or a dead token) or 403 (insufficient scope) is the
// authorizer's to mend, a bounded number of times per request; then the request goes again.
bool StreamableHttpClient::Private::recoverAuthorization(RequestId id, int status,
                                                         const ClientReply *reply)
{
    Pending *p = find(id);
    if ((status != 401 && status != 403) || !options.authorizer || p->awaitingInitializedAck
        || p->authRecoveries >= kMaxAuthRecoveries)
        return false;
    ++p->authRecoveries;
    p->sent = false;
    releaseReply(p->reply);
    qCInfo(lcUpstream).noquote() << p->method << "id" << id << "to" << hostForLog()
                                 << "was refused with HTTP" << status << "; renewing authorization";
    QPointer<StreamableHttpClient> guard(q);
    options.authorizer->recover(
            status, reply->header("WWW-Authenticate"), std::exchange(p->usedAuthorization, {}),
            [this, guard, id](Result<void> recovered) {
                if (!guard)
                    return;
                Pending *again = find(id);
                if (!again || again->sent)
                    return;
                if (!recovered) {
                    finish(id, recovered.error());
                    return;
                }
                if (again->purpose == Purpose::Handshake || state == State::Ready)
                    send(*again);
                else if (state != State::Connecting)
                    startHandshake();
            });
    return true;
}

void StreamableHttpClient::Private::handleTransportFailure(RequestId id,
                                                           Failure failure)
{
    Pending *p = find(id);
    qCDebug(lcUpstream).noquote() << p->method << "id" << id << "to" << hostForLog()
                                  << "failed:" << ClientReply::describe(failure);
    if (p->purpose == Purpose::Call && p->generation == generation && state == State::Ready) {
        // The upstream went away (e.g. its process was killed): everything in flight fails, and
        // the next request starts a new session.
        connectionLost(unreachable(failure));
        return;
    }
    finish(id, unreachable(failure));
}

void StreamableHttpClient::Private::streamEnded(RequestId id, Failure failure)
{
    Pending *p = find(id);
    releaseReply(p->reply);
    const bool sameSession = p->generation == generation && state == State::Ready;
    if (p->purpose == Purpose::Call && sameSession && !p->parser.lastEventId().isEmpty()
        && p->resumeAttempts < kMaxResumeAttempts) {
        // SEP-1699: the server may close the connection before the response; poll the stream
        // again with GET + Last-Event-ID after its retry time.
        const int delay = reconnectDelayMs(p->parser, p->resumeAttempts);
        ++p->resumeAttempts;
        qCDebug(lcUpstream).noquote()
                << "Stream for" << p->method << "id" << id << "from" << hostForLog()
                << "ended before its response; resuming in" << delay << "ms";
        p->resumeTimer.setSingleShot(true);
        QObject::disconnect(&p->resumeTimer, nullptr, q, nullptr);
        QObject::connect(&p->resumeTimer, &QTimer::timeout, q, [this, id] { resume(id); });
        p->resumeTimer.start(delay);
        return;
    }
    if (failure != Failure::None) {
        handleTransportFailure(id, failure);
        return;
    }
    finish(id,
           protocolError(QStringLiteral("closed the stream for %1 without answering it.")
                                 .arg(p->method)));
}

void StreamableHttpClient::Private::resume(RequestId id)
{
    Pending *p = find(id);
    if (!p)
        return;
    if (p->generation != generation || state != State::Ready) {
        finish(id,
               Error::make(Error::Kind::Unreachable,
                           QStringLiteral("The session with the MCP server at %1 ended while "
                                          "%2 was running.")
                                   .arg(displayUrl(), p->method)));
        return;
    }
    http::ClientRequest request = makeRequest(QByteArrayLiteral("GET"), kAcceptStream, true);
    request.headers.append({kLastEventIdHeader, p->parser.lastEventId().toUtf8()});
    p->parser.restartStream();
    p->modeDecided = false;
    p->sseMode = false;
    p->resuming = true;
    qCDebug(lcUpstream).noquote() << "GET (resume)" << p->method << "id" << id << "from"
                                  << hostForLog();
    attach(*p, http.send(request));
}

void StreamableHttpClient::Private::sessionNotFound(RequestId id)
{
    Pending *p = find(id);
    if (p->retriedOnNewSession) {
        finish(id,
               protocolError(QStringLiteral("did not recognise a new session either; %1 "
                                            "was not sent.")
                                     .arg(p->method)));
        return;
    }
    // Transport spec: HTTP 404 for our session id means it ended; start a new session and send
    // the request again there (the server never processed it).
    p->retriedOnNewSession = true;
    p->sent = false;
    releaseReply(p->reply);
    if (p->generation == generation) {
        qCInfo(lcUpstream).noquote() << "MCP server at" << hostForLog()
                                     << "no longer knows our session; starting a new one";
        dropSession();
        startHandshake();
    } else if (state == State::Ready) {
        send(*p);
    } else if (state != State::Connecting) {
        startHandshake();
    }
}

void StreamableHttpClient::Private::onDeadline(RequestId id)
{
    Pending *p = find(id);
    if (!p)
        return;
    const QString limit = durationText(p->timeoutMs);
    if (p->purpose == Purpose::Handshake) {
        // Lifecycle: initialize must not be cancelled; it just failed.
        finish(id,
               Error::make(Error::Kind::Timeout,
                           QStringLiteral("The MCP server at %1 did not answer initialize "
                                          "within %2.")
                                   .arg(displayUrl(), limit)));
        return;
    }
    const QString method = p->method;
    if (p->sent && p->generation == generation && state == State::Ready) {
        const QString reason = QStringLiteral("Timed out after %1.").arg(limit);
        postMessage({{"jsonrpc", "2.0"},
                     {"method", "notifications/cancelled"},
                     {"params", {{"requestId", id}, {"reason", reason.toStdString()}}}},
                    QStringLiteral("notifications/cancelled for request %1").arg(id));
    }
    qCWarning(lcUpstream).noquote()
            << method << "id" << id << "to" << hostForLog() << "timed out after" << limit;
    finish(id,
           Error::make(Error::Kind::Timeout,
                       QStringLiteral("The MCP server at %1 did not answer %2 within %3; the "
                                      "request was cancelled.")
                               .arg(displayUrl(), method, limit)));
}

void StreamableHttpClient::Private::finish(RequestId id, Result<json> result)
{
    const auto it = pending.find(id);
    if (it == pending.end())
        return;
    Pending &p = *it->second;
    if (p.purpose == Purpose::Handshake && result.ok() && !p.awaitingInitializedAck) {
        acceptInitializeResult(p, result.value());
        return;
    }
    qCDebug(lcUpstream).noquote() << p.method << "id" << id << "from" << hostForLog()
                                  << (result.ok() ? "succeeded" : "failed");
    std::unique_ptr<Pending> done = take(id);
    if (done->purpose == Purpose::Handshake) {
        handshakeFinished(std::move(result));
        return;
    }
    auto onResult = std::move(done->callbacks.onResult);
    done.reset();
    if (onResult)
        onResult(std::move(result));
}

// Notifications and responses, in the session of the moment.
void StreamableHttpClient::Private::postMessage(const json &message, const QString &label)
{
    const quint64 sessionGeneration = generation;
    whenAuthorized([this, message, label, sessionGeneration] {
        // One for a session that ended meanwhile has no one to go to.
        if (generation == sessionGeneration)
            post(message, label);
    });
}

// The server answers 202 Accepted; nothing else to wait for.
void StreamableHttpClient::Private::post(const json &message, const QString &label)
{
    ClientReply *reply = postJson(message, true);
    const quint64 sentGeneration = generation;
    const bool withSession = !sessionId.isEmpty();
    qCDebug(lcUpstream).noquote() << "POST" << label << "to" << hostForLog();
    QObject::connect(reply, &ClientReply::finished, reply, &QObject::deleteLater);
    QObject::connect(reply, &ClientReply::finished, q,
                     [this, reply, label, sentGeneration, withSession] {
                         const int status = reply->status();
                         if (isSuccess(status)) {
                             qCDebug(lcUpstream).noquote() << label << "accepted by" << hostForLog()
                                                           << "with HTTP" << status;
                             return;
                         }
                         if (status == 0) {
                             qCWarning(lcUpstream).noquote()
                                     << label << "to" << hostForLog()
                                     << "failed:" << ClientReply::describe(reply->failure());
                             return;
                         }
                         qCWarning(lcUpstream).noquote()
                                 << label << "rejected by" << hostForLog() << "with HTTP" << status;
                         if (sentGeneration == generation && state == State::Ready
                             && meansSessionNotFound(status, reply->readAll(), withSession)) {
                             qCInfo(lcUpstream).noquote() << "MCP server at" << hostForLog()
                                                          << "no longer knows our session";
                             dropSession();
                             setState(State::Disconnected);
                         }
                     });
}

void StreamableHttpClient::Private::sendQueuedOutgoing()
{
    std::vector<json> outgoing;
    outgoing.swap(queuedOutgoing);
    for (const json &message : outgoing)
        postMessage(message, jsonString(message, "method"));
}

// --- the standalone GET stream -----------------------------------------------------------

void StreamableHttpClient::Private::startStandaloneStream()
{
    if (state != State::Ready || getUnsupported || getReply)
        return;
    http::ClientRequest request = makeRequest(QByteArrayLiteral("GET"), kAcceptStream, true);
    if (!getParser.lastEventId().isEmpty())
        request.headers.append({kLastEventIdHeader, getParser.lastEventId().toUtf8()});
    getParser.restartStream();
    getDecided = false;
    getSseMode = false;
    getReceivedEvent = false;
    qCDebug(lcUpstream).noquote() << "GET stream from" << hostForLog();
    ClientReply *reply = http.send(request);
    getReply = reply;
    QObject::connect(reply, &ClientReply::readyRead, q,
                     [this, reply] { onStandaloneReadyRead(reply); });
    QObject::connect(reply, &ClientReply::finished, q,
                     [this, reply] { onStandaloneFinished(reply); });
}

void StreamableHttpClient::Private::stopStandaloneStream()
{
    getRetryTimer.stop();
    releaseReply(getReply);
}

void StreamableHttpClient::Private::onStandaloneReadyRead(ClientReply *reply)
{
    if (reply != getReply)
        return;
    if (!getDecided) {
        const int status = reply->status();
        if (status == 0)
            return;
        getDecided = true;
        getSseMode = isSuccess(status) && mediaType(reply) == kAcceptStream;
    }
    if (!getSseMode)
        return;
    const QList<SseParser::Event> events = getParser.feed(reply->readAll());
    if (getParser.failed()) {
        qCWarning(lcUpstream).noquote()
                << "Event on the GET stream from" << hostForLog() << "is too large; reconnecting";
        releaseReply(getReply);
        ++getFailures;
        scheduleStandaloneReconnect();
        return;
    }
    QPointer<StreamableHttpClient> guard(q);
    const quint64 streamGeneration = generation;
    for (const SseParser::Event &event : events) {
        if (!guard || generation != streamGeneration)
            return;
        getReceivedEvent = true;
        getFailures = 0;
        if (event.type != QLatin1String("message") || event.data.trimmed().isEmpty())
            continue;
        const auto message = jsonrpc::parse(event.data);
        if (!message || !(message->is_object() || message->is_array())) {
            qCWarning(lcUpstream).noquote()
                    << "Ignoring malformed JSON on the GET stream from" << hostForLog();
            continue;
        }
        if (message->is_array()) {
            for (const json &item : *message) {
                if (!guard || generation != streamGeneration)
                    return;
                handleMessage(item, 0);
            }
        } else {
            handleMessage(*message, 0);
        }
    }
}

void StreamableHttpClient::Private::onStandaloneFinished(ClientReply *reply)
{
    if (reply != getReply)
        return;
    QPointer<StreamableHttpClient> guard(q);
    const quint64 streamGeneration = generation;
    onStandaloneReadyRead(reply); // the rest of the stream, if any
    if (!guard || generation != streamGeneration || reply != getReply)
        return;
    const int status = reply->status();
    const Failure failure = reply->failure();
    const QByteArray body = getSseMode ? QByteArray() : reply->readAll();
    QObject::disconnect(reply, nullptr, q, nullptr);
    reply->deleteLater();
    getReply = nullptr;

    if (getSseMode) {
        // The stream dropped or the server closed it: reconnect with Last-Event-ID.
        getFailures = getReceivedEvent ? 0 : getFailures + 1;
        qCDebug(lcUpstream).noquote()
                << "GET stream from" << hostForLog() << "ended"
                << (failure != Failure::None ? ClientReply::describe(failure) : QString());
        scheduleStandaloneReconnect();
        return;
    }
    if (status == 0) {
        // Could not even reach the server again: it is gone.
        connectionLost(unreachable(failure));
        return;
    }
    if (status == 405) {
        qCDebug(lcUpstream).noquote() << "MCP server at" << hostForLog() << "offers no GET stream";
        getUnsupported = true;
        return;
    }
    if (meansSessionNotFound(status, body, !sessionId.isEmpty())) {
        qCInfo(lcUpstream).noquote()
                << "MCP server at" << hostForLog() << "no longer knows our session";
        dropSession();
        setState(State::Disconnected);
        return;
    }
    if (status == 401 || status == 403) {
        qCWarning(lcUpstream).noquote()
                << "GET stream from" << hostForLog() << "refused with HTTP" << status;
        return;
    }
    qCWarning(lcUpstream).noquote()
            << "GET stream from" << hostForLog() << "answered HTTP" << status;
    ++getFailures;
    scheduleStandaloneReconnect();
}

void StreamableHttpClient::Private::scheduleStandaloneReconnect()
{
    if (state != State::Ready)
        return;
    if (getFailures >= kMaxStandaloneFailures) {
        qCWarning(lcUpstream).noquote()
                << "Giving up on the GET stream from" << hostForLog() << "for this session";
        return;
    }
    getRetryTimer.start(reconnectDelayMs(getParser, getFailures));
}

void StreamableHttpClient::Private::shutdown()
{
    getRetryTimer.stop();
    releaseReply(getReply);
    for (auto &[id, p] : pending) {
        releaseReply(p->reply);
        p->deadline.stop();
        p->resumeTimer.stop();
    }
    pending.clear();
}

// --- StreamableHttpClient ------------------------------------------------------------------

StreamableHttpClient::StreamableHttpClient(Options options, QNetworkAccessManager *network,
                                           QObject *parent)
    : QObject(parent), d(std::make_unique<Private>(this, std::move(options), network))
{ }

// Requests still in flight are dropped without calling their onResult: the owner is going away.
StreamableHttpClient::~StreamableHttpClient()
{
    d->shutdown();
}

StreamableHttpClient::State StreamableHttpClient::state() const
{
    return d->state;
}

Error StreamableHttpClient::lastError() const
{
    return d->lastError;
}

void StreamableHttpClient::connectToServer()
{
    if (d->state == State::Ready || d->state == State::Connecting)
        return;
    d->startHandshake();
}

void StreamableHttpClient::disconnectFromServer()
{
    QPointer<StreamableHttpClient> guard(this);
    if (!d->sessionId.isEmpty()) {
        qCInfo(lcUpstream).noquote() << "Ending the session with MCP server at" << d->hostForLog();
        d->sendDelete();
    }
    d->dropSession();
    d->queuedOutgoing.clear();

    auto dropped = d->takeCalls([](const Private::Pending &) { return true; });
    d->setState(State::Disconnected);
    const Error cancelled = Error::make(
            Error::Kind::Cancelled,
            QStringLiteral("The request was cancelled because the connection to the MCP server at "
                           "%1 was closed.")
                    .arg(d->displayUrl()));
    Private::failCalls(dropped, cancelled, guard);
}

QString StreamableHttpClient::protocolVersion() const
{
    return d->protocolVersion;
}

nlohmann::json StreamableHttpClient::serverCapabilities() const
{
    return d->serverCapabilities;
}

nlohmann::json StreamableHttpClient::serverInfo() const
{
    return d->serverInfo;
}

QString StreamableHttpClient::instructions() const
{
    return d->instructions;
}

StreamableHttpClient::RequestId StreamableHttpClient::request(const QString &method,
                                                              const nlohmann::json &params,
                                                              RequestCallbacks callbacks,
                                                              int timeoutMs)
{
    auto p = std::make_unique<Private::Pending>();
    p->id = d->nextId++;
    p->method = method;
    p->params = params;
    p->callbacks = std::move(callbacks);
    p->timeoutMs = timeoutMs > 0 ? timeoutMs : d->options.requestTimeoutMs;
    Private::Pending &ref = *p;
    const RequestId id = p->id;
    d->pending.emplace(id, std::move(p));
    d->startDeadline(ref);
    if (d->state == State::Ready)
        d->send(ref);
    else
        connectToServer(); // sent once Ready, or failed with the connect error
    return id;
}

void StreamableHttpClient::cancel(RequestId id, const QString &reason)
{
    Private::Pending *p = d->find(id);
    if (!p || p->purpose != Private::Purpose::Call)
        return;
    const bool tellServer = p->sent && p->generation == d->generation && d->state == State::Ready;
    const QString method = p->method;
    d->take(id);
    qCDebug(lcUpstream).noquote() << "Cancelled" << method << "id" << id << "to" << d->hostForLog();
    if (tellServer) {
        d->postMessage({{"jsonrpc", "2.0"},
                        {"method", "notifications/cancelled"},
                        {"params", {{"requestId", id}, {"reason", reason.toStdString()}}}},
                       QStringLiteral("notifications/cancelled for request %1").arg(id));
    }
}

void StreamableHttpClient::notify(const QString &method, const nlohmann::json &params)
{
    json message = {{"jsonrpc", "2.0"}, {"method", method.toStdString()}};
    if (!params.is_null())
        message["params"] = params;
    if (d->state == State::Ready) {
        d->postMessage(message, method);
        return;
    }
    d->queuedOutgoing.push_back(std::move(message));
    connectToServer();
}

void StreamableHttpClient::respond(const nlohmann::json &response)
{
    if (d->state != State::Ready) {
        qCWarning(lcUpstream).noquote() << "Dropped a response to" << d->hostForLog()
                                        << "because the session it belongs to has ended";
        return;
    }
    d->postMessage(response, QStringLiteral("response"));
}

} // namespace mcpbroker::mcp
