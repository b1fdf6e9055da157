/*
 * Landlock rules, applied for real in forked children with no_new_privs:
 * reads work everywhere, writes only under the writable trees, /dev allows
 * writing existing nodes but creating nothing, and links or symlinks do not
 * carry write access out. The test tree lives in /var/tmp because /tmp is
 * always writable in the sandbox.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child-expect.h"
#include "sbx-int.h"

static char base[] = "/var/tmp/corral-landlock-XXXXXX";
static char *rw, *ro;

static char *path_of(const char *dir, const char *name) {
  char *p;

  xasprintf(&p, "%s/%s", dir, name);
  return p;
}

static void setup(void) {
  char *file;
  int fd;

  if (sbx__landlock_abi() == 0)
    cr_skip_test("no Landlock on this kernel");
  cr_assert_not_null(mkdtemp(base));
  rw = path_of(base, "rw");
  ro = path_of(base, "ro");
  cr_assert_eq(mkdir(rw, 0755), 0);
  cr_assert_eq(mkdir(ro, 0755), 0);
  file = path_of(ro, "file");
  cr_assert_geq(fd = open(file, O_WRONLY | O_CREAT, 0644), 0);
  cr_assert_eq(write(fd, "hello", 5), 5);
  close(fd);
  free(file);
}

static void teardown(void) {
  char *cmd;

  xasprintf(&cmd, "rm -rf '%s'", base);
  cr_assert_eq(system(cmd), 0);
  free(cmd);
  free(rw);
  free(ro);
}

TestSuite(sbx_landlock, .init = setup, .fini = teardown, .timeout = 30);

static void prepare(struct sbx__landlock *ll, char **writable) {
  struct sbx_profile p = {.writable = writable};
  struct sbx_opts o = SBX_OPTS_INIT;
  struct crl_err err = CRL_ERR_INIT;

  o.workdir = rw;
  o.home = "/nonexistent/home/agent";
  cr_assert_eq(sbx__landlock_prepare(ll, &p, &o, &err), 0, "%s", err.msg);
}

/* Applies ll in a forked child and runs fn there; asserts it passed. */
static void run_landlocked(const struct sbx__landlock *ll, void (*fn)(void)) {
  char msg[512];
  int pfd[2], status, rc;
  ssize_t n;
  pid_t pid;

  cr_assert_eq(pipe(pfd), 0);
  if ((pid = fork()) == 0) {
    close(pfd[0]);
    failfd = pfd[1];
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      child_fail("no_new_privs: %s", strerror(errno));
    if ((rc = sbx__landlock_apply(ll)) < 0)
      child_fail("apply: %s", strerror(-rc));
    fn();
    _exit(0);
  }
  close(pfd[1]);
  n = read(pfd[0], msg, sizeof(msg) - 1);
  msg[n > 0 ? n : 0] = '\0';
  close(pfd[0]);
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", msg);
}

static void reads_everywhere(void) {
  char *file = path_of(ro, "file"), buf[8] = "";
  int fd;

  EXPECT_OK(fd = open(file, O_RDONLY));
  if (read(fd, buf, sizeof(buf)) != 5 || memcmp(buf, "hello", 5) != 0)
    child_fail("read back \"%s\"", buf);
  close(fd);
  EXPECT_OK(access("/bin/sh", X_OK));
  EXPECT_OK(fd = open("/etc/passwd", O_RDONLY));
  close(fd);
}

Test(sbx_landlock, reads_work_everywhere) {
  struct sbx__landlock ll;

  prepare(&ll, NULL);
  run_landlocked(&ll, reads_everywhere);
  sbx__landlock_close(&ll);
}

static void writes_outside(void) {
  char *file = path_of(ro, "file"), *fresh = path_of(ro, "new");
  char *sub = path_of(ro, "dir");

  EXPECT_ERRNO(open(fresh, O_WRONLY | O_CREAT, 0644), EACCES);
  EXPECT_ERRNO(open(file, O_WRONLY), EACCES);
  if (sbx__landlock_abi() >= 3) { /* LANDLOCK_ACCESS_FS_TRUNCATE */
    EXPECT_ERRNO(open(file, O_RDONLY | O_TRUNC), EACCES);
    EXPECT_ERRNO(truncate(file, 0), EACCES);
  }
  EXPECT_ERRNO(unlink(file), EACCES);
  EXPECT_ERRNO(mkdir(sub, 0755), EACCES);
  EXPECT_ERRNO(open(path_of(base, "escape"), O_WRONLY | O_CREAT, 0644), EACCES);
  EXPECT_ERRNO(mkdir("/dev/corral-landlock-test", 0755), EACCES);
  EXPECT_ERRNO(mknod("/dev/corral-landlock-fifo", S_IFIFO | 0644, 0), EACCES);
}

