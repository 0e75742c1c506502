// The load side of ringpoll-bench: TCP clients in a process of their own, so that their CPU
// time is never counted as server time and they have their own descriptor limit.
#ifndef RINGPOLL_BENCH_CLOAD_H
#define RINGPOLL_BENCH_CLOAD_H

#ifdef __cplusplus
extern "C" {
#endif

/// Runs the load process. Arguments: MODE PORT CONNECTIONS WARMUP_MS DURATION_MS, where MODE is
/// `pingpong` (CONNECTIONS connections, each sending 64 bytes and waiting for the echo, again
/// and again) or `churn` (CONNECTIONS slots, each connecting, echoing 64 bytes once and closing,
/// again and again). The conversation on stdin/stdout is described in load_main.c.
/// Returns the process exit status.
int rpl_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
