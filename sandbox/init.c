/*
 * The sandbox's init, pid 1 of its pid namespace (s6-svscan and tini in
 * miniature). It forks the command, then waits with the forwarded signals
 * and SIGCHLD blocked, taking them one at a time with sigwaitinfo: SIGTERM,
 * SIGINT, SIGHUP and SIGCONT go on to the command; SIGUSR1 kills the whole
 * namespace with kill(-1, SIGKILL), which from pid 1 reaches every process
 * but itself. It reaps every orphan that lands on it, and when the command
 * exits it exits with the command's status (its exit code, or 128+signal):
 * the kernel then kills whatever the command left behind, so a background
 * daemon cannot outlive its run. As pid 1 cannot die of a signal sent from
 * inside its namespace, a command killed by one would come out as an exit
 * 128+signal: the command's raw wait status also goes to the caller over a
 * status pipe, when it gave one. Signals stay blocked rather than handled
 * because pid 1 drops a signal whose disposition is the default, while a
 * blocked one waits in the queue.
 */
#include "sbx-int.h"

#include <errno.h>
#include <signal.h>
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

void sbx__init_run(sbx__command_fn command, const void *arg, int errfd,
                   int status_fd) {
  sigset_t set;
  pid_t cmd;

  init_sigset(&set);
  /* Not dumpable: the command, same uid, may not read init's memory or
   * environment (the caller's, inherited through clone) via /proc/1. exec
   * makes the command dumpable again. */
  prctl(PR_SET_DUMPABLE, 0);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
    sbx__child_fail(errfd, SBX__STEP_FORK, errno);
  if ((cmd = fork()) < 0)
    sbx__child_fail(errfd, SBX__STEP_FORK, errno);
  if (cmd == 0) {
    command(arg);
    _exit(127);
  }
  close(errfd);
  prctl(PR_SET_NAME, "corral-init");
  init_exit(init_wait(cmd, &set), status_fd);
}
