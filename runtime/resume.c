/*
 * Resume: running the same mission again on the same state dir picks up
 * where the last engine stopped, however it stopped. Completed tasks stay
 * completed; tasks that failed or were cancelled get a fresh start; runs the
 * store says are live are re-attached when their shim still holds its lock
 * (the agent was never killed and its log is read on from the committed
 * offset), or collected from the status the shim left when it is gone.
 */
#include "rt-int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

static int persist_tickets(struct rt_engine *e, struct crl_err *err) {
  const struct msn_mission *m = e->m;
  int rc;

  for (size_t i = 0; i < m->ntickets; i++)
    if ((rc = store_ticket_upsert(e->st, m->name, m->tickets[i].id,
                                  m->tickets[i].title, m->tickets[i].priority,
                                  err)) < 0)
      return rc;
  return 0;
}

static int persist_tasks(struct rt_engine *e, struct crl_err *err) {
  const struct msn_mission *m = e->m;
  const struct msn_task *t;
  int rc;

  for (size_t i = 0; i < m->ntasks; i++) {
    t = &m->tasks[i];
    if ((rc = store_task_upsert(e->st, m->name, t->id, m->tickets[t->ticket].id,
                                m->agents[t->agent].name, (int)i, err)) < 0)
      return rc;
  }
  for (size_t i = 0; i < m->ntasks; i++)
    for (size_t j = 0; j < m->tasks[i].nneeds; j++)
      if ((rc = store_dep_add(e->st, m->name, m->tasks[i].id,
                              m->tasks[i].needs[j], err)) < 0)
        return rc;
  return 0;
}

int rt_persist(struct rt_engine *e, struct crl_err *err) {
  int rc;

  if ((rc = store_mission_upsert(e->st, e->m->name, e->m->file,
                                 rt_engine_now(e), err)) < 0 ||
      (rc = store_mission_set_state(e->st, e->m->name, "running",
                                    rt_engine_now(e), err)) < 0 ||
      (rc = persist_tickets(e, err)) < 0 || (rc = persist_tasks(e, err)) < 0)
    return rc;
  return 0;
}

/* A copy of a live run row: store rows borrow their strings. */
struct resume_run {
  char *task;
  char *dir;
  int64_t id;
  int attempt;
  int64_t offset;
  int64_t started_at;
};

struct resume_list {
  struct resume_run *v;
  size_t n;
};

static int resume_collect(const struct store_run *r, void *payload) {
  struct resume_list *l = payload;
  struct resume_run *x;

  l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
  x = &l->v[l->n++];
  x->task = xstrdup(r->task);
  x->dir = xstrdup(r->dir ? r->dir : "");
  x->id = r->id;
  x->attempt = r->attempt;
  x->offset = r->log_offset;
  x->started_at = r->started_at;
  return 0;
}

struct resume_ctx {
  struct rt_engine *e;
  struct crl_err *err;
};

static int resume_task(const struct store_task *t, void *payload) {
  struct resume_ctx *c = payload;
  enum sched_state st;
  int idx = sched_task_find(c->e->sched, t->id);

  if (idx < 0 || sched_state_parse(&st, t->state) < 0)
    return 0; /* a task no longer in the file, or a state we do not know */
  /* Running tasks are restored from their live run below. */
  if (st == SCHED_RUNNING || st == SCHED_BLOCKED)
    st = SCHED_PENDING;
  return sched_task_restore(c->e->sched, (size_t)idx, st, t->attempts,
                            t->started_at, c->err);
}

static void resume_attach(struct rt_engine *e, const struct resume_run *x,
                          size_t idx) {
  struct rt_run *r = rt_run_new(e, idx, x->id, x->attempt, x->dir);
  pid_t pid = 0;
  int held = x->dir[0] ? rt_lock_held(x->dir, &pid) : 0;

  r->started_at = x->started_at;
  if (e->repo != NULL)
    r->workdir = rt_ticket_dir(r);
  e->runs[idx] = r;
  e->live++;
  if (held == 1 && pid > 0 && rt_run_attach(r, pid, x->offset) == 0) {
    log_info("re-attached run %lld of %s (shim %ld)", (long long)x->id, x->task,
             (long)pid);
    rt_engine_event(e, x->task, x->id, "run.attach", NULL);
    return;
  }
  rt_run_finish_detached(r, x->offset);
}

/* A run whose shim never took its lock never ran: the engine died between
 * committing the row and spawning. To fence off a shim that is only now
 * starting, the engine takes the lock itself and leaves a status, which a
 * shim checks under the lock before it runs anything. Such a run is closed
 * without counting as an attempt, and the task starts afresh. */
static int resume_never_started(struct rt_engine *e,
                                const struct resume_run *x) {
  char *path;
  struct stat sb;
  int fd, fresh = 0;

  xasprintf(&path, "%s/lock", x->dir);
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  free(path);
  if (fd < 0)
    return 0;
  if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &sb) == 0 &&
      sb.st_size == 0) {
    xasprintf(&path, "%s/status", x->dir);
    fresh = rt_status_write_never(path) == 0;
    free(path);
  }
  close(fd);
  if (fresh)
    store_run_end(e->st, x->id, -1, 0, "never started", 0, rt_engine_now(e),
                  NULL);
  return fresh;
}

static void resume_list_free(struct resume_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].task);
    free(l->v[i].dir);
  }
  free(l->v);
}

int rt_resume(struct rt_engine *e, struct crl_err *err) {
  struct resume_ctx c = {e, err};
  struct resume_list l = {NULL, 0};
  int rc, idx;

  if ((rc = store_task_list(e->st, e->m->name, resume_task, &c)) < 0)
    return rc;
  if ((rc = store_run_list_live(e->st, e->m->name, resume_collect, &l)) < 0)
    goto out;
  for (size_t i = 0; i < l.n; i++) {
    if ((idx = sched_task_find(e->sched, l.v[i].task)) < 0)
      continue;
    if (resume_never_started(e, &l.v[i]))
      continue;
    if ((rc = sched_task_restore(e->sched, (size_t)idx, SCHED_RUNNING,
                                 l.v[i].attempt, l.v[i].started_at, err)) < 0)
      goto out;
    resume_attach(e, &l.v[i], (size_t)idx);
  }
out:
  resume_list_free(&l);
  return rc;
}
