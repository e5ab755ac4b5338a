#include "gateway/LocalAuthorizationServer.h"

#include "SecretCompare.h"

#include "Logging.h"
#include "gateway/ClientGrants.h"
#include "gateway/GrantToken.h"
#include "http/HttpRequest.h"
#include "http/HttpResponder.h"
#include "http/HttpResponse.h"
#include "oauth/Pkce.h"

#include <QCryptographicHash>
#include <QFile>
#include <QHash>
#include <QPointer>
#include <QTimer>
#include <QUrl>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <optional>

// Q_INIT_RESOURCE must be used outside any namespace; the pages live in a static library.
static void initOAuthPages()
{
    Q_INIT_RESOURCE(oauthpages);
}

namespace mcpbroker::gateway {

namespace {

using json = nlohmann::json;

constexpr QLatin1String kMetadataPath("/.well-known/oauth-authorization-server");
constexpr QLatin1String kResourceMetadataPath("/.well-known/oauth-protected-resource");
constexpr QLatin1String kMcpPath("/mcp");
constexpr QLatin1String kRegisterPath("/oauth/register");
constexpr QLatin1String kAuthorizePath("/oauth/authorize");
constexpr QLatin1String kConsentPath("/oauth/consent");
constexpr QLatin1String kConsentStatusPath("/oauth/consent/status");
constexpr QLatin1String kTokenPath("/oauth/token");
constexpr QLatin1String kRevokePath("/oauth/revoke");

constexpr qsizetype kMaxClientNameLength = 80;
constexpr qsizetype kMaxRedirectUris = 8;
constexpr qsizetype kMaxRedirectUriLength = 2000;
constexpr qsizetype kMaxStateLength = 2000;
// After a decision the page may still ask for it (the code inside lives this long anyway).
constexpr int kDecidedRetentionMs = 2 * 60'000;
// A used code is remembered this long, so that a second use revokes what the first one got.
constexpr int kUsedCodeRetentionMs = 10 * 60'000;
constexpr int kSweepIntervalMs = 1000;

const QString kAuthorizationCodeGrant = QStringLiteral("authorization_code");
const QString kRefreshTokenGrant = QStringLiteral("refresh_token");

QByteArray serialize(const json &value)
{
    return QByteArray::fromStdString(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string str(const QString &text)
{
    return text.toStdString();
}

http::HttpResponse jsonResponse(int status, const json &body)
{
    return http::HttpResponse::json(status, serialize(body));
}

// RFC 6749 §5.2 / RFC 7591 §3.2.2 / RFC 7009 §2.2.1 error answers.
http::HttpResponse oauthError(int status, const QString &error, const QString &description)
{
    json body{{"error", str(error)}};
    if (!description.isEmpty())
        body["error_description"] = str(description);
    return jsonResponse(status, body)
            .withHeader("Cache-Control", "no-store")
            .withHeader("Pragma", "no-cache");
}

http::HttpResponse notFound()
{
    return oauthError(404, QStringLiteral("not_found"),
                      QStringLiteral("No such OAuth endpoint on MCP Broker."));
}

http::HttpResponse methodNotAllowed(const QByteArray &allow)
{
    return oauthError(
                   405, QStringLiteral("invalid_request"),
                   QStringLiteral("This endpoint only answers %1.").arg(QString::fromLatin1(allow)))
            .withHeader("Allow", allow);
}

// "http://" + Host: the origin the client addressed (LocalEndpoint allowed only loopback names).
QString originOf(const http::HttpRequest &request)
{
    return QStringLiteral("http://")
            + QString::fromLatin1(request.header("Host").trimmed().toLower());
}

QString mediaType(QByteArrayView contentType)
{
    const QByteArray value = contentType.toByteArray();
    const qsizetype semicolon = value.indexOf(';');
    return QString::fromLatin1((semicolon < 0 ? value : value.left(semicolon)).trimmed().toLower());
}

bool isFormEncoded(const http::HttpRequest &request)
{
    return mediaType(request.header("Content-Type"))
            == QLatin1String("application/x-www-form-urlencoded");
}

// application/x-www-form-urlencoded (also the query of a URL, RFC 6749 Appendix B): "+" is a
// space, then percent-decoding, UTF-8.
using FormItems = QList<QPair<QString, QString>>;

QString formDecode(QByteArrayView part)
{
    QByteArray bytes = part.toByteArray();
    bytes.replace('+', ' ');
    return QUrl::fromPercentEncoding(bytes);
}

FormItems parseForm(QByteArrayView encoded)
{
    FormItems items;
    for (const QByteArray &part : encoded.toByteArray().split('&')) {
        if (part.isEmpty())
            continue;
        const qsizetype equals = part.indexOf('=');
        if (equals < 0)
            items.append({formDecode(part), QString()});
        else
            items.append({formDecode(part.left(equals)), formDecode(part.mid(equals + 1))});
    }
    return items;
}

QStringList formValues(const FormItems &items, QLatin1String name)
{
    QStringList values;
    for (const auto &[key, value] : items) {
        if (key == name)
            values.append(value);
    }
    return values;
}

// A parameter that may appear at most once (RFC 6749 §3.1, §3.2): null when absent.
struct Single
{
    QString value;
    bool present = false;
    bool repeated = false;
};

Single single(const FormItems &items, QLatin1String name)
{
    const QStringList values = formValues(items, name);
    return {values.value(0), !values.isEmpty(), values.size() > 1};
}

QString percentEncoded(const QString &value)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(value));
}

// `uri` with `parameters` added to its query (the redirect URI may already have one).
QString withQuery(const QString &uri, const QList<QPair<QString, QString>> &parameters)
{
    QString result = uri;
    bool first = !uri.contains(QLatin1Char('?'));
    for (const auto &[name, value] : parameters) {
        result += first ? QLatin1Char('?') : QLatin1Char('&');
        result += percentEncoded(name) + QLatin1Char('=') + percentEncoded(value);
        first = false;
    }
    return result;
}

QByteArray sha256(QByteArrayView bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256);
}

void wipe(QByteArray &bytes)
{
    if (!bytes.isEmpty())
        OPENSSL_cleanse(bytes.data(), size_t(bytes.size()));
    bytes.clear();
}

// Text a client sent, as we show and log it: printable (no line breaks to forge log lines),
// bounded.
QString printable(const QString &text, qsizetype maxLength)
{
    QString result;
    for (const QChar c : text) {
        if (result.size() >= maxLength) {
            result += QChar(0x2026);
            break;
        }
        result += c.isPrint() ? c : QLatin1Char(' ');
    }
    return result.simplified();
}

QString sanitizedName(const QString &name)
{
    return printable(name, kMaxClientNameLength);
}

bool isLoopbackHost(const QString &host)
{
    return host == QLatin1String("127.0.0.1") || host == QLatin1String("::1")
            || host == QLatin1String("localhost");
}

// Why `uri` cannot be a redirect URI here, or nullopt when it can: http on a loopback host with
// an explicit port (RFC 8252 §7.3), no fragment (RFC 6749 §3.1.2), no user info.
std::optional<QString> redirectUriProblem(const QString &text)
{
    if (text.size() > kMaxRedirectUriLength)
        return QStringLiteral("a redirect URI is too long");
    const QUrl url(text, QUrl::StrictMode);
    // As shown in the answer and the log: without user info (it might be a password).
    const QString uri = printable(url.isValid() ? url.toString(QUrl::RemoveUserInfo) : text, 300);
    if (text.contains(QLatin1Char('#')))
        return QStringLiteral("a redirect URI must not have a fragment: %1").arg(uri);
    if (!url.isValid() || url.scheme() != QLatin1String("http"))
        return QStringLiteral("MCP Broker accepts only http loopback redirect URIs "
                              "(http://127.0.0.1:PORT/…), not %1")
                .arg(uri);
    if (!isLoopbackHost(url.host()))
        return QStringLiteral("the redirect URI %1 is not on this computer: use 127.0.0.1, "
                              "[::1] or localhost")
                .arg(uri);
    if (url.port() <= 0)
        return QStringLiteral("the redirect URI %1 needs a port").arg(uri);
    if (!url.userInfo().isEmpty())
        return QStringLiteral("a redirect URI must not carry user information");
    return std::nullopt;
}

// "scheme://host:port" of a redirect URI, as a CSP source (form-action follows the redirect).
QString cspSourceOf(const QString &redirectUri)
{
    const QUrl url(redirectUri);
    if (url.host().contains(QLatin1Char(':')))
        return QStringLiteral("http:"); // CSP host-source has no IPv6 literals
    return QStringLiteral("http://%1:%2").arg(url.host()).arg(url.port());
}

bool isBase64UrlChar(QChar c)
{
    return (c >= QLatin1Char('A') && c <= QLatin1Char('Z'))
            || (c >= QLatin1Char('a') && c <= QLatin1Char('z'))
            || (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-')
            || c == QLatin1Char('_');
}

// An S256 challenge is BASE64URL(SHA-256(verifier)) without padding: 43 characters.
bool isS256Challenge(const QString &challenge)
{
    return challenge.size() == 43
            && std::all_of(challenge.begin(), challenge.end(), isBase64UrlChar);
}

QString loadTemplate(const QString &name)
{
    QFile file(QStringLiteral(":/oauth/") + name);
    if (!file.open(QIODevice::ReadOnly)) {
        qCWarning(lcGateway) << "The OAuth page template" << name << "is missing";
        return QStringLiteral("<!doctype html><html><head><meta charset=\"utf-8\"></head>"
                              "<body><h1>{{TITLE}}</h1><p>{{MESSAGE}}</p></body></html>");
    }
    return QString::fromUtf8(file.readAll());
}

// Fills {{NAME}} placeholders in one pass, so a value can never introduce another placeholder.
// Values are HTML already (escape what a client sent before passing it).
QString render(const QString &templateText, const QHash<QString, QString> &values)
{
    QString result;
    result.reserve(templateText.size() + 1024);
    qsizetype pos = 0;
    for (;;) {
        const qsizetype open = templateText.indexOf(QLatin1String("{{"), pos);
        const qsizetype close = open < 0 ? -1 : templateText.indexOf(QLatin1String("}}"), open);
        if (open < 0 || close < 0) {
            result += QStringView(templateText).mid(pos);
            return result;
        }
        result += QStringView(templateText).mid(pos, open - pos);
        result += values.value(templateText.mid(open + 2, close - open - 2));
        pos = close + 2;
    }
}

QString escaped(const QString &text)
{
    return text.toHtmlEscaped();
}

QByteArray newNonce()
{
    return oauth::Pkce::randomState().left(22);
}

// Headers of every HTML page: no framing, no sniffing, no caching, a strict CSP. The referrer
// policy is same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on the
// consent form's POST (Fetch, "append a request Origin header"), which the endpoint refuses.
// Nothing leaves the origin either way.
http::HttpResponse htmlPage(int status, const QString &html, const QByteArray &nonce,
                            const QString &formAction = QString())
{
    QByteArray csp = "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-"
            + nonce + "'; connect-src 'self'; form-action 'self'";
    if (!formAction.isEmpty())
        csp += ' ' + formAction.toLatin1();
    csp += "; frame-ancestors 'none'; base-uri 'none'";
    http::HttpResponse response{status, {}, html.toUtf8()};
    response.withHeader("Content-Type", "text/html; charset=utf-8")
            .withHeader("Content-Security-Policy", csp)
            .withHeader("X-Frame-Options", "DENY")
            .withHeader("Referrer-Policy", "same-origin")
            .withHeader("Cache-Control", "no-store")
            .withHeader("X-Content-Type-Options", "nosniff");
    return response;
}

http::HttpResponse errorPage(int status, const QString &title, const QString &message)
{
    const QByteArray nonce = newNonce();
    const QString html = render(loadTemplate(QStringLiteral("oauth-error.html")),
                                {{QStringLiteral("NONCE"), QString::fromLatin1(nonce)},
                                 {QStringLiteral("TITLE"), escaped(title)},
                                 {QStringLiteral("MESSAGE"), escaped(message)}});
    return htmlPage(status, html, nonce);
}

http::HttpResponse redirectTo(const QString &location)
{
    return http::HttpResponse::empty(302)
            .withHeader("Location", location.toUtf8())
            .withHeader("Cache-Control", "no-store")
            .withHeader("Referrer-Policy", "no-referrer");
}

http::HttpResponse noStore(http::HttpResponse response)
{
    return response.withHeader("Cache-Control", "no-store").withHeader("Pragma", "no-cache");
}

json stringArray(const QStringList &values)
{
    json array = json::array();
    for (const QString &value : values)
        array.push_back(str(value));
    return array;
}

} // namespace

struct LocalAuthorizationServer::Private
{
    struct Consent
    {
        enum class Phase { Pending, Approved, Denied, Expired };

