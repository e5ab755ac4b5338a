#include "gateway/Router.h"

#include "Logging.h"
#include "gateway/CatalogListing.h"
#include "gateway/Namespacing.h"
#include "gateway/UpstreamRegistry.h"
#include "mcp/JsonRpc.h"
#include "mcp/ProtocolVersion.h"
#include "mcp/StreamableHttpServer.h"

#include <QDateTime>
#include <QTimer>
#include <QUuid>

namespace mcpbroker::gateway {

using json = nlohmann::json;
using namespace mcp::jsonrpc;

namespace {

const char kBrokerName[] = "mcp-broker";
const char kBrokerTitle[] = "MCP Broker";
const char kBrokerVersion[] = MCPB_VERSION;
// How long initialize on a one-server endpoint waits for that server to connect, so that the
// capabilities it answers with are the server's own.
constexpr int kInitializeWaitMs = 10'000;

const QStringList kLogLevels
        = {QStringLiteral("debug"),   QStringLiteral("info"),     QStringLiteral("notice"),
           QStringLiteral("warning"), QStringLiteral("error"),    QStringLiteral("critical"),
           QStringLiteral("alert"),   QStringLiteral("emergency")};

bool admitsLogLevel(const QString &sessionLevel, const QString &messageLevel)
{
    if (sessionLevel.isEmpty())
        return true;
    return kLogLevels.indexOf(messageLevel) >= kLogLevels.indexOf(sessionLevel);
}

// The client capability a server-to-client request needs.
QString capabilityFor(const QString &method)
{
    if (method == QLatin1String("sampling/createMessage"))
        return QStringLiteral("sampling");
    if (method == QLatin1String("elicitation/create"))
        return QStringLiteral("elicitation");
    if (method == QLatin1String("roots/list"))
        return QStringLiteral("roots");
    return {};
}

QString secondsText(int ms)
{
    return ms % 1000 == 0 ? QString::number(ms / 1000) : QString::number(ms / 1000.0, 'f', 1);
}

// An upstream failure, in words for the person behind the client.
Error describeUpstreamFailure(const Upstream &upstream, const QString &method, const Error &error)
{
    Error described = error;
    described.data = nullptr; // e.g. the upstream's WWW-Authenticate: the broker's business only
    switch (error.kind) {
    case Error::Kind::Rpc:
        return error; // the upstream's own answer, passed on as it is
    case Error::Kind::Timeout:
        described.rpcCode = ErrorCode::kUpstreamTimeout;
        described.message = QStringLiteral("Server '%1' did not answer %2 within %3 seconds; it "
                                           "may be overloaded. Try again later.")
                                    .arg(upstream.name(), method,
                                         secondsText(upstream.config().requestTimeoutMs));
        return described;
    case Error::Kind::Unauthorized:
        described.rpcCode = ErrorCode::kUpstreamUnavailable;
        if (upstream.authorization())
            return described; // the sign-in's own sentence (requireSignIn)
        described.message = QStringLiteral("Server '%1' refused the broker's credentials (%2). "
                                           "Store new ones: `mcp-broker remove %1`, then "
                                           "`mcp-broker add %1 URL --bearer-stdin`.")
                                    .arg(upstream.name(), error.message);
        return described;
    default:
        described.rpcCode = ErrorCode::kUpstreamUnavailable;
        described.message = QStringLiteral("Server '%1' is unavailable: %2 `mcp-broker status` "
                                           "shows every server's state.")
                                    .arg(upstream.name(), error.message);
        return described;
    }
}

// What a client that can open URLs for the user understands (URL elicitation, 2025-11-25).
bool acceptsUrlElicitation(const mcp::ServerSession &session)
{
    const json &elicitation = session.clientCapabilities.value("elicitation", json());
    return session.protocolVersion == mcp::ProtocolVersion::kLatest && elicitation.is_object()
            && elicitation.contains("url");
}

// The -32042 error that asks the client to show the sign-in page (`signInUrl` of the error).
json urlElicitationRequired(const json &id, const Error &error)
{
    const json elicitation
            = {{"mode", "url"},
               {"elicitationId", QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString()},
               {"url", error.data["signInUrl"]},
               {"message", toStd(error.message)}};
    return makeError(id, ErrorCode::kUrlElicitationRequired, error.message,
                     {{"elicitations", json::array({elicitation})}});
}

// A tool that cannot run is a tool error the model can read and tell the user about.
json toolError(const json &id, const Error &error)
{
    return makeResult(
            id,
            {{"content", json::array({{{"type", "text"}, {"text", toStd(error.message)}}})},
             {"isError", true}});
}

json errorResponse(const json &id, const Error &error)
{
    const int code = error.rpcCode != 0 ? error.rpcCode : ErrorCode::kInternalError;
    return makeError(id, code, error.message, error.data);
}

Error invalidParams(const QString &message)
{
    Error error = Error::make(Error::Kind::InvalidInput, message);
    error.rpcCode = ErrorCode::kInvalidParams;
    return error;
}

// Passes a reply on, and tells `onError` when the answer is an error.
class ErrorObservingReply : public mcp::ReplyChannel
{
public:
    ErrorObservingReply(std::shared_ptr<mcp::ReplyChannel> inner, std::function<void()> onError)
        : m_inner(std::move(inner)), m_onError(std::move(onError))
    { }
    void send(const json &message) override { m_inner->send(message); }
    void respond(const json &response) override
    {
        if (response.contains("error") && m_onError)
            m_onError();
        m_inner->respond(response);
    }
    void abandon() override { m_inner->abandon(); }

private:
    std::shared_ptr<mcp::ReplyChannel> m_inner;
    std::function<void()> m_onError;
};

// Passes a tool call's reply on and tells `finished` how the call ended (the audit line).
class AuditedReply : public mcp::ReplyChannel
{
public:
    AuditedReply(std::shared_ptr<mcp::ReplyChannel> inner,
                 std::function<void(const QString &outcome)> finished)
        : m_inner(std::move(inner)), m_finished(std::move(finished))
    { }
    void send(const json &message) override { m_inner->send(message); }
    void respond(const json &response) override
    {
        const json &result = response.value("result", json());
        const char *outcome = response.contains("error")                        ? "error"
                : result.is_object() && result.value("isError", false) ? "tool-error"
                                                                        : "ok";
        // The client first, then the audit line (a file append).
        m_inner->respond(response);
        finish(outcome);
    }
    void abandon() override
    {
        finish("cancelled");
        m_inner->abandon();
    }

private:
    void finish(const char *outcome)
    {
        if (auto finished = std::exchange(m_finished, {}))
            finished(QString::fromLatin1(outcome));
    }

