/*
 * corral resume: two things share the verb. `corral resume TASK --turns N`
 * resumes the agent CLI session of a failed or cancelled task with N more
 * turns (session.c). On a state dir it asks for the resume in the store and
 * runs the task's mission again in the foreground, as `corral run FILE`
 * would; through the daemon (the default when one answers on its socket) it
 * is POST /v1/tasks/{id}/resume and the mission goes on there. Without
 * --turns, `corral resume MISSION` lets a paused mission of the daemon
 * start tasks again (the counterpart of `corral pause`).
 */
#include "client.h"
#include "rt-int.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct resume_opts {
  const char *state_dir;
  const char *socket;
  const char *mission;
  const char *target; /* TASK, or MISSION without --turns */
  int turns;          /* 0: resume a paused mission */
  int json;
};

static void resume_usage(FILE *fp) {
  fputs("usage: corral resume [--state-dir DIR | --socket PATH] [--json]\n"
        "                     [--mission M] --turns N TASK\n"
        "       corral resume [--socket PATH] [--json] MISSION\n\n"
        "With --turns, resumes the agent CLI session of TASK (failed or\n"
        "cancelled) with N more turns: the task runs again in a copy of the\n"
        "home of its latest run that recorded a session id, with that id.\n"
        "On a state dir the mission then runs in the foreground like\n"
        "`corral run FILE` (same exit status); without --state-dir it goes\n"
        "through the daemon when one answers on its socket.\n\n"
        "Without --turns, lets the daemon start tasks of a paused MISSION\n"
        "again.\n",
        fp);
}

static int resume_turns(struct resume_opts *o, const char *arg) {
  char *end;
  long n = strtol(arg, &end, 10);

  if (*arg == '\0' || *end != '\0' || n < 1 || n > RT_RESUME_TURNS_MAX) {
    rt_errorf("--turns needs a number of turns from 1 to %d, got '%s'",
              RT_RESUME_TURNS_MAX, arg);
    return -1;
  }
  o->turns = (int)n;
  return 0;
}

