/*
 * Resuming an agent CLI's own session (`corral resume TASK --turns N`). Each
 * CLI run records its session id as a "session" event and keeps the
 * session's files in its private home, RUNDIR/home. A resume is asked for
 * on the store (the task's resume_turns), so that it survives until the
 * task runs again; that run takes it: its home starts as a copy of the home
 * of the latest run that recorded a session (a copy, so every run's record
 * stays as it was), the CLI is given that session id and N turns (its own
 * limit and the gateway's turns cap), its prompt is "go on", and a "resume"
 * event says which session, from which run, with how many turns.
 */
#include "rt-int.h"
#include "rt-json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Directory levels a home copy descends before it gives up. */
#define SESSION_DEPTH_MAX 32

int rt_session_id_ok(const char *id) {
  size_t n = id != NULL ? strlen(id) : 0;

  if (n == 0 || n >= RT_SESSION_ID_MAX || id[0] == '-')
    return 0;
  return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789._:-") == n;
}

/* Keeps the last session event of the walk whose id is usable. */
static int session_one(const struct store_event *ev, void *payload) {
  struct rt_session *s = payload;
  json_t *doc;
  const char *id;

  if (strcmp(ev->kind, "session") != 0 || ev->data == NULL || ev->run <= 0)
    return 0;
  doc = json_loads(ev->data, 0, NULL);
  id = json_string_value(json_object_get(doc, "text"));
  if (rt_session_id_ok(id)) {
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->run = ev->run;
  }
  json_decref(doc);
  return 0;
}

int rt_session_find(struct rt_session *out, struct store *st,
                    const char *mission, const char *task,
                    struct crl_err *err) {
  int rc;

  memset(out, 0, sizeof(*out));
  if ((rc = store_event_list(st, mission, task, 0, session_one, out)) < 0)
    return crl_err_set(err, rc, "task %s: unable to read its events", task);
  if (out->run == 0)
    return crl_err_set(err, CRL_ENOT_FOUND,
                       "task %s: no run recorded a session id to resume", task);
  return 0;
}

/* The checks that need only the store: a sane number of turns, a task
 * that has ended without completing, a session to go on with. */
static int session_check(struct store *st, const char *mission,
                         const char *task, int turns, struct crl_err *err) {
  struct rt_session s;
  struct store_task t;
  int rc;

  if (turns < 1 || turns > RT_RESUME_TURNS_MAX)
    return crl_err_set(err, CRL_EBAD_REQUEST,
                       "turns must be between 1 and %d, got %d",
                       RT_RESUME_TURNS_MAX, turns);
  if ((rc = store_task_get(st, mission, task, &t, err)) < 0)
    return rc;
  if (strcmp(t.state, "failed") != 0 && strcmp(t.state, "cancelled") != 0)
    return crl_err_set(err, CRL_EINVALID_TRANSITION,
                       "task %s of mission %s is %s: only a failed or "
                       "cancelled task can be resumed",
                       task, mission, t.state);
  return rt_session_find(&s, st, mission, task, err);
}

int rt_session_request(struct store *st, const struct msn_mission *m,
                       const char *task, int turns, struct crl_err *err) {
  int idx = msn_task_find(m, task), rc;
  const struct msn_agent *a;

  if (idx < 0)
    return crl_err_set(err, CRL_ETASK_NOT_FOUND, "task %s is not in %s", task,
                       m->name);
  a = &m->agents[m->tasks[idx].agent];
  if (!rt_agent_uses_gw(adapter_find(a->adapter)))
    return crl_err_set(err, CRL_EVALIDATION_FAILED,
                       "task %s: agent %s (adapter %s) is not an agent CLI "
                       "and has no session to resume",
                       task, a->name, a->adapter);
  if ((rc = session_check(st, m->name, task, turns, err)) < 0)
    return rc;
  return store_task_set_resume(st, m->name, task, turns, err);
}

static int copy_dir(int sfd, int dfd, int depth);

static int copy_bytes(int in, int out) {
  char buf[64 * 1024];
  ssize_t n;

  while ((n = read(in, buf, sizeof(buf))) > 0)
    if (write(out, buf, (size_t)n) != n)
      return -EIO;
  return n < 0 ? -errno : 0;
}

static int copy_file(int sfd, int dfd, const char *name, mode_t mode) {
  int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1;
  int rc;

  if (in < 0)
    return -errno;
  out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               mode & 0777);
  rc = out < 0 ? -errno : copy_bytes(in, out);
  if (out >= 0)
    close(out);
  close(in);
  return rc;
}

