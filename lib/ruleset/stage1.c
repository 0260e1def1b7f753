/*
 * stage1.c: address -> class for a generation: exact host entries in flat
 * open-addressing tables, prefixes as sorted disjoint intervals (see
 * ruleset_private.h for why not rte_hash).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include "ruleset_private.h"

typedef unsigned __int128 u128;

#define STAGE1_NO_CLASS UINT32_MAX /* a free slot (class ids are < 2^24) */
#define HOST_MIN_SLOTS 16u
#define STAGE1_MAX_KEYS 64 /* per lookup call */
/* Patch the previous generation's tables when at most this share of the
 * entries differ; past it a fresh build is as cheap. */
#define PATCH_MAX_DIVISOR 4u

/* A slot: the key as the packet holds it (network order), and its class. */
struct host4 {
	uint32_t key;
	uint32_t cls;
};

struct host6 {
	uint64_t key[2];
	uint32_t cls;
	uint32_t pad;
};

_Static_assert(sizeof(struct host4) == 8, "eight slots a cache line");
_Static_assert(sizeof(struct host6) == 24, "no padding but the declared one");

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

/* ---- host tables ---- */

/* Top bits of a multiplicative mix of the CRC: the CRC alone is linear, and
 * pod addresses come in runs. */
static inline uint32_t slot4(const struct host_table *t, uint32_t key)
{
	return (rte_hash_crc_4byte(key, 0x9747b28cu) * 0x9e3779b1u) >> t->shift;
}

static inline uint32_t slot6(const struct host_table *t, const uint64_t *key)
{
	uint32_t h = rte_hash_crc_8byte(key[0], 0x9747b28cu);

	return (rte_hash_crc_8byte(key[1], h) * 0x9e3779b1u) >> t->shift;
}

static size_t slot_size(int family)
{
	return family == 4 ? sizeof(struct host4) : sizeof(struct host6);
}

/* An empty table with room for n entries at most half full. */
static int host_init(struct host_table *t, int family, uint32_t n)
{
	uint32_t slots = HOST_MIN_SLOTS, bits = 4;
	size_t bytes;

	while (slots < 2 * (uint64_t)n) {
		slots *= 2;
		bits++;
	}
	bytes = (size_t)slots * slot_size(family);
	t->slots = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(bytes, RTE_CACHE_LINE_SIZE));
	if (t->slots == NULL)
		return -ENOMEM;
	memset(t->slots, 0xff, bytes); /* class STAGE1_NO_CLASS everywhere */
	t->mask = slots - 1;
	t->shift = 32 - bits;
	t->n = 0;
	return 0;
}

/* A copy of src (same size). */
static int host_copy(struct host_table *t, const struct host_table *src, int family)
{
	size_t bytes = ((size_t)src->mask + 1) * slot_size(family);

	t->slots = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(bytes, RTE_CACHE_LINE_SIZE));
	if (t->slots == NULL)
		return -ENOMEM;
	memcpy(t->slots, src->slots, bytes);
	t->mask = src->mask;
	t->shift = src->shift;
	t->n = src->n;
	return 0;
}

