/*
 * Resuming an agent CLI's session (runtime/session.c): which session a
 * resume goes on with (the latest run's that recorded a fit id), what a
 * resume request refuses, on the store and on a live engine, and the copy
 * of a run's home (modes kept, links copied and never followed, nothing
 * written outside the target).
 */
#include "engine-fixture.h"

#include <sys/stat.h>

TestSuite(rt_session, .init = setup, .fini = teardown, .timeout = 30);

#define MISSION                                             \
  HEAD "  - id: T\n    tasks:\n"                            \
       "      - { id: cli, agent: cc, prompt: go }\n"       \
       "      - { id: sh, agent: sh, command: \"true\" }\n" \
       "agents:\n  cc: { adapter: claude-code }\n  sh: { adapter: exec }\n"

/* The mission's rows, with the task cli in state. */
static void rows(const char *cli_state) {
  cr_assert_eq(store_mission_upsert(st, "c", "t.yaml", 1, NULL), 0);
  cr_assert_eq(store_ticket_upsert(st, "c", "T", NULL, 0, NULL), 0);
  cr_assert_eq(store_task_upsert(st, "c", "cli", "T", "cc", 0, NULL), 0);
  cr_assert_eq(store_task_upsert(st, "c", "sh", "T", "sh", 1, NULL), 0);
  cr_assert_eq(
      store_task_set_state(st, "c", "cli", cli_state, 1, NULL, 1, 2, NULL), 0);
  cr_assert_eq(
      store_task_set_state(st, "c", "sh", "failed", 1, NULL, 1, 2, NULL), 0);
}

/* A run of task cli that recorded session id (NULL: none). */
static int64_t run_with(const char *id) {
  struct store_run r = {.mission = "c", .task = "cli", .started_at = 1};
  struct store_event ev = {.mission = "c", .task = "cli", .kind = "session"};
  char data[256];

  cr_assert_eq(store_run_insert(st, &r, NULL), 0);
  if (id == NULL)
    return r.id;
  snprintf(data, sizeof(data), "{\"text\":\"%s\",\"truncated\":false}", id);
  ev.run = r.id;
  ev.data = data;
  cr_assert_eq(store_event_append(st, &ev, NULL), 0);
  return r.id;
}

Test(rt_session, ids_fit_for_argv) {
  cr_assert(rt_session_id_ok("5c3216ab-10a4-4d51-ab07-58fac30cfb12"));
  cr_assert(rt_session_id_ok("thread_01.ab:cd"));
  cr_assert_not(rt_session_id_ok(""));
  cr_assert_not(rt_session_id_ok(NULL));
  cr_assert_not(rt_session_id_ok("--dangerously-skip-permissions"));
  cr_assert_not(rt_session_id_ok("a b"));
  cr_assert_not(rt_session_id_ok("a;rm -rf"));
  cr_assert_not(rt_session_id_ok("../../etc"));
  char big[RT_SESSION_ID_MAX + 1];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  cr_assert_not(rt_session_id_ok(big));
}

Test(rt_session, the_latest_run_that_recorded_a_session) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_session s;
  int64_t r2;

  rows("failed");
  cr_assert_eq(rt_session_find(&s, st, "c", "cli", &err), CRL_ENOT_FOUND);
  cr_assert_str_eq(err.msg, "task cli: no run recorded a session id to resume");
  run_with("first");
  r2 = run_with("second");
  run_with(NULL);         /* a later run that never got as far */
  run_with("-not-an-id"); /* nor one whose id is unfit for an argv */
  cr_assert_eq(rt_session_find(&s, st, "c", "cli", &err), 0, "%s", err.msg);
  cr_assert_str_eq(s.id, "second");
  cr_assert_eq(s.run, r2);
}

