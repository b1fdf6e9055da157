/*
 * corral approve TASK / corral reject TASK --feedback TEXT: the review gate
 * on a state dir. A task waits in pending_review when its `review:` is
 * required or a policy held it; approving completes it, rejecting sends it
 * back to run again with the feedback in $CORRAL_FEEDBACK. The decision is
 * a "review" event beside the state change. The mission must not be running
 * (its lock is taken for the update); `corral run FILE` then goes on:
 * dependents start, and a ticket whose tasks have all completed merges.
 */
#include "client.h"
#include "rt-int.h"
#include "rt-json.h"
#include "rt-ci.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct review_opts {
  const char *state_dir;
  const char *mission;
  const char *feedback;
  const char *task;
  const char *socket;
  int reject;
  int json;
};

static void review_usage(FILE *fp, int reject) {
  if (reject)
    fputs("usage: corral reject [--state-dir DIR | --socket PATH] [--json]\n"
          "                     [--mission M] --feedback TEXT TASK\n\n"
          "Sends TASK, waiting in pending_review, back to run again; its "
          "next run\nfinds TEXT in $CORRAL_FEEDBACK. Without --state-dir it "
          "goes through\nthe daemon when one answers on its socket.\n",
          fp);
  else
    fputs("usage: corral approve [--state-dir DIR | --socket PATH] [--json]\n"
          "                      [--mission M] TASK\n\n"
          "Completes TASK, waiting in pending_review. Through the daemon (the\n"
          "default when one answers on its socket) the mission goes on at "
          "once;\nwith --state-dir, `corral run FILE` then goes on with its "
          "dependents\nand merges its ticket once complete.\n",
          fp);
}

