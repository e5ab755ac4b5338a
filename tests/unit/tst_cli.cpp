// The pure parts of the `mcp-broker` command line: argument parsing, header checks, the
// splitting of standard input into secrets and what `list` and `status` print. No process,
// keychain or network here.

#include "CommandLine.h"
#include "HeaderField.h"
#include "JsonCompare.h"
#include "SecretInput.h"
#include "ServerListing.h"
#include "StatusReport.h"
#include "store/ServerConfig.h"

#include <QDateTime>
#include <QRegularExpression>
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

    void listShowsOAuthAndTheClientIdButNoSecret()
    {
        store::BrokerConfig config;
        store::ServerConfig registered;
        registered.name = "notes";
        registered.url = QUrl("https://notes.example/mcp");
        registered.auth = store::UpstreamAuth::OAuth;
        store::ServerConfig byHand = registered;
        byHand.name = "ci";
        byHand.oauth.clientId = "mcp-broker-ci";
        byHand.oauth.hasClientSecret = true;
        byHand.oauth.tokenEndpointAuthMethod = "client_secret_basic";
        byHand.oauth.clientCredentials = true;
        byHand.oauth.scopes = {"read"};
        config.servers = {registered, byHand};

        QCOMPARE(ServerListing::authDescription(registered), "oauth");
        QCOMPARE(ServerListing::authDescription(byHand), "oauth (client mcp-broker-ci)");
        const QString table = ServerListing::lines(config).join('\n');
        QVERIFY2(table.contains("oauth (client mcp-broker-ci)"), qPrintable(table));

        const nlohmann::ordered_json listed = ServerListing::toJson(config);
        COMPARE_JSON(listed[0]["auth"], "oauth");
        COMPARE_JSON(listed[0]["oauth"],
                     (nlohmann::json{{"clientId", nullptr},
                                     {"clientSecret", false},
                                     {"tokenEndpointAuthMethod", nullptr},
                                     {"clientMetadataUrl", nullptr},
                                     {"grant", "authorization_code"},
                                     {"scopes", nlohmann::json::array()}}));
        COMPARE_JSON(listed[1]["oauth"],
                     (nlohmann::json{{"clientId", "mcp-broker-ci"},
                                     {"clientSecret", true},
                                     {"tokenEndpointAuthMethod", "client_secret_basic"},
                                     {"clientMetadataUrl", nullptr},
                                     {"grant", "client_credentials"},
                                     {"scopes", {"read"}}}));

        store::ServerConfig bearer = registered;
        bearer.auth = store::UpstreamAuth::Bearer;
        bearer.oauth = {};
        config.servers = {bearer};
        QVERIFY(!ServerListing::toJson(config)[0].contains("oauth"));
    }

    void signInIsDescribedInWords()
    {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const QDateTime later = now.addSecs(3600);
        const QString laterLocal = later.toLocalTime().toString(
                later.toLocalTime().date() == now.toLocalTime().date() ? "HH:mm"
                                                                       : "yyyy-MM-dd HH:mm");
        QCOMPARE(StatusReport::signInDescription("signed-in", later.toString(Qt::ISODate), now),
                 "signed in, expires " + laterLocal);
        QCOMPARE(StatusReport::signInDescription("signed-in", {}, now), "signed in");
        QVERIFY(StatusReport::signInDescription("signed-in", now.addDays(-3).toString(Qt::ISODate),
                                                now)
                        .startsWith("signed in, token expired "
                                    + now.addDays(-3).toLocalTime().toString("yyyy-MM-dd")));
        QCOMPARE(StatusReport::signInDescription("needs-sign-in", {}, now), "needs sign-in");
        QCOMPARE(StatusReport::signInDescription("signing-in", {}, now), "signing in");
        QCOMPARE(StatusReport::signInDescription("unknown", {}, now), "unknown");
    }

    void statusHasASignInColumnOnlyWhenAServerSignsIn()
    {
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const nlohmann::json answer
                = {{"version", "0.1.0"},
                   {"endpoint", "http://127.0.0.1:7823/mcp"},
                   {"servers",
                    {{{"name", "docs"}, {"state", "ready"}, {"error", ""}, {"tools", 3}},
                     {{"name", "notes"},
                      {"state", "needs-sign-in"},
                      {"tools", 0},
                      {"signIn", "needs-sign-in"},
                      {"tokenExpiresAt", nullptr},
                      {"error", "Server 'notes' needs sign-in."}}}}};
        const auto status = StatusReport::parse(QByteArray::fromStdString(answer.dump()));
        QVERIFY(status);
        const QStringList lines = StatusReport::lines(*status, now);
        QCOMPARE(lines.size(), 4);
        QVERIFY2(lines.at(1).contains(QRegularExpression("^NAME +STATE +SIGN-IN +TOOLS +ERROR$")),
                 qPrintable(lines.at(1)));
        QVERIFY2(lines.at(2).contains(QRegularExpression("^docs +ready +3$")),
                 qPrintable(lines.at(2)));
        QVERIFY2(lines.at(3).contains(
                         QRegularExpression("^notes +needs-sign-in +needs sign-in +0 +Server")),
                 qPrintable(lines.at(3)));

        nlohmann::json plainAnswer = answer;
        plainAnswer["servers"].erase(1);
        const auto plain = StatusReport::parse(QByteArray::fromStdString(plainAnswer.dump()));
        QVERIFY(plain);
        QVERIFY(!StatusReport::lines(*plain, now).join('\n').contains("SIGN-IN"));
        QVERIFY(!StatusReport::parse("{\"servers\": [1]}"));
        QVERIFY(!StatusReport::parse("not json"));
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
