/*
 * The LLM gateway: an HTTP/1.1 reverse proxy on the libuv loop that stands
 * between each run's agent CLI and the real LLM providers. Every run gets
 * its own listening socket (created by the runtime inside the run's network
 * namespace on 127.0.0.1 and handed to rt_gw_listen_fd), so the listener
 * itself identifies the run and no credential is needed from the sandbox.
 *
 * Per request it recognises the provider by path (Anthropic Messages, OpenAI
 * Responses and Chat Completions, Gemini generateContent and
 * streamGenerateContent, plus their side requests: model lists, token
 * counts, the HEAD probe), checks the run's budget, replaces the sandbox's
 * placeholder key with the real one from the configuration, forwards the
 * request upstream with libcurl's multi interface driven by the same loop,
 * and streams the answer back chunk by chunk as it arrives (SSE is never
 * buffered). It parses token usage from the answer (JSON or SSE) and hands
 * one record per call to on_call. A refused call (budget, no upstream,
 * malformed request) is answered in the provider's own error format and is
 * recorded too. With a replay list the run's calls are answered from
 * recorded bodies instead of being forwarded (gateway-replay.c).
 *
 * Threading: everything runs on the loop given to rt_gw_new; no function
 * here may be called from another thread. libcurl must have been
 * initialised (curl_global_init) by the program.
 */
#ifndef RT_GATEWAY_H
#define RT_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "crl.h"
#include "price.h"

struct rt_gw;
struct rt_gw_listener;

/* Providers, by wire format family. */
enum rt_gw_provider {
  RT_GW_ANTHROPIC,
  RT_GW_OPENAI,
  RT_GW_GEMINI,
  RT_GW_NPROVIDERS,
  RT_GW_UNKNOWN = RT_GW_NPROVIDERS
};

/* Which endpoint a call went to. */
enum rt_gw_api {
  RT_GW_API_MESSAGES,  /* Anthropic /v1/messages */
  RT_GW_API_RESPONSES, /* OpenAI /v1/responses */
  RT_GW_API_CHAT,      /* OpenAI /v1/chat/completions */
  RT_GW_API_GEMINI,    /* :generateContent / :streamGenerateContent */
  RT_GW_API_SIDE,      /* model lists, token counts, probes, others */
};

/* Budget dimensions; also the `what` of on_budget. */
enum rt_gw_budget_kind {
  RT_GW_BUDGET_NONE = 0,
  RT_GW_BUDGET_TOKENS,
  RT_GW_BUDGET_USD,
  RT_GW_BUDGET_TURNS,
  RT_GW_BUDGET_EXTERNAL /* the runtime's admit callback refused */
};

/* "tokens", "usd", "turns", "external", "none". */
const char *rt_gw_budget_name(enum rt_gw_budget_kind kind);
/* "anthropic", "openai", "gemini", "unknown". */
const char *rt_gw_provider_name(enum rt_gw_provider p);
/* "messages", "responses", "chat", "gemini", "side". */
const char *rt_gw_api_name(enum rt_gw_api api);

/* One provider's upstream: base URL without the API path
 * ("https://api.anthropic.com"; the request path is appended as sent; NULL:
 * the provider's public URL), the real key (NULL: not configured, requests
 * are refused), and the header that carries it (NULL: the provider's own,
 * x-api-key / Authorization: Bearer / x-goog-api-key; "authorization" means
 * "Authorization: Bearer KEY", any other name "name: KEY", e.g. "api-key"
 * for Azure or "authorization" for an Anthropic OAuth token). */
struct rt_gw_upstream {
  const char *base_url;
  const char *api_key;
  const char *key_header;
};

/*
 * The gateway configuration as read from a file: per provider
 *   {"providers": {"anthropic": {"base_url": "...", "api_key": "...",
 *                                "key_header": "x-api-key"},
 *                  "openai": {"base_url": "...", "api_key_env": "VAR"},
 *                  "gemini": {...}},
 *    "record_body_max": 65536}
 * api_key_env names a variable of the daemon's environment holding the key.
 * A provider without base_url gets its public default URL; a provider
 * without a key is not configured. Strings are owned by the config.
 */
struct rt_gw_config {
  char *base_url[RT_GW_NPROVIDERS];
  char *api_key[RT_GW_NPROVIDERS];
  char *key_header[RT_GW_NPROVIDERS];
  size_t record_body_max; /* 0: not set in the file */
};

