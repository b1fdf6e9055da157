/*
 * The commit that closes a run: everything in the ticket's worktree is
 * staged the way `git add -A` would (ignored files stay out, deletions go
 * in, and so do none of the untracked files .worktreeinclude copied in),
 * and when the tree differs from the branch head corral commits it with
 * its Corral-* trailers on top of whatever the agent committed itself.
 * The commit's diff stats and the paths between any two commits (for the
 * protect: and max_diff_lines policies) come from libgit2's tree diff.
 */
#include "rt-git.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

struct skip {
  git_index *index;
  char **pats;
  size_t n;
};

/* Whether path or one of its leading directories matches pat. */
static int path_matches(const char *pat, const char *path) {
  char *p = xstrdup(path), *s = p;
  int hit = fnmatch(pat, p, FNM_PATHNAME) == 0;

  while (!hit && (s = strchr(s + 1, '/')) != NULL) {
    *s = '\0';
    hit = fnmatch(pat, p, FNM_PATHNAME) == 0;
    *s = '/';
  }
  free(p);
  return hit;
}

/* git_index_add_all callback: >0 skips an untracked .worktreeinclude file. */
static int skip_included(const char *path, const char *spec, void *payload) {
  struct skip *sk = payload;
  size_t i;

  if (git_index_get_bypath(sk->index, path, 0) != NULL)
    return 0;
  for (i = 0; i < sk->n; i++)
    if (path_matches(sk->pats[i], path))
      return 1;
  return 0;
}

static int stage(git_oid *tree, git_repository *w, struct crl_err *err) {
  struct skip sk = {0};
  int rc = 0;

  if (git_repository_index(&sk.index, w) < 0)
    return rt__git_fail(err, CRL_EINTERNAL, "open index");
  rt__include_read(&sk.pats, &sk.n, git_repository_workdir(w));
  if (git_index_add_all(sk.index, NULL, GIT_INDEX_ADD_DEFAULT, skip_included,
                        &sk) < 0 ||
      git_index_update_all(sk.index, NULL, NULL, NULL) < 0 ||
      git_index_write(sk.index) < 0 || git_index_write_tree(tree, sk.index) < 0)
    rc = rt__git_fail(err, CRL_EINTERNAL, "stage worktree");
  rt_paths_free(sk.pats, sk.n);
  git_index_free(sk.index);
  return rc;
}

static int meta_check(const struct rt_commit_meta *m, struct crl_err *err) {
  const char *v[] = {m->mission, m->ticket, m->task, m->run, m->agent};
  size_t i;

  for (i = 0; i < CRL_ARRAY_SIZE(v); i++)
    if (v[i] == NULL || v[i][0] == '\0' || strpbrk(v[i], "\r\n") != NULL)
      return crl_err_set(err, CRL_EBAD_REQUEST,
                         "commit metadata must be one non-empty line");
  return 0;
}

static int commit_write(git_oid *out, git_repository *w, git_commit *parent,
                        const git_oid *tree_id, const struct rt_commit_meta *m,
                        struct crl_err *err) {
  git_signature *sig = NULL;
  git_tree *tree = NULL;
  char *msg;
  int rc;

  xasprintf(&msg,
            "%s: run %s\n\nCorral-Mission: %s\nCorral-Ticket: %s\n"
            "Corral-Task: %s\nCorral-Run: %s\nCorral-Agent: %s\n",
            m->task, m->run, m->mission, m->ticket, m->task, m->run, m->agent);
  if ((rc = rt__signature(&sig, m->agent, err)) < 0)
    goto out;
  if (git_tree_lookup(&tree, w, tree_id) < 0 ||
      git_commit_create(out, w, "HEAD", sig, sig, NULL, msg, tree, 1,
                        (const git_commit **)&parent) < 0)
    rc = rt__git_fail(err, CRL_EINTERNAL, "commit");
out:
  git_tree_free(tree);
  git_signature_free(sig);
  free(msg);
  return rc;
}

/* Adds delta i's per-file stats to s and its counts to the totals. */
static int file_stat_add(struct rt_commit_stat *s, git_diff *diff, size_t i) {
  const git_diff_delta *d;
  struct rt_file_stat *f;
  size_t ins = 0, del = 0;
  git_patch *p;

  if (git_patch_from_diff(&p, diff, i) < 0)
    return -1;
  d = git_patch_get_delta(p);
  git_patch_line_stats(NULL, &ins, &del, p);
  s->per_file = xreallocarray(s->per_file, s->nper_file + 1, sizeof(*f));
  f = &s->per_file[s->nper_file++];
  f->path = xstrdup(d->new_file.path ? d->new_file.path : d->old_file.path);
  f->ins = ins;
  f->del = del;
  s->insertions += ins;
  s->deletions += del;
  git_patch_free(p);
  return 0;
}

