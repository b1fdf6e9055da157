/*
 * The repository: opening the user's repository (always through its common
 * directory, so a linked worktree path works too), libgit2 errors turned
 * into corral's, finding the checkout that has a branch, corral's
 * signature, and the force-push policy that guards a ticket's branch by
 * keeping rewritten history under refs/corral/attic/ and restoring the
 * branch. libgit2 runs no hooks, fsmonitor, filter drivers or ssh commands,
 * which is why none of this shells out to git.
 */
#include "rt-git.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rt_repo {
  git_repository *git;
};

int rt__git_fail(struct crl_err *err, int code, const char *what) {
  const git_error *e = git_error_last();

  return crl_err_set(err, code, "%s: %s", what,
                     e && e->message ? e->message : "unknown git error");
}

char *rt__refname(const char *name) {
  char *s;

  if (strncmp(name, "refs/", 5) == 0)
    return xstrdup(name);
  xasprintf(&s, "refs/heads/%s", name);
  return s;
}

static int open_common(git_repository **out, const char *path) {
  git_repository *g = NULL;
  int rc;

  if ((rc = git_repository_open_ext(&g, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
                                    NULL)) < 0)
    return rc;
  /* A linked worktree is opened as the repository it belongs to, so that
   * "checked out in the main worktree" means the user's main checkout. */
  if (git_repository_is_worktree(g)) {
    rc = git_repository_open(out, git_repository_commondir(g));
    git_repository_free(g);
    return rc;
  }
  *out = g;
  return 0;
}

int rt_repo_open(struct rt_repo **out, const char *path, struct crl_err *err) {
  git_repository *g = NULL;

  git_libgit2_init();
  if (open_common(&g, path) < 0) {
    git_libgit2_shutdown();
    return crl_err_set(err, CRL_ENOT_FOUND, "not a git repository: %s", path);
  }
  *out = xcalloc(1, sizeof(**out));
  (*out)->git = g;
  return 0;
}

void rt_repo_free(struct rt_repo *r) {
  if (r == NULL)
    return;
  git_repository_free(r->git);
  free(r);
  git_libgit2_shutdown();
}

git_repository *rt_repo_git(struct rt_repo *r) {
  return r->git;
}

int rt__signature(git_signature **out, const char *agent, struct crl_err *err) {
  char *name;
  int rc = 0;

  if (agent != NULL)
    xasprintf(&name, "corral (%s)", agent);
  else
    name = xstrdup("corral");
  if (git_signature_now(out, name, "corral@localhost") < 0)
    rc = rt__git_fail(err, CRL_EBAD_REQUEST, "signature");
  free(name);
  return rc;
}

/* Whether g's HEAD is the symbolic ref refname (a branch checked out). */
static int head_is(git_repository *g, const char *refname) {
  git_reference *head = NULL;
  int is;

  if (git_reference_lookup(&head, g, "HEAD") < 0)
    return 0;
  is = git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
       strcmp(git_reference_symbolic_target(head), refname) == 0;
  git_reference_free(head);
  return is;
}

/* Opens linked worktree `name` when it is valid and has refname. */
static int linked_open(git_repository **out, git_repository *g,
                       const char *name, const char *refname) {
  git_worktree *wt = NULL;
  git_repository *w = NULL;

  *out = NULL;
  if (git_worktree_lookup(&wt, g, name) < 0 || git_worktree_validate(wt) < 0)
    goto out;
  if (git_repository_open_from_worktree(&w, wt) < 0)
    goto out;
  if (head_is(w, refname)) {
    *out = w;
    w = NULL;
  }
out:
  git_repository_free(w);
  git_worktree_free(wt);
  return 0;
}

int rt__checkout_find(git_repository **out, struct rt_repo *r,
                      const char *refname, struct crl_err *err) {
  git_strarray names = {0};
  size_t i;

  *out = NULL;
  if (!git_repository_is_bare(r->git) && head_is(r->git, refname)) {
    if (git_repository_open(out, git_repository_workdir(r->git)) < 0)
      return rt__git_fail(err, CRL_EINTERNAL, "open checkout");
    return 0;
  }
  if (git_worktree_list(&names, r->git) < 0)
    return rt__git_fail(err, CRL_EINTERNAL, "list worktrees");
  for (i = 0; i < names.count && *out == NULL; i++)
    linked_open(out, r->git, names.strings[i], refname);
  git_strarray_dispose(&names);
  return 0;
}

