// Socket and pipe calls Swift's Glibc module does not offer (accept4, pipe2 are _GNU_SOURCE), and
// pipe writes that cannot kill the process with SIGPIPE.
#define _GNU_SOURCE
#include "CLiburing.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int rp_accept4(int fd, void *address, uint32_t *length) {
    return accept4(fd, (struct sockaddr *)address, (socklen_t *)length, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int rp_pipe2(int fds[2]) {
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
}

// The SIGPIPE a failed write raises is directed at the writing thread, so blocking it on this
// thread alone keeps it pending instead of delivered; sigtimedwait then takes it off again. A
// SIGPIPE that was pending before the call is left alone (signals do not queue, so ours merged
// into it). Costs two sigprocmask calls when nothing goes wrong.
typedef struct {
    sigset_t previous;
    int was_blocked;
    int was_pending;
} sigpipe_guard;

static void guard_begin(sigpipe_guard *guard) {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &guard->previous);
    guard->was_blocked = sigismember(&guard->previous, SIGPIPE) == 1;
    guard->was_pending = 0;
    if (guard->was_blocked) {
        sigset_t pending;
        if (sigpending(&pending) == 0) guard->was_pending = sigismember(&pending, SIGPIPE) == 1;
    }
}

static void guard_end(sigpipe_guard *guard, long result, int saved_errno) {
    if (result < 0 && saved_errno == EPIPE && !guard->was_pending) {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        struct timespec none = {0, 0};
        while (sigtimedwait(&pipe_only, NULL, &none) < 0 && errno == EINTR) {
        }
    }
    if (!guard->was_blocked) pthread_sigmask(SIG_SETMASK, &guard->previous, NULL);
    errno = saved_errno;
}

long rp_write_nosigpipe(int fd, const void *buffer, size_t length) {
    sigpipe_guard guard;
    guard_begin(&guard);
    long result = write(fd, buffer, length);
    guard_end(&guard, result, errno);
    return result;
}

long rp_writev_nosigpipe(int fd, const void *vectors, int count) {
    sigpipe_guard guard;
    guard_begin(&guard);
    long result = writev(fd, (const struct iovec *)vectors, count);
    guard_end(&guard, result, errno);
    return result;
}
