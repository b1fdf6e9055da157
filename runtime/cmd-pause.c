/*
 * corral pause MISSION: holds a running mission's dispatch (runs already
 * started go on; nothing new starts), through the daemon. The mission must
 * be live in the daemon; `corral resume MISSION` (cmd-resume.c) lets it go
 * again.
 */
#include "client.h"

#include <getopt.h>
#include <stdlib.h>

#include "rt-int.h"

static void pause_usage(FILE *fp) {
  fputs("usage: corral pause [--socket PATH] [--json] MISSION\n\n"
        "Stops the daemon starting new tasks of MISSION; runs in progress go "
        "on.\n",
        fp);
}

/* POST /v1/missions/{id}/<op> and prints the outcome. */
int rt_client_mission_op(struct rt_client *c, const char *id, const char *op,
                         int json) {
  char *esc = rt_client_escape(id), *path;
  json_t *doc = NULL;
  int rc;

  xasprintf(&path, "/v1/missions/%s/%s", esc, op);
  rc = rt_client_call(c, "POST", path, NULL, &doc);
  if (rc == RT_EXIT_OK && json)
    rt_client_print_json(doc);
  else if (rc == RT_EXIT_OK)
    printf("mission %s: %s\n", id,
           json_string_value(json_object_get(doc, "state")) ?: op);
  json_decref(doc);
  free(path);
  free(esc);
  return rc;
}

static int pause_exec(int argc, char **argv) {
  static const struct option opts[] = {{"socket", required_argument, 0, 'S'},
                                       {"json", no_argument, 0, 'J'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *sock = NULL;
  struct rt_client c;
  int ch, json = 0, rc;

  while ((ch = getopt_long(argc, argv, "S:h", opts, NULL)) != -1) {
    if (ch == 'S')
      sock = optarg;
    else if (ch == 'J')
      json = 1;
    else
      return pause_usage(ch == 'h' ? stdout : stderr),
             ch == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (argc - optind != 1)
    return pause_usage(stderr), RT_EXIT_USAGE;
  rt_client_init(&c, sock);
  rc = rt_client_mission_op(&c, argv[optind], "pause", json);
  rt_client_close(&c);
  return rc;
}

const struct rt_cmd rt_cmd_pause = {
    "pause", "pause MISSION", "stop starting a mission's tasks", pause_exec};
