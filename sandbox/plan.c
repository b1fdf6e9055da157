/*
 * A plan: a profile and one run's facts (workdir, $HOME, git dir, kept fds)
 * turned into the list of mount operations the child applies, plus the
 * compiled seccomp filter and the Landlock rules (bubblewrap's SetupOp
 * list). Everything that can be checked is checked here, in the parent:
 * paths are made canonical (so the child never follows a symlink while it
 * builds the root), missing optional paths are dropped, and a host that
 * cannot enforce the profile is refused with the fix. The operations are
 * sorted by destination so a directory is mounted before anything below
 * it; a profile's hidden paths come last, on top of everything.
 */
#include "sbx-int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAN_TMP_DEFAULT (INT64_C(1) << 30)

static const char *const plan_dev_nodes[] = {"null",   "zero",    "full",
                                             "random", "urandom", "tty"};

static const char *const plan_dev_links[][2] = {{"fd", "/proc/self/fd"},
                                                {"stdin", "/proc/self/fd/0"},
                                                {"stdout", "/proc/self/fd/1"},
                                                {"stderr", "/proc/self/fd/2"}};

/* Kernel knobs under the fresh /proc that a root caller, still uid 0
 * inside, could otherwise write to: bound read-only on themselves. */
static const struct {
  const char *path;
  int is_dir;
} plan_proc_ro[] = {{"/proc/sys", 1},
                    {"/proc/sysrq-trigger", 0},
                    {"/proc/irq", 1},
                    {"/proc/bus", 1}};

static const char *const plan_kinds[] = {
    [SBX__OP_TMPFS] = "tmpfs",     [SBX__OP_BIND_RO] = "ro",
    [SBX__OP_BIND_RW] = "rw",      [SBX__OP_DEV] = "dev",
    [SBX__OP_SYMLINK] = "symlink", [SBX__OP_PROC] = "proc",
    [SBX__OP_MASK] = "hide"};

static const char *const plan_git_ro[] = {"config", "hooks", "info"};

