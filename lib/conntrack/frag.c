/*
 * frag.c: the per-worker fragment table. The data plane never reassembles:
 * it only needs each later fragment to follow the verdict of its
 * datagram's first fragment, and to refuse the fragment tricks that beat
 * filters (overlaps that rewrite the transport header, impossible
 * offsets, floods).
 *
 * The table is a set-associative array (CT_FRAG_WAYS entries per bucket,
 * a seeded hash picks the bucket), preallocated; a full bucket refuses the
 * new datagram (FRAG_FLOOD) after trying to reclaim one expired entry.
 * Held fragments live in a preallocated slot array with a free stack; a
 * datagram chains its slots. Every function hands mbufs it lets go of back
 * to the caller (out[]), never frees them itself, so the caller counts
 * every drop in one place.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ct_private.h"

int ct_frag_init(struct ct_frag_table *ft, const struct npgw_conntrack_config *cfg,
		 uint64_t timeout, uint32_t seed)
{
	uint32_t n = CT_FRAG_WAYS;

	while (n < cfg->frag_capacity)
		n <<= 1;
	memset(ft, 0, sizeof(*ft));
	ft->n_buckets = n / CT_FRAG_WAYS;
	ft->timeout = timeout;
	ft->seed = seed;
	ft->e = rte_zmalloc_socket("npgw_ct_frag", sizeof(*ft->e) * n, 64, cfg->socket_id);
	if (ft->e == NULL)
		return -ENOMEM;
	ft->n_hold = cfg->frag_hold;
	if (ft->n_hold > 0) {
		ft->held = rte_zmalloc_socket("npgw_ct_held", sizeof(*ft->held) * ft->n_hold, 64,
					      cfg->socket_id);
		ft->free_held = rte_zmalloc_socket("npgw_ct_held_free",
						   sizeof(*ft->free_held) * ft->n_hold, 64,
						   cfg->socket_id);
		if (ft->held == NULL || ft->free_held == NULL) {
			ct_frag_fini(ft);
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < ft->n_hold; i++)
			ft->free_held[i] = (uint16_t)(ft->n_hold - 1 - i);
		ft->n_free_held = ft->n_hold;
	}
	return 0;
}

void ct_frag_fini(struct ct_frag_table *ft)
{
	if (ft->held != NULL)
		for (uint32_t i = 0; i < ft->n_hold; i++)
			rte_pktmbuf_free(ft->held[i].m);
	rte_free(ft->e);
	rte_free(ft->held);
	rte_free(ft->free_held);
	memset(ft, 0, sizeof(*ft));
}

static void frag_key(const struct npgw_pkt_info *info, uint16_t zone, struct ct_frag_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, info->src, 16);
	memcpy(k->dst, info->dst, 16);
	k->id = info->frag_id;
	k->zone = zone;
	k->family = info->family;
	/* IPv4 reassembles on (src, dst, protocol, id); IPv6 on (src, dst,
	 * id), and a later IPv6 fragment names the header that follows the
	 * fragment header, which is not always the transport's. */
	k->proto = info->family == 4 ? info->proto : 0;
}

static struct ct_frag *bucket_of(struct ct_frag_table *ft, const struct ct_frag_key *k)
{
	uint32_t w[sizeof(*k) / 4];

	memcpy(w, k, sizeof(w));
	return &ft->e[(ct_hash_words(w, (unsigned int)NPGW_ARRAY_SIZE(w), ft->seed) &
		       (ft->n_buckets - 1)) *
		      CT_FRAG_WAYS];
}

/* Hand every held fragment of f to out with reason; they leave the hold. */
static unsigned int release_held(struct npgw_conntrack *ct, struct ct_frag *f, uint8_t reason,
				 struct npgw_conntrack_frag_out *out)
{
	struct ct_frag_table *ft = &ct->frag;
	unsigned int n = 0;

	while (f->held != 0) {
		uint16_t s = (uint16_t)(f->held - 1);
		struct ct_held *h = &ft->held[s];

		out[n].m = h->m;
		out[n].cookie = h->cookie;
		out[n].reason = reason;
		n++;
		f->held = h->next;
		h->m = NULL;
		h->next = 0;
		ft->free_held[ft->n_free_held++] = s;
	}
	f->n_held = 0;
	CT_ADD(ct, frag_held, -(uint64_t)n);
	return n;
}

/* End a record: its held fragments (if any) go to out as timeouts. */
static unsigned int frag_free(struct npgw_conntrack *ct, struct ct_frag *f,
			      struct npgw_conntrack_frag_out *out)
{
	unsigned int n = release_held(ct, f, NPGW_DROP_FRAG_TIMEOUT, out);

