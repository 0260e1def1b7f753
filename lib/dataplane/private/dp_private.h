/*
 * dp_private.h: the data plane's internals shared by its files: the
 * generation wrapper that RCU protects, per-worker state (counters, MAC
 * tables, scratch arrays) and the data plane itself.
 */
#ifndef NPGW_DP_PRIVATE_H
#define NPGW_DP_PRIVATE_H

#include <stdatomic.h>
#include <stddef.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "npgw_conntrack.h"
#include "npgw_dataplane.h"
#include "npgw_pkt.h"
#include "dp_events.h"

#define DP_MAX_BURST NPGW_CONFIG_MAX_BURST

/* Flow table housekeeping runs at most this often (microseconds of TSC):
 * every round would cost a sweep step per burst. A sweep of 32 slots every
 * 20 us still visits 1.6 million slots a second. */
#define DP_HOUSEKEEP_US 20

/* The published generation: the ruleset and its per-worker rule hit
 * counters (indexed by ACL result: meta index + 1, 0 unused). */
struct dp_gen {
	struct npgw_ruleset *rs;
	uint32_t n_results;
	size_t stride; /* counters per worker, rounded to a cache line */
	uint64_t *hits; /* [n_workers * stride] */
};

/* A learned MAC address. mac holds the 6 bytes in its low 48 bits; an
 * entry with mac 0 is free (the all-zero MAC is never learned). */
struct mac_entry {
	uint64_t mac;
	uint64_t seen_tsc;
	uint16_t port; /* config port index */
};

#define DP_MAC_TABLE_SIZE 4096 /* per worker and bridge; power of two */
#define DP_MAC_PROBE 8 /* linear probe length; full means flood */

struct mac_table {
	struct mac_entry e[DP_MAC_TABLE_SIZE];
};

struct worker_stats {
	uint64_t port_rx[NPGW_CONFIG_MAX_PORTS];
	uint64_t port_tx[NPGW_CONFIG_MAX_PORTS];
	uint64_t port_drop[NPGW_CONFIG_MAX_PORTS];
	uint64_t drops[NPGW_DROP_MAX];
	uint64_t allowed;
	uint64_t non_ip;
	uint64_t steered; /* handed to the worker of their flow (steer.c) */
	uint64_t polls; /* rounds over the rx queues */
	uint64_t busy_polls; /* rounds that received something */
} __rte_cache_aligned;

/* What the second pass does with packet i of a burst. */
enum dp_action {
	DP_FORWARD,
	DP_DROP,
	DP_CLASSIFY,
	DP_STEERED, /* handed to the worker that owns its flow (steer.c) */
};

/*
 * Software steering (steer.c): with several workers and flow tracking, a
 * fragment or an ICMP error that RSS put on a worker that does not own its
 * flow is handed to the owner over a ring of that pair of workers (single
 * producer, single consumer, DP_STEER_RING_SIZE mbufs). NULL in a worker
 * when there is one worker or no flow tracking: the fast path then pays
 * one test per burst.
 */
#define DP_STEER_RING_SIZE 1024

struct dp_steer {
	unsigned int n_pending; /* staged in out_buf, over all peers */
	struct rte_ring *in[NPGW_CONFIG_MAX_WORKERS];  /* from worker j; NULL for itself */
	struct rte_ring *out[NPGW_CONFIG_MAX_WORKERS]; /* to worker j; NULL for itself */
	uint16_t n_out[NPGW_CONFIG_MAX_WORKERS];
	struct rte_mbuf *rx[DP_MAX_BURST] __rte_cache_aligned; /* taken from a ring */
	struct rte_mbuf *out_buf[NPGW_CONFIG_MAX_WORKERS][DP_MAX_BURST] __rte_cache_aligned;
};

struct dp_worker {
	struct npgw_dp *dp;
	unsigned int index;
	unsigned int lcore;
	uint16_t n_queues;
	struct {
		uint16_t port; /* config index */
		uint16_t queue;
	} queues[NPGW_CONFIG_MAX_QUEUES];
	struct mac_table *macs; /* one per bridge */

	struct worker_stats st;

	struct npgw_conntrack *ct; /* this worker's flow table, NULL when off */
	struct dp_ev_ring *ev; /* drop/verdict events, NULL when off (dp_events.h) */
	struct dp_steer *steer; /* NULL: one worker, or flows not tracked */

	uint64_t next_housekeep; /* TSC of the next flow table housekeeping */

