/*
 * The LLM gateway against the fake provider: each wire format forwarded
 * with its exact usage parsed (the fixture's scripted numbers), the real key
 * reaching the provider and the placeholder never, SSE forwarded before it
 * completes, refusals in each provider's own format (no upstream, budgets,
 * too large, upstream down), side requests, replay, and a client that goes
 * away mid-stream. Every test stops its loop and asserts uv_loop_close == 0.
 */
#include <criterion/criterion.h>
#include <jansson.h>

#include "gw-fixture.h"

#define TOOLS_ANTHROPIC "\"tools\":[{\"name\":\"Bash\",\"input_schema\":{}}]"
#define ANTHROPIC_STEP0(stream)                                      \
  "{\"model\":\"local-model\",\"max_tokens\":100,\"stream\":" stream \
  "," TOOLS_ANTHROPIC                                                \
  ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
#define ANTHROPIC_STEP1                                        \
  "{\"model\":\"local-model\",\"max_tokens\":100,\"stream\":"  \
  "true," TOOLS_ANTHROPIC                                      \
  ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"     \
  "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\"," \
  "\"tool_use_id\":\"t\",\"content\":\"ok\"}]}]}"
#define RESPONSES_STEP0                                                     \
  "{\"model\":\"local-model\",\"stream\":true,\"tools\":[{\"type\":"        \
  "\"function\",\"name\":\"exec_command\"}],\"input\":[{\"role\":\"user\"," \
  "\"content\":\"hi\"}]}"
#define CHAT_TOOLS \
  "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"bash\"}}]"
#define CHAT_STEP1_STREAM                                                   \
  "{\"model\":\"local-model\",\"stream\":true,\"stream_options\":"          \
  "{\"include_usage\":true}," CHAT_TOOLS ",\"messages\":[{\"role\":"        \
  "\"user\",\"content\":\"hi\"},{\"role\":\"tool\",\"tool_call_id\":\"x\"," \
  "\"content\":\"ok\"}]}"
#define CHAT_STEP0_JSON                                     \
  "{\"model\":\"local-model\",\"stream\":false," CHAT_TOOLS \
  ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
#define GEMINI_TOOLS \
  "\"tools\":[{\"functionDeclarations\":[{\"name\":\"run_shell_command\"}]}]"
#define GEMINI_STEP1                                                  \
  "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}," \
  "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":"    \
  "\"run_shell_command\",\"response\":{}}}]}]," GEMINI_TOOLS "}"
#define GEMINI_STEP0                                                  \
  "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]" \
  "," GEMINI_TOOLS "}"

static const char *const h_anthropic[] = {"x-api-key: " GW_PLACEHOLDER,
                                          "anthropic-version: 2023-06-01",
                                          "Accept-Encoding: gzip, br", NULL};
static const char *const h_openai[] = {"Authorization: Bearer " GW_PLACEHOLDER,
                                       NULL};
static const char *const h_gemini[] = {"x-goog-api-key: " GW_PLACEHOLDER, NULL};

static const struct rt_gw_run default_run = {.mission_id = "m1",
                                             .ticket_id = "T-1",
                                             .task_id = "impl",
                                             .run_id = "r1",
                                             .agent = "claude"};

static void start_all(const char *const *provider_args,
                      const struct rt_gw_run *run) {
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;

  cr_assert_eq(fx_provider_start("write-file.json", provider_args), 0);
  fx_opts(&opts);
  fx_gw_start(&opts, run ? run : &default_run);
}

static void assert_usage(const struct gw_rec *r, int64_t in, int64_t out,
                         int64_t cr, int64_t cw) {
  cr_assert(r->c.usage_seen, "no usage parsed");
  cr_assert_eq(r->c.usage.input, in, "input %ld", (long)r->c.usage.input);
  cr_assert_eq(r->c.usage.output, out, "output %ld", (long)r->c.usage.output);
  cr_assert_eq(r->c.usage.cache_read, cr, "cache_read %ld",
               (long)r->c.usage.cache_read);
  cr_assert_eq(r->c.usage.cache_write, cw, "cache_write %ld",
               (long)r->c.usage.cache_write);
}

/* local-model's made-up test price: 1 / 2 / 0.1 / 1.25 $ per Mtok. */
static double test_cost(int64_t in, int64_t out, int64_t cr, int64_t cw) {
  return (in * 1.0 + out * 2.0 + cr * 0.1 + cw * 1.25) / 1e6;
}

static void assert_forwarded(const struct gw_rec *r, enum rt_gw_provider p,
                             enum rt_gw_api api, int stream) {
  cr_assert_eq(r->c.status, 200, "status %d (%s)", r->c.status, r->error);
  cr_assert_eq(r->c.provider, p);
  cr_assert_eq(r->c.api, api);
  cr_assert_eq(r->c.stream, stream);
  cr_assert_not(r->c.refused);
  cr_assert_str_eq(r->model, "local-model");
  cr_assert_eq(r->c.cost_rc, 0);
  cr_assert(r->c.ttfb_ms >= 0 && r->c.ttfb_ms <= r->c.latency_ms);
  cr_assert_str_empty(r->error);
}

TestSuite(gateway, .init = fx_setup, .fini = fx_teardown, .timeout = 30);