static int tree_diff(git_diff **out, git_repository *g, const git_oid *from,
                     const git_oid *to) {
  git_commit *a = NULL, *b = NULL;
  git_tree *ta = NULL, *tb = NULL;
  int rc;

  if ((rc = git_commit_lookup(&a, g, from)) == 0 &&
      (rc = git_commit_lookup(&b, g, to)) == 0 &&
      (rc = git_commit_tree(&ta, a)) == 0 &&
      (rc = git_commit_tree(&tb, b)) == 0)
    rc = git_diff_tree_to_tree(out, g, ta, tb, NULL);
  git_tree_free(tb);
  git_tree_free(ta);
  git_commit_free(b);
  git_commit_free(a);
  return rc;
}

/* The totals are summed from the per-file patches rather than taken from
 * git_diff_get_stats, which would build every patch a second time (the
 * same counts: one file per delta, binary files 0/0). */
static int stat_fill(struct rt_commit_stat *s, git_repository *w,
                     const git_oid *from, const git_oid *to,
                     struct crl_err *err) {
  git_diff *diff = NULL;
  size_t i;
  int rc = 0;

  if (tree_diff(&diff, w, from, to) < 0) {
    rc = rt__git_fail(err, CRL_EINTERNAL, "diff stats");
    goto out;
  }
  s->files = git_diff_num_deltas(diff);
  for (i = 0; i < s->files && rc == 0; i++)
    if (file_stat_add(s, diff, i) < 0)
      rc = rt__git_fail(err, CRL_EINTERNAL, "diff stats");
out:
  git_diff_free(diff);
  return rc;
}

int rt_commit_run(struct rt_commit_stat *out, struct rt_repo *r,
                  const char *worktree, const struct rt_commit_meta *m,
                  struct crl_err *err) {
  git_repository *w = NULL;
  git_object *obj = NULL;
  git_commit *parent;
  git_oid tree, id;
  int rc;

  memset(out, 0, sizeof(*out));
  if ((rc = meta_check(m, err)) < 0)
    return rc;
  if (git_repository_open_ext(&w, worktree, GIT_REPOSITORY_OPEN_NO_SEARCH,
                              NULL) < 0)
    return crl_err_set(err, CRL_ENOT_FOUND, "not a git worktree: %s", worktree);
  if ((rc = stage(&tree, w, err)) < 0)
    goto out;
  if (git_revparse_single(&obj, w, "HEAD^{commit}") < 0) {
    rc = rt__git_fail(err, CRL_EINTERNAL, "worktree HEAD");
    goto out;
  }
  parent = (git_commit *)obj;
  git_oid_tostr(out->parent, sizeof(out->parent), git_commit_id(parent));
  if (git_oid_equal(&tree, git_commit_tree_id(parent)))
    goto out;
  if ((rc = commit_write(&id, w, parent, &tree, m, err)) < 0 ||
      (rc = stat_fill(out, w, git_commit_id(parent), &id, err)) < 0)
    goto out;
  git_oid_tostr(out->sha, sizeof(out->sha), &id);
  out->changed = 1;
out:
  git_object_free(obj);
  git_repository_free(w);
  return rc;
}

void rt_commit_stat_close(struct rt_commit_stat *s) {
  size_t i;

  for (i = 0; i < s->nper_file; i++)
    free(s->per_file[i].path);
  free(s->per_file);
  s->per_file = NULL;
  s->nper_file = 0;
}

void rt_paths_free(char **paths, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
}

static void paths_push(char ***out, size_t *n, const char *path) {
  if (*n > 0 && strcmp((*out)[*n - 1], path) == 0)
    return;
  *out = xreallocarray(*out, *n + 1, sizeof(**out));
  (*out)[(*n)++] = xstrdup(path);
}

int rt_diff_paths(char ***out, size_t *n, struct rt_repo *r,
                  const char *from_sha, const char *to_sha,
                  struct crl_err *err) {
  git_oid from, to;
  git_diff *diff = NULL;
  const git_diff_delta *d;
  size_t i;

  *out = NULL;
  *n = 0;
  if (git_oid_fromstr(&from, from_sha) < 0 || git_oid_fromstr(&to, to_sha) < 0)
    return crl_err_set(err, CRL_EBAD_REQUEST, "bad commit id");
  if (tree_diff(&diff, rt_repo_git(r), &from, &to) < 0)
    return rt__git_fail(err, CRL_ENOT_FOUND, "diff");
  for (i = 0; i < git_diff_num_deltas(diff); i++) {
    d = git_diff_get_delta(diff, i);
    paths_push(out, n, d->old_file.path);
    paths_push(out, n, d->new_file.path);
  }
  git_diff_free(diff);
  return 0;
}

int rt_diff_stat(struct rt_commit_stat *out, struct rt_repo *r,
                 const char *from_sha, const char *to_sha,
                 struct crl_err *err) {
  git_oid from, to;

  memset(out, 0, sizeof(*out));
  if (git_oid_fromstr(&from, from_sha) < 0 || git_oid_fromstr(&to, to_sha) < 0)
    return crl_err_set(err, CRL_EBAD_REQUEST, "bad commit id");
  return stat_fill(out, rt_repo_git(r), &from, &to, err);
}