/* 1 when path is dir or lies below it. */
static int plan_under(const char *path, const char *dir) {
  size_t n = strlen(dir);

  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Appends an operation; src (owned, or NULL) is complete, path is the
 * destination inside the sandbox. */
static struct sbx__op *plan_add(struct sbx_plan *pl, enum sbx__op_kind kind,
                                char *src, const char *path, int is_dir) {
  struct sbx__op *op;

  pl->ops = xreallocarray(pl->ops, pl->nops + 1, sizeof(*pl->ops));
  op = &pl->ops[pl->nops++];
  memset(op, 0, sizeof(*op));
  op->kind = kind;
  op->is_dir = is_dir;
  op->src = src;
  xasprintf(&op->dest, "/newroot%s", path);
  op->path = op->dest + strlen("/newroot");
  log_debug("sandbox: %-7s %s%s%s", plan_kinds[kind], path,
            src == NULL               ? ""
            : kind == SBX__OP_SYMLINK ? " -> "
                                      : " <- ",
            src ? src : "");
  return op;
}

/* A bind of the host's path host at path. */
static void plan_bind(struct sbx_plan *pl, enum sbx__op_kind kind,
                      const char *host, const char *path, int is_dir) {
  char *src;

  xasprintf(&src, "/oldroot%s", host);
  plan_add(pl, kind, src, path, is_dir);
}

static void plan_tmpfs(struct sbx_plan *pl, const char *path, const char *mode,
                       int64_t size) {
  struct sbx__op *op = plan_add(pl, SBX__OP_TMPFS, NULL, path, 1);

  xasprintf(&op->data, "mode=%s,size=%lld", mode, (long long)size);
}

static int plan_is_dir(const char *path) {
  struct stat st;

  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int plan_check_path(const char *path, const char *what,
                           struct crl_err *err) {
  if (path == NULL || path[0] != '/')
    return crl_err_set(err, -EINVAL, "%s %s: not an absolute path", what,
                       path ? path : "(null)");
  if (strcmp(path, "/") == 0)
    return crl_err_set(err, -EINVAL,
                       "%s: the whole filesystem (/) cannot "
                       "be bound into the sandbox",
                       what);
  return 0;
}

/* 1 when target lies in a directory the profile binds anyway, so a link to
 * it can stay a link (/bin -> usr/bin, /etc/localtime -> /usr/share/...). */
static int plan_covered(const struct sbx_profile *p, const char *target) {
  char *const *lists[] = {p->readonly, p->writable};
  struct stat st;

  for (size_t l = 0; l < CRL_ARRAY_SIZE(lists); l++)
    for (size_t i = 0; lists[l] != NULL && lists[l][i] != NULL; i++)
      if (plan_under(target, lists[l][i]) && strcmp(target, lists[l][i]) != 0 &&
          lstat(lists[l][i], &st) == 0 && S_ISDIR(st.st_mode))
        return 1;
  return 0;
}

/* path with its parent made canonical and its last name kept. */
static char *plan_canon_parent(const char *path) {
  char *dir = xstrdup(path), *base = xstrdup(path), *canon, *out = NULL;

  if ((canon = realpath(dirname(dir), NULL)) != NULL) {
    xasprintf(&out, "%s/%s", strcmp(canon, "/") ? canon : "", basename(base));
    free(canon);
  }
  free(dir);
  free(base);
  return out;
}

/* A host symlink stays a symlink when its target is bound anyway; any other
 * entry is bound from its canonical path. */
static void plan_entry(struct sbx_plan *pl, const struct sbx_profile *p,
                       enum sbx__op_kind kind, const char *path,
                       const char *canon) {
  char link[PATH_MAX], *dest;
  struct stat st;
  ssize_t n;

  if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode)) {
    plan_bind(pl, kind, canon, canon, plan_is_dir(canon));
    return;
  }
  if ((dest = plan_canon_parent(path)) == NULL)
    return;
  if (plan_covered(p, canon) &&
      (n = readlink(path, link, sizeof(link) - 1)) > 0) {
    link[n] = '\0';
    plan_add(pl, SBX__OP_SYMLINK, xstrdup(link), dest, 0);
  } else
    plan_bind(pl, kind, canon, dest, plan_is_dir(canon));
  free(dest);
}

/* A profile's readonly or writable list. Missing paths are dropped:
 * profiles name system paths (/lib32) that not every host has. */
static int plan_paths(struct sbx_plan *pl, const struct sbx_profile *p,
                      char *const *list, enum sbx__op_kind kind,
                      struct crl_err *err) {
  char *canon;
  int rc;

  for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
    if ((rc = plan_check_path(list[i], "profile path", err)) < 0)
      return rc;
    if ((canon = realpath(list[i], NULL)) == NULL) {
      log_debug("%s: %s: %s, left out", __func__, list[i], strerror(errno));
      continue;
    }
    plan_entry(pl, p, kind, list[i], canon);
    free(canon);
  }
  return 0;
}

/* A minimal /dev: the host's harmless device nodes bound in (a user
 * namespace may not mknod), the fd links, a private /dev/shm. */
static void plan_dev(struct sbx_plan *pl, int64_t size) {
  char path[64];
  struct stat st;

  plan_tmpfs(pl, "/dev", "0755", 64 * 1024);
  for (size_t i = 0; i < CRL_ARRAY_SIZE(plan_dev_nodes); i++) {
    snprintf(path, sizeof(path), "/dev/%s", plan_dev_nodes[i]);
    if (stat(path, &st) == 0 && S_ISCHR(st.st_mode))
      plan_bind(pl, SBX__OP_DEV, path, path, 0);
  }
  for (size_t i = 0; i < CRL_ARRAY_SIZE(plan_dev_links); i++) {
    snprintf(path, sizeof(path), "/dev/%s", plan_dev_links[i][0]);
    plan_add(pl, SBX__OP_SYMLINK, xstrdup(plan_dev_links[i][1]), path, 0);
  }
  plan_tmpfs(pl, "/dev/shm", "1777", size);
}

