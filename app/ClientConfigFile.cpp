#include "ClientConfigFile.h"

#include "ConfigMerger.h"
#include "store/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace mcpbroker::app {

namespace {

constexpr int kMaxBackupsPerSecond = 100;

Result<QString> writeBackup(const QString &path, const QByteArray &contents)
{
    const QString base = ClientConfigFile::backupPathFor(path, QDateTime::currentDateTimeUtc());
    QString backup = base;
    for (int n = 2; QFileInfo::exists(backup); ++n) {
        if (n > kMaxBackupsPerSecond) {
            return Error::make(
                    Error::Kind::Io,
                    QStringLiteral("Could not back up %1: too many backups named %2-N "
                                   "exist. Nothing was changed.")
                            .arg(QDir::toNativeSeparators(path), QDir::toNativeSeparators(base)));
        }
        backup = base + QLatin1Char('-') + QString::number(n);
    }
    if (auto written = store::AtomicFile::write(backup, contents); !written)
        return written.error();
    return backup;
}

} // namespace

ClientConfigFile::ClientConfigFile(const ClientProfile &client, QString path)
    : m_client(client), m_path(std::move(path)), m_document(ConfigMerger::create(client))
{ }

ClientConfigFile::~ClientConfigFile() = default;

Result<std::unique_ptr<ClientConfigFile>> ClientConfigFile::open(const ClientProfile &client,
                                                                 const QString &path)
{
    std::unique_ptr<ClientConfigFile> file(new ClientConfigFile(client, path));
    const QString shown = QDir::toNativeSeparators(path);
    QFile source(path);
    file->m_exists = QFileInfo::exists(path);
    if (file->m_exists) {
        if (QFileInfo(path).isDir() || !source.open(QIODevice::ReadOnly)) {
            return Error::make(Error::Kind::Io,
                               QStringLiteral("Could not read %1 (%2); nothing was changed.")
                                       .arg(shown,
                                            QFileInfo(path).isDir()
                                                    ? QStringLiteral("it is a folder")
                                                    : source.errorString()));
        }
        file->m_original = source.readAll();
    }
    if (auto loaded = file->m_document->load(file->m_original, path); !loaded) {
        return Error::make(Error::Kind::InvalidInput,
                           QStringLiteral("%1 MCP Broker left the file as it was: fix it, or give "
                                          "--config-file another one.")
                                   .arg(loaded.error().message));
    }
    return file;
}

QStringList ClientConfigFile::entryNames() const
{
    return m_document->entryNames();
}

std::optional<nlohmann::ordered_json> ClientConfigFile::entry(const QString &name) const
{
    return m_document->entry(name);
}

bool ClientConfigFile::isBrokerEntry(const QString &name) const
{
    if (name != ClientConfigs::kEntryName
        && !name.startsWith(ClientConfigs::kEntryName + QLatin1Char('-')))
        return false;
    const auto current = entry(name);
    return current && ClientConfigs::pointsAtBroker(*current);
}

QStringList ClientConfigFile::brokerEntryNames() const
{
    QStringList names;
    for (const QString &name : entryNames()) {
        if (isBrokerEntry(name))
            names.append(name);
    }
    return names;
}

ClientConfigFile::Put ClientConfigFile::put(const QString &name,
                                            const nlohmann::ordered_json &entry)
{
    const auto current = m_document->entry(name);
    if (current && ClientConfigs::sameEntry(*current, entry))
        return Put::Unchanged;
    m_document->setEntry(name, entry);
    m_changed = true;
    return current ? Put::Replaced : Put::Added;
}

bool ClientConfigFile::remove(const QString &name)
{
    const bool removed = m_document->removeEntry(name);
    m_changed = m_changed || removed;
    return removed;
}

Result<ClientConfigFile::Saved> ClientConfigFile::save()
{
    Saved saved;
    if (!m_changed)
        return saved;
    if (m_exists) {
        auto backup = writeBackup(m_path, m_original);
        if (!backup)
            return backup.error();
        saved.backupPath = backup.value();
    }
    if (auto written = store::AtomicFile::write(m_path, m_document->contents()); !written)
        return written.error();
    saved.written = true;
    saved.created = !m_exists;
    m_original = m_document->contents();
    m_exists = true;
    m_changed = false;
    return saved;
}

QString ClientConfigFile::rewriteNote() const
{
    return m_document->rewriteNote();
}

QString ClientConfigFile::keptNote(const Saved &saved, const QString &rewriteNote)
{
    if (saved.backupPath.isEmpty())
        return {};
    const QString kept = QStringLiteral("The old file is kept as %1.")
                                 .arg(QDir::toNativeSeparators(saved.backupPath));
    return rewriteNote.isEmpty() ? kept : kept + QLatin1Char(' ') + rewriteNote;
}

QString ClientConfigFile::backupPathFor(const QString &path, const QDateTime &time)
{
    return path + QStringLiteral(".mcp-broker-backup-")
            + time.toUTC().toString(QStringLiteral("yyyyMMdd'T'HHmmss"));
}

} // namespace mcpbroker::app
