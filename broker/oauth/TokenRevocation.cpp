#include "oauth/TokenRevocation.h"

#include "Logging.h"
#include "oauth/HttpExchange.h"
#include "oauth/MetadataDocument.h"
#include "oauth/OAuthErrorResponse.h"
#include "oauth/Wording.h"

#include <QPointer>
#include <QTimer>

#include <openssl/crypto.h>

namespace mcpbroker::oauth {

struct TokenRevocation::Private
{
    QNetworkAccessManager *network = nullptr;
    QUrl endpoint;
    ClientAuthentication client;
    int timeoutMs = 0;
    QString subject;
    QList<QByteArray> secrets;
    QPointer<HttpExchange> exchange;
    bool started = false;
    bool done = false;

    void wipeSecrets()
    {
        secrets.append(client.clientSecret);
        client.clientSecret.clear();
        for (QByteArray &secret : secrets) {
            if (!secret.isEmpty())
                OPENSSL_cleanse(secret.data(), size_t(secret.size()));
        }
        secrets.clear();
    }
};

TokenRevocation::TokenRevocation(QNetworkAccessManager *network, QUrl revocationEndpoint,
                                 ClientAuthentication client, int timeoutMs, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->network = network;
    d->endpoint = std::move(revocationEndpoint);
    d->client = std::move(client);
    d->timeoutMs = timeoutMs;
    d->subject = Wording::authorizationServer(d->endpoint);
}

TokenRevocation::~TokenRevocation()
{
    delete d->exchange.data();
    d->wipeSecrets();
}

void TokenRevocation::revoke(const QByteArray &token, TokenTypeHint hint)
{
    Q_ASSERT(!d->started);
    if (d->started)
        return;
    d->started = true;
    d->secrets = {token, d->client.clientSecret};
    if (!MetadataDocument::isAllowedEndpoint(d->endpoint)) {
        QTimer::singleShot(0, this, [this] {
            finish(Error::make(Error::Kind::InvalidInput,
                               Wording::sentence(QStringLiteral("The revocation endpoint of %1 "
                                                                "is not an https URL, so no token "
                                                                "was sent to it.")
                                                         .arg(d->subject))));
        });
        return;
    }
    HttpExchange::FormFields fields{
            {QStringLiteral("token"), QString::fromUtf8(token)},
            {QStringLiteral("token_type_hint"),
             hint == TokenTypeHint::RefreshToken ? QStringLiteral("refresh_token")
                                                 : QStringLiteral("access_token")},
    };
    HttpExchange::HeaderList headers;
    d->client.apply(fields, headers);
    qCInfo(lcOAuth).noquote()
            << QStringLiteral("Revoking a token at %1").arg(Wording::origin(d->endpoint));
    d->exchange = new HttpExchange(d->network, d->subject, d->timeoutMs, this);
    connect(d->exchange, &HttpExchange::finished, this, &TokenRevocation::onAnswer);
    d->exchange->postForm(d->endpoint, fields, headers);
    fields.first().second.fill(QLatin1Char('\0'));
    for (auto &[name, value] : headers)
        value.fill('\0');
}

void TokenRevocation::abort()
{
    finish(Error::make(Error::Kind::Cancelled,
                       QStringLiteral("Revoking the token at %1 was cancelled.").arg(d->subject)));
}

void TokenRevocation::onAnswer(const Result<HttpExchange::Answer> &answer)
{
    if (!answer) {
        finish(answer.error());
        return;
    }
    const HttpExchange::Answer &reply = answer.value();
    if (reply.status >= 200 && reply.status < 300) {
        finish({});
        return;
    }
    const std::optional<OAuthErrorResponse> error =
            OAuthErrorResponse::fromJson(reply.body, d->secrets);
    const QString detail = error ? error->summary() : QStringLiteral("HTTP %1").arg(reply.status);
    Error::Kind kind = Error::Kind::Protocol;
    QString sentence = QStringLiteral("%1 refused to revoke the token (%2).");
    if (reply.status >= 500 || reply.status == 429) {
        kind = Error::Kind::Unreachable;
        sentence = QStringLiteral("%1 could not revoke the token right now (%2). Try again later.");
    } else if (reply.status == 401 || (error && error->error == QLatin1String("invalid_client"))) {
        kind = Error::Kind::Unauthorized;
        sentence = QStringLiteral("%1 did not accept MCP Broker's client identity when revoking "
                                  "the token (%2).");
    }
    finish(Error::make(kind, Wording::sentence(sentence.arg(d->subject, detail))));
}

void TokenRevocation::finish(Result<void> result)
{
    if (d->done)
        return;
    d->done = true;
    if (HttpExchange *exchange = d->exchange.data()) {
        exchange->disconnect(this);
        exchange->deleteLater();
    }
    d->wipeSecrets();
    if (result)
        qCInfo(lcOAuth).noquote()
                << QStringLiteral("Token revoked at %1").arg(Wording::origin(d->endpoint));
    else
        qCWarning(lcOAuth).noquote() << "Token revocation failed:" << result.error().message;
    Q_EMIT finished(result);
}

} // namespace mcpbroker::oauth
