/*
 * The pricing table: dollars per million tokens for each model and token
 * class (input, output, cache read, cache write), loaded from a versioned
 * JSON data file (data/pricing.json) and overridable entry by entry by a
 * user file of the same shape. A model missing from the table is an error
 * (CRL_ENOT_FOUND), never a price of 0: the caller reports it.
 *
 * File format:
 *   {"version": 1,
 *    "models": {"claude-sonnet-4-5": {"input": 3.0, "output": 15.0,
 *                                     "cache_read": 0.3,
 *                                     "cache_write": 3.75}, ...}}
 * Other keys (notes, "test": true) are ignored. cache_read and cache_write
 * default to the input price when absent.
 */
#ifndef RT_PRICE_H
#define RT_PRICE_H

#include <stdint.h>

#include "crl.h"

#define RT_PRICE_VERSION 1

/*
 * Token counts of one LLM call (or a sum of calls), in corral's one
 * convention: `input` counts prompt tokens that were neither read from nor
 * written to a cache, so the four classes are disjoint and
 * cost = input*p_in + output*p_out + cache_read*p_cr + cache_write*p_cw.
 * (Anthropic reports it this way; OpenAI and Gemini count cached tokens
 * inside the prompt, and the gateway subtracts them.) `reasoning` is
 * informative only: it is already counted in `output`.
 */
struct rt_usage {
  int64_t input;
  int64_t output;
  int64_t cache_read;
  int64_t cache_write;
  int64_t reasoning;
};

/* All tokens of a usage: input + output + cache_read + cache_write. */
int64_t rt_usage_total(const struct rt_usage *u);
/* acc += u, field by field. */
void rt_usage_add(struct rt_usage *acc, const struct rt_usage *u);

/* Dollars per million tokens. */
struct rt_price {
  double input;
  double output;
  double cache_read;
  double cache_write;
};

struct rt_price_table;

/* An empty table. Never fails (aborts on exhaustion). Free with
 * rt_price_table_free. */
struct rt_price_table *rt_price_table_new(void);
void rt_price_table_free(struct rt_price_table *t);
/*
 * Loads a pricing file into t: entries of the file replace entries of the
 * same model already in t (so load the shipped file first, then the user's
 * override). Returns 0, -errno (cannot open), CRL_EPARSE (bad JSON, bad
 * shape, a version other than RT_PRICE_VERSION, a negative price); detail in
 * err. On error t is unchanged.
 */
int rt_price_table_load(struct rt_price_table *t, const char *path,
                        struct crl_err *err);
/*
 * Finds the price of model: an exact entry, or else the longest entry that
 * is a prefix of model followed by a dated or "-latest" suffix
 * ("claude-sonnet-4-5-20250929" → "claude-sonnet-4-5",
 * "gpt-4o-2024-08-06" → "gpt-4o"). Returns a borrowed pointer (valid until
 * the next load or free) or NULL.
 */
const struct rt_price *rt_price_find(const struct rt_price_table *t,
                                     const char *model);
/*
 * The cost in dollars of usage u for model. Returns 0 and *usd, or
 * CRL_ENOT_FOUND when model (or NULL) has no price; *usd is then 0 and must
 * be reported as unknown, not as free.
 */
int rt_price_cost(const struct rt_price_table *t, const char *model,
                  const struct rt_usage *u, double *usd);
/* Models in the table. */
size_t rt_price_table_count(const struct rt_price_table *t);

#endif
