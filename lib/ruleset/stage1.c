/*
 * stage1.c: address -> class for a generation: exact host entries in
 * rte_hash, prefixes as sorted disjoint intervals (see ruleset_private.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>

#include "ruleset_private.h"

typedef unsigned __int128 u128;

static atomic_uint_fast64_t stage1_seq;

static u128 addr_to_u128(const struct npgw_addr *a)
{
	u128 v = 0;

	for (size_t i = 0; i < npgw_addr_len(a->family); i++)
		v = v << 8 | a->bytes[i];
	return v;
}

/* A prefix as the closed interval [lo, hi] of its family's integers. */
static void prefix_range(const struct npgw_prefix *p, u128 *lo, u128 *hi)
{
	unsigned int bits = p->addr.family == 4 ? 32 : 128;
	unsigned int host = bits - p->len;
	u128 mask = host >= 128 ? ~(u128)0 : (((u128)1 << host) - 1);

	*lo = addr_to_u128(&p->addr);
	*hi = *lo | mask;
}

static int cmp_u128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Disjoint intervals of one family from its prefix entries: cut the line at
 * every prefix start and end + 1; each piece takes the class of the longest
 * prefix covering its start (or the default); equal neighbours merge.
 * Prefix entries are few (ipBlock boundaries), so the quadratic scan is fine.
 */
static int build_intervals(const struct npgw_compile_result *cr, uint8_t family, uint32_t dflt,
			   u128 **lo_out, uint32_t **cls_out, uint32_t *n_out)
{
	size_t np = 0, n_cut = 1, n = 0;
	u128 *cut, *lo = NULL;
	uint32_t *cls = NULL;
	u128 top = family == 4 ? 0xffffffffu : ~(u128)0;

	for (size_t i = 0; i < cr->n_stage1; i++)
		if (cr->stage1[i].prefix.addr.family == family &&
		    cr->stage1[i].prefix.len < (family == 4 ? 32 : 128))
			np++;
	cut = calloc(np * 2 + 1, sizeof(*cut));
	if (cut == NULL)
		return -ENOMEM;
	cut[0] = 0;
	for (size_t i = 0; i < cr->n_stage1; i++) {
		const struct npgw_prefix *p = &cr->stage1[i].prefix;
		u128 a, b;

		if (p->addr.family != family || p->len >= (family == 4 ? 32 : 128))
			continue;
		prefix_range(p, &a, &b);
		cut[n_cut++] = a;
		if (b != top)
			cut[n_cut++] = b + 1;
	}
	qsort(cut, n_cut, sizeof(*cut), cmp_u128);
	lo = calloc(n_cut, sizeof(*lo));
	cls = calloc(n_cut, sizeof(*cls));
	if (lo == NULL || cls == NULL) {
		free(cut);
		free(lo);
		free(cls);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_cut; i++) {
		uint32_t c = dflt;
		int best = -1;

		if (i > 0 && cut[i] == cut[i - 1])
			continue;
		for (size_t j = 0; j < cr->n_stage1; j++) {
			const struct npgw_prefix *p = &cr->stage1[j].prefix;
			u128 a, b;

			if (p->addr.family != family || p->len >= (family == 4 ? 32 : 128))
				continue;
			prefix_range(p, &a, &b);
			if (a <= cut[i] && cut[i] <= b && (int)p->len > best) {
				best = p->len;
				c = cr->stage1[j].class_id;
			}
		}
		if (n > 0 && cls[n - 1] == c)
			continue;
		lo[n] = cut[i];
		cls[n] = c;
		n++;
	}
	free(cut);
	*lo_out = lo;
	*cls_out = cls;
	*n_out = (uint32_t)n;
	return 0;
}

static struct rte_hash *host_table(uint32_t key_len, uint32_t entries, const char *tag)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = name,
		/* rte_hash wants room to spare; ext buckets make adds never
		 * fail on a full bucket */
		.entries = NPGW_MAX(entries * 2, 64u),
		.key_len = key_len,
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	snprintf(name, sizeof(name), "npgw%s-%" PRIu64, tag,
		 (uint64_t)atomic_fetch_add(&stage1_seq, 1));
	return rte_hash_create(&p);
}

