#include "store/AtomicFile.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mcpbroker;
using namespace mcpbroker::store;

class TestAtomicFile : public QObject
{
    Q_OBJECT

private:
    static QByteArray readAll(const QString &path)
    {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            return "<unreadable>";
        return file.readAll();
    }

    static mode_t modeOf(const QString &path)
    {
        struct stat info
        { };
        if (::stat(QFile::encodeName(path).constData(), &info) != 0)
            return 0;
        return info.st_mode & 07777;
    }

    // Everything in `dir` except `keep`: temp files that a write left behind.
    static QStringList strayFiles(const QString &dir, const QStringList &keep)
    {
        QStringList stray;
        const auto entries = QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System
                                                 | QDir::NoDotAndDotDot);
        for (const QString &entry : entries) {
            if (!keep.contains(entry))
                stray.append(entry);
        }
        return stray;
    }

private slots:
    void initTestCase()
    {
        // Assert the modes we ask for, not the ones a restrictive umask would give anyway.
        ::umask(022);
    }

    void writeCreatesFileWithOwnerOnlyModeAndParentFoldersWithMode0700()
    {
        QTemporaryDir root;
        QVERIFY(root.isValid());
        const QString dir = root.filePath(QStringLiteral("a/b"));
        const QString path = dir + QStringLiteral("/config.json");

        const auto written = AtomicFile::write(path, "{\"port\": 1}\n");
        QVERIFY2(written.ok(), qPrintable(written ? QString() : written.error().message));
        QCOMPARE(readAll(path), QByteArray("{\"port\": 1}\n"));
        QCOMPARE(modeOf(path), mode_t(0600));
        QCOMPARE(modeOf(dir), mode_t(0700));
        QCOMPARE(modeOf(root.filePath(QStringLiteral("a"))), mode_t(0700));
        QCOMPARE(strayFiles(dir, {QStringLiteral("config.json")}), QStringList());
    }

    void writeIntoAnExistingFolderLeavesItsModeAlone()
    {
        QTemporaryDir root;
        QVERIFY(QFile::setPermissions(root.path(),
                                      QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                              | QFile::ReadGroup | QFile::ExeGroup));
        QVERIFY(AtomicFile::write(root.filePath(QStringLiteral("f")), "x").ok());
        QCOMPARE(modeOf(root.path()), mode_t(0750));
    }

    void overwriteReplacesContentsAndKeepsTheFilesMode()
    {
        QTemporaryDir root;
        const QString path = root.filePath(QStringLiteral("settings.json"));
        QVERIFY(AtomicFile::write(path, QByteArray(10'000, 'a')).ok());
        QVERIFY(::chmod(QFile::encodeName(path).constData(), 0644) == 0);

        QVERIFY(AtomicFile::write(path, "short").ok());
        QCOMPARE(readAll(path), QByteArray("short"));
        QCOMPARE(modeOf(path), mode_t(0644)); // another program's file keeps its permissions
        QVERIFY(AtomicFile::write(path, QByteArray()).ok());
        QCOMPARE(readAll(path), QByteArray());
        QCOMPARE(strayFiles(root.path(), {QStringLiteral("settings.json")}), QStringList());
    }

    void writeThroughASymlinkUpdatesItsTarget()
    {
        QTemporaryDir root;
        const QString target = root.filePath(QStringLiteral("real.json"));
        const QString link = root.filePath(QStringLiteral("link.json"));
        QVERIFY(AtomicFile::write(target, "old").ok());
        QVERIFY(QFile::link(target, link));

        QVERIFY(AtomicFile::write(link, "new").ok());
        QVERIFY(QFileInfo(link).isSymLink());
        QCOMPARE(readAll(target), QByteArray("new"));
    }

    void failingWriteLeavesTheOriginalAndNoTempFile()
    {
        // A real write failure in the middle of the temp file: the file size limit makes write()
        // fail with EFBIG after the temp file was created (works even as root).
        QTemporaryDir root;
        const QString path = root.filePath(QStringLiteral("config.json"));
        const QByteArray original = "{\"original\": true}\n";
        QVERIFY(AtomicFile::write(path, original).ok());

        const auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit previous{};
        QCOMPARE(::getrlimit(RLIMIT_FSIZE, &previous), 0);
        rlimit small = previous;
        small.rlim_cur = 4096;
        QCOMPARE(::setrlimit(RLIMIT_FSIZE, &small), 0);
        auto restore = qScopeGuard([&] {
            ::setrlimit(RLIMIT_FSIZE, &previous);
            std::signal(SIGXFSZ, previousHandler);
        });

        const auto written = AtomicFile::write(path, QByteArray(64 * 1024, 'z'));
        restore.dismiss();
        ::setrlimit(RLIMIT_FSIZE, &previous);
        std::signal(SIGXFSZ, previousHandler);

        QVERIFY(!written.ok());
        QCOMPARE(written.error().kind, Error::Kind::Io);
        QVERIFY2(written.error().message.contains(path), qPrintable(written.error().message));
        QVERIFY(written.error().message.contains(QLatin1String("not changed")));
        QCOMPARE(readAll(path), original);
        QCOMPARE(strayFiles(root.path(), {QStringLiteral("config.json")}), QStringList());
    }

    void writeOverAFolderFailsAndLeavesItAlone()
    {
        QTemporaryDir root;
        const QString path = root.filePath(QStringLiteral("config.json"));
        QVERIFY(QDir().mkpath(path));
        QVERIFY(AtomicFile::write(path + QStringLiteral("/inside"), "keep").ok());

        const auto written = AtomicFile::write(path, "new contents");
        QVERIFY(!written.ok());
        QCOMPARE(written.error().kind, Error::Kind::Io);
        QVERIFY(written.error().message.contains(path));
        QVERIFY(QFileInfo(path).isDir());
        QCOMPARE(readAll(path + QStringLiteral("/inside")), QByteArray("keep"));
        QCOMPARE(strayFiles(root.path(), {QStringLiteral("config.json")}), QStringList());
    }

    void writeBelowAFileFails()
    {
        QTemporaryDir root;
        const QString file = root.filePath(QStringLiteral("plain"));
        QVERIFY(AtomicFile::write(file, "plain").ok());
        const auto written = AtomicFile::write(file + QStringLiteral("/sub/config.json"), "x");
        QVERIFY(!written.ok());
        QCOMPARE(written.error().kind, Error::Kind::Io);
        QCOMPARE(readAll(file), QByteArray("plain"));
    }

    void writeIntoAReadOnlyFolderFailsAndLeavesTheOriginal()
    {
        if (::geteuid() == 0)
            QSKIP("root ignores folder permissions; covered by the EFBIG and folder tests");
        QTemporaryDir root;
        const QString path = root.filePath(QStringLiteral("config.json"));
        QVERIFY(AtomicFile::write(path, "original").ok());
        QVERIFY(::chmod(QFile::encodeName(root.path()).constData(), 0500) == 0);
        auto restore
                = qScopeGuard([&] { ::chmod(QFile::encodeName(root.path()).constData(), 0700); });

        const auto written = AtomicFile::write(path, "new");
        QVERIFY(!written.ok());
        QCOMPARE(written.error().kind, Error::Kind::Io);
        QCOMPARE(readAll(path), QByteArray("original"));
        QCOMPARE(strayFiles(root.path(), {QStringLiteral("config.json")}), QStringList());
    }

    void backupCopiesToATimestampedName()
    {
        QTemporaryDir root;
        const QString path = root.filePath(QStringLiteral("client.json"));
        const QByteArray contents = "{\"mcpServers\": {}}\n";
        QVERIFY(AtomicFile::write(path, contents).ok());
        QVERIFY(::chmod(QFile::encodeName(path).constData(), 0644) == 0);

        const QDateTime before = QDateTime::currentDateTime();
        const auto backup = AtomicFile::backup(path);
        const QDateTime after = QDateTime::currentDateTime();
        QVERIFY(backup.ok());

        static const QRegularExpression name(QStringLiteral("\\.bak-(\\d{8}-\\d{6})$"));
        const auto match = name.match(backup.value());
        QVERIFY2(match.hasMatch(), qPrintable(backup.value()));
        QVERIFY(backup.value().startsWith(path + QStringLiteral(".bak-")));
        const QDateTime stamp
                = QDateTime::fromString(match.captured(1), QStringLiteral("yyyyMMdd-HHmmss"));
        QVERIFY(stamp.isValid());
        QVERIFY(stamp >= before.addMSecs(-before.time().msec()));
        QVERIFY(stamp <= after);

        QCOMPARE(readAll(backup.value()), contents);
        QCOMPARE(readAll(path), contents);
        QCOMPARE(modeOf(backup.value()), mode_t(0600)); // backups may hold tokens of other apps
    }

    void backupAddsACounterWhenTheNameIsTaken()
    {
        QTemporaryDir root;
        const QString path = root.filePath(QStringLiteral("client.json"));
        QVERIFY(AtomicFile::write(path, "one").ok());

        // Take the names of this second and the next, so the counter is needed whichever
        // second backup() runs in.
        const QDateTime now = QDateTime::currentDateTime();
        QStringList taken;
        for (const QDateTime &at : {now, now.addSecs(1)}) {
            const QString name = path + QStringLiteral(".bak-")
                    + at.toString(QStringLiteral("yyyyMMdd-HHmmss"));
            QVERIFY(AtomicFile::write(name, "older backup").ok());
            QVERIFY(AtomicFile::write(name + QStringLiteral("-1"), "older backup 1").ok());
            taken << name;
        }

        const auto backup = AtomicFile::backup(path);
        QVERIFY(backup.ok());
        if (backup.value().endsWith(QStringLiteral("-2"))) {
            QCOMPARE(readAll(backup.value()), QByteArray("one"));
        } else {
            // The clock moved two seconds on: then the plain name was free.
            QVERIFY(QRegularExpression(QStringLiteral("\\.bak-\\d{8}-\\d{6}$"))
                            .match(backup.value())
                            .hasMatch());
        }
        QCOMPARE(readAll(backup.value()), QByteArray("one"));
        const auto again = AtomicFile::backup(path);
        QVERIFY(again.ok());
        QVERIFY(again.value() != backup.value());
        QCOMPARE(readAll(again.value()), QByteArray("one"));
        for (const QString &name : taken) { // older backups are never overwritten
            QCOMPARE(readAll(name), QByteArray("older backup"));
            QCOMPARE(readAll(name + QStringLiteral("-1")), QByteArray("older backup 1"));
        }
    }

    void corruptCopyKeepsTheBytesOnceAndLeavesTheFile()
    {
        QTemporaryDir root;
        const QString path = root.filePath(QStringLiteral("config.json"));
        const QByteArray corrupt = "{\"servers\": [\n  half";
        QVERIFY(AtomicFile::write(path, corrupt).ok());

        const auto copy = AtomicFile::keepCorruptCopy(path);
        QVERIFY2(copy.ok(), qPrintable(copy.ok() ? QString() : copy.error().message));
        QVERIFY2(QRegularExpression(QStringLiteral("/config\\.json\\.corrupt-\\d{8}-\\d{6}$"))
                         .match(copy.value())
                         .hasMatch(),
                 qPrintable(copy.value()));
        QCOMPARE(readAll(copy.value()), corrupt);
        QCOMPARE(readAll(path), corrupt);

        // The same bytes again (the next start): no second copy.
        const auto again = AtomicFile::keepCorruptCopy(path);
        QVERIFY(again.ok());
        QCOMPARE(again.value(), copy.value());
        // Other bytes: a copy of their own, the first one untouched.
        QVERIFY(AtomicFile::write(path, "{ still broken").ok());
        const auto other = AtomicFile::keepCorruptCopy(path);
        QVERIFY(other.ok());
        QVERIFY(other.value() != copy.value());
        QCOMPARE(readAll(other.value()), QByteArray("{ still broken"));
        QCOMPARE(readAll(copy.value()), corrupt);
    }

    void backupOfAMissingFileIsANoOp()
    {
        QTemporaryDir root;
        const auto backup = AtomicFile::backup(root.filePath(QStringLiteral("missing.json")));
        QVERIFY(backup.ok());
        QCOMPARE(backup.value(), QString());
        QCOMPARE(strayFiles(root.path(), {}), QStringList());
    }
};

QTEST_GUILESS_MAIN(TestAtomicFile)
#include "tst_atomicfile.moc"
