#include "InstanceRecord.h"

#include "store/AtomicFile.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include <nlohmann/json.hpp>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <csignal>
#endif

namespace mcpbroker::app::InstanceRecord {

namespace {

using json = nlohmann::json;

QString recordPath(const QString &configPath)
{
    return directory() + QStringLiteral("/instance-%1.json").arg(configKey(configPath));
}

bool processLives(qint64 pid)
{
#ifdef Q_OS_UNIX
    return pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM);
#else
    return pid > 0; // a stale record only makes `status` ask a port nobody listens on
#endif
}

} // namespace

Result<void> write(const QString &configPath, quint16 port)
{
    const json record = {{"port", port}, {"pid", QCoreApplication::applicationPid()}};
    return store::AtomicFile::write(recordPath(configPath),
                                    QByteArray::fromStdString(record.dump()));
}

void remove(const QString &configPath)
{
    QFile::remove(recordPath(configPath));
}

std::optional<Entry> find(const QString &configPath)
{
    QFile file(recordPath(configPath));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QByteArray bytes = file.read(4096);
    const json record = json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (!record.is_object() || !record.value("port", json()).is_number_unsigned()
        || !record.value("pid", json()).is_number_integer())
        return std::nullopt;
    const auto port = record["port"].get<unsigned>();
    const auto pid = record["pid"].get<qint64>();
    if (port == 0 || port > 65535 || !processLives(pid))
        return std::nullopt;
    return Entry{quint16(port), pid};
}

std::optional<quint16> port(const QString &configPath)
{
    const std::optional<Entry> entry = find(configPath);
    return entry ? std::optional<quint16>(entry->port) : std::nullopt;
}

QString directory()
{
    return QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation)
            + QStringLiteral("/mcp-broker");
}

QString configKey(const QString &configPath)
{
    const QByteArray digest = QCryptographicHash::hash(
            QFileInfo(configPath).absoluteFilePath().toUtf8(), QCryptographicHash::Sha256);
    return QString::fromLatin1(digest.toHex().left(16));
}

} // namespace mcpbroker::app::InstanceRecord
