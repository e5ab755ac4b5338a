#include "KeyringSession.h"

#include "Peers.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <csignal>
#include <utility>

namespace mcpbroker::integration {

namespace {

const char kLoginCollection[] = "/org/freedesktop/secrets/collection/login";

} // namespace

KeyringSession::KeyringSession() = default;
KeyringSession::~KeyringSession() = default;

QProcessEnvironment KeyringSession::toolEnvironment() const
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    applyTo(environment);
    return environment;
}

void KeyringSession::applyTo(QProcessEnvironment &environment) const
{
    for (const char *variable : {"DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL"})
        environment.remove(QLatin1String(variable));
    environment.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), m_address);
    if (m_keyring)
        environment.insert(QStringLiteral("GNOME_KEYRING_CONTROL"),
                           m_directory.filePath(QStringLiteral("run/keyring")));
}

bool KeyringSession::start(Keychain keychain, QString *why)
{
    if (!m_directory.isValid()) {
        *why = QStringLiteral("no temporary directory");
        return false;
    }
    const QString busConfig = QFileInfo(keyringWrapper()).absolutePath()
            + QStringLiteral("/bus-without-services.conf");
    m_bus = std::make_unique<PeerProcess>(
            QStringLiteral("private D-Bus"), QStringLiteral("dbus-daemon"),
            QStringList{QStringLiteral("--config-file=") + busConfig, QStringLiteral("--nofork"),
                        QStringLiteral("--print-address=1")});
    m_bus->start();
    const QRegularExpressionMatch address = m_bus->waitForStdoutLine(
            QRegularExpression(QStringLiteral("^(unix:.+)$")), kStartTimeoutMs);
    if (!address.hasMatch()) {
        *why = QStringLiteral("the private bus did not start:") + m_bus->diagnostics();
        return false;
    }
    m_address = address.captured(1);
    if (keychain == Keychain::None)
        return true;

    for (const char *sub : {"data", "config", "cache", "run"})
        QDir(m_directory.path()).mkpath(QLatin1String(sub));
    QFile::setPermissions(m_directory.filePath(QStringLiteral("run")),
                          QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    m_keyring = std::make_unique<PeerProcess>(
            QStringLiteral("private gnome-keyring"), QStringLiteral("gnome-keyring-daemon"),
            QStringList{QStringLiteral("--foreground"), QStringLiteral("--unlock"),
                        QStringLiteral("--components=secrets"),
                        QStringLiteral("--control-directory=")
                                + m_directory.filePath(QStringLiteral("run/keyring"))});
    QProcessEnvironment environment = toolEnvironment();
    environment.remove(QStringLiteral("GNOME_KEYRING_CONTROL"));
    for (const auto &[variable, sub] : {std::pair{"XDG_DATA_HOME", "data"},
                                        {"XDG_CONFIG_HOME", "config"},
                                        {"XDG_CACHE_HOME", "cache"},
                                        {"XDG_RUNTIME_DIR", "run"}})
        environment.insert(QLatin1String(variable), m_directory.filePath(QLatin1String(sub)));
    m_keyring->setEnvironment(environment);
    // The password of this throwaway login keyring, read until end of input.
    m_keyring->setStandardInput("mcpb-test");
    m_keyring->start();
    // Ready when it owns the Secret Service's name.
    PeerProcess wait(QStringLiteral("gdbus wait"), QStringLiteral("gdbus"),
                     {QStringLiteral("wait"), QStringLiteral("--session"),
                      QStringLiteral("--timeout"), QString::number(kStartTimeoutMs / 1000),
                      QStringLiteral("org.freedesktop.secrets")});
    wait.setEnvironment(toolEnvironment());
    const ProcessRun waited = wait.run(kStartTimeoutMs + 5'000);
    if (!waited.succeeded()) {
        *why = QStringLiteral("the private keyring did not start:") + waited.describe()
                + m_keyring->diagnostics();
        return false;
    }
    return true;
}

bool KeyringSession::lock(QString *why) const
{
    PeerProcess lock(QStringLiteral("dbus-send Lock"), QStringLiteral("dbus-send"),
                     {QStringLiteral("--session"), QStringLiteral("--print-reply"),
                      QStringLiteral("--dest=org.freedesktop.secrets"),
                      QStringLiteral("/org/freedesktop/secrets"),
                      QStringLiteral("org.freedesktop.Secret.Service.Lock"),
                      QStringLiteral("array:objpath:") + QLatin1String(kLoginCollection)});
    lock.setEnvironment(toolEnvironment());
    const ProcessRun run = lock.run(kStartTimeoutMs);
    if (run.succeeded() && run.out.contains(kLoginCollection))
        return true;
    *why = QStringLiteral("the keyring could not be locked:") + run.describe();
    return false;
}

bool KeyringSession::freeze()
{
    return m_keyring && m_keyring->sendSignal(SIGSTOP);
}

QString KeyringSession::diagnostics() const
{
    QString text;
    for (const PeerProcess *process : {m_bus.get(), m_keyring.get()}) {
        if (process)
            text += process->diagnostics(20);
    }
    return text;
}

} // namespace mcpbroker::integration
