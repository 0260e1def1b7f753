/*
 * dp_events.h: a worker's drop/verdict event ring and the inline call the
 * data path makes to record one (events.c is the control thread's side).
 *
 * The ring has one producer (its worker) and one consumer (the control
 * thread): the worker writes a record, then publishes it by a release
 * store of head; the control thread reads up to head (acquire), copies,
 * then releases the slots by a release store of tail. Fixed-size records,
 * preallocated; no lock, no allocation, no syscall.
 *
 * The rate limit is a token bucket counted in TSC ticks: credit grows with
 * time, up to `cap` (burst events' worth); an event costs `cost` ticks
 * (tsc_hz / rate). An event over the limit, or one that finds the ring
 * full, is counted (lost_rate, lost_full) and not recorded.
 */
#ifndef NPGW_DP_EVENTS_H
#define NPGW_DP_EVENTS_H

#include <stdatomic.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "npgw_dataplane.h"
#include "npgw_pkt.h"

#define DP_EV_RING_SIZE 1024 /* records per worker; a power of two */
#define DP_EV_RING_MASK (DP_EV_RING_SIZE - 1)

_Static_assert(sizeof(struct npgw_dp_event) == 64, "an event is one cache line");
_Static_assert((DP_EV_RING_SIZE & DP_EV_RING_MASK) == 0, "ring size is a power of two");

struct dp_ev_ring {
	/* the worker's */
	_Atomic uint64_t head; /* records published so far */
	uint64_t credit; /* ticks of credit */
	uint64_t last_tsc;
	uint64_t lost_rate, lost_full; /* read by the control thread */
	uint64_t cost, cap; /* set at create */
	uint8_t worker;
	/* the control thread's */
	_Atomic uint64_t tail __rte_cache_aligned; /* records taken so far */
	struct npgw_dp_event rec[DP_EV_RING_SIZE] __rte_cache_aligned;
};

/*
 * Record an event about the packet `info` describes (NULL: a frame with
 * nothing parsed worth keeping), that came in on config port `port`, at
 * `now` (the burst's TSC). type: enum npgw_dp_event_type; reason: the drop
 * reason (NPGW_DROP_NONE when allowed); meta: the ACL result of the side
 * that decided (0: none); state: the flow's state or NPGW_DP_EV_STATE_*.
 * r NULL (events off) does nothing. Worker only.
 */
static inline void dp_event(struct dp_ev_ring *r, uint64_t now, const struct npgw_pkt_info *info,
			    uint8_t type, uint8_t reason, uint32_t meta, uint64_t generation,
			    uint8_t state, uint16_t port)
{
	struct npgw_dp_event *e;
	uint64_t c, h;

	if (r == NULL)
		return;
	c = r->credit + (now - r->last_tsc);
	r->last_tsc = now;
	if (c > r->cap)
		c = r->cap;
	if (unlikely(c < r->cost)) {
		r->credit = c;
		r->lost_rate++;
		return;
	}
	r->credit = c - r->cost;
	h = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (unlikely(h - atomic_load_explicit(&r->tail, memory_order_acquire) >= DP_EV_RING_SIZE)) {
		r->lost_full++;
		return;
	}
	e = &r->rec[h & DP_EV_RING_MASK];
	e->tsc = now;
	e->generation = generation;
	if (info != NULL && info->family != 0) {
		memcpy(e->src, info->src, 16);
		memcpy(e->dst, info->dst, 16);
		e->sport = info->sport;
		e->dport = info->dport;
		e->family = info->family;
		e->proto = info->proto;
	} else {
		memset(e->src, 0, 32);
		e->sport = e->dport = 0;
		e->family = e->proto = 0;
	}
	e->meta = meta;
	e->type = type;
	e->reason = reason;
	e->state = state;
	e->port = (uint8_t)port;
	e->worker = r->worker;
	e->pad = 0;
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

struct npgw_dp;
struct npgw_config;

/* A worker's ring, rate limit from the config (NULL with *err when out of
 * memory; NULL and *err 0 when events are off: rate 0). Control thread. */
struct dp_ev_ring *dp_events_ring_create(const struct npgw_config *cfg, unsigned int worker,
					 int socket_id, int *err);
void dp_events_ring_free(struct dp_ev_ring *r);

/* The history (control thread): created with the data plane when events
 * are on; drained also by npgw_dp_publish before it frees a generation, so
 * that every event resolves against the generation that decided it. */
struct dp_ev_history;
struct dp_gen;
struct dp_ev_history *dp_events_history_create(void);
void dp_events_history_free(struct dp_ev_history *h);
void dp_events_drain_gen(struct npgw_dp *dp, const struct dp_gen *older);

#endif /* NPGW_DP_EVENTS_H */
