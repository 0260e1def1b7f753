/*
 * ct_private.h: the internals of lib/conntrack shared by its files: the
 * normalized flow key, the pure helpers (byte reads, the seeded hash),
 * the fragment table and the table object itself.
 */
#ifndef NPGW_CT_PRIVATE_H
#define NPGW_CT_PRIVATE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ct_hash.h"
#include "npgw_conntrack.h"

/* Frame layout constants the pure helpers need. */
#define CT_ETH_HLEN 14
#define CT_IPV4_HLEN 20
#define CT_IPV6_HLEN 40
#define CT_TCP_HLEN 20
#define CT_IPV6_FRAG 44

#define CT_ICMP_ECHO_REPLY 0
#define CT_ICMP_UNREACH 3
#define CT_ICMP_ECHO_REQUEST 8
#define CT_ICMP_TIME_EXCEEDED 11
#define CT_ICMP_PARAM_PROBLEM 12
#define CT_ICMPV6_UNREACH 1
#define CT_ICMPV6_TOO_BIG 2
#define CT_ICMPV6_TIME_EXCEEDED 3
#define CT_ICMPV6_PARAM_PROBLEM 4
#define CT_ICMPV6_ECHO_REQUEST 128
#define CT_ICMPV6_ECHO_REPLY 129

/*
 * The flow key: both endpoints in a fixed order (the lower (address, port)
 * first), so both directions of a flow give the same bytes. 48 bytes with
 * the zero pad, the size rte_hash compares with vector instructions.
 */
struct ct_key {
	uint8_t addr[2][16];
	uint16_t port[2];
	uint16_t zone;
	uint8_t family;
	uint8_t proto;
	uint32_t pad[2]; /* always zero */
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct ct_key) == 48, "flow key is 48 bytes");
_Static_assert(offsetof(struct ct_key, port) == 32 && offsetof(struct ct_key, proto) == 39 &&
		       offsetof(struct ct_key, pad) == 40,
	       "the key's last 16 bytes are written as two 8-byte words");

static inline uint16_t ct_rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

static inline uint32_t ct_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void ct_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void ct_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint64_t ct_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/*
 * Fill k with the normalized key of (src, sport) -> (dst, dport): the
 * lower (address, port) endpoint first. Addresses are 16 bytes, IPv4 in
 * the first 4 and zero after (as the parser gives them), so comparing all
 * 16 bytes orders IPv4 as comparing 4 would. Returns which endpoint of the
 * key the source is: 0 or 1. Pure, on the hot path.
 */
static inline unsigned int ct_key_build(const uint8_t *src, const uint8_t *dst, uint16_t sport,
					uint16_t dport, uint16_t zone, uint8_t family,
					uint8_t proto, struct ct_key *k)
{
	uint64_t s0 = ct_be64(src), d0 = ct_be64(dst);
	uint64_t s1 = ct_be64(src + 8), d1 = ct_be64(dst + 8);
	unsigned int from;

	if (s0 != d0)
		from = s0 > d0;
	else if (s1 != d1)
		from = s1 > d1;
	else
		from = sport > dport; /* the source is higher: it goes second */
	memcpy(k->addr[from], src, 16);
	memcpy(k->addr[!from], dst, 16);
	/* the last 16 bytes (ports, zone, family, protocol, zero pad) as two
	 * 8-byte stores: the hash right after reads 8-byte words, and a load
	 * that spans several narrower stores cannot be forwarded from them
	 * (a stall of a dozen cycles per key, measured with perf) */
	{
		const uint16_t p0 = from ? dport : sport, p1 = from ? sport : dport;
		uint8_t tail[8];
		uint64_t w;

		memcpy(tail, &p0, 2);
		memcpy(tail + 2, &p1, 2);
		memcpy(tail + 4, &zone, 2);
		tail[6] = family;
		tail[7] = proto;
		memcpy(&w, tail, 8);
		memcpy((uint8_t *)k + offsetof(struct ct_key, port), &w, 8);
		w = 0;
		memcpy((uint8_t *)k + offsetof(struct ct_key, pad), &w, 8);
	}
	return from;
}

/* Fill k from t, normalized (ct_key_build). Pure. */
unsigned int ct_key_from_tuple(const struct npgw_conntrack_tuple *t, struct ct_key *k);

/* A seeded 32-bit hash of n 32-bit words (murmur3 rounds). Pure. */
uint32_t ct_hash_words(const uint32_t *w, unsigned int n, uint32_t seed);

/* True for the IPv6 extension headers the parser walks (not 44). */
bool ct_ipv6_ext_len(const uint8_t *h, uint8_t nh, uint32_t avail, uint32_t *hlen);

/* ---- fragments ---- */