	/* scratch, one burst at a time; every array starts on a cache line,
	 * so a 64-byte record (info) is one line, not two */
	struct rte_mbuf *pkts[DP_MAX_BURST] __rte_cache_aligned;
	uint8_t action[DP_MAX_BURST] __rte_cache_aligned;
	uint8_t reason[DP_MAX_BURST];
	uint8_t ip_of[DP_MAX_BURST]; /* packet -> IP packet index */
	uint8_t cls_of[DP_MAX_BURST]; /* IP packet -> tuple index */
	/* the burst's IP packets, in order */
	struct rte_mbuf *ipm[DP_MAX_BURST] __rte_cache_aligned;
	struct npgw_pkt_info info[DP_MAX_BURST] __rte_cache_aligned;
	struct npgw_conntrack_result ctr[DP_MAX_BURST] __rte_cache_aligned;
	struct npgw_ruleset_tuple tuples[DP_MAX_BURST] __rte_cache_aligned;
	struct npgw_ruleset_verdict verdicts[DP_MAX_BURST] __rte_cache_aligned;
	struct npgw_conntrack_frag_out fout[NPGW_CONNTRACK_FRAG_MAX_OUT] __rte_cache_aligned;
	unsigned int n_drop;
	struct rte_mbuf *drop[DP_MAX_BURST] __rte_cache_aligned;
	uint16_t n_tx[NPGW_CONFIG_MAX_PORTS] __rte_cache_aligned;
	struct rte_mbuf *tx[NPGW_CONFIG_MAX_PORTS][DP_MAX_BURST] __rte_cache_aligned;
} __rte_cache_aligned;

_Static_assert(offsetof(struct dp_worker, info) % RTE_CACHE_LINE_SIZE == 0,
	       "info[] starts on a cache line");

struct dp_bridge {
	uint16_t ports[NPGW_CONFIG_MAX_PORTS]; /* config indexes */
	uint16_t n_ports;
	uint64_t age_tsc;
};

#define DP_MAX_RETIRED 16

struct npgw_dp {
	const struct npgw_config *cfg;
	struct rte_mempool *mp;
	uint16_t n_ports;
	uint16_t port_id[NPGW_CONFIG_MAX_PORTS];
	int16_t port_bridge[NPGW_CONFIG_MAX_PORTS]; /* bridge index or -1 */
	int16_t wire_out[NPGW_CONFIG_MAX_PORTS]; /* a 2-port bridge's other port, or -1 */
	uint64_t housekeep_tsc; /* TSC ticks between flow table housekeepings */
	bool port_started[NPGW_CONFIG_MAX_PORTS];
	struct dp_bridge bridges[NPGW_CONFIG_MAX_PORTS];
	uint16_t n_bridges;
	uint16_t burst;
	bool non_ip_pass;
	bool fail_open;
	enum npgw_conntrack_revoke revoke;

	/* The RSS model software steering follows (steer.c), per config port:
	 * the hash types (those in effect, or on a device without RSS, such
	 * as net_ring in tests, those asked for), the rx queues, the
	 * redirection table size (0: queue = hash % queues) and which worker
	 * polls each queue (-1: none). Read-only once the workers run. */
	uint64_t rss_hf[NPGW_CONFIG_MAX_PORTS];
	uint16_t rss_nq[NPGW_CONFIG_MAX_PORTS];
	uint16_t rss_reta[NPGW_CONFIG_MAX_PORTS];
	int16_t *q_worker[NPGW_CONFIG_MAX_PORTS];
	uint8_t rss_key_be[64]; /* the RSS key, for rte_softrss_be */

	struct dp_worker **workers; /* each on its lcore's NUMA socket */
	unsigned int n_workers;
	struct rte_rcu_qsbr *rcu;
	_Atomic(struct dp_gen *) gen;
	atomic_bool stop;
	bool running;

	/* control thread only */
	struct npgw_dp_stats baseline;
	struct npgw_dp_worker_stats *wbaseline; /* [n_workers] */
	uint64_t swaps;
	struct dp_hitmap *retired_hits; /* rule hits of the generations gone */
	struct dp_ev_history *events; /* NULL when events are off */
	/* generations replaced by npgw_dp_publish_nowait, freed by
	 * npgw_dp_reclaim once every worker is past them */
	struct {
		struct dp_gen *g;
		uint64_t token;
	} retired[DP_MAX_RETIRED];
	unsigned int n_retired;
};

