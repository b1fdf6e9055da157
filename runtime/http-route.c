/*
 * Routing: a request's method and path against a table of patterns made of
 * literal segments and {name} captures. The raw path is split on '/' first
 * and each segment decoded after, so an escaped slash (%2F) stays inside
 * its segment. A path that matches some pattern with another method is a
 * 405 with the allowed methods; a path that matches none is a 404.
 */
#include "http-int.h"

#include <stdio.h>
#include <string.h>

static void kv_drop(struct rt_http_kv **kv, size_t *n) {
  for (size_t i = 0; i < *n; i++) {
    free((*kv)[i].name);
    free((*kv)[i].value);
  }
  free(*kv);
  *kv = NULL;
  *n = 0;
}

/* Matches one pattern segment of pl bytes against a decoded segment. */
static int segment_match(const char *pat, size_t pl, char *seg,
                         struct rt_http_kv **kv, size_t *n) {
  if (pl >= 2 && pat[0] == '{' && pat[pl - 1] == '}') {
    if (seg[0] == '\0')
      return 0;
    rt__http_kv_add(kv, n, xstrndup(pat + 1, pl - 2), xstrdup(seg));
    return 1;
  }
  return strlen(seg) == pl && memcmp(seg, pat, pl) == 0;
}

/* Returns 1 when path matches pat, with the captures appended to kv. */
static int route_match(const char *pat, const char *path,
                       struct rt_http_kv **kv, size_t *n) {
  size_t pl, sl;
  char *seg;
  int ok;

  while (*pat == '/' && *path == '/') {
    pat++;
    path++;
    pl = strcspn(pat, "/");
    sl = strcspn(path, "/");
    if (rt__http_decode(&seg, path, sl, 0) < 0)
      return 0;
    ok = segment_match(pat, pl, seg, kv, n);
    free(seg);
    if (!ok)
      return 0;
    pat += pl;
    path += sl;
  }
  return *pat == '\0' && *path == '\0';
}

static void allow_add(char *allow, size_t allowlen, const char *method) {
  size_t used = strlen(allow);

  if (strstr(allow, method) != NULL)
    return;
  snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", method);
}

const struct rt_http_route *
rt__http_route_find(const struct rt_http_route *routes, size_t n,
                    struct rt_http_req *req, int *code, char *allow,
                    size_t allowlen) {
  struct rt_http_kv *kv = NULL;
  size_t nkv = 0;

  allow[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    int hit = route_match(routes[i].pattern, req->raw_path, &kv, &nkv);

    if (hit && strcmp(routes[i].method, req->method) == 0) {
      req->params = kv;
      req->nparams = nkv;
      *code = 0;
      return &routes[i];
    }
    kv_drop(&kv, &nkv);
    if (hit)
      allow_add(allow, allowlen, routes[i].method);
  }
  *code = allow[0] ? CRL_EMETHOD_NOT_ALLOWED : CRL_ENOT_FOUND;
  return NULL;
}
