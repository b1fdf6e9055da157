/*
 * The scheduler object: it owns the graph, the pools and the queues, and
 * turns each input (time passed, a run ended, a cancel, a review decision)
 * into state changes and actions. Every state change goes through
 * sched__move, which consults the state×event table and appends the STATE
 * action, so the actions are the complete, ordered record of what changed.
 * Work is ordered deterministically: tasks found due in one step are handled
 * in file order and dependents in the order their edges were added, so the
 * same calls with the same `now` values give the same actions.
 */
#include <assert.h>
#include <string.h>

#include "sched-int.h"

struct sched *sched_new(const struct sched_opts *opts) {
  struct sched *s = xcalloc(1, sizeof(*s));

  if (opts != NULL) {
    s->jobs = opts->jobs > 0 ? opts->jobs : 0;
    s->seed = opts->seed;
  }
  s->phase = SCHED__BUILD;
  sched__slot_init(s);
  return s;
}

void sched_free(struct sched *s) {
  if (s == NULL)
    return;
  sched__dag_free(s);
  sched__slot_free_all(s);
  sched__vec_close(&s->agents_ready);
  sched__vec_close(&s->waiting);
  free(s);
}

int sched_seal(struct sched *s, struct crl_err *err) {
  int rc;

  if (s->phase != SCHED__BUILD)
    return crl_err_set(err, CRL_EINVALID_TRANSITION, "already sealed");
  if ((rc = sched__dag_seal(s, err)) < 0)
    return rc;
  s->phase = SCHED__SEALED;
  return 0;
}

void sched__move(struct sched *s, size_t task, enum sched_event ev, int64_t now,
                 struct sched_actions *out) {
  struct sched__task *t = &s->tasks[task];
  enum sched_state to = t->state;
  int rc = sched_state_next(&to, t->state, ev);

  assert(rc == 0);
  (void)rc;
  s->by_state[t->state]--;
  s->by_state[to]++;
  sched__emit_state(out, task, t->state, to, now);
  t->state = to;
}

/* Checks that the graph is sealed and task (unless SCHED__NONE) exists, and
 * closes the window for sched_task_restore. */
static int sched_live(struct sched *s, size_t task) {
  if (s->phase == SCHED__BUILD)
    return CRL_EINVALID_TRANSITION;
  if (task != SCHED__NONE && task >= s->ntasks)
    return CRL_ETASK_NOT_FOUND;
  s->phase = SCHED__LIVE;
  return 0;
}

static void task_ready(struct sched *s, size_t task, enum sched_event ev,
                       int64_t now, struct sched_actions *out) {
  sched__move(s, task, ev, now, out);
  sched__ready_push(s, task);
}

void sched__task_ready(struct sched *s, size_t task, int64_t now,
                       struct sched_actions *out) {
  task_ready(s, task, SCHED_EV_DEPS_MET, now, out);
}

static void task_completed(struct sched *s, size_t task, int64_t now,
                           struct sched_actions *out) {
  const struct sched__vec *dn = &s->tasks[task].dependents;

  for (size_t i = 0; i < dn->n; i++) {
    struct sched__task *d = &s->tasks[dn->v[i]];

    assert(d->unfinished > 0);
    if (--d->unfinished == 0 && d->state == SCHED_PENDING)
      task_ready(s, dn->v[i], SCHED_EV_DEPS_MET, now, out);
  }
}

/* Whether a skipped task could complete once `retried` does: none of its
 * other prerequisites is failed, cancelled or skipped. */
static int task_unskippable(const struct sched *s, size_t task,
                            size_t retried) {
  const struct sched__vec *dp = &s->tasks[task].deps;

  for (size_t i = 0; i < dp->n; i++) {
    enum sched_state st = s->tasks[dp->v[i]].state;

    if (dp->v[i] != retried &&
        (st == SCHED_FAILED || st == SCHED_CANCELLED || st == SCHED_SKIPPED))
      return 0;
  }
  return 1;
}

/* Moves with ev every task in state `from` that depends, directly or not,
 * on task (and that ok, when given, accepts). Breadth first, so nearer
 * dependents come first. */
