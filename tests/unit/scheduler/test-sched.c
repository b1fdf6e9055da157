#include <criterion/criterion.h>
#include <string.h>

#include "sched-test.h"

static struct sched *s;
static struct sched_actions a;

static void setup(void) {
  s = sched_new(NULL);
  sched_actions_init(&a);
}

static void teardown(void) {
  sched_actions_close(&a);
  sched_free(s);
}

TestSuite(sched, .init = setup, .fini = teardown);

/* a -> b -> c, plus d needing a: a chain with a side branch. */
static void chain(void) {
  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_add(s, "c", NULL, NULL);
  t_add(s, "d", NULL, NULL);
  t_dep(s, "b", "a");
  t_dep(s, "c", "b");
  t_dep(s, "d", "a");
  t_seal(s);
}

static size_t add_limits(const char *id, int64_t timeout, int64_t idle) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

  o.id = id;
  o.timeout_ms = timeout;
  o.idle_timeout_ms = idle;
  return t_add_opts(s, &o);
}

Test(sched, step_before_seal_is_refused) {
  t_add(s, "a", NULL, NULL);
  cr_assert_eq(sched_step(s, 0, &a), CRL_EINVALID_TRANSITION);
}

Test(sched, first_step_readies_roots_and_starts_them) {
  chain();
  t_step(s, 0, &a);
  cr_assert_eq(a.n, 3);
  cr_assert(t_has_state(&a, 0, SCHED_PENDING, SCHED_READY));
  cr_assert(t_has_state(&a, 0, SCHED_READY, SCHED_RUNNING));
  cr_assert_eq(a.v[2].kind, SCHED_ACT_START);
  cr_assert_eq(a.v[2].task, 0);
  cr_assert_eq(sched_task_attempts(s, 0), 1);
  cr_assert_eq(sched_task_state(s, 1), SCHED_PENDING);
}

