/*
 * corral, the front of the CLI. Starting a command in a sandbox is on the
 * path of every sandboxed start a user or a script makes, and the full CLI
 * (corral-engine: libgit2, libuv, SQLite, and the two dozen shared
 * libraries they pull in) spends longer in the dynamic loader than the
 * sandbox takes to build (tests/bench/sandbox-start). So `corral sandbox`
 * runs here, in a small program linked statically in optimised builds, and
 * every other verb, --help and --version included, is corral-engine, found
 * next to this program and exec'd with the same arguments, so that what the
 * user typed and the exit status are the engine's own.
 */
#include "rt-cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crl.h"

#define FRONT_ENGINE "corral-engine"

/* --version anywhere before "--" is the engine's (main.c). */
static int front_is_sandbox(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], rt_cmd_sandbox.name) != 0)
    return 0;
  for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "--version") == 0)
      return 0;
  return 1;
}

/* Replaces this process with corral-engine from our own directory; returns
 * only on failure, with the exit status to leave with. */
static int front_exec_engine(char **argv) {
  char self[PATH_MAX], path[PATH_MAX + sizeof(FRONT_ENGINE)], *slash;
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

  if (n <= 0 || (size_t)n >= sizeof(self) - 1) {
    rt_errorf("fatal: unable to find my own path: %s",
              n < 0 ? strerror(errno) : "too long");
    return RT_EXIT_FAILED;
  }
  self[n] = '\0';
  slash = strrchr(self, '/');
  *slash = '\0';
  snprintf(path, sizeof(path), "%s/%s", self, FRONT_ENGINE);
  execv(path, argv);
  rt_errorf("fatal: unable to run %s: %s", path, strerror(errno));
  return RT_EXIT_FAILED;
}

int main(int argc, char **argv) {
  if (!front_is_sandbox(argc, argv))
    return front_exec_engine(argv);
  crl_log_init();
  return rt_cmd_sandbox.exec(argc - 1, argv + 1);
}
