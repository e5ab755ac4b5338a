#include "BrokerProcess.h"

#include "Peers.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QTest>

namespace mcpbroker::integration {

namespace {

// Whether a GET /status body shows every wanted server in its wanted state.
bool statusShows(const QByteArray &body, const QMap<QString, QString> &wanted)
{
    const QJsonArray servers
            = QJsonDocument::fromJson(body).object().value(QStringLiteral("servers")).toArray();
    for (auto it = wanted.cbegin(); it != wanted.cend(); ++it) {
        bool matched = false;
        for (const QJsonValue &server : servers) {
            const QJsonObject object = server.toObject();
            if (object.value(QStringLiteral("name")).toString() == it.key()
                && object.value(QStringLiteral("state")).toString() == it.value())
                matched = true;
        }
        if (!matched)
            return false;
    }
    return true;
}

const QRegularExpression &grantTokenPattern()
{
    static const QRegularExpression token(QStringLiteral("mcpb_[A-Za-z0-9_-]+"));
    return token;
}

// `text` with every local grant token replaced by a placeholder.
QByteArray withoutTokens(const QByteArray &text)
{
    QString redacted = QString::fromUtf8(text);
    redacted.replace(grantTokenPattern(), QStringLiteral("<grant token withheld>"));
    return redacted.toUtf8();
}

} // namespace

BrokerProcess::BrokerProcess() : m_environment(QProcessEnvironment::systemEnvironment())
{
    // Nothing from the developer's shell may redirect the broker to another config.
    m_environment.remove(QStringLiteral("MCP_BROKER_CONFIG"));
}

BrokerProcess::~BrokerProcess() = default;

QString BrokerProcess::configDirectory() const
{
    return m_directory.path();
}

QString BrokerProcess::configPath() const
{
    return m_directory.filePath(QStringLiteral("config.json"));
}

bool BrokerProcess::writeConfig(const QByteArray &bytes) const
{
    QFile file(configPath());
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            && file.write(bytes) == bytes.size() && file.flush();
}

std::unique_ptr<PeerProcess> BrokerProcess::makeProcess(const QString &label,
                                                        const QStringList &arguments) const
{
    QStringList command = m_launcher;
    command << brokerBinary() << QStringLiteral("--config") << configPath() << arguments;
    auto process = std::make_unique<PeerProcess>(label, command.takeFirst(), command);
    process->setEnvironment(m_environment);
    return process;
}

CliResult BrokerProcess::run(const QStringList &arguments, const QByteArray &standardInput,
                             int timeoutMs) const
{
    const std::unique_ptr<PeerProcess> process
            = makeProcess(QStringLiteral("mcp-broker"), arguments);
    process->setStandardInput(standardInput);
    return process->run(timeoutMs);
}

CliResult BrokerProcess::add(const QString &name, const QUrl &url,
                             const std::optional<QByteArray> &bearer,
                             const QList<SecretHeader> &secretHeaders,
                             const QStringList &plainHeaders) const
{
    QStringList arguments{QStringLiteral("add"), name, url.toString()};
    QByteArray input;
    if (bearer) {
        arguments << QStringLiteral("--bearer-stdin");
        input += *bearer + '\n';
    }
    for (const SecretHeader &header : secretHeaders) {
        arguments << QStringLiteral("--header-stdin") << QString::fromLatin1(header.name);
        input += header.value + '\n';
    }
    for (const QString &header : plainHeaders)
        arguments << QStringLiteral("--header") << header;
    return run(arguments, input);
}

GrantCreation BrokerProcess::createGrant(const QString &client, const QStringList &servers,
                                         const QString &expiresIn) const
{
    QStringList arguments{QStringLiteral("grant"), QStringLiteral("create"), client};
    for (const QString &server : servers)
        arguments << QStringLiteral("--server") << server;
    if (!expiresIn.isEmpty())
        arguments << QStringLiteral("--expires-in") << expiresIn;
    GrantCreation creation;
    creation.cli = run(arguments);
    static const QRegularExpression oneToken(QStringLiteral("^mcpb_[A-Za-z0-9_-]+\n?$"));
    if (creation.cli.succeeded()
        && oneToken.match(QString::fromLatin1(creation.cli.out)).hasMatch())
        creation.token = creation.cli.out.trimmed();
    creation.tokenOnStandardError
            = grantTokenPattern().match(QString::fromUtf8(creation.cli.err)).hasMatch();
    creation.cli.out = withoutTokens(creation.cli.out);
    creation.cli.err = withoutTokens(creation.cli.err);
    return creation;
}

CliResult BrokerProcess::revokeGrant(const QString &clientOrId) const
{
    return run({QStringLiteral("grant"), QStringLiteral("revoke"), clientOrId});
}

RawHeaders BrokerProcess::authorization() const
{
    if (m_token.isEmpty())
        return {};
    return {{QByteArray("Authorization"), "Bearer " + m_token}};
}

bool BrokerProcess::makeDefaultGrant()
{
    if (!m_makeDefaultGrant || !m_token.isEmpty())
        return !m_token.isEmpty();
    const GrantCreation grant = createGrant(QStringLiteral("integration-tests"));
    if (!grant.succeeded()) {
        m_grantFailure = QStringLiteral("the default grant could not be made:") + grant.describe();
        return false;
    }
    m_grantFailure.clear();
    m_token = grant.token;
    return true;
}

bool BrokerProcess::start(const QStringList &extraServeArguments, int timeoutMs)
{
    if (m_makeDefaultGrant && !makeDefaultGrant())
        return false;
    m_serve = makeProcess(
            QStringLiteral("mcp-broker serve"),
            QStringList{QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0")}
                    + extraServeArguments);
    m_serve->start();
    static const QRegularExpression listening(
            QStringLiteral("^MCP Broker listening on http://127\\.0\\.0\\.1:(\\d+)/mcp$"));
    const QRegularExpressionMatch match = m_serve->waitForStdoutLine(listening, timeoutMs);
    m_port = match.hasMatch() ? match.captured(1).toUShort() : 0;
    return m_port != 0;
}

bool BrokerProcess::isRunning() const
{
    return m_serve && m_serve->isRunning();
}

bool BrokerProcess::stop(int timeoutMs)
{
    return m_serve && m_serve->terminate(timeoutMs) && m_serve->hasExitedNormally();
}

QUrl BrokerProcess::endpoint() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp").arg(m_port));
}

QUrl BrokerProcess::serverEndpoint(const QString &name) const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/mcp/%2").arg(m_port).arg(name));
}