	CT_ADD(ct, frag_timeouts, n);
	f->state = CT_FRAG_FREE;
	CT_DEC(ct, frag_in_use);
	return n;
}

/* Find the record of k; an expired one is ended on the way (its held
 * fragments to out) and not returned. */
static struct ct_frag *frag_find(struct npgw_conntrack *ct, struct ct_frag *b,
				 const struct ct_frag_key *k, uint64_t now,
				 struct npgw_conntrack_frag_out *out, unsigned int *n_out)
{
	for (unsigned int j = 0; j < CT_FRAG_WAYS; j++) {
		struct ct_frag *f = &b[j];

		if (f->state == CT_FRAG_FREE || memcmp(&f->key, k, sizeof(*k)) != 0)
			continue;
		if (f->deadline <= now) {
			*n_out += frag_free(ct, f, out + *n_out);
			return NULL;
		}
		return f;
	}
	return NULL;
}

/* A free slot of bucket b for k, reclaiming one expired record if none is
 * free; NULL when the bucket is full of live datagrams. */
static struct ct_frag *frag_insert(struct npgw_conntrack *ct, struct ct_frag *b,
				   const struct ct_frag_key *k, uint64_t now,
				   struct npgw_conntrack_frag_out *out, unsigned int *n_out)
{
	struct ct_frag *f = NULL;

	for (unsigned int j = 0; j < CT_FRAG_WAYS && f == NULL; j++)
		if (b[j].state == CT_FRAG_FREE)
			f = &b[j];
	for (unsigned int j = 0; j < CT_FRAG_WAYS && f == NULL; j++)
		if (b[j].deadline <= now) {
			*n_out += frag_free(ct, &b[j], out + *n_out);
			f = &b[j];
		}
	if (f == NULL) {
		CT_INC(ct, frag_floods);
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->deadline = now + ct->frag.timeout;
	f->state = CT_FRAG_WAIT;
	CT_INC(ct, frag_in_use);
	CT_INC(ct, frag_datagrams);
	return f;
}

/*
 * Check [lo, hi) (last: the fragment has no MF) against f. Returns
 * NPGW_DROP_NONE, FRAG_OVERLAP or FRAG_INVALID. Does not record it.
 */
static uint8_t range_check(const struct ct_frag *f, uint32_t lo, uint32_t hi, bool last)
{
	if (last && f->have_end && hi != f->end)
		return NPGW_DROP_FRAG_INVALID; /* two different ends */
	for (unsigned int r = 0; r < f->n_ranges; r++) {
		if (lo < f->hi[r] && f->lo[r] < hi)
			return NPGW_DROP_FRAG_OVERLAP;
		if (last && f->hi[r] > hi)
			return NPGW_DROP_FRAG_INVALID; /* bytes past the end */
	}
	if (f->have_end && hi > f->end)
		return NPGW_DROP_FRAG_INVALID;
	return NPGW_DROP_NONE;
}

/* Record [lo, hi), merging the ranges it touches. Returns false when it
 * would make more than NPGW_CONNTRACK_FRAG_MAX_RANGES disjoint ranges. */
static bool range_add(struct ct_frag *f, uint32_t lo, uint32_t hi, bool last)
{
	unsigned int k = 0;

	for (unsigned int r = 0; r < f->n_ranges; r++) {
		if (f->hi[r] == lo) {
			lo = f->lo[r];
			continue;
		}
		if (f->lo[r] == hi) {
			hi = f->hi[r];
			continue;
		}
		f->lo[k] = f->lo[r];
		f->hi[k] = f->hi[r];
		k++;
	}
	if (k == NPGW_CONNTRACK_FRAG_MAX_RANGES)
		return false;
	f->lo[k] = lo;
	f->hi[k] = hi;
	f->n_ranges = (uint8_t)(k + 1);
	if (last) {
		f->have_end = 1;
		f->end = hi;
	}
	return true;
}

static bool frag_complete(const struct ct_frag *f)
{
	return f->state == CT_FRAG_DECIDED && f->have_end && f->n_ranges == 1 && f->lo[0] == 0 &&
	       f->hi[0] == f->end;
}

/* Poison f with reason: every held fragment goes to out with it, every
 * later one is dropped with it. */
static unsigned int poison(struct npgw_conntrack *ct, struct ct_frag *f, uint8_t reason,
			   struct npgw_conntrack_frag_out *out)
{
	f->state = CT_FRAG_DECIDED;
	f->allowed = 0;
	f->reason = reason;
	if (reason == NPGW_DROP_FRAG_OVERLAP)
		CT_INC(ct, frag_overlaps);
	return release_held(ct, f, reason, out);
}

/* The payload range of a fragment, checked on its own: a non-last
 * fragment is a non-zero multiple of 8 bytes, nothing ends past 65535. */
static uint8_t frag_range(const struct rte_mbuf *m, const struct npgw_pkt_info *info,
			  uint32_t *lo, uint32_t *hi)
{
	uint32_t off, plen;

	if (npgw_conntrack_frag_payload(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, info,
					&off, &plen) != 0)
		return NPGW_DROP_FRAG_INVALID;
	*lo = info->frag_offset;
	*hi = *lo + plen;
	if ((info->more_fragments && (plen == 0 || (plen & 7) != 0)) || *hi > 65535)
		return NPGW_DROP_FRAG_INVALID;
	return NPGW_DROP_NONE;
}

enum npgw_conntrack_frag_verdict
npgw_conntrack_frag_first(struct npgw_conntrack *ct, struct rte_mbuf *m,
			  const struct npgw_pkt_info *info, uint16_t zone, uint64_t now,
			  bool allowed, enum npgw_drop_reason deny_reason, uint8_t *reason,
			  struct npgw_conntrack_frag_out *out, unsigned int *n_out)
{
	struct ct_frag_key k;
	struct ct_frag *b, *f;
	uint32_t lo, hi;
	uint8_t r;

