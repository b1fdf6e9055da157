/*
 * Fuzz target for the gateway's usage parser (runtime/gateway-usage.c): the
 * bytes of an LLM answer as they stream by. The first input byte picks the
 * endpoint (Anthropic, Responses, Chat, Gemini, side), whether the answer is
 * SSE, and a tiny or a large line bound; the second the chunk size; the rest
 * is the answer. Whatever the bytes, every count must stay non-negative and
 * the parser must neither crash nor leak.
 *
 * Built like adapter-parse.c: with libFuzzer when CORRAL_FUZZ=ON and the
 * compiler is clang, and always as a plain program replaying the files on
 * its command line, which CTest runs over tests/fuzz/corpus/gateway-usage
 * (answers of the fake provider in each wire format).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const enum rt_gw_api apis[] = {RT_GW_API_MESSAGES, RT_GW_API_RESPONSES,
                                        RT_GW_API_CHAT, RT_GW_API_GEMINI,
                                        RT_GW_API_SIDE};
  struct rt__gw_call call;
  const struct rt_usage *u = &call.rec.usage;
  size_t chunk, off, n;

  if (size < 2)
    return 0;
  memset(&call, 0, sizeof(call));
  call.rec.api = apis[data[0] % 5];
  call.sse = (data[0] & 0x40) == 0;
  crl_buf_init(&call.line, (data[0] & 0x80) != 0 ? 64 : 1 << 16);
  chunk = 1 + data[1];
  for (off = 2; off < size; off += n) {
    n = size - off < chunk ? size - off : chunk;
    rt__gw_usage_feed(&call, (const char *)data + off, n);
  }
  rt__gw_usage_end(&call);
  assert(u->input >= 0 && u->output >= 0 && u->cache_read >= 0 &&
         u->cache_write >= 0 && u->reasoning >= 0);
  assert(call.rec.usage_seen || (u->input == 0 && u->output == 0));
  crl_buf_close(&call.line);
  return 0;
}

#ifndef CORRAL_LIBFUZZER
#include "replay.h"

/* Each file under every mode, with a few chunk sizes. */
FUZZ_REPLAY_MAIN("fuzz-gateway-usage", 1, 37)
#endif
