#include "oauth/TokenRevocation.h"

#include "Logging.h"
#include "oauth/EndpointCall.h"
#include "oauth/Wording.h"

#include <QTimer>

namespace mcpbroker::oauth {

struct TokenRevocation::Private
{
    Private(QNetworkAccessManager *network, QUrl revocationEndpoint, ClientAuthentication client,
            int timeoutMs)
        : call(network, std::move(revocationEndpoint), timeoutMs, std::move(client))
    { }

    EndpointCall call;
};

TokenRevocation::TokenRevocation(QNetworkAccessManager *network, QUrl revocationEndpoint,
                                 ClientAuthentication client, int timeoutMs, QObject *parent)
    : QObject(parent), d(std::make_unique<Private>(network, std::move(revocationEndpoint),
                                                   std::move(client), timeoutMs))
{ }

TokenRevocation::~TokenRevocation() = default;

void TokenRevocation::revoke(const QByteArray &token, TokenTypeHint hint)
{
    if (!d->call.start())
        return;
    d->call.secrets() = {token};
    if (!d->call.isAllowedEndpoint()) {
        QTimer::singleShot(0, this, [this] {
            finish(d->call.error(Error::Kind::InvalidInput,
                                 QStringLiteral("The revocation endpoint of %1 is not an https "
                                                "URL, so no token was sent to it.")));
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
    d->call.authenticate(fields, headers);
    qCInfo(lcOAuth).noquote()
            << QStringLiteral("Revoking a token at %1").arg(Wording::origin(d->call.endpoint()));
    d->call.open(this, &TokenRevocation::onAnswer);
    d->call.postForm(fields, headers);
}

void TokenRevocation::abort()
{
    finish(d->call.error(Error::Kind::Cancelled,
                         QStringLiteral("Revoking the token at %1 was cancelled.")));
}

void TokenRevocation::onAnswer(const Result<HttpExchange::Answer> &answer)
{
    const EndpointCall::Refusal wording{
            .refused = QStringLiteral("%1 refused to revoke the token (%2)."),
            .unavailable = QStringLiteral("%1 could not revoke the token right now (%2). Try "
                                          "again later."),
            .unauthorized = QStringLiteral("%1 did not accept MCP Broker's client identity when "
                                           "revoking the token (%2)."),
            .unauthorizedStatuses = {401},
            .unauthorizedErrors = {QStringLiteral("invalid_client")},
    };
    finish(EndpointCall::outcome<void>(
            answer, [](const QByteArray &) { return Result<void>(); },
            [this, &wording](const HttpExchange::Answer &reply) {
                return d->call.refusal(reply, wording);
            }));
}

void TokenRevocation::finish(Result<void> result)
{
    if (!d->call.finish())
        return;
    if (result)
        qCInfo(lcOAuth).noquote()
                << QStringLiteral("Token revoked at %1").arg(Wording::origin(d->call.endpoint()));
    else
        qCWarning(lcOAuth).noquote() << "Token revocation failed:" << result.error().message;
    Q_EMIT finished(result);
}

} // namespace mcpbroker::oauth
