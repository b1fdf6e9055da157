/*
 * The seccomp filter every sandboxed command runs under. It is a deny list
 * on a default of ALLOW (an allow list would break whatever toolchain an
 * agent happens to run): the mount family, the kernel's large attack
 * surfaces (bpf, perf, userfaultfd, io_uring, keyrings), host administration
 * (kexec, modules, clocks, swap, reboot, accounting, syslog, quotas), new
 * user namespaces, terminal injection, and the ways to reach into another
 * process's memory. Denied calls fail with EPERM; clone3 fails with ENOSYS
 * because its flags sit behind a pointer seccomp cannot read, and libc then
 * falls back to clone, whose flags we can check (Chromium, crbug 1213452).
 * Foreign architectures, which includes the i386 `int 0x80` entry of an
 * x86_64 process, and the x32 ABI are killed. libseccomp compiles the filter
 * once, at build time (seccomp-gen.c writes it into a header for bpf.c), so
 * a start neither pays for the compiler nor links it; the child only hands
 * the classic BPF program to prctl.
 */
#include "sbx-int.h"

#include <assert.h>
#include <errno.h>
#include <sys/socket.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <unistd.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

/* clone's flags are its first argument everywhere but on s390. */
#if defined(__s390__) || defined(__s390x__)
#define SECCOMP_CLONE_FLAGS_ARG 1
#else
#define SECCOMP_CLONE_FLAGS_ARG 0
#endif

/*
 * One deny rule: the syscall, the errno it returns, and at most one test on
 * one argument (libseccomp ANDs the tests of a rule and rejects two tests
 * on the same argument, so alternatives are separate rules). `nr` is the
 * number to use when this libseccomp is older than the syscall; numbers
 * from 424 on are the same on every architecture but alpha.
 */
struct seccomp_rule {
  const char *name;
  int nr;
  int err;
  int narg;
  unsigned int arg;
  enum scmp_compare op;
  scmp_datum_t a, b;
};

