/*
 * The engine: one libuv loop that feeds the scheduler its inputs (runs that
 * ended, output seen, time passing, Ctrl-C) and carries out the actions it
 * returns (persist a state change, start a run, stop a run, wake later).
 *
 * Store writes of a loop turn share one transaction, committed in the
 * uv_prepare hook before the loop blocks and before any line reaches the
 * user (redis beforeSleep: AOF before client writes). A run's row is
 * committed before its shim is spawned, so a kill -9 at any moment leaves a
 * store that knows every shim that may exist; on the next start the engine
 * re-attaches to the live ones and collects the verdicts of the dead.
 */
#include "rt-chan.h"
#include "rt-json.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int64_t rt_engine_now(struct rt_engine *e) {
  return crl_time_wall_ms();
}

static const char *engine_task_id(struct rt_engine *e, size_t task) {
  return e->m->tasks[task].id;
}

void rt_engine_event(struct rt_engine *e, const char *task, int64_t run,
                     const char *kind, const char *data) {
  struct store_event ev = {0};

  ev.ts = rt_engine_now(e);
  ev.mission = e->m->name;
  ev.task = task;
  ev.run = run;
  ev.kind = kind;
  ev.data = data;
  if (store_event_append(e->st, &ev, &e->err) < 0) {
    log_error("unable to record event: %s", e->err.msg);
    return;
  }
  rt_view_event(e->view, ev.seq, task, run, kind, data);
}

/* Records an event whose data is a JSON object built by the caller. */
void rt_engine_event_json(struct rt_engine *e, const char *task, int64_t run,
                          const char *kind, json_t *data) {
  char *s = json_dumps(data, JSON_COMPACT);

  rt_engine_event(e, task, run, kind, s);
  free(s);
  json_decref(data);
}

static void engine_reason_set(struct rt_engine *e, size_t task,
                              const char *reason) {
  free(e->reasons[task]);
  e->reasons[task] = reason ? xstrdup(reason) : NULL;
}

static int engine_reason_is_limit(const char *reason) {
  return reason != NULL && (strncmp(reason, "timeout", 7) == 0 ||
                            strncmp(reason, "idle", 4) == 0 ||
                            strncmp(reason, "budget-exceeded", 15) == 0);
}

static void engine_on_state(struct rt_engine *e, const struct sched_action *a) {
  const char *id = engine_task_id(e, a->task), *reason = e->reasons[a->task];
  int quiet = a->to == SCHED_RUNNING || a->to == SCHED_READY;
  int64_t now = rt_engine_now(e);
  int final =
      a->to == SCHED_FAILED && sched_task_retry_at(e->sched, a->task) < 0;

  if (a->to == SCHED_CANCELLED && reason == NULL)
    reason = "cancelled";
  if (a->to == SCHED_SKIPPED)
    reason = "dependency did not complete";
  if (final && engine_reason_is_limit(reason))
    e->limit_hit = 1;
  store_task_set_state(
      e->st, e->m->name, id, sched_state_name(a->to),
      sched_task_attempts(e->sched, a->task),
      a->to == SCHED_RUNNING ? NULL : reason, a->to == SCHED_RUNNING ? now : -1,
      sched_state_is_terminal(a->to) || final ? now : -1, NULL);
  rt_engine_event_json(e, id, 0, "state",
                       json_pack("{s:s, s:s, s:i, s:s?}", "from",
                                 sched_state_name(a->from), "to",
                                 sched_state_name(a->to), "attempt",
                                 sched_task_attempts(e->sched, a->task),
                                 "reason", quiet ? NULL : reason));
  rt_view_state(e->view, a->task, a->from, a->to, quiet ? NULL : reason);
  if (a->to == SCHED_COMPLETED)
    e->merge_check = 1;
}

static void engine_queue_spawn(struct rt_engine *e, struct rt_run *r) {
  r->next_spawn = NULL;
  *e->spawn_tail = r;
  e->spawn_tail = &r->next_spawn;
}

