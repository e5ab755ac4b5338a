// InstanceServer and InstanceClient: one running broker per config file, and how other
// `mcp-broker` processes reach it (a user-only local socket in the per-user runtime folder, one
// JSON request and one JSON reply per connection).

#include "Broker.h"
#include "InstanceChannel.h"
#include "InstanceRecord.h"
#include "InstanceService.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <functional>
#include <memory>
#include <optional>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace mcpbroker;
using namespace mcpbroker::app;

namespace {

// What a raw connection got back: the reply line (if any) and whether the server closed it.
struct RawExchange
{
    QJsonObject reply;
    bool replied = false;
    bool closed = false;
};

mode_t modeOf(const QString &path)
{
    struct stat info = {};
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return 0;
    return info.st_mode & 07777;
}

// Leaves a socket file at `path` that nobody listens on, like a broker killed with SIGKILL.
bool leaveDeadSocket(const QString &path)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    const QByteArray encoded = QFile::encodeName(path);
    if (encoded.size() >= qsizetype(sizeof(address.sun_path))) {
        ::close(fd);
        return false;
    }
    qstrncpy(address.sun_path, encoded.constData(), sizeof(address.sun_path));
    const bool bound
            = ::bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof(address)) == 0;
    ::close(fd);
    return bound && QFileInfo::exists(path);
}

// A "login" handler that notes it ran and answers ok.
void answerLogins(InstanceServer *server, bool *handled)
{
    server->setHandler(QStringLiteral("login"),
                       [handled](const QJsonObject &, const InstanceServer::Reply &reply) {
                           *handled = true;
                           reply({{QStringLiteral("ok"), true}});
                       });
}

} // namespace

class TestInstanceChannel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();

    void socketIsUserOnlyInAPrivateFolderOfTheRuntimeDirectory();
    void secondServerForOneConfigGetsConflictNamingTheRunningOne();
    void otherConfigFilesHaveAnInstanceOfTheirOwn();
    void socketLeftByADeadProcessIsTakenOver();
    void socketGoesWithTheServer();
    void requestReachesItsHandlerAndTheReplyComesBack();
    void handlerMayAnswerLater();
    void failureReplyBecomesAnErrorWithItsSentence();
    void malformedRequestIsRefused();
    void unknownCommandIsRefused();
    void oversizedRequestIsRefusedAndClosed();
    void connectionThatSendsNothingIsDropped();
    void clientGivesUpWhenNoReplyComesInTime();
    void clientReportsNotFoundWhenNoInstanceRuns();
    void serviceAnswersStatusAndActivate();
    void serviceAnswersLoginAndLogoutWithTheBrokersSentences();
    void serviceFindsAServerAddedAMomentBefore();

private:
    // A started broker with no servers, its InstanceServer listening and an InstanceService.
    struct RunningBroker
    {
        std::unique_ptr<Broker> broker;
        std::unique_ptr<InstanceServer> server;
    };
    std::optional<RunningBroker> startBroker(const QString &config, std::function<void()> activate);

    QString newConfig();
    RawExchange exchangeRaw(const QString &config, const QByteArray &bytes, int timeoutMs = 5000);
    // InstanceClient::send, waited for.
    std::optional<Result<QJsonObject>> send(const QString &config, const QJsonObject &request,
                                            int timeoutMs = 5000);
    // Whether a request reaches `server`'s handler and its reply comes back.
    bool answersPing(InstanceServer *server, const QString &config);

    QTemporaryDir m_dir;
    int m_configs = 0;
};

void TestInstanceChannel::initTestCase()
{
    // with-keyring.sh gives every test a throwaway XDG_RUNTIME_DIR.
    QVERIFY(qEnvironmentVariableIsSet("XDG_RUNTIME_DIR"));
    QVERIFY(m_dir.isValid());
}

void TestInstanceChannel::init()
{
    // Each test has config files of its own; none may find another test's instance.
    QVERIFY(!InstanceClient::isRunning(m_dir.filePath(QStringLiteral("unused.json"))));
}

QString TestInstanceChannel::newConfig()
{
    return m_dir.filePath(QStringLiteral("config-%1.json").arg(++m_configs));
}

