/*
 * json.c: the JSON front end. jansson checks the text first, because JSON
 * allows less than YAML and its errors name the exact line and column. Valid
 * JSON is then read by the YAML builder (JSON is YAML flow style), which
 * gives every node a position. Three spellings of valid JSON trip libyaml
 * and are rewritten in a private copy first, keeping every node's line and
 * column: tabs, which libyaml refuses as indentation (a raw tab in valid
 * JSON is whitespace, and a tab and a space are both one column); a key
 * whose ':' is on a later line; and escaped surrogate pairs
 * ("\ud83d\ude00"), which become one "\U0001f600" escape (this one shifts
 * later nodes on its line two columns left). Keys over 1000 characters,
 * which libyaml cannot read in flow style, are refused with a clear error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mission-int.h"

static int json_hex4(const char *s, unsigned *out) {
  unsigned v = 0;

  for (int i = 0; i < 4; i++) {
    char ch = s[i];
    unsigned d;

    if (ch >= '0' && ch <= '9')
      d = (unsigned)(ch - '0');
    else if (ch >= 'a' && ch <= 'f')
      d = (unsigned)(ch - 'a' + 10);
    else if (ch >= 'A' && ch <= 'F')
      d = (unsigned)(ch - 'A' + 10);
    else
      return -1;
    v = v * 16 + d;
  }
  *out = v;
  return 0;
}

/* At s (a backslash-u escape), a high and low surrogate pair? Writes the
 * code point. The text is valid JSON, so s has room for the pair when the
 * first half is a high surrogate. */
static int json_pair(const char *s, size_t left, unsigned *cp) {
  unsigned hi, lo;

  if (left < 12 || json_hex4(s + 2, &hi) < 0 || hi < 0xd800 || hi > 0xdbff)
    return 0;
  if (s[6] != '\\' || s[7] != 'u' || json_hex4(s + 8, &lo) < 0)
    return 0;
  *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
  return 1;
}

/* Keys longer than this (in characters, quotes included) are refused:
 * libyaml drops a simple key whose ':' is over 1024 characters away. */
#define JSON_KEY_MAX 1000

struct json_rw {
  const char *in;
  size_t len, i;
  char *out;
  size_t k;
  size_t str_start; /* offset of the open quote of the current string */
  int in_str;
  size_t bad_key; /* offset + 1 of a key over JSON_KEY_MAX, or 0 */
};

static int json_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static size_t json_chars(const char *s, size_t n) {
  size_t count = 0;

  for (size_t i = 0; i < n; i++)
    count += ((unsigned char)s[i] & 0xc0) != 0x80;
  return count;
}

/* After a string's closing quote: if the string is a key whose ':' sits on
 * a later line (libyaml wants them on one line), write the ':' right after
 * the quote and a space where it stood. Nodes keep their line and column:
 * only trailing whitespace on the key's line moves. */
static void json_after_string(struct json_rw *rw) {
  size_t j = rw->i;
  int newline = 0;

  for (; j < rw->len && json_space(rw->in[j]); j++)
    newline |= rw->in[j] == '\n' || rw->in[j] == '\r';
  if (j >= rw->len || rw->in[j] != ':')
    return;
  if (rw->bad_key == 0 &&
      json_chars(rw->in + rw->str_start, rw->i - rw->str_start) > JSON_KEY_MAX)
    rw->bad_key = rw->str_start + 1;
  if (!newline)
    return;
  rw->out[rw->k++] = ':';
  for (; rw->i < j; rw->i++)
    rw->out[rw->k++] = rw->in[rw->i] == '\t' ? ' ' : rw->in[rw->i];
  rw->out[rw->k++] = ' ';
  rw->i = j + 1;
}

/* One step of the copy of the file comment. The text is valid JSON, so an
 * escape always has its next character. */
static void json_step(struct json_rw *rw) {
  const char *in = rw->in;
  char ch = in[rw->i];
  unsigned cp;

  if (rw->in_str && ch == '\\' && in[rw->i + 1] == 'u' &&
      json_pair(in + rw->i, rw->len - rw->i, &cp)) {
    rw->k += (size_t)sprintf(rw->out + rw->k, "\\U%08x", cp);
    rw->i += 12;
  } else if (rw->in_str && ch == '\\') {
    rw->out[rw->k++] = in[rw->i++];
    rw->out[rw->k++] = in[rw->i++];
  } else if (ch == '"') {
    rw->out[rw->k++] = in[rw->i++];
    rw->in_str = !rw->in_str;
    if (rw->in_str)
      rw->str_start = rw->i - 1;
    else
      json_after_string(rw);
  } else {
    rw->out[rw->k++] = ch == '\t' ? ' ' : ch;
    rw->i++;
  }
}

int msn__json_parse(struct msn__node **out, const char *file, const char *buf,
                    size_t len, struct msn_diags *d) {
  struct json_rw rw = {.in = buf, .len = len};
  json_error_t err;
  json_t *doc;
  int rc, line, col;

  *out = NULL;
  doc = json_loadb(buf, len, 0, &err);
  if (doc == NULL) {
    msn_diags_add(d, file, err.line > 0 ? err.line : 1,
                  err.column > 0 ? err.column : 1, "%s", err.text);
    return CRL_EPARSE;
  }
  json_decref(doc);
  /* Each moved ':' adds one byte and needs at least five of input. */
  rw.out = xmalloc(len + len / 4 + 16);
  while (rw.i < len)
    json_step(&rw);
  rw.out[rw.k] = '\0';
  if (rw.bad_key != 0) {
    msn__offset_pos(buf, rw.bad_key - 1, &line, &col);
    msn_diags_add(d, file, line, col,
                  "object keys longer than %d characters are not supported",
                  JSON_KEY_MAX);
    rc = CRL_EPARSE;
  } else {
    rc = msn__node_parse(out, file, rw.out, rw.k, d);
  }
  free(rw.out);
  return rc;
}