static void engine_on_start(struct rt_engine *e, const struct sched_action *a) {
  struct store_run row = {0};
  struct rt_run *r;
  char *dir;

  row.mission = e->m->name;
  row.task = engine_task_id(e, a->task);
  row.attempt = a->attempt;
  row.started_at = rt_engine_now(e);
  store_run_insert(e->st, &row, NULL);
  xasprintf(&dir, "%s/runs/%lld", e->opts.state_dir, (long long)row.id);
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    log_warn("unable to create %s: %s", dir, strerror(errno));
  store_run_set_dir(e->st, row.id, dir, NULL);
  r = rt_run_new(e, a->task, row.id, a->attempt, dir);
  r->started_at = row.started_at;
  e->runs[a->task] = r;
  e->live++;
  engine_reason_set(e, a->task, NULL);
  rt_engine_event_json(e, row.task, row.id, "run.start",
                       json_pack("{s:I, s:i}", "run", (json_int_t)row.id,
                                 "attempt", a->attempt));
  if (strcmp(e->m->tasks[a->task].sandbox, "none") == 0)
    rt_engine_event_json(e, row.task, row.id, "warning",
                         json_pack("{s:s}", "message",
                                   "sandbox profile 'none': the agent runs "
                                   "unconfined"));
  engine_queue_spawn(e, r);
  free(dir);
}

static void engine_on_wake(uv_timer_t *h) {
  struct rt_engine *e = crl_container_of(h, struct rt_engine, wake);

  e->need_step = 1;
}

static void engine_dispatch_one(struct rt_engine *e,
                                const struct sched_action *a) {
  int64_t delay;

  switch (a->kind) {
  case SCHED_ACT_STATE:
    engine_on_state(e, a);
    break;
  case SCHED_ACT_START:
    engine_on_start(e, a);
    break;
  case SCHED_ACT_STOP:
    if (e->runs[a->task] != NULL)
      rt_run_stop(e->runs[a->task], a->reason);
    break;
  case SCHED_ACT_WAKE:
    delay = a->at - rt_engine_now(e);
    uv_timer_start(&e->wake, engine_on_wake, delay > 0 ? (uint64_t)delay : 0,
                   0);
    break;
  }
}

/* Actions may append further actions while they are carried out; index
 * access keeps that safe. */
void rt_engine_dispatch(struct rt_engine *e) {
  for (size_t i = 0; i < e->acts.n; i++) {
    struct sched_action a = e->acts.v[i];

    engine_dispatch_one(e, &a);
  }
  sched_actions_reset(&e->acts);
}

/* The policies may fail a successful run or hold it for a review. */
static enum sched_outcome engine_verdict(struct rt_run *r,
                                         enum sched_outcome outcome,
                                         const char **reason) {
  enum rt_verdict v = rt_ticket_commit(r);

  if (r->eng->planning[r->task] && outcome == SCHED_OUTCOME_SUCCESS) {
    rt_engine_event_json(r->eng, engine_task_id(r->eng, r->task), r->id, "plan",
                         json_pack("{s:I}", "run", (json_int_t)r->id));
    return SCHED_OUTCOME_REVIEW; /* the plan waits for its approval */
  }
  if (outcome != SCHED_OUTCOME_SUCCESS || v == RT_VERDICT_OK)
    return outcome;
  *reason = r->verdict_reason;
  return v == RT_VERDICT_FAIL ? SCHED_OUTCOME_FAILURE : SCHED_OUTCOME_REVIEW;
}

void rt_engine_run_ended(struct rt_engine *e, struct rt_run *r,
                         enum sched_outcome outcome, const char *reason) {
  const char *id = engine_task_id(e, r->task);
  int64_t now = rt_engine_now(e);

  rt_gate_run_ended(e, r->task);
  if (r->spawned)
    outcome = engine_verdict(r, outcome, &reason);
  store_run_end(e->st, r->id, r->exit_code, r->signal, reason, r->err_no, now,
                NULL);
  rt_engine_event_json(e, id, r->id, "run.end",
                       json_pack("{s:I, s:s, s:b}", "run", (json_int_t)r->id,
                                 "reason", reason, "success",
                                 outcome == SCHED_OUTCOME_SUCCESS));
  if (e->runs[r->task] == r)
    e->runs[r->task] = NULL;
  engine_reason_set(e, r->task, reason);
  if (sched_run_ended(e->sched, r->task, now, outcome, &e->acts) < 0)
    log_error("%s: run %lld of %s was not running", __func__, (long long)r->id,
              id);
  rt_engine_dispatch(e);
  e->need_step = 1;
}