        ConsentRequest request;
        quint64 sequence = 0; // arrival order
        QByteArray csrf;
        QString issuer; // the origin the page was served from
        QString state;
        bool hasState = false;
        QString codeChallenge;
        QString resource;   // as the client sent it; empty: none
        QDateTime deadline; // pending: answer by then; afterwards: forgotten then
        Phase phase = Phase::Pending;
        QString location; // after the decision: where the browser goes
    };

    struct Code
    {
        QString clientId;
        QString redirectUri;
        QString challenge;
        QString resource;
        QStringList servers;
        QDateTime expiresAt; // no exchange after this
        QDateTime forgetAt;  // reuse is detected until this
        bool used = false;
        bool exchanging = false;
        bool revokeWhenIssued = false;
        QString grantId;
    };

    LocalAuthorizationServer *q = nullptr;
    QPointer<ClientGrants> grants;
    std::function<QStringList()> serverNames;
    Options options;
    QHash<QString, Consent> consents;
    QHash<QByteArray, Code> codes; // by SHA-256 of the code: the code itself is not kept
    quint64 consentsSeen = 0;
    QTimer sweepTimer;

    QStringList configuredServers() const { return serverNames ? serverNames() : QStringList(); }

    void startSweeping()
    {
        if (!sweepTimer.isActive())
            sweepTimer.start();
    }

    void sweep()
    {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        QStringList expired;
        for (auto it = consents.begin(); it != consents.end();) {
            if (it->deadline > now) {
                ++it;
                continue;
            }
            if (it->phase == Consent::Phase::Pending) {
                // Kept a while as expired, so that the page can say so.
                it->phase = Consent::Phase::Expired;
                it->deadline = now.addMSecs(kDecidedRetentionMs);
                expired.append(it.key());
                qCInfo(lcGateway).noquote()
                        << QStringLiteral("The authorization request of OAuth client '%1' (%2) "
                                          "expired unanswered")
                                   .arg(it->request.clientName, it->request.clientId);
                ++it;
            } else {
                wipe(it->csrf);
                it = consents.erase(it);
            }
        }
        for (auto it = codes.begin(); it != codes.end();) {
            if (it->forgetAt <= now && !it->exchanging)
                it = codes.erase(it);
            else
                ++it;
        }
        if (consents.isEmpty() && codes.isEmpty())
            sweepTimer.stop();
        for (const QString &id : expired)
            Q_EMIT q->consentFinished(id, false);
    }