/* A fresh /proc, mounted by the child from inside its pid namespace. */
static void plan_proc(struct sbx_plan *pl) {
  struct sbx__op *op;

  plan_add(pl, SBX__OP_PROC, NULL, "/proc", 1);
  for (size_t i = 0; i < CRL_ARRAY_SIZE(plan_proc_ro); i++) {
    op = plan_add(pl, SBX__OP_BIND_RO, NULL, plan_proc_ro[i].path,
                  plan_proc_ro[i].is_dir);
    op->src = xstrdup(op->dest);
    op->optional = 1;
  }
}

/* Where a host config dir appears under the sandbox's $HOME: at the same
 * place relative to the host's $HOME, or by its last name. */
static char *plan_home_dest(const char *home, const char *canon) {
  const char *hh = getenv("HOME");
  char *host_home = hh != NULL ? realpath(hh, NULL) : NULL, *out, *base;

  if (host_home != NULL && strcmp(host_home, "/") != 0 &&
      plan_under(canon, host_home) && strcmp(canon, host_home) != 0)
    xasprintf(&out, "%s%s", home, canon + strlen(host_home));
  else {
    base = xstrdup(canon);
    xasprintf(&out, "%s/%s", home, basename(base));
    free(base);
  }
  free(host_home);
  return out;
}

/* $HOME is the run's private home, a host dir bound read-write. */
static int plan_home_src(struct sbx_plan *pl, const char *src,
                         struct crl_err *err) {
  char *canon;
  int rc;

  if ((rc = plan_check_path(src, "home", err)) < 0)
    return rc;
  if ((canon = realpath(src, NULL)) == NULL || !plan_is_dir(canon)) {
    rc = crl_err_set(err, canon == NULL ? -errno : -ENOTDIR, "home %s: %s", src,
                     canon == NULL ? strerror(errno) : "not a dir");
    free(canon);
    return rc;
  }
  plan_bind(pl, SBX__OP_BIND_RW, canon, pl->home, 1);
  free(canon);
  return 0;
}

/* $HOME: an empty tmpfs, with the agent's config dirs bound read-write. */
static int plan_home(struct sbx_plan *pl, const struct sbx_opts *o,
                     int64_t size, struct crl_err *err) {
  char *canon, *dest;
  int rc;

  if (o->home_src != NULL)
    return plan_home_src(pl, o->home_src, err);
  plan_tmpfs(pl, pl->home, "0700", size);
  for (size_t i = 0; o->home_dirs != NULL && o->home_dirs[i] != NULL; i++) {
    if ((rc = plan_check_path(o->home_dirs[i], "home dir", err)) < 0)
      return rc;
    if ((canon = realpath(o->home_dirs[i], NULL)) == NULL) {
      log_debug("%s: %s: %s, left out", __func__, o->home_dirs[i],
                strerror(errno));
      continue;
    }
    dest = plan_home_dest(pl->home, canon);
    plan_bind(pl, SBX__OP_BIND_RW, canon, dest, plan_is_dir(canon));
    free(dest);
    free(canon);
  }
  return 0;
}

/* One of config, hooks/, info/: read-only on top of the writable tree. A
 * missing directory is created first, or the agent could create it and
 * plant a hook; a symlink could point the bind anywhere, so it refuses. */
static int plan_git_entry(struct sbx_plan *pl, const char *common,
                          const char *name, struct crl_err *err) {
  struct stat st;
  char *path;
  int rc = 0;

  xasprintf(&path, "%s/%s", common, name);
  if (strcmp(name, "config") != 0 && mkdir(path, 0755) < 0 && errno != EEXIST)
    log_debug("%s: mkdir %s: %s", __func__, path, strerror(errno));
  if (lstat(path, &st) < 0)
    log_debug("%s: %s: %s, left out", __func__, path, strerror(errno));
  else if (S_ISLNK(st.st_mode))
    rc = crl_err_set(err, CRL_ESANDBOX,
                     "git metadata %s is a symlink, which the sandbox cannot "
                     "keep read-only; fix: replace it with what it points to",
                     path);
  else
    plan_bind(pl, SBX__OP_BIND_RO, path, path, S_ISDIR(st.st_mode));
  free(path);
  return rc;
}

