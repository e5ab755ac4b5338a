#include "MemorySampler.h"

#include <QDateTime>
#include <QFile>

namespace mcpbroker::integration {

MemorySampler::MemorySampler(QObject *parent) : QObject(parent)
{
    // Precise: a coarse timer may drift by 5 %, and samples are compared by their time.
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &MemorySampler::sample);
}

qint64 MemorySampler::residentKib(qint64 pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    // "VmRSS:     23456 kB"
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

void MemorySampler::start(qint64 pid, int intervalMs)
{
    m_pid = pid;
    m_samples.clear();
    sample();
    m_timer.start(intervalMs);
}

void MemorySampler::stop()
{
    m_timer.stop();
}

QList<MemorySampler::Sample> MemorySampler::samplesBetween(qint64 fromMs, qint64 toMs) const
{
    QList<Sample> between;
    for (const Sample &sample : m_samples) {
        if (sample.atMs >= fromMs && sample.atMs <= toMs)
            between << sample;
    }
    return between;
}

void MemorySampler::sample()
{
    const qint64 kib = residentKib(m_pid);
    if (kib < 0)
        return stop();
    m_samples << Sample{QDateTime::currentMSecsSinceEpoch(), kib};
}

} // namespace mcpbroker::integration
