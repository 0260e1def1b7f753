/*
 * npgw_dataplane.h: the data plane: ports, the mbuf pool, poll-mode workers
 * that run bursts to completion (rx -> parse -> classify -> forward or
 * drop), the bridge domains that choose output ports, per-worker counters,
 * and the RCU-protected pointer to the live generation.
 *
 * Threads:
 *  - npgw_dp_create, _start, _stop, _free, _publish, _stats*: the control
 *    thread (main lcore) only;
 *  - workers run npgw_dp_worker_main on their own lcores; they never lock,
 *    allocate or make a syscall per packet, read the generation pointer
 *    once per burst and report an RCU quiescent state after each burst.
 */
#ifndef NPGW_DATAPLANE_H
#define NPGW_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "npgw_config.h"
#include "npgw_conntrack.h"
#include "npgw_drop.h"
#include "npgw_ruleset.h"

struct npgw_dp;

/*
 * Create the data plane from a checked config, after rte_eal_init: the
 * mempool, every port (an existing ethdev of that name, else probed from
 * the device string), queues, bridges, worker state, RCU. Ports are
 * configured and started; no worker runs yet. Returns NULL with *err a
 * negative errno and a log line naming the port or step that failed.
 */
struct npgw_dp *npgw_dp_create(const struct npgw_config *cfg, int *err);

/* Launch the workers on their lcores. Returns 0 or a negative errno. */
int npgw_dp_start(struct npgw_dp *dp);

/* Ask the workers to stop and wait for them. Idempotent. */
void npgw_dp_stop(struct npgw_dp *dp);

/* Stop and close the ports, free everything, the live generation too.
 * Accepts NULL. */
void npgw_dp_free(struct npgw_dp *dp);

/*
 * Make rs the live generation: one atomic store, then wait for an RCU grace
 * period (every worker finishes the burst it may be in), then free the old
 * generation. The data plane owns rs afterwards. Never stalls a worker.
 * Returns 0, or a negative errno (rs is then freed, the live one kept).
 */
int npgw_dp_publish(struct npgw_dp *dp, struct npgw_ruleset *rs);

/*
 * Make rs the live generation with one atomic store and return: the old
 * generation is freed later, by npgw_dp_reclaim, once every worker has
 * reported a quiescent state after the store (rte_rcu_qsbr_start/check).
 * When DP_MAX_RETIRED generations wait already, it first waits for the
 * oldest. Returns 0, or -ENOMEM (rs freed, the live one kept). Control
 * thread.
 */
int npgw_dp_publish_nowait(struct npgw_dp *dp, struct npgw_ruleset *rs);

/*
 * Free the replaced generations every worker is done with (wait: block
 * until all are). Returns how many still wait. Control thread; call it
 * from the control loop while it returns > 0.
 */
unsigned int npgw_dp_reclaim(struct npgw_dp *dp, bool wait);

/* The live generation, for explain and status (control thread). May be
 * NULL before the first publish. */
const struct npgw_ruleset *npgw_dp_current(const struct npgw_dp *dp);

/* Counters summed over the workers (since start or the last reset). */
struct npgw_dp_port_stats {
	char name[64];
	uint64_t rx, tx, drop;
};

struct npgw_dp_stats {
	uint64_t rx, tx;
	uint64_t allowed; /* IP packets the policy allowed */
	uint64_t non_ip; /* non-IP frames forwarded */
	uint64_t steered; /* fragments and ICMP errors handed to the worker of
			     their flow (several workers: software steering) */
	uint64_t drops[NPGW_DROP_MAX];
	uint64_t drops_total;
	unsigned int n_ports;
	struct npgw_dp_port_stats ports[NPGW_CONFIG_MAX_PORTS];
	uint64_t generation; /* 0 when none is live */
	uint64_t swaps; /* generations published */
	struct {
		bool enabled;
		uint64_t capacity, in_use; /* gauges, summed over workers */
		uint64_t inserts, refused, expired, revoked, hits, misses;
		/* denied flows, remembered in their own space (lib/conntrack) */
		uint64_t denied_capacity, denied_in_use; /* gauges */
		uint64_t denied_inserts, denied_hits, denied_evicted, denied_skipped;
		/* TCP segments outside their flow's window: RSTs and FINs
		 * dropped (tcp-out-of-window), others forwarded unlearned */
		uint64_t tcp_window_drops, tcp_window_passed;
		uint64_t sctp_invalid; /* SCTP packets dropped (sctp-invalid) */
		size_t bytes; /* memory of the flow tables */
	} ct; /* connection tracking */
};

/* Sum the workers' counters. Control thread; lock-free reads. */
void npgw_dp_get_stats(const struct npgw_dp *dp, struct npgw_dp_stats *st);