Test(gateway, anthropic_sse_usage) {
  struct gw_resp resp;
  struct gw_rec r;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages?beta=true", h_anthropic,
             ANTHROPIC_STEP0("true"));
  cr_assert_eq(resp.status, 200);
  cr_assert_not_null(strstr(resp.body, "event: message_stop"));
  cr_assert_not_null(strstr(resp.body, "\"name\": \"Bash\""));
  r = fx_rec(0);
  assert_forwarded(&r, RT_GW_ANTHROPIC, RT_GW_API_MESSAGES, 1);
  assert_usage(&r, 1200, 34, 300, 50);
  cr_assert_float_eq(r.c.usd, test_cost(1200, 34, 300, 50), 1e-12);
  cr_assert_eq(r.c.response_len, resp.len, "the record holds the answer");
  fx_gw_stop();
}

Test(gateway, anthropic_json_usage) {
  struct gw_resp resp;
  struct gw_rec r;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("false"));
  cr_assert_eq(resp.status, 200);
  cr_assert_eq(resp.body[0], '{');
  r = fx_rec(0);
  assert_forwarded(&r, RT_GW_ANTHROPIC, RT_GW_API_MESSAGES, 0);
  assert_usage(&r, 1200, 34, 300, 50);
  fx_gw_stop();
}

/* OpenAI counts cached tokens inside the prompt (1200 + 300 + 50): the
 * gateway reports the uncached part as input. */
Test(gateway, responses_sse_usage) {
  struct gw_resp resp;
  struct gw_rec r;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "POST", "/v1/responses", h_openai,
             RESPONSES_STEP0);
  cr_assert_eq(resp.status, 200);
  cr_assert_not_null(strstr(resp.body, "response.completed"));
  r = fx_rec(0);
  assert_forwarded(&r, RT_GW_OPENAI, RT_GW_API_RESPONSES, 1);
  assert_usage(&r, 1250, 34, 300, 0);
  fx_gw_stop();
}

Test(gateway, chat_sse_usage) {
  struct gw_resp resp;
  struct gw_rec r;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "POST", "/v1/chat/completions", h_openai,
             CHAT_STEP1_STREAM);
  cr_assert_eq(resp.status, 200);
  cr_assert_not_null(strstr(resp.body, "data: [DONE]"));
  r = fx_rec(0);
  assert_forwarded(&r, RT_GW_OPENAI, RT_GW_API_CHAT, 1);
  assert_usage(&r, 1300, 12, 400, 0);
  fx_gw_stop();
}

Test(gateway, chat_json_usage) {
  struct gw_resp resp;
  struct gw_rec r;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "POST", "/v1/chat/completions", h_openai,
             CHAT_STEP0_JSON);
  cr_assert_eq(resp.status, 200);
  r = fx_rec(0);
  assert_forwarded(&r, RT_GW_OPENAI, RT_GW_API_CHAT, 0);
  assert_usage(&r, 1250, 34, 300, 0);
  fx_gw_stop();
}

Test(gateway, gemini_sse_usage) {
  struct gw_resp resp;
  struct gw_rec r;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "POST",
             "/v1beta/models/local-model:streamGenerateContent?alt=sse",
             h_gemini, GEMINI_STEP1);
  cr_assert_eq(resp.status, 200);
  cr_assert_not_null(strstr(resp.body, "usageMetadata"));
  r = fx_rec(0);
  assert_forwarded(&r, RT_GW_GEMINI, RT_GW_API_GEMINI, 1);
  assert_usage(&r, 1300, 12, 400, 0);
  fx_gw_stop();
}

Test(gateway, gemini_json_usage) {
  struct gw_resp resp;
  struct gw_rec r;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "POST",
             "/v1beta/models/local-model:generateContent", h_gemini,
             GEMINI_STEP0);
  cr_assert_eq(resp.status, 200);
  r = fx_rec(0);
  assert_forwarded(&r, RT_GW_GEMINI, RT_GW_API_GEMINI, 0);
  assert_usage(&r, 1250, 34, 300, 0);
  fx_gw_stop();
}

/* The provider logs secret headers verbatim only when they hold the real
 * key (--public-key), so an exact match proves the key was swapped; the
 * placeholder must appear nowhere (headers, query, body). */
static void assert_key(json_t *line, const char *header, const char *want) {
  json_t *h = json_object_get(json_object_get(line, "headers"), header);

  cr_assert(json_is_string(h), "no %s header", header);
  cr_assert_str_eq(json_string_value(h), want);
}

Test(gateway, real_key_reaches_upstream_placeholder_never) {
  struct gw_resp resp;
  char *log, *p;
  json_t *line;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("true"));
  fx_request(&resp, fx.gw_port, "POST", "/v1/responses", h_openai,
             RESPONSES_STEP0);
  fx_request(&resp, fx.gw_port, "POST",
             "/v1beta/models/"
             "local-model:streamGenerateContent?alt=sse&key=" GW_PLACEHOLDER,
             h_gemini, GEMINI_STEP1);
  log = fx_log_wait(3);
  cr_assert_null(strstr(log, GW_PLACEHOLDER), "placeholder leaked: %s", log);
  p = log;
  for (int i = 0; i < 3; i++) {
    line = json_loadb(p, strcspn(p, "\n"), 0, NULL);
    cr_assert_not_null(line);
    const char *dialect = json_string_value(json_object_get(line, "dialect"));
    if (strcmp(dialect, "anthropic") == 0) {
      assert_key(line, "x-api-key", GW_REAL_KEY);
      assert_key(line, "anthropic-version", "2023-06-01");
      cr_assert_null(
          json_object_get(json_object_get(line, "headers"), "accept-encoding"));
    } else if (strcmp(dialect, "responses") == 0) {
      assert_key(line, "authorization", "Bearer " GW_REAL_KEY);
    } else {
      assert_key(line, "x-goog-api-key", GW_REAL_KEY);
      cr_assert_str_eq(json_string_value(json_object_get(line, "query")),
                       "alt=sse");
    }
    json_decref(line);
    p = strchr(p, '\n') + 1;
  }
  free(log);
  fx_gw_stop();
}