/*
 * Reads path, or when path is NULL $XDG_CONFIG_HOME/corral/gateway.json
 * (~/.config/corral/gateway.json); a missing default file gives an empty
 * configuration. Returns 0, -errno (an explicit path that cannot be read),
 * CRL_EPARSE (detail in err). cfg is zeroed first; free with
 * rt_gw_config_close.
 */
int rt_gw_config_load(struct rt_gw_config *cfg, const char *path,
                      struct crl_err *err);
void rt_gw_config_close(struct rt_gw_config *cfg);

/* Caps for one run; 0 means no cap. Tokens count every class
 * (rt_usage_total). Turns count model calls (not side requests). */
struct rt_gw_budget {
  int64_t max_tokens;
  double max_usd;
  int64_t max_turns;
};

/*
 * One recorded answer served in replay mode. method and path (NULL: any)
 * say which requests it may answer: each request takes the first unused
 * entry of its method and path, so side requests that interleave with
 * model calls in another order than recorded still get their own answers.
 * When several entries of one method and path are waiting (a title call
 * racing the first model call), the one whose recorded request body
 * (request, NULL: none) agrees longest with the request's is served; ties
 * go to the earliest.
 */
struct rt_gw_replay {
  int status;               /* 0: 200 */
  const char *content_type; /* NULL: sniffed (SSE when body starts "event:"
                               or "data:", else application/json) */
  const char *body;
  size_t len;
  const char *method;
  const char *path;
  const char *request;
  size_t request_len;
};

/*
 * The run context given to rt_gw_listen_fd. The gateway copies every string
 * and the replay list (bodies included); payload is the runtime's own and is
 * handed back through rt_gw_listener_run(...)->payload in callbacks.
 */
struct rt_gw_run {
  const char *mission_id;
  const char *ticket_id;
  const char *task_id;
  const char *run_id;
  const char *agent;
  struct rt_gw_budget budget;
  /* Per-run upstreams (an agent whose OpenAI-compatible provider is not the
   * gateway's): an entry with an api_key replaces the gateway's for this
   * run; base_url NULL there means the gateway's base URL. */
  struct rt_gw_upstream upstream[RT_GW_NPROVIDERS];
  /* Replay mode when replay != NULL: calls are answered from these bodies
   * (side requests included; see struct rt_gw_replay for which answers
   * which), and with a 503 in the provider's format when none is left.
   * Nothing is forwarded. */
  const struct rt_gw_replay *replay;
  size_t nreplay;
  /* A run taken up again by a restarted engine: the last seq it recorded
   * (its calls go on from the next) and the model calls it made (they
   * count against budget.max_turns). 0 for a new run. */
  uint64_t prior_seq;
  int64_t prior_turns;
  void *payload;
};

/*
 * The record of one call, valid only during on_call. Strings may be NULL.
 * Bodies are truncated to opts.record_body_max (the *_truncated flags say
 * so); the response body is the bytes sent to the client (SSE included).
 */
struct rt_gw_call {
  uint64_t seq; /* per listener, from 1 */
  enum rt_gw_provider provider;
  enum rt_gw_api api;
  const char *method;
  const char *path; /* as sent by the client, without the query */
  const char *model;
  int stream;               /* the answer was SSE */
  const char *content_type; /* of the answer, as sent to the client */
  int status;  /* HTTP status sent to the client; 0: client gone first */
  int refused; /* answered by the gateway itself, not forwarded */
  enum rt_gw_budget_kind refused_budget; /* when refused for a budget */
  int replayed;                          /* answered from the replay list */
  const char *error;  /* why refused / transport error; NULL when fine */
  int64_t started_ms; /* wall clock, when the request was complete */
  double latency_ms;  /* request complete → response complete */
  double ttfb_ms;     /* request complete → first body byte; -1: none */
  struct rt_usage usage;
  int usage_seen; /* usage was found in the answer */
  double usd;     /* cost when cost_rc == 0 (0 when no usage was seen) */
  int cost_rc;    /* 0; or, when there was usage to price, CRL_ENOT_FOUND
                     (model not in the table) or CRL_EINTERNAL (no table) */
  const char *request_body;
  size_t request_len; /* recorded bytes */
  int request_truncated;
  const char *response_body;
  size_t response_len;
  int response_truncated;
};

/* Callbacks; payload is opts.payload. run is the listener's copy. */
typedef void (*rt_gw_call_cb)(const struct rt_gw_run *run,
                              const struct rt_gw_call *call, void *payload);
