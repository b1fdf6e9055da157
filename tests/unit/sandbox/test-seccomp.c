/*
 * The seccomp filter, installed for real in forked children: every denied
 * family fails with EPERM (clone3 with ENOSYS) while ordinary work (files,
 * fork, threads, the personality query) goes on, and the x32 and i386
 * entries kill the process with SIGSYS.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child-expect.h"
#include "sbx-int.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

static struct sbx__bpf bpf;

static void setup(void) {
  struct sbx_profile p = {0};
  struct crl_err err = CRL_ERR_INIT;

  cr_assert_eq(sbx__seccomp_compile(&bpf, &p, &err), 0, "%s", err.msg);
  cr_assert_gt(bpf.len, 40);
}

static void teardown(void) {
  sbx__bpf_free(&bpf);
}

TestSuite(sbx_seccomp, .init = setup, .fini = teardown, .timeout = 30);

/* The filter every start uses was compiled when corral was built: it must
 * be exactly what libseccomp makes of the rules now. */
Test(sbx_seccomp, prebuilt_matches_libseccomp) {
  struct sbx__bpf pre;

  sbx__seccomp_prebuilt(&pre);
  cr_assert_eq(pre.len, bpf.len, "prebuilt %zu insns, compiled %zu", pre.len,
               bpf.len);
  cr_assert_eq(memcmp(pre.insns, bpf.insns, bpf.len * sizeof(*bpf.insns)), 0,
               "the prebuilt filter differs from a fresh compile: rebuild");
  sbx__bpf_free(&pre);
}

/* Runs fn under the filter in a forked child; returns its wait status and
 * leaves any failure message in msg. */
static int run_filtered(void (*fn)(void), char *msg, size_t len) {
  int pfd[2], status;
  ssize_t n;
  pid_t pid;

  cr_assert_eq(pipe(pfd), 0);
  if ((pid = fork()) == 0) {
    close(pfd[0]);
    failfd = pfd[1];
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      child_fail("no_new_privs: %s", strerror(errno));
    if (sbx__seccomp_install(&bpf) < 0)
      child_fail("install: %s", strerror(errno));
    fn();
    _exit(0);
  }
  close(pfd[1]);
  n = read(pfd[0], msg, len - 1);
  msg[n > 0 ? n : 0] = '\0';
  close(pfd[0]);
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  return status;
}

static void expect_clean_exit(void (*fn)(void)) {
  char msg[512];
  int status = run_filtered(fn, msg, sizeof(msg));

  cr_assert(WIFEXITED(status), "child died: status %#x", status);
  cr_assert_eq(WEXITSTATUS(status), 0, "%s", msg);
}

/*
 * Arguments are chosen so that each call fails harmlessly with another errno
 * (ENOENT, EBADF, ESRCH, EINVAL...) should the filter let it through (the
 * bubblewrap/flatpak try-syscall helper does the same): a broken filter
 * fails the test without mounting, attaching or injecting anything.
 */
#define NO_SUCH_PID 0x7ffffff0
#define NO_SUCH_DIR "/nonexistent-corral-test"

static void denied_families(void) {
  char buf[8];
  struct iovec iov = {buf, sizeof(buf)};

  EXPECT_ERRNO(mount("none", NO_SUCH_DIR, "tmpfs", 0, NULL), EPERM);
  EXPECT_ERRNO(umount2(NO_SUCH_DIR, MNT_DETACH), EPERM);
  EXPECT_ERRNO(syscall(SYS_fsopen, NULL, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_open_tree, -1, "x", 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_bpf, 0, NULL, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_userfaultfd, ~0U), EPERM);
  EXPECT_ERRNO(syscall(SYS_io_uring_setup, 1, NULL), EPERM);
  EXPECT_ERRNO(syscall(SYS_keyctl, -1, 0, 0, 0, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_add_key, NULL, NULL, NULL, 0, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_kexec_load, 0, 0, NULL, ~0UL), EPERM);
  EXPECT_ERRNO(syscall(SYS_finit_module, -1, "", 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_open_by_handle_at, -1, NULL, 0), EPERM);
  EXPECT_ERRNO(syscall(SYS_syslog, 3, NULL, -1), EPERM);
  EXPECT_ERRNO(process_vm_readv(NO_SUCH_PID, &iov, 1, &iov, 1, 0), EPERM);
  EXPECT_ERRNO(ptrace(PTRACE_ATTACH, NO_SUCH_PID, NULL, NULL), EPERM);
  EXPECT_ERRNO(ptrace(PTRACE_SEIZE, NO_SUCH_PID, NULL, NULL), EPERM);
}

Test(sbx_seccomp, denies_each_family_with_eperm) {
  expect_clean_exit(denied_families);
}

