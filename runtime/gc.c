/*
 * The git side of `corral gc`: what a ticket's worktree and branch still
 * hold, saving it to the attic, removing a worktree with its branch, and
 * pruning the metadata of worktrees whose directory is gone. Nothing here
 * decides; cmd-gc.c does, and never removes unmerged or uncommitted work
 * without saving it first.
 */
#include "rt-git.h"

#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

/* Uncommitted changes, untracked files included, ignored ones not. */
static int gc_dirty(const char *dir) {
  git_repository *w = NULL;
  git_status_options opts;
  git_status_list *list = NULL;
  int rc;

  if (git_repository_open_ext(&w, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
    return 0;
  git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
               GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
               GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  rc = git_status_list_new(&list, w, &opts);
  if (rc == 0)
    rc = git_status_list_entrycount(list) > 0;
  git_status_list_free(list);
  git_repository_free(w);
  return rc;
}

int rt_gc_inspect(struct rt_gc_ticket *out, struct rt_repo *r,
                  const char *branch, const char *base, const char *dir,
                  struct crl_err *err) {
  git_repository *g = rt_repo_git(r);
  git_oid head, bid;
  size_t ahead = 0, behind = 0;

  memset(out, 0, sizeof(*out));
  out->has_worktree = access(dir, F_OK) == 0;
  out->dirty = out->has_worktree && gc_dirty(dir) != 0;
  if (git_reference_name_to_id(&head, g, branch) < 0)
    return 0;
  out->has_branch = 1;
  if (base == NULL || git_reference_name_to_id(&bid, g, base) < 0) {
    out->unmerged = 1; /* no base to compare with: keep it */
    return 0;
  }
  if (git_graph_ahead_behind(&ahead, &behind, g, &head, &bid) < 0)
    return rt__git_fail(err, CRL_EINTERNAL, "compare with base");
  out->unmerged = ahead;
  return 0;
}

int rt_gc_save(char **attic, struct rt_repo *r, const char *ticket,
               const char *branch, const char *dir, struct crl_err *err) {
  struct rt_commit_meta meta = {"gc", ticket, "gc", "0", "gc"};
  struct rt_commit_stat cs;
  git_oid head;
  char sha[41];
  int rc;

  *attic = NULL;
  if (access(dir, F_OK) == 0) {
    if ((rc = rt_commit_run(&cs, r, dir, &meta, err)) < 0)
      return rc;
    rt_commit_stat_close(&cs);
  }
  if (git_reference_name_to_id(&head, rt_repo_git(r), branch) < 0)
    return 0;
  git_oid_tostr(sha, sizeof(sha), &head);
  return rt_attic_save(attic, r, ticket, sha, err);
}

/* The worktree whose directory is dir, or NULL. */
static git_worktree *gc_worktree_at(git_repository *g, const char *dir) {
  git_strarray names = {0};
  git_worktree *wt = NULL;
  char want[PATH_MAX], have[PATH_MAX];

  if (realpath(dir, want) == NULL)
    snprintf(want, sizeof(want), "%s", dir);
  git_worktree_list(&names, g);
  for (size_t i = 0; i < names.count && wt == NULL; i++) {
    if (git_worktree_lookup(&wt, g, names.strings[i]) < 0)
      continue;
    if (realpath(git_worktree_path(wt), have) == NULL ||
        strcmp(have, want) != 0) {
      git_worktree_free(wt);
      wt = NULL;
    }
  }
  git_strarray_dispose(&names);
  return wt;
}

int rt_gc_remove(struct rt_repo *r, const char *branch, const char *dir,
                 struct crl_err *err) {
  git_repository *g = rt_repo_git(r);
  git_worktree_prune_options po;
  git_worktree *wt = gc_worktree_at(g, dir);
  git_reference *ref = NULL;
  int rc = 0;

  git_worktree_prune_options_init(&po, GIT_WORKTREE_PRUNE_OPTIONS_VERSION);
  po.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_WORKING_TREE;
  if (wt != NULL && git_worktree_prune(wt, &po) < 0)
    rc = rt__git_fail(err, CRL_EINTERNAL, "remove worktree");
  git_worktree_free(wt);
  if (rc == 0 && git_reference_lookup(&ref, g, branch) == 0 &&
      git_reference_delete(ref) < 0)
    rc = rt__git_fail(err, CRL_EINTERNAL, "delete branch");
  git_reference_free(ref);
  return rc;
}

int rt_gc_prune(char ***pruned, size_t *n, struct rt_repo *r,
                const char *prefix, int dry, struct crl_err *err) {
  git_repository *g = rt_repo_git(r);
  git_strarray names = {0};
  git_worktree_prune_options po;
  git_worktree *wt;

  *pruned = NULL;
  *n = 0;
  git_worktree_prune_options_init(&po, GIT_WORKTREE_PRUNE_OPTIONS_VERSION);
  if (git_worktree_list(&names, g) < 0)
    return rt__git_fail(err, CRL_EINTERNAL, "list worktrees");
  for (size_t i = 0; i < names.count; i++) {
    if (git_worktree_lookup(&wt, g, names.strings[i]) < 0)
      continue;
    if (strncmp(git_worktree_path(wt), prefix, strlen(prefix)) == 0 &&
        git_worktree_validate(wt) < 0 && git_worktree_is_prunable(wt, &po) &&
        (dry || git_worktree_prune(wt, &po) == 0)) {
      *pruned = xreallocarray(*pruned, *n + 1, sizeof(**pruned));
      (*pruned)[(*n)++] = xstrdup(names.strings[i]);
    }
    git_worktree_free(wt);
  }
  git_strarray_dispose(&names);
  return 0;
}
