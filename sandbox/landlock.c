/*
 * Landlock, the sandbox's second wall around the file system. The mounts
 * decide what the command can see; Landlock decides, at the inode, what it
 * may do there, and it still holds if a mount is ever wrong: read and
 * execute everywhere, every right under the writable trees (the profile's,
 * the workdir, the git common dir, $HOME, /tmp, /dev/shm), and under /dev
 * only reading, writing and ioctl on nodes that exist. The parent detects
 * the kernel's ABI and resolves the paths; the child, after no_new_privs,
 * creates the ruleset with the rights that ABI knows (the kernel sample
 * samples/landlock/sandboxer.c masks the same way) and restricts itself,
 * with syscalls only. Landlock cannot carve a read-only hole out of a
 * writable tree, so `.git/hooks` and `.git/config` stay read-only through
 * their read-only binds. TCP rules (ABI 4) are not used: they cannot tell
 * the network namespace's own loopback from the world, and the namespace
 * already keeps the world out. From ABI 6 the command may neither signal
 * nor reach the abstract Unix sockets of processes outside its domain.
 */
#include "sbx-int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Rights newer than some uapi headers. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* The ruleset attribute of ABI 6. The kernel takes a longer struct than it
 * knows as long as the tail is zero, so this works on every ABI. */
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

#define LL_FS_V1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_READ                                                \
  (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
   LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_DEV                                                    \
  (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
   LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_TRUNCATE |    \
   LANDLOCK_ACCESS_FS_IOCTL_DEV)
/* The rights that make sense on a file rather than a directory. */
#define LL_FILE                                                 \
  (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
   LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
   LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* The file-system rights ABI `abi` knows. */
static uint64_t ll_fs_rights(int abi) {
  uint64_t r = LL_FS_V1;

  if (abi >= 2)
    r |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    r |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5)
    r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return r;
}

static uint64_t ll_scopes(int abi) {
  if (abi < 6)
    return 0;
  return LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
}

int sbx__landlock_abi(void) {
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
                     LANDLOCK_CREATE_RULESET_VERSION);

  return abi < 0 ? 0 : (int)abi;
}

void sbx__landlock_fix(char *out, size_t outlen) {
  char lsm[256] = "...";
  FILE *fp = fopen("/sys/kernel/security/lsm", "re");

  /* The current LSM list, so the fix can be pasted as is. */
  if (fp != NULL) {
    if (fgets(lsm, sizeof(lsm), fp) == NULL || lsm[0] == '\0')
      strcpy(lsm, "...");
    lsm[strcspn(lsm, "\n")] = '\0';
    fclose(fp);
  }
  snprintf(out, outlen,
           "Landlock is not available (kernel ABI 0); fix: boot with "
           "lsm=%s,landlock (CONFIG_SECURITY_LANDLOCK=y)",
           lsm);
}

/* A NULL-terminated vector being built. */
struct ll_vec {
  char **v;
  size_t n;
};

static int ll_push(struct ll_vec *vec, const char *path, struct crl_err *err) {
  if (path == NULL)
    return 0;
  if (path[0] != '/')
    return crl_err_set(err, CRL_EVALIDATION_FAILED,
                       "landlock: path \"%s\" is not absolute", path);
  vec->v = xreallocarray(vec->v, vec->n + 2, sizeof(char *));
  vec->v[vec->n++] = xstrdup(path);
  vec->v[vec->n] = NULL;
  return 0;
}

static int ll_push_all(struct ll_vec *vec, char *const *paths,
                       struct crl_err *err) {
  int rc = 0;

  for (size_t i = 0; paths != NULL && paths[i] != NULL && rc == 0; i++)
    rc = ll_push(vec, paths[i], err);
  return rc;
}

static void ll_free(char **v) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free(v[i]);
  free(v);
}

/* Everything the command may write, in the new root. /dev/shm is the
 * sandbox's own (POSIX semaphores and shared memory live there). */