Test(sched, completion_readies_dependents_in_edge_order) {
  chain();
  t_step(s, 0, &a);
  t_end(s, 0, 10, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert_eq(a.n, 3);
  cr_assert_eq(a.v[0].task, 0);
  cr_assert_eq(a.v[0].to, SCHED_COMPLETED);
  cr_assert_eq(a.v[1].task, 1);
  cr_assert_eq(a.v[1].to, SCHED_READY);
  cr_assert_eq(a.v[2].task, 3);
  cr_assert_eq(a.v[2].to, SCHED_READY);
  t_step(s, 10, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 2);
}

Test(sched, run_ended_on_a_task_not_running_is_refused) {
  chain();
  t_step(s, 0, &a);
  cr_assert_eq(sched_run_ended(s, 1, 1, SCHED_OUTCOME_SUCCESS, &a),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_run_ended(s, 99, 1, SCHED_OUTCOME_SUCCESS, &a),
               CRL_ETASK_NOT_FOUND);
  t_end(s, 0, 1, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert_eq(sched_run_ended(s, 0, 1, SCHED_OUTCOME_SUCCESS, &a),
               CRL_EINVALID_TRANSITION);
}

Test(sched, failure_for_good_skips_transitive_dependents) {
  chain();
  t_step(s, 0, &a);
  t_end(s, 0, 5, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_eq(a.n, 4);
  cr_assert(t_has_state(&a, 0, SCHED_RUNNING, SCHED_FAILED));
  cr_assert(t_has_state(&a, 1, SCHED_PENDING, SCHED_SKIPPED));
  cr_assert(t_has_state(&a, 3, SCHED_PENDING, SCHED_SKIPPED));
  cr_assert(t_has_state(&a, 2, SCHED_PENDING, SCHED_SKIPPED));
  /* Breadth first: the direct dependents come before c. */
  cr_assert_eq(a.v[3].task, 2);
  cr_assert(sched_idle(s));
}

Test(sched, skip_stops_at_tasks_with_another_path) {
  t_add(s, "good", NULL, NULL);
  t_add(s, "bad", NULL, NULL);
  t_add(s, "join", NULL, NULL);
  t_add(s, "other", NULL, NULL);
  t_dep(s, "join", "good");
  t_dep(s, "join", "bad");
  t_dep(s, "other", "good");
  t_seal(s);
  t_step(s, 0, &a);
  t_end(s, 1, 5, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_eq(sched_task_state(s, 2), SCHED_SKIPPED);
  t_end(s, 0, 6, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert_eq(sched_task_state(s, 2), SCHED_SKIPPED);
  cr_assert_eq(sched_task_state(s, 3), SCHED_READY);
}

Test(sched, cancel_running_stops_once_then_cancels) {
  chain();
  t_step(s, 0, &a);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_cancel(s, 0, 1, &a), 0);
  cr_assert_eq(a.n, 1);
  cr_assert_eq(a.v[0].kind, SCHED_ACT_STOP);
  cr_assert_eq(a.v[0].reason, SCHED_STOP_CANCELLED);
  cr_assert_eq(sched_task_state(s, 0), SCHED_RUNNING);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_cancel(s, 0, 2, &a), 0);
  cr_assert_eq(a.n, 0, "a second cancel emits nothing");
  /* Even a run that reports success ends cancelled once stopped for it. */
  t_end(s, 0, 3, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert(t_has_state(&a, 0, SCHED_RUNNING, SCHED_CANCELLED));
  cr_assert_eq(sched_task_state(s, 1), SCHED_SKIPPED);
  cr_assert_eq(sched_task_state(s, 2), SCHED_SKIPPED);
  cr_assert_eq(sched_task_state(s, 3), SCHED_SKIPPED);
  cr_assert(sched_idle(s));
}

Test(sched, cancel_waiting_tasks_at_once) {
  chain();
  t_step(s, 0, &a);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_cancel(s, 1, 1, &a), 0);
  cr_assert_eq(a.n, 2);
  cr_assert(t_has_state(&a, 1, SCHED_PENDING, SCHED_CANCELLED));
  cr_assert(t_has_state(&a, 2, SCHED_PENDING, SCHED_SKIPPED));
  cr_assert_eq(sched_task_cancel(s, 1, 1, &a), CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_task_cancel(s, 2, 1, &a), CRL_EINVALID_TRANSITION);
  t_end(s, 0, 2, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert_eq(sched_task_state(s, 3), SCHED_READY);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_cancel(s, 3, 3, &a), 0);
  cr_assert(t_has_state(&a, 3, SCHED_READY, SCHED_CANCELLED));
  cr_assert_eq(sched_task_cancel(s, 0, 3, &a), CRL_EINVALID_TRANSITION,
               "completed cannot be cancelled");
  t_step(s, 3, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 0);
  cr_assert(sched_idle(s));
}

Test(sched, cancel_failed_task_waiting_for_retry) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

  o.id = "a";
  o.retry.max = 3;
  t_add_opts(s, &o);
  t_seal(s);
  t_step(s, 0, &a);
  t_end(s, 0, 1, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_gt(sched_task_retry_at(s, 0), 0);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_cancel(s, 0, 2, &a), 0);
  cr_assert(t_has_state(&a, 0, SCHED_FAILED, SCHED_CANCELLED));
  cr_assert_eq(sched_task_retry_at(s, 0), -1);
  t_step(s, 1000000, &a);
  cr_assert_eq(a.n, 0);
  cr_assert(sched_idle(s));
}

Test(sched, cancel_all_cancels_everything_live) {
  chain();
  t_step(s, 0, &a);
  sched_actions_reset(&a);
  cr_assert_eq(sched_cancel_all(s, 1, &a), 0);
  cr_assert_eq(a.n, 4);
  cr_assert_eq(a.v[0].kind, SCHED_ACT_STOP);
  cr_assert(t_has_state(&a, 1, SCHED_PENDING, SCHED_CANCELLED));
  cr_assert(t_has_state(&a, 2, SCHED_PENDING, SCHED_CANCELLED));
  cr_assert(t_has_state(&a, 3, SCHED_PENDING, SCHED_CANCELLED));
  cr_assert_not(sched_idle(s));
  sched_actions_reset(&a);
  cr_assert_eq(sched_cancel_all(s, 2, &a), 0);
  cr_assert_eq(a.n, 0, "idempotent");
  t_end(s, 0, 3, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_eq(a.n, 1);
  cr_assert(t_has_state(&a, 0, SCHED_RUNNING, SCHED_CANCELLED));
  cr_assert(sched_idle(s));
}

Test(sched, wall_timeout_stops_once_and_fails) {
  add_limits("a", 5000, 0);
  t_seal(s);
  t_step(s, 1000, &a);
  cr_assert_eq(t_wake(&a), 6000);
  t_step(s, 5999, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_STOP), 0);
  t_step(s, 6000, &a);
  cr_assert_eq(a.n, 1);
  cr_assert_eq(a.v[0].kind, SCHED_ACT_STOP);
  cr_assert_eq(a.v[0].reason, SCHED_STOP_TIMEOUT);
  t_step(s, 7000, &a);
  cr_assert_eq(a.n, 0, "no second STOP and no WAKE while stopping");
  /* The run was killed: even a clean exit counts as a failure. */
  t_end(s, 0, 7100, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert(t_has_state(&a, 0, SCHED_RUNNING, SCHED_FAILED));
}

Test(sched, idle_timeout_and_activity) {
  add_limits("a", 10000, 2000);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(t_wake(&a), 2000);
  sched_task_activity(s, 0, 1500);
  t_step(s, 2000, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_STOP), 0);
  cr_assert_eq(t_wake(&a), 3500);
  t_step(s, 3500, &a);
  cr_assert_eq(a.n, 1);
  cr_assert_eq(a.v[0].reason, SCHED_STOP_IDLE);
  sched_task_activity(s, 0, 3600);
  t_step(s, 20000, &a);
  cr_assert_eq(a.n, 0, "a stopping run is not stopped again");
}

Test(sched, cancel_during_timeout_stop_ends_cancelled) {
  add_limits("a", 100, 0);
  t_seal(s);
  t_step(s, 0, &a);
  t_step(s, 100, &a);
  cr_assert_eq(a.v[0].reason, SCHED_STOP_TIMEOUT);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_cancel(s, 0, 101, &a), 0);
  cr_assert_eq(a.n, 0);
  t_end(s, 0, 102, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_eq(sched_task_state(s, 0), SCHED_CANCELLED);
}

Test(sched, blocked_run_has_no_idle_deadline) {
  add_limits("a", 10000, 1000);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(sched_task_block(s, 0, 500, &a), 0);
  t_step(s, 5000, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_STOP), 0);
  cr_assert_eq(t_wake(&a), 10000);
  cr_assert_eq(sched_task_unblock(s, 0, 6000, &a), 0);
  t_step(s, 6000, &a);
  cr_assert_eq(t_wake(&a), 7000);
  t_step(s, 10000, &a);
  cr_assert_eq(a.v[0].reason, SCHED_STOP_TIMEOUT);
}

Test(sched, wake_is_earliest_deadline_or_none) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

  add_limits("long", 90000, 0);
  o.id = "retry";
  o.retry.max = 1;
  o.retry.floor_ms = 500;
  t_add_opts(s, &o);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_WAKE), 1);
  cr_assert_eq(t_wake(&a), 90000);
  t_end(s, 1, 100, SCHED_OUTCOME_FAILURE, &a);
  t_step(s, 100, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_WAKE), 1);
  cr_assert_eq(t_wake(&a), sched_task_retry_at(s, 1));
  cr_assert_lt(t_wake(&a), 700);
  t_end(s, 0, 200, SCHED_OUTCOME_SUCCESS, &a);
  t_step(s, sched_task_retry_at(s, 1), &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 1);
  cr_assert_eq(t_wake(&a), -1, "no limits left: no WAKE");
  cr_assert_eq(a.v[a.n - 1].kind, SCHED_ACT_START);
}

