/*
 * corral daemon: runs missions submitted over the control socket (HTTP/1.1
 * and JSON on a Unix socket, mode 0600, peers checked with SO_PEERCRED).
 * systemd: Type=notify readiness through $NOTIFY_SOCKET (one datagram, no
 * libsystemd) and socket activation through $LISTEN_FDS/$LISTEN_PID
 * (examples/systemd/). SIGTERM or SIGINT stops it: agents keep running
 * under their shims unless --stop-agents, and the next daemon re-attaches
 * them. SIGHUP takes up missions again.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void daemon_usage(FILE *fp) {
  fputs("usage: corral daemon [--socket PATH] [--state-dir DIR] [--group "
        "NAME]\n"
        "                     [--jobs N] [--stop-agents]\n\n"
        "Serves the control socket (default $XDG_RUNTIME_DIR/corral/"
        "corral.sock)\nand runs the missions submitted to it. Clients: corral "
        "submit, ls, show,\nlogs -f, events -f, approve, reject, pause, "
        "resume, cancel; or\ncurl --unix-socket SOCKET http://corral/v1/"
        "health.\n",
        fp);
}

static int daemon_group(struct rt_daemon_opts *o, const char *name) {
  struct group *g = getgrnam(name);

  if (g == NULL)
    return rt_errorf("--group: no group '%s'", name), -1;
  o->allow_gid = 1;
  o->gid = g->gr_gid;
  return 0;
}

static int daemon_parse(struct rt_daemon_opts *o, int argc, char **argv) {
  static const struct option opts[] = {{"socket", required_argument, 0, 'S'},
                                       {"state-dir", required_argument, 0, 's'},
                                       {"group", required_argument, 0, 'g'},
                                       {"jobs", required_argument, 0, 'j'},
                                       {"stop-agents", no_argument, 0, 'k'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  char *end;
  int c;

  while ((c = getopt_long(argc, argv, "S:s:g:j:kh", opts, NULL)) != -1) {
    if (c == 'S')
      o->socket_path = optarg;
    else if (c == 's')
      o->state_dir = optarg;
    else if (c == 'g' && daemon_group(o, optarg) < 0)
      return RT_EXIT_USAGE;
    else if (c == 'j' &&
             ((o->jobs = (int)strtol(optarg, &end, 10)) < 1 || *end))
      return rt_errorf("--jobs needs a positive integer"), RT_EXIT_USAGE;
    else if (c == 'k')
      o->stop_agents = 1;
    else if (c == 'h')
      return daemon_usage(stdout), RT_EXIT_OK;
    else if (c == '?')
      return daemon_usage(stderr), RT_EXIT_USAGE;
  }
  if (optind != argc)
    return daemon_usage(stderr), RT_EXIT_USAGE;
  return -1;
}

/* sd_notify(3)'s datagram, without libsystemd. */
static void daemon_notify(const char *msg) {
  const char *path = getenv("NOTIFY_SOCKET");
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  socklen_t len;
  int fd;

  if (path == NULL || (path[0] != '/' && path[0] != '@') ||
      strlen(path) >= sizeof(sa.sun_path))
    return;
  memcpy(sa.sun_path, path, strlen(path));
  if (sa.sun_path[0] == '@')
    sa.sun_path[0] = '\0';
  len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
  fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) <
      0)
    log_warn("sd_notify: %s", strerror(errno));
  close(fd);
}

/* systemd socket activation: our first passed fd, when meant for us. */
static int daemon_listen_fd(void) {
  const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

  if (pid == NULL || fds == NULL || atol(pid) != (long)getpid() ||
      atoi(fds) < 1)
    return -1;
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  fcntl(3, F_SETFD, FD_CLOEXEC);
  return 3;
}

static int daemon_exec(int argc, char **argv) {
  struct rt_daemon_opts o = {.listen_fd = -1};
  struct crl_err err = CRL_ERR_INIT;
  struct rt_daemon d;
  char *sock = NULL, ready[64];
  uv_loop_t loop;
  int rc;

  o.jobs = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if ((rc = daemon_parse(&o, argc, argv)) >= 0)
    return rc;
  /* A client that goes away while its reply or stream is being written
   * must cost the daemon an EPIPE on that connection, not its life (libuv
   * writes without MSG_NOSIGNAL). Shims reset every signal to SIG_DFL
   * before the agent starts, so agents still get SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  o.listen_fd = daemon_listen_fd();
  sock = rt_socket_path(o.socket_path);
  o.socket_path = sock;
  uv_loop_init(&loop);
  if (rt_daemon_init(&d, &loop, &o, &err) < 0) {
    rt_errorf("fatal: %s", err.msg);
    rc = RT_EXIT_FAILED;
  } else {
    log_info("listening on %s (state dir %s)",
             o.listen_fd >= 0 ? "the socket systemd passed" : sock,
             d.state_dir);
    snprintf(ready, sizeof(ready), "READY=1\nMAINPID=%ld", (long)getpid());
    daemon_notify(ready);
    rc = rt_daemon_run(&d);
    daemon_notify("STOPPING=1");
  }
  rt_daemon_close(&d);
  if (uv_loop_close(&loop) != 0)
    log_warn("loop closed with live handles");
  free(sock);
  return rc;
}

const struct rt_cmd rt_cmd_daemon = {
    "daemon", "daemon [--socket PATH] [--stop-agents]",
    "serve the control socket and run submitted missions", daemon_exec};
