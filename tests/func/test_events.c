/*
 * test_events.c: a worker's event ring (lib/dataplane/dp_events.h) on its
 * own: the token-bucket rate limit in TSC ticks, the ring full, and that
 * every event not recorded is counted, never silently gone.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "cunit_main.h"
#include "dp_events.h"
#include "npgw_config.h"

static struct npgw_pkt_info info = {
	.src = {10, 0, 1, 1}, .dst = {10, 0, 1, 2}, .sport = 40000, .dport = 80, .family = 4,
	.proto = NPGW_PROTO_TCP};

static void emit(struct dp_ev_ring *r, uint64_t now, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		dp_event(r, now, &info, NPGW_DP_EV_NEW_DENIED, NPGW_DROP_POLICY_INGRESS, 3, 7,
			 NPGW_DP_EV_STATE_NONE, 1);
}

static void test_rate_limit_counts_what_it_refuses(void)
{
	struct npgw_config cfg = {.events_rate = 100, .events_burst = 10};
	int err = 1;
	struct dp_ev_ring *r = dp_events_ring_create(&cfg, 2, SOCKET_ID_ANY, &err);
	uint64_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(err, 0);
	t = r->last_tsc;
	/* a full bucket: burst events at once, the rest refused and counted */
	emit(r, t, 25);
	CU_ASSERT_EQUAL(atomic_load(&r->head), 10);
	CU_ASSERT_EQUAL(r->lost_rate, 15);
	/* a tenth of a second later, 100/s gives 10 more */
	t += rte_get_tsc_hz() / 10;
	emit(r, t, 12);
	CU_ASSERT_EQUAL(atomic_load(&r->head), 20);
	CU_ASSERT_EQUAL(r->lost_rate, 17);
	CU_ASSERT_EQUAL(r->lost_full, 0);
	/* what was recorded is whole */
	CU_ASSERT_EQUAL(r->rec[0].type, NPGW_DP_EV_NEW_DENIED);
	CU_ASSERT_EQUAL(r->rec[0].reason, NPGW_DROP_POLICY_INGRESS);
	CU_ASSERT_EQUAL(r->rec[0].meta, 3);
	CU_ASSERT_EQUAL(r->rec[0].generation, 7);
	CU_ASSERT_EQUAL(r->rec[0].worker, 2);
	CU_ASSERT_EQUAL(r->rec[0].port, 1);
	CU_ASSERT_EQUAL(r->rec[0].dport, 80);
	CU_ASSERT_EQUAL(memcmp(r->rec[19].src, info.src, 16), 0);
	dp_events_ring_free(r);
}

static void test_full_ring_counts_what_it_cannot_hold(void)
{
	struct npgw_config cfg = {.events_rate = 1000000, .events_burst = 1024};
	int err = 1;
	struct dp_ev_ring *r = dp_events_ring_create(&cfg, 0, SOCKET_ID_ANY, &err);
	uint64_t t, step = rte_get_tsc_hz() / 1000000 + 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	t = r->last_tsc;
	/* nobody drains: the ring holds DP_EV_RING_SIZE, the rest is lost */
	for (unsigned int i = 0; i < DP_EV_RING_SIZE + 100; i++)
		emit(r, t += step, 1);
	CU_ASSERT_EQUAL(atomic_load(&r->head), DP_EV_RING_SIZE);
	CU_ASSERT_EQUAL(r->lost_full, 100);
	CU_ASSERT_EQUAL(r->lost_rate, 0);
	/* the consumer takes 10: 10 more fit */
	atomic_store(&r->tail, 10);
	for (unsigned int i = 0; i < 15; i++)
		emit(r, t += step, 1);
	CU_ASSERT_EQUAL(atomic_load(&r->head), DP_EV_RING_SIZE + 10);
	CU_ASSERT_EQUAL(r->lost_full, 105);
	dp_events_ring_free(r);
}

static void test_rate_zero_means_no_ring(void)
{
	struct npgw_config cfg = {.events_rate = 0, .events_burst = 10};
	int err = 1;

	CU_ASSERT_PTR_NULL(dp_events_ring_create(&cfg, 0, SOCKET_ID_ANY, &err));
	CU_ASSERT_EQUAL(err, 0);
	dp_event(NULL, 0, &info, NPGW_DP_EV_NEW_ALLOWED, 0, 0, 0, 0, 0); /* a no-op */
	CU_ASSERT_STRING_EQUAL(npgw_dp_event_type_name(NPGW_DP_EV_REVOKED), "revoked");
	CU_ASSERT_PTR_NULL(npgw_dp_event_type_name(0));
	CU_ASSERT_PTR_NULL(npgw_dp_event_type_name(NPGW_DP_EV_N_TYPES));
}

static void cleanup(void)
{
	rte_eal_cleanup();
}

/* The EAL's arguments: rte_eal_init takes char **, so writable storage. */
static char *eal_argv[] = {(char[]){"test_events"}, (char[]){"--no-huge"}, (char[]){"-m"}, (char[]){"64"}, (char[]){"--no-pci"},
	(char[]){"--no-shconf"}, (char[]){"--no-telemetry"}, (char[]){"--log-level=error"},
	(char[]){"-l"}, (char[]){"0"}, NULL};

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"rate_limit_counts_what_it_refuses", test_rate_limit_counts_what_it_refuses},
		{"full_ring_counts_what_it_cannot_hold", test_full_ring_counts_what_it_cannot_hold},
		{"rate_zero_means_no_ring", test_rate_zero_means_no_ring},
		CU_TEST_INFO_NULL,
	};

	if (rte_eal_init((int)NPGW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		return -1;
	}
	atexit(cleanup);
	return npgw_test_add_suite("events", tests);
}
