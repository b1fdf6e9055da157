/*
 * suggest.c: "did you mean" for misspelt keys, adapters and names. The
 * distance is the optimal-string-alignment variant of Damerau-Levenshtein:
 * insertions, deletions, substitutions and swaps of two neighbours each
 * count one, which matches the typos people make ("neeeds", "tiemout").
 * Only candidates within two edits are offered, and short words need to be
 * closer still, so a suggestion is a likely fix rather than noise.
 */
#include <stdlib.h>
#include <string.h>

#include "mission-int.h"

/* Words longer than this get no suggestion; it bounds the work per word. */
#define SUGGEST_MAX_LEN 128

static int min3(int a, int b, int c) {
  int m = a < b ? a : b;

  return m < c ? m : c;
}

/* Three rolling rows of the classic dynamic programme: row i-2 is needed for
 * the swap of two neighbours. */
static int osa(const char *a, size_t la, const char *b, size_t lb, int max) {
  int rows[3][SUGGEST_MAX_LEN + 1];
  int *pp = rows[0], *p = rows[1], *cur = rows[2], *t;

  for (size_t j = 0; j <= lb; j++)
    p[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int cost = a[i - 1] != b[j - 1];

      cur[j] = min3(p[j] + 1, cur[j - 1] + 1, p[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = cur[j] < pp[j - 2] + 1 ? cur[j] : pp[j - 2] + 1;
    }
    t = pp;
    pp = p;
    p = cur;
    cur = t;
  }
  return p[lb] > max ? max + 1 : p[lb];
}

int msn__distance(const char *a, const char *b, int max) {
  size_t la = strlen(a), lb = strlen(b);
  size_t diff = la > lb ? la - lb : lb - la;

  if (diff > (size_t)max)
    return max + 1;
  if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
    return strcmp(a, b) == 0 ? 0 : max + 1;
  return osa(a, la, b, lb, max);
}

const char *msn__suggest(const char *word, const char *const *cands, size_t n) {
  const char *best = NULL;
  int bestd = 3, limit = strlen(word) <= 2 ? 1 : 2;

  for (size_t i = 0; i < n; i++) {
    int dist = msn__distance(word, cands[i], limit);

    if (dist <= limit && dist < bestd) {
      best = cands[i];
      bestd = dist;
    }
  }
  return best;
}
