/*
 * ct_hash.h: the flow table's keyed hash of its 48-byte key.
 *
 * NH (the universal hash of UMAC, Black et al. 1999) over the key's twelve
 * 32-bit words under a random per-table key, then a random odd
 * multiply-shift (Dietzfelbinger et al. 1997) from 64 to 32 bits:
 *
 *   nh = sum over i of (w[2i] + k[2i] mod 2^32) * (w[2i+1] + k[2i+1] mod 2^32)
 *        mod 2^64
 *   h  = bits 63..32 of (nh * m mod 2^64), m odd
 *
 * For two distinct keys chosen without knowledge of the secret, NH
 * collides with probability at most 2^-32 and the multiply-shift's top
 * l bits with at most 2 * 2^-l, so no set of flows can be aimed at one
 * bucket in advance, which a seeded hash without such a bound (jhash) or a
 * linear one (CRC32, whose collisions do not depend on the seed) cannot
 * promise. The bucket index rte_hash takes is the LOW bits of the value it
 * is given, and the bound holds for the TOP bits of the product, so the
 * result is bit-reversed: the bucket bits are the product's top bits.
 *
 * Why this one: app/bench/hash_bench.c measured it against crc32c, jhash
 * and SipHash-1-3/2-4 (BENCHMARKS.md): the cheapest keyed candidate by a
 * wide margin, six multiplies that run in parallel. Pure, no DPDK.
 */
#ifndef NPGW_CT_HASH_H
#define NPGW_CT_HASH_H

#include <stdint.h>
#include <string.h>

struct ct_hash_secret {
	uint32_t nh[12];
	uint64_t ms; /* odd */
};

/* Fill s from rnd, a source of random 64-bit words. */
static inline void ct_hash_secret_init(struct ct_hash_secret *s, uint64_t (*rnd)(void))
{
	for (unsigned int i = 0; i < 12; i += 2) {
		uint64_t r = rnd();

		s->nh[i] = (uint32_t)r;
		s->nh[i + 1] = (uint32_t)(r >> 32);
	}
	s->ms = rnd() | 1;
}

static inline uint32_t ct_bitrev32(uint32_t x)
{
	x = __builtin_bswap32(x);
	x = (x & 0x0f0f0f0fu) << 4 | ((x >> 4) & 0x0f0f0f0fu);
	x = (x & 0x33333333u) << 2 | ((x >> 2) & 0x33333333u);
	return (x & 0x55555555u) << 1 | ((x >> 1) & 0x55555555u);
}

/* The hash of the 48 bytes at key. */
static inline uint32_t ct_hash48(const struct ct_hash_secret *s, const void *key)
{
	const uint8_t *b = key;
	uint64_t nh = 0;

	/* 8-byte loads (each inside one store of the key's writer, so the
	 * store buffer forwards them), split into the two 32-bit words */
	for (unsigned int i = 0; i < 12; i += 2) {
		uint64_t x;

		memcpy(&x, b + i * 4, 8);
		nh += (uint64_t)(uint32_t)((uint32_t)x + s->nh[i]) *
		      (uint32_t)((uint32_t)(x >> 32) + s->nh[i + 1]);
	}
	return ct_bitrev32((uint32_t)((nh * s->ms) >> 32));
}

#endif /* NPGW_CT_HASH_H */
