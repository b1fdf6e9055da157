/*
 * The provider table of the gateway: which provider and endpoint a request
 * path names, which headers never go upstream, where each provider wants its
 * key, each provider's own error format, and the model a request names.
 * Variation by provider is data here (STYLE.md rule 19); nothing in this
 * file touches a socket.
 */
#include "gateway-int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct gw_provider_info {
  const char *name;
  const char *default_base;
  const char *key_fmt; /* printf format of the key header */
};

static const struct gw_provider_info gw_providers[RT_GW_NPROVIDERS] = {
    [RT_GW_ANTHROPIC] = {"anthropic", "https://api.anthropic.com",
                         "x-api-key: %s"},
    [RT_GW_OPENAI] = {"openai", "https://api.openai.com",
                      "Authorization: Bearer %s"},
    [RT_GW_GEMINI] = {"gemini", "https://generativelanguage.googleapis.com",
                      "x-goog-api-key: %s"},
};

const char *rt_gw_provider_name(enum rt_gw_provider p) {
  return p < RT_GW_NPROVIDERS ? gw_providers[p].name : "unknown";
}

const char *rt_gw_api_name(enum rt_gw_api api) {
  static const char *const names[] = {"messages", "responses", "chat", "gemini",
                                      "side"};

  return (size_t)api < CRL_ARRAY_SIZE(names) ? names[api] : "side";
}

const char *rt__gw_default_base(enum rt_gw_provider p) {
  return p < RT_GW_NPROVIDERS ? gw_providers[p].default_base : NULL;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);

  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *hdr_find(const struct rt__gw_hdr *hdrs, size_t n,
                            const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(hdrs[i].name, name) == 0)
      return hdrs[i].value;
  return NULL;
}

/* Paths shared by several providers (/v1/models): the key header tells. */
static enum rt_gw_provider provider_by_headers(const struct rt__gw_hdr *hdrs,
                                               size_t n) {
  if (hdr_find(hdrs, n, "x-goog-api-key") != NULL)
    return RT_GW_GEMINI;
  if (hdr_find(hdrs, n, "x-api-key") != NULL ||
      hdr_find(hdrs, n, "anthropic-version") != NULL)
    return RT_GW_ANTHROPIC;
  if (hdr_find(hdrs, n, "authorization") != NULL)
    return RT_GW_OPENAI;
  return RT_GW_UNKNOWN;
}

/* Gemini: /v1beta/models/{model}:{op} (or /v1/...). */
static int route_gemini(struct rt__gw_route *out, const char *path) {
  const char *models = strstr(path, "/models/");
  const char *colon = models ? strchr(models, ':') : NULL;

  if (strncmp(path, "/v1beta/", 8) != 0 && colon == NULL)
    return 0;
  out->provider = RT_GW_GEMINI;
  out->api = RT_GW_API_SIDE;
  if (colon != NULL && (strcmp(colon, ":generateContent") == 0 ||
                        strcmp(colon, ":streamGenerateContent") == 0))
    out->api = RT_GW_API_GEMINI;
  return 1;
}

void rt__gw_route(struct rt__gw_route *out, const char *method,
                  const char *path, const struct rt__gw_hdr *hdrs,
                  size_t nhdrs) {
  memset(out, 0, sizeof(*out));
  out->provider = RT_GW_UNKNOWN;
  out->api = RT_GW_API_SIDE;
  if (strcmp(method, "HEAD") == 0 && strcmp(path, "/") == 0) {
    out->local = 1; /* Claude Code's connectivity probe */
    return;
  }
  if (route_gemini(out, path))
    return;
  if (ends_with(path, "/messages")) {
    out->provider = RT_GW_ANTHROPIC;
    out->api = RT_GW_API_MESSAGES;
  } else if (strstr(path, "/messages/") != NULL) {
    out->provider = RT_GW_ANTHROPIC;
  } else if (ends_with(path, "/responses")) {
    out->provider = RT_GW_OPENAI;
    out->api = RT_GW_API_RESPONSES;
  } else if (ends_with(path, "/chat/completions")) {
    out->provider = RT_GW_OPENAI;
    out->api = RT_GW_API_CHAT;
  } else if (strncmp(path, "/v1/", 4) == 0) {
    out->provider = provider_by_headers(hdrs, nhdrs);
  }
}

