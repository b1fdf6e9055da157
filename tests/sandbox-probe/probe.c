/*
 * sandbox-probe's entry point: finds the probe by name in the family tables,
 * checks its argument count and runs it. It also holds the reporting helpers
 * every probe uses, so all verdicts print in one grammar:
 *   NAME: escaped: what took effect
 *   NAME: blocked: ERRNO (what was refused)
 * Output is unbuffered so a probe killed mid-way (SIGSYS, OOM) still leaves
 * its last line. Built without sanitizers and linked with libc only: ASan
 * would reserve terabytes of address space and change what the probes see.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

const char *probe_name = "sandbox-probe";
static char self_path[PATH_MAX];

static const struct probe *const families[] = {
    probe_fs, probe_proc, probe_sys, probe_net, probe_res,
};

static void vreport(const char *verdict, const char *errname, const char *fmt,
                    va_list ap) {
  printf("%s: %s", probe_name, verdict);
  if (errname != NULL)
    printf("%s (", errname);
  vprintf(fmt, ap);
  printf("%s\n", errname != NULL ? ")" : "");
}

int probe_escaped(const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vreport("escaped: ", NULL, fmt, ap);
  va_end(ap);
  return PROBE_ESCAPED;
}

int probe_blocked(const char *fmt, ...) {
  const char *name = probe_errname(errno);
  va_list ap;

  va_start(ap, fmt);
  vreport("blocked: ", name, fmt, ap);
  va_end(ap);
  return PROBE_BLOCKED;
}

void probe_note(const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  vreport("", NULL, fmt, ap);
  va_end(ap);
}

const char *probe_errname(int e) {
  static char buf[16];
  const char *name = strerrorname_np(e);

  if (name != NULL)
    return name;
  snprintf(buf, sizeof(buf), "errno %d", e);
  return buf;
}

int probe_write_marker(int fd) {
  static const char marker[] = "corral-sandbox-probe was here\n";

  return write(fd, marker, sizeof(marker) - 1) == (ssize_t)sizeof(marker) - 1
             ? 0
             : -1;
}

long probe_num(const char *s) {
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0)
    return -1;
  return v;
}

const char *probe_self(void) {
  return self_path;
}

static const struct probe *find(const char *name) {
  for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
    for (const struct probe *p = families[f]; p->name != NULL; p++)
      if (strcmp(p->name, name) == 0)
        return p;
  return NULL;
}

static int usage(FILE *to) {
  fprintf(to, "usage: sandbox-probe NAME [ARGS]\n"
              "exit 0: the escape took effect; 1: blocked; 2: usage\n\n");
  for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
    for (const struct probe *p = families[f]; p->name != NULL; p++)
      fprintf(to, "  %-18s %s\n", p->name, p->help);
  return PROBE_USAGE;
}

int main(int argc, char **argv) {
  const struct probe *p;
  int nargs = argc - 2;

  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc < 2)
    return usage(stderr);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
    return usage(stdout), 0;
  if ((p = find(argv[1])) == NULL) {
    fprintf(stderr, "sandbox-probe: unknown probe %s\n", argv[1]);
    return usage(stderr);
  }
  if (nargs < p->min_args || nargs > p->max_args) {
    fprintf(stderr, "usage: sandbox-probe %s %s\n", p->name, p->help);
    return PROBE_USAGE;
  }
  if (realpath("/proc/self/exe", self_path) == NULL)
    snprintf(self_path, sizeof(self_path), "%s", argv[0]);
  probe_name = p->name;
  return p->fn(nargs, argv + 2);
}
