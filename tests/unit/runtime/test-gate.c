/*
 * The agent channel and the gates, with real agents that call
 * `corral agent` through $CORRAL_AGENT_SOCKET: a question blocks its task
 * until answered and the agent gets the answer; an approval that nobody
 * answers expires to its default (deny); a task that declares a heartbeat
 * and misses it (or never sends one) is stopped as heartbeat-timeout;
 * `plan: required` runs plan_command first and the work only once the plan
 * is approved. Loop-driven; every test ends with uv_loop_close == 0.
 */
#include "engine-fixture.h"

TestSuite(rt_gate, .init = setup, .fini = teardown, .timeout = 60);

static int last_open(const struct store_question *q, void *payload) {
  *(int64_t *)payload = q->id;
  return 0;
}

/* The id of the open question, once its task is blocked on it. */
static int64_t open_question(struct rt_engine *e, const char *task) {
  int64_t id = 0;

  until_state(e, task, SCHED_BLOCKED);
  store_question_list(st, NULL, "open", NULL, last_open, &id);
  cr_assert_gt(id, 0);
  return id;
}

static void output_of(char *buf, size_t len, int64_t run) {
  char name[64];

  snprintf(name, sizeof(name), "runs/%lld/output.log", (long long)run);
  cr_assert_geq(read_file(buf, len, name), 0);
}

Test(rt_gate, a_question_blocks_until_answered) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, command: 'echo \"got $($CORRAL_BIN agent ask "
                "\\\"colour?\\\")\"' }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;
  struct store_question q;
  char buf[256];
  int64_t id;

  start(&e, m);
  id = open_question(&e, "a");
  cr_assert_eq(rt_engine_answer(&e, id + 100, "x", &err),
               CRL_EINVALID_TRANSITION);
  cr_assert_eq(rt_engine_answer(&e, id, "blue", &err), 0, "%s", err.msg);
  cr_assert_eq(rt_engine_answer(&e, id, "red", &err), CRL_EINVALID_TRANSITION,
               "answered once");
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  output_of(buf, sizeof(buf), 1);
  cr_assert_str_eq(buf, "got blue\n");
  cr_assert_eq(store_question_get(st, id, &q, NULL), 0);
  cr_assert_str_eq(q.state, "answered");
  close_engine(&e, m);
}

Test(rt_gate, an_unanswered_approval_expires_to_deny) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, command: 'if $CORRAL_BIN agent "
                "request-approval --timeout 200ms \"rm -rf build\"; then echo "
                "yes; else echo no; fi' }\n");
  struct rt_engine e;
  struct store_question q;
  char buf[256];
  int64_t id;

  start(&e, m);
  id = open_question(&e, "a");
  until_finished(&e);
  output_of(buf, sizeof(buf), 1);
  cr_assert_str_eq(buf, "denied\ncorral: agent: no answer in time; the "
                        "default was used\nno\n");
  cr_assert_eq(store_question_get(st, id, &q, NULL), 0);
  cr_assert_str_eq(q.state, "expired");
  cr_assert_str_eq(q.answer, "deny");
  close_engine(&e, m);
}

Test(rt_gate, an_approved_action_goes_ahead) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, command: '$CORRAL_BIN agent request-approval "
                "\"deploy\" && echo deployed' }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;
  char buf[256];
  int64_t id;

  start(&e, m);
  id = open_question(&e, "a");
  cr_assert_eq(rt_engine_answer(&e, id, "maybe", &err), CRL_EBAD_REQUEST);
  cr_assert_eq(rt_engine_answer(&e, id, "approve", &err), 0);
  until_finished(&e);
  output_of(buf, sizeof(buf), 1);
  cr_assert_str_eq(buf, "approved\ndeployed\n");
  close_engine(&e, m);
}

static void heartbeat_case(const char *yaml) {
  struct msn_mission *m = load(yaml);
  struct rt_engine e;

  start(&e, m);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_FAILED);
  cr_assert_str_eq(e.reasons[0], "heartbeat-timeout");
  close_engine(&e, m);
}

Test(rt_gate, a_missed_heartbeat_stops_the_run) {
  heartbeat_case(HEAD "  - id: T\n    tasks:\n"
                      "      - { id: a, heartbeat: 300ms, command: "
                      "'$CORRAL_BIN agent heartbeat && exec sleep 30' }\n");
}