static int review_parse(struct review_opts *o, int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"mission", required_argument, 0, 'm'},
                                       {"feedback", required_argument, 0, 'f'},
                                       {"socket", required_argument, 0, 'S'},
                                       {"json", no_argument, 0, 'J'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c;

  while ((c = getopt_long(argc, argv, "s:m:f:S:h", opts, NULL)) != -1) {
    if (c == 's')
      o->state_dir = optarg;
    else if (c == 'S')
      o->socket = optarg;
    else if (c == 'J')
      o->json = 1;
    else if (c == 'm')
      o->mission = optarg;
    else if (c == 'f' && o->reject)
      o->feedback = optarg;
    else
      return review_usage(c == 'h' ? stdout : stderr, o->reject),
             c == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (argc - optind != 1 || (o->reject && o->feedback == NULL)) {
    if (o->reject && o->feedback == NULL && argc - optind == 1)
      rt_errorf("reject needs --feedback TEXT: say what to change");
    return review_usage(stderr, o->reject), RT_EXIT_USAGE;
  }
  o->task = argv[optind];
  return -1;
}

/* Takes the mission's lock so no engine runs it meanwhile. */
static int review_lock(int *fd, const char *state_dir, const char *mission,
                       struct crl_err *err) {
  char pid[32];
  int rc = rt_mission_lock(fd, state_dir, mission, pid, sizeof(pid), err);

  if (rc != CRL_EAGENT_BUSY)
    return rc;
  return crl_err_set(err, rc,
                     "mission '%s' is running (corral pid %s); decide once "
                     "it stops (it stops when only reviews are left)",
                     mission, pid);
}

/* An approved plan sends the task back to run its work. */
static int review_plan(struct store *st, const char *mission,
                       const struct review_opts *o, const struct store_task *t,
                       struct crl_err *err) {
  int rc;

  if ((rc = store_task_set_state(st, mission, o->task, "rejected", t->attempts,
                                 "plan approved", -1, -1, err)) < 0 ||
      (rc = store_task_set_phase(st, mission, o->task, "work", err)) < 0)
    return rc;
  rt_store_event(st, mission, o->task, "review",
                 json_pack("{s:s}", "decision", "approve-plan"));
  return store_commit(st, err);
}

static int review_apply(struct store *st, const char *mission,
                        const struct review_opts *o, struct crl_err *err) {
  const char *to = o->reject ? "rejected" : "completed";
  struct store_task t;
  int rc;

  if ((rc = store_task_get(st, mission, o->task, &t, err)) < 0)
    return rc;
  if (strcmp(t.state, "pending_review") != 0)
    return crl_err_set(err, CRL_EINVALID_TRANSITION,
                       "task %s of mission %s is %s, not pending_review",
                       o->task, mission, t.state);
  if (!o->reject && t.phase != NULL && strcmp(t.phase, "plan") == 0)
    return review_plan(st, mission, o, &t, err);
  if ((rc = store_task_set_state(st, mission, o->task, to, t.attempts,
                                 o->reject ? "rejected" : "approved", -1,
                                 o->reject ? -1 : crl_time_wall_ms(), err)) <
          0 ||
      (rc = store_task_set_feedback(st, mission, o->task, o->feedback, err)) <
          0)
    return rc;
  rt_store_event(st, mission, o->task, "review",
                 json_pack("{s:s, s:s?}", "decision",
                           o->reject ? "reject" : "approve", "feedback",
                           o->feedback));
  rt_store_event(st, mission, o->task, "state",
                 json_pack("{s:s, s:s, s:i, s:s}", "from", "pending_review",
                           "to", to, "attempt", t.attempts, "reason",
                           o->reject ? "rejected" : "approved"));
  return store_commit(st, err);
}

int rt_review_decide(struct store *st, const char *mission, const char *task,
                     int reject, const char *feedback, struct crl_err *err) {
  struct review_opts o = {
      .mission = mission, .task = task, .reject = reject, .feedback = feedback};

  return review_apply(st, mission, &o, err);
}

static void review_done(struct store *st, const char *mission,
                        const struct review_opts *o) {
  struct store_mission m;

  printf("%s %s of mission %s\n", o->reject ? "rejected" : "approved", o->task,
         mission);
  if (store_mission_get(st, mission, &m, NULL) == 0 && m.file != NULL)
    printf("go on with: corral run %s\n", m.file);
}

static int review_exec(int argc, char **argv, int reject) {
  struct review_opts o = {.reject = reject};
  struct crl_err err = CRL_ERR_INIT;
  char *dir = NULL, *id = NULL;
  struct store *st = NULL;
  int rc, lockfd = -1;

  if ((rc = review_parse(&o, argc, argv)) >= 0)
    return rc;
  if (rt_client_wanted(o.state_dir, o.socket))
    return rt_client_review(o.socket, o.mission, o.task,
                            o.reject ? o.feedback : NULL, o.json);
  if ((rc = rt_statedir(&dir, o.state_dir, &err)) < 0 ||
      (rc = rt_store_open(&st, dir, &err)) < 0 ||
      (rc = rt_mission_pick(&id, st, o.mission, &err)) < 0 ||
      (rc = review_lock(&lockfd, dir, id, &err)) < 0 ||
      (rc = review_apply(st, id, &o, &err)) < 0)
    rt_errorf("%s", err.msg[0] ? err.msg : crl_strerror(rc));
  else
    review_done(st, id, &o);
  if (lockfd >= 0)
    close(lockfd);
  store_close(st);
  free(dir);
  free(id);
  return rc < 0 ? RT_EXIT_FAILED : RT_EXIT_OK;
}

static int approve_exec(int argc, char **argv) {
  return review_exec(argc, argv, 0);
}

static int reject_exec(int argc, char **argv) {
  return review_exec(argc, argv, 1);
}

const struct rt_cmd rt_cmd_approve = {"approve", "approve TASK",
                                      "complete a task waiting for review",
                                      approve_exec};
const struct rt_cmd rt_cmd_reject = {
    "reject", "reject --feedback TEXT TASK",
    "send a task waiting for review back with feedback", reject_exec};
