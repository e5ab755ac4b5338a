// Diagnostic for bench/latency.mjs --preload-nodelay, not part of the product: preloaded into the
// broker (LD_PRELOAD), it sets TCP_NODELAY on every socket the broker accepts, which the broker
// itself does not do. The difference between a run with and without it is the time that Nagle's
// algorithm (holding a small write until the previous one is acknowledged) and the client's
// delayed ACK add to a response written in more than one piece (SSE headers, then the event).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static int noDelay(int fd)
{
    const int one = 1;
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags)
{
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (!real)
        real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    return noDelay(real(fd, address, length, flags));
}

int accept(int fd, struct sockaddr *address, socklen_t *length)
{
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (!real)
        real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    return noDelay(real(fd, address, length));
}
