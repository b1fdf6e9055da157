/*
 * Helpers the five agent CLI adapters share for what they hand the runtime:
 * a growable argv, the checks every CLI run needs (a prompt or a session to
 * resume, a private home, a gateway URL), the environment that points HOME
 * and the XDG dirs into the run's private home, and config files. All of it
 * is pure: strings in, strings out.
 */
#include "adapter-int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void adapter__argv_init(struct adapter__argv *a) {
  a->cap = 16;
  a->n = 0;
  a->v = xcalloc(a->cap, sizeof(*a->v));
}

void adapter__argv_add(struct adapter__argv *a, ...) {
  const char *s;
  va_list ap;

  va_start(ap, a);
  while ((s = va_arg(ap, const char *)) != NULL) {
    if (a->n + 1 >= a->cap) {
      a->cap *= 2;
      a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
    }
    a->v[a->n++] = xstrdup(s);
    a->v[a->n] = NULL;
  }
  va_end(ap);
}

void adapter__argv_take(char ***out, struct adapter__argv *a) {
  *out = a->v;
  a->v = NULL;
  a->n = 0;
  a->cap = 0;
}

static int cli_blank(const char *s) {
  return s == NULL || s[0] == '\0';
}

int adapter__cli_check(const struct adapter_run *r, const char *kind,
                       struct crl_err *err) {
  const char *task = r->task != NULL ? r->task : "?";

  if (cli_blank(r->prompt) && cli_blank(r->session_id))
    return crl_err_set(err, CRL_EVALIDATION_FAILED,
                       "task %s: the %s adapter needs a prompt", task, kind);
  if (cli_blank(r->home) || r->home[0] != '/')
    return crl_err_set(err, CRL_EVALIDATION_FAILED,
                       "task %s: the %s adapter needs the run's private home "
                       "(an absolute path)",
                       task, kind);
  if (cli_blank(r->base_url))
    return crl_err_set(err, CRL_EVALIDATION_FAILED,
                       "task %s: the %s adapter needs the gateway's URL", task,
                       kind);
  return 0;
}

const char *adapter__cli_key(const struct adapter_run *r) {
  return cli_blank(r->api_key) ? ADAPTER_PLACEHOLDER_KEY : r->api_key;
}

void adapter__cli_home_path(struct adapter_env *env, const char *key,
                            const struct adapter_run *r, const char *rel) {
  char *v;

  xasprintf(&v, "%s/%s", r->home, rel);
  adapter_env_set(env, key, v);
  free(v);
}

void adapter__cli_home_env(struct adapter_env *env,
                           const struct adapter_run *r) {
  adapter_env_set(env, "HOME", r->home);
  adapter__cli_home_path(env, "XDG_CONFIG_HOME", r, ".config");
  adapter__cli_home_path(env, "XDG_DATA_HOME", r, ".local/share");
  adapter__cli_home_path(env, "XDG_STATE_HOME", r, ".local/state");
  adapter__cli_home_path(env, "XDG_CACHE_HOME", r, ".cache");
}

void adapter__files_one(struct adapter_file **out, size_t *n, const char *path,
                        const char *content) {
  struct adapter_file *f = xcalloc(1, sizeof(*f));

  f->path = xstrdup(path);
  f->content = xstrdup(content);
  f->len = strlen(content);
  f->mode = 0600;
  *out = f;
  *n = 1;
}

void adapter_files_free(struct adapter_file *files, size_t n) {
  size_t i;

  if (files == NULL)
    return;
  for (i = 0; i < n; i++) {
    free(files[i].path);
    free(files[i].content);
  }
  free(files);
}

char *adapter__toml_str(const char *s) {
  struct crl_buf b;
  char esc[8];
  char *out;

  crl_buf_init(&b, 0);
  crl_buf_append(&b, "\"", 1);
  for (; *s != '\0'; s++) {
    if (*s == '"' || *s == '\\') {
      esc[0] = '\\';
      esc[1] = *s;
      crl_buf_append(&b, esc, 2);
    } else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
      snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)*s);
      crl_buf_append(&b, esc, 6);
    } else {
      crl_buf_append(&b, s, 1);
    }
  }
  crl_buf_append(&b, "\"", 1);
  out = xstrdup(b.data);
  crl_buf_close(&b);
  return out;
}
