/*
 * corral sandbox [--profile P] [--dir D] [--home-dir D]... [--keep-fd N]...
 * [--verbose] -- CMD ARGS...: runs one command in a sandbox profile (agent
 * by default) with D (the current directory by default) as its writable
 * workdir and an allowlisted environment, waits for it and exits with its
 * status (its code, or 128+signal). For users, for debugging, and for the
 * tests. A host that cannot enforce the profile gets a refusal with the fix
 * and exit 1, never a weaker sandbox. It needs only the sandbox and base
 * modules: the lean front (front.c) runs it without loading the full CLI.
 */
#include "rt-cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crl.h"
#include "sbx.h"

/* The variables that cross into the sandbox, besides HOME. */
static const char *const sandbox_env_names[] = {
    "PATH", "USER", "LOGNAME", "LANG", "LC_ALL", "TERM", "TZ"};

static const int sandbox_forwarded[] = {SIGTERM, SIGINT, SIGHUP};

struct sandbox_args {
  const char *profile;
  const char *dir;
  char **home_dirs; /* NULL-terminated; the strings are argv's */
  size_t nhome_dirs;
  int *keep_fds;
  size_t nkeep_fds;
  int verbose;
  char **cmd;
};

static void sandbox_usage(FILE *fp) {
  fputs("usage: corral sandbox [--profile P] [--dir D] [--home-dir D]...\n"
        "                      [--keep-fd N]... [--verbose] -- CMD [ARG]...\n"
        "\n"
        "Runs CMD in sandbox profile P (agent, strict, network or none;\n"
        "default agent) with D (default: the current directory) writable,\n"
        "each --home-dir bound read-write under the sandbox's empty $HOME,\n"
        "and fd N kept open. Exits with CMD's status.\n",
        fp);
}

static int sandbox_keep_fd(struct sandbox_args *a, const char *s) {
  char *end;
  long fd;

  errno = 0;
  fd = strtol(s, &end, 10);
  if (errno != 0 || *end != '\0' || fd < 3 || fd > 65535) {
    rt_errorf("fatal: sandbox: --keep-fd %s: not an fd above 2", s);
    return -1;
  }
  a->keep_fds = xreallocarray(a->keep_fds, a->nkeep_fds + 1, sizeof(int));
  a->keep_fds[a->nkeep_fds++] = (int)fd;
  return 0;
}

static void sandbox_home_dir(struct sandbox_args *a, char *dir) {
  a->home_dirs = xreallocarray(a->home_dirs, a->nhome_dirs + 2, sizeof(char *));
  a->home_dirs[a->nhome_dirs++] = dir;
  a->home_dirs[a->nhome_dirs] = NULL;
}

/* Sets a->cmd to go on; otherwise returns the exit code to leave with
 * (after --help, or a usage error). */
