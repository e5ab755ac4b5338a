// Tool calls waiting for the user's approval (gateway/ApprovalQueue.h): each gets exactly one
// answer, a timeout or a missing tray fails it with a sentence, and cancelled ones get none.

#include "gateway/ApprovalQueue.h"

#include <QCoreApplication>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

using namespace mcpbroker;
using namespace mcpbroker::gateway;

namespace {

ApprovalRequest request(const QString &tool = QStringLiteral("delete_repo"))
{
    ApprovalRequest made;
    made.client = QStringLiteral("cursor");
    made.server = QStringLiteral("github");
    made.tool = tool;
    made.reason = QStringLiteral("Tool '%1' on server 'github' is marked destructive; "
                                 "destructive tools need your approval.")
                          .arg(tool);
    return made;
}

// Records every answer a request gets.
struct Answers
{
    QList<Result<void>> received;

    ApprovalQueue::Answer callback()
    {
        return [this](Result<void> result) { received.append(std::move(result)); };
    }
};

constexpr int kLong = 60'000; // a timeout that never runs out during a test

// No timer is left that could still answer: the deadline of a finished request is gone.
bool noDeadlineLeft(ApprovalQueue &queue)
{
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    return queue.findChildren<QTimer *>().isEmpty();
}

} // namespace

class TestApprovalQueue : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void askQueuesTheRequestWithIdAndTimes();
    void approveAnswersOnceAndClearsPending();
    void denyAnswersWithDeclineSentence();
    void askTimesOutWithSentence();
    void askFailsAtOnceWithoutApprover();
    void losingTheApproverFailsPendingRequests();
    void cancelDropsTheAnswerAndClearsPending();
    void unknownIdsAreIgnored();
    void answeringOneRequestLeavesTheOthersPending();
};

