#include "store/SecretChunker.h"

#include <QRandomGenerator>
#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::store;

class TestSecretChunker : public QObject
{
    Q_OBJECT

private:
    static QByteArray randomBytes(qsizetype size)
    {
        QByteArray bytes(size, Qt::Uninitialized);
        for (char &byte : bytes)
            byte = static_cast<char>(QRandomGenerator::global()->bounded(256));
        return bytes;
    }

private slots:
    void roundTripsValuesOfEverySize_data()
    {
        QTest::addColumn<qsizetype>("size");
        for (qsizetype size :
             {qsizetype(0), qsizetype(1), qsizetype(100), qsizetype(2000), qsizetype(2024),
              qsizetype(2048), qsizetype(2049), qsizetype(4096), qsizetype(10'000),
              qsizetype(100'000), SecretChunker::maxValueSize()})
            QTest::addRow("%lld bytes", static_cast<long long>(size)) << size;
    }

    void roundTripsValuesOfEverySize()
    {
        QFETCH(qsizetype, size);
        const QByteArray value = randomBytes(size);
        const auto chunks = SecretChunker::split(value);
        QVERIFY(chunks.ok());
        QVERIFY(!chunks.value().isEmpty());
        QVERIFY(chunks.value().size() <= SecretChunker::kMaxChunks);
        for (const QByteArray &chunk : chunks.value())
            QVERIFY(chunk.size() <= SecretChunker::kChunkSize);
        const auto count = SecretChunker::chunkCount(chunks.value().first());
        QVERIFY(count.ok());
        QCOMPARE(count.value(), chunks.value().size());
        const auto joined = SecretChunker::join(chunks.value());
        QVERIFY(joined.ok());
        QCOMPARE(joined.value(), value);
    }

    void smallValueIsOneChunk()
    {
        const auto chunks = SecretChunker::split(QByteArray("token"));
        QVERIFY(chunks.ok());
        QCOMPARE(chunks.value().size(), 1);
    }

    void valueWithNulBytesAndNewlinesSurvives()
    {
        const QByteArray value = QByteArray("a\0b\nc\0", 6).repeated(1000);
        const auto chunks = SecretChunker::split(value);
        QVERIFY(chunks.ok());
        QVERIFY(chunks.value().size() > 1);
        QCOMPARE(SecretChunker::join(chunks.value()).value(), value);
    }

    void usesTheFewestChunks()
    {
        // 64 full chunks minus the header is the capacity; one byte more does not fit.
        const auto max = SecretChunker::split(randomBytes(SecretChunker::maxValueSize()));
        QVERIFY(max.ok());
        QCOMPARE(max.value().size(), SecretChunker::kMaxChunks);
        QCOMPARE(max.value().last().size(), SecretChunker::kChunkSize);
        const auto three = SecretChunker::split(randomBytes(2 * SecretChunker::kChunkSize));
        QVERIFY(three.ok());
        QCOMPARE(three.value().size(), 2 + 1);
    }

    void refusesValuesLargerThanTheBound()
    {
        const auto chunks = SecretChunker::split(randomBytes(SecretChunker::maxValueSize() + 1));
        QVERIFY(!chunks.ok());
        QCOMPARE(chunks.error().kind, Error::Kind::InvalidInput);
        QVERIFY(chunks.error().message.contains(QLatin1String("too large")));
    }

    void chunkKeysAreKeyThenNumberedSuffixes()
    {
        QCOMPARE(SecretChunker::chunkKey(QStringLiteral("server/github/bearer"), 0),
                 QStringLiteral("server/github/bearer"));
        QCOMPARE(SecretChunker::chunkKey(QStringLiteral("server/github/bearer"), 1),
                 QStringLiteral("server/github/bearer.1"));
        QCOMPARE(SecretChunker::chunkKey(QStringLiteral("k"), 63), QStringLiteral("k.63"));
    }

    void rejectsAnEntryWithoutHeader()
    {
        const auto count = SecretChunker::chunkCount(QByteArray("plain-token-from-elsewhere"));
        QVERIFY(!count.ok());
        QCOMPARE(count.error().kind, Error::Kind::InvalidInput);
        QVERIFY(!SecretChunker::join({QByteArray("plain-token-from-elsewhere")}).ok());
        QVERIFY(!SecretChunker::join({}).ok());
    }

    void rejectsMalformedHeaders_data()
    {
        QTest::addColumn<QByteArray>("first");
        QTest::newRow("no newline") << QByteArray("mcpb-chunks:1:1:5abcde");
        QTest::newRow("zero chunks") << QByteArray("mcpb-chunks:1:0:0\n");
        QTest::newRow("too many chunks") << QByteArray("mcpb-chunks:1:65:5\nabcde");
        QTest::newRow("negative length") << QByteArray("mcpb-chunks:1:1:-5\nabcde");
        QTest::newRow("leading zero") << QByteArray("mcpb-chunks:1:01:5\nabcde");
        QTest::newRow("not a number") << QByteArray("mcpb-chunks:1:x:5\nabcde");
        QTest::newRow("missing length") << QByteArray("mcpb-chunks:1:1\nabcde");
        QTest::newRow("huge length") << QByteArray("mcpb-chunks:1:1:999999\nabcde");
        QTest::newRow("other version") << QByteArray("mcpb-chunks:2:1:5\nabcde");
        QTest::newRow("oversized chunk")
                << QByteArray("mcpb-chunks:1:1:3000\n") + QByteArray(3000, 'x');
    }

    void rejectsMalformedHeaders()
    {
        QFETCH(QByteArray, first);
        QVERIFY(!SecretChunker::chunkCount(first).ok());
        QVERIFY(!SecretChunker::join({first}).ok());
    }

    void rejectsChunksThatDoNotFitTogether()
    {
        const QByteArray value = randomBytes(5000);
        const auto chunks = SecretChunker::split(value).value();
        QCOMPARE(chunks.size(), 3);

        auto missingOne = chunks;
        missingOne.removeLast();
        QVERIFY(!SecretChunker::join(missingOne).ok());

        auto extraOne = chunks;
        extraOne.append(QByteArray("more"));
        QVERIFY(!SecretChunker::join(extraOne).ok());

        auto truncated = chunks;
        truncated.last().chop(1);
        const auto joined = SecretChunker::join(truncated);
        QVERIFY(!joined.ok());
        QVERIFY(joined.error().message.contains(QLatin1String("damaged")));

        auto oversized = chunks;
        oversized[1].append('x');
        QVERIFY(!SecretChunker::join(oversized).ok());

        auto empty = chunks;
        empty[1].clear();
        QVERIFY(!SecretChunker::join(empty).ok());
    }

    void errorsNeverContainTheValue()
    {
        const QByteArray secret = "super-secret-value-1234567890";
        const auto joined = SecretChunker::join({QByteArray("mcpb-chunks:1:1:5\n") + secret});
        QVERIFY(!joined.ok());
        QVERIFY(!joined.error().message.contains(QString::fromLatin1(secret)));
    }
};

QTEST_GUILESS_MAIN(TestSecretChunker)
#include "tst_secretchunker.moc"
