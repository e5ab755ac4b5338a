#include "store/AuditLog.h"

#include "Logging.h"
#include "Result.h"
#include "store/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace mcpbroker::store {

namespace {

constexpr qint64 kReadBlockBytes = 64 * 1024;
// A line longer than this is not one the log wrote (an entry is at most a few kilobytes):
// readLastLines() skips it instead of holding it in memory.
constexpr qsizetype kMaxLineBytes = 1024 * 1024;

// At most kMaxFieldLength characters, "…" included when cut; a surrogate pair stays whole.
QString capped(const QString &text)
{
    if (text.size() <= AuditLog::kMaxFieldLength)
        return text;
    qsizetype keep = AuditLog::kMaxFieldLength - 1;
    if (text.at(keep - 1).isHighSurrogate())
        --keep;
    return text.left(keep) + QChar(0x2026);
}

// What a terminal must not be handed: control characters (escape sequences, carriage returns),
// format characters (bidirectional overrides) and line or paragraph separators.
QString printable(const QString &text)
{
    QString shown = text;
    for (QChar &c : shown) {
        switch (c.category()) {
        case QChar::Other_Control:
        case QChar::Other_Format:
        case QChar::Separator_Line:
        case QChar::Separator_Paragraph:
            c = QChar::ReplacementCharacter;
            break;
        default:
            break;
        }
    }
    return shown;
}

QString column(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("-") : printable(text);
}

Error ioError(QString message)
{
    return Error::make(Error::Kind::Io, std::move(message));
}

QString rotatedPath(const QString &path, int generation)
{
    return generation == 0 ? path : path + QLatin1Char('.') + QString::number(generation);
}

#ifdef Q_OS_UNIX

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

// O_NONBLOCK: a FIFO put in the log's place fails at once instead of waiting for a reader.
int openForAppend(const QString &path)
{
    return ::open(QFile::encodeName(path).constData(),
                  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);
}

Result<void> appendPosix(const QString &path, const QByteArray &line, qint64 maxBytes,
                         const std::function<void()> &rotate)
{
    if (auto made = AtomicFile::makePrivateDirectories(QFileInfo(path).absolutePath()); !made)
        return made;

    int fd = -1;
    struct stat info
    { };
    auto openChecked = [&]() -> Result<void> {
        fd = openForAppend(path);
        if (fd < 0)
            return ioError(QStringLiteral("opening it failed (%1)").arg(errnoText(errno)));
        if (::fstat(fd, &info) != 0) {
            const int error = errno;
            ::close(fd);
            return ioError(QStringLiteral("reading its size failed (%1)").arg(errnoText(error)));
        }
        if (!S_ISREG(info.st_mode)) {
            ::close(fd);
            return ioError(QStringLiteral("it is not a regular file"));
        }
        return {};
    };

    if (auto opened = openChecked(); !opened)
        return opened;
    if (info.st_size > 0 && info.st_size + line.size() > maxBytes) {
        ::close(fd);
        rotate();
        if (auto opened = openChecked(); !opened)
            return opened;
    }
    // The log is the user's alone, even if someone widened the mode of an older file.
    if ((info.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0)
        qCWarning(lcStore) << "Could not make the audit log private:" << errnoText(errno);

    const char *data = line.constData();
    qsizetype left = line.size();
    while (left > 0) {
        const ssize_t written = ::write(fd, data, static_cast<size_t>(left));
        if (written < 0) {
            if (errno == EINTR)
                continue;
            const int error = errno;
            ::close(fd);
            return ioError(QStringLiteral("writing failed (%1)").arg(errnoText(error)));
        }
        data += written;
        left -= written;
    }
    if (::close(fd) != 0)
        return ioError(QStringLiteral("closing it failed (%1)").arg(errnoText(errno)));
    return {};
}

#else

Result<void> appendWithQFile(const QString &path, const QByteArray &line, qint64 maxBytes,
                             const std::function<void()> &rotate)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath()))
        return ioError(QStringLiteral("creating its folder failed"));
    const QFileInfo info(path);
    if (info.exists() && info.size() > 0 && info.size() + line.size() > maxBytes)
        rotate();
    QFile file(path);
    const bool isNew = !file.exists();
    if (!file.open(QIODevice::WriteOnly | QIODevice::Append))
        return ioError(QStringLiteral("opening it failed (%1)").arg(file.errorString()));
    if (isNew)
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    if (file.write(line) != line.size())
        return ioError(QStringLiteral("writing failed (%1)").arg(file.errorString()));
    return {};
}