#define DENY(name) \
  { #name, 0, EPERM, 0, 0, 0, 0, 0 }
#define DENY_NR(name, nr) \
  { #name, nr, EPERM, 0, 0, 0, 0, 0 }
#define DENY_IF(name, arg, op, a, b) \
  { #name, 0, EPERM, 1, arg, op, a, b }
#define DENY_BIT(name, arg, bit) \
  DENY_IF(name, arg, SCMP_CMP_MASKED_EQ, bit, bit)
/* ioctl requests and namespace types are ints: the kernel ignores the upper
 * half of the register, so only the lower 32 bits are compared (flatpak,
 * CVE-2019-10063). */
#define DENY_INT(name, arg, v) \
  DENY_IF(name, arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint32_t)(v))

static const struct seccomp_rule seccomp_rules[] = {
    /* The mount family, old and new API: the sandbox's view of the file
     * system is fixed before execve. */
    DENY(mount),
    DENY(umount),
    DENY(umount2),
    DENY(pivot_root),
    DENY(move_mount),
    DENY(open_tree),
    DENY_NR(open_tree_attr, 467),
    DENY(fsopen),
    DENY(fsconfig),
    DENY(fsmount),
    DENY(fspick),
    DENY(mount_setattr),
    /* Large kernel attack surfaces an agent has no use for. io_uring also
     * runs its operations outside this filter. vmsplice stays: it is plain
     * pipe I/O to some programs, and its old bugs are long fixed. */
    DENY(bpf),
    DENY(perf_event_open),
    DENY(userfaultfd),
    DENY(io_uring_setup),
    DENY(io_uring_enter),
    DENY(io_uring_register),
    DENY(keyctl),
    DENY(add_key),
    DENY(request_key),
    /* Host administration. Most of these already need capabilities in the
     * initial user namespace; denying them keeps that true by construction. */
    DENY(kexec_load),
    DENY(kexec_file_load),
    DENY(init_module),
    DENY(finit_module),
    DENY(delete_module),
    DENY(acct),
    DENY(swapon),
    DENY(swapoff),
    DENY(reboot),
    DENY(settimeofday),
    DENY(clock_settime),
    DENY(clock_adjtime),
    DENY(adjtimex),
    DENY(syslog),
    DENY(quotactl),
    DENY(quotactl_fd),
    DENY(nfsservctl),
    DENY(lookup_dcookie),
    DENY(uselib),
    /* open_by_handle_at walks around every path-based check (the
     * "shocker" container escape). name_to_handle_at stays allowed: a
     * handle is useless without it. */
    DENY(open_by_handle_at),
    /* Other processes. A process may still ask its parent to trace it
     * (PTRACE_TRACEME, as gdb starts its inferior) and the tracer may then
     * drive it; attaching to a process that did not ask (ATTACH, SEIZE) is
     * denied: no ptrace of non-children. Besides the agent's own tree, the
     * only target in the pid namespace is the sandbox's init, which runs
     * without this filter. The kernel refuses it already (init is not
     * dumpable and keeps capabilities the command dropped); this rule keeps
     * it refused should that change. The cost: strace, gdb -p and
     * LeakSanitizer attach, so they fail inside (ASAN_OPTIONS=
     * detect_leaks=0). pidfd_getfd takes an fd out of another process. */
    DENY_IF(ptrace, 0, SCMP_CMP_EQ, PTRACE_ATTACH, 0),
    DENY_IF(ptrace, 0, SCMP_CMP_EQ, PTRACE_SEIZE, 0),
    DENY(process_vm_readv),
    DENY(process_vm_writev),
    DENY(pidfd_getfd),
    /* No new user namespace: it would give back every capability the
     * filter assumes is gone. setns with type 0 accepts any namespace,
     * a user namespace included. clone3 cannot be checked (see above). */
    DENY_BIT(unshare, 0, CLONE_NEWUSER),
    DENY_BIT(clone, SECCOMP_CLONE_FLAGS_ARG, CLONE_NEWUSER),
    DENY_BIT(setns, 1, CLONE_NEWUSER),
    DENY_INT(setns, 1, 0),
    {"clone3", 0, ENOSYS, 0, 0, 0, 0, 0},
    /* vsock reaches the hypervisor (CID 2) from any network namespace on
     * kernels without vsock namespacing: no socket of that family. */
    DENY_INT(socket, 0, AF_VSOCK),
    /* Typing into the controlling terminal, which belongs to the user. */
    DENY_INT(ioctl, 1, TIOCSTI),
    DENY_INT(ioctl, 1, TIOCLINUX),
    /* Any personality but the query and PER_LINUX (the execution domains
     * and READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE... weaken the process).
     * Values above 32 bits are not ours; see seccomp_add_personality. */
    DENY_IF(personality, 0, SCMP_CMP_GT, 0xffffffffu, 0),
};

static int seccomp_add(scmp_filter_ctx ctx, const struct seccomp_rule *r) {
  struct scmp_arg_cmp cmp = {r->arg, r->op, r->a, r->b};
  int nr = seccomp_syscall_resolve_name(r->name);

  if (nr == __NR_SCMP_ERROR && r->nr > 0) {
#if defined(__alpha__)
    return 0;
#else
    nr = r->nr;
#endif
  }
  if (nr == __NR_SCMP_ERROR)
    return 0; /* a syscall neither libseccomp nor this arch has */
  return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), nr, r->narg, &cmp);
}

/*
 * personality(2) is allowed only for 0 (PER_LINUX) and 0xffffffff (the
 * query). "Neither all zeros nor all ones" cannot be one libseccomp rule, so
 * it is 32 rules: a 32-bit word that is not constant has, reading around it
 * as a ring, a set bit followed by a clear one, and rule i matches "bit i
 * set, bit i+1 clear". Values above 32 bits are denied by the table.
 */
static int seccomp_add_personality(scmp_filter_ctx ctx) {
  struct scmp_arg_cmp cmp = {0, SCMP_CMP_MASKED_EQ, 0, 0};
  int rc = 0;

  for (unsigned int i = 0; i < 32 && rc == 0; i++) {
    cmp.datum_a = (1ull << i) | (1ull << ((i + 1) % 32));
    cmp.datum_b = 1ull << i;
    rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM),
                                SCMP_SYS(personality), 1, &cmp);
  }
  return rc;
}

