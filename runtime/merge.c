/*
 * The merge of a ticket's branch into its base. It happens in memory
 * (git_merge_commits into an index, never in anybody's worktree):
 * fast-forward when the base is an ancestor, else a merge commit by corral
 * with two parents; a conflict writes nothing and reports its paths. When
 * the base is checked out somewhere (the user's checkout or a linked
 * worktree) that checkout follows the base if it is clean; a dirty one stops
 * the merge before anything is written.
 */
#include "rt-git.h"

#include <stdlib.h>
#include <string.h>

static int dirty(git_repository *co) {
  git_status_options opts;
  git_status_list *list = NULL;
  int rc;

  git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  if ((rc = git_status_list_new(&list, co, &opts)) < 0)
    return rc;
  rc = git_status_list_entrycount(list) > 0;
  git_status_list_free(list);
  return rc;
}

static int conflicts_collect(struct rt_merge_result *out, git_index *idx) {
  git_index_conflict_iterator *it = NULL;
  const git_index_entry *anc, *ours, *theirs;
  const char *path;

  if (git_index_conflict_iterator_new(&it, idx) < 0)
    return -1;
  while (git_index_conflict_next(&anc, &ours, &theirs, it) == 0) {
    path = ours ? ours->path : theirs ? theirs->path : anc->path;
    out->conflicts =
        xreallocarray(out->conflicts, out->nconflicts + 1, sizeof(char *));
    out->conflicts[out->nconflicts++] = xstrdup(path);
  }
  git_index_conflict_iterator_free(it);
  out->kind = RT_MERGE_CONFLICT;
  return 0;
}

static int merge_write(git_oid *out, git_repository *g, git_commit **parents,
                       git_index *idx, const char *branch, const char *base,
                       struct crl_err *err) {
  git_signature *sig = NULL;
  git_tree *tree = NULL;
  git_oid tree_id;
  char *msg;
  int rc;

  xasprintf(&msg, "Merge branch '%s' into %s\n", branch, base);
  if ((rc = rt__signature(&sig, NULL, err)) < 0)
    goto out;
  if (git_index_write_tree_to(&tree_id, idx, g) < 0 ||
      git_tree_lookup(&tree, g, &tree_id) < 0 ||
      git_commit_create(out, g, NULL, sig, sig, NULL, msg, tree, 2,
                        (const git_commit **)parents) < 0)
    rc = rt__git_fail(err, CRL_EINTERNAL, "merge commit");
out:
  git_tree_free(tree);
  git_signature_free(sig);
  free(msg);
  return rc;
}

/* Merges theirs into ours in memory; on success *out is the merge commit,
 * on conflict out->kind is RT_MERGE_CONFLICT and nothing is written. */
static int merge_commit(git_oid *newid, struct rt_merge_result *out,
                        git_repository *g, const git_oid *ours,
                        const git_oid *theirs, const char *branch,
                        const char *base, struct crl_err *err) {
  git_commit *parents[2] = {NULL, NULL};
  git_index *idx = NULL;
  int rc = 0;

  if (git_commit_lookup(&parents[0], g, ours) < 0 ||
      git_commit_lookup(&parents[1], g, theirs) < 0 ||
      git_merge_commits(&idx, g, parents[0], parents[1], NULL) < 0) {
    rc = rt__git_fail(err, CRL_EINTERNAL, "merge");
    goto out;
  }
  if (git_index_has_conflicts(idx))
    rc = conflicts_collect(out, idx) < 0
             ? rt__git_fail(err, CRL_EINTERNAL, "merge conflicts")
             : 0;
  else
    rc = merge_write(newid, g, parents, idx, branch, base, err);
  if (rc == 0 && out->kind != RT_MERGE_CONFLICT)
    out->kind = RT_MERGE_COMMIT;
out:
  git_index_free(idx);
  git_commit_free(parents[1]);
  git_commit_free(parents[0]);
  return rc;
}

/* Moves base from old to new, checking the new tree out first where base
 * is checked out so a refused checkout leaves everything as it was. */
