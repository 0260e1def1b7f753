/*
 * npgw_conntrack.h: connection tracking for the data path. One table per
 * worker, owned and written by that worker only (no locks); the control
 * thread talks to it through a few request words the worker polls once
 * per burst (flush, flow snapshot) and reads its counters.
 *
 * What it tracks:
 *  - flows, keyed by the normalized 5-tuple plus zone (bridge domain) and
 *    family: both directions of a flow find the same entry, which
 *    remembers which side opened it. TCP, UDP, SCTP and ICMP/ICMPv6 echo
 *    (the echo id standing in for both ports); any other IP protocol by
 *    its address pair. Entries carry the flow's state, the verdict it was
 *    allowed with and the generation that verdict came from, a deadline,
 *    and packet/byte counters per direction; TCP flows their sequence
 *    windows, SCTP flows their association's verification tags and state
 *    (lib/conntrack/README.md);
 *  - related ICMP/ICMPv6 errors: the embedded header names the flow;
 *  - fragments: later fragments follow the verdict of their datagram's
 *    first fragment (see "Fragments" below).
 *
 * Time: every function that needs the time takes `now` as an argument, in
 * ticks of the config's `hz` (rte_rdtsc() with hz = rte_get_tsc_hz() in
 * production; milliseconds with hz = 1000 in tests). Timeouts are given in
 * seconds and turned into ticks once, at create.
 *
 * A burst, on the worker (see the README of this module for the whole
 * loop, and npgw_conntrack_lookup_burst for the order of calls):
 *   lookup_burst -> classify the MISS/UNTRACKED packets and the STALE hits'
 *   original tuples -> commit each MISS in burst order, recheck each STALE
 *   -> frag_first / frag_later for fragments -> housekeep once per poll.
 *
 * Capacity is fixed at create; a full table refuses new flows (the packet
 * is dropped, CT_TABLE_FULL) and never evicts a live entry. Dead entries
 * (expired, flushed, revoked, a closed TCP flow reopened by a new SYN) are
 * reclaimed a bounded number per housekeep call, and lazily when a packet
 * finds one.
 *
 * Nothing here is thread-safe except where a function says so: a table
 * belongs to one worker lcore.
 */
#ifndef NPGW_CONNTRACK_H
#define NPGW_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_ct_settings.h"
#include "npgw_drop.h"
#include "npgw_pkt.h"
#include "npgw_ruleset.h"

struct rte_mbuf;
struct rte_mempool;
struct npgw_conntrack;

/* The most packets one lookup_burst takes (rte_hash's bulk limit). */
#define NPGW_CONNTRACK_MAX_BURST 64

/* ---- configuration ---- */

struct npgw_conntrack_config {
	const char *name;       /* for rte_hash/rte_malloc names; unique per table */
	int socket_id;          /* NUMA socket of the worker (SOCKET_ID_ANY ok) */
	uint32_t capacity;      /* allowed flows; at least 8 */
	uint32_t denied_capacity; /* denied flows remembered (see "Denied
				     flows"); 0: none, every packet of a
				     denied flow is classified */
	uint32_t frag_capacity; /* datagrams being fragmented at once; >= 8 */
	uint32_t frag_hold;     /* out-of-order fragments held per table while
				   their first is awaited; 0: drop them
				   (FRAG_UNTRACKED) */
	uint32_t sweep;         /* flow slots examined per housekeep call */
	uint32_t snapshot_max;  /* flows one snapshot can hold */
	uint64_t hz;            /* ticks of `now` per second; > 0 */
	uint32_t seed;          /* hash seed; 0: random (the default: a fixed seed
				   lets an attacker aim collisions) */
	bool tcp_loose;         /* create entries for allowed TCP packets
				   without SYN (mid-stream pickup) */
	bool tcp_seq_check;     /* drop an RST or FIN outside its window;
				   false: forward and act on it (counted as
				   tcp_window_passed) */
	struct npgw_conntrack_timeouts timeouts;
};

