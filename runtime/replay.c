/*
 * Events-mode replay: re-drives the scheduler from a trace's recorded
 * inputs, with no agents and on a virtual clock, and checks that it makes
 * the recorded decisions (every state change, every run start) in the
 * recorded order.
 *
 * Inputs are what came from outside the scheduler: a run's end (its time
 * is the run row's ended_at, the very `now` the engine handed the
 * scheduler; its outcome the run.end event's success flag, or a review
 * outcome when the recorded next state of the task is pending_review),
 * review decisions, mission cancel, pause and resume, and the end of one
 * engine (mission.end) followed by human decisions taken offline (corral
 * approve/reject) and a new engine that restores every task from the state
 * the replay reached, as rt_resume restores it from the store. Inputs the
 * engine does not record as events are inferred where the recorded state
 * change names them: a Ctrl-C cancel (the first cancellation, or a run that
 * ended "cancelled"), a manual retry of a task failed for good, a block on
 * a question and its answer.
 *
 * The scheduler steps lazily, when the log shows a decision that no input
 * explains, first at the virtual clock and then at each wake-up it asked
 * for up to the recorded time: an engine steps once per loop turn, after
 * every input of that turn, so stepping after each input would start tasks
 * in a different order than a busy engine did. The global slot count is
 * the highest number of runs the log shows live at once, which gives the
 * recorded schedule exactly: had the real limit been higher and ever
 * binding, the log would show more.
 */
#include "replay-int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int replay_state_of(const char *name) {
  enum sched_state st;

  return name != NULL && sched_state_parse(&st, name) == 0 ? (int)st : -1;
}

static enum replay_kind replay_kind_of(const char *k) {
  static const struct {
    const char *name;
    enum replay_kind kind;
  } kinds[] = {
      {"state", RP_STATE},           {"run.start", RP_START},
      {"run.end", RP_END},           {"review", RP_REVIEW},
      {"mission.cancel", RP_CANCEL}, {"mission.pause", RP_PAUSE},
      {"mission.resume", RP_RESUME}, {"mission.end", RP_MISSION_END},
      {"discover", RP_DISCOVER},     {"task.cancel", RP_TASK_CANCEL},
      {"task.retry", RP_TASK_RETRY}, {"engine.start", RP_ENGINE_START}};

  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++)
    if (strcmp(k, kinds[i].name) == 0)
      return kinds[i].kind;
  return RP_OTHER;
}

static void replay_parse_data(struct replay_ev *e, const char *data) {
  json_t *d = data ? json_loads(data, 0, NULL) : NULL;
  const char *reason = json_string_value(json_object_get(d, "reason"));
  const char *decision = json_string_value(json_object_get(d, "decision"));

  e->from = replay_state_of(json_string_value(json_object_get(d, "from")));
  e->to = replay_state_of(json_string_value(json_object_get(d, "to")));
  e->attempt = (int)json_integer_value(json_object_get(d, "attempt"));
  e->success = json_is_true(json_object_get(d, "success"));
  e->cancelled = reason != NULL && strncmp(reason, "cancelled", 9) == 0;
  /* 2: an approved plan; 3: failed by CI mode (ci.review: fail). */
  e->decision = decision == NULL                        ? -1
                : strcmp(decision, "approve") == 0      ? 0
                : strcmp(decision, "reject") == 0       ? 1
                : strcmp(decision, "approve-plan") == 0 ? 2
                                                        : 3;
  json_decref(d);
}

static int replay_load_ev(const struct store_event *ev, void *payload) {
  struct replay *r = payload;
  struct replay_ev *e;
  enum replay_kind kind = replay_kind_of(ev->kind);

  r->res->events++;
  if (kind == RP_OTHER)
    return 0;
  if (r->nev % 4096 == 0)
    r->ev = xreallocarray(r->ev, r->nev + 4096, sizeof(*r->ev));
  e = &r->ev[r->nev++];
  memset(e, 0, sizeof(*e));
  e->seq = ev->seq;
  e->ts = ev->ts;
  e->run = ev->run;
  e->kind = kind;
  e->task = ev->task ? rt__replay_task(r, ev->task) : -1;
  replay_parse_data(e, ev->data);
  if (kind == RP_DISCOVER) {
    e->data = ev->data ? json_loads(ev->data, 0, NULL) : NULL;
    rt__replay_discover_note(r, e);
  }
  return 0;
}

