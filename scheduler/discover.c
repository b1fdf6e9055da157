/*
 * Tasks discovered while a mission runs: an agent adds a task to the live
 * graph. The new task needs tasks that exist (and may still complete) and
 * may be needed by tasks that have not started (they wait for it). Nothing
 * else depends on it, so the only cycle it can close runs from one of its
 * needs, through the graph, to one of the tasks it comes before: that is
 * checked first and named, and a refused task changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "sched-int.h"

/* 1 when `to` is reachable from `from` along needs. */
static int reaches(const struct sched *s, size_t from, size_t to) {
  unsigned char *seen = xcalloc(s->ntasks, 1);
  struct sched__vec q = {0};
  int hit = 0;

  sched__vec_push(&q, from);
  seen[from] = 1;
  for (size_t i = 0; i < q.n && !hit; i++) {
    const struct sched__vec *dp = &s->tasks[q.v[i]].deps;

    hit = q.v[i] == to;
    for (size_t j = 0; j < dp->n && !hit; j++)
      if (!seen[dp->v[j]]) {
        seen[dp->v[j]] = 1;
        sched__vec_push(&q, dp->v[j]);
      }
  }
  sched__vec_close(&q);
  free(seen);
  return hit;
}

static int doomed(enum sched_state st) {
  return st == SCHED_CANCELLED || st == SCHED_SKIPPED;
}

static int discover_check(const struct sched *s, const struct sched_discover *d,
                          struct crl_err *err) {
  size_t x;

  for (size_t i = 0; i < d->nneeds; i++)
    if (sched__map_get(&s->task_ids, d->needs[i], &x) < 0)
      return crl_err_set(err, CRL_ETASK_NOT_FOUND, "unknown task \"%s\"",
                         d->needs[i]);
    else if (doomed(s->tasks[x].state) ||
             (s->tasks[x].state == SCHED_FAILED && s->tasks[x].retry_at < 0))
      return crl_err_set(err, CRL_EINVALID_TRANSITION,
                         "task \"%s\" will never complete", d->needs[i]);
  for (size_t i = 0; i < d->nbefore; i++)
    if (sched__map_get(&s->task_ids, d->before[i], &x) < 0)
      return crl_err_set(err, CRL_ETASK_NOT_FOUND, "unknown task \"%s\"",
                         d->before[i]);
    else if (s->tasks[x].state != SCHED_PENDING)
      return crl_err_set(err, CRL_EINVALID_TRANSITION,
                         "task \"%s\" has started already: nothing new can "
                         "come before it",
                         d->before[i]);
  return 0;
}

static int discover_cycle(const struct sched *s, const struct sched_discover *d,
                          struct crl_err *err) {
  size_t a, b;

  for (size_t i = 0; i < d->nneeds; i++)
    for (size_t j = 0; j < d->nbefore; j++) {
      sched__map_get(&s->task_ids, d->needs[i], &a);
      sched__map_get(&s->task_ids, d->before[j], &b);
      if (reaches(s, a, b))
        return crl_err_set(err, CRL_ECYCLE,
                           "dependency cycle: %s -> %s -> ... -> %s -> %s",
                           d->opts.id, d->needs[i], d->before[j], d->opts.id);
    }
  return 0;
}

static void discover_link(struct sched *s, size_t n,
                          const struct sched_discover *d) {
  struct sched__task *t;
  size_t x;

  for (size_t i = 0; i < d->nneeds; i++) {
    sched__map_get(&s->task_ids, d->needs[i], &x);
    sched__vec_push(&s->tasks[n].deps, x);
    sched__vec_push(&s->tasks[x].dependents, n);
    if (s->tasks[x].state != SCHED_COMPLETED)
      s->tasks[n].unfinished++;
  }
  t = &s->tasks[n];
  t->cpath = t->weight;
  for (size_t i = 0; i < d->nbefore; i++) {
    sched__map_get(&s->task_ids, d->before[i], &x);
    sched__vec_push(&s->tasks[x].deps, n);
    sched__vec_push(&s->tasks[n].dependents, x);
    s->tasks[x].unfinished++;
    if (s->tasks[x].cpath + s->tasks[n].weight > s->tasks[n].cpath)
      s->tasks[n].cpath = s->tasks[x].cpath + s->tasks[n].weight;
  }
}

int sched_task_discover(struct sched *s, const struct sched_discover *d,
                        int64_t now, struct sched_actions *out,
                        struct crl_err *err) {
  enum sched__phase phase = s->phase;
  int rc;

  if (phase == SCHED__BUILD)
    return crl_err_set(err, CRL_EINVALID_TRANSITION,
                       "tasks are discovered in a running mission");
  if ((rc = discover_check(s, d, err)) < 0 ||
      (rc = discover_cycle(s, d, err)) < 0)
    return rc;
  s->phase = SCHED__BUILD; /* sched_task_add's rule, for this one call */
  rc = sched_task_add(s, &d->opts, err);
  s->phase = phase;
  if (rc < 0)
    return rc;
  discover_link(s, (size_t)rc, d);
  if (s->tasks[rc].unfinished == 0 && !d->restoring)
    sched__task_ready(s, (size_t)rc, now, out);
  return rc;
}
