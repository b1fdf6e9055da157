/*
 * Budget arithmetic: what a run may still spend on LLM calls. A task's
 * calls count against three budgets at once, its own, its ticket's and
 * the mission's (each a token and a dollar cap, 0 meaning none), and each
 * keeps its own spending. A run's caps are the least of what is left of
 * the three; a level whose budget is spent refuses the next call, and the
 * first such level, task before ticket before mission, names the scope of
 * the budget-exceeded event. Pure: no I/O, no engine.
 */
#include "rt-budget.h"

#include <string.h>

const char *rt_budget_scope_name(enum rt_budget_scope s) {
  static const char *const names[] = {"task", "ticket", "mission"};

  return s < RT_NSCOPES ? names[s] : "none";
}

void rt_spend_add(struct rt_spend *s, int64_t tokens, double usd) {
  s->tokens += tokens;
  s->usd += usd;
}

/* Left of a cap, or -1 when there is none. At least 1 token (a cent's
 * hundredth) when spent, since 0 means no cap in a run's caps. */
static int64_t left_tokens(const struct msn_budget *b,
                           const struct rt_spend *s) {
  if (b == NULL || b->tokens <= 0)
    return -1;
  return b->tokens > s->tokens ? b->tokens - s->tokens : 1;
}

static double left_usd(const struct msn_budget *b, const struct rt_spend *s) {
  if (b == NULL || b->usd <= 0)
    return -1;
  return b->usd > s->usd ? b->usd - s->usd : 1e-4;
}

void rt_budget_caps(struct rt_gw_budget *out,
                    const struct rt_budget_levels *l) {
  int64_t t;
  double u;

  memset(out, 0, sizeof(*out));
  for (int i = 0; i < RT_NSCOPES; i++) {
    t = left_tokens(l->budget[i], &l->spent[i]);
    u = left_usd(l->budget[i], &l->spent[i]);
    if (t > 0 && (out->max_tokens == 0 || t < out->max_tokens))
      out->max_tokens = t;
    if (u > 0 && (out->max_usd == 0 || u < out->max_usd))
      out->max_usd = u;
  }
}

int rt_budget_over(enum rt_gw_budget_kind *kind, enum rt_budget_scope *scope,
                   const struct rt_budget_levels *l) {
  const struct msn_budget *b;
  const struct rt_spend *s;

  for (int i = 0; i < RT_NSCOPES; i++) {
    b = l->budget[i];
    s = &l->spent[i];
    *scope = (enum rt_budget_scope)i;
    if (b != NULL && b->tokens > 0 && s->tokens >= b->tokens) {
      *kind = RT_GW_BUDGET_TOKENS;
      return 1;
    }
    if (b != NULL && b->usd > 0 && s->usd >= b->usd) {
      *kind = RT_GW_BUDGET_USD;
      return 1;
    }
  }
  *kind = RT_GW_BUDGET_NONE;
  return 0;
}
