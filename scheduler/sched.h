/*
 * scheduler: the pure heart of corral. It holds a mission's task graph, the
 * task state machine, the ready queue, slots, retries and timeouts, and turns
 * inputs (a run ended, output was seen, the user cancelled, time passed) into
 * a list of actions for the runtime (start this task, stop that run, tell me
 * again at T, this task changed state). It links only base/: no I/O, no
 * clock, no allocation failure paths beyond xmalloc. It is always handed
 * `now`, so the same inputs produce the same actions, which is what replay
 * relies on.
 */
#ifndef SCHED_H
#define SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "crl.h"

/* Task states (DESIGN.md §1). */
enum sched_state {
  SCHED_PENDING,
  SCHED_READY,
  SCHED_RUNNING,
  SCHED_BLOCKED,
  SCHED_PENDING_REVIEW,
  SCHED_COMPLETED,
  SCHED_FAILED,
  SCHED_REJECTED,
  SCHED_CANCELLED,
  SCHED_SKIPPED,
  SCHED_STATE_MAX
};

/* Events of the state×event table. */
enum sched_event {
  SCHED_EV_DEPS_MET,    /* pending -> ready */
  SCHED_EV_START,       /* ready -> running */
  SCHED_EV_SUCCEED,     /* running -> completed */
  SCHED_EV_NEED_REVIEW, /* running -> pending_review */
  SCHED_EV_FAIL,        /* running -> failed */
  SCHED_EV_BLOCK,       /* running -> blocked */
  SCHED_EV_UNBLOCK,     /* blocked -> running */
  SCHED_EV_APPROVE,     /* pending_review -> completed */
  SCHED_EV_REJECT,      /* pending_review -> rejected */
  SCHED_EV_RERUN,       /* rejected -> ready */
  SCHED_EV_RETRY,       /* failed -> ready */
  SCHED_EV_SKIP,        /* pending -> skipped */
  SCHED_EV_CANCEL,      /* any non-terminal -> cancelled */
  SCHED_EV_UNSKIP,      /* skipped -> pending (a manual retry upstream) */
  SCHED_EV_MAX
};

/* "pending", "ready", ..., "pending_review", ... Never NULL. */
const char *sched_state_name(enum sched_state st);
/* Parses a name from sched_state_name; CRL_EPARSE when unknown. */
int sched_state_parse(enum sched_state *out, const char *name);
const char *sched_event_name(enum sched_event ev);
/* 1 for completed, failed (for good), cancelled, skipped. */
int sched_state_is_terminal(enum sched_state st);

/*
 * The one state×event table. On success *out is the new state and 0 is
 * returned; an illegal cell returns CRL_EINVALID_TRANSITION and leaves *out
 * untouched.
 */
int sched_state_next(enum sched_state *out, enum sched_state from,
                     enum sched_event ev);

/* Ticket priorities, ordered so that a larger value is more urgent. */
enum sched_priority {
  SCHED_PRIO_LOW,
  SCHED_PRIO_MEDIUM,
  SCHED_PRIO_HIGH,
  SCHED_PRIO_CRITICAL
};

/*
 * Restart policy. `max` re-runs are allowed after the first attempt
 * (max 1 -> at most two starts). The n-th retry waits
 * min(cap, floor * factor^(n-1)) plus a deterministic jitter of up to 10%
 * (a hash of the scheduler seed, the task id and n), never more than cap.
 * A run that stayed up at least `reset_after_ms` resets the backoff to the
 * floor. When `intensity` > 0, `intensity` failures within
 * `intensity_window_ms` fail the task for good whatever `max` says.
 */
struct sched_retry {
  int max;
  int64_t floor_ms;
  double factor;
  int64_t cap_ms;
  int64_t reset_after_ms;
  int intensity;
  int64_t intensity_window_ms;
};

#define SCHED_RETRY_INIT \
  { 0, 1000, 2.0, 300000, 0, 0, 0 }

/* One task as given to sched_task_add. Strings are copied. */
struct sched_task_opts {
  const char *id;
  const char *ticket; /* one running task per ticket at a time */
  const char *agent;  /* slot pool, see sched_agent_add */
  enum sched_priority priority;
  int64_t estimate_ms;     /* weight on the critical path; 0 means 1000 */
  int64_t timeout_ms;      /* wall limit of one run; 0 means none */
  int64_t idle_timeout_ms; /* limit without activity; 0 means none */
  int review;              /* a successful run ends in pending_review */
  struct sched_retry retry;
};

