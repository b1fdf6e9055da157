/*
 * The merge queue: when every task of a ticket has completed, its branch
 * merges into the mission's base, one merge at a time per base. Within an
 * engine merges run one by one on the loop; across processes (two missions
 * over one repository) a lock file per repository and base under the state
 * dir serialises them. Before merging, the whole ticket (from its merge base
 * with `base` to its head) is checked against the change policies whose
 * action is `failed` (a `pending_review` one was settled by the human who
 * approved the runs that broke it). A
 * conflict, a violation or a dirty checkout of `base` writes nothing to
 * `base`: the ticket is marked conflict, violation or unmerged with the
 * details, and stays as it is for a human or a follow-up task; running the
 * mission again retries the merge.
 */
#include "rt-int.h"
#include "rt-json.h"
#include "rt-policy.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static void mergeq_event(struct rt_engine *e, size_t ticket, json_t *data) {
  json_object_set_new(data, "ticket", json_string(e->m->tickets[ticket].id));
  rt_engine_event_json(e, NULL, 0, "merge", data);
}

static void mergeq_state(struct rt_engine *e, size_t ticket, const char *state,
                         json_t *detail, const char *merged) {
  char *s = detail ? json_dumps(detail, JSON_COMPACT) : NULL;

  store_ticket_set_state(e->st, e->m->name, e->m->tickets[ticket].id, state, s,
                         merged, NULL);
  free(s);
}

/* Refuses the merge and marks the ticket; takes data. */
static void mergeq_refuse(struct rt_engine *e, size_t ticket, const char *state,
                          json_t *data) {
  mergeq_state(e, ticket, state, data, NULL);
  mergeq_event(e, ticket, data);
  e->merge_failed++;
}

/* The whole ticket against the policies; 1 when it may not merge. */
static int mergeq_policies(struct rt_engine *e, size_t ticket,
                           const git_oid *base, const git_oid *head) {
  struct rt_policy_hits hits;
  struct crl_err err = CRL_ERR_INIT;
  char from[41], to[41];
  git_oid mb;
  json_t *v;

  if (git_merge_base(&mb, rt_repo_git(e->repo), base, head) < 0)
    return 0; /* unrelated histories: the merge itself will say */
  git_oid_tostr(from, sizeof(from), &mb);
  git_oid_tostr(to, sizeof(to), head);
  if (rt_policy_check(&hits, e->repo, e->m, from, to, &err) <= 0)
    return 0;
  if (!hits.fail) {
    rt_policy_hits_close(&hits);
    return 0;
  }
  v = json_array();
  for (size_t i = 0; i < hits.n; i++)
    if (hits.v[i].policy->action == MSN_ACTION_FAILED)
      json_array_append_new(v, rt_policy_hit_json(&hits.v[i]));
  rt_policy_hits_close(&hits);
  mergeq_refuse(e, ticket, "violation",
                json_pack("{s:s, s:o}", "result", "refused", "policies", v));
  return 1;
}

/* STATE/merge-<hash of repo and base>.lock, held for one merge. */
static int mergeq_lock(struct rt_engine *e) {
  const char *repo = git_repository_commondir(rt_repo_git(e->repo));
  uint64_t h = crl_hash64(repo, strlen(repo), 0);
  char *path;
  int fd;

  h = crl_hash64(e->merge_ref, strlen(e->merge_ref), h);
  xasprintf(&path, "%s/merge-%016llx.lock", e->opts.state_dir,
            (unsigned long long)h);
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  free(path);
  if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

static const char *mergeq_kind(enum rt_merge_kind k) {
  switch (k) {
  case RT_MERGE_UP_TO_DATE:
    return "up-to-date";
  case RT_MERGE_FASTFORWARD:
    return "fast-forward";
  case RT_MERGE_COMMIT:
    return "merge-commit";
  default:
    return "conflict";
  }
}

static void mergeq_result(struct rt_engine *e, size_t ticket,
                          const struct rt_merge_result *m) {
  json_t *paths;

  if (m->kind != RT_MERGE_CONFLICT) {
    mergeq_state(e, ticket, "merged", NULL, m->sha);
    mergeq_event(e, ticket,
                 json_pack("{s:s, s:s, s:s}", "result", mergeq_kind(m->kind),
                           "base", e->merge_ref + 11, "sha", m->sha));
    return;
  }
  paths = json_array();
  for (size_t i = 0; i < m->nconflicts; i++)
    json_array_append_new(paths, json_string(m->conflicts[i]));
  mergeq_refuse(e, ticket, "conflict",
                json_pack("{s:s, s:s, s:o}", "result", "conflict", "base",
                          e->merge_ref + 11, "paths", paths));
}

static void mergeq_run(struct rt_engine *e, size_t ticket, const char *branch) {
  struct rt_merge_result m;
  struct crl_err err = CRL_ERR_INIT;
  int fd = mergeq_lock(e), rc;

  memset(&m, 0, sizeof(m));
  rc = rt_merge_ticket(&m, e->repo, branch, e->merge_ref, &err);
  if (fd >= 0)
    close(fd);
  if (rc < 0)
    mergeq_refuse(
        e, ticket, "unmerged",
        json_pack("{s:s, s:s}", "result", "error", "message", err.msg));
  else
    mergeq_result(e, ticket, &m);
  rt_merge_result_close(&m);
}

static void mergeq_one(struct rt_engine *e, size_t ticket) {
  git_repository *g = rt_repo_git(e->repo);
  char branch[512];
  git_oid head, base;

  rt_ticket_branch(branch, sizeof(branch), e, ticket);
  if (git_reference_name_to_id(&head, g, branch) < 0)
    return; /* no run of the ticket ever made its branch */
  if (e->merge_ref == NULL) {
    mergeq_event(e, ticket,
                 json_pack("{s:s, s:s}", "result", "skipped", "reason",
                           "the base is not a branch"));
    return;
  }
  if (git_reference_name_to_id(&base, g, e->merge_ref) == 0 &&
      mergeq_policies(e, ticket, &base, &head))
    return;
  mergeq_run(e, ticket, branch);
}

/* 1 when the ticket's tasks have all completed. */
static int mergeq_ready(struct rt_engine *e, size_t ticket) {
  size_t n = 0;

  for (size_t i = 0; i < e->m->ntasks; i++) {
    if (e->m->tasks[i].ticket != ticket)
      continue;
    if (sched_task_state(e->sched, i) != SCHED_COMPLETED)
      return 0;
    n++;
  }
  return n > 0;
}

void rt_tickets_merge(struct rt_engine *e) {
  struct store_ticket t;

  if (e->repo == NULL)
    return;
  for (size_t i = 0; i < e->m->ntickets; i++) {
    if (e->ticket_done[i] || !mergeq_ready(e, i))
      continue;
    e->ticket_done[i] = 1;
    if (store_ticket_get(e->st, e->m->name, e->m->tickets[i].id, &t, NULL) ==
            0 &&
        strcmp(t.state, "merged") == 0)
      continue;
    mergeq_one(e, i);
  }
}
