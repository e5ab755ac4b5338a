#include "StatusCommand.h"

#include "Console.h"
#include "ExitCode.h"
#include "InstanceRecord.h"
#include "ServerListing.h"
#include "StatusReport.h"
#include "store/ConfigStore.h"

#include <QDateTime>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>

#include <nlohmann/json.hpp>

namespace mcpbroker::app {

StatusCommand::StatusCommand(Command command, QObject *parent)
    : AsyncCommand(std::move(command), parent), m_network(new QNetworkAccessManager(this))
{
    // The broker is on this machine: a proxy from the environment must not get in between.
    m_network->setProxy(QNetworkProxy::NoProxy);
}

void StatusCommand::start()
{
    auto config = store::ConfigStore(command().configFilePath()).load();
    if (!config) {
        Console::err(config.error().message);
        finish(kExitFailed);
        return;
    }
    m_config = std::move(config).value();
    // Told, else where a running broker for this config noted it listens, else the config's.
    m_port = command().port
            ? *command().port
            : InstanceRecord::port(command().configFilePath()).value_or(m_config.port);

    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1/status").arg(m_port)));
    request.setTransferTimeout(kTimeoutMs);
    request.setRawHeader("Accept", "application/json");
    QNetworkReply *reply = m_network->get(request);
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        onReply(reply);
    });
}

void StatusCommand::onReply(QNetworkReply *reply)
{
    switch (reply->error()) {
    case QNetworkReply::NoError:
        break;
    case QNetworkReply::ConnectionRefusedError:
        reportNotRunning();
        return;
    case QNetworkReply::OperationCanceledError: // the transfer timeout
    case QNetworkReply::TimeoutError:
        Console::err(QStringLiteral("Something listens on port %1 but did not answer within %2 "
                                    "seconds: is it MCP Broker?")
                             .arg(m_port)
                             .arg(kTimeoutMs / 1000));
        finish(kExitFailed);
        return;
    default:
        if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).isValid())
            break; // an HTTP error status: judged below, like any other answer
        Console::err(QStringLiteral("Could not ask MCP Broker on port %1: %2.")
                             .arg(m_port)
                             .arg(reply->errorString()));
        finish(kExitFailed);
        return;
    }

    const int httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const auto status = httpStatus == 200 ? StatusReport::parse(reply->readAll()) : std::nullopt;
    if (!status) {
        Console::err(QStringLiteral("Something else answers on port %1 (HTTP %2): it is not MCP "
                                    "Broker.")
                             .arg(m_port)
                             .arg(httpStatus));
        finish(kExitFailed);
        return;
    }
    if (command().json) {
        nlohmann::json answer = *status;
        answer["running"] = true;
        Console::out(QString::fromStdString(answer.dump(2)));
    } else {
        Console::out(
                StatusReport::lines(*status, QDateTime::currentDateTime()).join(QLatin1Char('\n')));
    }
    finish(kExitOk);
}

void StatusCommand::reportNotRunning()
{
    const QString sentence = QStringLiteral("MCP Broker is not running on port %1. Start it with "
                                            "`mcp-broker serve`.")
                                     .arg(m_port);
    if (command().json) {
        Console::err(sentence);
        const nlohmann::ordered_json answer = {
                {"running", false}, {"port", m_port}, {"servers", ServerListing::toJson(m_config)}};
        Console::out(QString::fromStdString(answer.dump(2)));
    } else {
        QStringList lines = {sentence};
        if (!m_config.servers.isEmpty())
            lines.append(QStringLiteral("Configured servers:"));
        Console::out((lines + ServerListing::lines(m_config)).join(QLatin1Char('\n')));
    }
    finish(kExitNotRunning);
}

} // namespace mcpbroker::app