static int ll_writable(struct ll_vec *rw, const struct sbx_profile *p,
                       const struct sbx_opts *o, struct crl_err *err) {
  const char *fixed[] = {"/tmp", "/dev/shm", o->workdir, o->git_common,
                         o->home};
  int rc = 0;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(fixed) && rc == 0; i++)
    rc = ll_push(rw, fixed[i], err);
  if (rc == 0)
    rc = ll_push_all(rw, p->writable, err);
  if (rc == 0)
    rc = ll_push_all(rw, o->home_dirs, err);
  return rc;
}

int sbx__landlock_prepare(struct sbx__landlock *out,
                          const struct sbx_profile *p, const struct sbx_opts *o,
                          struct crl_err *err) {
  struct ll_vec rw = {0}, ro = {0}, dev = {0};
  char fix[512];
  int rc;

  assert(out != NULL && p != NULL && o != NULL);
  memset(out, 0, sizeof(*out));
  if ((out->abi = sbx__landlock_abi()) <= 0) {
    sbx__landlock_fix(fix, sizeof(fix));
    return crl_err_set(err, CRL_ESANDBOX, "%s", fix);
  }
  if ((rc = ll_push(&ro, "/", err)) < 0 ||
      (rc = ll_push(&dev, "/dev", err)) < 0 ||
      (rc = ll_writable(&rw, p, o, err)) < 0)
    goto out;
  out->ro_paths = ro.v;
  out->dev_paths = dev.v;
  out->rw_paths = rw.v;
  ro.v = dev.v = rw.v = NULL;
out:
  ll_free(ro.v);
  ll_free(dev.v);
  ll_free(rw.v);
  return rc;
}

/*
 * Child side. A path that does not exist in the new root is skipped: a rule
 * can only grant, so a missing one leaves the command with less. Rights
 * meant for directories are dropped on a file, or the kernel says EINVAL.
 */
static int ll_add(int rfd, const char *path, uint64_t access) {
  struct landlock_path_beneath_attr pb = {.allowed_access = access};
  struct stat st;
  int rc = 0;

  if ((pb.parent_fd = open(path, O_PATH | O_CLOEXEC)) < 0)
    return errno == ENOENT ? 0 : -errno;
  if (fstat(pb.parent_fd, &st) < 0)
    rc = -errno;
  else if (!S_ISDIR(st.st_mode))
    pb.allowed_access &= LL_FILE;
  if (rc == 0 && pb.allowed_access != 0 &&
      syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) <
          0)
    rc = -errno;
  close(pb.parent_fd);
  return rc;
}

static int ll_add_all(int rfd, char *const *paths, uint64_t access) {
  int rc = 0;

  for (size_t i = 0; paths != NULL && paths[i] != NULL && rc == 0; i++)
    rc = ll_add(rfd, paths[i], access);
  return rc;
}

int sbx__landlock_apply(const struct sbx__landlock *ll) {
  struct ll_ruleset_attr attr = {0};
  uint64_t all;
  int fd, rc;

  if (ll == NULL || ll->abi <= 0)
    return -EOPNOTSUPP;
  all = ll_fs_rights(ll->abi);
  attr.handled_access_fs = all;
  attr.scoped = ll_scopes(ll->abi);
  fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
  if (fd < 0)
    return -errno;
  if ((rc = ll_add_all(fd, ll->ro_paths, LL_READ & all)) < 0 ||
      (rc = ll_add_all(fd, ll->dev_paths, LL_DEV & all)) < 0 ||
      (rc = ll_add_all(fd, ll->rw_paths, all)) < 0)
    goto out;
  if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
    rc = -errno;
out:
  close(fd);
  return rc;
}

void sbx__landlock_close(struct sbx__landlock *ll) {
  if (ll == NULL)
    return;
  ll_free(ll->rw_paths);
  ll_free(ll->ro_paths);
  ll_free(ll->dev_paths);
  memset(ll, 0, sizeof(*ll));
}