void rt_engine_run_line(struct rt_engine *e, struct rt_run *r,
                        const struct adapter_event *ev) {
  json_t *text = json_stringn(ev->text, ev->len);
  struct crl_buf esc;

  if (text == NULL) {
    /* Not UTF-8: record an escaped copy; the log keeps the raw bytes. */
    crl_buf_init(&esc, 0);
    crl_escape(&esc, ev->text, ev->len);
    text = json_stringn(esc.data ? esc.data : "", esc.len);
    crl_buf_close(&esc);
  }
  rt_engine_event_json(
      e, engine_task_id(e, r->task), r->id, adapter_event_kind_name(ev->kind),
      json_pack("{s:o, s:b}", "text", text, "truncated", ev->truncated));
}

void rt_engine_run_closed(struct rt_engine *e, struct rt_run *r) {
  if (r->pidfd >= 0)
    close(r->pidfd);
  if (r->logfd >= 0)
    close(r->logfd);
  adapter_stream_close(&r->stream);
  free(r->workdir);
  free(r->dir);
  free(r);
  e->live--;
}

static void engine_spawn_queued(struct rt_engine *e) {
  struct rt_run *r = e->spawn_head, *next;

  e->spawn_head = NULL;
  e->spawn_tail = &e->spawn_head;
  for (; r != NULL; r = next) {
    next = r->next_spawn;
    rt_run_spawn(r);
  }
}

static int engine_exit_code(struct rt_engine *e) {
  struct sched_counts c;

  sched_counts(e->sched, &c);
  if (e->fatal)
    return RT_EXIT_FAILED;
  if (e->cancels > 0 && c.by_state[SCHED_CANCELLED] > 0)
    return RT_EXIT_CANCELLED;
  if (c.by_state[SCHED_COMPLETED] == sched_task_count(e->sched))
    return e->merge_failed ? RT_EXIT_FAILED : RT_EXIT_OK;
  return e->limit_hit ? RT_EXIT_LIMIT : RT_EXIT_FAILED;
}

static const char *engine_mission_state(int code) {
  if (code == RT_EXIT_OK)
    return "succeeded";
  return code == RT_EXIT_CANCELLED ? "cancelled" : "failed";
}

/* Says which tasks wait for a human, and how to decide. */
static void engine_reviews_hint(struct rt_engine *e) {
  const char *sep = "";
  size_t n = 0;

  for (size_t i = 0; i < e->m->ntasks; i++)
    n += sched_task_state(e->sched, i) == SCHED_PENDING_REVIEW;
  if (n == 0)
    return;
  fprintf(stderr, "corral: %zu task%s wait%s for review:", n, n > 1 ? "s" : "",
          n > 1 ? "" : "s");
  for (size_t i = 0; i < e->m->ntasks; i++)
    if (sched_task_state(e->sched, i) == SCHED_PENDING_REVIEW) {
      fprintf(stderr, "%s %s", sep, e->m->tasks[i].id);
      sep = ",";
    }
  fprintf(stderr,
          "\ncorral: decide with `corral approve TASK` or `corral "
          "reject --feedback TEXT TASK`, then run %s again\n",
          e->m->file);
}

static void engine_on_closed(uv_handle_t *h) {
  struct rt_engine *e = h->data;

  e->closing--;
}

static void engine_close_one(struct rt_engine *e, uv_handle_t *h) {
  h->data = e;
  e->closing++;
  uv_close(h, engine_on_closed);
}