static int seccomp_build(scmp_filter_ctx ctx, struct crl_err *err) {
  int rc;

  if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
                             SCMP_ACT_KILL_PROCESS)) < 0)
    return crl_err_set(err, CRL_ESANDBOX,
                       "seccomp: cannot kill foreign architectures: %s",
                       strerror(-rc));
  /* A binary tree instead of a linear scan over the rules; older
   * libseccomp lacks it, which only costs speed. */
  (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (size_t i = 0; i < CRL_ARRAY_SIZE(seccomp_rules); i++)
    if ((rc = seccomp_add(ctx, &seccomp_rules[i])) < 0)
      return crl_err_set(err, CRL_ESANDBOX, "seccomp: cannot deny %s: %s",
                         seccomp_rules[i].name, strerror(-rc));
  if ((rc = seccomp_add_personality(ctx)) < 0)
    return crl_err_set(err, CRL_ESANDBOX, "seccomp: cannot filter %s: %s",
                       "personality", strerror(-rc));
  return 0;
}

/*
 * x32 syscalls are x86_64 syscalls with __X32_SYSCALL_BIT set, under the
 * same audit arch, so no arch check sees them. libseccomp ≥ 2.4 already
 * sends them to the bad-arch action when the filter has no x32 arch; these
 * five instructions, put in front, make it not depend on that.
 */
static size_t seccomp_x32_guard(struct sock_filter *out) {
#if defined(__x86_64__)
  const struct sock_filter guard[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };

  if (out != NULL)
    memcpy(out, guard, sizeof(guard));
  return CRL_ARRAY_SIZE(guard);
#else
  (void)out;
  return 0;
#endif
}

/* Reads the exported program back from fd into out, behind the guard. */
static int seccomp_read(struct sbx__bpf *out, int fd, struct crl_err *err) {
  size_t guard = seccomp_x32_guard(NULL);
  off_t n = lseek(fd, 0, SEEK_END);

  if (n <= 0 || n % sizeof(struct sock_filter) != 0 ||
      n / sizeof(struct sock_filter) + guard > BPF_MAXINSNS)
    return crl_err_set(err, CRL_ESANDBOX,
                       "seccomp: exported filter has a bad size (%lld)",
                       (long long)n);
  out->len = guard + n / sizeof(struct sock_filter);
  out->insns = xcalloc(out->len, sizeof(struct sock_filter));
  seccomp_x32_guard(out->insns);
  if (pread(fd, out->insns + guard, n, 0) != n) {
    free(out->insns);
    memset(out, 0, sizeof(*out));
    return crl_err_set(err, CRL_ESANDBOX, "seccomp: cannot read filter: %s",
                       strerror(errno));
  }
  return 0;
}

int sbx__seccomp_compile(struct sbx__bpf *out, const struct sbx_profile *p,
                         struct crl_err *err) {
  scmp_filter_ctx ctx;
  int fd = -1, rc;

  assert(out != NULL && p != NULL);
  memset(out, 0, sizeof(*out));
  if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
    return crl_err_set(err, CRL_ESANDBOX, "seccomp: cannot create a filter");
  if ((rc = seccomp_build(ctx, err)) < 0)
    goto out;
  if ((fd = memfd_create("corral-seccomp", MFD_CLOEXEC)) < 0) {
    rc = crl_err_set(err, CRL_ESANDBOX, "seccomp: memfd_create: %s",
                     strerror(errno));
    goto out;
  }
  if ((rc = seccomp_export_bpf(ctx, fd)) < 0) {
    rc = crl_err_set(err, CRL_ESANDBOX, "seccomp: cannot export filter: %s",
                     strerror(-rc));
    goto out;
  }
  rc = seccomp_read(out, fd, err);
out:
  if (fd >= 0)
    close(fd);
  seccomp_release(ctx);
  return rc;
}
