// JSON-RPC 2.0 as MCP uses it: which messages are requests, notifications, responses or
// invalid (mcp/JsonRpc.h), the builders, and parse() of bytes that are not JSON.

#include "mcp/JsonRpc.h"

#include "JsonCompare.h"

#include <QTest>

using namespace mcpbroker::mcp::jsonrpc;

Q_DECLARE_METATYPE(MessageKind)

namespace {

const char *kindName(MessageKind kind)
{
    switch (kind) {
    case MessageKind::Request:
        return "Request";
    case MessageKind::Notification:
        return "Notification";
    case MessageKind::Response:
        return "Response";
    case MessageKind::Invalid:
        return "Invalid";
    }
    return "?";
}

json fromText(const char *text)
{
    return json::parse(text);
}

} // namespace

class TestJsonRpc : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void classifyTellsMessageKinds_data();
    void classifyTellsMessageKinds();

    void makeRequestBuildsAValidRequestAndOmitsNullParams();
    void makeNotificationBuildsANotificationWithoutId();
    void makeResultBuildsAResponseWithTheSameId();
    void makeErrorBuildsAnErrorResponseWithDataOnlyWhenGiven();
    void makeErrorWithNullIdIsAValidResponse();

    void parseReadsJsonValues();
    void parseRejectsBytesThatAreNotJson_data();
    void parseRejectsBytesThatAreNotJson();
    void serializeRoundTripsThroughParseAndReplacesInvalidUtf8();
    void parseTakesNestingUpToTheLimit();
    void parseRefusesNestingDeeperThanTheLimit_data();
    void parseRefusesNestingDeeperThanTheLimit();

    void methodAndParamsReadTheMessageOrDefault();
    void methodAndParamsOfAValueThatIsNotAnObjectAreEmpty();
    void toQStringReturnsTextOnlyForStrings();
};

void TestJsonRpc::classifyTellsMessageKinds_data()
{
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<MessageKind>("expected");

    auto row = [](const char *name, const char *message, MessageKind kind) {
        QTest::newRow(name) << QByteArray(message) << kind;
    };

    // Requests: a string or integer id and a method.
    row("request with integer id", R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})",
        MessageKind::Request);
    row("request with zero id", R"({"jsonrpc":"2.0","id":0,"method":"ping"})",
        MessageKind::Request);
    row("request with negative id", R"({"jsonrpc":"2.0","id":-7,"method":"ping"})",
        MessageKind::Request);
    row("request with string id", R"({"jsonrpc":"2.0","id":"abc","method":"tools/call"})",
        MessageKind::Request);
    row("request with empty string id", R"({"jsonrpc":"2.0","id":"","method":"ping"})",
        MessageKind::Request);
    row("request with object params",
        R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"x"}})",
        MessageKind::Request);
    row("request with empty object params",
        R"({"jsonrpc":"2.0","id":2,"method":"ping","params":{}})", MessageKind::Request);
    // MCP forbids null ids on requests.
    row("request with null id", R"({"jsonrpc":"2.0","id":null,"method":"ping"})",
        MessageKind::Invalid);
    row("request with fractional id", R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})",
        MessageKind::Invalid);
    row("request with boolean id", R"({"jsonrpc":"2.0","id":true,"method":"ping"})",
        MessageKind::Invalid);
    row("request with object id", R"({"jsonrpc":"2.0","id":{},"method":"ping"})",
        MessageKind::Invalid);
    row("request with array id", R"({"jsonrpc":"2.0","id":[1],"method":"ping"})",
        MessageKind::Invalid);
    row("request with array params", R"({"jsonrpc":"2.0","id":1,"method":"x","params":[1,2]})",
        MessageKind::Invalid);
    row("request with string params", R"({"jsonrpc":"2.0","id":1,"method":"x","params":"p"})",
        MessageKind::Invalid);
    row("request with null params", R"({"jsonrpc":"2.0","id":1,"method":"x","params":null})",
        MessageKind::Invalid);
    row("request with numeric method", R"({"jsonrpc":"2.0","id":1,"method":5})",
        MessageKind::Invalid);
    row("request with null method", R"({"jsonrpc":"2.0","id":1,"method":null})",
        MessageKind::Invalid);

    // Notifications: a method and no id.
    row("notification", R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
        MessageKind::Notification);
    row("notification with params",
        R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})",
        MessageKind::Notification);
    row("notification with array params",
        R"({"jsonrpc":"2.0","method":"notifications/progress","params":[1]})",
        MessageKind::Invalid);
    row("notification with numeric params", R"({"jsonrpc":"2.0","method":"n","params":3})",
        MessageKind::Invalid);

    // Responses: an id and exactly one of result and error.
    row("response with result", R"({"jsonrpc":"2.0","id":1,"result":{}})", MessageKind::Response);
    row("response with string id", R"({"jsonrpc":"2.0","id":"a","result":{"x":1}})",
        MessageKind::Response);
    row("response with null result", R"({"jsonrpc":"2.0","id":1,"result":null})",
        MessageKind::Response);
    row("response with error", R"({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}})",
        MessageKind::Response);
    // JSON-RPC answers a request it could not read (parse error) with a null id.
    row("error response with null id",
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}})",
        MessageKind::Response);
    row("response with both result and error",
        R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}})",
        MessageKind::Invalid);
    row("response with neither result nor error", R"({"jsonrpc":"2.0","id":1})",
        MessageKind::Invalid);
    row("response without id", R"({"jsonrpc":"2.0","result":{}})", MessageKind::Invalid);
    row("response with boolean id", R"({"jsonrpc":"2.0","id":false,"result":{}})",
        MessageKind::Invalid);
    row("response with fractional id", R"({"jsonrpc":"2.0","id":2.5,"result":{}})",
        MessageKind::Invalid);
    row("response whose error is a string", R"({"jsonrpc":"2.0","id":1,"error":"boom"})",
        MessageKind::Invalid);
    row("response whose error is null", R"({"jsonrpc":"2.0","id":1,"error":null})",
        MessageKind::Invalid);

    // The jsonrpc member.
    row("missing jsonrpc", R"({"id":1,"method":"ping"})", MessageKind::Invalid);
    row("jsonrpc 1.0", R"({"jsonrpc":"1.0","id":1,"method":"ping"})", MessageKind::Invalid);
    row("jsonrpc as number", R"({"jsonrpc":2.0,"id":1,"method":"ping"})", MessageKind::Invalid);
    row("jsonrpc 2.0 with spaces", R"({"jsonrpc":" 2.0","id":1,"method":"ping"})",
        MessageKind::Invalid);
    row("jsonrpc null", R"({"jsonrpc":null,"method":"ping"})", MessageKind::Invalid);

    // Not objects at all.
    row("array", R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])", MessageKind::Invalid);
    row("empty array", "[]", MessageKind::Invalid);
    row("string", R"("jsonrpc")", MessageKind::Invalid);
    row("number", "42", MessageKind::Invalid);
    row("null", "null", MessageKind::Invalid);
    row("empty object", "{}", MessageKind::Invalid);
    row("only jsonrpc", R"({"jsonrpc":"2.0"})", MessageKind::Invalid);
}