	*n_out = 0;
	if (!info->is_first_fragment) {
		*reason = NPGW_DROP_FRAG_INVALID;
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	frag_key(info, zone, &k);
	b = bucket_of(&ct->frag, &k);
	f = frag_find(ct, b, &k, now, out, n_out);
	r = frag_range(m, info, &lo, &hi);
	if (r != NPGW_DROP_NONE) {
		if (f != NULL)
			*n_out += poison(ct, f, r, out + *n_out);
		*reason = r;
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	if (f == NULL) {
		f = frag_insert(ct, b, &k, now, out, n_out);
		if (f == NULL) {
			*reason = NPGW_DROP_FRAG_FLOOD;
			return NPGW_CONNTRACK_FRAG_DROP;
		}
	} else if (f->state == CT_FRAG_DECIDED && !f->allowed) {
		*reason = f->reason; /* poisoned, or a duplicate of a denied first */
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	r = range_check(f, lo, hi, false);
	if (r == NPGW_DROP_NONE && !range_add(f, lo, hi, false)) {
		CT_INC(ct, frag_floods);
		r = NPGW_DROP_FRAG_FLOOD;
	}
	if (r != NPGW_DROP_NONE) {
		*n_out += poison(ct, f, r, out + *n_out);
		*reason = r;
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	f->state = CT_FRAG_DECIDED;
	f->allowed = allowed;
	f->reason = allowed ? NPGW_DROP_NONE : (uint8_t)deny_reason;
	if (allowed)
		CT_ADD(ct, frag_passed, f->n_held);
	*n_out += release_held(ct, f, f->reason, out + *n_out);
	if (frag_complete(f))
		*n_out += frag_free(ct, f, out + *n_out);
	if (!allowed) {
		*reason = (uint8_t)deny_reason;
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	CT_INC(ct, frag_passed);
	*reason = NPGW_DROP_NONE;
	return NPGW_CONNTRACK_FRAG_PASS;
}

enum npgw_conntrack_frag_verdict
npgw_conntrack_frag_later(struct npgw_conntrack *ct, struct rte_mbuf *m,
			  const struct npgw_pkt_info *info, uint16_t zone, uint16_t cookie,
			  uint64_t now, uint8_t *reason, struct npgw_conntrack_frag_out *out,
			  unsigned int *n_out)
{
	struct ct_frag_table *ft = &ct->frag;
	struct ct_frag_key k;
	struct ct_frag *b, *f;
	uint32_t lo, hi;
	bool last = !info->more_fragments;
	uint8_t r;

	*n_out = 0;
	if (!info->is_fragment || info->is_first_fragment) {
		*reason = NPGW_DROP_FRAG_INVALID;
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	frag_key(info, zone, &k);
	b = bucket_of(ft, &k);
	f = frag_find(ct, b, &k, now, out, n_out);
	r = frag_range(m, info, &lo, &hi);
	if (r != NPGW_DROP_NONE) {
		if (f != NULL)
			*n_out += poison(ct, f, r, out + *n_out);
		*reason = r;
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	if (f == NULL) {
		if (ft->n_hold == 0) {
			*reason = NPGW_DROP_FRAG_UNTRACKED;
			return NPGW_CONNTRACK_FRAG_DROP;
		}
		f = frag_insert(ct, b, &k, now, out, n_out);
		if (f == NULL) {
			*reason = NPGW_DROP_FRAG_FLOOD;
			return NPGW_CONNTRACK_FRAG_DROP;
		}
	}
	if (f->state == CT_FRAG_DECIDED && !f->allowed) {
		*reason = f->reason; /* denied, or poisoned */
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	r = range_check(f, lo, hi, last);
	if (r != NPGW_DROP_NONE) {
		*n_out += poison(ct, f, r, out + *n_out);
		*reason = r;
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	if (f->state == CT_FRAG_WAIT) {
		if (f->n_held == NPGW_CONNTRACK_FRAG_MAX_HELD || ft->n_free_held == 0) {
			CT_INC(ct, frag_floods);
			*reason = NPGW_DROP_FRAG_FLOOD;
			return NPGW_CONNTRACK_FRAG_DROP;
		}
		if (!range_add(f, lo, hi, last)) {
			CT_INC(ct, frag_floods);
			*n_out += poison(ct, f, NPGW_DROP_FRAG_FLOOD, out + *n_out);
			*reason = NPGW_DROP_FRAG_FLOOD;
			return NPGW_CONNTRACK_FRAG_DROP;
		}
		uint16_t s = ft->free_held[--ft->n_free_held];
		struct ct_held *h = &ft->held[s];
		uint16_t *tail = &f->held;

		/* append, so fragments leave in the order they came */
		while (*tail != 0)
			tail = &ft->held[*tail - 1].next;
		h->m = m;
		h->cookie = cookie;
		h->next = 0;
		*tail = (uint16_t)(s + 1);
		f->n_held++;
		CT_INC(ct, frag_held);
		*reason = NPGW_DROP_NONE;
		return NPGW_CONNTRACK_FRAG_HELD;
	}
	if (!range_add(f, lo, hi, last)) {
		CT_INC(ct, frag_floods);
		*n_out += poison(ct, f, NPGW_DROP_FRAG_FLOOD, out + *n_out);
		*reason = NPGW_DROP_FRAG_FLOOD;
		return NPGW_CONNTRACK_FRAG_DROP;
	}
	*reason = f->reason;
	if (frag_complete(f))
		*n_out += frag_free(ct, f, out + *n_out);
	if (*reason != NPGW_DROP_NONE)
		return NPGW_CONNTRACK_FRAG_DROP;
	CT_INC(ct, frag_passed);
	return NPGW_CONNTRACK_FRAG_PASS;
}

unsigned int ct_frag_sweep(struct npgw_conntrack *ct, uint64_t now,
			   struct npgw_conntrack_frag_out *out, unsigned int max_out)
{
	struct ct_frag_table *ft = &ct->frag;
	uint32_t n_entries = ft->n_buckets * CT_FRAG_WAYS;
	unsigned int n = 0;

	/* one bucket per call, and never more held fragments than out takes */
	for (unsigned int j = 0; j < CT_FRAG_WAYS; j++) {
		struct ct_frag *f = &ft->e[ft->cursor];

		if (f->state != CT_FRAG_FREE && f->deadline <= now) {
			if (n + f->n_held > max_out)
				break;
			n += frag_free(ct, f, out + n);
		}
		ft->cursor = (ft->cursor + 1) & (n_entries - 1);
	}
	return n;
}

unsigned int ct_frag_flush(struct npgw_conntrack *ct, struct npgw_conntrack_frag_out *out,
			   unsigned int max_out)
{
	struct ct_frag_table *ft = &ct->frag;
	struct npgw_conntrack_frag_out tmp[NPGW_CONNTRACK_FRAG_MAX_HELD];
	unsigned int n = 0;

	for (uint32_t i = 0; i < ft->n_buckets * CT_FRAG_WAYS; i++) {
		struct ct_frag *f = &ft->e[i];
		unsigned int k;

		if (f->state == CT_FRAG_FREE)
			continue;
		k = frag_free(ct, f, tmp);
		for (unsigned int j = 0; j < k; j++) {
			if (n < max_out)
				out[n++] = tmp[j];
			else
				rte_pktmbuf_free(tmp[j].m);
		}
	}
	return n;
}
