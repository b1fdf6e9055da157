/*
 * The replay program of a fuzz target, built when it is not linked with
 * libFuzzer: each file named on the command line goes through the target's
 * LLVMFuzzerTestOneInput behind the two selector bytes every target reads
 * first (data[0] picks the mode, data[1] the chunk size), for the picks 0,
 * STEP, 2*STEP, ... below 256 with data[1] = pick * MUL.
 *
 *   FUZZ_REPLAY_MAIN("fuzz-adapter-parse", 17, 7)
 */
#ifndef CORRAL_FUZZ_REPLAY_H
#define CORRAL_FUZZ_REPLAY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_replay(const char *name, const char *path, int step, int mul) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long len;

  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0) {
    fprintf(stderr, "%s: cannot read %s\n", name, path);
    if (f != NULL)
      fclose(f);
    return 1;
  }
  rewind(f);
  buf = malloc((size_t)len + 2);
  if (fread(buf + 2, 1, (size_t)len, f) != (size_t)len)
    len = 0;
  fclose(f);
  for (int pick = 0; pick < 256; pick += step) {
    buf[0] = (uint8_t)pick;
    buf[1] = (uint8_t)(pick * mul);
    LLVMFuzzerTestOneInput(buf, (size_t)len + 2);
  }
  free(buf);
  return 0;
}

#define FUZZ_REPLAY_MAIN(name, step, mul)              \
  int main(int argc, char **argv) {                    \
    int rc = 0;                                        \
                                                       \
    for (int i = 1; i < argc; i++)                     \
      rc |= fuzz_replay(name, argv[i], step, mul);     \
    printf("%s: replayed %d files\n", name, argc - 1); \
    return rc;                                         \
  }

#endif
