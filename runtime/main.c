/*
 * corral: the command-line entry point. Each verb is one `struct rt_cmd` in
 * its own cmd-<verb>.c (tmux cmd_entry); this file holds the table, the
 * top-level --help and --version, and dispatch.
 */
#include "rt-int.h"
#include "rt-trace.h"

#include <stdlib.h>
#include <string.h>

static const struct rt_cmd *const cmd_table[] = {&rt_cmd_run,
                                                 &rt_cmd_validate,
                                                 &rt_cmd_submit,
                                                 &rt_cmd_ls,
                                                 &rt_cmd_show,
                                                 &rt_cmd_logs,
                                                 &rt_cmd_events,
                                                 &rt_cmd_approve,
                                                 &rt_cmd_reject,
                                                 &rt_cmd_answer,
                                                 &rt_cmd_pause,
                                                 &rt_cmd_resume,
                                                 &rt_cmd_cancel,
                                                 &rt_cmd_costs,
                                                 &rt_cmd_gc,
                                                 &rt_cmd_daemon,
                                                 &rt_cmd_agent,
                                                 &rt_cmd_sandbox,
                                                 &rt_cmd_doctor,
                                                 &rt_cmd_export,
                                                 &rt_cmd_import,
                                                 &rt_cmd_replay,
                                                 NULL};

static void main_usage(FILE *fp) {
  fputs("usage: corral [--version] [--help] COMMAND [ARGS]\n\n"
        "corral runs a mission's task graph as supervised agent processes.\n\n"
        "Commands:\n",
        fp);
  for (size_t i = 0; cmd_table[i] != NULL; i++)
    fprintf(fp, "  %-10s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
  fputs("\nRun 'corral COMMAND --help' for a command's options.\n", fp);
}

static const struct rt_cmd *main_find(const char *name) {
  for (size_t i = 0; cmd_table[i] != NULL; i++)
    if (strcmp(cmd_table[i]->name, name) == 0)
      return cmd_table[i];
  return NULL;
}

/* --version is accepted after any verb too ("corral run --version"). */
static int main_wants_version(int argc, char **argv) {
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "--version") == 0)
      return 1;
  return 0;
}

int main(int argc, char **argv) {
  const struct rt_cmd *cmd;

  crl_log_init();
  if (argc < 2) {
    main_usage(stderr);
    return RT_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    main_usage(stdout);
    return RT_EXIT_OK;
  }
  if (main_wants_version(argc, argv) || strcmp(argv[1], "version") == 0) {
    printf("corral %s\n", CRL_VERSION);
    return RT_EXIT_OK;
  }
  if ((cmd = main_find(argv[1])) == NULL) {
    rt_errorf("unknown command '%s' (see 'corral --help')", argv[1]);
    return RT_EXIT_USAGE;
  }
  return cmd->exec(argc - 1, argv + 1);
}
