/*
 * corral-shim internals: the part of the shim that starts an agent inside a
 * sandbox profile (shim-sbx.c), called from shim.c.
 */
#ifndef SHIM_INT_H
#define SHIM_INT_H

#include <sys/types.h>

#include "sbx.h"

/* The profile named on the shim's command line. */
struct shim_sbx {
  const char *profile; /* built-in base; NULL: no sandbox */
  char **writable;
  char **readonly;
  char **hidden;
  enum sbx_net net;
  int net_set;
  long long memory;
  long long pids;
  int cpu;
  long long tmp_size;
  const char *home_src; /* the run's private home, bound as $HOME */
  int gw_fd;            /* where the sandbox sends the gateway's socket */
  int gw_port;
};

/* Records one sandbox option: P profile, W writable, R readonly, H hidden,
 * N net, M memory, p pids, U cpu percent, T tmp size. */
void shim_sbx_arg(struct shim_sbx *s, int opt, const char *val);
void shim_sbx_limit(struct shim_sbx *s, int opt, const char *val);

/* Starts argv in the sandbox with stdin /dev/null and stdout+stderr on
 * logfd; *out is the sandbox init's pid, and status_fd (or -1) the write
 * end of the pipe on which init reports the agent's raw wait status (see
 * sbx_opts). *plan_out, caller-owned, is the run's plan: it holds the run's
 * cgroup v1 leaves, if any, which sbx_plan_kill empties and sbx_plan_free
 * removes once the run is over. Negative code and err on refusal. */
int shim_sbx_spawn(pid_t *out, struct sbx_plan **plan_out,
                   const struct shim_sbx *s, const char *cwd,
                   const char *cgroup, int logfd, int status_fd, char **argv,
                   struct crl_err *err);

#endif
