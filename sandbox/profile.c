/*
 * The built-in sandbox profiles. `agent`, the default for every task, sees
 * the system directories and a small /etc read-only, its worktree
 * read-write, a private /tmp and an empty $HOME, and no network; nothing
 * else of the host exists inside, because the sandbox's root is a fresh
 * tmpfs, so secrets (~/.ssh, ~/.aws), host sockets and /run are simply
 * absent rather than hidden. `strict` is `agent` with a smaller /tmp and
 * without the resolver files; `network` is `agent` on the host's network;
 * `none` turns the sandbox off and is only used when named.
 */
#include "sbx-int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_GIB (INT64_C(1) << 30)
#define PROFILE_MIB (INT64_C(1) << 20)

/* System directories; those that are symlinks on the host (/bin ->
 * usr/bin) are recreated as symlinks by the plan. */
static const char *const profile_system[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", NULL};

/* The /etc every profile needs: users, the dynamic linker, certificates,
 * time zone, git's system config. */
static const char *const profile_etc[] = {
    "/etc/passwd",          "/etc/group",      "/etc/nsswitch.conf",
    "/etc/services",        "/etc/protocols",  "/etc/ssl",
    "/etc/ca-certificates", "/etc/pki",        "/etc/crypto-policies",
    "/etc/alternatives",    "/etc/localtime",  "/etc/timezone",
    "/etc/ld.so.cache",     "/etc/ld.so.conf", "/etc/ld.so.conf.d",
    "/etc/os-release",      "/etc/gitconfig",  NULL};

/* Name resolution, left out of `strict`. */
static const char *const profile_resolver[] = {
    "/etc/hosts", "/etc/host.conf", "/etc/resolv.conf", "/etc/gai.conf", NULL};

struct profile_def {
  const char *name;
  int enabled;
  int resolver;
  enum sbx_net net;
  int64_t tmp_size;
};

static const struct profile_def profile_defs[] = {
    {"agent", 1, 1, SBX_NET_NONE, PROFILE_GIB},
    {"strict", 1, 0, SBX_NET_NONE, 256 * PROFILE_MIB},
    {"network", 1, 1, SBX_NET_HOST, PROFILE_GIB},
    {"none", 0, 0, SBX_NET_HOST, 0},
};

static size_t profile_count(const char *const *v) {
  size_t n = 0;

  while (v != NULL && v[n] != NULL)
    n++;
  return n;
}

/* Appends the strings of src to the heap vector *v (NULL-terminated). */
static void profile_append(char ***v, const char *const *src) {
  size_t n = profile_count((const char *const *)*v), m = profile_count(src);

  *v = xreallocarray(*v, n + m + 1, sizeof(**v));
  for (size_t i = 0; i < m; i++)
    (*v)[n + i] = xstrdup(src[i]);
  (*v)[n + m] = NULL;
}

static char **profile_dup(char *const *src) {
  char **v = NULL;

  if (src != NULL)
    profile_append(&v, (const char *const *)src);
  return v;
}

static void profile_vec_free(char **v) {
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free(v[i]);
  free(v);
}

int sbx_profile_builtin(struct sbx_profile *out, const char *name) {
  const struct profile_def *d = NULL;

  assert(out != NULL && name != NULL);
  for (size_t i = 0; i < CRL_ARRAY_SIZE(profile_defs); i++)
    if (strcmp(profile_defs[i].name, name) == 0)
      d = &profile_defs[i];
  if (d == NULL)
    return CRL_ENOT_FOUND;
  memset(out, 0, sizeof(*out));
  out->name = xstrdup(d->name);
  out->enabled = d->enabled;
  out->net = d->net;
  out->tmp_size = d->tmp_size;
  if (!d->enabled)
    return 0;
  profile_append(&out->readonly, profile_system);
  profile_append(&out->readonly, profile_etc);
  if (d->resolver)
    profile_append(&out->readonly, profile_resolver);
  return 0;
}

void sbx_profile_close(struct sbx_profile *p) {
  if (p == NULL)
    return;
  free(p->name);
  profile_vec_free(p->writable);
  profile_vec_free(p->readonly);
  profile_vec_free(p->hidden);
  memset(p, 0, sizeof(*p));
}

void sbx__profile_copy(struct sbx_profile *dst, const struct sbx_profile *src) {
  assert(dst != NULL && src != NULL);
  *dst = *src;
  dst->name = src->name != NULL ? xstrdup(src->name) : NULL;
  dst->writable = profile_dup(src->writable);
  dst->readonly = profile_dup(src->readonly);
  dst->hidden = profile_dup(src->hidden);
}