/* Defaults: those of npgw_conntrack_settings_defaults (npgw_ct_settings.h)
 * for what an operator sets, frag_capacity 1024, sweep 32, snapshot_max
 * 4096, seed 0. The caller sets name, socket_id and hz. Any thread. */
void npgw_conntrack_config_defaults(struct npgw_conntrack_config *cfg);

/*
 * Create a table: the rte_hash (extendable buckets, so exactly `capacity`
 * flows fit), the entry array, the fragment table and hold buffer, the
 * snapshot buffer, all preallocated from rte_malloc on socket_id. Returns
 * NULL with *err = -EINVAL (bad config), -ENOMEM or -EEXIST (name taken).
 * Control thread, after rte_eal_init. Free with npgw_conntrack_free.
 */
struct npgw_conntrack *npgw_conntrack_create(const struct npgw_conntrack_config *cfg, int *err);

/* Free a table. Held fragments still in it are freed (rte_pktmbuf_free).
 * No worker may use it any more. Accepts NULL. Control thread. */
void npgw_conntrack_free(struct npgw_conntrack *ct);

/* Bytes a table of this config takes (rte_hash included), as measured
 * from rte_malloc statistics around the create, or 0 if unknown. */
size_t npgw_conntrack_memory(const struct npgw_conntrack *ct);

/* ---- tuples and hashing (pure: any thread, no EAL needed) ---- */

/* A flow's 5-tuple as a packet carries it. ICMP echo: sport = dport = the
 * echo id. Protocols without ports: 0 and 0. */
struct npgw_conntrack_tuple {
	uint8_t src[16]; /* IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport, dport; /* host order */
	uint8_t family, proto;
	uint16_t zone;
};

/* The tuple of a parsed packet (ICMP echo: the id as both ports). Any
 * thread. */
void npgw_conntrack_tuple_of(const struct npgw_pkt_info *info, uint16_t zone,
			     struct npgw_conntrack_tuple *t);

/*
 * A hash of the tuple that is the same for both directions, for a software
 * distributor of packets to workers (worker = hash % n) that replaces RSS.
 * Seeded; the same seed must be used for every packet. The data plane does
 * not use it: it keeps RSS and steers only fragments and ICMP errors, by
 * the NIC's Toeplitz hash (lib/dataplane/steer.c). Any thread.
 */
uint32_t npgw_conntrack_hash_symmetric(const struct npgw_conntrack_tuple *t, uint32_t seed);

/*
 * The steering hash of a whole frame: npgw_conntrack_hash_symmetric of the
 * packet's tuple, except that
 *  - an ICMP/ICMPv6 error hashes as the flow its embedded header names, so
 *    it reaches the worker that tracks that flow;
 *  - with l3_only, or for any fragment (first or later), only the address
 *    pair and protocol are hashed, so every fragment of a datagram meets
 *    its first; use l3_only for everything when fragmented flows must also
 *    meet their unfragmented packets (see the README).
 * Any thread.
 */
uint32_t npgw_conntrack_steer_hash(const uint8_t *frame, uint32_t len,
				   const struct npgw_pkt_info *info, uint16_t zone, bool l3_only,
				   uint32_t seed);

/*
 * If the packet is an ICMP error (ICMP: destination unreachable incl.
 * fragmentation needed, time exceeded, parameter problem; ICMPv6:
 * destination unreachable, packet too big, time exceeded, parameter
 * problem), parse the IP + L4 header it quotes from frame[0..len) at
 * info->l4_off + 8, within the outer IP length, and fill *t with the
 * quoted packet's tuple (as the quoted packet carried it, zone copied).
 * Returns:
 *   0        a well-formed quote: same family as the outer packet, IP
 *            version and header lengths consistent, at least 8 bytes of L4
 *            header (ports or echo id), not a non-first fragment, not an
 *            ICMP error itself, and addressed back to the quoted packet's
 *            sender (outer destination == quoted source);
 *   -ENOENT  not an ICMP error (echo, informational, not ICMP at all);
 *   -EINVAL  an ICMP error whose quote is truncated or bogus.
 * Pure: any thread, reads only frame[0..len).
 */
