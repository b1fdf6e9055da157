/*
 * A ticket's git side, as the engine sees it. When a mission names a `repo`,
 * each ticket works in its own worktree on branch corral/<mission>/<ticket>
 * under the state dir: it is made (or reused) when a run of the ticket is
 * about to start, and after the run everything the agent left is committed
 * with the Corral-* trailers and the policies are checked:
 *
 *  - force-push: the branch must descend from the head corral recorded last
 *    (kept in the store, so it holds across runs and restarts); a rewrite is
 *    undone and kept under refs/corral/attic/. This one is always enforced;
 *    `deny: force-push` in the mission only chooses its action.
 *  - protect and max_diff_lines (policy.c) on what the run changed.
 *
 * A violation is a "policy" event with the offending paths and sends the
 * task to failed (the run's commits go to the attic and the branch back to
 * where the run found it) or to pending_review, as the policy's action says.
 * The commit is stored with its diff stats and reported as an event.
 * libgit2 runs no hooks, filters or fsmonitor of the repository.
 */
#include "rt-int.h"
#include "rt-json.h"
#include "rt-policy.h"

#include <stdlib.h>
#include <string.h>

const char *rt_ticket_base(const struct rt_engine *e) {
  return e->m->base != NULL ? e->m->base : "HEAD";
}

static char *ticket_repo_path(const struct rt_engine *e) {
  char *path;

  if (e->m->repo[0] == '/')
    return xstrdup(e->m->repo);
  xasprintf(&path, "%s/%s", e->m->dir, e->m->repo);
  return path;
}

/* The branch the base names, when it names one: merges go there. A tag, a
 * commit or a detached HEAD leaves merge_ref NULL. */
static void ticket_merge_ref(struct rt_engine *e) {
  git_reference *ref = NULL, *res = NULL;
  git_repository *g = rt_repo_git(e->repo);

  if (git_reference_dwim(&ref, g, rt_ticket_base(e)) == 0 &&
      git_reference_resolve(&res, ref) == 0 &&
      strncmp(git_reference_name(res), "refs/heads/", 11) == 0)
    e->merge_ref = xstrdup(git_reference_name(res));
  git_reference_free(res);
  git_reference_free(ref);
}

int rt_tickets_open(struct rt_engine *e, struct crl_err *err) {
  git_object *obj = NULL;
  char *path;
  int rc;

  if (e->m->repo == NULL)
    return 0;
  path = ticket_repo_path(e);
  rc = rt_repo_open(&e->repo, path, err);
  free(path);
  if (rc < 0) /* a mission that names no repository is a usage error */
    return err != NULL ? (err->code = CRL_EVALIDATION_FAILED) : rc;
  if (git_revparse_single(&obj, rt_repo_git(e->repo), rt_ticket_base(e)) < 0)
    return crl_err_set(err, CRL_EVALIDATION_FAILED,
                       "base '%s' does not exist in %s", rt_ticket_base(e),
                       e->m->repo);
  git_object_free(obj);
  ticket_merge_ref(e);
  return 0;
}

/* Records where the mission's tickets branch from and merge into, for gc. */
int rt_tickets_record(struct rt_engine *e, struct crl_err *err) {
  char *path;
  int rc;

  if (e->repo == NULL)
    return 0;
  path = ticket_repo_path(e);
  rc = store_mission_set_repo(e->st, e->m->name, path,
                              e->merge_ref ? e->merge_ref : rt_ticket_base(e),
                              err);
  free(path);
  return rc;
}

void rt_tickets_close(struct rt_engine *e) {
  rt_repo_free(e->repo);
  e->repo = NULL;
  free(e->merge_ref);
  e->merge_ref = NULL;
}

static const char *ticket_id(const struct rt_run *r) {
  const struct msn_mission *m = r->eng->m;

  return m->tickets[m->tasks[r->task].ticket].id;
}

char *rt_ticket_dir(const struct rt_run *r) {
  char *dir;

  xasprintf(&dir, "%s/worktrees/%s/%s", r->eng->opts.state_dir, r->eng->m->name,
            ticket_id(r));
  return dir;
}

void rt_ticket_branch(char *out, size_t len, const struct rt_engine *e,
                      size_t ticket) {
  snprintf(out, len, "refs/heads/corral/%s/%s", e->m->name,
           e->m->tickets[ticket].id);
}

/* What the force-push check holds the branch to after the run: the head
 * corral recorded last, else the branch head now. */
