#include "ImportCommand.h"

#include "ClientServerImport.h"
#include "Console.h"
#include "ExitCode.h"
#include "store/ConfigStore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace mcpbroker::app {

ImportCommand::ImportCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent)
{ }

void ImportCommand::start()
{
    const QString path = command().importFile;
    const QString shown = QDir::toNativeSeparators(path);
    QFile file(path);
    if (QFileInfo(path).isDir() || !file.open(QIODevice::ReadOnly)) {
        return fail(QStringLiteral("Could not read %1 (%2); nothing was imported.")
                            .arg(shown,
                                 QFileInfo(path).isDir() ? QStringLiteral("it is a folder")
                                                         : file.errorString()));
    }
    const QByteArray contents = file.readAll();

    const store::ConfigStore store(command().configFilePath());
    auto config = store.load();
    if (!config)
        return fail(config.error().message);
    const auto plan = ClientServerImport::plan(contents, path, config.value());
    if (!plan)
        return fail(QStringLiteral("%1 Nothing was imported.").arg(plan.error().message));

    if (!plan.value().servers.isEmpty()) {
        store::BrokerConfig changed = config.value();
        changed.servers += plan.value().servers;
        if (auto saved = store.save(changed); !saved)
            return fail(QStringLiteral("%1 Nothing was imported.")
                                .arg(Console::sentence(saved.error().message)));
    }
    for (const QString &line : plan.value().added)
        Console::out(line);
    for (const QString &note : plan.value().notes)
        Console::out(note);
    Console::out(plan.value().servers.isEmpty()
                         ? QStringLiteral("Nothing to import from %1.").arg(shown)
                         : QStringLiteral("Imported %1 server(s) from %2 into %3; `mcp-broker "
                                          "list` shows them.")
                                   .arg(plan.value().servers.size())
                                   .arg(shown, QDir::toNativeSeparators(store.filePath())));
    finish(kExitOk);
}

void ImportCommand::fail(const QString &message)
{
    Console::err(message);
    finish(kExitFailed);
}

} // namespace mcpbroker::app
