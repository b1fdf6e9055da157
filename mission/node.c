/*
 * node.c: the document tree a mission file is read into. libyaml's event API
 * (yaml_parser_parse) drives a small recursive builder that keeps each
 * node's start mark as a 1-based line and column, so every later check can
 * point at the exact spot. The builder refuses what the schema never needs
 * and would only make positions ambiguous: aliases, non-scalar keys, strings
 * with NUL bytes, more than one document and absurd nesting. Duplicate keys
 * in a mapping are reported and the later ones dropped, so the schema sees
 * each key once. A syntax error ends the parse with libyaml's own problem
 * text at its problem mark.
 */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "mission-int.h"

struct node_parser {
  yaml_parser_t p;
  const char *file;
  const char *buf;
  size_t len;
  struct msn_diags *d;
};

static int node_build(struct node_parser *np, yaml_event_t *ev, int depth,
                      struct msn__node **out);

static void node_error(struct node_parser *np, yaml_mark_t mark,
                       const char *fmt, const char *arg) {
  msn_diags_add(np->d, np->file, (int)mark.line + 1, (int)mark.column + 1, fmt,
                arg);
}

void msn__offset_pos(const char *buf, size_t off, int *line, int *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (buf[i] == '\n') {
      (*line)++;
      *col = 1;
    } else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
      (*col)++;
    }
  }
}

/* Reader errors (bad encoding) carry a byte offset instead of a mark. */
static void node_reader_error(struct node_parser *np) {
  size_t off = np->p.problem_offset;
  int line, col;

  msn__offset_pos(np->buf, off < np->len ? off : np->len, &line, &col);
  msn_diags_add(np->d, np->file, line, col, "%s",
                np->p.problem ? np->p.problem : "invalid input");
}

static void node_syntax_error(struct node_parser *np) {
  yaml_parser_t *p = &np->p;
  const char *problem = p->problem ? p->problem : "invalid YAML";

  if (p->error == YAML_READER_ERROR) {
    node_reader_error(np);
  } else if (p->context != NULL) {
    msn_diags_add(np->d, np->file, (int)p->problem_mark.line + 1,
                  (int)p->problem_mark.column + 1, "%s %s (started at %d:%d)",
                  problem, p->context, (int)p->context_mark.line + 1,
                  (int)p->context_mark.column + 1);
  } else {
    node_error(np, p->problem_mark, "%s", problem);
  }
}

static int node_next(struct node_parser *np, yaml_event_t *ev) {
  if (yaml_parser_parse(&np->p, ev))
    return 0;
  node_syntax_error(np);
  return CRL_EPARSE;
}

static struct msn__node *node_new(enum msn__type type, yaml_mark_t mark) {
  struct msn__node *n = xcalloc(1, sizeof(*n));

  n->type = type;
  n->line = (int)mark.line + 1;
  n->col = (int)mark.column + 1;
  return n;
}

static void node_push(struct msn__node *n, struct msn__node *kid) {
  if (n->n == n->cap) {
    n->cap = n->cap ? n->cap * 2 : 4;
    n->v = xreallocarray(n->v, n->cap, sizeof(*n->v));
  }
  n->v[n->n++] = kid;
}

void msn__node_free(struct msn__node *n) {
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->n; i++)
    msn__node_free(n->v[i]);
  free(n->v);
  free(n->str);
  free(n);
}

