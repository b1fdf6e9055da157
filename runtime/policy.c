/*
 * The change policies of a mission (`protect:` and `max_diff_lines:`),
 * checked on the change a run made to its ticket branch and on the whole
 * ticket before it merges. A protected pattern is an fnmatch(3) glob whose
 * '*' also crosses '/' (so ".github/" followed by two stars covers the whole
 * tree), matched against every path the change touches and each of its
 * leading directories; "secrets/" or "secrets" cover that directory. The
 * diff cap counts insertions plus deletions. The force-push policy lives in
 * ticket.c, since it needs no diff.
 */
#include "rt-policy.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* Whether pat names path, a directory holding it, or matches either. */
static int policy_match(const char *pat, const char *path) {
  size_t n = strlen(pat);
  char *p, *s;
  int hit;

  if (n > 0 && pat[n - 1] == '/' && strncmp(path, pat, n) == 0)
    return 1;
  p = xstrdup(path);
  hit = fnmatch(pat, p, 0) == 0;
  for (s = p; !hit && (s = strchr(s + 1, '/')) != NULL;) {
    *s = '\0';
    hit = fnmatch(pat, p, 0) == 0;
    *s = '/';
  }
  free(p);
  return hit;
}

static int policy_protected(const struct msn_policy *p, const char *path) {
  for (char **g = p->protect; *g != NULL; g++)
    if (policy_match(*g, path))
      return 1;
  return 0;
}

static void hit_path_add(struct rt_policy_hit *h, const char *path) {
  h->paths = xreallocarray(h->paths, h->npaths + 1, sizeof(*h->paths));
  h->paths[h->npaths++] = xstrdup(path);
}

static struct rt_policy_hit *hits_push(struct rt_policy_hits *out,
                                       const struct msn_policy *p) {
  struct rt_policy_hit *h;

  out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
  h = &out->v[out->n++];
  memset(h, 0, sizeof(*h));
  h->policy = p;
  if (p->action == MSN_ACTION_FAILED)
    out->fail = 1;
  else
    out->review = 1;
  return h;
}

static void policy_one(struct rt_policy_hits *out, const struct msn_policy *p,
                       const struct rt_commit_stat *st) {
  struct rt_policy_hit *h = NULL;

  if (p->kind == MSN_POLICY_MAX_DIFF &&
      (int64_t)(st->insertions + st->deletions) > p->max_diff_lines) {
    h = hits_push(out, p);
    h->lines = (int64_t)(st->insertions + st->deletions);
    return;
  }
  if (p->kind != MSN_POLICY_PROTECT)
    return;
  for (size_t i = 0; i < st->nper_file; i++) {
    if (!policy_protected(p, st->per_file[i].path))
      continue;
    if (h == NULL)
      h = hits_push(out, p);
    hit_path_add(h, st->per_file[i].path);
  }
}

/* Whether the mission has a policy that needs the diff. */
static int policy_any(const struct msn_mission *m) {
  return msn_policy_find(m, MSN_POLICY_PROTECT) != NULL ||
         msn_policy_find(m, MSN_POLICY_MAX_DIFF) != NULL;
}

int rt_policy_check(struct rt_policy_hits *out, struct rt_repo *r,
                    const struct msn_mission *m, const char *from,
                    const char *to, struct crl_err *err) {
  struct rt_commit_stat st;
  int rc;

  memset(out, 0, sizeof(*out));
  if (strcmp(from, to) == 0 || !policy_any(m))
    return 0;
  if ((rc = rt_diff_stat(&st, r, from, to, err)) < 0)
    return rc;
  for (size_t i = 0; i < m->npolicies; i++)
    policy_one(out, &m->policies[i], &st);
  rt_commit_stat_close(&st);
  return (int)out->n;
}

void rt_policy_hits_close(struct rt_policy_hits *h) {
  for (size_t i = 0; i < h->n; i++)
    rt_paths_free(h->v[i].paths, h->v[i].npaths);
  free(h->v);
  memset(h, 0, sizeof(*h));
}

json_t *rt_policy_hit_json(const struct rt_policy_hit *h) {
  json_t *o = json_pack(
      "{s:s, s:s}", "policy", msn_policy_name(h->policy), "action",
      h->policy->action == MSN_ACTION_FAILED ? "failed" : "pending_review");
  json_t *paths = json_array();

  for (size_t i = 0; i < h->npaths; i++)
    json_array_append_new(paths, json_string(h->paths[i]));
  json_object_set_new(o, "paths", paths);
  if (h->policy->kind == MSN_POLICY_MAX_DIFF) {
    json_object_set_new(o, "lines", json_integer(h->lines));
    json_object_set_new(o, "max_diff_lines",
                        json_integer(h->policy->max_diff_lines));
  }
  return o;
}