static void dependents_move(struct sched *s, size_t task, enum sched_state from,
                            enum sched_event ev,
                            int (*ok)(const struct sched *, size_t, size_t),
                            int64_t now, struct sched_actions *out) {
  struct sched__vec q = {0};

  sched__vec_push(&q, task);
  for (size_t i = 0; i < q.n; i++) {
    const struct sched__vec *dn = &s->tasks[q.v[i]].dependents;

    for (size_t j = 0; j < dn->n; j++) {
      if (s->tasks[dn->v[j]].state != from ||
          (ok != NULL && !ok(s, dn->v[j], q.v[i])))
        continue;
      sched__move(s, dn->v[j], ev, now, out);
      sched__vec_push(&q, dn->v[j]);
    }
  }
  sched__vec_close(&q);
}

/* Skips every pending task that depends, directly or not, on task, which
 * will never complete. */
static void task_skip_dependents(struct sched *s, size_t task, int64_t now,
                                 struct sched_actions *out) {
  dependents_move(s, task, SCHED_PENDING, SCHED_EV_SKIP, NULL, now, out);
}

static int64_t deadline(int64_t from, int64_t limit) {
  return limit > 0 ? from + limit : SCHED__NEVER;
}

static void task_start(struct sched *s, size_t task, int64_t now,
                       struct sched_actions *out) {
  struct sched__task *t = &s->tasks[task];

  sched__move(s, task, SCHED_EV_START, now, out);
  t->attempts++;
  t->started_at = now;
  t->wall_at = deadline(now, t->timeout_ms);
  t->idle_at = deadline(now, t->idle_timeout_ms);
  t->stopping = SCHED_STOP_NONE;
  sched__slot_take(s, task);
  sched__emit_start(out, task, t->attempts, now);
}

static void restore_state(struct sched *s, struct sched__task *t,
                          enum sched_state st) {
  s->by_state[t->state]--;
  s->by_state[st]++;
  t->state = st;
}

static void restore_run(struct sched *s, size_t task, enum sched_state st,
                        int64_t started_at) {
  struct sched__task *t = &s->tasks[task];

  restore_state(s, t, st);
  t->started_at = started_at;
  t->wall_at = deadline(started_at, t->timeout_ms);
  t->idle_at = st == SCHED_RUNNING ? deadline(started_at, t->idle_timeout_ms)
                                   : SCHED__NEVER;
  sched__slot_take(s, task);
}

/* Takes back what an earlier restore of the task did, so that the runtime
 * may restore a task from its row and then again from its live run. */
static void restore_undo(struct sched *s, size_t task) {
  struct sched__task *t = &s->tasks[task];

  if (t->state == SCHED_COMPLETED)
    for (size_t i = 0; i < t->dependents.n; i++)
      s->tasks[t->dependents.v[i]].unfinished++;
  if (t->run_pos != SCHED__NONE)
    sched__slot_release(s, task);
  t->retry_base = 0;
  restore_state(s, t, SCHED_PENDING);
}

int sched_task_restore(struct sched *s, size_t task, enum sched_state st,
                       int attempts, int64_t started_at, struct crl_err *err) {
  struct sched__task *t;

  if (s->phase != SCHED__SEALED)
    return crl_err_set(err, CRL_EINVALID_TRANSITION,
                       "restore comes after sealing and before any step");
  if (task >= s->ntasks)
    return crl_err_set(err, CRL_ETASK_NOT_FOUND, "no task #%zu", task);
  t = &s->tasks[task];
  if ((unsigned)st >= SCHED_STATE_MAX || attempts < 0)
    return crl_err_set(err, CRL_EVALIDATION_FAILED, "task \"%s\": bad restore",
                       t->id);
  restore_undo(s, task);
  t->attempts = attempts;
  if (st == SCHED_COMPLETED) {
    restore_state(s, t, st);
    for (size_t i = 0; i < t->dependents.n; i++)
      s->tasks[t->dependents.v[i]].unfinished--;
  } else if (st == SCHED_RUNNING || st == SCHED_BLOCKED) {
    restore_run(s, task, st, started_at);
  } else if (st == SCHED_PENDING_REVIEW) {
    restore_state(s, t, st);
  } else if (st == SCHED_FAILED || st == SCHED_CANCELLED ||
             st == SCHED_SKIPPED) {
    /* A new invocation gives what did not complete a fresh retry budget. */
    t->retry_base = attempts;
  }
  return 0;
}

static int index_cmp(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;

  return (x > y) - (x < y);
}

