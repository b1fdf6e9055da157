/*
 * Hostile output through the five agent CLI parsers (run under ASan and
 * UBSan): every prefix of every recorded line, invalid JSON, a huge line,
 * random bytes, and each recorded line with every JSON value swapped for
 * one of another type. The parsers must not crash, must stay bounded, and
 * must say what went wrong with `error` events: one per invalid line, one
 * per overlong line.
 */
#include <jansson.h>

#include "events.h"

static const char *const kinds[] = {"claude-code", "codex", "gemini",
                                    "qwen-code", "opencode"};

/* Runs text through kind with a small line limit and returns the events. */
static void feed(struct events *e, const char *kind, const char *text,
                 size_t len, size_t max_line) {
  events_init(e);
  events_feed(e, kind, text, len, 0, 42, max_line);
}

Test(adapter_robust, invalid_json_gives_one_error_per_line) {
  static const char in[] = "{\"type\":\n"
                           "not json at all\n"
                           "{\"type\":\"result\",}\n"
                           "\n"
                           "   \n"
                           "[1,2,3]\n"
                           "\"just a string\"\n"
                           "{\"type\":\"something-new\",\"x\":1}\n"
                           "{\"type\":\"result\"} trailing\n";
  struct events e;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    feed(&e, kinds[i], in, sizeof(in) - 1, 4096);
    cr_assert_eq(e.kinds[ADAPTER_EV_ERROR], 4, "%s: %s", kinds[i], e.out.data);
    cr_assert_not_null(strstr(e.out.data, "error\tinvalid JSON"));
    events_close(&e);
  }
}

Test(adapter_robust, every_prefix_of_every_recorded_line) {
  char path[4096], *data, *line, *nl;
  struct adapter_parse p;
  struct events e;
  size_t len, cut;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    const struct adapter_ops *ops = adapter_find(kinds[i]);

    snprintf(path, sizeof(path), "%s/%s/write-file.jsonl", DATA_DIR, kinds[i]);
    data = events_slurp(path, &len);
    events_init(&e);
    for (line = data; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
      for (cut = 0; cut < (size_t)(nl - line); cut++) {
        char *copy = strndup(line, cut);

        memset(&p, 0, sizeof(p));
        ops->parse_line(&p, copy, cut, 0, events_collect, &e);
        free(copy);
      }
    }
    /* Each strict prefix is invalid JSON or blank, so gives an error or
     * nothing: never a message, tool or usage event. */
    cr_assert_eq(e.n, e.kinds[ADAPTER_EV_ERROR], "%s", kinds[i]);
    events_close(&e);
    free(data);
  }
}

Test(adapter_robust, huge_line_gives_one_error_and_stays_bounded) {
  size_t big = 8u << 20, max = 64u << 10;
  char *text = malloc(big + 64);
  struct events e;
  size_t n;

  /* A valid JSON line of 8 MiB, then a normal line the parser must still
   * understand after the overlong one. */
  n = (size_t)sprintf(text, "{\"type\":\"assistant\",\"pad\":\"");
  memset(text + n, 'x', big - n);
  n = big;
  n += (size_t)sprintf(text + n, "\"}\n{\"type\":\"init\"}\n");
  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    feed(&e, kinds[i], text, n, max);
    cr_assert_eq(e.kinds[ADAPTER_EV_ERROR], 1, "%s: %s", kinds[i], e.out.data);
    cr_assert_not_null(strstr(e.out.data, "too long"));
    events_close(&e);
  }
  free(text);
}

Test(adapter_robust, two_overlong_lines_give_two_errors) {
  char text[300];
  struct events e;

  memset(text, 'a', 100);
  text[100] = '\n';
  memset(text + 101, 'b', 100);
  text[201] = '\n';
  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    feed(&e, kinds[i], text, 202, 16);
    cr_assert_eq(e.kinds[ADAPTER_EV_ERROR], 2, "%s", kinds[i]);
    cr_assert_eq(e.n, 2);
    events_close(&e);
  }
}

Test(adapter_robust, random_bytes_do_no_harm) {
  size_t len = 1u << 20;
  unsigned seed = 7;
  char *junk = malloc(len);
  struct events e;

  for (size_t i = 0; i < len; i++) {
    junk[i] = (char)rand_r(&seed);
    /* A few braces and newlines make it look a little like JSON lines. */
    if (junk[i] == 'A')
      junk[i] = '\n';
    else if (junk[i] == 'B')
      junk[i] = '{';
  }
  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    feed(&e, kinds[i], junk, len, 4096);
    cr_assert_gt(e.kinds[ADAPTER_EV_ERROR], 0, "%s", kinds[i]);
    cr_assert_eq(e.kinds[ADAPTER_EV_USAGE], 0);
    events_close(&e);
  }
  free(junk);
}