int npgw_conntrack_icmp_embedded(const uint8_t *frame, uint32_t len,
				 const struct npgw_pkt_info *info, uint16_t zone,
				 struct npgw_conntrack_tuple *t);

/* ---- flows: the per-burst calls (worker only) ---- */

enum npgw_conntrack_state {
	NPGW_CONNTRACK_NEW = 0,     /* first packet seen (TCP: SYN), no answer yet */
	NPGW_CONNTRACK_SYN_RECV,    /* TCP: SYN-ACK seen */
	NPGW_CONNTRACK_ESTABLISHED, /* TCP: handshake done, or data both ways;
				       others: the reply direction was seen */
	NPGW_CONNTRACK_CLOSING,     /* TCP: one side sent FIN */
	NPGW_CONNTRACK_CLOSED,      /* TCP: both FINs, or RST */
	NPGW_CONNTRACK_N_STATES
};

/* "new", "syn-recv", "established", "closing", "closed". */
const char *npgw_conntrack_state_name(unsigned int state);

enum npgw_conntrack_dir {
	NPGW_CONNTRACK_DIR_ORIG = 0,  /* from the side that opened the flow */
	NPGW_CONNTRACK_DIR_REPLY = 1,
};

/* What lookup_burst found for one packet. */
enum npgw_conntrack_kind {
	/* No live entry: classify the packet; then npgw_conntrack_commit. */
	NPGW_CONNTRACK_MISS = 0,
	/* A live flow: forward (entries exist only for allowed flows). When
	 * the STALE flag is set, recheck first. */
	NPGW_CONNTRACK_HIT,
	/* An ICMP error quoting a live flow: forward it with that flow's
	 * verdict (recheck first when STALE). `entry` is the flow's. */
	NPGW_CONNTRACK_RELATED,
	/* Not tracked (ICMP/ICMPv6 types other than echo and the errors):
	 * classify it every time; no entry is made for it. */
	NPGW_CONNTRACK_UNTRACKED,
	/* A non-first fragment: npgw_conntrack_frag_later decides. */
	NPGW_CONNTRACK_FRAGMENT,
	/* Drop with `reason` (TCP_INVALID, ICMP_UNRELATED, TCP_OUT_OF_WINDOW:
	 * an RST or FIN outside its flow's sequence window, SCTP_INVALID: a
	 * wrong verification tag, a chunk after the association ended, or
	 * bundling SCTP forbids; the flow is unchanged, and `entry` and
	 * `dir` are set when there is one). */
	NPGW_CONNTRACK_DROP,
	/* A flow denied under this generation, in the direction it was
	 * denied: drop it with the verdict its entry holds (`entry`: read its
	 * egress/ingress before the first commit of the burst, which may
	 * evict denied entries). No classification. */
	NPGW_CONNTRACK_DENIED,
};

/* npgw_conntrack_result.flags */
#define NPGW_CONNTRACK_F_STALE 0x01 /* HIT/RELATED: the entry's verdict is from
				       another generation: recheck */
#define NPGW_CONNTRACK_F_NO_SYN 0x02 /* MISS: the packet cannot open a flow
					(TCP without SYN, or SYN-ACK; ICMP
					echo reply): it is classified as new,
					and commit forwards it without an
					entry unless tcp_loose */
#define NPGW_CONNTRACK_F_CREATED 0x04 /* set by commit: an entry was created */

/* Per packet result; 8 bytes. */
struct npgw_conntrack_result {
	uint32_t entry;  /* entry index (HIT, RELATED, after a commit) */
	uint8_t kind;    /* enum npgw_conntrack_kind */
	uint8_t dir;     /* enum npgw_conntrack_dir (HIT, RELATED) */
	uint8_t flags;   /* NPGW_CONNTRACK_F_* */
	uint8_t reason;  /* enum npgw_drop_reason when kind is DROP */
};

