/*
 * The gateway's configuration file: per provider an upstream base URL and
 * the real API key (inline, or the name of a variable of the daemon's
 * environment), read from $XDG_CONFIG_HOME/corral/gateway.json or a given
 * path. Keys live only here and in the gateway; they never reach a run.
 */
#include "gateway-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *default_path(void) {
  const char *xdg = getenv("XDG_CONFIG_HOME");
  const char *home = getenv("HOME");
  char *out;

  if (xdg != NULL && *xdg == '/')
    xasprintf(&out, "%s/corral/gateway.json", xdg);
  else
    xasprintf(&out, "%s/.config/corral/gateway.json", home ? home : "");
  return out;
}

static int config_string(char **out, json_t *obj, const char *key,
                         const char *where, struct crl_err *err) {
  json_t *v = json_object_get(obj, key);

  if (v == NULL)
    return 0;
  if (!json_is_string(v))
    return crl_err_set(err, CRL_EPARSE, "%s: %s must be a string", where, key);
  *out = xstrdup(json_string_value(v));
  return 0;
}

static int config_provider(struct rt_gw_config *cfg, int p, json_t *obj,
                           const char *path, struct crl_err *err) {
  char where[512], *env = NULL;
  const char *val;
  int rc;

  snprintf(where, sizeof(where), "%s: providers.%s", path,
           rt_gw_provider_name(p));
  if (!json_is_object(obj))
    return crl_err_set(err, CRL_EPARSE, "%s must be an object", where);
  if ((rc = config_string(&cfg->base_url[p], obj, "base_url", where, err)) <
          0 ||
      (rc = config_string(&cfg->api_key[p], obj, "api_key", where, err)) < 0 ||
      (rc = config_string(&cfg->key_header[p], obj, "key_header", where, err)) <
          0 ||
      (rc = config_string(&env, obj, "api_key_env", where, err)) < 0)
    return rc;
  if (cfg->api_key[p] == NULL && env != NULL && (val = getenv(env)) != NULL &&
      *val != '\0')
    cfg->api_key[p] = xstrdup(val);
  free(env);
  return 0;
}

static int config_parse(struct rt_gw_config *cfg, json_t *root,
                        const char *path, struct crl_err *err) {
  json_t *provs = json_object_get(root, "providers"), *v;
  const char *name;
  int rc;

  if (!json_is_object(root) || (provs != NULL && !json_is_object(provs)))
    return crl_err_set(err, CRL_EPARSE, "%s: expected {\"providers\": {...}}",
                       path);
  json_object_foreach(provs, name, v) {
    int p = 0;
    while (p < RT_GW_NPROVIDERS && strcmp(rt_gw_provider_name(p), name) != 0)
      p++;
    if (p == RT_GW_NPROVIDERS)
      return crl_err_set(err, CRL_EPARSE, "%s: unknown provider \"%s\"", path,
                         name);
    if ((rc = config_provider(cfg, p, v, path, err)) < 0)
      return rc;
  }
  v = json_object_get(root, "record_body_max");
  if (json_is_integer(v) && json_integer_value(v) >= 0)
    cfg->record_body_max = (size_t)json_integer_value(v);
  return 0;
}

int rt_gw_config_load(struct rt_gw_config *cfg, const char *path,
                      struct crl_err *err) {
  char *dflt = path ? NULL : default_path();
  const char *file = path ? path : dflt;
  json_error_t jerr;
  json_t *root = NULL;
  int rc = 0;

  memset(cfg, 0, sizeof(*cfg));
  if (path == NULL && access(file, F_OK) != 0)
    goto out; /* no default file: nothing configured */
  if ((root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
    rc = access(file, R_OK) != 0
             ? crl_err_set(err, -errno, "%s: %s", file, strerror(errno))
             : crl_err_set(err, CRL_EPARSE, "%s:%d:%d: %s", file, jerr.line,
                           jerr.column, jerr.text);
    goto out;
  }
  if ((rc = config_parse(cfg, root, file, err)) < 0)
    rt_gw_config_close(cfg);
out:
  json_decref(root);
  free(dflt);
  return rc;
}

void rt_gw_config_close(struct rt_gw_config *cfg) {
  for (int p = 0; p < RT_GW_NPROVIDERS; p++) {
    free(cfg->base_url[p]);
    free(cfg->api_key[p]);
    free(cfg->key_header[p]);
    cfg->base_url[p] = cfg->api_key[p] = cfg->key_header[p] = NULL;
  }
}