static void ticket_head(struct rt_run *r) {
  struct rt_engine *e = r->eng;
  struct store_ticket t;
  char ref[512];
  git_oid oid;

  if (store_ticket_get(e->st, e->m->name, ticket_id(r), &t, NULL) == 0 &&
      t.head != NULL && strlen(t.head) == 40) {
    snprintf(r->head_at_start, sizeof(r->head_at_start), "%s", t.head);
    return;
  }
  rt_ticket_branch(ref, sizeof(ref), e, e->m->tasks[r->task].ticket);
  if (git_reference_name_to_id(&oid, rt_repo_git(e->repo), ref) == 0)
    git_oid_tostr(r->head_at_start, sizeof(r->head_at_start), &oid);
}

int rt_ticket_prepare(struct rt_run *r, struct crl_err *err) {
  struct rt_engine *e = r->eng;
  char *dir, *parent;
  int rc;

  if (e->repo == NULL)
    return 0;
  dir = rt_ticket_dir(r);
  xasprintf(&parent, "%s/worktrees/%s", e->opts.state_dir, e->m->name);
  rt_mkdirs(parent, 0700);
  free(parent);
  rc = rt_worktree_ensure(&r->workdir, e->repo, e->m->name, ticket_id(r),
                          rt_ticket_base(e), dir, err);
  free(dir);
  if (rc == 0)
    ticket_head(r);
  return rc;
}

static void ticket_store(struct rt_run *r, const struct rt_commit_stat *cs) {
  struct rt_engine *e = r->eng;
  const struct msn_task *t = &e->m->tasks[r->task];
  struct store_commit_file *files = xcalloc(cs->nper_file + 1, sizeof(*files));
  struct store_commit c = {0};
  char branch[512];

  rt_ticket_branch(branch, sizeof(branch), e, t->ticket);
  for (size_t i = 0; i < cs->nper_file; i++)
    files[i] = (struct store_commit_file){cs->per_file[i].path,
                                          (int64_t)cs->per_file[i].ins,
                                          (int64_t)cs->per_file[i].del};
  c = (struct store_commit){0,
                            e->m->name,
                            ticket_id(r),
                            t->id,
                            r->id,
                            e->m->agents[t->agent].name,
                            branch + 11,
                            cs->sha,
                            cs->parent[0] ? cs->parent : NULL,
                            (int64_t)cs->files,
                            (int64_t)cs->insertions,
                            (int64_t)cs->deletions,
                            rt_engine_now(e),
                            files,
                            cs->nper_file};
  if (store_commit_add(e->st, &c, &e->err) < 0)
    log_error("unable to record commit %s: %s", cs->sha, e->err.msg);
  free(files);
}

static void ticket_event(struct rt_run *r, const char *kind, json_t *data) {
  rt_engine_event_json(r->eng, r->eng->m->tasks[r->task].id, r->id, kind, data);
}

/* The action of a policy kind: the mission's, else failed. */
static int ticket_action(const struct rt_engine *e, int kind) {
  const struct msn_policy *p = msn_policy_find(e->m, kind);

  return p != NULL ? p->action : MSN_ACTION_FAILED;
}

static enum rt_verdict verdict_of(int action) {
  return action == MSN_ACTION_REVIEW ? RT_VERDICT_REVIEW : RT_VERDICT_FAIL;
}

/* The force-push policy. Returns the verdict. */
static enum rt_verdict ticket_force_push(struct rt_run *r) {
  struct crl_err err = CRL_ERR_INIT;
  char branch[512], *attic = NULL;
  int rc, action = ticket_action(r->eng, MSN_POLICY_FORCE_PUSH);

  if (r->head_at_start[0] == '\0')
    return RT_VERDICT_OK;
  rt_ticket_branch(branch, sizeof(branch), r->eng,
                   r->eng->m->tasks[r->task].ticket);
  rc = rt_branch_check(r->eng->repo, branch, r->head_at_start, &attic, &err);
  if (rc == 1)
    ticket_event(
        r, "policy",
        json_pack("{s:s, s:s, s:s, s:s, s:[]}", "policy", "deny force-push",
                  "action",
                  action == MSN_ACTION_REVIEW ? "pending_review" : "failed",
                  "restored", r->head_at_start, "attic", attic, "paths"));
  else if (err.code != 0)
    log_error("force-push check of %s: %s", branch, err.msg);
  free(attic);
  return rc == 1 ? verdict_of(action) : RT_VERDICT_OK;
}

/* A failing violation: the run's commits go to the attic, the branch back
 * to where the run found it. */
