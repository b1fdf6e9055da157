/*
 * sandbox: the only code that calls clone/unshare/mount/pivot_root/seccomp/
 * landlock. A profile (what the agent may see and do) becomes a list of
 * operations, validated in the parent, applied in the child in a commented
 * order, with seccomp installed last before execve (bubblewrap SetupOp).
 * Errors between clone and exec travel back over an error fd. When the host
 * cannot give what a profile asks for, the sandbox refuses with the missing
 * feature and the exact fix: it never silently runs weaker.
 */
#ifndef SBX_H
#define SBX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crl.h"

enum sbx_net {
  SBX_NET_NONE,    /* own network namespace with only lo, up */
  SBX_NET_GATEWAY, /* as NONE; the LLM gateway port is added later */
  SBX_NET_HOST     /* the host's network */
};

/*
 * A profile. Paths are absolute host paths, mounted at the same path inside.
 * NULL-terminated string vectors; NULL means empty. Sizes in bytes, 0 means
 * the built-in default.
 */
struct sbx_profile {
  char *name;
  int enabled;     /* 0 only for the "none" profile: no sandbox at all */
  char **writable; /* bound read-write */
  char **readonly; /* bound read-only */
  char **hidden;   /* made empty and inaccessible (tmpfs / /dev/null) */
  enum sbx_net net;
  int64_t memory;   /* memory.max (or RLIMIT_AS fallback is NOT used) */
  int64_t pids;     /* pids.max, RLIMIT_NPROC fallback */
  int cpu_percent;  /* cpu.max, 0: unlimited */
  int64_t tmp_size; /* size of the private /tmp tmpfs */
};

/* Fills *out with a copy of a built-in profile: "agent" (the default for
 * every task), "strict", "network" or "none". CRL_ENOT_FOUND otherwise. */
int sbx_profile_builtin(struct sbx_profile *out, const char *name);
void sbx_profile_close(struct sbx_profile *p);

/* Per-run facts that complete a profile. */
struct sbx_opts {
  const char *workdir;    /* read-write; the command's cwd */
  const char *git_common; /* git common dir whose config/hooks/info stay
                             read-only, or NULL */
  char **home_dirs;       /* agent config dirs bound rw under $HOME, or NULL:
                             a dir below the host's $HOME keeps its place
                             relative to it, any other goes by its last
                             name; missing ones are left out */
  const char *home;       /* $HOME inside the sandbox (an empty tmpfs) */
  const int *keep_fds;    /* fds (besides 0-2) the command keeps, or NULL */
  size_t nkeep_fds;
  const char *cgroup;   /* a cgroup v2 leaf to put limits on, or NULL */
  int status_fd;        /* -1, or the write end of a pipe on which the
                           sandbox's init writes the command's raw wait status
                           (an int, as waitpid gives it) just before it exits:
                           init can only exit with a code, so a command killed
                           by a signal is otherwise an exit 128+signal. The
                           command itself never holds this fd. */
  const char *home_src; /* a host dir bound read-write as $HOME instead of
                           the empty tmpfs (the run's private home), or
                           NULL */
  int gw_fd;            /* -1, or a Unix socket on which the sandbox sends
                           (SCM_RIGHTS, one message) a TCP socket listening
                           on 127.0.0.1:gw_port inside its network
                           namespace, before the command starts: the LLM
                           gateway's port. Neither init nor the command
                           keeps either fd. */
  int gw_port;
};

#define SBX_OPTS_INIT \
  { NULL, NULL, NULL, "/home/agent", NULL, 0, NULL, -1, NULL, -1, 0 }

struct sbx_plan;

/*
 * Validates profile + opts against this host and builds the operations.
 * Fails closed: CRL_EUNSUPPORTED-like conditions return CRL_ESANDBOX with
 * err naming the missing feature and its fix. *out is caller-owned.
 */
int sbx_plan_new(struct sbx_plan **out, const struct sbx_profile *p,
                 const struct sbx_opts *o, struct crl_err *err);
/* Frees plan; NULL-safe. When spawning put the sandbox in cgroup v1
 * leaves of the plan's own (the fallback for limits on a host without
 * cgroup v2 controllers), whatever is left in them is SIGKILLed and the
 * leaves are removed first: free the plan only once the run is over. */
void sbx_plan_free(struct sbx_plan *plan);

/* SIGKILLs every process in the plan's cgroup v1 leaves, until none is
 * left (v1 has no cgroup.kill). 0, or -EBUSY when some survive; 0 with
 * no leaves. For the end of a run, before sbx_plan_free. */
int sbx_plan_kill(const struct sbx_plan *plan);

/*
 * Starts argv (PATH-searched with envp's PATH) inside the sandbox, as a
 * child of the caller. *out is the pid of the sandbox's init (pid 1 of the
 * new pid namespace), which reaps, forwards SIGTERM/SIGINT/SIGHUP/SIGUSR1/
 * SIGCONT to the command, and exits with the command's status (its exit code,
 * or 128+signal). stdio is the caller's 0/1/2. A failure anywhere before
 * execve returns its -errno with err naming the step (the child is then
 * already reaped); a host that refuses namespaces gives CRL_ESANDBOX with
 * the fix. The sandbox is SIGKILLed when the calling thread exits
 * (PR_SET_PDEATHSIG). With the "none" profile *out is the command itself.
 */
int sbx_spawn(pid_t *out, const struct sbx_plan *plan, char *const argv[],
              char *const envp[], struct crl_err *err);

/* What the host offers, for `corral doctor` and for fail-closed checks. */
struct sbx_host {
  int userns;          /* an unprivileged user namespace can be made */
  int landlock_abi;    /* 0 when absent */
  int seccomp;         /* seccomp filters available */
  int cgroup2;         /* a cgroup v2 hierarchy is mounted */
  int cgroup_writable; /* we may create a leaf (delegation) */
  char controllers[256];
  char cgroup1[64];     /* the cgroup v1 hierarchies a run may get a leaf
                           in (the fallback): "pids memory cpu freezer" */
  char userns_fix[512]; /* how to enable what is missing */
  char landlock_fix[512];
  char cgroup_fix[512];
};

int sbx_host_probe(struct sbx_host *out);

/* How a run's ctl limit ("memory", "pids" or "cpu") is enforced on host h:
 * "cgroup v2", "cgroup v1", "RLIMIT_NPROC" (pids only) or "none". A
 * static string. */
const char *sbx_host_limit_mechanism(const struct sbx_host *h, const char *ctl);

/* 1 when CORRAL_SANDBOX_SIMULATE_MISSING (a comma list of userns, landlock,
 * seccomp, cgroup, cgroup1; cgroup takes v1 away too) names `feature`: the
 * tests' way to play a host without it. It can only make corral refuse
 * more, never less. */
int sbx_simulate_missing(const char *feature);

/* Default dispositions for every signal, glibc's internal ones included,
 * and an empty mask: what a child gets before it execs an agent. Async
 * signal safe (raw syscalls only). */
void sbx_reset_signals(void);

#endif
