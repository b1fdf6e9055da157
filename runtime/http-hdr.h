/*
 * A request's headers as libhttp-parser hands them over (http-hdr.c): a
 * name and a value in pieces, a value known to be whole only when the next
 * name or the end of the headers comes; and the bytes of the request line
 * and headers counted against one limit. Shared by the control socket's
 * parser (http-parse.c), which keeps three headers, and the gateway's
 * (gateway-conn.c), which keeps them all.
 */
#ifndef RT_HTTP_HDR_H
#define RT_HTTP_HDR_H

#include <stddef.h>

#include "crl.h"

struct rt__http_hdr {
  struct crl_buf field;
  struct crl_buf value;
  int in_value;
  size_t bytes; /* request line and headers so far */
  size_t max;
};

/* Takes one whole header; a negative return stops the parse. */
typedef int (*rt__http_hdr_cb)(const char *name, const char *value,
                               void *payload);

void rt__http_hdr_init(struct rt__http_hdr *h, size_t max);
void rt__http_hdr_close(struct rt__http_hdr *h);
/* For the next request. */
void rt__http_hdr_reset(struct rt__http_hdr *h);
/* Counts n more bytes; -1 once past max. */
int rt__http_hdr_count(struct rt__http_hdr *h, size_t n);
/* A piece of a name: the header before it, if any, goes to cb first. */
int rt__http_hdr_field(struct rt__http_hdr *h, const char *at, size_t n,
                       rt__http_hdr_cb cb, void *payload);
/* A piece of a value. */
int rt__http_hdr_value(struct rt__http_hdr *h, const char *at, size_t n);
/* The end of the headers: the last one, if any, goes to cb. */
int rt__http_hdr_end(struct rt__http_hdr *h, rt__http_hdr_cb cb, void *payload);

#endif