Test(sched, review_approve_and_reject) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

  o.id = "design";
  o.review = 1;
  t_add_opts(s, &o);
  t_add(s, "impl", NULL, NULL);
  t_dep(s, "impl", "design");
  t_seal(s);
  t_step(s, 0, &a);
  t_end(s, 0, 1, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert(t_has_state(&a, 0, SCHED_RUNNING, SCHED_PENDING_REVIEW));
  cr_assert(sched_idle(s), "only a review is left");
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_reject(s, 0, 2, &a), 0);
  cr_assert_eq(a.n, 2);
  cr_assert(t_has_state(&a, 0, SCHED_PENDING_REVIEW, SCHED_REJECTED));
  cr_assert(t_has_state(&a, 0, SCHED_REJECTED, SCHED_READY));
  cr_assert_eq(sched_task_approve(s, 0, 2, &a), CRL_EINVALID_TRANSITION);
  t_step(s, 3, &a);
  cr_assert_eq(a.v[t_find(&a, SCHED_ACT_START, 0, 0)].attempt, 2);
  t_end(s, 0, 4, SCHED_OUTCOME_SUCCESS, &a);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_approve(s, 0, 5, &a), 0);
  cr_assert(t_has_state(&a, 0, SCHED_PENDING_REVIEW, SCHED_COMPLETED));
  cr_assert(t_has_state(&a, 1, SCHED_PENDING, SCHED_READY));
  cr_assert_eq(sched_task_reject(s, 0, 5, &a), CRL_EINVALID_TRANSITION);
}

