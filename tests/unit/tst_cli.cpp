// The pure parts of the `mcp-broker` command line: argument parsing, header checks, the
// splitting of standard input into secrets, what `list` and `status` print and how `log` reads
// and follows the audit log (in a temporary folder). No process, keychain or network here
// (tst_clioauth runs the binary).

#include "CommandLine.h"
#include "HeaderField.h"
#include "JsonCompare.h"
#include "LogTail.h"
#include "SecretInput.h"
#include "ServerListing.h"
#include "StatusReport.h"
#include "store/AuditLog.h"
#include "store/ServerConfig.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
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

store::AuditEntry auditEntry(int number)
{
    store::AuditEntry entry;
    entry.time = QDateTime(QDate(2026, 11, 24), QTime(10, 31, 2), Qt::UTC).addSecs(number);
    entry.client = QStringLiteral("cursor");
    entry.server = QStringLiteral("github");
    entry.tool = QStringLiteral("tool_%1").arg(number);
    entry.decision = QStringLiteral("allow");
    entry.outcome = QStringLiteral("ok");
    entry.durationMs = number;
    return entry;
}

QStringList toolsOf(const QList<QByteArray> &lines)
{
    QStringList tools;
    for (const QByteArray &line : lines) {
        const auto entry = store::AuditLog::parseLine(line);
        tools.append(entry ? entry->tool : QStringLiteral("<not an entry>"));
    }
    return tools;
}

