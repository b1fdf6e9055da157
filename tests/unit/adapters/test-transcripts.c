/*
 * The agent adapters' parsers against the transcripts recorded from the
 * real CLIs (tests/data/<cli>/<scenario>.jsonl, see tests/data/README.md):
 * the events must equal <scenario>.events exactly, whether the bytes come
 * in one piece, byte by byte or in random chunks. Scenarios: write-file (a
 * shell tool call, then a final text) and api-error (the provider answers
 * 400). A second check adds up
 * the usage events of each CLI and compares them with the fake provider's
 * scripted numbers, so no CLI's usage is lost or counted twice.
 */
#include "events.h"

#define LINE_MAX_TEST (1024 * 1024)

static const char *const kinds[] = {"claude-code", "codex", "gemini",
                                    "qwen-code", "opencode"};
static const char *const scenarios[] = {"write-file", "api-error"};

struct transcript {
  char *jsonl;
  size_t jsonl_len;
  char *want;
  size_t want_len;
};

static void transcript_load(struct transcript *t, const char *kind,
                            const char *scenario) {
  char path[4096];

  snprintf(path, sizeof(path), "%s/%s/%s.jsonl", DATA_DIR, kind, scenario);
  t->jsonl = events_slurp(path, &t->jsonl_len);
  snprintf(path, sizeof(path), "%s/%s/%s.events", DATA_DIR, kind, scenario);
  t->want = events_slurp(path, &t->want_len);
}

static void transcript_free(struct transcript *t) {
  free(t->jsonl);
  free(t->want);
}

static void check_chunked(const char *kind, size_t chunk, unsigned seed) {
  struct transcript t;
  struct events e;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(scenarios); i++) {
    transcript_load(&t, kind, scenarios[i]);
    events_init(&e);
    events_feed(&e, kind, t.jsonl, t.jsonl_len, chunk, seed, LINE_MAX_TEST);
    cr_assert_str_eq(e.out.data, t.want, "%s %s, chunk %zu, seed %u", kind,
                     scenarios[i], chunk, seed);
    events_close(&e);
    transcript_free(&t);
  }
}

Test(adapter_transcripts, whole_file_gives_the_expected_events) {
  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++)
    check_chunked(kinds[i], 1u << 30, 0);
}

Test(adapter_transcripts, byte_by_byte_gives_the_same_events) {
  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++)
    check_chunked(kinds[i], 1, 0);
}

Test(adapter_transcripts, random_chunks_give_the_same_events) {
  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++)
    for (unsigned seed = 1; seed <= 20; seed++)
      check_chunked(kinds[i], 0, seed);
}

Test(adapter_transcripts, crlf_line_ends_give_the_same_events) {
  struct transcript t;
  struct events e;
  struct crl_buf crlf;

  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    transcript_load(&t, kinds[i], "write-file");
    crl_buf_init(&crlf, 0);
    for (size_t j = 0; j < t.jsonl_len; j++) {
      if (t.jsonl[j] == '\n')
        crl_buf_append(&crlf, "\r", 1);
      crl_buf_append(&crlf, &t.jsonl[j], 1);
    }
    events_init(&e);
    events_feed(&e, kinds[i], crlf.data, crlf.len, 7, 0, LINE_MAX_TEST);
    cr_assert_str_eq(e.out.data, t.want, "%s", kinds[i]);
    events_close(&e);
    crl_buf_close(&crlf);
    transcript_free(&t);
  }
}

/* Adds up the usage events of a rendered event list. */
static void usage_sum(const char *events, long long sum[4]) {
  const char *p = events;
  long long v[4];

  memset(sum, 0, 4 * sizeof(sum[0]));
  while ((p = strstr(p, "usage\t")) != NULL) {
    cr_assert_eq(sscanf(p,
                        "usage\t{\"input\":%lld,\"output\":%lld,"
                        "\"cache_read\":%lld,\"cache_write\":%lld}",
                        &v[0], &v[1], &v[2], &v[3]),
                 4);
    for (int i = 0; i < 4; i++)
      sum[i] += v[i];
    p++;
  }
}

/*
 * tests/fixtures/fake-provider/scenarios/write-file.json answers two calls
 * with input 1200 + 1300, output 34 + 12, cache_read 300 + 400 and
 * cache_write 50 + 0. Anthropic reports cache writes apart; the OpenAI and
 * Gemini dialects have no such field, so the fixture folds them into the
 * prompt count and the CLIs report them as input (2550, cache_write 0).
 */
Test(adapter_transcripts, usage_adds_up_to_the_fixture_numbers) {
  struct transcript t;
  struct events e;
  long long sum[4];

  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    transcript_load(&t, kinds[i], "write-file");
    events_init(&e);
    events_feed(&e, kinds[i], t.jsonl, t.jsonl_len, 4096, 0, LINE_MAX_TEST);
    usage_sum(e.out.data, sum);
    if (strcmp(kinds[i], "claude-code") == 0) {
      cr_assert_eq(sum[0], 2500);
      cr_assert_eq(sum[3], 50);
    } else {
      cr_assert_eq(sum[0], 2550, "%s input %lld", kinds[i], sum[0]);
      cr_assert_eq(sum[3], 0);
    }
    cr_assert_eq(sum[1], 46, "%s output %lld", kinds[i], sum[1]);
    cr_assert_eq(sum[2], 700, "%s cache_read %lld", kinds[i], sum[2]);
    cr_assert_eq(e.kinds[ADAPTER_EV_SESSION], 1, "%s", kinds[i]);
    cr_assert_eq(e.kinds[ADAPTER_EV_TOOL_CALL], 1, "%s", kinds[i]);
    cr_assert_eq(e.kinds[ADAPTER_EV_TOOL_RESULT], 1, "%s", kinds[i]);
    events_close(&e);
    transcript_free(&t);
  }
}

/* Every CLI's failed API call ends in at least one error event naming the
 * provider's message, and never in a tool call or a usage above zero. */
Test(adapter_transcripts, api_error_is_reported) {
  struct transcript t;
  struct events e;
  long long sum[4];

  for (size_t i = 0; i < CRL_ARRAY_SIZE(kinds); i++) {
    transcript_load(&t, kinds[i], "api-error");
    events_init(&e);
    events_feed(&e, kinds[i], t.jsonl, t.jsonl_len, 4096, 0, LINE_MAX_TEST);
    cr_assert_not_null(strstr(e.out.data, "error\t"), "%s", kinds[i]);
    cr_assert_not_null(strstr(e.out.data, "scripted failure"), "%s", kinds[i]);
    cr_assert_eq(e.kinds[ADAPTER_EV_TOOL_CALL], 0);
    cr_assert_eq(e.kinds[ADAPTER_EV_SESSION], 1);
    usage_sum(e.out.data, sum);
    cr_assert_eq(sum[0] + sum[1] + sum[2] + sum[3], 0);
    events_close(&e);
    transcript_free(&t);
  }
}
