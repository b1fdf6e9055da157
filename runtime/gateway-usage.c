/*
 * Token usage from the bytes of an answer, as they stream by. An SSE answer
 * is split into lines and each "data:" line that mentions usage is decoded
 * on its own (Anthropic message_start and message_delta, OpenAI Responses
 * response.completed, Chat's final usage chunk, Gemini's usageMetadata);
 * a JSON answer is kept (up to max_parse_bytes) and decoded at the end.
 * Counts are normalised to struct rt_usage's convention: OpenAI and Gemini
 * count cached tokens inside the prompt, so they are subtracted from input.
 */
#include "gateway-int.h"

#include <string.h>

/* A count: a non-negative integer, else 0 (hostile answers included). */
static int64_t num(json_t *obj, const char *key, int *seen) {
  json_t *v = json_object_get(obj, key);

  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return 0;
  *seen = 1;
  return json_integer_value(v);
}

static json_t *path_get(json_t *obj, const char *a, const char *b) {
  return json_object_get(json_object_get(obj, a), b);
}

/* Anthropic: fields present replace earlier ones (message_delta carries the
 * final output_tokens, and newer APIs repeat the input counts there). */
static void usage_anthropic(struct rt_usage *u, json_t *usage) {
  static const struct {
    const char *key;
    size_t off;
  } fields[] = {
      {"input_tokens", offsetof(struct rt_usage, input)},
      {"output_tokens", offsetof(struct rt_usage, output)},
      {"cache_read_input_tokens", offsetof(struct rt_usage, cache_read)},
      {"cache_creation_input_tokens", offsetof(struct rt_usage, cache_write)},
  };

  for (size_t i = 0; i < CRL_ARRAY_SIZE(fields); i++) {
    json_t *v = json_object_get(usage, fields[i].key);
    if (json_is_integer(v) && json_integer_value(v) >= 0)
      *(int64_t *)((char *)u + fields[i].off) = json_integer_value(v);
  }
}

/* OpenAI Responses (input_tokens) and Chat (prompt_tokens). */
static void usage_openai(struct rt_usage *u, json_t *usage, int chat) {
  int seen = 0;
  json_t *in_d = json_object_get(usage, chat ? "prompt_tokens_details"
                                             : "input_tokens_details");
  json_t *out_d = json_object_get(usage, chat ? "completion_tokens_details"
                                              : "output_tokens_details");
  int64_t prompt = num(usage, chat ? "prompt_tokens" : "input_tokens", &seen);
  int64_t cached = num(in_d, "cached_tokens", &seen);

  u->input = prompt > cached ? prompt - cached : 0;
  u->cache_read = cached;
  u->cache_write = 0;
  u->output = num(usage, chat ? "completion_tokens" : "output_tokens", &seen);
  u->reasoning = num(out_d, "reasoning_tokens", &seen);
}

/* Gemini: thinking tokens are billed as output but reported apart. */
static void usage_gemini(struct rt_usage *u, json_t *meta) {
  int seen = 0;
  int64_t prompt = num(meta, "promptTokenCount", &seen);
  int64_t cached = num(meta, "cachedContentTokenCount", &seen);
  int64_t thoughts = num(meta, "thoughtsTokenCount", &seen);

  u->input = prompt > cached ? prompt - cached : 0;
  u->cache_read = cached;
  u->cache_write = 0;
  u->output = num(meta, "candidatesTokenCount", &seen) + thoughts;
  u->reasoning = thoughts;
}

/* Applies one decoded JSON object of the answer. */
static void usage_apply(struct rt__gw_call *call, json_t *obj) {
  struct rt_usage *u = &call->rec.usage;
  json_t *usage = NULL;

  switch (call->rec.api) {
  case RT_GW_API_MESSAGES:
    usage = json_object_get(obj, "usage");
    if (usage == NULL)
      usage = path_get(obj, "message", "usage");
    if (json_is_object(usage))
      usage_anthropic(u, usage);
    break;
  case RT_GW_API_RESPONSES:
    usage = path_get(obj, "response", "usage");
    if (!json_is_object(usage))
      usage = json_object_get(obj, "usage");
    if (json_is_object(usage))
      usage_openai(u, usage, 0);
    break;
  case RT_GW_API_CHAT:
    usage = json_object_get(obj, "usage");
    if (json_is_object(usage))
      usage_openai(u, usage, 1);
    break;
  case RT_GW_API_GEMINI:
    usage = json_object_get(obj, "usageMetadata");
    if (json_is_object(usage))
      usage_gemini(u, usage);
    break;
  default:
    return;
  }
  if (json_is_object(usage))
    call->rec.usage_seen = 1;
}

static void usage_decode(struct rt__gw_call *call, const char *s, size_t n) {
  json_t *root = json_loadb(s, n, 0, NULL);
  size_t i;
  json_t *v;

  if (json_is_array(root)) { /* Gemini's stream without alt=sse */
    json_array_foreach(root, i, v) usage_apply(call, v);
  } else if (json_is_object(root)) {
    usage_apply(call, root);
  }
  json_decref(root);
}

static void usage_line(struct rt__gw_call *call, char *line, size_t n) {
  if (n > 0 && line[n - 1] == '\r')
    line[--n] = '\0';
  if (n < 5 || strncmp(line, "data:", 5) != 0)
    return;
  line += 5;
  n -= 5;
  if (n > 0 && *line == ' ')
    line++, n--;
  /* Most events carry no usage: skip decoding them. */
  if (strstr(line, "sage") == NULL)
    return;
  usage_decode(call, line, n);
}

static void usage_feed_sse(struct rt__gw_call *call, const char *data,
                           size_t n) {
  while (n > 0) {
    const char *nl = memchr(data, '\n', n);
    size_t take = nl ? (size_t)(nl - data) : n;

    if (crl_buf_append(&call->line, data, take) < 0) {
      crl_buf_reset(&call->line); /* a line over the bound: drop it */
      call->line_over = 1;
    }
    if (nl == NULL)
      return;
    if (call->line.data != NULL && !call->line_over)
      usage_line(call, call->line.data, call->line.len);
    crl_buf_reset(&call->line);
    call->line_over = 0;
    data = nl + 1;
    n -= take + 1;
  }
}

void rt__gw_usage_feed(struct rt__gw_call *call, const char *data, size_t n) {
  if (call->rec.api == RT_GW_API_SIDE)
    return;
  if (call->sse) {
    usage_feed_sse(call, data, n);
    return;
  }
  if (crl_buf_append(&call->line, data, n) < 0)
    call->line_over = 1; /* too big to parse: give up on this answer */
}

void rt__gw_usage_end(struct rt__gw_call *call) {
  if (call->rec.api == RT_GW_API_SIDE || call->line.data == NULL ||
      call->line_over)
    return;
  if (call->sse)
    usage_line(call, call->line.data, call->line.len);
  else
    usage_decode(call, call->line.data, call->line.len);
}