static void engine_handles_close(struct rt_engine *e) {
  rt_engine_gw_close(e);
  if (!e->handles_ok)
    return;
  e->handles_ok = 0;
  engine_close_one(e, (uv_handle_t *)&e->turn);
  engine_close_one(e, (uv_handle_t *)&e->wake);
  if (e->opts.embedded)
    return;
  engine_close_one(e, (uv_handle_t *)&e->sigint);
  engine_close_one(e, (uv_handle_t *)&e->sigterm);
}

static void engine_finish(struct rt_engine *e) {
  int code = engine_exit_code(e);

  e->finished = 1;
  store_mission_set_state(e->st, e->m->name, engine_mission_state(code),
                          rt_engine_now(e), NULL);
  rt_engine_event_json(e, NULL, 0, "mission.end",
                       json_pack("{s:s, s:i}", "state",
                                 engine_mission_state(code), "exit", code));
  if (store_commit(e->st, &e->err) < 0)
    log_error("unable to commit: %s", e->err.msg);
  rt_view_flush(e->view);
  rt_view_finish(e->view, code);
  if (!e->opts.embedded)
    engine_reviews_hint(e);
  e->exit_code = code;
  rt_gate_close_all(e);
  engine_handles_close(e);
  if (e->opts.on_finish != NULL)
    e->opts.on_finish(e, e->opts.payload);
}

static int engine_commit(struct rt_engine *e) {
  if (!store_dirty(e->st))
    return 0;
  if (store_commit(e->st, &e->err) == 0) {
    if (e->opts.on_commit != NULL)
      e->opts.on_commit(e, e->opts.payload);
    return 0;
  }
  /* Nothing may be reported that the store did not keep: stop the mission
   * and leave the agents to their shims for the next start to collect. */
  rt_errorf("fatal: unable to commit to the store: %s", e->err.msg);
  e->fatal = 1;
  return -1;
}

/* Nothing can happen without a human. `corral run` stops there; a daemon's
 * engine waits for the reviews. */
static int engine_over(struct rt_engine *e) {
  struct sched_counts c;

  if (!sched_idle(e->sched))
    return 0;
  if (!e->opts.embedded)
    return 1;
  sched_counts(e->sched, &c);
  return c.by_state[SCHED_PENDING_REVIEW] == 0;
}

/* Once per loop turn, before the loop blocks: step the scheduler, commit,
 * report, then spawn the runs whose rows are now durable. */
static void engine_on_turn(uv_prepare_t *h) {
  struct rt_engine *e = crl_container_of(h, struct rt_engine, turn);

  while (!e->fatal) {
    if (e->need_step) {
      e->need_step = 0;
      sched_step(e->sched, rt_engine_now(e), &e->acts);
      rt_engine_dispatch(e);
    }
    if (e->merge_check) { /* before spawning: dependents see the merge */
      e->merge_check = 0;
      rt_tickets_merge(e);
    }
    if (engine_commit(e) < 0)
      break;
    rt_view_flush(e->view);
    if (e->spawn_head == NULL && !e->need_step)
      break;
    engine_spawn_queued(e);
  }
  if ((e->fatal || engine_over(e)) && e->live == 0 && !e->finished &&
      !e->detaching)
    engine_finish(e);
}

static void engine_on_signal(uv_signal_t *h, int signum) {
  struct rt_engine *e = h->data;

  if (e->cancels++ == 0) {
    rt_errorf("cancelling: stopping %zu running task(s); interrupt again to "
              "kill them",
              e->live);
    sched_cancel_all(e->sched, rt_engine_now(e), &e->acts);
    rt_engine_dispatch(e);
    return;
  }
  for (size_t i = 0; i < e->m->ntasks; i++)
    if (e->runs[i] != NULL)
      rt_run_kill(e->runs[i]);
}

