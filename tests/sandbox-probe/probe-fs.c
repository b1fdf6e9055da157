/*
 * Filesystem probes (issue groups 1-5, 15, 19): writes outside the worktree,
 * symlinks and hardlinks pointing out, git metadata that would make the
 * host's git run agent-chosen code, inherited directory fds, secrets, device
 * nodes and the host's /dev/shm. Every write appends one marker line, so the
 * tests can check host files byte for byte afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"

/* Appends the marker to path (created 0644 when absent). 0 or -1/errno. */
static int append_to(const char *path) {
  int fd, rc, saved;

  if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0)
    return -1;
  rc = probe_write_marker(fd);
  saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

static int append_verdict(const char *path) {
  if (append_to(path) < 0)
    return probe_blocked("append to %s", path);
  return probe_escaped("appended to %s", path);
}

static int write_abs(int argc, char **argv) {
  return append_verdict(argv[0]);
}

static int write_dotdot(int argc, char **argv) {
  return append_verdict("../escape");
}

static int symlink_out(int argc, char **argv) {
  char lnk[PATH_MAX];

  snprintf(lnk, sizeof(lnk), "%s/link", argv[0]);
  unlink(lnk);
  if (symlink(argv[1], lnk) < 0)
    return probe_blocked("symlink %s -> %s", lnk, argv[1]);
  return append_verdict(lnk);
}

static int hardlink(int argc, char **argv) {
  char lnk[PATH_MAX];

  snprintf(lnk, sizeof(lnk), "%s/hardlink", argv[1]);
  unlink(lnk);
  if (link(argv[0], lnk) < 0)
    return probe_blocked("link %s to %s", argv[0], lnk);
  return append_verdict(lnk);
}

/* One write into a git dir; prints its own result, returns 1 if it took. */
static int git_try(const char *gitdir, const char *rel, const char *text,
                   int mode) {
  char path[PATH_MAX];
  int fd, n;

  snprintf(path, sizeof(path), "%s/%s", gitdir, rel);
  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode);
  n = fd < 0 ? -1 : (int)write(fd, text, strlen(text));
  if (n < 0) {
    probe_note("%s: %s", rel, probe_errname(errno));
    if (fd >= 0)
      close(fd);
    return 0;
  }
  close(fd);
  probe_note("%s: written", rel);
  return 1;
}

/* Each write would make the host's next `git status` or commit run
 * a /tmp/corral-probe-* program: a hook, core.fsmonitor, core.hooksPath, a
 * filter driver attached to every file by info/attributes. */
static int git_hooks(int argc, char **argv) {
  static const char cfg[] = "[core]\n\tfsmonitor = /tmp/corral-probe-fsmon\n"
                            "\thooksPath = /tmp/corral-probe-hooks\n"
                            "[filter \"probe\"]\n\tclean = /tmp/corral-probe\n";
  int took = 0;

  took += git_try(argv[0], "hooks/pre-commit", "#!/bin/sh\nexit 0\n", 0755);
  took += git_try(argv[0], "config", cfg, 0644);
  took += git_try(argv[0], "info/attributes", "* filter=probe\n", 0644);
  if (took > 0)
    return probe_escaped("%d of 3 git metadata writes took effect", took);
  errno = EACCES;
  return probe_blocked("no git metadata write took effect");
}

/* A linked worktree's own git dir (COMMON/worktrees/NAME): `commondir`
 * names the common dir whose config applies, and `config.worktree` is
 * read when the repository enables worktreeConfig. */
static int git_wtmeta(int argc, char **argv) {
  int took = 0;

  took += git_try(argv[0], "commondir", "\n", 0644);
  took += git_try(argv[0], "config.worktree",
                  "[core]\n\tfsmonitor = /tmp/corral-probe-fsmon\n", 0644);
  if (took > 0)
    return probe_escaped("%d of 2 worktree git dir writes took effect", took);
  errno = EACCES;
  return probe_blocked("no worktree git dir write took effect");
}

/* A linked worktree's .git is a file naming the git dir; a repository's is a
 * directory. Either way, replacing it points the host's git at an agent-made
 * config. */
static int git_dotgit(int argc, char **argv) {
  char dotgit[PATH_MAX], moved[PATH_MAX];
  struct stat st;

  snprintf(dotgit, sizeof(dotgit), "%s/.git", argv[0]);
  if (lstat(dotgit, &st) < 0)
    return probe_blocked("lstat %s", dotgit);
  if (!S_ISDIR(st.st_mode))
    return append_verdict(dotgit);
  snprintf(moved, sizeof(moved), "%s/.git-probe-moved", argv[0]);
  if (rename(dotgit, moved) < 0)
    return probe_blocked("rename %s", dotgit);
  return probe_escaped("renamed %s away", dotgit);
}

