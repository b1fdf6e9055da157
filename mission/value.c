/*
 * value.c: the scalar conversions the schema tables point at. Each checks
 * one node, stores the converted value in the field it is given, and on a
 * mismatch adds a diagnostic at the node saying what was expected, leaving
 * the field as it was. Integers, numbers and booleans must be written bare
 * (a quoted "5" is a string, as in JSON); strings accept any scalar, so
 * `id: 1` and `FOO: 1` read as text. Durations use base's syntax ("90s",
 * "1h30m") plus a bare 0; a backoff is one duration or FLOOR..CAP. Sizes
 * are byte counts with an optional binary suffix ("512M", "2G", "1024").
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mission-int.h"

const char *const msn__adapters[] = {"exec",   "claude-code", "codex",
                                     "gemini", "qwen-code",   "opencode"};
const size_t msn__nadapters = CRL_ARRAY_SIZE(msn__adapters);

static const char *const value_priorities[] = {"low", "medium", "high",
                                               "critical"};

/* Longest quoted text shown in a message, in bytes. */
#define VALUE_QUOTE_MAX 48

void msn__err(struct msn__ctx *c, const struct msn__node *n, const char *fmt,
              ...) {
  va_list ap;

  va_start(ap, fmt);
  msn__diags_addv(c->d, c->file, n->line, n->col, fmt, ap);
  va_end(ap);
}

const char *msn__quote(char *out, size_t outlen, const char *s) {
  struct crl_buf b;
  size_t keep = outlen > 4 ? outlen - 4 : 0;

  crl_buf_init(&b, 4096);
  crl_escape(&b, s, strnlen(s, 1024));
  if (b.len < outlen) {
    memcpy(out, b.data ? b.data : "", b.len + 1);
  } else {
    /* Cut before a UTF-8 continuation byte, never inside a character. */
    while (keep > 0 && ((unsigned char)b.data[keep] & 0xc0) == 0x80)
      keep--;
    memcpy(out, b.data, keep);
    memcpy(out + keep, "...", 4);
  }
  crl_buf_close(&b);
  return out;
}

const char *msn__got(char *out, size_t outlen, const struct msn__node *n) {
  char q[VALUE_QUOTE_MAX];

  if (n->type == MSN__SCALAR)
    snprintf(out, outlen, "'%s'", msn__quote(q, sizeof(q), n->str));
  else
    snprintf(out, outlen, "%s", msn__node_what(n));
  return out;
}

void msn__type_error(struct msn__ctx *c, const struct msn__node *n,
                     const char *want, const char *key) {
  char got[VALUE_QUOTE_MAX + 2];

  msn__err(c, n, "expected %s for '%s', got %s", want, key,
           msn__got(got, sizeof(got), n));
}

void msn__enum_error(struct msn__ctx *c, const struct msn__node *n,
                     const char *key, const char *expected,
                     const char *const *cands, size_t ncands) {
  const char *near = msn__suggest(n->str, cands, ncands);
  char q[VALUE_QUOTE_MAX];

  msn__quote(q, sizeof(q), n->str);
  if (near != NULL)
    msn__err(c, n, "invalid value '%s' for '%s' (did you mean '%s'?)", q, key,
             near);
  else
    msn__err(c, n, "invalid value '%s' for '%s' (expected %s)", q, key,
             expected);
}

static int value_scalar(struct msn__ctx *c, const struct msn__node *n,
                        const char *want, const char *key) {
  if (n->type == MSN__SCALAR)
    return 0;
  msn__type_error(c, n, want, key);
  return -1;
}

void msn__conv_string(struct msn__ctx *c, const struct msn__field *f,
                      const struct msn__node *n, void *dst) {
  char **out = dst;

  if (value_scalar(c, n, "a string", f->key) < 0)
    return;
  free(*out);
  *out = xstrdup(n->str);
}

int msn__id_valid(const char *s) {
  if (*s == '\0')
    return 0;
  for (; *s != '\0'; s++)
    if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789._-",
               *s) == NULL)
      return 0;
  return 1;
}

