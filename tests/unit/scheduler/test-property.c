/*
 * Property tests: random graphs driven through a simulated runtime with a
 * virtual clock. Runs take random durations and fail at random; the
 * simulation honours every action (START, STOP, WAKE), decides reviews and
 * sometimes cancels, and checks after every batch that the scheduler kept
 * its promises: deps before starts, no slot over-committed, no idle slot
 * while something could start, STATE actions that match the states, every
 * task terminal at the end, and the same actions for the same seed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched-test.h"

#define NTICKETS 6
#define NAGENTS 3

struct sim {
  struct sched *s;
  size_t n;
  int jobs;
  int check; /* per-batch whole-graph checks (small graphs only) */
  int fail_pct;
  int cancel_pct;
  int reviews;
  uint64_t rng;
  int64_t now;
  int64_t wake;
  int cap[NAGENTS];
  int *tk, *ag;      /* ticket and agent of each task, -1 for none */
  int *maxstarts;    /* retry.max + 1 */
  int64_t *end_at;   /* when the current run ends, -1 if none */
  int *ok, *stopped; /* the current run's outcome; STOP seen */
  int *starts, *rejects, *successes;
  enum sched_state *st; /* as told by STATE actions */
  size_t *run, nrun;    /* tasks the simulated runtime is running */
  int tkrun[NTICKETS], agrun[NAGENTS];
  int cancels;
  struct sched_actions a;
  struct sched_action *log;
  size_t nlog, caplog;
};

static uint64_t rnd(struct sim *m) {
  m->rng ^= m->rng << 13;
  m->rng ^= m->rng >> 7;
  m->rng ^= m->rng << 17;
  return m->rng;
}

static int64_t rndn(struct sim *m, int64_t n) {
  return (int64_t)(rnd(m) % (uint64_t)n);
}

static void sim_task(struct sim *m, const char *id) {
  static const char *tickets[NTICKETS] = {"A", "B", "C", "D", "E", "F"};
  static const char *agents[NAGENTS] = {"claude", "codex", "check"};
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;
  int tk = (int)rndn(m, NTICKETS + 1) - 1, ag = (int)rndn(m, NAGENTS + 1) - 1;
  size_t ix;

  o.id = id;
  o.ticket = tk >= 0 ? tickets[tk] : NULL;
  o.agent = ag >= 0 ? agents[ag] : NULL;
  o.priority = (enum sched_priority)rndn(m, 4);
  o.estimate_ms = rndn(m, 5) * 500;
  o.retry.max = (int)rndn(m, 4);
  o.retry.floor_ms = rndn(m, 300);
  o.retry.factor = 1.0 + (double)rndn(m, 3);
  o.retry.cap_ms = 2000;
  o.retry.reset_after_ms = rndn(m, 3) == 0 ? 1500 : 0;
  o.retry.intensity = rndn(m, 4) == 0 ? 2 + (int)rndn(m, 2) : 0;
  o.retry.intensity_window_ms = 5000;
  o.timeout_ms = rndn(m, 4) == 0 ? 500 + rndn(m, 2000) : 0;
  o.idle_timeout_ms = rndn(m, 5) == 0 ? 300 + rndn(m, 1000) : 0;
  o.review = m->reviews && rndn(m, 8) == 0;
  ix = t_add_opts(m->s, &o);
  m->tk[ix] = tk;
  m->ag[ix] = ag;
  m->maxstarts[ix] = o.retry.max + 1;
}

static void *zalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);

  cr_assert_not_null(p);
  return p;
}

static void sim_alloc(struct sim *m, size_t n) {
  m->n = n;
  m->tk = zalloc(n, sizeof(int));
  m->ag = zalloc(n, sizeof(int));
  m->maxstarts = zalloc(n, sizeof(int));
  m->end_at = zalloc(n, sizeof(int64_t));
  m->ok = zalloc(n, sizeof(int));
  m->stopped = zalloc(n, sizeof(int));
  m->starts = zalloc(n, sizeof(int));
  m->rejects = zalloc(n, sizeof(int));
  m->successes = zalloc(n, sizeof(int));
  m->st = zalloc(n, sizeof(enum sched_state));
  m->run = zalloc(n, sizeof(size_t));
  for (size_t i = 0; i < n; i++)
    m->end_at[i] = -1;
}