Test(sched, a_review_outcome_holds_a_task_without_review) {
  t_add(s, "big", NULL, NULL);
  t_add(s, "next", NULL, NULL);
  t_dep(s, "next", "big");
  t_seal(s);
  t_step(s, 0, &a);
  t_end(s, 0, 1, SCHED_OUTCOME_REVIEW, &a);
  cr_assert(t_has_state(&a, 0, SCHED_RUNNING, SCHED_PENDING_REVIEW));
  cr_assert_eq(sched_task_state(s, 1), SCHED_PENDING, "dependents wait");
  cr_assert(sched_idle(s), "only a review is left");
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_approve(s, 0, 2, &a), 0);
  cr_assert(t_has_state(&a, 1, SCHED_PENDING, SCHED_READY));
}

Test(sched, restore_resumes_a_mission) {
  struct sched_opts so = SCHED_OPTS_INIT;
  struct crl_err err = CRL_ERR_INIT;

  sched_free(s);
  so.jobs = 1;
  s = sched_new(&so);
  add_limits("done", 0, 0);
  add_limits("live", 5000, 0);
  add_limits("broke", 0, 0);
  add_limits("after", 0, 0);
  t_dep(s, "after", "done");
  t_dep(s, "after", "live");
  cr_assert_eq(sched_task_restore(s, 0, SCHED_COMPLETED, 1, 0, &err),
               CRL_EINVALID_TRANSITION, "not sealed yet");
  t_seal(s);
  cr_assert_eq(sched_task_restore(s, 0, SCHED_COMPLETED, 1, 0, &err), 0);
  cr_assert_eq(sched_task_restore(s, 1, SCHED_RUNNING, 2, 1000, &err), 0);
  cr_assert_eq(sched_task_restore(s, 2, SCHED_FAILED, 3, 0, &err), 0);
  cr_assert_eq(sched_task_restore(s, 2, SCHED_FAILED, -1, 0, &err),
               CRL_EVALIDATION_FAILED);
  cr_assert_eq(sched_task_restore(s, 9, SCHED_FAILED, 3, 0, &err),
               CRL_ETASK_NOT_FOUND);
  cr_assert_eq(sched_task_state(s, 2), SCHED_PENDING);
  cr_assert_eq(sched_task_attempts(s, 1), 2);
  t_step(s, 2000, &a);
  /* live holds the only job; broke is ready and waits; the deadline of live
   * counts from its original start. */
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 0);
  cr_assert_eq(sched_task_state(s, 2), SCHED_READY);
  cr_assert_eq(t_wake(&a), 6000);
  cr_assert_eq(sched_task_restore(s, 3, SCHED_PENDING, 0, 0, &err),
               CRL_EINVALID_TRANSITION, "too late");
  t_end(s, 1, 3000, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert(t_has_state(&a, 3, SCHED_PENDING, SCHED_READY));
  t_step(s, 3000, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 1);
  cr_assert_eq(a.v[t_find(&a, SCHED_ACT_START, 2, 0)].attempt, 4);
}

