#include <criterion/criterion.h>
#include <string.h>

#include "scheduler/sched.h"

struct cell {
  enum sched_state from;
  enum sched_event ev;
  enum sched_state to;
};

static const struct cell legal[] = {
    {SCHED_PENDING, SCHED_EV_DEPS_MET, SCHED_READY},
    {SCHED_PENDING, SCHED_EV_SKIP, SCHED_SKIPPED},
    {SCHED_PENDING, SCHED_EV_CANCEL, SCHED_CANCELLED},
    {SCHED_READY, SCHED_EV_START, SCHED_RUNNING},
    {SCHED_READY, SCHED_EV_CANCEL, SCHED_CANCELLED},
    {SCHED_RUNNING, SCHED_EV_SUCCEED, SCHED_COMPLETED},
    {SCHED_RUNNING, SCHED_EV_NEED_REVIEW, SCHED_PENDING_REVIEW},
    {SCHED_RUNNING, SCHED_EV_FAIL, SCHED_FAILED},
    {SCHED_RUNNING, SCHED_EV_BLOCK, SCHED_BLOCKED},
    {SCHED_RUNNING, SCHED_EV_CANCEL, SCHED_CANCELLED},
    {SCHED_BLOCKED, SCHED_EV_UNBLOCK, SCHED_RUNNING},
    {SCHED_BLOCKED, SCHED_EV_CANCEL, SCHED_CANCELLED},
    {SCHED_PENDING_REVIEW, SCHED_EV_APPROVE, SCHED_COMPLETED},
    {SCHED_PENDING_REVIEW, SCHED_EV_REJECT, SCHED_REJECTED},
    {SCHED_PENDING_REVIEW, SCHED_EV_CANCEL, SCHED_CANCELLED},
    {SCHED_FAILED, SCHED_EV_RETRY, SCHED_READY},
    {SCHED_FAILED, SCHED_EV_CANCEL, SCHED_CANCELLED},
    {SCHED_REJECTED, SCHED_EV_RERUN, SCHED_READY},
    {SCHED_REJECTED, SCHED_EV_CANCEL, SCHED_CANCELLED},
    {SCHED_SKIPPED, SCHED_EV_UNSKIP, SCHED_PENDING},
};

static const struct cell *legal_find(enum sched_state from,
                                     enum sched_event ev) {
  for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
    if (legal[i].from == from && legal[i].ev == ev)
      return &legal[i];
  return NULL;
}

Test(sched_state, every_legal_cell) {
  for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++) {
    enum sched_state to = SCHED_STATE_MAX;

    cr_assert_eq(sched_state_next(&to, legal[i].from, legal[i].ev), 0,
                 "%s + %s", sched_state_name(legal[i].from),
                 sched_event_name(legal[i].ev));
    cr_assert_eq(to, legal[i].to, "%s + %s -> %s",
                 sched_state_name(legal[i].from), sched_event_name(legal[i].ev),
                 sched_state_name(to));
  }
}

Test(sched_state, every_other_cell_is_illegal_and_leaves_out) {
  size_t nillegal = 0;

  for (int st = 0; st < SCHED_STATE_MAX; st++) {
    for (int ev = 0; ev < SCHED_EV_MAX; ev++) {
      enum sched_state to = SCHED_STATE_MAX;

      if (legal_find(st, ev) != NULL)
        continue;
      cr_assert_eq(sched_state_next(&to, st, ev), CRL_EINVALID_TRANSITION,
                   "%s + %s", sched_state_name(st), sched_event_name(ev));
      cr_assert_eq(to, SCHED_STATE_MAX);
      nillegal++;
    }
  }
  cr_assert_eq(nillegal, SCHED_STATE_MAX * SCHED_EV_MAX - 20);
}

Test(sched_state, sample_of_illegal_cells) {
  enum sched_state to;

  cr_assert_eq(sched_state_next(&to, SCHED_PENDING, SCHED_EV_START),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_state_next(&to, SCHED_COMPLETED, SCHED_EV_CANCEL),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_state_next(&to, SCHED_CANCELLED, SCHED_EV_CANCEL),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_state_next(&to, SCHED_SKIPPED, SCHED_EV_CANCEL),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_state_next(&to, SCHED_READY, SCHED_EV_SKIP),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_state_next(&to, SCHED_FAILED, SCHED_EV_RERUN),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_state_next(&to, SCHED_RUNNING, SCHED_EV_RETRY),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_state_next(&to, SCHED_BLOCKED, SCHED_EV_SUCCEED),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_state_next(&to, SCHED_STATE_MAX, SCHED_EV_CANCEL),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_state_next(&to, SCHED_PENDING, SCHED_EV_MAX),
               CRL_EINVALID_TRANSITION);
}

Test(sched_state, cancel_legal_from_exactly_the_live_states) {
  static const enum sched_state live[] = {
      SCHED_PENDING,        SCHED_READY,  SCHED_RUNNING, SCHED_BLOCKED,
      SCHED_PENDING_REVIEW, SCHED_FAILED, SCHED_REJECTED};
  int n = 0;

  for (int st = 0; st < SCHED_STATE_MAX; st++) {
    enum sched_state to;

    if (sched_state_next(&to, st, SCHED_EV_CANCEL) == 0) {
      cr_assert_eq(to, SCHED_CANCELLED);
      cr_assert_eq(st, live[n]);
      n++;
    }
  }
  cr_assert_eq(n, 7);
}

Test(sched_state, names_round_trip) {
  for (int st = 0; st < SCHED_STATE_MAX; st++) {
    enum sched_state back = SCHED_STATE_MAX;

    cr_assert_eq(sched_state_parse(&back, sched_state_name(st)), 0);
    cr_assert_eq(back, st);
  }
  cr_assert_str_eq(sched_state_name(SCHED_PENDING_REVIEW), "pending_review");
  cr_assert_str_eq(sched_state_name(SCHED_STATE_MAX), "unknown");
  cr_assert_str_eq(sched_event_name(SCHED_EV_DEPS_MET), "deps_met");
  cr_assert_str_eq(sched_event_name(SCHED_EV_MAX), "unknown");
  cr_assert_str_eq(sched_stop_reason_name(SCHED_STOP_IDLE), "idle");
  cr_assert_str_eq(sched_stop_reason_name(SCHED_STOP_CANCELLED), "cancelled");
}

Test(sched_state, parse_rejects_unknown) {
  enum sched_state st = SCHED_READY;

  cr_assert_eq(sched_state_parse(&st, "done"), CRL_EPARSE);
  cr_assert_eq(sched_state_parse(&st, NULL), CRL_EPARSE);
  cr_assert_eq(st, SCHED_READY);
}

Test(sched_state, terminal_states) {
  cr_assert(sched_state_is_terminal(SCHED_COMPLETED));
  cr_assert(sched_state_is_terminal(SCHED_FAILED));
  cr_assert(sched_state_is_terminal(SCHED_CANCELLED));
  cr_assert(sched_state_is_terminal(SCHED_SKIPPED));
  cr_assert_not(sched_state_is_terminal(SCHED_PENDING));
  cr_assert_not(sched_state_is_terminal(SCHED_RUNNING));
  cr_assert_not(sched_state_is_terminal(SCHED_PENDING_REVIEW));
  cr_assert_not(sched_state_is_terminal(SCHED_REJECTED));
}
