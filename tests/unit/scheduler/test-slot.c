#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sched-test.h"

static struct sched *s;
static struct sched_actions a;

static void make(int jobs) {
  struct sched_opts o = SCHED_OPTS_INIT;

  o.jobs = jobs;
  s = sched_new(&o);
  sched_actions_init(&a);
}

static void teardown(void) {
  sched_actions_close(&a);
  sched_free(s);
}

static size_t nrunning(void) {
  struct sched_counts c;

  sched_counts(s, &c);
  return c.by_state[SCHED_RUNNING] + c.by_state[SCHED_BLOCKED];
}

Test(sched_slot, global_jobs_limit, .fini = teardown) {
  make(2);
  for (int i = 0; i < 5; i++) {
    char id[8];

    snprintf(id, sizeof(id), "t%d", i);
    t_add(s, id, NULL, NULL);
  }
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 2);
  t_step(s, 1, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 0);
  t_end(s, 0, 2, SCHED_OUTCOME_SUCCESS, &a);
  t_step(s, 2, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 1);
  cr_assert_eq(nrunning(), 2);
}

Test(sched_slot, agent_capacity, .fini = teardown) {
  make(0);
  cr_assert_eq(sched_agent_add(s, "claude", 2), 0);
  cr_assert_eq(sched_agent_add(s, "free", 0), 0);
  for (int i = 0; i < 4; i++) {
    char id[8];

    snprintf(id, sizeof(id), "c%d", i);
    t_add(s, id, NULL, "claude");
    snprintf(id, sizeof(id), "f%d", i);
    t_add(s, id, NULL, "free");
    snprintf(id, sizeof(id), "u%d", i);
    t_add(s, id, NULL, "undeclared");
  }
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 10);
  for (size_t i = 0; i < a.n; i++)
    if (a.v[i].kind == SCHED_ACT_START &&
        strcmp(sched_task_agent(s, a.v[i].task), "claude") == 0)
      cr_assert(a.v[i].task == 0 || a.v[i].task == 3);
  t_end(s, 0, 1, SCHED_OUTCOME_FAILURE, &a);
  t_step(s, 1, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 1);
  cr_assert_eq(t_find(&a, SCHED_ACT_START, 6, 0), 1);
}

Test(sched_slot, agent_declared_twice_is_refused, .fini = teardown) {
  make(0);
  cr_assert_eq(sched_agent_add(s, "x", 1), 0);
  cr_assert_eq(sched_agent_add(s, "x", 2), CRL_EDUPLICATE);
  cr_assert_eq(sched_agent_add(s, "y", -1), CRL_EVALIDATION_FAILED);
  cr_assert_eq(sched_agent_add(s, NULL, 1), CRL_EVALIDATION_FAILED);
}

Test(sched_slot, agent_declared_after_its_tasks, .fini = teardown) {
  make(0);
  t_add(s, "a", NULL, "late");
  t_add(s, "b", NULL, "late");
  cr_assert_eq(sched_agent_add(s, "late", 1), 0);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 1);
}

Test(sched_slot, one_running_task_per_ticket, .fini = teardown) {
  make(0);
  t_add(s, "a1", "A", NULL);
  t_add(s, "a2", "A", NULL);
  t_add(s, "b1", "B", NULL);
  t_add(s, "n1", NULL, NULL);
  t_add(s, "n2", NULL, NULL);
  t_seal(s);
  t_step(s, 0, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 4);
  cr_assert_lt(t_find(&a, SCHED_ACT_START, 1, 0), 0);
  t_end(s, 0, 1, SCHED_OUTCOME_SUCCESS, &a);
  t_step(s, 1, &a);
  cr_assert_geq(t_find(&a, SCHED_ACT_START, 1, 0), 0);
}

Test(sched_slot, blocked_task_keeps_its_slots, .fini = teardown) {
  make(1);
  t_add(s, "a", "T", NULL);
  t_add(s, "b", "T", NULL);
  t_seal(s);
  t_step(s, 0, &a);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_block(s, 0, 1, &a), 0);
  cr_assert(t_has_state(&a, 0, SCHED_RUNNING, SCHED_BLOCKED));
  cr_assert_eq(sched_task_block(s, 0, 1, &a), CRL_EINVALID_TRANSITION);
  t_step(s, 2, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 0);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_unblock(s, 0, 3, &a), 0);
  cr_assert(t_has_state(&a, 0, SCHED_BLOCKED, SCHED_RUNNING));
  cr_assert_eq(sched_task_unblock(s, 0, 3, &a), CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_task_block(s, 0, 4, &a), 0);
  /* A blocked run that ends passes through running. */
  t_end(s, 0, 5, SCHED_OUTCOME_SUCCESS, &a);
  cr_assert(t_has_state(&a, 0, SCHED_BLOCKED, SCHED_RUNNING));
  cr_assert(t_has_state(&a, 0, SCHED_RUNNING, SCHED_COMPLETED));
  t_step(s, 5, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 1);
}

Test(sched_slot, cancelled_run_frees_slots_only_when_it_ends,
     .fini = teardown) {
  make(1);
  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_seal(s);
  t_step(s, 0, &a);
  sched_actions_reset(&a);
  cr_assert_eq(sched_task_cancel(s, 0, 1, &a), 0);
  t_step(s, 1, &a);
  cr_assert_eq(t_count(&a, SCHED_ACT_START), 0);
  t_end(s, 0, 2, SCHED_OUTCOME_FAILURE, &a);
  t_step(s, 2, &a);
  cr_assert_eq(t_find(&a, SCHED_ACT_START, 1, 0), 1);
}
