/*
 * Fuzz target for the agent adapters' stream parsers. The first input byte
 * picks the adapter and the line limit, the second the chunk size; the rest
 * is the agent's output, fed through adapter_stream as the runtime does.
 * Every event must have NUL-terminated text of the stated length, and the
 * JSON adapters' texts hold no NUL (exec passes raw bytes through).
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with libFuzzer when
 * CORRAL_FUZZ=ON and the compiler is clang (`fuzz-adapter-parse corpus/`,
 * seeded with the tests/data transcripts), and always as a plain program that
 * replays the files named on its command line, which CTest runs over the
 * recorded transcripts.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_exec;

static void check_event(const struct adapter_event *ev, void *payload) {
  size_t *n = payload;

  assert(ev->text != NULL && ev->text[ev->len] == '\0');
  assert(fuzz_exec || strlen(ev->text) == ev->len);
  assert(strcmp(adapter_event_kind_name(ev->kind), "unknown") != 0);
  (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *const *names = adapter_names();
  const struct adapter_ops *ops;
  struct adapter_stream s;
  size_t nnames, chunk, off, n, events = 0;

  if (size < 2)
    return 0;
  for (nnames = 0; names[nnames] != NULL; nnames++)
    ;
  ops = adapter_find(names[data[0] % nnames]);
  fuzz_exec = strcmp(ops->name, "exec") == 0;
  adapter_stream_init(&s, ops, (data[0] & 0x80) != 0 ? 64 : 1 << 16);
  chunk = 1 + data[1];
  for (off = 2; off < size; off += n) {
    n = size - off < chunk ? size - off : chunk;
    adapter_stream_feed(&s, (const char *)data + off, n, check_event, &events);
  }
  adapter_stream_finish(&s, check_event, &events);
  adapter_stream_close(&s);
  return 0;
}

#ifndef CORRAL_LIBFUZZER
#include "replay.h"

/* Each file under every mode, with a few chunk sizes. */
FUZZ_REPLAY_MAIN("fuzz-adapter-parse", 17, 7)
#endif
