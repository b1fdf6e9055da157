/*
 * Tasks, runs and events over the socket: listing and showing tasks with
 * their runs, the review decisions, retry, resume of an agent CLI's session
 * and cancel (through the mission's engine, started again from its source
 * when the mission is not running),
 * a run's output (once, or followed as it grows) and the event stream.
 * Task ids are unique within a mission; ?mission= picks one when several
 * missions have the same id.
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

json_t *api_task_json(const struct store_task *t) {
  return json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s?, s:i, s:I, s:I, s:s?}",
                   "mission", t->mission, "id", t->id, "ticket", t->ticket,
                   "agent", t->agent, "state", t->state, "reason", t->reason,
                   "attempts", t->attempts, "started_at",
                   (json_int_t)t->started_at, "ended_at",
                   (json_int_t)t->ended_at, "feedback", t->feedback);
}

json_t *api_run_json(const struct store_run *r) {
  return json_pack("{s:I, s:s, s:s, s:i, s:s, s:i, s:i, s:s?, s:I, s:I, s:I}",
                   "id", (json_int_t)r->id, "mission", r->mission, "task",
                   r->task, "attempt", r->attempt, "state", r->state,
                   "exit_code", r->exit_code, "signal", r->signal, "reason",
                   r->reason, "log_offset", (json_int_t)r->log_offset,
                   "started_at", (json_int_t)r->started_at, "ended_at",
                   (json_int_t)r->ended_at);
}

json_t *api_event_json(const struct store_event *ev) {
  json_t *data = ev->data ? json_loads(ev->data, 0, NULL) : NULL;

  return json_pack("{s:I, s:I, s:s?, s:s?, s:I, s:s, s:o?}", "seq",
                   (json_int_t)ev->seq, "ts", (json_int_t)ev->ts, "mission",
                   ev->mission, "task", ev->task, "run", (json_int_t)ev->run,
                   "kind", ev->kind, "data", data);
}

static int api_count_one(const struct store_task *t, void *payload) {
  json_t *n = json_object_get(payload, t->state);

  json_object_set_new(payload, t->state,
                      json_integer(n ? json_integer_value(n) + 1 : 1));
  return 0;
}

json_t *api_task_counts(struct store *st, const char *mission) {
  json_t *o = json_object();

  store_task_list(st, mission, api_count_one, o);
  return o;
}

struct api_find {
  struct store *st;
  const char *task;
  char *found;
  int n;
};

static int api_find_one(const struct store_mission *m, void *payload) {
  struct api_find *f = payload;
  struct store_task t;

  if (store_task_get(f->st, m->id, f->task, &t, NULL) == 0 && f->n++ == 0)
    f->found = xstrdup(m->id);
  return 0;
}

char *api_task_mission(struct rt_daemon *d, struct rt_http_req *req,
                       const char *task, struct crl_err *err) {
  const char *mission = rt_http_req_query(req, "mission");
  struct api_find f = {d->st, task, NULL, 0};
  struct store_task t;

  if (mission != NULL)
    return store_task_get(d->st, mission, task, &t, err) == 0 ? xstrdup(mission)
                                                              : NULL;
  store_mission_list(d->st, api_find_one, &f);
  if (f.n == 1)
    return f.found;
  free(f.found);
  crl_err_set(err, f.n ? CRL_EBAD_REQUEST : CRL_ETASK_NOT_FOUND,
              f.n ? "task %s is in %d missions: add ?mission=NAME"
                  : "task %s not found",
              task, f.n);
  return NULL;
}

struct api_tasks {
  json_t *v;
  const char *state;
};

static int api_tasks_one(const struct store_task *t, void *payload) {
  struct api_tasks *a = payload;

  if (a->state == NULL || strcmp(a->state, t->state) == 0)
    json_array_append_new(a->v, api_task_json(t));
  return 0;
}

static int api_tasks_mission(const struct store_mission *m, void *payload) {
  void **p = payload;

  store_task_list(p[0], m->id, api_tasks_one, p[1]);
  return 0;
}

API_HANDLER(api_tasks_list) {
  struct rt_daemon *d = payload;
  struct api_tasks a = {json_array(), rt_http_req_query(req, "state")};
  const char *mission = rt_http_req_query(req, "mission");
  void *p[2] = {d->st, &a};

  if (a.state != NULL &&
      sched_state_parse(&(enum sched_state){0}, a.state) < 0) {
    json_decref(a.v);
    rt_http_reply_error(req, CRL_EBAD_REQUEST, NULL, "unknown state '%s'",
                        a.state);
    return;
  }
  if (mission != NULL)
    store_task_list(d->st, mission, api_tasks_one, &a);
  else
    store_mission_list(d->st, api_tasks_mission, p);
  rt_http_reply_json(req, 200, json_pack("{s:o}", "tasks", a.v));
}

static int api_run_one(const struct store_run *r, void *payload) {
  json_array_append_new(payload, api_run_json(r));
  return 0;
}

API_HANDLER(api_task_get) {
  struct rt_daemon *d = payload;
  struct crl_err err = CRL_ERR_INIT;
  const char *id = rt_http_req_param(req, "id");
  char *mission = api_task_mission(d, req, id, &err);
  struct store_task t;
  json_t *doc, *runs;

  if (mission == NULL || store_task_get(d->st, mission, id, &t, &err) < 0) {
    rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
    free(mission);
    return;
  }
  doc = api_task_json(&t);
  runs = json_array();
  store_run_list(d->st, mission, id, api_run_one, runs);
  json_object_set_new(doc, "runs", runs);
  rt_http_reply_json(req, 200, doc);
  free(mission);
}

enum api_op { API_APPROVE, API_REJECT, API_RETRY, API_CANCEL };

/* {"feedback": "…"}, required for a rejection. Heap, or NULL after a 400. */
static char *api_feedback(struct rt_http_req *req) {
  struct crl_err err = CRL_ERR_INIT;
  json_t *body = NULL, *fb;
  char *out = NULL;

  if (rt_http_req_json(&body, req, &err) < 0) {
    rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
    return NULL;
  }
  fb = json_object_get(body, "feedback");
  if (json_is_string(fb) && json_string_length(fb) > 0)
    out = xstrdup(json_string_value(fb));
  else
    rt_http_reply_error(req, CRL_EBAD_REQUEST, NULL,
                        "a rejection needs {\"feedback\": \"what to change\"}");
  json_decref(body);
  return out;
}

