// The cheapest process that can sit between a client and a server: relays bytes both ways,
// nothing else (one thread, epoll, TCP_NODELAY). bench/latency.mjs measures a path through it
// to show what any local hop costs on the machine, the floor under the broker's added latency.
//
//   tcp-relay <target port>    listens on 127.0.0.1, prints "LISTENING <port>", relays each
//                              connection to 127.0.0.1:<target port>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kMaxFds = 4096 };
static int peer[kMaxFds]; // fd -> the fd it relays to

static void noDelay(int fd)
{
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static void closePair(int epoll, int fd)
{
    int other = peer[fd];
    epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
    epoll_ctl(epoll, EPOLL_CTL_DEL, other, NULL);
    close(fd);
    close(other);
    peer[fd] = peer[other] = -1;
}

static int writeAll(int fd, const char *bytes, ssize_t size)
{
    while (size > 0) {
        ssize_t written = write(fd, bytes, (size_t)size);
        if (written <= 0)
            return -1;
        bytes += written;
        size -= written;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tcp-relay <target port>\n");
        return 2;
    }
    struct sockaddr_in target = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_in local = { .sin_family = AF_INET };
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof local;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&local, sizeof local) != 0
        || listen(listener, 64) != 0
        || getsockname(listener, (struct sockaddr *)&local, &length) != 0) {
        perror("tcp-relay: listen");
        return 1;
    }
    printf("LISTENING %d\n", ntohs(local.sin_port));
    fflush(stdout);

    int epoll = epoll_create1(0);
    struct epoll_event event = { .events = EPOLLIN, .data.fd = listener };
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    static char buffer[1 << 16];
    for (;;) {
        struct epoll_event ready[64];
        int count = epoll_wait(epoll, ready, 64, -1);
        for (int i = 0; i < count; i++) {
            int fd = ready[i].data.fd;
            if (fd == listener) {
                int client = accept(listener, NULL, NULL);
                int server = socket(AF_INET, SOCK_STREAM, 0);
                if (client < 0 || server < 0 || client >= kMaxFds || server >= kMaxFds
                    || connect(server, (struct sockaddr *)&target, sizeof target) != 0) {
                    perror("tcp-relay: connect");
                    return 1;
                }
                noDelay(client);
                noDelay(server);
                peer[client] = server;
                peer[server] = client;
                struct epoll_event in = { .events = EPOLLIN, .data.fd = client };
                epoll_ctl(epoll, EPOLL_CTL_ADD, client, &in);
                in.data.fd = server;
                epoll_ctl(epoll, EPOLL_CTL_ADD, server, &in);
                continue;
            }
            if (peer[fd] < 0)
                continue; // closed with its peer earlier in this batch
            ssize_t size = read(fd, buffer, sizeof buffer);
            if (size <= 0 || writeAll(peer[fd], buffer, size) != 0)
                closePair(epoll, fd);
        }
    }
}