/* With 100 ms between events the answer takes about a second; its first
 * chunk must reach the client long before that. */
Test(gateway, sse_first_chunk_before_completion) {
  static const char *const slow[] = {"--chunk-delay-ms", "100", NULL};
  struct gw_resp resp;
  struct gw_rec r;

  start_all(slow, NULL);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP1);
  cr_assert_eq(resp.status, 200);
  cr_assert_geq(resp.total_ms, 900.0, "total %.1f ms", resp.total_ms);
  cr_assert_lt(resp.first_ms + 600.0, resp.total_ms,
               "first chunk at %.1f ms of %.1f ms", resp.first_ms,
               resp.total_ms);
  r = fx_rec(0);
  assert_usage(&r, 1300, 12, 400, 0);
  cr_assert_lt(r.c.ttfb_ms + 600.0, r.c.latency_ms, "ttfb %.1f latency %.1f",
               r.c.ttfb_ms, r.c.latency_ms);
  fx_gw_stop();
}

static void assert_json_at(const char *body, const char *a, const char *b,
                           const char *want) {
  json_t *root = json_loads(body, 0, NULL);
  json_t *v = json_object_get(json_object_get(root, a), b);

  cr_assert(json_is_string(v), "%s.%s missing in %s", a, b, body);
  cr_assert_str_eq(json_string_value(v), want);
  json_decref(root);
}

Test(gateway, unconfigured_upstream_refused_in_provider_format) {
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;
  struct gw_resp resp;
  struct gw_rec r;

  opts.on_call = fx_on_call; /* no upstream at all, no provider running */
  fx_gw_start(&opts, &default_run);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("true"));
  cr_assert_eq(resp.status, 502);
  assert_json_at(resp.body, "error", "type", "api_error");
  cr_assert_not_null(strstr(resp.body, "\"type\":\"error\""));
  fx_request(&resp, fx.gw_port, "POST", "/v1/responses", h_openai,
             RESPONSES_STEP0);
  cr_assert_eq(resp.status, 502);
  assert_json_at(resp.body, "error", "code", "upstream_not_configured");
  fx_request(&resp, fx.gw_port, "POST",
             "/v1beta/models/local-model:generateContent", h_gemini,
             GEMINI_STEP0);
  cr_assert_eq(resp.status, 502);
  assert_json_at(resp.body, "error", "status", "UNAVAILABLE");
  for (int i = 0; i < 3; i++) {
    r = fx_rec(i);
    cr_assert(r.c.refused);
    cr_assert_eq(r.c.status, 502);
    cr_assert_eq(r.c.provider, (enum rt_gw_provider)i);
    cr_assert_not_null(strstr(r.error, "no upstream"), "%s", r.error);
  }
  fx_gw_stop();
}

/* One call of 1584 tokens passes a 300-token cap; the next is refused in
 * Anthropic's format without reaching the provider, and on_budget fires
 * once. A side request (not budgeted) still goes through, which also
 * proves, through the provider's log, that the refused call never left. */
Test(gateway, token_budget_refuses_next_call) {
  struct rt_gw_run run = default_run;
  struct gw_resp resp;
  struct gw_rec r;
  char *log;

  run.budget.max_tokens = 300;
  start_all(NULL, &run);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("true"));
  cr_assert_eq(resp.status, 200);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("true"));
  cr_assert_eq(resp.status, 429);
  assert_json_at(resp.body, "error", "type", "rate_limit_error");
  r = fx_rec(1);
  cr_assert(r.c.refused);
  cr_assert_eq(r.c.refused_budget, RT_GW_BUDGET_TOKENS);
  cr_assert_not(r.c.usage_seen);
  fx_request(&resp, fx.gw_port, "GET", "/v1/models", h_openai, NULL);
  cr_assert_eq(resp.status, 200);
  log = fx_log_wait(2);
  cr_assert_not_null(strstr(strchr(log, '\n'), "\"op\": \"list\""));
  free(log);
  fx_gw_stop();
  cr_assert_eq(fx.budget_fired, 1);
  cr_assert_eq(fx.budget_what, RT_GW_BUDGET_TOKENS);
}

/* Seven streams at once over two runs' listeners: they overlap (the whole
 * takes about one stream's time, not seven), each is recorded with its own
 * run and exact usage, and one run's budget does not touch the other's. */
