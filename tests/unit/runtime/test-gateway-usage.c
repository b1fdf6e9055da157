/*
 * The gateway's usage parser on its own (gateway-usage.c through
 * gateway-int.h): SSE answers fed in every possible split (one byte at a
 * time, and cut at each offset) give the same usage; CRLF lines, a JSON
 * array (Gemini without alt=sse), lines over the parse bound and invalid
 * JSON are handled without a crash and without inventing usage.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "gateway-int.h"

static const char anthropic_sse[] =
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":"
    "{\"input_tokens\":11,\"cache_read_input_tokens\":22,"
    "\"cache_creation_input_tokens\":33,\"output_tokens\":1}}}\r\n\r\n"
    "event: content_block_delta\r\n"
    "data: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"usage\"}}"
    "\r\n\r\n"
    "event: message_delta\r\n"
    "data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":44}}\r\n"
    "\r\n";

static const char responses_sse[] =
    "event: response.created\n"
    "data: {\"type\":\"response.created\",\"response\":{\"usage\":null}}\n\n"
    "event: response.completed\n"
    "data: {\"type\":\"response.completed\",\"response\":{\"usage\":{"
    "\"input_tokens\":100,\"input_tokens_details\":{\"cached_tokens\":60},"
    "\"output_tokens\":7,\"output_tokens_details\":{\"reasoning_tokens\":3}}}}"
    "\n\n";

static const char chat_sse[] =
    "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":50,"
    "\"completion_tokens\":5,\"prompt_tokens_details\":{\"cached_tokens\":"
    "20}}}\n\ndata: [DONE]\n\n";

static const char gemini_array[] =
    "[{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":9}},"
    "{\"usageMetadata\":{\"promptTokenCount\":90,\"cachedContentTokenCount\":"
    "10,\"candidatesTokenCount\":8,\"thoughtsTokenCount\":2}}]";

static void call_init(struct rt__gw_call *call, enum rt_gw_api api, int sse,
                      size_t max) {
  memset(call, 0, sizeof(*call));
  call->rec.api = api;
  call->sse = sse;
  crl_buf_init(&call->line, max);
}

/* Feeds text cut at offset cut (and, when step is 1, byte by byte). */
static struct rt_usage feed(enum rt_gw_api api, int sse, const char *text,
                            size_t cut, int bytewise, int *seen) {
  struct rt__gw_call call;
  size_t n = strlen(text);

  call_init(&call, api, sse, 1 << 20);
  if (bytewise) {
    for (size_t i = 0; i < n; i++)
      rt__gw_usage_feed(&call, text + i, 1);
  } else {
    rt__gw_usage_feed(&call, text, cut);
    rt__gw_usage_feed(&call, text + cut, n - cut);
  }
  rt__gw_usage_end(&call);
  crl_buf_close(&call.line);
  *seen = call.rec.usage_seen;
  return call.rec.usage;
}

static void check_all_splits(enum rt_gw_api api, int sse, const char *text,
                             struct rt_usage want) {
  struct rt_usage u;
  int seen;

  for (size_t cut = 0; cut <= strlen(text); cut++) {
    u = feed(api, sse, text, cut, 0, &seen);
    cr_assert(seen, "cut %zu", cut);
    cr_assert_eq(memcmp(&u, &want, sizeof(u)), 0,
                 "cut %zu: in %ld out %ld cr %ld cw %ld", cut, (long)u.input,
                 (long)u.output, (long)u.cache_read, (long)u.cache_write);
  }
  u = feed(api, sse, text, 0, 1, &seen);
  cr_assert_eq(memcmp(&u, &want, sizeof(u)), 0, "byte by byte");
}

Test(gateway_usage, anthropic_sse_any_split) {
  struct rt_usage want = {
      .input = 11, .output = 44, .cache_read = 22, .cache_write = 33};

  check_all_splits(RT_GW_API_MESSAGES, 1, anthropic_sse, want);
}

Test(gateway_usage, responses_sse_any_split) {
  struct rt_usage want = {
      .input = 40, .output = 7, .cache_read = 60, .reasoning = 3};

  check_all_splits(RT_GW_API_RESPONSES, 1, responses_sse, want);
}

Test(gateway_usage, chat_sse_any_split) {
  struct rt_usage want = {.input = 30, .output = 5, .cache_read = 20};

  check_all_splits(RT_GW_API_CHAT, 1, chat_sse, want);
}

Test(gateway_usage, gemini_json_array) {
  struct rt_usage want = {
      .input = 80, .output = 10, .cache_read = 10, .reasoning = 2};

  check_all_splits(RT_GW_API_GEMINI, 0, gemini_array, want);
}

static void feed_str(struct rt__gw_call *call, const char *s) {
  rt__gw_usage_feed(call, s, strlen(s));
}

Test(gateway_usage, garbage_and_oversized_lines_find_nothing) {
  static const char junk[] = "data: {\"usage\": {\"input_tokens\": 1\n\n"
                             "data: not json usage\n\ndata:\n\n:\n\n";
  struct rt__gw_call call;
  char big[4096];

  call_init(&call, RT_GW_API_MESSAGES, 1, 1 << 20);
  rt__gw_usage_feed(&call, junk, strlen(junk));
  rt__gw_usage_end(&call);
  cr_assert_not(call.rec.usage_seen);
  crl_buf_close(&call.line);

  /* A usage line longer than the bound is dropped, the next one counts. */
  call_init(&call, RT_GW_API_MESSAGES, 1, 256);
  memset(big, 'x', sizeof(big));
  feed_str(&call, "data: {\"usage\":{\"output_tokens\":9,\"p\":\"");
  rt__gw_usage_feed(&call, big, sizeof(big));
  feed_str(&call, "\"}}\n\ndata: {\"usage\":{\"output_tokens\":5}}\n");
  rt__gw_usage_end(&call);
  cr_assert(call.rec.usage_seen);
  cr_assert_eq(call.rec.usage.output, 5);
  crl_buf_close(&call.line);

  /* A JSON answer over the bound is not parsed at all. */
  call_init(&call, RT_GW_API_CHAT, 0, 16);
  rt__gw_usage_feed(&call, chat_sse, strlen(chat_sse));
  rt__gw_usage_end(&call);
  cr_assert_not(call.rec.usage_seen);
  crl_buf_close(&call.line);
}

Test(gateway_usage, side_requests_have_no_usage) {
  int seen;

  feed(RT_GW_API_SIDE, 0, "{\"input_tokens\":5,\"usage\":{}}", 3, 0, &seen);
  cr_assert_not(seen);
}