    // The servers a resource indicator (RFC 8707) stands for: {} = every server (/mcp), or the
    // one of /mcp/<server>. nullopt for anything that is not one of our resources.
    std::optional<QStringList> serversOfResource(const QString &resource,
                                                 const QString &issuer) const
    {
        const QUrl url(resource, QUrl::StrictMode);
        const QUrl origin(issuer);
        if (!url.isValid() || url.scheme() != QLatin1String("http")
            || url.host().compare(origin.host(), Qt::CaseInsensitive) != 0
            || url.port() != origin.port() || url.hasQuery() || url.hasFragment()
            || !url.userInfo().isEmpty())
            return std::nullopt;
        QString path = url.path();
        if (path.endsWith(QLatin1Char('/')))
            path.chop(1);
        if (path == kMcpPath)
            return QStringList();
        if (path.startsWith(kMcpPath + QLatin1Char('/'))) {
            const QString server = path.mid(kMcpPath.size() + 1);
            if (configuredServers().contains(server))
                return QStringList{server};
        }
        return std::nullopt;
    }

    // ---- metadata

    void answerAuthorizationServerMetadata(const http::HttpRequest &request,
                                           http::HttpResponder *responder) const
    {
        const QString origin = originOf(request);
        const json metadata{
                {"issuer", str(origin)},
                {"authorization_endpoint", str(origin + kAuthorizePath)},
                {"token_endpoint", str(origin + kTokenPath)},
                {"registration_endpoint", str(origin + kRegisterPath)},
                {"revocation_endpoint", str(origin + kRevokePath)},
                {"response_types_supported", {"code"}},
                {"response_modes_supported", {"query"}},
                {"grant_types_supported", {"authorization_code", "refresh_token"}},
                {"code_challenge_methods_supported", {"S256"}},
                {"token_endpoint_auth_methods_supported", {"none"}},
                {"revocation_endpoint_auth_methods_supported", {"none"}},
                {"authorization_response_iss_parameter_supported", true},
        };
        responder->send(jsonResponse(200, metadata));
    }

    void answerResourceMetadata(const http::HttpRequest &request, const QString &server,
                                http::HttpResponder *responder) const
    {
        if (!server.isEmpty() && !configuredServers().contains(server)) {
            responder->send(oauthError(
                    404, QStringLiteral("not_found"),
                    QStringLiteral("No server named '%1' is configured.").arg(server.left(63))));
            return;
        }
        const QString origin = originOf(request);
        const json metadata{
                {"resource",
                 str(origin + kMcpPath
                     + (server.isEmpty() ? QString() : QLatin1Char('/') + server))},
                {"authorization_servers", {str(origin)}},
                {"bearer_methods_supported", {"header"}},
                {"resource_name",
                 str(server.isEmpty() ? QStringLiteral("MCP Broker (every server)")
                                      : QStringLiteral("MCP Broker: %1").arg(server))},
        };
        responder->send(jsonResponse(200, metadata));
    }

    // ---- registration (RFC 7591)

    void answerRegistration(const http::HttpRequest &request, http::HttpResponder *responder)
    {
        const json body
                = json::parse(request.body.constData(),
                              request.body.constData() + request.body.size(), nullptr, false);
        auto refuse = [responder](const QString &error, const QString &description) {
            qCWarning(lcGateway).noquote()
                    << QStringLiteral("Refused an OAuth client registration: %1").arg(description);
            responder->send(oauthError(400, error, description));
        };
        const QString invalidMetadata = QStringLiteral("invalid_client_metadata");
        const QString invalidRedirect = QStringLiteral("invalid_redirect_uri");
        if (!body.is_object()) {
            refuse(invalidMetadata,
                   QStringLiteral("The registration request must be a JSON object."));
            return;
        }

        const auto field = body.find("redirect_uris");
        if (field == body.end() || !field->is_array() || field->empty()) {
            refuse(invalidRedirect,
                   QStringLiteral("redirect_uris is required: a list of http loopback URIs "
                                  "with a port."));
            return;
        }
        if (qsizetype(field->size()) > kMaxRedirectUris) {
            refuse(invalidRedirect,
                   QStringLiteral("At most %1 redirect URIs can be registered.")
                           .arg(kMaxRedirectUris));
            return;
        }
        QStringList redirectUris;
        for (const json &uri : *field) {
            if (!uri.is_string()) {
                refuse(invalidRedirect, QStringLiteral("Every redirect URI must be a string."));
                return;
            }
            const QString text = QString::fromStdString(uri.get<std::string>());
            if (const auto problem = redirectUriProblem(text)) {
                refuse(invalidRedirect, *problem + QLatin1Char('.'));
                return;
            }
            if (!redirectUris.contains(text))
                redirectUris.append(text);
        }

        if (const auto method = body.find("token_endpoint_auth_method"); method != body.end()) {
            if (!method->is_string() || method->get<std::string>() != "none") {
                refuse(invalidMetadata,
                       QStringLiteral("MCP Broker registers public clients only: "
                                      "token_endpoint_auth_method must be \"none\"."));
                return;
            }
        }
        if (const auto grantTypes = body.find("grant_types"); grantTypes != body.end()) {
            bool valid = grantTypes->is_array() && !grantTypes->empty();
            bool hasCode = false;
            for (const json &grantType : valid ? *grantTypes : json::array()) {
                const std::string value
                        = grantType.is_string() ? grantType.get<std::string>() : std::string();
                hasCode = hasCode || value == "authorization_code";
                valid = valid && (value == "authorization_code" || value == "refresh_token");
            }
            if (!valid || !hasCode) {
                refuse(invalidMetadata,
                       QStringLiteral("grant_types may only be authorization_code and "
                                      "refresh_token, and must include authorization_code."));
                return;
            }
        }
        if (const auto responseTypes = body.find("response_types"); responseTypes != body.end()) {
            const bool valid = responseTypes->is_array() && !responseTypes->empty()
                    && std::all_of(responseTypes->begin(), responseTypes->end(),
                                   [](const json &type) {
                                       return type.is_string() && type.get<std::string>() == "code";
                                   });
            if (!valid) {
                refuse(invalidMetadata, QStringLiteral("response_types may only be \"code\"."));
                return;
            }
        }
        QString clientName;
        if (const auto name = body.find("client_name"); name != body.end()) {
            if (!name->is_string()) {
                refuse(invalidMetadata, QStringLiteral("client_name must be a string."));
                return;
            }
            clientName = sanitizedName(QString::fromStdString(name->get<std::string>()));
        }
        if (clientName.isEmpty())
            clientName = QStringLiteral("Unnamed application");

        if (!grants) {
            responder->send(oauthError(503, QStringLiteral("temporarily_unavailable"),
                                       QStringLiteral("MCP Broker is shutting down.")));
            return;
        }
        const Result<LocalClientRegistration> registered
                = grants->registerClient(clientName, redirectUris);
        if (!registered) {
            qCWarning(lcGateway).noquote()
                    << "OAuth client registration failed:" << registered.error().message;
            if (registered.error().kind == Error::Kind::InvalidInput)
                refuse(invalidMetadata, registered.error().message);
            else
                responder->send(oauthError(500, QStringLiteral("server_error"),
                                           registered.error().message));
            return;
        }
        const LocalClientRegistration &client = registered.value();
        qCInfo(lcGateway).noquote()
                << QStringLiteral("Registered OAuth client '%1' (%2), redirect URIs %3")
                           .arg(client.clientName, client.clientId,
                                client.redirectUris.join(QStringLiteral(", ")));
        // RFC 7591 §3.2.1: what was registered. Refresh tokens are always issued, so both grant
        // types are (the server may replace requested values).
        const json answer{
                {"client_id", str(client.clientId)},
                {"client_id_issued_at",
                 (client.createdAt.isValid() ? client.createdAt : QDateTime::currentDateTimeUtc())
                         .toSecsSinceEpoch()},
                {"client_name", str(client.clientName)},
                {"redirect_uris", stringArray(client.redirectUris)},
                {"grant_types", {"authorization_code", "refresh_token"}},
                {"response_types", {"code"}},
                {"token_endpoint_auth_method", "none"},
        };
        responder->send(noStore(jsonResponse(201, answer)));
    }

