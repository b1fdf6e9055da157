/*
 * Merging a ticket into its base, on real repositories: fast-forward, a
 * merge commit for a divergent base, a real conflict that writes nothing,
 * a checked-out base that follows when clean and stops everything when
 * dirty, a bare repository, and canaries that must never fire.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt-git.h"

static char dir[] = "/tmp/corral-git-XXXXXX";
static char *repo, *marks;

/* Runs a shell command built from fmt and asserts it succeeded. */
static void sh(const char *fmt, ...) {
  va_list ap;
  char *cmd;

  va_start(ap, fmt);
  cr_assert_neq(vasprintf(&cmd, fmt, ap), -1);
  va_end(ap);
  cr_assert_eq(system(cmd), 0, "command failed: %s", cmd);
  free(cmd);
}

/* The output of a shell command, trailing newline removed; heap. */
static char *sh_out(const char *fmt, ...) {
  char buf[65536], *cmd;
  size_t n;
  va_list ap;
  FILE *p;

  va_start(ap, fmt);
  cr_assert_neq(vasprintf(&cmd, fmt, ap), -1);
  va_end(ap);
  cr_assert_not_null(p = popen(cmd, "r"));
  n = fread(buf, 1, sizeof(buf) - 1, p);
  buf[n] = '\0';
  cr_assert_eq(pclose(p), 0, "command failed: %s", cmd);
  while (n > 0 && buf[n - 1] == '\n')
    buf[--n] = '\0';
  free(cmd);
  return xstrdup(buf);
}

static char *path_of(const char *rel) {
  char *s;

  xasprintf(&s, "%s/%s", dir, rel);
  return s;
}

/* A repository on main with a.txt, b.txt, .gitignore, .gitattributes naming
 * a filter and diff driver (undefined until the canaries), and
 * .worktreeinclude. */
static void setup(void) {
  cr_assert_not_null(mkdtemp(dir));
  setenv("HOME", dir, 1);
  setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  setenv("GIT_AUTHOR_NAME", "user", 1);
  setenv("GIT_AUTHOR_EMAIL", "user@example.com", 1);
  setenv("GIT_COMMITTER_NAME", "user", 1);
  setenv("GIT_COMMITTER_EMAIL", "user@example.com", 1);
  repo = path_of("repo");
  marks = path_of("marks");
  sh("mkdir -p %s %s && cd %s && git init -q -b main && "
     "printf '1\\n2\\n3\\n4\\n5\\n' > a.txt && printf 'b\\n' > b.txt && "
     "printf '*.log\\n.env\\n' > .gitignore && "
     "printf '* filter=x diff=x\\n' > .gitattributes && "
     "printf '# local files\\n.env\\nconf/*.local\\nlink\\n' > "
     ".worktreeinclude && git add -A && git commit -qm base",
     marks, repo, repo);
}

static void teardown(void) {
  sh("rm -rf '%s'", dir);
  free(repo);
  free(marks);
}

/* Canaries: every hook, core.fsmonitor, the x filter and diff drivers and
 * core.sshCommand touch a file in marks when run. */
__attribute__((unused)) static void canaries_plant(const char *gitdir) {
  static const char *hooks[] = {
      "pre-commit",       "prepare-commit-msg",    "commit-msg",
      "post-commit",      "post-checkout",         "post-merge",
      "pre-merge-commit", "reference-transaction", "post-index-change",
      "pre-auto-gc",      "post-rewrite",          "pre-push"};
  size_t i;

  for (i = 0; i < CRL_ARRAY_SIZE(hooks); i++)
    sh("mkdir -p %s/hooks && printf '#!/bin/sh\\ntouch %s/hook-%s\\n' > "
       "%s/hooks/%s && chmod 755 %s/hooks/%s",
       gitdir, marks, hooks[i], gitdir, hooks[i], gitdir, hooks[i]);
  sh("git --git-dir=%s config core.fsmonitor 'touch %s/fsmonitor; :'", gitdir,
     marks);
  sh("git --git-dir=%s config filter.x.clean 'touch %s/clean; cat'", gitdir,
     marks);
  sh("git --git-dir=%s config filter.x.smudge 'touch %s/smudge; cat'", gitdir,
     marks);
  sh("git --git-dir=%s config diff.x.command 'touch %s/diff'", gitdir, marks);
  sh("git --git-dir=%s config diff.x.textconv 'touch %s/textconv; cat'", gitdir,
     marks);
  sh("git --git-dir=%s config core.sshCommand 'touch %s/ssh'", gitdir, marks);
}

