/*
 * Budget arithmetic (runtime/budget.c): a run's caps are the least of what
 * its task's, ticket's and mission's budgets have left; a spent level
 * leaves a cap of 1 token (or $0.0001), never 0, which would mean none;
 * the first spent level, task before ticket before mission, is the scope
 * of a refusal.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "rt-budget.h"

static struct msn_budget task_b, ticket_b, mission_b;

static void levels(struct rt_budget_levels *l) {
  memset(l, 0, sizeof(*l));
  l->budget[RT_SCOPE_TASK] = &task_b;
  l->budget[RT_SCOPE_TICKET] = &ticket_b;
  l->budget[RT_SCOPE_MISSION] = &mission_b;
}

/* The task, ticket and mission have spent these, as an engine adds calls. */
static void spend(struct rt_budget_levels *l, const struct rt_spend s[3]) {
  for (int i = 0; i < RT_NSCOPES; i++)
    rt_spend_add(&l->spent[i], s[i].tokens, s[i].usd);
}

static void reset(void) {
  memset(&task_b, 0, sizeof(task_b));
  memset(&ticket_b, 0, sizeof(ticket_b));
  memset(&mission_b, 0, sizeof(mission_b));
}

TestSuite(rt_budget, .init = reset);

Test(rt_budget, no_budget_no_caps_and_never_over) {
  struct rt_budget_levels l;
  struct rt_gw_budget caps;
  enum rt_gw_budget_kind kind;
  enum rt_budget_scope scope;

  levels(&l);
  rt_spend_add(&l.spent[RT_SCOPE_MISSION], 1000000, 100.0);
  rt_budget_caps(&caps, &l);
  cr_assert_eq(caps.max_tokens, 0);
  cr_assert_eq(caps.max_usd, 0);
  cr_assert_eq(caps.max_turns, 0);
  cr_assert_eq(rt_budget_over(&kind, &scope, &l), 0);
  cr_assert_eq(kind, RT_GW_BUDGET_NONE);
}

Test(rt_budget, caps_are_the_least_left_of_each_dimension) {
  struct rt_budget_levels l;
  struct rt_gw_budget caps;

  task_b.tokens = 5000;
  ticket_b = (struct msn_budget){.tokens = 3000, .usd = 2.0};
  mission_b = (struct msn_budget){.tokens = 10000, .usd = 1.0};
  levels(&l);
  spend(&l, (struct rt_spend[]){{100, 0.1}, {2500, 0.2}, {9700, 0.5}});
  rt_budget_caps(&caps, &l);
  cr_assert_eq(caps.max_tokens, 300); /* the mission's 10000 - 9700 */
  cr_assert_float_eq(caps.max_usd, 0.5, 1e-12);
  l.spent[RT_SCOPE_MISSION].tokens = 0;
  rt_budget_caps(&caps, &l);
  cr_assert_eq(caps.max_tokens, 500); /* now the ticket's 3000 - 2500 */
}

Test(rt_budget, a_spent_level_leaves_a_token_and_a_hundredth_of_a_cent) {
  struct rt_budget_levels l;
  struct rt_gw_budget caps;

  task_b.tokens = 300;
  task_b.usd = 0.01;
  levels(&l);
  rt_spend_add(&l.spent[RT_SCOPE_TASK], 1584, 0.02);
  rt_budget_caps(&caps, &l);
  cr_assert_eq(caps.max_tokens, 1);
  cr_assert_float_eq(caps.max_usd, 1e-4, 1e-12);
}

static void expect_over(const struct rt_budget_levels *l,
                        enum rt_gw_budget_kind want_kind,
                        enum rt_budget_scope want_scope) {
  enum rt_gw_budget_kind kind;
  enum rt_budget_scope scope;

  cr_assert_eq(rt_budget_over(&kind, &scope, l), 1);
  cr_assert_eq(kind, want_kind, "kind %s", rt_gw_budget_name(kind));
  cr_assert_str_eq(rt_budget_scope_name(scope),
                   rt_budget_scope_name(want_scope));
}

Test(rt_budget, over_names_the_innermost_spent_scope) {
  struct rt_budget_levels l;
  enum rt_gw_budget_kind kind;
  enum rt_budget_scope scope;

  task_b.tokens = 1000;
  ticket_b.usd = 1.0;
  mission_b.tokens = 500;
  levels(&l);
  spend(&l, (struct rt_spend[]){{499, 0.0}, {499, 0.99}, {499, 0.99}});
  cr_assert_eq(rt_budget_over(&kind, &scope, &l), 0);
  l.spent[RT_SCOPE_MISSION].tokens = 500; /* exactly reached: over */
  expect_over(&l, RT_GW_BUDGET_TOKENS, RT_SCOPE_MISSION);
  l.spent[RT_SCOPE_TICKET].usd = 1.0;
  expect_over(&l, RT_GW_BUDGET_USD, RT_SCOPE_TICKET);
  l.spent[RT_SCOPE_TASK].tokens = 1200;
  expect_over(&l, RT_GW_BUDGET_TOKENS, RT_SCOPE_TASK);
}

Test(rt_budget, scope_names) {
  cr_assert_str_eq(rt_budget_scope_name(RT_SCOPE_TASK), "task");
  cr_assert_str_eq(rt_budget_scope_name(RT_SCOPE_TICKET), "ticket");
  cr_assert_str_eq(rt_budget_scope_name(RT_SCOPE_MISSION), "mission");
  cr_assert_str_eq(rt_budget_scope_name(RT_NSCOPES), "none");
}