Test(gateway, concurrent_streams_on_two_runs) {
  static const char *const slow[] = {"--chunk-delay-ms", "50", NULL};
  static const struct rt_gw_run run2 = {.run_id = "r2",
                                        .budget = {.max_turns = 1}};
  struct gw_resp resp[7];
  struct curl_slist *sl = curl_slist_append(NULL, h_openai[0]);
  CURLM *m = curl_multi_init();
  CURL *e[7];
  int running = 1, r2 = 0;
  char url[128];
  double t0;

  fx.run2 = &run2;
  start_all(slow, NULL);
  for (int i = 0; i < 7; i++) {
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/chat/completions",
             i == 6 ? fx.gw_port2 : fx.gw_port);
    memset(&resp[i], 0, sizeof(resp[i]));
    e[i] = curl_easy_init();
    curl_easy_setopt(e[i], CURLOPT_URL, url);
    curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(e[i], CURLOPT_POSTFIELDS, CHAT_STEP1_STREAM);
    curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, fx_write);
    curl_easy_setopt(e[i], CURLOPT_WRITEDATA, &resp[i]);
    curl_multi_add_handle(m, e[i]);
  }
  t0 = fx_now_ms();
  while (running) {
    cr_assert_eq(curl_multi_perform(m, &running), CURLM_OK);
    if (running)
      curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  cr_assert_lt(fx_now_ms() - t0, 2500.0, "the streams did not overlap");
  for (int i = 0; i < 7; i++) {
    struct gw_rec r = fx_rec(i);
    cr_assert_not_null(strstr(resp[i].body, "[DONE]"), "stream %d", i);
    assert_usage(&r, 1300, 12, 400, 0);
    r2 += strcmp(r.run_id, "r2") == 0;
    curl_multi_remove_handle(m, e[i]);
    curl_easy_cleanup(e[i]);
  }
  curl_multi_cleanup(m);
  curl_slist_free_all(sl);
  cr_assert_eq(r2, 1);
  fx_request(&resp[0], fx.gw_port2, "POST", "/v1/chat/completions", h_openai,
             CHAT_STEP0_JSON);
  cr_assert_eq(resp[0].status, 429, "run r2 has used its one turn");
  fx_request(&resp[0], fx.gw_port, "POST", "/v1/chat/completions", h_openai,
             CHAT_STEP0_JSON);
  cr_assert_eq(resp[0].status, 200, "run r1 has no cap");
  fx_gw_stop();
}

/* The runtime stops the run from on_budget: closing the listener there is
 * safe, and the port refuses connections afterwards. */
Test(gateway, unlisten_from_on_budget) {
  struct rt_gw_run run = default_run;
  struct gw_resp resp;
  char url[128];
  CURL *e;

  run.budget.max_turns = 1;
  fx.unlisten_on_budget = 1;
  start_all(NULL, &run);
  fx_request(&resp, fx.gw_port, "POST", "/v1/chat/completions", h_openai,
             CHAT_STEP0_JSON);
  cr_assert_eq(resp.status, 200);
  e = curl_easy_init();
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/chat/completions",
           fx.gw_port);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, CHAT_STEP0_JSON);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fx_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp);
  curl_easy_perform(e); /* the 429, or a reset if the close won the race */
  cr_assert_eq(fx_rec(1).c.refused_budget, RT_GW_BUDGET_TURNS);
  uv_sem_wait(&fx.budget_sem); /* the listener is closed now */
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  cr_assert_eq(curl_easy_perform(e), CURLE_COULDNT_CONNECT);
  curl_easy_cleanup(e);
  fx_gw_stop();
}

Test(gateway, usd_and_turn_budgets) {
  struct rt_gw_run run = default_run;
  struct gw_resp resp;

  run.budget.max_usd = 0.001; /* one call costs $0.0013605 */
  start_all(NULL, &run);
  fx_request(&resp, fx.gw_port, "POST", "/v1/responses", h_openai,
             RESPONSES_STEP0);
  cr_assert_eq(resp.status, 200);
  fx_request(&resp, fx.gw_port, "POST", "/v1/responses", h_openai,
             RESPONSES_STEP0);
  cr_assert_eq(resp.status, 429);
  assert_json_at(resp.body, "error", "code", "insufficient_quota");
  cr_assert_eq(fx_rec(1).c.refused_budget, RT_GW_BUDGET_USD);
  fx_gw_stop();
  cr_assert_eq(fx.budget_what, RT_GW_BUDGET_USD);
}

Test(gateway, turn_budget_in_gemini_format) {
  struct rt_gw_run run = default_run;
  struct gw_resp resp;

  run.budget.max_turns = 1;
  start_all(NULL, &run);
  fx_request(&resp, fx.gw_port, "POST",
             "/v1beta/models/local-model:generateContent", h_gemini,
             GEMINI_STEP0);
  cr_assert_eq(resp.status, 200);
  fx_request(&resp, fx.gw_port, "POST",
             "/v1beta/models/local-model:generateContent", h_gemini,
             GEMINI_STEP0);
  cr_assert_eq(resp.status, 429);
  assert_json_at(resp.body, "error", "status", "RESOURCE_EXHAUSTED");
  fx_gw_stop();
  cr_assert_eq(fx.budget_what, RT_GW_BUDGET_TURNS);
}

/* A run a restarted engine took up again: its seqs go on after the calls
 * it recorded, and those calls count against its turns. */
Test(gateway, prior_calls_continue_seq_and_turns) {
  struct rt_gw_run run = default_run;
  struct gw_resp resp;

  run.budget.max_turns = 3;
  run.prior_seq = 5;
  run.prior_turns = 2;
  start_all(NULL, &run);
  fx_request(&resp, fx.gw_port, "POST",
             "/v1beta/models/local-model:generateContent", h_gemini,
             GEMINI_STEP0);
  cr_assert_eq(resp.status, 200);
  fx_request(&resp, fx.gw_port, "POST",
             "/v1beta/models/local-model:generateContent", h_gemini,
             GEMINI_STEP0);
  cr_assert_eq(resp.status, 429, "the third turn in all is the cap");
  cr_assert_eq(fx_rec(0).c.seq, 6);
  cr_assert_eq(fx_rec(1).c.seq, 7);
  cr_assert_eq(fx_rec(1).c.refused_budget, RT_GW_BUDGET_TURNS);
  fx_gw_stop();
  cr_assert_eq(fx.budget_what, RT_GW_BUDGET_TURNS);
}

