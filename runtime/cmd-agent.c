/*
 * corral agent VERB: what an agent runs inside its sandbox to talk to
 * corral through $CORRAL_AGENT_SOCKET: heartbeat, progress, usage, a
 * question for a human (ask, which prints the answer) or an approval of an
 * action (request-approval, which exits 0 when approved and 1 when denied,
 * so `corral agent request-approval "rm -rf build" && rm -rf build` works).
 * One JSON object per line each way. A question first gets its id; if the
 * connection drops while waiting (the daemon restarted), the verb connects
 * again and waits by that id.
 */
#include "rt-int.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void agent_usage(FILE *fp) {
  fputs("usage: corral agent heartbeat\n"
        "       corral agent progress TEXT\n"
        "       corral agent usage JSON\n"
        "       corral agent ask [--timeout DUR] [--default TEXT] TEXT\n"
        "       corral agent request-approval [--timeout DUR] [--default "
        "approve|deny] TEXT\n"
        "       corral agent discover [--title T] --prompt P [--needs ID]... "
        "[--before ID]...\n\n"
        "Talks to corral from inside a run, through $CORRAL_AGENT_SOCKET.\n",
        fp);
}

static int agent_connect(void) {
  const char *path = getenv("CORRAL_AGENT_SOCKET");
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int fd;

  if (path == NULL || strlen(path) >= sizeof(sa.sun_path))
    return -EINVAL;
  memcpy(sa.sun_path, path, strlen(path));
  if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
    return -errno;
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    int rc = -errno;

    close(fd);
    return rc;
  }
  return fd;
}

static int agent_send(int fd, json_t *msg) {
  char *s = json_dumps(msg, JSON_COMPACT);
  size_t n = strlen(s), off = 0;
  ssize_t w = 0;

  s = xrealloc(s, n + 2);
  s[n++] = '\n';
  while (off < n && (w = write(fd, s + off, n - off)) > 0)
    off += (size_t)w;
  free(s);
  return off == n ? 0 : -EPIPE;
}

/* One reply line, or NULL at EOF. */
static json_t *agent_recv(int fd, struct crl_buf *in) {
  char buf[4096], *nl;
  ssize_t n;
  json_t *j;

  while ((nl = memchr(in->data ? in->data : "", '\n', in->len)) == NULL) {
    if ((n = read(fd, buf, sizeof(buf))) <= 0)
      return NULL;
    crl_buf_append(in, buf, (size_t)n);
  }
  j = json_loadb(in->data, (size_t)(nl - in->data), 0, NULL);
  crl_buf_consume(in, (size_t)(nl - in->data) + 1);
  return j;
}

/* After a dropped connection: connect again (for up to ten minutes) and
 * ask for question id again. */
static int agent_rewait(int *fd, int64_t id) {
  struct timespec ts = {0, 200 * 1000 * 1000};
  json_t *w;
  int rc;

  close(*fd);
  for (int i = 0; i < 3000; i++) {
    if ((*fd = agent_connect()) >= 0)
      break;
    nanosleep(&ts, NULL);
  }
  if (*fd < 0)
    return *fd;
  w = json_pack("{s:s, s:I}", "op", "wait", "id", (json_int_t)id);
  rc = agent_send(*fd, w);
  json_decref(w);
  return rc;
}

/* Sends msg (stolen) and returns the final reply, or NULL. */
static json_t *agent_call(json_t *msg) {
  struct crl_buf in;
  json_t *reply = NULL;
  int64_t id = 0;
  int fd = agent_connect();

  crl_buf_init(&in, 1 << 20);
  if (fd < 0 || agent_send(fd, msg) < 0) {
    rt_errorf("agent: cannot reach corral at $CORRAL_AGENT_SOCKET (%s)",
              fd < 0 ? crl_strerror(fd) : "write failed");
    goto out;
  }
  for (;;) {
    json_decref(reply);
    if ((reply = agent_recv(fd, &in)) == NULL) {
      crl_buf_reset(&in);
      if (id > 0 && agent_rewait(&fd, id) == 0)
        continue;
      rt_errorf("agent: corral closed the channel");
      break;
    }
    if (!json_is_true(json_object_get(reply, "pending")))
      break;
    id = json_integer_value(json_object_get(reply, "id"));
  }
out:
  if (fd >= 0)
    close(fd);
  crl_buf_close(&in);
  json_decref(msg);
  return reply;
}