static void sim_free(struct sim *m) {
  free(m->tk);
  free(m->ag);
  free(m->maxstarts);
  free(m->end_at);
  free(m->ok);
  free(m->stopped);
  free(m->starts);
  free(m->rejects);
  free(m->successes);
  free(m->st);
  free(m->run);
  free(m->log);
  sched_actions_close(&m->a);
  sched_free(m->s);
}

/* Tasks are added in a shuffled order; edges follow a hidden order, so the
 * graph is acyclic but file order is not a topological order. */
static void sim_build(struct sim *m, uint64_t seed, size_t n, int wide) {
  struct sched_opts so = SCHED_OPTS_INIT;
  size_t *perm = zalloc(n, sizeof(*perm));
  char id[32], dep[32];

  m->rng = seed * 0x9e3779b97f4a7c15ULL + 1;
  so.jobs = m->jobs;
  so.seed = seed;
  m->s = sched_new(&so);
  sched_actions_init(&m->a);
  sim_alloc(m, n);
  for (int i = 0; i < NAGENTS; i++) {
    m->cap[i] = (int)rndn(m, 4);
    if (rndn(m, 4) == 0)
      m->cap[i] = 0; /* left undeclared: unlimited */
    else
      cr_assert_eq(sched_agent_add(m->s,
                                   i == 0   ? "claude"
                                   : i == 1 ? "codex"
                                            : "check",
                                   m->cap[i]),
                   0);
  }
  for (size_t i = 0; i < n; i++)
    perm[i] = i;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)rndn(m, (int64_t)i), x = perm[i - 1];

    perm[i - 1] = perm[j];
    perm[j] = x;
  }
  for (size_t i = 0; i < n; i++) {
    snprintf(id, sizeof(id), "t%zu", perm[i]);
    sim_task(m, id);
  }
  for (size_t i = 1; i < n; i++) {
    int k = (int)rndn(m, 4);

    for (int j = 0; j < k; j++) {
      size_t lo = wide && i > 200 ? i - 200 : 0;

      snprintf(id, sizeof(id), "t%zu", i);
      snprintf(dep, sizeof(dep), "t%zu",
               lo + (size_t)rndn(m, (int64_t)(i - lo)));
      cr_assert_eq(sched_dep_add(m->s, id, dep, NULL), 0);
    }
  }
  free(perm);
  t_seal(m->s);
}

static void sim_log(struct sim *m, const struct sched_action *act) {
  if (m->nlog == m->caplog) {
    m->caplog = m->caplog ? m->caplog * 2 : 1024;
    m->log = realloc(m->log, m->caplog * sizeof(*m->log));
    cr_assert_not_null(m->log);
  }
  m->log[m->nlog++] = *act;
}

static void sim_start(struct sim *m, const struct sched_action *act) {
  size_t t = act->task;

  cr_assert_lt(m->end_at[t], 0, "task %zu started twice", t);
  for (size_t i = 0; i < sched_task_ndeps(m->s, t); i++)
    cr_assert_eq(sched_task_state(m->s, sched_task_dep(m->s, t, i)),
                 SCHED_COMPLETED, "task %zu started before its deps", t);
  m->starts[t]++;
  cr_assert_eq(act->attempt, m->starts[t]);
  cr_assert_leq(m->starts[t], m->maxstarts[t] + m->rejects[t]);
  m->end_at[t] = m->now + 1 + rndn(m, 2500);
  m->ok[t] = rndn(m, 100) >= m->fail_pct;
  m->stopped[t] = 0;
  m->run[m->nrun++] = t;
  /* The slots, counted by the runtime's own book. */
  cr_assert(m->jobs == 0 || m->nrun <= (size_t)m->jobs);
  if (m->tk[t] >= 0)
    cr_assert_leq(++m->tkrun[m->tk[t]], 1, "ticket over-committed");
  if (m->ag[t] >= 0 && ++m->agrun[m->ag[t]] && m->cap[m->ag[t]] > 0)
    cr_assert_leq(m->agrun[m->ag[t]], m->cap[m->ag[t]], "agent full");
}

static void sim_stop(struct sim *m, const struct sched_action *act) {
  size_t t = act->task;

  cr_assert_geq(m->end_at[t], 0, "STOP for a task not running");
  cr_assert_not(m->stopped[t], "STOP twice for one run");
  cr_assert_neq(act->reason, SCHED_STOP_NONE);
  m->stopped[t] = 1;
  if (m->end_at[t] > m->now + 50)
    m->end_at[t] = m->now + rndn(m, 50);
}