/* A link is copied as a link, never followed. */
static int copy_link(int sfd, int dfd, const char *name) {
  char target[4096];
  ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);

  if (n < 0)
    return -errno;
  target[n] = '\0';
  return symlinkat(target, dfd, name) < 0 ? -errno : 0;
}

/* The directory is made writable for the copy and gets its mode after. */
static int copy_subdir(int sfd, int dfd, const char *name, mode_t mode,
                       int depth) {
  int s = -1, d = -1, rc;

  if (depth >= SESSION_DEPTH_MAX)
    return -ELOOP;
  if (mkdirat(dfd, name, 0700) < 0)
    return -errno;
  s = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  d = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s < 0 || d < 0)
    rc = -errno;
  else if ((rc = copy_dir(s, d, depth + 1)) == 0 && fchmod(d, mode & 0777) < 0)
    rc = -errno;
  if (s >= 0)
    close(s);
  if (d >= 0)
    close(d);
  return rc;
}

static int copy_entry(int sfd, int dfd, const char *name, int depth) {
  struct stat sb;

  if (fstatat(sfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
    return -errno;
  if (S_ISDIR(sb.st_mode))
    return copy_subdir(sfd, dfd, name, sb.st_mode, depth);
  if (S_ISREG(sb.st_mode))
    return copy_file(sfd, dfd, name, sb.st_mode);
  if (S_ISLNK(sb.st_mode))
    return copy_link(sfd, dfd, name);
  return 0; /* sockets and fifos belong to the run that made them */
}

/* Copies the entries of sfd into dfd; takes neither descriptor. */
static int copy_dir(int sfd, int dfd, int depth) {
  int fd = dup(sfd), rc = 0;
  struct dirent *de;
  DIR *dir;

  if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
    rc = -errno;
    if (fd >= 0)
      close(fd);
    return rc;
  }
  while (rc == 0 && (de = readdir(dir)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      rc = copy_entry(sfd, dfd, de->d_name, depth);
  closedir(dir);
  return rc;
}

int rt_session_home_copy(const char *from, const char *to,
                         struct crl_err *err) {
  int s = open(from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), d = -1;
  struct stat sb;
  int rc = 0;

  if (s < 0 || fstat(s, &sb) < 0)
    rc = -errno;
  else if (mkdir(to, 0700) < 0 ||
           (d = open(to, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    rc = -errno;
  else if ((rc = copy_dir(s, d, 0)) == 0 && fchmod(d, sb.st_mode & 0777) < 0)
    rc = -errno;
  if (rc < 0)
    crl_err_set(err, rc, "unable to copy home %s to %s: %s", from, to,
                crl_strerror(rc));
  if (s >= 0)
    close(s);
  if (d >= 0)
    close(d);
  return rc;
}

/* The new run's home: a copy of the home of the run that recorded the
 * session. */
static int session_home(struct rt_run *r, int64_t from, struct crl_err *err) {
  struct store_run run;
  char *home;
  int rc;

  if ((rc = store_run_get(r->eng->st, from, &run, err)) < 0)
    return rc;
  if (run.dir == NULL)
    return crl_err_set(err, CRL_ENOT_FOUND, "run %lld has no directory",
                       (long long)from);
  xasprintf(&home, "%s/home", run.dir);
  rc = rt_session_home_copy(home, r->home, err);
  free(home);
  return rc;
}

int rt_session_take(struct rt_run *r, struct adapter_run *a,
                    struct crl_err *err) {
  struct rt_engine *e = r->eng;
  const char *task = e->m->tasks[r->task].id;
  struct rt_session s;
  struct store_task t;
  int turns, rc;

  if (store_task_get(e->st, e->m->name, task, &t, NULL) < 0 ||
      t.resume_turns <= 0)
    return 0;
  turns = t.resume_turns;
  if ((rc = store_task_set_resume(e->st, e->m->name, task, 0, err)) < 0 ||
      (rc = rt_session_find(&s, e->st, e->m->name, task, err)) < 0 ||
      (rc = session_home(r, s.run, err)) < 0)
    return rc;
  r->session = xstrdup(s.id);
  r->max_turns = turns;
  a->session_id = r->session;
  a->max_turns = turns;
  a->prompt = NULL; /* the adapter's "go on" */
  rt_engine_event_json(e, task, r->id, "resume",
                       json_pack("{s:s, s:I, s:i}", "session", s.id, "from_run",
                                 (json_int_t)s.run, "turns", turns));
  return 1;
}
