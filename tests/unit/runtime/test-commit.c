/*
 * The commit that closes a run, on real repositories: trailers, author and
 * stats equal to `git diff --numstat`, ignored and .worktreeinclude files
 * left out, no empty commits, the agent's own commits kept, the force-push
 * policy with its attic, changed paths, and canaries that must never fire.
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

TestSuite(rt_commit, .init = setup, .fini = teardown, .timeout = 60);

/* "ins\tdel\tpath\n" lines as `git diff --numstat` prints them. */
static char *numstat_of(const struct rt_commit_stat *st) {
  struct crl_buf b;
  char *s;
  size_t i;

  crl_buf_init(&b, 1 << 20);
  for (i = 0; i < st->nper_file; i++)
    crl_buf_printf(&b, "%zu\t%zu\t%s\n", st->per_file[i].ins,
                   st->per_file[i].del, st->per_file[i].path);
  if (b.len > 0)
    b.data[--b.len] = '\0';
  s = xstrdup(b.data ? b.data : "");
  crl_buf_close(&b);
  return s;
}

Test(rt_commit, commit_has_trailers_author_and_numstat_stats) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_commit_stat st;
  struct rt_repo *r;
  char *wt, *got, *want, *msg, *who, *tree, *shortstat;

  sh("cd %s && mkdir conf && echo secret > conf/app.local", repo);
  r = open_repo(repo);
  wt = ticket_wt(r, "T-1", "main");
  sh("cd %s && printf '1\\ntwo\\n3\\n5\\nsix\\nseven\\n' > a.txt && rm b.txt "
     "&& printf 'n1\\nn2\\n' > new.txt && echo x > debug.log",
     wt);
  cr_assert_eq(rt_commit_run(&st, r, wt, &meta, &err), 0, "%s", err.msg);
  cr_assert_eq(st.changed, 1);
  want = sh_out("git -C %s diff --numstat --no-renames %s %s", wt, st.parent,
                st.sha);
  got = numstat_of(&st);
  cr_assert_str_eq(got, want);
  shortstat = sh_out("git -C %s diff --shortstat %s %s", wt, st.parent, st.sha);
  cr_assert_eq(st.files, 3);
  cr_assert_eq(st.insertions, 5);
  cr_assert_eq(st.deletions, 3, "%s", shortstat);
  msg = sh_out("git -C %s log -1 --format=%%B %s", wt, st.sha);
  cr_assert_str_eq(msg, "impl: run r7\n\nCorral-Mission: m\nCorral-Ticket: "
                        "T-1\nCorral-Task: impl\nCorral-Run: r7\n"
                        "Corral-Agent: claude");
  who = sh_out("git -C %s log -1 --format='%%an <%%ae>|%%cn <%%ce>'", wt);
  cr_assert_str_eq(who, "corral (claude) <corral@localhost>|corral (claude) "
                        "<corral@localhost>");
  tree = sh_out("git -C %s ls-tree -r --name-only corral/m/T-1 | tr '\\n' ' '",
                repo);
  cr_assert_str_eq(tree, ".gitattributes .gitignore .worktreeinclude a.txt "
                         "new.txt ");
  rt_commit_stat_close(&st);
  free(shortstat);
  free(got);
  free(want);
  free(msg);
  free(who);
  free(tree);
  free(wt);
  rt_repo_free(r);
}

Test(rt_commit, a_run_that_changed_nothing_makes_no_commit) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_commit_stat st;
  struct rt_repo *r = open_repo(repo);
  char *wt = ticket_wt(r, "T-1", "main"), *before, *after;

  before = sh_out("git -C %s rev-parse HEAD", wt);
  sh("echo ignored > %s/x.log", wt);
  cr_assert_eq(rt_commit_run(&st, r, wt, &meta, &err), 0, "%s", err.msg);
  cr_assert_eq(st.changed, 0);
  cr_assert_str_eq(st.sha, "");
  cr_assert_str_eq(st.parent, before);
  after = sh_out("git -C %s rev-parse HEAD", wt);
  cr_assert_str_eq(after, before);
  rt_commit_stat_close(&st);
  free(before);
  free(after);
  free(wt);
  rt_repo_free(r);
}