static int resume_parse(struct resume_opts *o, int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"mission", required_argument, 0, 'm'},
                                       {"turns", required_argument, 0, 't'},
                                       {"socket", required_argument, 0, 'S'},
                                       {"json", no_argument, 0, 'J'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c;

  while ((c = getopt_long(argc, argv, "s:m:t:S:h", opts, NULL)) != -1) {
    if (c == 's')
      o->state_dir = optarg;
    else if (c == 'm')
      o->mission = optarg;
    else if (c == 'S')
      o->socket = optarg;
    else if (c == 'J')
      o->json = 1;
    else if (c == 't' && resume_turns(o, optarg) < 0)
      return RT_EXIT_USAGE;
    else if (c != 't')
      return resume_usage(c == 'h' ? stdout : stderr),
             c == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (argc - optind != 1 ||
      (o->turns == 0 && (o->state_dir != NULL || o->mission != NULL)))
    return resume_usage(stderr), RT_EXIT_USAGE;
  o->target = argv[optind];
  return -1;
}

/* POST /v1/tasks/{id}/resume {"turns": N} and prints the outcome. */
static int resume_client(const struct resume_opts *o) {
  json_t *body = json_pack("{s:i}", "turns", o->turns), *doc = NULL;
  int rc =
      rt_client_task_op(o->socket, o->mission, o->target, "resume", body, &doc);

  if (rc == RT_EXIT_OK && o->json)
    rt_client_print_json(doc);
  else if (rc == RT_EXIT_OK)
    printf("resuming %s of mission %s: session %s of run %lld, %d turns\n",
           o->target, json_string_value(json_object_get(doc, "mission")) ?: "?",
           json_string_value(json_object_get(doc, "session")) ?: "?",
           (long long)json_integer_value(json_object_get(doc, "from_run")),
           o->turns);
  json_decref(doc);
  json_decref(body);
  return rc;
}

/* Loads the mission the store ran from its file. */
static int resume_load(struct msn_mission **out, struct store *st,
                       const char *id, char **file, struct crl_err *err) {
  struct store_mission sm;
  struct msn_diags d;
  int rc;

  if ((rc = store_mission_get(st, id, &sm, err)) < 0)
    return rc;
  if (sm.file == NULL)
    return crl_err_set(err, CRL_ENOT_FOUND, "mission %s has no file to run",
                       id);
  *file = xstrdup(sm.file);
  msn_diags_init(&d);
  if ((rc = msn_load_file(out, *file, &d)) < 0) {
    msn_diags_print(&d, stderr);
    crl_err_set(err, rc, "unable to load %s, the file of mission %s", *file,
                id);
  } else if (strcmp((*out)->name, id) != 0)
    rc = crl_err_set(err, CRL_EVALIDATION_FAILED,
                     "%s is now mission %s, not %s", *file, (*out)->name, id);
  msn_diags_close(&d);
  return rc;
}

/* Asks for the resume in the store, under the mission's lock; *file gets
 * the mission file to run. */
static int resume_ask(const struct resume_opts *o, const char *dir, char **file,
                      struct crl_err *err) {
  struct msn_mission *m = NULL;
  struct store *st = NULL;
  char *id = NULL, pid[32];
  int rc, lockfd = -1;

  if ((rc = rt_store_open(&st, dir, err)) < 0 ||
      (rc = rt_mission_pick(&id, st, o->mission, err)) < 0)
    goto out;
  if ((rc = rt_mission_lock(&lockfd, dir, id, pid, sizeof(pid), err)) ==
      CRL_EAGENT_BUSY)
    rc = crl_err_set(err, CRL_EINVALID_TRANSITION,
                     "mission '%s' is running (corral pid %s): resume "
                     "through its daemon or once it stops",
                     id, pid);
  if (rc < 0 || (rc = resume_load(&m, st, id, file, err)) < 0 ||
      (rc = rt_session_request(st, m, o->target, o->turns, err)) < 0)
    goto out;
  rc = store_commit(st, err);
out:
  if (lockfd >= 0)
    close(lockfd);
  msn_mission_free(m);
  store_close(st);
  free(id);
  return rc;
}

static int resume_local(const struct resume_opts *o) {
  struct crl_err err = CRL_ERR_INIT;
  char *dir = NULL, *file = NULL;
  int code;

  if (rt_statedir(&dir, o->state_dir, &err) < 0 ||
      resume_ask(o, dir, &file, &err) < 0) {
    rt_errorf("%s", err.msg[0] ? err.msg : crl_strerror(err.code));
    code = RT_EXIT_FAILED;
  } else {
    if (!o->json)
      printf("resuming %s with %d turns: corral run %s\n", o->target, o->turns,
             file);
    fflush(stdout);
    code = rt_run_file(dir, file,
                       o->json                 ? RT_VIEW_JSON
                       : isatty(STDOUT_FILENO) ? RT_VIEW_TTY
                                               : RT_VIEW_PLAIN);
  }
  free(dir);
  free(file);
  return code;
}

static int resume_exec(int argc, char **argv) {
  struct resume_opts o = {0};
  struct rt_client c;
  int rc;

  if ((rc = resume_parse(&o, argc, argv)) >= 0)
    return rc;
  if (o.turns > 0 && !rt_client_wanted(o.state_dir, o.socket))
    return resume_local(&o);
  if (o.turns > 0)
    return resume_client(&o);
  rt_client_init(&c, o.socket);
  rc = rt_client_mission_op(&c, o.target, "resume", o.json);
  rt_client_close(&c);
  return rc;
}

const struct rt_cmd rt_cmd_resume = {
    "resume", "resume --turns N TASK | resume MISSION",
    "resume a task's agent session, or a paused mission", resume_exec};
