#include "store/AtomicFile.h"

#include "Logging.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include <QSaveFile>
#endif

namespace mcpbroker::store {

namespace {

constexpr int kMaxBackupSuffix = 1000;

Error ioError(QString message)
{
    return Error::make(Error::Kind::Io, std::move(message));
}

#ifdef Q_OS_UNIX

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

// mkdir applies the umask, which can only take permissions away.
Result<void> makeDirectories(const QString &dir)
{
    if (QFileInfo(dir).isDir())
        return {};
    const QString parent = QFileInfo(dir).absolutePath();
    if (parent != dir) {
        if (auto made = makeDirectories(parent); !made)
            return made;
    }
    if (::mkdir(QFile::encodeName(dir).constData(), 0700) != 0 && errno != EEXIST) {
        return ioError(QStringLiteral("Could not create the folder %1 (%2): check the permissions "
                                      "of its parent folder.")
                               .arg(QDir::toNativeSeparators(dir), errnoText(errno)));
    }
    return {};
}

bool writeAll(int fd, const QByteArray &contents)
{
    const char *data = contents.constData();
    qsizetype left = contents.size();
    while (left > 0) {
        const ssize_t written = ::write(fd, data, static_cast<size_t>(left));
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += written;
        left -= written;
    }
    return true;
}

// Makes the rename durable: fsync the directory entry. A failure here is logged, not returned,
// because the new contents are already in place.
void syncDirectory(const QString &dir)
{
    const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || ::fsync(fd) != 0)
        qCWarning(lcStore) << "Could not fsync the folder" << dir << errnoText(errno);
    if (fd >= 0)
        ::close(fd);
}

Result<void> writePosix(const QString &requestedPath, const QByteArray &contents)
{
    // Write through a symlink (e.g. a dotfile managed elsewhere) instead of replacing the link.
    QString path = QFileInfo(requestedPath).absoluteFilePath();
    if (QFileInfo(path).isSymLink()) {
        const QString target = QFileInfo(path).canonicalFilePath();
        if (!target.isEmpty())
            path = target;
    }
    const QString dir = QFileInfo(path).absolutePath();
    const QString nativePath = QDir::toNativeSeparators(path);

    if (auto made = makeDirectories(dir); !made)
        return made;

    const QByteArray encodedPath = QFile::encodeName(path);
    QByteArray tempName = QFile::encodeName(dir + QLatin1Char('/') + QLatin1Char('.')
                                            + QFileInfo(path).fileName())
            + ".tmp-XXXXXX";
    // mkostemp creates the file exclusively with mode 0600.
    const int fd = ::mkostemp(tempName.data(), O_CLOEXEC);
    if (fd < 0) {
        return ioError(QStringLiteral("Could not write %1: creating a temporary file in %2 failed "
                                      "(%3). Check that the folder is writable; the file was not "
                                      "changed.")
                               .arg(nativePath, QDir::toNativeSeparators(dir), errnoText(errno)));
    }

    auto fail = [&](const QString &step, int error) -> Result<void> {
        ::close(fd);
        ::unlink(tempName.constData());
        return ioError(QStringLiteral("Could not write %1: %2 failed (%3). The file was not "
                                      "changed.")
                               .arg(nativePath, step, errnoText(error)));
    };

    // An existing file keeps its permissions (another program may rely on them); new files
    // stay 0600.
    struct stat existing
    { };
    if (::stat(encodedPath.constData(), &existing) == 0 && S_ISREG(existing.st_mode)) {
        if (::fchmod(fd, existing.st_mode & 07777) != 0)
            return fail(QStringLiteral("setting permissions"), errno);
    }
    if (!writeAll(fd, contents))
        return fail(QStringLiteral("writing"), errno);
    if (::fsync(fd) != 0)
        return fail(QStringLiteral("flushing to disk"), errno);
    if (::close(fd) != 0) {
        const int error = errno;
        ::unlink(tempName.constData());
        return ioError(QStringLiteral("Could not write %1: closing the temporary file failed "
                                      "(%2). The file was not changed.")
                               .arg(nativePath, errnoText(error)));
    }
    if (::rename(tempName.constData(), encodedPath.constData()) != 0) {
        const int error = errno;
        ::unlink(tempName.constData());
        return ioError(QStringLiteral("Could not write %1: replacing it failed (%2). The file was "
                                      "not changed.")
                               .arg(nativePath, errnoText(error)));
    }
    syncDirectory(dir);
    return {};
}

#else

Result<void> writeWithSaveFile(const QString &path, const QByteArray &contents)
{
    const QString nativePath = QDir::toNativeSeparators(path);
    const QString dir = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(dir)) {
        return ioError(QStringLiteral("Could not create the folder %1: check the permissions of "
                                      "its parent folder.")
                               .arg(QDir::toNativeSeparators(dir)));
    }
    const bool isNew = !QFileInfo::exists(path);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        return ioError(QStringLiteral("Could not write %1 (%2). The file was not changed.")
                               .arg(nativePath, file.errorString()));
    }
    if (isNew)
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (file.write(contents) != contents.size() || !file.commit()) {
        const QString reason = file.errorString();
        file.cancelWriting();
        return ioError(QStringLiteral("Could not write %1 (%2). The file was not changed.")
                               .arg(nativePath, reason));
    }
    return {};
}

