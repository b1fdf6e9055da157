/*
 * libFuzzer harness for the control socket's request path without a socket:
 * bytes go through the same parser the connection uses (libhttp-parser
 * callbacks under the header and body limits), in pieces whose size the
 * first input byte picks so resumption across reads is exercised, then
 * through target decoding, routing with captures, query lookup and the JSON
 * body decoder. Built and run by scripts/fuzz.
 */
#include <stdint.h>

#include "http-int.h"

static void fuzz_handler(struct rt_http_req *req, void *payload) {
}

static const struct rt_http_route fuzz_routes[] = {
    {"GET", "/v1/tasks/{id}", fuzz_handler},
    {"POST", "/v1/tasks/{id}/approve", fuzz_handler},
    {"GET", "/v1/events", fuzz_handler},
    {"POST", "/v1/missions", fuzz_handler},
};

static void fuzz_use(struct rt_http_req *req) {
  struct crl_err err = CRL_ERR_INIT;
  char allow[128];
  json_t *v;
  int code;

  rt__http_route_find(fuzz_routes, CRL_ARRAY_SIZE(fuzz_routes), req, &code,
                      allow, sizeof(allow));
  (void)rt_http_req_query(req, "mission");
  (void)rt_http_req_param(req, "id");
  if (rt_http_req_json(&v, req, &err) == 0)
    json_decref(v);
  rt__http_req_free(req);
}

/* Feeds what is buffered, as conn_process does; returns -1 once the parser
 * failed (the connection would answer and close). */
static int fuzz_drain(struct rt__http_parse *p, struct crl_buf *in) {
  struct crl_err err = CRL_ERR_INIT;
  struct rt_http_req *req;
  size_t used;
  int status;

  while (in->len > 0) {
    if (rt__http_parse_feed(p, in->data, in->len, &used, &req, &status, &err) <
        0)
      return -1;
    crl_buf_consume(in, used);
    if (req == NULL)
      break;
    fuzz_use(req);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct rt__http_parse p;
  struct crl_buf in;
  size_t step, off, n;

  if (size == 0)
    return 0;
  step = (size_t)data[0] % 64 + 1;
  rt__http_parse_init(&p, 4096, 65536);
  crl_buf_init(&in, 0);
  for (off = 1; off < size; off += n) {
    n = size - off < step ? size - off : step;
    crl_buf_append(&in, data + off, n);
    if (fuzz_drain(&p, &in) < 0)
      break;
  }
  crl_buf_close(&in);
  rt__http_parse_close(&p);
  return 0;
}
