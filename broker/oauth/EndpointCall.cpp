#include "oauth/EndpointCall.h"

#include "oauth/MetadataDocument.h"
#include "oauth/OAuthErrorResponse.h"
#include "oauth/Wording.h"

#include <openssl/crypto.h>

namespace mcpbroker::oauth {

namespace {

void wipe(QByteArray &secret)
{
    if (!secret.isEmpty())
        OPENSSL_cleanse(secret.data(), size_t(secret.size()));
    secret.clear();
}

} // namespace

EndpointCall::EndpointCall(QNetworkAccessManager *network, QUrl endpoint, int timeoutMs,
                           ClientAuthentication client)
    : m_network(network), m_endpoint(std::move(endpoint)), m_timeoutMs(timeoutMs),
      m_client(std::move(client)), m_subject(Wording::authorizationServer(m_endpoint))
{ }

EndpointCall::~EndpointCall()
{
    delete m_exchange.data();
    wipeSecrets();
}

bool EndpointCall::start()
{
    Q_ASSERT(!m_started);
    if (m_started)
        return false;
    m_started = true;
    return true;
}

bool EndpointCall::finish()
{
    if (m_done)
        return false;
    m_done = true;
    if (HttpExchange *exchange = m_exchange.data()) {
        exchange->disconnect(m_job.data());
        exchange->deleteLater();
    }
    wipeSecrets();
    return true;
}

void EndpointCall::wipeSecrets()
{
    for (QByteArray &secret : m_secrets)
        wipe(secret);
    m_secrets.clear();
    wipe(m_client.clientSecret);
}

bool EndpointCall::isAllowedEndpoint() const
{
    return MetadataDocument::isAllowedEndpoint(m_endpoint);
}

void EndpointCall::authenticate(HttpExchange::FormFields &fields, HttpExchange::HeaderList &headers)
{
    if (!m_client.clientSecret.isEmpty())
        m_secrets.append(m_client.clientSecret);
    const Result<void> applied = m_client.apply(fields, headers, m_secrets);
    if (!applied) {
        m_authenticationFailure = Error::make(
                applied.error().kind,
                Wording::sentence(QStringLiteral("MCP Broker cannot authenticate to %1. %2")
                                          .arg(m_subject, applied.error().message)));
    }
}

void EndpointCall::postForm(HttpExchange::FormFields &fields, HttpExchange::HeaderList &headers)
{
    if (m_authenticationFailure) {
        // The exchange as context: a job destroyed before then hears nothing.
        QMetaObject::invokeMethod(
                m_exchange.data(),
                [this, failure = *m_authenticationFailure] {
                    if (!m_done)
                        m_answer(failure);
                },
                Qt::QueuedConnection);
    } else {
        m_exchange->postForm(m_endpoint, fields, headers);
    }
    for (auto &[name, value] : fields) {
        if (name != QLatin1String("grant_type") && name != QLatin1String("token_type_hint")
            && name != QLatin1String("resource"))
            value.fill(QLatin1Char('\0'));
    }
    for (auto &[name, value] : headers)
        value.fill('\0');
}

void EndpointCall::postJson(const QByteArray &json)
{
    m_exchange->postJson(m_endpoint, json);
}

Error EndpointCall::error(Error::Kind kind, const QString &wording) const
{
    return Error::make(kind, Wording::sentence(wording.arg(m_subject)));
}

Error EndpointCall::unusable(const QString &wording, const QString &why) const
{
    return Error::make(Error::Kind::Protocol, Wording::sentence(wording.arg(m_subject, why)));
}

std::optional<OAuthErrorResponse>
EndpointCall::errorResponse(const HttpExchange::Answer &answer) const
{
    return OAuthErrorResponse::fromJson(answer.body, m_secrets);
}

Error EndpointCall::refusal(const HttpExchange::Answer &answer, const Refusal &wording) const
{
    const std::optional<OAuthErrorResponse> error = errorResponse(answer);
    const QString detail = error ? error->summary() : QStringLiteral("HTTP %1").arg(answer.status);
    Error::Kind kind = Error::Kind::Protocol;
    QString sentence = wording.refused;
    if (isUnavailable(answer.status)) {
        kind = Error::Kind::Unreachable;
        sentence = wording.unavailable;
    } else if (wording.unauthorizedStatuses.contains(answer.status)
               || (error && wording.unauthorizedErrors.contains(error->error))) {
        kind = Error::Kind::Unauthorized;
        sentence = wording.unauthorized;
    }
    return Error::make(kind, Wording::sentence(sentence.arg(m_subject, detail)));
}

bool EndpointCall::isUnavailable(int status)
{
    return status >= 500 || status == 429;
}

} // namespace mcpbroker::oauth
