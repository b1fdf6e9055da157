/*
 * The sandbox's filesystem, built in the child inside its new mount
 * namespace (bubblewrap's setup_newroot). The host's mounts are made private,
 * a small tmpfs is mounted on /tmp and pivoted to, which leaves the host's
 * root at /oldroot and a fresh tmpfs at /newroot to build on. The plan's
 * operations then run in order: each source is "/oldroot<host path>", each
 * destination "/newroot<path>". Binds are recursive and made nosuid and
 * nodev (and read-only where asked) with mount_setattr(2), which only adds
 * flags and so keeps those the kernel locked; without it, a bind is
 * remounted with MS_REMOUNT|MS_BIND and the flags statvfs reports. The new
 * root is made read-only, the old root detached, and /newroot becomes / by
 * pivot_root(".", "."). Nothing here allocates: the plan holds every path.
 */
#include "sbx-int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* mount_setattr's attribute bits are the MS_ flags of the same name, so one
 * flag word serves both ways of restricting a mount. */
_Static_assert(MOUNT_ATTR_RDONLY == MS_RDONLY &&
                   MOUNT_ATTR_NOSUID == MS_NOSUID &&
                   MOUNT_ATTR_NODEV == MS_NODEV &&
                   MOUNT_ATTR_NOEXEC == MS_NOEXEC,
               "mount attribute bits");

/* The statvfs flags a remount must repeat, lest the kernel refuse to clear
 * a flag it locked when the mount came from a more privileged namespace. */
static const struct {
  unsigned long st, ms;
} mnt_kept[] = {
    {ST_RDONLY, MS_RDONLY},     {ST_NOSUID, MS_NOSUID},
    {ST_NODEV, MS_NODEV},       {ST_NOEXEC, MS_NOEXEC},
    {ST_NOATIME, MS_NOATIME},   {ST_NODIRATIME, MS_NODIRATIME},
    {ST_RELATIME, MS_RELATIME},
};

static int mnt_pivot_root(const char *new_root, const char *put_old) {
  return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static int mnt_remount(const char *path, unsigned long flags) {
  struct statvfs sv;

  if (statvfs(path, &sv) < 0)
    return -errno;
  for (size_t i = 0; i < CRL_ARRAY_SIZE(mnt_kept); i++)
    if (sv.f_flag & mnt_kept[i].st)
      flags |= mnt_kept[i].ms;
  if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
    return -errno;
  return 0;
}

/* Adds flags (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC) to the mount at
 * path, and to every mount below it when recursive. */
static int mnt_restrict(const struct sbx_plan *plan, const char *path,
                        unsigned long flags, int recursive) {
  struct mount_attr ma = {.attr_set = flags};

  if (!plan->setattr)
    return mnt_remount(path, flags);
  if (mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &ma,
                    sizeof(ma)) < 0)
    return -errno;
  return 0;
}

/* mkdir that accepts an existing directory, even on a read-only mount. */
static int mnt_mkdir(const char *path) {
  struct stat st;
  int err;

  if (mkdir(path, 0755) == 0 || errno == EEXIST)
    return 0;
  err = errno;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -err;
}

/* Creates path's missing directories; all of path unless parent_only. */
static int mnt_mkdirs(const char *path, int parent_only) {
  char buf[PATH_MAX];
  size_t n = strlen(path);
  int rc;

  if (n >= sizeof(buf))
    return -ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  for (char *p = buf + 1; *p != '\0'; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if ((rc = mnt_mkdir(buf)) < 0)
      return rc;
    *p = '/';
  }
  return parent_only ? 0 : mnt_mkdir(buf);
}

/* Makes the mount point: a directory, or an empty file for a file bind. */
static int mnt_ensure(const struct sbx__op *op) {
  int rc;

  if (op->is_dir || op->kind == SBX__OP_TMPFS || op->kind == SBX__OP_PROC)
    return mnt_mkdirs(op->dest, 0);
  if ((rc = mnt_mkdirs(op->dest, 1)) < 0 || op->kind == SBX__OP_SYMLINK)
    return rc;
  if (mknod(op->dest, S_IFREG | 0444, 0) < 0 && errno != EEXIST)
    return -errno;
  return 0;
}

