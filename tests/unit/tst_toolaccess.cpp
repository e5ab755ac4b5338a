// ToolAccess::argumentsSummary: what the approval dialog shows of a call's arguments.

#include "gateway/ToolAccess.h"

#include <QTest>

using namespace mcpbroker::gateway;
using nlohmann::json;

class TestToolAccess : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void summaryNamesEachArgumentWithItsJsonValue()
    {
        const json arguments = {{"path", "/tmp/a b"},
                                {"force", true},
                                {"depth", 3},
                                {"tags", json::array({"x", "y"})}};
        QCOMPARE(ToolAccess::argumentsSummary(arguments),
                 QStringLiteral("depth: 3, force: true, path: \"/tmp/a b\", tags: [\"x\",\"y\"]"));
    }

    void noArgumentsGiveAnEmptySummary()
    {
        QCOMPARE(ToolAccess::argumentsSummary(json()), QString());
        QCOMPARE(ToolAccess::argumentsSummary(json::object()), QString());
    }

    void longValuesAndLongSummariesAreCut()
    {
        const QString summary = ToolAccess::argumentsSummary(
                {{"text", std::string(500, 'a')}, {"more", std::string(500, 'b')}});
        QVERIFY(summary.size() <= ToolAccess::kMaxSummaryLength);
        QVERIFY(summary.contains(QChar(0x2026)));
        QVERIFY(summary.startsWith(QStringLiteral("more: \"bbb")));
        QVERIFY(summary.contains(QStringLiteral("text: \"aaa")));

        json wide = json::object();
        for (int i = 0; i < 50; ++i)
            wide["argument" + std::to_string(i)] = i;
        const QString cut = ToolAccess::argumentsSummary(wide);
        QCOMPARE(cut.size(), ToolAccess::kMaxSummaryLength);
        QVERIFY(cut.endsWith(QChar(0x2026)));
    }

    void invalidUtf8IsReplacedNotThrown()
    {
        const json arguments = {{"bytes", std::string("ok\xff\xfe")}};
        QVERIFY(ToolAccess::argumentsSummary(arguments).startsWith(QStringLiteral("bytes: \"ok")));
    }
};

QTEST_GUILESS_MAIN(TestToolAccess)
#include "tst_toolaccess.moc"