Test(sbx_landlock, writes_outside_the_writable_trees_fail) {
  struct sbx__landlock ll;

  prepare(&ll, NULL);
  run_landlocked(&ll, writes_outside);
  sbx__landlock_close(&ll);
}

static void writes_inside(void) {
  char *a = path_of(rw, "a"), *b = path_of(rw, "b"), *d = path_of(rw, "d");
  char *moved = path_of(d, "a");
  int fd;

  EXPECT_OK(fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  EXPECT_OK(write(fd, "x", 1));
  close(fd);
  EXPECT_OK(rename(a, b));
  EXPECT_OK(mkdir(d, 0755));
  EXPECT_OK(rename(b, moved));
  EXPECT_OK(unlink(moved));
  EXPECT_OK(rmdir(d));
  EXPECT_OK(fd = open("/dev/null", O_WRONLY | O_TRUNC));
  EXPECT_OK(write(fd, "x", 1));
  close(fd);
  EXPECT_OK(fd = open("/tmp", O_TMPFILE | O_RDWR, 0600));
  close(fd);
}

Test(sbx_landlock, writes_inside_the_writable_trees_work) {
  struct sbx__landlock ll;

  prepare(&ll, NULL);
  run_landlocked(&ll, writes_inside);
  sbx__landlock_close(&ll);
}

static void links_out(void) {
  char *file = path_of(ro, "file"), *hard = path_of(rw, "hard");
  char *sym = path_of(rw, "sym");

  /* Without REFER on the source, a link into a writable tree is refused
   * (EXDEV from ABI 2, EACCES before). */
  errno = 0;
  if (link(file, hard) == 0 || (errno != EXDEV && errno != EACCES))
    child_fail("link out: %s", strerror(errno));
  EXPECT_OK(symlink(file, sym));
  EXPECT_ERRNO(open(sym, O_WRONLY), EACCES);
}

Test(sbx_landlock, links_do_not_carry_write_access_out) {
  struct sbx__landlock ll;

  prepare(&ll, NULL);
  run_landlocked(&ll, links_out);
  sbx__landlock_close(&ll);
}

static void profile_writable(void) {
  char *file = path_of(ro, "granted");
  int fd;

  EXPECT_OK(fd = open(file, O_WRONLY | O_CREAT, 0644));
  close(fd);
}

Test(sbx_landlock, profile_writable_paths_are_granted) {
  char *writable[] = {ro, "/nonexistent/is/skipped", NULL};
  struct sbx__landlock ll;

  prepare(&ll, writable);
  run_landlocked(&ll, profile_writable);
  sbx__landlock_close(&ll);
}

Test(sbx_landlock, prepare_lists_the_rules) {
  struct sbx__landlock ll;
  int found_tmp = 0, found_rw = 0;

  prepare(&ll, NULL);
  cr_assert_eq(ll.abi, sbx__landlock_abi());
  cr_assert_str_eq(ll.ro_paths[0], "/");
  cr_assert_null(ll.ro_paths[1]);
  cr_assert_str_eq(ll.dev_paths[0], "/dev");
  for (size_t i = 0; ll.rw_paths[i] != NULL; i++) {
    found_tmp |= strcmp(ll.rw_paths[i], "/tmp") == 0;
    found_rw |= strcmp(ll.rw_paths[i], rw) == 0;
  }
  cr_assert(found_tmp && found_rw);
  sbx__landlock_close(&ll);
  cr_assert_null(ll.rw_paths);
  sbx__landlock_close(NULL);
}

Test(sbx_landlock, prepare_refuses_relative_paths) {
  char *writable[] = {"relative/dir", NULL};
  struct sbx_profile p = {.writable = writable};
  struct sbx_opts o = SBX_OPTS_INIT;
  struct crl_err err = CRL_ERR_INIT;
  struct sbx__landlock ll;

  cr_assert_eq(sbx__landlock_prepare(&ll, &p, &o, &err),
               CRL_EVALIDATION_FAILED);
  cr_assert_not_null(strstr(err.msg, "relative/dir"));
  cr_assert_null(ll.rw_paths);
}

Test(sbx_landlock, fix_names_the_boot_option) {
  char fix[512];

  sbx__landlock_fix(fix, sizeof(fix));
  cr_assert_not_null(strstr(fix, "kernel ABI 0"));
  cr_assert_not_null(strstr(fix, ",landlock"));
  cr_assert_not_null(strstr(fix, "CONFIG_SECURITY_LANDLOCK=y"));
}
