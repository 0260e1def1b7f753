/*
 * hash_bench.c: what a keyed hash of the flow table's 48-byte key costs,
 * per key, for the candidates the flow table could use. Prints the median
 * of 9 runs of 1M distinct keys each, in TSC cycles and in nanoseconds of
 * thread CPU time (robust to a loaded machine: time off the CPU is not
 * counted). Not a test: the numbers depend on the machine.
 *
 * Candidates:
 *  - crc32c (rte_hash_crc): the unkeyed reference; CRC is linear, so its
 *    collisions are the same whatever the seed: unfit;
 *  - jhash (rte_jhash) with a random seed: what the flow table used;
 *    a seed is not a key (no proof that collisions depend on it);
 *  - siphash-2-4 and siphash-1-3: keyed PRFs (128-bit key) written for
 *    hash-flooding resistance; 1-3 is what Rust and Python use for tables;
 *  - nh+ms: the flow table's choice (lib/conntrack/ct_hash.h): NH
 *    (UMAC's universal hash, 32-bit words, 64-bit products) under a random
 *    per-table key, then a random odd multiply-shift to 32 bits.
 * Usage: npgw-bench-hash
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_jhash.h>

#include "ct_hash.h"

#define N_KEYS (1u << 20)
#define RUNS 9

struct key48 {
	uint64_t w[6];
};

static struct key48 *keys;
static volatile uint32_t sink;

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- SipHash (Aumasson, Bernstein), c compression and d final rounds ---- */

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl64(v1, 13);                                                               \
		v1 ^= v0;                                                                          \
		v0 = rotl64(v0, 32);                                                               \
		v2 += v3;                                                                          \
		v3 = rotl64(v3, 16);                                                               \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl64(v3, 21);                                                               \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl64(v1, 17);                                                               \
		v1 ^= v2;                                                                          \
		v2 = rotl64(v2, 32);                                                               \
	} while (0)

/* SipHash-c-d of a 48-byte message (six words: no partial last block). */
static inline uint64_t siphash48(const uint64_t k[2], const uint64_t m[6], int c, int d)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k[0], v1 = 0x646f72616e646f6dull ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ k[0], v3 = 0x7465646279746573ull ^ k[1];
	const uint64_t last = (uint64_t)48 << 56;

	for (int i = 0; i < 6; i++) {
		v3 ^= m[i];
		for (int r = 0; r < c; r++)
			SIPROUND;
		v0 ^= m[i];
	}
	v3 ^= last;
	for (int r = 0; r < c; r++)
		SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	for (int r = 0; r < d; r++)
		SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t sip_key[2];
static uint32_t seed32;
static struct ct_hash_secret secret;

static uint32_t h_crc(const struct key48 *k)
{
	return rte_hash_crc(k, sizeof(*k), seed32);
}

static uint32_t h_jhash(const struct key48 *k)
{
	return rte_jhash(k, sizeof(*k), seed32);
}

static uint32_t h_sip24(const struct key48 *k)
{
	return (uint32_t)siphash48(sip_key, k->w, 2, 4);
}

static uint32_t h_sip13(const struct key48 *k)
{
	return (uint32_t)siphash48(sip_key, k->w, 1, 3);
}

static uint32_t h_nhms(const struct key48 *k)
{
	return ct_hash48(&secret, k);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void run(const char *name, uint32_t (*fn)(const struct key48 *))
{
	double cyc[RUNS], ns[RUNS];

	for (int r = 0; r < RUNS; r++) {
		uint32_t acc = 0;
		double t0 = thread_ns();
		uint64_t c0 = rte_rdtsc_precise();

		for (uint32_t i = 0; i < N_KEYS; i++)
			acc += fn(&keys[i]);
		cyc[r] = (double)(rte_rdtsc_precise() - c0) / N_KEYS;
		ns[r] = (thread_ns() - t0) / N_KEYS;
		sink = acc;
	}
	qsort(cyc, RUNS, sizeof(cyc[0]), cmp_double);
	qsort(ns, RUNS, sizeof(ns[0]), cmp_double);
	printf("| %-12s | %8.1f | %8.2f |\n", name, cyc[RUNS / 2], ns[RUNS / 2]);
}

int main(void)
{
	keys = aligned_alloc(64, sizeof(*keys) * N_KEYS);
	if (keys == NULL)
		return 1;
	for (uint32_t i = 0; i < N_KEYS; i++) {
		/* flow keys: two addresses, ports, zone, family, protocol */
		memset(&keys[i], 0, sizeof(keys[i]));
		keys[i].w[0] = 0x0a000000u | rnd64() % 10000;
		keys[i].w[2] = 0x0aff0001u;
		keys[i].w[4] = (rnd64() & 0xffff) | (uint64_t)80 << 16 | (uint64_t)0x0604 << 48;
	}
	sip_key[0] = rnd64();
	sip_key[1] = rnd64();
	seed32 = (uint32_t)rnd64() | 1;
	ct_hash_secret_init(&secret, rnd64);
	printf("keyed hashes of a 48-byte flow key, median of %d runs of %u keys\n\n", RUNS,
	       N_KEYS);
	printf("| hash | TSC cycles/key | ns CPU/key |\n|---|---:|---:|\n");
	run("crc32c", h_crc);
	run("jhash", h_jhash);
	run("siphash-2-4", h_sip24);
	run("siphash-1-3", h_sip13);
	run("nh+ms", h_nhms);
	free(keys);
	return 0;
}