    // ---- authorization endpoint

    void answerAuthorize(const http::HttpRequest &request, http::HttpResponder *responder)
    {
        const qsizetype question = request.target.indexOf('?');
        const FormItems query
                = parseForm(question < 0 ? QByteArrayView()
                                         : QByteArrayView(request.target).sliced(question + 1));
        const QString issuer = originOf(request);
        auto page = [responder](const QString &message) {
            qCWarning(lcGateway).noquote()
                    << QStringLiteral("Refused an authorization request: %1").arg(message);
            responder->send(errorPage(400, QStringLiteral("MCP Broker cannot authorize this"),
                                      message
                                              + QStringLiteral(" Nothing was shared with the "
                                                               "application.")));
        };

        // 1. Who asks, and where the answer may go: until both are known, errors are shown
        // here, never redirected (RFC 6749 §4.1.2.1).
        const Single clientId = single(query, QLatin1String("client_id"));
        if (!clientId.present || clientId.value.isEmpty() || clientId.repeated) {
            page(QStringLiteral("The application did not say who it is (client_id)."));
            return;
        }
        const std::optional<LocalClientRegistration> client
                = grants ? grants->findClient(clientId.value) : std::nullopt;
        if (!client) {
            page(QStringLiteral("The application is not registered with MCP Broker (unknown "
                                "client_id). Let it sign in again so that it registers anew."));
            return;
        }
        const Single redirectUri = single(query, QLatin1String("redirect_uri"));
        if (!redirectUri.present || redirectUri.repeated) {
            page(QStringLiteral("The application '%1' did not say where to return "
                                "(redirect_uri).")
                         .arg(client->clientName));
            return;
        }
        if (!client->redirectUris.contains(redirectUri.value)) {
            page(QStringLiteral("The application '%1' asked to return to %2, which is not "
                                "one of the addresses it registered.")
                         .arg(client->clientName, printable(redirectUri.value, 300)));
            return;
        }

        // 2. Everything else is answered at the redirect URI, with state and iss (RFC 9207).
        const Single state = single(query, QLatin1String("state"));
        auto fail = [&](const QString &error, const QString &description) {
            qCWarning(lcGateway).noquote()
                    << QStringLiteral("Refused an authorization request of OAuth client '%1' "
                                      "(%2): %3")
                               .arg(client->clientName, client->clientId, description);
            QList<QPair<QString, QString>> parameters{
                    {QStringLiteral("error"), error},
                    {QStringLiteral("error_description"), description}};
            if (state.present && !state.repeated)
                parameters.append({QStringLiteral("state"), state.value.left(kMaxStateLength)});
            parameters.append({QStringLiteral("iss"), issuer});
            responder->send(redirectTo(withQuery(redirectUri.value, parameters)));
        };
        const QString invalidRequest = QStringLiteral("invalid_request");
        if (state.repeated || state.value.size() > kMaxStateLength) {
            fail(invalidRequest, QStringLiteral("state must be given at most once, and short."));
            return;
        }
        const Single responseType = single(query, QLatin1String("response_type"));
        if (!responseType.present || responseType.repeated) {
            fail(invalidRequest, QStringLiteral("response_type=code is required."));
            return;
        }
        if (responseType.value != QLatin1String("code")) {
            fail(QStringLiteral("unsupported_response_type"),
                 QStringLiteral("Only response_type=code is supported."));
            return;
        }
        const Single challenge = single(query, QLatin1String("code_challenge"));
        const Single method = single(query, QLatin1String("code_challenge_method"));
        if (!challenge.present || challenge.repeated || method.repeated) {
            fail(invalidRequest,
                 QStringLiteral("PKCE is required: send one code_challenge with "
                                "code_challenge_method=S256."));
            return;
        }
        if (method.value != QLatin1String("S256")) {
            // RFC 7636 §4.4.1 (an absent method means "plain").
            fail(invalidRequest,
                 QStringLiteral("transform algorithm not supported: "
                                "code_challenge_method must be S256."));
            return;
        }
        if (!isS256Challenge(challenge.value)) {
            fail(invalidRequest,
                 QStringLiteral("code_challenge must be 43 characters of base64url."));
            return;
        }
        const QStringList resources = formValues(query, QLatin1String("resource"));
        QStringList requestedServers;
        if (resources.size() > 1) {
            fail(QStringLiteral("invalid_target"),
                 QStringLiteral("Ask for one resource at a time."));
            return;
        }
        if (resources.size() == 1) {
            const std::optional<QStringList> servers = serversOfResource(resources.first(), issuer);
            if (!servers) {
                fail(QStringLiteral("invalid_target"),
                     QStringLiteral("The resource must be %1%2 or %1%2/<server> for a configured "
                                    "server.")
                             .arg(issuer, kMcpPath));
                return;
            }
            requestedServers = *servers;
        }

        // 3. Ask the user.
        Consent consent;
        consent.request.id = QString::fromLatin1(GrantToken::randomString());
        consent.request.clientName = client->clientName;
        consent.request.clientId = client->clientId;
        consent.request.redirectUri = redirectUri.value;
        consent.request.requestedServers = requestedServers;
        consent.request.requestedAt = QDateTime::currentDateTimeUtc();
        consent.sequence = ++consentsSeen;
        consent.csrf = GrantToken::randomString();
        consent.issuer = issuer;
        consent.state = state.value;
        consent.hasState = state.present;
        consent.codeChallenge = challenge.value;
        consent.resource = resources.value(0);
        consent.deadline = consent.request.requestedAt.addMSecs(options.consentLifetimeMs);
        dropOldestPendingBeyond(options.maxPendingConsents - 1);
        consents.insert(consent.request.id, consent);
        startSweeping();

        if (const std::optional<RememberedAnswer> answer
            = rememberedAnswer(*client, requestedServers)) {
            qCInfo(lcGateway).noquote()
                    << QStringLiteral("OAuth client '%1' (%2) asks again; the user's remembered "
                                      "answer applies")
                               .arg(consent.request.clientName, consent.request.clientId);
            decide(consent.request.id, answer->approved, answer->servers);
            responder->send(redirectTo(consents.value(consent.request.id).location));
            return;
        }

        qCInfo(lcGateway).noquote()
                << QStringLiteral("OAuth client '%1' (%2) asks for %3; waiting for the user")
                           .arg(consent.request.clientName, consent.request.clientId,
                                requestedServers.isEmpty()
                                        ? QStringLiteral("every server")
                                        : QStringLiteral("server '%1'")
                                                  .arg(requestedServers.first()));
        responder->send(consentPage(consent, QString()));
        Q_EMIT q->consentRequested(consent.request);
    }

    struct RememberedAnswer
    {
        bool approved = false;
        QStringList servers;
    };

