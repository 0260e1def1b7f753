/*
 * events_bench.c: what one drop/verdict event costs the worker that asks
 * for it (lib/dataplane/dp_events.h), in TSC cycles per call:
 *   off      events.rate 0: the ring pointer is NULL
 *   refused  the token bucket is empty (the common case of a flood: at the
 *            default 1000 a second nearly every call is refused, counted)
 *   recorded the bucket has credit: a 64-byte record written and published
 *            (a consumer frees the ring as it fills, as the control thread
 *            does every 100 ms)
 * Each is timed over 10,000,000 calls, five times, in the thread's own CPU
 * time (CLOCK_THREAD_CPUTIME_ID: time while other jobs hold the core does
 * not count) turned into TSC cycles; the best of the five is printed.
 * Combined with the share of packets that ask (BENCHMARKS.md), it gives the
 * data-path cost.
 *
 *   npgw-bench-events [CALLS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "dp_events.h"
#include "npgw_config.h"

#define REPEAT 5

static struct npgw_pkt_info info = {
	.src = {10, 0, 1, 1}, .dst = {10, 0, 1, 2}, .sport = 40000, .dport = 80, .family = 4,
	.proto = NPGW_PROTO_TCP};

static double cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* n calls at TSC `now` + step each; the ring freed every 512 when drain.
 * Returns cycles per call (CPU time at the TSC rate). */
static double run(struct dp_ev_ring *volatile *rp, uint64_t n, uint64_t now, uint64_t step,
		  bool drain)
{
	struct dp_ev_ring *r = *rp;
	double t0 = cpu_ns();

	for (uint64_t i = 0; i < n; i++) {
		dp_event(r, now, &info, NPGW_DP_EV_NEW_DENIED, NPGW_DROP_POLICY_INGRESS, 3, 7,
			 NPGW_DP_EV_STATE_NONE, 1);
		now += step;
		if (drain && (i & 511) == 511)
			atomic_store_explicit(&r->tail, atomic_load(&r->head), memory_order_release);
		r = *rp; /* as a worker reloads its pointer per burst */
	}
	return (cpu_ns() - t0) * 1e-9 * (double)rte_get_tsc_hz() / (double)n;
}

int main(int argc, char **argv)
{
	char *eal[] = {argv[0], (char[]){"--no-huge"}, (char[]){"-m"}, (char[]){"64"}, (char[]){"--no-pci"}, (char[]){"--no-shconf"},
		       (char[]){"--no-telemetry"}, (char[]){"--log-level=error"}, (char[]){"-l"}, (char[]){"0"}, NULL};
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000;
	struct npgw_config slow = {.events_rate = 1000, .events_burst = 256};
	struct npgw_config fast = {.events_rate = 1000000, .events_burst = 1024};
	struct dp_ev_ring *volatile r;
	double off = 1e9, refused = 1e9, recorded = 1e9;
	uint64_t hz, lost_before;
	int err = 0;

	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		return 1;
	}
	hz = rte_get_tsc_hz();
	for (int k = 0; k < REPEAT; k++) {
		double c;

		r = NULL;
		c = run(&r, n, 0, 0, false);
		off = c < off ? c : off;

		r = dp_events_ring_create(&slow, 0, SOCKET_ID_ANY, &err);
		if (r == NULL)
			return 1;
		/* spend the bucket; then, with time frozen, every call is refused */
		run(&r, 512, r->last_tsc, 0, true);
		lost_before = r->lost_rate;
		c = run(&r, n, r->last_tsc, 0, false);
		if (r->lost_rate - lost_before != n) {
			fprintf(stderr, "refused: %lu of %lu\n",
				(unsigned long)(r->lost_rate - lost_before), (unsigned long)n);
			return 1;
		}
		refused = c < refused ? c : refused;
		dp_events_ring_free(r);

		r = dp_events_ring_create(&fast, 0, SOCKET_ID_ANY, &err);
		if (r == NULL)
			return 1;
		/* a microsecond of TSC per call: always credit at 1,000,000/s */
		c = run(&r, n, r->last_tsc, hz / 1000000 + 1, true);
		if (r->lost_rate + r->lost_full != 0) {
			fprintf(stderr, "recorded: %lu lost\n",
				(unsigned long)(r->lost_rate + r->lost_full));
			return 1;
		}
		recorded = c < recorded ? c : recorded;
		dp_events_ring_free(r);
	}
	printf("{\"tsc_hz\": %lu, \"calls\": %lu, \"off_cycles\": %.2f, "
	       "\"refused_cycles\": %.2f, \"recorded_cycles\": %.2f}\n",
	       (unsigned long)hz, (unsigned long)n, off, refused, recorded);
	rte_eal_cleanup();
	return 0;
}
