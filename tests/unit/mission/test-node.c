/*
 * test-node.c: the document tree. Positions are 1-based and point at the
 * first character of each node, in YAML block and flow style and in JSON
 * read through the YAML builder; what the builder refuses is reported at
 * the right spot.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mission-int.h"

static struct msn_diags diags;

static void setup(void) {
  msn_diags_init(&diags);
}

static void teardown(void) {
  msn_diags_close(&diags);
}

static struct msn__node *parse(const char *text, int is_json) {
  struct msn__node *n = NULL;
  int rc;

  if (is_json)
    rc = msn__json_parse(&n, "t", text, strlen(text), &diags);
  else
    rc = msn__node_parse(&n, "t", text, strlen(text), &diags);
  cr_assert_eq(rc, 0, "parse failed: %s", diags.n ? diags.v[0].msg : "");
  return n;
}

static void parse_fails(const char *text, int is_json, int line, int col,
                        const char *msg) {
  struct msn__node *n = NULL;
  int rc;

  if (is_json)
    rc = msn__json_parse(&n, "t", text, strlen(text), &diags);
  else
    rc = msn__node_parse(&n, "t", text, strlen(text), &diags);
  cr_assert_eq(rc, CRL_EPARSE);
  cr_assert_null(n);
  cr_assert_eq(diags.n, 1);
  cr_expect_eq(diags.v[0].line, line, "line %d", diags.v[0].line);
  cr_expect_eq(diags.v[0].col, col, "col %d", diags.v[0].col);
  cr_expect_str_eq(diags.v[0].msg, msg);
}

static void at(const struct msn__node *n, int line, int col) {
  cr_assert_not_null(n);
  cr_expect_eq(n->line, line, "line %d, want %d", n->line, line);
  cr_expect_eq(n->col, col, "col %d, want %d", n->col, col);
}

TestSuite(msn_node, .init = setup, .fini = teardown);

Test(msn_node, block_positions) {
  struct msn__node *root = parse("mission: m\n"
                                 "tickets:\n"
                                 "  - id: T-1\n"
                                 "    tasks: [a, {id: b}]\n",
                                 0);
  const struct msn__node *t, *tasks;

  cr_assert_eq(root->type, MSN__MAP);
  cr_assert_eq(root->n, 4);
  at(root, 1, 1);
  at(root->v[0], 1, 1);
  at(msn__node_get(root, "mission"), 1, 10);
  t = msn__node_get(root, "tickets");
  cr_assert_eq(t->type, MSN__SEQ);
  at(t, 3, 3);
  at(t->v[0], 3, 5);
  tasks = msn__node_get(t->v[0], "tasks");
  at(tasks, 4, 12);
  at(tasks->v[1], 4, 16);
  at(msn__node_get(tasks->v[1], "id"), 4, 21);
  cr_assert_str_eq(msn__node_get(tasks->v[1], "id")->str, "b");
  cr_assert_eq(diags.n, 0);
  msn__node_free(root);
}

Test(msn_node, scalar_styles_and_nulls) {
  struct msn__node *root = parse("a: 5\nb: \"5\"\nc: ~\nd:\ne: null\n"
                                 "f: ''\ng: !!str 5\n",
                                 0);

  cr_assert(msn__node_get(root, "a")->plain);
  cr_assert_not(msn__node_get(root, "b")->plain);
  cr_assert_eq(msn__node_get(root, "c")->type, MSN__NULL);
  cr_assert_eq(msn__node_get(root, "d")->type, MSN__NULL);
  cr_assert_eq(msn__node_get(root, "e")->type, MSN__NULL);
  cr_assert_eq(msn__node_get(root, "f")->type, MSN__SCALAR);
  cr_assert_str_eq(msn__node_get(root, "f")->str, "");
  cr_assert_not(msn__node_get(root, "g")->plain);
  cr_assert_str_eq(msn__node_what(msn__node_get(root, "c")), "null");
  cr_assert_str_eq(msn__node_what(root), "a mapping");
  cr_assert_null(msn__node_get(root, "zz"));
  cr_assert_null(msn__node_get(msn__node_get(root, "a"), "a"));
  msn__node_free(root);
}

Test(msn_node, empty_document_is_null) {
  struct msn__node *root = parse("# only a comment\n", 0);

  cr_assert_null(root);
  cr_assert_eq(diags.n, 0);
  cr_assert_null(parse("", 0));
}

Test(msn_node, duplicate_keys_reported_and_dropped) {
  struct msn__node *root = parse("a: 1\nb: 2\na: 3\nb: 4\na: 5\n", 0);

  cr_assert_eq(root->n, 4);
  cr_assert_str_eq(msn__node_get(root, "a")->str, "1");
  cr_assert_str_eq(msn__node_get(root, "b")->str, "2");
  cr_assert_eq(diags.n, 3);
  msn__diags_sort(&diags, 0);
  cr_assert_eq(diags.v[0].line, 3);
  cr_assert_str_eq(diags.v[0].msg, "duplicate key 'a' (first defined at 1:1)");
  cr_assert_eq(diags.v[1].line, 4);
  cr_assert_str_eq(diags.v[1].msg, "duplicate key 'b' (first defined at 2:1)");
  cr_assert_eq(diags.v[2].line, 5);
  msn__node_free(root);
}

Test(msn_node, non_scalar_key_reported) {
  struct msn__node *root = parse("? [a, b]\n: 1\nc: 2\n", 0);

  cr_assert_eq(root->n, 2);
  cr_assert_eq(diags.n, 1);
  cr_assert_eq(diags.v[0].line, 1);
  cr_assert_eq(diags.v[0].col, 3);
  cr_assert_str_eq(diags.v[0].msg, "expected a scalar key, got a sequence");
  msn__node_free(root);
}

Test(msn_node, syntax_error_uses_problem_mark) {
  parse_fails("a:\n  b: 1\n c: 2\n", 0, 3, 2,
              "did not find expected key while parsing a block mapping "
              "(started at 1:1)");
}

Test(msn_node, scanner_error_without_context) {
  parse_fails("a: 1\n  b: 2\n", 0, 2, 4,
              "mapping values are not allowed in this context");
}

Test(msn_node, aliases_rejected) {
  parse_fails("a: &x 1\nb: *x\n", 0, 2, 4, "aliases are not supported (*x)");
}

Test(msn_node, second_document_rejected) {
  parse_fails("a: 1\n---\nb: 2\n", 0, 2, 1,
              "expected a single document (found another)");
}

Test(msn_node, nul_bytes_rejected) {
  parse_fails("a: \"x\\0y\"\n", 0, 1, 4, "strings may not contain NUL bytes");
}

Test(msn_node, invalid_utf8_position) {
  parse_fails("a: 1\nb: \xff\n", 0, 2, 4, "invalid leading UTF-8 octet");
}

Test(msn_node, deep_nesting_rejected) {
  char buf[400];
  size_t k = 0;

  for (int i = 0; i < 100; i++)
    buf[k++] = '[';
  for (int i = 0; i < 100; i++)
    buf[k++] = ']';
  buf[k] = '\0';
  parse_fails(buf, 0, 1, MSN__MAX_DEPTH + 1, "nesting deeper than 64 levels");
}

Test(msn_node, json_positions) {
  struct msn__node *root =
      parse("{\n"
            "\t\"mission\": \"m\",\n"
            "  \"tickets\": [{\"id\":\"T-1\",\"n\":-1.5e3}]\n"
            "}\n",
            1);
  const struct msn__node *t = msn__node_get(root, "tickets");

  at(root, 1, 1);
  at(root->v[0], 2, 2);
  at(msn__node_get(root, "mission"), 2, 13);
  at(t, 3, 14);
  at(t->v[0], 3, 15);
  at(msn__node_get(t->v[0], "id"), 3, 21);
  cr_assert_str_eq(msn__node_get(t->v[0], "n")->str, "-1.5e3");
  cr_assert(msn__node_get(t->v[0], "n")->plain);
  cr_assert_not(msn__node_get(t->v[0], "id")->plain);
  msn__node_free(root);
}

Test(msn_node, json_escapes) {
  struct msn__node *root =
      parse("{\"a\": \"x\\/y\", \"b\": \"\\ud83d\\ude00!\", \"c\": "
            "\"\\\\ud83d\", \"d\": \"\\u00e9\\t\"}",
            1);

  cr_assert_str_eq(msn__node_get(root, "a")->str, "x/y");
  cr_assert_str_eq(msn__node_get(root, "b")->str, "\xf0\x9f\x98\x80!");
  cr_assert_str_eq(msn__node_get(root, "c")->str, "\\ud83d");
  cr_assert_str_eq(msn__node_get(root, "d")->str, "\xc3\xa9\t");
  msn__node_free(root);
}

Test(msn_node, json_syntax_error_from_jansson) {
  parse_fails("{\n  \"a\": 1,\n}\n", 1, 3, 1,
              "string or '}' expected near '}'");
}

Test(msn_node, json_rejects_yaml) {
  parse_fails("a: 1\n", 1, 1, 1, "'[' or '{' expected near 'a'");
}

Test(msn_node, json_null_and_types) {
  struct msn__node *root =
      parse("{\"a\": null, \"b\": true, \"c\": [], \"d\": {}}", 1);

  cr_assert_eq(msn__node_get(root, "a")->type, MSN__NULL);
  cr_assert_str_eq(msn__node_get(root, "b")->str, "true");
  cr_assert_eq(msn__node_get(root, "c")->type, MSN__SEQ);
  cr_assert_eq(msn__node_get(root, "c")->n, 0);
  cr_assert_eq(msn__node_get(root, "d")->type, MSN__MAP);
  msn__node_free(root);
}

Test(msn_node, json_duplicate_keys_reported) {
  struct msn__node *root = parse("{\"a\": 1, \"a\": 2}", 1);

  cr_assert_eq(root->n, 2);
  cr_assert_eq(diags.n, 1);
  cr_assert_eq(diags.v[0].col, 10);
  msn__node_free(root);
}

Test(msn_node, json_colon_on_next_line) {
  struct msn__node *root = parse("{\"a\"\n  :\n\t\"x\", \"b\"\r\n: [1]}", 1);

  cr_assert_eq(diags.n, 0);
  cr_assert_str_eq(msn__node_get(root, "a")->str, "x");
  at(msn__node_get(root, "a"), 3, 2);
  at(root->v[2], 3, 7);
  at(msn__node_get(root, "b")->v[0], 4, 4);
  msn__node_free(root);
}

Test(msn_node, json_long_keys_refused) {
  char buf[1200];

  snprintf(buf, sizeof(buf), "{\"a\": 1,\n \"%0999d\": 2}", 0);
  parse_fails(buf, 1, 2, 2,
              "object keys longer than 1000 characters are not supported");
}
