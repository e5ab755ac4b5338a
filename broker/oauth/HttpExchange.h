#pragma once

#include "Result.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>
#include <QUrl>

#include <memory>

class QNetworkAccessManager;
class QNetworkRequest;

namespace mcpbroker::oauth {

// One HTTP request to an OAuth endpoint or metadata URL, and its answer. It
// holds the rules every such request follows: a deadline
// (QNetworkRequest::setTransferTimeout plus an overall timer, so a server that
// trickles bytes cannot hold it forever), no cookies or cache, a bounded body,
// POSTs never redirected (they may carry client credentials), and no header or
// body ever logged. Single use: call get(), postForm() or postJson() once.
class HttpExchange : public QObject
{
    Q_OBJECT
public:
    using HeaderList = QList<QPair<QByteArray, QByteArray>>;
    using FormFields = QList<QPair<QString, QString>>;

    struct Answer
    {
        int status = 0;
        QByteArray mediaType; // Content-Type without parameters, lower case; may be empty
        QByteArray body;
        QByteArray wwwAuthenticate; // the WWW-Authenticate header of a 401 or 403; may be empty
    };

    static constexpr qsizetype kMaxBodyBytes = 1024 * 1024;

    // `subject` names the peer in error sentences, e.g. "the authorization server
    // https://auth.example.com".
    HttpExchange(QNetworkAccessManager *network, QString subject, int timeoutMs,
                 QObject *parent = nullptr);
    ~HttpExchange() override;

    // GET with Accept: application/json; same-or-safer redirects are followed.
    void get(const QUrl &url);
    // POST of an application/x-www-form-urlencoded body built from `fields`.
    void postForm(const QUrl &url, const FormFields &fields, const HeaderList &headers = {});
    // POST of a JSON body; `headers` are added (and may replace Accept).
    void postJson(const QUrl &url, const QByteArray &json, const HeaderList &headers = {});
    // Ends the exchange with a Cancelled error (no-op once finished).
    void abort();

    // RFC 6749 Appendix B: UTF-8, then percent-encoding of everything but the
    // unreserved characters, with space as "+".
    static QByteArray formEncode(const QString &value);

Q_SIGNALS:
    // Exactly once per started exchange, unless it is destroyed first: an Answer
    // for any HTTP status, or an Error — Unreachable (connection refused, DNS,
    // TLS), Timeout, Cancelled, or Protocol (a body larger than kMaxBodyBytes).
    void finished(const mcpbroker::Result<mcpbroker::oauth::HttpExchange::Answer> &answer);

private:
    void send(QNetworkRequest &request, const QByteArray &verb, const QByteArray &body);
    void onReadyRead();
    void onFinished();
    void finish(Result<Answer> answer);
    Error timeoutError() const;

    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace mcpbroker::oauth