static int replay_load_run(const struct store_run *run, void *payload) {
  struct replay *r = payload;

  if (r->nruns % 4096 == 0)
    r->runs = xreallocarray(r->runs, r->nruns + 4096, sizeof(*r->runs));
  r->runs[r->nruns].id = run->id;
  r->runs[r->nruns++].ended_at = run->ended_at;
  return 0;
}

static int replay_run_cmp(const void *a, const void *b) {
  const struct replay_run *x = a, *y = b;

  return (x->id > y->id) - (x->id < y->id);
}

/* The `now` the engine gave sched_run_ended: the run row's ended_at. */
static int64_t replay_ended_at(struct replay *r, const struct replay_ev *e) {
  struct replay_run key = {e->run, 0}, *hit;

  hit = bsearch(&key, r->runs, r->nruns, sizeof(key), replay_run_cmp);
  return hit != NULL && hit->ended_at > 0 ? hit->ended_at : e->ts;
}

/* The most runs live at once in the log. */
static int replay_infer_jobs(const struct replay *r) {
  int live = 0, max = 1;

  for (size_t i = 0; i < r->nev; i++) {
    if (r->ev[i].kind == RP_START && ++live > max)
      max = live;
    else if (r->ev[i].kind == RP_END && live > 0)
      live--;
    else if (r->ev[i].kind == RP_MISSION_END)
      live = 0;
  }
  return max;
}

static void replay_dec_str(char *out, size_t len, const struct replay *r,
                           const struct replay_dec *d) {
  const char *id = sched_task_id(r->s, (size_t)d->task);

  if (d->kind == RP_START)
    snprintf(out, len, "run.start %s (attempt %d)", id, d->attempt);
  else
    snprintf(out, len, "state %s %s -> %s (attempt %d)", id,
             sched_state_name((enum sched_state)d->from),
             sched_state_name((enum sched_state)d->to), d->attempt);
}

static void replay_push(struct replay *r, const struct replay_dec *d) {
  if (r->qn == r->qcap) {
    r->qcap = r->qcap ? r->qcap * 2 : 256;
    r->q = xreallocarray(r->q, r->qcap, sizeof(*r->q));
  }
  r->q[r->qn++] = *d;
}

/* Turns the scheduler's actions into produced decisions, as the engine's
 * dispatch turns them into events. */
void rt__replay_collect(struct replay *r) {
  for (size_t i = 0; i < r->acts.n; i++) {
    const struct sched_action *a = &r->acts.v[i];
    struct replay_dec d = {RP_STATE, (int)a->task, a->from, a->to, 0};

    if (a->kind == SCHED_ACT_WAKE) {
      r->wake_at = a->at;
      continue;
    }
    if (a->kind == SCHED_ACT_STOP)
      continue;
    d.attempt = sched_task_attempts(r->s, a->task);
    if (a->kind == SCHED_ACT_START) {
      d.kind = RP_START;
      d.from = d.to = 0;
      d.attempt = a->attempt;
    }
    replay_push(r, &d);
  }
  sched_actions_reset(&r->acts);
}

static void replay_advance(struct replay *r, int64_t now) {
  if (now > r->clock)
    r->clock = now;
}

/* A step at the clock, then at each wake-up due by `until`. */
static void replay_step(struct replay *r, int64_t until) {
  for (int i = 0; i < 64; i++) {
    r->wake_at = -1;
    sched_step(r->s, r->clock, &r->acts);
    rt__replay_collect(r);
    if (r->qn > r->qhead || r->wake_at < 0 || r->wake_at > until)
      return;
    replay_advance(r, r->wake_at);
  }
}