static int sandbox_parse(struct sandbox_args *a, int argc, char **argv) {
  static const struct option opts[] = {{"profile", required_argument, 0, 'p'},
                                       {"dir", required_argument, 0, 'd'},
                                       {"home-dir", required_argument, 0, 'H'},
                                       {"keep-fd", required_argument, 0, 'k'},
                                       {"verbose", no_argument, 0, 'v'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c;

  while ((c = getopt_long(argc, argv, "+p:d:vh", opts, NULL)) != -1) {
    if (c == 'p')
      a->profile = optarg;
    else if (c == 'd')
      a->dir = optarg;
    else if (c == 'H')
      sandbox_home_dir(a, optarg);
    else if (c == 'k' && sandbox_keep_fd(a, optarg) < 0)
      return RT_EXIT_USAGE;
    else if (c == 'v')
      a->verbose = 1;
    else if (c == 'h' || c == '?')
      return sandbox_usage(c == 'h' ? stdout : stderr),
             c == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (optind >= argc)
    return sandbox_usage(stderr), RT_EXIT_USAGE;
  a->cmd = argv + optind;
  return 0;
}

/* The command's environment: HOME, and the allowlisted variables the
 * caller has. Heap vector of heap strings. */
static char **sandbox_env(const char *home) {
  char **env = xcalloc(CRL_ARRAY_SIZE(sandbox_env_names) + 2, sizeof(*env));
  size_t n = 0;
  const char *v;

  xasprintf(&env[n++], "HOME=%s", home);
  for (size_t i = 0; i < CRL_ARRAY_SIZE(sandbox_env_names); i++)
    if ((v = getenv(sandbox_env_names[i])) != NULL)
      xasprintf(&env[n++], "%s=%s", sandbox_env_names[i], v);
  return env;
}

static void sandbox_env_free(char **env) {
  for (size_t i = 0; env != NULL && env[i] != NULL; i++)
    free(env[i]);
  free(env);
}

/* Waits for the sandbox's init, passing on signals sent to us. A signal
 * from the terminal (SI_KERNEL) already reached init, which shares our
 * process group, so only the others are forwarded. */
static int sandbox_wait(pid_t pid, const sigset_t *set) {
  siginfo_t si;
  int sig, st;

  for (;;) {
    sig = sigwaitinfo(set, &si);
    if (sig > 0 && sig != SIGCHLD && si.si_code != SI_KERNEL)
      kill(pid, sig);
    if (waitpid(pid, &st, WNOHANG) == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
}

static int sandbox_run(const struct sandbox_args *a,
                       const struct sbx_profile *p, struct crl_err *err) {
  struct sbx_opts o = SBX_OPTS_INIT;
  struct sbx_plan *plan = NULL;
  sigset_t set, old;
  char **env = NULL;
  pid_t pid;
  int rc;

  o.workdir = a->dir != NULL ? a->dir : ".";
  o.home_dirs = a->home_dirs;
  o.keep_fds = a->keep_fds;
  o.nkeep_fds = a->nkeep_fds;
  if ((rc = sbx_plan_new(&plan, p, &o, err)) < 0)
    goto out;
  env = sandbox_env(p->enabled || getenv("HOME") == NULL ? o.home
                                                         : getenv("HOME"));
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < CRL_ARRAY_SIZE(sandbox_forwarded); i++)
    sigaddset(&set, sandbox_forwarded[i]);
  sigprocmask(SIG_BLOCK, &set, &old);
  if ((rc = sbx_spawn(&pid, plan, a->cmd, env, err)) == 0)
    rc = sandbox_wait(pid, &set);
  sigprocmask(SIG_SETMASK, &old, NULL);
out:
  sandbox_env_free(env);
  sbx_plan_free(plan);
  return rc;
}

static int sandbox_exec(int argc, char **argv) {
  struct sandbox_args a = {.profile = "agent"};
  struct crl_err err = CRL_ERR_INIT;
  struct sbx_profile p;
  int rc;

  if ((rc = sandbox_parse(&a, argc, argv)) != 0 || a.cmd == NULL)
    goto out;
  if (a.verbose)
    crl_log_set_level(CRL_LOG_DEBUG);
  if (sbx_profile_builtin(&p, a.profile) < 0) {
    rt_errorf("fatal: sandbox: unknown profile '%s' (agent, strict, "
              "network, none)",
              a.profile);
    rc = RT_EXIT_USAGE;
    goto out;
  }
  if (!p.enabled)
    rt_errorf("warning: profile none: %s runs without a sandbox", a.cmd[0]);
  if ((rc = sandbox_run(&a, &p, &err)) < 0) {
    rt_errorf("fatal: sandbox: %s", err.msg[0] ? err.msg : crl_strerror(rc));
    rc = RT_EXIT_FAILED;
  }
  sbx_profile_close(&p);
out:
  free(a.home_dirs);
  free(a.keep_fds);
  return rc;
}

const struct rt_cmd rt_cmd_sandbox = {
    "sandbox", "sandbox [--profile P] [--dir D] -- CMD [ARG]...",
    "run a command in a sandbox profile", sandbox_exec};
