// InstanceRecord: how `status` finds the port of a running `serve` for the same config file.

#include "InstanceRecord.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace mcpbroker::app;

class TestInstanceRecord : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        // with-keyring.sh gives every test a throwaway XDG_RUNTIME_DIR.
        QVERIFY(qEnvironmentVariableIsSet("XDG_RUNTIME_DIR"));
        QVERIFY(m_dir.isValid());
    }

    void writtenPortIsFoundForTheSameConfigFile()
    {
        const QString config = m_dir.filePath("a/config.json");
        QVERIFY(InstanceRecord::write(config, 45123).ok());
        QCOMPARE(InstanceRecord::port(config), std::optional<quint16>(45123));
        InstanceRecord::remove(config);
        QCOMPARE(InstanceRecord::port(config), std::nullopt);
    }

    void relativeAndAbsoluteSpellingsOfOneFileShareARecord()
    {
        const QString absolute = m_dir.filePath("b/config.json");
        QVERIFY(QDir().mkpath(m_dir.filePath("b")));
        const QString previous = QDir::currentPath();
        QVERIFY(QDir::setCurrent(m_dir.path()));
        QVERIFY(InstanceRecord::write(QStringLiteral("b/../b/config.json"), 41000).ok());
        QDir::setCurrent(previous);
        QCOMPARE(InstanceRecord::port(absolute), std::optional<quint16>(41000));
        InstanceRecord::remove(absolute);
    }

    void otherConfigFilesDoNotSeeTheRecord()
    {
        const QString mine = m_dir.filePath("c/config.json");
        QVERIFY(InstanceRecord::write(mine, 40001).ok());
        QCOMPARE(InstanceRecord::port(m_dir.filePath("d/config.json")), std::nullopt);
        InstanceRecord::remove(mine);
    }

    void recordOfADeadProcessOrGarbageIsIgnored()
    {
        const QString config = m_dir.filePath("e/config.json");
        QVERIFY(InstanceRecord::write(config, 40002).ok());
        const QString folder = QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation)
                + QStringLiteral("/mcp-broker");
        const QStringList records = QDir(folder).entryList({QStringLiteral("instance-*.json")});
        QCOMPARE(records.size(), 1);
        const QString path = folder + QLatin1Char('/') + records.first();

        // No process has pid 2^22 + 1 (above Linux's pid_max limit).
        writeFile(path, R"({"port": 40002, "pid": 4194305})");
        QCOMPARE(InstanceRecord::port(config), std::nullopt);
        writeFile(path, "not json");
        QCOMPARE(InstanceRecord::port(config), std::nullopt);
        writeFile(path, R"({"port": 0, "pid": 1})");
        QCOMPARE(InstanceRecord::port(config), std::nullopt);
        InstanceRecord::remove(config);
    }

private:
    static void writeFile(const QString &path, const QByteArray &contents)
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(contents);
    }

    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestInstanceRecord)
#include "tst_instancerecord.moc"
