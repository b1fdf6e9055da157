/*
 * Merging a ticket into its base, on real repositories: fast-forward, a
 * merge commit for a divergent base, a real conflict that writes nothing,
 * a checked-out base that follows when clean and stops everything when
 * dirty, a bare repository, and canaries that must never fire.
 */
#include "git-fixture.h"

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
