/*
 * policy.c: the mission's `policies:` list. Each entry is a mapping with
 * exactly one rule and an optional action:
 *
 *   policies:
 *     - { deny: force-push }
 *     - { protect: [".github/<glob>", "secrets/"], action: pending_review }
 *     - { max_diff_lines: 2000, action: failed }
 *
 * where <glob> is any fnmatch(3) pattern, e.g. two stars.
 *
 * `deny: force-push` holds a ticket branch to its last recorded head,
 * `protect` lists paths (fnmatch(3) globs whose '*' also matches '/', or a
 * directory prefix ending in '/') no change may touch, `max_diff_lines`
 * caps insertions plus deletions. `action` says where a violating task goes:
 * `failed` (the default) or `pending_review`.
 */
#include <stdlib.h>
#include <string.h>

#include "mission-int.h"

#define FIELD(k, fn, type, member) \
  { k, fn, offsetof(type, member), 0, 0 }
#define FIELD_MIN(k, fn, type, member, m) \
  { k, fn, offsetof(type, member), 0, m }

static const char *const policy_actions[] = {"failed", "pending_review"};
static const char *const policy_denials[] = {"force-push"};
static const char *const policy_rules[] = {"deny", "protect", "max_diff_lines"};

static void policy_conv_deny(struct msn__ctx *c, const struct msn__field *f,
                             const struct msn__node *n, void *dst) {
  if (n->type != MSN__SCALAR) {
    msn__type_error(c, n, "force-push", f->key);
    return;
  }
  if (strcmp(n->str, "force-push") == 0)
    *(int *)dst = MSN_POLICY_FORCE_PUSH;
  else
    msn__enum_error(c, n, f->key, "force-push", policy_denials,
                    CRL_ARRAY_SIZE(policy_denials));
}

static void policy_conv_action(struct msn__ctx *c, const struct msn__field *f,
                               const struct msn__node *n, void *dst) {
  if (n->type != MSN__SCALAR) {
    msn__type_error(c, n, "failed or pending_review", f->key);
    return;
  }
  for (size_t i = 0; i < CRL_ARRAY_SIZE(policy_actions); i++) {
    if (strcmp(n->str, policy_actions[i]) == 0) {
      *(int *)dst = (int)i;
      return;
    }
  }
  msn__enum_error(c, n, f->key, "failed or pending_review", policy_actions,
                  CRL_ARRAY_SIZE(policy_actions));
}

/* One path pattern or a non-empty list of them. */
static void policy_conv_globs(struct msn__ctx *c, const struct msn__field *f,
                              const struct msn__node *n, void *dst) {
  const char *want = "a path pattern or a non-empty list of them";
  char ***out = dst;
  size_t k = n->type == MSN__SEQ ? n->n : 1;

  if ((n->type != MSN__SCALAR && n->type != MSN__SEQ) || k == 0) {
    msn__type_error(c, n, want, f->key);
    return;
  }
  for (size_t i = 0; n->type == MSN__SEQ && i < n->n; i++)
    if (n->v[i]->type != MSN__SCALAR || n->v[i]->str[0] == '\0') {
      msn__type_error(c, n->v[i], "a path pattern", f->key);
      return;
    }
  *out = xcalloc(k + 1, sizeof(**out));
  for (size_t i = 0; i < k; i++)
    (*out)[i] = xstrdup(n->type == MSN__SEQ ? n->v[i]->str : n->str);
}

static const struct msn__field policy_fields[] = {
    FIELD("deny", policy_conv_deny, struct msn_policy, kind),
    FIELD("protect", policy_conv_globs, struct msn_policy, protect),
    FIELD_MIN("max_diff_lines", msn__conv_int64, struct msn_policy,
              max_diff_lines, 1),
    FIELD("action", policy_conv_action, struct msn_policy, action),
};

static const struct msn__kind policy_kind = {"policy", policy_fields,
                                             CRL_ARRAY_SIZE(policy_fields)};

/* The rule a policy mapping names; -1 (after a diagnostic) unless exactly
 * one. */
static int policy_rule(struct msn__ctx *c, const struct msn__node *n) {
  int found = -1, count = 0;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(policy_rules); i++) {
    if (msn__node_get(n, policy_rules[i]) != NULL) {
      found = (int)i;
      count++;
    }
  }
  if (count == 1)
    return found;
  msn__err(c, n,
           count == 0 ? "a policy needs one of 'deny', 'protect' or "
                        "'max_diff_lines'"
                      : "a policy has exactly one of 'deny', 'protect' or "
                        "'max_diff_lines'; write one policy per rule");
  return -1;
}

static void policy_one(struct msn__ctx *c, const struct msn__node *n) {
  struct msn_mission *m = &c->m;
  struct msn_policy p = {0};
  int rule;

  p.line = n->line;
  p.col = n->col;
  p.kind = -1;
  if (msn__schema_map(c, &policy_kind, n, "a policy", &p) < 0)
    return;
  rule = policy_rule(c, n);
  if (rule == 1)
    p.kind = MSN_POLICY_PROTECT;
  else if (rule == 2)
    p.kind = MSN_POLICY_MAX_DIFF;
  if (rule < 0 || p.kind < 0 || (rule == 1 && p.protect == NULL) ||
      (rule == 2 && p.max_diff_lines <= 0)) {
    msn__argv_free(p.protect);
    return;
  }
  m->policies = xreallocarray(m->policies, m->npolicies + 1, sizeof(p));
  m->policies[m->npolicies++] = p;
}

void msn__schema_policies(struct msn__ctx *c, const struct msn__field *f,
                          const struct msn__node *n, void *dst) {
  if (n->type != MSN__SEQ) {
    msn__type_error(c, n, "a sequence", f->key);
    return;
  }
  for (size_t i = 0; i < n->n; i++)
    policy_one(c, n->v[i]);
}

void msn__policies_clear(struct msn_mission *m) {
  for (size_t i = 0; i < m->npolicies; i++)
    msn__argv_free(m->policies[i].protect);
  free(m->policies);
  m->policies = NULL;
  m->npolicies = 0;
}

const char *msn_policy_name(const struct msn_policy *p) {
  switch (p->kind) {
  case MSN_POLICY_FORCE_PUSH:
    return "deny force-push";
  case MSN_POLICY_PROTECT:
    return "protect";
  default:
    return "max_diff_lines";
  }
}

const struct msn_policy *msn_policy_find(const struct msn_mission *m,
                                         int kind) {
  for (size_t i = 0; i < m->npolicies; i++)
    if (m->policies[i].kind == kind)
      return &m->policies[i];
  return NULL;
}
