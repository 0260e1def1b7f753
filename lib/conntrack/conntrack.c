/*
 * conntrack.c: the flow table of one worker: create/free, the per-burst
 * lookup (one rte_hash bulk lookup with precomputed hashes), commit of new
 * flows, recheck after a policy swap, the TCP state machine, the bounded
 * sweep of dead entries, and the control thread's requests (flush,
 * snapshot) and counters.
 *
 * Why rte_hash: its bulk lookup with precomputed signatures prefetches
 * buckets and keys for the whole burst, its extendable buckets make the
 * capacity exact (the table is full only when all `capacity` key slots
 * are taken, so "capacity + 1 is refused" holds, not "somewhere around
 * 95%"), and its key position indexes our own entry array, so an entry is
 * reached without a pointer per key. The table is single-writer with no
 * concurrent reader (the worker owns it), so no RW-concurrency flag is set
 * and deletes free their slot at once. The hash is ct_hash48 (ct_hash.h)
 * under a random per-table secret, passed to every rte_hash call: NH and a
 * multiply-shift, universal, so a peer that can open flows cannot aim them
 * at one bucket chain (CRC32 is linear: its collisions do not depend on a
 * seed), and about as cheap as CRC32 (app/bench/hash_bench.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_random.h>

#include "ct_private.h"
#include "ct_sctp.h"
#include "ct_tcp.h"

_Static_assert(sizeof(struct npgw_conntrack_entry) == 64, "a flow entry is one cache line");
_Static_assert(sizeof(struct npgw_conntrack_result) == 8, "a result is 8 bytes");
_Static_assert(NPGW_CONNTRACK_MAX_BURST <= RTE_HASH_LOOKUP_BULK_MAX,
	       "one rte_hash bulk lookup per burst");
_Static_assert(NPGW_CONNTRACK_FRAG_MAX_HELD <= 255, "n_held is a byte");

static const char *const state_names[NPGW_CONNTRACK_N_STATES] = {
	"new", "syn-recv", "established", "closing", "closed",
};

const char *npgw_conntrack_state_name(unsigned int state)
{
	return state < NPGW_CONNTRACK_N_STATES ? state_names[state] : "?";
}

void npgw_conntrack_config_defaults(struct npgw_conntrack_config *cfg)
{
	struct npgw_conntrack_settings s;

	npgw_conntrack_settings_defaults(&s);
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_id = SOCKET_ID_ANY;
	cfg->capacity = s.capacity;
	cfg->denied_capacity = s.denied_capacity;
	cfg->frag_capacity = 1024;
	cfg->frag_hold = s.frag_hold;
	cfg->sweep = 32;
	cfg->snapshot_max = 4096;
	cfg->tcp_loose = s.tcp_loose;
	cfg->tcp_seq_check = s.tcp_seq_check;
	cfg->timeouts = s.timeouts;
}

/* ---- create / free ---- */

static size_t heap_used(void)
{
	size_t used = 0;

	for (unsigned int s = 0; s < rte_socket_count(); s++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0)
			used += st.heap_allocsz_bytes;
	}
	return used;
}

static atomic_uint ct_seq;

/*
 * The tables' hash secrets. rte_hash calls its hash function itself in a
 * few places (rte_hash_get_key_with_position checks the position with a
 * lookup), and that function gets only a 32-bit init value: so each live
 * table owns one slot of this array, and its init value is the slot's
 * index. Taken and released by create and free, on the control thread.
 */
#define CT_MAX_TABLES 256
static struct ct_hash_secret ct_secrets[CT_MAX_TABLES];
static bool ct_secret_used[CT_MAX_TABLES];

static uint32_t ct_rte_hash(const void *key, uint32_t key_len, uint32_t slot)
{
	RTE_SET_USED(key_len); /* always sizeof(struct ct_key) */
	return ct_hash48(&ct_secrets[slot], key);
}

/* The hash secret's source for a table with a fixed seed (tests): a
 * splitmix64 stream. Control thread only, like create. */
static uint64_t seeded_state;