__attribute__((unused)) static int markers(void) {
  struct dirent *de;
  DIR *d = opendir(marks);
  int n = 0;

  cr_assert_not_null(d);
  while ((de = readdir(d)) != NULL)
    n += de->d_name[0] != '.';
  closedir(d);
  return n;
}

static struct rt_repo *open_repo(const char *path) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_repo *r = NULL;

  cr_assert_eq(rt_repo_open(&r, path, &err), 0, "%s", err.msg);
  return r;
}

/* Ensures ticket T's worktree of mission m at dir/wt/T from base. */
__attribute__((unused)) static char *
ticket_wt(struct rt_repo *r, const char *ticket, const char *base) {
  struct crl_err err = CRL_ERR_INIT;
  char *wt, *p;
  int rc;

  xasprintf(&wt, "%s/state/wt/m/%s", dir, ticket);
  rc = rt_worktree_ensure(&p, r, "m", ticket, base, wt, &err);
  cr_assert_eq(rc, 0, "%d %s", rc, err.msg);
  cr_assert_str_eq(p, wt);
  free(p);
  return wt;
}

__attribute__((unused)) static void write_file(const char *d, const char *rel,
                                               const char *text) {
  char *p;
  FILE *f;

  xasprintf(&p, "%s/%s", d, rel);
  cr_assert_not_null(f = fopen(p, "w"), "%s", p);
  fputs(text, f);
  fclose(f);
  free(p);
}

static const struct rt_commit_meta meta = {.mission = "m",
                                           .ticket = "T-1",
                                           .task = "impl",
                                           .run = "r7",
                                           .agent = "claude"};

/* Commits the worktree as a run; returns the commit's sha (heap). */
__attribute__((unused)) static char *run_commit(struct rt_repo *r,
                                                const char *wt) {
  struct rt_commit_stat st;
  struct crl_err err = CRL_ERR_INIT;
  char *sha;

  cr_assert_eq(rt_commit_run(&st, r, wt, &meta, &err), 0, "%s", err.msg);
  cr_assert_eq(st.changed, 1);
  sha = xstrdup(st.sha);
  rt_commit_stat_close(&st);
  return sha;
}

TestSuite(rt_merge, .init = setup, .fini = teardown, .timeout = 60);

/* A ticket worktree with one corral commit writing text to rel. */
static char *ticket_commit(struct rt_repo *r, const char *ticket,
                           const char *rel, const char *text) {
  char *wt = ticket_wt(r, ticket, "main"), *sha;

  write_file(wt, rel, text);
  sha = run_commit(r, wt);
  free(wt);
  return sha;
}

static void merge_ok(struct rt_merge_result *m, struct rt_repo *r,
                     const char *ticket) {
  struct crl_err err = CRL_ERR_INIT;
  char *branch;

  xasprintf(&branch, "corral/m/%s", ticket);
  cr_assert_eq(rt_merge_ticket(m, r, branch, "main", &err), 0, "%s", err.msg);
  free(branch);
}

