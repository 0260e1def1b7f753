/*
 * ct_bench.c: what lib/conntrack costs per packet. Fills a flow table,
 * then times bursts of 32 parsed packets of known flows (both directions)
 * through npgw_conntrack_lookup_burst: the cost of the established path.
 * Then times new flows (lookup + commit) into an empty table, and reports
 * the table's memory. Not a test: numbers depend on the machine.
 * Usage: ct_bench [flows [capacity]] (defaults 200000 and 262144).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include "npgw_conntrack.h"
#include "npgw_pkt.h"

#define BURST 32
#define N_PKTS 65536 /* distinct prepared packets, cycled */

static struct npgw_pkt_info infos[N_PKTS];

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* A parsed UDP (or, for odd i, TCP ACK) packet of flow f, in direction
 * dir: what npgw_pkt_parse would give. */
static void make_info(struct npgw_pkt_info *pi, uint32_t f, int dir, int v6)
{
	uint8_t a[16] = {0}, b[16] = {0};

	memset(pi, 0, sizeof(*pi));
	if (v6) {
		a[0] = 0xfd;
		b[0] = 0xfd;
		memcpy(a + 12, &f, 4);
		b[15] = 1;
	} else {
		a[0] = 10;
		a[1] = (uint8_t)(f >> 16);
		a[2] = (uint8_t)(f >> 8);
		a[3] = (uint8_t)f;
		b[0] = 10;
		b[1] = 255;
		b[3] = 1;
	}
	pi->family = v6 ? 6 : 4;
	pi->proto = f & 1 ? 6 : 17;
	pi->tcp_flags = f & 1 ? 0x10 : 0;
	pi->l3_off = 14;
	pi->l3_len = 100;
	pi->l4_off = v6 ? 54 : 34;
	memcpy(pi->src, dir ? b : a, 16);
	memcpy(pi->dst, dir ? a : b, 16);
	pi->sport = dir ? 443 : (uint16_t)(1024 + f % 60000);
	pi->dport = dir ? (uint16_t)(1024 + f % 60000) : 443;
}

/* CPU time of this thread in ns: the machine may be shared, and time
 * spent descheduled is not the library's. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct npgw_conntrack *table(uint32_t capacity, int *err)
{
	struct npgw_conntrack_config cfg;

	npgw_conntrack_config_defaults(&cfg);
	cfg.name = "bench";
	cfg.capacity = capacity;
	cfg.hz = rte_get_tsc_hz();
	cfg.tcp_loose = true; /* so TCP ACK packets make entries too */
	return npgw_conntrack_create(&cfg, err);
}

int main(int argc, char **argv)
{
	char *eal[] = {argv[0], (char[]){"--no-huge"}, (char[]){"-m"}, (char[]){"1024"},
		(char[]){"--no-pci"}, (char[]){"--no-shconf"}, (char[]){"--no-telemetry"},
		(char[]){"--log-level=error"}, (char[]){"-l"}, (char[]){"0"}, NULL};
	uint32_t flows = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 200000;
	uint32_t capacity = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 262144;
	static const struct npgw_ruleset_verdict allow = {.allowed = true};
	struct npgw_conntrack_result res[BURST];
	struct npgw_conntrack *ct;
	uint64_t hz;
	uint64_t t0, cycles, c0, hits = 0, now = 1;
	int err = 0;

	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])) - 1, eal) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		return 1;
	}
	hz = rte_get_tsc_hz();
	if (flows > capacity)
		flows = capacity;
	ct = table(capacity, &err);
	if (ct == NULL) {
		fprintf(stderr, "cannot create the table: %d\n", err);
		return 1;
	}
	printf("table: capacity %u, %zu bytes (%.1f per flow), entry %zu bytes\n", capacity,
	       npgw_conntrack_memory(ct), (double)npgw_conntrack_memory(ct) / capacity,
	       sizeof(struct npgw_conntrack_entry));

	/* new flows: lookup (all miss) + commit, a burst at a time */
	c0 = cpu_ns();
	t0 = rte_rdtsc();
	for (uint32_t f = 0; f < flows; f += BURST) {
		unsigned int n = flows - f < BURST ? flows - f : BURST;

		for (unsigned int i = 0; i < n; i++)
			make_info(&infos[i], f + i, 0, (f + i) & 2);
		npgw_conntrack_lookup_burst(ct, NULL, infos, n, 0, now, 1, res);
		for (unsigned int i = 0; i < n; i++)
			npgw_conntrack_commit(ct, i, now, 1, &allow, &res[i]);
	}
	cycles = rte_rdtsc() - t0;
	printf("new flows:   %u flows, %.1f ns/packet wall, %.1f cpu (lookup miss + insert)\n",
	       flows, (double)cycles * 1e9 / hz / flows, (double)(cpu_ns() - c0) / flows);

	/* known flows, random order, both directions */
	for (uint32_t i = 0; i < N_PKTS; i++) {
		uint32_t f = rnd() % flows;

		make_info(&infos[i], f, rnd() & 1, f & 2);
	}
	const uint64_t rounds = 20000000 / BURST;

	c0 = cpu_ns();
	t0 = rte_rdtsc();
	for (uint64_t r = 0; r < rounds; r++) {
		const struct npgw_pkt_info *b = &infos[(r * BURST) % N_PKTS];

		npgw_conntrack_lookup_burst(ct, NULL, b, BURST, 0, now, 1, res);
		for (unsigned int i = 0; i < BURST; i++)
			hits += res[i].kind == NPGW_CONNTRACK_HIT;
	}
	cycles = rte_rdtsc() - t0;
	printf("known flows: %u flows in the table, %.1f ns/packet wall, %.1f cpu (bulk lookup +"
	       " state update, burst %d), %.1f%% hits\n",
	       flows, (double)cycles * 1e9 / hz / (double)(rounds * BURST),
	       (double)(cpu_ns() - c0) / (double)(rounds * BURST), BURST,
	       100.0 * (double)hits / (double)(rounds * BURST));

	/* the sweep's cost when nothing is due */
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];

	c0 = cpu_ns();
	for (int r = 0; r < 1000000; r++)
		npgw_conntrack_housekeep(ct, now, out);
	printf("housekeep:   %.1f ns/call cpu (default sweep, nothing due)\n",
	       (double)(cpu_ns() - c0) / 1000000);
	npgw_conntrack_free(ct);
	rte_eal_cleanup();
	return 0;
}
