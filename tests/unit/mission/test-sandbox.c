/*
 * test-sandbox.c: sandbox profiles, through small missions loaded from
 * memory: sizes, paths made absolute, network values, merging along
 * `extends:` chains, the effective profile of each task, and the errors for
 * unknown names, cycles, built-in names and limits.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mission-fixture.h"

static char dir[PATH_MAX];

static void sandbox_setup(void) {
  setup();
  cr_assert_not_null(realpath(DATA_DIR, dir));
}

TestSuite(msn_sandbox, .init = sandbox_setup, .fini = teardown);

/* Asserts v holds exactly the NULL-terminated strings of want. */
static void paths_eq(char **v, const char *const *want) {
  size_t i;

  cr_assert_not_null(v);
  for (i = 0; want[i] != NULL; i++) {
    cr_assert_not_null(v[i], "missing %s", want[i]);
    cr_assert_str_eq(v[i], want[i]);
  }
  cr_assert_null(v[i], "extra %s", v[i]);
}

/* dir/rel, for expected paths. */
static const char *in_dir(char *buf, size_t len, const char *rel) {
  snprintf(buf, len, "%s/%s", dir, rel);
  return buf;
}

#define TICKETS "tickets: []\n"

Test(msn_sandbox, sizes) {
  int64_t v = 7;

  cr_assert_eq(msn__size(&v, "1024"), 0);
  cr_assert_eq(v, 1024);
  cr_assert_eq(msn__size(&v, "512M"), 0);
  cr_assert_eq(v, 512LL << 20);
  cr_assert_eq(msn__size(&v, "2g"), 0);
  cr_assert_eq(v, 2LL << 30);
  cr_assert_eq(msn__size(&v, "3T"), 0);
  cr_assert_eq(v, 3LL << 40);
  cr_assert_eq(msn__size(&v, "1k"), 0);
  cr_assert_eq(v, 1024);
  cr_assert_eq(msn__size(&v, "8388607T"), 0);
  cr_assert_eq(v, 8388607LL << 40);
  v = 7;
  cr_assert_eq(msn__size(&v, "8388608T"), CRL_EPARSE);
  cr_assert_eq(msn__size(&v, "99999999999999999999"), CRL_EPARSE);
  cr_assert_eq(msn__size(&v, ""), CRL_EPARSE);
  cr_assert_eq(msn__size(&v, "M"), CRL_EPARSE);
  cr_assert_eq(msn__size(&v, "1.5G"), CRL_EPARSE);
  cr_assert_eq(msn__size(&v, "512MB"), CRL_EPARSE);
  cr_assert_eq(msn__size(&v, "-1"), CRL_EPARSE);
  cr_assert_eq(msn__size(&v, "1P"), CRL_EPARSE);
  cr_assert_eq(msn__size(&v, " 1"), CRL_EPARSE);
  cr_assert_eq(v, 7);
}

Test(msn_sandbox, merged_along_extends) {
  struct msn_mission *m =
      load("mission: m\n" TICKETS "sandboxes:\n"
           "  child: { extends: base, writable: [/b, /a], memory: 1G,"
           " hidden: [/h] }\n"
           "  base: { extends: strict, writable: [/a], readonly: [/r],"
           " network: gateway, memory: 512M, pids: 100, cpu: 50,"
           " tmp_size: 64M }\n"
           "  leaf: { extends: child, network: host, tmp_size: 1K }\n");
  const struct msn_sandbox *base = msn_sandbox_find(m, "base");
  const struct msn_sandbox *leaf = msn_sandbox_find(m, "leaf");

  cr_assert_eq(m->nsandboxes, 3);
  cr_assert_str_eq(m->sandboxes[0].name, "child");
  cr_assert_str_eq(m->sandboxes[0].extends, "strict");
  paths_eq(m->sandboxes[0].writable, (const char *[]){"/a", "/b", NULL});
  paths_eq(m->sandboxes[0].readonly, (const char *[]){"/r", NULL});
  paths_eq(m->sandboxes[0].hidden, (const char *[]){"/h", NULL});
  cr_assert_eq(m->sandboxes[0].network, 1);
  cr_assert_eq(m->sandboxes[0].memory, 1LL << 30);
  cr_assert_eq(m->sandboxes[0].pids, 100);
  cr_assert_eq(m->sandboxes[0].cpu_percent, 50);
  cr_assert_eq(m->sandboxes[0].tmp_size, 64LL << 20);
  cr_assert_eq(m->sandboxes[0].line, 4);
  cr_assert_eq(m->sandboxes[0].col, 3);
  cr_assert_eq(base->memory, 512LL << 20);
  paths_eq(base->writable, (const char *[]){"/a", NULL});
  paths_eq(base->hidden, (const char *[]){NULL});
  cr_assert_str_eq(leaf->extends, "strict");
  paths_eq(leaf->writable, (const char *[]){"/a", "/b", NULL});
  cr_assert_eq(leaf->network, 2);
  cr_assert_eq(leaf->memory, 1LL << 30);
  cr_assert_eq(leaf->tmp_size, 1024);
}

