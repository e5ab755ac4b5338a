#include "TerminationSignals.h"

#include "AppLogging.h"

#include <QSocketNotifier>

#include <iterator>

#ifdef Q_OS_UNIX
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace mcpbroker::app {

#ifdef Q_OS_UNIX
namespace {

constexpr int kHandledSignals[] = {SIGTERM, SIGINT};

int g_socketPair[2] = {-1, -1}; // [0] written by the handler, [1] read by the notifier
struct sigaction g_previous[std::size(kHandledSignals)];

void onSignal(int signalNumber)
{
    const int savedErrno = errno;
    const auto byte = static_cast<unsigned char>(signalNumber);
    // Nothing to do if it fails: the pipe is full of signals not yet handled anyway.
    [[maybe_unused]] const auto written = ::write(g_socketPair[0], &byte, 1);
    errno = savedErrno;
}

bool makeNonBlockingAndCloseOnExec(int fd)
{
    return ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0
            && ::fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

} // namespace

TerminationSignals::TerminationSignals(QObject *parent) : QObject(parent)
{
    Q_ASSERT(g_socketPair[0] < 0); // one instance at a time
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_socketPair) != 0
        || !makeNonBlockingAndCloseOnExec(g_socketPair[0])
        || !makeNonBlockingAndCloseOnExec(g_socketPair[1])) {
        qCWarning(lcApp) << "Cannot watch SIGTERM and SIGINT:" << qt_error_string(errno);
        for (int &fd : g_socketPair) {
            if (fd >= 0)
                ::close(fd);
            fd = -1;
        }
        return;
    }

    m_notifier = new QSocketNotifier(g_socketPair[1], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, [this] {
        unsigned char byte = 0;
        while (::read(g_socketPair[1], &byte, 1) == 1)
            Q_EMIT received(byte);
    });

    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (size_t i = 0; i < std::size(kHandledSignals); ++i)
        ::sigaction(kHandledSignals[i], &action, &g_previous[i]);
}

TerminationSignals::~TerminationSignals()
{
    if (!m_notifier)
        return;
    for (size_t i = 0; i < std::size(kHandledSignals); ++i)
        ::sigaction(kHandledSignals[i], &g_previous[i], nullptr);
    delete m_notifier;
    for (int &fd : g_socketPair) {
        ::close(fd);
        fd = -1;
    }
}

QString TerminationSignals::name(int signalNumber)
{
    switch (signalNumber) {
    case SIGTERM:
        return QStringLiteral("SIGTERM");
    case SIGINT:
        return QStringLiteral("SIGINT");
    default:
        return QStringLiteral("signal %1").arg(signalNumber);
    }
}

#else

TerminationSignals::TerminationSignals(QObject *parent) : QObject(parent) { }
TerminationSignals::~TerminationSignals() = default;
QString TerminationSignals::name(int signalNumber)
{
    return QStringLiteral("signal %1").arg(signalNumber);
}

#endif

} // namespace mcpbroker::app
