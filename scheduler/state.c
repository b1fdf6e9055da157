/*
 * The task state machine: one static state×event table (s6-supervise's
 * actions[state][event]) and the names of states, events and stop reasons.
 * Every transition the scheduler makes goes through sched_state_next, so an
 * illegal move is an error and never a silent no-op.
 */
#include <string.h>

#include "sched-int.h"

/* A cell holds the next state plus one, so that the zero of an unset cell
 * means "illegal" and the table can use designated initializers. */
#define TO(st) ((unsigned char)((st) + 1))

static const unsigned char state_table[SCHED_STATE_MAX][SCHED_EV_MAX] = {
    [SCHED_PENDING] =
        {
            [SCHED_EV_DEPS_MET] = TO(SCHED_READY),
            [SCHED_EV_SKIP] = TO(SCHED_SKIPPED),
            [SCHED_EV_CANCEL] = TO(SCHED_CANCELLED),
        },
    [SCHED_READY] =
        {
            [SCHED_EV_START] = TO(SCHED_RUNNING),
            [SCHED_EV_CANCEL] = TO(SCHED_CANCELLED),
        },
    [SCHED_RUNNING] =
        {
            [SCHED_EV_SUCCEED] = TO(SCHED_COMPLETED),
            [SCHED_EV_NEED_REVIEW] = TO(SCHED_PENDING_REVIEW),
            [SCHED_EV_FAIL] = TO(SCHED_FAILED),
            [SCHED_EV_BLOCK] = TO(SCHED_BLOCKED),
            [SCHED_EV_CANCEL] = TO(SCHED_CANCELLED),
        },
    [SCHED_BLOCKED] =
        {
            [SCHED_EV_UNBLOCK] = TO(SCHED_RUNNING),
            [SCHED_EV_CANCEL] = TO(SCHED_CANCELLED),
        },
    [SCHED_PENDING_REVIEW] =
        {
            [SCHED_EV_APPROVE] = TO(SCHED_COMPLETED),
            [SCHED_EV_REJECT] = TO(SCHED_REJECTED),
            [SCHED_EV_CANCEL] = TO(SCHED_CANCELLED),
        },
    [SCHED_FAILED] =
        {
            [SCHED_EV_RETRY] = TO(SCHED_READY),
            [SCHED_EV_CANCEL] = TO(SCHED_CANCELLED),
        },
    [SCHED_REJECTED] =
        {
            [SCHED_EV_RERUN] = TO(SCHED_READY),
            [SCHED_EV_CANCEL] = TO(SCHED_CANCELLED),
        },
    [SCHED_SKIPPED] =
        {
            [SCHED_EV_UNSKIP] = TO(SCHED_PENDING),
        },
    /* completed and cancelled accept no event. */
};

#undef TO

static const char *const state_names[SCHED_STATE_MAX] = {
    [SCHED_PENDING] = "pending",
    [SCHED_READY] = "ready",
    [SCHED_RUNNING] = "running",
    [SCHED_BLOCKED] = "blocked",
    [SCHED_PENDING_REVIEW] = "pending_review",
    [SCHED_COMPLETED] = "completed",
    [SCHED_FAILED] = "failed",
    [SCHED_REJECTED] = "rejected",
    [SCHED_CANCELLED] = "cancelled",
    [SCHED_SKIPPED] = "skipped",
};

static const char *const event_names[SCHED_EV_MAX] = {
    [SCHED_EV_DEPS_MET] = "deps_met", [SCHED_EV_START] = "start",
    [SCHED_EV_SUCCEED] = "succeed",   [SCHED_EV_NEED_REVIEW] = "need_review",
    [SCHED_EV_FAIL] = "fail",         [SCHED_EV_BLOCK] = "block",
    [SCHED_EV_UNBLOCK] = "unblock",   [SCHED_EV_APPROVE] = "approve",
    [SCHED_EV_REJECT] = "reject",     [SCHED_EV_RERUN] = "rerun",
    [SCHED_EV_RETRY] = "retry",       [SCHED_EV_SKIP] = "skip",
    [SCHED_EV_UNSKIP] = "unskip",     [SCHED_EV_CANCEL] = "cancel",
};

static const char *const stop_names[] = {
    [SCHED_STOP_NONE] = "none",
    [SCHED_STOP_TIMEOUT] = "timeout",
    [SCHED_STOP_IDLE] = "idle",
    [SCHED_STOP_CANCELLED] = "cancelled",
    [SCHED_STOP_HEARTBEAT] = "heartbeat-timeout",
    [SCHED_STOP_BUDGET] = "budget-exceeded",
};

const char *sched_state_name(enum sched_state st) {
  if ((unsigned)st >= SCHED_STATE_MAX)
    return "unknown";
  return state_names[st];
}

int sched_state_parse(enum sched_state *out, const char *name) {
  for (int i = 0; i < SCHED_STATE_MAX; i++) {
    if (name != NULL && strcmp(name, state_names[i]) == 0) {
      *out = (enum sched_state)i;
      return 0;
    }
  }
  return CRL_EPARSE;
}

const char *sched_event_name(enum sched_event ev) {
  if ((unsigned)ev >= SCHED_EV_MAX)
    return "unknown";
  return event_names[ev];
}

const char *sched_stop_reason_name(enum sched_stop_reason r) {
  if ((unsigned)r >= CRL_ARRAY_SIZE(stop_names))
    return "unknown";
  return stop_names[r];
}

int sched_state_is_terminal(enum sched_state st) {
  return st == SCHED_COMPLETED || st == SCHED_FAILED || st == SCHED_CANCELLED ||
         st == SCHED_SKIPPED;
}

int sched_state_next(enum sched_state *out, enum sched_state from,
                     enum sched_event ev) {
  unsigned char cell;

  if ((unsigned)from >= SCHED_STATE_MAX || (unsigned)ev >= SCHED_EV_MAX)
    return CRL_EINVALID_TRANSITION;
  cell = state_table[from][ev];
  if (cell == 0)
    return CRL_EINVALID_TRANSITION;
  *out = (enum sched_state)(cell - 1);
  return 0;
}
