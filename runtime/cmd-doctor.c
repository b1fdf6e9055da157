/*
 * corral doctor [--json]: what this host can give the sandbox, one line per
 * feature (ok or missing, what was found, and the exact fix), as a table or
 * JSON. It exits 0 when the default `agent` profile can be enforced (user
 * namespaces, Landlock and seccomp) and 1 otherwise; the cgroup lines only
 * matter for profiles that ask for explicit memory or CPU limits. The last
 * line says how each limit will be enforced: cgroup v2, the cgroup v1
 * fallback (a hybrid host, as root), RLIMIT_NPROC, or not at all.
 */
#include "rt-int.h"

#include <getopt.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "sbx.h"

#define DOCTOR_ROWS 8

/* One line of the report. */
struct doctor_row {
  const char *name;
  int ok;
  int required; /* needed by the default profile */
  char detail[320];
  const char *note; /* said even when ok, or NULL */
  const char *fix;  /* NULL when nothing to fix */
};

static void doctor_usage(FILE *fp) {
  fputs("usage: corral doctor [--json]\n\n"
        "Checks what this host can enforce: user namespaces, Landlock,\n"
        "seccomp, cgroup v2 delegation and controllers. Exits 0 when the\n"
        "default `agent` profile can be enforced, 1 otherwise.\n",
        fp);
}

