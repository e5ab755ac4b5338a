#include "LogWatch.h"
#include "store/AuditLog.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <sys/stat.h>

using namespace mcpbroker;
using namespace mcpbroker::store;

namespace {

AuditEntry entry(int number)
{
    AuditEntry e;
    e.time = QDateTime(QDate(2026, 11, 24), QTime(10, 31, 2, 120), Qt::UTC).addSecs(number);
    e.client = QStringLiteral("cursor");
    e.grantId = QStringLiteral("gAbCdEfGhIjKl");
    e.server = QStringLiteral("github");
    e.tool = QStringLiteral("tool_%1").arg(number);
    e.decision = QStringLiteral("allow");
    e.outcome = QStringLiteral("ok");
    e.durationMs = 100 + number;
    return e;
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return "<unreadable>";
    return file.readAll();
}

QList<QByteArray> linesOf(const QString &path)
{
    QByteArray contents = readAll(path);
    if (contents.endsWith('\n'))
        contents.chop(1);
    return contents.isEmpty() ? QList<QByteArray>() : contents.split('\n');
}

mode_t modeOf(const QString &path)
{
    struct stat info
    { };
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return 0;
    return info.st_mode & 07777;
}

QStringList toolsOf(const QList<AuditEntry> &entries)
{
    QStringList tools;
    for (const AuditEntry &e : entries)
        tools.append(e.tool);
    return tools;
}

} // namespace

class TestAuditLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // Assert the modes we ask for, not the ones a restrictive umask would give anyway.
        ::umask(022);
    }

    void appendWritesOneJsonLinePerEntry()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        AuditLog log(path);
        QCOMPARE(log.path(), path);
        log.append(entry(0));
        AuditEntry refused = entry(1);
        refused.decision = QStringLiteral("deny");
        refused.outcome = QStringLiteral("refused");
        refused.durationMs = -1;
        refused.grantId.clear();
        refused.reason = QStringLiteral("Policy: github.delete_repo is denied.");
        log.append(refused);

        const QByteArray contents = readAll(path);
        QVERIFY(contents.endsWith('\n'));
        const QList<QByteArray> lines = linesOf(path);
        QCOMPARE(lines.size(), 2);
        QCOMPARE(lines.at(0),
                 QByteArray(R"({"time":"2026-11-24T10:31:02.120Z","client":"cursor",)"
                            R"("grant":"gAbCdEfGhIjKl","server":"github","tool":"tool_0",)"
                            R"("decision":"allow","outcome":"ok","durationMs":100})"));
        const auto second = nlohmann::json::parse(lines.at(1).toStdString());
        QVERIFY(!second.contains("grant"));
        QVERIFY(!second.contains("durationMs"));
        QVERIFY(second["outcome"] == "refused");
        QVERIFY(second["reason"] == "Policy: github.delete_repo is denied.");

        const auto parsed = AuditLog::parseLine(lines.at(1));
        QVERIFY(parsed);
        QCOMPARE(parsed->time, refused.time);
        QCOMPARE(parsed->client, refused.client);
        QCOMPARE(parsed->grantId, QString());
        QCOMPARE(parsed->durationMs, qint64(-1));
        QCOMPARE(parsed->reason, refused.reason);
    }

    void anEntryWithoutATimeIsStampedNow()
    {
        const QDateTime before = QDateTime::currentDateTimeUtc();
        AuditEntry e = entry(0);
        e.time = {};
        const auto parsed = AuditLog::parseLine(AuditLog::toJsonLine(e));
        QVERIFY(parsed);
        QVERIFY(parsed->time >= before.addMSecs(-1));
        QVERIFY(parsed->time <= QDateTime::currentDateTimeUtc());
    }

    void newlinesInFieldsStayOnOneLine()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        AuditEntry e = entry(0);
        e.client = QStringLiteral("evil\nclient\r\n{\"time\":\"2020-01-01T00:00:00Z\"}");
        e.tool = QStringLiteral("tool\x1b[31mred\u2028sep");
        e.reason = QStringLiteral("because\n\nreasons\t\x01");
        AuditLog(path).append(e);

        const QByteArray contents = readAll(path);
        QCOMPARE(contents.count('\n'), 1);
        QVERIFY(!contents.contains('\r'));
        QVERIFY(!contents.contains('\x1b'));
        const QList<AuditEntry> read = AuditLog::readLast(path, 10);
        QCOMPARE(read.size(), 1);
        QCOMPARE(read.at(0).client, e.client);
        QCOMPARE(read.at(0).tool, e.tool);
        QCOMPARE(read.at(0).reason, e.reason);

        // What a terminal is shown holds no control character either.
        const QString shown = AuditLog::formatLine(read.at(0));
        QVERIFY(!shown.contains(QLatin1Char('\n')));
        QVERIFY(!shown.contains(QChar(0x1b)));
        QVERIFY(!shown.contains(QChar(0x2028)));
        QVERIFY2(shown.contains(QStringLiteral("evil\uFFFDclient")), qPrintable(shown));
    }

    void longFieldsAreCutAt300Characters()
    {
        AuditEntry e = entry(0);
        e.reason = QString(1000, QLatin1Char('r'));
        // The cut falls inside a surrogate pair: the pair goes as a whole.
        e.tool = QString(298, QLatin1Char('t')) + QStringLiteral("\U0001F600 and more");
        const auto parsed = AuditLog::parseLine(AuditLog::toJsonLine(e));
        QVERIFY(parsed);
        QCOMPARE(parsed->reason.size(), AuditLog::kMaxFieldLength);
        QVERIFY(parsed->reason.endsWith(QChar(0x2026)));
        QVERIFY(parsed->tool.size() <= AuditLog::kMaxFieldLength);
        QVERIFY(!parsed->tool.contains(QChar::ReplacementCharacter)); // no half surrogate pair
        QCOMPARE(parsed->tool, QString(298, QLatin1Char('t')) + QChar(0x2026));
        QCOMPARE(parsed->server, e.server); // short fields are untouched
    }

    void rotatesWhenFileWouldPassMaxBytes()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        const qint64 lineSize = AuditLog::toJsonLine(entry(0)).size() + 1;
        AuditLog log(path, AuditLog::Options{lineSize * 5 / 2, 3});

        log.append(entry(0));
        log.append(entry(1));
        QVERIFY(!QFile::exists(path + ".1"));
        log.append(entry(2)); // three lines would pass 2.5 lines' worth
        QCOMPARE(linesOf(path).size(), 1);
        QCOMPARE(linesOf(path + ".1").size(), 2);
        QCOMPARE(AuditLog::parseLine(linesOf(path).at(0))->tool, "tool_2");
        QCOMPARE(AuditLog::parseLine(linesOf(path + ".1").at(0))->tool, "tool_0");
        QVERIFY(QFileInfo(path).size() <= lineSize * 5 / 2);
        QVERIFY(QFileInfo(path + ".1").size() <= lineSize * 5 / 2);
    }

    void aLineLargerThanMaxBytesIsStillWritten()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        AuditLog log(path, AuditLog::Options{10, 3});
        log.append(entry(0));
        log.append(entry(1));
        QCOMPARE(linesOf(path).size(), 1);
        QCOMPARE(linesOf(path + ".1").size(), 1);
    }

    void keepsAtMostKeptFiles()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        const qint64 lineSize = AuditLog::toJsonLine(entry(0)).size() + 1;
        AuditLog log(path, AuditLog::Options{lineSize, 2}); // one entry per file
        for (int i = 0; i < 6; ++i)
            log.append(entry(i));

        const QStringList files = QDir(dir.path()).entryList(QDir::Files, QDir::Name);
        QCOMPARE(files, QStringList({"audit.log", "audit.log.1", "audit.log.2"}));
        QCOMPARE(AuditLog::parseLine(linesOf(path + ".2").at(0))->tool, "tool_3");
        QCOMPARE(AuditLog::parseLine(linesOf(path + ".1").at(0))->tool, "tool_4");
        QCOMPARE(AuditLog::parseLine(linesOf(path).at(0))->tool, "tool_5");

        // No rotated file kept: the log starts again.
        const QString single = dir.filePath(QStringLiteral("single.log"));
        AuditLog alone(single, AuditLog::Options{lineSize, 0});
        alone.append(entry(0));
        alone.append(entry(1));
        QVERIFY(!QFile::exists(single + ".1"));
        QCOMPARE(AuditLog::parseLine(linesOf(single).at(0))->tool, "tool_1");
    }

    void readLastReturnsNewestEntriesInOrder()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        const qint64 lineSize = AuditLog::toJsonLine(entry(0)).size() + 1;
        AuditLog log(path, AuditLog::Options{lineSize * 4, 3});
        for (int i = 0; i < 10; ++i)
            log.append(entry(i)); // .2: 0-3, .1: 4-7, current: 8-9

        QCOMPARE(toolsOf(AuditLog::readLast(path, 1)), QStringList({"tool_9"}));
        QCOMPARE(toolsOf(AuditLog::readLast(path, 2)), QStringList({"tool_8", "tool_9"}));
        // Short of lines: the rotated file fills in, but only the newest one.
        QCOMPARE(toolsOf(AuditLog::readLast(path, 3)), QStringList({"tool_7", "tool_8", "tool_9"}));
        QCOMPARE(AuditLog::readLast(path, 100).size(), 6);
        QCOMPARE(AuditLog::readLast(path, 0).size(), 0);
        QCOMPARE(AuditLog::readLast(dir.filePath(QStringLiteral("missing.log")), 5).size(), 0);
        QCOMPARE(AuditLog::readLastLines(path, 2),
                 QList<QByteArray>(
                         {AuditLog::toJsonLine(entry(8)), AuditLog::toJsonLine(entry(9))}));

        // Lines that are not entries are skipped; an unfinished last line is no line yet.
        QFile file(path);
        QVERIFY(file.open(QIODevice::Append));
        file.write("not json\n{\"time\": 12}\n\n{\"client\":\"no time\"}\n");
        file.write(AuditLog::toJsonLine(entry(10)) + "\n");
        file.write(AuditLog::toJsonLine(entry(11)).left(20));
        file.close();
        QCOMPARE(toolsOf(AuditLog::readLast(path, 2)), QStringList({"tool_9", "tool_10"}));
    }

    void readLastLinesCrossesReadBlocksAndSkipsHugeLines()
    {
        QByteArray contents = QByteArray(3 * 1024 * 1024, 'x') + '\n'; // not an entry
        for (int i = 0; i < 3000; ++i)
            contents += AuditLog::toJsonLine(entry(i)) + '\n';
        contents += QByteArray(2 * 1024 * 1024, 'y'); // an unfinished, huge last line
        QBuffer buffer(&contents);
        QVERIFY(buffer.open(QIODevice::ReadOnly));

        const QList<QByteArray> last = AuditLog::readLastLines(buffer, contents.size(), 2500);
        QCOMPARE(last.size(), 2500);
        QCOMPARE(last.first(), AuditLog::toJsonLine(entry(500)));
        QCOMPARE(last.last(), AuditLog::toJsonLine(entry(2999)));
        QCOMPARE(AuditLog::readLastLines(buffer, contents.size(), 5000).size(), 3000);
        // Only the first `end` bytes count.
        const qint64 firstLineEnd = contents.indexOf('\n') + 1;
        const qint64 twoEntries = firstLineEnd + 2 * (AuditLog::toJsonLine(entry(0)).size() + 1);
        QCOMPARE(AuditLog::readLastLines(buffer, twoEntries + 5, 10),
                 QList<QByteArray>(
                         {AuditLog::toJsonLine(entry(0)), AuditLog::toJsonLine(entry(1))}));
    }

    void fileIsPrivateToUser()
    {
        QTemporaryDir root;
        const QString dir = root.filePath(QStringLiteral("state/mcp-broker"));
        const QString path = dir + QStringLiteral("/audit.log");
        AuditLog(path).append(entry(0));
        QCOMPARE(modeOf(path), mode_t(0600));
        QCOMPARE(modeOf(dir), mode_t(0700));
        QCOMPARE(modeOf(root.filePath(QStringLiteral("state"))), mode_t(0700));

        // An older file that someone made readable to others is made private again.
        QVERIFY(QFile::setPermissions(
                path, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther));
        AuditLog(path).append(entry(1));
        QCOMPARE(modeOf(path), mode_t(0600));

        // Rotation keeps the rotated file as it was, and the new one private.
        const qint64 lineSize = AuditLog::toJsonLine(entry(0)).size() + 1;
        AuditLog(path, AuditLog::Options{lineSize, 3}).append(entry(2));
        QCOMPARE(modeOf(path), mode_t(0600));
        QCOMPARE(modeOf(path + ".1"), mode_t(0600));
    }

    void unwritableDirectoryDoesNotThrow()
    {
        // A regular file where the folder should be: fails for root too.
        QTemporaryDir root;
        const QString blocker = root.filePath(QStringLiteral("state"));
        QFile file(blocker);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        const QString path = blocker + QStringLiteral("/mcp-broker/audit.log");

        LogWatch logWatch(LogWatch::Forward::Nowhere);
        logWatch.install();
        AuditLog log(path);
        AuditEntry e = entry(0);
        e.reason = QStringLiteral("fine");
        log.append(e);
        log.append(e);
        log.append(e);
        logWatch.uninstall();

        QVERIFY(!QFile::exists(path));
        const QStringList lines = logWatch.lines();
        QCOMPARE(lines.size(), 1); // once, not once per call
        QVERIFY2(lines.at(0).contains(QStringLiteral("Could not write the audit log")),
                 qPrintable(lines.at(0)));

        // A FIFO in the log's place is no file either, and must not block the caller.
        const QString fifo = root.filePath(QStringLiteral("fifo.log"));
        QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression("Could not write the audit log"));
        AuditLog(fifo).append(e);
        QCOMPARE(AuditLog::readLast(fifo, 5).size(), 0);
    }

    void writesResumeAfterAFailureAndSayItOnce()
    {
        QTemporaryDir root;
        const QString blocker = root.filePath(QStringLiteral("state"));
        QFile file(blocker);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        AuditLog log(blocker + QStringLiteral("/audit.log"));

        QTest::ignoreMessage(QtWarningMsg, QRegularExpression("Could not write the audit log"));
        log.append(entry(0));
        QVERIFY(QFile::remove(blocker));
        QTest::ignoreMessage(QtInfoMsg, QRegularExpression("is written again"));
        log.append(entry(1));
        QCOMPARE(toolsOf(AuditLog::readLast(log.path(), 5)), QStringList({"tool_1"}));
    }

    void formatLineIsOneLineOfColumns()
    {
        AuditEntry e = entry(0);
        e.tool = QStringLiteral("create_issue");
        e.durationMs = 120;
        const QString time = e.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        QCOMPARE(AuditLog::formatLine(e),
                 time + "  cursor  github  create_issue  allow  ok  120 ms");

        e.reason = QStringLiteral("You declined.");
        e.decision = QStringLiteral("declined");
        e.outcome = QStringLiteral("refused");
        e.durationMs = -1;
        e.client.clear();
        QCOMPARE(AuditLog::formatLine(e),
                 time
                         + QStringLiteral("  -  github  create_issue  declined  refused  -"
                                          " \u2014 You declined."));
    }

    void defaultPathFollowsXdgStateHome()
    {
        const QByteArray saved = qgetenv("XDG_STATE_HOME");
        qputenv("XDG_STATE_HOME", "/tmp/state-home");
        QCOMPARE(AuditLog::defaultPath(), "/tmp/state-home/mcp-broker/audit.log");
        qputenv("XDG_STATE_HOME", "relative/is/ignored");
        QCOMPARE(AuditLog::defaultPath(), QDir::homePath() + "/.local/state/mcp-broker/audit.log");
        qunsetenv("XDG_STATE_HOME");
        QCOMPARE(AuditLog::defaultPath(), QDir::homePath() + "/.local/state/mcp-broker/audit.log");
        if (!saved.isNull())
            qputenv("XDG_STATE_HOME", saved);
    }
};

QTEST_GUILESS_MAIN(TestAuditLog)
#include "tst_auditlog.moc"
