#include <criterion/criterion.h>
#include <string.h>

#include "sched-int.h"
#include "sched-test.h"

static struct sched *s;
static struct sched_actions a;

static void setup(void) {
  struct sched_opts o = SCHED_OPTS_INIT;

  o.seed = 42;
  s = sched_new(&o);
  sched_actions_init(&a);
}

static void teardown(void) {
  sched_actions_close(&a);
  sched_free(s);
}

TestSuite(sched_retry, .init = setup, .fini = teardown);

static int64_t expect_delay(int64_t base, const char *id, uint64_t seed, int n,
                            int64_t cap) {
  uint64_t h = crl_hash64(id, strlen(id), seed ^ (uint64_t)n);
  int64_t d = base + (int64_t)((double)base * (double)(h % 1000) / 10000.0);

  return d > cap ? cap : d;
}

Test(sched_retry, backoff_follows_floor_factor_cap) {
  struct sched_retry r = SCHED_RETRY_INIT;
  static const int64_t base[] = {1000, 3000, 9000, 27000, 50000, 50000};

  r.floor_ms = 1000;
  r.factor = 3.0;
  r.cap_ms = 50000;
  for (int n = 1; n <= 6; n++) {
    int64_t d = sched__retry_delay(&r, "impl", 7, n);

    cr_assert_eq(d, expect_delay(base[n - 1], "impl", 7, n, 50000), "n=%d", n);
    cr_assert_geq(d, base[n - 1]);
    cr_assert_leq(d, base[n - 1] + base[n - 1] / 10);
    cr_assert_leq(d, 50000);
  }
}

Test(sched_retry, jitter_is_deterministic_and_within_ten_percent) {
  struct sched_retry r = SCHED_RETRY_INIT;
  int differs = 0;

  r.floor_ms = 10000;
  r.cap_ms = 1000000;
  for (uint64_t seed = 0; seed < 200; seed++) {
    int64_t d = sched__retry_delay(&r, "task", seed, 1);

    cr_assert_eq(d, sched__retry_delay(&r, "task", seed, 1));
    cr_assert_geq(d, 10000);
    cr_assert_lt(d, 11000);
    differs |= d != sched__retry_delay(&r, "task", 0, 1);
  }
  cr_assert(differs, "the seed moves the jitter");
}

Test(sched_retry, zero_cap_means_none) {
  struct sched_retry r = SCHED_RETRY_INIT;

  r.floor_ms = 1000;
  r.cap_ms = 0;
  cr_assert_geq(sched__retry_delay(&r, "x", 0, 11), 1024000);
}

static size_t add_retry(const char *id, struct sched_retry r) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

  o.id = id;
  o.retry = r;
  return t_add_opts(s, &o);
}

/* Runs task to the end: start, fail, wait, ... Returns the number of
 * starts; every run lasts `dur` ms. */
static int run_until_done(size_t task, int64_t dur, int64_t *now) {
  int nstart = 0;

  for (;;) {
    t_step(s, *now, &a);
    if (t_find(&a, SCHED_ACT_START, task, 0) >= 0)
      nstart++;
    if (sched_task_state(s, task) != SCHED_RUNNING)
      break;
    *now += dur;
    t_end(s, task, *now, SCHED_OUTCOME_FAILURE, &a);
    if (sched_task_retry_at(s, task) < 0)
      break;
    *now = sched_task_retry_at(s, task);
  }
  return nstart;
}

Test(sched_retry, max_retries_gives_max_plus_one_starts) {
  struct sched_retry r = SCHED_RETRY_INIT;
  int64_t now = 0;
  size_t t;

  r.max = 3;
  t = add_retry("flaky", r);
  t_seal(s);
  cr_assert_eq(run_until_done(t, 10, &now), 4);
  cr_assert_eq(sched_task_state(s, t), SCHED_FAILED);
  cr_assert_eq(sched_task_retry_at(s, t), -1);
  cr_assert_eq(sched_task_attempts(s, t), 4);
  cr_assert(sched_idle(s));
}

Test(sched_retry, zero_max_fails_for_good_at_once) {
  struct sched_retry r = SCHED_RETRY_INIT;
  int64_t now = 0;
  size_t t = add_retry("once", r);

  t_seal(s);
  cr_assert_eq(run_until_done(t, 10, &now), 1);
  cr_assert_eq(sched_task_retry_at(s, t), -1);
}