/* Rule hits by identity (namespace, policy, direction, rule, action), for
 * counters that outlive generations (hits.c). Control thread. */
struct dp_hitmap;
struct dp_hitmap *dp_hitmap_new(void);
void dp_hitmap_free(struct dp_hitmap *m);
/* Add hits to the identity of m (copied when new). 0 or -ENOMEM. */
int dp_hitmap_add(struct dp_hitmap *m, const struct npgw_compile_meta *meta, uint64_t hits);
/* fn for every identity with its total. */
void dp_hitmap_each(const struct dp_hitmap *m,
		    void (*fn)(const struct npgw_compile_meta *m, uint64_t hits, void *arg),
		    void *arg);
/* Add every rule hit of generation g to m. 0 or -ENOMEM. */
int dp_gen_fold_hits(const struct npgw_dp *dp, const struct dp_gen *g, struct dp_hitmap *m);

/* Decide the output ports of a frame that entered config port `in`, and
 * queue it on them (several when flooding). Returns false when there is
 * none: the port is in no bridge of two ports or more, or the destination
 * MAC was learned on the input port itself (the caller drops it with
 * NPGW_DROP_NO_ROUTE). Worker only. */
bool dp_bridge_forward(struct dp_worker *w, struct rte_mbuf *m, uint16_t in, uint64_t now);

/* Queue m for transmission on config port out (sending the port's queue
 * first when it is full). Worker only. */
void dp_queue_tx(struct dp_worker *w, uint16_t out, struct rte_mbuf *m);

/* Drop m, which entered config port in, for reason: counted now, freed
 * at the end of the burst. Worker only. */
void dp_drop(struct dp_worker *w, struct rte_mbuf *m, uint16_t in, unsigned int reason);

/* ---- software steering (steer.c) ---- */

/* Create the rings between every pair of workers and each worker's
 * steering state, when there are several workers and flow tracking is
 * on. Returns 0 or a negative errno. Control thread, before start. */
int dp_steer_setup(struct npgw_dp *dp);

/* Free what dp_steer_setup made; the rings must be empty (dp_steer_drain).
 * Control thread. */
void dp_steer_free(struct npgw_dp *dp);

/* Free every mbuf a stopped data plane still has in its steering rings
 * and staging buffers. Control thread, workers stopped. */
void dp_steer_drain(struct npgw_dp *dp);

/* The worker that owns the flow of IP packet m (parsed into info), which
 * entered config port in: where RSS puts the flow's packets that are not
 * fragments. For a later fragment: where RSS puts the fragments of its
 * address pair (its datagram's home). For an ICMP error: the owner of the
 * flow it quotes; w's own index when the quote says nothing. Worker. */
unsigned int dp_steer_owner(const struct dp_worker *w, const struct rte_mbuf *m,
			    const struct npgw_pkt_info *info, uint16_t in);

/* The worker that records the fragments of a datagram (its address
 * pair's RSS worker): where its first fragment's verdict goes. Worker. */
unsigned int dp_steer_frag_home(const struct dp_worker *w, const struct npgw_pkt_info *info,
				uint16_t in);

/* Stage m (entered config port in) for worker owner; with decided, m is a
 * first fragment whose verdict is why, for its datagram's home to record.
 * Sent at the end of the burst (dp_steer_flush). Worker only. */
void dp_steer_stage(struct dp_worker *w, unsigned int owner, struct rte_mbuf *m, uint16_t in,
		    bool decided, uint8_t why);

/* Send what is staged; what a full ring refuses is dropped (steer-full).
 * Worker only. */
void dp_steer_flush(struct dp_worker *w);

/* The input config port of an mbuf that came over a steering ring; and
 * whether it is a decided first fragment (then *why is its verdict). */
uint16_t dp_steer_tag_port(const struct rte_mbuf *m);
bool dp_steer_tag_decided(const struct rte_mbuf *m, uint8_t *why);

/* The worker loop, as run by rte_eal_remote_launch. */
int dp_worker_main(void *arg);

/* One round over the worker's queues; returns packets received. The flow
 * table's housekeeping runs when DP_HOUSEKEEP_US have passed since the
 * last, or always with force_housekeep (tests driving the loop). */
unsigned int dp_worker_poll(struct dp_worker *w, bool force_housekeep);

#endif /* NPGW_DP_PRIVATE_H */