void msn__conv_id(struct msn__ctx *c, const struct msn__field *f,
                  const struct msn__node *n, void *dst) {
  char q[VALUE_QUOTE_MAX];

  if (value_scalar(c, n, "a string", f->key) < 0)
    return;
  if (!msn__id_valid(n->str)) {
    msn__err(c, n,
             "invalid value '%s' for '%s' (expected letters, digits, '.', "
             "'_' or '-')",
             msn__quote(q, sizeof(q), n->str), f->key);
    return;
  }
  msn__conv_string(c, f, n, dst);
}

void msn__conv_node(struct msn__ctx *c, const struct msn__field *f,
                    const struct msn__node *n, void *dst) {
  if (value_scalar(c, n, "a string", f->key) == 0)
    *(const struct msn__node **)dst = n;
}

/* Reads a bare decimal integer; returns 0 or -1. */
static int value_integer(const struct msn__node *n, long long *out) {
  char *end;

  if (n->type != MSN__SCALAR || !n->plain || n->str[0] == '\0' ||
      strchr("-0123456789", n->str[0]) == NULL)
    return -1;
  errno = 0;
  *out = strtoll(n->str, &end, 10);
  return errno != 0 || *end != '\0' ? -1 : 0;
}

static int value_min_error(struct msn__ctx *c, const struct msn__field *f,
                           const struct msn__node *n, const char *what) {
  msn__err(c, n, "invalid value %s for '%s' (expected %s >= %lld)", n->str,
           f->key, what, f->min);
  return -1;
}

static int value_int_in(struct msn__ctx *c, const struct msn__field *f,
                        const struct msn__node *n, long long max,
                        long long *out) {
  if (value_integer(n, out) < 0) {
    msn__type_error(c, n, "an integer", f->key);
    return -1;
  }
  if (*out < f->min || *out > max)
    return value_min_error(c, f, n, "an integer");
  return 0;
}

void msn__conv_int(struct msn__ctx *c, const struct msn__field *f,
                   const struct msn__node *n, void *dst) {
  long long v;

  if (value_int_in(c, f, n, INT32_MAX, &v) == 0)
    *(int *)dst = (int)v;
}

void msn__conv_int64(struct msn__ctx *c, const struct msn__field *f,
                     const struct msn__node *n, void *dst) {
  long long v;

  if (value_int_in(c, f, n, INT64_MAX, &v) == 0)
    *(int64_t *)dst = v;
}

void msn__conv_number(struct msn__ctx *c, const struct msn__field *f,
                      const struct msn__node *n, void *dst) {
  char *end = NULL;
  double v = 0;

  if (n->type == MSN__SCALAR && n->plain && n->str[0] != '\0' &&
      strspn(n->str, "0123456789.eE+-") == strlen(n->str))
    v = strtod(n->str, &end);
  if (end == NULL || *end != '\0' || !isfinite(v)) {
    msn__type_error(c, n, "a number", f->key);
    return;
  }
  if (v < (double)f->min) {
    value_min_error(c, f, n, "a number");
    return;
  }
  *(double *)dst = v;
}

int msn__duration(int64_t *out_ms, const char *s) {
  if (strcmp(s, "0") == 0) {
    *out_ms = 0;
    return 0;
  }
  return crl_duration_parse(out_ms, s);
}

void msn__conv_duration(struct msn__ctx *c, const struct msn__field *f,
                        const struct msn__node *n, void *dst) {
  char q[VALUE_QUOTE_MAX];

  if (value_scalar(c, n, "a duration", f->key) < 0)
    return;
  if (msn__duration(dst, n->str) < 0)
    msn__err(c, n, "invalid duration '%s' for '%s' (expected e.g. 90s, 5m, 2h)",
             msn__quote(q, sizeof(q), n->str), f->key);
}

int msn__backoff(int64_t *floor_ms, int64_t *cap_ms, const char *s) {
  const char *dots = strstr(s, "..");
  int64_t lo, hi;
  char *first;
  int rc;

  if (dots == NULL) {
    if ((rc = msn__duration(&lo, s)) < 0)
      return rc;
    *floor_ms = *cap_ms = lo;
    return 0;
  }
  first = xstrndup(s, (size_t)(dots - s));
  rc = msn__duration(&lo, first);
  free(first);
  if (rc < 0 || (rc = msn__duration(&hi, dots + 2)) < 0)
    return rc;
  if (lo > hi)
    return -ERANGE;
  *floor_ms = lo;
  *cap_ms = hi;
  return 0;
}