static int inherited_fd(int argc, char **argv) {
  long n = probe_num(argv[0]);
  int fd, took = 0;

  if (n < 0)
    return PROBE_USAGE;
  if ((fd = openat((int)n, "escape", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) <
      0) {
    probe_note("openat(%ld, escape): %s", n, probe_errname(errno));
  } else {
    took += probe_write_marker(fd) == 0;
    close(fd);
  }
  if (fchdir((int)n) < 0) {
    probe_note("fchdir(%ld): %s", n, probe_errname(errno));
  } else if ((fd = open("../escape-up", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) <
             0) {
    probe_note("open(../escape-up): %s", probe_errname(errno));
  } else {
    took += probe_write_marker(fd) == 0;
    close(fd);
  }
  if (took > 0)
    return probe_escaped("%d of 2 writes through fd %ld", took, n);
  return probe_blocked("writes through fd %ld", n);
}

static int read_secret(int argc, char **argv) {
  char buf[64];
  int fd;

  if ((fd = open(argv[0], O_RDONLY | O_CLOEXEC)) < 0)
    return probe_blocked("open %s", argv[0]);
  if (read(fd, buf, sizeof(buf)) < 0 && errno != EISDIR) {
    close(fd);
    return probe_blocked("read %s", argv[0]);
  }
  close(fd);
  return probe_escaped("read %s", argv[0]);
}

static int mknod_probe(int argc, char **argv) {
  if (mknod(argv[0], S_IFCHR | 0666, makedev(1, 3)) < 0)
    return probe_blocked("mknod %s c 1 3", argv[0]);
  return probe_escaped("made char device %s", argv[0]);
}

static int dev_open(int argc, char **argv) {
  char buf[8192]; /* a whole /dev/kmsg record, or EINVAL */
  int fd;

  if ((fd = open(argv[0], O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
    return probe_blocked("open %s", argv[0]);
  if (read(fd, buf, sizeof(buf)) < 0 && errno != EAGAIN) {
    close(fd);
    return probe_blocked("read %s", argv[0]);
  }
  close(fd);
  return probe_escaped("opened and read %s", argv[0]);
}

static int dev_mem(int argc, char **argv) {
  static const char *const devs[] = {"/dev/mem", "/dev/kmem", "/dev/port"};
  int fd;

  for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
    if ((fd = open(devs[i], O_RDONLY | O_CLOEXEC)) >= 0) {
      close(fd);
      return probe_escaped("opened %s", devs[i]);
    }
    probe_note("%s: %s", devs[i], probe_errname(errno));
  }
  return probe_blocked("no memory device opened");
}

static int dev_kmsg(int argc, char **argv) {
  char *args[] = {"/dev/kmsg"};

  return dev_open(1, args);
}

/* The host test creates /dev/shm/NAME; a private /dev/shm has no such file. */
static int dev_shm_host(int argc, char **argv) {
  char path[PATH_MAX];
  int fd, rc;

  snprintf(path, sizeof(path), "/dev/shm/%s", argv[0]);
  if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
    return probe_blocked("open existing %s", path);
  rc = probe_write_marker(fd);
  close(fd);
  if (rc < 0)
    return probe_blocked("write %s", path);
  return probe_escaped("appended to the host's %s", path);
}

const struct probe probe_fs[] = {
    {"write-abs", 1, 1, write_abs, "PATH  append to PATH (group 1)"},
    {"write-dotdot", 0, 0, write_dotdot, " append to ../escape (group 1)"},
    {"write-home-bashrc", 1, 1, write_abs,
     "PATH  append to the host's $HOME/.bashrc, given absolute (group 1)"},
    {"symlink-out", 2, 2, symlink_out,
     "DIR TARGET  DIR/link -> TARGET, append through it (group 2)"},
    {"hardlink", 2, 2, hardlink,
     "HOSTFILE DIR  DIR/hardlink = HOSTFILE, append through it (group 3)"},
    {"git-hooks", 1, 1, git_hooks,
     "GITDIR  write hooks/pre-commit, config, info/attributes (group 4)"},
    {"git-wtmeta", 1, 1, git_wtmeta,
     "WTGITDIR  write commondir, config.worktree (group 4)"},
    {"git-dotgit", 1, 1, git_dotgit,
     "WORKTREE  overwrite the .git file or rename the .git dir (group 4)"},
    {"inherited-fd", 1, 1, inherited_fd,
     "N  openat(N, escape) and fchdir(N) + ../escape-up (group 5)"},
    {"read-secret", 1, 1, read_secret, "PATH  open and read PATH (group 15)"},
    {"mknod", 1, 1, mknod_probe, "PATH  mknod PATH c 1 3 (group 19)"},
    {"dev-open", 1, 1, dev_open, "PATH  open and read a device (group 19)"},
    {"dev-mem", 0, 0, dev_mem, " open /dev/mem, /dev/kmem, /dev/port"},
    {"dev-kmsg", 0, 0, dev_kmsg, " read a record of /dev/kmsg (group 19)"},
    {"dev-shm-host", 1, 1, dev_shm_host,
     "NAME  append to an existing /dev/shm/NAME (group 19)"},
    {NULL, 0, 0, NULL, NULL},
};
