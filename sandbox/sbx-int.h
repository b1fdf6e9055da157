/*
 * sandbox internals shared by the files of sandbox/. The spawn sequence
 * (spawn.c) calls into the hardening files in this order, in the child:
 * namespaces, mounts and pivot_root, rlimits, no_new_privs, Landlock, then
 * seccomp last before execve. Everything that can fail for lack of host
 * support is checked first in the parent by sbx_plan_new.
 */
#ifndef SBX_INT_H
#define SBX_INT_H

#include <linux/filter.h>

#include "sbx.h"

/* A compiled seccomp filter: classic BPF, compiled with libseccomp once,
 * when corral is built (seccomp-gen.c), copied into each plan in the parent
 * and loaded in the child with prctl only. */
struct sbx__bpf {
  struct sock_filter *insns;
  size_t len;
};

/* seccomp.c: the rules, compiled with libseccomp. The filter is the same
 * for every profile; p only has to be valid. */
int sbx__seccomp_compile(struct sbx__bpf *out, const struct sbx_profile *p,
                         struct crl_err *err);
/* bpf.c: a heap copy of the filter compiled at build time, which a unit
 * test checks equal to sbx__seccomp_compile's (test-seccomp.c). */
void sbx__seccomp_prebuilt(struct sbx__bpf *out);
/* In the child, after no_new_privs: installs the filter. -errno. */
int sbx__seccomp_install(const struct sbx__bpf *bpf);
void sbx__bpf_free(struct sbx__bpf *bpf);

/* landlock.c: the rules, resolved in the parent, applied in the child. */
struct sbx__landlock {
  int abi;          /* the ABI version in use; 0: landlock unavailable */
  char **rw_paths;  /* paths (inside the new root) with write access */
  char **ro_paths;  /* paths with read/execute access */
  char **dev_paths; /* device trees: read, write and ioctl on existing nodes,
                       no creation or removal */
};

/* CRL_ESANDBOX with the fix when the kernel has no Landlock. */
int sbx__landlock_prepare(struct sbx__landlock *out,
                          const struct sbx_profile *p, const struct sbx_opts *o,
                          struct crl_err *err);
int sbx__landlock_apply(const struct sbx__landlock *ll);
void sbx__landlock_close(struct sbx__landlock *ll);
/* The kernel's Landlock ABI version, 0 when it has none. */
int sbx__landlock_abi(void);
/* The message naming what is missing and the fix, when the ABI is 0. */
void sbx__landlock_fix(char *out, size_t outlen);

/* cgroup1.c: the cgroup v1 fallback, one leaf per hierarchy per run.
 * sbx__cg1_usable: 1 when the caller may make a leaf in ctl's (pids,
 * memory, cpu, freezer) v1 hierarchy. sbx__cg1_new: an object with no leaf
 * yet (leaves are made by the first limit set in each hierarchy).
 * sbx__cg1_limit: makes ctl's leaf and writes its limit, val in bytes
 * (memory), tasks (pids) or percent of a CPU (cpu); -errno. sbx__cg1_attach:
 * moves pid into every leaf made (and a freezer leaf when possible); no-op
 * without leaves. sbx__cg1_describe: ctl's leaf path, or NULL (borrowed).
 * sbx__cg1_kill: SIGKILLs the leaves' members until none is left (-EBUSY
 * if that never happens). sbx__cg1_free: kills, removes the leaves, frees;
 * NULL-safe. */
struct sbx__cg1;
int sbx__cg1_usable(const char *ctl);
struct sbx__cg1 *sbx__cg1_new(void);
int sbx__cg1_limit(struct sbx__cg1 *cg, const char *ctl, long long val);
int sbx__cg1_attach(struct sbx__cg1 *cg, pid_t pid);
const char *sbx__cg1_describe(const struct sbx__cg1 *cg, const char *ctl);
int sbx__cg1_kill(const struct sbx__cg1 *cg);
void sbx__cg1_free(struct sbx__cg1 *cg);

/* limits.c: each limit goes on the run's cgroup v2 leaf when its
 * controller is there, else on a v1 leaf (cg1, may be NULL), else to the
 * rlimit fallback or, for an explicit limit without one, a refusal
 * (parent side); rlimits in the child. Defaults never break git or node.
 * sbx__cg_write writes val to dir/file: 0 or -errno. */
int sbx__limits_cgroup(const struct sbx_profile *p, const char *cgroup,
                       struct sbx__cg1 *cg1, struct crl_err *err);
int sbx__limits_rlimits(const struct sbx_profile *p);
int sbx__cg_write(const char *dir, const char *file, const char *val);

/*
 * The spawn side (plan.c, profile.c, ns.c, mount.c, net.c, init.c,
 * spawn.c). A plan is a flat list of mount operations, sorted so that a
 * parent directory is mounted before anything below it, resolved and
 * checked in the parent so the child only makes syscalls: it must not
 * allocate, because the caller may have threads that hold malloc's lock.
 */
enum sbx__op_kind {
  SBX__OP_TMPFS,   /* an empty tmpfs at dest; data holds mode and size */
  SBX__OP_BIND_RO, /* src bound at dest: read-only, nosuid, nodev */
  SBX__OP_BIND_RW, /* src bound at dest: read-write, nosuid, nodev */
  SBX__OP_DEV,     /* a host device node bound at dest: nosuid only */
  SBX__OP_SYMLINK, /* dest is a symlink whose target is src, verbatim */
  SBX__OP_PROC,    /* a fresh proc of the new pid namespace */
  SBX__OP_MASK     /* hidden: an empty read-only tmpfs, or /dev/null */
};