Test(rt_session, a_request_is_checked_then_recorded) {
  struct msn_mission *m = load(MISSION);
  struct crl_err err = CRL_ERR_INIT;
  struct store_task t;

  rows("failed");
  cr_assert_eq(rt_session_request(st, m, "cli", 2, &err), CRL_ENOT_FOUND);
  run_with("abc");
  cr_assert_eq(rt_session_request(st, m, "nope", 2, &err), CRL_ETASK_NOT_FOUND);
  cr_assert_eq(rt_session_request(st, m, "sh", 2, &err),
               CRL_EVALIDATION_FAILED);
  cr_assert_not_null(strstr(err.msg, "not an agent CLI"), "%s", err.msg);
  cr_assert_eq(rt_session_request(st, m, "cli", 0, &err), CRL_EBAD_REQUEST);
  cr_assert_eq(rt_session_request(st, m, "cli", RT_RESUME_TURNS_MAX + 1, &err),
               CRL_EBAD_REQUEST);
  cr_assert_eq(rt_session_request(st, m, "cli", 7, &err), 0, "%s", err.msg);
  cr_assert_eq(store_task_get(st, "c", "cli", &t, NULL), 0);
  cr_assert_eq(t.resume_turns, 7);
  msn_mission_free(m);
}

Test(rt_session, a_running_or_completed_task_is_refused) {
  struct msn_mission *m = load(MISSION);
  struct crl_err err = CRL_ERR_INIT;
  struct store_task t;
  const char *states[] = {"running", "ready", "completed", "pending_review"};

  rows("failed");
  run_with("abc");
  for (size_t i = 0; i < CRL_ARRAY_SIZE(states); i++) {
    store_task_set_state(st, "c", "cli", states[i], 1, NULL, -1, -1, NULL);
    cr_assert_eq(rt_session_request(st, m, "cli", 3, &err),
                 CRL_EINVALID_TRANSITION, "%s", states[i]);
    cr_assert_not_null(strstr(err.msg, states[i]), "%s", err.msg);
  }
  cr_assert_eq(store_task_get(st, "c", "cli", &t, NULL), 0);
  cr_assert_eq(t.resume_turns, 0, "nothing recorded for a refusal");
  store_task_set_state(st, "c", "cli", "cancelled", 1, NULL, -1, -1, NULL);
  cr_assert_eq(rt_session_request(st, m, "cli", 3, &err), 0, "%s", err.msg);
  msn_mission_free(m);
}

static char *path_of(const char *rel) {
  char *p;

  xasprintf(&p, "%s/%s", state, rel);
  return p;
}

static void put(const char *rel, const char *text, mode_t mode) {
  char *p = path_of(rel);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);

  cr_assert_geq(fd, 0, "%s", p);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  chmod(p, mode);
  free(p);
}

static void chmod_rel(const char *rel, mode_t mode) {
  char *p = path_of(rel);

  cr_assert_eq(chmod(p, mode), 0, "%s", p);
  free(p);
}

static int exists(const char *rel) {
  char *p = path_of(rel);
  struct stat sb;
  int rc = lstat(p, &sb) == 0;

  free(p);
  return rc;
}

static void mkdir_rel(const char *rel, mode_t mode) {
  char *p = path_of(rel);

  cr_assert_eq(mkdir(p, mode), 0, "%s", p);
  free(p);
}

static mode_t mode_of(const char *rel) {
  char *p = path_of(rel);
  struct stat sb;

  cr_assert_eq(lstat(p, &sb), 0, "%s", p);
  free(p);
  return sb.st_mode;
}