/* Appends to out, in file order, the tasks of set for which due() holds. */
static void collect_due(const struct sched *s, const struct sched__vec *set,
                        int (*due)(const struct sched__task *, int64_t),
                        int64_t now, struct sched__vec *out) {
  for (size_t i = 0; i < set->n; i++)
    if (due(&s->tasks[set->v[i]], now))
      sched__vec_push(out, set->v[i]);
  if (out->n > 1)
    qsort(out->v, out->n, sizeof(*out->v), index_cmp);
}

static enum sched_stop_reason run_overdue(const struct sched__task *t,
                                          int64_t now) {
  if (t->stopping != SCHED_STOP_NONE)
    return SCHED_STOP_NONE;
  if (t->wall_at <= now)
    return SCHED_STOP_TIMEOUT;
  if (t->state == SCHED_RUNNING && t->idle_at <= now)
    return SCHED_STOP_IDLE;
  return SCHED_STOP_NONE;
}

static int run_due(const struct sched__task *t, int64_t now) {
  return run_overdue(t, now) != SCHED_STOP_NONE;
}

static int retry_due(const struct sched__task *t, int64_t now) {
  return t->retry_at <= now;
}

static void step_deadlines(struct sched *s, int64_t now,
                           struct sched_actions *out) {
  struct sched__vec due = {0};

  collect_due(s, &s->running, run_due, now, &due);
  for (size_t i = 0; i < due.n; i++) {
    struct sched__task *t = &s->tasks[due.v[i]];

    t->stopping = run_overdue(t, now);
    sched__emit_stop(out, due.v[i], t->stopping, now);
  }
  sched__vec_close(&due);
}

static void step_retries(struct sched *s, int64_t now,
                         struct sched_actions *out) {
  struct sched__vec due = {0};

  collect_due(s, &s->waiting, retry_due, now, &due);
  for (size_t i = 0; i < due.n; i++) {
    sched__retry_unwait(s, due.v[i]);
    task_ready(s, due.v[i], SCHED_EV_RETRY, now, out);
  }
  sched__vec_close(&due);
}

static void step_wake(struct sched *s, struct sched_actions *out) {
  int64_t at = SCHED__NEVER;

  for (size_t i = 0; i < s->running.n; i++) {
    const struct sched__task *t = &s->tasks[s->running.v[i]];

    if (t->stopping != SCHED_STOP_NONE)
      continue;
    at = t->wall_at < at ? t->wall_at : at;
    if (t->state == SCHED_RUNNING && t->idle_at < at)
      at = t->idle_at;
  }
  for (size_t i = 0; i < s->waiting.n; i++)
    if (s->tasks[s->waiting.v[i]].retry_at < at)
      at = s->tasks[s->waiting.v[i]].retry_at;
  if (at != SCHED__NEVER)
    sched__emit_wake(out, at);
}

int sched_step(struct sched *s, int64_t now, struct sched_actions *out) {
  size_t task;
  int rc;

  if ((rc = sched_live(s, SCHED__NONE)) < 0)
    return rc;
  if (!s->stepped) {
    s->stepped = 1;
    for (size_t i = 0; i < s->ntasks; i++)
      if (s->tasks[i].state == SCHED_PENDING && s->tasks[i].unfinished == 0)
        task_ready(s, i, SCHED_EV_DEPS_MET, now, out);
  }
  step_deadlines(s, now, out);
  step_retries(s, now, out);
  while (!s->paused && sched__slot_jobs_free(s) &&
         (task = sched__ready_pop(s)) != SCHED__NONE)
    task_start(s, task, now, out);
  step_wake(s, out);
  return 0;
}

static void run_failed(struct sched *s, size_t task, int64_t now,
                       struct sched_actions *out) {
  struct sched__task *t = &s->tasks[task];
  int64_t at;

  sched__move(s, task, SCHED_EV_FAIL, now, out);
  at = sched__retry_next(s, t, now);
  if (at < 0)
    task_skip_dependents(s, task, now, out);
  else
    sched__retry_wait(s, task, at);
}

