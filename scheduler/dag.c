/*
 * The task graph: tasks added in file order, their dependency edges, and
 * sealing, which orders the graph topologically (Kahn), names a cycle when
 * there is one, and computes each task's critical path, the weight of the
 * longest chain from the task to a sink. An edge "a needs b" is kept twice:
 * in a's deps and in b's dependents. A cycle is reported in the "needs"
 * direction, starting at its task that comes first in the file.
 */
#include <assert.h>
#include <string.h>

#include "sched-int.h"

static void task_init(struct sched *s, struct sched__task *t,
                      const struct sched_task_opts *o) {
  memset(t, 0, sizeof(*t));
  t->id = xstrdup(o->id);
  t->priority = o->priority;
  t->weight = o->estimate_ms > 0 ? o->estimate_ms : SCHED__DEFAULT_WEIGHT;
  t->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 0;
  t->idle_timeout_ms = o->idle_timeout_ms > 0 ? o->idle_timeout_ms : 0;
  t->review = o->review != 0;
  t->retry = o->retry;
  if (t->retry.max < 0)
    t->retry.max = 0;
  if (t->retry.intensity < 0)
    t->retry.intensity = 0;
  t->ticket = sched__slot_ticket(s, o->ticket);
  t->agent = sched__slot_agent(s, o->agent);
  t->pair = sched__slot_pair(s, t->ticket, t->agent);
  t->state = SCHED_PENDING;
  t->retry_at = -1;
  t->hpos = t->run_pos = t->wait_pos = SCHED__NONE;
}

int sched_task_add(struct sched *s, const struct sched_task_opts *o,
                   struct crl_err *err) {
  size_t ix;

  if (o->id == NULL || o->id[0] == '\0')
    return crl_err_set(err, CRL_EVALIDATION_FAILED, "task without an id");
  if (s->phase != SCHED__BUILD)
    return crl_err_set(err, CRL_EINVALID_TRANSITION,
                       "task \"%s\": the graph is sealed", o->id);
  if (sched__map_get(&s->task_ids, o->id, &ix) == 0)
    return crl_err_set(err, CRL_EDUPLICATE, "duplicate task id \"%s\"", o->id);
  if (s->ntasks == s->tasks_cap) {
    s->tasks_cap = s->tasks_cap ? s->tasks_cap * 2 : 16;
    s->tasks = xreallocarray(s->tasks, s->tasks_cap, sizeof(*s->tasks));
  }
  ix = s->ntasks++;
  task_init(s, &s->tasks[ix], o);
  sched__map_put(&s->task_ids, s->tasks[ix].id, ix);
  s->by_state[SCHED_PENDING]++;
  return (int)ix;
}

int sched_dep_add(struct sched *s, const char *task, const char *needs,
                  struct crl_err *err) {
  size_t a, b;
  struct sched__task *t;

  if (s->phase != SCHED__BUILD)
    return crl_err_set(err, CRL_EINVALID_TRANSITION,
                       "task \"%s\": the graph is sealed", task);
  if (sched__map_get(&s->task_ids, task, &a) < 0)
    return crl_err_set(err, CRL_ETASK_NOT_FOUND, "unknown task \"%s\"",
                       task ? task : "(null)");
  if (sched__map_get(&s->task_ids, needs, &b) < 0)
    return crl_err_set(err, CRL_ETASK_NOT_FOUND,
                       "task \"%s\" needs unknown task \"%s\"", task,
                       needs ? needs : "(null)");
  t = &s->tasks[a];
  /* A repeated edge adds nothing; keeping one copy keeps counts simple. */
  for (size_t i = 0; i < t->deps.n; i++)
    if (t->deps.v[i] == b)
      return 0;
  sched__vec_push(&t->deps, b);
  sched__vec_push(&s->tasks[b].dependents, a);
  return 0;
}

/* Fills order with a topological order (deps first) and returns how many
 * tasks it holds; fewer than ntasks means the rest lie on or behind a
 * cycle. */
