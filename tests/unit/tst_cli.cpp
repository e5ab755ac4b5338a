// The pure parts of the `mcp-broker` command line: argument parsing, header checks and the
// splitting of standard input into secrets. No process, keychain or network here.

#include "CommandLine.h"
#include "HeaderField.h"
#include "SecretInput.h"

#include <QTest>

using namespace mcpbroker;
using namespace mcpbroker::app;

namespace {

Command parsed(const QStringList &arguments)
{
    auto command = CommandLine::parse(arguments);
    if (command)
        return command.value();
    // Makes the caller's comparisons fail, with the reason in the log.
    qWarning().noquote() << "unexpected usage error:" << command.error().message;
    Command unexpected;
    unexpected.kind = Command::Kind::Version;
    return unexpected;
}

QString usageError(const QStringList &arguments)
{
    auto command = CommandLine::parse(arguments);
    return command ? QString() : command.error().message;
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void noCommandMeansServe()
    {
        const Command command = parsed({});
        QCOMPARE(command.kind, Command::Kind::Serve);
        QVERIFY(command.implicitServe);
        QVERIFY(!command.port);
    }

    void serveTakesAPortAndZeroMeansAnyFreePort()
    {
        QCOMPARE(parsed({"serve", "--port", "8123"}).port, std::optional<quint16>(8123));
        QCOMPARE(parsed({"serve", "--port=0"}).port, std::optional<quint16>(0));
        QCOMPARE(parsed({"--port", "0"}).kind, Command::Kind::Serve);
        QVERIFY(!parsed({"serve"}).implicitServe);
    }

    void portMustBeANumberInRange_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("text") << QStringList{"serve", "--port", "http"};
        QTest::newRow("too large") << QStringList{"serve", "--port", "65536"};
        QTest::newRow("negative") << QStringList{"serve", "--port=-1"};
        QTest::newRow("status needs a real port") << QStringList{"status", "--port", "0"};
        QTest::newRow("missing") << QStringList{"serve", "--port"};
    }
    void portMustBeANumberInRange()
    {
        QFETCH(QStringList, arguments);
        QVERIFY(usageError(arguments).contains("--port"));
    }

    void configGoesBeforeOrAfterTheCommand()
    {
        QCOMPARE(parsed({"--config", "/tmp/a.json", "list"}).configPath, "/tmp/a.json");
        QCOMPARE(parsed({"list", "--config", "/tmp/b.json"}).configPath, "/tmp/b.json");
        QCOMPARE(parsed({"list", "--config=/tmp/c.json"}).configPath, "/tmp/c.json");
        QCOMPARE(parsed({"list", "--config", "/tmp/d.json"}).configFilePath(), "/tmp/d.json");
        QVERIFY(usageError({"list", "--config"}).contains("--config needs a value"));
        QVERIFY(usageError({"--config", "--json", "list"}).contains("--config needs a value"));
        QVERIFY(usageError({"list", "--config", "a", "--config", "b"}).contains("more than once"));
    }

    void addTakesNameUrlAndSecretsInOrder()
    {
        const Command command = parsed({"add", "linear", "https://mcp.example/mcp", "--header-stdin",
                                        "X-Api-Key", "--header", "X-Team:  red team ",
                                        "--header-stdin=X-Other"});
        QCOMPARE(command.kind, Command::Kind::Add);
        QCOMPARE(command.serverName, "linear");
        QCOMPARE(command.serverUrl, "https://mcp.example/mcp");
        QVERIFY(!command.bearerFromStdin);
        QCOMPARE(command.headers.size(), 3);
        QCOMPARE(command.headers.at(0).name, "X-Api-Key");
        QVERIFY(!command.headers.at(0).value);
        QCOMPARE(command.headers.at(1).name, "X-Team");
        QCOMPARE(command.headers.at(1).value, std::optional<QByteArray>("red team"));
        QCOMPARE(command.headers.at(2).name, "X-Other");
    }

    void addWithBearerFromStdin()
    {
        const Command command = parsed({"add", "--bearer-stdin", "github", "https://x.example/"});
        QVERIFY(command.bearerFromStdin);
        QCOMPARE(command.serverName, "github");
        QVERIFY(command.headers.isEmpty());
    }

    void bearerAndHeadersTogetherIsAUsageError()
    {
        QVERIFY(usageError({"add", "a", "https://x/", "--bearer-stdin", "--header-stdin", "X-A"})
                        .contains("not both"));
    }

    void addNeedsExactlyNameAndUrl()
    {
        QVERIFY(usageError({"add"}).contains("needs NAME and URL"));
        QVERIFY(usageError({"add", "github"}).contains("needs NAME and URL"));
        QVERIFY(usageError({"remove"}).contains("needs NAME"));
        QVERIFY(usageError({"list", "extra"}).contains("Too many arguments"));
    }

