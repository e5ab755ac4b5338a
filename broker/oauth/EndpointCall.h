#pragma once

#include "Result.h"
#include "oauth/ClientAuthentication.h"
#include "oauth/HttpExchange.h"

#include <QByteArray>
#include <QList>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <functional>
#include <optional>

class QNetworkAccessManager;

namespace mcpbroker::oauth {

struct OAuthErrorResponse;

// What TokenRequest, TokenRevocation and ClientRegistration have in common: one
// single-use call to an endpoint of an authorization server. It owns the
// HttpExchange, the client authentication and the secrets the call sends (wiped
// when the call finishes or is destroyed), guards that the call starts once and
// finishes once, and words the errors the same way for every job. Not a QObject:
// the job that holds it emits its own finished signal.
class EndpointCall
{
public:
    // The sentences of a refusal (an answer that is not 2xx): %1 is the subject,
    // %2 the OAuth error summary, or "HTTP <status>" when the answer has none.
    struct Refusal
    {
        QString refused;      // Protocol: any refusal not below
        QString unavailable;  // Unreachable: HTTP 5xx and 429, worth retrying later
        QString unauthorized; // Unauthorized: the statuses and errors below
        QList<int> unauthorizedStatuses;
        QStringList unauthorizedErrors;
    };

    EndpointCall(QNetworkAccessManager *network, QUrl endpoint, int timeoutMs,
                 ClientAuthentication client = {});
    // Deletes a running exchange, so that the job ends without a finished
    // signal, and wipes the secrets.
    ~EndpointCall();
    Q_DISABLE_COPY_MOVE(EndpointCall)

    const QUrl &endpoint() const { return m_endpoint; }
    // "the authorization server https://auth.example.com"
    const QString &subject() const { return m_subject; }
    // What the call sends that must stay secret: wiped when the call finishes,
    // and redacted from the server's error answers.
    QList<QByteArray> &secrets() { return m_secrets; }

    // False (and an assertion) when the call was started before.
    bool start();
    // False when the call has finished before. Else lets go of the exchange and
    // wipes the secrets: the job then emits its finished signal.
    bool finish();

    // Whether the endpoint may receive a request: https, or http to this
    // computer.
    bool isAllowedEndpoint() const;
    // Adds the client authentication to a request, and its secrets to
    // secrets(). When it cannot be added (a client assertion that cannot be
    // signed), postForm() sends nothing and the job hears the error instead of
    // an answer.
    void authenticate(HttpExchange::FormFields &fields, HttpExchange::HeaderList &headers);

    // A new exchange owned by `job`, whose answer goes to `onAnswer`.
    template<typename Job>
    void open(Job *job, void (Job::*onAnswer)(const Result<HttpExchange::Answer> &))
    {
        m_job = job;
        m_exchange = new HttpExchange(m_network, m_subject, m_timeoutMs, job);
        QObject::connect(m_exchange, &HttpExchange::finished, job, onAnswer);
        m_answer = [job, onAnswer](const Result<HttpExchange::Answer> &answer) {
            (job->*onAnswer)(answer);
        };
    }
    // POSTs the form to the endpoint on the opened exchange, then overwrites
    // what was sent but the grant_type, token_type_hint and resource. After a
    // failed authenticate(), sends nothing and gives the job that failure from
    // the event loop, as the exchange would give an answer.
    void postForm(HttpExchange::FormFields &fields, HttpExchange::HeaderList &headers);
    void postJson(const QByteArray &json);

    // The job's result from the exchange's answer: the exchange's error as it
    // is, a 2xx answer's body through `accept`, any other answer through
    // `refuse`.
    template<typename T, typename Accept, typename Refuse>
    static Result<T> outcome(const Result<HttpExchange::Answer> &answer, Accept accept,
                             Refuse refuse)
    {
        if (!answer)
            return answer.error();
        const HttpExchange::Answer &reply = answer.value();
        if (reply.status >= 200 && reply.status < 300)
            return accept(reply.body);
        return refuse(reply);
    }

    // An error whose sentence is `wording` with %1 the subject.
    Error error(Error::Kind kind, const QString &wording) const;
    // A Protocol error for an answer that cannot be used: `wording` with %1 the
    // subject and %2 why.
    Error unusable(const QString &wording, const QString &why) const;
    // The OAuth error of a refusal, with the secrets redacted.
    std::optional<OAuthErrorResponse> errorResponse(const HttpExchange::Answer &answer) const;
    // The refusal of `answer` in the sentences of `wording`.
    Error refusal(const HttpExchange::Answer &answer, const Refusal &wording) const;
    // HTTP 5xx and 429: the server cannot answer right now.
    static bool isUnavailable(int status);

private:
    void wipeSecrets();

    QNetworkAccessManager *m_network = nullptr;
    QUrl m_endpoint;
    int m_timeoutMs = 0;
    ClientAuthentication m_client;
    QString m_subject;
    QList<QByteArray> m_secrets;
    QPointer<QObject> m_job;
    QPointer<HttpExchange> m_exchange;
    std::function<void(const Result<HttpExchange::Answer> &)> m_answer; // the job's onAnswer
    std::optional<Error> m_authenticationFailure;
    bool m_started = false;
    bool m_done = false;
};

} // namespace mcpbroker::oauth
