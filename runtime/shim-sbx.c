/*
 * The shim's sandboxed start: the profile the engine named on the command
 * line (a built-in base plus the mission's overrides) becomes a plan, and
 * the agent starts as the command of the sandbox's pid-1 init, with the
 * shim's stdio pointed at the run's log. A host that cannot enforce the
 * profile refuses here, before anything runs (fail closed).
 */
#include "shim-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char **shim_sbx_strv_add(char **v, const char *s) {
  size_t n = 0;

  while (v != NULL && v[n] != NULL)
    n++;
  v = realloc(v, (n + 2) * sizeof(*v));
  if (v == NULL || (v[n] = strdup(s)) == NULL)
    abort();
  v[n + 1] = NULL;
  return v;
}

void shim_sbx_arg(struct shim_sbx *s, int opt, const char *val) {
  switch (opt) {
  case 'P':
    s->profile = val;
    break;
  case 'W':
    s->writable = shim_sbx_strv_add(s->writable, val);
    break;
  case 'R':
    s->readonly = shim_sbx_strv_add(s->readonly, val);
    break;
  case 'H':
    s->hidden = shim_sbx_strv_add(s->hidden, val);
    break;
  default:
    shim_sbx_limit(s, opt, val);
  }
}

void shim_sbx_limit(struct shim_sbx *s, int opt, const char *val) {
  long long n = strtoll(val, NULL, 10);

  if (opt == 'N')
    s->net = strcmp(val, "host") == 0      ? SBX_NET_HOST
             : strcmp(val, "gateway") == 0 ? SBX_NET_GATEWAY
                                           : SBX_NET_NONE;
  else if (opt == 'M')
    s->memory = n;
  else if (opt == 'p')
    s->pids = n;
  else if (opt == 'U')
    s->cpu = (int)n;
  else if (opt == 'T')
    s->tmp_size = n;
  else if (opt == 'O')
    s->home_src = val;
  else if (opt == 'G')
    s->gw_fd = (int)n;
  else if (opt == 'Q')
    s->gw_port = (int)n;
  s->net_set |= opt == 'N';
}

static void shim_sbx_merge(char ***dst, char **add) {
  for (size_t i = 0; add != NULL && add[i] != NULL; i++)
    *dst = shim_sbx_strv_add(*dst, add[i]);
}

/* The built-in base with the mission's overrides on top. */
static int shim_sbx_profile(struct sbx_profile *p, const struct shim_sbx *s,
                            struct crl_err *err) {
  int rc = sbx_profile_builtin(p, s->profile);

  if (rc < 0)
    return crl_err_set(err, rc, "unknown sandbox profile '%s'", s->profile);
  shim_sbx_merge(&p->writable, s->writable);
  shim_sbx_merge(&p->readonly, s->readonly);
  shim_sbx_merge(&p->hidden, s->hidden);
  if (s->net_set)
    p->net = s->net;
  if (s->memory > 0)
    p->memory = s->memory;
  if (s->pids > 0)
    p->pids = s->pids;
  if (s->cpu > 0)
    p->cpu_percent = s->cpu;
  if (s->tmp_size > 0)
    p->tmp_size = s->tmp_size;
  return 0;
}

static int shim_sbx_stdio(int logfd) {
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

  if (null < 0 || dup2(null, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
    return -errno;
  close(null);
  return 0;
}

int shim_sbx_spawn(pid_t *out, struct sbx_plan **plan_out,
                   const struct shim_sbx *s, const char *cwd,
                   const char *cgroup, int logfd, int status_fd, char **argv,
                   struct crl_err *err) {
  struct sbx_opts o = SBX_OPTS_INIT;
  struct sbx_profile p;
  struct sbx_plan *plan = NULL;
  extern char **environ;
  int rc;

  memset(&p, 0, sizeof(p));
  o.workdir = cwd;
  o.cgroup = cgroup != NULL && cgroup[0] != '\0' ? cgroup : NULL;
  o.status_fd = status_fd;
  o.home_src = s->home_src;
  o.gw_fd = s->gw_fd;
  o.gw_port = s->gw_port;
  if ((rc = shim_sbx_profile(&p, s, err)) < 0 ||
      (rc = sbx_plan_new(&plan, &p, &o, err)) < 0)
    goto out;
  if ((rc = shim_sbx_stdio(logfd)) < 0) {
    crl_err_set(err, rc, "stdio: %s", strerror(-rc));
    goto out;
  }
  if ((rc = sbx_spawn(out, plan, argv, environ, err)) == 0) {
    *plan_out = plan;
    plan = NULL;
  }
out:
  sbx_plan_free(plan);
  sbx_profile_close(&p);
  return rc;
}
