/*
 * corral logs TASK: prints the raw output of a task's runs (the last one by
 * default, every one with --all), exactly as the agent wrote it.
 */
#include "client.h"
#include "rt-int.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void logs_usage(FILE *fp) {
  fputs("usage: corral logs [--state-dir DIR | --socket PATH] [--mission M] "
        "[--all]\n"
        "                   [-f|--follow] TASK|RUN\n\n"
        "Prints the output of TASK's last run (every run with --all). "
        "Without\n--state-dir it asks the daemon when one answers on its "
        "socket; then\n-f follows the output until the run ends, and RUN "
        "may be a run id.\n",
        fp);
}

struct logs_ctx {
  char **dirs;
  size_t n;
};

static int logs_collect(const struct store_run *r, void *payload) {
  struct logs_ctx *c = payload;

  if (r->dir == NULL)
    return 0;
  c->dirs = xreallocarray(c->dirs, c->n + 1, sizeof(*c->dirs));
  c->dirs[c->n++] = xstrdup(r->dir);
  return 0;
}

static int logs_cat(const char *dir) {
  char *path, buf[65536];
  ssize_t n;
  int fd;

  xasprintf(&path, "%s/output.log", dir);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  free(path);
  if (fd < 0)
    return errno == ENOENT ? 0 : -errno;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
      break;
  close(fd);
  return n < 0 ? -errno : 0;
}

static int logs_print(struct store *st, const char *mission, const char *task,
                      int all, struct crl_err *err) {
  struct logs_ctx c = {NULL, 0};
  struct store_task t;
  int rc;

  if ((rc = store_task_get(st, mission, task, &t, err)) < 0)
    return rc;
  if ((rc = store_run_list(st, mission, task, logs_collect, &c)) < 0)
    goto out;
  for (size_t i = all ? 0 : (c.n ? c.n - 1 : 0); i < c.n && rc == 0; i++)
    rc = logs_cat(c.dirs[i]);
out:
  for (size_t i = 0; i < c.n; i++)
    free(c.dirs[i]);
  free(c.dirs);
  return rc;
}

static int logs_exec(int argc, char **argv) {
  static const struct option opts[] = {{"state-dir", required_argument, 0, 's'},
                                       {"mission", required_argument, 0, 'm'},
                                       {"all", no_argument, 0, 'a'},
                                       {"socket", required_argument, 0, 'S'},
                                       {"follow", no_argument, 0, 'f'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  struct crl_err err = CRL_ERR_INIT;
  const char *sd = NULL, *mission = NULL, *sock = NULL;
  char *dir = NULL, *id = NULL;
  struct store *st = NULL;
  int c, all = 0, follow = 0, rc;

  while ((c = getopt_long(argc, argv, "s:m:aS:fh", opts, NULL)) != -1) {
    if (c == 's')
      sd = optarg;
    else if (c == 'S')
      sock = optarg;
    else if (c == 'f')
      follow = 1;
    else if (c == 'm')
      mission = optarg;
    else if (c == 'a')
      all = 1;
    else
      return logs_usage(c == 'h' ? stdout : stderr),
             c == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (argc - optind != 1 || (sd != NULL && (sock != NULL || follow)))
    return logs_usage(stderr), RT_EXIT_USAGE;
  if (follow || rt_client_wanted(sd, sock))
    return rt_client_logs(sock, mission, argv[optind], follow, all);
  if ((rc = rt_statedir(&dir, sd, &err)) < 0 ||
      (rc = rt_store_open(&st, dir, &err)) < 0 ||
      (rc = rt_mission_pick(&id, st, mission, &err)) < 0 ||
      (rc = logs_print(st, id, argv[optind], all, &err)) < 0)
    rt_errorf("%s", err.msg[0] ? err.msg : crl_strerror(rc));
  store_close(st);
  free(dir);
  free(id);
  return rc < 0 ? RT_EXIT_FAILED : RT_EXIT_OK;
}

const struct rt_cmd rt_cmd_logs = {"logs", "logs [-f] [--all] TASK|RUN",
                                   "print a task's output", logs_exec};
