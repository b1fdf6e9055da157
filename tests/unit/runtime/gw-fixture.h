/*
 * Shared fixture for the gateway tests (and its benchmark): the fake LLM
 * provider (tests/fixtures/fake-provider) as a subprocess on 127.0.0.1 whose
 * port file is awaited with inotify (it is renamed into place once the
 * provider listens), a gateway on a
 * private loop in its own thread serving one listener made here on
 * 127.0.0.1:0, and a blocking libcurl client in the test thread. Records
 * handed to on_call are copied under a mutex and counted with a semaphore,
 * so tests wait for them without sleeping. The loop is stopped through a
 * uv_async_t, then uv_loop_close() must return 0.
 */
#ifndef GW_FIXTURE_H
#define GW_FIXTURE_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"

#define GW_REAL_KEY "sk-real-test-key-0123456789"
#define GW_PLACEHOLDER "corral-placeholder-key"
#define GW_MAX_RECS 64

extern char **environ;

struct gw_rec {
  struct rt_gw_call c; /* strings below replace the borrowed ones */
  char model[128];
  char error[256];
  char run_id[64];
};

struct gw_fx {
  char dir[64];
  char log[128];
  pid_t provider_pid;
  int provider_port;
  int gw_port;
  uv_loop_t loop;
  uv_thread_t thread;
  uv_async_t stop;
  struct rt_gw *gw;
  struct rt_gw_listener *l;
  const struct rt_gw_run *run2; /* when set: a second listener, gw_port2 */
  struct rt_gw_listener *l2;
  int gw_port2;
  struct rt_price_table *pricing;
  uv_mutex_t mu;
  uv_sem_t sem;
  uv_sem_t budget_sem; /* posted when on_budget has returned its work */
  struct gw_rec recs[GW_MAX_RECS];
  int nrecs;
  int budget_what;
  int budget_fired;
  int unlisten_on_budget; /* on_budget closes the listener */
  int closed;
};

static struct gw_fx fx;

static double fx_now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The port in the provider's port file, or 0 while there is none. */
static int fx_port_file(const char *path) {
  FILE *f = fopen(path, "r");
  int port = 0;

  if (f != NULL) {
    if (fscanf(f, "%d", &port) != 1)
      port = 0;
    fclose(f);
  }
  return port;
}

/* Starts the fake provider with the scenario and extra arguments (NULL
 * terminated) and waits for its port file (written by rename once it
 * listens) with inotify. */