/* Forget the counters so far (the workers' counters are not written: the
 * control thread keeps a baseline and subtracts it). */
void npgw_dp_reset_stats(struct npgw_dp *dp);

/*
 * Hits of the live generation's rules: calls fn once per ACL result that
 * decided at least one packet, with the meta (policy, direction, rule) and
 * the count, summed over workers. Control thread.
 */
void npgw_dp_rule_hits(const struct npgw_dp *dp,
		       void (*fn)(const struct npgw_compile_meta *m, uint64_t hits, void *arg),
		       void *arg);

/*
 * The counters since start, never reset (what Prometheus reads: every
 * counter monotonic). Control thread; lock-free reads.
 */
void npgw_dp_get_counters(const struct npgw_dp *dp, struct npgw_dp_stats *st);

/*
 * Hits of every rule since start, carried over from one generation to the
 * next by identity (namespace, policy, direction, rule, action): fn is
 * called once per identity that decided a packet, with the total. The
 * meta's rule and strings are the identity (its other fields mean
 * nothing). Returns 0 or -ENOMEM. Control thread.
 */
int npgw_dp_rule_hits_total(const struct npgw_dp *dp,
			    void (*fn)(const struct npgw_compile_meta *m, uint64_t hits, void *arg),
			    void *arg);

/* One worker's counters (packets it received, forwarded, allowed,
 * dropped; polls; flows; events). */
struct npgw_dp_worker_stats {
	unsigned int lcore;
	uint64_t rx, tx, allowed, dropped, non_ip;
	uint64_t polls; /* poll rounds over its rx queues */
	uint64_t busy_polls; /* rounds that received at least one packet */
	uint64_t flows, flows_capacity; /* gauges; 0 without conntrack */
	uint64_t events; /* drop/verdict events recorded */
	uint64_t events_lost_rate; /* not recorded: over the rate limit */
	uint64_t events_lost_full; /* not recorded: its ring was full */
};

/*
 * Worker w's counters: since start when raw, else since the last
 * npgw_dp_reset_stats (gauges are never adjusted). Returns 0 or -EINVAL
 * (no such worker). Control thread.
 */
int npgw_dp_get_worker_stats(const struct npgw_dp *dp, unsigned int w, bool raw,
			     struct npgw_dp_worker_stats *ws);

/* A port as its driver sees it. */
struct npgw_dp_port_info {
	bool link_up;
	bool full_duplex;
	bool autoneg;
	uint32_t speed_mbps; /* 0 when unknown */
	/* rte_eth_stats, since start */
	uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf;
};

/* Link state (without waiting) and counters of config port i. Returns 0
 * or a negative errno. Control thread (any thread not a worker). */
int npgw_dp_port_info(const struct npgw_dp *dp, unsigned int i, struct npgw_dp_port_info *pi);

/* The number of workers. */
unsigned int npgw_dp_n_workers(const struct npgw_dp *dp);

/* ---- drop and verdict events (events.c) ----
 *
 * Each worker records what it decides about new flows and what it drops
 * for a reason worth seeing, into its own single-producer ring of
 * fixed-size records, under a token-bucket rate limit (config events.rate
 * per second, events.burst at once); an event over the limit, or with the
 * ring full, is counted as lost. The control thread drains the rings into
 * a history that `npgwctl observe` reads with a cursor.
 */
enum npgw_dp_event_type {
	NPGW_DP_EV_NEW_ALLOWED = 1, /* a new flow the policies allow */
	NPGW_DP_EV_NEW_DENIED = 2, /* a new flow (or untracked packet) they deny */
	NPGW_DP_EV_REVOKED = 3, /* a tracked flow the live policies no longer allow */
	NPGW_DP_EV_ICMP_DROPPED = 4, /* an ICMP error that quotes no tracked flow */
	NPGW_DP_EV_MALFORMED = 5, /* a frame the parser refused */
	NPGW_DP_EV_INVALID = 6, /* a packet its flow's tracking refuses: TCP flags
				   (tcp-invalid), outside the TCP window
				   (tcp-out-of-window), SCTP chunks or tags
				   (sctp-invalid) */
	NPGW_DP_EV_N_TYPES
};

/* "new-allowed", "new-denied", "revoked", "icmp-dropped", "malformed",
 * "invalid";
 * NULL for others. */
const char *npgw_dp_event_type_name(unsigned int type);

/* npgw_dp_event.state beyond enum npgw_conntrack_state */
#define NPGW_DP_EV_STATE_NONE 0xff /* no flow: denied, malformed */
#define NPGW_DP_EV_STATE_UNTRACKED 0xfe /* connection tracking is off */

