/*
 * Process facts: start times, run locks held by a live process, and the
 * status file a shim leaves.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rt-int.h"

static char dir[] = "/tmp/corral-proc-XXXXXX";

static void setup(void) {
  cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
  char *cmd;

  xasprintf(&cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
  free(cmd);
}

TestSuite(rt_proc, .init = setup, .fini = teardown, .timeout = 30);

Test(rt_proc, starttime_is_stable_and_differs_between_processes) {
  int64_t a = rt_proc_starttime(getpid());

  cr_assert_gt(a, 0);
  cr_assert_eq(rt_proc_starttime(getpid()), a);
  cr_assert_lt(rt_proc_starttime(1), a + 1);
  cr_assert_lt(rt_proc_starttime(999999999), 0);
}

Test(rt_proc, lock_held_only_while_the_holder_lives) {
  char *path;
  int pfd[2], fd;
  pid_t pid, got = 0;
  char c;

  xasprintf(&path, "%s/lock", dir);
  cr_assert_eq(rt_lock_held(dir, &got), 0, "no lock file: not held");
  cr_assert_eq(pipe(pfd), 0);
  if ((pid = fork()) == 0) {
    fd = open(path, O_RDWR | O_CREAT, 0600);
    flock(fd, LOCK_EX);
    dprintf(fd, "%ld\n", (long)getpid());
    write(pfd[1], "x", 1);
    pause();
    _exit(0);
  }
  cr_assert_eq(read(pfd[0], &c, 1), 1);
  cr_assert_eq(rt_lock_held(dir, &got), 1);
  cr_assert_eq(got, pid);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  cr_assert_eq(rt_lock_held(dir, &got), 0);
  free(path);
}

Test(rt_proc, status_round_trip) {
  struct rt_status s;
  char *path;
  FILE *fp;

  cr_assert_eq(rt_status_read(&s, dir), -ENOENT);
  xasprintf(&path, "%s/status", dir);
  fp = fopen(path, "w");
  fputs("end=signaled\ncode=0\nsignal=9\nerrno=0\nstopped=1\nkilled=1\n"
        "started=5\nended=7\n",
        fp);
  fclose(fp);
  cr_assert_eq(rt_status_read(&s, dir), 0);
  cr_assert_str_eq(s.end, "signaled");
  cr_assert_eq(s.signal, 9);
  cr_assert_eq(s.killed, 1);
  cr_assert_eq(s.ended, 7);
  cr_assert_eq(rt_status_write_never(path), -EEXIST);
  free(path);
}
