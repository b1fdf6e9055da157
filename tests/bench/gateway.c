/*
 * gateway-bench: what the LLM gateway adds to a streamed LLM call.
 *
 * Starts the fake provider (tests/fixtures/fake-provider, no chunk delay)
 * and a gateway on its own loop thread whose upstreams point at it, then
 * sends --requests streamed Anthropic Messages calls (an 11-event SSE
 * answer) directly to the provider and the same number through the
 * gateway, interleaved one by one with the order flipping every round, so
 * that both paths share the noise. Each path keeps one keep-alive
 * connection (one libcurl easy handle), as the agent CLIs do; the gateway
 * keeps its own upstream connection in libcurl's multi handle. Each call
 * is timed from curl_easy_perform to its return (total) and to the first
 * body byte (ttfb). After --warmup unrecorded rounds it prints p50, p90,
 * mean and min per path and ends with
 *
 *   RESULT gateway direct_ms=<p50> via_ms=<p50> overhead_ms=<via-direct>
 *          ttfb_overhead_ms=<p50 ttfb via - p50 ttfb direct>
 *
 * (one line). It checks that every answer ended with message_stop and that
 * the gateway recorded the exact usage of every call; it asserts nothing
 * about the figures.
 */
#include <curl/curl.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
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

extern char **environ;

#define BODY                                                                 \
  "{\"model\":\"local-model\",\"max_tokens\":100,\"stream\":true,\"tools\":" \
  "[{\"name\":\"Bash\",\"input_schema\":{}}],\"messages\":[{\"role\":"       \
  "\"user\",\"content\":\"hi\"},{\"role\":\"user\",\"content\":[{\"type\":"  \
  "\"tool_result\",\"tool_use_id\":\"t\",\"content\":\"ok\"}]}]}"

struct bench {
  const char *provider_dir;
  int requests;
  int warmup;
  char dir[64];
  pid_t provider_pid;
  int provider_port;
  int gw_port;
  uv_loop_t loop;
  uv_thread_t thread;
  uv_async_t stop;
  struct rt_gw *gw;
  struct rt_gw_listener *l;
  /* Written on the loop thread, read after it is joined. */
  long calls;
  long exact;
};

static struct bench B;

static double now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "gateway-bench: fatal: %s\n", what);
  if (B.provider_pid > 0)
    kill(B.provider_pid, SIGTERM);
  exit(1);
}

static int read_port(const char *path) {
  FILE *f = fopen(path, "r");
  int port = 0;

  if (f != NULL) {
    if (fscanf(f, "%d", &port) != 1)
      port = 0;
    fclose(f);
  }
  return port;
}

/* Starts the provider and waits for its port file with inotify. */
static void provider_start(void) {
  char script[512], port_file[128], ev[4096], prog[512];
  posix_spawn_file_actions_t fa;
  int ino;

  snprintf(prog, sizeof(prog), "%s/fake-provider.py", B.provider_dir);
  snprintf(script, sizeof(script), "%s/scenarios/write-file.json",
           B.provider_dir);
  snprintf(port_file, sizeof(port_file), "%s/port", B.dir);
  const char *argv[] = {"python3",        prog,          "--script",
                        script,           "--port-file", port_file,
                        "--idle-timeout", "120",         NULL};
  if ((ino = inotify_init1(IN_CLOEXEC)) < 0 ||
      inotify_add_watch(ino, B.dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
    die("inotify");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (posix_spawnp(&B.provider_pid, "python3", &fa, NULL, (char **)argv,
                   environ) != 0)
    die("cannot start python3");
  posix_spawn_file_actions_destroy(&fa);
  while ((B.provider_port = read_port(port_file)) == 0)
    if (read(ino, ev, sizeof(ev)) <= 0)
      die("waiting for the provider's port file");
  close(ino);
}

static void on_call(const struct rt_gw_run *run, const struct rt_gw_call *c,
                    void *payload) {
  B.calls++;
  B.exact += c->status == 200 && c->usage.input == 1300 &&
             c->usage.output == 12 && c->usage.cache_read == 400;
}

static void loop_thread(void *arg) {
  uv_run(&B.loop, UV_RUN_DEFAULT);
}

static void stop_cb(uv_async_t *a) {
  rt_gw_close(B.gw, NULL, NULL);
  uv_close((uv_handle_t *)a, NULL);
}

static int listen_socket(int *port) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t len = sizeof(sa);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(fd, 128) < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
    die("listening socket");
  *port = ntohs(sa.sin_port);
  return fd;
}

static void gateway_start(void) {
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;
  struct rt_gw_run run = {.run_id = "bench"};
  struct crl_err err = CRL_ERR_INIT;
  static char base[64];

  snprintf(base, sizeof(base), "http://127.0.0.1:%d", B.provider_port);
  for (int p = 0; p < RT_GW_NPROVIDERS; p++) {
    opts.upstream[p].base_url = base;
    opts.upstream[p].api_key = "sk-bench";
  }
  opts.on_call = on_call;
  if (uv_loop_init(&B.loop) < 0 || rt_gw_new(&B.gw, &B.loop, &opts, &err) < 0)
    die(err.msg);
  if (rt_gw_listen_fd(&B.l, B.gw, listen_socket(&B.gw_port), &run, &err) < 0)
    die(err.msg);
  uv_async_init(&B.loop, &B.stop, stop_cb);
  uv_thread_create(&B.thread, loop_thread, NULL);
}

struct client {
  CURL *easy;
  struct curl_slist *hdrs;
  double t0, first;
  char tail[32]; /* last bytes of the answer */
};

static size_t on_write(char *data, size_t size, size_t n, void *userp) {
  struct client *c = userp;
  size_t len = size * n, keep = sizeof(c->tail) - 1;

  if (c->first < 0)
    c->first = now_ms() - c->t0;
  if (len >= keep) {
    memcpy(c->tail, data + len - keep, keep);
    c->tail[keep] = '\0';
  } else {
    size_t old = strlen(c->tail);
    size_t drop = old + len > keep ? old + len - keep : 0;
    memmove(c->tail, c->tail + drop, old - drop);
    memcpy(c->tail + old - drop, data, len);
    c->tail[old - drop + len] = '\0';
  }
  return len;
}

static void client_init(struct client *c, int port) {
  char url[128];

  snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/messages", port);
  c->easy = curl_easy_init();
  c->hdrs = curl_slist_append(NULL, "x-api-key: corral-placeholder-key");
  c->hdrs = curl_slist_append(c->hdrs, "Content-Type: application/json");
  c->hdrs = curl_slist_append(c->hdrs, "anthropic-version: 2023-06-01");
  curl_easy_setopt(c->easy, CURLOPT_URL, url);
  curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->hdrs);
  curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, BODY);
  curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, 30L);
}