Test(rt_merge, fast_forward_when_base_did_not_move) {
  struct rt_merge_result m;
  struct rt_repo *r;
  char *sha, *main_sha;

  sh("git -C %s checkout -q -b other", repo);
  r = open_repo(repo);
  sha = ticket_commit(r, "T-1", "c.txt", "c\n");
  merge_ok(&m, r, "T-1");
  cr_assert_eq(m.kind, RT_MERGE_FASTFORWARD);
  cr_assert_str_eq(m.sha, sha);
  main_sha = sh_out("git -C %s rev-parse main", repo);
  cr_assert_str_eq(main_sha, sha);
  rt_merge_result_close(&m);
  merge_ok(&m, r, "T-1");
  cr_assert_eq(m.kind, RT_MERGE_UP_TO_DATE);
  free(main_sha);
  free(sha);
  rt_repo_free(r);
}

Test(rt_merge, divergent_base_gets_a_merge_commit_with_two_parents) {
  struct rt_merge_result m;
  struct rt_repo *r;
  char *sha, *parents, *want, *who, *old;

  sh("git -C %s checkout -q --detach", repo);
  r = open_repo(repo);
  sha = ticket_commit(r, "T-1", "c.txt", "c\n");
  sh("cd %s && git checkout -q main && echo d > d.txt && git add d.txt && "
     "git commit -qm 'base moved' && git checkout -q --detach",
     repo);
  old = sh_out("git -C %s rev-parse main", repo);
  merge_ok(&m, r, "T-1");
  cr_assert_eq(m.kind, RT_MERGE_COMMIT);
  parents = sh_out("git -C %s log -1 --format=%%P main", repo);
  xasprintf(&want, "%s %s", old, sha);
  cr_assert_str_eq(parents, want);
  who = sh_out("git -C %s log -1 --format='%%an <%%ae>' main", repo);
  cr_assert_str_eq(who, "corral <corral@localhost>");
  sh("git -C %s cat-file -e main:c.txt && git -C %s cat-file -e main:d.txt",
     repo, repo);
  rt_merge_result_close(&m);
  free(old);
  free(who);
  free(want);
  free(parents);
  free(sha);
  rt_repo_free(r);
}

Test(rt_merge, a_conflict_reports_paths_and_leaves_base_alone) {
  struct rt_merge_result m;
  struct rt_repo *r = open_repo(repo);
  char *sha, *before, *after, *status;

  sha = ticket_commit(r, "T-1", "a.txt", "ticket\n2\n3\n4\n5\n");
  sh("cd %s && printf 'base\\n2\\n3\\n4\\n5\\n' > a.txt && git commit -qam "
     "'base edit'",
     repo);
  before = sh_out("git -C %s rev-parse main", repo);
  merge_ok(&m, r, "T-1");
  cr_assert_eq(m.kind, RT_MERGE_CONFLICT);
  cr_assert_eq(m.nconflicts, 1);
  cr_assert_str_eq(m.conflicts[0], "a.txt");
  cr_assert_str_eq(m.sha, before);
  after = sh_out("git -C %s rev-parse main", repo);
  cr_assert_str_eq(after, before);
  status = sh_out("git -C %s status --porcelain", repo);
  cr_assert_str_eq(status, "");
  rt_merge_result_close(&m);
  free(status);
  free(before);
  free(after);
  free(sha);
  rt_repo_free(r);
}

Test(rt_merge, a_clean_checked_out_base_is_updated) {
  struct rt_merge_result m;
  struct rt_repo *r = open_repo(repo);
  char *sha, *status, *c;

  sha = ticket_commit(r, "T-1", "c.txt", "from ticket\n");
  merge_ok(&m, r, "T-1");
  cr_assert_eq(m.kind, RT_MERGE_FASTFORWARD);
  c = sh_out("cat %s/c.txt", repo);
  cr_assert_str_eq(c, "from ticket");
  status = sh_out("git -C %s status --porcelain", repo);
  cr_assert_str_eq(status, "");
  rt_merge_result_close(&m);
  free(status);
  free(c);
  free(sha);
  rt_repo_free(r);
}

