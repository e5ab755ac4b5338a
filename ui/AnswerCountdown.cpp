#include "AnswerCountdown.h"

#include <QLabel>

#include <algorithm>

namespace mcpbroker::ui {

using namespace std::chrono_literals;

AnswerCountdown::AnswerCountdown(QLabel *label, std::chrono::milliseconds timeout, QObject *parent)
    : QObject(parent), m_label(label), m_left(std::max(timeout, 0ms))
{
    m_label->setForegroundRole(QPalette::PlaceholderText);
    m_ticker.setSingleShot(true);
    connect(&m_ticker, &QTimer::timeout, this, [this] { tick(m_ticker.intervalAsDuration()); });
    if (m_left > 0ms)
        tick(0ms); // shows the time left and starts the countdown
    else
        m_ticker.start(0ms); // times out once the event loop runs, after the owner connected
}

void AnswerCountdown::stop()
{
    m_ticker.stop();
}

void AnswerCountdown::tick(std::chrono::milliseconds elapsed)
{
    m_left -= elapsed;
    if (m_left <= 0ms) {
        Q_EMIT timedOut();
        return;
    }
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(m_left);
    const auto minutes = std::chrono::ceil<std::chrono::minutes>(m_left);
    if (m_label) {
        m_label->setText(seconds < 120s ? tr("Answers Deny in %1 s").arg(seconds.count())
                                        : tr("Answers Deny in %1 min").arg(minutes.count()));
    }
    // The next tick lands on a whole second, so the label counts down evenly.
    m_ticker.start(m_left - (seconds - 1s));
}

} // namespace mcpbroker::ui