/* One event as a worker records it: 64 bytes, no pointer. */
struct npgw_dp_event {
	uint64_t tsc; /* rte_rdtsc() of its burst */
	uint64_t generation; /* of the verdict */
	uint8_t src[16]; /* IPv4 in the first 4 bytes; zero when unknown */
	uint8_t dst[16];
	uint16_t sport, dport;
	uint32_t meta; /* ACL result of the deciding side (meta + 1); 0: none */
	uint8_t family; /* 4, 6, or 0 when the frame never parsed as IP */
	uint8_t proto;
	uint8_t type; /* enum npgw_dp_event_type */
	uint8_t reason; /* enum npgw_drop_reason; NONE when allowed */
	uint8_t state; /* enum npgw_conntrack_state, or NPGW_DP_EV_STATE_* */
	uint8_t port; /* config port it came in on */
	uint8_t worker;
	uint8_t pad;
};

/* An event as the history keeps it: with its sequence number, the wall
 * clock time and the rule that decided, resolved against its generation. */
struct npgw_dp_event_info {
	struct npgw_dp_event e;
	uint64_t seq;
	struct timespec time; /* CLOCK_REALTIME */
	bool has_rule; /* the fields below are set */
	uint8_t dir, action; /* enum npgw_compile_dir, enum npgw_compile_action */
	int32_t rule; /* -1: the policy's default deny */
	char policy_ns[64];
	char policy_name[256];
};

/* Move what the workers recorded into the history (the oldest entries
 * make room). Call it often (npgw: every 100 ms). Control thread. */
void npgw_dp_events_drain(struct npgw_dp *dp);

/*
 * Walk the history from sequence number `since` on (0: the oldest kept):
 * fn for each event, in order, until it returns false. Returns the
 * sequence number to ask for next. *missed (may be NULL): events from
 * `since` on that the history no longer holds. Control thread.
 */
uint64_t npgw_dp_events_read(const struct npgw_dp *dp, uint64_t since,
			     bool (*fn)(const struct npgw_dp_event_info *ev, void *arg), void *arg,
			     uint64_t *missed);

/* Print the counters for people (what npgw prints on exit). */
void npgw_dp_print_stats(const struct npgw_dp *dp, FILE *out);

/*
 * Run one poll round of worker w on the calling thread (every rx queue it
 * owns, one burst each, then one burst from each steering ring other
 * workers hand it packets on) and return the number of packets taken. For
 * functional tests that drive the data path deterministically; never while
 * the workers run.
 */
unsigned int npgw_dp_poll_once(struct npgw_dp *dp, unsigned int w);

/*
 * Ask every worker to forget its flows at its next round (npgwctl flows
 * flush). Returns 0, or -ENOTSUP when flows are not tracked. Control
 * thread; the workers are never stopped.
 */
int npgw_dp_flows_flush(struct npgw_dp *dp);

/*
 * The tracked flows matching f (NULL: all): every worker copies them, a
 * bounded number per round, and fn is called for each as it comes, with
 * the worker's index. Waits at most timeout_ms for the workers (the
 * control thread sleeps in 1 ms steps meanwhile). *truncated: some worker
 * matched more than a snapshot holds. Returns the number of flows, or
 * -ENOTSUP (flows not tracked), -ETIMEDOUT, -EBUSY. Control thread.
 */
long npgw_dp_flows(struct npgw_dp *dp, const struct npgw_conntrack_filter *f, int timeout_ms,
		   void (*fn)(unsigned int worker, const struct npgw_conntrack_flow *flow,
			      void *arg),
		   void *arg, bool *truncated);

/* The RSS key ports with several rx queues are configured with: a 16-bit
 * pattern repeated, so the Toeplitz hash of (src, dst, sport, dport) equals
 * that of (dst, src, dport, sport) and both directions of a flow reach the
 * same queue and worker. *len gets its length. */
const uint8_t *npgw_dp_rss_key(size_t *len);

/* TSC ticks per second: the unit of a flow's idle and expires_in. */
uint64_t npgw_dp_hz(void);

/*
 * Give back every mbuf the flow tables hold (out-of-order fragments
 * waiting for their first) and forget every flow. Only while the workers
 * are stopped (after npgw_dp_stop, or in poll_once tests). Control thread.
 */
void npgw_dp_drain(struct npgw_dp *dp);

/* The mempool, for tests that inject frames and check it is whole. */
struct rte_mempool *npgw_dp_mempool(const struct npgw_dp *dp);

/* The ethdev port id of config port i. */
uint16_t npgw_dp_port_id(const struct npgw_dp *dp, unsigned int i);

#endif /* NPGW_DATAPLANE_H */
