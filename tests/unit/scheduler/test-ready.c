#include <criterion/criterion.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sched-test.h"

static struct sched *s;
static struct sched_actions a;

static void setup_jobs(int jobs) {
  struct sched_opts o = SCHED_OPTS_INIT;

  o.jobs = jobs;
  s = sched_new(&o);
  sched_actions_init(&a);
}

static void teardown(void) {
  sched_actions_close(&a);
  sched_free(s);
}

static size_t add_est(const char *id, int64_t est, enum sched_priority prio,
                      const char *ticket) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

  o.id = id;
  o.estimate_ms = est;
  o.priority = prio;
  o.ticket = ticket;
  return t_add_opts(s, &o);
}

/* The tasks of the batch's START actions, in order. */
static size_t starts(size_t *out, size_t max) {
  size_t n = 0;

  for (size_t i = 0; i < a.n && n < max; i++)
    if (a.v[i].kind == SCHED_ACT_START)
      out[n++] = a.v[i].task;
  return n;
}

Test(sched_ready, longest_critical_path_first, .fini = teardown) {
  size_t got[8];

  setup_jobs(0);
  add_est("small", 100, SCHED_PRIO_CRITICAL, NULL);
  add_est("big", 9000, SCHED_PRIO_LOW, NULL);
  add_est("default", 0, SCHED_PRIO_LOW, NULL);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(starts(got, 8), 3);
  cr_assert_eq(got[0], 1);
  cr_assert_eq(got[1], 2);
  cr_assert_eq(got[2], 0);
}

Test(sched_ready, critical_path_counts_dependents, .fini = teardown) {
  size_t got[8];

  setup_jobs(1);
  add_est("alone", 3000, SCHED_PRIO_HIGH, NULL);
  add_est("head", 1000, SCHED_PRIO_LOW, NULL);
  add_est("tail", 2500, SCHED_PRIO_LOW, NULL);
  t_dep(s, "tail", "head");
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(starts(got, 8), 1);
  cr_assert_eq(got[0], 1, "head (3500 ms chain) beats alone (3000 ms)");
}

Test(sched_ready, then_priority_then_file_order, .fini = teardown) {
  size_t got[8];

  setup_jobs(0);
  add_est("m1", 0, SCHED_PRIO_MEDIUM, NULL);
  add_est("l", 0, SCHED_PRIO_LOW, NULL);
  add_est("c", 0, SCHED_PRIO_CRITICAL, NULL);
  add_est("m2", 0, SCHED_PRIO_MEDIUM, NULL);
  add_est("h", 0, SCHED_PRIO_HIGH, NULL);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(starts(got, 8), 5);
  cr_assert_eq(got[0], 2);
  cr_assert_eq(got[1], 4);
  cr_assert_eq(got[2], 0);
  cr_assert_eq(got[3], 3);
  cr_assert_eq(got[4], 1);
}

Test(sched_ready, jobs_limit_takes_the_best, .fini = teardown) {
  size_t got[8];

  setup_jobs(2);
  add_est("a", 1000, SCHED_PRIO_MEDIUM, NULL);
  add_est("b", 4000, SCHED_PRIO_MEDIUM, NULL);
  add_est("c", 3000, SCHED_PRIO_MEDIUM, NULL);
  add_est("d", 2000, SCHED_PRIO_MEDIUM, NULL);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(starts(got, 8), 2);
  cr_assert_eq(got[0], 1);
  cr_assert_eq(got[1], 2);
  t_end(s, 1, 10, SCHED_OUTCOME_SUCCESS, &a);
  t_step(s, 10, &a);
  cr_assert_eq(starts(got, 8), 1);
  cr_assert_eq(got[0], 3);
}

Test(sched_ready, busy_ticket_does_not_block_others, .fini = teardown) {
  size_t got[8];

  setup_jobs(2);
  add_est("t1", 9000, SCHED_PRIO_MEDIUM, "T");
  add_est("t2", 8000, SCHED_PRIO_MEDIUM, "T");
  add_est("t3", 7000, SCHED_PRIO_MEDIUM, "T");
  add_est("u1", 100, SCHED_PRIO_LOW, "U");
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(starts(got, 8), 2);
  cr_assert_eq(got[0], 0);
  cr_assert_eq(got[1], 3);
  /* The set-aside tasks are still queued, best first. */
  t_end(s, 0, 5, SCHED_OUTCOME_SUCCESS, &a);
  t_step(s, 5, &a);
  cr_assert_eq(starts(got, 8), 1);
  cr_assert_eq(got[0], 1);
}

Test(sched_ready, full_agent_does_not_block_others, .fini = teardown) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;
  size_t got[8];

  setup_jobs(0);
  cr_assert_eq(sched_agent_add(s, "big", 1), 0);
  o.agent = "big";
  o.estimate_ms = 9000;
  o.id = "b1";
  t_add_opts(s, &o);
  o.id = "b2";
  t_add_opts(s, &o);
  o.agent = "small";
  o.estimate_ms = 10;
  o.id = "s1";
  t_add_opts(s, &o);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(starts(got, 8), 2);
  cr_assert_eq(got[0], 0);
  cr_assert_eq(got[1], 2);
}