static int replay_diverge(struct replay *r, int64_t seq, const char *expected,
                          const struct replay_dec *got) {
  r->res->identical = 0;
  r->res->seq = seq;
  snprintf(r->res->expected, sizeof(r->res->expected), "%s", expected);
  if (got != NULL)
    replay_dec_str(r->res->got, sizeof(r->res->got), r, got);
  else
    snprintf(r->res->got, sizeof(r->res->got), "nothing");
  return 1;
}

/* Inputs the engine does not log, read off the decision they caused. */
static void replay_infer(struct replay *r, const struct replay_ev *e) {
  size_t t = (size_t)e->task;

  if (e->to == SCHED_CANCELLED && !r->cancelled) {
    r->cancelled = 1; /* Ctrl-C: sched_cancel_all, no event */
    sched_cancel_all(r->s, r->clock, &r->acts);
  } else if (e->from == SCHED_FAILED && e->to == SCHED_READY &&
             sched_task_retry_at(r->s, t) < 0) {
    sched_task_retry(r->s, t, r->clock, &r->acts);
  } else if (e->from == SCHED_RUNNING && e->to == SCHED_BLOCKED) {
    sched_task_block(r->s, t, r->clock, &r->acts);
  } else if (e->from == SCHED_BLOCKED && e->to == SCHED_RUNNING) {
    sched_task_unblock(r->s, t, r->clock, &r->acts);
  }
  rt__replay_collect(r);
}

static int replay_match(struct replay *r, const struct replay_ev *e) {
  struct replay_dec want = {e->kind, e->task, e->from, e->to, e->attempt};
  const struct replay_dec *got;
  char exp[256];

  if (e->task < 0)
    return 0;
  if (e->kind == RP_START)
    want.from = want.to = 0;
  if (r->qhead == r->qn)
    replay_step(r, e->ts);
  if (r->qhead == r->qn && e->kind == RP_STATE)
    replay_infer(r, e);
  replay_dec_str(exp, sizeof(exp), r, &want);
  if (r->qhead == r->qn)
    return replay_diverge(r, e->seq, exp, NULL);
  got = &r->q[r->qhead];
  if (memcmp(got, &want, sizeof(want)) != 0)
    return replay_diverge(r, e->seq, exp, got);
  if (++r->qhead == r->qn)
    r->qhead = r->qn = 0;
  r->res->decisions++;
  if (e->kind == RP_STATE) {
    r->logged[e->task] = (enum sched_state)e->to;
    r->logged_attempts[e->task] = e->attempt;
  }
  return 0;
}

/* For each event, the `to` of its task's next recorded state change (-1:
 * none): one pass from the end, so run.end outcomes are read in O(1). */
static void replay_index_next(struct replay *r) {
  size_t n = r->m->ntasks + r->ndisc;
  int *last = xmalloc((n + 1) * sizeof(*last));

  for (size_t t = 0; t <= n; t++)
    last[t] = -1;
  r->next_to = xcalloc(r->nev + 1, sizeof(*r->next_to));
  for (size_t i = r->nev; i-- > 0;) {
    int t = r->ev[i].task;

    r->next_to[i] = t >= 0 ? last[t] : -1;
    if (t >= 0 && r->ev[i].kind == RP_STATE)
      last[t] = r->ev[i].to;
  }
  free(last);
}

/* Whether run `run` ended cancelled by a task.cancel logged before event i
 * (else a run that ended cancelled was a Ctrl-C's). */
static int replay_task_cancelled(const struct replay *r, size_t i,
                                 int64_t run) {
  while (i-- > 0)
    if (r->ev[i].kind == RP_TASK_CANCEL && r->ev[i].run == run)
      return 1;
  return 0;
}

