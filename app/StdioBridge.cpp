#include "StdioBridge.h"

#include "AppLogging.h"
#include "Console.h"
#include "StdioBridgeGrant.h"
#include "StdioHttpStream.h"
#include "StdioLineReader.h"
#include "mcp/JsonRpc.h"

#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkRequest>
#include <QPointer>
#include <QTimer>

#include <algorithm>
#include <deque>
#include <map>
#include <vector>

namespace mcpbroker::app {

namespace {

using json = nlohmann::json;
namespace jsonrpc = mcp::jsonrpc;

const QByteArray kSessionHeader = QByteArrayLiteral("Mcp-Session-Id");
const QByteArray kProtocolHeader = QByteArrayLiteral("MCP-Protocol-Version");
const QByteArray kAcceptPost = QByteArrayLiteral("application/json, text/event-stream");
const QByteArray kAcceptStream = QByteArrayLiteral("text/event-stream");

// QNetworkAccessManager opens at most six connections to one host and queues further requests:
// open SSE streams (calls in progress, the GET stream) must not hold up the POSTs behind them.
constexpr int kMaxStreamsPerNetwork = 5;
constexpr int kMaxResumeAttempts = 3;
constexpr int kMaxStandaloneFailures = 5;
constexpr qint64 kDefaultRetryMs = 1000;
constexpr qint64 kMaxRetryMs = 30'000;

std::string idKey(const json &id)
{
    return id.dump();
}

// The JSON-RPC messages in a line or an answer: one object, or the items of a batch.
std::vector<json> messagesOf(const json &value)
{
    if (!value.is_array())
        return {value};
    return std::vector<json>(value.begin(), value.end());
}

} // namespace

struct StdioBridge::Private
{
    // A message read from the input, waiting to be POSTed (the head is on its way).
    struct Outgoing
    {
        json message;
        bool initialize = false;
        std::vector<std::string> requestKeys; // the requests it carries
    };

    // A request of the client the broker has not answered yet.
    struct Pending
    {
        json id;
        bool cancelled = false; // the client sent notifications/cancelled for it
    };

    // An answer of the broker that may still carry messages.
    struct Stream
    {
        std::vector<std::string> requestKeys; // requests whose answers come on it
        int resumeAttempts = 0;
        bool initialize = false;
    };

    Private(StdioBridge *q, Options options, StdioBridgeGrant *grant)
        : q(q), options(std::move(options)), grant(grant)
    {
        headTimer.setSingleShot(true);
        standaloneTimer.setSingleShot(true);
        drainTimer.setSingleShot(true);
    }

    StdioBridge *q;
    Options options;
    StdioBridgeGrant *grant;
    StdioLineReader *reader = nullptr;
    QFile output;
    QNetworkAccessManager *shortNetwork = nullptr;
    std::vector<QNetworkAccessManager *> streamNetworks;

    QByteArray sessionId;
    QByteArray protocolVersion;

    std::deque<Outgoing> outgoing;
    StdioHttpStream *head = nullptr; // the POST of outgoing.front(), until the broker took it
    QTimer headTimer;
    bool renewing = false;

    std::map<std::string, Pending> pending;
    std::map<StdioHttpStream *, Stream> streams;

    StdioHttpStream *standalone = nullptr; // the GET stream
    QString standaloneLastEventId;
    int standaloneFailures = 0;
    bool standaloneUnsupported = false;
    QTimer standaloneTimer;

    bool inputEnded = false;
    bool ending = false;
    bool done = false;
    QTimer drainTimer;

    // --- the input ---------------------------------------------------------------------
    void onLine(const QByteArray &line);
    void onEndOfInput();
    void write(const json &message);

    // --- POSTs, in order ---------------------------------------------------------------
    QNetworkRequest makeRequest(const QByteArray &accept) const;
    QNetworkAccessManager *networkForStream();
    void pump();
    void onHeadHeaders();
    void onHeadFinished();
    void popHead(StdioHttpStream *stream);
    void onInitializeAnswered(const json &message);
    QNetworkReply *sendDelete();
    void leaveSession();