#endif

} // namespace

AuditLog::AuditLog(QString path, Options options, QObject *parent)
    : QObject(parent), m_path(std::move(path)), m_options(options)
{ }

AuditLog::AuditLog(QString path, QObject *parent) : AuditLog(std::move(path), Options{}, parent) { }

AuditLog::~AuditLog() = default;

QString AuditLog::defaultPath()
{
#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS)
    // The XDG Base Directory spec: a relative $XDG_STATE_HOME is invalid and ignored. Qt 6.4 has
    // no QStandardPaths::StateLocation.
    QString stateHome = qEnvironmentVariable("XDG_STATE_HOME");
    if (stateHome.isEmpty() || QDir::isRelativePath(stateHome))
        stateHome = QDir::homePath() + QStringLiteral("/.local/state");
    return stateHome + QStringLiteral("/mcp-broker/audit.log");
#else
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
            + QStringLiteral("/mcp-broker/audit.log");
#endif
}

void AuditLog::append(const AuditEntry &entry)
{
    writeLine(toJsonLine(entry) + '\n');
}

void AuditLog::writeLine(const QByteArray &line)
{
    const auto rotate = [this] { this->rotate(); };
#ifdef Q_OS_UNIX
    const auto written = appendPosix(m_path, line, m_options.maxBytes, rotate);
#else
    const auto written = appendWithQFile(m_path, line, m_options.maxBytes, rotate);
#endif
    if (!written) {
        if (!m_failing) {
            qCWarning(lcStore).noquote()
                    << QStringLiteral("Could not write the audit log %1: %2. Calls are not "
                                      "logged until it can be written; check the folder's "
                                      "permissions and free space.")
                               .arg(QDir::toNativeSeparators(m_path), written.error().message);
        }
        m_failing = true;
        return;
    }
    if (m_failing) {
        qCInfo(lcStore).noquote() << "The audit log" << QDir::toNativeSeparators(m_path)
                                  << "is written again.";
        m_failing = false;
    }
}

void AuditLog::rotate()
{
    // A rename that fails because a generation is missing is expected; anything else shows up
    // when the next write fails.
    const int kept = std::max(0, m_options.keptFiles);
    QFile::remove(rotatedPath(m_path, kept));
    for (int generation = kept - 1; generation >= 0; --generation) {
        const QString from = rotatedPath(m_path, generation);
        const QString to = rotatedPath(m_path, generation + 1);
#ifdef Q_OS_UNIX
        ::rename(QFile::encodeName(from).constData(), QFile::encodeName(to).constData());
#else
        QFile::remove(to);
        QFile::rename(from, to);
#endif
    }
    qCDebug(lcStore) << "Rotated the audit log" << m_path;
}

