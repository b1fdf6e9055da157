/*
 * corral cancel MISSION / corral cancel --task TASK [--mission M]: cancels
 * a whole mission (its runs are stopped, nothing more starts) or one task,
 * through the daemon. A task id names one task when only one mission has
 * it; --mission picks among several.
 */
#include "client.h"

#include <getopt.h>
#include <stdlib.h>

#include "rt-int.h"

struct cancel_opts {
  const char *socket;
  const char *task;
  const char *mission;
  int json;
};

static void cancel_usage(FILE *fp) {
  fputs("usage: corral cancel [--socket PATH] [--json] MISSION\n"
        "       corral cancel [--socket PATH] [--json] --task TASK "
        "[--mission M]\n\n"
        "Cancels a running MISSION, or one TASK of a mission.\n",
        fp);
}

static int cancel_task(struct rt_client *c, const struct cancel_opts *o) {
  char *t = rt_client_escape(o->task), *path;
  char *m = o->mission ? rt_client_escape(o->mission) : NULL;
  json_t *doc = NULL;
  int rc;

  xasprintf(&path, "/v1/tasks/%s/cancel%s%s", t, m ? "?mission=" : "",
            m ? m : "");
  rc = rt_client_call(c, "POST", path, NULL, &doc);
  if (rc == RT_EXIT_OK && o->json)
    rt_client_print_json(doc);
  else if (rc == RT_EXIT_OK)
    printf("task %s of mission %s: %s\n", o->task,
           json_string_value(json_object_get(doc, "mission")) ?: "?",
           json_string_value(json_object_get(doc, "state")) ?: "cancelled");
  json_decref(doc);
  free(path);
  free(t);
  free(m);
  return rc;
}

static int cancel_parse(struct cancel_opts *o, int argc, char **argv) {
  static const struct option opts[] = {{"socket", required_argument, 0, 'S'},
                                       {"json", no_argument, 0, 'J'},
                                       {"task", required_argument, 0, 't'},
                                       {"mission", required_argument, 0, 'm'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int ch;

  while ((ch = getopt_long(argc, argv, "S:t:m:h", opts, NULL)) != -1) {
    if (ch == 'S')
      o->socket = optarg;
    else if (ch == 'J')
      o->json = 1;
    else if (ch == 't')
      o->task = optarg;
    else if (ch == 'm')
      o->mission = optarg;
    else
      return cancel_usage(ch == 'h' ? stdout : stderr),
             ch == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (o->task ? optind != argc : argc - optind != 1 || o->mission != NULL)
    return cancel_usage(stderr), RT_EXIT_USAGE;
  return -1;
}

static int cancel_exec(int argc, char **argv) {
  struct cancel_opts o = {0};
  struct rt_client c;
  int rc;

  if ((rc = cancel_parse(&o, argc, argv)) >= 0)
    return rc;
  rt_client_init(&c, o.socket);
  rc = o.task ? cancel_task(&c, &o)
              : rt_client_mission_op(&c, argv[optind], "cancel", o.json);
  rt_client_close(&c);
  return rc;
}

const struct rt_cmd rt_cmd_cancel = {"cancel", "cancel MISSION | --task TASK",
                                     "cancel a mission or one of its tasks",
                                     cancel_exec};
