/*
 * JSON helpers shared by the runtime's verbs (event.c).
 */
#ifndef RT_JSON_H
#define RT_JSON_H

#include <jansson.h>

#include "store.h"

/* Appends an event whose data is the JSON object data (stolen), stamped
 * now, to the store's current turn (the caller commits). */
void rt_store_event(struct store *st, const char *mission, const char *task,
                    const char *kind, json_t *data);

#endif