static void sim_apply(struct sim *m) {
  int nwake = 0;

  for (size_t i = 0; i < m->a.n; i++) {
    const struct sched_action *act = &m->a.v[i];

    sim_log(m, act);
    if (act->kind == SCHED_ACT_STATE) {
      cr_assert_eq(m->st[act->task], act->from);
      m->st[act->task] = act->to;
    } else if (act->kind == SCHED_ACT_START) {
      sim_start(m, act);
    } else if (act->kind == SCHED_ACT_STOP) {
      sim_stop(m, act);
    } else {
      cr_assert_gt(act->at, m->now, "WAKE in the past");
      cr_assert_eq(++nwake, 1);
      cr_assert_eq(i, m->a.n - 1, "WAKE comes last");
      m->wake = act->at;
    }
  }
  sched_actions_reset(&m->a);
}

static int sim_startable(struct sim *m, size_t t) {
  if (m->jobs > 0 && m->nrun >= (size_t)m->jobs)
    return 0;
  if (m->tk[t] >= 0 && m->tkrun[m->tk[t]] > 0)
    return 0;
  return m->ag[t] < 0 || m->cap[m->ag[t]] == 0 ||
         m->agrun[m->ag[t]] < m->cap[m->ag[t]];
}

/* After a step, states agree and nothing that could start was left. */
static void sim_check(struct sim *m) {
  if (!m->check)
    return;
  for (size_t t = 0; t < m->n; t++) {
    enum sched_state st = sched_task_state(m->s, t);

    cr_assert_eq(m->st[t], st, "task %zu: STATE actions disagree", t);
    cr_assert_eq(st == SCHED_RUNNING || st == SCHED_BLOCKED, m->end_at[t] >= 0);
    if (st == SCHED_READY)
      cr_assert_not(sim_startable(m, t), "task %zu could start", t);
  }
}

static void sim_step(struct sim *m) {
  m->wake = -1;
  cr_assert_eq(sched_step(m->s, m->now, &m->a), 0);
  sim_apply(m);
  sim_check(m);
}

static void sim_unrun(struct sim *m, size_t i) {
  size_t t = m->run[i];

  m->run[i] = m->run[--m->nrun];
  m->end_at[t] = -1;
  if (m->tk[t] >= 0)
    m->tkrun[m->tk[t]]--;
  if (m->ag[t] >= 0)
    m->agrun[m->ag[t]]--;
}

static int64_t sim_next(struct sim *m) {
  int64_t next = m->wake >= 0 ? m->wake : INT64_MAX;

  for (size_t i = 0; i < m->nrun; i++)
    if (m->end_at[m->run[i]] < next)
      next = m->end_at[m->run[i]];
  return next;
}

static int idx_cmp(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;

  return (x > y) - (x < y);
}

/* Ends, in task order, every run due by now. */
static void sim_end_runs(struct sim *m) {
  size_t due[4096], ndue = 0;

  for (size_t i = 0; i < m->nrun && ndue < 4096; i++)
    if (m->end_at[m->run[i]] <= m->now)
      due[ndue++] = m->run[i];
  qsort(due, ndue, sizeof(*due), idx_cmp);
  for (size_t k = 0; k < ndue; k++) {
    size_t t = due[k], i = 0;
    enum sched_outcome out =
        m->ok[t] ? SCHED_OUTCOME_SUCCESS : SCHED_OUTCOME_FAILURE;

    while (m->run[i] != t)
      i++;
    sim_unrun(m, i);
    cr_assert_eq(sched_run_ended(m->s, t, m->now, out, &m->a), 0);
    sim_apply(m);
    if (m->st[t] == SCHED_COMPLETED || m->st[t] == SCHED_PENDING_REVIEW) {
      cr_assert(m->ok[t] && !m->stopped[t]);
      m->successes[t]++;
    }
  }
}