static int node_is_null(const char *s, size_t len) {
  return len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
         strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static int node_scalar(struct node_parser *np, yaml_event_t *ev,
                       struct msn__node **out) {
  const char *s = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
              ev->data.scalar.tag == NULL;
  struct msn__node *n;

  if (memchr(s, '\0', len) != NULL) {
    node_error(np, ev->start_mark, "%s", "strings may not contain NUL bytes");
    return CRL_EPARSE;
  }
  n = node_new(plain && node_is_null(s, len) ? MSN__NULL : MSN__SCALAR,
               ev->start_mark);
  n->plain = plain;
  n->str = xstrndup(s, len);
  *out = n;
  return 0;
}

static int node_seq(struct node_parser *np, yaml_event_t *ev, int depth,
                    struct msn__node **out) {
  struct msn__node *n = node_new(MSN__SEQ, ev->start_mark), *kid;
  yaml_event_t e;
  int rc;

  for (;;) {
    if ((rc = node_next(np, &e)) < 0)
      goto out;
    if (e.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&e);
      break;
    }
    rc = node_build(np, &e, depth + 1, &kid);
    yaml_event_delete(&e);
    if (rc < 0)
      goto out;
    node_push(n, kid);
  }
  *out = n;
  n = NULL;
out:
  msn__node_free(n);
  return rc;
}

struct node_key {
  const char *key;
  size_t pair;
};

static int node_key_cmp(const void *a, const void *b) {
  const struct node_key *x = a, *y = b;
  int c = strcmp(x->key, y->key);

  if (c != 0)
    return c;
  return x->pair < y->pair ? -1 : x->pair > y->pair;
}

/* Reports every repeated key against its first occurrence and drops the
 * repeats. Sorting keeps this O(n log n) for maps with many keys. */
static void node_dedup(struct node_parser *np, struct msn__node *n) {
  size_t npairs = n->n / 2, k = 0;
  struct node_key *keys = xreallocarray(NULL, npairs + 1, sizeof(*keys));
  char *drop = xcalloc(npairs + 1, 1), q[64];

  for (size_t i = 0; i < npairs; i++)
    keys[i] = (struct node_key){n->v[2 * i]->str, i};
  qsort(keys, npairs, sizeof(*keys), node_key_cmp);
  for (size_t i = 1, first = 0; i < npairs; i++) {
    const struct msn__node *a, *b;

    if (strcmp(keys[i].key, keys[first].key) != 0) {
      first = i;
      continue;
    }
    a = n->v[2 * keys[first].pair];
    b = n->v[2 * keys[i].pair];
    msn_diags_add(np->d, np->file, b->line, b->col,
                  "duplicate key '%s' (first defined at %d:%d)",
                  msn__quote(q, sizeof(q), b->str), a->line, a->col);
    drop[keys[i].pair] = 1;
  }
  for (size_t i = 0; i < npairs; i++) {
    if (drop[i]) {
      msn__node_free(n->v[2 * i]);
      msn__node_free(n->v[2 * i + 1]);
      continue;
    }
    n->v[k++] = n->v[2 * i];
    n->v[k++] = n->v[2 * i + 1];
  }
  n->n = k;
  free(keys);
  free(drop);
}

/* Reads one value event and builds it; *out is NULL at the end event. */
static int node_item(struct node_parser *np, int depth,
                     struct msn__node **out) {
  yaml_event_t e;
  int rc;

  *out = NULL;
  if ((rc = node_next(np, &e)) < 0)
    return rc;
  if (e.type != YAML_MAPPING_END_EVENT)
    rc = node_build(np, &e, depth, out);
  yaml_event_delete(&e);
  return rc;
}

static int node_map(struct node_parser *np, yaml_event_t *ev, int depth,
                    struct msn__node **out) {
  struct msn__node *n = node_new(MSN__MAP, ev->start_mark), *k, *v;
  int rc;

  for (;;) {
    if ((rc = node_item(np, depth + 1, &k)) < 0 || k == NULL)
      goto done;
    if ((rc = node_item(np, depth + 1, &v)) < 0 || v == NULL) {
      msn__node_free(k);
      goto done;
    }
    if (k->type == MSN__MAP || k->type == MSN__SEQ) {
      msn_diags_add(np->d, np->file, k->line, k->col,
                    "expected a scalar key, got %s", msn__node_what(k));
      msn__node_free(k);
      msn__node_free(v);
      continue;
    }
    node_push(n, k);
    node_push(n, v);
  }
done:
  if (rc < 0)
    goto out;
  node_dedup(np, n);
  *out = n;
  n = NULL;
out:
  msn__node_free(n);
  return rc;
}