int sched_run_ended(struct sched *s, size_t task, int64_t now,
                    enum sched_outcome outcome, struct sched_actions *out) {
  struct sched__task *t;
  enum sched_stop_reason reason;
  int rc;

  if ((rc = sched_live(s, task)) < 0)
    return rc;
  t = &s->tasks[task];
  if (t->state != SCHED_RUNNING && t->state != SCHED_BLOCKED)
    return CRL_EINVALID_TRANSITION;
  if (t->state == SCHED_BLOCKED)
    sched__move(s, task, SCHED_EV_UNBLOCK, now, out);
  sched__slot_release(s, task);
  reason = t->stopping;
  t->stopping = SCHED_STOP_NONE;
  t->wall_at = t->idle_at = SCHED__NEVER;
  if (reason == SCHED_STOP_CANCELLED) {
    sched__move(s, task, SCHED_EV_CANCEL, now, out);
    task_skip_dependents(s, task, now, out);
  } else if (outcome == SCHED_OUTCOME_FAILURE || reason != SCHED_STOP_NONE) {
    /* A run stopped for its wall or idle limit failed, whatever its exit. */
    run_failed(s, task, now, out);
  } else if (t->review || outcome == SCHED_OUTCOME_REVIEW) {
    sched__move(s, task, SCHED_EV_NEED_REVIEW, now, out);
  } else {
    sched__move(s, task, SCHED_EV_SUCCEED, now, out);
    task_completed(s, task, now, out);
  }
  return 0;
}

void sched_task_activity(struct sched *s, size_t task, int64_t now) {
  struct sched__task *t;

  assert(task < s->ntasks);
  t = &s->tasks[task];
  if (t->state == SCHED_RUNNING && t->stopping == SCHED_STOP_NONE)
    t->idle_at = deadline(now, t->idle_timeout_ms);
}

/* 1 when a cancel still has something to do: terminal tasks, including a
 * task failed for good, have nothing left to cancel. */
static int task_cancellable(const struct sched__task *t) {
  enum sched_state to;

  if (t->state == SCHED_FAILED && t->wait_pos == SCHED__NONE)
    return 0;
  return sched_state_next(&to, t->state, SCHED_EV_CANCEL) == 0;
}

static void task_cancel(struct sched *s, size_t task, int64_t now,
                        int skip_dependents, struct sched_actions *out) {
  struct sched__task *t = &s->tasks[task];

  if (t->state == SCHED_RUNNING || t->state == SCHED_BLOCKED) {
    /* The run is stopped once; a cancel that finds it already stopping
     * (for any reason) only makes sure it ends as cancelled. */
    if (t->stopping == SCHED_STOP_NONE)
      sched__emit_stop(out, task, SCHED_STOP_CANCELLED, now);
    t->stopping = SCHED_STOP_CANCELLED;
    return;
  }
  if (t->state == SCHED_READY)
    sched__ready_remove(s, task);
  if (t->wait_pos != SCHED__NONE)
    sched__retry_unwait(s, task);
  sched__move(s, task, SCHED_EV_CANCEL, now, out);
  if (skip_dependents)
    task_skip_dependents(s, task, now, out);
}

int sched_task_cancel(struct sched *s, size_t task, int64_t now,
                      struct sched_actions *out) {
  int rc;

  if ((rc = sched_live(s, task)) < 0)
    return rc;
  if (!task_cancellable(&s->tasks[task]))
    return CRL_EINVALID_TRANSITION;
  task_cancel(s, task, now, 1, out);
  return 0;
}

int sched_cancel_all(struct sched *s, int64_t now, struct sched_actions *out) {
  int rc;

  if ((rc = sched_live(s, SCHED__NONE)) < 0)
    return rc;
  /* Every task is cancelled in file order, so none is merely skipped. */
  for (size_t i = 0; i < s->ntasks; i++)
    if (task_cancellable(&s->tasks[i]))
      task_cancel(s, i, now, 0, out);
  return 0;
}

static int review_check(struct sched *s, size_t task) {
  int rc;

  if ((rc = sched_live(s, task)) < 0)
    return rc;
  if (s->tasks[task].state != SCHED_PENDING_REVIEW)
    return CRL_EINVALID_TRANSITION;
  return 0;
}

int sched_task_approve(struct sched *s, size_t task, int64_t now,
                       struct sched_actions *out) {
  int rc;

  if ((rc = review_check(s, task)) < 0)
    return rc;
  sched__move(s, task, SCHED_EV_APPROVE, now, out);
  task_completed(s, task, now, out);
  return 0;
}