Test(sched_ready, start_emits_state_then_start, .fini = teardown) {
  setup_jobs(0);
  t_add(s, "a", NULL, NULL);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(a.n, 3);
  cr_assert_eq(a.v[0].kind, SCHED_ACT_STATE);
  cr_assert_eq(a.v[0].to, SCHED_READY);
  cr_assert_eq(a.v[1].kind, SCHED_ACT_STATE);
  cr_assert_eq(a.v[1].from, SCHED_READY);
  cr_assert_eq(a.v[1].to, SCHED_RUNNING);
  cr_assert_eq(a.v[2].kind, SCHED_ACT_START);
  cr_assert_eq(a.v[2].attempt, 1);
}

/*
 * The three-level queue must pick exactly what one heap scanned in order,
 * with busy tasks set aside, would pick. This checks it against that naive
 * model on random graphs, tickets, agents and capacities.
 */
static uint64_t rng;
static int prio[64];

static uint64_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int model_cmp(const void *pa, const void *pb) {
  size_t x = *(const size_t *)pa, y = *(const size_t *)pb;
  int64_t cx = sched_task_critical_path(s, x);
  int64_t cy = sched_task_critical_path(s, y);

  if (cx != cy)
    return cx > cy ? -1 : 1;
  if (prio[x] != prio[y])
    return prio[x] > prio[y] ? -1 : 1;
  return (x > y) - (x < y);
}

static int same(const char *p, const char *q) {
  return p == q || (p != NULL && q != NULL && strcmp(p, q) == 0);
}

static size_t model_pick(size_t n, int jobs, const int *cap, size_t *out) {
  size_t *ready = calloc(n, sizeof(*ready)), nready = 0, nout = 0;
  size_t *run = calloc(n, sizeof(*run)), nrun = 0;

  for (size_t i = 0; i < n; i++) {
    if (sched_task_state(s, i) == SCHED_READY)
      ready[nready++] = i;
    if (sched_task_state(s, i) == SCHED_RUNNING)
      run[nrun++] = i;
  }
  qsort(ready, nready, sizeof(*ready), model_cmp);
  for (size_t i = 0; i < nready && (jobs == 0 || nrun < (size_t)jobs); i++) {
    const char *tk = sched_task_ticket(s, ready[i]);
    const char *ag = sched_task_agent(s, ready[i]);
    int busy = 0, on_agent = 0;

    for (size_t j = 0; j < nrun; j++) {
      busy |= tk != NULL && same(tk, sched_task_ticket(s, run[j]));
      on_agent += same(ag, sched_task_agent(s, run[j]));
    }
    if (busy ||
        (ag != NULL && cap[ag[1] - '0'] > 0 && on_agent >= cap[ag[1] - '0']))
      continue;
    run[nrun++] = out[nout++] = ready[i];
  }
  free(ready);
  free(run);
  return nout;
}

static void model_round(int seed) {
  static const char *tickets[] = {"T0", "T1", "T2", "T3", NULL};
  static const char *agents[] = {"a0", "a1", "a2", NULL};
  int cap[3], jobs = (int)(rnd() % 6);
  size_t n = 5 + rnd() % 40, want[64], got[64];
  char id[16];

  setup_jobs(jobs);
  for (int i = 0; i < 3; i++) {
    cap[i] = (int)(rnd() % 3);
    sched_agent_add(s, agents[i], cap[i]);
  }
  for (size_t i = 0; i < n; i++) {
    struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

    snprintf(id, sizeof(id), "t%zu", i);
    o.id = id;
    o.ticket = tickets[rnd() % 5];
    o.agent = agents[rnd() % 4];
    o.estimate_ms = (int64_t)(rnd() % 4) * 1000;
    o.priority = (enum sched_priority)(rnd() % 4);
    prio[i] = (int)o.priority;
    t_add_opts(s, &o);
    if (i > 0 && rnd() % 3 == 0) {
      char dep[16];

      snprintf(dep, sizeof(dep), "t%zu", (size_t)(rnd() % i));
      t_dep(s, id, dep);
    }
  }
  t_seal(s);
  sched_actions_reset(&a);
  cr_assert_eq(sched_step(s, 0, &a), 0);
  for (int64_t now = 1; !sched_idle(s); now++) {
    size_t nwant, ngot, running[64], nrunning = 0;

    for (size_t i = 0; i < n; i++)
      if (sched_task_state(s, i) == SCHED_RUNNING)
        running[nrunning++] = i;
    cr_assert_gt(nrunning, 0, "seed %d: stuck", seed);
    t_end(s, running[rnd() % nrunning], now, SCHED_OUTCOME_SUCCESS, &a);
    nwant = model_pick(n, jobs, cap, want);
    t_step(s, now, &a);
    ngot = starts(got, 64);
    cr_assert_eq(ngot, nwant, "seed %d: %zu starts, model %zu", seed, ngot,
                 nwant);
    for (size_t i = 0; i < ngot; i++)
      cr_assert_eq(got[i], want[i], "seed %d", seed);
  }
  teardown();
}

Test(sched_ready, matches_naive_set_aside_model) {
  for (int seed = 1; seed <= 300; seed++) {
    rng = 0x9e3779b97f4a7c15ULL * (uint64_t)seed;
    model_round(seed);
  }
}