#endif

} // namespace

namespace AtomicFile {

Result<void> write(const QString &path, const QByteArray &contents)
{
    if (path.isEmpty())
        return ioError(QStringLiteral("Could not write a file: no file name was given."));
#ifdef Q_OS_UNIX
    auto result = writePosix(path, contents);
#else
    auto result = writeWithSaveFile(path, contents);
#endif
    if (result)
        qCDebug(lcStore) << "Wrote" << path << contents.size() << "bytes";
    else
        qCWarning(lcStore).noquote() << result.error().message;
    return result;
}

Result<QString> backup(const QString &path)
{
    return backup(path, QStringLiteral("bak"));
}

Result<QString> backup(const QString &path, const QString &tag)
{
    const QFileInfo info(path);
    if (!info.exists())
        return QString();

    const QString nativePath = QDir::toNativeSeparators(path);
    QFile source(path);
    if (!source.open(QIODevice::ReadOnly)) {
        return ioError(QStringLiteral("Could not back up %1 before changing it (%2): nothing was "
                                      "changed.")
                               .arg(nativePath, source.errorString()));
    }
    const QByteArray contents = source.readAll();
    if (source.error() != QFileDevice::NoError) {
        return ioError(QStringLiteral("Could not back up %1 before changing it (%2): nothing was "
                                      "changed.")
                               .arg(nativePath, source.errorString()));
    }
    source.close();

    const QString base = info.absoluteFilePath() + QLatin1Char('.') + tag + QLatin1Char('-')
            + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
    QString backupPath = base;
    for (int suffix = 1; QFileInfo::exists(backupPath); ++suffix) {
        if (suffix > kMaxBackupSuffix) {
            return ioError(QStringLiteral("Could not back up %1: too many backups named %2-N "
                                          "already exist. Remove old backups and try again.")
                                   .arg(nativePath, QDir::toNativeSeparators(base)));
        }
        backupPath = base + QLatin1Char('-') + QString::number(suffix);
    }

    if (auto written = write(backupPath, contents); !written)
        return written.error();
    qCInfo(lcStore) << "Backed up" << path << "to" << backupPath;
    return backupPath;
}

Result<QString> keepCorruptCopy(const QString &path)
{
    const QFileInfo info(path);
    QFile file(path);
    if (file.open(QIODevice::ReadOnly)) {
        const QByteArray contents = file.readAll();
        const QStringList earlier = info.absoluteDir().entryList(
                {info.fileName() + QStringLiteral(".corrupt-*")}, QDir::Files, QDir::Name);
        for (const QString &name : earlier) {
            QFile copy(info.absoluteDir().filePath(name));
            if (copy.size() == contents.size() && copy.open(QIODevice::ReadOnly)
                && copy.readAll() == contents)
                return copy.fileName();
        }
    }
    return backup(path, QStringLiteral("corrupt"));
}

Result<void> makePrivateDirectories(const QString &dir)
{
#ifdef Q_OS_UNIX
    return makeDirectories(dir);
#else
    if (!QDir().mkpath(dir)) {
        return ioError(QStringLiteral("Could not create the folder %1: check the permissions of "
                                      "its parent folder.")
                               .arg(QDir::toNativeSeparators(dir)));
    }
    return {};
#endif
}

} // namespace AtomicFile
} // namespace mcpbroker::store