QByteArray AuditLog::toJsonLine(const AuditEntry &entry)
{
    nlohmann::ordered_json object;
    const QDateTime time = entry.time.isValid() ? entry.time : QDateTime::currentDateTimeUtc();
    object["time"] = time.toUTC().toString(Qt::ISODateWithMs).toStdString();
    auto put = [&object](const char *key, const QString &value) {
        if (!value.isEmpty())
            object[key] = capped(value).toStdString();
    };
    put("client", entry.client);
    put("grant", entry.grantId);
    put("server", entry.server);
    put("tool", entry.tool);
    put("decision", entry.decision);
    put("outcome", entry.outcome);
    if (entry.durationMs >= 0)
        object["durationMs"] = entry.durationMs;
    put("reason", entry.reason);
    // Compact: no line break can appear; invalid UTF-8 becomes U+FFFD instead of throwing.
    return QByteArray::fromStdString(
            object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

std::optional<AuditEntry> AuditLog::parseLine(QByteArrayView line)
{
    const auto object = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (!object.is_object())
        return std::nullopt;

    bool wellFormed = true;
    auto text = [&object, &wellFormed](const char *key) {
        const auto found = object.find(key);
        if (found == object.end())
            return QString();
        if (!found->is_string()) {
            wellFormed = false;
            return QString();
        }
        return QString::fromStdString(found->get<std::string>());
    };

    AuditEntry entry;
    entry.time = QDateTime::fromString(text("time"), Qt::ISODateWithMs);
    entry.client = text("client");
    entry.grantId = text("grant");
    entry.server = text("server");
    entry.tool = text("tool");
    entry.decision = text("decision");
    entry.outcome = text("outcome");
    entry.reason = text("reason");
    if (const auto duration = object.find("durationMs"); duration != object.end()) {
        if (!duration->is_number_integer() || duration->get<qint64>() < 0)
            return std::nullopt;
        entry.durationMs = duration->get<qint64>();
    }
    if (!wellFormed || !entry.time.isValid())
        return std::nullopt;
    return entry;
}

QList<QByteArray> AuditLog::readLastLines(QIODevice &log, qint64 end, int count)
{
    QList<QByteArray> newestFirst;
    auto take = [&newestFirst](QByteArray line) {
        if (parseLine(line))
            newestFirst.append(std::move(line));
    };

    // `buffer` holds the bytes from `position` up to the end of the last line not taken yet.
    // While `skipping`, the bytes read belong to no complete line: the unfinished tail of the
    // file, or a line too long to be an entry; the next line break ends that.
    QByteArray buffer;
    bool skipping = true;
    qint64 position = end;
    while (count > 0 && newestFirst.size() < count) {
        if (position <= 0) {
            if (!skipping)
                take(buffer); // the file's first line: no line break before it
            break;
        }
        const qint64 size = std::min(kReadBlockBytes, position);
        position -= size;
        if (!log.seek(position))
            break;
        const QByteArray block = log.read(size);
        if (block.size() != size)
            break;
        if (skipping) {
            const qsizetype lastBreak = block.lastIndexOf('\n');
            if (lastBreak < 0)
                continue;
            buffer = block.left(lastBreak);
            skipping = false;
        } else {
            buffer.prepend(block);
        }
        // A line is complete once the line break before it has been read.
        for (qsizetype lineBreak = buffer.lastIndexOf('\n');
             lineBreak >= 0 && newestFirst.size() < count; lineBreak = buffer.lastIndexOf('\n')) {
            take(buffer.mid(lineBreak + 1));
            buffer.truncate(lineBreak);
        }
        if (buffer.size() > kMaxLineBytes) {
            buffer.clear();
            skipping = true;
        }
    }
    std::reverse(newestFirst.begin(), newestFirst.end());
    return newestFirst;
}

QList<QByteArray> AuditLog::readLastLines(const QString &path, int count)
{
    auto readFile = [](const QString &filePath, int wanted) -> QList<QByteArray> {
        // Only regular files: opening a FIFO for reading would wait for a writer.
        if (wanted <= 0 || !QFileInfo(filePath).isFile())
            return {};
        QFile file(filePath);
        if (!file.open(QIODevice::ReadOnly))
            return {};
        return readLastLines(file, file.size(), wanted);
    };
    QList<QByteArray> lines = readFile(path, count);
    if (lines.size() < count)
        lines = readFile(rotatedPath(path, 1), count - int(lines.size())) + lines;
    return lines;
}

QList<AuditEntry> AuditLog::readLast(const QString &path, int count)
{
    QList<AuditEntry> entries;
    const QList<QByteArray> lines = readLastLines(path, count);
    for (const QByteArray &line : lines) {
        if (auto entry = parseLine(line))
            entries.append(std::move(*entry));
    }
    return entries;
}

QString AuditLog::formatLine(const AuditEntry &entry)
{
    const QStringList columns = {
            entry.time.isValid()
                    ? entry.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                    : QStringLiteral("-"),
            column(entry.client),
            column(entry.server),
            column(entry.tool),
            column(entry.decision),
            column(entry.outcome),
            entry.durationMs >= 0 ? QStringLiteral("%1 ms").arg(entry.durationMs)
                                  : QStringLiteral("-"),
    };
    QString line = columns.join(QLatin1String("  "));
    if (!entry.reason.isEmpty())
        line += QStringLiteral(" \u2014 ") + printable(entry.reason);
    return line;
}

} // namespace mcpbroker::store