#define SCHED_TASK_OPTS_INIT \
  { NULL, NULL, NULL, SCHED_PRIO_MEDIUM, 0, 0, 0, 0, SCHED_RETRY_INIT }

struct sched_opts {
  int jobs;      /* global slots; 0 means unlimited */
  uint64_t seed; /* jitter seed */
};

#define SCHED_OPTS_INIT \
  { 0, 0 }

/* What the runtime must do. The scheduler has already updated its own state
 * when it emits an action (a START means the task is running and holds its
 * slots). */
enum sched_action_kind {
  SCHED_ACT_STATE, /* task moved from -> to (persist, report) */
  SCHED_ACT_START, /* start run `attempt` (1-based) of task */
  SCHED_ACT_STOP,  /* stop the task's current run for `reason` */
  SCHED_ACT_WAKE   /* call sched_step again at `at` */
};

enum sched_stop_reason {
  SCHED_STOP_NONE,
  SCHED_STOP_TIMEOUT,
  SCHED_STOP_IDLE,
  SCHED_STOP_CANCELLED,
  SCHED_STOP_HEARTBEAT, /* set by the runtime, never by the scheduler */
  SCHED_STOP_BUDGET     /* likewise: the gateway refused a call */
};

const char *sched_stop_reason_name(enum sched_stop_reason r);

struct sched_action {
  enum sched_action_kind kind;
  size_t task;
  int attempt;
  enum sched_state from;
  enum sched_state to;
  enum sched_stop_reason reason;
  int64_t at;
};

struct sched_actions {
  struct sched_action *v;
  size_t n;
  size_t cap;
};

void sched_actions_init(struct sched_actions *a);
void sched_actions_reset(struct sched_actions *a);
void sched_actions_close(struct sched_actions *a);

/* How a run ended, as far as the scheduler cares. REVIEW is a success that
 * needs a human whatever the task's review option (a policy said so). */
enum sched_outcome {
  SCHED_OUTCOME_SUCCESS,
  SCHED_OUTCOME_FAILURE,
  SCHED_OUTCOME_REVIEW
};

struct sched;

/* Returns a new, empty scheduler. Never NULL (allocation aborts). */
struct sched *sched_new(const struct sched_opts *opts);
void sched_free(struct sched *s);

/* Declares an agent slot pool; capacity 0 means unlimited. An agent named by
 * a task but never declared is unlimited. Before sched_seal only. */
int sched_agent_add(struct sched *s, const char *name, int capacity);

/* Adds a task in file order and returns its index (>= 0), or CRL_EDUPLICATE
 * when the id is taken. Before sched_seal only. */
int sched_task_add(struct sched *s, const struct sched_task_opts *o,
                   struct crl_err *err);

/* Records that `task` needs `needs`. CRL_ETASK_NOT_FOUND names the missing
 * id. Before sched_seal only. */
int sched_dep_add(struct sched *s, const char *task, const char *needs,
                  struct crl_err *err);

/* Freezes the graph: checks for cycles (CRL_ECYCLE, err names the cycle as
 * "a -> b -> c -> a") and computes critical paths. */
int sched_seal(struct sched *s, struct crl_err *err);

/*
 * Restores a task's persisted state before the first sched_step (resume).
 * `attempts` is the number of runs already started. A task restored as
 * running takes its slots and gets its deadlines from `started_at`. Restoring
 * failed, cancelled or skipped puts the task back to pending (a new
 * invocation retries what did not complete); completed stays completed.
 * Blocked is restored like running (its run is still alive), pending_review
 * stays pending_review (the decision is still owed), and pending, ready and
 * rejected become pending. Restoring a task again replaces what the
 * earlier restore did (a row first, then its live run).
 */
int sched_task_restore(struct sched *s, size_t task, enum sched_state st,
                       int attempts, int64_t started_at, struct crl_err *err);