static int api_decide(struct rt_engine *e, size_t task, enum api_op op,
                      const char *feedback, struct crl_err *err) {
  switch (op) {
  case API_APPROVE:
    return rt_engine_approve(e, task, err);
  case API_REJECT:
    return rt_engine_reject(e, task, feedback, err);
  case API_RETRY:
    return rt_engine_retry(e, task, err);
  default:
    return rt_engine_cancel_task(e, task, err);
  }
}

/* The live engine of the task's mission, started again when it is not
 * running (resume: a decision owed is still owed, failed tasks go back to
 * pending). *restarted says so. */
static struct rt_engine *api_task_engine(struct rt_daemon *d,
                                         const char *mission, int *restarted,
                                         struct crl_err *err) {
  struct rt_dmission *x = rt_daemon_mission(d, mission);

  *restarted = x == NULL || x->done;
  if (*restarted && rt_daemon_restart(d, mission, &x, err) < 0)
    return NULL;
  return &x->eng;
}

/* 1 when the task is completed and its mission has no live engine: every
 * decision on it is an invalid transition, and starting the engine again
 * only to refuse it (or, for a retry, to run what was left and answer 200)
 * would be wrong. A 409 is answered. */
static int api_task_settled(struct rt_daemon *d, struct rt_http_req *req,
                            const char *mission, const char *id) {
  struct rt_dmission *x = rt_daemon_mission(d, mission);
  struct store_task t;

  if ((x != NULL && !x->done) ||
      store_task_get(d->st, mission, id, &t, NULL) < 0 ||
      strcmp(t.state, "completed") != 0)
    return 0;
  rt_http_reply_error(req, CRL_EINVALID_TRANSITION, NULL,
                      "task %s of mission %s is completed", id, mission);
  return 1;
}