static int mnt_bind(const struct sbx_plan *plan, const struct sbx__op *op,
                    unsigned long flags, int *sub) {
  int rec = plan->setattr && op->is_dir;

  if (mount(op->src, op->dest, NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
    return -errno;
  *sub = SBX__SUB_REMOUNT;
  return mnt_restrict(plan, op->dest, flags, rec);
}

static int mnt_tmpfs(const char *dest, const char *data, unsigned long flags) {
  if (mount("tmpfs", dest, "tmpfs", MS_NOSUID | MS_NODEV | flags, data) < 0)
    return -errno;
  return 0;
}

/* A hidden path becomes an empty read-only tmpfs, or /dev/null read-only
 * for a file; one the sandbox does not contain needs nothing. */
static int mnt_mask(const struct sbx_plan *plan, const struct sbx__op *op,
                    int *sub) {
  struct stat st;

  if (lstat(op->dest, &st) < 0)
    return errno == ENOENT ? 0 : -errno;
  *sub = SBX__SUB_MOUNT;
  if (S_ISDIR(st.st_mode))
    return mnt_tmpfs(op->dest, op->data, MS_RDONLY | MS_NOEXEC);
  return mnt_bind(plan, op, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, sub);
}

static int mnt_op(const struct sbx_plan *plan, const struct sbx__op *op,
                  int *sub) {
  int rc;

  if (op->kind == SBX__OP_MASK)
    return mnt_mask(plan, op, sub);
  if (op->optional && access(op->src, F_OK) < 0)
    return 0;
  if ((rc = mnt_ensure(op)) < 0)
    return rc;
  *sub = SBX__SUB_MOUNT;
  switch (op->kind) {
  case SBX__OP_TMPFS:
    return mnt_tmpfs(op->dest, op->data, 0);
  case SBX__OP_BIND_RO:
    return mnt_bind(plan, op, MS_RDONLY | MS_NOSUID | MS_NODEV, sub);
  case SBX__OP_BIND_RW:
    return mnt_bind(plan, op, MS_NOSUID | MS_NODEV, sub);
  case SBX__OP_DEV:
    return mnt_bind(plan, op, MS_NOSUID | MS_NOEXEC, sub);
  case SBX__OP_SYMLINK:
    return symlink(op->src, op->dest) < 0 && errno != EEXIST ? -errno : 0;
  case SBX__OP_PROC:
    if (mount("proc", op->dest, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL) < 0)
      return -errno;
    return 0;
  default:
    return -EINVAL;
  }
}

/* A private copy of the host's mounts, so nothing propagates back; a small
 * tmpfs pivoted to, leaving the host's root at /oldroot; and the tmpfs at
 * /newroot that becomes the sandbox's root. */
static int mnt_base(int *step) {
  *step = SBX__STEP_PRIVATE;
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return -errno;
  *step = SBX__STEP_BASE;
  if (mnt_tmpfs("/tmp", "mode=0755,size=64k", 0) < 0 || chdir("/tmp") < 0 ||
      mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0)
    return -errno;
  *step = SBX__STEP_PIVOT;
  if (mnt_pivot_root(".", "oldroot") < 0 || chdir("/") < 0)
    return -errno;
  *step = SBX__STEP_BASE;
  return mnt_tmpfs("/newroot", "mode=0755,size=1m", 0);
}

/* The new root read-only, the host's root gone, and /newroot as /: the old
 * root that pivot_root(".", ".") stacks on top is detached at once. */
static int mnt_pivot(const struct sbx_plan *plan, int *step) {
  int rc;

  *step = SBX__STEP_ROOT_RO;
  if ((rc = mnt_restrict(plan, "/newroot", MS_RDONLY | MS_NOSUID | MS_NODEV,
                         0)) < 0)
    return rc;
  *step = SBX__STEP_DETACH;
  if (umount2("/oldroot", MNT_DETACH) < 0)
    return -errno;
  *step = SBX__STEP_PIVOT;
  if (chdir("/newroot") < 0 || mnt_pivot_root(".", ".") < 0)
    return -errno;
  *step = SBX__STEP_DETACH;
  if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    return -errno;
  return 0;
}

int sbx__mount_apply(const struct sbx_plan *plan, int *step) {
  int rc, sub;

  if ((rc = mnt_base(step)) < 0)
    return rc;
  for (size_t i = 0; i < plan->nops; i++) {
    sub = SBX__SUB_MKDIR;
    if ((rc = mnt_op(plan, &plan->ops[i], &sub)) < 0) {
      *step = SBX__STEP_OP + (int)i * SBX__SUB_N + sub;
      return rc;
    }
  }
  return mnt_pivot(plan, step);
}