static int fx_provider_start(const char *scenario, const char *const *extra) {
  const char *argv[32];
  char script[512], port_file[128], ev[4096];
  posix_spawn_file_actions_t fa;
  int n = 0, ino;

  snprintf(script, sizeof(script), "%s/scenarios/%s", FAKE_PROVIDER_DIR,
           scenario);
  snprintf(port_file, sizeof(port_file), "%s/port", fx.dir);
  argv[n++] = "python3";
  argv[n++] = FAKE_PROVIDER_DIR "/fake-provider.py";
  argv[n++] = "--script";
  argv[n++] = script;
  argv[n++] = "--log";
  argv[n++] = fx.log;
  argv[n++] = "--port-file";
  argv[n++] = port_file;
  argv[n++] = "--idle-timeout";
  argv[n++] = "60";
  argv[n++] = "--public-key";
  argv[n++] = GW_REAL_KEY; /* logged verbatim; anything else is masked */
  for (int i = 0; extra != NULL && extra[i] != NULL; i++)
    argv[n++] = extra[i];
  argv[n] = NULL;
  if ((ino = inotify_init1(IN_CLOEXEC)) < 0 ||
      inotify_add_watch(ino, fx.dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
    return -1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (posix_spawnp(&fx.provider_pid, "python3", &fa, NULL, (char **)argv,
                   environ) != 0)
    return -1;
  posix_spawn_file_actions_destroy(&fa);
  while ((fx.provider_port = fx_port_file(port_file)) == 0)
    if (read(ino, ev, sizeof(ev)) <= 0)
      break;
  close(ino);
  return fx.provider_port > 0 ? 0 : -1;
}

static void fx_provider_stop(void) {
  if (fx.provider_pid <= 0)
    return;
  kill(fx.provider_pid, SIGTERM);
  waitpid(fx.provider_pid, NULL, 0);
  fx.provider_pid = 0;
}

static void fx_on_call(const struct rt_gw_run *run,
                       const struct rt_gw_call *call, void *payload) {
  struct gw_rec *r;

  uv_mutex_lock(&fx.mu);
  if (fx.nrecs < GW_MAX_RECS) {
    r = &fx.recs[fx.nrecs++];
    r->c = *call;
    snprintf(r->model, sizeof(r->model), "%s", call->model ? call->model : "");
    snprintf(r->error, sizeof(r->error), "%s", call->error ? call->error : "");
    snprintf(r->run_id, sizeof(r->run_id), "%s",
             run->run_id ? run->run_id : "");
    r->c.model = r->model;
    r->c.error = r->error;
    r->c.method = r->c.path = NULL;
    r->c.request_body = r->c.response_body = NULL;
  }
  uv_mutex_unlock(&fx.mu);
  uv_sem_post(&fx.sem);
}

static void fx_on_budget(const struct rt_gw_run *run,
                         enum rt_gw_budget_kind what, void *payload) {
  uv_mutex_lock(&fx.mu);
  fx.budget_what = (int)what;
  fx.budget_fired++;
  uv_mutex_unlock(&fx.mu);
  if (fx.unlisten_on_budget) {
    rt_gw_unlisten(fx.l); /* as the runtime stopping the run would */
    fx.l = NULL;
  }
  uv_sem_post(&fx.budget_sem);
}

/* Waits until n records have arrived in total; returns a copy of record i
 * (0-based). */
static struct gw_rec fx_rec(int i) {
  struct gw_rec r;

  for (;;) {
    uv_mutex_lock(&fx.mu);
    if (fx.nrecs > i) {
      r = fx.recs[i];
      uv_mutex_unlock(&fx.mu);
      return r;
    }
    uv_mutex_unlock(&fx.mu);
    uv_sem_wait(&fx.sem);
  }
}

static int fx_listen_socket(int *port) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t len = sizeof(sa);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(fd, 128) < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
    return -1;
  *port = ntohs(sa.sin_port);
  return fd;
}

static void fx_loop_thread(void *arg) {
  uv_run(&fx.loop, UV_RUN_DEFAULT);
}

static void fx_gw_closed(void *payload) {
  fx.closed = 1;
}

static void fx_stop_cb(uv_async_t *a) {
  rt_gw_close(fx.gw, fx_gw_closed, NULL);
  uv_close((uv_handle_t *)a, NULL);
}

/* The default options: every provider upstream at the fake provider. */
static void fx_opts(struct rt_gw_opts *opts) {
  static char base[64];

  snprintf(base, sizeof(base), "http://127.0.0.1:%d", fx.provider_port);
  for (int p = 0; p < RT_GW_NPROVIDERS; p++) {
    opts->upstream[p].base_url = base;
    opts->upstream[p].api_key = GW_REAL_KEY;
  }
  opts->pricing = fx.pricing;
  opts->on_call = fx_on_call;
  opts->on_budget = fx_on_budget;
}

/* Starts the gateway with opts and one listener for run. */
static void fx_gw_start(const struct rt_gw_opts *opts,
                        const struct rt_gw_run *run) {
  struct crl_err err = CRL_ERR_INIT;
  int fd;

  cr_assert_eq(uv_loop_init(&fx.loop), 0);
  cr_assert_eq(rt_gw_new(&fx.gw, &fx.loop, opts, &err), 0, "%s", err.msg);
  fd = fx_listen_socket(&fx.gw_port);
  cr_assert(fd >= 0);
  cr_assert_eq(rt_gw_listen_fd(&fx.l, fx.gw, fd, run, &err), 0, "%s", err.msg);
  if (fx.run2 != NULL) {
    fd = fx_listen_socket(&fx.gw_port2);
    cr_assert_eq(rt_gw_listen_fd(&fx.l2, fx.gw, fd, fx.run2, &err), 0, "%s",
                 err.msg);
  }
  cr_assert_eq(uv_async_init(&fx.loop, &fx.stop, fx_stop_cb), 0);
  cr_assert_eq(uv_thread_create(&fx.thread, fx_loop_thread, NULL), 0);
}

static void fx_gw_stop(void) {
  uv_async_send(&fx.stop);
  uv_thread_join(&fx.thread);
  cr_assert(fx.closed, "the gateway's close callback did not run");
  cr_assert_eq(uv_loop_close(&fx.loop), 0);
}

static void fx_setup(void) {
  struct crl_err err = CRL_ERR_INIT;

  memset(&fx, 0, sizeof(fx));
  strcpy(fx.dir, "/tmp/corral-gw-XXXXXX");
  cr_assert_not_null(mkdtemp(fx.dir));
  snprintf(fx.log, sizeof(fx.log), "%s/requests.jsonl", fx.dir);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  signal(SIGPIPE, SIG_IGN);
  uv_mutex_init(&fx.mu);
  uv_sem_init(&fx.sem, 0);
  uv_sem_init(&fx.budget_sem, 0);
  fx.pricing = rt_price_table_new();
  cr_assert_eq(rt_price_table_load(fx.pricing, PRICING_PATH, &err), 0, "%s",
               err.msg);
}

static void fx_teardown(void) {
  char cmd[128];

  fx_provider_stop();
  rt_price_table_free(fx.pricing);
  uv_sem_destroy(&fx.sem);
  uv_sem_destroy(&fx.budget_sem);
  uv_mutex_destroy(&fx.mu);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
  cr_assert_eq(system(cmd), 0);
}

/* One client exchange. */
struct gw_resp {
  long status;
  char body[64 * 1024];
  size_t len;
  double t0_ms;
  double first_ms; /* first body byte, from the start; -1 when none */
  double total_ms;
};

static size_t fx_write(char *data, size_t size, size_t n, void *userp) {
  struct gw_resp *r = userp;
  size_t len = size * n;

  if (r->first_ms < 0)
    r->first_ms = fx_now_ms() - r->t0_ms;
  if (len > sizeof(r->body) - 1 - r->len)
    len = sizeof(r->body) - 1 - r->len;
  memcpy(r->body + r->len, data, len);
  r->len += len;
  r->body[r->len] = '\0';
  return size * n;
}

/* Sends method path (with query) to port with the NULL-terminated header
 * list and body (NULL: none). */
static void fx_request(struct gw_resp *r, int port, const char *method,
                       const char *path, const char *const *headers,
                       const char *body) {
  CURL *e = curl_easy_init();
  struct curl_slist *sl = NULL;
  char url[1024];

  memset(r, 0, sizeof(*r));
  r->first_ms = -1;
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
  for (int i = 0; headers != NULL && headers[i] != NULL; i++)
    sl = curl_slist_append(sl, headers[i]);
  sl = curl_slist_append(sl, "Content-Type: application/json");
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fx_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
  if (strcmp(method, "HEAD") == 0)
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  else if (body != NULL)
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
  r->t0_ms = fx_now_ms();
  cr_assert_eq(curl_easy_perform(e), CURLE_OK, "%s %s", method, url);
  r->total_ms = fx_now_ms() - r->t0_ms;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(sl);
  curl_easy_cleanup(e);
}

/* The fake provider's request log as one string ("" when absent). */
static char *fx_read_log(void) {
  FILE *f = fopen(fx.log, "r");
  char *buf = calloc(1, 4 * 1024 * 1024);
  size_t n = 0;

  if (f != NULL) {
    n = fread(buf, 1, 4 * 1024 * 1024 - 1, f);
    fclose(f);
  }
  buf[n] = '\0';
  return buf;
}

static int fx_count_lines(const char *s) {
  int n = 0;

  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* The request log once it holds at least n lines: the fake provider writes
 * a line after it has answered, so the test waits for the write with
 * inotify rather than racing it. Free the result. */
static char *fx_log_wait(int n) {
  int ino = inotify_init1(IN_CLOEXEC);
  char ev[4096], *log;

  cr_assert(ino >= 0);
  cr_assert(inotify_add_watch(ino, fx.dir, IN_MODIFY | IN_CREATE) >= 0);
  while (fx_count_lines(log = fx_read_log()) < n) {
    free(log);
    cr_assert(read(ino, ev, sizeof(ev)) > 0);
  }
  close(ino);
  return log;
}

#endif
