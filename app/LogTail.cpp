#include "LogTail.h"

#include "AppLogging.h"
#include "store/AuditLog.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>

#include <algorithm>

#ifdef Q_OS_UNIX
#include <sys/stat.h>
#endif

namespace mcpbroker::app {

namespace {

constexpr qint64 kReadChunkBytes = 64 * 1024;
// No entry is this long (AuditLog caps every field): such a line is skipped, not kept.
constexpr qsizetype kMaxLineBytes = 1024 * 1024;

QString rotatedPath(const QString &path)
{
    return path + QStringLiteral(".1");
}

} // namespace

LogTail::LogTail(QString path, QObject *parent) : QObject(parent), m_path(std::move(path)) { }

LogTail::~LogTail() = default;

bool LogTail::exists() const
{
    return QFileInfo(m_path).isFile();
}

QList<QByteArray> LogTail::readLast(int count)
{
    closeCurrent();
    m_positioned = true;
    QList<QByteArray> lines;
    // No file (none yet, or just rotated away): following starts at the next file's first line.
    if (openCurrent()) {
        const qint64 end = m_file->size();
        lines = store::AuditLog::readLastLines(*m_file, end, count);

        // Following goes on after the last line break: a line being written now is read whole
        // then.
        const qint64 blockStart = std::max<qint64>(0, end - kReadChunkBytes);
        QByteArray block;
        if (m_file->seek(blockStart))
            block = m_file->read(end - blockStart);
        const qsizetype lastBreak = block.lastIndexOf('\n');
        if (lastBreak >= 0 || blockStart == 0) {
            m_offset = blockStart + lastBreak + 1;
        } else {
            m_offset = end; // the end of a line too long to be an entry
            m_skippingLine = true;
        }
    }

    // The rotated file, unless it is the one just opened (rotated in between).
    if (lines.size() < count && !sameFileAsOpen(rotatedPath(m_path))) {
        QFile rotated(rotatedPath(m_path));
        if (QFileInfo(rotated.fileName()).isFile() && rotated.open(QIODevice::ReadOnly))
            lines = store::AuditLog::readLastLines(rotated, rotated.size(),
                                                   count - int(lines.size()))
                    + lines;
    }
    return lines;
}

bool LogTail::follow()
{
    const QString dir = QFileInfo(m_path).absolutePath();
    if (!QFileInfo(dir).isDir()) {
        // The broker creates it the same way on its first call; until then there is nothing to
        // watch.
        QDir().mkpath(QFileInfo(dir).absolutePath());
        QDir().mkdir(dir, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }
    if (!m_positioned)
        readLast(0);

    m_watcher = new QFileSystemWatcher(this);
    if (!m_watcher->addPath(dir)) {
        qCWarning(lcApp) << "Cannot watch the folder" << dir;
        delete m_watcher;
        m_watcher = nullptr;
        return false;
    }
    connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, &LogTail::catchUp);
    connect(m_watcher, &QFileSystemWatcher::fileChanged, this, &LogTail::catchUp);
    watchFile();
    catchUp(); // what was written since readLast()
    return true;
}

bool LogTail::openCurrent()
{
    if (!QFileInfo(m_path).isFile()) // a FIFO or a folder in its place is no log
        return false;
    auto *file = new QFile(m_path, this);
    // Unbuffered: every read asks the file, which grows under us.
    if (!file->open(QIODevice::ReadOnly | QIODevice::Unbuffered)) {
        qCDebug(lcApp) << "Cannot open" << m_path << file->errorString();
        delete file;
        return false;
    }
    m_file = file;
    m_offset = 0;
    m_unfinished.clear();
    m_skippingLine = false;
    return true;
}

void LogTail::closeCurrent()
{
    delete m_file;
    m_file = nullptr;
    m_offset = 0;
    m_unfinished.clear();
    m_skippingLine = false;
}

// Something changed in the folder or the file: read what the open file gained (the lines
// written before a rotation included), then move on to the file now at the path if it is
// another one (rotated, replaced) or ours shrank (truncated).
void LogTail::catchUp()
{
    if (m_file)
        readAppended();
    const QFileInfo info(m_path);
    if (!info.isFile()) {
        closeCurrent(); // gone until the next call begins it again
        return;
    }
    if (m_file && (!sameFileAsOpen(m_path) || info.size() < m_offset))
        closeCurrent();
    if (!m_file) {
        if (!openCurrent())
            return;
        watchFile();
        readAppended();
    }
}

void LogTail::readAppended()
{
    if (!m_file->seek(m_offset))
        return;
    QList<QByteArray> lines;
    for (QByteArray chunk = m_file->read(kReadChunkBytes); !chunk.isEmpty();
         chunk = m_file->read(kReadChunkBytes)) {
        m_offset += chunk.size();
        qsizetype start = 0;
        for (qsizetype lineBreak = chunk.indexOf('\n'); lineBreak >= 0;
             lineBreak = chunk.indexOf('\n', start)) {
            if (!m_skippingLine) {
                const QByteArray line = m_unfinished + chunk.mid(start, lineBreak - start);
                if (store::AuditLog::parseLine(line))
                    lines.append(line);
            }
            m_unfinished.clear();
            m_skippingLine = false;
            start = lineBreak + 1;
        }
        if (!m_skippingLine)
            m_unfinished += chunk.mid(start);
        if (m_unfinished.size() > kMaxLineBytes) {
            m_unfinished.clear();
            m_skippingLine = true;
        }
    }
    if (!lines.isEmpty())
        Q_EMIT appended(lines);
}

// Watches the file now at the path. A watch follows the file it was set on, so after a
// rotation it is set again; the folder's watch notices the new file.
void LogTail::watchFile()
{
    if (!m_watcher)
        return;
    const QString dir = QFileInfo(m_path).absolutePath();
    if (!m_watcher->directories().contains(dir) && QFileInfo(dir).isDir())
        m_watcher->addPath(dir);
    if (m_watcher->files().contains(m_path))
        m_watcher->removePath(m_path);
    if (QFileInfo(m_path).isFile())
        m_watcher->addPath(m_path);
}

bool LogTail::sameFileAsOpen(const QString &path) const
{
    if (!m_file)
        return false;
#ifdef Q_OS_UNIX
    struct stat open
    { };
    struct stat named
    { };
    return ::fstat(m_file->handle(), &open) == 0
            && ::stat(QFile::encodeName(path).constData(), &named) == 0
            && open.st_dev == named.st_dev && open.st_ino == named.st_ino;
#else
    // No inode to compare: only a shrinking file tells a new one (see catchUp()).
    return path == m_path;
#endif
}

} // namespace mcpbroker::app