    // The answer the user asked to remember for `client`, when it covers this request: a
    // remembered approval only for the servers it named (or all, when it named none).
    static std::optional<RememberedAnswer> rememberedAnswer(const LocalClientRegistration &client,
                                                            const QStringList &requested)
    {
        using Remembered = LocalClientRegistration::RememberedConsent;
        switch (client.remembered) {
        case Remembered::None:
            return std::nullopt;
        case Remembered::Deny:
            return RememberedAnswer{false, {}};
        case Remembered::Allow:
            break;
        }
        if (client.rememberedServers.isEmpty())
            return RememberedAnswer{true, requested};
        const bool covered = !requested.isEmpty()
                && std::all_of(requested.begin(), requested.end(), [&](const QString &server) {
                       return client.rememberedServers.contains(server);
                   });
        if (!covered)
            return std::nullopt;
        return RememberedAnswer{true, requested};
    }

    void remember(const QString &consentId, LocalClientRegistration::RememberedConsent answer,
                  const QStringList &servers)
    {
        const auto it = consents.constFind(consentId);
        if (it == consents.constEnd() || !grants)
            return;
        if (auto kept = grants->rememberConsent(it->request.clientId, answer, servers); !kept) {
            qCWarning(lcGateway).noquote()
                    << "The answer could not be remembered:" << kept.error().message;
        }
    }

    void dropOldestPendingBeyond(int limit)
    {
        for (;;) {
            QList<const Consent *> pending;
            for (const Consent &consent : std::as_const(consents)) {
                if (consent.phase == Consent::Phase::Pending)
                    pending.append(&consent);
            }
            if (pending.size() <= qMax(0, limit))
                return;
            const Consent *oldest = *std::min_element(
                    pending.begin(), pending.end(),
                    [](const Consent *a, const Consent *b) { return a->sequence < b->sequence; });
            qCWarning(lcGateway).noquote()
                    << QStringLiteral("Too many authorization requests wait for an answer: "
                                      "the oldest (OAuth client '%1') is denied")
                               .arg(oldest->request.clientName);
            const QString id = oldest->request.id;
            decide(id, false, {});
        }
    }

    http::HttpResponse consentPage(const Consent &consent, const QString &message) const
    {
        const QStringList servers = configuredServers();
        const bool everything = consent.request.requestedServers.isEmpty();
        QString choices;
        for (const QString &server : servers) {
            const bool checked = everything || consent.request.requestedServers.contains(server);
            choices += QStringLiteral("<label><input type=\"checkbox\" name=\"server\" "
                                      "value=\"%1\"%2> %1</label>\n")
                               .arg(escaped(server),
                                    checked ? QStringLiteral(" checked") : QString());
        }
        if (servers.isEmpty())
            choices = QStringLiteral("<p>No servers are configured yet.</p>");
        const QString requested = everything
                ? QStringLiteral("every server (<code>%1</code>)").arg(escaped(kMcpPath))
                : QStringLiteral("the server <code>%1</code>")
                          .arg(escaped(
                                  consent.request.requestedServers.join(QStringLiteral(", "))));
        const QString note = everything
                ? (servers.isEmpty()
                           ? QStringLiteral("Allowing gives it every server you add later.")
                           : QStringLiteral("Leaving every server checked also allows the "
                                            "servers you add later."))
                : QString();
        const QByteArray nonce = newNonce();
        const QString html = render(
                loadTemplate(QStringLiteral("consent.html")),
                {{QStringLiteral("NONCE"), QString::fromLatin1(nonce)},
                 {QStringLiteral("CLIENT_NAME"), escaped(consent.request.clientName)},
                 {QStringLiteral("CLIENT_ID"), escaped(consent.request.clientId)},
                 {QStringLiteral("REDIRECT_URI"), escaped(consent.request.redirectUri)},
                 {QStringLiteral("REQUESTED"), requested},
                 {QStringLiteral("SERVER_CHOICES"), choices},
                 {QStringLiteral("SERVERS_NOTE"), escaped(note)},
                 {QStringLiteral("CONSENT_ID"), escaped(consent.request.id)},
                 {QStringLiteral("CSRF"), QString::fromLatin1(consent.csrf)},
                 {QStringLiteral("MESSAGE"),
                  message.isEmpty()
                          ? QString()
                          : QStringLiteral("<p class=\"message\">%1</p>").arg(escaped(message))}});
        return htmlPage(message.isEmpty() ? 200 : 400, html, nonce,
                        cspSourceOf(consent.request.redirectUri));
    }

    // ---- the user's answer

    // Decides a pending consent: an authorization code (approved) or access_denied, both at the
    // redirect URI. `servers` {} = every server. False when the consent is not pending.
    bool decide(const QString &consentId, bool approved, const QStringList &servers)
    {
        auto it = consents.find(consentId);
        if (it == consents.end() || it->phase != Consent::Phase::Pending)
            return false;
        Consent &consent = *it;
        QList<QPair<QString, QString>> parameters;
        if (approved) {
            QByteArray code = GrantToken::randomString();
            Code record;
            record.clientId = consent.request.clientId;
            record.redirectUri = consent.request.redirectUri;
            record.challenge = consent.codeChallenge;
            record.resource = consent.resource;
            record.servers = servers;
            record.expiresAt = QDateTime::currentDateTimeUtc().addMSecs(options.codeLifetimeMs);
            record.forgetAt = record.expiresAt.addMSecs(kUsedCodeRetentionMs);
            codes.insert(sha256(code), record);
            parameters.append({QStringLiteral("code"), QString::fromLatin1(code)});
            wipe(code);
        } else {
            parameters.append({QStringLiteral("error"), QStringLiteral("access_denied")});
            parameters.append({QStringLiteral("error_description"),
                               QStringLiteral("The user did not allow access.")});
        }
        if (consent.hasState)
            parameters.append({QStringLiteral("state"), consent.state});
        parameters.append({QStringLiteral("iss"), consent.issuer});
        consent.location = withQuery(consent.request.redirectUri, parameters);
        consent.phase = approved ? Consent::Phase::Approved : Consent::Phase::Denied;
        consent.deadline = QDateTime::currentDateTimeUtc().addMSecs(
                qMax(kDecidedRetentionMs, options.codeLifetimeMs));
        startSweeping();
        qCInfo(lcGateway).noquote()
                << (approved ? QStringLiteral("The user allowed OAuth client '%1' (%2): %3")
                                       .arg(consent.request.clientName, consent.request.clientId,
                                            servers.isEmpty() ? QStringLiteral("every server")
                                                              : servers.join(QStringLiteral(", ")))
                             : QStringLiteral("The user denied OAuth client '%1' (%2)")
                                       .arg(consent.request.clientName, consent.request.clientId));
        Q_EMIT q->consentFinished(consentId, approved);
        return true;
    }