void TestJsonRpc::classifyTellsMessageKinds()
{
    QFETCH(QByteArray, message);
    QFETCH(MessageKind, expected);

    const MessageKind actual = classify(json::parse(message.toStdString()));
    QVERIFY2(actual == expected,
             qPrintable(QStringLiteral("%1: got %2, expected %3")
                                .arg(QString::fromUtf8(message), QLatin1String(kindName(actual)),
                                     QLatin1String(kindName(expected)))));
}

void TestJsonRpc::makeRequestBuildsAValidRequestAndOmitsNullParams()
{
    const json withParams = makeRequest(7, QStringLiteral("tools/call"), {{"name", "echo"}});
    COMPARE_JSON(
            withParams,
            fromText(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo"}})"));
    QVERIFY(classify(withParams) == MessageKind::Request);

    const json withoutParams = makeRequest("r-1", QStringLiteral("ping"), nullptr);
    COMPARE_JSON(withoutParams, fromText(R"({"jsonrpc":"2.0","id":"r-1","method":"ping"})"));
    QVERIFY(!withoutParams.contains("params"));
    QVERIFY(classify(withoutParams) == MessageKind::Request);

    // An empty object is kept: it is params, not their absence.
    const json emptyParams = makeRequest(1, QStringLiteral("ping"), json::object());
    QVERIFY(emptyParams.contains("params"));
    COMPARE_JSON(emptyParams["params"], json::object());

    // Method names are carried as UTF-8.
    const json unicode = makeRequest(1, QStringLiteral("tools/caf\u00e9"), nullptr);
    QVERIFY(unicode["method"] == "tools/caf\xc3\xa9");
    QCOMPARE(method(unicode), QStringLiteral("tools/caf\u00e9"));
}

