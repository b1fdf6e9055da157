/*
 * Helpers shared by the scheduler's unit tests: building small graphs in one
 * line and looking things up in an actions vector.
 */
#ifndef SCHED_TEST_H
#define SCHED_TEST_H

#include <criterion/criterion.h>

#include "scheduler/sched.h"

/* Adds a task with default options; ticket and agent may be NULL. */
static inline size_t t_add(struct sched *s, const char *id, const char *ticket,
                           const char *agent) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;
  int ix;

  o.id = id;
  o.ticket = ticket;
  o.agent = agent;
  ix = sched_task_add(s, &o, NULL);
  cr_assert_geq(ix, 0, "add %s: %d", id, ix);
  return (size_t)ix;
}

static inline size_t t_add_opts(struct sched *s,
                                const struct sched_task_opts *o) {
  int ix = sched_task_add(s, o, NULL);

  cr_assert_geq(ix, 0, "add %s: %d", o->id, ix);
  return (size_t)ix;
}

static inline void t_dep(struct sched *s, const char *task, const char *needs) {
  cr_assert_eq(sched_dep_add(s, task, needs, NULL), 0);
}

static inline void t_seal(struct sched *s) {
  struct crl_err err = CRL_ERR_INIT;

  cr_assert_eq(sched_seal(s, &err), 0, "%s", err.msg);
}

static inline size_t t_count(const struct sched_actions *a,
                             enum sched_action_kind kind) {
  size_t n = 0;

  for (size_t i = 0; i < a->n; i++)
    n += a->v[i].kind == kind;
  return n;
}

/* Index of the first action of kind for task at or after from, or -1. */
static inline long t_find(const struct sched_actions *a,
                          enum sched_action_kind kind, size_t task,
                          size_t from) {
  for (size_t i = from; i < a->n; i++)
    if (a->v[i].kind == kind && a->v[i].task == task)
      return (long)i;
  return -1;
}

static inline int t_has_state(const struct sched_actions *a, size_t task,
                              enum sched_state from, enum sched_state to) {
  for (size_t i = 0; i < a->n; i++)
    if (a->v[i].kind == SCHED_ACT_STATE && a->v[i].task == task &&
        a->v[i].from == from && a->v[i].to == to)
      return 1;
  return 0;
}

/* The at of the batch's WAKE, or -1 when there is none. */
static inline int64_t t_wake(const struct sched_actions *a) {
  for (size_t i = 0; i < a->n; i++)
    if (a->v[i].kind == SCHED_ACT_WAKE)
      return a->v[i].at;
  return -1;
}

/* Runs one step into a freshly reset vector. */
static inline void t_step(struct sched *s, int64_t now,
                          struct sched_actions *a) {
  sched_actions_reset(a);
  cr_assert_eq(sched_step(s, now, a), 0);
}

static inline void t_end(struct sched *s, size_t task, int64_t now,
                         enum sched_outcome outcome, struct sched_actions *a) {
  sched_actions_reset(a);
  cr_assert_eq(sched_run_ended(s, task, now, outcome, a), 0);
}

#endif