/* npgw_conntrack_entry.flags (read-only for callers) */
#define NPGW_CONNTRACK_E_IN_USE 0x01
#define NPGW_CONNTRACK_E_ORIG_B 0x02   /* the opener is the key's second endpoint */
#define NPGW_CONNTRACK_E_KEPT 0x04     /* revoked, kept by the keep mode */
#define NPGW_CONNTRACK_E_PICKUP 0x08   /* TCP picked up mid-stream (tcp_loose) */
#define NPGW_CONNTRACK_E_FIN_ORIG 0x10
#define NPGW_CONNTRACK_E_FIN_REPLY 0x20
#define NPGW_CONNTRACK_E_SEEN_REPLY 0x40
#define NPGW_CONNTRACK_E_DENIED 0x80   /* a denied flow's entry (see below) */

/*
 * A flow entry: one cache line. Exposed for inline reads of the verdict on
 * the hot path (STYLE: a struct in a header only for a hot-path inline);
 * written by this module only.
 */
struct npgw_conntrack_entry {
	uint64_t deadline;   /* dead when deadline <= now */
	uint64_t last_seen;
	uint64_t pkts[2];    /* per enum npgw_conntrack_dir */
	uint64_t bytes[2];   /* IP bytes */
	uint32_t generation; /* low 32 bits of the generation of the verdict */
	uint32_t egress;     /* the verdict's egress / ingress result (meta
				index + 1, 0: that side not isolated) */
	uint32_t ingress;
	uint16_t epoch;      /* flush epoch it was created in */
	uint8_t state;       /* enum npgw_conntrack_state */
	uint8_t flags;       /* NPGW_CONNTRACK_E_* */
};

/*
 * Denied flows. A flow whose first packet the policies deny gets an entry
 * too, flagged E_DENIED, holding the verdict (egress/ingress) and the
 * generation, with its own idle timeout (timeouts.denied): its later
 * packets in the same direction and generation are DENIED by the one
 * lookup, without a classification. Such entries live in their own space:
 * the hash holds capacity + denied_capacity keys, allowed flows are
 * counted against capacity and denied ones against denied_capacity, and
 * when the denied space is full the oldest denied entry (in insertion
 * order) is evicted, never an allowed one. So a flood of denied new flows
 * can neither evict nor crowd out established connections. A denied
 * entry of another generation, or hit by a packet of the opposite
 * direction, is a MISS: the packet is classified and its commit reuses
 * the slot. Related ICMP errors never match a denied entry (they are
 * ICMP_UNRELATED), and flow snapshots leave denied entries out.
 *
 * Admission. Remembering a denied flow pays for itself only if the flow
 * comes back: under a flood of denied new flows that never repeat, every
 * insert into the full space is a hash add plus an eviction (a hash
 * delete) and no entry is ever hit. So once the space is full, the
 * evicting inserts are judged in windows of 1024: when fewer than a
 * quarter of a window's worth of denied hits came in it, only one new
 * denied flow in 16 is remembered (the others are dropped all the same,
 * classified again if they come back, and counted as denied_skipped),
 * until the denied hits since the window began reach half a window. A
 * flow that does repeat is still remembered after a few of its packets.
 */

/* The entry a result points to. Worker (or tests). */
const struct npgw_conntrack_entry *npgw_conntrack_entry(const struct npgw_conntrack *ct,
							 uint32_t entry);

/*
 * Look up a burst of parsed IP packets (kind NPGW_PKT_IP; n <=
 * NPGW_CONNTRACK_MAX_BURST) that arrived in `zone`, in one bulk hash
 * lookup. pkts[i] is the mbuf of info[i] (its first segment's bytes are
 * read for ICMP errors and TCP headers; pkts may be NULL, then every ICMP
 * error is unrelated and no TCP sequence window is checked). For each packet res[i] says what to do (enum
 * npgw_conntrack_kind). A HIT is also accounted: TCP window, state, deadline,
 * counters move (a TCP segment outside its flow's window moves only the
 * counters, and an RST or FIN outside it is DROPped); a hit on a dead entry (expired, flushed, revoked, a
 * closed TCP flow that a new SYN reopens) is reported as a MISS.
 * generation is the live generation (0 when none): hits whose entry holds
 * another one are flagged STALE.
 * Keeps the burst's keys and hashes inside ct, and the info pointer, for
 * the commit / recheck / orig_tuple calls that follow, which must come
 * before the next lookup_burst or housekeep (info must stay valid until
 * then). Returns the number of results the caller must classify
 * (MISS, UNTRACKED, STALE). Worker only; no allocation, no lock.
 */