/* Saves oid under refs/corral/attic/<ticket>/<unix time>[-n]. */
static int attic_save(char **out, git_repository *g, const char *refname,
                      const git_oid *oid, struct crl_err *err) {
  const char *ticket = strrchr(refname, '/') + 1;
  git_reference *ref = NULL;
  long long now = (long long)time(NULL);
  char *name = NULL;
  int i, rc = GIT_EEXISTS;

  for (i = 0; i < 100 && rc == GIT_EEXISTS; i++) {
    free(name);
    if (i == 0)
      xasprintf(&name, "refs/corral/attic/%s/%lld", ticket, now);
    else
      xasprintf(&name, "refs/corral/attic/%s/%lld-%d", ticket, now, i);
    rc = git_reference_create(&ref, g, name, oid, 0, "corral: attic");
  }
  git_reference_free(ref);
  if (rc < 0) {
    free(name);
    return rt__git_fail(err, CRL_EINTERNAL, "save attic ref");
  }
  *out = name;
  return 0;
}

/* Moves refname back to oid; the checkout holding it is reset hard so its
 * index and files follow the branch. */
static int branch_restore(struct rt_repo *r, const char *refname,
                          const git_oid *oid, struct crl_err *err) {
  git_repository *co = NULL;
  git_object *obj = NULL;
  git_reference *ref = NULL;
  int rc;

  if ((rc = rt__checkout_find(&co, r, refname, err)) < 0)
    return rc;
  if (co != NULL) {
    if (git_object_lookup(&obj, co, oid, GIT_OBJECT_COMMIT) < 0 ||
        git_reset(co, obj, GIT_RESET_HARD, NULL) < 0)
      rc = rt__git_fail(err, CRL_EINTERNAL, "restore branch");
  } else if (git_reference_create(&ref, r->git, refname, oid, 1,
                                  "corral: restore after force-push") < 0) {
    rc = rt__git_fail(err, CRL_EINTERNAL, "restore branch");
  }
  git_reference_free(ref);
  git_object_free(obj);
  git_repository_free(co);
  return rc;
}

int rt_branch_rewind(struct rt_repo *r, const char *branch, const char *to,
                     char **attic_ref, struct crl_err *err) {
  char *refname = rt__refname(branch);
  git_oid head, last;
  int rc;

  *attic_ref = NULL;
  if (git_oid_fromstr(&last, to) < 0) {
    rc = crl_err_set(err, CRL_EBAD_REQUEST, "bad commit id '%s'", to);
    goto out;
  }
  if (git_reference_name_to_id(&head, r->git, refname) < 0) {
    rc = crl_err_set(err, CRL_ENOT_FOUND, "branch '%s' does not exist", branch);
    goto out;
  }
  if (git_oid_equal(&head, &last)) {
    rc = 0;
    goto out;
  }
  if ((rc = attic_save(attic_ref, r->git, refname, &head, err)) < 0 ||
      (rc = branch_restore(r, refname, &last, err)) < 0)
    goto out;
  rc = 1;
out:
  if (rc < 0) {
    free(*attic_ref);
    *attic_ref = NULL;
  }
  free(refname);
  return rc;
}

int rt_attic_save(char **attic_ref, struct rt_repo *r, const char *ticket,
                  const char *sha, struct crl_err *err) {
  git_oid oid;
  char *fake;
  int rc;

  if (git_oid_fromstr(&oid, sha) < 0)
    return crl_err_set(err, CRL_EBAD_REQUEST, "bad commit id '%s'", sha);
  xasprintf(&fake, "refs/heads/%s", ticket);
  rc = attic_save(attic_ref, r->git, fake, &oid, err);
  free(fake);
  return rc;
}

int rt_branch_check(struct rt_repo *r, const char *branch,
                    const char *last_head, char **attic_ref,
                    struct crl_err *err) {
  char *refname = rt__refname(branch);
  git_oid head, last;
  int rc;

  *attic_ref = NULL;
  if (git_oid_fromstr(&last, last_head) < 0) {
    rc = crl_err_set(err, CRL_EBAD_REQUEST, "bad commit id '%s'", last_head);
    goto out;
  }
  if (git_reference_name_to_id(&head, r->git, refname) < 0) {
    rc = crl_err_set(err, CRL_ENOT_FOUND, "branch '%s' does not exist", branch);
    goto out;
  }
  rc = git_oid_equal(&head, &last)
           ? 1
           : git_graph_descendant_of(r->git, &head, &last);
  if (rc < 0)
    rc = rt__git_fail(err, CRL_EINTERNAL, "force-push check");
  else if (rc == 1)
    rc = 0;
  else
    rc = rt_branch_rewind(r, branch, last_head, attic_ref, err);
out:
  free(refname);
  return rc;
}
