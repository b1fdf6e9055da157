/*
 * The CLI's contract, shared by the full program (corral-engine, every
 * verb) and the lean front (corral, which runs `sandbox` itself and execs
 * corral-engine for the rest): exit codes, the verb entry, and the message
 * grammar. It needs nothing but libc, so the front stays small.
 */
#ifndef RT_CLI_H
#define RT_CLI_H

/* Exit codes of the corral CLI (DESIGN.md §5). */
enum {
  RT_EXIT_OK = 0,
  RT_EXIT_FAILED = 1,
  RT_EXIT_USAGE = 2,
  RT_EXIT_UNREACHABLE = 3,
  RT_EXIT_LIMIT = 4,
  RT_EXIT_CANCELLED = 5
};

/* One CLI verb (tmux cmd_entry). */
struct rt_cmd {
  const char *name;
  const char *usage;
  const char *summary;
  int (*exec)(int argc, char **argv);
};

/* cmd-sandbox.c: the one verb the front runs in process. */
extern const struct rt_cmd rt_cmd_sandbox;

/* Prints "corral: fatal: ..." style messages (skalibs strerr grammar). */
void rt_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