Test(gateway, unknown_model_is_a_cost_error) {
  struct gw_resp resp;
  struct gw_rec r;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             "{\"model\":\"mystery-model-9\",\"stream\":true," TOOLS_ANTHROPIC
             ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  cr_assert_eq(resp.status, 200);
  r = fx_rec(0);
  cr_assert_str_eq(r.model, "mystery-model-9");
  assert_usage(&r, 1200, 34, 300, 50);
  cr_assert_eq(r.c.cost_rc, CRL_ENOT_FOUND);
  cr_assert_eq(r.c.usd, 0.0);
  fx_gw_stop();
}

Test(gateway, side_requests) {
  struct gw_resp resp;

  start_all(NULL, NULL);
  fx_request(&resp, fx.gw_port, "HEAD", "/", NULL, NULL);
  cr_assert_eq(resp.status, 200);
  fx_request(&resp, fx.gw_port, "GET", "/v1/models", h_openai, NULL);
  cr_assert_eq(resp.status, 200);
  cr_assert_not_null(strstr(resp.body, "local-model"));
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages/count_tokens",
             h_anthropic, "{\"messages\":[]}");
  cr_assert_eq(resp.status, 200);
  cr_assert_not_null(strstr(resp.body, "input_tokens"));
  cr_assert_eq(fx_rec(0).c.api, RT_GW_API_SIDE);
  cr_assert_eq(fx_rec(1).c.provider, RT_GW_OPENAI);
  cr_assert_eq(fx_rec(2).c.provider, RT_GW_ANTHROPIC);
  cr_assert_not(fx_rec(2).c.usage_seen, "a token count is not usage");
  cr_assert_eq(fx_rec(1).c.cost_rc, 0, "nothing to price is not unpriced");
  fx_request(&resp, fx.gw_port, "GET", "/not-an-api", NULL, NULL);
  cr_assert_eq(resp.status, 404);
  fx_gw_stop();
}

Test(gateway, keep_alive_serves_several_calls_on_one_connection) {
  struct gw_resp resp;
  struct gw_rec r;
  CURL *e;
  char url[128];
  long conns;

  start_all(NULL, NULL);
  e = curl_easy_init();
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/chat/completions",
           fx.gw_port);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, CHAT_STEP1_STREAM);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fx_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp);
  for (int i = 0; i < 3; i++) {
    memset(&resp, 0, sizeof(resp));
    resp.first_ms = -1;
    cr_assert_eq(curl_easy_perform(e), CURLE_OK);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
    cr_assert_eq(conns, i == 0 ? 1 : 0, "call %d opened a connection", i);
    cr_assert_not_null(strstr(resp.body, "[DONE]"));
    r = fx_rec(i);
    assert_usage(&r, 1300, 12, 400, 0);
  }
  curl_easy_cleanup(e);
  fx_gw_stop();
}

Test(gateway, request_too_large_refused) {
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;
  struct gw_resp resp;
  char body[5000];

  cr_assert_eq(fx_provider_start("write-file.json", NULL), 0);
  fx_opts(&opts);
  opts.max_request_bytes = 1000;
  fx_gw_start(&opts, &default_run);
  memset(body, 'x', sizeof(body) - 1);
  body[sizeof(body) - 1] = '\0';
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic, body);
  cr_assert_eq(resp.status, 413);
  assert_json_at(resp.body, "error", "type", "request_too_large");
  fx_gw_stop();
}

Test(gateway, upstream_down_answers_in_provider_format) {
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;
  struct gw_resp resp;
  int port, fd = fx_listen_socket(&port);
  char base[64];

  close(fd); /* nothing listens there now */
  snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
  opts.upstream[RT_GW_ANTHROPIC].base_url = base;
  opts.upstream[RT_GW_ANTHROPIC].api_key = GW_REAL_KEY;
  opts.on_call = fx_on_call;
  fx_gw_start(&opts, &default_run);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("true"));
  cr_assert_eq(resp.status, 502);
  assert_json_at(resp.body, "error", "type", "api_error");
  cr_assert_not_null(strstr(fx_rec(0).error, "upstream"));
  fx_gw_stop();
}

/* Bytes that are not HTTP get a 400 and the connection closes; the
 * gateway keeps serving. */
Test(gateway, malformed_request_is_refused) {
  struct sockaddr_in sa = {.sin_family = AF_INET};
  struct gw_resp resp;
  char buf[512];
  ssize_t n, got = 0;
  int fd;

  start_all(NULL, NULL);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(fx.gw_port);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  cr_assert_eq(write(fd, "\x01\x02 garbage\r\n\r\n", 14), 14);
  while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
    got += n; /* until the gateway closes */
  buf[got] = '\0';
  close(fd);
  cr_assert_not_null(strstr(buf, "HTTP/1.1 400"), "%s", buf);
  fx_request(&resp, fx.gw_port, "POST", "/v1/chat/completions", h_openai,
             CHAT_STEP0_JSON);
  cr_assert_eq(resp.status, 200);
  fx_gw_stop();
}