Test(rt_session, a_home_is_copied_with_its_modes_and_links) {
  struct crl_err err = CRL_ERR_INIT;
  char *from = path_of("a/home"), *to = path_of("b-home"), buf[64], link[64];
  char *p;
  ssize_t n;

  cr_assert_eq(rt_mkdirs(from, 0700), 0);
  mkdir_rel("a/home/.claude", 0755);
  mkdir_rel("a/home/.claude/projects", 0700);
  put("a/home/.claude/projects/s.jsonl", "{\"turn\":1}\n", 0600);
  put("a/home/.claude/run.sh", "#!/bin/sh\n", 0755);
  put("a/home/.claude/ro", "ro", 0400);
  p = path_of("a/home/.claude/passwd");
  cr_assert_eq(symlink("/etc/passwd", p), 0);
  free(p);
  p = path_of("a/home/fifo");
  cr_assert_eq(mkfifo(p, 0600), 0);
  free(p);
  chmod_rel("a/home/.claude", 0500); /* read-only dirs copy too */

  cr_assert_eq(rt_session_home_copy(from, to, &err), 0, "%s", err.msg);
  cr_assert_eq(read_file(buf, sizeof(buf), "b-home/.claude/projects/s.jsonl"),
               11);
  cr_assert_str_eq(buf, "{\"turn\":1}\n");
  cr_assert_eq(mode_of("b-home") & 0777, 0700);
  cr_assert_eq(mode_of("b-home/.claude") & 0777, 0500);
  cr_assert_eq(mode_of("b-home/.claude/projects/s.jsonl") & 0777, 0600);
  cr_assert_eq(mode_of("b-home/.claude/run.sh") & 0777, 0755);
  cr_assert_eq(mode_of("b-home/.claude/ro") & 0777, 0400);
  cr_assert(S_ISLNK(mode_of("b-home/.claude/passwd")), "a link stays a link");
  p = path_of("b-home/.claude/passwd");
  n = readlink(p, link, sizeof(link) - 1);
  free(p);
  cr_assert_eq(n, 11);
  link[n] = '\0';
  cr_assert_str_eq(link, "/etc/passwd");
  cr_assert_not(exists("b-home/fifo"), "no fifo copied");
  /* The source is left as it was, and a target that exists is refused. */
  cr_assert_eq(mode_of("a/home/.claude") & 0777, 0500);
  cr_assert_eq(rt_session_home_copy(from, to, &err), -EEXIST);
  chmod_rel("a/home/.claude", 0700);
  chmod_rel("b-home/.claude", 0700);
  free(from);
  free(to);
}

Test(rt_session, a_home_that_is_a_link_is_not_followed) {
  struct crl_err err = CRL_ERR_INIT;
  char *from = path_of("link-home"), *to = path_of("c-home");

  cr_assert_eq(symlink("/etc", from), 0);
  int rc = rt_session_home_copy(from, to, &err);

  cr_assert(rc == -ELOOP || rc == -ENOTDIR, "%d", rc);
  cr_assert_not_null(strstr(err.msg, "unable to copy home"));
  cr_assert_not(exists("c-home"), "nothing made");
  free(from);
  free(to);
}

/* A live engine refuses a resume of a task that has not failed, or of an
 * exec agent's, and changes nothing. */
Test(rt_session, a_live_engine_resumes_only_failed_cli_tasks) {
  struct msn_mission *m =
      load("mission: c\n"
           "defaults: { sandbox: none, retries: { max: 0 } }\n"
           "tickets:\n  - id: T\n    tasks:\n"
           "      - { id: a, command: \"exit 3\" }\n"
           "      - { id: b, command: \"exec sleep 60\" }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;

  start(&e, m);
  until_state(&e, "a", SCHED_FAILED);
  until_state(&e, "b", SCHED_RUNNING);
  cr_assert_eq(rt_engine_resume(&e, 1, 3, &err), CRL_EINVALID_TRANSITION);
  cr_assert_str_eq(err.msg, "task b of mission c is running");
  cr_assert_eq(rt_engine_resume(&e, 0, 3, &err), CRL_EVALIDATION_FAILED);
  cr_assert_not_null(strstr(err.msg, "not an agent CLI"), "%s", err.msg);
  cr_assert_eq(state_of(&e, "a"), SCHED_FAILED, "nothing changed");
  cr_assert_eq(rt_engine_cancel(&e, &err), 0, "%s", err.msg);
  until_finished(&e);
  close_engine(&e, m);
}
