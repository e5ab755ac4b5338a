#pragma once

#include "PeerProcess.h"

#include <QProcessEnvironment>
#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace mcpbroker::integration {

// A D-Bus session bus of the test's own that can start no service (tests/keyring/
// bus-without-services.conf), with or without a gnome-keyring of its own on it: the keychain
// faults (none at all, locked, not answering) without touching the keychain that the rest of
// the suite shares (with-keyring.sh's).
class KeyringSession
{
public:
    enum class Keychain { None, Unlocked };
    static constexpr int kStartTimeoutMs = 20'000;

    KeyringSession();
    ~KeyringSession(); // kills the bus and the keyring

    bool start(Keychain keychain, QString *why);
    // Points `environment` at this bus and keyring only (no display, no other keyring).
    void applyTo(QProcessEnvironment &environment) const;
    // Locks the login keyring (Secret Service Lock). Nothing here can unlock it again.
    bool lock(QString *why) const;
    // Stops the keyring daemon (SIGSTOP): it keeps its bus name and answers nothing.
    bool freeze();

    QString diagnostics() const;

private:
    QProcessEnvironment toolEnvironment() const;

    QTemporaryDir m_directory;
    std::unique_ptr<PeerProcess> m_bus;
    std::unique_ptr<PeerProcess> m_keyring;
    QString m_address;
};

} // namespace mcpbroker::integration
