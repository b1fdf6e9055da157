/*
 * The host probe: every answer agrees with an independent look at the same
 * thing, and whatever is missing comes with a fix.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx-int.h"

TestSuite(sbx_probe, .timeout = 30);

static int userns_works(void) {
  int status;
  pid_t pid = fork();

  if (pid == 0)
    _exit(unshare(CLONE_NEWUSER) == 0 && unshare(CLONE_NEWNS) == 0 ? 0 : 1);
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int has_seccomp_line(void) {
  char line[256];
  int found = 0;
  FILE *fp = fopen("/proc/self/status", "r");

  while (fp != NULL && !found && fgets(line, sizeof(line), fp) != NULL)
    found = strncmp(line, "Seccomp:", 8) == 0;
  if (fp != NULL)
    fclose(fp);
  return found;
}

Test(sbx_probe, answers_are_sane_and_consistent) {
  struct sbx_host h;
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1U);
  struct statfs sf;
  int v2 =
      (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270) ||
      (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == 0x63677270);

  memset(&h, 0xa5, sizeof(h));
  cr_assert_eq(sbx_host_probe(&h), 0);
  cr_assert(h.userns == 0 || h.userns == 1);
  cr_assert(h.seccomp == 0 || h.seccomp == 1);
  cr_assert(h.cgroup2 == 0 || h.cgroup2 == 1);
  cr_assert(h.cgroup_writable == 0 || h.cgroup_writable == 1);
  cr_assert_eq(h.userns, userns_works());
  cr_assert_eq(h.landlock_abi, abi < 0 ? 0 : abi);
  cr_assert_eq(h.cgroup2, v2);
  if (has_seccomp_line())
    cr_assert_eq(h.seccomp, 1);
  cr_assert_lt(strlen(h.controllers), sizeof(h.controllers));
  cr_assert(!h.cgroup_writable || h.cgroup2);
}

Test(sbx_probe, whatever_is_missing_has_a_fix) {
  struct sbx_host h;

  cr_assert_eq(sbx_host_probe(&h), 0);
  if (h.userns)
    cr_assert_str_empty(h.userns_fix);
  else
    cr_assert_str_not_empty(h.userns_fix);
  if (h.landlock_abi > 0)
    cr_assert_str_empty(h.landlock_fix);
  else
    cr_assert_not_null(strstr(h.landlock_fix, "lsm="));
  if (!h.cgroup2 || !h.cgroup_writable)
    cr_assert_not_null(strstr(h.cgroup_fix, "fix: "), "%s", h.cgroup_fix);
}

Test(sbx_probe, leaves_no_probe_cgroup_behind) {
  struct sbx_host h;
  char cmd[256];

  cr_assert_eq(sbx_host_probe(&h), 0);
  snprintf(cmd, sizeof(cmd),
           "find /sys/fs/cgroup -maxdepth 6 -name 'corral-probe-%ld' "
           "2>/dev/null | grep -q .",
           (long)getpid());
  cr_assert_neq(system(cmd), 0);
}