RawExchange TestInstanceChannel::exchangeRaw(const QString &config, const QByteArray &bytes,
                                             int timeoutMs)
{
    RawExchange exchange;
    QLocalSocket socket;
    connect(&socket, &QLocalSocket::disconnected, this, [&exchange] { exchange.closed = true; });
    socket.connectToServer(InstanceServer::socketPath(config));
    if (socket.state() != QLocalSocket::ConnectedState)
        return exchange;
    socket.write(bytes);
    QByteArray received;
    (void)QTest::qWaitFor(
            [&] {
                received += socket.readAll();
                return exchange.closed;
            },
            timeoutMs);
    const qsizetype newline = received.indexOf('\n');
    if (newline >= 0) {
        exchange.reply = QJsonDocument::fromJson(received.left(newline)).object();
        exchange.replied = true;
    }
    return exchange;
}

std::optional<Result<QJsonObject>>
TestInstanceChannel::send(const QString &config, const QJsonObject &request, int timeoutMs)
{
    std::optional<Result<QJsonObject>> outcome;
    InstanceClient::send(config, request, timeoutMs,
                         [&outcome](Result<QJsonObject> reply) { outcome = std::move(reply); });
    (void)QTest::qWaitFor([&outcome] { return outcome.has_value(); }, timeoutMs + 5000);
    return outcome;
}

bool TestInstanceChannel::answersPing(InstanceServer *server, const QString &config)
{
    server->setHandler(QStringLiteral("ping"),
                       [](const QJsonObject &, const InstanceServer::Reply &reply) {
                           reply({{QStringLiteral("ok"), true}, {QStringLiteral("pong"), true}});
                       });
    const auto reply = send(config, {{QStringLiteral("command"), QStringLiteral("ping")}});
    return reply && reply->ok() && reply->value()[QStringLiteral("pong")].toBool();
}

// --- tests -------------------------------------------------------------------------------------

void TestInstanceChannel::socketIsUserOnlyInAPrivateFolderOfTheRuntimeDirectory()
{
    // The folder as this test run finds it: made by the server.
    QVERIFY(QDir(InstanceRecord::directory()).removeRecursively());
    const QString config = newConfig();
    InstanceServer server(config);
    const Result<void> listening = server.listen();
    QVERIFY2(listening.ok(), qPrintable(listening.ok() ? QString() : listening.error().message));

    const QString path = InstanceServer::socketPath(config);
    QCOMPARE(QFileInfo(path).absolutePath(), InstanceRecord::directory());
    QVERIFY2(path.startsWith(qEnvironmentVariable("XDG_RUNTIME_DIR") + QLatin1Char('/')),
             qPrintable(path));
    QVERIFY(QFileInfo(path).isAbsolute());
    struct stat info = {};
    QCOMPARE(::stat(QFile::encodeName(path).constData(), &info), 0);
    QVERIFY(S_ISSOCK(info.st_mode));
    QCOMPARE(modeOf(path) & 077, mode_t(0));
    QCOMPARE(modeOf(InstanceRecord::directory()), mode_t(0700));
}

void TestInstanceChannel::secondServerForOneConfigGetsConflictNamingTheRunningOne()
{
    const QString config = newConfig();
    InstanceServer first(config);
    QVERIFY(first.listen().ok());

    InstanceServer second(config);
    Result<void> taken = second.listen();
    QVERIFY(!taken.ok());
    QCOMPARE(taken.error().kind, Error::Kind::Conflict);
    QVERIFY2(taken.error().message.contains(config), qPrintable(taken.error().message));

    // With the running broker's record, the sentence says which process and port it is.
    QVERIFY(InstanceRecord::write(config, 45678).ok());
    taken = InstanceServer(config).listen();
    QVERIFY(!taken.ok());
    const QString expected
            = QStringLiteral("(pid %1, port 45678)").arg(QCoreApplication::applicationPid());
    QVERIFY2(taken.error().message.contains(expected), qPrintable(taken.error().message));
    InstanceRecord::remove(config);

    // The first one still serves.
    QVERIFY(answersPing(&first, config));
}

void TestInstanceChannel::otherConfigFilesHaveAnInstanceOfTheirOwn()
{
    const QString mine = newConfig();
    const QString other = newConfig();
    InstanceServer first(mine);
    QVERIFY(first.listen().ok());
    QVERIFY(InstanceClient::isRunning(mine));
    QVERIFY(!InstanceClient::isRunning(other));
    InstanceServer second(other);
    QVERIFY(second.listen().ok());
    QVERIFY(InstanceServer::socketPath(mine) != InstanceServer::socketPath(other));
}