/* The git common dir: writable (objects, refs) when it lies outside the
 * workdir, with config, hooks/ and info/ read-only on top. */
static int plan_git(struct sbx_plan *pl, const char *git_common,
                    struct crl_err *err) {
  char *common;
  int rc = 0;

  if (git_common == NULL)
    return 0;
  if ((common = realpath(git_common, NULL)) == NULL)
    return crl_err_set(err, -errno, "git dir %s: %s", git_common,
                       strerror(errno));
  if (strcmp(common, "/") == 0)
    rc = plan_check_path(common, "git dir", err);
  else if (!plan_under(common, pl->workdir))
    plan_bind(pl, SBX__OP_BIND_RW, common, common, 1);
  for (size_t i = 0; rc == 0 && i < CRL_ARRAY_SIZE(plan_git_ro); i++)
    rc = plan_git_entry(pl, common, plan_git_ro[i], err);
  free(common);
  return rc;
}

static char *plan_git_commondir(const char *gitdir);

/* The workdir's .git entry, mounted on itself: a mount point cannot be
 * renamed away (EBUSY), so the agent cannot swap in a .git of its own
 * making. A linked worktree's .git file (a pointer to its git dir) is also
 * made read-only. */
static void plan_dotgit(struct sbx_plan *pl) {
  struct stat st;
  char *path;

  xasprintf(&path, "%s/.git", pl->workdir);
  if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
    plan_bind(pl, SBX__OP_BIND_RW, path, path, 1);
  else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
    plan_bind(pl, SBX__OP_BIND_RO, path, path, 0);
  free(path);
}

/* The git common dir of a workdir when none was given: its .git directory,
 * or for a linked worktree the common dir its .git file leads to. */
static char *plan_git_detect(const char *workdir) {
  char *path, *line = NULL, *gitdir = NULL, *common = NULL;
  size_t cap = 0;
  FILE *fp;

  xasprintf(&path, "%s/.git", workdir);
  if (plan_is_dir(path))
    return path;
  if ((fp = fopen(path, "re")) != NULL && getline(&line, &cap, fp) > 8 &&
      strncmp(line, "gitdir: ", 8) == 0) {
    line[strcspn(line, "\n")] = '\0';
    gitdir = line[8] == '/' ? xstrdup(line + 8) : NULL;
    if (gitdir == NULL)
      xasprintf(&gitdir, "%s/%s", workdir, line + 8);
    common = plan_git_commondir(gitdir);
  }
  if (fp != NULL)
    fclose(fp);
  free(line);
  free(gitdir);
  free(path);
  return common;
}

/* A linked worktree's git dir names its common dir in "commondir". */
static char *plan_git_commondir(const char *gitdir) {
  char *path, *line = NULL, *out = NULL;
  size_t cap = 0;
  FILE *fp;

  xasprintf(&path, "%s/commondir", gitdir);
  if ((fp = fopen(path, "re")) != NULL && getline(&line, &cap, fp) > 0) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '/')
      out = xstrdup(line);
    else
      xasprintf(&out, "%s/%s", gitdir, line);
  }
  if (fp != NULL)
    fclose(fp);
  free(line);
  free(path);
  return out != NULL ? out : xstrdup(gitdir);
}

/* CORRAL_SANDBOX_SIMULATE_MISSING=userns,landlock,seccomp makes the plan
 * refuse as a host without them would: it can only add refusals, and it is
 * how the tests prove the fail-closed path. */
static int plan_simulated(struct crl_err *err) {
  static const struct {
    const char *name, *what, *fix;
  } feats[] = {
      {"userns", "user namespaces are not available",
       "sysctl -w kernel.unprivileged_userns_clone=1"},
      {"landlock", "Landlock is not available",
       "boot with lsm=landlock,... (CONFIG_SECURITY_LANDLOCK=y)"},
      {"seccomp", "seccomp filters are not available",
       "use a kernel built with CONFIG_SECCOMP_FILTER=y"},
  };

  for (size_t i = 0; i < CRL_ARRAY_SIZE(feats); i++)
    if (sbx_simulate_missing(feats[i].name))
      return crl_err_set(err, CRL_ESANDBOX, "%s (simulated); fix: %s",
                         feats[i].what, feats[i].fix);
  return 0;
}