void TestJsonRpc::makeNotificationBuildsANotificationWithoutId()
{
    const json notification = makeNotification(QStringLiteral("notifications/progress"),
                                               {{"progressToken", "t"}, {"progress", 1}});
    QVERIFY(!notification.contains("id"));
    COMPARE_JSON(notification, fromText(R"({"jsonrpc":"2.0","method":"notifications/progress",
                                        "params":{"progressToken":"t","progress":1}})"));
    QVERIFY(classify(notification) == MessageKind::Notification);

    const json bare = makeNotification(QStringLiteral("notifications/initialized"), nullptr);
    COMPARE_JSON(bare, fromText(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
    QVERIFY(classify(bare) == MessageKind::Notification);
}

void TestJsonRpc::makeResultBuildsAResponseWithTheSameId()
{
    const json result = makeResult("abc", {{"tools", json::array()}});
    COMPARE_JSON(result, fromText(R"({"jsonrpc":"2.0","id":"abc","result":{"tools":[]}})"));
    QVERIFY(classify(result) == MessageKind::Response);

    // A null result is still a result (the member is present).
    const json nullResult = makeResult(3, nullptr);
    QVERIFY(nullResult.contains("result"));
    QVERIFY(!nullResult.contains("error"));
    QVERIFY(classify(nullResult) == MessageKind::Response);
}

void TestJsonRpc::makeErrorBuildsAnErrorResponseWithDataOnlyWhenGiven()
{
    const json plain = makeError(4, ErrorCode::kMethodNotFound, QStringLiteral("No such method."));
    COMPARE_JSON(plain, fromText(R"({"jsonrpc":"2.0","id":4,
                                 "error":{"code":-32601,"message":"No such method."}})"));
    QVERIFY(!plain["error"].contains("data"));
    QVERIFY(classify(plain) == MessageKind::Response);

    const json withData = makeError("x", ErrorCode::kInvalidParams, QStringLiteral("Bad."),
                                    {{"field", "name"}});
    COMPARE_JSON(withData["error"]["data"], fromText(R"({"field":"name"})"));
    QCOMPARE(withData["error"]["code"].get<int>(), -32602);
    QVERIFY(!withData.contains("result"));
    QVERIFY(classify(withData) == MessageKind::Response);
}

void TestJsonRpc::makeErrorWithNullIdIsAValidResponse()
{
    const json error = makeError(nullptr, ErrorCode::kParseError, QStringLiteral("Parse error."));
    QVERIFY(error.contains("id"));
    QVERIFY(error["id"].is_null());
    QCOMPARE(error["error"]["code"].get<int>(), -32700);
    QVERIFY(classify(error) == MessageKind::Response);
}

void TestJsonRpc::parseReadsJsonValues()
{
    const auto object = parse(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
    QVERIFY(object);
    QVERIFY(classify(*object) == MessageKind::Request);

    const auto batch = parse(R"([{"a":1},{"b":2}])");
    QVERIFY(batch);
    QVERIFY(batch->is_array());
    QCOMPARE(batch->size(), size_t(2));

    // Whitespace around a value is fine; so are scalars (classify rejects them later).
    const auto padded = parse(" \r\n\t{\"x\": [true, null]}\n ");
    QVERIFY(padded);
    COMPARE_JSON(*padded, fromText(R"({"x":[true,null]})"));
    const auto scalar = parse("null");
    QVERIFY(scalar);
    QVERIFY(scalar->is_null());
}

void TestJsonRpc::parseRejectsBytesThatAreNotJson_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("only whitespace") << QByteArray(" \n ");
    QTest::newRow("truncated object") << QByteArray(R"({"jsonrpc":"2.0","id":1)");
    QTest::newRow("trailing garbage") << QByteArray(R"({"a":1} x)");
    QTest::newRow("two values") << QByteArray(R"({"a":1}{"b":2})");
    QTest::newRow("single quotes") << QByteArray("{'a':1}");
    QTest::newRow("trailing comma") << QByteArray(R"({"a":1,})");
    QTest::newRow("comment") << QByteArray("{/* c */}");
    QTest::newRow("bare word") << QByteArray("hello");
    QTest::newRow("NaN") << QByteArray(R"({"a":NaN})");
    QTest::newRow("invalid utf-8 in string") << QByteArray("{\"a\":\"\xff\xfe\"}");
    // Nothing may follow the value, not even after a NUL byte.
    QTest::newRow("garbage after a nul byte") << QByteArray::fromRawData("{\"a\":1}\0garbage", 15);
    QTest::newRow("nul byte inside an object") << QByteArray::fromRawData("{\"a\":\0 1}", 9);
    QTest::newRow("unterminated string") << QByteArray(R"({"a":"b)");
}

void TestJsonRpc::parseRejectsBytesThatAreNotJson()
{
    QFETCH(QByteArray, bytes);
    QVERIFY(!parse(bytes).has_value());
}

void TestJsonRpc::serializeRoundTripsThroughParseAndReplacesInvalidUtf8()
{
    const json message = makeRequest(1, QStringLiteral("tools/call"),
                                     {{"name", "caf\xc3\xa9"}, {"args", {1, 2, nullptr}}});
    const QByteArray bytes = serialize(message);
    QVERIFY(!bytes.contains('\n')); // one line: fits an SSE data field
    const auto back = parse(bytes);
    QVERIFY(back);
    COMPARE_JSON(*back, message);

    // A string that is not UTF-8 (e.g. relayed from a broken upstream) does not make
    // serialize() throw; the bytes come out as U+FFFD and stay parseable.
    json broken = {{"text", std::string("a\xff") + "b"}};
    QByteArray out;
    try {
        out = serialize(broken);
    } catch (...) {
        QFAIL("serialize threw on invalid UTF-8");
    }
    QVERIFY(out.contains("\xef\xbf\xbd"));
    QVERIFY(parse(out).has_value());
}

namespace {

QByteArray nestedArrays(int depth)
{
    return QByteArray(depth, '[') + QByteArray(depth, ']');
}

QByteArray nestedObjects(int depth)
{
    QByteArray text;
    for (int i = 0; i < depth; ++i)
        text += R"({"a":)";
    return text + "1" + QByteArray(depth, '}');
}

} // namespace

void TestJsonRpc::parseTakesNestingUpToTheLimit()
{
    for (const QByteArray &text : {nestedArrays(kMaxDepth), nestedObjects(kMaxDepth)}) {
        const auto value = parse(text);
        QVERIFY(value.has_value());
        const json copy = *value; // copying recurses, like the broker's relaying does
        QCOMPARE(serialize(copy), text);
    }
    // Brackets inside strings are text, escaped quotes included.
    const QByteArray inString = R"({"text":"\")" + QByteArray(2 * kMaxDepth, '[') + R"("})";
    QVERIFY(parse(inString).has_value());
}