static size_t dag_topo(const struct sched *s, size_t *order) {
  size_t *indeg = xcalloc(s->ntasks ? s->ntasks : 1, sizeof(*indeg));
  size_t head = 0, tail = 0;

  for (size_t i = 0; i < s->ntasks; i++) {
    indeg[i] = s->tasks[i].deps.n;
    if (indeg[i] == 0)
      order[tail++] = i;
  }
  while (head < tail) {
    const struct sched__vec *dn = &s->tasks[order[head++]].dependents;

    for (size_t i = 0; i < dn->n; i++)
      if (--indeg[dn->v[i]] == 0)
        order[tail++] = dn->v[i];
  }
  free(indeg);
  return tail;
}

static void dag_cycle_format(const struct sched *s, const size_t *cyc, size_t n,
                             struct crl_err *err) {
  struct crl_buf b;
  size_t first = 0;

  for (size_t i = 1; i < n; i++)
    if (cyc[i] < cyc[first])
      first = i;
  crl_buf_init(&b, 0);
  for (size_t i = 0; i <= n; i++)
    crl_buf_printf(&b, "%s%s", i ? " -> " : "",
                   s->tasks[cyc[(first + i) % n]].id);
  crl_err_set(err, CRL_ECYCLE, "dependency cycle: %s", b.data);
  crl_buf_close(&b);
}

/* Every task left out of the topological order has a dep that was left out
 * too, so following the first such dep from any of them must come back to a
 * task already on the walk: the loop from there is a cycle. */
static int dag_cycle(const struct sched *s, const size_t *order, size_t ndone,
                     struct crl_err *err) {
  size_t *seen = xmalloc(s->ntasks * sizeof(*seen));
  size_t *walk = xmalloc(s->ntasks * sizeof(*walk));
  size_t n = 0, x = SCHED__NONE;

  for (size_t i = 0; i < s->ntasks; i++)
    seen[i] = 0;
  for (size_t i = 0; i < ndone; i++)
    seen[order[i]] = SCHED__NONE; /* done: not on any cycle */
  for (size_t i = 0; i < s->ntasks && x == SCHED__NONE; i++)
    if (seen[i] == 0)
      x = i;
  while (seen[x] == 0) {
    const struct sched__vec *deps = &s->tasks[x].deps;
    size_t i = 0;

    seen[x] = ++n;
    walk[n - 1] = x;
    while (seen[deps->v[i]] == SCHED__NONE)
      i++;
    x = deps->v[i];
  }
  dag_cycle_format(s, walk + seen[x] - 1, n - seen[x] + 1, err);
  free(seen);
  free(walk);
  return CRL_ECYCLE;
}

static int64_t sat_add(int64_t a, int64_t b) {
  return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int sched__dag_seal(struct sched *s, struct crl_err *err) {
  size_t *order = xmalloc((s->ntasks ? s->ntasks : 1) * sizeof(*order));
  size_t ndone = dag_topo(s, order);
  int rc = 0;

  if (ndone < s->ntasks) {
    rc = dag_cycle(s, order, ndone, err);
    goto out;
  }
  for (size_t i = ndone; i-- > 0;) {
    struct sched__task *t = &s->tasks[order[i]];
    int64_t best = 0;

    for (size_t j = 0; j < t->dependents.n; j++)
      if (s->tasks[t->dependents.v[j]].cpath > best)
        best = s->tasks[t->dependents.v[j]].cpath;
    t->cpath = sat_add(t->weight, best);
    t->unfinished = t->deps.n;
  }
out:
  free(order);
  return rc;
}

void sched__dag_free(struct sched *s) {
  for (size_t i = 0; i < s->ntasks; i++) {
    free(s->tasks[i].id);
    free(s->tasks[i].fails);
    sched__vec_close(&s->tasks[i].deps);
    sched__vec_close(&s->tasks[i].dependents);
  }
  free(s->tasks);
  sched__map_close(&s->task_ids);
}

size_t sched_task_ndeps(const struct sched *s, size_t task) {
  assert(task < s->ntasks);
  return s->tasks[task].deps.n;
}

size_t sched_task_dep(const struct sched *s, size_t task, size_t i) {
  assert(task < s->ntasks && i < s->tasks[task].deps.n);
  return s->tasks[task].deps.v[i];
}

int64_t sched_task_critical_path(const struct sched *s, size_t task) {
  assert(task < s->ntasks);
  return s->tasks[task].cpath;
}