void TestInstanceChannel::socketLeftByADeadProcessIsTakenOver()
{
    const QString config = newConfig();
    const QString path = InstanceServer::socketPath(config);
    QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
    QVERIFY(leaveDeadSocket(path));
    QVERIFY(!InstanceClient::isRunning(config));

    InstanceServer server(config);
    const Result<void> listening = server.listen();
    QVERIFY2(listening.ok(), qPrintable(listening.ok() ? QString() : listening.error().message));
    QVERIFY(InstanceClient::isRunning(config));
    QVERIFY(answersPing(&server, config));
}

void TestInstanceChannel::socketGoesWithTheServer()
{
    const QString config = newConfig();
    auto server = std::make_unique<InstanceServer>(config);
    QVERIFY(server->listen().ok());
    QVERIFY(QFileInfo::exists(InstanceServer::socketPath(config)));
    server.reset();
    QVERIFY(!QFileInfo::exists(InstanceServer::socketPath(config)));
    QVERIFY(!InstanceClient::isRunning(config));
    // A new one takes its place without trouble.
    QVERIFY(InstanceServer(config).listen().ok());
}

void TestInstanceChannel::requestReachesItsHandlerAndTheReplyComesBack()
{
    const QString config = newConfig();
    InstanceServer server(config);
    QVERIFY(server.listen().ok());
    QJsonObject received;
    server.setHandler(QStringLiteral("login"),
                      [&received](const QJsonObject &request, const InstanceServer::Reply &reply) {
                          received = request;
                          reply({{QStringLiteral("ok"), true},
                                 {QStringLiteral("server"), request[QStringLiteral("server")]}});
                      });
    const QJsonObject request{{QStringLiteral("command"), QStringLiteral("login")},
                              {QStringLiteral("server"), QStringLiteral("notes")}};
    const auto reply = send(config, request);
    QVERIFY(reply.has_value());
    QVERIFY2(reply->ok(), qPrintable(reply->ok() ? QString() : reply->error().message));
    QCOMPARE(received, request);
    QCOMPARE(reply->value()[QStringLiteral("server")].toString(), QStringLiteral("notes"));

    // On the wire: one line back, then the server closes the connection.
    const RawExchange raw = exchangeRaw(config,
                                        R"({"command":"login","server":"raw"})"
                                        "\n");
    QVERIFY(raw.replied);
    QVERIFY(raw.closed);
    QCOMPARE(raw.reply[QStringLiteral("server")].toString(), QStringLiteral("raw"));
}

void TestInstanceChannel::handlerMayAnswerLater()
{
    const QString config = newConfig();
    InstanceServer server(config);
    QVERIFY(server.listen().ok());
    std::optional<InstanceServer::Reply> pending;
    server.setHandler(QStringLiteral("login"),
                      [&pending](const QJsonObject &, const InstanceServer::Reply &reply) {
                          pending = reply;
                      });
    std::optional<Result<QJsonObject>> outcome;
    InstanceClient::send(config, {{QStringLiteral("command"), QStringLiteral("login")}}, 30'000,
                         [&outcome](Result<QJsonObject> reply) { outcome = std::move(reply); });
    QTRY_VERIFY_WITH_TIMEOUT(pending.has_value(), 5000);
    QVERIFY(!outcome.has_value());
    // The reply is sent once: a second answer is dropped.
    (*pending)({{QStringLiteral("ok"), true}, {QStringLiteral("answer"), 1}});
    (*pending)({{QStringLiteral("ok"), true}, {QStringLiteral("answer"), 2}});
    QTRY_VERIFY_WITH_TIMEOUT(outcome.has_value(), 5000);
    QVERIFY(outcome->ok());
    QCOMPARE(outcome->value()[QStringLiteral("answer")].toInt(), 1);
}