/* (zone, family, src, dst, protocol (IPv4 only: IPv6 reassembly keys on
 * addresses and id), id) */
struct ct_frag_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint16_t zone;
	uint8_t family;
	uint8_t proto;
};

_Static_assert(sizeof(struct ct_frag_key) == 40, "fragment key is 40 bytes");

enum ct_frag_state {
	CT_FRAG_FREE = 0,
	CT_FRAG_WAIT,    /* later fragments seen, first not yet */
	CT_FRAG_DECIDED, /* the first set the verdict (or a fault poisoned it) */
};

#define CT_FRAG_WAYS 8 /* entries per bucket */

struct ct_frag {
	struct ct_frag_key key;
	uint64_t deadline;
	uint32_t lo[NPGW_CONNTRACK_FRAG_MAX_RANGES]; /* covered [lo, hi) */
	uint32_t hi[NPGW_CONNTRACK_FRAG_MAX_RANGES];
	uint32_t end;      /* datagram payload length, once the last is seen */
	uint16_t held;     /* first held slot + 1; 0: none */
	uint8_t n_ranges;
	uint8_t n_held;
	uint8_t state;     /* enum ct_frag_state */
	uint8_t allowed;
	uint8_t reason;    /* when not allowed */
	uint8_t have_end;
};

struct ct_held {
	struct rte_mbuf *m;
	uint16_t cookie;
	uint16_t next; /* next slot + 1 of the same datagram, or free list */
};

struct ct_frag_table {
	struct ct_frag *e;    /* [n_buckets * CT_FRAG_WAYS] */
	uint32_t n_buckets;   /* power of two */
	uint32_t cursor;      /* sweep position */
	struct ct_held *held; /* [n_hold] */
	uint16_t *free_held;  /* stack of free slot indexes */
	uint32_t n_hold, n_free_held;
	uint64_t timeout;     /* ticks */
	uint32_t seed;
};

/* ---- per-protocol state beside the entry (tcp_window.c, sctp.c) ---- */

/*
 * The TCP sequence window of one direction, Linux conntrack's
 * ip_ct_tcp_state in 16 bytes: the window is kept unscaled in 16 bits
 * (scaled where it is compared), so that both directions fit 32 bytes.
 */
struct ct_tcp_dir {
	uint32_t td_end;    /* highest seq + len this side sent (SYN, FIN count one) */
	uint32_t td_maxend; /* highest ack + window the peer granted: how far this
			       side may send */
	uint32_t td_maxack; /* highest ack this side sent (CT_TCPF_MAXACK) */
	uint16_t td_maxwin; /* largest window this side advertised, unscaled;
			       0: this direction not seen yet */
	uint8_t td_scale;   /* window scale shift of this side's windows, 0..14 */
	uint8_t flags;      /* CT_TCPF_* */
};

#define CT_TCPF_WSCALE 0x01 /* its SYN offered window scaling */
#define CT_TCPF_MAXACK 0x02 /* td_maxack is set */

/* SCTP association of one flow (sctp.c). */
struct ct_sctp {
	uint32_t vtag[2];     /* the verification tag each direction's packets
				 carry (per enum npgw_conntrack_dir), 0: unknown */
	uint32_t init_tag[2]; /* a restart's tags, also accepted until its
				 COOKIE-ACK makes them the tags; 0: none */
	uint8_t state;        /* enum ct_sctp_state (ct_sctp.h) */
	uint8_t pad[15];
};

/*
 * What the entry has no room for, in a parallel array indexed like the
 * entries: 32 bytes, two per cache line, prefetched with the entry for TCP
 * and SCTP hits. Zeroed when an entry is created.
 */
union ct_l4 {
	struct ct_tcp_dir tcp[2]; /* per enum npgw_conntrack_dir */
	struct ct_sctp sctp;
};

_Static_assert(sizeof(union ct_l4) == 32, "the per-protocol state is 32 bytes");

/* ---- the table ---- */

/* Counters the worker writes with relaxed atomic stores and any thread
 * reads with relaxed loads. */
struct ct_counters {
	uint64_t in_use, in_use_proto[5];
	uint64_t lookups, hits, misses, related;
	uint64_t inserts, refused;
	uint64_t expired, revoked, kept, flushed;
	uint64_t no_syn;
	uint64_t tcp_window_drops, tcp_window_passed;
	uint64_t sctp_invalid;
	uint64_t denied_in_use, denied_inserts, denied_hits, denied_evicted, denied_skipped;
	uint64_t frag_in_use, frag_held;
	uint64_t frag_datagrams, frag_passed, frag_overlaps, frag_floods, frag_timeouts;
	uint64_t flush_epoch;
};