static int base_update(git_repository *g, git_repository *co,
                       const char *refname, const git_oid *old,
                       const git_oid *newid, struct crl_err *err) {
  git_checkout_options opts;
  git_object *target = NULL;
  git_reference *ref = NULL;
  int rc = 0;

  git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
  opts.checkout_strategy = GIT_CHECKOUT_SAFE;
  if (co != NULL &&
      (git_object_lookup(&target, co, newid, GIT_OBJECT_COMMIT) < 0 ||
       git_checkout_tree(co, target, &opts) < 0)) {
    rc = rt__git_fail(err, CRL_EVALIDATION_FAILED, "update checkout of base");
    goto out;
  }
  if (git_reference_create_matching(&ref, g, refname, newid, 1, old,
                                    "corral: merge") < 0)
    rc = rt__git_fail(err, CRL_EINTERNAL, "update base");
out:
  git_reference_free(ref);
  git_object_free(target);
  return rc;
}

static int ids_resolve(git_oid *b, git_oid *base_id, struct rt_repo *r,
                       const char *bref, const char *baseref,
                       struct crl_err *err) {
  git_repository *g = rt_repo_git(r);

  if (git_reference_name_to_id(b, g, bref) < 0)
    return crl_err_set(err, CRL_ENOT_FOUND, "branch '%s' does not exist in %s",
                       bref + 11, git_repository_commondir(g));
  if (git_reference_name_to_id(base_id, g, baseref) < 0)
    return crl_err_set(err, CRL_ENOT_FOUND, "base '%s' does not exist in %s",
                       baseref + 11, git_repository_commondir(g));
  return 0;
}

static int checkout_clean(git_repository **co, struct rt_repo *r,
                          const char *baseref, struct crl_err *err) {
  int rc;

  if ((rc = rt__checkout_find(co, r, baseref, err)) < 0 || *co == NULL)
    return rc;
  if ((rc = dirty(*co)) == 0)
    return 0;
  if (rc < 0)
    return rt__git_fail(err, CRL_EINTERNAL, "status of base checkout");
  return crl_err_set(err, CRL_EVALIDATION_FAILED,
                     "base '%s' is checked out in %s with uncommitted "
                     "changes; commit or stash them",
                     baseref + 11, git_repository_workdir(*co));
}

int rt_merge_ticket(struct rt_merge_result *out, struct rt_repo *r,
                    const char *branch, const char *base, struct crl_err *err) {
  char *bref = rt__refname(branch), *baseref = rt__refname(base);
  git_repository *g = rt_repo_git(r), *co = NULL;
  git_oid b, old, newid;
  int rc;

  memset(out, 0, sizeof(*out));
  if ((rc = ids_resolve(&b, &old, r, bref, baseref, err)) < 0)
    goto out;
  newid = old;
  if (git_oid_equal(&b, &old) || git_graph_descendant_of(g, &old, &b) == 1) {
    out->kind = RT_MERGE_UP_TO_DATE;
    goto done;
  }
  if ((rc = checkout_clean(&co, r, baseref, err)) < 0)
    goto out;
  if (git_graph_descendant_of(g, &b, &old) == 1) {
    out->kind = RT_MERGE_FASTFORWARD;
    newid = b;
  } else if ((rc = merge_commit(&newid, out, g, &old, &b, branch, base, err)) <
                 0 ||
             out->kind == RT_MERGE_CONFLICT) {
    goto done;
  }
  if ((rc = base_update(g, co, baseref, &old, &newid, err)) < 0)
    goto out;
done:
  if (rc == 0 && out->kind == RT_MERGE_CONFLICT)
    newid = old;
  if (rc == 0)
    git_oid_tostr(out->sha, sizeof(out->sha), &newid);
out:
  git_repository_free(co);
  free(baseref);
  free(bref);
  return rc;
}

void rt_merge_result_close(struct rt_merge_result *m) {
  rt_paths_free(m->conflicts, m->nconflicts);
  m->conflicts = NULL;
  m->nconflicts = 0;
}