    // --- answers -----------------------------------------------------------------------
    void deliver(const json &value);
    void onStreamFinished(StdioHttpStream *stream);
    void answerWithError(const std::vector<std::string> &keys, const QString &message);
    void resume(std::vector<std::string> keys, const QString &lastEventId, int attempts,
                qint64 delayMs);
    StdioHttpStream *watch(QNetworkReply *reply);
    void discard(StdioHttpStream *stream);

    // --- the GET stream ----------------------------------------------------------------
    void openStandalone();
    void onStandaloneHeaders();
    void onStandaloneFinished();
    void scheduleStandalone(qint64 delayMs);

    // --- the end -----------------------------------------------------------------------
    bool refusedForGood(const StdioHttpStream *stream);
    Error brokerGone(const StdioHttpStream *stream) const;
    void fail(const Error &error);
    void maybeFinishDraining();
    void endSession();
    void finish(Result<void> result);
    void closeEverything();
};

// --- the input ---------------------------------------------------------------------------

void StdioBridge::Private::onLine(const QByteArray &line)
{
    if (done || ending || line.trimmed().isEmpty())
        return;
    const auto value = jsonrpc::parse(line);
    const bool shaped = value && (value->is_object() || (value->is_array() && !value->empty()));
    if (!shaped) {
        qCWarning(lcApp) << "Ignoring an input line that is not a JSON-RPC message";
        write(jsonrpc::makeError(nullptr, jsonrpc::ErrorCode::kParseError,
                                 QStringLiteral("Parse error: each line must be one JSON-RPC "
                                                "message.")));
        return;
    }
    Outgoing next;
    next.message = value->is_array() ? json::array() : json();
    for (const json &message : messagesOf(*value)) {
        switch (jsonrpc::classify(message)) {
        case jsonrpc::MessageKind::Invalid: {
            // Answered here: the broker could not say which request it refuses.
            const json id = message.is_object() ? message.value("id", json()) : json();
            write(jsonrpc::makeError(id.is_string() || id.is_number_integer() ? id : json(),
                                     jsonrpc::ErrorCode::kInvalidRequest,
                                     QStringLiteral("Invalid Request: not a JSON-RPC 2.0 request, "
                                                    "notification or response.")));
            continue;
        }
        case jsonrpc::MessageKind::Request: {
            const std::string key = idKey(message["id"]);
            pending[key] = Pending{message["id"], false};
            next.requestKeys.push_back(key);
            next.initialize = next.initialize || jsonrpc::method(message) == "initialize";
            break;
        }
        case jsonrpc::MessageKind::Notification:
            if (jsonrpc::method(message) == QLatin1String("notifications/cancelled")) {
                const json params = jsonrpc::params(message);
                if (const auto it = pending.find(idKey(params.value("requestId", json())));
                    it != pending.end())
                    it->second.cancelled = true;
            }
            break;
        case jsonrpc::MessageKind::Response:
            break; // the client's answer to a request of the broker
        }
        if (next.message.is_array())
            next.message.push_back(message);
        else
            next.message = message;
    }
    if (next.message.is_null() || next.message.empty())
        return;
    outgoing.push_back(std::move(next));
    pump();
}

void StdioBridge::Private::onEndOfInput()
{
    inputEnded = true;
    if (done || ending)
        return;
    drainTimer.start(options.drainTimeoutMs);
    maybeFinishDraining();
}

void StdioBridge::Private::write(const json &message)
{
    if (done)
        return;
    QByteArray line = jsonrpc::serialize(message); // compact: no line break inside
    line.append('\n');
    if (output.write(line) != line.size()) {
        // The client closed its end: nobody reads what comes next.
        qCInfo(lcApp) << "The output is closed; ending the stdio bridge";
        inputEnded = true;
        QTimer::singleShot(0, q, [this] { endSession(); });
    }
}

// --- POSTs, in order -----------------------------------------------------------------------

QNetworkRequest StdioBridge::Private::makeRequest(const QByteArray &accept) const
{
    QNetworkRequest request(options.endpoint);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                         QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    request.setRawHeader("Authorization", grant->authorization());
    request.setRawHeader("Accept", accept);
    if (!sessionId.isEmpty())
        request.setRawHeader(kSessionHeader, sessionId);
    if (!protocolVersion.isEmpty())
        request.setRawHeader(kProtocolHeader, protocolVersion);
    return request;
}

QNetworkAccessManager *StdioBridge::Private::networkForStream()
{
    for (QNetworkAccessManager *network : streamNetworks) {
        if (network->findChildren<QNetworkReply *>(Qt::FindDirectChildrenOnly).size()
            < kMaxStreamsPerNetwork)
            return network;
    }
    auto *network = new QNetworkAccessManager(q);
    network->setProxy(QNetworkProxy::NoProxy);
    streamNetworks.push_back(network);
    return network;
}

StdioHttpStream *StdioBridge::Private::watch(QNetworkReply *reply)
{
    return new StdioHttpStream(reply, q);
}

void StdioBridge::Private::pump()
{
    if (done || ending || head || renewing || outgoing.empty())
        return;
    const Outgoing &next = outgoing.front();
    if (next.initialize && !sessionId.isEmpty())
        leaveSession(); // the client starts over
    QNetworkRequest request = makeRequest(kAcceptPost);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    // Requests other than initialize are answered on SSE streams that stay open while they run.
    const bool streams = !next.requestKeys.empty() && !next.initialize;
    QNetworkAccessManager *network = streams ? networkForStream() : shortNetwork;
    head = watch(network->post(request, jsonrpc::serialize(next.message)));
    QObject::connect(head, &StdioHttpStream::headersReceived, q, [this] { onHeadHeaders(); });
    QObject::connect(head, &StdioHttpStream::messageReceived, q,
                     [this](const json &message) { deliver(message); });
    QObject::connect(head, &StdioHttpStream::finished, q, [this] { onHeadFinished(); });
    headTimer.start(options.answerTimeoutMs);
}

void StdioBridge::Private::onHeadHeaders()
{
    StdioHttpStream *stream = head;
    const int status = stream->status();
    if (status == 401) {
        if (refusedForGood(stream))
            return;
        // No session yet: the grant may be new to the broker, or gone. Ask again after renew.
        discard(stream);
        head = nullptr;
        headTimer.stop();
        renewing = true;
        QPointer<StdioBridge> guard(q);
        grant->renew([this, guard](Result<void> renewed) {
            if (!guard)
                return;
            renewing = false;
            if (!renewed) {
                fail(renewed.error());
                return;
            }
            pump();
        });
        return;
    }
    if (status == 404 && !sessionId.isEmpty()) {
        refusedForGood(stream);
        return;
    }
    // initialize: the session id and protocol version come with its answer, which the next
    // message needs; everything else is taken once its status is in.
    if (!outgoing.front().initialize)
        popHead(stream);
}

void StdioBridge::Private::popHead(StdioHttpStream *stream)
{
    Outgoing taken = std::move(outgoing.front());
    outgoing.pop_front();
    head = nullptr;
    headTimer.stop();
    QObject::disconnect(stream, nullptr, q, nullptr);
    QObject::connect(stream, &StdioHttpStream::messageReceived, q,
                     [this](const json &message) { deliver(message); });
    QObject::connect(stream, &StdioHttpStream::finished, q,
                     [this, stream] { onStreamFinished(stream); });
    const bool carriesRequests = !taken.requestKeys.empty();
    streams[stream] = Stream{std::move(taken.requestKeys), 0, taken.initialize};

    const int status = stream->status();
    const bool accepted = status >= 200 && status < 300;
    if (accepted && !sessionId.isEmpty() && taken.message.is_object()
        && jsonrpc::method(taken.message) == QLatin1String("notifications/initialized"))
        openStandalone();
    if (!accepted && !carriesRequests) {
        qCWarning(lcApp).noquote()
                << "MCP Broker refused a message with HTTP" << status << stream->errorText();
    }
    if (stream->isFinished())
        onStreamFinished(stream);
    pump();
}

void StdioBridge::Private::onHeadFinished()
{
    StdioHttpStream *stream = head;
    if (!stream->hasHeaders()) {
        fail(brokerGone(stream));
        return;
    }
    // Only initialize waits here for its whole answer.
    popHead(stream);
}

void StdioBridge::Private::onInitializeAnswered(const json &message)
{
    const json result = message.value("result", json());
    if (!result.is_object())
        return;
    grant->noteAccepted();
    sessionId = head->header(kSessionHeader);
    protocolVersion = jsonrpc::toQString(result.value("protocolVersion", json())).toLatin1();
    qCInfo(lcApp).noquote() << "Session with MCP Broker started, protocol" << protocolVersion;
}

QNetworkReply *StdioBridge::Private::sendDelete()
{
    QNetworkRequest request = makeRequest(kAcceptPost);
    request.setTransferTimeout(options.deleteTimeoutMs);
    return shortNetwork->deleteResource(request);
}

void StdioBridge::Private::leaveSession()
{
    QNetworkReply *reply = sendDelete();
    QObject::connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
    sessionId.clear();
    protocolVersion.clear();
    standaloneTimer.stop();
    discard(std::exchange(standalone, nullptr));
    standaloneLastEventId.clear();
    standaloneFailures = 0;
    standaloneUnsupported = false;
}

// --- answers -------------------------------------------------------------------------------

void StdioBridge::Private::deliver(const json &value)
{
    for (const json &message : messagesOf(value)) {
        if (jsonrpc::classify(message) != jsonrpc::MessageKind::Response)
            continue;
        const std::string key = idKey(message["id"]);
        if (head && outgoing.front().initialize
            && std::find(outgoing.front().requestKeys.begin(), outgoing.front().requestKeys.end(),
                         key)
                    != outgoing.front().requestKeys.end())
            onInitializeAnswered(message);
        pending.erase(key);
        for (auto &[stream, state] : streams)
            std::erase(state.requestKeys, key);
        if (head && !outgoing.empty())
            std::erase(outgoing.front().requestKeys, key);
    }
    write(value);
    maybeFinishDraining();
}

void StdioBridge::Private::onStreamFinished(StdioHttpStream *stream)
{
    const auto it = streams.find(stream);
    if (it == streams.end())
        return;
    Stream state = std::move(it->second);
    streams.erase(it);
    discard(stream);

    std::vector<std::string> unanswered;
    for (const std::string &key : state.requestKeys) {
        const auto found = pending.find(key);
        if (found == pending.end())
            continue;
        if (found->second.cancelled)
            pending.erase(found); // nothing comes for a cancelled request
        else
            unanswered.push_back(key);
    }
    const int status = stream->status();
    if (!unanswered.empty()) {
        if (!stream->hasHeaders() && stream->failedInTransport()) {
            fail(brokerGone(stream));
            return;
        }
        if (status < 200 || status >= 300) {
            QString text = stream->errorText();
            if (text.isEmpty())
                text = QStringLiteral("MCP Broker answered HTTP %1.").arg(status);
            if (state.initialize)
                Console::err(text); // the client may not show why it could not connect
            answerWithError(unanswered, text);
        } else if (!stream->lastEventId().isEmpty() && state.resumeAttempts < kMaxResumeAttempts) {
            // The stream ended before the answer: it can be taken up again where it stopped.
            resume(std::move(unanswered), stream->lastEventId(), state.resumeAttempts + 1,
                   std::min(stream->retryMs().value_or(kDefaultRetryMs), kMaxRetryMs));
        } else {
            answerWithError(unanswered,
                            QStringLiteral("MCP Broker closed the connection before it "
                                           "answered."));
        }
    }
    maybeFinishDraining();
}

void StdioBridge::Private::answerWithError(const std::vector<std::string> &keys,
                                           const QString &message)
{
    for (const std::string &key : keys) {
        const auto it = pending.find(key);
        if (it == pending.end())
            continue;
        const json id = it->second.id;
        pending.erase(it);
        write(jsonrpc::makeError(id, kBridgeErrorCode, message));
    }
}

void StdioBridge::Private::resume(std::vector<std::string> keys, const QString &lastEventId,
                                  int attempts, qint64 delayMs)
{
    QPointer<StdioBridge> guard(q);
    QTimer::singleShot(delayMs, q, [this, guard, keys = std::move(keys), lastEventId, attempts] {
        if (!guard || done || ending)
            return;
        QNetworkRequest request = makeRequest(kAcceptStream);
        request.setRawHeader("Last-Event-ID", lastEventId.toUtf8());
        StdioHttpStream *stream = watch(networkForStream()->get(request));
        streams[stream] = Stream{keys, attempts};
        QObject::connect(stream, &StdioHttpStream::headersReceived, q,
                         [this, stream] { refusedForGood(stream); });
        QObject::connect(stream, &StdioHttpStream::messageReceived, q,
                         [this](const json &message) { deliver(message); });
        QObject::connect(stream, &StdioHttpStream::finished, q,
                         [this, stream] { onStreamFinished(stream); });
    });
}

void StdioBridge::Private::discard(StdioHttpStream *stream)
{
    if (!stream)
        return;
    QObject::disconnect(stream, nullptr, q, nullptr);
    stream->deleteLater();
}

// --- the GET stream ------------------------------------------------------------------------

void StdioBridge::Private::openStandalone()
{
    if (done || ending || standalone || standaloneUnsupported || sessionId.isEmpty())
        return;
    QNetworkRequest request = makeRequest(kAcceptStream);
    if (!standaloneLastEventId.isEmpty())
        request.setRawHeader("Last-Event-ID", standaloneLastEventId.toUtf8());
    standalone = watch(networkForStream()->get(request));
    QObject::connect(standalone, &StdioHttpStream::headersReceived, q,
                     [this] { onStandaloneHeaders(); });
    QObject::connect(standalone, &StdioHttpStream::messageReceived, q, [this](const json &message) {
        standaloneFailures = 0;
        deliver(message);
    });
    QObject::connect(standalone, &StdioHttpStream::finished, q, [this] { onStandaloneFinished(); });
}

void StdioBridge::Private::onStandaloneHeaders()
{
    if (refusedForGood(standalone))
        return;
    if (standalone->status() == 405) {
        qCDebug(lcApp) << "MCP Broker offers no GET stream";
        standaloneUnsupported = true;
    }
}

void StdioBridge::Private::onStandaloneFinished()
{
    StdioHttpStream *stream = std::exchange(standalone, nullptr);
    discard(stream);
    if (done || ending || standaloneUnsupported)
        return;
    if (!stream->hasHeaders() && stream->failedInTransport()) {
        fail(brokerGone(stream));
        return;
    }
    if (!stream->lastEventId().isEmpty())
        standaloneLastEventId = stream->lastEventId();
    const bool useful = stream->isEventStream() && stream->receivedEvent();
    standaloneFailures = useful ? 0 : standaloneFailures + 1;
    if (standaloneFailures >= kMaxStandaloneFailures) {
        qCWarning(lcApp) << "Giving up on MCP Broker's GET stream for this session";
        return;
    }
    scheduleStandalone(std::min(stream->retryMs().value_or(kDefaultRetryMs), kMaxRetryMs));
}

void StdioBridge::Private::scheduleStandalone(qint64 delayMs)
{
    standaloneTimer.start(int(delayMs));
}

// --- the end -------------------------------------------------------------------------------

// 401 once a session runs: the grant was revoked. 404 for the session: it is gone. Both end
// the bridge; true when it did.
bool StdioBridge::Private::refusedForGood(const StdioHttpStream *stream)
{
    const int status = stream->status();
    if (status == 401 && !sessionId.isEmpty()) {
        fail(Error::make(Error::Kind::Unauthorized,
                         QStringLiteral("MCP Broker revoked the stdio bridge's access grant, so "
                                        "this client is cut off. Start the client again to "
                                        "connect with a new grant, or remove the bridge from "
                                        "its configuration.")));
        return true;
    }
    if (status == 404 && !sessionId.isEmpty()) {
        fail(Error::make(Error::Kind::NotFound,
                         QStringLiteral("MCP Broker ended this client's session (it restarted, "
                                        "or the session was closed): start the client again.")));
        return true;
    }
    return false;
}

Error StdioBridge::Private::brokerGone(const StdioHttpStream *stream) const
{
    const int port = options.endpoint.port();
    if (stream->networkError() == QNetworkReply::OperationCanceledError) {
        return Error::make(Error::Kind::Timeout,
                           QStringLiteral("MCP Broker on port %1 did not answer within %2 "
                                          "seconds: check that it is running (`mcp-broker "
                                          "status`).")
                                   .arg(port)
                                   .arg(options.answerTimeoutMs / 1000));
    }
    return Error::make(Error::Kind::Unreachable,
                       QStringLiteral("MCP Broker on port %1 went away: start it again "
                                      "(mcp-broker, or mcp-broker serve), then restart this "
                                      "client.")
                               .arg(port));
}

void StdioBridge::Private::fail(const Error &error)
{
    if (done)
        return;
    // Every request still waiting learns why no answer will come.
    std::vector<std::string> keys;
    for (const auto &[key, request] : pending) {
        if (!request.cancelled)
            keys.push_back(key);
    }
    answerWithError(keys, error.message);
    closeEverything();
    finish(error);
}

void StdioBridge::Private::maybeFinishDraining()
{
    if (!inputEnded || done || ending || head || renewing || !outgoing.empty())
        return;
    const bool waiting = std::any_of(pending.begin(), pending.end(),
                                     [](const auto &entry) { return !entry.second.cancelled; });
    if (!waiting)
        endSession();
}

void StdioBridge::Private::endSession()
{
    if (done || ending)
        return;
    ending = true;
    closeEverything();
    if (sessionId.isEmpty()) {
        QTimer::singleShot(0, q, [this] { finish({}); });
        return;
    }
    QNetworkReply *reply = sendDelete();
    QObject::connect(reply, &QNetworkReply::finished, q, [this, reply] {
        reply->deleteLater();
        qCDebug(lcApp) << "Ended the session with MCP Broker, HTTP"
                       << reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        finish({});
    });
}

void StdioBridge::Private::closeEverything()
{
    headTimer.stop();
    standaloneTimer.stop();
    drainTimer.stop();
    if (reader) {
        QObject::disconnect(reader, nullptr, q, nullptr);
        reader->deleteLater();
        reader = nullptr;
    }
    discard(std::exchange(head, nullptr));
    discard(std::exchange(standalone, nullptr));
    for (auto &[stream, state] : streams)
        discard(stream);
    streams.clear();
    outgoing.clear();
}

void StdioBridge::Private::finish(Result<void> result)
{
    if (done)
        return;
    done = true;
    Q_EMIT q->finished(result);
}

// --- StdioBridge ---------------------------------------------------------------------------

StdioBridge::StdioBridge(Options options, StdioBridgeGrant *grant, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>(this, std::move(options), grant))
{
    d->shortNetwork = new QNetworkAccessManager(this);
    // The broker is on this machine: a proxy from the environment must not get in between.
    d->shortNetwork->setProxy(QNetworkProxy::NoProxy);
    connect(&d->headTimer, &QTimer::timeout, this, [this] {
        if (d->head)
            d->head->abort(); // finished follows: the broker did not answer
    });
    connect(&d->standaloneTimer, &QTimer::timeout, this, [this] { d->openStandalone(); });
    connect(&d->drainTimer, &QTimer::timeout, this, [this] {
        qCWarning(lcApp) << "Answers still due after the input ended; ending anyway";
        d->endSession();
    });
}

StdioBridge::~StdioBridge()
{
    d->done = true;
    d->closeEverything();
}

void StdioBridge::start()
{
    if (!d->output.open(d->options.outputFd, QIODevice::WriteOnly | QIODevice::Unbuffered)) {
        d->finish(Error::make(Error::Kind::Io,
                              QStringLiteral("Could not write to standard output: %1.")
                                      .arg(d->output.errorString())));
        return;
    }
    d->reader = new StdioLineReader(d->options.inputFd, this);
    connect(d->reader, &StdioLineReader::lineRead, this,
            [this](const QByteArray &line) { d->onLine(line); });
    connect(d->reader, &StdioLineReader::lineTooLong, this, [this] {
        d->write(mcp::jsonrpc::makeError(nullptr, mcp::jsonrpc::ErrorCode::kParseError,
                                         QStringLiteral("Parse error: a line is longer than %1 "
                                                        "MiB.")
                                                 .arg(StdioLineReader::kMaxLineBytes >> 20)));
    });
    connect(d->reader, &StdioLineReader::endOfInput, this, [this] { d->onEndOfInput(); });
    if (auto started = d->reader->start(); !started)
        d->finish(started.error());
}

void StdioBridge::stop()
{
    d->inputEnded = true;
    d->endSession();
}

} // namespace mcpbroker::app