static json_t *replacement(int variant) {
  switch (variant) {
  case 0:
    return json_null();
  case 1:
    return json_integer(-5);
  case 2:
    return json_string("\xe2\x82\xac\n\t\\");
  case 3:
    return json_array();
  case 4:
    return json_real(1e300);
  default:
    return json_object();
  }
}

/* Swaps, one at a time, every value under node for every replacement, and
 * runs the whole line through the parser after each swap. */
static void mutate(json_t *root, json_t *node, const char *kind,
                   struct events *e) {
  const char *key;
  json_t *child;
  void *tmp;
  size_t i;

  if (json_is_object(node)) {
    json_object_foreach_safe(node, tmp, key, child) {
      json_incref(child);
      for (int v = 0; v < 6; v++) {
        char *line;

        json_object_set_new(node, key, replacement(v));
        line = json_dumps(root, JSON_COMPACT);
        events_feed(e, kind, line, strlen(line), 0, 1, 1 << 20);
        free(line);
      }
      json_object_set(node, key, child);
      mutate(root, child, kind, e);
      json_decref(child);
    }
  } else if (json_is_array(node)) {
    json_array_foreach(node, i, child) {
      mutate(root, child, kind, e);
    }
  }
}

Test(adapter_robust, values_of_the_wrong_type_are_ignored, .timeout = 120) {
  char path[4096], *data, *line, *nl;
  json_t *root;
  struct events e;
  size_t len;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    snprintf(path, sizeof(path), "%s/%s/write-file.jsonl", DATA_DIR, kinds[i]);
    data = events_slurp(path, &len);
    for (line = data; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
      root = json_loadb(line, (size_t)(nl - line), 0, NULL);
      cr_assert_not_null(root);
      events_init(&e);
      mutate(root, root, kinds[i], &e);
      /* Only invalid JSON gives an error from the line parser; a swapped
       * value may give an error event from the adapter (a failed result),
       * but never a crash, and every event has text. */
      events_close(&e);
      json_decref(root);
    }
    free(data);
  }
}

Test(adapter_robust, gemini_deltas_join_until_another_event) {
  static const char in[] =
      "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"a\","
      "\"delta\":true}\n"
      "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"b\\n\","
      "\"delta\":true}\n"
      "{\"type\":\"tool_use\",\"tool_name\":\"t\",\"tool_id\":\"1\"}\n"
      "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"c\","
      "\"delta\":true}\n"
      "not json\n"
      "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"d\","
      "\"delta\":true}\n"
      "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"e\","
      "\"delta\":true}";
  struct events e;

  feed(&e, "gemini", in, sizeof(in) - 1, 4096);
  cr_assert_str_eq(e.out.data,
                   "message\tab\\n\n"
                   "tool_call\t{\"id\":\"1\",\"name\":\"t\",\"input\":{}}\n"
                   "message\tc\n"
                   "error\tinvalid JSON at byte 3: invalid token near "
                   "'not'\n"
                   "message\tde\n");
  events_close(&e);
}

Test(adapter_robust, joined_text_stays_bounded) {
  size_t piece = 60000, n = 0, lines = 40;
  char *text = malloc(lines * (piece + 100));
  struct events e;

  /* 40 deltas of 60 000 bytes: 2.4 MB of text, emitted in messages of at
   * most ADAPTER_TEXT_MAX bytes. */
  for (size_t i = 0; i < lines; i++) {
    n += (size_t)sprintf(text + n, "{\"type\":\"message\",\"role\":"
                                   "\"assistant\",\"delta\":true,"
                                   "\"content\":\"");
    memset(text + n, 'a' + (char)(i % 26), piece);
    n += piece;
    n += (size_t)sprintf(text + n, "\"}\n");
  }
  feed(&e, "gemini", text, n, 1 << 20);
  cr_assert_eq(e.kinds[ADAPTER_EV_MESSAGE], 3);
  cr_assert_eq(e.out.len, lines * piece + 3 * strlen("message\t\n"));
  events_close(&e);
  free(text);
}
