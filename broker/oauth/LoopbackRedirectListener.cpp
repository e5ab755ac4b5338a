#include "oauth/LoopbackRedirectListener.h"

#include "SecretCompare.h"

#include "Logging.h"
#include "http/HttpResponder.h"
#include "http/HttpResponse.h"
#include "http/HttpServer.h"
#include "http/LoopbackPolicy.h"

#include <QPointer>
#include <QTimer>

#include <openssl/crypto.h>

namespace mcpbroker::oauth {

namespace {

constexpr QLatin1String kCallbackPath("/callback");
// How long the browser has to read the final page before the listener closes every
// connection (HttpServer::close() aborts them). Loopback delivery takes milliseconds.
constexpr int kCloseGraceMs = 1000;
// Longest error_description from the authorization server that we repeat to the user.
constexpr qsizetype kMaxDescriptionLength = 300;

// Text from the authorization server, shown to the user and logged: printable, bounded.
QString sanitized(const QString &text)
{
    QString result;
    for (const QChar c : text) {
        if (result.size() >= kMaxDescriptionLength) {
            result += QChar(0x2026);
            break;
        }
        result += c.isPrint() ? c : QLatin1Char(' ');
    }
    return result.simplified();
}

QByteArray page(const QString &heading, const QString &text)
{
    const QString html
            = QStringLiteral(
                      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<title>%1 - MCP Broker</title></head>\n"
                      "<body style=\"font-family: sans-serif; margin: 3em auto; max-width: 36em\">"
                      "<h1>%1</h1>\n<p>%2</p>\n<p>You can close this tab and return to MCP "
                      "Broker.</p>"
                      "</body></html>\n")
                      .arg(heading.toHtmlEscaped(), text.toHtmlEscaped());
    return html.toUtf8();
}

http::HttpResponse htmlResponse(int status, QByteArray body)
{
    http::HttpResponse response{status, {}, std::move(body)};
    response.withHeader("Content-Type", "text/html; charset=utf-8")
            .withHeader("Content-Security-Policy", "default-src 'none'")
            .withHeader("X-Frame-Options", "DENY")
            .withHeader("Referrer-Policy", "no-referrer")
            .withHeader("Cache-Control", "no-store");
    return response;
}

} // namespace

struct LoopbackRedirectListener::Private
{
    Expected expected;
    int timeoutMs = kDefaultTimeoutMs;
    http::HttpServer *server = nullptr;
    QTimer timeout;
    quint16 port = 0;
    bool started = false;
    bool finished = false;
};

LoopbackRedirectListener::LoopbackRedirectListener(Expected expected, int timeoutMs,
                                                   QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->expected = std::move(expected);
    d->timeoutMs = timeoutMs;
    d->timeout.setSingleShot(true);
    connect(&d->timeout, &QTimer::timeout, this, [this] {
        const bool minutes = d->timeoutMs >= 120'000;
        const int amount = qMax(1, minutes ? d->timeoutMs / 60'000 : d->timeoutMs / 1000);
        const QString limit = minutes ? QStringLiteral("%1 minutes").arg(amount)
                : amount == 1         ? QStringLiteral("1 second")
                                      : QStringLiteral("%1 seconds").arg(amount);
        finish(Error::make(Error::Kind::Timeout,
                           QStringLiteral("Sign-in did not finish within %1: the browser never "
                                          "came back to MCP Broker. Start the sign-in again.")
                                   .arg(limit)),
               0);
    });
}

LoopbackRedirectListener::~LoopbackRedirectListener()
{
    // The server's handler calls into d: the server goes first.
    delete d->server;
    if (!d->expected.state.isEmpty())
        OPENSSL_cleanse(d->expected.state.data(), size_t(d->expected.state.size()));
}

Result<void> LoopbackRedirectListener::listen(quint16 preferredPort)
{
    if (d->started) {
        return Error::make(Error::Kind::Generic,
                           QStringLiteral("This sign-in redirect listener was already used."));
    }
    d->started = true;
    d->server = new http::HttpServer(
            [this](const http::HttpRequest &request, http::HttpResponder *responder) {
                handle(request, responder);
            },
            this);
    Result<void> listening = preferredPort ? d->server->listen(preferredPort) : Result<void>();
    if (!preferredPort || !listening)
        listening = d->server->listen(0);
    if (!listening) {
        d->finished = true;
        delete d->server;
        d->server = nullptr;
        return Error::make(listening.error().kind,
                           QStringLiteral("MCP Broker could not receive the sign-in answer: %1")
                                   .arg(listening.error().message));
    }
    d->port = d->server->port();
    d->timeout.start(d->timeoutMs);
    qCInfo(lcOAuth).noquote()
            << QStringLiteral("Waiting for the sign-in redirect on 127.0.0.1:%1").arg(d->port);
    return {};
}

QString LoopbackRedirectListener::redirectUri() const
{
    if (d->port == 0)
        return {};
    return QStringLiteral("http://127.0.0.1:%1%2").arg(d->port).arg(kCallbackPath);
}

bool LoopbackRedirectListener::isListening() const
{
    return d->server && d->server->port() != 0;
}

void LoopbackRedirectListener::cancel()
{
    finish(Error::make(Error::Kind::Cancelled, QStringLiteral("Sign-in was cancelled.")), 0);
}

void LoopbackRedirectListener::handle(const http::HttpRequest &request,
                                      http::HttpResponder *responder)
{
    // DNS rebinding: a web page reaching us under its own name must not end the flow.
    if (!http::LoopbackPolicy::isAllowedHost(request.header("Host"), d->port)) {
        responder->send(http::HttpResponse::text(421, "This address only answers 127.0.0.1.\n"));
        return;
    }
    if (request.path != kCallbackPath) {
        responder->send(http::HttpResponse::text(404, "Not found.\n"));
        return;
    }
    if (request.method != "GET") {
        responder->send(http::HttpResponse::text(405, "Only GET.\n").withHeader("Allow", "GET"));
        return;
    }
    if (d->finished) {
        responder->send(htmlResponse(410,
                                     page(QStringLiteral("Sign-in link already used"),
                                          QStringLiteral("This sign-in has already finished."))));
        return;
    }

    Result<QString> result = evaluate(request);
    if (result) {
        responder->send(htmlResponse(200,
                                     page(QStringLiteral("Signed in"),
                                          QStringLiteral("MCP Broker received your sign-in."))));
    } else {
        responder->send(
                htmlResponse(400, page(QStringLiteral("Sign-in failed"), result.error().message)));
    }
    finish(std::move(result), kCloseGraceMs);
}

// The values of a parameter of the redirect's query, which is form-encoded (RFC 6749 §4.1.2,
// Appendix B): "+" is a space there, which QUrlQuery does not know.
static QStringList formDecodedValues(const QUrlQuery &query, const QString &name)
{
    QStringList values;
    for (const QString &encoded : query.allQueryItemValues(name, QUrl::FullyEncoded)) {
        QByteArray bytes = encoded.toLatin1();
        bytes.replace('+', "%20");
        values.append(QUrl::fromPercentEncoding(bytes));
    }
    return values;
}

Result<QString> LoopbackRedirectListener::evaluate(const http::HttpRequest &request) const
{
    const QUrlQuery &query = request.query;
    // RFC 6749 §4.1.2: each parameter at most once; a repeated one is an ambiguous answer.
    auto single = [&query](const QString &name, bool *repeated) {
        const QStringList values = formDecodedValues(query, name);
        *repeated = values.size() > 1;
        return values.size() == 1 ? values.first() : QString();
    };
    bool repeated = false;

    // 1. state, before anything else in the answer is believed (RFC 6749 §10.12).
    const QString state = single(QStringLiteral("state"), &repeated);
    if (repeated || !secretsEqual(state.toUtf8(), d->expected.state)) {
        return Error::make(Error::Kind::Protocol,
                           QStringLiteral("The sign-in answer that reached MCP Broker does not "
                                          "belong to the sign-in it started (its state did not "
                                          "match), so it was rejected. Start the sign-in "
                                          "again."));
    }

    // 2. iss (RFC 9207 §2.4): error answers carry it too, and a mismatch voids them as well.
    const QString iss = single(QStringLiteral("iss"), &repeated);
    if (repeated || (!iss.isNull() && !d->expected.issuer.isEmpty() && iss != d->expected.issuer)) {
        return Error::make(Error::Kind::Protocol,
                           QStringLiteral("The sign-in answer came from the authorization "
                                          "server \"%1\", not from \"%2\" where the sign-in "
                                          "started, so it was rejected (RFC 9207). Start the "
                                          "sign-in again.")
                                   .arg(sanitized(iss), d->expected.issuer));
    }
    if (iss.isNull() && d->expected.issuerRequired) {
        return Error::make(Error::Kind::Protocol,
                           QStringLiteral("The sign-in answer from %1 lacks the issuer (iss) "
                                          "that this server promises to send, so it was "
                                          "rejected (RFC 9207). Start the sign-in again.")
                                   .arg(d->expected.issuer));
    }

    // 3. An error from the authorization server (RFC 6749 §4.1.2.1).
    const QString error = single(QStringLiteral("error"), &repeated);
    if (!error.isNull() || repeated) {
        const QString description
                = sanitized(formDecodedValues(query, QStringLiteral("error_description")).value(0));
        QString sentence = QStringLiteral("The authorization server did not grant access (%1)")
                                   .arg(sanitized(error));
        if (!description.isEmpty())
            sentence += QStringLiteral(": %1").arg(description);
        if (!sentence.endsWith(QLatin1Char('.')))
            sentence += QLatin1Char('.');
        return Error::make(Error::Kind::Unauthorized, sentence);
    }

    // 4. The code itself.
    const QString code = single(QStringLiteral("code"), &repeated);
    if (repeated || code.isEmpty()) {
        return Error::make(Error::Kind::Protocol,
                           QStringLiteral("The sign-in answer carried no authorization code. "
                                          "Start the sign-in again."));
    }
    return code;
}

void LoopbackRedirectListener::finish(Result<QString> result, int closeDelayMs)
{
    if (d->finished)
        return;
    d->finished = true;
    d->timeout.stop();

    if (result)
        qCInfo(lcOAuth).noquote()
                << QStringLiteral("Sign-in redirect received on 127.0.0.1:%1").arg(d->port);
    else
        qCWarning(lcOAuth).noquote() << "Sign-in redirect failed:" << result.error().message;

    // Stop listening. The page just sent needs a moment to reach the browser: close() aborts
    // open connections. Until then every callback is answered "already used".
    QPointer<http::HttpServer> server = d->server;
    if (server) {
        if (closeDelayMs == 0)
            server->close();
        else
            QTimer::singleShot(closeDelayMs, server, [server] { server->close(); });
    }
    Q_EMIT finished(result);
}

} // namespace mcpbroker::oauth