    void answerConsent(const http::HttpRequest &request, http::HttpResponder *responder)
    {
        auto refuse = [responder](int status, const QString &why) {
            qCWarning(lcGateway).noquote() << QStringLiteral("Refused a consent form: %1").arg(why);
            responder->send(
                    errorPage(status, QStringLiteral("MCP Broker refused this answer"), why));
        };
        // Cross-site request forgery: only the page itself may post here.
        const QByteArray fetchSite = request.header("Sec-Fetch-Site").trimmed().toLower();
        if (request.hasHeader("Sec-Fetch-Site") && fetchSite != "same-origin"
            && fetchSite != "none") {
            refuse(403, QStringLiteral("The answer came from another web site."));
            return;
        }
        if (!isFormEncoded(request)) {
            refuse(400, QStringLiteral("The answer is not a form."));
            return;
        }
        const FormItems form = parseForm(request.body);
        const Single consentId = single(form, QLatin1String("consent"));
        const Single csrf = single(form, QLatin1String("csrf"));
        const Single decision = single(form, QLatin1String("decision"));
        auto it = consents.find(consentId.value);
        if (consentId.repeated || it == consents.end()) {
            refuse(400,
                   QStringLiteral("This authorization request is unknown or has expired. "
                                  "Start signing in again from the application."));
            return;
        }
        Consent &consent = *it;
        if (request.hasHeader("Origin")
            && QString::fromLatin1(request.header("Origin").trimmed()).toLower()
                    != consent.issuer) {
            refuse(403, QStringLiteral("The answer came from a page of another origin."));
            return;
        }
        if (consent.phase == Consent::Phase::Expired) {
            refuse(400,
                   QStringLiteral("This authorization request has expired. Start signing "
                                  "in again from the application."));
            return;
        }
        if (csrf.repeated || !secretsEqual(csrf.value.toLatin1(), consent.csrf)) {
            refuse(403,
                   QStringLiteral("The answer did not come from the consent page MCP "
                                  "Broker showed (its form token does not match)."));
            return;
        }
        if (consent.phase != Consent::Phase::Pending) {
            // Answered meanwhile (in the tray): the first answer stands; send the browser on.
            responder->send(redirectTo(consent.location));
            return;
        }
        const QString id = consent.request.id;
        if (decision.value == QLatin1String("deny") && !decision.repeated) {
            decide(id, false, {});
            responder->send(redirectTo(consents.value(id).location));
            return;
        }
        if (decision.value != QLatin1String("approve") || decision.repeated) {
            refuse(400, QStringLiteral("The answer was neither Allow nor Deny."));
            return;
        }
        const QStringList configured = configuredServers();
        QStringList chosen;
        for (const QString &server : formValues(form, QLatin1String("server"))) {
            if (configured.contains(server) && !chosen.contains(server))
                chosen.append(server);
        }
        // Every server left checked on an "every server" request keeps that meaning, including
        // servers added later; anything else is the list of checked servers.
        const bool allChecked
                = std::all_of(configured.begin(), configured.end(),
                              [&chosen](const QString &s) { return chosen.contains(s); });
        QStringList servers = chosen;
        if (consent.request.requestedServers.isEmpty() && allChecked)
            servers.clear();
        else if (chosen.isEmpty()) {
            responder->send(
                    consentPage(consent, QStringLiteral("Choose at least one server, or Deny.")));
            return;
        }
        decide(id, true, servers);
        responder->send(redirectTo(consents.value(id).location));
    }

    void answerConsentStatus(const http::HttpRequest &request, http::HttpResponder *responder)
    {
        const QByteArray fetchSite = request.header("Sec-Fetch-Site").trimmed().toLower();
        if (request.hasHeader("Sec-Fetch-Site") && fetchSite != "same-origin"
            && fetchSite != "none") {
            responder->send(noStore(jsonResponse(403, json{{"status", "forbidden"}})));
            return;
        }
        const qsizetype question = request.target.indexOf('?');
        const FormItems query
                = parseForm(question < 0 ? QByteArrayView()
                                         : QByteArrayView(request.target).sliced(question + 1));
        const auto it = consents.constFind(single(query, QLatin1String("id")).value);
        if (it == consents.constEnd()) {
            responder->send(noStore(jsonResponse(404, json{{"status", "unknown"}})));
            return;
        }
        json answer;
        switch (it->phase) {
        case Consent::Phase::Pending:
            answer = json{{"status", "pending"}};
            break;
        case Consent::Phase::Approved:
            answer = json{{"status", "approved"}, {"location", str(it->location)}};
            break;
        case Consent::Phase::Denied:
            answer = json{{"status", "denied"}, {"location", str(it->location)}};
            break;
        case Consent::Phase::Expired:
            answer = json{{"status", "expired"}};
            break;
        }
        responder->send(noStore(jsonResponse(200, answer)));
    }

    // ---- token endpoint

    // Public clients identify themselves with client_id in the body and nothing else (RFC 6749
    // §2.3, §3.2.1). nullopt: answered with the error already.
    std::optional<LocalClientRegistration> identifyClient(const http::HttpRequest &request,
                                                          const FormItems &form,
                                                          http::HttpResponder *responder) const
    {
        if (request.hasHeader("Authorization")) {
            // RFC 6749 §5.2: 401 with a challenge of the scheme the client tried.
            const QByteArray scheme = request.header("Authorization").trimmed().split(' ').value(0);
            responder->send(oauthError(401, QStringLiteral("invalid_client"),
                                       QStringLiteral("MCP Broker's clients are public: send "
                                                      "client_id in the body, no "
                                                      "credentials."))
                                    .withHeader("WWW-Authenticate",
                                                (scheme.isEmpty() ? QByteArray("Basic") : scheme)
                                                        + " realm=\"MCP Broker\""));
            return std::nullopt;
        }
        const Single clientId = single(form, QLatin1String("client_id"));
        const Single secret = single(form, QLatin1String("client_secret"));
        if (clientId.repeated || clientId.value.isEmpty()) {
            responder->send(oauthError(401, QStringLiteral("invalid_client"),
                                       QStringLiteral("client_id is required.")));
            return std::nullopt;
        }
        if (secret.present) {
            responder->send(oauthError(401, QStringLiteral("invalid_client"),
                                       QStringLiteral("MCP Broker issued no client secret.")));
            return std::nullopt;
        }
        std::optional<LocalClientRegistration> client
                = grants ? grants->findClient(clientId.value) : std::nullopt;
        if (!client) {
            responder->send(oauthError(401, QStringLiteral("invalid_client"),
                                       QStringLiteral("Unknown client_id: register again.")));
            return std::nullopt;
        }
        return client;
    }

    void answerToken(const http::HttpRequest &request, http::HttpResponder *responder)
    {
        if (!isFormEncoded(request)) {
            responder->send(oauthError(400, QStringLiteral("invalid_request"),
                                       QStringLiteral("The token request must be "
                                                      "application/x-www-form-urlencoded.")));
            return;
        }
        const FormItems form = parseForm(request.body);
        // RFC 6749 §3.2: no parameter more than once (resource may be, RFC 8707; refused later).
        QHash<QString, int> counts;
        for (const auto &item : form) {
            if (++counts[item.first] > 1 && item.first != QLatin1String("resource")) {
                responder->send(oauthError(
                        400, QStringLiteral("invalid_request"),
                        QStringLiteral("%1 is repeated.").arg(sanitizedName(item.first.left(40)))));
                return;
            }
        }
        const Single grantType = single(form, QLatin1String("grant_type"));
        if (!grantType.present) {
            responder->send(oauthError(400, QStringLiteral("invalid_request"),
                                       QStringLiteral("grant_type is required.")));
            return;
        }
        if (grantType.value != kAuthorizationCodeGrant && grantType.value != kRefreshTokenGrant) {
            responder->send(oauthError(400, QStringLiteral("unsupported_grant_type"),
                                       QStringLiteral("Only authorization_code and "
                                                      "refresh_token are supported.")));
            return;
        }
        const std::optional<LocalClientRegistration> client
                = identifyClient(request, form, responder);
        if (!client)
            return;
        if (grantType.value == kAuthorizationCodeGrant)
            exchangeCode(form, *client, responder);
        else
            refresh(request, form, *client, responder);
    }