#define CT_INC(ct, f) __atomic_store_n(&(ct)->st.f, (ct)->st.f + 1, __ATOMIC_RELAXED)
#define CT_ADD(ct, f, v) __atomic_store_n(&(ct)->st.f, (ct)->st.f + (v), __ATOMIC_RELAXED)
#define CT_DEC(ct, f) __atomic_store_n(&(ct)->st.f, (ct)->st.f - 1, __ATOMIC_RELAXED)

/* Per-packet facts lookup_burst keeps for commit / recheck. */
struct ct_pkt {
	uint8_t has_key;  /* keys[key] is this packet's flow key */
	uint8_t key;      /* index into keys */
	uint8_t from;     /* which key endpoint sent the packet */
	uint8_t can_open; /* may create an entry */
	uint8_t related;  /* ICMP error: the key is the quoted flow's */
	uint8_t sctp_init; /* an SCTP INIT: may reopen an ended association */
};

struct npgw_conntrack {
	struct rte_hash *h; /* hashed with ct_hash48 under hs */
	struct ct_hash_secret hs;
	uint32_t secret_slot; /* hs's copy for rte_hash's own calls */
	struct npgw_conntrack_entry *e; /* [slots], indexed by rte_hash position */
	union ct_l4 *l4;                /* [slots], TCP window / SCTP association */
	uint32_t slots;    /* capacity + denied_capacity: keys the hash holds */
	uint32_t capacity; /* allowed flows */
	uint32_t denied_capacity;
	/* denied entries' positions in insertion order, the oldest at
	 * dring_head: the eviction order (a slot whose entry is no longer a
	 * live denied one is skipped) */
	uint32_t *dring;
	uint32_t dring_size, dring_head, dring_n;
	/* admission into a full denied space (denied_admit): the window's
	 * evicting attempts, denied_hits at its start, whether 1 in
	 * CT_DENIED_SAMPLE is admitted, and the sampling tick */
	uint32_t dwin_n, dtick;
	uint64_t dwin_hits0;
	bool dsample;
	uint32_t sweep;
	uint32_t sweep_cursor;
	uint16_t epoch; /* flush epoch; entries of another one are dead */
	bool tcp_loose;
	bool tcp_seq_check;
	uint64_t to_tcp[NPGW_CONNTRACK_N_STATES]; /* timeouts in ticks */
	uint64_t to_udp, to_udp_stream, to_icmp, to_sctp, to_other, to_denied;
	size_t bytes;

	/* the last burst */
	const struct npgw_pkt_info *info;
	struct rte_mbuf *const *pkts; /* NULL: no TCP window tracking */
	unsigned int n;
	struct ct_pkt pkt[NPGW_CONNTRACK_MAX_BURST];
	struct ct_key keys[NPGW_CONNTRACK_MAX_BURST];
	uint32_t sig[NPGW_CONNTRACK_MAX_BURST];
	const void *kp[NPGW_CONNTRACK_MAX_BURST];
	int32_t pos[NPGW_CONNTRACK_MAX_BURST];
	bool changed; /* a commit of this burst added or deleted keys: pos[]
			 may be out of date */

	struct ct_frag_table frag;

	/* control requests: written by the control thread, polled by the
	 * worker in housekeep */
	atomic_uint flush_req;
	atomic_uint snap_req;
	struct npgw_conntrack_filter snap_filter; /* written before snap_req */
	unsigned int snap_requested; /* control thread's own copy */

	/* worker side of the requests */
	unsigned int flush_seen;
	unsigned int snap_seen;
	bool snap_active;
	uint32_t snap_cursor;

	/* the snapshot, written by the worker before snap_done */
	atomic_uint snap_done;
	struct npgw_conntrack_flow *snap;
	uint32_t snap_max;
	uint32_t snap_n;
	bool snap_truncated;

	struct ct_counters st __attribute__((aligned(64)));
};

/* Whether an entry is dead at now (expired, killed, or of an older flush
 * epoch). */
static inline bool ct_entry_dead(const struct npgw_conntrack *ct,
				 const struct npgw_conntrack_entry *e, uint64_t now)
{
	return e->deadline <= now || e->epoch != ct->epoch;
}

/* Fragment table internals, frag.c. */
int ct_frag_init(struct ct_frag_table *ft, const struct npgw_conntrack_config *cfg,
		 uint64_t timeout, uint32_t seed);
void ct_frag_fini(struct ct_frag_table *ft);
unsigned int ct_frag_sweep(struct npgw_conntrack *ct, uint64_t now,
			   struct npgw_conntrack_frag_out *out, unsigned int max_out);
unsigned int ct_frag_flush(struct npgw_conntrack *ct, struct npgw_conntrack_frag_out *out,
			   unsigned int max_out);

#endif /* NPGW_CT_PRIVATE_H */