QUrl BrokerProcess::statusUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/status").arg(m_port));
}

QJsonObject BrokerProcess::serverStatus(const QString &name) const
{
    McpHttp http;
    const HttpResult answer = http.get(statusUrl(), authorization());
    const QJsonArray servers = QJsonDocument::fromJson(answer.body)
                                       .object()
                                       .value(QStringLiteral("servers"))
                                       .toArray();
    for (const QJsonValue &server : servers) {
        if (server[QStringLiteral("name")].toString() == name)
            return server.toObject();
    }
    return {};
}

bool BrokerProcess::waitForServerStates(const QMap<QString, QString> &wanted, int timeoutMs,
                                        QString *lastStatus)
{
    constexpr int kPollIntervalMs = 100;
    QNetworkAccessManager network;
    std::unique_ptr<QNetworkReply> inFlight;
    QElapsedTimer sinceLastAnswer;
    QByteArray lastAnswer = "(no answer yet)";
    bool reached = false;
    auto poll = [&] {
        if (inFlight && inFlight->isFinished()) {
            const int status
                    = inFlight->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            const QByteArray body = inFlight->readAll();
            reached = status == 200 && statusShows(body, wanted);
            lastAnswer = "HTTP " + QByteArray::number(status) + ": "
                    + (status ? body : inFlight->errorString().toUtf8());
            inFlight.reset();
            sinceLastAnswer.start();
        }
        if (reached || !isRunning())
            return true;
        if (!inFlight
            && (!sinceLastAnswer.isValid() || sinceLastAnswer.elapsed() >= kPollIntervalMs))
            inFlight.reset(network.get(QNetworkRequest(statusUrl())));
        return false;
    };
    (void)QTest::qWaitFor(poll, timeoutMs); // `reached` says whether it got there
    if (lastStatus)
        *lastStatus = QString::fromUtf8(lastAnswer);
    return reached;
}

bool BrokerProcess::waitUntilReady(const QStringList &servers, int timeoutMs, QString *lastStatus)
{
    QMap<QString, QString> wanted;
    for (const QString &server : servers)
        wanted.insert(server, QStringLiteral("ready"));
    return waitForServerStates(wanted, timeoutMs, lastStatus);
}

QString BrokerProcess::diagnostics() const
{
    if (!m_grantFailure.isEmpty())
        return m_grantFailure;
    return m_serve ? m_serve->diagnostics() : QStringLiteral("(broker not started)");
}

} // namespace mcpbroker::integration