unsigned int npgw_conntrack_lookup_burst(struct npgw_conntrack *ct, struct rte_mbuf *const *pkts,
					 const struct npgw_pkt_info *info, unsigned int n,
					 uint16_t zone, uint64_t now, uint64_t generation,
					 struct npgw_conntrack_result *res);

/* What commit and recheck decide. */
enum npgw_conntrack_action {
	NPGW_CONNTRACK_PASS = 0,      /* forward */
	NPGW_CONNTRACK_DENY,          /* the verdict denies: drop with the
					 policy reason the caller derives */
	NPGW_CONNTRACK_DROP_FULL,     /* allowed, but the table is full: drop,
					 CT_TABLE_FULL (counted as refused) */
	NPGW_CONNTRACK_DROP_REVOKED,  /* recheck: the flow is no longer allowed:
					 drop, CT_REVOKED; the entry is dead */
	NPGW_CONNTRACK_RESET,         /* recheck in reset mode, TCP: build RSTs
					 (npgw_conntrack_rst_mbufs) and drop
					 the packet, CT_REVOKED */
};

/*
 * After classification, for packet i of the last lookup_burst whose result
 * is MISS, in burst order: if an earlier commit of this burst created the
 * flow (SYN and SYN-ACK in one burst), join it as a HIT whatever v says
 * (a reply passes); if it denied the flow (same direction), DENY; else if
 * v denies, remember the denied flow (denied_capacity > 0: a denied entry,
 * F_CREATED set; the oldest denied entry is evicted when that space is
 * full) and DENY; else create the entry when
 * the packet may open a flow (TCP SYN, or any non-RST TCP packet with
 * tcp_loose; ICMP echo request; any UDP, SCTP or other packet), storing v
 * and generation, and PASS (F_CREATED set); a packet that may not open one
 * (F_NO_SYN) PASSes without an entry. A full table gives DROP_FULL.
 * Updates res->kind/entry/dir/flags. Worker only.
 */
enum npgw_conntrack_action npgw_conntrack_commit(struct npgw_conntrack *ct, unsigned int i,
						  uint64_t now, uint64_t generation,
						  const struct npgw_ruleset_verdict *v,
						  struct npgw_conntrack_result *res);

/*
 * The tuple to classify for packet i of the last lookup_burst: for a HIT
 * or RELATED, the flow's original direction (opener -> responder, the
 * responder's port), which is what a recheck must classify, whatever
 * direction the packet itself travels; for others the packet's own.
 * Worker only.
 */
void npgw_conntrack_orig_tuple(const struct npgw_conntrack *ct, unsigned int i,
			       const struct npgw_conntrack_result *res,
			       struct npgw_ruleset_tuple *t);

/* The revoke modes and their names: npgw_ct_settings.h. */

/*
 * Recheck a STALE HIT or RELATED result (packet i of the last burst) with
 * v, the classification of npgw_conntrack_orig_tuple, under generation.
 * v allows: the entry stores v and generation, PASS. v denies: per mode,
 * DROP_REVOKED (entry dead), PASS (keep: established flow marked KEPT and
 * stamped with generation, so it is not rechecked on every packet) or
 * RESET (TCP HIT; entry dead). Counts revoked flows. A result that is not
 * STALE is left alone and PASSes. Worker only.
 */
enum npgw_conntrack_action npgw_conntrack_recheck(struct npgw_conntrack *ct, unsigned int i,
						   uint64_t generation,
						   const struct npgw_ruleset_verdict *v,
						   enum npgw_conntrack_revoke mode,
						   struct npgw_conntrack_result *res);

