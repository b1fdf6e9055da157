/*
 * The git layer of the runtime, built on libgit2: a ticket's branch and
 * worktree, the commit that closes every run with its trailers and diff
 * stats, the force-push policy, and the merge of a ticket into its base.
 * Everything happens in-process through libgit2, which never runs hooks,
 * core.fsmonitor, external filter or diff drivers, or core.sshCommand: an
 * agent that planted any of those in a repository cannot make corral run
 * them (tests/unit/runtime/test-*.c plant canaries to check it).
 */
#ifndef RT_GIT_H
#define RT_GIT_H

#include <git2.h>
#include <stddef.h>

#include "crl.h"

/* An open repository: the user's, always its main (common) repository even
 * when opened through a linked worktree. */
struct rt_repo;

/*
 * Opens the repository at path (a work tree, a .git directory or a bare
 * repository; no search upwards). Fails with CRL_ENOT_FOUND and "not a git
 * repository: PATH". *out is owned by the caller; free it with rt_repo_free.
 */
int rt_repo_open(struct rt_repo **out, const char *path, struct crl_err *err);
void rt_repo_free(struct rt_repo *r);
/* The libgit2 handle (borrowed). */
git_repository *rt_repo_git(struct rt_repo *r);

/*
 * Ensures the ticket's branch `corral/<mission>/<ticket>` and its worktree at
 * dir. A missing branch is created from base (a branch, tag or commit; a
 * missing one fails with CRL_ENOT_FOUND, "base 'x' does not exist in REPO");
 * an existing branch is kept as it is. An existing worktree at dir on that
 * branch is reused; a new one gets the files matched by the repository's
 * .worktreeinclude copied from the user's checkout. The user's checkout may
 * be dirty or detached. *out_path is heap-owned by the caller.
 */
int rt_worktree_ensure(char **out_path, struct rt_repo *r, const char *mission,
                       const char *ticket, const char *base, const char *dir,
                       struct crl_err *err);

/* Who and what a run's commit belongs to; all fields are required. */
struct rt_commit_meta {
  const char *mission, *ticket, *task, *run, *agent;
};

struct rt_file_stat {
  char *path;
  size_t ins, del;
};

/* The result of rt_commit_run; release with rt_commit_stat_close. */
struct rt_commit_stat {
  char sha[41];    /* corral's commit, "" when changed == 0 */
  char parent[41]; /* its parent (the branch head before the commit) */
  int changed;
  size_t files;
  size_t insertions;
  size_t deletions;
  struct rt_file_stat *per_file;
  size_t nper_file;
};

void rt_commit_stat_close(struct rt_commit_stat *s);

/*
 * Stages everything in the worktree (respecting .gitignore, deletions
 * included, never files matched by .worktreeinclude that git does not
 * track) and, when the tree differs from HEAD, commits it on the worktree's
 * branch as `corral (<agent>)` with Corral-* trailers. Commits the agent made
 * itself stay; corral's goes on top. Stats equal `git diff --numstat
 * --no-renames parent..sha` (binary files count 0/0).
 */
int rt_commit_run(struct rt_commit_stat *out, struct rt_repo *r,
                  const char *worktree, const struct rt_commit_meta *m,
                  struct crl_err *err);

/*
 * The force-push policy. branch is a short name (`corral/m/t`) or a full
 * ref. Returns 0 when the branch head is last_head or descends from it.
 * Otherwise the rewritten head is saved under
 * refs/corral/attic/<ticket>/<unix time>, the branch (and the worktree that
 * has it checked out, reset hard) is restored to last_head, *attic_ref is
 * set (heap-owned) and 1 is returned. The ticket is the branch's last path
 * component. Call it after rt_commit_run, when the worktree is clean.
 */
int rt_branch_check(struct rt_repo *r, const char *branch,
                    const char *last_head, char **attic_ref,
                    struct crl_err *err);

/*
 * Moves branch back to `to` (a commit id), keeping its current head under
 * refs/corral/attic/<ticket>/<unix time>; the checkout holding the branch is
 * reset hard. Returns 1 and sets *attic_ref (heap) when the branch moved, 0
 * when it already was at `to`.
 */
int rt_branch_rewind(struct rt_repo *r, const char *branch, const char *to,
                     char **attic_ref, struct crl_err *err);
