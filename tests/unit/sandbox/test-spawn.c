/*
 * sbx_spawn end to end: small shell commands run in the agent profile and
 * what they print and how they exit show the sandbox from inside. Host
 * state is checked from outside, not only the command's errno. Runs as
 * root and as an unprivileged user alike.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbx-int.h"

static char workdir[64];
static char outside[64];

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  return remove(path);
}

static void dirs_setup(void) {
  strcpy(workdir, "/tmp/sbx-test-XXXXXX");
  strcpy(outside, "/tmp/sbx-outside-XXXXXX");
  cr_assert_not_null(mkdtemp(workdir));
  cr_assert_not_null(mkdtemp(outside));
}

static void dirs_teardown(void) {
  nftw(workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  nftw(outside, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(sbx_spawn, .init = dirs_setup, .fini = dirs_teardown, .timeout = 20);

struct run {
  int rc;     /* sbx_spawn's */
  int status; /* exit code, or 128+signal */
  char out[8192];
  struct crl_err err;
  struct sbx_plan *plan; /* freed once the run is over (run_wait): it
                            holds the run's cgroup v1 leaves, if any */
};

static char *const run_env[] = {"PATH=/usr/bin:/bin", "HOME=/home/agent", NULL};

/* Reads the command's stdout until every writer is gone. */
static void run_read(int fd, struct run *r) {
  size_t n = 0;
  ssize_t k;

  while (n < sizeof(r->out) - 1 &&
         (k = read(fd, r->out + n, sizeof(r->out) - 1 - n)) > 0)
    n += (size_t)k;
  r->out[n] = '\0';
}

static int run_wait(struct run *r, pid_t pid) {
  int st;

  cr_assert_eq(waitpid(pid, &st, 0), pid);
  sbx_plan_free(r->plan);
  r->plan = NULL;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Starts argv in profile p with the command's stdout on *outfd. */
static pid_t run_start_p(struct run *r, const struct sbx_profile *p,
                         char *const argv[], const struct sbx_opts *o,
                         int *outfd) {
  struct sbx_plan *plan = NULL;
  int pfd[2], saved;
  pid_t pid = -1;

  memset(r, 0, sizeof(*r));
  r->rc = sbx_plan_new(&plan, p, o, &r->err);
  cr_assert_eq(r->rc, 0, "plan: %s", r->err.msg);
  cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
  saved = dup(1);
  dup2(pfd[1], 1);
  r->rc = sbx_spawn(&pid, plan, argv, run_env, &r->err);
  dup2(saved, 1);
  close(saved);
  close(pfd[1]);
  if (r->rc == 0)
    r->plan = plan;
  else
    sbx_plan_free(plan);
  *outfd = pfd[0];
  return pid;
}

static pid_t run_start(struct run *r, const char *profile, char *const argv[],
                       const struct sbx_opts *o, int *outfd) {
  struct sbx_profile p;
  pid_t pid;

  cr_assert_eq(sbx_profile_builtin(&p, profile), 0);
  pid = run_start_p(r, &p, argv, o, outfd);
  sbx_profile_close(&p);
  return pid;
}

/* Runs argv to the end; r->rc < 0 when sbx_spawn refused. */
static void run_argv(struct run *r, const char *profile, char *const argv[],
                     const struct sbx_opts *o) {
  int fd;
  pid_t pid = run_start(r, profile, argv, o, &fd);

  run_read(fd, r);
  close(fd);
  if (r->rc == 0)
    r->status = run_wait(r, pid);
}

static void run_sh(struct run *r, const char *profile, const char *script) {
  char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
  struct sbx_opts o = SBX_OPTS_INIT;

  o.workdir = workdir;
  run_argv(r, profile, argv, &o);
  cr_assert_eq(r->rc, 0, "spawn: %s", r->err.msg);
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "w");

  cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
  fputs(text, fp);
  fclose(fp);
}

static void read_file(const char *path, char *buf, size_t len) {
  FILE *fp = fopen(path, "r");
  size_t n;

  cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
  n = fread(buf, 1, len - 1, fp);
  buf[n] = '\0';
  fclose(fp);
}

Test(sbx_spawn, uid_and_gid_inside_are_the_callers) {
  char want[64];
  struct run r;

  run_sh(&r, "agent", "id -u; id -g");
  snprintf(want, sizeof(want), "%u\n%u\n", (unsigned)geteuid(),
           (unsigned)getegid());
  cr_assert_str_eq(r.out, want);
  cr_assert_eq(r.status, 0);
}

/* pid 1 is our init, under a neutral name and command line rather than
 * the caller's. */
