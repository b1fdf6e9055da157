/*
 * Tasks an agent discovers while it runs (`corral agent discover --title T
 * --prompt P [--needs ID]... [--before ID]...`). The new task joins the
 * discoverer's ticket and agent, with its command, environment, sandbox,
 * limits and retries, and its own prompt; it is named <discoverer>.<n>.
 * The scheduler refuses a task that would close a cycle (and names it) or
 * that needs a task that can no longer complete; then nothing changes. The
 * "discover" event carries everything needed to add the task again, so an
 * engine started after a restart re-adds discovered tasks before it
 * restores states.
 */
#include "rt-chan.h"
#include "rt-json.h"

#include <stdlib.h>
#include <string.h>

struct discover_req {
  const char *by;    /* the discovering task */
  const char *id;    /* the new task */
  const char *title; /* or NULL */
  const char *prompt;
  const char **needs;
  size_t nneeds;
  const char **before;
  size_t nbefore;
};

static char **discover_argv_dup(char *const *v) {
  return v != NULL ? adapter_argv_dup(v) : NULL;
}

/* Appends a copy of task `from` named d->id to the mission (its arrays
 * grow: no msn_task pointer may be held across this call). */
static size_t discover_task(struct rt_engine *e, size_t from,
                            const struct discover_req *d) {
  struct msn_mission *m = e->m;
  struct msn_task *t, *f;
  size_t n = m->ntasks;

  m->tasks = xreallocarray(m->tasks, n + 1, sizeof(*m->tasks));
  t = &m->tasks[n];
  f = &m->tasks[from];
  *t = *f;
  t->id = xstrdup(d->id);
  t->prompt = xstrdup(d->prompt);
  t->needs = xcalloc(d->nneeds + 1, sizeof(char *));
  for (size_t i = 0; i < d->nneeds; i++)
    t->needs[i] = xstrdup(d->needs[i]);
  t->nneeds = d->nneeds;
  t->command = discover_argv_dup(f->command);
  t->env = discover_argv_dup(f->env);
  t->sandbox = xstrdup(f->sandbox);
  t->review = t->plan = 0;
  t->plan_command = NULL;
  m->ntasks = n + 1;
  return n;
}

static void discover_drop(struct rt_engine *e) {
  struct msn_mission *m = e->m;

  free(m->tasks[m->ntasks - 1].id);
  free(m->tasks[m->ntasks - 1].prompt);
  adapter_argv_free(m->tasks[m->ntasks - 1].needs);
  adapter_argv_free(m->tasks[m->ntasks - 1].command);
  adapter_argv_free(m->tasks[m->ntasks - 1].env);
  free(m->tasks[m->ntasks - 1].sandbox);
  m->ntasks--;
}

/* The engine's per-task arrays follow the mission's. */
static void discover_grow(struct rt_engine *e) {
  size_t n = e->m->ntasks;

  e->runs = xreallocarray(e->runs, n, sizeof(*e->runs));
  e->reasons = xreallocarray(e->reasons, n, sizeof(*e->reasons));
  e->planning = xrealloc(e->planning, n + 1);
  e->runs[n - 1] = NULL;
  e->reasons[n - 1] = NULL;
  e->planning[n - 1] = 0;
  rt_engine_gw_grow(e);
}

/* Adds the task to the mission and the graph; 0, or a code with err. */
static int discover_add(struct rt_engine *e, const struct discover_req *d,
                        int restoring, struct crl_err *err) {
  int from = msn_task_find(e->m, d->by);
  struct sched_discover sd = {
      SCHED_TASK_OPTS_INIT, d->needs, d->nneeds, d->before,
      d->nbefore,           restoring};
  size_t n;
  int rc;

  if (from < 0)
    return crl_err_set(err, CRL_ETASK_NOT_FOUND, "unknown task %s", d->by);
  if (msn_task_find(e->m, d->id) >= 0)
    return crl_err_set(err, CRL_EDUPLICATE, "task %s exists", d->id);
  n = discover_task(e, (size_t)from, d);
  rt_plan_task_opts(&sd.opts, e->m, &e->m->tasks[n]);
  if ((rc = sched_task_discover(e->sched, &sd, rt_engine_now(e), &e->acts,
                                err)) < 0) {
    discover_drop(e);
    return rc;
  }
  discover_grow(e);
  return 0;
}