static void api_task_op(struct rt_http_req *req, struct rt_daemon *d,
                        enum api_op op) {
  struct crl_err err = CRL_ERR_INIT;
  const char *id = rt_http_req_param(req, "id");
  char *feedback = NULL, *mission = api_task_mission(d, req, id, &err);
  struct rt_engine *e = NULL;
  int idx = -1, restarted = 0, rc = -1;

  if (mission != NULL && op == API_REJECT &&
      (feedback = api_feedback(req)) == NULL)
    goto out; /* answered */
  if (mission != NULL && api_task_settled(d, req, mission, id))
    goto out;
  if (mission != NULL)
    e = api_task_engine(d, mission, &restarted, &err);
  if (e != NULL && (idx = rt_engine_task_index(e, id)) < 0)
    crl_err_set(&err, CRL_ETASK_NOT_FOUND, "task %s is no longer in %s", id,
                mission);
  if (idx >= 0 && restarted && op == API_RETRY &&
      sched_task_state(e->sched, (size_t)idx) != SCHED_FAILED)
    rc = 0; /* the restart itself runs unfinished tasks again */
  else if (idx >= 0)
    rc = api_decide(e, (size_t)idx, op, feedback, &err);
  if (rc < 0)
    rt_http_reply_error(req, err.code ? err.code : CRL_EINTERNAL, NULL, "%s",
                        err.msg);
  else
    rt_http_reply_json(
        req, 200,
        json_pack("{s:s, s:s, s:s}", "mission", mission, "id", id, "state",
                  sched_state_name(sched_task_state(e->sched, (size_t)idx))));
out:
  free(feedback);
  free(mission);
}

API_HANDLER(api_task_approve) {
  api_task_op(req, payload, API_APPROVE);
}

API_HANDLER(api_task_reject) {
  api_task_op(req, payload, API_REJECT);
}

API_HANDLER(api_task_retry) {
  api_task_op(req, payload, API_RETRY);
}

API_HANDLER(api_task_cancel) {
  api_task_op(req, payload, API_CANCEL);
}

/* {"turns": N}: N, or -1 after a 400 reply. */
static int api_turns(struct rt_http_req *req) {
  struct crl_err err = CRL_ERR_INIT;
  json_t *body = NULL, *n;
  int turns = -1;

  if (rt_http_req_json(&body, req, &err) < 0) {
    rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
    return -1;
  }
  n = json_object_get(body, "turns");
  if (json_is_integer(n) && json_integer_value(n) >= 1 &&
      json_integer_value(n) <= RT_RESUME_TURNS_MAX)
    turns = (int)json_integer_value(n);
  else
    rt_http_reply_error(req, CRL_EBAD_REQUEST, NULL,
                        "a resume needs {\"turns\": N}, N from 1 to %d",
                        RT_RESUME_TURNS_MAX);
  json_decref(body);
  return turns;
}

/* Resumes on the mission's live engine; for a mission that has ended the
 * resume is checked and asked in the store first (nothing starts for a
 * resume refused), then the mission is taken up again, which runs the
 * failed task with it. */
static int api_resume_on(struct rt_daemon *d, const char *mission,
                         const char *id, int turns, struct rt_engine **eng,
                         struct crl_err *err) {
  struct rt_dmission *x = rt_daemon_mission(d, mission);
  struct msn_mission *m = NULL;
  int idx, rc;

  if (x != NULL && !x->done) {
    *eng = &x->eng;
    if ((idx = rt_engine_task_index(&x->eng, id)) < 0)
      return crl_err_set(err, CRL_ETASK_NOT_FOUND, "task %s is no longer in %s",
                         id, mission);
    return rt_engine_resume(&x->eng, (size_t)idx, turns, err);
  }
  if ((rc = rt_daemon_load(&m, d, mission, err)) < 0)
    return rc;
  rc = rt_session_request(d->st, m, id, turns, err);
  msn_mission_free(m);
  if (rc < 0)
    return rc;
  if ((rc = rt_daemon_restart(d, mission, &x, err)) < 0) {
    store_task_set_resume(d->st, mission, id, 0, NULL);
    return rc;
  }
  *eng = &x->eng;
  return 0;
}

API_HANDLER(api_task_resume) {
  struct rt_daemon *d = payload;
  struct crl_err err = CRL_ERR_INIT;
  const char *id = rt_http_req_param(req, "id");
  char *mission = api_task_mission(d, req, id, &err);
  struct rt_engine *e = NULL;
  struct rt_session s;
  int turns = -1;

  if (mission == NULL)
    rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
  else if ((turns = api_turns(req)) < 0)
    ; /* answered */
  else if (api_resume_on(d, mission, id, turns, &e, &err) < 0 ||
           rt_session_find(&s, d->st, mission, id, &err) < 0)
    rt_http_reply_error(req, err.code ? err.code : CRL_EINTERNAL, NULL, "%s",
                        err.msg);
  else
    rt_http_reply_json(
        req, 202,
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:i}", "mission", mission, "id",
                  id, "state",
                  sched_state_name(sched_task_state(
                      e->sched, (size_t)rt_engine_task_index(e, id))),
                  "session", s.id, "from_run", (json_int_t)s.run, "turns",
                  turns));
  free(mission);
}

