/*
 * A ticket's git side, as the engine sees it. When a mission names a `repo`,
 * each ticket works in its own worktree on branch corral/<mission>/<ticket>
 * under the state dir: it is made (or reused) when a run of the ticket is
 * about to start, and after the run everything the agent left is committed
 * with the Corral-* trailers, the branch is checked for a rewrite (the
 * force-push policy: the old head is restored, the rewrite kept in the
 * attic), and the commit is stored with its diff stats and reported as an
 * event. libgit2 runs no hooks, filters or fsmonitor of the repository.
 */
#include "rt-int.h"
#include "rt-git.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *ticket_base(const struct rt_engine *e) {
  return e->m->base != NULL ? e->m->base : "HEAD";
}

int rt_tickets_open(struct rt_engine *e, struct crl_err *err) {
  git_object *obj = NULL;
  char *path;
  int rc;

  if (e->m->repo == NULL)
    return 0;
  if (e->m->repo[0] == '/')
    path = xstrdup(e->m->repo);
  else
    xasprintf(&path, "%s/%s", e->m->dir, e->m->repo);
  rc = rt_repo_open(&e->repo, path, err);
  free(path);
  if (rc < 0) /* a mission that names no repository is a usage error */
    return err != NULL ? (err->code = CRL_EVALIDATION_FAILED) : rc;
  if (git_revparse_single(&obj, rt_repo_git(e->repo), ticket_base(e)) < 0)
    return crl_err_set(err, CRL_EVALIDATION_FAILED,
                       "base '%s' does not exist in %s", ticket_base(e),
                       e->m->repo);
  git_object_free(obj);
  return 0;
}

void rt_tickets_close(struct rt_engine *e) {
  rt_repo_free(e->repo);
  e->repo = NULL;
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

static void ticket_branch(char *out, size_t len, const struct rt_run *r) {
  snprintf(out, len, "refs/heads/corral/%s/%s", r->eng->m->name, ticket_id(r));
}

/* The branch head when the run starts: what the force-push check holds the
 * branch to afterwards. */
static void ticket_head(struct rt_run *r) {
  char ref[512];
  git_oid oid;

  ticket_branch(ref, sizeof(ref), r);
  if (git_reference_name_to_id(&oid, rt_repo_git(r->eng->repo), ref) == 0)
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
                          ticket_base(e), dir, err);
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

  ticket_branch(branch, sizeof(branch), r);
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
  char *s = json_dumps(data, JSON_COMPACT);

  rt_engine_event(r->eng, r->eng->m->tasks[r->task].id, r->id, kind, s);
  free(s);
  json_decref(data);
}

/* Returns 1 when the branch was rewritten (and is now restored). */
static int ticket_force_push(struct rt_run *r) {
  struct crl_err err = CRL_ERR_INIT;
  char branch[512], *attic = NULL;
  int rc;

  if (r->head_at_start[0] == '\0')
    return 0;
  ticket_branch(branch, sizeof(branch), r);
  rc = rt_branch_check(r->eng->repo, branch, r->head_at_start, &attic, &err);
  if (rc == 1)
    ticket_event(r, "policy",
                 json_pack("{s:s, s:s, s:s}", "policy", "deny force-push",
                           "restored", r->head_at_start, "attic", attic));
  else if (err.code != 0)
    log_error("force-push check of %s: %s", branch, err.msg);
  free(attic);
  return rc == 1;
}

void rt_ticket_commit(struct rt_run *r) {
  const struct msn_mission *m = r->eng->m;
  const struct msn_task *t = &m->tasks[r->task];
  struct rt_commit_stat cs;
  struct crl_err err = CRL_ERR_INIT;
  char run[32];
  struct rt_commit_meta meta = {m->name, ticket_id(r), t->id, run,
                                m->agents[t->agent].name};

  if (r->eng->repo == NULL || r->workdir == NULL)
    return;
  snprintf(run, sizeof(run), "%lld", (long long)r->id);
  memset(&cs, 0, sizeof(cs));
  if (rt_commit_run(&cs, r->eng->repo, r->workdir, &meta, &err) < 0) {
    ticket_event(r, "error", json_pack("{s:s}", "message", err.msg));
    return;
  }
  if (!cs.changed)
    ticket_event(r, "commit", json_pack("{s:b}", "changed", 0));
  /* A rewrite sends corral's commit to the attic with the rest. */
  if (ticket_force_push(r) == 0 && cs.changed) {
    ticket_store(r, &cs);
    ticket_event(r, "commit",
                 json_pack("{s:b, s:s, s:I, s:I, s:I}", "changed", 1, "sha",
                           cs.sha, "files", (json_int_t)cs.files, "insertions",
                           (json_int_t)cs.insertions, "deletions",
                           (json_int_t)cs.deletions));
  }
  rt_commit_stat_close(&cs);
}
