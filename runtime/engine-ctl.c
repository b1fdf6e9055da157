/*
 * Human decisions and controls on a live engine, for the daemon's socket:
 * review decisions (approve, reject with feedback), a manual retry of a
 * failed task, cancelling one task or the whole mission, pause and resume.
 * Each goes through the scheduler, so an illegal move is refused with
 * CRL_EINVALID_TRANSITION and nothing changes; a legal one is carried out
 * like any other action and recorded as an event (plus a "review" event for
 * decisions). The store commit and the spawns follow in the next turn.
 */
#include "rt-int.h"
#include "rt-json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int rt_engine_task_index(const struct rt_engine *e, const char *id) {
  return msn_task_find(e->m, id);
}

/* Carries out what the scheduler decided and asks for a turn. */
static int ctl_done(struct rt_engine *e, int rc, size_t task,
                    struct crl_err *err) {
  if (rc == CRL_EINVALID_TRANSITION)
    return crl_err_set(err, rc, "task %s of mission %s is %s",
                       e->m->tasks[task].id, e->m->name,
                       sched_state_name(sched_task_state(e->sched, task)));
  if (rc < 0)
    return crl_err_set(err, rc, "%s", crl_strerror(rc));
  rt_engine_dispatch(e);
  e->need_step = 1;
  return 0;
}

static void ctl_reason(struct rt_engine *e, size_t task, const char *reason) {
  free(e->reasons[task]);
  e->reasons[task] = xstrdup(reason);
}

/* An approved plan sends the task back to run its work. */
static int ctl_approve_plan(struct rt_engine *e, size_t task,
                            struct crl_err *err) {
  int rc = sched_task_reject(e->sched, task, rt_engine_now(e), &e->acts);

  if (rc == 0) {
    e->planning[task] = 0;
    ctl_reason(e, task, "plan approved");
    store_task_set_phase(e->st, e->m->name, e->m->tasks[task].id, "work", NULL);
    rt_engine_event_json(e, e->m->tasks[task].id, 0, "review",
                         json_pack("{s:s}", "decision", "approve-plan"));
  }
  return ctl_done(e, rc, task, err);
}

int rt_engine_approve(struct rt_engine *e, size_t task, struct crl_err *err) {
  int rc;

  if (e->planning[task] &&
      sched_task_state(e->sched, task) == SCHED_PENDING_REVIEW)
    return ctl_approve_plan(e, task, err);
  rc = sched_task_approve(e->sched, task, rt_engine_now(e), &e->acts);

  if (rc == 0) {
    ctl_reason(e, task, "approved");
    store_task_set_feedback(e->st, e->m->name, e->m->tasks[task].id, NULL,
                            NULL);
    rt_engine_event_json(e, e->m->tasks[task].id, 0, "review",
                         json_pack("{s:s}", "decision", "approve"));
  }
  return ctl_done(e, rc, task, err);
}

int rt_engine_reject(struct rt_engine *e, size_t task, const char *feedback,
                     struct crl_err *err) {
  int rc = sched_task_reject(e->sched, task, rt_engine_now(e), &e->acts);

  if (rc == 0) {
    ctl_reason(e, task, "rejected");
    store_task_set_feedback(e->st, e->m->name, e->m->tasks[task].id, feedback,
                            NULL);
    rt_engine_event_json(
        e, e->m->tasks[task].id, 0, "review",
        json_pack("{s:s, s:s?}", "decision", "reject", "feedback", feedback));
  }
  return ctl_done(e, rc, task, err);
}

/* A decision taken on one task through the daemon, logged before the state
 * changes it causes so that events-mode replay can take it again. */
static void ctl_task_event(struct rt_engine *e, size_t task, const char *kind) {
  int64_t run = e->runs[task] != NULL ? e->runs[task]->id : 0;

  rt_engine_event_json(e, e->m->tasks[task].id, run, kind, json_object());
}

int rt_engine_retry(struct rt_engine *e, size_t task, struct crl_err *err) {
  int rc = sched_task_retry(e->sched, task, rt_engine_now(e), &e->acts);

  if (rc == 0) {
    ctl_reason(e, task, "retried");
    ctl_task_event(e, task, "task.retry");
  }
  return ctl_done(e, rc, task, err);
}

int rt_engine_resume(struct rt_engine *e, size_t task, int turns,
                     struct crl_err *err) {
  int rc;

  if (sched_task_state(e->sched, task) != SCHED_FAILED)
    return ctl_done(e, CRL_EINVALID_TRANSITION, task, err);
  if ((rc = rt_session_request(e->st, e->m, e->m->tasks[task].id, turns, err)) <
      0)
    return rc;
  return rt_engine_retry(e, task, err);
}

int rt_engine_cancel_task(struct rt_engine *e, size_t task,
                          struct crl_err *err) {
  enum sched_state st = sched_task_state(e->sched, task);
  int rc;

  if (sched_state_is_terminal(st))
    return ctl_done(e, CRL_EINVALID_TRANSITION, task, err);
  rc = sched_task_cancel(e->sched, task, rt_engine_now(e), &e->acts);
  if (rc == 0) {
    e->cancels++;
    ctl_task_event(e, task, "task.cancel");
  }
  return ctl_done(e, rc, task, err);
}

int rt_engine_cancel(struct rt_engine *e, struct crl_err *err) {
  int rc;

  if (e->finished)
    return crl_err_set(err, CRL_EINVALID_TRANSITION, "mission %s is over",
                       e->m->name);
  e->cancels++;
  rc = sched_cancel_all(e->sched, rt_engine_now(e), &e->acts);
  rt_engine_event_json(e, NULL, 0, "mission.cancel", json_object());
  return ctl_done(e, rc, 0, err);
}

int rt_engine_pause(struct rt_engine *e, int paused, struct crl_err *err) {
  if (e->finished)
    return crl_err_set(err, CRL_EINVALID_TRANSITION, "mission %s is over",
                       e->m->name);
  if (sched_paused(e->sched) == (paused != 0))
    return crl_err_set(err, CRL_EINVALID_TRANSITION, "mission %s is %s already",
                       e->m->name, paused ? "paused" : "running");
  sched_pause(e->sched, paused);
  rt_engine_event_json(e, NULL, 0, paused ? "mission.pause" : "mission.resume",
                       json_object());
  e->need_step = 1;
  return 0;
}
