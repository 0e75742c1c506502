// The load process's entry and its conversation with ringpoll-bench:
//   load  -> bench  "ready"            setup and warm-up done, no message in flight
//   bench -> load   "go"               the bench has read the server's counters
//   load  -> bench  "result ops=N ns=T p50=X p99=Y"
//                                       measured phase over, no message in flight
//   bench -> load   any line or EOF     the load closes its connections and exits
// Failures print "error <text>" and exit with status 1.
#include "CLoad.h"
#include "load_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rpl_fail(const char *what, int error) {
    printf("error %s: %s\n", what, strerror(error));
    fflush(stdout);
    return 1;
}

int rpl_handshake(void) {
    printf("ready\n");
    fflush(stdout);
    char line[64];
    return fgets(line, sizeof line, stdin) ? 0 : -1;
}

void rpl_wait_line(void) {
    char line[64];
    (void)!fgets(line, sizeof line, stdin);
}

void rpl_report(const rpl_phase *phase) {
    printf("result ops=%llu ns=%llu p50=%llu p99=%llu\n", (unsigned long long)phase->operations,
           (unsigned long long)phase->elapsed_ns,
           (unsigned long long)rpm_hist_percentile(&phase->latency, 50.0),
           (unsigned long long)rpm_hist_percentile(&phase->latency, 99.0));
    fflush(stdout);
}

int rpl_main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: MODE PORT CONNECTIONS WARMUP_MS DURATION_MS\n");
        return 2;
    }
    rpl_args args = {
        .port = (uint16_t)atoi(argv[2]),
        .connections = (unsigned)strtoul(argv[3], NULL, 10),
        .warmup_ns = strtoull(argv[4], NULL, 10) * 1000000ull,
        .duration_ns = strtoull(argv[5], NULL, 10) * 1000000ull,
    };
    if (args.connections == 0) return rpl_fail("connections", EINVAL);
    if (strcmp(argv[1], "pingpong") == 0) return rpl_run_pingpong(&args);
    if (strcmp(argv[1], "churn") == 0) return rpl_run_churn(&args);
    return rpl_fail(argv[1], EINVAL);
}