static void replay_run_end(struct replay *r, size_t i) {
  const struct replay_ev *e = &r->ev[i];
  enum sched_outcome o = SCHED_OUTCOME_FAILURE;

  if (e->cancelled && !r->cancelled && !replay_task_cancelled(r, i, e->run)) {
    r->cancelled = 1;
    sched_cancel_all(r->s, r->clock, &r->acts);
    rt__replay_collect(r);
  }
  if (e->success)
    o = SCHED_OUTCOME_SUCCESS;
  else if (r->next_to[i] == SCHED_PENDING_REVIEW)
    o = SCHED_OUTCOME_REVIEW; /* a policy or a plan asked for a review */
  replay_advance(r, replay_ended_at(r, e));
  sched_run_ended(r->s, (size_t)e->task, r->clock, o, &r->acts);
  rt__replay_collect(r);
}

static void replay_review(struct replay *r, const struct replay_ev *e) {
  replay_advance(r, e->ts);
  if (e->decision == 0)
    sched_task_approve(r->s, (size_t)e->task, r->clock, &r->acts);
  else /* a rejection, or an approved plan sent back to run its work */
    sched_task_reject(r->s, (size_t)e->task, r->clock, &r->acts);
  rt__replay_collect(r);
}

/* A new engine: the graph again, every task restored as rt_resume does. */
static int replay_restart(struct replay *r, struct crl_err *err) {
  int rc;

  sched_free(r->s);
  r->s = NULL;
  if ((rc = rt_plan_build(&r->s, r->m, r->jobs, err)) < 0 ||
      (rc = rt__replay_rediscover(r, err)) < 0)
    return rc;
  for (size_t i = 0; i < sched_task_count(r->s); i++)
    if ((r->stored[i] != SCHED_PENDING || r->attempts[i] > 0) &&
        (rc = sched_task_restore(r->s, i, r->stored[i], r->attempts[i],
                                 r->clock, err)) < 0)
      return rc;
  for (size_t i = 0; i < sched_task_count(r->s); i++) {
    r->logged[i] = r->stored[i];
    r->logged_attempts[i] = r->attempts[i];
  }
  r->live = 1;
  r->offline = 0;
  r->cancelled = 0;
  r->qhead = r->qn = 0;
  return 0;
}

/* An engine began while the last one was live: that one died (kill -9)
 * without mission.end. The next restores what the log had stored; what the
 * dead engine decided but never logged is dropped with it. */
static void replay_died(struct replay *r) {
  for (size_t i = 0; i < sched_task_count(r->s); i++) {
    r->stored[i] = r->logged[i];
    r->attempts[i] = r->logged_attempts[i];
  }
  r->live = 0;
}

/* mission.end: the engine stopped because nothing could happen. */
static int replay_end(struct replay *r, const struct replay_ev *e) {
  if (r->qhead == r->qn)
    replay_step(r, r->clock);
  if (r->qhead < r->qn)
    return replay_diverge(r, e->seq, "mission.end", &r->q[r->qhead]);
  for (size_t i = 0; i < sched_task_count(r->s); i++) {
    r->stored[i] = sched_task_state(r->s, i);
    r->attempts[i] = sched_task_attempts(r->s, i);
  }
  r->live = 0;
  return 0;
}

/* Between engines: corral approve/reject wrote the task's state. */
/* Between engines: corral approve/reject or CI mode wrote the task's state;
 * it must start from where the replay left the task. */
static int replay_offline(struct replay *r, const struct replay_ev *e) {
  struct replay_dec d = {RP_STATE, e->task, 0, 0, 0};
  char exp[256];

  if (e->task < 0)
    return 0;
  replay_advance(r, e->ts);
  if (e->kind == RP_STATE && e->from != (int)r->stored[e->task]) {
    d.from = d.to = (int)r->stored[e->task];
    d.attempt = r->attempts[e->task];
    d.to = e->to;
    d.from = e->from;
    replay_dec_str(exp, sizeof(exp), r, &d);
    d.from = d.to = (int)r->stored[e->task];
    return replay_diverge(r, e->seq, exp, &d);
  }
  if (e->kind == RP_STATE && e->to >= 0)
    r->stored[e->task] = (enum sched_state)e->to;
  else if (e->kind == RP_REVIEW && e->decision == 2)
    r->stored[e->task] = SCHED_REJECTED; /* approve-plan logs no state */
  return 0;
}