// Every line `spy` has seen from LogTail::appended, in order.
QList<QByteArray> appendedLines(const QSignalSpy &spy)
{
    QList<QByteArray> lines;
    for (const QList<QVariant> &arguments : spy)
        lines += arguments.at(0).value<QList<QByteArray>>();
    return lines;
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
        const Command command
                = parsed({"add", "linear", "https://mcp.example/mcp", "--header-stdin", "X-Api-Key",
                          "--header", "X-Team:  red team ", "--header-stdin=X-Other"});
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
        QVERIFY(CommandLine::usage().contains(
                "With no command, mcp-broker runs `tray` where there is a display, else `serve`."));
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

    void addWithOAuthTakesEveryOption()
    {
        const Command command = parsed({"add", "ci", "https://ci.example/mcp", "--oauth",
                                        "--client-id", "mcp-broker", "--client-secret-stdin",
                                        "--token-auth", "post", "--client-credentials",
                                        "--scope=read", "--scope", "write", "--scope", "read"});
        QCOMPARE(command.kind, Command::Kind::Add);
        QVERIFY(command.oauth);
        QCOMPARE(command.oauth->clientId, "mcp-broker");
        QVERIFY(command.oauth->clientSecretFromStdin);
        QCOMPARE(command.oauth->tokenEndpointAuthMethod, "client_secret_post");
        QVERIFY(command.oauth->clientCredentials);
        QCOMPARE(command.oauth->scopes, QStringList({"read", "write"}));
        QVERIFY(command.oauth->clientMetadataUrl.isEmpty());
        QVERIFY(!command.bearerFromStdin);
        QVERIFY(command.headers.isEmpty());
    }

    void addWithOAuthAloneRegistersLater()
    {
        const Command command = parsed({"add", "notes", "https://notes.example/mcp", "--oauth"});
        QVERIFY(command.oauth);
        QCOMPARE(command.oauth->clientId, QString());
        QVERIFY(!command.oauth->clientSecretFromStdin);
        QCOMPARE(command.oauth->tokenEndpointAuthMethod, QString());
        QVERIFY(!parsed({"add", "notes", "https://notes.example/mcp"}).oauth);

        const Command metadata = parsed({"--client-metadata-url", "https://me.example/client.json",
                                         "add", "notes", "https://notes.example/mcp", "--oauth"});
        QCOMPARE(metadata.oauth->clientMetadataUrl, "https://me.example/client.json");
    }

    void tokenAuthWordsAreTheConfigNames_data()
    {
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("method");
        QTest::newRow("basic") << QStringList{"--token-auth", "basic", "--client-secret-stdin"}
                               << "client_secret_basic";
        QTest::newRow("post") << QStringList{"--token-auth=post", "--client-secret-stdin"}
                              << "client_secret_post";
        QTest::newRow("none") << QStringList{"--token-auth", "none"} << "none";
    }
    void tokenAuthWordsAreTheConfigNames()
    {
        QFETCH(QStringList, extra);
        QFETCH(QString, method);
        const Command command = parsed(
                QStringList{"add", "a", "https://x/", "--oauth", "--client-id", "id"} + extra);
        QVERIFY(command.oauth);
        QCOMPARE(command.oauth->tokenEndpointAuthMethod, method);
    }

    void oauthCombinationsThatMeanNothingAreRefused_data()
    {
        QTest::addColumn<QStringList>("options");
        QTest::addColumn<QString>("message");
        QTest::newRow("oauth and bearer") << QStringList{"--oauth", "--bearer-stdin"}
                                          << "Give either --oauth or --bearer-stdin, not both";
        QTest::newRow("oauth and header-stdin") << QStringList{"--header-stdin", "X-Key", "--oauth"}
                                                << "Give either --oauth or secret headers";
        QTest::newRow("oauth and header") << QStringList{"--oauth", "--header", "X-Key: v"}
                                          << "Give either --oauth or secret headers";
        QTest::newRow("client id without oauth")
                << QStringList{"--client-id", "id"} << "--client-id needs --oauth.";
        QTest::newRow("client secret without oauth")
                << QStringList{"--client-secret-stdin"} << "--client-secret-stdin needs --oauth.";
        QTest::newRow("token auth without oauth")
                << QStringList{"--token-auth", "none"} << "--token-auth needs --oauth.";
        QTest::newRow("metadata url without oauth")
                << QStringList{"--client-metadata-url", "https://me.example/c.json"}
                << "--client-metadata-url needs --oauth.";
        QTest::newRow("client credentials without oauth")
                << QStringList{"--client-credentials"} << "--client-credentials needs --oauth.";
        QTest::newRow("scope without oauth")
                << QStringList{"--scope", "read"} << "--scope needs --oauth.";
        QTest::newRow("client secret without client id")
                << QStringList{"--oauth", "--client-secret-stdin"}
                << "--client-secret-stdin needs --client-id";
        QTest::newRow("client credentials without client id")
                << QStringList{"--oauth", "--client-credentials"}
                << "--client-credentials needs --client-id";
        QTest::newRow("token auth without client id")
                << QStringList{"--oauth", "--token-auth", "none"}
                << "--token-auth needs --client-id";
        QTest::newRow("client id and metadata url")
                << QStringList{"--oauth", "--client-id", "id", "--client-metadata-url",
                               "https://me.example/c.json"}
                << "Give either --client-id or --client-metadata-url";
        QTest::newRow("basic without a secret")
                << QStringList{"--oauth", "--client-id", "id", "--token-auth", "basic"}
                << "add --client-secret-stdin";
        QTest::newRow("none with a secret")
                << QStringList{"--oauth",      "--client-id", "id",
                               "--token-auth", "none",        "--client-secret-stdin"}
                << "--token-auth none sends no client secret";
        QTest::newRow("unknown token auth")
                << QStringList{"--oauth", "--client-id", "id", "--token-auth", "private_key_jwt"}
                << "--token-auth needs basic, post or none.";
        QTest::newRow("empty client id")
                << QStringList{"--oauth", "--client-id="} << "--client-id needs a client ID.";
        QTest::newRow("scope with a space")
                << QStringList{"--oauth", "--scope", "read write"} << "--scope takes one scope";
        QTest::newRow("empty scope")
                << QStringList{"--oauth", "--scope="} << "--scope takes one scope";
        QTest::newRow("oauth twice") << QStringList{"--oauth", "--oauth"} << "more than once";
    }
    void oauthCombinationsThatMeanNothingAreRefused()
    {
        QFETCH(QStringList, options);
        QFETCH(QString, message);
        const QString error = usageError(QStringList{"add", "a", "https://x/"} + options);
        QVERIFY2(error.contains(message), qPrintable(error));
    }

    void aSecretOptionOnTheCommandLinePointsToStdinWithoutQuotingIt()
    {
        const QString secret = QStringLiteral("cs_0123456789SECRET");
        const QString message = usageError({"add", "a", "https://x/", "--oauth", "--client-id",
                                            "id", "--client-secret=" + secret});
        QVERIFY2(message.contains("--client-secret-stdin"), qPrintable(message));
        QVERIFY(!message.contains(secret));
        const QString bearer = usageError({"add", "a", "https://x/", "--bearer", secret});
        QVERIFY2(bearer.contains("--bearer-stdin"), qPrintable(bearer));
        QVERIFY(!bearer.contains(secret));
        QVERIFY(!usageError({"add", "a", "https://x/", "--oauth", "--client-id", "id",
                             "--client-secret-stdin=" + secret})
                         .contains(secret));
    }

    void loginAndLogoutTakeAServerName()
    {
        const Command login = parsed({"login", "github"});
        QCOMPARE(login.kind, Command::Kind::Login);
        QCOMPARE(login.serverName, "github");
        const Command logout = parsed({"logout", "github", "--config", "/tmp/c.json"});
        QCOMPARE(logout.kind, Command::Kind::Logout);
        QCOMPARE(logout.serverName, "github");
        QCOMPARE(logout.configPath, "/tmp/c.json");
        QVERIFY(usageError({"login"}).contains("`mcp-broker login` needs NAME"));
        QVERIFY(usageError({"logout"}).contains("`mcp-broker logout` needs NAME"));
        QVERIFY(usageError({"login", "a", "b"}).contains("Too many arguments"));
        QVERIFY(usageError({"logout", "a", "--json"}).contains("not an option"));
        QVERIFY(usageError({"login", "a", "--client-id", "x"}).contains("not an option"));
        QVERIFY(usageError({"remove", "a", "--oauth"}).contains("not an option"));
    }

    void helpNamesTheOAuthCommandsAndOptions()
    {
        for (const char *word :
             {"login NAME", "logout NAME", "--oauth", "--client-id ID", "--client-secret-stdin",
              "--token-auth basic|post|none", "--client-metadata-url URL", "--client-credentials",
              "--scope SCOPE"}) {
            QVERIFY2(CommandLine::usage().contains(QLatin1String(word)), word);
            QVERIFY2(CommandLine::help().contains(QLatin1String(word)), word);
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

    void statusShowsTheBrokersProblemsBeforeTheServers()
    {
        const nlohmann::json answer
                = {{"version", "0.1.0"},
                   {"endpoint", "http://127.0.0.1:7823/mcp"},
                   {"problems", {"The config file is damaged; a copy was kept.", 7}},
                   {"servers", nlohmann::json::array()}};
        const auto status = StatusReport::parse(QByteArray::fromStdString(answer.dump()));
        QVERIFY(status);
        const QStringList lines = StatusReport::lines(*status, QDateTime::currentDateTimeUtc());
        QCOMPARE(lines.size(), 3);
        QCOMPARE(lines.at(1), "Problem: The config file is damaged; a copy was kept.");
        QCOMPARE(lines.at(2), ServerListing::noServersHint());
    }

    void logShowsTwentyCallsByDefault()
    {
        const Command command = parsed({"log"});
        QCOMPARE(command.kind, Command::Kind::Log);
        QCOMPARE(command.logLines, 20);
        QVERIFY(!command.follow);
        QVERIFY(!command.json);
    }

    void logTakesLinesFollowAndJson()
    {
        const Command command = parsed({"log", "-n", "5", "-f", "--json"});
        QCOMPARE(command.logLines, 5);
        QVERIFY(command.follow);
        QVERIFY(command.json);
        const Command longForms = parsed({"log", "--lines=100000", "--follow"});
        QCOMPARE(longForms.logLines, 100000);
        QVERIFY(longForms.follow);
        QCOMPARE(parsed({"log", "--lines", "1"}).logLines, 1);
        QCOMPARE(parsed({"log", "-n50"}).logLines, 50);
        QVERIFY(usageError({"log", "-f", "--follow"}).contains("more than once"));
        QVERIFY(usageError({"log", "extra"}).contains("Too many arguments for `mcp-broker log`"));
    }

    void logLinesMustBeFrom1To100000_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("zero") << QStringList{"log", "-n", "0"};
        QTest::newRow("too many") << QStringList{"log", "--lines", "100001"};
        QTest::newRow("negative") << QStringList{"log", "-n", "-3"};
        QTest::newRow("text") << QStringList{"log", "--lines=ten"};
        QTest::newRow("empty") << QStringList{"log", "--lines="};
    }
    void logLinesMustBeFrom1To100000()
    {
        QFETCH(QStringList, arguments);
        const QString error = usageError(arguments);
        QVERIFY2(error.contains("needs a number of calls from 1 to 100000"), qPrintable(error));
        QVERIFY(usageError({"log", "-n"}).contains("-n needs a value"));
        QVERIFY(usageError({"log", "-nx"}).contains("-n needs a number of calls"));
        QCOMPARE(usageError({"log", "-fx"}), "Unknown option '-fx'.");
    }

    void logOptionsBelongToLog()
    {
        QVERIFY(usageError({"list", "--follow"}).contains("not an option of `mcp-broker list`"));
        QVERIFY(usageError({"status", "-n", "3"}).contains("not an option"));
        QVERIFY(usageError({"log", "--server", "x"}).contains("not an option of `mcp-broker log`"));
        QVERIFY(usageError({"log", "--port", "1"}).contains("not an option"));
    }

    void grantCreateTakesANameServersAndAnExpiry()
    {
        const Command command
                = parsed({"grant", "create", "cursor", "--server", "github", "--server=linear",
                          "--server", "github", "--expires-in", "30d"});
        QCOMPARE(command.kind, Command::Kind::GrantCreate);
        QCOMPARE(command.grantClient, "cursor");
        QCOMPARE(command.grantServers, QStringList({"github", "linear"}));
        QCOMPARE(command.grantExpiresInSeconds, std::optional<qint64>(30 * 24 * 3600));
        QVERIFY(command.serverName.isEmpty());

        const Command plain = parsed({"grant", "create", "Claude Code"});
        QCOMPARE(plain.grantClient, "Claude Code");
        QVERIFY(plain.grantServers.isEmpty());
        QVERIFY(!plain.grantExpiresInSeconds);
        QCOMPARE(
                parsed({"--config", "/tmp/c.json", "grant", "create", "my.laptop_1-a"}).grantClient,
                "my.laptop_1-a");
        QVERIFY(usageError({"grant", "create", "a", "--server="}).contains("--server needs"));
    }

    void durationsAreANumberWithAUnit_data()
    {
        QTest::addColumn<QString>("duration");
        QTest::addColumn<qint64>("seconds"); // -1: refused
        QTest::newRow("seconds") << "90s" << qint64(90);
        QTest::newRow("minutes") << "30m" << qint64(1800);
        QTest::newRow("hours") << "12h" << qint64(43200);
        QTest::newRow("days") << "30d" << qint64(2592000);
        QTest::newRow("ten years") << "3650d" << qint64(315360000);
        QTest::newRow("zero") << "0d" << qint64(-1);
        QTest::newRow("no unit") << "30" << qint64(-1);
        QTest::newRow("no number") << "d" << qint64(-1);
        QTest::newRow("weeks") << "1w" << qint64(-1);
        QTest::newRow("too long") << "3651d" << qint64(-1);
        QTest::newRow("too long in hours") << "87601h" << qint64(-1);
        QTest::newRow("negative") << "-5m" << qint64(-1);
        QTest::newRow("fraction") << "1.5h" << qint64(-1);
        QTest::newRow("space") << "30 d" << qint64(-1);
        QTest::newRow("upper case") << "30D" << qint64(-1);
        QTest::newRow("huge") << "99999999999999d" << qint64(-1);
        QTest::newRow("empty") << "" << qint64(-1);
    }
    void durationsAreANumberWithAUnit()
    {
        QFETCH(QString, duration);
        QFETCH(qint64, seconds);
        const QStringList arguments{"grant", "create", "cursor", "--expires-in=" + duration};
        if (seconds < 0) {
            const QString error = usageError(arguments);
            QVERIFY2(error.contains("--expires-in needs a duration such as 90s, 30m, 12h or 30d"),
                     qPrintable(error));
        } else {
            QCOMPARE(parsed(arguments).grantExpiresInSeconds, std::optional<qint64>(seconds));
        }
    }

    void grantListAndRevoke()
    {
        const Command list = parsed({"grant", "list", "--json"});
        QCOMPARE(list.kind, Command::Kind::GrantList);
        QVERIFY(list.json);
        QVERIFY(!parsed({"grant", "list"}).json);
        const Command byId = parsed({"grant", "revoke", "g0123456789ab"});
        QCOMPARE(byId.kind, Command::Kind::GrantRevoke);
        QCOMPARE(byId.grantClient, "g0123456789ab");
        QCOMPARE(parsed({"grant", "revoke", "Claude Code"}).grantClient, "Claude Code");
    }

    void grantNeedsAKnownSubCommand()
    {
        const QString bare = usageError({"grant"});
        QVERIFY2(bare.contains("`mcp-broker grant` needs a sub-command: create, list or revoke."),
                 qPrintable(bare));
        QVERIFY(usageError({"grant", "--json"}).contains("create, list or revoke"));
        const QString unknown = usageError({"grant", "delete", "cursor"});
        QCOMPARE(unknown,
                 "Unknown sub-command 'delete' of `mcp-broker grant`: use create, list or "
                 "revoke.");
        const QString token = QStringLiteral("mcpb_g0123456789ab_c2VjcmV0LXNlY3JldC1zZWNyZXQ");
        const QString pasted = usageError({"grant", token});
        QVERIFY2(pasted.contains("create, list or revoke"), qPrintable(pasted));
        QVERIFY(!pasted.contains(token));
    }

    void grantCommandsCheckTheirArgumentsAndOptions()
    {
        QCOMPARE(usageError({"grant", "create"}), "`mcp-broker grant create` needs NAME.");
        QVERIFY(usageError({"grant", "revoke"}).contains("`mcp-broker grant revoke` needs"));
        QVERIFY(usageError({"grant", "list", "x"})
                        .contains("Too many arguments for `mcp-broker grant list`"));
        QVERIFY(usageError({"grant", "create", "a", "b"}).contains("Too many arguments"));
        QCOMPARE(usageError({"grant", "revoke", "a", "--server", "x"}),
                 "--server is not an option of `mcp-broker grant revoke`.");
        QVERIFY(usageError({"grant", "create", "a", "--json"})
                        .contains("not an option of `mcp-broker grant create`"));
        QVERIFY(usageError({"grant", "list", "--expires-in", "1d"}).contains("not an option"));
        QVERIFY(usageError({"grant", "create", "a", "--expires-in", "1d", "--expires-in", "2d"})
                        .contains("more than once"));
        QVERIFY(usageError({"add", "a", "https://x/", "--server", "b"}).contains("not an option"));
    }

    void clientNamesAreLettersDigitsAndAFewMarks_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("plain") << "cursor" << true;
        QTest::newRow("spaces inside") << "Claude Code" << true;
        QTest::newRow("marks") << "vs.code_2-insiders" << true;
        QTest::newRow("letters beyond ASCII") << QStringLiteral("Büro") << true;
        QTest::newRow("64 characters") << QString(64, QLatin1Char('a')) << true;
        QTest::newRow("65 characters") << QString(65, QLatin1Char('a')) << false;
        QTest::newRow("empty") << "" << false;
        QTest::newRow("leading space") << " cursor" << false;
        QTest::newRow("trailing space") << "cursor " << false;
        QTest::newRow("slash") << "a/b" << false;
        QTest::newRow("semicolon") << "a;b" << false;
        QTest::newRow("quote") << "a'b" << false;
        QTest::newRow("newline") << "a\nb" << false;
        QTest::newRow("tab") << "a\tb" << false;
        QTest::newRow("escape") << "a\x1b[31m" << false;
        QTest::newRow("emoji") << QStringLiteral("a\U0001F600") << false;
    }
    void clientNamesAreLettersDigitsAndAFewMarks()
    {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        for (const char *sub : {"create", "revoke"}) {
            const QStringList arguments{"grant", sub, name};
            if (valid) {
                QCOMPARE(parsed(arguments).grantClient, name);
            } else {
                const QString error = usageError(arguments);
                QVERIFY2(error.contains("A client's name is 1 to 64 characters: letters, digits, "
                                        "'-', '_', '.' and spaces"),
                         qPrintable(error));
                if (name.size() > 1)
                    QVERIFY(!error.contains(name));
            }
        }
    }

    void aGrantTokenIsNeverTakenOnTheCommandLine()
    {
        const QString secret = QStringLiteral("mcpb_g0123456789ab_c2VjcmV0LXNlY3JldC1zZWNyZXQ");
        const QStringList attempts[] = {
                {"grant", "create", "cursor", "--token", secret},
                {"grant", "create", "cursor", "--token=" + secret},
                {"grant", "revoke", "--grant", secret},
                {"grant", "list", "--grant-token=" + secret},
                {"log", "--grant", secret},
                {"serve", "--grant=" + secret},
        };
        for (const QStringList &arguments : attempts) {
            const QString message = usageError(arguments);
            QVERIFY2(message.startsWith("A grant token is never taken on the command line"),
                     qPrintable(arguments.join(' ') + ": " + message));
            QVERIFY(!message.contains(secret));
        }
        // Pasted where a name goes: refused, not quoted back, not sent to the keychain lookup.
        for (const QString &token :
             {secret, QStringLiteral("mcpb-at_g0123456789ab_x"), QStringLiteral("mcpb-rt_x")}) {
            for (const char *sub : {"create", "revoke"}) {
                const QString message = usageError({"grant", sub, token});
                QVERIFY2(message.startsWith("That is a grant token, not a client's name"),
                         qPrintable(message));
                QVERIFY(!message.contains(token));
            }
        }
        // Elsewhere --token keeps pointing to the way a bearer token is given.
        QVERIFY(usageError({"add", "a", "https://x/", "--token", "t"}).contains("--bearer-stdin"));
    }

    void helpDescribesLogAndGrant()
    {
        for (const char *word : {"log [-n N] [--follow] [--json]",
                                 "grant create NAME [--server S]... [--expires-in DURATION]",
                                 "grant list [--json]", "grant revoke NAME|ID"}) {
            QVERIFY2(CommandLine::usage().contains(QLatin1String(word)), word);
        }
        for (const char *word :
             {"-n, --lines N", "-f, --follow", "--server S", "--expires-in DURATION", "3650d",
              "prints the client's token once, on stdout", "keeps only its hash",
              "never taken on the command line", "mcp-broker/audit.log"}) {
            QVERIFY2(CommandLine::help().contains(QLatin1String(word)), word);
        }
    }

    void connectTakesAClientServersAGrantHeaderAndAFile()
    {
        const Command plain = parsed({"connect", "cursor"});
        QCOMPARE(plain.kind, Command::Kind::Connect);
        QCOMPARE(plain.client, "cursor");
        QVERIFY(plain.grantServers.isEmpty());
        QVERIFY(!plain.allServers && !plain.grantHeader);
        QVERIFY(plain.clientConfigFile.isEmpty());

        const Command full
                = parsed({"connect", "--server", "github", "codex", "--server=docs", "--server",
                          "github", "--grant-header", "--config-file", ".codex/config.toml"});
        QCOMPARE(full.client, "codex");
        QCOMPARE(full.grantServers, QStringList({"github", "docs"}));
        QVERIFY(full.grantHeader);
        QCOMPARE(full.clientConfigFile, ".codex/config.toml");
        QVERIFY(parsed({"connect", "vscode", "--all-servers"}).allServers);
    }

    void connectKnowsSixClients_data()
    {
        QTest::addColumn<QString>("client");
        for (const char *client :
             {"claude-code", "cursor", "vscode", "codex", "windsurf", "claude-desktop"})
            QTest::newRow(client) << QString::fromLatin1(client);
    }
    void connectKnowsSixClients()
    {
        QFETCH(QString, client);
        QCOMPARE(parsed({"connect", client}).client, client);
        QCOMPARE(parsed({"disconnect", client}).client, client);
    }

    void connectRefusesWhatCannotGoTogether()
    {
        QVERIFY(usageError({"connect"}).contains("`mcp-broker connect` needs the CLIENT"));
        QVERIFY(usageError({"connect", "emacs"})
                        .contains("Unknown client 'emacs': `mcp-broker connect` knows "
                                  "claude-code, cursor, vscode, codex, windsurf or "
                                  "claude-desktop."));
        QVERIFY(usageError({"connect", "cursor", "--all-servers", "--server", "a"})
                        .contains("either --all-servers or --server"));
        QVERIFY(usageError({"connect", "claude-desktop", "--grant-header"})
                        .contains("Claude Desktop launches `mcp-broker stdio`"));
        QVERIFY(usageError({"connect", "cursor", "--config-file="})
                        .contains("--config-file needs a file name"));
        QVERIFY(usageError({"connect", "cursor", "vscode"}).contains("Too many arguments"));
        QVERIFY(usageError({"connect", "cursor", "--json"}).contains("not an option"));
        // A token pasted where the client goes is not quoted back.
        const QString token = QStringLiteral("mcpb_g0123456789ab_c2VjcmV0LXNlY3JldC1zZWNyZXQ");
        const QString message = usageError({"connect", token});
        QVERIFY(message.startsWith("Unknown client:"));
        QVERIFY(!message.contains(token));
    }

    void disconnectTakesAClientServersAndAFile()
    {
        const Command command = parsed({"disconnect", "windsurf", "--server", "github",
                                        "--config-file", "/tmp/mcp_config.json"});
        QCOMPARE(command.kind, Command::Kind::Disconnect);
        QCOMPARE(command.client, "windsurf");
        QCOMPARE(command.grantServers, QStringList{"github"});
        QCOMPARE(command.clientConfigFile, "/tmp/mcp_config.json");
        QVERIFY(usageError({"disconnect", "windsurf", "--grant-header"}).contains("not an option"));
        QVERIFY(usageError({"disconnect", "windsurf", "--all-servers"}).contains("not an option"));
        QVERIFY(usageError({"disconnect"}).contains("needs the CLIENT"));
    }

    void importTakesOneFile()
    {
        const Command command = parsed({"import", "/home/me/.cursor/mcp.json"});
        QCOMPARE(command.kind, Command::Kind::Import);
        QCOMPARE(command.importFile, "/home/me/.cursor/mcp.json");
        QVERIFY(command.serverName.isEmpty());
        QVERIFY(usageError({"import"}).contains("`mcp-broker import` needs FILE"));
        QVERIFY(usageError({"import", "a.json", "b.json"}).contains("Too many arguments"));
    }

    void stdioServesOneServerOrAll()
    {
        const Command all = parsed({"stdio"});
        QCOMPARE(all.kind, Command::Kind::Stdio);
        QVERIFY(all.serverName.isEmpty());
        const Command one = parsed({"stdio", "--server", "github", "--config", "/tmp/c.json"});
        QCOMPARE(one.serverName, "github");
        QVERIFY(one.grantServers.isEmpty());
        QCOMPARE(one.configPath, "/tmp/c.json");
        QVERIFY(usageError({"stdio", "--server", "a", "--server", "b"}).contains("--server once"));
        QVERIFY(usageError({"stdio", "github"}).contains("Too many arguments"));
    }

    void trayTakesAPortAndTheConfig()
    {
        QCOMPARE(parsed({"tray"}).kind, Command::Kind::Tray);
        QCOMPARE(parsed({"tray", "--config", "/tmp/c.json"}).configPath, "/tmp/c.json");
        QCOMPARE(parsed({"tray", "--port", "8000"}).port, std::optional<quint16>(8000));
        QVERIFY(usageError({"tray", "--json"}).contains("not an option of `mcp-broker tray`"));
        QVERIFY(usageError({"tray", "now"}).contains("Too many arguments"));
    }

    void helpDescribesTheClientCommands()
    {
        for (const char *word : {"connect CLIENT [--all-servers | --server S...] [--grant-header] "
                                 "[--config-file FILE]",
                                 "disconnect CLIENT [--server S]... [--config-file FILE]",
                                 "import FILE", "stdio [--server S]", "tray "}) {
            QVERIFY2(CommandLine::usage().contains(QLatin1String(word)), word);
        }
        for (const char *word :
             {"--grant-header", "--config-file FILE", "--all-servers",
              "claude mcp add --transport http --scope user", "codex mcp login mcp-broker",
              "code --add-mcp", "~/.cursor/mcp.json", "~/.codeium/windsurf/mcp_config.json",
              "claude_desktop_config.json", "mcp-broker-backup-", "comments and key order are lost",
              "Headers and env are never copied"}) {
            QVERIFY2(CommandLine::help().contains(QLatin1String(word)), word);
        }
    }

    void logTailReadsTheNewestEntriesAcrossTheRotatedFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        LogTail nothingYet(path);
        QVERIFY(nothingYet.readLast(5).isEmpty());
        QVERIFY(!nothingYet.exists());

        const qint64 lineSize = store::AuditLog::toJsonLine(auditEntry(0)).size() + 1;
        store::AuditLog log(path, store::AuditLog::Options{lineSize * 3, 3});
        for (int i = 0; i < 5; ++i)
            log.append(auditEntry(i)); // .1: 0-2, current: 3-4
        LogTail tail(path);
        QVERIFY(tail.exists());
        QCOMPARE(toolsOf(tail.readLast(1)), QStringList({"tool_4"}));
        QCOMPARE(toolsOf(tail.readLast(4)), QStringList({"tool_1", "tool_2", "tool_3", "tool_4"}));
        QCOMPARE(tail.readLast(100).size(), 5);

        // Just rotated, nothing written since: the rotated file still answers.
        QVERIFY(QFile::rename(path, path + ".2"));
        QVERIFY(QFile::rename(path + ".1", path));
        QVERIFY(QFile::rename(path, path + ".1"));
        QCOMPARE(toolsOf(tail.readLast(2)), QStringList({"tool_1", "tool_2"}));
        QVERIFY(!tail.exists());
    }

    void logTailFollowsAppendsRotationAndTruncation()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("audit.log"));
        const qint64 lineSize = store::AuditLog::toJsonLine(auditEntry(0)).size() + 1;
        store::AuditLog log(path, store::AuditLog::Options{lineSize * 3, 3});
        log.append(auditEntry(0));
        log.append(auditEntry(1));
        // An entry being written: not a line until its line break arrives.
        QFile raw(path);
        QVERIFY(raw.open(QIODevice::Append | QIODevice::Unbuffered));
        const QByteArray unfinished = store::AuditLog::toJsonLine(auditEntry(2));
        raw.write(unfinished.left(10));

        LogTail tail(path);
        QSignalSpy spy(&tail, &LogTail::appended);
        QCOMPARE(toolsOf(tail.readLast(20)), QStringList({"tool_0", "tool_1"}));
        QVERIFY(tail.follow());
        QCOMPARE(spy.count(), 0);

        raw.write(unfinished.mid(10) + "\nnot an entry\n");
        raw.close();
        QTRY_COMPARE(toolsOf(appendedLines(spy)), QStringList({"tool_2"}));

        log.append(auditEntry(3)); // rotates: 0-2 become audit.log.1
        log.append(auditEntry(4));
        QTRY_COMPARE(toolsOf(appendedLines(spy)), QStringList({"tool_2", "tool_3", "tool_4"}));

        // Truncated in place, then written again.
        QVERIFY(QFile(path).resize(0));
        log.append(auditEntry(5));
        QTRY_COMPARE(toolsOf(appendedLines(spy)),
                     QStringList({"tool_2", "tool_3", "tool_4", "tool_5"}));

        // Deleted, then begun again by the next call.
        QVERIFY(QFile::remove(path));
        log.append(auditEntry(6));
        QTRY_COMPARE(toolsOf(appendedLines(spy)),
                     QStringList({"tool_2", "tool_3", "tool_4", "tool_5", "tool_6"}));
    }

    void logTailWaitsForALogNotWrittenYet()
    {
        QTemporaryDir root;
        const QString dir = root.filePath(QStringLiteral("state/mcp-broker"));
        const QString path = dir + QStringLiteral("/audit.log");
        LogTail tail(path);
        QSignalSpy spy(&tail, &LogTail::appended);
        QVERIFY(tail.readLast(20).isEmpty());
        QVERIFY(tail.follow());
        QVERIFY(QFileInfo(dir).isDir());
        QCOMPARE(QFileInfo(dir).permissions() & (QFile::ReadGroup | QFile::ReadOther),
                 QFile::Permissions());

        store::AuditLog log(path);
        log.append(auditEntry(0));
        QTRY_COMPARE(toolsOf(appendedLines(spy)), QStringList({"tool_0"}));
        log.append(auditEntry(1));
        QTRY_COMPARE(toolsOf(appendedLines(spy)), QStringList({"tool_0", "tool_1"}));
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