/* Records the task, its edges and the event (ev stolen). */
static void discover_persist(struct rt_engine *e, const struct discover_req *d,
                             json_t *ev) {
  const struct msn_task *t = &e->m->tasks[e->m->ntasks - 1];

  store_task_upsert(e->st, e->m->name, d->id, e->m->tickets[t->ticket].id,
                    e->m->agents[t->agent].name, (int)e->m->ntasks - 1, NULL);
  for (size_t i = 0; i < d->nneeds; i++)
    store_dep_add(e->st, e->m->name, d->id, d->needs[i], NULL);
  for (size_t i = 0; i < d->nbefore; i++)
    store_dep_add(e->st, e->m->name, d->before[i], d->id, NULL);
  rt_engine_event_json(e, d->by, 0, "discover", ev);
}

/* The strings of a JSON array, borrowed; NULL when not an array of them. */
static const char **discover_list(json_t *a, size_t *n) {
  const char **v;
  size_t i;
  json_t *x;

  *n = 0;
  if (a == NULL)
    return xcalloc(1, sizeof(*v));
  if (!json_is_array(a))
    return NULL;
  v = xcalloc(json_array_size(a) + 1, sizeof(*v));
  json_array_foreach(a, i, x) {
    if ((v[i] = json_string_value(x)) == NULL) {
      free(v);
      return NULL;
    }
  }
  *n = json_array_size(a);
  return v;
}

/* Reads a request (or a recorded event); 0, or CRL_EBAD_REQUEST. */
static int discover_parse(struct discover_req *d, json_t *j) {
  d->title = json_string_value(json_object_get(j, "title"));
  d->prompt = json_string_value(json_object_get(j, "prompt"));
  d->needs = discover_list(json_object_get(j, "needs"), &d->nneeds);
  d->before = discover_list(json_object_get(j, "before"), &d->nbefore);
  return d->prompt != NULL && d->prompt[0] != '\0' && d->needs != NULL &&
                 d->before != NULL
             ? 0
             : CRL_EBAD_REQUEST;
}

static void discover_req_close(struct discover_req *d) {
  free(d->needs);
  free(d->before);
}

static json_t *discover_event(const struct discover_req *d) {
  json_t *ev =
      json_pack("{s:s, s:s, s:s?, s:s, s:[], s:[]}", "task", d->id, "by", d->by,
                "title", d->title, "prompt", d->prompt, "needs", "before");

  for (size_t i = 0; i < d->nneeds; i++)
    json_array_append_new(json_object_get(ev, "needs"),
                          json_string(d->needs[i]));
  for (size_t i = 0; i < d->nbefore; i++)
    json_array_append_new(json_object_get(ev, "before"),
                          json_string(d->before[i]));
  return ev;
}

void rt_engine_discover(struct rt_run *r, struct rt_chan_conn *c, json_t *msg) {
  struct rt_engine *e = r->eng;
  struct discover_req d = {0};
  struct crl_err err = CRL_ERR_INIT;
  char id[256];

  d.by = e->m->tasks[r->task].id;
  if (discover_parse(&d, msg) < 0) {
    rt_chan_error(c, CRL_EBAD_REQUEST,
                  "expected a prompt, and needs/before as lists of ids");
    goto out;
  }
  for (int k = 1; k == 1 || msn_task_find(e->m, id) >= 0; k++)
    snprintf(id, sizeof(id), "%s.%d", d.by, k);
  d.id = id;
  if (discover_add(e, &d, 0, &err) < 0) {
    rt_chan_error(c, err.code, err.msg);
    goto out;
  }
  discover_persist(e, &d, discover_event(&d));
  rt_engine_dispatch(e);
  e->need_step = 1;
  rt_chan_reply(c, json_pack("{s:b, s:s}", "ok", 1, "task", id));
out:
  discover_req_close(&d);
}

static int discover_restore_one(const struct store_event *ev, void *payload) {
  struct rt_engine *e = payload;
  struct discover_req d = {0};
  json_t *j;

  if (strcmp(ev->kind, "discover") != 0 ||
      (j = json_loads(ev->data ? ev->data : "", 0, NULL)) == NULL)
    return 0;
  d.id = json_string_value(json_object_get(j, "task"));
  d.by = json_string_value(json_object_get(j, "by"));
  if (d.id != NULL && d.by != NULL && discover_parse(&d, j) == 0 &&
      msn_task_find(e->m, d.id) < 0 && discover_add(e, &d, 1, NULL) < 0)
    log_warn("discovered task %s could not be added again", d.id);
  discover_req_close(&d);
  json_decref(j);
  return 0;
}

int rt_discover_restore(struct rt_engine *e, struct crl_err *err) {
  int rc =
      store_event_list(e->st, e->m->name, NULL, 0, discover_restore_one, e);

  return rc < 0 ? crl_err_set(err, rc, "unable to read discovered tasks") : 0;
}