static void denied_namespaces(void) {
  EXPECT_ERRNO(unshare(CLONE_NEWUSER), EPERM);
  EXPECT_ERRNO(unshare(CLONE_NEWNS | CLONE_NEWUSER), EPERM);
  /* CLONE_FS with CLONE_NEWUSER is EINVAL, should it get through. */
  EXPECT_ERRNO(
      syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS | SIGCHLD, 0, 0, 0, 0),
      EPERM);
  EXPECT_ERRNO(setns(-1, CLONE_NEWUSER), EPERM);
  EXPECT_ERRNO(setns(-1, 0), EPERM);
  /* Other namespace types reach the kernel, which rejects the bad fd. */
  EXPECT_ERRNO(setns(-1, CLONE_NEWNET), EBADF);
}

Test(sbx_seccomp, denies_new_user_namespaces) {
  expect_clean_exit(denied_namespaces);
}

static void clone3_enosys(void) {
  struct clone_args args = {.exit_signal = SIGCHLD};

  /* A size below the first version is EINVAL, should it get through. */
  EXPECT_ERRNO(syscall(SYS_clone3, &args, 1), ENOSYS);
}

Test(sbx_seccomp, clone3_is_enosys) {
  expect_clean_exit(clone3_enosys);
}

static void terminal_injection(void) {
  char c = 'x';

  /* fd -1: EBADF if it got through, never a character on a terminal. */
  EXPECT_ERRNO(ioctl(-1, TIOCSTI, &c), EPERM);
  EXPECT_ERRNO(ioctl(-1, TIOCLINUX, &c), EPERM);
  /* The kernel reads the request as an int: bits above 32 change nothing. */
  EXPECT_ERRNO(syscall(SYS_ioctl, -1, (1UL << 32) | TIOCSTI, &c), EPERM);
  /* Other ioctls pass (ENOTTY on a non-terminal, or success). */
  errno = 0;
  if (ioctl(0, FIONREAD, &(int){0}) < 0 && errno == EPERM)
    child_fail("FIONREAD denied");
}

Test(sbx_seccomp, denies_tiocsti_and_tioclinux) {
  expect_clean_exit(terminal_injection);
}

static void personalities(void) {
  EXPECT_OK(personality(0xffffffff));
  EXPECT_OK(personality(PER_LINUX));
  EXPECT_ERRNO(personality(PER_BSD), EPERM);
  EXPECT_ERRNO(personality(PER_LINUX | ADDR_NO_RANDOMIZE), EPERM);
  EXPECT_ERRNO(personality(READ_IMPLIES_EXEC), EPERM);
  EXPECT_ERRNO(personality(0xfffffffe), EPERM);
  EXPECT_ERRNO(personality(0x80000000), EPERM);
  EXPECT_ERRNO(syscall(SYS_personality, 1UL << 32), EPERM);
  if (personality(0xffffffff) != PER_LINUX)
    child_fail("personality changed to %#x", personality(0xffffffff));
}

Test(sbx_seccomp, personality_only_queries_and_per_linux) {
  expect_clean_exit(personalities);
}

static void *thread_main(void *arg) {
  return arg;
}

static void ordinary_work(void) {
  char path[] = "/tmp/corral-seccomp-XXXXXX";
  pthread_t th;
  void *ret = NULL;
  int fd, status;
  pid_t pid;

  EXPECT_OK(getpid());
  EXPECT_OK(fd = mkstemp(path));
  EXPECT_OK(write(fd, "ok", 2));
  EXPECT_OK(close(fd));
  EXPECT_OK(unlink(path));
  EXPECT_OK(pid = fork());
  if (pid == 0)
    _exit(7);
  EXPECT_OK(waitpid(pid, &status, 0));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
    child_fail("forked child status %#x", status);
  /* glibc tries clone3 first and falls back to clone on ENOSYS. */
  if (pthread_create(&th, NULL, thread_main, path) != 0 ||
      pthread_join(th, &ret) != 0 || ret != path)
    child_fail("pthread_create failed");
  EXPECT_OK(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
}

Test(sbx_seccomp, ordinary_syscalls_work) {
  expect_clean_exit(ordinary_work);
}

static void x32_call(void) {
  syscall(__X32_SYSCALL_BIT | SYS_getpid);
  child_fail("x32 getpid returned");
}

Test(sbx_seccomp, x32_syscall_kills_the_process) {
  char msg[512];
  int status = run_filtered(x32_call, msg, sizeof(msg));

  cr_assert(WIFSIGNALED(status), "status %#x: %s", status, msg);
  cr_assert_eq(WTERMSIG(status), SIGSYS);
}

#if defined(__x86_64__)
static void int80_call(void) {
  long ret;

  /* getpid through the i386 entry: audit arch I386, a foreign arch. */
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  child_fail("int 0x80 returned %ld", ret);
}

Test(sbx_seccomp, int80_syscall_kills_the_process) {
  char msg[512];
  int status = run_filtered(int80_call, msg, sizeof(msg));

  cr_assert(WIFSIGNALED(status), "status %#x: %s", status, msg);
  cr_assert_eq(WTERMSIG(status), SIGSYS);
}
#endif

Test(sbx_seccomp, install_refuses_an_empty_program) {
  struct sbx__bpf empty = {NULL, 0};

  cr_assert_eq(sbx__seccomp_install(&empty), -EINVAL);
  sbx__bpf_free(&empty);
  sbx__bpf_free(NULL);
}
