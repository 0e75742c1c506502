// A fixed log-linear histogram: no allocation while recording.
#include "CMeasure.h"

#include <string.h>

static int bucket_of(uint64_t value) {
    if (value < 32) return (int)value;
    int exponent = 63 - __builtin_clzll(value);  // >= 5
    int index = (exponent - 5) * 32 + (int)(value >> (exponent - 5));
    return index < RPM_HIST_BUCKETS ? index : RPM_HIST_BUCKETS - 1;
}

static uint64_t bucket_low(int index) {
    if (index < 32) return (uint64_t)index;
    int exponent = index / 32 + 4;
    return (uint64_t)(index % 32 + 32) << (exponent - 5);
}

static uint64_t bucket_width(int index) {
    return index < 64 ? 1 : (uint64_t)1 << (index / 32 - 1);
}

void rpm_hist_reset(rpm_histogram *h) { memset(h, 0, sizeof *h); }

void rpm_hist_record(rpm_histogram *h, uint64_t value) {
    h->buckets[bucket_of(value)]++;
    h->count++;
}

uint64_t rpm_hist_percentile(const rpm_histogram *h, double percentile) {
    if (h->count == 0) return 0;
    uint64_t rank = (uint64_t)(percentile / 100.0 * (double)h->count);
    if (rank >= h->count) rank = h->count - 1;
    uint64_t seen = 0;
    for (int i = 0; i < RPM_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen > rank) return bucket_low(i) + bucket_width(i) / 2;
    }
    return bucket_low(RPM_HIST_BUCKETS - 1);
}

void rpm_hist_merge(rpm_histogram *h, const rpm_histogram *other) {
    for (int i = 0; i < RPM_HIST_BUCKETS; i++) h->buckets[i] += other->buckets[i];
    h->count += other->count;
}