static int plan_hidden(struct sbx_plan *pl, char *const *hidden,
                       struct crl_err *err) {
  struct sbx__op *op;
  char *canon;
  int rc;

  for (size_t i = 0; hidden != NULL && hidden[i] != NULL; i++) {
    if ((rc = plan_check_path(hidden[i], "hidden path", err)) < 0)
      return rc;
    if ((canon = realpath(hidden[i], NULL)) == NULL)
      continue;
    op = plan_add(pl, SBX__OP_MASK, xstrdup("/oldroot/dev/null"), canon,
                  plan_is_dir(canon));
    op->data = xstrdup("mode=000,size=4k");
    free(canon);
  }
  return 0;
}

/* A stable insertion sort by destination: ancestors sort before their
 * descendants, and operations on one path keep the order they were added. */
static void plan_sort(struct sbx_plan *pl) {
  for (size_t i = 1; i < pl->nops; i++) {
    struct sbx__op op = pl->ops[i];
    size_t j = i;

    for (; j > 0 && strcmp(pl->ops[j - 1].dest, op.dest) > 0; j--)
      pl->ops[j] = pl->ops[j - 1];
    pl->ops[j] = op;
  }
}

static int plan_ops(struct sbx_plan *pl, const struct sbx_profile *p,
                    const struct sbx_opts *o, struct crl_err *err) {
  int64_t size = p->tmp_size > 0 ? p->tmp_size : PLAN_TMP_DEFAULT;
  char *git;
  int rc;

  if ((rc = plan_paths(pl, p, p->readonly, SBX__OP_BIND_RO, err)) < 0 ||
      (rc = plan_paths(pl, p, p->writable, SBX__OP_BIND_RW, err)) < 0)
    return rc;
  plan_tmpfs(pl, "/tmp", "1777", size);
  plan_dev(pl, size);
  plan_proc(pl);
  if ((rc = plan_home(pl, o, size, err)) < 0)
    return rc;
  plan_bind(pl, SBX__OP_BIND_RW, pl->workdir, pl->workdir, 1);
  plan_dotgit(pl);
  git = o->git_common ? xstrdup(o->git_common) : plan_git_detect(pl->workdir);
  rc = plan_git(pl, git, err);
  free(git);
  if (rc < 0)
    return rc;
  plan_sort(pl);
  return plan_hidden(pl, p->hidden, err);
}

