/*
 * An engine embedded the way the daemon embeds it: a shared store, no
 * signal handlers, callbacks after each commit and at the end, human
 * decisions through rt_engine_approve/reject/retry/cancel/pause, and a
 * detach that leaves the agents running for the next engine to re-attach.
 * Everything is driven by the loop's events; every test ends with
 * uv_loop_close == 0.
 */
#include "engine-fixture.h"

TestSuite(rt_engine_ctl, .init = setup, .fini = teardown, .timeout = 60);

Test(rt_engine_ctl, review_waits_for_a_decision_then_goes_on) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, review: required, command: \"true\" }\n"
                "      - { id: b, needs: [a], command: \"true\" }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;

  start(&e, m);
  until_state(&e, "a", SCHED_PENDING_REVIEW);
  cr_assert_eq(finished, 0, "a daemon's engine waits for the review");
  cr_assert_eq(rt_engine_approve(&e, 1, &err), CRL_EINVALID_TRANSITION);
  cr_assert_not_null(strstr(err.msg, "task b of mission c is pending"));
  cr_assert_eq(rt_engine_approve(&e, 0, &err), 0, "%s", err.msg);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  cr_assert_gt(commits, 0);
  close_engine(&e, m);
}

Test(rt_engine_ctl, reject_reruns_with_the_feedback) {
  struct msn_mission *m = load(
      HEAD "  - id: T\n    tasks:\n"
           "      - { id: a, review: required, command: "
           "\"printf '%s' \\\"${CORRAL_FEEDBACK:-none}\\\" > fb.txt\" }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;
  char buf[64];

  start(&e, m);
  until_state(&e, "a", SCHED_PENDING_REVIEW);
  read_file(buf, sizeof(buf), "fb.txt");
  cr_assert_str_eq(buf, "none");
  cr_assert_eq(rt_engine_reject(&e, 0, "shorter please", &err), 0);
  cr_assert_eq(state_of(&e, "a"), SCHED_READY);
  until_state(&e, "a", SCHED_RUNNING);
  until_state(&e, "a", SCHED_PENDING_REVIEW);
  read_file(buf, sizeof(buf), "fb.txt");
  cr_assert_str_eq(buf, "shorter please");
  cr_assert_eq(sched_task_attempts(e.sched, 0), 2);
  cr_assert_eq(rt_engine_approve(&e, 0, &err), 0);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  close_engine(&e, m);
}

Test(rt_engine_ctl, retry_runs_a_failed_task_again) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, command: \"test -e ok || { touch ok; exit 3; "
                "}\" }\n"
                "      - { id: b, needs: [a], command: \"true\" }\n"
                "      - { id: c, review: required, command: \"true\" }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;

  start(&e, m);
  until_state(&e, "b", SCHED_SKIPPED);
  until_state(&e, "c", SCHED_PENDING_REVIEW);
  cr_assert_eq(state_of(&e, "a"), SCHED_FAILED);
  cr_assert_eq(rt_engine_retry(&e, 2, &err), CRL_EINVALID_TRANSITION);
  cr_assert_eq(rt_engine_retry(&e, 0, &err), 0, "%s", err.msg);
  cr_assert_eq(state_of(&e, "b"), SCHED_PENDING, "b waits for a again");
  until_state(&e, "b", SCHED_COMPLETED);
  cr_assert_eq(sched_task_attempts(e.sched, 0), 2);
  cr_assert_eq(rt_engine_approve(&e, 2, &err), 0);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  close_engine(&e, m);
}

Test(rt_engine_ctl, pause_holds_starts_and_cancel_stops_the_mission) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, command: \"exec sleep 60\" }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;

  start(&e, m);
  cr_assert_eq(rt_engine_pause(&e, 1, &err), 0);
  cr_assert_eq(rt_engine_pause(&e, 1, &err), CRL_EINVALID_TRANSITION);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_run(&loop, UV_RUN_NOWAIT);
  cr_assert_eq(state_of(&e, "a"), SCHED_READY, "paused: nothing starts");
  cr_assert_eq(e.live, 0);
  cr_assert_eq(rt_engine_pause(&e, 0, &err), 0);
  until_state(&e, "a", SCHED_RUNNING);
  cr_assert_eq(rt_engine_cancel(&e, &err), 0);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_CANCELLED);
  cr_assert_eq(state_of(&e, "a"), SCHED_CANCELLED);
  cr_assert_eq(rt_engine_cancel(&e, &err), CRL_EINVALID_TRANSITION);
  close_engine(&e, m);
}

Test(rt_engine_ctl, detach_leaves_the_agent_and_a_new_engine_reattaches) {
  const char *yaml = HEAD "  - id: T\n    tasks:\n"
                          "      - { id: a, command: \"echo started; while [ "
                          "! -e go ]; do sleep 0.02; done; echo finished\" }\n";
  struct msn_mission *m = load(yaml);
  struct rt_engine e;
  char buf[256], *path;
  pid_t shim;
  int fd;

  start(&e, m);
  until_state(&e, "a", SCHED_RUNNING);
  cr_assert_not_null(e.runs[0]);
  /* Its first line proves the agent runs (a shim detached before it took
   * its lock would be fenced off and the task started afresh). */
  while (e.runs[0]->read_off == 0)
    uv_run(&loop, UV_RUN_ONCE);
  shim = e.runs[0]->shim_pid;
  rt_engine_detach(&e);
  while (!rt_engine_idle(&e))
    uv_run(&loop, UV_RUN_ONCE);
  cr_assert_eq(finished, 0, "a detached mission is not over");
  close_engine(&e, m);
  cr_assert_eq(kill(shim, 0), 0, "the shim outlives its engine");

  xasprintf(&path, "%s/go", state);
  fd = open(path, O_CREAT | O_WRONLY, 0600);
  cr_assert_geq(fd, 0);
  close(fd);
  free(path);
  m = load(yaml);
  start(&e, m);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  cr_assert_eq(sched_task_attempts(e.sched, 0), 1, "the task ran once (%d)",
               sched_task_attempts(e.sched, 0));
  close_engine(&e, m);
  xasprintf(&path, "%s/runs/1/output.log", state);
  fd = open(path, O_RDONLY);
  free(path);
  cr_assert_geq(fd, 0);
  buf[read(fd, buf, sizeof(buf) - 1)] = '\0';
  close(fd);
  cr_assert_str_eq(buf, "started\nfinished\n");
}
