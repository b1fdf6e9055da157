/*
 * corral validate FILE...: reports every problem of each mission file as
 * FILE:LINE:COL: error: ..., or a one-line summary when it is valid.
 */
#include "rt-int.h"

#include <getopt.h>
#include <string.h>

static void validate_usage(FILE *fp) {
  fputs("usage: corral validate FILE...\n\n"
        "Checks mission files and reports every error as FILE:LINE:COL.\n"
        "Exit status: 0 all valid, 2 an error was found.\n",
        fp);
}

static int validate_one(const char *file) {
  struct msn_mission *m = NULL;
  struct msn_diags d;
  int rc;

  msn_diags_init(&d);
  rc = msn_load_file(&m, file, &d);
  if (rc == 0)
    rc = rt_mission_check(m, &d);
  msn_diags_print(&d, stderr);
  if (rc < 0 && d.n == 0)
    rt_errorf("unable to load %s: %s", file, crl_strerror(rc));
  if (rc == 0)
    printf("%s: ok (%zu tickets, %zu tasks, %zu agents)\n", file, m->ntickets,
           m->ntasks, m->nagents);
  msn_diags_close(&d);
  msn_mission_free(m);
  return rc;
}

static int validate_exec(int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c, bad = 0;

  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'h')
      return validate_usage(stdout), RT_EXIT_OK;
    return validate_usage(stderr), RT_EXIT_USAGE;
  }
  if (optind >= argc)
    return validate_usage(stderr), RT_EXIT_USAGE;
  for (int i = optind; i < argc; i++)
    bad |= validate_one(argv[i]) < 0;
  return bad ? RT_EXIT_USAGE : RT_EXIT_OK;
}

const struct rt_cmd rt_cmd_validate = {"validate", "validate FILE...",
                                       "check mission files", validate_exec};