void TestApprovalQueue::askQueuesTheRequestWithIdAndTimes()
{
    ApprovalQueue queue;
    queue.setApproverPresent(true);
    QVERIFY(queue.approverPresent());
    QSignalSpy requested(&queue, &ApprovalQueue::approvalRequested);
    Answers answers;

    const QDateTime before = QDateTime::currentDateTimeUtc();
    const QString id = queue.ask(request(), 30'000, answers.callback());
    QVERIFY(!id.isEmpty());
    // 16 random bytes, base64url without padding.
    QCOMPARE(id.size(), 22);
    QVERIFY2(QRegularExpression(QStringLiteral("^[A-Za-z0-9_-]+$")).match(id).hasMatch(),
             qPrintable(id));
    QVERIFY(queue.ask(request(), 30'000, answers.callback()) != id);

    QCOMPARE(requested.count(), 2);
    const auto asked = requested.first().first().value<ApprovalRequest>();
    QCOMPARE(asked.id, id);
    QCOMPARE(asked.client, QStringLiteral("cursor"));
    QCOMPARE(asked.server, QStringLiteral("github"));
    QCOMPARE(asked.tool, QStringLiteral("delete_repo"));
    QCOMPARE(asked.reason, request().reason);
    QVERIFY(asked.askedAt >= before.addSecs(-1));
    QVERIFY(asked.askedAt <= QDateTime::currentDateTimeUtc());
    QCOMPARE(asked.askedAt.msecsTo(asked.expiresAt), 30'000);

    const QList<ApprovalRequest> pending = queue.pending();
    QCOMPARE(pending.size(), 2);
    QCOMPARE(pending.first().id, id);
    QVERIFY(answers.received.isEmpty());
}

void TestApprovalQueue::approveAnswersOnceAndClearsPending()
{
    ApprovalQueue queue;
    queue.setApproverPresent(true);
    QSignalSpy finished(&queue, &ApprovalQueue::approvalFinished);
    Answers answers;
    const QString id = queue.ask(request(), 50, answers.callback());

    queue.approve(id);
    QCOMPARE(answers.received.size(), 1);
    QVERIFY(answers.received.first().ok());
    QVERIFY(queue.pending().isEmpty());
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toString(), id);

    // A second click, a deny after the approve, or the timer that was running: no more answers.
    queue.approve(id);
    queue.deny(id);
    QVERIFY(noDeadlineLeft(queue));
    QCOMPARE(answers.received.size(), 1);
    QCOMPARE(finished.count(), 1);
}

void TestApprovalQueue::denyAnswersWithDeclineSentence()
{
    ApprovalQueue queue;
    queue.setApproverPresent(true);
    Answers answers;
    const QString id = queue.ask(request(QStringLiteral("push")), kLong, answers.callback());

    queue.deny(id);
    QCOMPARE(answers.received.size(), 1);
    QVERIFY(!answers.received.first().ok());
    QCOMPARE(answers.received.first().error().kind, Error::Kind::Forbidden);
    QCOMPARE(answers.received.first().error().message,
             QStringLiteral("You declined the call to tool 'push' on server 'github'."));
    QVERIFY(queue.pending().isEmpty());
}

void TestApprovalQueue::askTimesOutWithSentence()
{
    ApprovalQueue queue;
    queue.setApproverPresent(true);
    QSignalSpy finished(&queue, &ApprovalQueue::approvalFinished);
    Answers answers;
    const QString id = queue.ask(request(), 50, answers.callback());

    QVERIFY(finished.wait(5'000));
    QCOMPARE(finished.first().first().toString(), id);
    QCOMPARE(answers.received.size(), 1);
    const Error &error = answers.received.first().error();
    QCOMPARE(error.kind, Error::Kind::Timeout);
    QCOMPARE(error.message,
             QStringLiteral("No one approved the call to tool 'delete_repo' on server 'github' "
                            "within 0.05 seconds; it was not made. Approve it from the tray icon "
                            "when asked, or add a policy rule (see `mcp-broker help`)."));
    QVERIFY(queue.pending().isEmpty());

    // An approval arriving after the timeout changes nothing.
    queue.approve(id);
    QCOMPARE(answers.received.size(), 1);
}

void TestApprovalQueue::askFailsAtOnceWithoutApprover()
{
    ApprovalQueue queue; // no tray: the headless `serve`
    QVERIFY(!queue.approverPresent());
    QSignalSpy requested(&queue, &ApprovalQueue::approvalRequested);
    Answers answers;

    const QString id = queue.ask(request(), kLong, answers.callback());
    QVERIFY(id.isEmpty());
    QVERIFY(queue.pending().isEmpty());
    // From the event loop, not inside ask(): callers may still be setting up.
    QVERIFY(answers.received.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(answers.received.size(), 1, 1'000);
    const Error &error = answers.received.first().error();
    QCOMPARE(error.kind, Error::Kind::Unreachable);
    QCOMPARE(error.message,
             QStringLiteral("Tool 'delete_repo' on server 'github' needs your approval, but no "
                            "tray icon is running to ask you: start MCP Broker with its tray, or "
                            "allow the tool with a policy rule in the config file."));
    QCOMPARE(requested.count(), 0);
}

void TestApprovalQueue::losingTheApproverFailsPendingRequests()
{
    ApprovalQueue queue;
    queue.setApproverPresent(true);
    Answers first;
    Answers second;
    queue.ask(request(QStringLiteral("a")), kLong, first.callback());
    queue.ask(request(QStringLiteral("b")), kLong, second.callback());

    queue.setApproverPresent(false);
    QVERIFY(queue.pending().isEmpty());
    QCOMPARE(first.received.size(), 1);
    QCOMPARE(second.received.size(), 1);
    QCOMPARE(first.received.first().error().kind, Error::Kind::Unreachable);
    QVERIFY(second.received.first().error().message.startsWith(
            QStringLiteral("Tool 'b' on server 'github' needs your approval, but no tray")));
}

void TestApprovalQueue::cancelDropsTheAnswerAndClearsPending()
{
    ApprovalQueue queue;
    queue.setApproverPresent(true);
    QSignalSpy finished(&queue, &ApprovalQueue::approvalFinished);
    Answers answers;
    const QString id = queue.ask(request(), 50, answers.callback());

    queue.cancel(id);
    QVERIFY(queue.pending().isEmpty());
    // The tray hears of it, so it can take the question down.
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toString(), id);

    queue.approve(id);
    QVERIFY(noDeadlineLeft(queue));
    QVERIFY(answers.received.isEmpty());
    QCOMPARE(finished.count(), 1);
}

void TestApprovalQueue::unknownIdsAreIgnored()
{
    ApprovalQueue queue;
    queue.setApproverPresent(true);
    QSignalSpy finished(&queue, &ApprovalQueue::approvalFinished);
    Answers answers;
    queue.ask(request(), kLong, answers.callback());

    for (const QString &id : {QString(), QStringLiteral("no-such-request")}) {
        queue.approve(id);
        queue.deny(id);
        queue.cancel(id);
    }
    QCOMPARE(queue.pending().size(), 1);
    QVERIFY(answers.received.isEmpty());
    QCOMPARE(finished.count(), 0);
}

void TestApprovalQueue::answeringOneRequestLeavesTheOthersPending()
{
    ApprovalQueue queue;
    queue.setApproverPresent(true);
    Answers first;
    Answers second;
    Answers third;
    const QString a = queue.ask(request(QStringLiteral("a")), kLong, first.callback());
    const QString b = queue.ask(request(QStringLiteral("b")), kLong, second.callback());
    const QString c = queue.ask(request(QStringLiteral("c")), kLong, third.callback());

    queue.deny(b);
    QCOMPARE(queue.pending().size(), 2);
    QCOMPARE(queue.pending().at(0).id, a);
    QCOMPARE(queue.pending().at(1).id, c);
    QVERIFY(first.received.isEmpty());
    QCOMPARE(second.received.size(), 1);
    QVERIFY(third.received.isEmpty());

    queue.approve(c);
    QCOMPARE(third.received.size(), 1);
    QVERIFY(third.received.first().ok());
    QCOMPARE(queue.pending().size(), 1);
}

QTEST_GUILESS_MAIN(TestApprovalQueue)
#include "tst_approvalqueue.moc"