void msn__conv_backoff(struct msn__ctx *c, const struct msn__field *f,
                       const struct msn__node *n, void *dst) {
  struct msn_retries *r = crl_container_of(dst, struct msn_retries, floor_ms);
  char q[VALUE_QUOTE_MAX];
  int rc;

  if (value_scalar(c, n, "a duration or FLOOR..CAP", f->key) < 0)
    return;
  rc = msn__backoff(&r->floor_ms, &r->cap_ms, n->str);
  msn__quote(q, sizeof(q), n->str);
  if (rc == -ERANGE)
    msn__err(c, n, "invalid backoff '%s' for '%s' (floor is above cap)", q,
             f->key);
  else if (rc < 0)
    msn__err(c, n,
             "invalid backoff '%s' for '%s' (expected a duration such as 10s "
             "or FLOOR..CAP such as 10s..5m)",
             q, f->key);
}

int msn__size(int64_t *out, const char *s) {
  static const char units[] = "KMGT";
  size_t digits = strspn(s, "0123456789");
  const char *unit;
  uint64_t v = 0;
  int shift = 0;

  /* Nineteen digits cannot overflow 64 bits; anything longer is too big. */
  if (digits == 0 || digits > 19)
    return CRL_EPARSE;
  for (size_t i = 0; i < digits; i++)
    v = v * 10 + (uint64_t)(s[i] - '0');
  if (s[digits] != '\0') {
    unit = strchr(units, toupper((unsigned char)s[digits]));
    if (unit == NULL || s[digits + 1] != '\0')
      return CRL_EPARSE;
    shift = 10 * (int)(unit - units + 1);
  }
  if (v > (uint64_t)INT64_MAX >> shift)
    return CRL_EPARSE;
  *out = (int64_t)(v << shift);
  return 0;
}

void msn__conv_size(struct msn__ctx *c, const struct msn__field *f,
                    const struct msn__node *n, void *dst) {
  char q[VALUE_QUOTE_MAX];
  int64_t v;

  if (value_scalar(c, n, "a size", f->key) < 0)
    return;
  if (msn__size(&v, n->str) < 0 || v < f->min) {
    msn__err(c, n, "invalid size '%s' for '%s' (expected e.g. 512M, 2G)",
             msn__quote(q, sizeof(q), n->str), f->key);
    return;
  }
  *(int64_t *)dst = v;
}

void msn__conv_argv(struct msn__ctx *c, const struct msn__field *f,
                    const struct msn__node *n, void *dst) {
  char ***out = dst, **v;
  int bad = 0;

  if (n->type == MSN__SCALAR && n->str[0] != '\0') {
    v = xcalloc(4, sizeof(*v));
    v[0] = xstrdup("sh");
    v[1] = xstrdup("-c");
    v[2] = xstrdup(n->str);
  } else if (n->type == MSN__SEQ && n->n > 0) {
    v = xcalloc(n->n + 1, sizeof(*v));
    for (size_t i = 0; i < n->n; i++) {
      if (value_scalar(c, n->v[i], "a string", f->key) < 0)
        bad = 1;
      else
        v[i] = xstrdup(n->v[i]->str);
    }
  } else {
    msn__err(c, n,
             "expected a command for '%s' (a non-empty list of strings or "
             "one shell line), got %s",
             f->key,
             n->type == MSN__SCALAR ? "''"
             : n->type == MSN__SEQ  ? "an empty sequence"
                                    : msn__node_what(n));
    return;
  }
  if (bad) {
    for (size_t i = 0; i < n->n; i++)
      free(v[i]);
    free(v);
    return;
  }
  msn__argv_free(*out);
  *out = v;
}

static int value_env_name(const char *s) {
  if (*s == '\0' || (*s >= '0' && *s <= '9'))
    return 0;
  return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_") == strlen(s);
}

