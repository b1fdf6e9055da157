/*
 * JSON helpers shared by the runtime: events with a JSON object as data,
 * written by verbs on a state dir (event.c) or by an engine (engine.c).
 */
#ifndef RT_JSON_H
#define RT_JSON_H

#include <jansson.h>

#include "store.h"

/* Appends an event whose data is the JSON object data (stolen), stamped
 * now, to the store's current turn (the caller commits). */
void rt_store_event(struct store *st, const char *mission, const char *task,
                    const char *kind, json_t *data);

struct rt_engine;

/* Records an engine event whose data is the JSON object data (stolen). */
void rt_engine_event_json(struct rt_engine *e, const char *task, int64_t run,
                          const char *kind, json_t *data);

#endif
