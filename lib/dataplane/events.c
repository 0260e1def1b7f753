/*
 * events.c: the control thread's side of the drop/verdict events: the
 * per-worker rings (dp_events.h) are made here, drained into a history of
 * the last DP_EV_HISTORY events, each stamped with a sequence number and
 * the wall-clock time and resolved against the generation that decided
 * it (the rule's policy, direction and index), and read back with a
 * cursor by `npgwctl observe`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "dp_private.h"

#define DP_EV_HISTORY 8192 /* events kept; a power of two */

struct dp_ev_history {
	uint64_t next_seq; /* of the next event in; the first is 1 */
	struct npgw_dp_event_info ev[DP_EV_HISTORY];
};

static const char *const type_names[NPGW_DP_EV_N_TYPES] = {
	[NPGW_DP_EV_NEW_ALLOWED] = "new-allowed",   [NPGW_DP_EV_NEW_DENIED] = "new-denied",
	[NPGW_DP_EV_REVOKED] = "revoked",	    [NPGW_DP_EV_ICMP_DROPPED] = "icmp-dropped",
	[NPGW_DP_EV_MALFORMED] = "malformed",	    [NPGW_DP_EV_INVALID] = "invalid",
};

const char *npgw_dp_event_type_name(unsigned int type)
{
	return type < NPGW_DP_EV_N_TYPES ? type_names[type] : NULL;
}

struct dp_ev_ring *dp_events_ring_create(const struct npgw_config *cfg, unsigned int worker,
					 int socket_id, int *err)
{
	struct dp_ev_ring *r;
	uint64_t hz = rte_get_tsc_hz();

	*err = 0;
	if (cfg->events_rate == 0)
		return NULL;
	r = rte_zmalloc_socket("npgw-events", sizeof(*r), RTE_CACHE_LINE_SIZE, socket_id);
	if (r == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	r->cost = NPGW_MAX(hz / cfg->events_rate, UINT64_C(1));
	r->cap = r->cost * NPGW_MAX(cfg->events_burst, 1u);
	r->credit = r->cap; /* a full bucket at start */
	r->last_tsc = rte_rdtsc();
	r->worker = (uint8_t)worker;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return r;
}

void dp_events_ring_free(struct dp_ev_ring *r)
{
	rte_free(r);
}

struct dp_ev_history *dp_events_history_create(void)
{
	struct dp_ev_history *h = calloc(1, sizeof(*h));

	if (h != NULL)
		h->next_seq = 1;
	return h;
}

void dp_events_history_free(struct dp_ev_history *h)
{
	free(h);
}

/* The rule of an event from the generation that decided it, when that is
 * g (which may be NULL). */
static void resolve(struct npgw_dp_event_info *ev, const struct dp_gen *g)
{
	const struct npgw_compile_meta *m;

	if (ev->has_rule || ev->e.meta == 0 || g == NULL ||
	    npgw_ruleset_generation(g->rs) != ev->e.generation || ev->e.meta >= g->n_results)
		return;
	m = npgw_ruleset_meta(g->rs, ev->e.meta);
	if (m == NULL)
		return;
	ev->has_rule = true;
	ev->dir = m->dir;
	ev->action = m->action;
	ev->rule = m->rule;
	snprintf(ev->policy_ns, sizeof(ev->policy_ns), "%s", m->policy_ns);
	snprintf(ev->policy_name, sizeof(ev->policy_name), "%s", m->policy_name);
}

void dp_events_drain_gen(struct npgw_dp *dp, const struct dp_gen *older)
{
	struct dp_ev_history *hist = dp->events;
	const struct dp_gen *live = atomic_load_explicit(&dp->gen, memory_order_acquire);
	struct timespec now_rt;
	uint64_t now_tsc, hz = rte_get_tsc_hz();

	if (hist == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &now_rt);
	now_tsc = rte_rdtsc();
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		struct dp_ev_ring *r = dp->workers[w]->ev;
		uint64_t t, h;

		if (r == NULL)
			continue;
		t = atomic_load_explicit(&r->tail, memory_order_relaxed);
		h = atomic_load_explicit(&r->head, memory_order_acquire);
		for (; t != h; t++) {
			struct npgw_dp_event_info *ev =
				&hist->ev[hist->next_seq & (DP_EV_HISTORY - 1)];
			uint64_t ago_ns;

			memset(ev, 0, offsetof(struct npgw_dp_event_info, policy_ns));
			ev->policy_ns[0] = ev->policy_name[0] = '\0';
			ev->e = r->rec[t & DP_EV_RING_MASK];
			ev->seq = hist->next_seq++;
			ago_ns = now_tsc > ev->e.tsc
					 ? (uint64_t)((double)(now_tsc - ev->e.tsc) * 1e9 / (double)hz)
					 : 0;
			ev->time = now_rt;
			ev->time.tv_sec -= (time_t)(ago_ns / 1000000000u);
			ev->time.tv_nsec -= (long)(ago_ns % 1000000000u);
			if (ev->time.tv_nsec < 0) {
				ev->time.tv_nsec += 1000000000L;
				ev->time.tv_sec--;
			}
			resolve(ev, live);
			resolve(ev, older);
			for (unsigned int i = 0; i < dp->n_retired; i++)
				resolve(ev, dp->retired[i].g);
		}
		atomic_store_explicit(&r->tail, t, memory_order_release);
	}
}

void npgw_dp_events_drain(struct npgw_dp *dp)
{
	dp_events_drain_gen(dp, NULL);
}

uint64_t npgw_dp_events_read(const struct npgw_dp *dp, uint64_t since,
			     bool (*fn)(const struct npgw_dp_event_info *ev, void *arg), void *arg,
			     uint64_t *missed)
{
	const struct dp_ev_history *hist = dp->events;
	uint64_t oldest, s;

	if (missed != NULL)
		*missed = 0;
	if (hist == NULL)
		return since;
	oldest = hist->next_seq > DP_EV_HISTORY ? hist->next_seq - DP_EV_HISTORY : 1;
	if (since == 0)
		since = oldest;
	if (since > hist->next_seq)
		since = hist->next_seq; /* from a history before a restart */
	if (since < oldest) {
		if (missed != NULL)
			*missed = oldest - since;
		since = oldest;
	}
	for (s = since; s < hist->next_seq; s++)
		if (!fn(&hist->ev[s & (DP_EV_HISTORY - 1)], arg))
			return s + 1;
	return s;
}