int rt__gw_hdr_dropped(const char *name) {
  static const char *const dropped[] = {
      "host",
      "connection",
      "keep-alive",
      "proxy-connection",
      "transfer-encoding",
      "content-length",
      "te",
      "trailer",
      "upgrade",
      "expect",
      "accept-encoding",
      "authorization",
      "x-api-key",
      "x-goog-api-key",
      "api-key",
      "proxy-authorization",
  };

  for (size_t i = 0; i < CRL_ARRAY_SIZE(dropped); i++)
    if (strcasecmp(name, dropped[i]) == 0)
      return 1;
  return 0;
}

char *rt__gw_key_header(enum rt_gw_provider p, const char *header,
                        const char *key) {
  char *out;

  if (p >= RT_GW_NPROVIDERS)
    return NULL;
  if (header == NULL)
    xasprintf(&out, gw_providers[p].key_fmt, key);
  else if (strcasecmp(header, "authorization") == 0)
    xasprintf(&out, "Authorization: Bearer %s", key);
  else
    xasprintf(&out, "%s: %s", header, key);
  return out;
}

char *rt__gw_query_strip_key(const char *query) {
  struct crl_buf b;
  const char *s = query ? query : "";
  char *out;

  crl_buf_init(&b, 0);
  while (*s != '\0') {
    size_t n = strcspn(s, "&");
    if (!(n >= 4 && strncmp(s, "key=", 4) == 0) && n > 0) {
      if (b.len > 0)
        crl_buf_append(&b, "&", 1);
      crl_buf_append(&b, s, n);
    }
    s += n;
    if (*s == '&')
      s++;
  }
  out = xstrdup(b.data ? b.data : "");
  crl_buf_close(&b);
  return out;
}

struct gw_refusal_info {
  int status;
  const char *anthropic; /* error.type */
  const char *openai;    /* error.type (and code) */
  const char *gemini;    /* error.status */
};

static const struct gw_refusal_info gw_refusals[] = {
    [RT_GW_R_BUDGET] = {429, "rate_limit_error", "insufficient_quota",
                        "RESOURCE_EXHAUSTED"},
    [RT_GW_R_UNCONFIGURED] = {502, "api_error", "upstream_not_configured",
                              "UNAVAILABLE"},
    [RT_GW_R_BAD_REQUEST] = {400, "invalid_request_error",
                             "invalid_request_error", "INVALID_ARGUMENT"},
    [RT_GW_R_TOO_LARGE] = {413, "request_too_large", "invalid_request_error",
                           "INVALID_ARGUMENT"},
    [RT_GW_R_NOT_FOUND] = {404, "not_found_error", "invalid_request_error",
                           "NOT_FOUND"},
    [RT_GW_R_UPSTREAM] = {502, "api_error", "server_error", "UNAVAILABLE"},
    [RT_GW_R_REPLAY_END] = {503, "overloaded_error", "server_error",
                            "UNAVAILABLE"},
};

char *rt__gw_error_body(enum rt_gw_provider p, enum rt__gw_refusal why,
                        const char *message, int *status) {
  const struct gw_refusal_info *r = &gw_refusals[why];
  json_t *body;
  char *out;

  *status = r->status;
  if (p == RT_GW_ANTHROPIC)
    body = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error", "type",
                     r->anthropic, "message", message);
  else if (p == RT_GW_GEMINI)
    body = json_pack("{s:{s:i, s:s, s:s}}", "error", "code", r->status,
                     "message", message, "status", r->gemini);
  else
    body = json_pack("{s:{s:s, s:s, s:n, s:s}}", "error", "message", message,
                     "type", r->openai, "param", "code", r->openai);
  out = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  return out;
}

char *rt__gw_model_of(enum rt_gw_api api, const char *path, const char *body,
                      size_t len) {
  const char *m = strstr(path, "/models/");
  json_t *root, *model;
  char *out = NULL;

  if (api == RT_GW_API_GEMINI && m != NULL) {
    m += strlen("/models/");
    return xstrndup(m, strcspn(m, ":"));
  }
  if (len == 0 || body[0] != '{')
    return NULL;
  root = json_loadb(body, len, 0, NULL);
  model = json_object_get(root, "model");
  if (json_is_string(model))
    out = xstrdup(json_string_value(model));
  json_decref(root);
  return out;
}