static int plan_int_cmp(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

/* The kept fds, sorted and unique: each must be open and above stdio. */
static int plan_keep_fds(struct sbx_plan *pl, const struct sbx_opts *o,
                         struct crl_err *err) {
  size_t n = 0;

  if (o->nkeep_fds > SBX__KEEP_FDS_MAX)
    return crl_err_set(err, -EINVAL, "more than %d fds to keep",
                       SBX__KEEP_FDS_MAX);
  pl->keep_fds = xcalloc(o->nkeep_fds + 1, sizeof(int));
  for (size_t i = 0; i < o->nkeep_fds; i++) {
    if (o->keep_fds[i] < 3 || fcntl(o->keep_fds[i], F_GETFD) < 0)
      return crl_err_set(err, -EBADF, "keep fd %d: not an open fd above 2",
                         o->keep_fds[i]);
    pl->keep_fds[n++] = o->keep_fds[i];
  }
  qsort(pl->keep_fds, n, sizeof(int), plan_int_cmp);
  for (size_t i = 0; i < n; i++)
    if (pl->nkeep_fds == 0 ||
        pl->keep_fds[pl->nkeep_fds - 1] != pl->keep_fds[i])
      pl->keep_fds[pl->nkeep_fds++] = pl->keep_fds[i];
  return 0;
}

/* The run's facts every profile uses, "none" included. */
static int plan_facts(struct sbx_plan *pl, const struct sbx_profile *p,
                      const struct sbx_opts *o, struct crl_err *err) {
  const char *wd = o->workdir != NULL ? o->workdir : ".";

  sbx__profile_copy(&pl->profile, p);
  if ((pl->workdir = realpath(wd, NULL)) == NULL)
    return crl_err_set(err, -errno, "workdir %s: %s", wd, strerror(errno));
  if (!plan_is_dir(pl->workdir))
    return crl_err_set(err, -ENOTDIR, "workdir %s: not a directory", wd);
  pl->home = xstrdup(o->home != NULL ? o->home : "/home/agent");
  pl->cgroup = o->cgroup != NULL ? xstrdup(o->cgroup) : NULL;
  /* Leaves are made at spawn time, only for limits v2 cannot hold. */
  pl->cg1 = p->enabled ? sbx__cg1_new() : NULL;
  pl->status_fd = o->status_fd;
  pl->gw_fd = o->gw_fd;
  pl->gw_port = o->gw_port;
  if (o->status_fd >= 0 &&
      (o->status_fd < 3 || fcntl(o->status_fd, F_GETFD) < 0))
    return crl_err_set(err, -EBADF, "status fd %d: not an open fd above 2",
                       o->status_fd);
  return plan_keep_fds(pl, o, err);
}

/* Seccomp and Landlock, prepared in the parent against canonical paths. */
static int plan_harden(struct sbx_plan *pl, const struct sbx_profile *p,
                       const struct sbx_opts *o, struct crl_err *err) {
  struct sbx_opts canon = *o;
  char *git = NULL;
  int rc;

  canon.workdir = pl->workdir;
  canon.home = pl->home;
  if (o->git_common != NULL && (git = realpath(o->git_common, NULL)) != NULL)
    canon.git_common = git;
  sbx__seccomp_prebuilt(&pl->bpf);
  rc = sbx__landlock_prepare(&pl->landlock, p, &canon, err);
  free(git);
  return rc;
}

int sbx_plan_new(struct sbx_plan **out, const struct sbx_profile *p,
                 const struct sbx_opts *o, struct crl_err *err) {
  struct sbx_plan *pl = xcalloc(1, sizeof(*pl));
  int rc;

  assert(out != NULL && p != NULL && o != NULL);
  *out = NULL;
  if ((rc = plan_facts(pl, p, o, err)) < 0 || !p->enabled)
    goto out;
  if (strcmp(pl->workdir, "/") == 0 || pl->home[0] != '/' ||
      strcmp(pl->home, "/") == 0) {
    rc = crl_err_set(err, -EINVAL,
                     "workdir %s and home %s must be "
                     "absolute and not /",
                     pl->workdir, pl->home);
    goto out;
  }
  /* Probe mount_setattr: absent, binds are made non-recursive. */
  pl->setattr = !(mount_setattr(-1, NULL, 0, NULL, 0) < 0 && errno == ENOSYS);
  if ((rc = plan_simulated(err)) < 0 || (rc = sbx__ns_check(err)) < 0 ||
      (rc = plan_ops(pl, p, o, err)) < 0 ||
      (rc = plan_harden(pl, p, o, err)) < 0)
    goto out;
out:
  if (rc == 0) {
    *out = pl;
    pl = NULL;
  }
  sbx_plan_free(pl);
  return rc;
}

int sbx_plan_kill(const struct sbx_plan *plan) {
  return plan != NULL ? sbx__cg1_kill(plan->cg1) : 0;
}

void sbx_plan_free(struct sbx_plan *pl) {
  if (pl == NULL)
    return;
  for (size_t i = 0; i < pl->nops; i++) {
    free(pl->ops[i].src);
    free(pl->ops[i].dest);
    free(pl->ops[i].data);
  }
  free(pl->ops);
  free(pl->workdir);
  free(pl->home);
  free(pl->cgroup);
  sbx__cg1_free(pl->cg1);
  free(pl->keep_fds);
  sbx__bpf_free(&pl->bpf);
  sbx__landlock_close(&pl->landlock);
  sbx_profile_close(&pl->profile);
  free(pl);
}
