#include "InstanceChannel.h"

#include "AppLogging.h"
#include "InstanceRecord.h"
#include "store/AtomicFile.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLocalServer>
#include <QLocalSocket>
#include <QLockFile>
#include <QPointer>
#include <QTimer>

#include <memory>
#include <utility>

namespace mcpbroker::app {

namespace {

// A request or reply is one short JSON object: anything longer is not one of ours.
constexpr qint64 kMaxLineBytes = 64 * 1024;
// How long a connection may take to send its request (the reply may take longer).
constexpr int kRequestTimeoutMs = 5000;
// How long a second instance starting at the same moment may keep us from the socket.
constexpr int kLockTimeoutMs = 2000;

QByteArray lineOf(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}

QJsonObject failure(const QString &sentence)
{
    return {{QStringLiteral("ok"), false}, {QStringLiteral("error"), sentence}};
}

// Whether a process accepts connections on `path`. Connecting to a local socket succeeds or
// fails at once (a full backlog leaves it connecting, which also means someone listens).
bool answers(const QString &path)
{
    QLocalSocket socket;
    socket.connectToServer(path);
    const bool listening = socket.state() != QLocalSocket::UnconnectedState;
    socket.abort();
    return listening;
}

QString alreadyRunning(const QString &configPath)
{
    const QString config = QFileInfo(configPath).absoluteFilePath();
    const std::optional<InstanceRecord::Entry> record = InstanceRecord::find(configPath);
    const QString who = record
            ? QStringLiteral("MCP Broker is already running for %1 (pid %2, "
                             "port %3).")
                      .arg(config)
                      .arg(record->pid)
                      .arg(record->port)
            : QStringLiteral("MCP Broker is already running for %1.").arg(config);
    return who
            + QStringLiteral(" Stop it first, or start this one with another config file "
                             "(--config FILE).");
}

QString duration(int ms)
{
    if (ms >= 120'000)
        return QStringLiteral("%1 minutes").arg(ms / 60'000);
    return QStringLiteral("%1 seconds").arg(qMax(1, ms / 1000));
}

} // namespace

InstanceServer::InstanceServer(QString configPath, QObject *parent)
    : QObject(parent), m_configPath(std::move(configPath)), m_server(new QLocalServer(this))
{
    connect(m_server, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket *socket = m_server->nextPendingConnection())
            serve(socket);
    });
}

InstanceServer::~InstanceServer() = default; // QLocalServer removes its socket file

QString InstanceServer::socketPath(const QString &configPath)
{
#ifdef Q_OS_WIN
    // A pipe name, not a file; UserAccessOption keeps other users out.
    return QStringLiteral("mcp-broker-%1-control-%2")
            .arg(qEnvironmentVariable("USERNAME"), InstanceRecord::configKey(configPath));
#else
    // A full path: a bare name would land in the shared temporary folder.
    return InstanceRecord::directory()
            + QStringLiteral("/control-%1.sock").arg(InstanceRecord::configKey(configPath));
#endif
}

Result<void> InstanceServer::listen()
{
    const QString path = socketPath(m_configPath);
#ifndef Q_OS_WIN
    if (auto made = store::AtomicFile::makePrivateDirectories(QFileInfo(path).path()); !made)
        return made.error();
    // Two instances starting at once must not both find the socket free and both take it.
    QLockFile lock(path + QStringLiteral(".lock"));
    if (!lock.tryLock(kLockTimeoutMs))
        return Error::make(Error::Kind::Conflict, alreadyRunning(m_configPath));
#endif
    if (answers(path))
        return Error::make(Error::Kind::Conflict, alreadyRunning(m_configPath));
    // Left by a process that died: nobody answers on it.
    QLocalServer::removeServer(path);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!m_server->listen(path)) {
        return Error::make(Error::Kind::Io,
                           QStringLiteral("Could not open MCP Broker's control socket %1: %2.")
                                   .arg(QDir::toNativeSeparators(path), m_server->errorString()));
    }
    qCDebug(lcApp).noquote() << "Control socket:" << path;
    return {};
}

void InstanceServer::setHandler(const QString &command, Handler handler)
{
    m_handlers.insert(command, std::move(handler));
}

void InstanceServer::serve(QLocalSocket *socket)
{
    connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
    // Answers once, also when the handler takes minutes and the caller is gone by then.
    const Reply reply = [socket = QPointer<QLocalSocket>(socket),
                         answered = std::make_shared<bool>(false)](const QJsonObject &answer) {
        if (std::exchange(*answered, true) || !socket)
            return;
        socket->write(lineOf(answer));
        socket->disconnectFromServer(); // after the reply is written
    };

    auto *deadline = new QTimer(socket);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, socket, [socket] {
        qCDebug(lcApp) << "Dropped a control connection that sent no request in time";
        socket->abort();
    });
    deadline->start(kRequestTimeoutMs);

    // The deadline is the context: stopping to read is disconnecting from it.
    connect(socket, &QLocalSocket::readyRead, deadline, [this, socket, deadline, reply] {
        if (!socket->canReadLine() && socket->bytesAvailable() <= kMaxLineBytes)
            return; // more to come
        deadline->stop();
        disconnect(socket, &QLocalSocket::readyRead, deadline, nullptr);
        const QByteArray line = socket->readLine(kMaxLineBytes + 2);
        if (!line.endsWith('\n')) {
            reply(failure(QStringLiteral("The request is larger than %1 KiB.")
                                  .arg(kMaxLineBytes / 1024)));
            return;
        }
        dispatch(line, reply);
    });
}

