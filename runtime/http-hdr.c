/*
 * Request headers read piecewise from libhttp-parser (http-hdr.h).
 */
#include "http-hdr.h"

#include <string.h>

void rt__http_hdr_init(struct rt__http_hdr *h, size_t max) {
  memset(h, 0, sizeof(*h));
  h->max = max;
  crl_buf_init(&h->field, max);
  crl_buf_init(&h->value, max);
}

void rt__http_hdr_close(struct rt__http_hdr *h) {
  crl_buf_close(&h->field);
  crl_buf_close(&h->value);
}

void rt__http_hdr_reset(struct rt__http_hdr *h) {
  h->bytes = 0;
  h->in_value = 0;
  crl_buf_reset(&h->field);
  crl_buf_reset(&h->value);
}

int rt__http_hdr_count(struct rt__http_hdr *h, size_t n) {
  h->bytes += n;
  return h->bytes > h->max ? -1 : 0;
}

int rt__http_hdr_end(struct rt__http_hdr *h, rt__http_hdr_cb cb,
                     void *payload) {
  int rc;

  if (!h->in_value)
    return 0; /* a name still coming in pieces, or no header at all */
  rc = cb(h->field.data ? h->field.data : "",
          h->value.data ? h->value.data : "", payload);
  h->in_value = 0;
  crl_buf_reset(&h->field);
  crl_buf_reset(&h->value);
  return rc;
}

int rt__http_hdr_field(struct rt__http_hdr *h, const char *at, size_t n,
                       rt__http_hdr_cb cb, void *payload) {
  if (rt__http_hdr_end(h, cb, payload) < 0)
    return -1;
  return crl_buf_append(&h->field, at, n) < 0 ? -1 : 0;
}

int rt__http_hdr_value(struct rt__http_hdr *h, const char *at, size_t n) {
  h->in_value = 1;
  return crl_buf_append(&h->value, at, n) < 0 ? -1 : 0;
}
