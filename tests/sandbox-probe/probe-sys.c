/*
 * Syscall probes (issue groups 11, 12): the kernel interfaces the seccomp
 * filter denies, each tried in a harmless form (a tmpfs mounted on a test
 * dir and unmounted, an empty io_uring, a one-entry BPF map, a session
 * keyring...), and the foreign syscall ABIs (x32, int 0x80) the filter must
 * kill. `syscalls DIR [NAME...]` runs the named ones (all by default) and
 * escapes if any took effect; each prints its own line. For kexec_load and
 * init_module, which cannot be tried harmlessly, "took effect" means the
 * call got past the kernel's privilege check (any error but EPERM/ENOSYS).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/mount.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

/* A syscall's result: >= 0 took effect (closed when it is an fd). */
static int result(const char *name, long rc) {
  if (rc < 0) {
    probe_note("%s: %s", name, probe_errname(errno));
    return 0;
  }
  probe_note("%s: ok", name);
  return 1;
}

static int fd_result(const char *name, long fd) {
  int took = result(name, fd);

  if (fd >= 0)
    close((int)fd);
  return took;
}

/* For calls that cannot be made harmlessly: past the privilege check. */
static int past_check(const char *name, long rc) {
  if (rc >= 0 || (errno != EPERM && errno != ENOSYS && errno != EACCES)) {
    probe_note("%s: past the privilege check (%s)", name,
               rc >= 0 ? "ok" : probe_errname(errno));
    return 1;
  }
  probe_note("%s: %s", name, probe_errname(errno));
  return 0;
}

static int try_io_uring(const char *dir) {
  struct io_uring_params params;

  memset(&params, 0, sizeof(params));
  return fd_result("io_uring_setup", syscall(SYS_io_uring_setup, 1, &params));
}

static int try_bpf(const char *dir) {
  union bpf_attr attr;

  memset(&attr, 0, sizeof(attr));
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  return fd_result("bpf",
                   syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)));
}

static int try_perf(const char *dir) {
  struct perf_event_attr attr;

  memset(&attr, 0, sizeof(attr));
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof(attr);
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  return fd_result("perf_event_open",
                   syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
}

static int try_userfaultfd(const char *dir) {
  return fd_result("userfaultfd",
                   syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
}

static int try_keyctl(const char *dir) {
  int took;

  took = result("keyctl(JOIN_SESSION_KEYRING)",
                syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL));
  took += result("add_key", syscall(SYS_add_key, "user", "corral-probe", "x", 1,
                                    KEY_SPEC_PROCESS_KEYRING));
  return took > 0;
}

static int try_mount(const char *dir) {
  int took = result("mount", mount("none", dir, "tmpfs", 0, "size=64k"));

  if (took)
    umount2(dir, MNT_DETACH);
  return took;
}

static int try_fsopen(const char *dir) {
  return fd_result("fsopen", syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
}

static int try_open_tree(const char *dir) {
  return fd_result("open_tree", syscall(SYS_open_tree, AT_FDCWD, dir,
                                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
}

static int try_kexec(const char *dir) {
  /* Flags no kernel accepts: EINVAL once the capability check passed. */
  return past_check("kexec_load",
                    syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL));
}

static int try_init_module(const char *dir) {
  /* An empty image: ENOEXEC once the capability check passed. */
  return past_check("init_module", syscall(SYS_init_module, NULL, 0UL, ""));
}

static int try_personality(const char *dir) {
  int old = personality(0xffffffff), now;

  if (personality(PER_BSD) < 0)
    return result("personality(PER_BSD)", -1);
  now = personality(0xffffffff);
  personality((unsigned long)old);
  if (now != PER_BSD) {
    errno = EPERM;
    return result("personality(PER_BSD)", -1);
  }
  return result("personality(PER_BSD)", 0);
}

static int try_open_by_handle(const char *dir) {
  struct {
    struct file_handle fh;
    unsigned char bytes[MAX_HANDLE_SZ];
  } h;
  int mount_id, mfd, took;

  h.fh.handle_bytes = MAX_HANDLE_SZ;
  if (name_to_handle_at(AT_FDCWD, dir, &h.fh, &mount_id, 0) < 0)
    return result("name_to_handle_at", -1);
  if ((mfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return result("open", -1);
  took = fd_result("open_by_handle_at",
                   open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC));
  close(mfd);
  return took;
}

static const struct {
  const char *name;
  int (*fn)(const char *dir);
} calls[] = {
    {"io_uring", try_io_uring},       {"bpf", try_bpf},
    {"perf_event_open", try_perf},    {"userfaultfd", try_userfaultfd},
    {"keyctl", try_keyctl},           {"mount", try_mount},
    {"fsopen", try_fsopen},           {"open_tree", try_open_tree},
    {"kexec_load", try_kexec},        {"init_module", try_init_module},
    {"personality", try_personality}, {"open_by_handle_at", try_open_by_handle},
};
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

static int wanted(size_t i, int argc, char **argv) {
  if (argc == 1)
    return 1;
  for (int a = 1; a < argc; a++)
    if (strcmp(argv[a], calls[i].name) == 0)
      return 1;
  return 0;
}

static int syscalls(int argc, char **argv) {
  int took = 0, tried = 0, last = EPERM;

  for (size_t i = 0; i < NCALLS; i++) {
    if (!wanted(i, argc, argv))
      continue;
    tried++;
    errno = 0;
    took += calls[i].fn(argv[0]);
    last = errno != 0 ? errno : last;
  }
  if (tried == 0) {
    fprintf(stderr, "sandbox-probe: syscalls: no such call\n");
    return PROBE_USAGE;
  }
  if (took > 0)
    return probe_escaped("%d of %d calls took effect", took, tried);
  errno = last;
  return probe_blocked("none of %d calls took effect", tried);
}

static int x32(int argc, char **argv) {
  long pid = syscall(__X32_SYSCALL_BIT | SYS_getpid);

  if (pid != (long)getpid())
    return probe_blocked("x32 getpid returned %ld", pid);
  return probe_escaped("x32 getpid returned %ld", pid);
}

static int int80(int argc, char **argv) {
  long rc = 20; /* __NR_getpid of the i386 table */

  __asm__ volatile("int $0x80"
                   : "+a"(rc)
                   :
                   : "memory", "r8", "r9", "r10", "r11");
  if (rc != (long)getpid()) {
    errno = rc < 0 && rc > -4096 ? (int)-rc : EINVAL;
    return probe_blocked("int 0x80 getpid returned %ld", rc);
  }
  return probe_escaped("int 0x80 getpid returned %ld", rc);
}

const struct probe probe_sys[] = {
    {"syscalls", 1, 13, syscalls,
     "DIR [NAME...]  io_uring bpf perf_event_open userfaultfd keyctl mount "
     "fsopen open_tree kexec_load init_module personality open_by_handle_at "
     "(group 11)"},
    {"x32", 0, 0, x32, " getpid through the x32 ABI (group 12)"},
    {"int80", 0, 0, int80, " getpid through int 0x80 (group 12)"},
    {NULL, 0, 0, NULL, NULL},
};