void InstanceServer::dispatch(const QByteArray &line, const Reply &reply)
{
    const QJsonDocument document = QJsonDocument::fromJson(line);
    const QJsonValue command = document.object().value(QStringLiteral("command"));
    if (!document.isObject() || !command.isString()) {
        reply(failure(QStringLiteral("The request is not a JSON object with a \"command\".")));
        return;
    }
    const auto handler = m_handlers.constFind(command.toString());
    if (handler == m_handlers.cend()) {
        reply(failure(QStringLiteral("Unknown command '%1'.").arg(command.toString().left(64))));
        return;
    }
    qCDebug(lcApp).noquote() << "Control request:" << command.toString();
    (*handler)(document.object(), reply);
}

namespace InstanceClient {

bool isRunning(const QString &configPath)
{
    return answers(InstanceServer::socketPath(configPath));
}

void send(const QString &configPath, const QJsonObject &request, int timeoutMs,
          std::function<void(Result<QJsonObject>)> done)
{
    struct Exchange
    {
        std::function<void(Result<QJsonObject>)> done;
        bool connected = false;
    };
    auto *socket = new QLocalSocket;
    auto exchange = std::make_shared<Exchange>(Exchange{std::move(done)});
    auto finish = [socket, exchange](Result<QJsonObject> result) {
        if (!exchange->done)
            return;
        socket->disconnect(); // no further signals
        socket->abort();
        socket->deleteLater();
        // Never from inside send(): the caller may not be ready for the answer yet.
        QTimer::singleShot(0,
                           [callback = std::exchange(exchange->done, nullptr),
                            result = std::move(result)] { callback(result); });
    };
    auto readReply = [socket, finish] {
        if (!socket->canReadLine()) {
            if (socket->bytesAvailable() > kMaxLineBytes)
                finish(Error::make(Error::Kind::Protocol,
                                   QStringLiteral("MCP Broker's answer is too long.")));
            return;
        }
        const QJsonObject reply = QJsonDocument::fromJson(socket->readLine()).object();
        if (!reply.value(QStringLiteral("ok")).isBool()) {
            finish(Error::make(Error::Kind::Protocol,
                               QStringLiteral("MCP Broker answered something that is not a "
                                              "reply.")));
        } else if (!reply.value(QStringLiteral("ok")).toBool()) {
            const QString error = reply.value(QStringLiteral("error")).toString();
            finish(Error::make(Error::Kind::Generic,
                               error.isEmpty() ? QStringLiteral("MCP Broker refused without "
                                                                "saying why.")
                                               : error));
        } else {
            finish(reply);
        }
    };

    auto *deadline = new QTimer(socket);
    deadline->setSingleShot(true);
    QObject::connect(deadline, &QTimer::timeout, socket, [finish, timeoutMs] {
        finish(Error::make(
                Error::Kind::Timeout,
                QStringLiteral("MCP Broker did not answer within %1.").arg(duration(timeoutMs))));
    });
    QObject::connect(socket, &QLocalSocket::connected, socket, [socket, exchange, request] {
        exchange->connected = true;
        socket->write(lineOf(request));
    });
    QObject::connect(socket, &QLocalSocket::readyRead, socket, readReply);
    QObject::connect(socket, &QLocalSocket::disconnected, socket, [readReply, finish] {
        readReply();
        finish(Error::make(Error::Kind::Unreachable,
                           QStringLiteral("MCP Broker closed the connection without answering.")));
    });
    QObject::connect(
            socket, &QLocalSocket::errorOccurred, socket,
            [socket, exchange, finish, configPath](QLocalSocket::LocalSocketError error) {
                if (error == QLocalSocket::PeerClosedError)
                    return; // `disconnected` follows
                if (exchange->connected) {
                    finish(Error::make(Error::Kind::Unreachable,
                                       QStringLiteral("Lost the connection to MCP Broker: %1.")
                                               .arg(socket->errorString())));
                    return;
                }
                finish(Error::make(Error::Kind::NotFound,
                                   QStringLiteral("MCP Broker is not running for %1.")
                                           .arg(QFileInfo(configPath).absoluteFilePath())));
            });
    deadline->start(timeoutMs);
    socket->connectToServer(InstanceServer::socketPath(configPath));
}

} // namespace InstanceClient

} // namespace mcpbroker::app