Test(sbx_spawn, pid_1_is_our_init) {
  struct run r;

  run_sh(&r, "agent",
         "cat /proc/1/comm; head -c 200 /proc/1/cmdline | "
         "tr '\\0' '\\n'; echo $$");
  cr_assert_str_eq(r.out, "corral-init\ncorral-init\n2\n");
}

Test(sbx_spawn, writes_outside_the_workdir_do_not_reach_the_host) {
  char host[128], buf[64], script[512];
  struct run r;

  snprintf(host, sizeof(host), "%s/f", outside);
  write_file(host, "orig\n");
  snprintf(script, sizeof(script),
           "echo evil > %s; echo $?; touch /usr/corral-probe; echo $?; "
           "echo evil > ../corral-escape; echo evil > /etc/passwd; echo $?",
           host);
  run_sh(&r, "agent", script);
  cr_assert_str_eq(r.out, "2\n1\n2\n", "%s", r.out);
  read_file(host, buf, sizeof(buf));
  cr_assert_str_eq(buf, "orig\n");
  cr_assert_neq(access("/usr/corral-probe", F_OK), 0);
  cr_assert_neq(access("/tmp/corral-escape", F_OK), 0);
}

Test(sbx_spawn, writes_in_the_workdir_reach_the_host) {
  char path[128], buf[64];
  struct run r;

  run_sh(&r, "agent", "echo made-inside > out.txt && pwd");
  snprintf(path, sizeof(path), "%s/out.txt", workdir);
  read_file(path, buf, sizeof(buf));
  cr_assert_str_eq(buf, "made-inside\n");
  cr_assert(strncmp(r.out, workdir, strlen(workdir)) == 0, "%s", r.out);
}

Test(sbx_spawn, home_is_an_empty_tmpfs) {
  struct run r;

  run_sh(&r, "agent",
         "echo $HOME; ls -A \"$HOME\" | wc -l; "
         "ls /root /run /var 2>/dev/null | wc -l");
  cr_assert_str_eq(r.out, "/home/agent\n0\n0\n", "%s", r.out);
}