int sched_task_reject(struct sched *s, size_t task, int64_t now,
                      struct sched_actions *out) {
  int rc;

  if ((rc = review_check(s, task)) < 0)
    return rc;
  sched__move(s, task, SCHED_EV_REJECT, now, out);
  task_ready(s, task, SCHED_EV_RERUN, now, out);
  return 0;
}

/* Undoes task_skip_dependents below a task that may complete again. */
static void task_unskip_dependents(struct sched *s, size_t task, int64_t now,
                                   struct sched_actions *out) {
  dependents_move(s, task, SCHED_SKIPPED, SCHED_EV_UNSKIP, task_unskippable,
                  now, out);
}

int sched_task_retry(struct sched *s, size_t task, int64_t now,
                     struct sched_actions *out) {
  int rc;

  if ((rc = sched_live(s, task)) < 0)
    return rc;
  if (s->tasks[task].state != SCHED_FAILED)
    return CRL_EINVALID_TRANSITION;
  if (s->tasks[task].retry_at >= 0)
    sched__retry_unwait(s, task);
  task_unskip_dependents(s, task, now, out);
  task_ready(s, task, SCHED_EV_RETRY, now, out);
  return 0;
}

void sched_pause(struct sched *s, int paused) {
  s->paused = paused != 0;
}

int sched_paused(const struct sched *s) {
  return s->paused;
}

int sched_task_block(struct sched *s, size_t task, int64_t now,
                     struct sched_actions *out) {
  int rc;

  if ((rc = sched_live(s, task)) < 0)
    return rc;
  if (s->tasks[task].state != SCHED_RUNNING)
    return CRL_EINVALID_TRANSITION;
  sched__move(s, task, SCHED_EV_BLOCK, now, out);
  s->tasks[task].idle_at = SCHED__NEVER;
  return 0;
}

int sched_task_unblock(struct sched *s, size_t task, int64_t now,
                       struct sched_actions *out) {
  struct sched__task *t;
  int rc;

  if ((rc = sched_live(s, task)) < 0)
    return rc;
  t = &s->tasks[task];
  if (t->state != SCHED_BLOCKED)
    return CRL_EINVALID_TRANSITION;
  sched__move(s, task, SCHED_EV_UNBLOCK, now, out);
  if (t->stopping == SCHED_STOP_NONE)
    t->idle_at = deadline(now, t->idle_timeout_ms);
  return 0;
}

size_t sched_task_count(const struct sched *s) {
  return s->ntasks;
}

int sched_task_find(const struct sched *s, const char *id) {
  size_t ix;

  if (sched__map_get(&s->task_ids, id, &ix) < 0)
    return CRL_ETASK_NOT_FOUND;
  return (int)ix;
}

const char *sched_task_id(const struct sched *s, size_t task) {
  assert(task < s->ntasks);
  return s->tasks[task].id;
}

const char *sched_task_ticket(const struct sched *s, size_t task) {
  assert(task < s->ntasks);
  return s->tickets[s->tasks[task].ticket].name;
}

const char *sched_task_agent(const struct sched *s, size_t task) {
  assert(task < s->ntasks);
  return s->agents[s->tasks[task].agent].name;
}

enum sched_state sched_task_state(const struct sched *s, size_t task) {
  assert(task < s->ntasks);
  return s->tasks[task].state;
}

int sched_task_attempts(const struct sched *s, size_t task) {
  assert(task < s->ntasks);
  return s->tasks[task].attempts;
}

int64_t sched_task_retry_at(const struct sched *s, size_t task) {
  assert(task < s->ntasks);
  return s->tasks[task].wait_pos != SCHED__NONE ? s->tasks[task].retry_at : -1;
}

void sched_counts(const struct sched *s, struct sched_counts *out) {
  memcpy(out->by_state, s->by_state, sizeof(out->by_state));
}

/* A pending task whose deps are all settled becomes ready at once (after
 * the first step), so once the first step is done, pending tasks only wait
 * for other tasks. When none is ready, running, blocked, rejected or waiting
 * for a retry, what they wait for is, in the end, a review. */
int sched_idle(const struct sched *s) {
  const size_t *n = s->by_state;

  if (!s->stepped && n[SCHED_PENDING] > 0)
    return 0;
  return n[SCHED_READY] + n[SCHED_RUNNING] + n[SCHED_BLOCKED] +
             n[SCHED_REJECTED] + s->waiting.n ==
         0;
}
