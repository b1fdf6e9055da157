/*
 * The pricing table (price.h): models and their dollars per million tokens,
 * loaded from versioned JSON files where a later file overrides earlier
 * entries model by model, and the cost of a usage. A linear table: a few
 * hundred models at most, looked up once per LLM call.
 */
#include "price.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct price_entry {
  char *model;
  struct rt_price price;
};

struct rt_price_table {
  struct price_entry *v;
  size_t n;
};

int64_t rt_usage_total(const struct rt_usage *u) {
  return u->input + u->output + u->cache_read + u->cache_write;
}

void rt_usage_add(struct rt_usage *acc, const struct rt_usage *u) {
  acc->input += u->input;
  acc->output += u->output;
  acc->cache_read += u->cache_read;
  acc->cache_write += u->cache_write;
  acc->reasoning += u->reasoning;
}

struct rt_price_table *rt_price_table_new(void) {
  return xcalloc(1, sizeof(struct rt_price_table));
}

void rt_price_table_free(struct rt_price_table *t) {
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++)
    free(t->v[i].model);
  free(t->v);
  free(t);
}

size_t rt_price_table_count(const struct rt_price_table *t) {
  return t->n;
}

static struct price_entry *entry_exact(const struct rt_price_table *t,
                                       const char *model) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->v[i].model, model) == 0)
      return &t->v[i];
  return NULL;
}

static void table_set(struct rt_price_table *t, const char *model,
                      const struct rt_price *p) {
  struct price_entry *e = entry_exact(t, model);

  if (e == NULL) {
    t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
    e = &t->v[t->n++];
    e->model = xstrdup(model);
  }
  e->price = *p;
}

/* One price field: a non-negative number, or dflt when absent. */
static int price_field(double *out, json_t *obj, const char *key, double dflt,
                       int required) {
  json_t *v = json_object_get(obj, key);

  if (v == NULL && !required) {
    *out = dflt;
    return 0;
  }
  if (!json_is_number(v) || json_number_value(v) < 0)
    return -1;
  *out = json_number_value(v);
  return 0;
}

static int price_parse(struct rt_price *p, json_t *obj) {
  if (!json_is_object(obj) || price_field(&p->input, obj, "input", 0, 1) < 0 ||
      price_field(&p->output, obj, "output", 0, 1) < 0 ||
      price_field(&p->cache_read, obj, "cache_read", p->input, 0) < 0 ||
      price_field(&p->cache_write, obj, "cache_write", p->input, 0) < 0)
    return -1;
  return 0;
}

/* Checks the whole file before t changes, so a bad file leaves t as it
 * was. */
static int table_merge(struct rt_price_table *t, json_t *root, const char *path,
                       struct crl_err *err) {
  json_t *models = json_object_get(root, "models"), *v;
  json_t *ver = json_object_get(root, "version");
  struct rt_price p;
  const char *name;

  if (!json_is_integer(ver) || json_integer_value(ver) != RT_PRICE_VERSION)
    return crl_err_set(err, CRL_EPARSE, "%s: \"version\" must be %d", path,
                       RT_PRICE_VERSION);
  if (!json_is_object(models))
    return crl_err_set(err, CRL_EPARSE, "%s: \"models\" must be an object",
                       path);
  json_object_foreach(models, name, v) {
    if (price_parse(&p, v) < 0)
      return crl_err_set(err, CRL_EPARSE,
                         "%s: models.%s: input and output must be "
                         "non-negative numbers, as must cache_read and "
                         "cache_write when present",
                         path, name);
  }
  json_object_foreach(models, name, v) {
    price_parse(&p, v);
    table_set(t, name, &p);
  }
  return 0;
}

int rt_price_table_load(struct rt_price_table *t, const char *path,
                        struct crl_err *err) {
  json_error_t jerr;
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  int rc;

  if (root == NULL) {
    if (jerr.line < 1 && jerr.position == 0)
      return crl_err_set(err, -ENOENT, "%s: %s", path, jerr.text);
    return crl_err_set(err, CRL_EPARSE, "%s:%d:%d: %s", path, jerr.line,
                       jerr.column, jerr.text);
  }
  rc = table_merge(t, root, path, err);
  json_decref(root);
  return rc;
}

/* A dated or "-latest" suffix: "-20250929", "-2024-08-06", "-latest". */
static int version_suffix(const char *s) {
  if (*s != '-' && *s != '@')
    return 0;
  s++;
  if (strcmp(s, "latest") == 0)
    return 1;
  if (*s == '\0')
    return 0;
  return strspn(s, "0123456789-") == strlen(s);
}

const struct rt_price *rt_price_find(const struct rt_price_table *t,
                                     const char *model) {
  const struct price_entry *e, *best = NULL;
  size_t best_len = 0;

  if (model == NULL)
    return NULL;
  if ((e = entry_exact(t, model)) != NULL)
    return &e->price;
  for (size_t i = 0; i < t->n; i++) {
    size_t n = strlen(t->v[i].model);
    if (n > best_len && strncmp(model, t->v[i].model, n) == 0 &&
        version_suffix(model + n)) {
      best = &t->v[i];
      best_len = n;
    }
  }
  return best ? &best->price : NULL;
}

int rt_price_cost(const struct rt_price_table *t, const char *model,
                  const struct rt_usage *u, double *usd) {
  const struct rt_price *p = rt_price_find(t, model);

  *usd = 0;
  if (p == NULL)
    return CRL_ENOT_FOUND;
  *usd = ((double)u->input * p->input + (double)u->output * p->output +
          (double)u->cache_read * p->cache_read +
          (double)u->cache_write * p->cache_write) /
         1e6;
  return 0;
}
