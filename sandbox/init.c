/*
 * The sandbox's init, pid 1 of its pid namespace (s6-svscan and tini in
 * miniature). It vforks the command, then waits with the forwarded signals
 * and SIGCHLD blocked, taking them one at a time with sigwaitinfo: SIGTERM,
 * SIGINT, SIGHUP and SIGCONT go on to the command; SIGUSR1 kills the whole
 * namespace with kill(-1, SIGKILL), which from pid 1 reaches every process
 * but itself. It reaps every orphan that lands on it, and when the command
 * exits it exits with the command's status (its exit code, or 128+signal):
 * the kernel then kills whatever the command left behind, so a background
 * daemon cannot outlive its run. As pid 1 cannot die of a signal sent from
 * inside its namespace, a command killed by one would come out as an exit
 * 128+signal: the command's raw wait status also goes to the caller over a
 * status pipe, when it gave one. The command is started with vfork: init
 * is a copy of the caller, and the command replaces itself with execve at
 * once, so copying init's memory for it would be wasted. Init first writes
 * over the caller's argv strings, which it still holds and which the
 * command could read in /proc/1/cmdline. Signals stay blocked rather than
 * handled because pid 1 drops a signal whose disposition is the default, while
 * a blocked one waits in the queue.
 */
#include "sbx-int.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const int init_forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCONT};

static void init_sigset(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < CRL_ARRAY_SIZE(init_forwarded); i++)
    sigaddset(set, init_forwarded[i]);
  sigaddset(set, SIGCHLD);
}

/* Reaps every child that has exited; 1 once the command is among them,
 * with its raw wait status in *status. */
static int init_reap(pid_t cmd, int *status) {
  pid_t pid;
  int st, done = 0;

  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    if (pid != cmd)
      continue;
    *status = st;
    done = 1;
  }
  return done;
}

static void init_forward(pid_t cmd, int sig) {
  if (sig == SIGUSR1)
    kill(-1, SIGKILL);
  else
    kill(cmd, sig);
}

/* The command's raw wait status, once it has exited. */
static int init_wait(pid_t cmd, const sigset_t *set) {
  siginfo_t si;
  int sig, status;

  for (;;) {
    sig = sigwaitinfo(set, &si);
    if (sig == SIGCHLD && init_reap(cmd, &status))
      return status;
    if (sig > 0 && sig != SIGCHLD)
      init_forward(cmd, sig);
  }
}

/* Hands the raw status to the caller (best effort: without it the caller
 * still has the exit code) and exits with the command's code. */
__attribute__((noreturn)) static void init_exit(int status, int status_fd) {
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

  if (status_fd >= 0 && write(status_fd, &status, sizeof(status)) < 0)
    _exit(code);
  _exit(code);
}

/* /proc/1/cmdline shows "corral-init" instead of the caller's argv. With
 * the area's last byte not NUL, the kernel reads it as a process title, up
 * to the first NUL (setproctitle). */
static void init_title(char *title, size_t len) {
  static const char name[] = "corral-init";

  if (title == NULL || len == 0)
    return;
  memset(title, 0, len);
  memcpy(title, name, len > sizeof(name) ? sizeof(name) - 1 : len - 1);
  if (len > sizeof(name))
    title[len - 1] = ' ';
}

/* The command, started with vfork in a frame of its own: the child shares
 * our memory until it execs, only makes syscalls, and execs or _exits, never
 * returning here; we resume once it has done either. No variable of the
 * caller's lives across the vfork. */
__attribute__((noinline)) static pid_t init_start(const struct sbx__init *in) {
  pid_t pid = vfork();

  if (pid == 0) {
    in->command(in->arg);
    _exit(127);
  }
  return pid;
}

void sbx__init_run(const struct sbx__init *in) {
  sigset_t set;
  pid_t cmd;

  init_sigset(&set);
  /* Not dumpable: the command, same uid, may not read init's memory or
   * environment (the caller's, inherited through clone) via /proc/1. exec
   * makes the command dumpable again. */
  prctl(PR_SET_DUMPABLE, 0);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    sbx__child_fail(in->errfd, SBX__STEP_FORK, errno);
  /* Before the command starts, so that it never sees the caller's name or
   * argv in /proc/1: its own arguments are a copy elsewhere. */
  prctl(PR_SET_NAME, "corral-init");
  init_title(in->title, in->title_len);
  if ((cmd = init_start(in)) < 0)
    sbx__child_fail(in->errfd, SBX__STEP_FORK, errno);
  close(in->errfd);
  init_exit(init_wait(cmd, &set), in->status_fd);
}
