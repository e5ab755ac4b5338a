#include "oauth/HttpExchange.h"

#include "Logging.h"
#include "oauth/Wording.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPointer>
#include <QTimer>

namespace mcpbroker::oauth {

namespace {

constexpr int kMaxRedirects = 5;

// What the URL looks like in a log line: no user info, query or fragment.
QString loggable(const QUrl &url)
{
    return url.toDisplayString(QUrl::RemoveUserInfo | QUrl::RemoveQuery | QUrl::RemoveFragment);
}

QString describeFailure(QNetworkReply::NetworkError error)
{
    switch (error) {
    case QNetworkReply::ConnectionRefusedError:
        return QStringLiteral("the connection was refused");
    case QNetworkReply::RemoteHostClosedError:
        return QStringLiteral("it closed the connection without answering");
    case QNetworkReply::HostNotFoundError:
        return QStringLiteral("its host name could not be found");
    case QNetworkReply::SslHandshakeFailedError:
        return QStringLiteral("a secure (TLS) connection could not be established");
    case QNetworkReply::TooManyRedirectsError:
        return QStringLiteral("it redirected too many times");
    case QNetworkReply::InsecureRedirectError:
        return QStringLiteral("it redirected to a less secure address");
    default:
        if (error >= QNetworkReply::ProxyConnectionRefusedError
            && error <= QNetworkReply::UnknownProxyError)
            return QStringLiteral("the network proxy failed");
        return QStringLiteral("the network request failed");
    }
}

} // namespace

struct HttpExchange::Private
{
    QNetworkAccessManager *network = nullptr;
    QString subject;
    int timeoutMs = 0;
    QPointer<QNetworkReply> reply;
    QTimer deadline;
    QByteArray body;
    bool started = false;
    bool done = false;
};

HttpExchange::HttpExchange(QNetworkAccessManager *network, QString subject, int timeoutMs,
                           QObject *parent)
    : QObject(parent), d(std::make_unique<Private>())
{
    d->network = network;
    d->subject = std::move(subject);
    d->timeoutMs = qMax(1, timeoutMs);
    d->deadline.setSingleShot(true);
}

HttpExchange::~HttpExchange()
{
    if (QNetworkReply *reply = d->reply.data()) {
        reply->disconnect(this);
        reply->abort();
        reply->deleteLater();
    }
}

QByteArray HttpExchange::formEncode(const QString &value)
{
    QByteArray encoded = QUrl::toPercentEncoding(value, " ");
    encoded.replace(' ', '+');
    return encoded;
}

void HttpExchange::get(const QUrl &url)
{
    QNetworkRequest request(url);
    request.setRawHeader("Accept", "application/json");
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::NoLessSafeRedirectPolicy);
    request.setMaximumRedirectsAllowed(kMaxRedirects);
    send(request, "GET", {});
}

void HttpExchange::postForm(const QUrl &url, const FormFields &fields, const HeaderList &headers)
{
    QByteArray body;
    for (const auto &[name, value] : fields) {
        if (!body.isEmpty())
            body += '&';
        body += formEncode(name) + '=' + formEncode(value);
    }
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader,
                      QByteArrayLiteral("application/x-www-form-urlencoded"));
    request.setRawHeader("Accept", "application/json");
    for (const auto &[name, value] : headers)
        request.setRawHeader(name, value);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    send(request, "POST", body);
}

void HttpExchange::postJson(const QUrl &url, const QByteArray &json, const HeaderList &headers)
{
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setRawHeader("Accept", "application/json");
    for (const auto &[name, value] : headers)
        request.setRawHeader(name, value);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    send(request, "POST", json);
}

void HttpExchange::abort()
{
    finish(Error::make(Error::Kind::Cancelled,
                       QStringLiteral("The request to %1 was cancelled.").arg(d->subject)));
}

void HttpExchange::send(QNetworkRequest &request, const QByteArray &verb, const QByteArray &body)
{
    Q_ASSERT(!d->started);
    if (d->started)
        return;
    d->started = true;
    request.setTransferTimeout(d->timeoutMs);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                         QNetworkRequest::AlwaysNetwork);
    request.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
    request.setAttribute(QNetworkRequest::CookieLoadControlAttribute, QNetworkRequest::Manual);
    request.setAttribute(QNetworkRequest::CookieSaveControlAttribute, QNetworkRequest::Manual);
    qCDebug(lcOAuth).noquote() << verb << loggable(request.url());

    QNetworkReply *reply
            = verb == "GET" ? d->network->get(request) : d->network->post(request, body);
    d->reply = reply;
    connect(reply, &QNetworkReply::readyRead, this, &HttpExchange::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &HttpExchange::onFinished);
    connect(&d->deadline, &QTimer::timeout, this, [this] { finish(timeoutError()); });
    d->deadline.start(d->timeoutMs);
}

Error HttpExchange::timeoutError() const
{
    return Error::make(
            Error::Kind::Timeout,
            Wording::sentence(QStringLiteral("%1 did not answer within %2. Check that it is "
                                             "reachable, then try again.")
                                      .arg(d->subject, Wording::seconds(d->timeoutMs))));
}

void HttpExchange::onReadyRead()
{
    QNetworkReply *reply = d->reply.data();
    if (!reply || d->done)
        return;
    if (d->body.size() + reply->bytesAvailable() > kMaxBodyBytes) {
        finish(Error::make(
                Error::Kind::Protocol,
                Wording::sentence(QStringLiteral("%1 answered with more than %2 KiB, which "
                                                 "no OAuth answer needs; the answer was "
                                                 "refused.")
                                          .arg(d->subject)
                                          .arg(kMaxBodyBytes / 1024))));
        return;
    }
    d->body += reply->readAll();
}

void HttpExchange::onFinished()
{
    QNetworkReply *reply = d->reply.data();
    if (!reply || d->done)
        return;
    onReadyRead();
    if (d->done)
        return;
    const QNetworkReply::NetworkError error = reply->error();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();

    if (error == QNetworkReply::OperationCanceledError || error == QNetworkReply::TimeoutError) {
        // Not our abort(): that disconnects first. This is the transfer timeout.
        finish(timeoutError());
        return;
    }
    const bool transportFailure
            = (error > QNetworkReply::NoError && error < QNetworkReply::ContentAccessDenied)
            || status <= 0;
    if (transportFailure) {
        finish(Error::make(
                Error::Kind::Unreachable,
                QStringLiteral("MCP Broker could not reach %1: %2. Check that it is running and "
                               "reachable, then try again.")
                        .arg(d->subject, describeFailure(error))));
        return;
    }
    Answer answer;
    answer.status = status;
    const QByteArray contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
    answer.mediaType = contentType.split(';').value(0).trimmed().toLower();
    answer.body = std::move(d->body);
    answer.wwwAuthenticate = reply->rawHeader("WWW-Authenticate");
    finish(std::move(answer));
}

void HttpExchange::finish(Result<Answer> answer)
{
    if (d->done)
        return;
    d->done = true;
    d->deadline.stop();
    if (QNetworkReply *reply = d->reply.data()) {
        reply->disconnect(this);
        if (reply->isRunning())
            reply->abort();
        reply->deleteLater();
        const QUrl url = reply->url();
        if (answer)
            qCDebug(lcOAuth).noquote() << loggable(url) << "answered" << answer.value().status;
        else
            qCDebug(lcOAuth).noquote() << loggable(url) << "failed:" << answer.error().message;
    }
    d->reply.clear();
    Q_EMIT finished(answer);
}

} // namespace mcpbroker::oauth
