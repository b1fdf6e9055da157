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

/* A compiled seccomp filter: classic BPF, compiled once per plan in the
 * parent with libseccomp, loaded in the child with prctl only. */
struct sbx__bpf {
  struct sock_filter *insns;
  size_t len;
};

/* seccomp.c */
int sbx__seccomp_compile(struct sbx__bpf *out, const struct sbx_profile *p,
                         struct crl_err *err);
/* In the child, after no_new_privs: installs the filter. -errno. */
int sbx__seccomp_install(const struct sbx__bpf *bpf);
void sbx__bpf_free(struct sbx__bpf *bpf);

/* landlock.c: the rules, resolved in the parent, applied in the child. */
struct sbx__landlock {
  int abi;         /* the ABI version in use; 0: landlock unavailable */
  char **rw_paths; /* paths (inside the new root) with write access */
  char **ro_paths; /* paths with read/execute access */
};

/* CRL_ESANDBOX with the fix when the kernel has no Landlock. */
int sbx__landlock_prepare(struct sbx__landlock *out,
                          const struct sbx_profile *p, const struct sbx_opts *o,
                          struct crl_err *err);
int sbx__landlock_apply(const struct sbx__landlock *ll);
void sbx__landlock_close(struct sbx__landlock *ll);

/* limits.c: cgroup v2 limits on the run's leaf (parent side), rlimits in
 * the child. Defaults never break git or node. */
int sbx__limits_cgroup(const struct sbx_profile *p, const char *cgroup,
                       struct crl_err *err);
int sbx__limits_rlimits(const struct sbx_profile *p);

#endif