void msn__conv_env(struct msn__ctx *c, const struct msn__field *f,
                   const struct msn__node *n, void *dst) {
  char ***out = dst, **v, q[VALUE_QUOTE_MAX];
  size_t k = 0;

  if (n->type != MSN__MAP) {
    msn__type_error(c, n, "a mapping", f->key);
    return;
  }
  v = xcalloc(n->n / 2 + 1, sizeof(*v));
  for (size_t i = 0; i + 1 < n->n; i += 2) {
    const struct msn__node *key = n->v[i], *val = n->v[i + 1];

    if (!value_env_name(key->str)) {
      msn__err(c, key,
               "invalid environment variable name '%s' (expected letters, "
               "digits and '_', not starting with a digit)",
               msn__quote(q, sizeof(q), key->str));
      continue;
    }
    if (value_scalar(c, val, "a string", key->str) < 0)
      continue;
    xasprintf(&v[k++], "%s=%s", key->str, val->str);
  }
  msn__argv_free(*out);
  *out = v;
}

void msn__conv_priority(struct msn__ctx *c, const struct msn__field *f,
                        const struct msn__node *n, void *dst) {
  if (value_scalar(c, n, "a priority", f->key) < 0)
    return;
  for (size_t i = 0; i < CRL_ARRAY_SIZE(value_priorities); i++) {
    if (strcmp(n->str, value_priorities[i]) == 0) {
      *(int *)dst = (int)i;
      return;
    }
  }
  msn__enum_error(c, n, f->key, "low, medium, high or critical",
                  value_priorities, CRL_ARRAY_SIZE(value_priorities));
}

void msn__conv_review(struct msn__ctx *c, const struct msn__field *f,
                      const struct msn__node *n, void *dst) {
  static const char *const yes[] = {"required", "true", "True", "TRUE",
                                    "yes",      "Yes",  "on",   "On"};
  static const char *const no[] = {"none", "false", "False", "FALSE",
                                   "no",   "No",    "off",   "Off"};
  static const char *const names[] = {"required", "none", "true", "false"};

  if (value_scalar(c, n, "required, none or a boolean", f->key) < 0)
    return;
  for (size_t i = 0; i < CRL_ARRAY_SIZE(yes); i++) {
    if (strcmp(n->str, yes[i]) == 0 || strcmp(n->str, no[i]) == 0) {
      *(int *)dst = strcmp(n->str, yes[i]) == 0;
      return;
    }
  }
  msn__enum_error(c, n, f->key, "required, none, true or false", names,
                  CRL_ARRAY_SIZE(names));
}

void msn__conv_ci_review(struct msn__ctx *c, const struct msn__field *f,
                         const struct msn__node *n, void *dst) {
  static const char *const names[] = {"fail", "approve"};

  if (value_scalar(c, n, "approve or fail", f->key) < 0)
    return;
  for (size_t i = 0; i < CRL_ARRAY_SIZE(names); i++) {
    if (strcmp(n->str, names[i]) == 0) {
      *(int *)dst = (int)i;
      return;
    }
  }
  msn__enum_error(c, n, f->key, "approve or fail", names,
                  CRL_ARRAY_SIZE(names));
}

void msn__conv_adapter(struct msn__ctx *c, const struct msn__field *f,
                       const struct msn__node *n, void *dst) {
  const char *near;
  char q[VALUE_QUOTE_MAX];

  msn__conv_string(c, f, n, dst);
  if (*(char **)dst == NULL)
    return;
  for (size_t i = 0; i < msn__nadapters; i++)
    if (strcmp(n->str, msn__adapters[i]) == 0)
      return;
  near = msn__suggest(n->str, msn__adapters, msn__nadapters);
  msn__quote(q, sizeof(q), n->str);
  if (near != NULL)
    msn__err(c, n, "unknown adapter '%s' (did you mean '%s'?)", q, near);
  else
    msn__err(c, n,
             "unknown adapter '%s' (expected exec, claude-code, codex, "
             "gemini, qwen-code or opencode)",
             q);
}

void msn__conv_needs(struct msn__ctx *c, const struct msn__field *f,
                     const struct msn__node *n, void *dst) {
  int bad = 0;

  if (n->type == MSN__SEQ) {
    for (size_t i = 0; i < n->n; i++)
      if (value_scalar(c, n->v[i], "a task id", f->key) < 0)
        bad = 1;
  } else if (n->type != MSN__SCALAR) {
    msn__type_error(c, n, "a list of task ids", f->key);
    bad = 1;
  }
  if (!bad)
    *(const struct msn__node **)dst = n;
}
