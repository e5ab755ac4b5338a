#pragma once

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <chrono>

class QLabel;

namespace mcpbroker::ui {

// The time a question waits for the user: shows "Answers Deny in N s" (N min from two minutes
// on) in the label it is given, dimmed, counting down by whole seconds, and emits timedOut()
// once when the time is up. stop() it when the question is answered: it emits nothing after.
// A timeout of zero (or less) emits timedOut() once the event loop runs, so the owner can
// connect first.
class AnswerCountdown : public QObject
{
    Q_OBJECT
public:
    AnswerCountdown(QLabel *label, std::chrono::milliseconds timeout, QObject *parent);

    void stop();

Q_SIGNALS:
    void timedOut();

private:
    void tick(std::chrono::milliseconds elapsed);

    QPointer<QLabel> m_label;
    QTimer m_ticker;
    std::chrono::milliseconds m_left;
};

} // namespace mcpbroker::ui
