/*
 * Budget arithmetic (budget.c): a task's LLM calls count against its own
 * budget, its ticket's and the mission's at once. Pure; included by the
 * files that turn spending into a run's caps (engine-gw.c) and by tests.
 */
#ifndef RT_BUDGET_H
#define RT_BUDGET_H

#include "gateway.h"
#include "rt-int.h"

/* Scopes, innermost first. */
enum rt_budget_scope {
  RT_SCOPE_TASK,
  RT_SCOPE_TICKET,
  RT_SCOPE_MISSION,
  RT_NSCOPES
};
/* A task's three budgets (NULL: none) and what each has spent. */
struct rt_budget_levels {
  const struct msn_budget *budget[RT_NSCOPES];
  struct rt_spend spent[RT_NSCOPES];
};
/* "task", "ticket", "mission". */
const char *rt_budget_scope_name(enum rt_budget_scope s);
void rt_spend_add(struct rt_spend *s, int64_t tokens, double usd);
/* The least of what is left of each level (0: no cap); a spent level
 * leaves 1 token or $0.0001, never 0. */
void rt_budget_caps(struct rt_gw_budget *out, const struct rt_budget_levels *l);
/* 1 with *kind and *scope of the first level spent (task, ticket, mission;
 * tokens before usd), 0 when every level has some left. */
int rt_budget_over(enum rt_gw_budget_kind *kind, enum rt_budget_scope *scope,
                   const struct rt_budget_levels *l);

#endif
