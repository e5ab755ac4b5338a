#pragma once

#include <QList>
#include <QObject>
#include <QTimer>

namespace mcpbroker::integration {

// The resident set size (VmRSS) of one process, read from /proc/<pid>/status at a fixed
// interval while the test's event loop runs (e.g. while it waits for a peer to finish).
class MemorySampler : public QObject
{
    Q_OBJECT
public:
    struct Sample
    {
        qint64 atMs = 0; // ms since the epoch (comparable with a peer's Date.now())
        qint64 kib = 0;  // VmRSS in KiB
    };

    explicit MemorySampler(QObject *parent = nullptr);

    // VmRSS of `pid` in KiB; -1 when the process is gone or the file has no such line.
    static qint64 residentKib(qint64 pid);

    // Takes a sample now, then every `intervalMs` until stop() or the process is gone.
    void start(qint64 pid, int intervalMs);
    void stop();

    QList<Sample> samples() const { return m_samples; }
    // The samples taken in [fromMs, toMs].
    QList<Sample> samplesBetween(qint64 fromMs, qint64 toMs) const;

private:
    void sample();

    QTimer m_timer;
    qint64 m_pid = 0;
    QList<Sample> m_samples;
};

} // namespace mcpbroker::integration
