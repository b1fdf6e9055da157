/*
 * corral submit FILE: sends a mission file to the daemon, which validates
 * it and starts it. Relative paths in the mission (repo:, workdirs) are
 * resolved against the file's directory, sent as ?dir=. A .json file is
 * sent as JSON, anything else as YAML. Prints the mission id.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt-int.h"

/* The largest mission file sent; the daemon refuses bodies over 1 MiB. */
#define SUBMIT_MAX (1024 * 1024)

static void submit_usage(FILE *fp) {
  fputs("usage: corral submit [--socket PATH] [--json] FILE\n\n"
        "Submits the mission in FILE (YAML, or JSON when it ends in .json) "
        "to the\ndaemon and prints its id. Invalid files print "
        "FILE:LINE:COL: error: MSG\nand exit 2.\n",
        fp);
}

static int submit_read(struct crl_buf *b, const char *path) {
  char chunk[8192];
  ssize_t n;
  int fd, rc = 0;

  crl_buf_init(b, SUBMIT_MAX);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return -errno;
  while (rc == 0 && (n = read(fd, chunk, sizeof(chunk))) != 0)
    rc = n < 0 ? -errno : crl_buf_append(b, chunk, (size_t)n);
  close(fd);
  return rc;
}

/* POST /v1/missions?dir=<the file's absolute directory>. */
static char *submit_path(const char *file) {
  char *abs = realpath(file, NULL), *dir, *esc, *out;

  if (abs == NULL)
    abs = xstrdup(file);
  dir = dirname(abs);
  esc = rt_client_escape(dir);
  xasprintf(&out, "/v1/missions?dir=%s", esc);
  free(esc);
  free(abs);
  return out;
}

static int submit_send(struct rt_client *c, const char *file,
                       const struct crl_buf *b, int json) {
  const char *dot = strrchr(file, '.');
  int is_json = dot != NULL && strcmp(dot, ".json") == 0;
  struct crl_err err = CRL_ERR_INIT;
  struct rt_client_reply r;
  char *path = submit_path(file);
  json_t *doc;
  int rc;

  rc = rt_client_request(c, "POST", path,
                         is_json ? "application/json" : "application/yaml",
                         b->data ? b->data : "", b->len, &r, &err);
  free(path);
  if (rc < 0)
    rc = rt_client_fail(c, rc, &err);
  else if (r.status != 201 && r.status != 200)
    rc = rt_client_fail_reply(&r, file);
  else if ((doc = json_loadb(r.body.data, r.body.len, 0, NULL)) != NULL) {
    if (json)
      rt_client_print_json(doc);
    else
      printf("%s\n", json_string_value(json_object_get(doc, "id")) ?: "");
    json_decref(doc);
    rc = RT_EXIT_OK;
  } else {
    rt_errorf("the daemon's reply is not JSON");
    rc = RT_EXIT_FAILED;
  }
  rt_client_reply_close(&r);
  return rc;
}

static int submit_exec(int argc, char **argv) {
  const char *sock = NULL;
  struct rt_client c;
  struct crl_buf b;
  int json = 0, rc;

  if ((rc = rt_client_args(argc, argv, 1, submit_usage, &sock, &json)) >= 0)
    return rc;
  if ((rc = submit_read(&b, argv[optind])) < 0) {
    rt_errorf("fatal: unable to read %s: %s", argv[optind], crl_strerror(rc));
    crl_buf_close(&b);
    return RT_EXIT_USAGE;
  }
  rt_client_init(&c, sock);
  rc = submit_send(&c, argv[optind], &b, json);
  rt_client_close(&c);
  crl_buf_close(&b);
  return rc;
}

const struct rt_cmd rt_cmd_submit = {
    "submit", "submit FILE", "send a mission to the daemon", submit_exec};
