#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sched-test.h"

static struct sched *s;

static void setup(void) {
  s = sched_new(NULL);
}

static void teardown(void) {
  sched_free(s);
}

TestSuite(sched_dag, .init = setup, .fini = teardown);

Test(sched_dag, add_returns_file_order_and_find_works) {
  cr_assert_eq(t_add(s, "a", "T", "claude"), 0);
  cr_assert_eq(t_add(s, "b", NULL, NULL), 1);
  cr_assert_eq(sched_task_count(s), 2);
  cr_assert_eq(sched_task_find(s, "b"), 1);
  cr_assert_eq(sched_task_find(s, "zz"), CRL_ETASK_NOT_FOUND);
  cr_assert_str_eq(sched_task_id(s, 0), "a");
  cr_assert_str_eq(sched_task_ticket(s, 0), "T");
  cr_assert_str_eq(sched_task_agent(s, 0), "claude");
  cr_assert_null(sched_task_ticket(s, 1));
  cr_assert_null(sched_task_agent(s, 1));
  cr_assert_eq(sched_task_state(s, 0), SCHED_PENDING);
}

Test(sched_dag, duplicate_id_is_refused) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;
  struct crl_err err = CRL_ERR_INIT;

  t_add(s, "a", NULL, NULL);
  o.id = "a";
  cr_assert_eq(sched_task_add(s, &o, &err), CRL_EDUPLICATE);
  cr_assert(strstr(err.msg, "\"a\"") != NULL, "%s", err.msg);
  o.id = NULL;
  cr_assert_eq(sched_task_add(s, &o, NULL), CRL_EVALIDATION_FAILED);
}

Test(sched_dag, unknown_dep_names_the_missing_id) {
  struct crl_err err = CRL_ERR_INIT;

  t_add(s, "a", NULL, NULL);
  cr_assert_eq(sched_dep_add(s, "a", "ghost", &err), CRL_ETASK_NOT_FOUND);
  cr_assert(strstr(err.msg, "ghost") != NULL, "%s", err.msg);
  cr_assert_eq(sched_dep_add(s, "nobody", "a", &err), CRL_ETASK_NOT_FOUND);
  cr_assert(strstr(err.msg, "nobody") != NULL, "%s", err.msg);
}

Test(sched_dag, cycle_is_named) {
  struct crl_err err = CRL_ERR_INIT;

  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_add(s, "c", NULL, NULL);
  t_dep(s, "a", "b");
  t_dep(s, "b", "c");
  t_dep(s, "c", "a");
  cr_assert_eq(sched_seal(s, &err), CRL_ECYCLE);
  cr_assert_eq(err.code, CRL_ECYCLE);
  cr_assert_str_eq(err.msg, "dependency cycle: a -> b -> c -> a");
}

Test(sched_dag, cycle_behind_other_tasks_starts_at_its_first_task) {
  struct crl_err err = CRL_ERR_INIT;

  t_add(s, "root", NULL, NULL);
  t_add(s, "ok", NULL, NULL);
  t_add(s, "p", NULL, NULL);
  t_add(s, "q", NULL, NULL);
  t_add(s, "r", NULL, NULL);
  t_dep(s, "root", "ok");
  t_dep(s, "root", "r");
  t_dep(s, "r", "q");
  t_dep(s, "q", "p");
  t_dep(s, "p", "r");
  cr_assert_eq(sched_seal(s, &err), CRL_ECYCLE);
  cr_assert_str_eq(err.msg, "dependency cycle: p -> r -> q -> p");
}

Test(sched_dag, self_dependency_is_a_cycle) {
  struct crl_err err = CRL_ERR_INIT;

  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_dep(s, "b", "a");
  t_dep(s, "b", "b");
  cr_assert_eq(sched_seal(s, &err), CRL_ECYCLE);
  cr_assert_str_eq(err.msg, "dependency cycle: b -> b");
}

Test(sched_dag, deps_are_listed_once) {
  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_add(s, "c", NULL, NULL);
  t_dep(s, "c", "a");
  t_dep(s, "c", "b");
  t_dep(s, "c", "a");
  t_seal(s);
  cr_assert_eq(sched_task_ndeps(s, 2), 2);
  cr_assert_eq(sched_task_dep(s, 2, 0), 0);
  cr_assert_eq(sched_task_dep(s, 2, 1), 1);
  cr_assert_eq(sched_task_ndeps(s, 0), 0);
}

Test(sched_dag, critical_path_uses_estimates) {
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

  /* design(1000) -> impl(5000) -> test(2000), and docs(500) beside. */
  o.id = "design";
  t_add_opts(s, &o);
  o.id = "impl";
  o.estimate_ms = 5000;
  t_add_opts(s, &o);
  o.id = "test";
  o.estimate_ms = 2000;
  t_add_opts(s, &o);
  o.id = "docs";
  o.estimate_ms = 500;
  t_add_opts(s, &o);
  t_dep(s, "impl", "design");
  t_dep(s, "test", "impl");
  t_dep(s, "docs", "design");
  t_seal(s);
  cr_assert_eq(sched_task_critical_path(s, 2), 2000);
  cr_assert_eq(sched_task_critical_path(s, 1), 7000);
  cr_assert_eq(sched_task_critical_path(s, 3), 500);
  cr_assert_eq(sched_task_critical_path(s, 0), 8000);
}

Test(sched_dag, sealed_graph_refuses_changes) {
  struct crl_err err = CRL_ERR_INIT;
  struct sched_task_opts o = SCHED_TASK_OPTS_INIT;

  t_add(s, "a", NULL, NULL);
  t_add(s, "b", NULL, NULL);
  t_seal(s);
  o.id = "c";
  cr_assert_eq(sched_task_add(s, &o, &err), CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_dep_add(s, "a", "b", NULL), CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_agent_add(s, "x", 1), CRL_EINVALID_TRANSITION);
  cr_assert_eq(sched_seal(s, NULL), CRL_EINVALID_TRANSITION);
}

Test(sched_dag, empty_graph_seals_and_is_idle) {
  struct sched_actions a;

  t_seal(s);
  sched_actions_init(&a);
  t_step(s, 0, &a);
  cr_assert_eq(a.n, 0);
  cr_assert(sched_idle(s));
  sched_actions_close(&a);
}

Test(sched_dag, long_chain_seals) {
  char id[32], prev[32];

  for (int i = 0; i < 20000; i++) {
    snprintf(id, sizeof(id), "t%d", i);
    t_add(s, id, NULL, NULL);
    if (i > 0)
      t_dep(s, id, prev);
    memcpy(prev, id, sizeof(id));
  }
  t_seal(s);
  cr_assert_eq(sched_task_critical_path(s, 0), 20000LL * 1000);
}