static int node_build(struct node_parser *np, yaml_event_t *ev, int depth,
                      struct msn__node **out) {
  if (depth > MSN__MAX_DEPTH && (ev->type == YAML_SEQUENCE_START_EVENT ||
                                 ev->type == YAML_MAPPING_START_EVENT)) {
    msn_diags_add(np->d, np->file, (int)ev->start_mark.line + 1,
                  (int)ev->start_mark.column + 1,
                  "nesting deeper than %d levels", MSN__MAX_DEPTH);
    return CRL_EPARSE;
  }
  switch (ev->type) {
  case YAML_SCALAR_EVENT:
    return node_scalar(np, ev, out);
  case YAML_SEQUENCE_START_EVENT:
    return node_seq(np, ev, depth, out);
  case YAML_MAPPING_START_EVENT:
    return node_map(np, ev, depth, out);
  case YAML_ALIAS_EVENT:
    node_error(np, ev->start_mark, "aliases are not supported (*%s)",
               (const char *)ev->data.alias.anchor);
    return CRL_EPARSE;
  default:
    node_error(np, ev->start_mark, "%s", "unexpected YAML event");
    return CRL_EPARSE;
  }
}

/* Expects `type` next; anything else is a second document. */
static int node_expect(struct node_parser *np, yaml_event_type_t type) {
  yaml_event_t e;
  int rc;

  if ((rc = node_next(np, &e)) < 0)
    return rc;
  if (e.type != type) {
    node_error(np, e.start_mark, "%s",
               "expected a single document (found another)");
    rc = CRL_EPARSE;
  }
  yaml_event_delete(&e);
  return rc;
}

static int node_document(struct node_parser *np, struct msn__node **out) {
  yaml_event_t e;
  int rc;

  if ((rc = node_expect(np, YAML_STREAM_START_EVENT)) < 0)
    return rc;
  if ((rc = node_next(np, &e)) < 0)
    return rc;
  if (e.type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(&e);
    return 0;
  }
  yaml_event_delete(&e);
  if ((rc = node_next(np, &e)) < 0)
    return rc;
  rc = node_build(np, &e, 1, out);
  yaml_event_delete(&e);
  if (rc == 0 && (rc = node_expect(np, YAML_DOCUMENT_END_EVENT)) == 0)
    rc = node_expect(np, YAML_STREAM_END_EVENT);
  return rc;
}

int msn__node_parse(struct msn__node **out, const char *file, const char *buf,
                    size_t len, struct msn_diags *d) {
  struct node_parser np = {.file = file, .buf = buf, .len = len, .d = d};
  struct msn__node *root = NULL;
  int rc;

  *out = NULL;
  if (!yaml_parser_initialize(&np.p))
    abort();
  yaml_parser_set_input_string(&np.p, (const unsigned char *)buf, len);
  rc = node_document(&np, &root);
  yaml_parser_delete(&np.p);
  if (rc < 0) {
    msn__node_free(root);
    return rc;
  }
  *out = root;
  return 0;
}

const struct msn__node *msn__node_get(const struct msn__node *n,
                                      const char *key) {
  if (n == NULL || n->type != MSN__MAP)
    return NULL;
  for (size_t i = 0; i + 1 < n->n; i += 2)
    if (strcmp(n->v[i]->str, key) == 0)
      return n->v[i + 1];
  return NULL;
}

const char *msn__node_what(const struct msn__node *n) {
  switch (n->type) {
  case MSN__MAP:
    return "a mapping";
  case MSN__SEQ:
    return "a sequence";
  case MSN__NULL:
    return "null";
  default:
    return "a scalar";
  }
}