static void ticket_rewind(struct rt_run *r, json_t *ev) {
  struct crl_err err = CRL_ERR_INIT;
  char branch[512], *attic = NULL;

  rt_ticket_branch(branch, sizeof(branch), r->eng,
                   r->eng->m->tasks[r->task].ticket);
  if (rt_branch_rewind(r->eng->repo, branch, r->head_at_start, &attic, &err) <
      0)
    log_error("unable to rewind %s: %s", branch, err.msg);
  if (attic != NULL) {
    json_object_set_new(ev, "restored", json_string(r->head_at_start));
    json_object_set_new(ev, "attic", json_string(attic));
  }
  free(attic);
}

/* protect and max_diff_lines on head_at_start..head. */
static enum rt_verdict ticket_policies(struct rt_run *r, const char *head) {
  struct rt_policy_hits hits;
  struct crl_err err = CRL_ERR_INIT;
  enum rt_verdict v = RT_VERDICT_OK;

  if (r->head_at_start[0] == '\0' ||
      rt_policy_check(&hits, r->eng->repo, r->eng->m, r->head_at_start, head,
                      &err) <= 0) {
    if (err.code != 0)
      log_error("policy check: %s", err.msg);
    return RT_VERDICT_OK;
  }
  v = hits.fail ? RT_VERDICT_FAIL : RT_VERDICT_REVIEW;
  for (size_t i = 0; i < hits.n; i++) {
    json_t *ev = rt_policy_hit_json(&hits.v[i]);

    if (i == hits.n - 1 && v == RT_VERDICT_FAIL)
      ticket_rewind(r, ev);
    ticket_event(r, "policy", ev);
    if (r->verdict_reason[0] == '\0')
      snprintf(r->verdict_reason, sizeof(r->verdict_reason), "policy: %s",
               msn_policy_name(hits.v[i].policy));
  }
  rt_policy_hits_close(&hits);
  return v;
}

/* The branch head now, into out (41 bytes); "" when there is none. */
static void ticket_branch_head(char *out, struct rt_run *r) {
  char ref[512];
  git_oid oid;

  out[0] = '\0';
  rt_ticket_branch(ref, sizeof(ref), r->eng, r->eng->m->tasks[r->task].ticket);
  if (git_reference_name_to_id(&oid, rt_repo_git(r->eng->repo), ref) == 0)
    git_oid_tostr(out, 41, &oid);
}

static void ticket_record_head(struct rt_run *r) {
  struct rt_engine *e = r->eng;
  char head[41], ref[512];

  ticket_branch_head(head, r);
  rt_ticket_branch(ref, sizeof(ref), e, e->m->tasks[r->task].ticket);
  if (head[0] != '\0')
    store_ticket_set_head(e->st, e->m->name, ticket_id(r), ref + 11, head,
                          NULL);
}

static void ticket_commit_event(struct rt_run *r,
                                const struct rt_commit_stat *cs) {
  ticket_store(r, cs);
  ticket_event(r, "commit",
               json_pack("{s:b, s:s, s:I, s:I, s:I}", "changed", 1, "sha",
                         cs->sha, "files", (json_int_t)cs->files, "insertions",
                         (json_int_t)cs->insertions, "deletions",
                         (json_int_t)cs->deletions));
}

enum rt_verdict rt_ticket_commit(struct rt_run *r) {
  const struct msn_mission *m = r->eng->m;
  const struct msn_task *t = &m->tasks[r->task];
  struct rt_commit_stat cs;
  struct crl_err err = CRL_ERR_INIT;
  enum rt_verdict v;
  char run[32], head[41];
  struct rt_commit_meta meta = {m->name, ticket_id(r), t->id, run,
                                m->agents[t->agent].name};

  if (r->eng->repo == NULL || r->workdir == NULL)
    return RT_VERDICT_OK;
  snprintf(run, sizeof(run), "%lld", (long long)r->id);
  if (rt_commit_run(&cs, r->eng->repo, r->workdir, &meta, &err) < 0) {
    ticket_event(r, "error", json_pack("{s:s}", "message", err.msg));
    return RT_VERDICT_OK;
  }
  if (!cs.changed)
    ticket_event(r, "commit", json_pack("{s:b}", "changed", 0));
  /* A rewrite sends corral's commit to the attic with the rest. */
  if ((v = ticket_force_push(r)) != RT_VERDICT_OK)
    snprintf(r->verdict_reason, sizeof(r->verdict_reason),
             "policy: deny force-push");
  else if (cs.changed)
    ticket_commit_event(r, &cs);
  rt_commit_stat_close(&cs);
  if (v == RT_VERDICT_OK) {
    ticket_branch_head(head, r);
    if (head[0] != '\0')
      v = ticket_policies(r, head);
  }
  ticket_record_head(r);
  return v;
}
