#pragma once

#include "CommandLine.h"

#include <QObject>

namespace mcpbroker::app {

// A command that works on the event loop (keychain, network, the broker itself): start() it
// once the loop runs; it emits `finished` exactly once, with the process's exit code.
class AsyncCommand : public QObject
{
    Q_OBJECT
public:
    explicit AsyncCommand(Command command, QObject *parent = nullptr)
        : QObject(parent), m_command(std::move(command))
    {
    }

    virtual void start() = 0;

Q_SIGNALS:
    void finished(int exitCode);

protected:
    const Command &command() const { return m_command; }

    // Emits `finished` the first time only.
    void finish(int exitCode)
    {
        if (m_finished)
            return;
        m_finished = true;
        Q_EMIT finished(exitCode);
    }

private:
    Command m_command;
    bool m_finished = false;
};

} // namespace mcpbroker::app