typedef void (*rt_gw_budget_cb)(const struct rt_gw_run *run,
                                enum rt_gw_budget_kind what, void *payload);
/* Asked before each model call is forwarded, after the run's own caps:
 * return 0 to let it through, non-zero to refuse it as
 * RT_GW_BUDGET_EXTERNAL (ticket or mission budgets kept by the runtime). */
typedef int (*rt_gw_admit_cb)(const struct rt_gw_run *run,
                              const struct rt_gw_call *pending, void *payload);
typedef void (*rt_gw_close_cb)(void *payload);

struct rt_gw_opts {
  /* Upstreams, indexed by enum rt_gw_provider. Copied. */
  struct rt_gw_upstream upstream[RT_GW_NPROVIDERS];
  /* Borrowed; must outlive the gateway. NULL: costs are not computed
   * (cost_rc CRL_EINTERNAL) and a usd cap is never reached. */
  const struct rt_price_table *pricing;
  size_t record_body_max;   /* bytes of each body kept in a record */
  size_t max_request_bytes; /* larger requests get 413 */
  size_t max_parse_bytes;   /* JSON answer / one SSE line parsed for usage */
  size_t max_unsent_bytes;  /* a client not reading past this is dropped */
  long connect_timeout_ms;  /* upstream connect */
  rt_gw_call_cb on_call;
  rt_gw_budget_cb on_budget;
  rt_gw_admit_cb admit;
  void *payload;
};

#define RT_GW_OPTS_INIT                                                      \
  {                                                                          \
    .record_body_max = 64 * 1024, .max_request_bytes = 32 * 1024 * 1024,     \
    .max_parse_bytes = 8 * 1024 * 1024, .max_unsent_bytes = 8 * 1024 * 1024, \
    .connect_timeout_ms = 10000                                              \
  }

/* Fills opts->upstream from cfg (pointers borrowed from cfg, which must
 * outlive rt_gw_new) and record_body_max when the file set it. */
void rt_gw_opts_from_config(struct rt_gw_opts *opts,
                            const struct rt_gw_config *cfg);

/*
 * Creates a gateway on loop with a copy of opts. Returns 0 and *out, or
 * CRL_EINTERNAL when libcurl's multi handle cannot be made.
 */
int rt_gw_new(struct rt_gw **out, uv_loop_t *loop,
              const struct rt_gw_opts *opts, struct crl_err *err);
/*
 * Closes every listener (as rt_gw_unlisten) and the gateway; cb(payload)
 * runs once every handle is closed and the memory is freed. gw is invalid
 * after the call. NULL-safe.
 */
void rt_gw_close(struct rt_gw *gw, rt_gw_close_cb cb, void *payload);

/*
 * Serves the listening TCP socket fd (bound and listening, any address; the
 * gateway makes it non-blocking and owns it from now on, also on error) for
 * the run described by run. Returns 0 and *out (owned by the gateway, valid
 * until rt_gw_unlisten or rt_gw_close), or -errno with detail in err.
 */
int rt_gw_listen_fd(struct rt_gw_listener **out, struct rt_gw *gw, int fd,
                    const struct rt_gw_run *run, struct crl_err *err);
/*
 * Stops serving: closes the listening socket and every connection. Calls in
 * flight are aborted and recorded (status 0, error "aborted") through
 * on_call before this returns. l is invalid after the call. NULL-safe.
 * It may be called from on_call or on_budget (for this listener or
 * another; the current call's record has been delivered by then), not from
 * admit.
 */
void rt_gw_unlisten(struct rt_gw_listener *l);

/* Replaces the run's caps (the runtime lowers them when a ticket or
 * mission budget shrinks, or raises them on resume). The next call is
 * checked against them; on_budget may fire again. */
void rt_gw_listener_set_budget(struct rt_gw_listener *l,
                               const struct rt_gw_budget *budget);
/* The listener's copy of its run context. Borrowed. */
const struct rt_gw_run *rt_gw_listener_run(const struct rt_gw_listener *l);
/* Totals of the calls answered so far for this listener: usage, dollars
 * (priced calls only), model calls, and calls whose model had no price. */
struct rt_gw_totals {
  struct rt_usage usage;
  double usd;
  int64_t turns;
  int64_t calls;
  int64_t unpriced;
};
void rt_gw_listener_totals(const struct rt_gw_listener *l,
                           struct rt_gw_totals *out);

#endif