int stage1_build(struct stage1 *s, const struct npgw_compile_result *cr)
{
	u128 *lo4 = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < cr->n_stage1; i++) {
		const struct npgw_prefix *p = &cr->stage1[i].prefix;

		if (p->addr.family == 4 && p->len == 32)
			s->n_host4++;
		else if (p->addr.family == 6 && p->len == 128)
			s->n_host6++;
	}
	s->host4 = host_table(4, s->n_host4, "h4");
	s->host6 = host_table(16, s->n_host6, "h6");
	if (s->host4 == NULL || s->host6 == NULL) {
		rc = rte_errno ? -rte_errno : -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < cr->n_stage1; i++) {
		const struct npgw_compile_stage1 *e = &cr->stage1[i];
		uintptr_t data = e->class_id;
		uint64_t key[2]; /* rte_hash_crc reads keys 8 bytes at a time */

		rc = 0;
		memcpy(key, e->prefix.addr.bytes, sizeof(key));
		if (e->prefix.addr.family == 4 && e->prefix.len == 32)
			rc = rte_hash_add_key_data(s->host4, key, (void *)data);
		else if (e->prefix.addr.family == 6 && e->prefix.len == 128)
			rc = rte_hash_add_key_data(s->host6, key, (void *)data);
		if (rc < 0)
			goto fail;
	}
	rc = build_intervals(cr, 4, cr->default_class4, &lo4, &s->iv4_cls, &s->n_iv4);
	if (rc < 0)
		goto fail;
	s->iv4_lo = calloc(s->n_iv4, sizeof(*s->iv4_lo));
	if (s->iv4_lo == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < s->n_iv4; i++)
		s->iv4_lo[i] = (uint32_t)lo4[i];
	free(lo4);
	lo4 = NULL;
	rc = build_intervals(cr, 6, cr->default_class6, &s->iv6_lo, &s->iv6_cls, &s->n_iv6);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	free(lo4);
	stage1_free(s);
	return rc;
}

void stage1_free(struct stage1 *s)
{
	rte_hash_free(s->host4);
	rte_hash_free(s->host6);
	free(s->iv4_lo);
	free(s->iv4_cls);
	free(s->iv6_lo);
	free(s->iv6_cls);
	memset(s, 0, sizeof(*s));
}

/* Index of the last interval starting at or below v (intervals start at 0). */
#define BISECT(lo_arr, n, v)                              \
	({                                                \
		uint32_t l_ = 0, h_ = (n);                \
		while (h_ - l_ > 1) {                     \
			uint32_t m_ = (l_ + h_) / 2;      \
			if ((lo_arr)[m_] <= (v))          \
				l_ = m_;                  \
			else                              \
				h_ = m_;                  \
		}                                         \
		l_;                                       \
	})

void stage1_lookup4(const struct stage1 *s, const void **keys, unsigned int n, uint32_t *cls)
{
	uint64_t hit = 0;
	void *data[RTE_HASH_LOOKUP_BULK_MAX];

	if (s->n_host4 > 0)
		rte_hash_lookup_bulk_data(s->host4, keys, n, &hit, data);
	for (unsigned int i = 0; i < n; i++) {
		if (hit & (1ull << i)) {
			cls[i] = (uint32_t)(uintptr_t)data[i];
		} else {
			uint32_t v;

			memcpy(&v, keys[i], 4);
			v = rte_be_to_cpu_32(v);
			cls[i] = s->iv4_cls[BISECT(s->iv4_lo, s->n_iv4, v)];
		}
	}
}

void stage1_lookup6(const struct stage1 *s, const void **keys, unsigned int n, uint32_t *cls)
{
	uint64_t hit = 0;
	void *data[RTE_HASH_LOOKUP_BULK_MAX];

	if (s->n_host6 > 0)
		rte_hash_lookup_bulk_data(s->host6, keys, n, &hit, data);
	for (unsigned int i = 0; i < n; i++) {
		if (hit & (1ull << i)) {
			cls[i] = (uint32_t)(uintptr_t)data[i];
		} else {
			const uint8_t *b = keys[i];
			u128 v = 0;

			for (int k = 0; k < 16; k++)
				v = v << 8 | b[k];
			cls[i] = s->iv6_cls[BISECT(s->iv6_lo, s->n_iv6, v)];
		}
	}
}