/*
 * Periodic work, once per poll round (also when no packet came): take a
 * pending flush or snapshot request of the control thread (a snapshot
 * copies at most `sweep` slots per call), reclaim up to `sweep` dead flow
 * slots, expire fragment records. Fragments held past their deadline are
 * handed back in out[] (reason FRAG_TIMEOUT) for the caller to free and
 * count; out must hold NPGW_CONNTRACK_FRAG_MAX_OUT. Returns the count in
 * out. Call it after the burst's commits and rechecks (it deletes keys, so
 * the last burst's results are void afterwards). Worker only; bounded work.
 */
struct npgw_conntrack_frag_out;
unsigned int npgw_conntrack_housekeep(struct npgw_conntrack *ct, uint64_t now,
				      struct npgw_conntrack_frag_out *out);

/* Drop every flow and fragment record now (held fragments go to out, as
 * in housekeep; out may hold NPGW_CONNTRACK_FRAG_MAX_OUT and the rest are
 * freed with rte_pktmbuf_free and counted as timeouts). Cost is O(capacity):
 * for tests and start-up; the control thread uses flush_request. Worker
 * only. Returns the count in out. */
unsigned int npgw_conntrack_flush_now(struct npgw_conntrack *ct,
				      struct npgw_conntrack_frag_out *out);

/* ---- fragments (worker only) ----
 *
 * The data plane never reassembles. A datagram is recorded by (zone,
 * family, src, dst, protocol, fragment id): its first fragment, classified
 * like any packet, sets the verdict, which later fragments follow. Each
 * record keeps the byte ranges seen (merged, at most
 * NPGW_CONNTRACK_FRAG_MAX_RANGES disjoint ones): a fragment overlapping
 * one is dropped (FRAG_OVERLAP) and poisons the datagram (every later
 * fragment dropped, held ones too; RFC 5722), an exact duplicate too; a
 * non-last fragment not a non-zero multiple of 8 bytes, one that ends past
 * 65535 or past the end a last fragment set, is FRAG_INVALID and poisons
 * it the same way. A record ends when its bytes [0, end) are all seen, or at
 * its deadline (timeouts.frag after its first fragment of any kind).
 * A fragment that comes before its first is held (frag_hold slots per
 * table, NPGW_CONNTRACK_FRAG_MAX_HELD per datagram) until the first
 * decides, or dropped FRAG_UNTRACKED when frag_hold is 0; the hold or the
 * table full is FRAG_FLOOD.
 */
#define NPGW_CONNTRACK_FRAG_MAX_RANGES 8
#define NPGW_CONNTRACK_FRAG_MAX_HELD 8
#define NPGW_CONNTRACK_FRAG_MAX_OUT (2 * NPGW_CONNTRACK_FRAG_MAX_HELD)

/* A held fragment handed back: forward it (reason NPGW_DROP_NONE) to where
 * the packet identified by cookie would go, or free and count it. */
struct npgw_conntrack_frag_out {
	struct rte_mbuf *m;
	uint16_t cookie; /* what the caller gave frag_later (its input port) */
	uint8_t reason;  /* enum npgw_drop_reason; NONE: forward */
};

enum npgw_conntrack_frag_verdict {
	NPGW_CONNTRACK_FRAG_PASS = 0, /* forward this fragment */
	NPGW_CONNTRACK_FRAG_DROP,     /* drop it with *reason */
	NPGW_CONNTRACK_FRAG_HELD,     /* the table keeps the mbuf */
};

/*
 * A first fragment (info->is_first_fragment) whose verdict the caller has
 * decided: allowed, or denied with deny_reason. Records the datagram and
 * its verdict; held later fragments are handed back in out[] (at most
 * NPGW_CONNTRACK_FRAG_MAX_OUT) with the verdict's reason. Returns PASS
 * (allowed and recorded), DROP with *reason = deny_reason (denied), or
 * DROP with FRAG_OVERLAP / FRAG_INVALID / FRAG_FLOOD (this fragment is bad
 * or cannot be recorded: fail closed). *n_out gets the count in out.
 */
