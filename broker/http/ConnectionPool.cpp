#include "http/ConnectionPool.h"

#include <QTcpSocket>

#include <algorithm>

namespace mcpbroker::http {

namespace {

constexpr qsizetype kMaxIdleConnections = 8;
// Shorter than the keep-alive time of common servers (Node: 5 s), so that a request rarely goes
// out on a connection the server is just closing.
constexpr int kMaxIdleMs = 4'000;

} // namespace

void ConnectionPool::close(QTcpSocket *socket)
{
    socket->disconnect();
    socket->abort();
    socket->deleteLater();
}

ConnectionPool::~ConnectionPool()
{
    for (const Idle &idle : m_idle)
        close(idle.socket);
}

QTcpSocket *ConnectionPool::take(const QString &origin)
{
    for (;;) {
        const auto it = std::find_if(m_idle.rbegin(), m_idle.rend(),
                                     [&origin](const Idle &idle) { return idle.origin == origin; });
        if (it == m_idle.rend())
            return nullptr;
        const Idle idle = *it;
        m_idle.erase(std::next(it).base());
        if (idle.expiry.hasExpired() || idle.socket->state() != QAbstractSocket::ConnectedState) {
            close(idle.socket);
            continue;
        }
        disconnect(idle.socket, nullptr, this, nullptr);
        idle.socket->setParent(nullptr);
        return idle.socket;
    }
}

void ConnectionPool::giveBack(const QString &origin, QTcpSocket *socket)
{
    if (socket->state() != QAbstractSocket::ConnectedState || socket->bytesAvailable() > 0) {
        close(socket);
        return;
    }
    if (qsizetype(m_idle.size()) >= kMaxIdleConnections) {
        close(m_idle.front().socket);
        m_idle.erase(m_idle.begin());
    }
    socket->setParent(this);
    // Anything from an idle connection is its end (or a server talking out of turn).
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { discard(socket); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] { discard(socket); });
    connect(socket, &QTcpSocket::errorOccurred, this, [this, socket] { discard(socket); });
    m_idle.push_back({origin, socket, QDeadlineTimer(kMaxIdleMs)});
}

void ConnectionPool::discard(QTcpSocket *socket)
{
    const auto it = std::find_if(m_idle.begin(), m_idle.end(),
                                 [socket](const Idle &idle) { return idle.socket == socket; });
    if (it == m_idle.end())
        return;
    m_idle.erase(it);
    close(socket);
}

} // namespace mcpbroker::http
