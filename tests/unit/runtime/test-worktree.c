/*
 * The ticket's branch and worktree on real repositories in temp dirs: from
 * a branch, tag or commit, .worktreeinclude copied, reuse, clear errors for
 * a missing repository or base, a dirty or detached user checkout, a bare
 * repository, and canaries that must never fire.
 */
#include "git-fixture.h"

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