Test(msn_sandbox, defaults_inherit_from_builtin) {
  struct msn_mission *m = load("mission: m\n" TICKETS "sandboxes:\n"
                               "  plain: {}\n"
                               "  open: { extends: network }\n");

  cr_assert_str_eq(m->sandboxes[0].extends, "agent");
  paths_eq(m->sandboxes[0].writable, (const char *[]){NULL});
  cr_assert_eq(m->sandboxes[0].network, -1);
  cr_assert_eq(m->sandboxes[0].memory, 0);
  cr_assert_eq(m->sandboxes[0].pids, 0);
  cr_assert_eq(m->sandboxes[0].cpu_percent, 0);
  cr_assert_eq(m->sandboxes[0].tmp_size, 0);
  cr_assert_str_eq(m->sandboxes[1].extends, "network");
  cr_assert_null(msn_sandbox_find(m, "network"));
  cr_assert_null(msn_sandbox_find(m, "nope"));
}

Test(msn_sandbox, relative_paths_resolved) {
  struct msn_mission *m =
      load("mission: m\n" TICKETS "sandboxes:\n"
           "  p:\n"
           "    writable: [build, ./out/, a/../b, ../up, /abs//x/./y/]\n"
           "    readonly: [/, /.., \"/x/../..\", .]\n");
  char b0[PATH_MAX + 8], b1[PATH_MAX + 8], b2[PATH_MAX + 8];
  char up[PATH_MAX + 8], *slash;

  snprintf(up, sizeof(up), "%s", dir);
  slash = strrchr(up, '/');
  snprintf(slash, sizeof(up) - (size_t)(slash - up), "/up");
  paths_eq(m->sandboxes[0].writable,
           (const char *[]){in_dir(b0, sizeof(b0), "build"),
                            in_dir(b1, sizeof(b1), "out"),
                            in_dir(b2, sizeof(b2), "b"), up, "/abs/x/y", NULL});
  paths_eq(m->sandboxes[0].readonly, (const char *[]){"/", dir, NULL});
}

Test(msn_sandbox, network_values) {
  struct msn_mission *m = load("mission: m\n" TICKETS "sandboxes:\n"
                               "  a: { network: none }\n"
                               "  b: { network: gateway }\n"
                               "  c: { network: host }\n");

  cr_assert_eq(m->sandboxes[0].network, 0);
  cr_assert_eq(m->sandboxes[1].network, 1);
  cr_assert_eq(m->sandboxes[2].network, 2);
  mission = NULL;
  msn_mission_free(m);
  fails("mission: m\n" TICKETS "sandboxes:\n"
        "  a: { network: gatway }\n"
        "  b: { network: true }\n"
        "  c: { network: [host] }\n",
        "t.yaml:4:17: error: invalid value 'gatway' for 'network' (did you "
        "mean 'gateway'?)\n"
        "t.yaml:5:17: error: invalid value 'true' for 'network' (expected "
        "none, gateway or host)\n"
        "t.yaml:6:17: error: expected none, gateway or host for 'network', "
        "got a sequence\n");
}

Test(msn_sandbox, task_profile_is_effective_name) {
  struct msn_mission *m =
      load("mission: m\n"
           "defaults: { sandbox: quiet }\n"
           "sandboxes: { quiet: { network: none }, loud: { extends: quiet } }\n"
           "tickets:\n  - id: T\n    tasks:\n"
           "      - { id: a, command: make }\n"
           "      - { id: b, command: make, sandbox: loud }\n"
           "      - { id: c, command: make, sandbox: none }\n");

  cr_assert_str_eq(m->tasks[0].sandbox, "quiet");
  cr_assert_str_eq(m->tasks[1].sandbox, "loud");
  cr_assert_str_eq(m->tasks[2].sandbox, "none");
  cr_assert_eq(msn_sandbox_find(m, "loud")->network, 0);
}