Test(sched, restore_again_replaces_the_first_restore) {
  struct sched_opts so = SCHED_OPTS_INIT;

  sched_free(s);
  so.jobs = 1;
  s = sched_new(&so);
  t_add(s, "a", "T", NULL);
  t_add(s, "b", "T", NULL);
  t_add(s, "c", NULL, NULL);
  t_dep(s, "c", "a");
  t_seal(s);
  /* The runtime restores rows first, then live runs. */
  cr_assert_eq(sched_task_restore(s, 0, SCHED_COMPLETED, 1, 0, NULL), 0);
  cr_assert_eq(sched_task_restore(s, 0, SCHED_PENDING, 1, 0, NULL), 0);
  cr_assert_eq(sched_task_restore(s, 1, SCHED_PENDING, 1, 0, NULL), 0);
  cr_assert_eq(sched_task_restore(s, 1, SCHED_RUNNING, 1, 100, NULL), 0);
  t_step(s, 200, &a);
  cr_assert_eq(sched_task_state(s, 0), SCHED_READY, "ticket T is busy");
  cr_assert_eq(sched_task_state(s, 2), SCHED_PENDING, "a is not done");
  t_end(s, 1, 300, SCHED_OUTCOME_SUCCESS, &a);
  t_step(s, 300, &a);
  cr_assert_eq(a.v[t_find(&a, SCHED_ACT_START, 0, 0)].attempt, 2);
}

Test(sched, restored_failed_task_gets_a_fresh_retry_budget) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

  o.id = "a";
  o.retry.max = 1;
  t_add_opts(s, &o);
  t_seal(s);
  cr_assert_eq(sched_task_restore(s, 0, SCHED_FAILED, 2, 0, NULL), 0);
  t_step(s, 0, &a);
  t_end(s, 0, 1, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_geq(sched_task_retry_at(s, 0), 0);
}

Test(sched, restored_review_waits_for_a_decision) {
  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_dep(s, "b", "a");
  t_seal(s);
  cr_assert_eq(sched_task_restore(s, 0, SCHED_PENDING_REVIEW, 1, 0, NULL), 0);
  t_step(s, 0, &a);
  cr_assert_eq(a.n, 0);
  cr_assert(sched_idle(s));
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_approve(s, 0, 1, &a), 0);
  cr_assert_eq(sched_task_state(s, 1), SCHED_READY);
}

Test(sched, counts_track_states) {
  struct sched_counts c;

  chain();
  t_step(s, 0, &a);
  sched_counts(s, &c);
  cr_assert_eq(c.by_state[SCHED_RUNNING], 1);
  cr_assert_eq(c.by_state[SCHED_PENDING], 3);
  t_end(s, 0, 1, SCHED_OUTCOME_SUCCESS, &a);
  sched_counts(s, &c);
  cr_assert_eq(c.by_state[SCHED_COMPLETED], 1);
  cr_assert_eq(c.by_state[SCHED_READY], 2);
  cr_assert_eq(c.by_state[SCHED_PENDING], 1);
}

