/*
 * Tasks an agent discovered at run time, in events-mode replay. A
 * "discover" event names the new task, the task that discovered it, its
 * needs and the tasks it comes before; the engine appended it to the
 * mission as a copy of the discoverer (same ticket, agent, limits and
 * retries, no review) and added it to the live graph. The replay does the
 * same at the same point of the log, so the new task takes the same index;
 * a later engine re-adds every task discovered before it starts, before
 * the states are restored (rt_discover_restore).
 */
#include "replay-int.h"

#include <stdlib.h>
#include <string.h>

int rt__replay_task(struct replay *r, const char *id) {
  int i = sched_task_find(r->s, id);

  if (i >= 0 && (size_t)i < r->m->ntasks)
    return i;
  for (size_t k = 0; k < r->ndisc; k++)
    if (strcmp(r->disc[k], id) == 0)
      return (int)(r->m->ntasks + k);
  return -1;
}

void rt__replay_discover_note(struct replay *r, struct replay_ev *e) {
  const char *id = json_string_value(json_object_get(e->data, "task"));

  if (id == NULL || rt__replay_task(r, id) >= 0)
    return;
  r->disc = xreallocarray(r->disc, r->ndisc + 1, sizeof(*r->disc));
  r->disc[r->ndisc++] = xstrdup(id);
}

/* The mission task a discovered task copies: its discoverer's, following
 * discoverers that were discovered themselves. */
static int discover_root(struct replay *r, const char *by) {
  int i = rt__replay_task(r, by);

  for (size_t guard = 0; i >= (int)r->m->ntasks && guard <= r->ndisc; guard++) {
    const char *up = NULL;

    for (size_t j = 0; j < r->nev && up == NULL; j++)
      if (r->ev[j].kind == RP_DISCOVER &&
          rt__replay_task(r, json_string_value(
                                 json_object_get(r->ev[j].data, "task"))) == i)
        up = json_string_value(json_object_get(r->ev[j].data, "by"));
    i = up != NULL ? rt__replay_task(r, up) : -1;
  }
  return i;
}

static const char **discover_list(json_t *a, size_t *n) {
  const char **v = xcalloc(json_array_size(a) + 1, sizeof(*v));
  size_t i;
  json_t *x;

  *n = 0;
  json_array_foreach(a, i, x) {
    if (json_is_string(x))
      v[(*n)++] = json_string_value(x);
  }
  return v;
}

static int discover_add(struct replay *r, json_t *d, int restoring,
                        struct crl_err *err) {
  struct sched_discover sd = {
      SCHED_TASK_OPTS_INIT, NULL, 0, NULL, 0, restoring};
  int root = discover_root(r, json_string_value(json_object_get(d, "by")));
  int rc;

  if (root < 0)
    return crl_err_set(err, CRL_ETASK_NOT_FOUND,
                       "discovered task %s: its discoverer is unknown",
                       json_string_value(json_object_get(d, "task")));
  rt_plan_task_opts(&sd.opts, r->m, &r->m->tasks[root]);
  sd.opts.id = json_string_value(json_object_get(d, "task"));
  sd.opts.review = 0;
  sd.needs = discover_list(json_object_get(d, "needs"), &sd.nneeds);
  sd.before = discover_list(json_object_get(d, "before"), &sd.nbefore);
  rc = sched_task_discover(r->s, &sd, r->clock, &r->acts, err);
  free((void *)sd.needs);
  free((void *)sd.before);
  return rc < 0 ? rc : 0;
}

void rt__replay_discover(struct replay *r, const struct replay_ev *e) {
  struct crl_err err = CRL_ERR_INIT;

  if (e->data == NULL || discover_add(r, e->data, 0, &err) < 0) {
    log_warn("replay: a recorded discovery could not be replayed: %s", err.msg);
    return;
  }
  r->live_disc++;
  rt__replay_collect(r);
}

int rt__replay_rediscover(struct replay *r, struct crl_err *err) {
  size_t k = 0;
  int rc;

  for (size_t j = 0; j < r->nev && k < r->live_disc; j++) {
    if (r->ev[j].kind != RP_DISCOVER || r->ev[j].data == NULL)
      continue;
    if ((rc = discover_add(r, r->ev[j].data, 1, err)) < 0)
      return rc;
    k++;
  }
  sched_actions_reset(&r->acts);
  return 0;
}

void rt__replay_discover_free(struct replay *r) {
  for (size_t k = 0; k < r->ndisc; k++)
    free(r->disc[k]);
  free(r->disc);
}
