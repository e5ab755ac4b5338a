#pragma once

#include <QObject>

class QSocketNotifier;

namespace mcpbroker::app {

// Turns SIGTERM and SIGINT into the Qt signal `received`, on the event loop. The POSIX handler
// only writes the signal number to a socket pair (async-signal-safe); a QSocketNotifier reads it.
// One instance at a time; the previous handlers come back when it is destroyed. Elsewhere than
// Unix it does nothing.
class TerminationSignals : public QObject
{
    Q_OBJECT
public:
    explicit TerminationSignals(QObject *parent = nullptr);
    ~TerminationSignals() override;

    static QString name(int signalNumber); // "SIGTERM", "SIGINT"

Q_SIGNALS:
    void received(int signalNumber);

private:
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace mcpbroker::app
