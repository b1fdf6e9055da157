/*
 * JSON Lines parsing shared by the agent CLI adapters: each stdout line is
 * one JSON object, parsed with jansson and handed to the adapter's callback,
 * which emits normalized events through the helpers below. Hostile input is
 * the normal case here: an overlong line (cut into pieces by the stream)
 * gives one error event for its first piece and nothing for the rest, a
 * line that is not JSON gives a short error event, and anything else that
 * is unexpected (a non-object, an unknown type, a field of the wrong type)
 * is ignored. Streamed message deltas can be joined in the parser's memory
 * (adapter__text_add); they are emitted as one message before any other
 * event of the stream. The helpers also fix the text of each event kind,
 * documented in adapter.h, so that all five adapters agree byte for byte.
 */
#include "adapter-int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compact, insertion-ordered, non-ASCII left as UTF-8. */
#define JSONL_DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

static int jsonl_blank(const char *line, size_t len) {
  size_t i;

  for (i = 0; i < len; i++)
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
      return 0;
  return 1;
}

/* jansson quotes the input near an error, which may be any bytes: keep
 * printable ASCII only. */
static void jsonl_ascii(char *s) {
  for (; *s != '\0'; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
      *s = '?';
}

void adapter__jsonl_line(struct adapter_parse *p, const char *line, size_t len,
                         int truncated, adapter__json_cb cb,
                         adapter_emit_cb emit, void *payload) {
  json_error_t jerr;
  json_t *root;

  if (truncated) {
    adapter_parse_flush(p, emit, payload);
    if (p->piece == 0)
      adapter__emit_error(emit, payload,
                          "output line too long: over %zu bytes, skipped", len);
    return;
  }
  if (jsonl_blank(line, len))
    return;
  root = json_loadb(line, len,
                    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY,
                    &jerr);
  if (root == NULL) {
    adapter_parse_flush(p, emit, payload);
    jsonl_ascii(jerr.text);
    adapter__emit_error(emit, payload, "invalid JSON at byte %d: %s",
                        jerr.position, jerr.text);
    return;
  }
  if (json_is_object(root))
    cb(p, root, emit, payload);
  json_decref(root);
}

void adapter__text_add(struct adapter_parse *p, const char *text,
                       adapter_emit_cb emit, void *payload) {
  size_t len = strlen(text);

  if (crl_buf_append(&p->text, text, len) == 0)
    return;
  /* Full: what was joined goes out first, then the delta starts anew (or,
   * larger than the whole buffer, goes out on its own). */
  adapter_parse_flush(p, emit, payload);
  if (crl_buf_append(&p->text, text, len) < 0)
    adapter__emit_text(emit, payload, ADAPTER_EV_MESSAGE, text);
}

void adapter__emit_text(adapter_emit_cb emit, void *payload,
                        enum adapter_event_kind kind, const char *text) {
  struct adapter_event ev = {
      .kind = kind,
      .text = text,
      .len = strlen(text),
      .truncated = 0,
  };

  emit(&ev, payload);
}

void adapter__emit_error(adapter_emit_cb emit, void *payload, const char *fmt,
                         ...) {
  char msg[256];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  adapter__emit_text(emit, payload, ADAPTER_EV_ERROR, msg);
}

void adapter__emit_session(struct adapter_parse *p, const char *id,
                           adapter_emit_cb emit, void *payload) {
  if (id == NULL || id[0] == '\0' || strcmp(id, p->session) == 0)
    return;
  if (strlen(id) >= sizeof(p->session)) {
    adapter__emit_error(emit, payload, "session id too long, ignored");
    return;
  }
  strcpy(p->session, id);
  adapter__emit_text(emit, payload, ADAPTER_EV_SESSION, id);
}

/* Emits obj, dumped compact, as one event of the given kind; steals obj. */
static void jsonl_emit_json(enum adapter_event_kind kind, json_t *obj,
                            adapter_emit_cb emit, void *payload) {
  char *text = obj != NULL ? json_dumps(obj, JSONL_DUMP_FLAGS) : NULL;

  if (text == NULL)
    adapter__emit_error(emit, payload, "cannot encode a %s event",
                        adapter_event_kind_name(kind));
  else
    adapter__emit_text(emit, payload, kind, text);
  free(text);
  json_decref(obj);
}

void adapter__emit_tool_call(const char *id, const char *name, json_t *input,
                             adapter_emit_cb emit, void *payload) {
  json_t *o = json_object();

  if (id != NULL)
    json_object_set_new(o, "id", json_string(id));
  json_object_set_new(o, "name", json_string(name != NULL ? name : ""));
  json_object_set_new(o, "input",
                      input != NULL ? json_incref(input) : json_object());
  jsonl_emit_json(ADAPTER_EV_TOOL_CALL, o, emit, payload);
}

void adapter__emit_tool_result(const char *id, int is_error, json_t *output,
                               adapter_emit_cb emit, void *payload) {
  json_t *o = json_object();

  if (id != NULL)
    json_object_set_new(o, "id", json_string(id));
  json_object_set_new(o, "is_error", json_boolean(is_error));
  json_object_set_new(o, "output",
                      output != NULL ? json_incref(output) : json_string(""));
  jsonl_emit_json(ADAPTER_EV_TOOL_RESULT, o, emit, payload);
}

void adapter__emit_usage(const struct adapter__usage *u, adapter_emit_cb emit,
                         void *payload) {
  char text[160];

  snprintf(text, sizeof(text),
           "{\"input\":%" JSON_INTEGER_FORMAT
           ",\"output\":%" JSON_INTEGER_FORMAT
           ",\"cache_read\":%" JSON_INTEGER_FORMAT
           ",\"cache_write\":%" JSON_INTEGER_FORMAT "}",
           u->input, u->output, u->cache_read, u->cache_write);
  adapter__emit_text(emit, payload, ADAPTER_EV_USAGE, text);
}

const char *adapter__jstr(json_t *obj, const char *key) {
  return json_string_value(json_object_get(obj, key));
}

json_int_t adapter__jcount(json_t *obj, const char *key) {
  json_t *v = json_object_get(obj, key);
  double d;

  if (json_is_integer(v))
    return json_integer_value(v) > 0 ? json_integer_value(v) : 0;
  if (!json_is_real(v))
    return 0;
  d = json_real_value(v);
  /* A count beyond 2^53 is nonsense; clamping keeps the cast defined. */
  return d > 0 && d < 9007199254740992.0 ? (json_int_t)d : 0;
}

json_t *adapter__jpath(json_t *obj, const char *path) {
  char key[64];
  const char *dot;
  size_t n;

  while (obj != NULL && path != NULL) {
    dot = strchr(path, '.');
    n = dot != NULL ? (size_t)(dot - path) : strlen(path);
    if (n >= sizeof(key))
      return NULL;
    memcpy(key, path, n);
    key[n] = '\0';
    obj = json_object_get(obj, key);
    path = dot != NULL ? dot + 1 : NULL;
  }
  return obj;
}
