/*
 * The commit that closes a run, on real repositories: trailers, author and
 * stats equal to `git diff --numstat`, ignored and .worktreeinclude files
 * left out, no empty commits, the agent's own commits kept, the force-push
 * policy with its attic, changed paths, and canaries that must never fire.
 */
#include "git-fixture.h"

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