static size_t stop_after_first(char *data, size_t size, size_t n, void *u) {
  return 0; /* makes curl close the connection at the first chunk */
}

Test(gateway, client_gone_mid_stream_is_recorded) {
  static const char *const slow[] = {"--chunk-delay-ms", "100", NULL};
  struct curl_slist *sl = NULL;
  struct gw_rec r;
  char url[128];
  CURL *e;

  start_all(slow, NULL);
  e = curl_easy_init();
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/messages", fx.gw_port);
  sl = curl_slist_append(sl, h_anthropic[0]);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, ANTHROPIC_STEP1);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, stop_after_first);
  cr_assert_eq(curl_easy_perform(e), CURLE_WRITE_ERROR);
  curl_easy_cleanup(e);
  curl_slist_free_all(sl);
  r = fx_rec(0);
  cr_assert_eq(r.c.status, 0);
  cr_assert_not_null(strstr(r.error, "aborted"), "%s", r.error);
  fx_gw_stop();
}

static size_t close_gateway_at_first(char *data, size_t size, size_t n,
                                     void *u) {
  int *sent = u;

  if (!*sent)
    uv_async_send(&fx.stop); /* rt_gw_close on the loop thread */
  *sent = 1;
  return size * n;
}

/* Closing the gateway while a stream is in flight aborts and records the
 * call, releases the upstream transfer and every handle. */
Test(gateway, close_with_a_call_in_flight) {
  static const char *const slow[] = {"--chunk-delay-ms", "100", NULL};
  struct curl_slist *sl = NULL;
  struct gw_rec r;
  char url[128];
  int sent = 0;
  CURL *e;

  start_all(slow, NULL);
  e = curl_easy_init();
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/messages", fx.gw_port);
  sl = curl_slist_append(sl, h_anthropic[0]);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, ANTHROPIC_STEP1);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, close_gateway_at_first);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &sent);
  cr_assert_neq(curl_easy_perform(e), CURLE_OK, "the stream was cut");
  curl_easy_cleanup(e);
  curl_slist_free_all(sl);
  r = fx_rec(0);
  cr_assert_eq(r.c.status, 0);
  cr_assert_not_null(strstr(r.error, "aborted"), "%s", r.error);
  uv_thread_join(&fx.thread);
  cr_assert(fx.closed);
  cr_assert_eq(uv_loop_close(&fx.loop), 0);
}

Test(gateway, replay_serves_recorded_answers_in_order) {
  static const char sse[] =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":"
      "{\"model\":\"local-model\",\"usage\":{\"input_tokens\":7,"
      "\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":"
      "\"message_delta\",\"usage\":{\"output_tokens\":5}}\n\n";
  static const char json[] = "{\"type\":\"message\",\"usage\":{"
                             "\"input_tokens\":3,\"output_tokens\":2}}";
  struct rt_gw_replay replay[] = {{.body = sse, .len = sizeof(sse) - 1},
                                  {.body = json, .len = sizeof(json) - 1}};
  struct rt_gw_run run = default_run;
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;
  struct gw_resp resp;
  struct gw_rec r;

  run.replay = replay;
  run.nreplay = 2;
  opts.on_call = fx_on_call; /* no upstream: nothing may be forwarded */
  opts.pricing = fx.pricing;
  fx_gw_start(&opts, &run);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("true"));
  cr_assert_eq(resp.status, 200);
  cr_assert_str_eq(resp.body, sse);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("false"));
  cr_assert_str_eq(resp.body, json);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("false"));
  cr_assert_eq(resp.status, 503);
  assert_json_at(resp.body, "error", "type", "overloaded_error");
  cr_assert(fx_rec(0).c.replayed && fx_rec(0).c.stream);
  r = fx_rec(0);
  assert_usage(&r, 7, 5, 0, 0);
  r = fx_rec(1);
  assert_usage(&r, 3, 2, 0, 0);
  fx_gw_stop();
}

/* A gateway with no upstream answering from `replay`. */
static void replay_start(const struct rt_gw_replay *replay, size_t n) {
  struct rt_gw_run run = default_run;
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;

  run.replay = replay;
  run.nreplay = n;
  opts.on_call = fx_on_call;
  fx_gw_start(&opts, &run);
}

/* Replay entries are keyed by method and path: a side request the CLI now
 * sends before its model call still gets its own recorded answer. */
Test(gateway, replay_matches_side_requests_by_path) {
  static const char a[] = "{\"id\":\"A\"}", b[] = "{\"id\":\"B\"}",
                    n[] = "{\"input_tokens\":9}";
  struct rt_gw_replay replay[] = {
      {.body = a, .len = 10, .method = "POST", .path = "/v1/messages"},
      {.body = n,
       .len = sizeof(n) - 1,
       .method = "POST",
       .path = "/v1/messages/count_tokens"},
      {.body = b, .len = 10, .method = "POST", .path = "/v1/messages"}};
  struct gw_resp resp;

  replay_start(replay, 3);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages/count_tokens",
             h_anthropic, "{\"model\":\"m\"}");
  cr_assert_str_eq(resp.body, n);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             "{\"model\":\"m\"}");
  cr_assert_str_eq(resp.body, a);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             "{\"model\":\"m\"}");
  cr_assert_str_eq(resp.body, b);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages/count_tokens",
             h_anthropic, "{\"model\":\"m\"}");
  cr_assert_eq(resp.status, 503);
  cr_assert(fx_rec(2).c.replayed && fx_rec(3).c.status == 503);
  fx_gw_stop();
}