/* The run {id}; 400 or 404 answered when it is not one. */
static int api_run_find(struct rt_daemon *d, struct rt_http_req *req,
                        struct store_run *r) {
  const char *id = rt_http_req_param(req, "id");
  struct crl_err err = CRL_ERR_INIT;
  char *end;
  long long n = strtoll(id, &end, 10);

  if (*end != '\0' || n <= 0) {
    rt_http_reply_error(req, CRL_EBAD_REQUEST, NULL,
                        "a run id is a positive integer, got '%s'", id);
    return -1;
  }
  if (store_run_get(d->st, n, r, &err) == 0)
    return 0;
  rt_http_reply_error(req, err.code, NULL, "%s", err.msg);
  return -1;
}

API_HANDLER(api_run_get) {
  struct store_run r;

  if (api_run_find(payload, req, &r) == 0)
    rt_http_reply_json(req, 200, api_run_json(&r));
}

/* Up to 1 MiB of the log from offset, as raw bytes. */
static void api_output_once(struct rt_http_req *req, const char *dir,
                            int64_t offset) {
  size_t cap = 1024 * 1024;
  char *path, *buf = xmalloc(cap);
  ssize_t n = -1;
  int fd;

  xasprintf(&path, "%s/output.log", dir);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
    n = pread(fd, buf, cap, offset);
    close(fd);
  }
  if (n < 0 && errno != ENOENT)
    rt_http_reply_error(req, -errno, NULL, "%s: %s", path, strerror(errno));
  else
    rt_http_reply_text(req, 200, "application/octet-stream", buf,
                       n > 0 ? (size_t)n : 0);
  free(path);
  free(buf);
}

API_HANDLER(api_run_output) {
  struct rt_daemon *d = payload;
  struct store_run r;
  int64_t offset, follow;
  char *dir;

  if (api_run_find(d, req, &r) < 0 ||
      api_query_int(req, "offset", 0, &offset) < 0 ||
      api_query_int(req, "follow", 0, &follow) < 0)
    return;
  if (r.dir == NULL) {
    rt_http_reply_text(req, 200, "application/octet-stream", "", 0);
    return;
  }
  dir = xstrdup(r.dir);
  if (follow)
    rt_daemon_feed_output(d, req, r.id, dir, offset);
  else
    api_output_once(req, dir, offset);
  free(dir);
}

static int api_event_one(const struct store_event *ev, void *payload) {
  json_array_append_new(payload, api_event_json(ev));
  return json_array_size(payload) >= 1000;
}

/* follow=0: the events after `after` as one JSON list (at most 1000; ask
 * again after the last seq for more). */
static void api_events_list(struct rt_http_req *req, struct rt_daemon *d,
                            int64_t after) {
  json_t *v = json_array();
  json_t *last;

  store_event_list(d->st, rt_http_req_query(req, "mission"), NULL, after,
                   api_event_one, v);
  last = json_array_get(v, json_array_size(v) - 1);
  rt_http_reply_json(
      req, 200,
      json_pack("{s:o, s:I}", "events", v, "last_seq",
                last ? json_integer_value(json_object_get(last, "seq"))
                     : (json_int_t)after));
}

API_HANDLER(api_events) {
  const char *last = req->last_event_id;
  const char *follow = rt_http_req_query(req, "follow");
  int64_t after;
  char *end;

  if (api_query_int(req, "after", 0, &after) < 0)
    return;
  if (last != NULL) { /* a reconnecting client resumes where it was */
    long long n = strtoll(last, &end, 10);

    if (*end == '\0' && n >= 0)
      after = n;
  }
  if (follow != NULL && strcmp(follow, "0") == 0)
    api_events_list(req, payload, after);
  else
    rt_daemon_feed_events(payload, req, rt_http_req_query(req, "mission"),
                          after);
}
