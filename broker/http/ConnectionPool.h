#pragma once

#include <QDeadlineTimer>
#include <QObject>
#include <QString>

#include <vector>

class QTcpSocket;

namespace mcpbroker::http {

// HttpClient's idle connections, kept alive between requests so that each request does not pay
// for a new TCP connection. A connection serves one request at a time (no pipelining); the
// server may close an idle one whenever it likes (Node closes them after 5 s), and then it
// leaves the pool.
class ConnectionPool : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    ~ConnectionPool() override;

    // An idle connection to `origin` ("host:port"), the most recently used first; the caller
    // owns it. nullptr when there is none.
    QTcpSocket *take(const QString &origin);
    // Keeps `socket`, connected to `origin` and done with its last exchange, for the next one.
    void giveBack(const QString &origin, QTcpSocket *socket);

    qsizetype idleCount() const { return qsizetype(m_idle.size()); }

    // Closes a connection at once, wherever it is, and deletes it from the event loop (it may
    // be the sender of the signal being handled); it reports nothing more.
    static void close(QTcpSocket *socket);

private:
    struct Idle
    {
        QString origin;
        QTcpSocket *socket = nullptr;
        QDeadlineTimer expiry;
    };
    void discard(QTcpSocket *socket);

    std::vector<Idle> m_idle; // oldest first
};

} // namespace mcpbroker::http