    void exchangeCode(const FormItems &form, const LocalClientRegistration &client,
                      http::HttpResponder *responder)
    {
        auto invalidGrant = [responder, &client](const QString &description) {
            qCWarning(lcGateway).noquote()
                    << QStringLiteral("Refused an authorization code of OAuth client '%1' (%2): "
                                      "%3")
                               .arg(client.clientName, client.clientId, description);
            responder->send(oauthError(400, QStringLiteral("invalid_grant"), description));
        };
        QByteArray code = single(form, QLatin1String("code")).value.toLatin1();
        if (code.isEmpty()) {
            responder->send(oauthError(400, QStringLiteral("invalid_request"),
                                       QStringLiteral("code is required.")));
            return;
        }
        const QByteArray key = sha256(code);
        wipe(code);
        auto it = codes.find(key);
        if (it == codes.end()) {
            invalidGrant(QStringLiteral("The authorization code is unknown or expired."));
            return;
        }
        Code &record = *it;
        if (record.used) {
            // OAuth 2.1 §4.1.3: a code presented twice may have been stolen; what it gave is
            // revoked.
            if (!record.grantId.isEmpty())
                revokeGrant(record.grantId,
                            QStringLiteral("its authorization code was used twice"));
            else if (record.exchanging)
                record.revokeWhenIssued = true;
            invalidGrant(QStringLiteral("The authorization code was already used."));
            return;
        }
        // Single use: whatever happens from here on, this code is spent.
        record.used = true;
        if (record.expiresAt <= QDateTime::currentDateTimeUtc()) {
            invalidGrant(QStringLiteral("The authorization code expired."));
            return;
        }
        if (record.clientId != client.clientId) {
            invalidGrant(QStringLiteral("The authorization code was issued to another client."));
            return;
        }
        const Single redirectUri = single(form, QLatin1String("redirect_uri"));
        if (!redirectUri.present) {
            responder->send(oauthError(400, QStringLiteral("invalid_request"),
                                       QStringLiteral("redirect_uri is required.")));
            return;
        }
        if (redirectUri.value != record.redirectUri) {
            invalidGrant(QStringLiteral("redirect_uri differs from the authorization request's."));
            return;
        }
        QByteArray verifier = single(form, QLatin1String("code_verifier")).value.toLatin1();
        const bool verified = oauth::Pkce::isValidVerifier(verifier)
                && secretsEqual(oauth::Pkce::s256Challenge(verifier), record.challenge.toLatin1());
        wipe(verifier);
        if (!verified) {
            invalidGrant(QStringLiteral("The code_verifier does not match the code_challenge "
                                        "(PKCE)."));
            return;
        }
        const QStringList resources = formValues(form, QLatin1String("resource"));
        if (resources.size() > 1
            || (resources.size() == 1 && resources.first() != record.resource)) {
            responder->send(oauthError(400, QStringLiteral("invalid_target"),
                                       QStringLiteral("resource differs from the authorization "
                                                      "request's.")));
            return;
        }
        if (!grants) {
            responder->send(oauthError(503, QStringLiteral("temporarily_unavailable"),
                                       QStringLiteral("MCP Broker is shutting down.")));
            return;
        }

        record.exchanging = true;
        QPointer<LocalAuthorizationServer> self(q);
        QPointer<http::HttpResponder> reply(responder);
        grants->issueOAuth(client, record.servers,
                           [self, reply, key, client](Result<ClientGrants::IssuedTokens> issued) {
                               if (self)
                                   self->d->finishExchange(key, client, reply, std::move(issued));
                           });
    }

    void finishExchange(const QByteArray &key, const LocalClientRegistration &client,
                        http::HttpResponder *responder, Result<ClientGrants::IssuedTokens> issued)
    {
        auto it = codes.find(key);
        if (it != codes.end())
            it->exchanging = false;
        if (!issued) {
            qCWarning(lcGateway).noquote()
                    << QStringLiteral("Could not issue tokens to OAuth client '%1' (%2): %3")
                               .arg(client.clientName, client.clientId, issued.error().message);
            if (responder)
                responder->send(
                        oauthError(500, QStringLiteral("server_error"), issued.error().message));
            return;
        }
        ClientGrants::IssuedTokens &tokens = issued.value();
        const QString grantId = tokens.grant.id;
        if (it != codes.end()) {
            it->grantId = grantId;
            if (it->revokeWhenIssued) {
                revokeGrant(grantId, QStringLiteral("its authorization code was used twice"));
                wipe(tokens.accessToken);
                wipe(tokens.refreshToken);
                if (responder)
                    responder->send(oauthError(400, QStringLiteral("invalid_grant"),
                                               QStringLiteral("The authorization code was "
                                                              "already used.")));
                return;
            }
        }
        qCInfo(lcGateway).noquote() << QStringLiteral("Issued grant %1 to OAuth client '%2' (%3)")
                                               .arg(grantId, client.clientName, client.clientId);
        sendTokens(responder, tokens);
    }

    void refresh(const http::HttpRequest &request, const FormItems &form,
                 const LocalClientRegistration &client, http::HttpResponder *responder)
    {
        QByteArray refreshToken = single(form, QLatin1String("refresh_token")).value.toLatin1();
        if (refreshToken.isEmpty()) {
            responder->send(oauthError(400, QStringLiteral("invalid_request"),
                                       QStringLiteral("refresh_token is required.")));
            return;
        }
        const QStringList resources = formValues(form, QLatin1String("resource"));
        if (resources.size() > 1
            || (resources.size() == 1
                && !serversOfResource(resources.first(), originOf(request)))) {
            wipe(refreshToken);
            responder->send(oauthError(400, QStringLiteral("invalid_target"),
                                       QStringLiteral("resource is not one of MCP Broker's.")));
            return;
        }
        if (!grants) {
            wipe(refreshToken);
            responder->send(oauthError(503, QStringLiteral("temporarily_unavailable"),
                                       QStringLiteral("MCP Broker is shutting down.")));
            return;
        }
        QPointer<LocalAuthorizationServer> self(q);
        QPointer<http::HttpResponder> reply(responder);
        grants->refresh(
                refreshToken, client.clientId,
                [self, reply, client](Result<ClientGrants::IssuedTokens> issued) {
                    if (!self)
                        return;
                    if (!issued) {
                        const bool refused = issued.error().kind == Error::Kind::Unauthorized
                                || issued.error().kind == Error::Kind::NotFound
                                || issued.error().kind == Error::Kind::Forbidden;
                        qCWarning(lcGateway).noquote()
                                << QStringLiteral("Refused a refresh of OAuth client "
                                                  "'%1' (%2): %3")
                                           .arg(client.clientName, client.clientId,
                                                issued.error().message);
                        if (reply)
                            reply->send(refused ? oauthError(400, QStringLiteral("invalid_grant"),
                                                             issued.error().message)
                                                : oauthError(500, QStringLiteral("server_error"),
                                                             issued.error().message));
                        return;
                    }
                    qCInfo(lcGateway).noquote()
                            << QStringLiteral("Refreshed grant %1 of OAuth client '%2'")
                                       .arg(issued.value().grant.id, client.clientName);
                    self->d->sendTokens(reply, issued.value());
                });
        wipe(refreshToken);
    }

    void sendTokens(http::HttpResponder *responder, ClientGrants::IssuedTokens &tokens)
    {
        json body{{"access_token", tokens.accessToken.toStdString()}, {"token_type", "Bearer"}};
        if (tokens.expiresInSeconds > 0)
            body["expires_in"] = tokens.expiresInSeconds;
        if (!tokens.refreshToken.isEmpty())
            body["refresh_token"] = tokens.refreshToken.toStdString();
        QByteArray bytes = serialize(body);
        wipe(tokens.accessToken);
        wipe(tokens.refreshToken);
        if (responder)
            responder->send(noStore(http::HttpResponse::json(200, bytes)));
        wipe(bytes);
    }