void TestInstanceChannel::failureReplyBecomesAnErrorWithItsSentence()
{
    const QString config = newConfig();
    InstanceServer server(config);
    QVERIFY(server.listen().ok());
    server.setHandler(
            QStringLiteral("logout"), [](const QJsonObject &, const InstanceServer::Reply &reply) {
                reply({{QStringLiteral("ok"), false},
                       {QStringLiteral("error"), QStringLiteral("No enabled server named 'x'.")}});
            });
    const auto reply = send(config, {{QStringLiteral("command"), QStringLiteral("logout")}});
    QVERIFY(reply.has_value());
    QVERIFY(!reply->ok());
    QCOMPARE(reply->error().message, QStringLiteral("No enabled server named 'x'."));
}

void TestInstanceChannel::malformedRequestIsRefused()
{
    const QString config = newConfig();
    InstanceServer server(config);
    QVERIFY(server.listen().ok());
    bool handled = false;
    answerLogins(&server, &handled);
    for (const QByteArray &line :
         {QByteArray("not json\n"), QByteArray("[\"login\"]\n"),
          QByteArray("{\"server\": \"x\"}\n"), QByteArray("{\"command\": 7}\n")}) {
        const RawExchange raw = exchangeRaw(config, line);
        QVERIFY2(raw.replied, line.constData());
        QVERIFY2(raw.closed, line.constData());
        QCOMPARE(raw.reply[QStringLiteral("ok")], QJsonValue(false));
        QVERIFY2(!raw.reply[QStringLiteral("error")].toString().isEmpty(), line.constData());
    }
    QVERIFY(!handled);
}

void TestInstanceChannel::unknownCommandIsRefused()
{
    const QString config = newConfig();
    InstanceServer server(config);
    QVERIFY(server.listen().ok());
    const auto reply = send(config, {{QStringLiteral("command"), QStringLiteral("self-destruct")}});
    QVERIFY(reply.has_value());
    QVERIFY(!reply->ok());
    QVERIFY2(reply->error().message.contains(QStringLiteral("'self-destruct'")),
             qPrintable(reply->error().message));
}

void TestInstanceChannel::oversizedRequestIsRefusedAndClosed()
{
    const QString config = newConfig();
    InstanceServer server(config);
    QVERIFY(server.listen().ok());
    bool handled = false;
    answerLogins(&server, &handled);
    // 100 KiB of one JSON string, with and without the end of the line.
    const QByteArray big = R"({"command":"login","server":")" + QByteArray(100 * 1024, 'x') + "\"}";
    for (const QByteArray &request : {big, big + '\n'}) {
        const RawExchange raw = exchangeRaw(config, request);
        QVERIFY(raw.closed);
        if (raw.replied)
            QCOMPARE(raw.reply[QStringLiteral("ok")], QJsonValue(false));
    }
    QVERIFY(!handled);
    // Up to 64 KiB is fine.
    const RawExchange fits = exchangeRaw(
            config, R"({"command":"login","server":")" + QByteArray(60 * 1024, 'x') + "\"}\n");
    QVERIFY(fits.replied);
    QCOMPARE(fits.reply[QStringLiteral("ok")], QJsonValue(true));
}

