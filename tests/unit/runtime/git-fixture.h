/*
 * Shared fixture of the git layer tests: a fresh temp dir per test holding a
 * real repository, helpers that drive the git CLI for setup and checks, and
 * canaries (hooks, fsmonitor, filter and diff drivers, sshCommand) that
 * write a marker if anything ever runs them. Criterion runs each test in
 * its own process, so the file-scope state is per test.
 */
#ifndef GIT_FIXTURE_H
#define GIT_FIXTURE_H

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

#endif