/* Two calls to one path that raced (a title call and the first model call)
 * are told apart by their recorded request bodies, whatever order they
 * arrive in now; an unrecorded body still gets the earliest. */
Test(gateway, replay_tells_racing_calls_apart_by_request) {
  static const char title_req[] = "{\"model\":\"m\",\"system\":\"title\"}";
  static const char work_req[] = "{\"model\":\"m\",\"system\":\"work\"}";
  static const char t[] = "{\"id\":\"T\"}", w[] = "{\"id\":\"W\"}";
  struct rt_gw_replay replay[] = {{.body = t,
                                   .len = 10,
                                   .method = "POST",
                                   .path = "/v1/messages",
                                   .request = title_req,
                                   .request_len = sizeof(title_req) - 1},
                                  {.body = w,
                                   .len = 10,
                                   .method = "POST",
                                   .path = "/v1/messages",
                                   .request = work_req,
                                   .request_len = sizeof(work_req) - 1},
                                  {.body = t,
                                   .len = 10,
                                   .method = "POST",
                                   .path = "/v1/messages",
                                   .request = title_req,
                                   .request_len = sizeof(title_req) - 1}};
  struct gw_resp resp;

  replay_start(replay, 3);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic, work_req);
  cr_assert_str_eq(resp.body, w);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic, title_req);
  cr_assert_str_eq(resp.body, t);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             "{\"other\":1}");
  cr_assert_str_eq(resp.body, t);
  fx_gw_stop();
}

/*
 * The requests the five real CLIs sent to the fake provider
 * (tests/data/<cli>/<scenario>.requests.jsonl: method, path, query, headers
 * with keys masked, body), sent again through the gateway with the
 * placeholder key: each must get the status the provider gave the CLI, and
 * the gateway's usage must be the provider's scripted usage of that answer
 * (normalised: OpenAI and Gemini have no cache-write class).
 */
static int header_skipped(const char *name) {
  static const char *const skip[] = {"content-length", "host", "connection",
                                     "transfer-encoding", "content-type"};

  for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
    if (strcmp(name, skip[i]) == 0)
      return 1;
  return 0;
}

static void recorded_headers(json_t *hdrs, char **out, size_t max) {
  const char *name;
  json_t *v;
  size_t n = 0;

  json_object_foreach(hdrs, name, v) {
    if (header_skipped(name) || n + 1 >= max)
      continue;
    if (strcmp(name, "authorization") == 0)
      xasprintf(&out[n++], "authorization: Bearer " GW_PLACEHOLDER);
    else if (strcmp(name, "x-api-key") == 0 ||
             strcmp(name, "x-goog-api-key") == 0)
      xasprintf(&out[n++], "%s: " GW_PLACEHOLDER, name);
    else
      xasprintf(&out[n++], "%s: %s", name, json_string_value(v));
  }
  out[n] = NULL;
}

/* Record i against line i of the provider's own log of this run: what it
 * answered, with which scripted usage. */
static void check_usage_against_log(int n) {
  char *log = fx_log_wait(n), *p = log;
  struct gw_rec r;

  cr_assert_null(strstr(log, GW_PLACEHOLDER));
  for (int i = 0; i < n; i++, p = strchr(p, '\n') + 1) {
    json_t *line = json_loadb(p, strcspn(p, "\n"), 0, NULL);
    json_t *u = json_object_get(json_object_get(line, "answer"), "usage");
    const char *dialect = json_string_value(json_object_get(line, "dialect"));
    int64_t in = json_integer_value(json_object_get(u, "input"));
    int64_t out = json_integer_value(json_object_get(u, "output"));
    int64_t crd = json_integer_value(json_object_get(u, "cache_read"));
    int64_t cwr = json_integer_value(json_object_get(u, "cache_write"));

    r = fx_rec(i);
    if (u != NULL && r.c.status == 200 && dialect != NULL &&
        strcmp(dialect, "anthropic") == 0)
      assert_usage(&r, in, out, crd, cwr);
    else if (u != NULL && r.c.status == 200)
      assert_usage(&r, in + cwr, out, crd, 0);
    json_decref(line);
  }
  free(log);
}

/* Records are numbered across calls of replay_recorded in one test. */
static int recorded_next;

