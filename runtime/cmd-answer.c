/*
 * corral answer QUESTION TEXT: answers a question an agent asked through
 * its channel (`corral agent ask`), which unblocks its run. The daemon
 * lists open questions at GET /v1/questions.
 */
#include "client.h"

#include <getopt.h>
#include <stdlib.h>

#include "rt-int.h"

static void answer_usage(FILE *fp) {
  fputs("usage: corral answer [--socket PATH] [--json] QUESTION TEXT\n\n"
        "Answers an agent's open QUESTION with TEXT.\n",
        fp);
}

static int answer_send(struct rt_client *c, const char *id, const char *text,
                       int json) {
  char *esc = rt_client_escape(id), *path;
  json_t *body = json_pack("{s:s}", "answer", text), *doc = NULL;
  int rc;

  xasprintf(&path, "/v1/questions/%s/answer", esc);
  rc = rt_client_call(c, "POST", path, body, &doc);
  if (rc == RT_EXIT_OK && json)
    rt_client_print_json(doc);
  else if (rc == RT_EXIT_OK)
    printf("answered %s\n", id);
  json_decref(doc);
  json_decref(body);
  free(path);
  free(esc);
  return rc;
}

static int answer_exec(int argc, char **argv) {
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
      return answer_usage(ch == 'h' ? stdout : stderr),
             ch == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (argc - optind != 2)
    return answer_usage(stderr), RT_EXIT_USAGE;
  rt_client_init(&c, sock);
  rc = answer_send(&c, argv[optind], argv[optind + 1], json);
  rt_client_close(&c);
  return rc;
}

const struct rt_cmd rt_cmd_answer = {"answer", "answer QUESTION TEXT",
                                     "answer an agent's question", answer_exec};