static void host_free(struct host_table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* The slot of key, or of the free slot that ends its probe run. */
static uint32_t find4(const struct host_table *t, uint32_t key)
{
	const struct host4 *v = t->slots;
	uint32_t j = slot4(t, key);

	while (v[j].cls != STAGE1_NO_CLASS && v[j].key != key)
		j = (j + 1) & t->mask;
	return j;
}

static uint32_t find6(const struct host_table *t, const uint64_t *key)
{
	const struct host6 *v = t->slots;
	uint32_t j = slot6(t, key);

	while (v[j].cls != STAGE1_NO_CLASS && (v[j].key[0] != key[0] || v[j].key[1] != key[1]))
		j = (j + 1) & t->mask;
	return j;
}

/* Set key -> cls (the caller keeps the table at most half full). */
static void host_set(struct host_table *t, int family, const uint8_t *addr, uint32_t cls)
{
	uint64_t k[2];
	uint32_t j;

	memcpy(k, addr, sizeof(k));
	if (family == 4) {
		struct host4 *v = t->slots;
		uint32_t k4;

		memcpy(&k4, addr, 4);
		j = find4(t, k4);
		t->n += v[j].cls == STAGE1_NO_CLASS;
		v[j].key = k4;
		v[j].cls = cls;
	} else {
		struct host6 *v = t->slots;

		j = find6(t, k);
		t->n += v[j].cls == STAGE1_NO_CLASS;
		v[j].key[0] = k[0];
		v[j].key[1] = k[1];
		v[j].cls = cls;
	}
}

/* True when slot `home` lies cyclically in (free, at]: an entry there may
 * stay behind the slot freed at free. */
static bool stays(uint32_t free_at, uint32_t home, uint32_t at)
{
	return free_at <= at ? free_at < home && home <= at : free_at < home || home <= at;
}

/* Remove key if present, moving later entries of its run back (linear
 * probing without tombstones). */
static void host_del(struct host_table *t, int family, const uint8_t *addr)
{
	uint64_t k[2];
	uint32_t i, j;

	memcpy(k, addr, sizeof(k));
	if (family == 4) {
		struct host4 *v = t->slots;
		uint32_t k4;

		memcpy(&k4, addr, 4);
		i = find4(t, k4);
		if (v[i].cls == STAGE1_NO_CLASS)
			return;
		for (j = (i + 1) & t->mask; v[j].cls != STAGE1_NO_CLASS; j = (j + 1) & t->mask) {
			if (stays(i, slot4(t, v[j].key), j))
				continue;
			v[i] = v[j];
			i = j;
		}
		v[i].cls = STAGE1_NO_CLASS;
	} else {
		struct host6 *v = t->slots;

		i = find6(t, k);
		if (v[i].cls == STAGE1_NO_CLASS)
			return;
		for (j = (i + 1) & t->mask; v[j].cls != STAGE1_NO_CLASS; j = (j + 1) & t->mask) {
			if (stays(i, slot6(t, v[j].key), j))
				continue;
			v[i] = v[j];
			i = j;
		}
		v[i].cls = STAGE1_NO_CLASS;
	}
	t->n--;
}

static bool is_host(const struct npgw_prefix *p)
{
	return p->len == (p->addr.family == 4 ? 32 : 128);
}

/* Both tables from cr's host entries. */
static int hosts_build(struct stage1 *s, const struct npgw_compile_result *cr)
{
	uint32_t n4 = 0, n6 = 0;

	for (size_t i = 0; i < cr->n_stage1; i++) {
		const struct npgw_prefix *p = &cr->stage1[i].prefix;

		if (is_host(p)) {
			n4 += p->addr.family == 4;
			n6 += p->addr.family == 6;
		}
	}
	if (host_init(&s->host4, 4, n4) < 0 || host_init(&s->host6, 6, n6) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < cr->n_stage1; i++) {
		const struct npgw_compile_stage1 *e = &cr->stage1[i];

		if (is_host(&e->prefix))
			host_set(e->prefix.addr.family == 4 ? &s->host4 : &s->host6,
				 e->prefix.addr.family, e->prefix.addr.bytes, e->class_id);
	}
	return 0;
}

static inline bool entry_eq(const struct npgw_compile_stage1 *a, const struct npgw_compile_stage1 *b)
{
	return a->class_id == b->class_id && a->prefix.len == b->prefix.len &&
	       memcmp(&a->prefix.addr, &b->prefix.addr, sizeof(a->prefix.addr)) == 0;
}

/* What differs between two results' stage-1 entries. */
struct s1_diff {
	const struct npgw_compile_stage1 **set; /* host entries new or of another class */
	const struct npgw_compile_stage1 **del; /* host entries gone */
	size_t n_set, n_del, max;
	uint32_t grow4, grow6; /* new host keys per family */
	bool regions; /* a prefix entry differs */
};

/*
 * Walk both sorted arrays once. Returns false when more than d->max host
 * entries differ (a fresh build is then as cheap).
 */
static bool diff_entries(const struct npgw_compile_result *a, const struct npgw_compile_result *b,
			 struct s1_diff *d)
{
	size_t i = 0, j = 0;

	while (i < a->n_stage1 || j < b->n_stage1) {
		const struct npgw_compile_stage1 *x = i < a->n_stage1 ? &a->stage1[i] : NULL;
		const struct npgw_compile_stage1 *y = j < b->n_stage1 ? &b->stage1[j] : NULL;
		int c;

		if (x != NULL && y != NULL && entry_eq(x, y)) {
			i++;
			j++;
			continue;
		}
		c = x == NULL ? 1 : y == NULL ? -1 : npgw_prefix_cmp(&x->prefix, &y->prefix);
		if (c < 0) { /* gone */
			i++;
			if (!is_host(&x->prefix))
				d->regions = true;
			else if (d->n_del < d->max)
				d->del[d->n_del++] = x;
			else
				return false;
			continue;
		}
		if (c == 0)
			i++;
		j++;
		if (!is_host(&y->prefix)) {
			d->regions = true;
		} else if (d->n_set < d->max) {
			d->set[d->n_set++] = y;
			if (c > 0) {
				d->grow4 += y->prefix.addr.family == 4;
				d->grow6 += y->prefix.addr.family == 6;
			}
		} else {
			return false;
		}
	}
	return true;
}

/* prev's intervals, copied. */
static int intervals_copy(struct stage1 *s, const struct stage1 *prev)
{
	s->n_iv4 = prev->n_iv4;
	s->n_iv6 = prev->n_iv6;
	s->iv4_lo = malloc(prev->n_iv4 * sizeof(*s->iv4_lo));
	s->iv4_cls = malloc(prev->n_iv4 * sizeof(*s->iv4_cls));
	s->iv6_lo = malloc(prev->n_iv6 * sizeof(*s->iv6_lo));
	s->iv6_cls = malloc(prev->n_iv6 * sizeof(*s->iv6_cls));
	if (!s->iv4_lo || !s->iv4_cls || !s->iv6_lo || !s->iv6_cls)
		return -ENOMEM;
	memcpy(s->iv4_lo, prev->iv4_lo, prev->n_iv4 * sizeof(*s->iv4_lo));
	memcpy(s->iv4_cls, prev->iv4_cls, prev->n_iv4 * sizeof(*s->iv4_cls));
	memcpy(s->iv6_lo, prev->iv6_lo, prev->n_iv6 * sizeof(*s->iv6_lo));
	memcpy(s->iv6_cls, prev->iv6_cls, prev->n_iv6 * sizeof(*s->iv6_cls));
	return 0;
}

static int intervals_build(struct stage1 *s, const struct npgw_compile_result *cr)
{
	u128 *lo4 = NULL;
	int rc;

	rc = build_intervals(cr, 4, cr->default_class4, &lo4, &s->iv4_cls, &s->n_iv4);
	if (rc < 0)
		return rc;
	s->iv4_lo = calloc(s->n_iv4, sizeof(*s->iv4_lo));
	if (s->iv4_lo == NULL) {
		free(lo4);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < s->n_iv4; i++)
		s->iv4_lo[i] = (uint32_t)lo4[i];
	free(lo4);
	return build_intervals(cr, 6, cr->default_class6, &s->iv6_lo, &s->iv6_cls, &s->n_iv6);
}

/*
 * Patch copies of prev's tables with d. A family whose table would pass
 * half full is built from cr instead. Returns 0 or -ENOMEM.
 */
static int hosts_patch(struct stage1 *s, const struct npgw_compile_result *cr,
		       const struct stage1 *prev, const struct s1_diff *d)
{
	bool fresh4 = 2 * ((uint64_t)prev->host4.n + d->grow4) > prev->host4.mask + 1;
	bool fresh6 = 2 * ((uint64_t)prev->host6.n + d->grow6) > prev->host6.mask + 1;

	if (fresh4 || fresh6)
		return hosts_build(s, cr); /* rare: the tables grow by doubling */
	if (host_copy(&s->host4, &prev->host4, 4) < 0 || host_copy(&s->host6, &prev->host6, 6) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_del; i++) {
		const struct npgw_addr *a = &d->del[i]->prefix.addr;

		host_del(a->family == 4 ? &s->host4 : &s->host6, a->family, a->bytes);
	}
	for (size_t i = 0; i < d->n_set; i++) {
		const struct npgw_addr *a = &d->set[i]->prefix.addr;

		host_set(a->family == 4 ? &s->host4 : &s->host6, a->family, a->bytes,
			 d->set[i]->class_id);
	}
	return 0;
}

int stage1_build(struct stage1 *s, const struct npgw_compile_result *cr, const struct stage1 *prev,
		 const struct npgw_compile_result *prev_cr)
{
	struct s1_diff d = {0};
	bool patch = false;
	int rc;

	memset(s, 0, sizeof(*s));
	if (prev != NULL && prev_cr != NULL) {
		d.max = cr->n_stage1 / PATCH_MAX_DIVISOR + 16;
		d.set = malloc(d.max * sizeof(*d.set));
		d.del = malloc(d.max * sizeof(*d.del));
		if (d.set == NULL || d.del == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		patch = diff_entries(prev_cr, cr, &d);
	}
	rc = patch ? hosts_patch(s, cr, prev, &d) : hosts_build(s, cr);
	s->patched = patch;
	if (rc < 0)
		goto out;
	if (patch && !d.regions && prev_cr->default_class4 == cr->default_class4 &&
	    prev_cr->default_class6 == cr->default_class6)
		rc = intervals_copy(s, prev);
	else
		rc = intervals_build(s, cr);
out:
	free(d.set);
	free(d.del);
	if (rc < 0)
		stage1_free(s);
	return rc;
}

void stage1_free(struct stage1 *s)
{
	host_free(&s->host4);
	host_free(&s->host6);
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

/* Two passes over the burst: hash and prefetch every key's slot, then
 * probe, so the cache misses overlap. */
void stage1_lookup4(const struct stage1 *s, const void **keys, unsigned int n, uint32_t *cls)
{
	const struct host4 *v = s->host4.slots;
	uint32_t key[STAGE1_MAX_KEYS], at[STAGE1_MAX_KEYS];

	for (unsigned int i = 0; i < n; i++) {
		memcpy(&key[i], keys[i], 4);
		at[i] = slot4(&s->host4, key[i]);
		rte_prefetch0(&v[at[i]]);
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t j = at[i];

		while (v[j].cls != STAGE1_NO_CLASS && v[j].key != key[i])
			j = (j + 1) & s->host4.mask;
		if (v[j].cls != STAGE1_NO_CLASS) {
			cls[i] = v[j].cls;
		} else {
			uint32_t h = rte_be_to_cpu_32(key[i]);

			cls[i] = s->iv4_cls[BISECT(s->iv4_lo, s->n_iv4, h)];
		}
	}
}

void stage1_lookup6(const struct stage1 *s, const void **keys, unsigned int n, uint32_t *cls)
{
	const struct host6 *v = s->host6.slots;
	uint32_t at[STAGE1_MAX_KEYS];

	for (unsigned int i = 0; i < n; i++) {
		at[i] = slot6(&s->host6, keys[i]);
		rte_prefetch0(&v[at[i]]);
	}
	for (unsigned int i = 0; i < n; i++) {
		const uint64_t *k = keys[i];
		uint32_t j = at[i];

		while (v[j].cls != STAGE1_NO_CLASS && (v[j].key[0] != k[0] || v[j].key[1] != k[1]))
			j = (j + 1) & s->host6.mask;
		if (v[j].cls != STAGE1_NO_CLASS) {
			cls[i] = v[j].cls;
		} else {
			const uint8_t *b = keys[i];
			u128 x = 0;

			for (int q = 0; q < 16; q++)
				x = x << 8 | b[q];
			cls[i] = s->iv6_cls[BISECT(s->iv6_lo, s->n_iv6, x)];
		}
	}
}
