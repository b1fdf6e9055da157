/*
 * The ticket's branch and worktree on real repositories in temp dirs: from
 * a branch, tag or commit, .worktreeinclude copied, reuse, clear errors for
 * a missing repository or base, a dirty or detached user checkout, a bare
 * repository, and canaries that must never fire.
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

TestSuite(rt_worktree, .init = setup, .fini = teardown, .timeout = 60);

Test(rt_worktree, creates_branch_and_worktree_from_base_then_reuses) {
  struct rt_repo *r = open_repo(repo);
  char *wt = ticket_wt(r, "T-1", "main"), *head, *main_sha, *br, *again;

  br = sh_out("git -C %s rev-parse --abbrev-ref HEAD", wt);
  cr_assert_str_eq(br, "corral/m/T-1");
  head = sh_out("git -C %s rev-parse HEAD", wt);
  main_sha = sh_out("git -C %s rev-parse main", repo);
  cr_assert_str_eq(head, main_sha);
  sh("test -f %s/a.txt && test -z \"$(git -C %s status --porcelain)\"", wt, wt);
  write_file(wt, "work.txt", "in progress\n");
  again = ticket_wt(r, "T-1", "main");
  sh("test -f %s/work.txt", again);
  free(again);
  free(br);
  free(head);
  free(main_sha);
  free(wt);
  rt_repo_free(r);
}

Test(rt_worktree, base_may_be_a_tag_or_a_commit) {
  struct rt_repo *r;
  char *first = sh_out("git -C %s rev-parse HEAD", repo), *wt, *head;

  sh("cd %s && git tag v1 && echo c > c.txt && git add c.txt && "
     "git commit -qm second",
     repo);
  r = open_repo(repo);
  wt = ticket_wt(r, "T-tag", "v1");
  head = sh_out("git -C %s rev-parse HEAD", wt);
  cr_assert_str_eq(head, first);
  free(wt);
  free(head);
  wt = ticket_wt(r, "T-sha", first);
  sh("test ! -e %s/c.txt", wt);
  free(wt);
  free(first);
  rt_repo_free(r);
}

Test(rt_worktree, worktreeinclude_files_are_copied_not_symlinks) {
  struct rt_repo *r;
  char *wt, *env;

  sh("cd %s && printf 'KEY=1\\n' > .env && mkdir conf && "
     "echo x > conf/app.local && echo y > conf/app.other && "
     "ln -s /etc/hostname link",
     repo);
  r = open_repo(repo);
  wt = ticket_wt(r, "T-1", "main");
  env = sh_out("cat %s/.env", wt);
  cr_assert_str_eq(env, "KEY=1");
  sh("test -f %s/conf/app.local && test ! -e %s/conf/app.other && "
     "test ! -e %s/link && test ! -L %s/link",
     wt, wt, wt, wt);
  free(env);
  free(wt);
  rt_repo_free(r);
}

Test(rt_worktree, missing_repository_is_a_clear_error) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_repo *r = NULL;
  char *nope = path_of("nope"), *plain = path_of("plain");

  cr_assert_eq(rt_repo_open(&r, nope, &err), CRL_ENOT_FOUND);
  cr_assert(strstr(err.msg, "not a git repository: ") != NULL, "%s", err.msg);
  sh("mkdir %s", plain);
  cr_assert_eq(rt_repo_open(&r, plain, &err), CRL_ENOT_FOUND);
  cr_assert_null(r);
  free(nope);
  free(plain);
}

Test(rt_worktree, missing_base_is_a_clear_error) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_repo *r = open_repo(repo);
  char *wt = path_of("state/wt/m/T-1"), *p = NULL;

  cr_assert_eq(rt_worktree_ensure(&p, r, "m", "T-1", "nope", wt, &err),
               CRL_ENOT_FOUND);
  cr_assert(strstr(err.msg, "base 'nope' does not exist in ") != NULL, "%s",
            err.msg);
  sh("test ! -e %s && ! git -C %s rev-parse -q --verify corral/m/T-1 "
     ">/dev/null",
     wt, repo);
  free(wt);
  rt_repo_free(r);
}

Test(rt_worktree, dirty_and_detached_user_checkout_works) {
  struct rt_repo *r;
  char *wt, *txt;

  sh("cd %s && git checkout -q --detach && echo dirty >> a.txt && "
     "echo new > untracked.txt",
     repo);
  r = open_repo(repo);
  wt = ticket_wt(r, "T-1", "main");
  txt = sh_out("cat %s/a.txt | wc -l", wt);
  cr_assert_str_eq(txt, "5");
  sh("grep -q dirty %s/a.txt && test ! -e %s/untracked.txt", repo, wt);
  free(txt);
  free(wt);
  rt_repo_free(r);
}

Test(rt_worktree, bare_repository_works) {
  char *bare = path_of("bare.git"), *wt;
  struct rt_repo *r;

  sh("git clone -q --bare %s %s", repo, bare);
  r = open_repo(bare);
  wt = ticket_wt(r, "T-1", "main");
  sh("test -f %s/a.txt && git -C %s rev-parse -q --verify corral/m/T-1 "
     ">/dev/null",
     wt, bare);
  free(wt);
  free(bare);
  rt_repo_free(r);
}

Test(rt_worktree, canaries_never_fire) {
  struct rt_repo *r;
  char *gitdir = path_of("repo/.git"), *wt;

  sh("echo K=1 > %s/.env", repo);
  canaries_plant(gitdir);
  r = open_repo(repo);
  wt = ticket_wt(r, "T-1", "main");
  free(wt);
  wt = ticket_wt(r, "T-1", "main");
  cr_assert_eq(markers(), 0);
  free(wt);
  free(gitdir);
  rt_repo_free(r);
}