void TestInstanceChannel::connectionThatSendsNothingIsDropped()
{
    const QString config = newConfig();
    InstanceServer server(config);
    QVERIFY(server.listen().ok());
    // Half a request, then nothing: the server closes the connection after 5 seconds.
    const RawExchange raw = exchangeRaw(config, R"({"command":)", 10'000);
    QVERIFY(raw.closed);
    QVERIFY(!raw.replied);
}

void TestInstanceChannel::clientGivesUpWhenNoReplyComesInTime()
{
    const QString config = newConfig();
    InstanceServer server(config);
    QVERIFY(server.listen().ok());
    server.setHandler(QStringLiteral("login"),
                      [](const QJsonObject &, const InstanceServer::Reply &) {});
    const auto reply = send(config, {{QStringLiteral("command"), QStringLiteral("login")}}, 300);
    QVERIFY(reply.has_value());
    QVERIFY(!reply->ok());
    QCOMPARE(reply->error().kind, Error::Kind::Timeout);
}

void TestInstanceChannel::clientReportsNotFoundWhenNoInstanceRuns()
{
    const QString config = newConfig();
    QVERIFY(!InstanceClient::isRunning(config));
    const auto reply = send(config, {{QStringLiteral("command"), QStringLiteral("status")}});
    QVERIFY(reply.has_value());
    QVERIFY(!reply->ok());
    QCOMPARE(reply->error().kind, Error::Kind::NotFound);
}

std::optional<TestInstanceChannel::RunningBroker>
TestInstanceChannel::startBroker(const QString &config, std::function<void()> activate)
{
    Broker::Options options;
    options.configPath = config;
    options.port = 0;
    options.keychainService = QStringLiteral("mcp-broker-tst-instancechannel");
    options.auditLogPath = m_dir.filePath(QStringLiteral("audit.log"));
    RunningBroker running{std::make_unique<Broker>(options),
                          std::make_unique<InstanceServer>(config)};
    if (!running.server->listen().ok() || !running.broker->start().ok())
        return std::nullopt;
    new InstanceService(running.broker.get(), running.server.get(), std::move(activate));
    return running;
}

void TestInstanceChannel::serviceAnswersStatusAndActivate()
{
    const QString headlessConfig = newConfig();
    const auto headless = startBroker(headlessConfig, {});
    QVERIFY(headless.has_value());
    const auto status
            = send(headlessConfig, {{QStringLiteral("command"), QStringLiteral("status")}});
    QVERIFY(status && status->ok());
    QCOMPARE(status->value()[QStringLiteral("port")].toInt(), int(headless->broker->port()));
    QCOMPARE(status->value()[QStringLiteral("pid")].toInteger(),
             QCoreApplication::applicationPid());
    const auto noWindow
            = send(headlessConfig, {{QStringLiteral("command"), QStringLiteral("activate")}});
    QVERIFY(noWindow && noWindow->ok());
    QCOMPARE(noWindow->value()[QStringLiteral("headless")], QJsonValue(true));

    const QString windowConfig = newConfig();
    int activations = 0;
    const auto windowed = startBroker(windowConfig, [&activations] { ++activations; });
    QVERIFY(windowed.has_value());
    const auto shown
            = send(windowConfig, {{QStringLiteral("command"), QStringLiteral("activate")}});
    QVERIFY(shown && shown->ok());
    QCOMPARE(activations, 1);
    QVERIFY(!shown->value().contains(QStringLiteral("headless")));
}

void TestInstanceChannel::serviceAnswersLoginAndLogoutWithTheBrokersSentences()
{
    const QString config = newConfig();
    const auto running = startBroker(config, {});
    QVERIFY(running.has_value());
    for (const QString &command : {QStringLiteral("login"), QStringLiteral("logout")}) {
        const auto unknown = send(config,
                                  {{QStringLiteral("command"), command},
                                   {QStringLiteral("server"), QStringLiteral("nowhere")}});
        QVERIFY(unknown.has_value());
        QVERIFY(!unknown->ok());
        QVERIFY2(unknown->error().message.contains(QStringLiteral("'nowhere'")),
                 qPrintable(unknown->error().message));
        const auto unnamed = send(config, {{QStringLiteral("command"), command}});
        QVERIFY(unnamed && !unnamed->ok());
        QVERIFY2(unnamed->error().message.contains(QStringLiteral("server")),
                 qPrintable(unnamed->error().message));
    }
}

void TestInstanceChannel::serviceFindsAServerAddedAMomentBefore()
{
    const QString config = newConfig();
    const auto running = startBroker(config, {});
    QVERIFY(running.has_value());
    // `mcp-broker add late … --oauth && mcp-broker logout late`: the request comes before the
    // broker's file watcher has applied the new config file.
    QFile file(config);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(
            R"({"servers": [{"name": "late", "url": "http://127.0.0.1:9/mcp", "auth": "oauth"}]})");
    file.close();
    std::optional<Result<QJsonObject>> outcome;
    InstanceClient::send(config,
                         {{QStringLiteral("command"), QStringLiteral("logout")},
                          {QStringLiteral("server"), QStringLiteral("late")}},
                         15'000, [&outcome](Result<QJsonObject> reply) { outcome = reply; });
    QTRY_VERIFY_WITH_TIMEOUT(outcome.has_value(), 15'000);
    QVERIFY2(outcome->ok(), qPrintable(outcome->ok() ? QString() : outcome->error().message));
}

QTEST_GUILESS_MAIN(TestInstanceChannel)
#include "tst_instancechannel.moc"