    void secretsPastedInTheWrongPlaceAreNeverQuotedBack()
    {
        const QString token = QStringLiteral("ghp_0123456789abcdefSECRET");
        const QStringList attempts[] = {
                {"add", "github", "https://x/", token},
                {"add", "github", "https://x/", "--header", token},
                {"add", "github", "https://x/", QStringLiteral("--token=%1").arg(token)},
                {"add", "github", "https://x/", "--bearer-stdin=" + token},
                {token},
        };
        for (const QStringList &arguments : attempts) {
            const QString message = usageError(arguments);
            QVERIFY2(!message.isEmpty(), qPrintable(arguments.join(' ')));
            QVERIFY2(!message.contains(token), qPrintable(message));
        }
    }

    void headerNeedsNameColonValue()
    {
        QVERIFY(usageError({"add", "a", "https://x/", "--header", "X-Api-Key"})
                        .contains("'NAME: VALUE'"));
        QVERIFY(usageError({"add", "a", "https://x/", "--header", ": value"})
                        .contains("'NAME: VALUE'"));
        QVERIFY(usageError({"add", "a", "https://x/", "--header-stdin="})
                        .contains("needs a header name"));
    }

    void optionsBelongToTheirCommands()
    {
        QVERIFY(usageError({"list", "--port", "1"}).contains("not an option of `mcp-broker list`"));
        QVERIFY(usageError({"--json"}).contains("not an option of `mcp-broker serve`"));
        QVERIFY(usageError({"remove", "x", "--bearer-stdin"}).contains("not an option"));
        QVERIFY(parsed({"status", "--json", "--port", "7823"}).json);
        QVERIFY(parsed({"list", "--json"}).json);
    }

    void unknownCommandsAndOptionsAreUsageErrors()
    {
        QCOMPARE(usageError({"frobnicate"}), "Unknown command 'frobnicate'.");
        QCOMPARE(usageError({"list", "--verbose"}), "Unknown option '--verbose'.");
        QCOMPARE(usageError({"list", "--json=yes"}), "--json takes no value.");
    }

    void helpAndVersionWinOverEverythingElse()
    {
        QCOMPARE(parsed({"--help"}).kind, Command::Kind::Help);
        QCOMPARE(parsed({"add", "-h"}).kind, Command::Kind::Help);
        QCOMPARE(parsed({"help"}).kind, Command::Kind::Help);
        QCOMPARE(parsed({"frobnicate", "--bogus", "--help"}).kind, Command::Kind::Help);
        QCOMPARE(parsed({"--version"}).kind, Command::Kind::Version);
        QVERIFY(CommandLine::help().startsWith(CommandLine::usage()));
        QVERIFY(CommandLine::usage().contains("With no command, mcp-broker runs `serve`"));
    }

    void headerNamesAreRfc9110Tokens()
    {
        QVERIFY(HeaderField::validateName("X-Api-Key"));
        QVERIFY(HeaderField::validateName("Authorization"));
        QVERIFY(HeaderField::validateName("x_custom.v2"));
        QVERIFY(!HeaderField::validateName("Bad Header"));
        QVERIFY(!HeaderField::validateName("X-Api-Key:"));
        QVERIFY(!HeaderField::validateName(""));
        QVERIFY(!HeaderField::validateName("X-Ünicode"));
        QVERIFY(!HeaderField::validateName("host")); // set by the broker itself
        QVERIFY(!HeaderField::validateName("Mcp-Session-Id"));
    }

    void headerValuesCarryNoControlCharacters()
    {
        QVERIFY(HeaderField::validateValue("abc 123\tdef", "the value"));
        const QByteArray bad[] = {"", "a\rb", "a\nb", QByteArray("a\0b", 3), "a\x7f"};
        for (const QByteArray &value : bad) {
            auto result = HeaderField::validateValue(value, "the value of header X-S3cret");
            QVERIFY(!result);
            QVERIFY(result.error().message.startsWith("The value of header X-S3cret"));
            if (value.size() > 1)
                QVERIFY(!result.error().message.contains(QString::fromLatin1(value)));
        }
    }

    void stdinLinesLoseTheirLineBreakAndCarriageReturn()
    {
        const QByteArray input = "first\r\nsecond\n\nlast-without-newline";
        qsizetype from = 0;
        QCOMPARE(SecretInput::takeLine(input, from), std::optional<QByteArray>("first"));
        QCOMPARE(SecretInput::takeLine(input, from), std::optional<QByteArray>("second"));
        QCOMPARE(SecretInput::takeLine(input, from), std::optional<QByteArray>(""));
        const qsizetype before = from;
        QVERIFY(!SecretInput::takeLine(input, from)); // incomplete: waits for more input
        QCOMPARE(from, before);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
