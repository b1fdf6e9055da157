/*
 * The verbs' side of the client: one request whose outcome is an exit
 * code (DESIGN.md §5: 0 ok, 1 failed, 2 usage or validation, 3 daemon
 * unreachable), with every failure printed in the CLI's one grammar. An
 * error reply is the daemon's {"error":{"code","message","details"}},
 * printed as `corral: CODE: message`; a validation failure adds each of
 * its errors as `FILE:LINE:COL: error: MSG`, as `corral validate` does.
 */
#include "client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rt-int.h"

int rt_client_fail(const struct rt_client *c, int rc,
                   const struct crl_err *err) {
  if (rc == -ECONNREFUSED) {
    rt_errorf("is the daemon running? start it with `corral daemon` (socket "
              "%s)",
              c->socket);
    return RT_EXIT_UNREACHABLE;
  }
  rt_errorf("%s", err != NULL && err->msg[0] ? err->msg : crl_strerror(rc));
  return RT_EXIT_FAILED;
}

static void client_print_diags(json_t *errors, const char *file) {
  size_t i;
  json_t *e;

  json_array_foreach(errors, i, e) {
    const char *f = json_string_value(json_object_get(e, "file"));

    fprintf(stderr, "%s:%lld:%lld: error: %s\n",
            file ? file
            : f  ? f
                 : "-",
            json_integer_value(json_object_get(e, "line")),
            json_integer_value(json_object_get(e, "col")),
            json_string_value(json_object_get(e, "message")) ?: "");
  }
}

int rt_client_fail_reply(const struct rt_client_reply *r, const char *file) {
  json_t *doc =
      json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
  json_t *e = json_object_get(doc, "error");
  const char *code = json_string_value(json_object_get(e, "code"));
  const char *msg = json_string_value(json_object_get(e, "message"));

  if (r->status == 422)
    client_print_diags(json_object_get(json_object_get(e, "details"), "errors"),
                       file);
  if (code != NULL)
    rt_errorf("%s: %s", code, msg ? msg : "");
  else
    rt_errorf("the daemon answered HTTP %ld: %.200s", r->status,
              r->body.data ? r->body.data : "");
  json_decref(doc);
  return r->status == 400 || r->status == 422 ? RT_EXIT_USAGE : RT_EXIT_FAILED;
}

int rt_client_call(struct rt_client *c, const char *method, const char *path,
                   json_t *body, json_t **out) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_client_reply r;
  char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_error_t je;
  int rc;

  rc = rt_client_request(c, method, path, NULL, s, s ? strlen(s) : 0, &r, &err);
  free(s);
  if (rc < 0)
    rc = rt_client_fail(c, rc, &err);
  else if (r.status < 200 || r.status >= 300)
    rc = rt_client_fail_reply(&r, NULL);
  else if ((*out = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0,
                              &je)) == NULL) {
    rt_errorf("the daemon's reply to %s %s is not JSON: %s", method, path,
              je.text);
    rc = RT_EXIT_FAILED;
  } else
    rc = RT_EXIT_OK;
  rt_client_reply_close(&r);
  return rc;
}

void rt_client_print_json(json_t *doc) {
  json_dumpf(doc, stdout, JSON_INDENT(2));
  putchar('\n');
}
