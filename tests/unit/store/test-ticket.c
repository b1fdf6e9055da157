/*
 * The git side of tickets and missions (migration 3): a ticket's branch and
 * recorded head, its merge state with a detail and the merged head, the
 * mission's repository and base joined into every ticket row, and a task's
 * review feedback.
 */
#include "store-fixture.h"

TestSuite(store_ticket, .init = fx_setup, .fini = fx_teardown);

Test(store_ticket, new_ticket_is_open_with_no_branch) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_ticket t;

  fx_mission_abc();
  cr_assert_eq(store_ticket_get(fx_st, "m", "T", &t, &err), 0, "%s", err.msg);
  cr_assert_str_eq(t.state, "open");
  cr_assert_null(t.branch);
  cr_assert_null(t.head);
  cr_assert_null(t.repo);
  cr_assert_eq(store_ticket_get(fx_st, "m", "NOPE", &t, &err), CRL_ENOT_FOUND);
}

Test(store_ticket, head_state_and_repo_round_trip) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_ticket t;
  struct store_mission m;

  fx_mission_abc();
  cr_assert_eq(
      store_mission_set_repo(fx_st, "m", "/r", "refs/heads/main", &err), 0);
  cr_assert_eq(store_ticket_set_head(fx_st, "m", "T", "corral/m/T",
                                     "0123456789012345678901234567890123456789",
                                     &err),
               0);
  cr_assert_eq(store_ticket_set_state(fx_st, "m", "T", "conflict",
                                      "{\"paths\":[\"a\"]}", NULL, &err),
               0);
  cr_assert_eq(store_ticket_get(fx_st, "m", "T", &t, &err), 0);
  cr_assert_str_eq(t.branch, "corral/m/T");
  cr_assert_str_eq(t.head, "0123456789012345678901234567890123456789");
  cr_assert_str_eq(t.state, "conflict");
  cr_assert_str_eq(t.detail, "{\"paths\":[\"a\"]}");
  cr_assert_null(t.merged);
  cr_assert_str_eq(t.repo, "/r");
  cr_assert_str_eq(t.base, "refs/heads/main");
  cr_assert_eq(
      store_ticket_set_state(fx_st, "m", "T", "merged", NULL, "abc", &err), 0);
  cr_assert_eq(
      store_ticket_set_state(fx_st, "m", "T", "merged", NULL, NULL, &err), 0);
  cr_assert_eq(store_ticket_get(fx_st, "m", "T", &t, &err), 0);
  cr_assert_str_eq(t.merged, "abc", "a NULL merged keeps the old one");
  cr_assert_null(t.detail);
  cr_assert_eq(store_mission_get(fx_st, "m", &m, &err), 0);
  cr_assert_str_eq(m.repo, "/r");
}

static int count_cb(const struct store_ticket *t, void *payload) {
  (*(int *)payload)++;
  return 0;
}

Test(store_ticket, unknown_rows_are_not_found_and_lists_filter) {
  struct crl_err err = CRL_ERR_INIT;
  int n = 0;

  fx_mission_abc();
  cr_assert_eq(store_ticket_set_head(fx_st, "m", "X", "b", "h", &err),
               CRL_ENOT_FOUND);
  cr_assert_eq(
      store_ticket_set_state(fx_st, "x", "T", "merged", NULL, NULL, &err),
      CRL_ENOT_FOUND);
  cr_assert_eq(store_mission_set_repo(fx_st, "x", "/r", "b", &err),
               CRL_EMISSION_NOT_FOUND);
  cr_assert_eq(store_ticket_list(fx_st, "m", count_cb, &n), 0);
  cr_assert_eq(n, 1);
  cr_assert_eq(store_ticket_list(fx_st, "other", count_cb, &n), 0);
  cr_assert_eq(n, 1);
  cr_assert_eq(store_ticket_list(fx_st, NULL, count_cb, &n), 0);
  cr_assert_eq(n, 2);
}

Test(store_ticket, task_feedback_is_kept_and_cleared) {
  struct crl_err err = CRL_ERR_INIT;
  struct store_task t;

  fx_mission_abc();
  cr_assert_eq(store_task_set_feedback(fx_st, "m", "a", "try again", &err), 0);
  cr_assert_eq(store_task_get(fx_st, "m", "a", &t, &err), 0);
  cr_assert_str_eq(t.feedback, "try again");
  cr_assert_eq(store_task_set_feedback(fx_st, "m", "a", NULL, &err), 0);
  cr_assert_eq(store_task_get(fx_st, "m", "a", &t, &err), 0);
  cr_assert_null(t.feedback);
  cr_assert_eq(store_task_set_feedback(fx_st, "m", "zz", "x", &err),
               CRL_ETASK_NOT_FOUND);
}
