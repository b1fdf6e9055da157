/*
 * corral answer [QUESTION TEXT]: the human side of the gates agents raise
 * through their channel. Without arguments it lists the open questions
 * (`corral agent ask`) and action approvals (`corral agent
 * request-approval`); with them it answers question QUESTION with TEXT,
 * which unblocks its run. An approval is decided the same way with TEXT
 * `approve` or `deny` (questions and approvals share one id space).
 */
#include "client.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt-int.h"

static void answer_usage(FILE *fp) {
  fputs("usage: corral answer [--socket PATH] [--json] [--mission M]\n"
        "       corral answer [--socket PATH] [--json] ID TEXT\n"
        "       corral answer [--socket PATH] [--json] ID approve|deny\n\n"
        "Without ID, lists the open questions and action approvals of "
        "agents.\nWith ID, answers that question with TEXT, or approves or "
        "denies that\naction.\n",
        fp);
}

static void answer_row(json_t *q) {
  time_t t =
      (time_t)(json_integer_value(json_object_get(q, "deadline")) / 1000);
  char when[16] = "-";
  struct tm tm;

  if (t > 0)
    strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
  printf("%-6lld %-9s %-16s %-14s %-8s %s\n",
         json_integer_value(json_object_get(q, "id")),
         json_string_value(json_object_get(q, "kind")) ?: "",
         json_string_value(json_object_get(q, "mission")) ?: "",
         json_string_value(json_object_get(q, "task")) ?: "", when,
         json_string_value(json_object_get(q, "text")) ?: "");
}

/* GET /v1/questions and /v1/approvals, open ones. */
static int answer_list(struct rt_client *c, const char *mission, int json) {
  char *m = mission ? rt_client_escape(mission) : NULL, *p1, *p2;
  json_t *qs = NULL, *as = NULL, *doc, *x;
  int rc;
  size_t i;

  xasprintf(&p1, "/v1/questions?state=open%s%s", m ? "&mission=" : "",
            m ? m : "");
  xasprintf(&p2, "/v1/approvals?state=open%s%s", m ? "&mission=" : "",
            m ? m : "");
  if ((rc = rt_client_call(c, "GET", p1, NULL, &qs)) == RT_EXIT_OK &&
      (rc = rt_client_call(c, "GET", p2, NULL, &as)) == RT_EXIT_OK) {
    doc = json_pack("{s:O, s:O}", "questions", json_object_get(qs, "questions"),
                    "approvals", json_object_get(as, "approvals"));
    if (json)
      rt_client_print_json(doc);
    else {
      printf("%-6s %-9s %-16s %-14s %-8s %s\n", "ID", "KIND", "MISSION", "TASK",
             "DEADLINE", "TEXT");
      json_array_foreach(json_object_get(doc, "questions"), i, x) answer_row(x);
      json_array_foreach(json_object_get(doc, "approvals"), i, x) answer_row(x);
    }
    json_decref(doc);
  }
  json_decref(qs);
  json_decref(as);
  free(p1);
  free(p2);
  free(m);
  return rc;
}

/* POST path with body and prints the reply with json, else the error,
 * except a 404 when quiet404; *status gets the HTTP status (0: none). */
static int answer_post(struct rt_client *c, const char *path, json_t *body,
                       int json, int quiet404, long *status) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_client_reply r;
  char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
  int rc;

  rc = rt_client_request(c, "POST", path, NULL, s, s ? strlen(s) : 0, &r, &err);
  *status = rc < 0 ? 0 : r.status;
  if (rc < 0)
    rc = rt_client_fail(c, rc, &err);
  else if (r.status == 200) {
    if (json)
      printf("%s\n", r.body.data);
    rc = RT_EXIT_OK;
  } else if (r.status == 404 && quiet404)
    rc = RT_EXIT_FAILED;
  else
    rc = rt_client_fail_reply(&r, NULL);
  rt_client_reply_close(&r);
  free(s);
  return rc;
}

static int answer_send(struct rt_client *c, const char *id, const char *text,
                       int json) {
  char *esc = rt_client_escape(id), *path;
  json_t *body = json_pack("{s:s}", "answer", text);
  int rc, decision = strcmp(text, "approve") == 0 || strcmp(text, "deny") == 0;
  long status;

  xasprintf(&path, "/v1/questions/%s/answer", esc);
  rc = answer_post(c, path, body, json, decision, &status);
  free(path);
  if (status == 404 && decision) { /* not a question: an approval? */
    xasprintf(&path, "/v1/approvals/%s/%s", esc, text);
    rc = answer_post(c, path, NULL, json, 0, &status);
    free(path);
  }
  if (rc == RT_EXIT_OK && !json)
    printf("answered %s: %s\n", id, text);
  json_decref(body);
  free(esc);
  return rc;
}

static int answer_exec(int argc, char **argv) {
  static const struct option opts[] = {{"socket", required_argument, 0, 'S'},
                                       {"json", no_argument, 0, 'J'},
                                       {"mission", required_argument, 0, 'm'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *sock = NULL, *mission = NULL;
  struct rt_client c;
  int ch, json = 0, rc;

  while ((ch = getopt_long(argc, argv, "S:m:h", opts, NULL)) != -1) {
    if (ch == 'S')
      sock = optarg;
    else if (ch == 'J')
      json = 1;
    else if (ch == 'm')
      mission = optarg;
    else
      return answer_usage(ch == 'h' ? stdout : stderr),
             ch == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (argc - optind != 2 && argc != optind)
    return answer_usage(stderr), RT_EXIT_USAGE;
  rt_client_init(&c, sock);
  rc = argc == optind ? answer_list(&c, mission, json)
                      : answer_send(&c, argv[optind], argv[optind + 1], json);
  rt_client_close(&c);
  return rc;
}

const struct rt_cmd rt_cmd_answer = {"answer", "answer [ID TEXT]",
                                     "list or answer agents' questions",
                                     answer_exec};