/* What a decision between engines writes: a review's outcome, or CI mode's
 * failed review and the dependents it skips. A new engine's first state
 * changes are readies. */
static int replay_decided(const struct replay_ev *e) {
  return e->to == SCHED_COMPLETED || e->to == SCHED_REJECTED ||
         e->to == SCHED_FAILED || e->to == SCHED_SKIPPED;
}

static void replay_task_op(struct replay *r, const struct replay_ev *e) {
  replay_advance(r, e->ts);
  if (e->kind == RP_TASK_CANCEL)
    sched_task_cancel(r->s, (size_t)e->task, r->clock, &r->acts);
  else
    sched_task_retry(r->s, (size_t)e->task, r->clock, &r->acts);
  rt__replay_collect(r);
}

static int replay_input(struct replay *r, size_t i) {
  const struct replay_ev *e = &r->ev[i];

  if (e->kind == RP_END && e->task >= 0)
    replay_run_end(r, i);
  else if (e->kind == RP_REVIEW && e->task >= 0)
    replay_review(r, e);
  else if (e->kind == RP_CANCEL) {
    r->cancelled = 1;
    replay_advance(r, e->ts);
    sched_cancel_all(r->s, r->clock, &r->acts);
    rt__replay_collect(r);
  } else if (e->kind == RP_PAUSE || e->kind == RP_RESUME)
    sched_pause(r->s, e->kind == RP_PAUSE);
  else if ((e->kind == RP_TASK_CANCEL || e->kind == RP_TASK_RETRY) &&
           e->task >= 0)
    replay_task_op(r, e);
  else if (e->kind == RP_DISCOVER) {
    replay_advance(r, e->ts);
    rt__replay_discover(r, e);
  }
  return 0;
}

static int replay_one(struct replay *r, size_t i, struct crl_err *err) {
  const struct replay_ev *e = &r->ev[i];
  int rc;

  if (e->kind == RP_ENGINE_START && r->live)
    replay_died(r);
  /* With no engine, a review and the state changes after it were written
   * by corral approve/reject or CI mode. */
  if (!r->live && e->kind == RP_REVIEW)
    r->offline = 1;
  if (!r->live && r->offline &&
      (e->kind == RP_REVIEW || (e->kind == RP_STATE && replay_decided(e))))
    return replay_offline(r, e);
  /* An engine starts at its first event's time: a clock left behind would
   * put its runs' deadlines (timeouts) in the past. */
  if (!r->live && e->kind != RP_MISSION_END) {
    replay_advance(r, e->ts);
    if ((rc = replay_restart(r, err)) < 0)
      return rc;
  }
  if (e->kind == RP_STATE || e->kind == RP_START)
    return replay_match(r, e);
  if (e->kind == RP_MISSION_END)
    return r->live ? replay_end(r, e) : 0;
  return replay_input(r, i);
}

struct replay_file {
  struct crl_buf text;
  char *name;
};

static int replay_file_cb(const char *name, const void *data, size_t len,
                          void *payload) {
  struct replay_file *f = payload;

  f->name = xstrdup(name + 5); /* "file/" */
  return crl_buf_append(&f->text, data, len) < 0 ? -1 : 1;
}

/* The mission file as recorded in the trace, relative paths resolved
 * against the directory it was run from. */
