/*
 * A request's decoded parts: the target split into a percent-decoded path
 * and query parameters, accessors for handlers, the JSON body, and freeing.
 * Decoding is strict: a bad escape or a decoded NUL is a 400, because every
 * later consumer treats these strings as C strings.
 */
#include "http-int.h"

#include <string.h>

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int rt__http_decode(char **out, const char *s, size_t n, int plus_space) {
  char *d = xmalloc(n + 1);
  size_t i, j = 0;
  int hi, lo;

  for (i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n)
        goto bad;
      hi = hex_value(s[i + 1]);
      lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
        goto bad;
      d[j++] = (char)(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '\0') {
      goto bad;
    } else {
      d[j++] = plus_space && s[i] == '+' ? ' ' : s[i];
    }
  }
  d[j] = '\0';
  *out = d;
  return 0;
bad:
  free(d);
  *out = NULL;
  return CRL_EBAD_REQUEST;
}

void rt__http_kv_add(struct rt_http_kv **kv, size_t *n, char *name,
                     char *value) {
  *kv = xreallocarray(*kv, *n + 1, sizeof(**kv));
  (*kv)[*n].name = name;
  (*kv)[*n].value = value;
  (*n)++;
}

/* Adds one "name=value" (or bare "name") pair of a query string. */
static int query_add_pair(struct rt_http_req *req, const char *s, size_t n) {
  const char *eq = memchr(s, '=', n);
  size_t nlen = eq ? (size_t)(eq - s) : n;
  char *name = NULL, *value = NULL;

  if (n == 0)
    return 0;
  if (rt__http_decode(&name, s, nlen, 1) < 0 ||
      rt__http_decode(&value, eq ? eq + 1 : "", eq ? n - nlen - 1 : 0, 1) < 0)
    goto bad;
  rt__http_kv_add(&req->query, &req->nquery, name, value);
  return 0;
bad:
  free(name);
  free(value);
  return CRL_EBAD_REQUEST;
}

static int query_parse(struct rt_http_req *req, const char *s, size_t n) {
  const char *end = s + n, *amp;
  int rc;

  while (s < end) {
    amp = memchr(s, '&', (size_t)(end - s));
    if (amp == NULL)
      amp = end;
    if ((rc = query_add_pair(req, s, (size_t)(amp - s))) < 0)
      return rc;
    s = amp + 1;
  }
  return 0;
}

int rt__http_req_set_target(struct rt_http_req *req, const char *url,
                            size_t len, struct crl_err *err) {
  struct http_parser_url u;
  const char *path;
  size_t plen;

  http_parser_url_init(&u);
  if (len == 0 || http_parser_parse_url(url, len, 0, &u) != 0 ||
      !(u.field_set & (1 << UF_PATH)))
    return crl_err_set(err, CRL_EBAD_REQUEST, "invalid request target");
  path = url + u.field_data[UF_PATH].off;
  plen = u.field_data[UF_PATH].len;
  req->raw_path = xstrndup(path, plen);
  if (rt__http_decode(&req->path, path, plen, 0) < 0)
    return crl_err_set(err, CRL_EBAD_REQUEST, "invalid escape in path");
  if ((u.field_set & (1 << UF_QUERY)) &&
      query_parse(req, url + u.field_data[UF_QUERY].off,
                  u.field_data[UF_QUERY].len) < 0)
    return crl_err_set(err, CRL_EBAD_REQUEST, "invalid escape in query");
  return 0;
}

static const char *kv_find(const struct rt_http_kv *kv, size_t n,
                           const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(kv[i].name, name) == 0)
      return kv[i].value;
  return NULL;
}

const char *rt_http_req_query(const struct rt_http_req *req, const char *name) {
  return kv_find(req->query, req->nquery, name);
}

const char *rt_http_req_param(const struct rt_http_req *req, const char *name) {
  return kv_find(req->params, req->nparams, name);
}

int rt_http_req_json(json_t **out, const struct rt_http_req *req,
                     struct crl_err *err) {
  json_error_t jerr;
  json_t *v;

  *out = NULL;
  /* jansson checks UTF-8, rejects \u0000 (no JSON_ALLOW_NUL) and stops at
   * JSON_PARSER_MAX_DEPTH (2048) nesting levels, so hostile bodies end
   * here as a 400 rather than deep recursion. */
  v = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);
  if (v == NULL)
    return crl_err_set(err, CRL_EBAD_REQUEST,
                       "invalid JSON body at line %d column %d: %s", jerr.line,
                       jerr.column, jerr.text);
  *out = v;
  return 0;
}

void rt_http_req_on_abort(struct rt_http_req *req, rt_http_abort_cb cb,
                          void *payload) {
  req->abort_cb = cb;
  req->abort_payload = payload;
}

static void kv_free(struct rt_http_kv *kv, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(kv[i].name);
    free(kv[i].value);
  }
  free(kv);
}

void rt__http_req_free(struct rt_http_req *req) {
  if (req == NULL)
    return;
  free(req->path);
  free(req->raw_path);
  kv_free(req->query, req->nquery);
  kv_free(req->params, req->nparams);
  free(req->content_type);
  free(req->last_event_id);
  free(req->body);
  free(req);
}
