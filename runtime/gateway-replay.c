/*
 * The gateway's replay list: the recorded answers a run's calls get instead
 * of being forwarded. The list is the listener's own copy. A request is
 * answered by the first unused entry recorded for its method and path, so
 * side requests (title calls, token counts, model lists) that interleave
 * with model calls in another order than recorded still get their own
 * answers. Entries of one method and path that wait together (a title call
 * racing the first model call to the same endpoint) are told apart by their
 * recorded request bodies: the longest agreement with the request wins,
 * ties go to the earliest.
 */
#include "gateway-int.h"

#include <stdlib.h>
#include <string.h>

/* How many waiting entries of one method and path are compared. */
#define REPLAY_WINDOW 4

static char *dup_n(const char *s, size_t n) {
  return s ? xstrndup(s, n) : NULL;
}

void rt__gw_replay_copy(struct rt_gw_listener *l, const struct rt_gw_run *src) {
  struct rt_gw_replay *r;

  l->run.replay = NULL;
  if (src->replay == NULL)
    return;
  r = xcalloc(src->nreplay + 1, sizeof(*r));
  for (size_t i = 0; i < src->nreplay; i++) {
    const struct rt_gw_replay *s = &src->replay[i];

    r[i] = *s;
    r[i].content_type = dup_n(s->content_type, SIZE_MAX);
    r[i].body = xstrndup(s->body ? s->body : "", s->len);
    r[i].method = dup_n(s->method, SIZE_MAX);
    r[i].path = dup_n(s->path, SIZE_MAX);
    r[i].request = dup_n(s->request, s->request_len);
  }
  l->run.replay = r;
  l->replay_used = xcalloc(src->nreplay + 1, 1);
}

void rt__gw_replay_free(struct rt_gw_listener *l) {
  struct rt_gw_replay *r = (struct rt_gw_replay *)l->run.replay;

  for (size_t i = 0; r != NULL && i < l->run.nreplay; i++) {
    free((char *)r[i].content_type);
    free((char *)r[i].body);
    free((char *)r[i].method);
    free((char *)r[i].path);
    free((char *)r[i].request);
  }
  free(r);
  free(l->replay_used);
  l->run.replay = NULL;
  l->replay_used = NULL;
}

static int replay_fits(const struct rt_gw_replay *r, const char *method,
                       const char *path) {
  return (r->method == NULL || strcmp(r->method, method) == 0) &&
         (r->path == NULL || strcmp(r->path, path) == 0);
}

static size_t replay_agree(const struct rt_gw_replay *r, const char *body,
                           size_t len) {
  size_t n = 0, max = r->request_len < len ? r->request_len : len;

  if (r->request == NULL || body == NULL)
    return 0;
  while (n < max && r->request[n] == body[n])
    n++;
  /* The very same body beats any prefix of it. */
  return n == len && n == r->request_len ? SIZE_MAX : n;
}

long rt__gw_replay_pick(struct rt_gw_listener *l, const char *method,
                        const char *path, const char *body, size_t len) {
  const struct rt_gw_replay *list = l->run.replay;
  long best = -1;
  size_t best_agree = 0, agree;
  int seen = 0;

  for (size_t i = 0; i < l->run.nreplay && seen < REPLAY_WINDOW; i++) {
    if (l->replay_used[i] || !replay_fits(&list[i], method, path))
      continue;
    seen++;
    agree = replay_agree(&list[i], body, len);
    if (best < 0 || agree > best_agree) {
      best = (long)i;
      best_agree = agree;
    }
  }
  if (best >= 0)
    l->replay_used[best] = 1;
  return best;
}
