/*
 * corral import FILE: loads a trace into a state dir, where show, logs and
 * export read it like a mission run there. A mission id that exists is
 * refused unless --as gives the import another name.
 */
#include "rt-int.h"
#include "rt-trace.h"

#include <getopt.h>
#include <stdlib.h>

static void import_usage(FILE *fp) {
  fputs("usage: corral import [--state-dir DIR] [--as NAME] FILE\n\n"
        "Loads the trace FILE (from corral export) into the state dir: the\n"
        "mission's rows and events, its run logs, and its branches as a git\n"
        "bundle in DIR/bundles/NAME.bundle (`git fetch` reads it).\n"
        "  --as NAME  import under another mission id\n",
        fp);
}

static int import_exec(int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"as", required_argument, 0, 'a'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  struct crl_err err = CRL_ERR_INIT;
  const char *sd = NULL, *as = NULL;
  char *dir = NULL, *name = NULL;
  struct store *st = NULL;
  int c, rc;

  while ((c = getopt_long(argc, argv, "s:a:h", opts, NULL)) != -1) {
    if (c == 's')
      sd = optarg;
    else if (c == 'a')
      as = optarg;
    else
      return import_usage(c == 'h' ? stdout : stderr),
             c == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (argc - optind != 1)
    return import_usage(stderr), RT_EXIT_USAGE;
  if ((rc = rt_statedir(&dir, sd, &err)) == 0 &&
      (rc = rt_store_open(&st, dir, &err)) == 0 &&
      (rc = rt_trace_import(st, dir, argv[optind], as, &name, &err)) == 0)
    printf("imported mission %s\n", name);
  if (rc < 0)
    rt_errorf("fatal: %s", err.msg[0] ? err.msg : crl_strerror(rc));
  store_close(st);
  free(dir);
  free(name);
  return rc < 0 ? RT_EXIT_FAILED : RT_EXIT_OK;
}

const struct rt_cmd rt_cmd_import = {"import", "import [--as NAME] FILE",
                                     "load a trace file into a state dir",
                                     import_exec};