    void revokeGrant(const QString &grantId, const QString &why)
    {
        if (!grants)
            return;
        qCWarning(lcGateway).noquote() << QStringLiteral("Revoking grant %1: %2").arg(grantId, why);
        grants->revoke(grantId, [grantId](const Result<QList<ClientGrant>> &revoked) {
            if (!revoked && revoked.error().kind != Error::Kind::NotFound)
                qCWarning(lcGateway).noquote() << QStringLiteral("Could not revoke grant %1: %2")
                                                          .arg(grantId, revoked.error().message);
        });
    }

    // ---- revocation (RFC 7009)

    void answerRevoke(const http::HttpRequest &request, http::HttpResponder *responder)
    {
        if (!isFormEncoded(request)) {
            responder->send(oauthError(400, QStringLiteral("invalid_request"),
                                       QStringLiteral("The revocation request must be "
                                                      "application/x-www-form-urlencoded.")));
            return;
        }
        const FormItems form = parseForm(request.body);
        const Single token = single(form, QLatin1String("token"));
        if (!token.present || token.repeated || token.value.isEmpty()) {
            responder->send(oauthError(400, QStringLiteral("invalid_request"),
                                       QStringLiteral("token is required, once.")));
            return;
        }
        if (request.hasHeader("Authorization")
            || single(form, QLatin1String("client_id")).present) {
            if (!identifyClient(request, form, responder))
                return;
        }
        if (!grants) {
            responder->send(oauthError(503, QStringLiteral("temporarily_unavailable"),
                                       QStringLiteral("MCP Broker is shutting down.")));
            return;
        }
        QByteArray bytes = token.value.toLatin1();
        QPointer<http::HttpResponder> reply(responder);
        grants->revokeToken(bytes, [reply](const Result<void> &revoked) {
            if (!reply)
                return;
            if (!revoked) {
                qCWarning(lcGateway).noquote()
                        << "Could not revoke a token:" << revoked.error().message;
                reply->send(oauthError(503, QStringLiteral("temporarily_unavailable"),
                                       revoked.error().message));
                return;
            }
            reply->send(noStore(http::HttpResponse::empty(200)));
        });
        wipe(bytes);
    }
};

LocalAuthorizationServer::LocalAuthorizationServer(ClientGrants *grants,
                                                   std::function<QStringList()> serverNames,
                                                   Options options, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    static const bool pagesLoaded = (initOAuthPages(), true);
    Q_UNUSED(pagesLoaded)
    qRegisterMetaType<ConsentRequest>();
    d->q = this;
    d->grants = grants;
    d->serverNames = std::move(serverNames);
    d->options = options;
    d->sweepTimer.setInterval(qMin(kSweepIntervalMs, qMax(10, options.codeLifetimeMs / 4)));
    connect(&d->sweepTimer, &QTimer::timeout, this, [this] { d->sweep(); });
}

LocalAuthorizationServer::LocalAuthorizationServer(ClientGrants *grants,
                                                   std::function<QStringList()> serverNames,
                                                   QObject *parent)
    : LocalAuthorizationServer(grants, std::move(serverNames), Options{}, parent)
{ }

LocalAuthorizationServer::~LocalAuthorizationServer() = default;

bool LocalAuthorizationServer::handles(const http::HttpRequest &request) const
{
    return request.path.startsWith(QLatin1String("/.well-known/"))
            || request.path.startsWith(QLatin1String("/oauth/"));
}

QString LocalAuthorizationServer::resourceMetadataUrl(const http::HttpRequest &request,
                                                      const QString &server)
{
    return originOf(request) + kResourceMetadataPath + kMcpPath
            + (server.isEmpty() ? QString() : QLatin1Char('/') + server);
}

void LocalAuthorizationServer::handle(const http::HttpRequest &request,
                                      http::HttpResponder *responder)
{
    d->sweep();
    const QString &path = request.path;
    const QByteArray &method = request.method;
    const QString resourcePrefix = kResourceMetadataPath + kMcpPath;

    if (path == kMetadataPath) {
        if (method != "GET")
            responder->send(methodNotAllowed("GET"));
        else
            d->answerAuthorizationServerMetadata(request, responder);
    } else if (path == resourcePrefix || path.startsWith(resourcePrefix + QLatin1Char('/'))) {
        if (method != "GET")
            responder->send(methodNotAllowed("GET"));
        else
            d->answerResourceMetadata(request, path.mid(resourcePrefix.size() + 1), responder);
    } else if (path == kRegisterPath) {
        if (method != "POST")
            responder->send(methodNotAllowed("POST"));
        else
            d->answerRegistration(request, responder);
    } else if (path == kAuthorizePath) {
        if (method != "GET")
            responder->send(methodNotAllowed("GET"));
        else
            d->answerAuthorize(request, responder);
    } else if (path == kConsentPath) {
        if (method != "POST")
            responder->send(methodNotAllowed("POST"));
        else
            d->answerConsent(request, responder);
    } else if (path == kConsentStatusPath) {
        if (method != "GET")
            responder->send(methodNotAllowed("GET"));
        else
            d->answerConsentStatus(request, responder);
    } else if (path == kTokenPath || path == kRevokePath) {
        if (method != "POST") {
            responder->send(methodNotAllowed("POST"));
            return;
        }
        // Grants are checked against hashes read from the keychain at start.
        QPointer<http::HttpResponder> reply(responder);
        auto answer = [this, request, reply, token = path == kTokenPath] {
            if (!reply)
                return;
            if (token)
                d->answerToken(request, reply);
            else
                d->answerRevoke(request, reply);
        };
        if (!d->grants || d->grants->isReady())
            answer();
        else
            d->grants->whenReady(this, answer);
    } else {
        // Also /.well-known/openid-configuration: this is no OpenID provider.
        responder->send(notFound());
    }
}

QList<ConsentRequest> LocalAuthorizationServer::pendingConsents() const
{
    QList<const Private::Consent *> pending;
    for (const auto &consent : std::as_const(d->consents)) {
        if (consent.phase == Private::Consent::Phase::Pending)
            pending.append(&consent);
    }
    std::sort(pending.begin(), pending.end(),
              [](const auto *a, const auto *b) { return a->sequence < b->sequence; });
    QList<ConsentRequest> requests;
    for (const auto *consent : std::as_const(pending))
        requests.append(consent->request);
    return requests;
}

void LocalAuthorizationServer::approve(const QString &consentId, const QStringList &servers,
                                       bool remember)
{
    const QStringList configured = d->configuredServers();
    QStringList kept;
    for (const QString &server : servers) {
        if (configured.contains(server) && !kept.contains(server))
            kept.append(server);
    }
    if (!servers.isEmpty() && kept.isEmpty()) {
        qCWarning(lcGateway) << "None of the approved servers is configured any more: denied";
        d->decide(consentId, false, {});
        return;
    }
    if (d->decide(consentId, true, kept) && remember)
        d->remember(consentId, LocalClientRegistration::RememberedConsent::Allow, kept);
}

void LocalAuthorizationServer::deny(const QString &consentId, bool remember)
{
    if (d->decide(consentId, false, {}) && remember)
        d->remember(consentId, LocalClientRegistration::RememberedConsent::Deny, {});
}

} // namespace mcpbroker::gateway