static int agent_result(const char *verb, json_t *reply) {
  json_t *err = json_object_get(reply, "error");
  int rc = RT_EXIT_OK;

  if (reply == NULL)
    return RT_EXIT_FAILED;
  if (err != NULL) {
    rt_errorf("agent: %s: %s", json_string_value(json_object_get(err, "code")),
              json_string_value(json_object_get(err, "message")));
    rc = RT_EXIT_FAILED;
  } else if (strcmp(verb, "ask") == 0) {
    printf("%s\n", json_string_value(json_object_get(reply, "answer")) ?: "");
  } else if (strcmp(verb, "request-approval") == 0) {
    rc = json_is_true(json_object_get(reply, "approved")) ? 0 : 1;
    printf("%s\n", rc == 0 ? "approved" : "denied");
  } else if (strcmp(verb, "discover") == 0) {
    printf("%s\n", json_string_value(json_object_get(reply, "task")) ?: "");
  }
  fflush(stdout);
  if (json_is_true(json_object_get(reply, "expired")))
    rt_errorf("agent: no answer in time; the default was used");
  json_decref(reply);
  return rc;
}

struct agent_args {
  const char *timeout, *def, *title, *prompt;
  json_t *needs, *before;
};

static int agent_opts(struct agent_args *a, int argc, char **argv) {
  static const struct option opts[] = {{"timeout", required_argument, 0, 't'},
                                       {"default", required_argument, 0, 'd'},
                                       {"title", required_argument, 0, 'T'},
                                       {"prompt", required_argument, 0, 'p'},
                                       {"needs", required_argument, 0, 'n'},
                                       {"before", required_argument, 0, 'b'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c;

  optind = 2;
  while ((c = getopt_long(argc, argv, "t:d:T:p:n:b:h", opts, NULL)) != -1) {
    if (c == 't')
      a->timeout = optarg;
    else if (c == 'd')
      a->def = optarg;
    else if (c == 'T')
      a->title = optarg;
    else if (c == 'p')
      a->prompt = optarg;
    else if (c == 'n')
      json_array_append_new(a->needs, json_string(optarg));
    else if (c == 'b')
      json_array_append_new(a->before, json_string(optarg));
    else
      return agent_usage(c == 'h' ? stdout : stderr), -1;
  }
  return 0;
}

/* The request for verb, or NULL (after a message) when the args are bad. */
static json_t *agent_request(const char *verb, struct agent_args *a,
                             const char *arg) {
  int64_t ms = 0;

  if (a->timeout != NULL && crl_duration_parse(&ms, a->timeout) < 0)
    return rt_errorf("agent: bad --timeout '%s'", a->timeout), NULL;
  if (strcmp(verb, "heartbeat") == 0)
    return json_pack("{s:s}", "op", verb);
  if (strcmp(verb, "discover") == 0)
    return a->prompt ? json_pack("{s:s, s:s?, s:s, s:O, s:O}", "op", verb,
                                 "title", a->title, "prompt", a->prompt,
                                 "needs", a->needs, "before", a->before)
                     : (rt_errorf("agent: discover needs --prompt"), NULL);
  if (arg == NULL)
    return rt_errorf("agent: %s needs an argument", verb), NULL;
  if (strcmp(verb, "usage") == 0)
    return json_pack("{s:s, s:o}", "op", verb, "usage",
                     json_loads(arg, 0, NULL) ?: json_string(arg));
  if (strcmp(verb, "progress") == 0)
    return json_pack("{s:s, s:s}", "op", verb, "text", arg);
  if (strcmp(verb, "ask") == 0 || strcmp(verb, "request-approval") == 0)
    return json_pack("{s:s, s:s, s:I, s:s?}", "op", verb, "text", arg,
                     "timeout_ms", (json_int_t)ms, "default", a->def);
  return rt_errorf("agent: unknown verb '%s'", verb), NULL;
}

static int agent_exec(int argc, char **argv) {
  struct agent_args a = {.needs = json_array(), .before = json_array()};
  const char *verb = argc > 1 ? argv[1] : NULL;
  json_t *req;
  int rc;

  if (verb == NULL || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
    json_decref(a.needs), json_decref(a.before);
    return agent_usage(verb ? stdout : stderr),
           verb ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (agent_opts(&a, argc, argv) < 0 ||
      (req = agent_request(verb, &a, optind < argc ? argv[optind] : NULL)) ==
          NULL) {
    json_decref(a.needs), json_decref(a.before);
    return RT_EXIT_USAGE;
  }
  if (getenv("CORRAL_AGENT_SOCKET") == NULL) {
    json_decref(a.needs), json_decref(a.before);
    json_decref(req);
    rt_errorf("agent: not inside a corral run ($CORRAL_AGENT_SOCKET is not "
              "set)");
    return RT_EXIT_USAGE;
  }
  rc = agent_result(verb, agent_call(req));
  json_decref(a.needs), json_decref(a.before);
  /* Inside the sandbox a sanitizer build's exit-time leak check cannot
   * stop the world (no ptrace) and would turn every verb into a failure:
   * this short-lived client leaves without running exit handlers. */
  fflush(stdout);
  fflush(stderr);
  _exit(rc);
}

const struct rt_cmd rt_cmd_agent = {
    "agent", "agent VERB ...",
    "talk to corral from inside a run (heartbeat, ask, ...)", agent_exec};