int rt_replay_mission(struct msn_mission **out, struct store *tr,
                      const char *id, struct crl_err *err) {
  struct replay_file f = {{0}, NULL};
  struct store_mission sm;
  struct msn_diags d;
  char *dir = NULL, *slash;
  size_t n;
  int rc;

  crl_buf_init(&f.text, 0);
  msn_diags_init(&d);
  store_trace_blob_list(tr, "file/", replay_file_cb, &f);
  if (f.name == NULL) {
    rc = crl_err_set(err, CRL_ENOT_FOUND, "the trace holds no mission file");
    goto out;
  }
  if (store_mission_get(tr, id, &sm, NULL) == 0 && sm.file != NULL)
    dir = xstrdup(sm.file);
  if (dir != NULL && (slash = strrchr(dir, '/')) != NULL)
    *slash = '\0';
  n = strlen(f.name);
  rc = msn_load_buffer(out, f.name, dir ? dir : ".",
                       f.text.data ? f.text.data : "", f.text.len,
                       n > 5 && strcmp(f.name + n - 5, ".json") == 0, &d);
  if (rc < 0)
    crl_err_set(err, rc, "the trace's mission file does not load: %s",
                d.n > 0 ? d.v[0].msg : crl_strerror(rc));
out:
  msn_diags_close(&d);
  crl_buf_close(&f.text);
  free(f.name);
  free(dir);
  return rc;
}

static int replay_load(struct replay *r, struct store *tr, const char *id,
                       struct crl_err *err) {
  int rc;

  if ((rc = rt_replay_mission(&r->m, tr, id, err)) < 0 ||
      (rc = rt_plan_build(&r->s, r->m, 0, err)) < 0)
    return rc;
  if ((rc = store_event_list(tr, id, NULL, 0, replay_load_ev, r)) < 0 ||
      (rc = store_run_list(tr, id, NULL, replay_load_run, r)) < 0)
    return crl_err_set(err, rc, "unable to read the trace's events");
  qsort(r->runs, r->nruns, sizeof(*r->runs), replay_run_cmp);
  replay_index_next(r);
  r->stored = xcalloc(r->m->ntasks + r->ndisc + 1, sizeof(*r->stored));
  r->attempts = xcalloc(r->m->ntasks + r->ndisc + 1, sizeof(*r->attempts));
  r->logged = xcalloc(r->m->ntasks + r->ndisc + 1, sizeof(*r->logged));
  r->logged_attempts =
      xcalloc(r->m->ntasks + r->ndisc + 1, sizeof(*r->logged_attempts));
  return 0;
}

static void replay_free(struct replay *r) {
  for (size_t i = 0; i < r->nev; i++)
    json_decref(r->ev[i].data);
  rt__replay_discover_free(r);
  sched_actions_close(&r->acts);
  sched_free(r->s);
  msn_mission_free(r->m);
  free(r->ev);
  free(r->runs);
  free(r->next_to);
  free(r->q);
  free(r->stored);
  free(r->attempts);
  free(r->logged);
  free(r->logged_attempts);
}

/* After the last event: nothing may be left that the log does not show. */
static void replay_tail(struct replay *r) {
  if (r->res->seq != 0 || !r->res->identical || !r->live)
    return;
  if (r->qhead < r->qn)
    replay_diverge(r, 0, "the end of the trace", &r->q[r->qhead]);
}

int rt_replay_events(struct rt_replay_result *out, struct store *tr,
                     const struct rt_replay_opts *o, struct crl_err *err) {
  struct replay r;
  char *id = NULL;
  int rc;

  memset(&r, 0, sizeof(r));
  memset(out, 0, sizeof(*out));
  out->identical = 1;
  r.res = out;
  sched_actions_init(&r.acts);
  if ((rc = rt_trace_mission(&id, tr, err)) < 0 ||
      (rc = replay_load(&r, tr, id, err)) < 0)
    goto out;
  r.jobs = o->jobs > 0 ? o->jobs : replay_infer_jobs(&r);
  out->jobs = r.jobs;
  for (size_t i = 0; i < r.nev && rc == 0; i++)
    rc = replay_one(&r, i, err);
  if (rc > 0)
    rc = 0;
  else if (rc == 0)
    replay_tail(&r);
out:
  replay_free(&r);
  free(id);
  return rc;
}