Test(rt_merge, a_dirty_checked_out_base_stops_and_changes_nothing) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_merge_result m;
  struct rt_repo *r = open_repo(repo);
  char *sha, *before, *after, *status;

  sha = ticket_commit(r, "T-1", "c.txt", "c\n");
  sh("echo local >> %s/b.txt", repo);
  before = sh_out("git -C %s rev-parse main", repo);
  cr_assert_eq(rt_merge_ticket(&m, r, "corral/m/T-1", "main", &err),
               CRL_EVALIDATION_FAILED);
  cr_assert(strstr(err.msg, "base 'main' is checked out in ") != NULL, "%s",
            err.msg);
  cr_assert(strstr(err.msg, "with uncommitted changes; commit or stash them"),
            "%s", err.msg);
  after = sh_out("git -C %s rev-parse main", repo);
  cr_assert_str_eq(after, before);
  status = sh_out("git -C %s status --porcelain", repo);
  cr_assert_str_eq(status, " M b.txt");
  sh("test ! -e %s/c.txt", repo);
  rt_merge_result_close(&m);
  free(status);
  free(before);
  free(after);
  free(sha);
  rt_repo_free(r);
}

Test(rt_merge, missing_branch_or_base_is_a_clear_error) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_merge_result m;
  struct rt_repo *r = open_repo(repo);

  free(ticket_commit(r, "T-1", "c.txt", "c\n"));
  cr_assert_eq(rt_merge_ticket(&m, r, "corral/m/T-1", "nope", &err),
               CRL_ENOT_FOUND);
  cr_assert(strstr(err.msg, "base 'nope' does not exist in ") != NULL, "%s",
            err.msg);
  cr_assert_eq(rt_merge_ticket(&m, r, "corral/m/T-9", "main", &err),
               CRL_ENOT_FOUND);
  rt_repo_free(r);
}

Test(rt_merge, bare_repository_merges) {
  struct rt_merge_result m;
  char *bare = path_of("bare.git"), *sha, *main_sha;
  struct rt_repo *r;

  sh("git clone -q --bare %s %s", repo, bare);
  r = open_repo(bare);
  sha = ticket_commit(r, "T-1", "c.txt", "c\n");
  merge_ok(&m, r, "T-1");
  cr_assert_eq(m.kind, RT_MERGE_FASTFORWARD);
  main_sha = sh_out("git -C %s rev-parse main", bare);
  cr_assert_str_eq(main_sha, sha);
  rt_merge_result_close(&m);
  free(main_sha);
  free(sha);
  free(bare);
  rt_repo_free(r);
}

Test(rt_merge, canaries_never_fire_through_a_whole_ticket) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_merge_result m;
  char *gitdir = path_of("repo/.git"), *sha, *attic = NULL, **paths, *wt;
  struct rt_repo *r;
  size_t n;

  sh("echo K=1 > %s/.env", repo);
  canaries_plant(gitdir);
  r = open_repo(repo);
  wt = ticket_wt(r, "T-1", "main");
  write_file(wt, "a.txt", "ticket edit\n");
  write_file(wt, "c.txt", "c\n");
  sha = run_commit(r, wt);
  cr_assert_eq(rt_branch_check(r, "corral/m/T-1", sha, &attic, &err), 0);
  cr_assert_eq(rt_diff_paths(&paths, &n, r, sha, sha, &err), 0);
  rt_paths_free(paths, n);
  write_file(repo, "b.txt", "base edit\n");
  sh("git -C %s -c core.hooksPath=/dev/null -c core.fsmonitor= "
     "-c filter.x.clean=cat -c filter.x.smudge=cat commit -qam 'base edit'",
     repo);
  cr_assert_eq(markers(), 0);
  merge_ok(&m, r, "T-1");
  cr_assert_eq(m.kind, RT_MERGE_COMMIT);
  sh("grep -q 'ticket edit' %s/a.txt", repo);
  cr_assert_eq(markers(), 0);
  sh("git -C %s status --porcelain >/dev/null 2>&1", repo);
  cr_assert_gt(markers(), 0, "the canaries are live under the git CLI");
  rt_merge_result_close(&m);
  free(wt);
  free(sha);
  free(gitdir);
  rt_repo_free(r);
}
