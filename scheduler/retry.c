/*
 * Retries: whether a failed run is tried again and when. A task may start
 * retry.max + 1 times. The wait before the n-th consecutive retry is
 * min(cap, floor * factor^(n-1)) plus a jitter of up to 10% of that, drawn
 * from a hash of the task id and seed ^ n so that the same inputs give the
 * same schedule, and never more than cap (a cap of 0 means none). A run that
 * stayed up reset_after_ms or longer starts the count again at 1. Intensity
 * (`intensity` failures within `intensity_window_ms`) fails the task for
 * good whatever max allows, the way a supervisor stops a crash loop.
 */
#include <assert.h>
#include <string.h>

#include "sched-int.h"

/* Large enough to mean "no cap", small enough to add `now` to safely. */
#define RETRY_NO_CAP 1e15

int64_t sched__retry_delay(const struct sched_retry *r, const char *id,
                           uint64_t seed, int n) {
  double cap = r->cap_ms > 0 ? (double)r->cap_ms : RETRY_NO_CAP;
  double base = r->floor_ms > 0 ? (double)r->floor_ms : 0;
  int64_t b, jitter;
  uint64_t h;

  for (int i = 1; i < n && base < cap; i++)
    base *= r->factor > 0 ? r->factor : 0;
  if (base > cap)
    base = cap;
  b = (int64_t)base;
  h = crl_hash64(id, strlen(id), seed ^ (uint64_t)n);
  jitter = (int64_t)((double)b * (double)(h % 1000) / 10000.0);
  if ((double)(b + jitter) > cap)
    return (int64_t)cap;
  return b + jitter;
}

/* Records a failure at now; returns 1 when the intensity limit is hit. */
static int retry_intensity_hit(struct sched__task *t, int64_t now) {
  size_t k = (size_t)t->retry.intensity;

  if (k == 0)
    return 0;
  if (t->fails == NULL)
    t->fails = xcalloc(k, sizeof(*t->fails));
  t->fails[t->nfails % k] = now;
  t->nfails++;
  if (t->nfails < k)
    return 0;
  /* The slot to be overwritten next holds the k-th most recent failure. */
  return t->fails[t->nfails % k] >= now - t->retry.intensity_window_ms;
}

/*
 * Called when a run of t failed at now. Returns when t becomes ready again,
 * or -1 when it has failed for good.
 */
int64_t sched__retry_next(struct sched *s, struct sched__task *t, int64_t now) {
  int used = t->attempts - t->retry_base - 1;
  int64_t reset = t->retry.reset_after_ms;
  int hit;

  if (reset > 0 && now - t->started_at >= reset)
    t->streak = 1;
  else
    t->streak++;
  hit = retry_intensity_hit(t, now);
  if (used >= t->retry.max || hit)
    return -1;
  return now + sched__retry_delay(&t->retry, t->id, s->seed, t->streak);
}

/* The waiting set holds failed tasks with a retry pending, so that a step
 * looks only at those and not at the whole graph. */
void sched__retry_wait(struct sched *s, size_t task, int64_t at) {
  struct sched__task *t = &s->tasks[task];

  assert(t->wait_pos == SCHED__NONE);
  t->retry_at = at;
  t->wait_pos = s->waiting.n;
  sched__vec_push(&s->waiting, task);
}

void sched__retry_unwait(struct sched *s, size_t task) {
  struct sched__task *t = &s->tasks[task];
  size_t last = s->waiting.v[--s->waiting.n];

  assert(t->wait_pos != SCHED__NONE);
  s->waiting.v[t->wait_pos] = last;
  s->tasks[last].wait_pos = t->wait_pos;
  t->wait_pos = SCHED__NONE;
  t->retry_at = -1;
}
