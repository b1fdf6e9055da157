/*
 * The control socket's transport for the CLI: libcurl over the daemon's
 * Unix socket (CURLOPT_UNIX_SOCKET_PATH; the host name "corral" only fills
 * the Host header). A request's reply is collected whole into a bounded
 * buffer; a streamed one goes chunk by chunk to a callback until the
 * server ends it, the callback stops it, or no byte arrived for idle_ms.
 * Failing to connect, because the socket is missing or refuses, is
 * -ECONNREFUSED: the verbs then say to start the daemon.
 */
#include "client.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rt-int.h"

void rt_client_init(struct rt_client *c, const char *opt) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  c->socket = rt_socket_path(opt);
  c->curl = curl_easy_init();
  if (c->curl == NULL)
    abort(); /* out of memory, as xmalloc would */
}

void rt_client_close(struct rt_client *c) {
  if (c->curl != NULL)
    curl_easy_cleanup(c->curl);
  free(c->socket);
  c->curl = NULL;
  c->socket = NULL;
}

/* 0 when something accepts connections at path, else -errno. */
static int client_connect(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  int fd, rc;

  if (strlen(path) >= sizeof(sa.sun_path))
    return -ENAMETOOLONG;
  if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
    return -errno;
  memcpy(sa.sun_path, path, strlen(path));
  rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
  close(fd);
  return rc;
}

int rt_client_probe(const char *opt) {
  char *path = rt_socket_path(opt);
  int ok = client_connect(path) == 0;

  free(path);
  return ok;
}

char *rt_client_escape(const char *s) {
  char *e = curl_easy_escape(NULL, s, 0), *out;

  if (e == NULL)
    abort();
  out = xstrdup(e);
  curl_free(e);
  return out;
}

void rt_client_reply_close(struct rt_client_reply *r) {
  crl_buf_close(&r->body);
}

/* What a transfer in progress needs in libcurl's callbacks. */
struct client_xfer {
  CURL *curl;
  struct rt_client_reply *out;
  rt_client_data_cb cb; /* NULL: collect everything into out */
  void *payload;
  int stopped;  /* cb or the idle limit ended it */
  int idle_ms;  /* 0: no limit */
  int64_t last; /* monotonic ms of the last byte */
};

static size_t client_on_data(char *p, size_t size, size_t n, void *payload) {
  struct client_xfer *x = payload;
  long status = 0;

  x->last = crl_time_mono_ms();
  curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
  if (x->cb == NULL || status < 200 || status >= 300)
    return crl_buf_append(&x->out->body, p, n) < 0 ? 0 : n;
  if (x->cb(p, n, x->payload) != 0) {
    x->stopped = 1;
    return 0;
  }
  return n;
}

static int client_on_progress(void *payload, curl_off_t dt, curl_off_t dn,
                              curl_off_t ut, curl_off_t un) {
  struct client_xfer *x = payload;

  if (x->idle_ms <= 0 || crl_time_mono_ms() - x->last < x->idle_ms)
    return 0;
  x->stopped = 1;
  return 1;
}

static void client_setup(struct rt_client *c, struct client_xfer *x,
                         const char *url) {
  CURL *h = c->curl;

  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, client_on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, client_on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, x->idle_ms > 0 ? 0L : 1L);
}

/* Maps a finished transfer to our codes. */
static int client_result(struct rt_client *c, struct client_xfer *x,
                         CURLcode cc, struct crl_err *err) {
  if (cc == CURLE_OK)
    return curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->out->status),
           0;
  if (x->stopped)
    return curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->out->status),
           1;
  /* A socket we may not use is not a daemon that is down: say which. */
  if (cc == CURLE_COULDNT_CONNECT && client_connect(c->socket) == -EACCES)
    return crl_err_set(err, -EACCES, "unable to connect to %s: %s", c->socket,
                       strerror(EACCES));
  if (cc == CURLE_COULDNT_CONNECT)
    return crl_err_set(err, -ECONNREFUSED, "unable to connect to %s",
                       c->socket);
  if (cc == CURLE_WRITE_ERROR)
    return crl_err_set(err, CRL_ETOOBIG, "the reply is over %d bytes",
                       RT_CLIENT_BODY_MAX);
  return crl_err_set(err, CRL_EINTERNAL, "%s: %s", c->socket,
                     curl_easy_strerror(cc));
}

static int client_perform(struct rt_client *c, struct client_xfer *x,
                          struct curl_slist *hdrs, struct crl_err *err) {
  CURLcode cc;
  int rc;

  crl_buf_init(&x->out->body, RT_CLIENT_BODY_MAX);
  x->out->status = 0;
  x->curl = c->curl;
  x->last = crl_time_mono_ms();
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
  cc = curl_easy_perform(c->curl);
  rc = client_result(c, x, cc, err);
  curl_slist_free_all(hdrs);
  return rc;
}

int rt_client_request(struct rt_client *c, const char *method, const char *path,
                      const char *ctype, const char *body, size_t len,
                      struct rt_client_reply *out, struct crl_err *err) {
  struct client_xfer x = {.out = out};
  struct curl_slist *hdrs = NULL;
  char *url, *h;

  xasprintf(&url, "http://corral%s", path);
  client_setup(c, &x, url);
  curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
  if (body != NULL || strcmp(method, "POST") == 0) {
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)(body ? len : 0));
    xasprintf(&h, "Content-Type: %s", ctype ? ctype : "application/json");
    hdrs = curl_slist_append(hdrs, h);
    free(h);
  }
  /* No "Expect: 100-continue" round trip for our small bodies. */
  hdrs = curl_slist_append(hdrs, "Expect:");
  free(url);
  return client_perform(c, &x, hdrs, err);
}

int rt_client_stream(struct rt_client *c, const char *path, const char *header,
                     int idle_ms, rt_client_data_cb cb, void *payload,
                     struct rt_client_reply *out, struct crl_err *err) {
  struct client_xfer x = {
      .out = out, .cb = cb, .payload = payload, .idle_ms = idle_ms};
  struct curl_slist *hdrs = NULL;
  char *url;

  assert(cb != NULL);
  xasprintf(&url, "http://corral%s", path);
  client_setup(c, &x, url);
  if (header != NULL)
    hdrs = curl_slist_append(hdrs, header);
  free(url);
  return client_perform(c, &x, hdrs, err);
}

int rt_client_wanted(const char *state_dir, const char *socket) {
  return state_dir == NULL && (socket != NULL || rt_client_probe(NULL));
}

int rt_client_args(int argc, char **argv, int nargs, void (*usage)(FILE *fp),
                   const char **sock, int *json) {
  static const struct option opts[] = {{"socket", required_argument, 0, 'S'},
                                       {"json", no_argument, 0, 'J'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int ch;

  while ((ch = getopt_long(argc, argv, "S:h", opts, NULL)) != -1) {
    if (ch == 'S')
      *sock = optarg;
    else if (ch == 'J')
      *json = 1;
    else
      return usage(ch == 'h' ? stdout : stderr),
             ch == 'h' ? RT_EXIT_OK : RT_EXIT_USAGE;
  }
  if (argc - optind != nargs)
    return usage(stderr), RT_EXIT_USAGE;
  return -1;
}