static int doctor_has(const char *list, const char *word) {
  size_t n = strlen(word);

  for (const char *s = list; (s = strstr(s, word)) != NULL; s += n)
    if ((s == list || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0'))
      return 1;
  return 0;
}

static void doctor_row_set(struct doctor_row *r, const char *name, int ok,
                           int required, const char *fix) {
  r->name = name;
  r->ok = ok;
  r->required = required;
  r->fix = !ok && fix != NULL && fix[0] != '\0' ? fix : NULL;
}

/* The v1 fallback row: ok when it covers what v2 does not give. */
static void doctor_cgroup1_row(struct doctor_row *r, const struct sbx_host *h,
                               int v2) {
  int v1 = doctor_has(h->cgroup1, "memory") && doctor_has(h->cgroup1, "pids");

  doctor_row_set(r, "cgroup v1 fallback", v2 || v1, 0,
                 "fix: run corral as root (or in a delegated cgroup v1 "
                 "subtree), or see the cgroup v2 fix above");
  snprintf(r->detail, sizeof(r->detail), "%s%s",
           h->cgroup1[0] ? h->cgroup1 : "(none writable)",
           v2   ? "; not needed: cgroup v2 has the controllers"
           : v1 ? "; a v1 leaf per run in each"
                : "");
  if (!v2 && v1)
    r->note = "cgroup v2 has no controllers here: runs get cgroup v1 leaves "
              "instead (no cgroup.kill: frozen and SIGKILLed at the end)";
}

/* Which mechanism each limit gets on this host. */
static void doctor_limits_row(struct doctor_row *r, const struct sbx_host *h) {
  const char *mem = sbx_host_limit_mechanism(h, "memory");

  doctor_row_set(r, "resource limits", strcmp(mem, "none") != 0, 0, NULL);
  snprintf(r->detail, sizeof(r->detail), "memory: %s, pids: %s, cpu: %s", mem,
           sbx_host_limit_mechanism(h, "pids"),
           sbx_host_limit_mechanism(h, "cpu"));
}

/* The cgroup rows: the fix goes on the first one that fails. */
static void doctor_cgroup_rows(struct doctor_row *r, const struct sbx_host *h) {
  int ctl = doctor_has(h->controllers, "memory") &&
            doctor_has(h->controllers, "pids") &&
            doctor_has(h->controllers, "cpu");
  int v1 = doctor_has(h->cgroup1, "memory") && doctor_has(h->cgroup1, "pids");

  doctor_row_set(&r[0], "cgroup v2", h->cgroup2, 0, h->cgroup_fix);
  snprintf(r[0].detail, sizeof(r[0].detail), "%s",
           h->cgroup2 ? "mounted" : "not mounted");
  doctor_row_set(&r[1], "cgroup delegation", h->cgroup_writable, 0,
                 h->cgroup2 ? h->cgroup_fix : NULL);
  snprintf(r[1].detail, sizeof(r[1].detail), "%s",
           !h->cgroup_writable ? "runs go without a cgroup v2 leaf"
           : ctl               ? "a leaf per run (cgroup.kill, limits)"
                               : "a leaf per run (cgroup.kill only)");
  /* Without v2 controllers, the v1 fallback makes this row ok. */
  doctor_row_set(&r[2], "cgroup controllers", ctl || v1, 0,
                 h->cgroup_writable ? h->cgroup_fix : NULL);
  snprintf(r[2].detail, sizeof(r[2].detail), "%s in cgroup v2%s",
           h->controllers[0] ? h->controllers : "none",
           ctl  ? ""
           : v1 ? "; the cgroup v1 fallback stands in"
                : "; explicit memory/cpu limits cannot be enforced");
  doctor_cgroup1_row(&r[3], h, ctl && h->cgroup_writable);
  doctor_limits_row(&r[4], h);
}

static size_t doctor_rows(struct doctor_row *r, const struct sbx_host *h) {
  memset(r, 0, DOCTOR_ROWS * sizeof(*r));
  doctor_row_set(&r[0], "user namespaces", h->userns, 1, h->userns_fix);
  snprintf(r[0].detail, sizeof(r[0].detail), "as uid %ld", (long)getuid());
  doctor_row_set(&r[1], "landlock", h->landlock_abi > 0, 1, h->landlock_fix);
  snprintf(r[1].detail, sizeof(r[1].detail), "ABI %d", h->landlock_abi);
  doctor_row_set(&r[2], "seccomp", h->seccomp, 1,
                 "the kernel refuses seccomp filters; fix: a kernel with "
                 "CONFIG_SECCOMP_FILTER=y, outside a container that "
                 "forbids seccomp(2)");
  snprintf(r[2].detail, sizeof(r[2].detail), "%s",
           h->seccomp ? "filters install" : "filters do not install");
  doctor_cgroup_rows(&r[3], h);
  return DOCTOR_ROWS;
}

static void doctor_print(const struct doctor_row *r, size_t n, int ok) {
  for (size_t i = 0; i < n; i++) {
    printf("%-19s %-8s %s%s\n", r[i].name, r[i].ok ? "ok" : "missing",
           r[i].detail, !r[i].ok && !r[i].required ? " (optional)" : "");
    if (r[i].fix != NULL)
      printf("%-19s %-8s %s\n", "", "", r[i].fix);
    if (r[i].note != NULL)
      printf("%-19s %-8s note: %s\n", "", "", r[i].note);
  }
  printf("the default \"agent\" profile %s be enforced on this host\n",
         ok ? "can" : "cannot");
}

static void doctor_json(const struct doctor_row *r, size_t n, int ok,
                        const struct sbx_host *h) {
  json_t *rows = json_array(), *doc, *limits;

  for (size_t i = 0; i < n; i++)
    json_array_append_new(
        rows, json_pack("{s:s, s:b, s:b, s:s, s:s?, s:s?}", "name", r[i].name,
                        "ok", r[i].ok, "required", r[i].required, "detail",
                        r[i].detail, "fix", r[i].fix, "note", r[i].note));
  limits = json_pack("{s:s, s:s, s:s}", "memory",
                     sbx_host_limit_mechanism(h, "memory"), "pids",
                     sbx_host_limit_mechanism(h, "pids"), "cpu",
                     sbx_host_limit_mechanism(h, "cpu"));
  doc =
      json_pack("{s:b, s:i, s:s, s:s, s:o, s:o}", "agent_profile", ok,
                "landlock_abi", h->landlock_abi, "controllers", h->controllers,
                "cgroup1", h->cgroup1, "limits", limits, "features", rows);
  json_dumpf(doc, stdout, JSON_INDENT(2));
  json_decref(doc);
  putchar('\n');
}

static int doctor_exec(int argc, char **argv) {
  static const struct option opts[] = {{"json", no_argument, 0, 'J'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  struct doctor_row rows[DOCTOR_ROWS];
  struct sbx_host h;
  int c, json = 0, ok;
  size_t n;

  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'J')
      json = 1;
    else
      return doctor_usage(c == 'h' ? stdout : stderr),
             c == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (optind != argc)
    return doctor_usage(stderr), RT_EXIT_USAGE;
  sbx_host_probe(&h);
  n = doctor_rows(rows, &h);
  ok = h.userns && h.landlock_abi > 0 && h.seccomp;
  if (json)
    doctor_json(rows, n, ok, &h);
  else
    doctor_print(rows, n, ok);
  return ok ? RT_EXIT_OK : RT_EXIT_FAILED;
}

const struct rt_cmd rt_cmd_doctor = {
    "doctor", "doctor [--json]", "check what sandboxing this host can enforce",
    doctor_exec};