static int engine_handles_init(struct rt_engine *e) {
  int rc;

  if ((rc = uv_prepare_init(e->loop, &e->turn)) < 0 ||
      (rc = uv_timer_init(e->loop, &e->wake)) < 0)
    return rc;
  if (!e->opts.embedded && ((rc = uv_signal_init(e->loop, &e->sigint)) < 0 ||
                            (rc = uv_signal_init(e->loop, &e->sigterm)) < 0))
    return rc;
  e->handles_ok = 1;
  uv_prepare_start(&e->turn, engine_on_turn);
  if (e->opts.embedded)
    return 0;
  e->sigint.data = e;
  e->sigterm.data = e;
  uv_signal_start(&e->sigint, engine_on_signal, SIGINT);
  uv_signal_start(&e->sigterm, engine_on_signal, SIGTERM);
  return 0;
}

static int engine_check_adapters(const struct msn_mission *m,
                                 struct crl_err *err) {
  for (size_t i = 0; i < m->nagents; i++)
    if (adapter_find(m->agents[i].adapter) == NULL)
      return crl_err_set(err, CRL_EVALIDATION_FAILED,
                         "%s:%d:%d: error: adapter '%s' of agent '%s' is not "
                         "available in this build yet (use adapter: exec)",
                         m->file, m->agents[i].line, m->agents[i].col,
                         m->agents[i].adapter, m->agents[i].name);
  return 0;
}

static int engine_runs_dir(const char *state_dir, struct crl_err *err) {
  char *dir;
  int rc;

  xasprintf(&dir, "%s/runs", state_dir);
  if ((rc = rt_mkdirs(dir, 0700)) < 0)
    crl_err_set(err, rc, "unable to create %s: %s", dir, crl_strerror(rc));
  free(dir);
  return rc;
}

/* One engine per mission and state dir: a second `corral run` of the same
 * mission would race the first for its runs. The lock dies with us. */
static int engine_lock(struct rt_engine *e, struct crl_err *err) {
  char pid[32];
  int n, rc;

  if ((rc = rt_mission_lock(&e->lockfd, e->opts.state_dir, e->m->name, pid,
                            sizeof(pid), err)) == CRL_EAGENT_BUSY)
    return crl_err_set(err, rc,
                       "mission '%s' is already running in this state dir "
                       "(corral pid %s)",
                       e->m->name, pid);
  if (rc < 0)
    return rc;
  n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
  if (ftruncate(e->lockfd, 0) < 0 || pwrite(e->lockfd, pid, (size_t)n, 0) < 0)
    log_warn("unable to record our pid in the mission lock");
  return 0;
}

/* Tasks with `plan: required` start in the plan phase unless the store
 * says their plan was approved. */
static void engine_plans(struct rt_engine *e) {
  struct store_task t;

  for (size_t i = 0; i < e->m->ntasks; i++) {
    if (!e->m->tasks[i].plan)
      continue;
    if (store_task_get(e->st, e->m->name, e->m->tasks[i].id, &t, NULL) == 0 &&
        t.phase != NULL && strcmp(t.phase, "work") == 0)
      continue;
    e->planning[i] = 1;
    store_task_set_phase(e->st, e->m->name, e->m->tasks[i].id, "plan", NULL);
  }
}

/* Every engine's first event: replay tells an engine that died without
 * mission.end (kill -9) from the next one by it. */
static int engine_started(struct rt_engine *e) {
  rt_engine_event_json(e, NULL, 0, "engine.start",
                       json_pack("{s:i}", "pid", (int)getpid()));
  return 0;
}