static uint64_t seeded_rand(void)
{
	uint64_t z = (seeded_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct npgw_conntrack *npgw_conntrack_create(const struct npgw_conntrack_config *cfg, int *err)
{
	struct npgw_conntrack *ct;
	char hname[RTE_HASH_NAMESIZE];
	uint32_t seed;
	size_t before = heap_used();
	int rc;

	if (cfg == NULL || cfg->capacity < 8 || cfg->capacity > (1u << 30) ||
	    cfg->denied_capacity > (1u << 28) || cfg->hz == 0 ||
	    cfg->frag_capacity < CT_FRAG_WAYS || cfg->frag_capacity > (1u << 24) ||
	    cfg->frag_hold > NPGW_CONNTRACK_FRAG_HOLD_MAX || cfg->sweep == 0 ||
	    cfg->snapshot_max == 0) {
		*err = -EINVAL;
		return NULL;
	}
	ct = rte_zmalloc_socket("npgw_ct", sizeof(*ct), 64, cfg->socket_id);
	if (ct == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	for (ct->secret_slot = 0; ct->secret_slot < CT_MAX_TABLES; ct->secret_slot++)
		if (!ct_secret_used[ct->secret_slot])
			break;
	if (ct->secret_slot == CT_MAX_TABLES) {
		rte_free(ct);
		*err = -ENOSPC;
		return NULL;
	}
	ct_secret_used[ct->secret_slot] = true;
	if (cfg->seed != 0) {
		seeded_state = cfg->seed;
		ct_hash_secret_init(&ct->hs, seeded_rand);
	} else {
		ct_hash_secret_init(&ct->hs, rte_rand);
	}
	ct_secrets[ct->secret_slot] = ct->hs;
	seed = cfg->seed;
	while (seed == 0)
		seed = (uint32_t)rte_rand();
	snprintf(hname, sizeof(hname), "ct_%.16s_%u", cfg->name ? cfg->name : "",
		 atomic_fetch_add(&ct_seq, 1));
	struct rte_hash_parameters hp = {
		.name = hname,
		.entries = cfg->capacity + cfg->denied_capacity,
		.key_len = sizeof(struct ct_key),
		.hash_func = ct_rte_hash,
		.hash_func_init_val = ct->secret_slot,
		.socket_id = cfg->socket_id,
		/* extendable buckets: exactly `entries` keys fit */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	ct->h = rte_hash_create(&hp);
	if (ct->h == NULL) {
		rc = rte_errno == EEXIST ? -EEXIST : -ENOMEM;
		goto fail;
	}
	ct->capacity = cfg->capacity;
	ct->denied_capacity = cfg->denied_capacity;
	ct->slots = cfg->capacity + cfg->denied_capacity;
	ct->e = rte_zmalloc_socket("npgw_ct_entries", sizeof(*ct->e) * ct->slots, 64,
				   cfg->socket_id);
	ct->l4 = rte_zmalloc_socket("npgw_ct_l4", sizeof(*ct->l4) * ct->slots, 64,
				    cfg->socket_id);
	if (cfg->denied_capacity > 0) {
		ct->dring_size = cfg->denied_capacity;
		ct->dring = rte_malloc_socket("npgw_ct_denied", sizeof(*ct->dring) * ct->dring_size,
					      64, cfg->socket_id);
		if (ct->dring == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	ct->snap = rte_zmalloc_socket("npgw_ct_snap", sizeof(*ct->snap) * cfg->snapshot_max, 64,
				      cfg->socket_id);
	if (ct->e == NULL || ct->l4 == NULL || ct->snap == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	ct->snap_max = cfg->snapshot_max;
	rc = ct_frag_init(&ct->frag, cfg, (uint64_t)cfg->timeouts.frag * cfg->hz, seed ^ 0x5bd1e995u);
	if (rc != 0)
		goto fail;
	ct->sweep = cfg->sweep < ct->slots ? cfg->sweep : ct->slots;
	ct->tcp_loose = cfg->tcp_loose;
	ct->tcp_seq_check = cfg->tcp_seq_check;
	ct->to_tcp[NPGW_CONNTRACK_NEW] = (uint64_t)cfg->timeouts.tcp_syn * cfg->hz;
	ct->to_tcp[NPGW_CONNTRACK_SYN_RECV] = (uint64_t)cfg->timeouts.tcp_syn * cfg->hz;
	ct->to_tcp[NPGW_CONNTRACK_ESTABLISHED] = (uint64_t)cfg->timeouts.tcp_established * cfg->hz;
	ct->to_tcp[NPGW_CONNTRACK_CLOSING] = (uint64_t)cfg->timeouts.tcp_closing * cfg->hz;
	ct->to_tcp[NPGW_CONNTRACK_CLOSED] = (uint64_t)cfg->timeouts.tcp_closed * cfg->hz;
	ct->to_udp = (uint64_t)cfg->timeouts.udp * cfg->hz;
	ct->to_udp_stream = (uint64_t)cfg->timeouts.udp_stream * cfg->hz;
	ct->to_icmp = (uint64_t)cfg->timeouts.icmp * cfg->hz;
	ct->to_sctp = (uint64_t)cfg->timeouts.sctp * cfg->hz;
	ct->to_other = (uint64_t)cfg->timeouts.other * cfg->hz;
	ct->to_denied = (uint64_t)cfg->timeouts.denied * cfg->hz;
	ct->bytes = heap_used() - before;
	return ct;
fail:
	npgw_conntrack_free(ct);
	*err = rc;
	return NULL;
}

void npgw_conntrack_free(struct npgw_conntrack *ct)
{
	if (ct == NULL)
		return;
	ct_frag_fini(&ct->frag);
	rte_hash_free(ct->h);
	ct_secret_used[ct->secret_slot] = false;
	rte_free(ct->e);
	rte_free(ct->l4);
	rte_free(ct->dring);
	rte_free(ct->snap);
	rte_free(ct);
}

size_t npgw_conntrack_memory(const struct npgw_conntrack *ct)
{
	return ct->bytes;
}

const struct npgw_conntrack_entry *npgw_conntrack_entry(const struct npgw_conntrack *ct,
							 uint32_t entry)
{
	return entry < ct->slots ? &ct->e[entry] : NULL;
}

/* ---- per packet ---- */

static inline unsigned int proto_slot(uint8_t proto)
{
	switch (proto) {
	case NPGW_PROTO_TCP:
		return NPGW_CONNTRACK_P_TCP;
	case NPGW_PROTO_UDP:
		return NPGW_CONNTRACK_P_UDP;
	case NPGW_PROTO_ICMP:
	case NPGW_PROTO_ICMPV6:
		return NPGW_CONNTRACK_P_ICMP;
	case NPGW_PROTO_SCTP:
		return NPGW_CONNTRACK_P_SCTP;
	default:
		return NPGW_CONNTRACK_P_OTHER;
	}
}

/*
 * The TCP flag combinations a real stack sends, after masking PSH, ECE and
 * CWR (Linux's tcp_valid_flags): anything else (SYN+FIN, SYN+RST, no flag,
 * FIN without ACK: scans and evasion) is TCP_INVALID.
 */
static inline bool tcp_flags_valid(uint8_t f)
{
	enum { F = NPGW_PKT_TCP_FIN, S = NPGW_PKT_TCP_SYN, R = NPGW_PKT_TCP_RST,
	       A = NPGW_PKT_TCP_ACK, U = NPGW_PKT_TCP_URG };

	switch (f & (F | S | R | A | U)) {
	case S:
	case S | U:
	case S | A:
	case R:
	case R | A:
	case F | A:
	case F | A | U:
	case A:
	case A | U:
		return true;
	default:
		return false;
	}
}

/* Move a TCP entry's state for a packet of direction dir with flags f. */
static inline void tcp_update(struct npgw_conntrack *ct, struct npgw_conntrack_entry *e,
			      unsigned int dir, uint8_t f, uint64_t now)
{
	const uint8_t old = e->state;
	uint8_t st = old;

	if (f & NPGW_PKT_TCP_RST) {
		st = NPGW_CONNTRACK_CLOSED;
	} else if (f & NPGW_PKT_TCP_SYN) {
		/* SYN-ACK from the responder, or its SYN (simultaneous open) */
		if (dir == NPGW_CONNTRACK_DIR_REPLY && st == NPGW_CONNTRACK_NEW)
			st = NPGW_CONNTRACK_SYN_RECV;
	} else {
		/* the handshake's last ACK, or data both ways after a pickup */
		if ((st == NPGW_CONNTRACK_SYN_RECV && dir == NPGW_CONNTRACK_DIR_ORIG) ||
		    (st == NPGW_CONNTRACK_NEW && (e->flags & NPGW_CONNTRACK_E_PICKUP) &&
		     dir == NPGW_CONNTRACK_DIR_REPLY))
			st = NPGW_CONNTRACK_ESTABLISHED;
		if ((f & NPGW_PKT_TCP_FIN) && st != NPGW_CONNTRACK_CLOSED) {
			e->flags |= dir == NPGW_CONNTRACK_DIR_ORIG ? NPGW_CONNTRACK_E_FIN_ORIG
								   : NPGW_CONNTRACK_E_FIN_REPLY;
			st = (e->flags & NPGW_CONNTRACK_E_FIN_ORIG) &&
					     (e->flags & NPGW_CONNTRACK_E_FIN_REPLY)
				     ? NPGW_CONNTRACK_CLOSED
				     : NPGW_CONNTRACK_CLOSING;
		}
	}
	e->state = st;
	/* a closed flow's deadline is set once: late ACKs do not keep it */
	if (st != NPGW_CONNTRACK_CLOSED || old != NPGW_CONNTRACK_CLOSED)
		e->deadline = now + ct->to_tcp[st];
}

/*
 * Account one packet of a live entry: counters, state, deadline. tw is
 * what the TCP window said of it: a segment outside the window (or an RST
 * that is not where the receiver expects it) is counted and forwarded but
 * moves neither the state nor the deadline.
 */
static inline void entry_update(struct npgw_conntrack *ct, struct npgw_conntrack_entry *e,
				const struct npgw_pkt_info *info, uint8_t proto, unsigned int dir,
				uint64_t now, enum ct_tcpw tw)
{
	uint64_t to;

	e->pkts[dir]++;
	e->bytes[dir] += info->l3_len;
	e->last_seen = now;
	if (dir == NPGW_CONNTRACK_DIR_REPLY)
		e->flags |= NPGW_CONNTRACK_E_SEEN_REPLY;
	if (proto == NPGW_PROTO_TCP) {
		if (likely(tw == CT_TCPW_OK))
			tcp_update(ct, e, dir, info->tcp_flags, now);
		else if (tw == CT_TCPW_OUT)
			CT_INC(ct, tcp_window_passed);
		return;
	}
	if (proto == NPGW_PROTO_SCTP) {
		const uint8_t old = e->state;

		e->state = ct_sctp_conntrack_state(&ct->l4[e - ct->e].sctp,
						   e->flags & NPGW_CONNTRACK_E_SEEN_REPLY);
		/* an ended association's deadline is set once, as TCP's */
		if (e->state == NPGW_CONNTRACK_CLOSED) {
			if (old != NPGW_CONNTRACK_CLOSED)
				e->deadline = now + ct->to_tcp[NPGW_CONNTRACK_CLOSED];
			return;
		}
	} else {
		e->state = (e->flags & NPGW_CONNTRACK_E_SEEN_REPLY) ? NPGW_CONNTRACK_ESTABLISHED
								     : NPGW_CONNTRACK_NEW;
	}
	switch (proto) {
	case NPGW_PROTO_UDP:
		to = e->state == NPGW_CONNTRACK_ESTABLISHED ? ct->to_udp_stream : ct->to_udp;
		break;
	case NPGW_PROTO_ICMP:
	case NPGW_PROTO_ICMPV6:
		to = ct->to_icmp;
		break;
	case NPGW_PROTO_SCTP:
		to = ct->to_sctp;
		break;
	default:
		to = ct->to_other;
		break;
	}
	e->deadline = now + to;
}

static inline unsigned int dir_of(const struct npgw_conntrack_entry *e, unsigned int from)
{
	return from == !!(e->flags & NPGW_CONNTRACK_E_ORIG_B) ? NPGW_CONNTRACK_DIR_ORIG
							      : NPGW_CONNTRACK_DIR_REPLY;
}

static inline bool is_icmp(const struct npgw_pkt_info *info)
{
	return (info->proto == NPGW_PROTO_ICMP && info->family == 4) ||
	       (info->proto == NPGW_PROTO_ICMPV6 && info->family == 6);
}

/*
 * The TCP window's verdict on packet i of the burst (a TCP packet of the
 * entry at pos, direction dir), learning from it when it is in the window.
 * Without its frame (no mbufs given) the window is not checked: OK.
 */
static inline enum ct_tcpw tcp_track(struct npgw_conntrack *ct, unsigned int i, uint32_t pos,
				     const struct npgw_conntrack_entry *e, unsigned int dir)
{
	const struct rte_mbuf *m = ct->pkts != NULL ? ct->pkts[i] : NULL;
	struct ct_tcp_seg g;

	if (m == NULL || !ct_tcp_seg_read(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
					  &ct->info[i], &g))
		return CT_TCPW_OK;
	return ct_tcp_window(&ct->l4[pos], e->state, e->flags, dir, &g);
}

/*
 * The SCTP association's verdict on packet i of the burst (of the entry at
 * pos, direction dir), moving the association when it is OK. Without its
 * frame, or when the packet is not whole in it, nothing is checked.
 */
static inline enum ct_sctp_verdict sctp_track(struct npgw_conntrack *ct, unsigned int i,
					      uint32_t pos, unsigned int dir)
{
	const struct rte_mbuf *m = ct->pkts != NULL ? ct->pkts[i] : NULL;
	struct ct_sctp_pkt s;

	if (m == NULL || ct_sctp_read(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				      &ct->info[i], &s) != 0)
		return CT_SCTP_OK;
	return ct_sctp_track(&ct->l4[pos].sctp, dir, &s);
}

/*
 * Phase 1 of a lookup for packet i: what kind of packet, and its key.
 * Returns true when the packet has a key to look up.
 */
static inline bool classify_pkt(struct npgw_conntrack *ct, unsigned int i, unsigned int k,
				struct rte_mbuf *const *pkts, const struct npgw_pkt_info *info,
				uint16_t zone, struct npgw_conntrack_result *r)
{
	struct ct_pkt *p = &ct->pkt[i];
	struct npgw_conntrack_tuple t;

	if (info->is_fragment && !info->is_first_fragment) {
		r->kind = NPGW_CONNTRACK_FRAGMENT;
		return false;
	}
	p->can_open = 1;
	if (info->proto == NPGW_PROTO_TCP) {
		uint8_t f = info->tcp_flags;

		if (unlikely(!tcp_flags_valid(f))) {
			r->kind = NPGW_CONNTRACK_DROP;
			r->reason = NPGW_DROP_TCP_INVALID;
			return false;
		}
		if ((f & (NPGW_PKT_TCP_SYN | NPGW_PKT_TCP_ACK)) != NPGW_PKT_TCP_SYN) {
			r->flags |= NPGW_CONNTRACK_F_NO_SYN;
			p->can_open = ct->tcp_loose && !(f & (NPGW_PKT_TCP_RST | NPGW_PKT_TCP_SYN));
		}
	} else if (info->proto == NPGW_PROTO_SCTP && pkts != NULL && pkts[i] != NULL) {
		struct ct_sctp_pkt s;
		const struct rte_mbuf *m = pkts[i];
		int rc = ct_sctp_read(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, info, &s);

		if (unlikely(rc == -EINVAL)) {
			r->kind = NPGW_CONNTRACK_DROP;
			r->reason = NPGW_DROP_SCTP_INVALID;
			CT_INC(ct, sctp_invalid);
			return false;
		}
		p->sctp_init = rc == 0 && ct_sctp_is_init(&s);
	} else if (is_icmp(info)) {
		uint8_t ty = info->icmp_type;
		const bool v4 = info->family == 4;

		if (ty == (v4 ? CT_ICMP_ECHO_REPLY : CT_ICMPV6_ECHO_REPLY)) {
			r->flags |= NPGW_CONNTRACK_F_NO_SYN;
			p->can_open = 0;
		} else if (ty != (v4 ? CT_ICMP_ECHO_REQUEST : CT_ICMPV6_ECHO_REQUEST)) {
			const struct rte_mbuf *m = pkts != NULL ? pkts[i] : NULL;
			int rc = npgw_conntrack_icmp_embedded(
				m != NULL ? rte_pktmbuf_mtod(m, const uint8_t *) : NULL,
				m != NULL ? m->data_len : 0, info, zone, &t);

			if (rc == -ENOENT) {
				r->kind = NPGW_CONNTRACK_UNTRACKED;
				return false;
			}
			if (rc != 0) {
				r->kind = NPGW_CONNTRACK_DROP;
				r->reason = NPGW_DROP_ICMP_UNRELATED;
				return false;
			}
			p->related = 1;
			p->can_open = 0;
			/* the error travels toward the quoted packet's
			 * source, i.e. from its destination's side */
			p->from = !ct_key_from_tuple(&t, &ct->keys[k]);
			goto keyed;
		}
	}
	if (is_icmp(info))
		p->from = (uint8_t)ct_key_build(info->src, info->dst, info->icmp_id, info->icmp_id,
						zone, info->family, info->proto, &ct->keys[k]);
	else
		p->from = (uint8_t)ct_key_build(info->src, info->dst, info->sport, info->dport,
						zone, info->family, info->proto, &ct->keys[k]);
keyed:
	p->has_key = 1;
	p->key = (uint8_t)k;
	ct->kp[k] = &ct->keys[k];
	ct->sig[k] = ct_hash48(&ct->hs, &ct->keys[k]);
	return true;
}

unsigned int npgw_conntrack_lookup_burst(struct npgw_conntrack *ct, struct rte_mbuf *const *pkts,
					 const struct npgw_pkt_info *info, unsigned int n,
					 uint16_t zone, uint64_t now, uint64_t generation,
					 struct npgw_conntrack_result *res)
{
	unsigned int nk = 0, need = 0;

	if (n > NPGW_CONNTRACK_MAX_BURST)
		n = NPGW_CONNTRACK_MAX_BURST;
	ct->info = info;
	ct->pkts = pkts;
	ct->n = n;
	ct->changed = false;
	for (unsigned int i = 0; i < n; i++) {
		memset(&ct->pkt[i], 0, sizeof(ct->pkt[i]));
		res[i] = (struct npgw_conntrack_result){.kind = NPGW_CONNTRACK_MISS};
		if (classify_pkt(ct, i, nk, pkts, &info[i], zone, &res[i]))
			nk++;
	}
	if (nk > 0) {
		rte_hash_lookup_with_hash_bulk(ct->h, ct->kp, ct->sig, nk, ct->pos);
		for (unsigned int k = 0; k < nk; k++)
			if (ct->pos[k] >= 0) {
				rte_prefetch0(&ct->e[ct->pos[k]]);
				if (ct->keys[k].proto == NPGW_PROTO_TCP ||
				    ct->keys[k].proto == NPGW_PROTO_SCTP)
					rte_prefetch0(&ct->l4[ct->pos[k]]);
			}
	}
	CT_ADD(ct, lookups, nk);

	for (unsigned int i = 0; i < n; i++) {
		struct npgw_conntrack_result *r = &res[i];
		const struct ct_pkt *p = &ct->pkt[i];
		struct npgw_conntrack_entry *e;
		enum ct_tcpw tw;
		int32_t pos;

		if (!p->has_key) {
			need += r->kind == NPGW_CONNTRACK_UNTRACKED;
			continue;
		}
		pos = ct->pos[p->key];
		e = pos >= 0 ? &ct->e[pos] : NULL;
		if (e != NULL && ct_entry_dead(ct, e, now))
			e = NULL;
		if (e != NULL && unlikely(e->flags & NPGW_CONNTRACK_E_DENIED)) {
			if (!p->related && e->generation == (uint32_t)generation &&
			    dir_of(e, p->from) == NPGW_CONNTRACK_DIR_ORIG) {
				/* a denied flow, decided under this generation */
				r->kind = NPGW_CONNTRACK_DENIED;
				r->entry = (uint32_t)pos;
				r->flags &= (uint8_t)~NPGW_CONNTRACK_F_NO_SYN;
				e->pkts[0]++;
				e->bytes[0] += info[i].l3_len;
				e->last_seen = now;
				e->deadline = now + ct->to_denied;
				CT_INC(ct, denied_hits);
				continue;
			}
			e = NULL; /* stale, or the other direction: classify */
		}
		if (e != NULL && info[i].proto == NPGW_PROTO_TCP && !p->related &&
		    e->state == NPGW_CONNTRACK_CLOSED &&
		    (info[i].tcp_flags & (NPGW_PKT_TCP_SYN | NPGW_PKT_TCP_ACK)) == NPGW_PKT_TCP_SYN) {
			e->deadline = 0; /* a new connection on a closed one's ports */
			e = NULL;
		}
		if (e != NULL && p->sctp_init && e->state == NPGW_CONNTRACK_CLOSED) {
			e->deadline = 0; /* a new association on an ended one's ports */
			e = NULL;
		}
		if (e == NULL) {
			if (p->related) {
				r->kind = NPGW_CONNTRACK_DROP;
				r->reason = NPGW_DROP_ICMP_UNRELATED;
				continue;
			}
			CT_INC(ct, misses);
			if (r->flags & NPGW_CONNTRACK_F_NO_SYN)
				CT_INC(ct, no_syn);
			need++;
			continue;
		}
		r->entry = (uint32_t)pos;
		r->dir = (uint8_t)dir_of(e, p->from);
		tw = CT_TCPW_OK;
		if (info[i].proto == NPGW_PROTO_TCP && !p->related) {
			tw = tcp_track(ct, i, (uint32_t)pos, e, r->dir);
			if (unlikely(tw != CT_TCPW_OK) && !ct->tcp_seq_check) {
				/* not enforced: forwarded and acted on */
				if (tw == CT_TCPW_OUT)
					CT_INC(ct, tcp_window_passed);
				tw = CT_TCPW_OK;
			}
			if (unlikely(tw == CT_TCPW_OUT) &&
			    (info[i].tcp_flags & (NPGW_PKT_TCP_RST | NPGW_PKT_TCP_FIN))) {
				/* an RST or FIN outside the window: spoofed or
				 * stale; it must not end the flow */
				r->kind = NPGW_CONNTRACK_DROP;
				r->reason = NPGW_DROP_TCP_OUT_OF_WINDOW;
				CT_INC(ct, tcp_window_drops);
				continue;
			}
		} else if (info[i].proto == NPGW_PROTO_SCTP && !p->related &&
			   unlikely(sctp_track(ct, i, (uint32_t)pos, r->dir) != CT_SCTP_OK)) {
			/* a spoofed tag, or a chunk after the end: dropped,
			 * the association unchanged */
			r->kind = NPGW_CONNTRACK_DROP;
			r->reason = NPGW_DROP_SCTP_INVALID;
			CT_INC(ct, sctp_invalid);
			continue;
		}
		if (e->generation != (uint32_t)generation) {
			r->flags |= NPGW_CONNTRACK_F_STALE;
			need++;
		}
		r->flags &= (uint8_t)~NPGW_CONNTRACK_F_NO_SYN;
		if (p->related) {
			r->kind = NPGW_CONNTRACK_RELATED;
			CT_INC(ct, related);
			continue;
		}
		r->kind = NPGW_CONNTRACK_HIT;
		CT_INC(ct, hits);
		entry_update(ct, e, &info[i], info[i].proto, r->dir, now, tw);
	}
	return need;
}

/* Count an entry's end and free its slot. key is its key. */
static void entry_reclaim(struct npgw_conntrack *ct, struct npgw_conntrack_entry *e,
			  const struct ct_key *key, uint64_t now)
{
	if (e->flags & NPGW_CONNTRACK_E_DENIED) {
		CT_DEC(ct, denied_in_use);
		e->flags = 0;
		return;
	}
	if (e->epoch != ct->epoch)
		CT_INC(ct, flushed);
	else if (e->deadline != 0 && e->deadline <= now)
		CT_INC(ct, expired); /* not killed by a revoke or a reopen */
	CT_DEC(ct, in_use);
	CT_DEC(ct, in_use_proto[proto_slot(key->proto)]);
	e->flags = 0;
}

/* Delete the key at position pos and reclaim its entry. */
static void slot_delete(struct npgw_conntrack *ct, uint32_t pos, uint64_t now)
{
	void *kv;
	struct ct_key k;

	if (rte_hash_get_key_with_position(ct->h, (int32_t)pos, &kv) == 0) {
		memcpy(&k, kv, sizeof(k));
		rte_hash_del_key_with_hash(ct->h, &k, ct_hash48(&ct->hs, &k));
		entry_reclaim(ct, &ct->e[pos], &k, now);
		ct->changed = true;
	}
}

/*
 * Reclaim the dead entries among the next `sweep` slots. killed: also
 * those a recheck or a reopen killed (deadline 0). Inside a burst (commit
 * on a full table) they are left alone: a result of this burst may still
 * point at one, and its slot must not be reused for another flow before
 * the burst ends. Entries that expired by time are safe to take: with one
 * `now` per burst, no result of the burst points at one.
 */
static void sweep_step(struct npgw_conntrack *ct, uint64_t now, bool killed)
{
	uint32_t pos = ct->sweep_cursor;

	for (uint32_t j = 0; j < ct->sweep; j++) {
		struct npgw_conntrack_entry *e = &ct->e[pos];

		if ((e->flags & NPGW_CONNTRACK_E_IN_USE) && ct_entry_dead(ct, e, now) &&
		    (killed || e->deadline != 0))
			slot_delete(ct, pos, now);
		if (++pos == ct->slots)
			pos = 0;
	}
	ct->sweep_cursor = pos;
}

/* Evict the oldest live denied entry, skipping ring slots whose entry is
 * no longer a denied one. */
static void denied_evict_one(struct npgw_conntrack *ct, uint64_t now)
{
	while (ct->dring_n > 0) {
		uint32_t pos = ct->dring[ct->dring_head];
		const uint8_t want = NPGW_CONNTRACK_E_IN_USE | NPGW_CONNTRACK_E_DENIED;

		if (++ct->dring_head == ct->dring_size)
			ct->dring_head = 0;
		ct->dring_n--;
		if ((ct->e[pos].flags & want) == want) {
			if (!ct_entry_dead(ct, &ct->e[pos], now))
				CT_INC(ct, denied_evicted);
			slot_delete(ct, pos, now);
			return;
		}
	}
}

/* Admission into the denied space (npgw_conntrack.h, "Admission"). */
#define CT_DENIED_WINDOW 1024u
#define CT_DENIED_SAMPLE 16u

static bool denied_admit(struct npgw_conntrack *ct)
{
	if (ct->st.denied_in_use < ct->denied_capacity)
		return true; /* room: no eviction to pay for */
	/* the counters only grow (stats reset keeps a baseline) */
	const uint64_t hits = ct->st.denied_hits - ct->dwin_hits0;

	if (++ct->dwin_n == CT_DENIED_WINDOW || (ct->dsample && hits * 2 >= CT_DENIED_WINDOW)) {
		/* a window ends, or enough hits came in to end the sampling
		 * before the window does */
		if (hits * 4 < CT_DENIED_WINDOW)
			ct->dsample = true;
		else if (hits * 2 >= CT_DENIED_WINDOW)
			ct->dsample = false;
		ct->dwin_n = 0;
		ct->dwin_hits0 = ct->st.denied_hits;
	}
	if (!ct->dsample || ++ct->dtick % CT_DENIED_SAMPLE == 0)
		return true;
	CT_INC(ct, denied_skipped);
	return false;
}

/* Remember that the flow of packet i (its key k, its slot e when the hash
 * has one: dead, or a denied entry that did not apply) is denied by v. */
static void denied_remember(struct npgw_conntrack *ct, unsigned int i, const struct ct_pkt *p,
			    const struct ct_key *k, struct npgw_conntrack_entry *e, uint64_t now,
			    uint64_t generation, const struct npgw_ruleset_verdict *v,
			    struct npgw_conntrack_result *res)
{
	int32_t pos;

	if (ct->denied_capacity == 0 || !denied_admit(ct))
		return;
	if (e != NULL) {
		pos = (int32_t)(e - ct->e);
		entry_reclaim(ct, e, k, now);
		if (ct->st.denied_in_use >= ct->denied_capacity)
			denied_evict_one(ct, now);
	} else {
		if (ct->st.denied_in_use >= ct->denied_capacity)
			denied_evict_one(ct, now);
		pos = rte_hash_add_key_with_hash(ct->h, k, ct->sig[p->key]);
		if (pos < 0)
			return; /* cannot happen: the hash holds both spaces */
		ct->changed = true;
		e = &ct->e[pos];
	}
	if (ct->dring_n == ct->dring_size)
		denied_evict_one(ct, now); /* drops the oldest ring slot */
	ct->dring[(ct->dring_head + ct->dring_n) % ct->dring_size] = (uint32_t)pos;
	ct->dring_n++;
	memset(e, 0, sizeof(*e));
	e->flags = NPGW_CONNTRACK_E_IN_USE | NPGW_CONNTRACK_E_DENIED |
		   (p->from ? NPGW_CONNTRACK_E_ORIG_B : 0);
	e->state = NPGW_CONNTRACK_NEW;
	e->epoch = ct->epoch;
	e->generation = (uint32_t)generation;
	e->egress = v->egress;
	e->ingress = v->ingress;
	e->pkts[0] = 1;
	e->bytes[0] = ct->info[i].l3_len;
	e->last_seen = now;
	e->deadline = now + ct->to_denied;
	CT_INC(ct, denied_in_use);
	CT_INC(ct, denied_inserts);
	res->entry = (uint32_t)pos;
	res->flags |= NPGW_CONNTRACK_F_CREATED;
}

enum npgw_conntrack_action npgw_conntrack_commit(struct npgw_conntrack *ct, unsigned int i,
						  uint64_t now, uint64_t generation,
						  const struct npgw_ruleset_verdict *v,
						  struct npgw_conntrack_result *res)
{
	const struct ct_pkt *p;
	const struct ct_key *k;
	struct npgw_conntrack_entry *e;
	int32_t pos;

	if (i >= ct->n || res->kind != NPGW_CONNTRACK_MISS) {
		/* nothing to commit: a HIT passes, a DENIED is denied,
		 * others as v says */
		if (res->kind == NPGW_CONNTRACK_HIT)
			return NPGW_CONNTRACK_PASS;
		if (res->kind == NPGW_CONNTRACK_DENIED)
			return NPGW_CONNTRACK_DENY;
		return v->allowed && res->kind != NPGW_CONNTRACK_DROP ? NPGW_CONNTRACK_PASS
									: NPGW_CONNTRACK_DENY;
	}
	p = &ct->pkt[i];
	k = &ct->keys[p->key];
	if (!p->has_key)
		return v->allowed ? NPGW_CONNTRACK_PASS : NPGW_CONNTRACK_DENY;
	/* the bulk lookup's answer holds unless this burst changed the table */
	pos = ct->changed ? rte_hash_lookup_with_hash(ct->h, k, ct->sig[p->key])
			  : ct->pos[p->key];
	e = pos >= 0 ? &ct->e[pos] : NULL;
	if (e != NULL && !ct_entry_dead(ct, e, now) && (e->flags & NPGW_CONNTRACK_E_DENIED)) {
		if (e->generation == (uint32_t)generation &&
		    dir_of(e, p->from) == NPGW_CONNTRACK_DIR_ORIG) {
			/* denied by an earlier packet of this burst */
			e->pkts[0]++;
			e->bytes[0] += ct->info[i].l3_len;
			e->deadline = now + ct->to_denied;
			return NPGW_CONNTRACK_DENY;
		}
		/* a denied entry that does not apply: its slot is reused */
	} else if (e != NULL && !ct_entry_dead(ct, e, now)) {
		/* created by an earlier packet of this burst: join it */
		res->kind = NPGW_CONNTRACK_HIT;
		res->entry = (uint32_t)pos;
		res->dir = (uint8_t)dir_of(e, p->from);
		res->flags &= (uint8_t)~NPGW_CONNTRACK_F_NO_SYN;
		/* an out-of-window RST or FIN here (it came in the burst that
		 * created the flow) passes, but changes nothing */
		if (k->proto == NPGW_PROTO_SCTP)
			(void)sctp_track(ct, i, (uint32_t)pos, res->dir); /* fails: unchanged */
		entry_update(ct, e, &ct->info[i], k->proto, res->dir, now,
			     k->proto == NPGW_PROTO_TCP ? tcp_track(ct, i, (uint32_t)pos, e, res->dir)
							: CT_TCPW_OK);
		CT_INC(ct, hits);
		return NPGW_CONNTRACK_PASS;
	}
	if (!v->allowed) {
		denied_remember(ct, i, p, k, e, now, generation, v, res);
		return NPGW_CONNTRACK_DENY;
	}
	if (!p->can_open)
		return NPGW_CONNTRACK_PASS;
	if (e != NULL) {
		/* dead, or a denied entry: reuse its slot (a denied one only
		 * while the allowed space has room) */
		if ((e->flags & NPGW_CONNTRACK_E_DENIED) && ct->st.in_use >= ct->capacity) {
			CT_INC(ct, refused);
			return NPGW_CONNTRACK_DROP_FULL;
		}
		entry_reclaim(ct, e, k, now);
	} else {
		if (ct->st.in_use >= ct->capacity) {
			sweep_step(ct, now, false); /* bounded: maybe some expired */
			ct->changed = true;
		}
		if (ct->st.in_use >= ct->capacity ||
		    (pos = rte_hash_add_key_with_hash(ct->h, k, ct->sig[p->key])) < 0) {
			CT_INC(ct, refused);
			return NPGW_CONNTRACK_DROP_FULL;
		}
		e = &ct->e[pos];
		ct->changed = true;
	}
	memset(e, 0, sizeof(*e));
	memset(&ct->l4[pos], 0, sizeof(ct->l4[pos]));
	e->flags = NPGW_CONNTRACK_E_IN_USE | (p->from ? NPGW_CONNTRACK_E_ORIG_B : 0);
	if (k->proto == NPGW_PROTO_TCP && (res->flags & NPGW_CONNTRACK_F_NO_SYN)) {
		/* picked up: the SYNs that carried the window scales were not
		 * seen, so assume the largest for both sides */
		e->flags |= NPGW_CONNTRACK_E_PICKUP;
		ct->l4[pos].tcp[0].td_scale = CT_TCP_PICKUP_SCALE;
		ct->l4[pos].tcp[1].td_scale = CT_TCP_PICKUP_SCALE;
	}
	e->state = NPGW_CONNTRACK_NEW;
	e->epoch = ct->epoch;
	e->generation = (uint32_t)generation;
	e->egress = v->egress;
	e->ingress = v->ingress;
	if (k->proto == NPGW_PROTO_SCTP)
		(void)sctp_track(ct, i, (uint32_t)pos, NPGW_CONNTRACK_DIR_ORIG); /* a new one: OK */
	entry_update(ct, e, &ct->info[i], k->proto, NPGW_CONNTRACK_DIR_ORIG, now,
		     k->proto == NPGW_PROTO_TCP
			     ? tcp_track(ct, i, (uint32_t)pos, e, NPGW_CONNTRACK_DIR_ORIG)
			     : CT_TCPW_OK);
	CT_INC(ct, in_use);
	CT_INC(ct, in_use_proto[proto_slot(k->proto)]);
	CT_INC(ct, inserts);
	res->kind = NPGW_CONNTRACK_HIT;
	res->entry = (uint32_t)pos;
	res->dir = NPGW_CONNTRACK_DIR_ORIG;
	res->flags |= NPGW_CONNTRACK_F_CREATED;
	return NPGW_CONNTRACK_PASS;
}

void npgw_conntrack_orig_tuple(const struct npgw_conntrack *ct, unsigned int i,
			       const struct npgw_conntrack_result *res,
			       struct npgw_ruleset_tuple *t)
{
	const struct npgw_pkt_info *info = &ct->info[i];

	memset(t, 0, sizeof(*t));
	if ((res->kind == NPGW_CONNTRACK_HIT || res->kind == NPGW_CONNTRACK_RELATED) &&
	    ct->pkt[i].has_key) {
		const struct ct_key *k = &ct->keys[ct->pkt[i].key];
		unsigned int o = !!(ct->e[res->entry].flags & NPGW_CONNTRACK_E_ORIG_B);

		memcpy(t->src, k->addr[o], 16);
		memcpy(t->dst, k->addr[!o], 16);
		t->family = k->family;
		t->proto = k->proto;
		/* what the parser gives a fresh packet: ports for TCP, UDP
		 * and SCTP only (an echo id is not a port) */
		if (k->proto == NPGW_PROTO_TCP || k->proto == NPGW_PROTO_UDP ||
		    k->proto == NPGW_PROTO_SCTP)
			t->dport = k->port[!o];
		return;
	}
	memcpy(t->src, info->src, 16);
	memcpy(t->dst, info->dst, 16);
	t->family = info->family;
	t->proto = info->proto;
	t->dport = info->dport;
}

enum npgw_conntrack_action npgw_conntrack_recheck(struct npgw_conntrack *ct, unsigned int i,
						   uint64_t generation,
						   const struct npgw_ruleset_verdict *v,
						   enum npgw_conntrack_revoke mode,
						   struct npgw_conntrack_result *res)
{
	struct npgw_conntrack_entry *e;
	uint8_t proto;
	bool established;

	if (!(res->flags & NPGW_CONNTRACK_F_STALE) ||
	    (res->kind != NPGW_CONNTRACK_HIT && res->kind != NPGW_CONNTRACK_RELATED) ||
	    i >= ct->n)
		return NPGW_CONNTRACK_PASS;
	e = &ct->e[res->entry];
	if (e->deadline == 0 || !(e->flags & NPGW_CONNTRACK_E_IN_USE))
		return NPGW_CONNTRACK_DROP_REVOKED; /* an earlier packet revoked it */
	if (e->generation == (uint32_t)generation) {
		/* an earlier packet of this burst rechecked it already */
		res->flags &= (uint8_t)~NPGW_CONNTRACK_F_STALE;
		return NPGW_CONNTRACK_PASS;
	}
	res->flags &= (uint8_t)~NPGW_CONNTRACK_F_STALE;
	if (v->allowed) {
		e->generation = (uint32_t)generation;
		e->egress = v->egress;
		e->ingress = v->ingress;
		e->flags &= (uint8_t)~NPGW_CONNTRACK_E_KEPT;
		return NPGW_CONNTRACK_PASS;
	}
	proto = ct->keys[ct->pkt[i].key].proto;
	established = e->state >= NPGW_CONNTRACK_ESTABLISHED;
	CT_INC(ct, revoked);
	if (mode == NPGW_CONNTRACK_REVOKE_KEEP && established) {
		e->generation = (uint32_t)generation;
		e->egress = v->egress;
		e->ingress = v->ingress;
		e->flags |= NPGW_CONNTRACK_E_KEPT;
		CT_INC(ct, kept);
		return NPGW_CONNTRACK_PASS;
	}
	e->deadline = 0; /* dead; the sweep reclaims it */
	if (mode == NPGW_CONNTRACK_REVOKE_RESET && proto == NPGW_PROTO_TCP &&
	    res->kind == NPGW_CONNTRACK_HIT)
		return NPGW_CONNTRACK_RESET;
	return NPGW_CONNTRACK_DROP_REVOKED;
}

/* ---- housekeeping and the control thread's requests ---- */

static bool filter_match(const struct npgw_conntrack_filter *f, const struct ct_key *k,
			 const struct npgw_conntrack_entry *e)
{
	size_t alen = npgw_addr_len(k->family);

	if (f->family != 0 && f->family != k->family)
		return false;
	if (f->proto != 0 && f->proto != k->proto)
		return false;
	if (f->state_mask != 0 && !(f->state_mask & (1u << e->state)))
		return false;
	if (f->port != 0 && f->port != k->port[0] && f->port != k->port[1])
		return false;
	if (f->has_addr && memcmp(f->addr, k->addr[0], alen) != 0 &&
	    memcmp(f->addr, k->addr[1], alen) != 0)
		return false;
	return true;
}

static void snapshot_copy(struct npgw_conntrack *ct, const struct ct_key *k,
			  const struct npgw_conntrack_entry *e, uint64_t now)
{
	struct npgw_conntrack_flow *fl = &ct->snap[ct->snap_n++];
	unsigned int o = !!(e->flags & NPGW_CONNTRACK_E_ORIG_B);

	memset(fl, 0, sizeof(*fl));
	memcpy(fl->t.src, k->addr[o], 16);
	memcpy(fl->t.dst, k->addr[!o], 16);
	fl->t.sport = k->port[o];
	fl->t.dport = k->port[!o];
	fl->t.family = k->family;
	fl->t.proto = k->proto;
	fl->t.zone = k->zone;
	fl->state = e->state;
	fl->flags = e->flags;
	fl->egress = e->egress;
	fl->ingress = e->ingress;
	fl->generation = e->generation;
	memcpy(fl->pkts, e->pkts, sizeof(fl->pkts));
	memcpy(fl->bytes, e->bytes, sizeof(fl->bytes));
	fl->idle = now - e->last_seen;
	fl->expires_in = e->deadline - now;
}

/* Copy up to `sweep` slots into the snapshot; publish it when done. */
static void snapshot_step(struct npgw_conntrack *ct, uint64_t now)
{
	uint32_t end = ct->snap_cursor + ct->sweep;

	if (end > ct->slots)
		end = ct->slots;
	for (uint32_t pos = ct->snap_cursor; pos < end && !ct->snap_truncated; pos++) {
		const struct npgw_conntrack_entry *e = &ct->e[pos];
		void *kv;

		if (!(e->flags & NPGW_CONNTRACK_E_IN_USE) || (e->flags & NPGW_CONNTRACK_E_DENIED) ||
		    ct_entry_dead(ct, e, now) ||
		    rte_hash_get_key_with_position(ct->h, (int32_t)pos, &kv) != 0 ||
		    !filter_match(&ct->snap_filter, kv, e))
			continue;
		if (ct->snap_n == ct->snap_max)
			ct->snap_truncated = true;
		else
			snapshot_copy(ct, kv, e, now);
	}
	ct->snap_cursor = end;
	if (end == ct->slots || ct->snap_truncated) {
		ct->snap_active = false;
		atomic_store_explicit(&ct->snap_done, ct->snap_seen, memory_order_release);
	}
}

unsigned int npgw_conntrack_housekeep(struct npgw_conntrack *ct, uint64_t now,
				      struct npgw_conntrack_frag_out *out)
{
	unsigned int req = atomic_load_explicit(&ct->flush_req, memory_order_acquire);

	if (req != ct->flush_seen) {
		ct->flush_seen = req;
		ct->epoch++;
		CT_INC(ct, flush_epoch);
	}
	req = atomic_load_explicit(&ct->snap_req, memory_order_acquire);
	if (req != ct->snap_seen) {
		ct->snap_seen = req;
		ct->snap_active = true;
		ct->snap_cursor = 0;
		ct->snap_n = 0;
		ct->snap_truncated = false;
	}
	if (ct->snap_active)
		snapshot_step(ct, now);
	sweep_step(ct, now, true);
	return ct_frag_sweep(ct, now, out, NPGW_CONNTRACK_FRAG_MAX_OUT);
}

unsigned int npgw_conntrack_flush_now(struct npgw_conntrack *ct,
				      struct npgw_conntrack_frag_out *out)
{
	for (uint32_t pos = 0; pos < ct->slots; pos++)
		ct->e[pos].flags = 0;
	rte_hash_reset(ct->h);
	CT_ADD(ct, flushed, ct->st.in_use);
	__atomic_store_n(&ct->st.in_use, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ct->st.denied_in_use, 0, __ATOMIC_RELAXED);
	ct->dring_n = 0;
	for (unsigned int p = 0; p < NPGW_ARRAY_SIZE(ct->st.in_use_proto); p++)
		__atomic_store_n(&ct->st.in_use_proto[p], 0, __ATOMIC_RELAXED);
	return ct_frag_flush(ct, out, NPGW_CONNTRACK_FRAG_MAX_OUT);
}

void npgw_conntrack_flush_request(struct npgw_conntrack *ct)
{
	atomic_fetch_add_explicit(&ct->flush_req, 1, memory_order_release);
}

int npgw_conntrack_snapshot_request(struct npgw_conntrack *ct,
				    const struct npgw_conntrack_filter *f)
{
	if (ct->snap_requested != atomic_load_explicit(&ct->snap_done, memory_order_acquire))
		return -EBUSY;
	if (f != NULL)
		ct->snap_filter = *f;
	else
		memset(&ct->snap_filter, 0, sizeof(ct->snap_filter));
	ct->snap_requested++;
	atomic_store_explicit(&ct->snap_req, ct->snap_requested, memory_order_release);
	return 0;
}

int npgw_conntrack_snapshot_poll(struct npgw_conntrack *ct,
				 const struct npgw_conntrack_flow **flows, size_t *n,
				 bool *truncated)
{
	if (ct->snap_requested == 0)
		return -ENOENT;
	if (atomic_load_explicit(&ct->snap_done, memory_order_acquire) != ct->snap_requested)
		return -EAGAIN;
	*flows = ct->snap;
	*n = ct->snap_n;
	*truncated = ct->snap_truncated;
	return 0;
}

void npgw_conntrack_get_stats(const struct npgw_conntrack *ct, struct npgw_conntrack_stats *st)
{
#define LD(f) __atomic_load_n(&ct->st.f, __ATOMIC_RELAXED)
	memset(st, 0, sizeof(*st));
	st->capacity = ct->capacity;
	st->in_use = LD(in_use);
	for (unsigned int p = 0; p < NPGW_ARRAY_SIZE(st->in_use_proto); p++)
		st->in_use_proto[p] = LD(in_use_proto[p]);
	st->lookups = LD(lookups);
	st->hits = LD(hits);
	st->misses = LD(misses);
	st->related = LD(related);
	st->inserts = LD(inserts);
	st->refused = LD(refused);
	st->expired = LD(expired);
	st->revoked = LD(revoked);
	st->kept = LD(kept);
	st->flushed = LD(flushed);
	st->no_syn = LD(no_syn);
	st->tcp_window_drops = LD(tcp_window_drops);
	st->tcp_window_passed = LD(tcp_window_passed);
	st->sctp_invalid = LD(sctp_invalid);
	st->denied_capacity = ct->denied_capacity;
	st->denied_in_use = LD(denied_in_use);
	st->denied_inserts = LD(denied_inserts);
	st->denied_hits = LD(denied_hits);
	st->denied_evicted = LD(denied_evicted);
	st->denied_skipped = LD(denied_skipped);
	st->frag_capacity = (uint64_t)ct->frag.n_buckets * CT_FRAG_WAYS;
	st->frag_in_use = LD(frag_in_use);
	st->frag_held = LD(frag_held);
	st->frag_datagrams = LD(frag_datagrams);
	st->frag_passed = LD(frag_passed);
	st->frag_overlaps = LD(frag_overlaps);
	st->frag_floods = LD(frag_floods);
	st->frag_timeouts = LD(frag_timeouts);
	st->flush_epoch = LD(flush_epoch);
	st->bytes = ct->bytes;
#undef LD
}