Test(sbx_spawn, only_lo_exists) {
  struct run r;

  run_sh(&r, "agent", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
  cr_assert_str_eq(r.out, "lo\n", "%s", r.out);
}

Test(sbx_spawn, hostname_is_corral) {
  struct run r;

  run_sh(&r, "agent", "cat /proc/sys/kernel/hostname");
  cr_assert_str_eq(r.out, "corral\n");
}

Test(sbx_spawn, a_background_process_dies_with_the_command) {
  struct run r;

  /* The sleeper holds stdout: the read ends only once it is gone. */
  run_sh(&r, "agent", "sleep 1000 & echo started");
  cr_assert_str_eq(r.out, "started\n");
  cr_assert_eq(r.status, 0);
}

Test(sbx_spawn, exit_code_and_signal_propagate) {
  struct run r;

  run_sh(&r, "agent", "exit 7");
  cr_assert_eq(r.status, 7);
  run_sh(&r, "agent", "kill -TERM $$");
  cr_assert_eq(r.status, 128 + SIGTERM);
}

Test(sbx_spawn, init_forwards_sigterm_and_sigusr1_kills_all) {
  char *argv[] = {"/bin/sh", "-c",
                  "trap 'exit 3' TERM; echo ready; "
                  "while :; do sleep 0.05; done",
                  NULL};
  struct sbx_opts o = SBX_OPTS_INIT;
  struct run r;
  char buf[16];
  pid_t pid;
  int fd;

  o.workdir = workdir;
  pid = run_start(&r, "agent", argv, &o, &fd);
  cr_assert_eq(r.rc, 0, "%s", r.err.msg);
  cr_assert_eq(read(fd, buf, 6), 6);
  kill(pid, SIGTERM);
  cr_assert_eq(run_wait(&r, pid), 3);
  close(fd);
  argv[2] = "echo ready; sleep 1000";
  pid = run_start(&r, "agent", argv, &o, &fd);
  cr_assert_eq(read(fd, buf, 6), 6);
  kill(pid, SIGUSR1);
  cr_assert_eq(run_wait(&r, pid), 128 + SIGKILL);
  close(fd);
}

Test(sbx_spawn, a_missing_command_names_execve_and_enoent) {
  char *argv[] = {"corral-no-such-command", NULL};
  struct sbx_opts o = SBX_OPTS_INIT;
  struct run r;

  o.workdir = workdir;
  run_argv(&r, "agent", argv, &o);
  cr_assert_eq(r.rc, -ENOENT, "%d %s", r.rc, r.err.msg);
  cr_assert(strstr(r.err.msg, "execve corral-no-such-command") != NULL, "%s",
            r.err.msg);
}

Test(sbx_spawn, git_metadata_stays_readonly) {
  char path[128], buf[64];
  struct sbx_opts o = SBX_OPTS_INIT;
  char *argv[] = {"/bin/sh", "-c",
                  "echo evil >> .git/config; echo $?; "
                  "echo evil > .git/hooks/pre-commit; echo $?; "
                  "echo ok > .git/HEAD; echo $?",
                  NULL};
  struct run r;

  snprintf(path, sizeof(path), "%s/.git", workdir);
  cr_assert_eq(mkdir(path, 0755), 0);
  snprintf(path, sizeof(path), "%s/.git/config", workdir);
  write_file(path, "[core]\n");
  o.workdir = workdir;
  o.git_common = path;
  path[strlen(path) - strlen("/config")] = '\0';
  run_argv(&r, "agent", argv, &o);
  cr_assert_eq(r.rc, 0, "%s", r.err.msg);
  cr_assert_str_eq(r.out, "2\n2\n0\n", "%s", r.out);
  snprintf(path, sizeof(path), "%s/.git/config", workdir);
  read_file(path, buf, sizeof(buf));
  cr_assert_str_eq(buf, "[core]\n");
}

Test(sbx_spawn, profile_paths_are_writable_readonly_or_hidden) {
  char rw[128], ro[128], hid[128], hidfile[160], script[768], buf[160];
  char *wv[] = {rw, NULL}, *hv[] = {hid, hidfile, NULL}, *rv[64];
  char *argv[] = {"/bin/sh", "-c", script, NULL};
  struct sbx_opts o = SBX_OPTS_INIT;
  struct sbx_profile agent, p;
  struct run r;
  size_t n = 0;
  pid_t pid;
  int fd;

  snprintf(rw, sizeof(rw), "%s/rw", outside);
  snprintf(ro, sizeof(ro), "%s/ro", outside);
  snprintf(hid, sizeof(hid), "%s/hidden", workdir);
  snprintf(hidfile, sizeof(hidfile), "%s/hidden.txt", workdir);
  cr_assert_eq(mkdir(rw, 0755) | mkdir(ro, 0755) | mkdir(hid, 0755), 0);
  snprintf(buf, sizeof(buf), "%s/secret", hid);
  write_file(buf, "s3cret\n");
  write_file(hidfile, "s3cret\n");
  snprintf(script, sizeof(script),
           "echo a > %s/f; echo $?; echo a > %s/f; echo $?; "
           "ls -A %s | wc -l; cat %s; echo $?",
           rw, ro, hid, hidfile);
  cr_assert_eq(sbx_profile_builtin(&agent, "agent"), 0);
  for (; agent.readonly[n] != NULL && n < CRL_ARRAY_SIZE(rv) - 2; n++)
    rv[n] = agent.readonly[n];
  rv[n++] = ro;
  rv[n] = NULL;
  p = agent; /* the plan copies what it keeps */
  p.readonly = rv;
  p.writable = wv;
  p.hidden = hv;
  o.workdir = workdir;
  pid = run_start_p(&r, &p, argv, &o, &fd);
  run_read(fd, &r);
  close(fd);
  cr_assert_eq(r.rc, 0, "%s", r.err.msg);
  cr_assert_eq(run_wait(&r, pid), 0);
  /* The hidden file is /dev/null on a nodev mount: it cannot be opened. */
  cr_assert_str_eq(r.out, "0\n2\n0\n1\n", "%s", r.out);
  snprintf(buf, sizeof(buf), "%s/f", rw);
  cr_assert_eq(access(buf, F_OK), 0);
  snprintf(buf, sizeof(buf), "%s/f", ro);
  cr_assert_neq(access(buf, F_OK), 0);
  sbx_profile_close(&agent);
}

Test(sbx_spawn, home_dirs_are_bound_under_home) {
  char host[128], buf[160];
  char *dirs[] = {host, NULL};
  char *argv[] = {"/bin/sh", "-c",
                  "cat $HOME/cfg/token; echo new > $HOME/cfg/state", NULL};
  struct sbx_opts o = SBX_OPTS_INIT;
  struct run r;

  snprintf(host, sizeof(host), "%s/cfg", outside);
  cr_assert_eq(mkdir(host, 0755), 0);
  snprintf(buf, sizeof(buf), "%s/token", host);
  write_file(buf, "secret-ok\n");
  o.workdir = workdir;
  o.home_dirs = dirs;
  run_argv(&r, "agent", argv, &o);
  cr_assert_str_eq(r.out, "secret-ok\n", "%s %s", r.out, r.err.msg);
  snprintf(buf, sizeof(buf), "%s/state", host);
  cr_assert_eq(access(buf, F_OK), 0);
}

Test(sbx_spawn, kept_fds_survive_and_others_are_closed) {
  char *argv[] = {"/bin/sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '",
                  NULL};
  struct sbx_opts o = SBX_OPTS_INIT;
  int keep = dup2(open("/dev/null", O_RDONLY), 40), stray;
  struct run r;

  stray = open("/dev/null", O_RDONLY); /* not close-on-exec */
  o.workdir = workdir;
  o.keep_fds = &keep;
  o.nkeep_fds = 1;
  run_argv(&r, "agent", argv, &o);
  cr_assert_eq(r.rc, 0, "%s", r.err.msg);
  /* 0-2, 40, and the fd ls itself opens for /proc/self/fd. */
  cr_assert_str_eq(r.out, "0 1 2 3 40 ", "%s", r.out);
  close(stray);
  close(keep);
}

Test(sbx_spawn, bad_input_is_refused_in_the_parent) {
  struct sbx_profile p;
  struct sbx_opts o = SBX_OPTS_INIT;
  struct sbx_plan *plan = NULL;
  struct crl_err err = CRL_ERR_INIT;
  char *rel[] = {"relative/path", NULL};

  cr_assert_eq(sbx_profile_builtin(&p, "agent"), 0);
  o.workdir = "/nonexistent/corral";
  cr_assert_eq(sbx_plan_new(&plan, &p, &o, &err), -ENOENT);
  cr_assert_null(plan);
  o.workdir = "/";
  cr_assert_eq(sbx_plan_new(&plan, &p, &o, &err), -EINVAL);
  o.workdir = workdir;
  o.home_dirs = rel;
  cr_assert_eq(sbx_plan_new(&plan, &p, &o, &err), -EINVAL);
  cr_assert(strstr(err.msg, "relative/path") != NULL, "%s", err.msg);
  sbx_profile_close(&p);
}

Test(sbx_spawn, the_none_profile_runs_unsandboxed) {
  char host[256], want[300];
  struct run r;

  cr_assert_eq(gethostname(host, sizeof(host)), 0);
  run_sh(&r, "none", "cat /proc/sys/kernel/hostname; cat /proc/1/comm; pwd");
  read_file("/proc/1/comm", want, sizeof(want));
  cr_assert(strncmp(r.out, host, strlen(host)) == 0, "%s", r.out);
  cr_assert(strstr(r.out, want) != NULL, "%s", r.out);
  cr_assert(strstr(r.out, workdir) != NULL, "%s", r.out);
}

Test(sbx_spawn, home_src_is_bound_read_write_as_home) {
  char *argv[] = {"/bin/sh", "-c", "cat \"$HOME/cfg\"; echo new >\"$HOME/new\"",
                  NULL};
  struct sbx_opts o = SBX_OPTS_INIT;
  char path[128], buf[64];
  struct run r;

  snprintf(path, sizeof(path), "%s/cfg", outside);
  write_file(path, "config\n");
  o.workdir = workdir;
  o.home_src = outside;
  run_argv(&r, "agent", argv, &o);
  cr_assert_eq(r.rc, 0, "spawn: %s", r.err.msg);
  cr_assert_str_eq(r.out, "config\n");
  snprintf(path, sizeof(path), "%s/new", outside);
  read_file(path, buf, sizeof(buf));
  cr_assert_str_eq(buf, "new\n");
}

Test(sbx_spawn, the_gateway_port_is_made_inside_and_passed_out) {
  /* 8790 is 0x2256; 0A is LISTEN. */
  char *argv[] = {"/bin/sh", "-c",
                  "grep -c '0100007F:2256 00000000:0000 0A' /proc/net/tcp; "
                  "ls /proc/self/fd | wc -l",
                  NULL};
  struct sbx_opts o = SBX_OPTS_INIT;
  struct sockaddr_in sa;
  socklen_t len = sizeof(sa);
  int sv[2], fd, on = 0;
  struct run r;

  cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  o.workdir = workdir;
  o.gw_fd = sv[1];
  o.gw_port = 8790;
  run_argv(&r, "agent", argv, &o);
  cr_assert_eq(r.rc, 0, "spawn: %s", r.err.msg);
  close(sv[1]);
  /* One listener in the sandbox's namespace; the command holds 0-2 and
   * the fd ls reads, not the socket. */
  cr_assert_str_eq(r.out, "1\n4\n", "%s", r.out);
  cr_assert_geq(fd = crl_fd_recv(sv[0], 0), 0);
  cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  cr_assert_eq(ntohs(sa.sin_port), 8790);
  len = sizeof(on);
  cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len), 0);
  cr_assert_eq(on, 1);
  close(fd);
  close(sv[0]);
}