static void sim_humans(struct sim *m) {
  for (size_t t = 0; m->reviews && t < m->n; t++) {
    if (m->st[t] != SCHED_PENDING_REVIEW)
      continue;
    if (m->rejects[t] < 2 && rndn(m, 3) == 0) {
      m->rejects[t]++;
      cr_assert_eq(sched_task_reject(m->s, t, m->now, &m->a), 0);
    } else {
      cr_assert_eq(sched_task_approve(m->s, t, m->now, &m->a), 0);
    }
    sim_apply(m);
  }
  if (m->cancel_pct > 0 && rndn(m, 100) < m->cancel_pct) {
    size_t t = (size_t)rndn(m, (int64_t)m->n);
    int rc = sched_task_cancel(m->s, t, m->now, &m->a);

    cr_assert(rc == 0 || rc == CRL_EINVALID_TRANSITION);
    m->cancels += rc == 0;
    sim_apply(m);
  }
  for (size_t i = 0; i < m->nrun; i++)
    if (rndn(m, 4) == 0)
      sched_task_activity(m->s, m->run[i], m->now);
}

static void sim_final(struct sim *m) {
  for (size_t t = 0; t < m->n; t++) {
    enum sched_state st = sched_task_state(m->s, t);

    cr_assert_eq(m->st[t], st);
    cr_assert_eq(sched_task_attempts(m->s, t), m->starts[t]);
    if (st == SCHED_COMPLETED)
      cr_assert_eq(m->successes[t], 1 + m->rejects[t],
                   "task %zu: the final attempt ran once", t);
    else if (st == SCHED_FAILED)
      cr_assert_eq(sched_task_retry_at(m->s, t), -1);
    else if (st == SCHED_SKIPPED)
      cr_assert_eq(m->starts[t], 0);
    else
      cr_assert(st == SCHED_CANCELLED && m->cancels > 0, "task %zu ends %s", t,
                sched_state_name(st));
  }
  cr_assert(sched_idle(m->s));
}

static void sim_run(struct sim *m) {
  size_t guard = 0;

  sim_step(m);
  for (;;) {
    int64_t next;

    sim_humans(m);
    sim_step(m);
    if (sched_idle(m->s) && m->nrun == 0)
      break;
    next = sim_next(m);
    cr_assert_neq(next, INT64_MAX, "stuck with nothing to wait for");
    cr_assert_geq(next, m->now);
    m->now = next;
    sim_end_runs(m);
    cr_assert_lt(++guard, 1000000);
  }
  sim_final(m);
}

static void sim_setup(struct sim *m, uint64_t seed) {
  struct sim z = {0};
  uint64_t r = seed * 0xd1342543de82ef95ULL + 7;

  *m = z;
  r ^= r >> 29;
  m->jobs = (int)(r % 5);
  m->fail_pct = (int)((r >> 8) % 50);
  m->cancel_pct = (r >> 16) % 5 == 0 ? 3 : 0;
  m->reviews = (r >> 24) % 3 == 0;
  m->check = 1;
}

static void sim_once(uint64_t seed, struct sim *m) {
  size_t n;

  sim_setup(m, seed);
  n = 1 + (size_t)((seed * 2654435761ULL) % 60);
  sim_build(m, seed, n, 0);
  sim_run(m);
}

static int same_action(const struct sched_action *x,
                       const struct sched_action *y) {
  return x->kind == y->kind && x->task == y->task && x->attempt == y->attempt &&
         x->from == y->from && x->to == y->to && x->reason == y->reason &&
         x->at == y->at;
}

Test(sched_property, random_graphs_keep_every_promise, .timeout = 600) {
  for (uint64_t seed = 1; seed <= 3000; seed++) {
    struct sim m1, m2;

    sim_once(seed, &m1);
    sim_once(seed, &m2);
    cr_assert_eq(m1.nlog, m2.nlog, "seed %llu", (unsigned long long)seed);
    for (size_t i = 0; i < m1.nlog; i++)
      cr_assert(same_action(&m1.log[i], &m2.log[i]), "seed %llu action %zu",
                (unsigned long long)seed, i);
    sim_free(&m1);
    sim_free(&m2);
  }
}

Test(sched_property, ten_thousand_tasks_in_a_wide_graph, .timeout = 600) {
  struct sim m;
  struct sched_counts c;

  sim_setup(&m, 77);
  m.jobs = 32;
  m.fail_pct = 3;
  m.cancel_pct = 0;
  m.reviews = 0;
  m.check = 0;
  sim_build(&m, 77, 10000, 1);
  sim_run(&m);
  sched_counts(m.s, &c);
  cr_assert_eq(c.by_state[SCHED_COMPLETED] + c.by_state[SCHED_FAILED] +
                   c.by_state[SCHED_SKIPPED],
               10000);
  cr_assert_gt(c.by_state[SCHED_COMPLETED], 0);
  sim_free(&m);
}