Test(sched_retry, retry_at_follows_backoff_and_wakes) {
  struct sched_retry r = SCHED_RETRY_INIT;
  size_t t;
  int64_t d1, d2;

  r.max = 5;
  r.floor_ms = 2000;
  r.factor = 2.0;
  r.cap_ms = 60000;
  t = add_retry("job", r);
  t_seal(s);
  d1 = sched__retry_delay(&r, "job", 42, 1);
  d2 = sched__retry_delay(&r, "job", 42, 2);
  t_step(s, 0, &a);
  t_end(s, t, 100, SCHED_OUTCOME_FAILURE, &a);
  cr_assert(t_has_state(&a, t, SCHED_RUNNING, SCHED_FAILED));
  cr_assert_eq(sched_task_retry_at(s, t), 100 + d1);
  cr_assert_not(sched_idle(s));
  t_step(s, 100, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 0);
  cr_assert_eq(t_wake(&a), 100 + d1);
  t_step(s, 100 + d1 - 1, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 0);
  t_step(s, 100 + d1, &a);
  cr_assert(t_has_state(&a, t, SCHED_FAILED, SCHED_READY));
  cr_assert_eq(a.v[t_find(&a, SCHED_ACT_START, t, 0)].attempt, 2);
  t_end(s, t, 100 + d1 + 5, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_eq(sched_task_retry_at(s, t), 100 + d1 + 5 + d2);
}

Test(sched_retry, healthy_uptime_resets_backoff) {
  struct sched_retry r = SCHED_RETRY_INIT;
  int64_t now = 0, d1;
  size_t t;

  r.max = 10;
  r.floor_ms = 1000;
  r.reset_after_ms = 60000;
  t = add_retry("svc", r);
  t_seal(s);
  d1 = sched__retry_delay(&r, "svc", 42, 1);
  t_step(s, now, &a);
  t_end(s, t, now += 10, SCHED_OUTCOME_FAILURE, &a);
  now = sched_task_retry_at(s, t);
  t_step(s, now, &a);
  t_end(s, t, now += 10, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_eq(sched_task_retry_at(s, t),
               now + sched__retry_delay(&r, "svc", 42, 2));
  now = sched_task_retry_at(s, t);
  t_step(s, now, &a);
  /* This run stays up past reset_after: the next wait is the first one. */
  t_end(s, t, now += 60000, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_eq(sched_task_retry_at(s, t), now + d1);
}

Test(sched_retry, intensity_limit_gives_exactly_n_starts) {
  struct sched_retry r = SCHED_RETRY_INIT;
  int64_t now = 0;
  size_t t;

  r.max = 100;
  r.floor_ms = 100;
  r.intensity = 3;
  r.intensity_window_ms = 60000;
  t = add_retry("crashy", r);
  t_seal(s);
  cr_assert_eq(run_until_done(t, 10, &now), 3);
  cr_assert_eq(sched_task_state(s, t), SCHED_FAILED);
  cr_assert_eq(sched_task_retry_at(s, t), -1);
}

Test(sched_retry, failures_spread_beyond_window_keep_retrying) {
  struct sched_retry r = SCHED_RETRY_INIT;
  int64_t now = 0;
  size_t t;

  r.max = 6;
  r.floor_ms = 100;
  r.cap_ms = 100;
  r.intensity = 2;
  r.intensity_window_ms = 1000;
  t = add_retry("slow", r);
  t_seal(s);
  /* Each run lasts 2 s, so two failures never fall within 1 s. */
  cr_assert_eq(run_until_done(t, 2000, &now), 7);
}

Test(sched_retry, failed_for_good_skips_dependents) {
  struct sched_retry r = SCHED_RETRY_INIT;
  int64_t now = 0;
  size_t t;

  r.max = 1;
  t = add_retry("a", r);
  t_add(s, "b", NULL, NULL);
  t_add(s, "c", NULL, NULL);
  t_dep(s, "b", "a");
  t_dep(s, "c", "b");
  t_seal(s);
  t_step(s, now, &a);
  t_end(s, t, 1, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_eq(sched_task_state(s, 1), SCHED_PENDING, "waits for the retry");
  cr_assert_eq(t_count(&a, SCHED_ACT_STATE), 1);
  now = sched_task_retry_at(s, t);
  t_step(s, now, &a);
  t_end(s, t, now + 10, SCHED_OUTCOME_FAILURE, &a);
  cr_assert(t_has_state(&a, 1, SCHED_PENDING, SCHED_SKIPPED));
  cr_assert(t_has_state(&a, 2, SCHED_PENDING, SCHED_SKIPPED));
  cr_assert(sched_idle(s));
}