    std::shared_ptr<mcp::ReplyChannel> m_inner;
    std::function<void(const QString &)> m_finished;
};

} // namespace

Router::Router(UpstreamRegistry *registry, QObject *parent) : QObject(parent), m_registry(registry)
{
    connect(registry, &UpstreamRegistry::catalogChanged, this, &Router::onCatalogChanged);
    connect(registry, &UpstreamRegistry::serverMessage, this, &Router::onServerMessage);
    connect(registry, &UpstreamRegistry::upstreamsChanged, this, &Router::onUpstreamsChanged);
}

Router::~Router() = default;

QString Router::callKey(const QString &sessionId, const json &id)
{
    return sessionId + QLatin1Char('\n') + QString::fromStdString(id.dump());
}

void Router::handleRequest(mcp::ServerSession &session, const json &request,
                           std::shared_ptr<mcp::ReplyChannel> reply)
{
    const QString method = mcp::jsonrpc::method(request);
    const json &id = request["id"];
    const json params = mcp::jsonrpc::params(request);
    auto fail = [&](const Error &error) { reply->respond(errorResponse(id, error)); };

    if (method == QLatin1String("initialize"))
        return initialize(session, request, std::move(reply));
    if (method == QLatin1String("ping"))
        return reply->respond(makeResult(id, json::object()));
    if (method == QLatin1String("tools/list"))
        return list(session, CatalogKind::Tools, request, std::move(reply));
    if (method == QLatin1String("prompts/list"))
        return list(session, CatalogKind::Prompts, request, std::move(reply));
    if (method == QLatin1String("resources/list"))
        return list(session, CatalogKind::Resources, request, std::move(reply));
    if (method == QLatin1String("resources/templates/list"))
        return list(session, CatalogKind::ResourceTemplates, request, std::move(reply));
    if (method == QLatin1String("logging/setLevel"))
        return setLogLevel(session, request, std::move(reply));
    if (method == QLatin1String("resources/subscribe"))
        return subscribe(session, request, std::move(reply), true);
    if (method == QLatin1String("resources/unsubscribe"))
        return subscribe(session, request, std::move(reply), false);

    if (method == QLatin1String("tools/call") || method == QLatin1String("prompts/get")) {
        const bool isToolCall = method == QLatin1String("tools/call");
        const QString what = isToolCall ? QStringLiteral("tool") : QStringLiteral("prompt");
        const auto target = targetForName(session, toQString(params.value("name", json())), what);
        if (!target)
            return fail(target.error());
        json upstreamParams = params;
        upstreamParams["name"] = toStd(target.value().name);
        if (isToolCall)
            return callTool(session, request, target.value(), std::move(upstreamParams),
                            std::move(reply));
        return forward(session, request, target.value(), std::move(upstreamParams),
                       std::move(reply));
    }
    if (method == QLatin1String("resources/read")) {
        const auto target = targetForUri(session, toQString(params.value("uri", json())));
        if (!target)
            return fail(target.error());
        json upstreamParams = params;
        upstreamParams["uri"] = toStd(target.value().name);
        const QString server = target.value().upstream->name();
        const bool qualify = session.scope.isEmpty();
        ResultRewriter rewrite = [qualify, server](json result) {
            // Contents name their URIs the way this endpoint does.
            if (result.contains("contents") && result["contents"].is_array()) {
                for (json &content : result["contents"]) {
                    if (content.is_object() && content.contains("uri")
                        && content["uri"].is_string())
                        content["uri"] = toStd(uriFor(qualify, server, toQString(content["uri"])));
                }
            }
            return result;
        };
        return forward(session, request, target.value(), std::move(upstreamParams),
                       std::move(reply), std::move(rewrite));
    }
    if (method == QLatin1String("completion/complete")) {
        json ref = params.value("ref", json::object());
        const QString type = toQString(ref.value("type", json()));
        const bool isPrompt = type == QLatin1String("ref/prompt");
        if (!isPrompt && type != QLatin1String("ref/resource"))
            return fail(invalidParams(QStringLiteral("completion/complete needs a ref of type "
                                                     "ref/prompt or ref/resource.")));
        const auto target = isPrompt ? targetForName(session, toQString(ref.value("name", json())),
                                                     QStringLiteral("prompt"))
                                     : targetForUri(session, toQString(ref.value("uri", json())));
        if (!target)
            return fail(target.error());
        ref[isPrompt ? "name" : "uri"] = toStd(target.value().name);
        json upstreamParams = params;
        upstreamParams["ref"] = ref;
        return forward(session, request, target.value(), std::move(upstreamParams),
                       std::move(reply));
    }
    Error error = Error::make(Error::Kind::NotFound,
                              QStringLiteral("Method not found: %1").arg(method.left(100)));
    error.rpcCode = ErrorCode::kMethodNotFound;
    fail(error);
}

void Router::initialize(mcp::ServerSession &session, const json &request,
                        std::shared_ptr<mcp::ReplyChannel> reply)
{
    const json params = mcp::jsonrpc::params(request);
    session.protocolVersion
            = mcp::ProtocolVersion::negotiate(toQString(params.value("protocolVersion", json())));
    session.clientInfo = params.value("clientInfo", json::object());
    session.clientCapabilities = params.value("capabilities", json::object());
    const json id = request["id"];
    qCInfo(lcGateway).noquote() << "Client"
                                << toQString(session.clientInfo.value("name", json())).left(80)
                                << "connected to"
                                << (session.scope.isEmpty() ? "/mcp" : "/mcp/" + session.scope)
                                << "with protocol" << session.protocolVersion;

    if (session.scope.isEmpty()) {
        reply->respond(makeResult(id, initializeResult(session)));
        return;
    }
    Upstream *upstream = m_registry->find(session.scope);
    if (!upstream) {
        reply->respond(
                errorResponse(id,
                              invalidParams(QStringLiteral("No server named '%1' is configured; "
                                                           "`mcp-broker list` shows the servers.")
                                                    .arg(session.scope))));
        return;
    }
    if (upstream->state() != Upstream::State::Connecting) {
        reply->respond(makeResult(id, initializeResult(session)));
        return;
    }
    // Wait (bounded) for the server, so the answer carries its capabilities.
    const mcp::ServerSession snapshot = session;
    auto *waiting = new QObject(this);
    auto answer = [this, snapshot, id, reply, waiting] {
        reply->respond(makeResult(id, initializeResult(snapshot)));
        waiting->disconnect();
        waiting->deleteLater();
    };
    connect(upstream, &Upstream::stateChanged, waiting, [upstream, answer] {
        if (upstream->state() != Upstream::State::Connecting)
            answer();
    });
    QTimer::singleShot(kInitializeWaitMs, waiting, answer);
}

json Router::initializeResult(const mcp::ServerSession &session) const
{
    json serverInfo = {{"name", kBrokerName}, {"title", kBrokerTitle}, {"version", kBrokerVersion}};
    json capabilities = {{"tools", {{"listChanged", true}}},
                         {"prompts", {{"listChanged", true}}},
                         {"resources", {{"subscribe", true}, {"listChanged", true}}},
                         {"logging", json::object()},
                         {"completions", json::object()}};
    QString instructions;
    if (!session.scope.isEmpty()) {
        serverInfo["name"] = toStd(QStringLiteral("%1/%2").arg(kBrokerName, session.scope));
        serverInfo["title"] = toStd(QStringLiteral("%1 via MCP Broker").arg(session.scope));
        const Upstream *upstream = m_registry->find(session.scope);
        if (upstream && upstream->state() == Upstream::State::Ready) {
            // Offer what the server offers; list changes are always announced, because the
            // broker also announces them when it reconnects to the server.
            const json offered = upstream->capabilities();
            json mirrored = json::object();
            for (const char *key : {"tools", "prompts", "resources", "logging", "completions"}) {
                if (offered.contains(key))
                    mirrored[key] = offered[key].is_object() ? offered[key] : json::object();
            }
            for (const char *key : {"tools", "prompts", "resources"}) {
                if (mirrored.contains(key))
                    mirrored[key]["listChanged"] = true;
            }
            capabilities = std::move(mirrored);
            instructions = upstream->instructions();
        }
    } else {
        QStringList parts;
        for (const Upstream *upstream : m_registry->upstreams()) {
            if (!upstream->instructions().isEmpty())
                parts.append(QStringLiteral("Server '%1' (tools and prompts named %1__*):\n%2")
                                     .arg(upstream->name(), upstream->instructions()));
        }
        instructions = parts.join(QStringLiteral("\n\n"));
    }
    json result = {{"protocolVersion", toStd(session.protocolVersion)},
                   {"capabilities", std::move(capabilities)},
                   {"serverInfo", std::move(serverInfo)}};
    if (!instructions.isEmpty())
        result["instructions"] = toStd(instructions);
    return result;
}

void Router::list(mcp::ServerSession &session, CatalogKind kind, const json &request,
                  std::shared_ptr<mcp::ReplyChannel> reply)
{
    const json id = request["id"];
    if (!session.scope.isEmpty() && !m_registry->find(session.scope)) {
        reply->respond(errorResponse(id,
                                     invalidParams(QStringLiteral("Server '%1' is no longer "
                                                                  "configured.")
                                                           .arg(session.scope))));
        return;
    }
    QPointer<Router> guard(this);
    QPointer<Upstream> scoped = m_registry->find(session.scope);
    CatalogListing::ItemFilter visible;
    if (kind == CatalogKind::Tools && m_access)
        visible = m_access->listFilter(session.owner);
    CatalogListing::list(
            upstreamsIn(session), session.scope.isEmpty(), kind, mcp::jsonrpc::params(request),
            [this, guard, scoped, id, reply,
             urlElicitation = acceptsUrlElicitation(session)](Result<json> result) {
                if (result)
                    return reply->respond(makeResult(id, std::move(result).value()));
                // Only a client of that one server's endpoint makes the broker ask for sign-in.
                if (guard && scoped && scoped->needsSignIn()
                    && result.error().kind == Error::Kind::Unauthorized)
                    return answerSignInNeeded(scoped, urlElicitation, false, id, reply);
                reply->respond(errorResponse(id, result.error()));
            },
            CatalogListing::kDeadlineMs, visible);
}

// The upstream needs the user to sign in: the broker opens the sign-in page (once, however
// many calls ask), and the call fails at once with a sentence naming it; a client that can
// open URLs for the user gets the page as a URL elicitation (-32042).
void Router::answerSignInNeeded(Upstream *upstream, bool urlElicitation, bool asToolResult,
                                const json &id, std::shared_ptr<mcp::ReplyChannel> reply)
{
    upstream->requireSignIn([urlElicitation, asToolResult, id, reply](Error error) {
        if (urlElicitation && error.data.is_object() && error.data.contains("signInUrl"))
            return reply->respond(urlElicitationRequired(id, error));
        error.data = nullptr;
        error.rpcCode = ErrorCode::kUpstreamUnavailable;
        reply->respond(asToolResult ? toolError(id, error) : errorResponse(id, error));
    });
}

void Router::setLogLevel(mcp::ServerSession &session, const json &request,
                         std::shared_ptr<mcp::ReplyChannel> reply)
{
    const json id = request["id"];
    const QString level = toQString(mcp::jsonrpc::params(request).value("level", json()));
    if (!kLogLevels.contains(level)) {
        reply->respond(errorResponse(
                id,
                invalidParams(QStringLiteral("Unknown log level '%1'; use one of: %2.")
                                      .arg(level.left(40), kLogLevels.join(", ")))));
        return;
    }
    session.logLevel = level;
    // Upstreams are shared by every client: each gets the level asked for last, and the broker
    // filters what each session receives by that session's own level.
    for (Upstream *upstream : upstreamsIn(session)) {
        if (upstream->client() && upstream->capabilities().contains("logging"))
            upstream->client()->request(QStringLiteral("logging/setLevel"),
                                        {{"level", toStd(level)}}, {});
    }
    reply->respond(makeResult(id, json::object()));
}

void Router::subscribe(mcp::ServerSession &session, const json &request,
                       std::shared_ptr<mcp::ReplyChannel> reply, bool on)
{
    const json id = request["id"];
    const auto target
            = targetForUri(session, toQString(mcp::jsonrpc::params(request).value("uri", json())));
    if (!target) {
        reply->respond(errorResponse(id, target.error()));
        return;
    }
    const QString key = target.value().upstream->name() + QLatin1Char('\n') + target.value().name;
    QSet<QString> &subscribers = m_subscribers[key];
    const bool wasEmpty = subscribers.isEmpty();
    if (on)
        subscribers.insert(session.id);
    else
        subscribers.remove(session.id);
    // One upstream subscription serves every session that subscribed.
    const bool forwardUpstream = on ? wasEmpty : (!wasEmpty && subscribers.isEmpty());
    if (subscribers.isEmpty())
        m_subscribers.remove(key);
    if (!forwardUpstream) {
        reply->respond(makeResult(id, json::object()));
        return;
    }
    json params = mcp::jsonrpc::params(request);
    params["uri"] = toStd(target.value().name);
    if (on) {
        // The upstream refused: the session is not subscribed after all.
        QPointer<Router> guard(this);
        reply = std::make_shared<ErrorObservingReply>(
                std::move(reply), [this, guard, key, sessionId = session.id] {
                    if (!guard)
                        return;
                    if (const auto it = m_subscribers.find(key); it != m_subscribers.end()) {
                        it->remove(sessionId);
                        if (it->isEmpty())
                            m_subscribers.erase(it);
                    }
                });
    }
    forward(session, request, target.value(), std::move(params), std::move(reply));
}

// A tool call goes ahead only when the policy clears it (maybe after asking the user), and
// leaves one audit line however it ends.
void Router::callTool(mcp::ServerSession &session, const json &request, const Target &target,
                      json params, std::shared_ptr<mcp::ReplyChannel> reply)
{
    if (!m_access)
        return forward(session, request, target, std::move(params), std::move(reply));
    const qint64 startedMs = QDateTime::currentMSecsSinceEpoch();
    const json arguments = params.value("arguments", json::object());
    QPointer<Router> guard(this);
    QPointer<Upstream> upstream(target.upstream);
    m_access->check(
            session.owner, target.upstream, target.name, arguments,
            [this, guard, upstream, sessionId = session.id, owner = session.owner,
             server = target.upstream->name(), tool = target.name, request,
             params = std::move(params), reply, startedMs](ToolAccess::Clearance clearance) {
                if (!guard)
                    return;
                const QPointer<ToolAccess> access(m_access);
                auto record = [access, owner, server, tool, clearance,
                               startedMs](const QString &outcome) {
                    if (access)
                        access->record(owner, server, tool, clearance, outcome,
                                       QDateTime::currentMSecsSinceEpoch() - startedMs);
                };
                const json &id = request["id"];
                if (!clearance.allowed) {
                    record(QStringLiteral("refused"));
                    reply->respond(toolError(
                            id,
                            Error::make(Error::Kind::Forbidden,
                                        QStringLiteral("MCP Broker did not run tool '%1' on "
                                                       "server '%2': %3")
                                                .arg(tool, server, clearance.reason))));
                    return;
                }
                mcp::ServerSession *live
                        = m_transport ? m_transport->findSession(sessionId) : nullptr;
                if (!live || !upstream) {
                    record(QStringLiteral("cancelled"));
                    reply->abandon();
                    return;
                }
                forward(*live, request, Target{upstream, tool}, params,
                        std::make_shared<AuditedReply>(reply, record));
            });
}

void Router::forward(mcp::ServerSession &session, const json &request, const Target &target,
                     json params, std::shared_ptr<mcp::ReplyChannel> reply, ResultRewriter rewrite)
{
    Upstream *upstream = target.upstream;
    const QString method = mcp::jsonrpc::method(request);
    const json id = request["id"];
    if (!upstream->client()) {
        const Error error = describeUpstreamFailure(
                *upstream, method, Error::make(Error::Kind::Unreachable, upstream->errorText()));
        reply->respond(errorResponse(id, error));
        return;
    }
    const QString key = callKey(session.id, id);
    Call call;
    call.sessionId = session.id;
    call.downstreamId = id;
    call.upstream = upstream;
    call.reply = reply;
    // Progress tokens are the client's; upstream sessions are shared, so each call gets a token
    // of ours that cannot clash with another client's.
    if (params.contains("_meta") && params["_meta"].is_object()
        && params["_meta"].contains("progressToken")) {
        call.progressToken = params["_meta"]["progressToken"];
        call.upstreamProgressToken = QStringLiteral("mcpb-progress-%1").arg(m_nextId++);
        params["_meta"]["progressToken"] = toStd(call.upstreamProgressToken);
        m_callByProgressToken.insert(call.upstreamProgressToken, key);
    }
    const bool isToolCall = method == QLatin1String("tools/call");
    QPointer<Router> guard(this);
    QPointer<Upstream> upstreamGuard(upstream);
    mcp::StreamableHttpClient::RequestCallbacks callbacks;
    callbacks.onMessage = [this, guard, key](const json &message) {
        if (guard)
            relayDuringCall(key, message);
    };
    callbacks.onResult = [this, guard, upstreamGuard, key, id, method, isToolCall,
                          urlElicitation = acceptsUrlElicitation(session),
                          rewrite = std::move(rewrite)](Result<json> result) {
        if (!guard)
            return;
        const auto it = m_calls.find(key);
        if (it == m_calls.end())
            return;
        std::shared_ptr<mcp::ReplyChannel> reply = it->second.reply;
        endCall(key);
        if (result) {
            reply->respond(makeResult(
                    id, rewrite ? rewrite(std::move(result).value()) : std::move(result).value()));
            return;
        }
        if (!upstreamGuard) {
            reply->respond(errorResponse(id,
                                         Error::make(Error::Kind::Cancelled,
                                                     QStringLiteral("The server was removed "
                                                                    "while the call ran."))));
            return;
        }
        if (result.error().kind == Error::Kind::Unauthorized && upstreamGuard->needsSignIn()) {
            answerSignInNeeded(upstreamGuard, urlElicitation, isToolCall, id, reply);
            return;
        }
        const Error error = describeUpstreamFailure(*upstreamGuard, method, result.error());
        if (isToolCall && result.error().kind != Error::Kind::Rpc) {
            reply->respond(toolError(id, error));
            return;
        }
        reply->respond(errorResponse(id, error));
    };
    m_calls[key] = std::move(call);
    const auto upstreamId = upstream->client()->request(method, params, std::move(callbacks));
    if (const auto it = m_calls.find(key); it != m_calls.end())
        it->second.upstreamId = upstreamId;
}

void Router::relayDuringCall(const QString &key, const json &message)
{
    const auto it = m_calls.find(key);
    if (it == m_calls.end())
        return;
    Call &call = it->second;
    const QString method = mcp::jsonrpc::method(message);
    const MessageKind kind = classify(message);
    if (kind == MessageKind::Notification) {
        json relayed = message;
        if (method == QLatin1String("notifications/progress")) {
            if (call.progressToken.is_null())
                return;
            relayed["params"]["progressToken"] = call.progressToken;
        } else if (method == QLatin1String("notifications/message")) {
            const mcp::ServerSession *session
                    = m_transport ? m_transport->findSession(call.sessionId) : nullptr;
            const QString level = toQString(mcp::jsonrpc::params(message).value("level", json()));
            if (session && !admitsLogLevel(session->logLevel, level))
                return;
        }
        call.reply->send(relayed);
        return;
    }
    if (kind != MessageKind::Request || !call.upstream)
        return;
    // A server-to-client request (sampling, elicitation, roots) made while serving this call:
    // the client that made the call answers it, if it said it can.
    const mcp::ServerSession *session
            = m_transport ? m_transport->findSession(call.sessionId) : nullptr;
    const json clientCapabilities = session ? session->clientCapabilities : json::object();
    const QString capability = capabilityFor(method);
    if (capability.isEmpty() || !clientCapabilities.contains(toStd(capability))) {
        call.upstream->client()->respond(
                makeError(message["id"], ErrorCode::kMethodNotFound,
                          QStringLiteral("The client behind MCP Broker does not support %1.")
                                  .arg(method.left(100))));
        return;
    }
    const QString downstreamId = QStringLiteral("mcpb-%1").arg(m_nextId++);
    m_relayed[downstreamId] = {call.upstream, message["id"], call.sessionId, key};
    call.reply->send(makeRequest(toStd(downstreamId), method, mcp::jsonrpc::params(message)));
}

void Router::handleNotification(mcp::ServerSession &session, const json &notification)
{
    const QString method = mcp::jsonrpc::method(notification);
    if (method != QLatin1String("notifications/cancelled"))
        return; // initialized, roots/list_changed, progress: nothing for the broker to do
    const json requestId = mcp::jsonrpc::params(notification).value("requestId", json());
    const QString key = callKey(session.id, requestId);
    const auto it = m_calls.find(key);
    if (it == m_calls.end())
        return;
    const QString reason = toQString(mcp::jsonrpc::params(notification).value("reason", json()));
    Call call = it->second;
    endCall(key);
    if (call.upstream && call.upstream->client())
        call.upstream->client()->cancel(call.upstreamId, reason);
    call.reply->abandon();
}

void Router::handleResponse(mcp::ServerSession &session, const json &response)
{
    const QString id = toQString(response.value("id", json()));
    const auto it = m_relayed.find(id);
    if (it == m_relayed.end() || it->second.sessionId != session.id) {
        qCDebug(lcGateway) << "A client answered a request the broker did not send";
        return;
    }
    RelayedRequest relayed = it->second;
    m_relayed.erase(it);
    if (!relayed.upstream || !relayed.upstream->client())
        return;
    json answer = response;
    answer["id"] = relayed.upstreamId;
    relayed.upstream->client()->respond(answer);
}

void Router::sessionClosed(const mcp::ServerSession &session)
{
    QStringList keys;
    for (const auto &[key, call] : m_calls) {
        if (call.sessionId == session.id)
            keys.append(key);
    }
    for (const QString &key : keys) {
        Call call = m_calls[key];
        endCall(key);
        if (call.upstream && call.upstream->client())
            call.upstream->client()->cancel(call.upstreamId,
                                            QStringLiteral("The client ended its session."));
    }
    for (auto it = m_subscribers.begin(); it != m_subscribers.end();) {
        it->remove(session.id);
        if (it->isEmpty()) {
            const QStringList parts = it.key().split(QLatin1Char('\n'));
            if (Upstream *upstream = m_registry->find(parts.value(0));
                upstream && upstream->client())
                upstream->client()->request(QStringLiteral("resources/unsubscribe"),
                                            {{"uri", toStd(parts.value(1))}}, {});
            it = m_subscribers.erase(it);
        } else {
            ++it;
        }
    }
}

void Router::endCall(const QString &key)
{
    const auto it = m_calls.find(key);
    if (it == m_calls.end())
        return;
    m_callByProgressToken.remove(it->second.upstreamProgressToken);
    for (auto relayed = m_relayed.begin(); relayed != m_relayed.end();) {
        if (relayed->second.callKey == key)
            relayed = m_relayed.erase(relayed);
        else
            ++relayed;
    }
    m_calls.erase(it);
}

Result<Router::Target> Router::targetForName(const mcp::ServerSession &session, const QString &name,
                                             const QString &what) const
{
    if (name.isEmpty())
        return invalidParams(QStringLiteral("The %1 name is missing.").arg(what));
    if (!session.scope.isEmpty()) {
        if (Upstream *upstream = m_registry->find(session.scope))
            return Target{upstream, name};
        return invalidParams(
                QStringLiteral("Server '%1' is no longer configured.").arg(session.scope));
    }
    const auto parts = Namespacing::splitName(name);
    if (!parts)
        return invalidParams(QStringLiteral("Unknown %1 '%2': on this endpoint names are "
                                            "<server>__<name>.")
                                     .arg(what, name.left(200)));
    Upstream *upstream = m_registry->find(parts->server);
    if (!upstream || !session.owner.allowsServer(parts->server))
        return invalidParams(QStringLiteral("Unknown %1 '%2': no server named '%3' is available "
                                            "to this client.")
                                     .arg(what, name.left(200), parts->server));
    return Target{upstream, parts->name};
}

Result<Router::Target> Router::targetForUri(const mcp::ServerSession &session,
                                            const QString &uri) const
{
    if (uri.isEmpty())
        return invalidParams(QStringLiteral("The resource URI is missing."));
    if (!session.scope.isEmpty())
        return targetForName(session, uri, QStringLiteral("resource"));
    if (const auto parts = Namespacing::splitUri(uri)) {
        Upstream *upstream = m_registry->find(parts->server);
        if (upstream && session.owner.allowsServer(parts->server))
            return Target{upstream, parts->name};
    }
    return invalidParams(QStringLiteral("Unknown resource '%1': on this endpoint resource URIs are "
                                        "<server>+<uri>, as resources/list gives them.")
                                 .arg(uri.left(200)));
}

QList<Upstream *> Router::upstreamsIn(const mcp::ServerSession &session) const
{
    if (session.scope.isEmpty()) {
        QList<Upstream *> visible = m_registry->upstreams();
        visible.removeIf(
                [&](Upstream *upstream) { return !session.owner.allowsServer(upstream->name()); });
        return visible;
    }
    if (Upstream *upstream = m_registry->find(session.scope))
        return {upstream};
    return {};
}

bool Router::sees(const mcp::ServerSession &session, const QString &server) const
{
    return (session.scope.isEmpty() || session.scope == server)
            && session.owner.allowsServer(server);
}

QString Router::uriFor(bool qualify, const QString &server, const QString &uri)
{
    return qualify ? Namespacing::qualifyUri(server, uri) : uri;
}

void Router::notifySessions(const std::function<bool(const mcp::ServerSession &)> &wanted,
                            const std::function<json(const mcp::ServerSession &)> &message)
{
    if (!m_transport)
        return;
    QList<QPair<QString, json>> outgoing;
    m_transport->forEachSession([&](mcp::ServerSession &session) {
        if (wanted(session))
            outgoing.append({session.id, message(session)});
    });
    for (const auto &[sessionId, notification] : outgoing)
        m_transport->sendToSession(sessionId, notification);
}

void Router::onCatalogChanged(const QString &server, CatalogKind kind)
{
    if (kind == CatalogKind::ResourceTemplates)
        return; // announced together with Resources
    const QString method = kind == CatalogKind::Tools
            ? QStringLiteral("notifications/tools/list_changed")
            : kind == CatalogKind::Prompts ? QStringLiteral("notifications/prompts/list_changed")
                                           : QStringLiteral("notifications/resources/list_changed");
    notifySessions([&](const mcp::ServerSession &session) { return sees(session, server); },
                   [&](const mcp::ServerSession &) { return makeNotification(method, nullptr); });
}

void Router::onUpstreamsChanged()
{
    // Servers came or went: every list of the aggregated endpoint may differ.
    for (CatalogKind kind : {CatalogKind::Tools, CatalogKind::Prompts, CatalogKind::Resources}) {
        const QString method = QStringLiteral("notifications/%1/list_changed")
                                       .arg(QString::fromLatin1(Upstream::itemsKey(kind)));
        notifySessions(
                [](const mcp::ServerSession &session) { return session.scope.isEmpty(); },
                [&](const mcp::ServerSession &) { return makeNotification(method, nullptr); });
    }
}

void Router::onServerMessage(const QString &server, const json &message)
{
    const QString method = mcp::jsonrpc::method(message);
    const json params = mcp::jsonrpc::params(message);
    const MessageKind kind = classify(message);
    if (kind == MessageKind::Request) {
        // Not tied to any client's call: the broker answers for itself.
        Upstream *upstream = m_registry->find(server);
        if (!upstream || !upstream->client())
            return;
        if (method == QLatin1String("roots/list")) {
            upstream->client()->respond(makeResult(message["id"], {{"roots", json::array()}}));
        } else {
            upstream->client()->respond(makeError(
                    message["id"], ErrorCode::kMethodNotFound,
                    QStringLiteral("MCP Broker passes %1 on only while a client's call runs.")
                            .arg(method.left(100))));
        }
        return;
    }
    if (method == QLatin1String("notifications/resources/updated")) {
        const QString uri = toQString(params.value("uri", json()));
        const QSet<QString> subscribers = m_subscribers.value(server + QLatin1Char('\n') + uri);
        notifySessions(
                [&](const mcp::ServerSession &session) { return subscribers.contains(session.id); },
                [&](const mcp::ServerSession &session) {
                    json forwarded = params;
                    forwarded["uri"] = toStd(uriFor(session.scope.isEmpty(), server, uri));
                    return makeNotification(method, forwarded);
                });
        return;
    }
    if (method == QLatin1String("notifications/progress")) {
        const QString token = toQString(params.value("progressToken", json()));
        if (const auto key = m_callByProgressToken.value(token); !key.isEmpty())
            relayDuringCall(key, message);
        return;
    }
    if (method == QLatin1String("notifications/message")) {
        const QString level = toQString(params.value("level", json()));
        notifySessions(
                [&](const mcp::ServerSession &session) {
                    return sees(session, server) && admitsLogLevel(session.logLevel, level);
                },
                [&](const mcp::ServerSession &session) {
                    json forwarded = params;
                    if (session.scope.isEmpty() && !forwarded.contains("logger"))
                        forwarded["logger"] = toStd(server);
                    return makeNotification(method, forwarded);
                });
    }
}

} // namespace mcpbroker::gateway
