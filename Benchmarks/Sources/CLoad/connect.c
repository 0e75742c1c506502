// Client sockets.
#define _GNU_SOURCE
#include "load_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

int rpl_connect(uint16_t port, unsigned index) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int one = 1;
    // Pick the port at connect time, per destination: many source addresses, many ports.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in source = {.sin_family = AF_INET, .sin_port = 0};
    source.sin_addr.s_addr = htonl(0x7f000000u | (2 + index % 200));
    struct sockaddr_in target = {.sin_family = AF_INET, .sin_port = htons(port)};
    target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int result = bind(fd, (struct sockaddr *)&source, sizeof source);
    if (result == 0) {
        do {
            result = connect(fd, (struct sockaddr *)&target, sizeof target);
        } while (result != 0 && errno == EINTR);
    }
    if (result != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int rpl_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return -errno;
    return 0;
}