Test(sched, actions_carry_now) {
  chain();
  t_step(s, 1234, &a);
  for (size_t i = 0; i < a.n; i++)
    cr_assert_eq(a.v[i].at, 1234);
}

Test(sched, a_manual_retry_readies_a_failed_task_and_unskips_below) {
  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_add(s, "c", NULL, NULL);
  t_dep(s, "b", "a");
  t_dep(s, "c", "b");
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(sched_task_retry(s, 0, 0, &a), CRL_EINVALID_TRANSITION);
  t_end(s, 0, 1, SCHED_OUTCOME_FAILURE, &a);
  cr_assert_eq(sched_task_state(s, 2), SCHED_SKIPPED);
  cr_assert(sched_idle(s));
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_retry(s, 0, 2, &a), 0);
  cr_assert(t_has_state(&a, 1, SCHED_SKIPPED, SCHED_PENDING));
  cr_assert(t_has_state(&a, 2, SCHED_SKIPPED, SCHED_PENDING));
  cr_assert(t_has_state(&a, 0, SCHED_FAILED, SCHED_READY));
  t_step(s, 3, &a);
  t_end(s, 0, 4, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert_eq(sched_task_state(s, 1), SCHED_READY);
}

Test(sched, paused_starts_nothing_until_resumed) {
  t_add(s, "a", NULL, NULL);
  t_seal(s);
  sched_pause(s, 1);
  cr_assert(sched_paused(s));
  t_step(s, 0, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 0);
  sched_pause(s, 0);
  t_step(s, 1, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 1);
}

Test(sched, a_discovered_task_joins_the_live_graph) {
  struct sched_discover d = {SCHED_TASK_OPTS_INIT, NULL, 0, NULL, 0, 0};
  const char *needs[] = {"a"}, *before[] = {"c"};
  struct crl_err err = CRL_ERR_INIT;
  int n;

  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_add(s, "c", NULL, NULL);
  t_dep(s, "b", "a");
  t_dep(s, "c", "b");
  t_seal(s);
  t_step(s, 0, &a);
  d.opts.id = "n";
  d.needs = needs;
  d.nneeds = 1;
  d.before = before;
  d.nbefore = 1;
  n = sched_task_discover(s, &d, 1, &a, &err);
  cr_assert_eq(n, 3, "%s", err.msg);
  cr_assert_eq(sched_task_state(s, 3), SCHED_PENDING, "waits for a");
  t_end(s, 0, 2, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert_eq(sched_task_state(s, 3), SCHED_READY);
  t_step(s, 3, &a);
  t_end(s, 1, 4, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert_eq(sched_task_state(s, 2), SCHED_PENDING, "c waits for n too");
}

Test(sched, a_discovered_task_that_closes_a_cycle_is_refused) {
  struct sched_discover d = {SCHED_TASK_OPTS_INIT, NULL, 0, NULL, 0, 0};
  const char *needs[] = {"c"}, *before[] = {"b"}, *ghost[] = {"zz"};
  struct crl_err err = CRL_ERR_INIT;

  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_add(s, "c", NULL, NULL);
  t_dep(s, "b", "a");
  t_dep(s, "c", "b");
  t_seal(s);
  t_step(s, 0, &a);
  d.opts.id = "n";
  d.needs = needs;
  d.nneeds = 1;
  d.before = before;
  d.nbefore = 1;
  cr_assert_eq(sched_task_discover(s, &d, 1, &a, &err), CRL_ECYCLE);
  cr_assert_str_eq(err.msg, "dependency cycle: n -> c -> ... -> b -> n");
  cr_assert_eq(sched_task_count(s), 3, "nothing added");
  d.needs = ghost;
  d.nbefore = 0;
  cr_assert_eq(sched_task_discover(s, &d, 1, &a, &err), CRL_ETASK_NOT_FOUND);
  d.nneeds = 0;
  d.opts.id = "a";
  cr_assert_eq(sched_task_discover(s, &d, 1, &a, &err), CRL_EDUPLICATE);
}
