/*
 * Process facts the engine needs to supervise shims it may not have started:
 * pidfds (so a recycled pid can never be signalled by mistake), the kernel's
 * start time of a pid, the run lock a live shim holds, and the status file a
 * shim leaves behind.
 */
#include "rt-int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

int rt_pidfd_open(pid_t pid) {
  long fd = syscall(SYS_pidfd_open, pid, 0);

  return fd < 0 ? -errno : (int)fd;
}

int rt_pidfd_signal(int pidfd, int sig) {
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    return -errno;
  return 0;
}

int64_t rt_proc_starttime(pid_t pid) {
  char path[64], buf[1024], *p;
  ssize_t n;
  int fd, field;

  snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return -errno;
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0 || (buf[n] = '\0', p = strrchr(buf, ')')) == NULL)
    return -EIO;
  /* Field 3 (state) follows ") "; starttime is field 22. */
  for (field = 2; field < 22 && p != NULL; field++)
    p = strchr(p + 1, ' ');
  return p == NULL ? -EIO : strtoll(p + 1, NULL, 10);
}

int rt_lock_held(const char *rundir, pid_t *pid) {
  char path[4096], buf[32];
  ssize_t n;
  int fd, rc;

  snprintf(path, sizeof(path), "%s/lock", rundir);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return errno == ENOENT ? 0 : -errno;
  n = pread(fd, buf, sizeof(buf) - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  *pid = (pid_t)strtol(buf, NULL, 10);
  if (flock(fd, LOCK_SH | LOCK_NB) == 0)
    rc = 0;
  else
    rc = errno == EWOULDBLOCK ? 1 : -errno;
  close(fd);
  return rc;
}

static void status_field(struct rt_status *s, const char *k, const char *v) {
  if (strcmp(k, "end") == 0)
    snprintf(s->end, sizeof(s->end), "%s", v);
  else if (strcmp(k, "code") == 0)
    s->code = atoi(v);
  else if (strcmp(k, "signal") == 0)
    s->signal = atoi(v);
  else if (strcmp(k, "errno") == 0)
    s->err_no = atoi(v);
  else if (strcmp(k, "stopped") == 0)
    s->stopped = atoi(v);
  else if (strcmp(k, "killed") == 0)
    s->killed = atoi(v);
  else if (strcmp(k, "started") == 0)
    s->started = strtoll(v, NULL, 10);
  else if (strcmp(k, "ended") == 0)
    s->ended = strtoll(v, NULL, 10);
  else if (strcmp(k, "detail") == 0)
    snprintf(s->detail, sizeof(s->detail), "%s", v);
}

int rt_status_read(struct rt_status *out, const char *rundir) {
  char path[4096], line[1200], *eq;
  FILE *fp;

  memset(out, 0, sizeof(*out));
  snprintf(path, sizeof(path), "%s/status", rundir);
  if ((fp = fopen(path, "re")) == NULL)
    return -errno;
  while (fgets(line, sizeof(line), fp) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if ((eq = strchr(line, '=')) == NULL)
      continue;
    *eq = '\0';
    status_field(out, line, eq + 1);
  }
  fclose(fp);
  return out->end[0] != '\0' ? 0 : -EIO;
}

int rt_status_write_never(const char *path) {
  FILE *fp = fopen(path, "wex");

  if (fp == NULL)
    return -errno;
  fputs("end=never\n", fp);
  return fclose(fp) == 0 ? 0 : -errno;
}
