/*
 * Clocks in milliseconds, and a small hash. Only the runtime reads clocks;
 * the scheduler is handed `now` so replays are deterministic.
 */
#include "crl.h"

#include <time.h>

static int64_t time_ms(clockid_t id) {
  struct timespec ts;

  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t crl_time_mono_ms(void) {
  return time_ms(CLOCK_MONOTONIC);
}

int64_t crl_time_wall_ms(void) {
  return time_ms(CLOCK_REALTIME);
}

uint64_t crl_hash64(const void *p, size_t n, uint64_t seed) {
  const unsigned char *s = p;
  uint64_t h = 1469598103934665603ULL ^ seed;

  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 1099511628211ULL;
  }
  return h;
}
