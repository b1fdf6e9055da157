/*
 * The actions vector: what the scheduler asks the runtime to do, appended in
 * the order the scheduler decided it. The caller owns the vector and usually
 * resets it after each batch; the storage is kept between batches. Every
 * action carries the `now` it was decided at in `at`, except WAKE, whose `at`
 * is the time to call sched_step again.
 */
#include <string.h>

#include "sched-int.h"

void sched_actions_init(struct sched_actions *a) {
  memset(a, 0, sizeof(*a));
}

void sched_actions_reset(struct sched_actions *a) {
  a->n = 0;
}

void sched_actions_close(struct sched_actions *a) {
  free(a->v);
  memset(a, 0, sizeof(*a));
}

static struct sched_action *action_push(struct sched_actions *out,
                                        enum sched_action_kind kind,
                                        size_t task, int64_t at) {
  struct sched_action *a;

  if (out->n == out->cap) {
    out->cap = out->cap ? out->cap * 2 : 16;
    out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
  }
  a = &out->v[out->n++];
  memset(a, 0, sizeof(*a));
  a->kind = kind;
  a->task = task;
  a->at = at;
  return a;
}

void sched__emit_state(struct sched_actions *out, size_t task,
                       enum sched_state from, enum sched_state to,
                       int64_t now) {
  struct sched_action *a = action_push(out, SCHED_ACT_STATE, task, now);

  a->from = from;
  a->to = to;
}

void sched__emit_start(struct sched_actions *out, size_t task, int attempt,
                       int64_t now) {
  struct sched_action *a = action_push(out, SCHED_ACT_START, task, now);

  a->attempt = attempt;
  a->from = SCHED_READY;
  a->to = SCHED_RUNNING;
}

void sched__emit_stop(struct sched_actions *out, size_t task,
                      enum sched_stop_reason reason, int64_t now) {
  struct sched_action *a = action_push(out, SCHED_ACT_STOP, task, now);

  a->reason = reason;
}

void sched__emit_wake(struct sched_actions *out, int64_t at) {
  action_push(out, SCHED_ACT_WAKE, SCHED__NONE, at);
}