enum npgw_conntrack_frag_verdict
npgw_conntrack_frag_first(struct npgw_conntrack *ct, struct rte_mbuf *m,
			  const struct npgw_pkt_info *info, uint16_t zone, uint64_t now,
			  bool allowed, enum npgw_drop_reason deny_reason, uint8_t *reason,
			  struct npgw_conntrack_frag_out *out, unsigned int *n_out);

/*
 * A later fragment (is_fragment, not first). PASS when its datagram's
 * first fragment was allowed, DROP with the first's reason when it was
 * denied, HELD when the first has not come yet (the table owns m and
 * hands it back through frag_first or housekeep, with cookie), or DROP
 * with FRAG_OVERLAP / FRAG_INVALID / FRAG_FLOOD / FRAG_UNTRACKED. *n_out
 * gets the count in out (held fragments of a datagram this one poisons).
 */
enum npgw_conntrack_frag_verdict
npgw_conntrack_frag_later(struct npgw_conntrack *ct, struct rte_mbuf *m,
			  const struct npgw_pkt_info *info, uint16_t zone, uint16_t cookie,
			  uint64_t now, uint8_t *reason, struct npgw_conntrack_frag_out *out,
			  unsigned int *n_out);

/*
 * The offset in frame of a fragment's payload (after the IPv4 header, or
 * after the IPv6 fragment header) and its length, from the raw frame of a
 * packet the parser reported as a fragment. Returns 0, or -EINVAL when the
 * headers do not say (they were parsed before, so only for a frame that is
 * not the one parsed). Pure, any thread.
 */
int npgw_conntrack_frag_payload(const uint8_t *frame, uint32_t len,
				const struct npgw_pkt_info *info, uint32_t *off, uint32_t *plen);

/* ---- TCP reset (revoke mode reset) ---- */

/* Frames an RST builder writes at most: Ethernet + 2 VLAN + IPv6 + TCP. */
#define NPGW_CONNTRACK_RST_MAX_LEN (14 + 8 + 40 + 20)

enum npgw_conntrack_rst_to {
	NPGW_CONNTRACK_RST_TO_SENDER = 0,   /* back to the packet's source */
	NPGW_CONNTRACK_RST_TO_RECEIVER = 1, /* on to its destination, as if from
					       the source */
};

/*
 * Write into out (at least NPGW_CONNTRACK_RST_MAX_LEN bytes) a TCP RST for
 * one end of the TCP packet frame[0..len) (parsed into info): same VLAN
 * tags; toward the sender the MACs, addresses and ports swapped, seq = the
 * packet's ack (RST|ACK, ack = its seq + its length, SYN and FIN counting
 * one); toward the receiver the packet's own MACs, addresses and ports,
 * seq = its seq (the packet itself is dropped, so that is what the
 * receiver expects next), RST|ACK with its ack. No IP options or extension
 * headers, TTL/hop limit 64, IPv4 DF, window 0, both checksums set.
 * Returns the frame length, or -EINVAL when the packet is not a whole TCP
 * header. Pure, any thread.
 */
int npgw_conntrack_rst_build(const uint8_t *frame, uint32_t len,
			     const struct npgw_pkt_info *info, enum npgw_conntrack_rst_to to,
			     uint8_t *out, size_t out_len);

/*
 * Both RSTs for the packet in m (parsed into info), each in an mbuf from
 * mp: out[0] toward the sender, out[1] toward the receiver. Returns 2, or
 * a negative errno (-ENOMEM: pool empty; nothing allocated). The caller
 * transmits them (out[0] by the port m came in on, out[1] where m would
 * have gone) and still drops m. Worker; no allocation beyond the pool.
 */
int npgw_conntrack_rst_mbufs(struct rte_mempool *mp, const struct rte_mbuf *m,
			     const struct npgw_pkt_info *info, struct rte_mbuf *out[2]);

/* ---- control thread ---- */

/* Counters of one table. Gauges and counters are written by the worker and
 * read with relaxed atomic loads: each value is whole, the set is not one
 * instant. */