static void replay_recorded(const char *cli, const char *scenario) {
  char path[512], url[1024], *hdrs[64], *body;
  const char *method, *query;
  struct gw_resp resp;
  json_error_t jerr;
  json_t *line;
  struct gw_rec r;
  FILE *f;
  int i = 0;

  snprintf(path, sizeof(path), "%s/%s/%s.requests.jsonl", TEST_DATA_DIR, cli,
           scenario);
  cr_assert_not_null(f = fopen(path, "r"), "%s", path);
  while ((line = json_loadf(f, JSON_DISABLE_EOF_CHECK, &jerr)) != NULL) {
    method = json_string_value(json_object_get(line, "method"));
    query = json_string_value(json_object_get(line, "query"));
    snprintf(url, sizeof(url), "%s%s%s",
             json_string_value(json_object_get(line, "path")),
             query && *query ? "?" : "", query && *query ? query : "");
    recorded_headers(json_object_get(line, "headers"), hdrs, 64);
    body = json_object_size(json_object_get(line, "body")) > 0
               ? json_dumps(json_object_get(line, "body"), JSON_COMPACT)
               : NULL;
    fx_request(&resp, fx.gw_port, method, url, (const char *const *)hdrs, body);
    r = fx_rec(recorded_next++);
    i++;
    cr_assert_eq(resp.status, r.c.status);
    cr_assert_not(r.c.refused, "%s %s: %s", cli, url, r.error);
    if (strcmp(scenario, "api-error") != 0 || strcmp(method, "HEAD") == 0)
      cr_assert_eq(resp.status, 200, "%s %s: %ld", cli, url, resp.status);
    else
      cr_assert_eq(resp.status, 400, "%s %s: %ld", cli, url, resp.status);
    for (int k = 0; hdrs[k] != NULL; k++)
      free(hdrs[k]);
    free(body);
    json_decref(line);
  }
  fclose(f);
  cr_assert_gt(i, 0);
}

Test(gateway, recorded_cli_requests_all_five) {
  static const char *const clis[] = {"claude-code", "codex", "gemini",
                                     "qwen-code", "opencode"};

  start_all(NULL, NULL);
  for (size_t c = 0; c < sizeof(clis) / sizeof(clis[0]); c++)
    replay_recorded(clis[c], "write-file");
  check_usage_against_log(recorded_next);
  fx_gw_stop();
}

Test(gateway, recorded_cli_errors_pass_through) {
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;

  cr_assert_eq(fx_provider_start("api-error.json", NULL), 0);
  fx_opts(&opts);
  fx_gw_start(&opts, &default_run);
  replay_recorded("claude-code", "api-error");
  fx_gw_stop();
}

TestSuite(gateway_config, .init = fx_setup, .fini = fx_teardown);

/* A run's own upstream (with its own key header) replaces the gateway's,
 * which here has none at all for the provider. */
Test(gateway, per_run_upstream_and_key_header) {
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;
  struct rt_gw_run run = default_run;
  struct gw_resp resp;
  char base[64], *log;

  cr_assert_eq(fx_provider_start("write-file.json", NULL), 0);
  snprintf(base, sizeof(base), "http://127.0.0.1:%d", fx.provider_port);
  opts.on_call = fx_on_call;
  run.upstream[RT_GW_ANTHROPIC].base_url = base;
  run.upstream[RT_GW_ANTHROPIC].api_key = GW_REAL_KEY;
  run.upstream[RT_GW_ANTHROPIC].key_header = "authorization";
  fx_gw_start(&opts, &run);
  fx_request(&resp, fx.gw_port, "POST", "/v1/messages", h_anthropic,
             ANTHROPIC_STEP0("true"));
  cr_assert_eq(resp.status, 200);
  fx_request(&resp, fx.gw_port, "POST", "/v1/responses", h_openai,
             RESPONSES_STEP0);
  cr_assert_eq(resp.status, 502, "openai has no upstream, run or gateway");
  log = fx_log_wait(1);
  cr_assert_not_null(strstr(log, "\"authorization\": \"Bearer " GW_REAL_KEY));
  cr_assert_null(strstr(log, "x-api-key"));
  free(log);
  fx_gw_stop();
}

Test(gateway_config, file_and_env) {
  char path[128];
  struct rt_gw_config cfg;
  struct rt_gw_opts opts = RT_GW_OPTS_INIT;
  struct crl_err err = CRL_ERR_INIT;
  FILE *f;

  snprintf(path, sizeof(path), "%s/gateway.json", fx.dir);
  f = fopen(path, "w");
  fputs("{\"providers\":{\"anthropic\":{\"base_url\":\"http://a\","
        "\"api_key\":\"ka\",\"key_header\":\"authorization\"},\"openai\":{"
        "\"api_key_env\":\"GW_TEST_KEY\"}},"
        "\"record_body_max\":100}",
        f);
  fclose(f);
  setenv("GW_TEST_KEY", "from-env", 1);
  cr_assert_eq(rt_gw_config_load(&cfg, path, &err), 0, "%s", err.msg);
  cr_assert_str_eq(cfg.base_url[RT_GW_ANTHROPIC], "http://a");
  cr_assert_str_eq(cfg.api_key[RT_GW_ANTHROPIC], "ka");
  cr_assert_str_eq(cfg.key_header[RT_GW_ANTHROPIC], "authorization");
  cr_assert_null(cfg.base_url[RT_GW_OPENAI]);
  cr_assert_str_eq(cfg.api_key[RT_GW_OPENAI], "from-env");
  cr_assert_null(cfg.api_key[RT_GW_GEMINI]);
  rt_gw_opts_from_config(&opts, &cfg);
  cr_assert_eq(opts.record_body_max, 100);
  rt_gw_config_close(&cfg);

  f = fopen(path, "w");
  fputs("{\"providers\":{\"mistral\":{}}}", f);
  fclose(f);
  cr_assert_eq(rt_gw_config_load(&cfg, path, &err), CRL_EPARSE);
  cr_assert_not_null(strstr(err.msg, "mistral"));
  setenv("XDG_CONFIG_HOME", fx.dir, 1); /* no corral/gateway.json there */
  cr_assert_eq(rt_gw_config_load(&cfg, NULL, &err), 0);
  cr_assert_null(cfg.api_key[RT_GW_ANTHROPIC]);
}