Test(rt_gate, no_first_heartbeat_stops_the_run_too) {
  heartbeat_case(HEAD "  - id: T\n    tasks:\n"
                      "      - { id: a, heartbeat: 200ms, command: 'exec "
                      "sleep 30' }\n");
}

Test(rt_gate, a_plan_runs_first_and_the_work_after_its_approval) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, plan: required, plan_command: 'echo "
                "\"$CORRAL_PHASE: step 1\"', command: 'echo \"$CORRAL_PHASE: "
                "done\"' }\n");
  struct crl_err err = CRL_ERR_INIT;
  struct rt_engine e;
  char buf[256];

  start(&e, m);
  until_state(&e, "a", SCHED_PENDING_REVIEW);
  output_of(buf, sizeof(buf), 1);
  cr_assert_str_eq(buf, "plan: step 1\n");
  cr_assert_eq(rt_engine_approve(&e, 0, &err), 0, "%s", err.msg);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  output_of(buf, sizeof(buf), 2);
  cr_assert_str_eq(buf, "work: done\n");
  close_engine(&e, m);
}

Test(rt_gate, a_discovered_task_runs_with_its_prompt) {
  struct msn_mission *m = load(
      HEAD "  - id: T\n    tasks:\n"
           "      - { id: a, command: 'if [ \"$CORRAL_TASK\" = a ]; then "
           "$CORRAL_BIN agent discover --title t --prompt \"say hi\"; else "
           "echo \"$CORRAL_TASK: $CORRAL_PROMPT\"; fi' }\n");
  struct rt_engine e;
  char buf[256];

  start(&e, m);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  cr_assert_eq(e.m->ntasks, 2);
  output_of(buf, sizeof(buf), 1);
  cr_assert_str_eq(buf, "a.1\n");
  output_of(buf, sizeof(buf), 2);
  cr_assert_str_eq(buf, "a.1: say hi\n");
  close_engine(&e, m);
}

Test(rt_gate, a_discovered_cycle_is_refused) {
  struct msn_mission *m =
      load(HEAD "  - id: T\n    tasks:\n"
                "      - { id: a, command: '$CORRAL_BIN agent discover --title "
                "x --prompt y --needs c --before b; echo rc=$?' }\n"
                "      - { id: b, needs: [a], command: 'true' }\n"
                "      - { id: c, needs: [b], command: 'true' }\n");
  struct rt_engine e;
  char buf[512];

  start(&e, m);
  until_finished(&e);
  cr_assert_eq(e.m->ntasks, 3, "nothing was added");
  output_of(buf, sizeof(buf), 1);
  cr_assert_str_eq(buf, "corral: agent: CYCLE: dependency cycle: a.1 -> c -> "
                        "... -> b -> a.1\nrc=1\n");
  close_engine(&e, m);
}

Test(rt_gate, discovered_tasks_survive_a_restart) {
  const char *yaml =
      HEAD "  - id: T\n    tasks:\n"
           "      - { id: a, command: 'if [ \"$CORRAL_TASK\" = a ]; then "
           "$CORRAL_BIN agent discover --prompt p; while [ ! -e go ]; do "
           "sleep 0.02; done; else echo later; fi' }\n";
  struct msn_mission *m = load(yaml);
  struct rt_engine e;
  char buf[64];
  int fd;

  start(&e, m);
  while (e.m->ntasks < 2 || e.runs[0]->read_off == 0)
    uv_run(&loop, UV_RUN_ONCE);
  rt_engine_detach(&e);
  while (!rt_engine_idle(&e))
    uv_run(&loop, UV_RUN_ONCE);
  close_engine(&e, m);
  m = load(yaml);
  start(&e, m);
  cr_assert_geq(rt_engine_task_index(&e, "a.1"), 0, "a.1 is back");
  fd = open(strcat(strcpy(buf, state), "/go"), O_CREAT | O_WRONLY, 0600);
  close(fd);
  until_finished(&e);
  cr_assert_eq(e.exit_code, RT_EXIT_OK);
  cr_assert_eq(sched_task_state(e.sched, 1), SCHED_COMPLETED);
  close_engine(&e, m);
}