void TestJsonRpc::parseRefusesNestingDeeperThanTheLimit_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("arrays one too deep") << nestedArrays(kMaxDepth + 1);
    QTest::newRow("objects one too deep") << nestedObjects(kMaxDepth + 1);
    QTest::newRow("batch one too deep")
            << QByteArray(R"([{"jsonrpc":"2.0","id":1,"method":"m","params":{"x":)")
                    + nestedArrays(kMaxDepth - 1) + "}}]";
    // A body like this (400 KB) overflowed the stack when the broker copied it (found while
    // fuzzing: jsonrpc::parse took any depth).
    QTest::newRow("two hundred thousand deep") << nestedArrays(200'000);
}

void TestJsonRpc::parseRefusesNestingDeeperThanTheLimit()
{
    QFETCH(QByteArray, text);
    QVERIFY(!parse(text).has_value());
}

void TestJsonRpc::methodAndParamsReadTheMessageOrDefault()
{
    const json request = fromText(R"({"jsonrpc":"2.0","id":1,"method":"m","params":{"k":"v"}})");
    QCOMPARE(method(request), QStringLiteral("m"));
    COMPARE_JSON(params(request), fromText(R"({"k":"v"})"));

    const json noParams = fromText(R"({"jsonrpc":"2.0","id":1,"method":"m"})");
    COMPARE_JSON(params(noParams), json::object());

    const json arrayParams = fromText(R"({"jsonrpc":"2.0","id":1,"method":"m","params":[1]})");
    COMPARE_JSON(params(arrayParams), json::object());

    const json response = fromText(R"({"jsonrpc":"2.0","id":1,"result":{}})");
    QCOMPARE(method(response), QString());
    const json numericMethod = fromText(R"({"jsonrpc":"2.0","method":7})");
    QCOMPARE(method(numericMethod), QString());
}

// A batch element can be any JSON value; reading it must not throw (found by fuzz_jsonrpc).
void TestJsonRpc::methodAndParamsOfAValueThatIsNotAnObjectAreEmpty()
{
    for (const char *text : {R"("initialize")", "5", R"([{"method":"m"}])", "null", "true"}) {
        const json value = fromText(text);
        QCOMPARE(method(value), QString());
        COMPARE_JSON(params(value), json::object());
    }
}

void TestJsonRpc::toQStringReturnsTextOnlyForStrings()
{
    QCOMPARE(toQString(json("caf\xc3\xa9")), QStringLiteral("caf\u00e9"));
    QCOMPARE(toQString(json(5)), QString());
    QCOMPARE(toQString(json(nullptr)), QString());
    QCOMPARE(toQString(json::object()), QString());
    QVERIFY(toStd(QStringLiteral("caf\u00e9")) == std::string("caf\xc3\xa9"));
}

QTEST_APPLESS_MAIN(TestJsonRpc)
#include "tst_jsonrpc.moc"
