#include "LogCommand.h"

#include "AppLogging.h"
#include "Console.h"
#include "ExitCode.h"
#include "LogTail.h"
#include "TerminationSignals.h"
#include "store/AuditLog.h"

#include <QDir>
#include <QStringList>

namespace mcpbroker::app {

void LogCommand::start()
{
    const QString path = store::AuditLog::defaultPath();
    m_tail = new LogTail(path, this);
    const QList<QByteArray> lines = m_tail->readLast(command().logLines);
    if (lines.isEmpty() && !m_tail->exists()) {
        Console::err(QStringLiteral("No calls have been logged yet (the audit log is %1).")
                             .arg(QDir::toNativeSeparators(path)));
    }
    print(lines);
    if (!command().follow) {
        finish(kExitOk);
        return;
    }

    auto *termination = new TerminationSignals(this);
    connect(termination, &TerminationSignals::received, this, [this](int signalNumber) {
        qCDebug(lcApp).noquote() << "Stopping on" << TerminationSignals::name(signalNumber);
        finish(kExitOk);
    });
    connect(m_tail, &LogTail::appended, this, &LogCommand::print);
    if (!m_tail->follow()) {
        Console::err(QStringLiteral("Cannot follow the audit log %1: its folder cannot be "
                                    "watched. Check that it exists and is readable.")
                             .arg(QDir::toNativeSeparators(path)));
        finish(kExitFailed);
    }
}

void LogCommand::print(const QList<QByteArray> &lines)
{
    QStringList shown;
    shown.reserve(lines.size());
    for (const QByteArray &line : lines) {
        if (command().json) {
            shown.append(QString::fromUtf8(line));
        } else if (const auto entry = store::AuditLog::parseLine(line)) {
            shown.append(store::AuditLog::formatLine(*entry));
        }
    }
    if (!shown.isEmpty())
        Console::out(shown.join(QLatin1Char('\n')));
}

} // namespace mcpbroker::app