/* One call; returns its total ms and sets *ttfb. */
static double client_call(struct client *c, double *ttfb) {
  long status = 0;
  double total;

  c->first = -1;
  c->tail[0] = '\0';
  c->t0 = now_ms();
  if (curl_easy_perform(c->easy) != CURLE_OK)
    die("a call failed");
  total = now_ms() - c->t0;
  curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200 || strstr(c->tail, "message_stop") == NULL)
    die("an answer was not a complete stream");
  *ttfb = c->first;
  return total;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

struct stats {
  double p50, p90, mean, min;
};

static struct stats stats_of(double *v, int n) {
  struct stats s = {0};
  double sum = 0;

  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  for (int i = 0; i < n; i++)
    sum += v[i];
  s.p50 = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.p90 = v[(int)(n * 0.9)];
  s.mean = sum / n;
  s.min = v[0];
  return s;
}

static void usage(void) {
  fprintf(stderr, "usage: gateway-bench [--requests N] [--warmup N] "
                  "[--fake-provider DIR]\n");
  exit(2);
}

static void parse_args(int argc, char **argv) {
  static const struct option longopts[] = {
      {"requests", required_argument, NULL, 'n'},
      {"warmup", required_argument, NULL, 'w'},
      {"fake-provider", required_argument, NULL, 'p'},
      {NULL, 0, NULL, 0}};
  int c;

  B.requests = 2000;
  B.warmup = 50;
  B.provider_dir = FAKE_PROVIDER_DIR;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (c == 'n')
      B.requests = atoi(optarg);
    else if (c == 'w')
      B.warmup = atoi(optarg);
    else if (c == 'p')
      B.provider_dir = optarg;
    else
      usage();
  }
  if (B.requests < 2 || B.warmup < 0)
    usage();
}

static void print_stats(const char *name, const char *what, struct stats s) {
  printf("%-7s %-6s p50 %7.3f  p90 %7.3f  mean %7.3f  min %7.3f ms\n", name,
         what, s.p50, s.p90, s.mean, s.min);
}

int main(int argc, char **argv) {
  struct client direct = {0}, via = {0};
  double *dt, *vt, *df, *vf;
  struct stats sd, sv, sdf, svf;
  int n;

  parse_args(argc, argv);
  n = B.requests;
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  strcpy(B.dir, "/tmp/corral-gw-bench-XXXXXX");
  if (mkdtemp(B.dir) == NULL)
    die("mkdtemp");
  provider_start();
  gateway_start();
  client_init(&direct, B.provider_port);
  client_init(&via, B.gw_port);
  dt = calloc((size_t)n, sizeof(double));
  vt = calloc((size_t)n, sizeof(double));
  df = calloc((size_t)n, sizeof(double));
  vf = calloc((size_t)n, sizeof(double));
  for (int i = -B.warmup; i < n; i++) {
    double d, v, dtf, vtf;
    if (i % 2 == 0) {
      d = client_call(&direct, &dtf);
      v = client_call(&via, &vtf);
    } else {
      v = client_call(&via, &vtf);
      d = client_call(&direct, &dtf);
    }
    if (i < 0)
      continue;
    dt[i] = d, vt[i] = v, df[i] = dtf, vf[i] = vtf;
  }
  uv_async_send(&B.stop);
  uv_thread_join(&B.thread);
  if (uv_loop_close(&B.loop) != 0)
    die("uv_loop_close: handles left open");
  kill(B.provider_pid, SIGTERM);
  waitpid(B.provider_pid, NULL, 0);
  rmdir(B.dir);
  if (B.calls != n + B.warmup || B.exact != B.calls)
    die("the gateway did not record the exact usage of every call");
  sd = stats_of(dt, n), sv = stats_of(vt, n);
  sdf = stats_of(df, n), svf = stats_of(vf, n);
  printf("gateway-bench: %d streamed Anthropic calls each way (11 SSE events, "
         "keep-alive), %d warm-up rounds; usage exact on all %ld gateway "
         "calls\n",
         n, B.warmup, B.calls);
  print_stats("direct", "total", sd);
  print_stats("via", "total", sv);
  print_stats("direct", "ttfb", sdf);
  print_stats("via", "ttfb", svf);
  printf("RESULT gateway direct_ms=%.3f via_ms=%.3f overhead_ms=%.3f "
         "ttfb_overhead_ms=%.3f\n",
         sd.p50, sv.p50, sv.p50 - sd.p50, svf.p50 - sdf.p50);
  curl_easy_cleanup(direct.easy);
  curl_easy_cleanup(via.easy);
  curl_slist_free_all(direct.hdrs);
  curl_slist_free_all(via.hdrs);
  free(dt), free(vt), free(df), free(vf);
  return 0;
}