int rt_engine_init(struct rt_engine *e, uv_loop_t *loop,
                   const struct rt_engine_opts *o, struct msn_mission *m,
                   struct crl_err *err) {
  int rc;

  memset(e, 0, sizeof(*e));
  e->loop = loop;
  e->opts = *o;
  e->m = m;
  e->spawn_tail = &e->spawn_head;
  sched_actions_init(&e->acts);
  if ((rc = engine_check_adapters(m, err)) < 0 ||
      (rc = rt_plan_build(&e->sched, m, o->jobs, err)) < 0)
    return rc;
  e->runs = xcalloc(m->ntasks, sizeof(*e->runs));
  e->lockfd = -1;
  if ((rc = engine_runs_dir(o->state_dir, err)) < 0 ||
      (rc = engine_lock(e, err)) < 0)
    return rc;
  e->reasons = xcalloc(m->ntasks, sizeof(*e->reasons));
  e->spent_ticket = xcalloc(m->ntickets + 1, sizeof(*e->spent_ticket));
  e->spent_task = xcalloc(m->ntasks + 1, sizeof(*e->spent_task));
  if ((rc = rt_tickets_open(e, err)) < 0)
    return rc;
  e->st = o->st;
  e->own_store = o->st == NULL;
  if (e->own_store && (rc = rt_store_open(&e->st, o->state_dir, err)) < 0)
    return rc;
  if ((rc = engine_handles_init(e)) < 0)
    return crl_err_set(err, rc, "unable to set up the loop: %s",
                       uv_strerror(rc));
  e->view = rt_view_new(loop, o->view, e);
  e->cgroup = rt_cgroup_parent();
  if ((rc = rt_engine_gw_init(e, err)) < 0)
    return rc;
  e->ticket_done = xcalloc(m->ntickets + 1, 1);
  e->planning = xcalloc(m->ntasks + 1, 1);
  if ((rc = rt_persist(e, err)) < 0 || (rc = engine_started(e)) < 0 ||
      (rc = rt_tickets_record(e, err)) < 0 ||
      (rc = rt_discover_restore(e, err)) < 0 ||
      (rc = rt_engine_gw_reload(e, err)) < 0 || (rc = rt_resume(e, err)) < 0)
    return rc;
  rt_gate_resume(e);
  engine_plans(e);
  e->need_step = 1;
  e->merge_check = 1; /* tickets approved or completed while we were away */
  return store_commit(e->st, err);
}

int rt_engine_run(struct rt_engine *e) {
  uv_run(e->loop, UV_RUN_DEFAULT);
  return e->exit_code;
}

/* Undoes a failed rt_engine_init: closes whatever handles it opened and
 * lets the loop finish closing them, so uv_loop_close succeeds. */
void rt_engine_abort(struct rt_engine *e) {
  engine_handles_close(e);
  if (e->view != NULL)
    rt_view_finish(e->view, -1);
  e->aborted = 1;
  if (e->opts.embedded)
    return; /* the owner waits for rt_engine_idle, then closes */
  uv_run(e->loop, UV_RUN_DEFAULT);
  rt_engine_close(e);
}

void rt_engine_detach(struct rt_engine *e) {
  struct rt_run *r, *next;

  e->detaching = 1;
  for (size_t i = 0; i < e->m->ntasks; i++)
    if (e->runs[i] != NULL && e->runs[i]->state != RT_RUN_STARTING)
      rt_run_detach(e->runs[i]);
  /* Queued, never spawned: their rows stay "starting" and the next engine
   * fences them off. */
  for (r = e->spawn_head; r != NULL; r = next) {
    next = r->next_spawn;
    rt_engine_run_closed(e, r);
  }
  e->spawn_head = NULL;
  e->spawn_tail = &e->spawn_head;
  if (store_dirty(e->st))
    store_commit(e->st, NULL);
  rt_view_finish(e->view, -1); /* closed before the engine's handles */
  rt_gate_close_all(e);
  engine_handles_close(e);
}

int rt_engine_idle(const struct rt_engine *e) {
  return (e->finished || e->detaching || e->aborted) && e->closing == 0 &&
         e->live == 0;
}

void rt_engine_close(struct rt_engine *e) {
  for (size_t i = 0; e->reasons != NULL && i < e->m->ntasks; i++)
    free(e->reasons[i]);
  free(e->reasons);
  free(e->runs);
  free(e->cgroup);
  free(e->ticket_done);
  free(e->planning);
  rt_engine_gw_free(e);
  rt_tickets_close(e);
  rt_view_free(e->view);
  sched_actions_close(&e->acts);
  sched_free(e->sched);
  if (e->own_store)
    store_close(e->st);
  if (e->lockfd >= 0)
    close(e->lockfd);
}