/* Keeps commit sha under refs/corral/attic/<ticket>/<unix time>[-n]. */
int rt_attic_save(char **attic_ref, struct rt_repo *r, const char *ticket,
                  const char *sha, struct crl_err *err);

/* The diff stats of from..to (trees compared, like `git diff --numstat
 * --no-renames from to`), into out (sha, parent and changed left unset). */
int rt_diff_stat(struct rt_commit_stat *out, struct rt_repo *r,
                 const char *from_sha, const char *to_sha, struct crl_err *err);

/* Paths changed between two commits (both sides of a change; no rename
 * detection). *out is a heap array of heap strings; free with
 * rt_paths_free. */
int rt_diff_paths(char ***out, size_t *n, struct rt_repo *r,
                  const char *from_sha, const char *to_sha,
                  struct crl_err *err);
void rt_paths_free(char **paths, size_t n);

enum rt_merge_kind {
  RT_MERGE_UP_TO_DATE, /* base already contains branch */
  RT_MERGE_FASTFORWARD,
  RT_MERGE_COMMIT,  /* a merge commit with two parents */
  RT_MERGE_CONFLICT /* nothing written; conflicts lists the paths */
};

/* The result of rt_merge_ticket; release with rt_merge_result_close. */
struct rt_merge_result {
  enum rt_merge_kind kind;
  char sha[41]; /* base's head afterwards */
  char **conflicts;
  size_t nconflicts;
};

void rt_merge_result_close(struct rt_merge_result *m);

/*
 * Merges branch into base (both short branch names or full refs) in memory.
 * A conflict writes nothing and returns 0 with kind RT_MERGE_CONFLICT. When
 * base is checked out in a worktree, that checkout is updated too if it is
 * clean; a dirty one fails with CRL_EVALIDATION_FAILED ("base 'main' is
 * checked out in PATH with uncommitted changes; ...") and changes nothing.
 */
int rt_merge_ticket(struct rt_merge_result *out, struct rt_repo *r,
                    const char *branch, const char *base, struct crl_err *err);

/* What `corral gc` finds of a ticket (gc.c). */
struct rt_gc_ticket {
  int has_branch;
  int has_worktree;
  int dirty;       /* uncommitted changes in the worktree */
  size_t unmerged; /* commits of the branch that base lacks */
};

/* Inspects branch (full ref) against base (full ref, or NULL: unknown, so
 * counted as unmerged) and the worktree at dir. */
int rt_gc_inspect(struct rt_gc_ticket *out, struct rt_repo *r,
                  const char *branch, const char *base, const char *dir,
                  struct crl_err *err);
/* Commits the worktree's uncommitted changes on its branch, then keeps the
 * branch head under refs/corral/attic/<ticket>/<time> (*attic, heap; NULL
 * when there is no branch). */
int rt_gc_save(char **attic, struct rt_repo *r, const char *ticket,
               const char *branch, const char *dir, struct crl_err *err);
/* Removes the worktree at dir (files and metadata) and deletes branch. */
int rt_gc_remove(struct rt_repo *r, const char *branch, const char *dir,
                 struct crl_err *err);
/* Prunes (or, with dry, lists) the metadata of worktrees under prefix
 * whose directory is gone. *pruned: heap names; free with rt_paths_free. */
int rt_gc_prune(char ***pruned, size_t *n, struct rt_repo *r,
                const char *prefix, int dry, struct crl_err *err);

/* Shared by the git files of runtime/ only. */

/* Sets err from libgit2's last error, prefixed by what; returns code. */
int rt__git_fail(struct crl_err *err, int code, const char *what);
/* "refs/heads/<name>" unless name already starts with "refs/"; heap. */
char *rt__refname(const char *name);
/* Opens the worktree (main or linked) whose HEAD is the branch refname;
 * *out = NULL when none has it checked out. */
int rt__checkout_find(git_repository **out, struct rt_repo *r,
                      const char *refname, struct crl_err *err);
/* The corral signature: `corral (<agent>)` <corral@localhost>. */
int rt__signature(git_signature **out, const char *agent, struct crl_err *err);
/* The patterns of root/.worktreeinclude (one path or glob(3) pattern a line,
 * '#' comments, leading '/' dropped, lines with ".." or empty ones
 * skipped); none when the file is missing. Free with rt_paths_free. */
void rt__include_read(char ***out, size_t *n, const char *root);

#endif
