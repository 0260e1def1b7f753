/*
 * ruleset_private.h: stage 1 of a generation, address -> class.
 *
 * Host addresses (/32 and /128: pods, and ipBlocks that narrow) are exact
 * matches in one rte_hash per family; shorter prefixes (ipBlock cidrs and
 * excepts, a handful) become sorted disjoint intervals searched by
 * bisection; an address in neither has its family's default class. An
 * rte_lpm would serve too, but its fixed 64 MiB tbl24 per generation costs
 * more to allocate and clear than the whole rest of a build.
 */
#ifndef NPGW_RULESET_PRIVATE_H
#define NPGW_RULESET_PRIVATE_H

#include <stdint.h>

#include "npgw_compile.h"

struct rte_hash;

struct stage1 {
	struct rte_hash *host4; /* key: 4 bytes, network order */
	struct rte_hash *host6; /* key: 16 bytes */
	uint32_t n_iv4, n_iv6;
	uint32_t *iv4_lo; /* sorted starts, host order; iv4_lo[0] == 0 */
	uint32_t *iv4_cls;
	unsigned __int128 *iv6_lo; /* sorted starts; iv6_lo[0] == 0 */
	uint32_t *iv6_cls;
	uint32_t n_host4, n_host6;
};

/* Build stage 1 from a compile result. Returns 0 or a negative errno. */
int stage1_build(struct stage1 *s, const struct npgw_compile_result *cr);

/* Free what stage1_build made (s itself is the caller's). */
void stage1_free(struct stage1 *s);

/*
 * Classes of n addresses of one family (n <= 64): v4 points at 4-byte
 * keys, v6 at 16-byte keys. Any lcore, lock-free, no allocation.
 */
void stage1_lookup4(const struct stage1 *s, const void **keys, unsigned int n, uint32_t *cls);
void stage1_lookup6(const struct stage1 *s, const void **keys, unsigned int n, uint32_t *cls);

#endif /* NPGW_RULESET_PRIVATE_H */
