/*
 * ruleset_private.h: stage 1 of a generation, address -> class.
 *
 * Host addresses (/32 and /128: pods, and ipBlocks that narrow) are exact
 * matches in one open-addressing hash table per family (stage1.c: linear
 * probing, at most half full); shorter prefixes (ipBlock cidrs and
 * excepts, a handful) become sorted disjoint intervals searched by
 * bisection; an address in neither has its family's default class. An
 * rte_lpm would serve too, but its fixed 64 MiB tbl24 per generation costs
 * more to allocate and clear than the whole rest of a build.
 *
 * Why not rte_hash: a generation owns its tables and never changes them
 * (workers read it lock-free; a failed commit must leave the live one as
 * it was), so pod churn needs a new table per generation. Adding 20,000
 * keys to a new rte_hash costs milliseconds; a flat table is copied with
 * one memcpy and patched with the few entries that differ (stage1_build
 * with prev), which is what makes a pod add cost well under a millisecond.
 */
#ifndef NPGW_RULESET_PRIVATE_H
#define NPGW_RULESET_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "npgw_compile.h"

/* A host table: slots of struct host4 or struct host6 (stage1.c), a power
 * of two of them, at most half used; a free slot has class
 * STAGE1_NO_CLASS. */
struct host_table {
	void *slots;
	uint32_t mask; /* slots - 1 */
	uint32_t shift; /* 32 - log2(slots): the hash's top bits pick a slot */
	uint32_t n; /* entries */
};

struct stage1 {
	struct host_table host4; /* key: 4 bytes, network order */
	struct host_table host6; /* key: 16 bytes */
	uint32_t n_iv4, n_iv6;
	uint32_t *iv4_lo; /* sorted starts, host order; iv4_lo[0] == 0 */
	uint32_t *iv4_cls;
	unsigned __int128 *iv6_lo; /* sorted starts; iv6_lo[0] == 0 */
	uint32_t *iv6_cls;
	bool patched; /* built from the previous generation's tables */
};

/*
 * Build stage 1 of cr. When prev (stage 1 of a generation built from
 * prev_cr) is given and the two results' host entries differ in few
 * places, the host tables start as copies of prev's and only those
 * entries change, and unchanged intervals are copied; otherwise
 * everything is built from cr. Either way the tables are s's own, and
 * equal to what cr alone gives. prev is only read. Returns 0 or a negative
 * errno.
 */
int stage1_build(struct stage1 *s, const struct npgw_compile_result *cr, const struct stage1 *prev,
		 const struct npgw_compile_result *prev_cr);

/* Free what stage1_build made (s itself is the caller's). */
void stage1_free(struct stage1 *s);

/*
 * Classes of n addresses of one family (n <= 64): v4 points at 4-byte
 * keys, v6 at 16-byte keys, each 8-byte aligned. Any lcore, lock-free, no
 * allocation.
 */
void stage1_lookup4(const struct stage1 *s, const void **keys, unsigned int n, uint32_t *cls);
void stage1_lookup6(const struct stage1 *s, const void **keys, unsigned int n, uint32_t *cls);

#endif /* NPGW_RULESET_PRIVATE_H */
