#include "gateway/ApprovalQueue.h"

#include "AnswerLater.h"
#include "Logging.h"

#include <QRandomGenerator>
#include <QStringList>
#include <QTimer>

#include <algorithm>
#include <array>

namespace mcpbroker::gateway {

namespace {

QString newRequestId()
{
    std::array<quint32, 4> words{}; // 16 bytes: unique, not a secret
    QRandomGenerator::system()->fillRange(words.data(), words.size());
    return QString::fromLatin1(
            QByteArray(reinterpret_cast<const char *>(words.data()), sizeof(words))
                    .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QString secondsText(int ms)
{
    if (ms == 1000)
        return QStringLiteral("1 second");
    return QStringLiteral("%1 seconds").arg(QString::number(ms / 1000.0, 'g', 4));
}

Error noApprover(const ApprovalRequest &request)
{
    return Error::make(Error::Kind::Unreachable,
                       QStringLiteral("Tool '%1' on server '%2' needs your approval, but no tray "
                                      "icon is running to ask you: start MCP Broker with its "
                                      "tray, or allow the tool with a policy rule in the config "
                                      "file.")
                               .arg(request.tool, request.server));
}

Error declined(const ApprovalRequest &request)
{
    return Error::make(Error::Kind::Forbidden,
                       QStringLiteral("You declined the call to tool '%1' on server '%2'.")
                               .arg(request.tool, request.server));
}

Error timedOut(const ApprovalRequest &request, int timeoutMs)
{
    return Error::make(Error::Kind::Timeout,
                       QStringLiteral("No one approved the call to tool '%1' on server '%2' "
                                      "within %3; it was not made. Approve it from the tray "
                                      "icon when asked, or add a policy rule (see `mcp-broker "
                                      "help`).")
                               .arg(request.tool, request.server, secondsText(timeoutMs)));
}

} // namespace

ApprovalQueue::ApprovalQueue(QObject *parent) : QObject(parent) { }

// Pending answers are dropped: the broker is going away, and with it whoever was waiting.
ApprovalQueue::~ApprovalQueue() = default;

void ApprovalQueue::setApproverPresent(bool present)
{
    m_approverPresent = present;
    if (present)
        return;
    // The ids first: the answers run callers' code, which may change the queue.
    QStringList ids;
    for (const Waiting &waiting : m_waiting)
        ids.append(waiting.id());
    for (const QString &id : std::as_const(ids)) {
        if (const Waiting *waiting = find(id))
            finish(id, noApprover(waiting->request));
    }
}

bool ApprovalQueue::approverPresent() const
{
    return m_approverPresent;
}

QString ApprovalQueue::ask(ApprovalRequest request, int timeoutMs, Answer answer)
{
    if (!m_approverPresent) {
        qCInfo(lcGateway).noquote() << QStringLiteral("Refused tool '%1' on server '%2' for "
                                                      "client '%3': no tray icon is running to "
                                                      "ask for approval")
                                               .arg(request.tool, request.server, request.client);
        if (answer)
            answerLater(this, std::move(answer), Result<void>(noApprover(request)));
        return {};
    }

    timeoutMs = std::max(timeoutMs, 0);
    request.id = newRequestId();
    request.askedAt = QDateTime::currentDateTimeUtc();
    request.expiresAt = request.askedAt.addMSecs(timeoutMs);

    auto *timer = new QTimer(this);
    timer->setSingleShot(true);
    const QString id = request.id;
    connect(timer, &QTimer::timeout, this, [this, id, timeoutMs] {
        if (const Waiting *waiting = find(id)) {
            qCInfo(lcGateway).noquote()
                    << QStringLiteral("Nobody approved tool '%1' on server '%2' in time")
                               .arg(waiting->request.tool, waiting->request.server);
            finish(id, timedOut(waiting->request, timeoutMs));
        }
    });

    qCInfo(lcGateway).noquote()
            << QStringLiteral("Asking the user to approve tool '%1' on server '%2' for client '%3'")
                       .arg(request.tool, request.server, request.client);
    m_waiting.push_back({request, std::move(answer), timer});
    timer->start(timeoutMs);
    Q_EMIT approvalRequested(request);
    return id;
}

void ApprovalQueue::approve(const QString &id)
{
    finish(id, {});
}

void ApprovalQueue::deny(const QString &id)
{
    if (const Waiting *waiting = find(id))
        finish(id, declined(waiting->request));
}

void ApprovalQueue::cancel(const QString &id)
{
    finish(id, {}, false);
}

QList<ApprovalRequest> ApprovalQueue::pending() const
{
    QList<ApprovalRequest> requests;
    requests.reserve(qsizetype(m_waiting.size()));
    for (const Waiting &waiting : m_waiting)
        requests.append(waiting.request);
    return requests;
}

const ApprovalQueue::Waiting *ApprovalQueue::find(const QString &id) const
{
    const auto found = std::ranges::find(m_waiting, id, &Waiting::id);
    return found == m_waiting.end() ? nullptr : &*found;
}

void ApprovalQueue::finish(const QString &id, const Result<void> &result, bool answer)
{
    const auto found = std::ranges::find(m_waiting, id, &Waiting::id);
    if (found == m_waiting.end())
        return; // unknown, or answered already: a late click on a stale prompt
    // Out of the queue before anyone hears of it, so a second answer finds nothing.
    Waiting waiting = std::move(*found);
    m_waiting.erase(found);
    waiting.timer->stop();
    waiting.timer->deleteLater(); // we may be inside its timeout()

    Q_EMIT approvalFinished(id);
    if (answer && waiting.answer)
        waiting.answer(result);
}

} // namespace mcpbroker::gateway
