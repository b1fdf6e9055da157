/*
 * The state dir: where the store and the run directories live. It follows
 * XDG ($XDG_STATE_HOME/corral, else ~/.local/state/corral) unless the user
 * names one with --state-dir.
 */
#include "rt-int.h"

#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rt_mkdirs(const char *path, mode_t mode) {
  char *p = xstrdup(path), *s = p;
  int rc = 0;

  while (rc == 0 && (s = strchr(s + 1, '/')) != NULL) {
    *s = '\0';
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      rc = -errno;
    *s = '/';
  }
  if (rc == 0 && mkdir(p, mode) < 0 && errno != EEXIST)
    rc = -errno;
  free(p);
  return rc;
}

static char *statedir_default(void) {
  const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  char *out;

  if (xdg != NULL && xdg[0] == '/')
    xasprintf(&out, "%s/corral", xdg);
  else
    xasprintf(&out, "%s/.local/state/corral", home ? home : "/tmp");
  return out;
}

int rt_statedir(char **out, const char *opt, struct crl_err *err) {
  char *dir = opt ? realpath(opt, NULL) : NULL;
  int rc;

  if (dir == NULL)
    dir = opt ? xstrdup(opt) : statedir_default();
  if ((rc = rt_mkdirs(dir, 0700)) < 0) {
    crl_err_set(err, rc, "unable to create state dir %s: %s", dir,
                crl_strerror(rc));
    free(dir);
    return rc;
  }
  if (dir[0] != '/') {
    char *abs = realpath(dir, NULL);

    if (abs != NULL) {
      free(dir);
      dir = abs;
    }
  }
  *out = dir;
  return 0;
}

int rt_store_open(struct store **out, const char *state_dir,
                  struct crl_err *err) {
  char *path;
  int rc;

  xasprintf(&path, "%s/corral.db", state_dir);
  rc = store_open(out, path, err);
  free(path);
  return rc;
}

static int pick_first(const struct store_mission *m, void *payload) {
  *(char **)payload = xstrdup(m->id);
  return 1;
}

int rt_mission_pick(char **out, struct store *st, const char *name,
                    struct crl_err *err) {
  struct store_mission m;
  char *id = NULL;
  int rc;

  if (name != NULL) {
    if ((rc = store_mission_get(st, name, &m, err)) < 0)
      return rc;
    *out = xstrdup(name);
    return 0;
  }
  store_mission_list(st, pick_first, &id);
  if (id == NULL)
    return crl_err_set(err, CRL_EMISSION_NOT_FOUND,
                       "no mission in this state dir");
  *out = id;
  return 0;
}

char *rt_socket_path(const char *opt) {
  const char *env = getenv("CORRAL_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR");
  char *out;

  if (opt != NULL)
    return xstrdup(opt);
  if (env != NULL && env[0] != '\0')
    return xstrdup(env);
  if (xdg != NULL && xdg[0] == '/')
    xasprintf(&out, "%s/corral/corral.sock", xdg);
  else
    xasprintf(&out, "/tmp/corral-%ld/corral.sock", (long)getuid());
  return out;
}

int rt_mission_lock(int *fd, const char *state_dir, const char *mission,
                    char *holder, size_t len, struct crl_err *err) {
  char *path;
  ssize_t n;

  xasprintf(&path, "%s/%s.lock", state_dir, mission);
  *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  free(path);
  if (*fd < 0)
    return crl_err_set(err, -errno, "unable to open the mission lock: %s",
                       strerror(errno));
  if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
    return 0;
  n = pread(*fd, holder, len - 1, 0);
  holder[n > 0 ? n : 0] = '\0';
  holder[strcspn(holder, "\n")] = '\0';
  close(*fd);
  *fd = -1;
  return CRL_EAGENT_BUSY;
}