/* Accessors. Indices come from sched_task_add / sched_task_find. */
size_t sched_task_count(const struct sched *s);
int sched_task_find(const struct sched *s, const char *id);
const char *sched_task_id(const struct sched *s, size_t task);
const char *sched_task_ticket(const struct sched *s, size_t task);
const char *sched_task_agent(const struct sched *s, size_t task);
enum sched_state sched_task_state(const struct sched *s, size_t task);
int sched_task_attempts(const struct sched *s, size_t task);
/* Longest remaining path from this task to a sink, in weight units. */
int64_t sched_task_critical_path(const struct sched *s, size_t task);
/* When a failed task waits for its next retry, the time it becomes ready;
 * otherwise -1. A failed task with no retry pending has failed for good. */
int64_t sched_task_retry_at(const struct sched *s, size_t task);
size_t sched_task_ndeps(const struct sched *s, size_t task);
size_t sched_task_dep(const struct sched *s, size_t task, size_t i);

/*
 * Advances time to `now`: stops runs past their wall or idle deadline,
 * readies tasks whose backoff has elapsed, starts ready tasks in queue order
 * while slots allow, and ends with one WAKE for the earliest future
 * deadline, if any. Appends to `out`.
 */
int sched_step(struct sched *s, int64_t now, struct sched_actions *out);

/* The task's current run ended. Applies review, retry and skip rules and
 * appends the resulting STATE actions; frees the slots. */
int sched_run_ended(struct sched *s, size_t task, int64_t now,
                    enum sched_outcome outcome, struct sched_actions *out);

/* A question or an approval is outstanding (running -> blocked). The task
 * keeps its slots and its wall deadline; the idle deadline is suspended.
 * CRL_EINVALID_TRANSITION unless running. */
int sched_task_block(struct sched *s, size_t task, int64_t now,
                     struct sched_actions *out);
/* The answer came (blocked -> running); the idle deadline restarts at now.
 * CRL_EINVALID_TRANSITION unless blocked. A blocked task whose run ends goes
 * through running first (two STATE actions). */
int sched_task_unblock(struct sched *s, size_t task, int64_t now,
                       struct sched_actions *out);

/* Output or a heartbeat was seen: pushes the idle deadline out. */
void sched_task_activity(struct sched *s, size_t task, int64_t now);

/* Cancels one task (or every task): running ones get a STOP and become
 * cancelled when their run ends; the others become cancelled at once. */
int sched_task_cancel(struct sched *s, size_t task, int64_t now,
                      struct sched_actions *out);
int sched_cancel_all(struct sched *s, int64_t now, struct sched_actions *out);

/* Review gate: pending_review -> completed, or -> rejected -> ready. */
int sched_task_approve(struct sched *s, size_t task, int64_t now,
                       struct sched_actions *out);
int sched_task_reject(struct sched *s, size_t task, int64_t now,
                      struct sched_actions *out);

/* A human asks for another try of a failed task (failed -> ready, at once,
 * outside the retry budget); the dependents it had skipped become pending
 * again. CRL_EINVALID_TRANSITION unless failed. */
int sched_task_retry(struct sched *s, size_t task, int64_t now,
                     struct sched_actions *out);

/* A task discovered while the mission runs (scheduler/discover.c): it
 * needs `needs` and comes before `before` (tasks not started yet). */
struct sched_discover {
  struct sched_task_opts opts;
  const char *const *needs;
  size_t nneeds;
  const char *const *before;
  size_t nbefore;
  int restoring; /* re-added before sched_task_restore: leave it pending */
};

/* Adds it to the sealed graph; returns its index, or CRL_ECYCLE (named in
 * err), CRL_ETASK_NOT_FOUND, CRL_EDUPLICATE or CRL_EINVALID_TRANSITION, and
 * then nothing changed. It becomes ready at once when its needs are all
 * completed. */
int sched_task_discover(struct sched *s, const struct sched_discover *d,
                        int64_t now, struct sched_actions *out,
                        struct crl_err *err);

/* While paused no task starts; runs go on, deadlines and retries too. */
void sched_pause(struct sched *s, int paused);
int sched_paused(const struct sched *s);

/* Counts of tasks per state. */
struct sched_counts {
  size_t by_state[SCHED_STATE_MAX];
};

void sched_counts(const struct sched *s, struct sched_counts *out);

/* 1 when nothing can happen any more without a human: every task is
 * terminal, or the rest wait in pending_review. */
int sched_idle(const struct sched *s);

#endif