struct npgw_conntrack_stats {
	uint64_t capacity, in_use;          /* flow slots; in_use counts dead
					       entries not yet reclaimed */
	uint64_t in_use_proto[5];           /* TCP, UDP, ICMP(v6), SCTP, other */
	uint64_t lookups, hits, misses, related;
	uint64_t inserts, refused;          /* refused: table full */
	uint64_t expired, revoked, kept, flushed;
	uint64_t no_syn;                    /* misses that could not open a flow */
	uint64_t tcp_window_drops;          /* RSTs and FINs outside their flow's
					       window, dropped (TCP_OUT_OF_WINDOW) */
	uint64_t tcp_window_passed;         /* other segments outside the window:
					       forwarded, nothing learned */
	uint64_t sctp_invalid;              /* SCTP packets dropped: a wrong
					       verification tag, a chunk after the
					       end, bundling SCTP forbids */
	uint64_t denied_capacity, denied_in_use; /* denied flows (see above) */
	uint64_t denied_inserts, denied_hits, denied_evicted;
	uint64_t denied_skipped;            /* not remembered: admission (below) */
	uint64_t frag_capacity, frag_in_use, frag_held;
	uint64_t frag_datagrams, frag_passed, frag_overlaps, frag_floods, frag_timeouts;
	uint64_t flush_epoch;
	size_t bytes;                       /* npgw_conntrack_memory */
};

/* Per-protocol slots of in_use_proto. */
enum {
	NPGW_CONNTRACK_P_TCP,
	NPGW_CONNTRACK_P_UDP,
	NPGW_CONNTRACK_P_ICMP,
	NPGW_CONNTRACK_P_SCTP,
	NPGW_CONNTRACK_P_OTHER,
};

/* Read the counters. Any thread, lock-free, while the worker runs. */
void npgw_conntrack_get_stats(const struct npgw_conntrack *ct, struct npgw_conntrack_stats *st);

/* Ask the worker to drop every flow at its next housekeep: flows created
 * before the request are dead from then on (O(1) for the worker) and are
 * reclaimed by the sweep. Control thread. */
void npgw_conntrack_flush_request(struct npgw_conntrack *ct);

/* What `npgwctl flows` filters on; zero fields match everything. */
struct npgw_conntrack_filter {
	uint8_t family;       /* 4, 6 or 0 */
	uint8_t proto;        /* 0: any */
	uint8_t has_addr;     /* match addr against either endpoint */
	uint8_t state_mask;   /* 1 << state; 0: any */
	uint8_t addr[16];
	uint16_t port;        /* either endpoint; 0: any */
};

/* One flow of a snapshot, in its original direction. */
struct npgw_conntrack_flow {
	struct npgw_conntrack_tuple t; /* opener -> responder */
	uint8_t state;
	uint8_t flags;                 /* NPGW_CONNTRACK_E_* */
	uint32_t egress, ingress, generation;
	uint64_t pkts[2], bytes[2];
	uint64_t idle;                 /* now - last_seen at copy time, ticks */
	uint64_t expires_in;           /* deadline - now at copy time, ticks */
};

/*
 * Ask the worker for a snapshot of its flows matching f (NULL: all). The
 * worker copies them into the table's snapshot buffer a bounded number of
 * slots per housekeep; poll with snapshot_poll. Returns 0, or -EBUSY when
 * a snapshot is in progress. Control thread.
 */
int npgw_conntrack_snapshot_request(struct npgw_conntrack *ct,
				    const struct npgw_conntrack_filter *f);

/*
 * When the requested snapshot is complete, point *flows at it (valid until
 * the next request), set *n and *truncated (more flows matched than
 * snapshot_max) and return 0; -EAGAIN while the worker is still copying,
 * -ENOENT when none was requested. Each flow is as the worker saw it at
 * copy time; flows created or ended while the copy runs may or may not be
 * in it. Control thread.
 */
int npgw_conntrack_snapshot_poll(struct npgw_conntrack *ct,
				 const struct npgw_conntrack_flow **flows, size_t *n,
				 bool *truncated);

#endif /* NPGW_CONNTRACK_H */