struct sbx__op {
  enum sbx__op_kind kind;
  int is_dir;       /* the source (or masked path) is a directory */
  int optional;     /* skipped when src does not exist in the child */
  char *src;        /* "/oldroot<host path>", or a symlink's target */
  char *dest;       /* "/newroot<path>", as the child sees it */
  const char *path; /* the path inside the sandbox: points into dest */
  char *data;       /* tmpfs options, or NULL */
};

/* The most fds a command may keep besides 0-2. */
#define SBX__KEEP_FDS_MAX 64

struct sbx_plan {
  struct sbx_profile profile; /* a deep copy */
  char *workdir;              /* canonical; the command's cwd */
  char *home;
  char *cgroup;         /* a cgroup v2 leaf, or NULL */
  struct sbx__cg1 *cg1; /* the v1 fallback's leaves (NULL: "none") */
  int *keep_fds;        /* sorted, unique, all >= 3 */
  size_t nkeep_fds;
  int status_fd; /* init's status pipe (sbx_opts), or -1 */
  int gw_fd;     /* sbx_opts.gw_fd, or -1 */
  int gw_port;
  struct sbx__op *ops;
  size_t nops;
  int setattr; /* mount_setattr(2) exists: binds are recursive */
  struct sbx__bpf bpf;
  struct sbx__landlock landlock;
};

/* Where the child failed, sent over the error pipe as {step, errno} and
 * turned into a message by sbx__step_describe. Steps at or past
 * SBX__STEP_OP name the sub-step (SBX__SUB_*) of one operation. */
enum sbx__step {
  SBX__STEP_MAPS = 1,
  SBX__STEP_PDEATHSIG,
  SBX__STEP_PRIVATE,
  SBX__STEP_BASE,
  SBX__STEP_ROOT_RO,
  SBX__STEP_PIVOT,
  SBX__STEP_DETACH,
  SBX__STEP_LO,
  SBX__STEP_HOSTNAME,
  SBX__STEP_GATEWAY,
  SBX__STEP_RLIMITS,
  SBX__STEP_CLOSE_FDS,
  SBX__STEP_CHDIR,
  SBX__STEP_NO_NEW_PRIVS,
  SBX__STEP_LANDLOCK,
  SBX__STEP_FORK,
  SBX__STEP_SETSID,
  SBX__STEP_CAPS,
  SBX__STEP_KEEP_FDS,
  SBX__STEP_SECCOMP,
  SBX__STEP_EXEC,
  SBX__STEP_OP = 1000
};

enum sbx__sub { SBX__SUB_MKDIR, SBX__SUB_MOUNT, SBX__SUB_REMOUNT, SBX__SUB_N };

struct sbx__errmsg {
  int step;
  int err; /* a positive errno */
};

/* profile.c: a deep copy of src; dst is released with sbx_profile_close. */
void sbx__profile_copy(struct sbx_profile *dst, const struct sbx_profile *src);

/* ns.c, parent side. sbx__ns_check refuses (CRL_ESANDBOX, with the fix)
 * when a sysctl forbids user namespaces to this caller. sbx__ns_clone
 * clones the sandbox child into new namespaces (and into the cgroup cgfd
 * when >= 0): 0 in the child, the pid in the parent, -errno. sbx__ns_map
 * writes the child's uid/gid maps: the caller's ids map to themselves. */
int sbx__ns_check(struct crl_err *err);
pid_t sbx__ns_clone(const struct sbx_plan *plan, int cgfd);
int sbx__ns_refuse(struct crl_err *err, int code, const char *what);
int sbx__ns_map(pid_t pid, struct crl_err *err);

/* mount.c, in the child: the whole filesystem view, ending in pivot_root.
 * -errno with *step set to the failing step. */
int sbx__mount_apply(const struct sbx_plan *plan, int *step);

/* net.c, in the child: brings lo up in the new network namespace. */
int sbx__net_lo_up(void);
/* Makes a TCP socket listening on 127.0.0.1:port in our network namespace,
 * sends it over the Unix socket fd (SCM_RIGHTS) and closes both. */
int sbx__net_gw_send(int fd, int port);

/* init.c, in the child: starts command(arg) with vfork (it must exec or
 * _exit, and may not return) and runs as pid 1 until it exits, then writes
 * its raw wait status on status_fd (unless -1) and exits with its status.
 * Reports a failed vfork on errfd. The memory [title, title + title_len),
 * the caller's argv strings that /proc/1/cmdline would show, is overwritten
 * with "corral-init" before the command starts: command and arg must not
 * point into it. */
typedef void (*sbx__command_fn)(const void *arg);
struct sbx__init {
  sbx__command_fn command;
  const void *arg;
  int errfd;
  int status_fd;
  char *title;
  size_t title_len;
};
void sbx__init_run(const struct sbx__init *in) __attribute__((noreturn));

/* spawn.c: sends {step, err} (a positive errno) over errfd and exits 127;
 * for the children only. */
void sbx__child_fail(int errfd, int step, int err) __attribute__((noreturn));
/* spawn.c: the message for a child's failure, into out. */
void sbx__step_describe(char *out, size_t outlen, const struct sbx_plan *plan,
                        int step, const char *argv0);

#endif