Test(rt_commit, the_agents_own_commits_are_kept) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_commit_stat st;
  struct rt_repo *r = open_repo(repo);
  char *wt = ticket_wt(r, "T-1", "main"), *agent, *log;

  sh("cd %s && echo c > c.txt && git add c.txt && git commit -qm 'agent "
     "work' && echo d > d.txt",
     wt);
  agent = sh_out("git -C %s rev-parse HEAD", wt);
  cr_assert_eq(rt_commit_run(&st, r, wt, &meta, &err), 0, "%s", err.msg);
  cr_assert_eq(st.changed, 1);
  cr_assert_str_eq(st.parent, agent);
  cr_assert_eq(st.files, 1);
  log = sh_out("git -C %s log --format=%%s -3 | tr '\\n' '|'", wt);
  cr_assert_str_eq(log, "impl: run r7|agent work|base|");
  rt_commit_stat_close(&st);
  sh("cd %s && echo e > e.txt && git add e.txt && git commit -qm more", wt);
  cr_assert_eq(rt_commit_run(&st, r, wt, &meta, &err), 0, "%s", err.msg);
  cr_assert_eq(st.changed, 0, "everything committed by the agent");
  free(agent);
  free(log);
  free(wt);
  rt_repo_free(r);
}

Test(rt_commit, force_push_is_undone_and_kept_in_the_attic) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_repo *r = open_repo(repo);
  char *wt = ticket_wt(r, "T-1", "main"), *last, *rewritten, *attic = NULL;
  char *head, *kept, *status;

  write_file(wt, "c.txt", "c\n");
  last = run_commit(r, wt);
  cr_assert_eq(rt_branch_check(r, "corral/m/T-1", last, &attic, &err), 0);
  cr_assert_null(attic);
  sh("cd %s && git reset -q --hard HEAD~1 && echo z > z.txt && git add z.txt "
     "&& git commit -qm rewrite",
     wt);
  rewritten = sh_out("git -C %s rev-parse HEAD", wt);
  cr_assert_eq(rt_branch_check(r, "corral/m/T-1", last, &attic, &err), 1, "%s",
               err.msg);
  cr_assert_not_null(attic);
  cr_assert(strncmp(attic, "refs/corral/attic/T-1/", 22) == 0, "%s", attic);
  head = sh_out("git -C %s rev-parse corral/m/T-1", repo);
  cr_assert_str_eq(head, last);
  kept = sh_out("git -C %s rev-parse %s", repo, attic);
  cr_assert_str_eq(kept, rewritten);
  status = sh_out("git -C %s status --porcelain", wt);
  cr_assert_str_eq(status, "");
  sh("test -f %s/c.txt && test ! -e %s/z.txt", wt, wt);
  free(attic);
  free(status);
  free(head);
  free(kept);
  free(last);
  free(rewritten);
  free(wt);
  rt_repo_free(r);
}

Test(rt_commit, diff_paths_lists_both_sides) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_repo *r = open_repo(repo);
  char *wt = ticket_wt(r, "T-1", "main"), *from, *to, **paths;
  size_t n;

  from = sh_out("git -C %s rev-parse HEAD", wt);
  sh("cd %s && mkdir -p .github/w && echo y > .github/w/ci.yml && rm b.txt",
     wt);
  to = run_commit(r, wt);
  cr_assert_eq(rt_diff_paths(&paths, &n, r, from, to, &err), 0, "%s", err.msg);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(paths[0], ".github/w/ci.yml");
  cr_assert_str_eq(paths[1], "b.txt");
  rt_paths_free(paths, n);
  free(from);
  free(to);
  free(wt);
  rt_repo_free(r);
}

Test(rt_commit, canaries_never_fire) {
  struct crl_err err = CRL_ERR_INIT;
  char *gitdir = path_of("repo/.git"), *wt, *sha, *attic = NULL;
  struct rt_repo *r;

  canaries_plant(gitdir);
  r = open_repo(repo);
  wt = ticket_wt(r, "T-1", "main");
  write_file(wt, "a.txt", "changed\n");
  write_file(wt, "c.txt", "new\n");
  sha = run_commit(r, wt);
  cr_assert_eq(rt_branch_check(r, "corral/m/T-1", sha, &attic, &err), 0);
  cr_assert_eq(markers(), 0);
  sh("cd %s && git commit -q --allow-empty -m probe 2>/dev/null", wt);
  cr_assert_gt(markers(), 0, "the canaries are live under the git CLI");
  free(sha);
  free(wt);
  free(gitdir);
  rt_repo_free(r);
}