Test(msn_sandbox, unknown_profiles_suggest_defined_names) {
  fails("mission: m\n"
        "defaults: { sandbox: nettwork }\n"
        "sandboxes: { builder: {}, web: { extends: buidler } }\n"
        "tickets:\n  - id: T\n    tasks:\n"
        "      - { id: a, command: make, sandbox: webb }\n"
        "      - { id: b, command: make, sandbox: \"\" }\n",
        "t.yaml:2:22: error: unknown sandbox profile 'nettwork' (did you "
        "mean 'network'?)\n"
        "t.yaml:3:43: error: unknown sandbox profile 'buidler' (did you "
        "mean 'builder'?)\n"
        "t.yaml:7:42: error: unknown sandbox profile 'webb' (did you mean "
        "'web'?)\n"
        "t.yaml:8:42: error: unknown sandbox profile '' (expected agent, "
        "strict, network, none or a profile under 'sandboxes')\n");
}

Test(msn_sandbox, extends_must_be_a_name) {
  fails("mission: m\n" TICKETS "sandboxes:\n"
        "  a: { extends: [strict] }\n"
        "  b: null\n",
        "t.yaml:4:17: error: expected a string for 'extends', got a "
        "sequence\n"
        "t.yaml:5:6: error: expected a mapping for a sandbox profile, got "
        "null\n");
}

/* A chain longer than any stack could recurse over resolves, and so does a
 * cycle through all of it, reported once and cut short. */
Test(msn_sandbox, long_chains_do_not_recurse) {
  enum { N = 100000 };
  FILE *fp;
  char *text = NULL, *out;
  size_t len = 0;

  fp = open_memstream(&text, &len);
  fprintf(fp, "mission: m\n" TICKETS "sandboxes:\n");
  for (int i = 0; i < N; i++)
    fprintf(fp, "  p%d: { extends: p%d }\n", i, i + 1);
  fprintf(fp, "  p%d: { extends: strict, writable: [/w] }\n", N);
  fclose(fp);
  cr_assert_eq(
      msn_load_buffer(&mission, "t.yaml", DATA_DIR, text, len, 0, &diags), 0);
  cr_assert_str_eq(mission->sandboxes[0].extends, "strict");
  paths_eq(mission->sandboxes[0].writable, (const char *[]){"/w", NULL});
  msn_mission_free(mission);
  mission = NULL;
  text[len - strlen("strict, writable: [/w] }\n")] = '\0';
  strcat(text, "p0 }\n");
  cr_assert_eq(msn_load_buffer(&mission, "t.yaml", DATA_DIR, text, strlen(text),
                               0, &diags),
               CRL_EVALIDATION_FAILED);
  out = printed();
  cr_assert_eq(diags.n, 1, "%s", out);
  cr_assert(strstr(out, "extends cycle: p0 -> p1 -> ") != NULL, "%s", out);
  cr_assert(strstr(out, "... (100001 profiles)\n") != NULL, "%s", out);
  free(out);
  free(text);
}

Test(msn_sandbox, cpu_is_bounded_by_this_host) {
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  long max = 100 * (ncpu > 0 ? ncpu : 1);
  char *text = NULL, *want = NULL;

  cr_assert(asprintf(&text,
                     "mission: m\n" TICKETS "sandboxes:\n"
                     "  ok: { cpu: %ld }\n"
                     "  big: { cpu: %ld }\n"
                     "  odd: { cpu: 1.5 }\n",
                     max, max + 1) > 0);
  cr_assert(asprintf(&want,
                     "t.yaml:5:15: error: invalid value %ld for 'cpu' "
                     "(expected a percentage from 1 to %ld, 100 per CPU of "
                     "this host)\n"
                     "t.yaml:6:15: error: expected an integer for 'cpu', got "
                     "'1.5'\n",
                     max + 1, max) > 0);
  fails(text, want);
  free(text);
  free(want);
}

Test(msn_sandbox, json_profiles) {
  static const char text[] =
      "{\"mission\": \"m\", \"tickets\": [], \"sandboxes\": {\"j\": "
      "{\"memory\": 1048576, \"pids\": 64, \"readonly\": [\"docs\"]}}}";
  char buf[PATH_MAX + 8];

  cr_assert_eq(msn_load_buffer(&mission, "t.json", DATA_DIR, text, strlen(text),
                               1, &diags),
               0);
  cr_assert_eq(mission->sandboxes[0].memory, 1048576);
  cr_assert_eq(mission->sandboxes[0].pids, 64);
  paths_eq(mission->sandboxes[0].readonly,
           (const char *[]){in_dir(buf, sizeof(buf), "docs"), NULL});
}
