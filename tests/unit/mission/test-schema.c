/*
 * test-schema.c: the schema walker and its conversions, through small
 * missions loaded from memory: durations and backoff ranges, strict
 * integers and numbers, enumerations, commands and environments, retry
 * policies, and collection of every error in document order.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mission-fixture.h"

TestSuite(msn_schema, .init = setup, .fini = teardown);

#define HEAD "mission: m\ntickets:\n  - id: T\n    tasks:\n"

Test(msn_schema, durations) {
  int64_t ms = -1;

  cr_assert_eq(msn__duration(&ms, "0"), 0);
  cr_assert_eq(ms, 0);
  cr_assert_eq(msn__duration(&ms, "90s"), 0);
  cr_assert_eq(ms, 90000);
  cr_assert_eq(msn__duration(&ms, "1h30m"), 0);
  cr_assert_eq(ms, 5400000);
  cr_assert_eq(msn__duration(&ms, "500ms"), 0);
  cr_assert_eq(ms, 500);
  cr_assert_eq(msn__duration(&ms, "10"), CRL_EPARSE);
  cr_assert_eq(msn__duration(&ms, "ten"), CRL_EPARSE);
  cr_assert_eq(msn__duration(&ms, "-1s"), CRL_EPARSE);
  cr_assert_eq(msn__duration(&ms, ""), CRL_EPARSE);
}

Test(msn_schema, backoff_ranges) {
  int64_t lo = -1, hi = -1;

  cr_assert_eq(msn__backoff(&lo, &hi, "10s..5m"), 0);
  cr_assert_eq(lo, 10000);
  cr_assert_eq(hi, 300000);
  cr_assert_eq(msn__backoff(&lo, &hi, "2s"), 0);
  cr_assert_eq(lo, 2000);
  cr_assert_eq(hi, 2000);
  cr_assert_eq(msn__backoff(&lo, &hi, "0..1s"), 0);
  cr_assert_eq(lo, 0);
  cr_assert_eq(hi, 1000);
  cr_assert_eq(msn__backoff(&lo, &hi, "1m..1m"), 0);
  cr_assert_eq(lo, 60000);
  cr_assert_eq(msn__backoff(&lo, &hi, "5m..10s"), -ERANGE);
  cr_assert_eq(msn__backoff(&lo, &hi, "1s.."), CRL_EPARSE);
  cr_assert_eq(msn__backoff(&lo, &hi, "..1s"), CRL_EPARSE);
  cr_assert_eq(msn__backoff(&lo, &hi, "1s..2s..3s"), CRL_EPARSE);
  cr_assert_eq(msn__backoff(&lo, &hi, "1s...2s"), CRL_EPARSE);
  cr_assert_eq(lo, 60000);
  cr_assert_eq(hi, 60000);
}

Test(msn_schema, retries_default_when_absent) {
  struct msn_task *t =
      &load(HEAD "      - { id: a, command: make }\n")->tasks[0];

  cr_assert_eq(t->retries.max, 0);
  cr_assert_eq(t->retries.floor_ms, 1000);
  cr_assert_eq(t->retries.cap_ms, 300000);
  cr_assert_float_eq(t->retries.factor, 2.0, 1e-9);
  cr_assert_eq(t->retries.reset_after_ms, 0);
  cr_assert_eq(t->retries.intensity, 0);
  cr_assert_eq(t->timeout_ms, 0);
  cr_assert_eq(t->idle_timeout_ms, 0);
  cr_assert_eq(t->grace_ms, 10000);
  cr_assert_eq(t->estimate_ms, 0);
  cr_assert_str_eq(t->sandbox, "agent");
  cr_assert_eq(t->review, 0);
}

Test(msn_schema, retries_task_replaces_defaults) {
  struct msn_mission *m =
      load("mission: m\n"
           "defaults: { retries: { max: 3, backoff: 10s..5m, factor: 3 },"
           " timeout: 1h, grace: 1s, sandbox: strict }\n"
           "tickets:\n  - id: T\n    tasks:\n"
           "      - { id: a, command: make }\n"
           "      - { id: b, command: make, timeout: 0, retries: { max: 1 } }\n"
           "      - id: c\n        command: make\n        retries:\n"
           "          max: 5\n          backoff: 30s\n"
           "          reset_after: 10m\n"
           "          intensity: { failures: 4, within: 1h }\n");

  cr_assert_eq(m->tasks[0].retries.max, 3);
  cr_assert_eq(m->tasks[0].retries.floor_ms, 10000);
  cr_assert_float_eq(m->tasks[0].retries.factor, 3.0, 1e-9);
  cr_assert_eq(m->tasks[0].timeout_ms, 3600000);
  cr_assert_eq(m->tasks[0].grace_ms, 1000);
  cr_assert_str_eq(m->tasks[0].sandbox, "strict");
  cr_assert_eq(m->tasks[1].retries.max, 1);
  cr_assert_eq(m->tasks[1].retries.floor_ms, 1000);
  cr_assert_eq(m->tasks[1].retries.cap_ms, 300000);
  cr_assert_float_eq(m->tasks[1].retries.factor, 2.0, 1e-9);
  cr_assert_eq(m->tasks[1].timeout_ms, 0);
  cr_assert_eq(m->tasks[2].retries.max, 5);
  cr_assert_eq(m->tasks[2].retries.floor_ms, 30000);
  cr_assert_eq(m->tasks[2].retries.cap_ms, 30000);
  cr_assert_eq(m->tasks[2].retries.reset_after_ms, 600000);
  cr_assert_eq(m->tasks[2].retries.intensity, 4);
  cr_assert_eq(m->tasks[2].retries.intensity_window_ms, 3600000);
}

Test(msn_schema, integers_are_bare) {
  fails("mission: m\n"
        "agents:\n"
        "  a: { adapter: codex, capacity: \"2\" }\n"
        "  b: { adapter: codex, capacity: 2.5 }\n"
        "  c: { adapter: codex, capacity: -1 }\n"
        "  d: { adapter: codex, capacity: 99999999999 }\n"
        "budget: { tokens: 1e6 }\n"
        "tickets: []\n",
        "t.yaml:3:34: error: expected an integer for 'capacity', got '2'\n"
        "t.yaml:4:34: error: expected an integer for 'capacity', got '2.5'\n"
        "t.yaml:5:34: error: invalid value -1 for 'capacity' (expected an "
        "integer >= 0)\n"
        "t.yaml:6:34: error: invalid value 99999999999 for 'capacity' "
        "(expected an integer >= 0)\n"
        "t.yaml:7:19: error: expected an integer for 'tokens', got '1e6'\n");
}

Test(msn_schema, numbers) {
  struct msn_mission *m =
      load("mission: m\nbudget: { usd: 1e1, tokens: 0, wall: 90s }\n"
           "tickets: []\n");

  cr_assert_float_eq(m->budget.usd, 10.0, 1e-9);
  cr_assert_eq(m->budget.wall_ms, 90000);
  msn_mission_free(m);
  mission = NULL;
  fails("mission: m\nbudget: { usd: .nan }\ntickets: []\n",
        "t.yaml:2:16: error: expected a number for 'usd', got '.nan'\n");
}

Test(msn_schema, review_values) {
  struct msn_mission *m =
      load(HEAD "      - { id: a, command: x, review: required }\n"
                "      - { id: b, command: x, review: none }\n"
                "      - { id: c, command: x, review: true }\n"
                "      - { id: d, command: x, review: no }\n"
                "      - { id: e, command: x }\n");

  cr_assert_eq(m->tasks[0].review, 1);
  cr_assert_eq(m->tasks[1].review, 0);
  cr_assert_eq(m->tasks[2].review, 1);
  cr_assert_eq(m->tasks[3].review, 0);
  cr_assert_eq(m->tasks[4].review, 0);
}

Test(msn_schema, priorities) {
  struct msn_mission *m =
      load("mission: m\ntickets:\n"
           "  - { id: a, priority: low, tasks: [] }\n"
           "  - { id: b, tasks: [] }\n"
           "  - { id: c, priority: high, tasks: [] }\n"
           "  - { id: d, priority: critical, tasks: [] }\n");

  cr_assert_eq(m->ntickets, 4);
  cr_assert_eq(m->tickets[0].priority, 0);
  cr_assert_eq(m->tickets[1].priority, 1);
  cr_assert_eq(m->tickets[2].priority, 2);
  cr_assert_eq(m->tickets[3].priority, 3);
  cr_assert_eq(m->tickets[2].line, 5);
  cr_assert_eq(m->tickets[2].col, 5);
}

Test(msn_schema, commands_and_env) {
  struct msn_mission *m =
      load("mission: m\n"
           "agents:\n"
           "  t: { command: [make, test], env: { A: \"1\", B: two } }\n"
           "tickets:\n  - id: T\n    tasks:\n"
           "      - { id: a, agent: t }\n"
           "      - { id: b, agent: t, command: \"echo $B\", env: { B: 3 } }\n"
           "      - { id: c, command: [ls, -l], needs: a }\n");
  struct msn_task *t = m->tasks;

  cr_assert_str_eq(m->agents[0].adapter, "exec");
  cr_assert_str_eq(t[0].command[0], "make");
  cr_assert_str_eq(t[0].command[1], "test");
  cr_assert_null(t[0].command[2]);
  cr_assert_str_eq(t[0].env[0], "A=1");
  cr_assert_str_eq(t[0].env[1], "B=two");
  cr_assert_null(t[0].env[2]);
  cr_assert_str_eq(t[1].command[0], "sh");
  cr_assert_str_eq(t[1].command[1], "-c");
  cr_assert_str_eq(t[1].command[2], "echo $B");
  cr_assert_null(t[1].command[3]);
  cr_assert_str_eq(t[1].env[1], "B=3");
  cr_assert_str_eq(t[2].command[1], "-l");
  cr_assert_null(t[2].env[0]);
  cr_assert_eq(t[2].nneeds, 1);
  cr_assert_str_eq(t[2].needs[0], "a");
  cr_assert_eq(m->nagents, 2);
  cr_assert_str_eq(m->agents[t[2].agent].name, "exec");
}

Test(msn_schema, adapter_builds_its_own_command) {
  struct msn_mission *m =
      load("mission: m\ndefaults: { agent: cc }\n"
           "agents: { cc: { adapter: claude-code, model: opus } }\n"
           "tickets:\n  - id: T\n    tasks:\n      - { id: a, prompt: hi }\n");

  cr_assert_null(m->tasks[0].command);
  cr_assert_str_eq(m->tasks[0].prompt, "hi");
  cr_assert_str_eq(m->agents[m->tasks[0].agent].model, "opus");
  cr_assert_eq(m->nagents, 1);
}

Test(msn_schema, every_error_in_document_order) {
  fails(HEAD "      - id: a\n"
             "        neeeds: [b]\n"
             "        timeout: ten\n"
             "        needs: [zzz]\n"
             "        command: make\n"
             "        tiemout: 5m\n",
        "t.yaml:6:9: error: unknown key 'neeeds' in task (did you mean "
        "'needs'?)\n"
        "t.yaml:7:18: error: invalid duration 'ten' for 'timeout' (expected "
        "e.g. 90s, 5m, 2h)\n"
        "t.yaml:8:17: error: task 'a' needs unknown task 'zzz'\n"
        "t.yaml:10:9: error: unknown key 'tiemout' in task (did you mean "
        "'timeout'?)\n");
}

Test(msn_schema, top_level_types) {
  fails("mission: [a]\ntickets: {}\nagents: x\ndefaults: []\n"
        "policies: [ x ]\nsandboxes: 1\n",
        "t.yaml:1:10: error: expected a string for 'mission', got a "
        "sequence\n"
        "t.yaml:2:10: error: expected a sequence for 'tickets', got a "
        "mapping\n"
        "t.yaml:3:9: error: expected a mapping for 'agents', got 'x'\n"
        "t.yaml:4:11: error: expected a mapping for 'defaults', got a "
        "sequence\n"
        "t.yaml:5:13: error: expected a mapping for a policy, got 'x'\n"
        "t.yaml:6:12: error: expected a mapping for 'sandboxes', got '1'\n");
}

Test(msn_schema, nulls_are_not_values) {
  fails("mission:\ntickets:\n",
        "t.yaml:1:9: error: expected a string for 'mission', got null\n"
        "t.yaml:2:9: error: expected a sequence for 'tickets', got null\n");
}

Test(msn_schema, long_values_are_cut_and_escaped) {
  fails("mission: m\ntickets:\n  - id: T\n    priority: \"\\e[31m"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
        "    tasks: []\n",
        "t.yaml:4:15: error: invalid value '\\x1b[31maaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaa...' for 'priority' (expected low, medium, high or "
        "critical)\n");
}

Test(msn_schema, max_turns_of_the_task_else_its_agent) {
  struct msn_mission *m =
      load("mission: m\nagents:\n  c: { adapter: claude-code, max_turns: 7 }\n"
           "tickets:\n  - id: T\n    tasks:\n"
           "      - { id: a, agent: c, prompt: p }\n"
           "      - { id: b, agent: c, prompt: p, max_turns: 2 }\n"
           "      - { id: e, command: \"true\" }\n");

  cr_assert_eq(m->tasks[0].max_turns, 7);
  cr_assert_eq(m->tasks[1].max_turns, 2);
  cr_assert_eq(m->tasks[2].max_turns, 0, "no cap");
}

Test(msn_schema, max_turns_is_at_least_one) {
  fails(HEAD "      - { id: a, command: \"true\", max_turns: 0 }\n",
        "t.yaml:5:46: error: invalid value 0 for 'max_turns' (expected an "
        "integer >= 1)\n");
}

Test(msn_schema, budgets_of_tickets_and_tasks) {
  struct msn_mission *m =
      load("mission: m\nbudget: { tokens: 9000, usd: 3 }\n"
           "tickets:\n  - id: T\n    budget: { tokens: 2000, usd: 0.5 }\n"
           "    tasks:\n"
           "      - { id: a, command: \"true\", budget: { tokens: 300 } }\n"
           "      - { id: b, command: \"true\" }\n");

  cr_assert_eq(m->budget.tokens, 9000);
  cr_assert_eq(m->tickets[0].budget.tokens, 2000);
  cr_assert_float_eq(m->tickets[0].budget.usd, 0.5, 1e-12);
  cr_assert_eq(m->tasks[0].budget.tokens, 300);
  cr_assert_eq(m->tasks[0].budget.usd, 0, "no dollar cap");
  cr_assert_eq(m->tasks[1].budget.tokens, 0, "no cap");
}

Test(msn_schema, a_task_budget_is_checked_where_written) {
  fails(HEAD "      - { id: a, command: \"true\", budget: { tokens: x } }\n",
        "t.yaml:5:53: error: expected an integer for 'tokens', got 'x'\n");
}

Test(msn_schema, a_ticket_budget_is_checked_where_written) {
  fails("mission: m\ntickets:\n  - id: T\n    budget: { usd: -1 }\n"
        "    tasks: [ { id: a, command: \"true\" } ]\n",
        "t.yaml:4:20: error: invalid value -1 for 'usd' (expected a number "
        ">= 0)\n");
}

Test(msn_schema, a_task_budget_has_no_wall_clock) {
  fails(HEAD "      - { id: a, command: \"true\", budget: { wall: 1h } }\n",
        "t.yaml:5:45: error: unknown key 'wall' in budget\n");
}
