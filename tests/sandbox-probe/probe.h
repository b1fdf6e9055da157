/*
 * sandbox-probe: one escape attempt per invocation, for the sandbox's
 * escape-probe tests. `sandbox-probe NAME [ARGS]` exits PROBE_ESCAPED (0)
 * when the attempt took effect, PROBE_BLOCKED (1) when it was refused (and
 * prints the errno name), PROBE_USAGE (2) on a usage error. The tests run
 * every probe unsandboxed (it must escape, so the probe proves something)
 * and under `corral sandbox` (it must be blocked, and the host unchanged).
 * Each probe file owns one family: probe-fs.c, probe-proc.c, probe-sys.c,
 * probe-net.c, probe-res.c.
 */
#ifndef PROBE_H
#define PROBE_H

#define PROBE_ESCAPED 0
#define PROBE_BLOCKED 1
#define PROBE_USAGE 2

/* A probe gets its own arguments (argv[0] is the first one, not the name). */
typedef int (*probe_fn)(int argc, char **argv);

struct probe {
  const char *name;
  int min_args;
  int max_args;
  probe_fn fn;
  const char *help;
};

/* Each family's NULL-name-terminated table. */
extern const struct probe probe_fs[];
extern const struct probe probe_proc[];
extern const struct probe probe_sys[];
extern const struct probe probe_net[];
extern const struct probe probe_res[];

/* The probe being run, for messages. */
extern const char *probe_name;

/* Prints "NAME: escaped: <what>" and returns PROBE_ESCAPED. */
int probe_escaped(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "NAME: blocked: <errno name> (<what>)" with the current errno and
 * returns PROBE_BLOCKED. */
int probe_blocked(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "NAME: <what>" (a detail line; no verdict). */
void probe_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The errno name of e ("EPERM"), or its number as text. */
const char *probe_errname(int e);

/* Appends a marker line to an open fd; 0 or -1 with errno. */
int probe_write_marker(int fd);
/* Parses a non-negative decimal; -1 when s is not one. */
long probe_num(const char *s);
/* The absolute path of this executable (resolved at start-up). */
const char *probe_self(void);

#endif
