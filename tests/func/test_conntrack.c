/*
 * test_conntrack.c: lib/conntrack's tables under EAL (rte_hash, mbufs):
 * each test builds a table with an injected clock (hz = 1000: `now` in
 * milliseconds), feeds it crafted frames through the per-burst calls the
 * worker makes, and checks the results, the entry and which counter moved.
 * The last tests run a worker lcore against the control thread's flush and
 * snapshot requests, and report the memory of the default capacity.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "ct_frames.h"
#include "cunit_main.h"
#include "npgw_conntrack.h"
#include "npgw_k8s.h"

#define HZ 1000
#define SEC (uint64_t)HZ
#define ZONE 3
#define N_MBUFS 4095

static struct rte_mempool *mp;
static struct npgw_conntrack *ct;
static uint64_t now;
static unsigned int table_seq;

static const struct npgw_ruleset_verdict allow = {.allowed = true, .egress = 5, .ingress = 7};
static const struct npgw_ruleset_verdict deny = {.allowed = false, .egress = 3, .ingress = 0};

/* the burst under test */
static struct rte_mbuf *mb[NPGW_CONNTRACK_MAX_BURST];
static struct npgw_pkt_info info[NPGW_CONNTRACK_MAX_BURST];
static struct npgw_conntrack_result res[NPGW_CONNTRACK_MAX_BURST];
static unsigned int nb;

static void make_table(uint32_t capacity, void (*tweak)(struct npgw_conntrack_config *))
{
	struct npgw_conntrack_config cfg;
	char name[32];
	int err = 0;

	npgw_conntrack_config_defaults(&cfg);
	snprintf(name, sizeof(name), "t%u", table_seq++);
	cfg.name = name;
	cfg.capacity = capacity;
	cfg.hz = HZ;
	cfg.seed = 42;
	if (tweak != NULL)
		tweak(&cfg);
	ct = npgw_conntrack_create(&cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	now = 1000 * SEC; /* not 0: a deadline of 0 means "killed" */
	nb = 0;
}

static void free_burst(void)
{
	for (unsigned int i = 0; i < nb; i++)
		rte_pktmbuf_free(mb[i]);
	nb = 0;
}

static void drop_table(void)
{
	free_burst();
	npgw_conntrack_free(ct);
	ct = NULL;
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), N_MBUFS);
}

static struct rte_mbuf *mk_mbuf(const uint8_t *f, size_t len, struct npgw_pkt_info *pi)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	enum npgw_drop_reason r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), f, len);
	CU_ASSERT_EQUAL_FATAL(npgw_pkt_parse(f, (uint32_t)len, pi, &r), NPGW_PKT_IP);
	return m;
}

/* Start a new burst (the previous one's mbufs are freed). */
static void begin(void)
{
	free_burst();
}

static void add(const uint8_t *f, size_t len)
{
	CU_ASSERT_FATAL(nb < NPGW_CONNTRACK_MAX_BURST);
	mb[nb] = mk_mbuf(f, len, &info[nb]);
	nb++;
}

static unsigned int lookup(uint64_t gen)
{
	return npgw_conntrack_lookup_burst(ct, mb, info, nb, ZONE, now, gen, res);
}

/* One packet alone: lookup, and commit it with v when it misses. Returns
 * the action (PASS for a hit). */
static enum npgw_conntrack_action one(const uint8_t *f, size_t len, uint64_t gen,
				      const struct npgw_ruleset_verdict *v)
{
	begin();
	add(f, len);
	lookup(gen);
	if (res[0].kind == NPGW_CONNTRACK_MISS)
		return npgw_conntrack_commit(ct, 0, now, gen, v, &res[0]);
	if (res[0].kind == NPGW_CONNTRACK_HIT || res[0].kind == NPGW_CONNTRACK_RELATED)
		return NPGW_CONNTRACK_PASS;
	return NPGW_CONNTRACK_DENY;
}

static const struct npgw_conntrack_entry *entry0(void)
{
	return npgw_conntrack_entry(ct, res[0].entry);
}

static struct npgw_conntrack_stats stats(void)
{
	struct npgw_conntrack_stats st;

	npgw_conntrack_get_stats(ct, &st);
	return st;
}

static uint8_t fb[CTF_MAX];

static size_t tcp(const char *s, uint16_t sp, const char *d, uint16_t dp, uint8_t flags)
{
	return ctf_tcp(s, sp, d, dp, flags, fb);
}

static size_t udp(const char *s, uint16_t sp, const char *d, uint16_t dp)
{
	return ctf_udp(s, sp, d, dp, fb);
}

static size_t echo(const char *s, const char *d, uint8_t type, uint16_t id)
{
	struct npgw_addr a;

	npgw_addr_parse(s, &a);
	struct ctf_l4 l = {.proto = a.family == 4 ? NPGW_PROTO_ICMP : NPGW_PROTO_ICMPV6,
			   .type = type, .id = id};

	return ctf_packet(s, d, &l, fb);
}

enum { SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, SYNACK = 0x12, PSH = 0x08 };

static const char *A4 = "10.0.1.1", *B4 = "10.0.1.2", *R4 = "10.9.9.9";
static const char *C4 = "10.0.1.3";
static const char *A6 = "fd00::1:1", *B6 = "fd00::1:2", *R6 = "fd00::99";

/* ---- flows ---- */

static void test_both_directions_find_one_entry(void)
{
	make_table(1024, NULL);
	for (int fam = 4; fam <= 6; fam += 2) {
		const char *a = fam == 4 ? A4 : A6, *b = fam == 4 ? B4 : B6;
		uint32_t e;

		CU_ASSERT_EQUAL(one(fb, tcp(a, 40000, b, 80, SYN), 1, &allow), NPGW_CONNTRACK_PASS);
		CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_CREATED);
		e = res[0].entry;
		CU_ASSERT_EQUAL(one(fb, tcp(b, 80, a, 40000, SYNACK), 1, &deny),
				NPGW_CONNTRACK_PASS);
		CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
		CU_ASSERT_EQUAL(res[0].entry, e);
		CU_ASSERT_EQUAL(res[0].dir, NPGW_CONNTRACK_DIR_REPLY);
		CU_ASSERT_EQUAL(one(fb, tcp(a, 40000, b, 80, ACK), 1, &deny), NPGW_CONNTRACK_PASS);
		CU_ASSERT_EQUAL(res[0].entry, e);
		CU_ASSERT_EQUAL(res[0].dir, NPGW_CONNTRACK_DIR_ORIG);
		CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
		CU_ASSERT_EQUAL(entry0()->pkts[0], 2);
		CU_ASSERT_EQUAL(entry0()->pkts[1], 1);
		CU_ASSERT_EQUAL(entry0()->egress, 5);
		CU_ASSERT_EQUAL(entry0()->ingress, 7);
		/* another port, the other zone-mates: other entries */
		CU_ASSERT_EQUAL(one(fb, udp(b, 80, a, 40000), 1, &allow), NPGW_CONNTRACK_PASS);
		CU_ASSERT(res[0].entry != e);
		CU_ASSERT_EQUAL(one(fb, udp(a, 40000, b, 80), 1, &deny), NPGW_CONNTRACK_PASS);
		CU_ASSERT_EQUAL(res[0].dir, NPGW_CONNTRACK_DIR_REPLY);
	}
	CU_ASSERT_EQUAL(stats().in_use, 4);
	CU_ASSERT_EQUAL(stats().in_use_proto[NPGW_CONNTRACK_P_TCP], 2);
	CU_ASSERT_EQUAL(stats().in_use_proto[NPGW_CONNTRACK_P_UDP], 2);
	drop_table();
}

static void test_zone_separates_flows(void)
{
	make_table(1024, NULL);
	CU_ASSERT_EQUAL(one(fb, udp(A4, 1, B4, 2), 1, &allow), NPGW_CONNTRACK_PASS);
	begin();
	add(fb, udp(B4, 2, A4, 1));
	npgw_conntrack_lookup_burst(ct, mb, info, nb, ZONE + 1, now, 1, res);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	drop_table();
}

static void test_tcp_states_handshake_to_close(void)
{
	make_table(1024, NULL);
	one(fb, tcp(A4, 1000, B4, 22, SYN), 1, &allow);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_NEW);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 30 * SEC);
	one(fb, tcp(A4, 1000, B4, 22, SYN), 1, &allow); /* retransmitted */
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_NEW);
	one(fb, tcp(B4, 22, A4, 1000, SYNACK), 1, &deny);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_SYN_RECV);
	one(fb, tcp(A4, 1000, B4, 22, ACK), 1, &allow);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 86400 * SEC);
	one(fb, tcp(B4, 22, A4, 1000, ACK | PSH), 1, &deny);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	one(fb, tcp(A4, 1000, B4, 22, FIN | ACK), 1, &allow);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSING);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 120 * SEC);
	one(fb, tcp(B4, 22, A4, 1000, ACK), 1, &deny);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSING);
	now += 5 * SEC;
	one(fb, tcp(B4, 22, A4, 1000, FIN | ACK), 1, &deny);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 10 * SEC);
	/* the last ACK passes but does not keep a closed flow alive */
	now += 3 * SEC;
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 22, ACK), 1, &deny), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 7 * SEC);
	drop_table();
}

static void test_tcp_rst_closes_and_a_new_syn_reopens(void)
{
	uint32_t e;

	make_table(1024, NULL);
	one(fb, tcp(A4, 1000, B4, 22, SYN), 1, &allow);
	one(fb, tcp(B4, 22, A4, 1000, SYNACK), 1, &deny);
	one(fb, tcp(A4, 1000, B4, 22, ACK), 1, &allow);
	e = res[0].entry;
	one(fb, tcp(B4, 22, A4, 1000, RST | ACK), 1, &deny);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	/* a new SYN on the same ports is a new connection: classified again */
	begin();
	add(fb, tcp(A4, 1000, B4, 22, SYN));
	lookup(1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	CU_ASSERT_EQUAL(npgw_conntrack_commit(ct, 0, now, 1, &deny, &res[0]), NPGW_CONNTRACK_DENY);
	/* the denied SYN is remembered in the dead entry's slot; under the
	 * next generation, which allows it, the same slot takes the flow */
	CU_ASSERT_EQUAL(stats().denied_in_use, 1);
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 22, SYN), 2, &allow), NPGW_CONNTRACK_PASS);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_CREATED);
	CU_ASSERT_EQUAL(res[0].entry, e); /* the dead entry's slot, reused */
	CU_ASSERT_EQUAL(stats().denied_in_use, 0);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_NEW);
	CU_ASSERT_EQUAL(entry0()->pkts[0], 1);
	CU_ASSERT_EQUAL(stats().in_use, 1);
	CU_ASSERT_EQUAL(stats().inserts, 2);
	drop_table();
}

/* SYN and SYN-ACK in one burst: both miss; the SYN creates the flow, and
 * the SYN-ACK joins it though the reverse direction is denied. */
static void test_syn_and_synack_in_one_burst(void)
{
	make_table(1024, NULL);
	begin();
	add(fb, tcp(A4, 1000, B4, 22, SYN));
	add(fb, tcp(B4, 22, A4, 1000, SYNACK));
	add(fb, tcp(A4, 1000, B4, 22, ACK));
	CU_ASSERT_EQUAL(lookup(1), 3);
	for (unsigned int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(res[i].kind, NPGW_CONNTRACK_MISS);
	CU_ASSERT_EQUAL(npgw_conntrack_commit(ct, 0, now, 1, &allow, &res[0]), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(npgw_conntrack_commit(ct, 1, now, 1, &deny, &res[1]), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[1].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(res[1].dir, NPGW_CONNTRACK_DIR_REPLY);
	CU_ASSERT_EQUAL(npgw_conntrack_commit(ct, 2, now, 1, &allow, &res[2]), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[2].entry, res[0].entry);
	CU_ASSERT_EQUAL(npgw_conntrack_entry(ct, res[0].entry)->state, NPGW_CONNTRACK_ESTABLISHED);
	CU_ASSERT_EQUAL(stats().inserts, 1);
	drop_table();
}

static void loose(struct npgw_conntrack_config *c)
{
	c->tcp_loose = true;
}

/* A mid-stream ACK with no entry is new without SYN: classified; passes
 * without an entry when allowed (strict), or picks the flow up (loose). */
static void test_mid_stream_ack_is_new_without_syn(void)
{
	make_table(1024, NULL);
	begin();
	add(fb, tcp(A4, 1000, B4, 22, ACK | PSH));
	CU_ASSERT_EQUAL(lookup(1), 1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_NO_SYN);
	CU_ASSERT_EQUAL(npgw_conntrack_commit(ct, 0, now, 1, &deny, &res[0]), NPGW_CONNTRACK_DENY);
	/* generation 2 allows it: classified again, passes without an entry */
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 22, ACK), 2, &allow), NPGW_CONNTRACK_PASS);
	CU_ASSERT_FALSE(res[0].flags & NPGW_CONNTRACK_F_CREATED);
	CU_ASSERT_EQUAL(stats().in_use, 0);
	CU_ASSERT_EQUAL(stats().no_syn, 2);
	/* a SYN-ACK or an RST with no entry cannot open a flow either */
	one(fb, tcp(B4, 22, A4, 1000, SYNACK), 1, &allow);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_NO_SYN);
	one(fb, tcp(B4, 22, A4, 1000, RST), 1, &allow);
	CU_ASSERT_EQUAL(stats().in_use, 0);
	drop_table();

	make_table(1024, loose);
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 22, ACK), 1, &allow), NPGW_CONNTRACK_PASS);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_CREATED);
	CU_ASSERT(entry0()->flags & NPGW_CONNTRACK_E_PICKUP);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_NEW);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 30 * SEC);
	one(fb, tcp(B4, 22, A4, 1000, ACK), 1, &deny);
	CU_ASSERT_EQUAL(res[0].dir, NPGW_CONNTRACK_DIR_REPLY);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	/* loose still never opens on RST */
	one(fb, tcp(A4, 5, B4, 6, RST), 1, &allow);
	CU_ASSERT_EQUAL(stats().in_use, 1);
	drop_table();
}

static void test_invalid_tcp_flags_are_dropped(void)
{
	static const uint8_t bad[] = {0, SYN | FIN, SYN | RST, FIN, FIN | PSH | 0x20, SYN | FIN | ACK,
				      RST | FIN};

	make_table(1024, NULL);
	for (size_t i = 0; i < sizeof(bad); i++) {
		begin();
		add(fb, tcp(A4, 1000, B4, 22, bad[i]));
		lookup(1);
		CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DROP);
		CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_TCP_INVALID);
	}
	/* ECE/CWR/PSH do not matter */
	begin();
	add(fb, tcp(A4, 1000, B4, 22, SYN | 0xc0));
	lookup(1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	drop_table();
}

static void test_udp_sctp_icmp_echo_tracked_by_tuple(void)
{
	make_table(1024, NULL);
	one(fb, udp(A4, 5353, B4, 53), 1, &allow);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_NEW);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 30 * SEC);
	one(fb, udp(B4, 53, A4, 5353), 1, &deny);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 120 * SEC);

	struct ctf_l4 s = {.proto = NPGW_PROTO_SCTP, .sport = 3868, .dport = 3868};
	size_t n = ctf_packet(A6, B6, &s, fb);

	one(fb, n, 1, &allow);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 300 * SEC);
	n = ctf_packet(B6, A6, &s, fb);
	one(fb, n, 1, &deny);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);

	for (int fam = 4; fam <= 6; fam += 2) {
		const char *a = fam == 4 ? A4 : A6, *b = fam == 4 ? B4 : B6;
		uint8_t req = fam == 4 ? 8 : 128, rep = fam == 4 ? 0 : 129;

		/* a reply with no request: classified, no entry */
		begin();
		add(fb, echo(b, a, rep, 77));
		lookup(1);
		CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
		CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_NO_SYN);
		CU_ASSERT_EQUAL(npgw_conntrack_commit(ct, 0, now, 1, &allow, &res[0]),
				NPGW_CONNTRACK_PASS);
		CU_ASSERT_FALSE(res[0].flags & NPGW_CONNTRACK_F_CREATED);
		one(fb, echo(a, b, req, 77), 1, &allow);
		CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_CREATED);
		CU_ASSERT_EQUAL(one(fb, echo(b, a, rep, 77), 1, &deny), NPGW_CONNTRACK_PASS);
		CU_ASSERT_EQUAL(res[0].dir, NPGW_CONNTRACK_DIR_REPLY);
		/* another id is another flow */
		begin();
		add(fb, echo(b, a, rep, 78));
		lookup(1);
		CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
		/* router solicitation, timestamp...: untracked */
		begin();
		add(fb, echo(a, b, fam == 4 ? 13 : 133, 1));
		CU_ASSERT_EQUAL(lookup(1), 1);
		CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_UNTRACKED);
	}
	CU_ASSERT_EQUAL(stats().in_use_proto[NPGW_CONNTRACK_P_ICMP], 2);
	CU_ASSERT_EQUAL(stats().in_use_proto[NPGW_CONNTRACK_P_SCTP], 1);
	drop_table();
}

/* ---- time ---- */

static void test_timeouts_with_an_injected_clock(void)
{
	uint64_t t0;

	make_table(1024, NULL);
	t0 = now;
	one(fb, udp(A4, 1, B4, 2), 1, &allow);
	now = t0 + 30 * SEC - 1;
	one(fb, udp(A4, 1, B4, 2), 1, &allow);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT); /* refreshed: deadline t0+60s-1 */
	now = t0 + 60 * SEC - 1;
	begin();
	add(fb, udp(B4, 2, A4, 1));
	lookup(1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS); /* expired at exactly the deadline */

	/* a TCP handshake never finished: 30 s */
	one(fb, tcp(A4, 1000, B4, 22, SYN), 1, &allow);
	now += 30 * SEC;
	begin();
	add(fb, tcp(B4, 22, A4, 1000, SYNACK));
	lookup(1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);

	/* established: a day */
	one(fb, tcp(A4, 1001, B4, 22, SYN), 1, &allow);
	one(fb, tcp(B4, 22, A4, 1001, SYNACK), 1, &allow);
	one(fb, tcp(A4, 1001, B4, 22, ACK), 1, &allow);
	now += 86399 * SEC;
	one(fb, tcp(B4, 22, A4, 1001, ACK), 1, &deny);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	now += 86400 * SEC;
	begin();
	add(fb, tcp(B4, 22, A4, 1001, ACK));
	lookup(1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_NO_SYN);
	drop_table();
}

static void small_sweep(struct npgw_conntrack_config *c)
{
	c->sweep = 64;
	c->denied_capacity = 1024;
}

static void test_expiry_reclaim_is_bounded_per_call(void)
{
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];
	char a[32];
	uint64_t before;
	int calls = 0;

	make_table(1024, small_sweep);
	for (unsigned int i = 0; i < 1000; i++) {
		snprintf(a, sizeof(a), "10.1.%u.%u", i / 250, i % 250 + 1);
		CU_ASSERT_EQUAL(one(fb, udp(a, 1, B4, 2), 1, &allow), NPGW_CONNTRACK_PASS);
	}
	CU_ASSERT_EQUAL(stats().in_use, 1000);
	CU_ASSERT_EQUAL(npgw_conntrack_housekeep(ct, now, out), 0);
	CU_ASSERT_EQUAL(stats().in_use, 1000); /* nothing is due */
	now += 31 * SEC;
	/* the sweep visits every slot: 1024 allowed + 1024 denied */
	while (stats().in_use > 0 && calls <= 2048 / 64 + 1) {
		before = stats().in_use;
		npgw_conntrack_housekeep(ct, now, out);
		CU_ASSERT(before - stats().in_use <= 64);
		calls++;
	}
	CU_ASSERT(calls <= 2048 / 64 + 1);
	CU_ASSERT(calls >= 1000 / 64);
	CU_ASSERT_EQUAL(stats().expired, 1000);
	drop_table();
}

static void test_capacity_plus_one_is_refused_never_evicting(void)
{
	char a[32];
	uint32_t cap = 256;

	make_table(cap, small_sweep);
	for (unsigned int i = 0; i < cap; i++) {
		snprintf(a, sizeof(a), "10.2.%u.%u", i / 200, i % 200 + 1);
		CU_ASSERT_EQUAL(one(fb, tcp(a, 1000, B4, 80, SYN), 1, &allow), NPGW_CONNTRACK_PASS);
	}
	CU_ASSERT_EQUAL(stats().in_use, cap);
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 80, SYN), 1, &allow), NPGW_CONNTRACK_DROP_FULL);
	CU_ASSERT_EQUAL(stats().refused, 1);
	CU_ASSERT_EQUAL(stats().in_use, cap);
	/* a packet the table cannot track but that needs no entry still passes */
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 80, ACK), 1, &allow), NPGW_CONNTRACK_PASS);
	/* every flow is still there */
	for (unsigned int i = 0; i < cap; i++) {
		snprintf(a, sizeof(a), "10.2.%u.%u", i / 200, i % 200 + 1);
		one(fb, tcp(B4, 80, a, 1000, SYNACK), 1, &deny);
		CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	}
	/* once they expire, a commit on the full table reclaims a bounded
	 * number of them itself and succeeds */
	now += 31 * SEC;
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 80, SYN), 1, &allow), NPGW_CONNTRACK_PASS);
	CU_ASSERT(stats().in_use <= cap - 63);
	drop_table();
}

/* ---- denied flows ---- */

/* A denied flow is remembered: its later packets in the same direction and
 * generation are DENIED by the lookup alone; the other direction, and
 * another generation, are classified again. */
static void test_denied_flow_is_decided_by_the_lookup(void)
{
	const struct npgw_conntrack_entry *e;

	make_table(1024, NULL);
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 22, SYN), 1, &deny), NPGW_CONNTRACK_DENY);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_CREATED);
	CU_ASSERT_EQUAL(stats().denied_in_use, 1);
	CU_ASSERT_EQUAL(stats().denied_inserts, 1);
	CU_ASSERT_EQUAL(stats().in_use, 0); /* not an allowed flow */
	/* the retransmitted SYN: no classification needed */
	begin();
	add(fb, tcp(A4, 1000, B4, 22, SYN));
	CU_ASSERT_EQUAL(lookup(1), 0);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DENIED);
	e = entry0();
	CU_ASSERT(e->flags & NPGW_CONNTRACK_E_DENIED);
	CU_ASSERT_EQUAL(e->egress, deny.egress);
	CU_ASSERT_EQUAL(e->ingress, deny.ingress);
	CU_ASSERT_EQUAL(e->pkts[0], 2);
	CU_ASSERT_EQUAL(e->deadline, now + 5 * SEC); /* timeouts.denied */
	CU_ASSERT_EQUAL(stats().denied_hits, 1);
	/* any packet of that direction, flags aside */
	begin();
	add(fb, tcp(A4, 1000, B4, 22, ACK));
	lookup(1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DENIED);
	/* the other direction is another question: classified */
	begin();
	add(fb, tcp(B4, 22, A4, 1000, SYN));
	CU_ASSERT_EQUAL(lookup(1), 1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	free_burst();
	/* a later generation classifies it again, and an allow takes the slot */
	begin();
	add(fb, tcp(A4, 1000, B4, 22, SYN));
	CU_ASSERT_EQUAL(lookup(2), 1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	CU_ASSERT_EQUAL(npgw_conntrack_commit(ct, 0, now, 2, &allow, &res[0]), NPGW_CONNTRACK_PASS);
	CU_ASSERT_FALSE(entry0()->flags & NPGW_CONNTRACK_E_DENIED);
	CU_ASSERT_EQUAL(stats().denied_in_use, 0);
	CU_ASSERT_EQUAL(stats().in_use, 1);
	/* an ICMP error never relates to a denied flow */
	drop_table();

	/* idle past timeouts.denied: forgotten, classified again */
	make_table(1024, NULL);
	one(fb, udp(A4, 5, B4, 53), 1, &deny);
	now += 6 * SEC;
	begin();
	add(fb, udp(A4, 5, B4, 53));
	CU_ASSERT_EQUAL(lookup(1), 1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	free_burst();
	drop_table();
}

static void tiny_denied(struct npgw_conntrack_config *c)
{
	c->denied_capacity = 16;
}

static void mid_denied(struct npgw_conntrack_config *c)
{
	c->denied_capacity = 256;
}

static void denied_syn(unsigned int i, uint16_t dport)
{
	char a[32];

	snprintf(a, sizeof(a), "10.%u.%u.%u", 64 + i / 65536, i / 256 % 256, i % 256);
	CU_ASSERT_EQUAL(one(fb, tcp(a, 2000, B4, dport, SYN), 1, &deny), NPGW_CONNTRACK_DENY);
}

/* Admission: a flood of never-repeating denied flows into the full denied
 * space is remembered 1 in 16 (the rest skipped, dropped all the same);
 * flows that do repeat get in and switch the sampling off again. Allowed
 * flows are untouched throughout. */
static void test_denied_admission_under_flood(void)
{
	char a[32];
	const uint32_t cap = 64, dcap = 256;
	unsigned int flood = 0;
	struct npgw_conntrack_stats st;
	uint64_t skipped;

	make_table(cap, mid_denied);
	for (unsigned int i = 0; i < cap; i++) {
		snprintf(a, sizeof(a), "10.4.0.%u", i + 1);
		CU_ASSERT_EQUAL(one(fb, tcp(a, 1000, B4, 80, SYN), 1, &allow), NPGW_CONNTRACK_PASS);
	}
	/* fill the denied space: every one remembered */
	while (flood < dcap)
		denied_syn(flood++, 81);
	st = stats();
	CU_ASSERT_EQUAL(st.denied_inserts, dcap);
	CU_ASSERT_EQUAL(st.denied_skipped, 0);
	/* one window of evicting inserts with no hits: still all remembered */
	for (unsigned int i = 0; i < 1023; i++)
		denied_syn(flood++, 81);
	CU_ASSERT_EQUAL(stats().denied_skipped, 0);
	CU_ASSERT_EQUAL(stats().denied_inserts, dcap + 1023);
	/* from the window's end on, 1 in 16 */
	for (unsigned int i = 0; i < 1 + 4096; i++)
		denied_syn(flood++, 81);
	st = stats();
	CU_ASSERT(st.denied_skipped >= 4097 - 4097 / 16 - 1 && st.denied_skipped <= 4097 - 4097 / 16 + 1);
	CU_ASSERT_EQUAL(st.denied_inserts + st.denied_skipped, flood);
	CU_ASSERT_EQUAL(st.denied_in_use, dcap);
	CU_ASSERT_EQUAL(st.in_use, cap);
	CU_ASSERT_EQUAL(st.refused, 0);

	/* a working set of 32 denied flows that keep coming back: each gets
	 * in after a few packets, and their hits end the sampling */
	for (unsigned int round = 0; round < 200; round++)
		for (unsigned int w = 0; w < 32; w++)
			denied_syn(1000000 + w, 82);
	for (unsigned int w = 0; w < 32; w++) {
		denied_syn(1000000 + w, 82);
		CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DENIED);
	}
	CU_ASSERT(stats().denied_hits > 32 * 100);
	/* sampling off: new denied flows are all remembered again */
	skipped = stats().denied_skipped;
	for (unsigned int i = 0; i < 8; i++)
		denied_syn(flood++, 81);
	CU_ASSERT_EQUAL(stats().denied_skipped, skipped);

	/* every allowed flow is still there */
	for (unsigned int i = 0; i < cap; i++) {
		snprintf(a, sizeof(a), "10.4.0.%u", i + 1);
		one(fb, tcp(B4, 80, a, 1000, SYNACK), 1, &deny);
		CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	}
	CU_ASSERT_EQUAL(stats().denied_evicted + stats().denied_in_use, stats().denied_inserts);
	drop_table();
}

/* A flood of denied new flows stays in its own space: the oldest denied
 * entries are evicted, allowed flows are neither evicted nor refused. */
static void test_denied_flood_never_touches_allowed_flows(void)
{
	char a[32];
	const uint32_t cap = 64;

	make_table(cap, tiny_denied);
	for (unsigned int i = 0; i < cap; i++) {
		snprintf(a, sizeof(a), "10.4.0.%u", i + 1);
		CU_ASSERT_EQUAL(one(fb, tcp(a, 1000, B4, 80, SYN), 1, &allow), NPGW_CONNTRACK_PASS);
	}
	for (unsigned int i = 0; i < 1000; i++) {
		snprintf(a, sizeof(a), "10.5.%u.%u", i / 200, i % 200 + 1);
		CU_ASSERT_EQUAL(one(fb, tcp(a, 2000, B4, 81, SYN), 1, &deny), NPGW_CONNTRACK_DENY);
	}
	CU_ASSERT_EQUAL(stats().denied_in_use, 16);
	CU_ASSERT_EQUAL(stats().denied_inserts, 1000);
	CU_ASSERT_EQUAL(stats().denied_evicted, 1000 - 16);
	CU_ASSERT_EQUAL(stats().in_use, cap);
	CU_ASSERT_EQUAL(stats().refused, 0);
	/* every allowed flow is still there */
	for (unsigned int i = 0; i < cap; i++) {
		snprintf(a, sizeof(a), "10.4.0.%u", i + 1);
		one(fb, tcp(B4, 80, a, 1000, SYNACK), 1, &deny);
		CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	}
	/* the newest denied flows are remembered, the oldest are not */
	begin();
	add(fb, tcp("10.5.4.200", 2000, B4, 81, SYN));
	add(fb, tcp("10.5.0.1", 2000, B4, 81, SYN));
	CU_ASSERT_EQUAL(lookup(1), 1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DENIED);
	CU_ASSERT_EQUAL(res[1].kind, NPGW_CONNTRACK_MISS);
	free_burst();
	drop_table();

	/* denied_capacity 0: nothing remembered, every packet classified */
	make_table(64, NULL);
	npgw_conntrack_free(ct);
	{
		struct npgw_conntrack_config cfg;
		int err = 0;

		npgw_conntrack_config_defaults(&cfg);
		cfg.name = "nodeny";
		cfg.capacity = 64;
		cfg.denied_capacity = 0;
		cfg.hz = HZ;
		ct = npgw_conntrack_create(&cfg, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	}
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 22, SYN), 1, &deny), NPGW_CONNTRACK_DENY);
	CU_ASSERT_EQUAL(one(fb, tcp(A4, 1000, B4, 22, SYN), 1, &deny), NPGW_CONNTRACK_DENY);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	CU_ASSERT_EQUAL(stats().denied_in_use, 0);
	drop_table();
}

/* ---- generations and revocation ---- */

static void test_generation_recheck(void)
{
	struct npgw_ruleset_tuple t;
	struct npgw_addr a, b;

	make_table(1024, NULL);
	one(fb, tcp(A4, 40000, B4, 80, SYN), 1, &allow);
	one(fb, tcp(B4, 80, A4, 40000, SYNACK), 1, &deny);
	CU_ASSERT_FALSE(res[0].flags & NPGW_CONNTRACK_F_STALE);
	/* generation 2 is live: the reply packet must recheck the flow */
	begin();
	add(fb, tcp(B4, 80, A4, 40000, ACK));
	CU_ASSERT_EQUAL(lookup(2), 1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_STALE);
	npgw_conntrack_orig_tuple(ct, 0, &res[0], &t);
	npgw_addr_parse(A4, &a);
	npgw_addr_parse(B4, &b);
	CU_ASSERT_EQUAL(memcmp(t.src, a.bytes, 4), 0); /* the opener, not the packet's source */
	CU_ASSERT_EQUAL(memcmp(t.dst, b.bytes, 4), 0);
	CU_ASSERT_EQUAL(t.dport, 80);
	CU_ASSERT_EQUAL(t.proto, NPGW_PROTO_TCP);
	CU_ASSERT_EQUAL(t.family, 4);
	struct npgw_ruleset_verdict v2 = {.allowed = true, .egress = 9, .ingress = 10};

	CU_ASSERT_EQUAL(npgw_conntrack_recheck(ct, 0, 2, &v2, NPGW_CONNTRACK_REVOKE_DROP, &res[0]),
			NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->generation, 2);
	CU_ASSERT_EQUAL(entry0()->egress, 9);
	begin();
	add(fb, tcp(A4, 40000, B4, 80, ACK));
	CU_ASSERT_EQUAL(lookup(2), 0);
	CU_ASSERT_FALSE(res[0].flags & NPGW_CONNTRACK_F_STALE);
	/* a miss's tuple is the packet's own */
	begin();
	add(fb, udp(B4, 7, A4, 9));
	lookup(2);
	npgw_conntrack_orig_tuple(ct, 0, &res[0], &t);
	CU_ASSERT_EQUAL(memcmp(t.src, b.bytes, 4), 0);
	CU_ASSERT_EQUAL(t.dport, 9);
	drop_table();
}

/* An established TCP flow A->B:80 and a UDP flow, then generation 2
 * denies both; mode decides. */
static void establish_pair(void)
{
	one(fb, tcp(A4, 40000, B4, 80, SYN), 1, &allow);
	one(fb, tcp(B4, 80, A4, 40000, SYNACK), 1, &deny);
	one(fb, tcp(A4, 40000, B4, 80, ACK), 1, &allow);
	one(fb, tcp(A6, 40001, B6, 80, SYN), 1, &allow); /* still in its handshake */
	one(fb, udp(A4, 53, B4, 53), 1, &allow);
	one(fb, udp(B4, 53, A4, 53), 1, &allow);
}

static enum npgw_conntrack_action revoke_one(size_t len, enum npgw_conntrack_revoke mode)
{
	begin();
	add(fb, len);
	lookup(2);
	CU_ASSERT_FATAL(res[0].flags & NPGW_CONNTRACK_F_STALE);
	return npgw_conntrack_recheck(ct, 0, 2, &deny, mode, &res[0]);
}

static void test_revoke_modes(void)
{
	struct rte_mbuf *rst[2];

	/* drop: the flow stops; its next packet is new again */
	make_table(1024, NULL);
	establish_pair();
	CU_ASSERT_EQUAL(revoke_one(tcp(B4, 80, A4, 40000, ACK), NPGW_CONNTRACK_REVOKE_DROP),
			NPGW_CONNTRACK_DROP_REVOKED);
	begin();
	add(fb, tcp(B4, 80, A4, 40000, ACK));
	lookup(2);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_MISS);
	CU_ASSERT_EQUAL(stats().revoked, 1);
	drop_table();

	/* keep: established flows live on and are not rechecked again; one in
	 * its handshake stops */
	make_table(1024, NULL);
	establish_pair();
	CU_ASSERT_EQUAL(revoke_one(tcp(B4, 80, A4, 40000, ACK), NPGW_CONNTRACK_REVOKE_KEEP),
			NPGW_CONNTRACK_PASS);
	CU_ASSERT(entry0()->flags & NPGW_CONNTRACK_E_KEPT);
	begin();
	add(fb, tcp(A4, 40000, B4, 80, ACK));
	CU_ASSERT_EQUAL(lookup(2), 0);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(revoke_one(udp(B4, 53, A4, 53), NPGW_CONNTRACK_REVOKE_KEEP),
			NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(revoke_one(tcp(A6, 40001, B6, 80, SYN), NPGW_CONNTRACK_REVOKE_KEEP),
			NPGW_CONNTRACK_DROP_REVOKED);
	CU_ASSERT_EQUAL(stats().kept, 2);
	CU_ASSERT_EQUAL(stats().revoked, 3);
	drop_table();

	/* reset: TCP gets RSTs toward both ends; UDP drops */
	make_table(1024, NULL);
	establish_pair();
	CU_ASSERT_EQUAL(revoke_one(tcp(B4, 80, A4, 40000, ACK), NPGW_CONNTRACK_REVOKE_RESET),
			NPGW_CONNTRACK_RESET);
	CU_ASSERT_EQUAL(npgw_conntrack_rst_mbufs(mp, mb[0], &info[0], rst), 2);
	for (int k = 0; k < 2; k++) {
		const uint8_t *p = rte_pktmbuf_mtod(rst[k], const uint8_t *);

		CU_ASSERT_EQUAL(rte_pktmbuf_data_len(rst[k]), 60);
		CU_ASSERT_EQUAL(p[14 + 20 + 13] & RST, RST);
		/* toward the sender (B) the destination is B */
		CU_ASSERT_EQUAL(memcmp(p + 14 + 16, k == 0 ? info[0].src : info[0].dst, 4), 0);
		rte_pktmbuf_free(rst[k]);
	}
	CU_ASSERT_EQUAL(revoke_one(udp(B4, 53, A4, 53), NPGW_CONNTRACK_REVOKE_RESET),
			NPGW_CONNTRACK_DROP_REVOKED);
	drop_table();
}

/* Two packets of a revoked flow in one burst: one revocation. */
static void test_revoke_twice_in_one_burst(void)
{
	make_table(1024, NULL);
	establish_pair();
	begin();
	add(fb, tcp(B4, 80, A4, 40000, ACK));
	add(fb, tcp(A4, 40000, B4, 80, ACK));
	CU_ASSERT_EQUAL(lookup(2), 2);
	CU_ASSERT_EQUAL(npgw_conntrack_recheck(ct, 0, 2, &deny, NPGW_CONNTRACK_REVOKE_DROP, &res[0]),
			NPGW_CONNTRACK_DROP_REVOKED);
	CU_ASSERT_EQUAL(npgw_conntrack_recheck(ct, 1, 2, &deny, NPGW_CONNTRACK_REVOKE_DROP, &res[1]),
			NPGW_CONNTRACK_DROP_REVOKED);
	CU_ASSERT_EQUAL(stats().revoked, 1);
	drop_table();
}

/* ---- related ICMP ---- */

static void related_case(int fam)
{
	const char *a = fam == 4 ? A4 : A6, *b = fam == 4 ? B4 : B6, *r = fam == 4 ? R4 : R6;
	uint8_t orig[CTF_MAX], e[CTF_MAX];
	size_t ol, el;
	uint32_t flow;
	uint8_t too_big = fam == 4 ? 3 : 2, code = fam == 4 ? 4 : 0;

	make_table(1024, NULL);
	ol = ctf_tcp(a, 40000, b, 443, SYN, orig);
	one(orig, ol, 1, &allow);
	flow = res[0].entry;
	ol = ctf_tcp(a, 40000, b, 443, ACK | PSH, orig);
	/* a router on the path: fragmentation needed / packet too big, to a */
	el = ctf_icmp_error(r, a, too_big, code, orig, ol, 500, e);
	begin();
	add(e, el);
	CU_ASSERT_EQUAL(lookup(1), 0);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_RELATED);
	CU_ASSERT_EQUAL(res[0].entry, flow);
	CU_ASSERT_EQUAL(res[0].dir, NPGW_CONNTRACK_DIR_REPLY);
	CU_ASSERT_EQUAL(npgw_conntrack_entry(ct, flow)->pkts[1], 0); /* not accounted to it */
	/* b's own port unreachable about a reply it got: toward b */
	ol = ctf_tcp(b, 443, a, 40000, ACK, orig);
	el = ctf_icmp_error(a, b, fam == 4 ? 3 : 1, fam == 4 ? 3 : 4, orig, ol, 48, e);
	begin();
	add(e, el);
	lookup(1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_RELATED);
	CU_ASSERT_EQUAL(res[0].dir, NPGW_CONNTRACK_DIR_ORIG);
	/* stale: the flow is rechecked in its original direction */
	begin();
	add(e, el);
	CU_ASSERT_EQUAL(lookup(2), 1);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_STALE);
	struct npgw_ruleset_tuple t;
	struct npgw_addr aa;

	npgw_conntrack_orig_tuple(ct, 0, &res[0], &t);
	npgw_addr_parse(a, &aa);
	CU_ASSERT_EQUAL(memcmp(t.src, aa.bytes, fam == 4 ? 4 : 16), 0);
	CU_ASSERT_EQUAL(t.dport, 443);
	CU_ASSERT_EQUAL(t.proto, NPGW_PROTO_TCP);
	CU_ASSERT_EQUAL(npgw_conntrack_recheck(ct, 0, 2, &deny, NPGW_CONNTRACK_REVOKE_RESET, &res[0]),
			NPGW_CONNTRACK_DROP_REVOKED); /* no RST for an ICMP error */
	/* unrelated: a flow nobody opened; and a truncated quote */
	ol = ctf_tcp(a, 40001, b, 443, ACK, orig);
	el = ctf_icmp_error(r, a, too_big, code, orig, ol, 500, e);
	begin();
	add(e, el);
	lookup(1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DROP);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_ICMP_UNRELATED);
	el = ctf_icmp_error(r, a, too_big, code, orig, ol, fam == 4 ? 24 : 44, e);
	begin();
	add(e, el);
	lookup(1);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DROP);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_ICMP_UNRELATED);
	/* without the frames (pkts NULL) every error is unrelated */
	npgw_conntrack_lookup_burst(ct, NULL, info, nb, ZONE, now, 1, res);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_ICMP_UNRELATED);
	CU_ASSERT_EQUAL(stats().related, 3);
	drop_table();
}

static void test_related_icmp_v4(void)
{
	related_case(4);
}

static void test_related_icmp_v6(void)
{
	related_case(6);
}

/* ---- fragments ---- */

static uint8_t dgram[65536 + 64];
static uint8_t dgram_payload[4096];

/* Fragment [off, off+len) of the UDP datagram in dgram (its bytes from the
 * UDP header on), as a frame. */
static struct rte_mbuf *frag(int fam, uint32_t id, uint16_t off, size_t len, bool mf,
			     struct npgw_pkt_info *pi)
{
	uint8_t f[CTF_MAX];
	struct ctf_ip o = {.src = fam == 4 ? A4 : A6, .dst = fam == 4 ? B4 : B6,
			   .proto = NPGW_PROTO_UDP, .frag = true, .frag_id = id,
			   .frag_off = off, .mf = mf};
	size_t n = ctf_wrap(&o, dgram + off, len, f);

	return mk_mbuf(f, n, pi);
}

static void make_dgram(size_t payload)
{
	struct ctf_l4 u = {.proto = NPGW_PROTO_UDP, .sport = 5000, .dport = 53,
			   .payload = dgram_payload, .plen = payload};

	memset(dgram_payload, 0x33, payload);
	ctf_l4_build(&u, dgram);
}

struct fx {
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];
	unsigned int n_out;
	uint8_t reason;
};

static enum npgw_conntrack_frag_verdict first(struct fx *x, struct rte_mbuf *m,
					      const struct npgw_pkt_info *pi, bool allowed)
{
	enum npgw_conntrack_frag_verdict v = npgw_conntrack_frag_first(
		ct, m, pi, ZONE, now, allowed, NPGW_DROP_POLICY_INGRESS, &x->reason, x->out,
		&x->n_out);

	rte_pktmbuf_free(m);
	return v;
}

static enum npgw_conntrack_frag_verdict later(struct fx *x, struct rte_mbuf *m,
					      const struct npgw_pkt_info *pi)
{
	enum npgw_conntrack_frag_verdict v =
		npgw_conntrack_frag_later(ct, m, pi, ZONE, 11, now, &x->reason, x->out, &x->n_out);

	if (v != NPGW_CONNTRACK_FRAG_HELD)
		rte_pktmbuf_free(m);
	return v;
}

static void free_out(struct fx *x)
{
	for (unsigned int i = 0; i < x->n_out; i++)
		rte_pktmbuf_free(x->out[i].m);
	x->n_out = 0;
}

static void test_fragments_in_order(void)
{
	struct npgw_pkt_info pi;
	struct fx x;

	make_table(1024, NULL);
	make_dgram(3000); /* 3008 bytes of UDP */
	for (int fam = 4; fam <= 6; fam += 2) {
		const uint64_t in_use = stats().frag_in_use, held = stats().frag_held;
		struct rte_mbuf *m = frag(fam, 100, 0, 1480, true, &pi);

		CU_ASSERT_TRUE(pi.is_first_fragment);
		CU_ASSERT_EQUAL(pi.dport, 53);
		CU_ASSERT_EQUAL(first(&x, m, &pi, true), NPGW_CONNTRACK_FRAG_PASS);
		CU_ASSERT_EQUAL(x.n_out, 0);
		CU_ASSERT_EQUAL(stats().frag_in_use, in_use + 1);
		m = frag(fam, 100, 1480, 1480, true, &pi);
		CU_ASSERT_EQUAL(later(&x, m, &pi), NPGW_CONNTRACK_FRAG_PASS);
		m = frag(fam, 100, 2960, 48, false, &pi);
		CU_ASSERT_EQUAL(later(&x, m, &pi), NPGW_CONNTRACK_FRAG_PASS);
		/* complete: the record is gone at once */
		CU_ASSERT_EQUAL(stats().frag_in_use, in_use);
		/* another datagram id was never seen */
		m = frag(fam, 101, 1480, 1480, true, &pi);
		CU_ASSERT_EQUAL(later(&x, m, &pi), NPGW_CONNTRACK_FRAG_HELD);
		CU_ASSERT_EQUAL(stats().frag_held, held + 1);
	}
	CU_ASSERT_EQUAL(stats().frag_passed, 6);
	drop_table(); /* frees the held ones */
}

static void test_fragments_out_of_order_are_held_then_released(void)
{
	struct npgw_pkt_info pi;
	struct rte_mbuf *m2, *m3;
	struct fx x;

	make_table(1024, NULL);
	make_dgram(3000);
	for (int fam = 4; fam <= 6; fam += 2) {
		m3 = frag(fam, 7, 2960, 48, false, &pi);
		CU_ASSERT_EQUAL(later(&x, m3, &pi), NPGW_CONNTRACK_FRAG_HELD);
		m2 = frag(fam, 7, 1480, 1480, true, &pi);
		CU_ASSERT_EQUAL(later(&x, m2, &pi), NPGW_CONNTRACK_FRAG_HELD);
		CU_ASSERT_EQUAL(stats().frag_held, 2);
		CU_ASSERT_EQUAL(first(&x, frag(fam, 7, 0, 1480, true, &pi), &pi, true),
				NPGW_CONNTRACK_FRAG_PASS);
		CU_ASSERT_EQUAL_FATAL(x.n_out, 2);
		CU_ASSERT_PTR_EQUAL(x.out[0].m, m3); /* in arrival order */
		CU_ASSERT_PTR_EQUAL(x.out[1].m, m2);
		CU_ASSERT_EQUAL(x.out[0].reason, NPGW_DROP_NONE);
		CU_ASSERT_EQUAL(x.out[1].cookie, 11);
		free_out(&x);
		CU_ASSERT_EQUAL(stats().frag_held, 0);
		CU_ASSERT_EQUAL(stats().frag_in_use, 0); /* complete */
	}
	drop_table();
}

static void no_hold(struct npgw_conntrack_config *c)
{
	c->frag_hold = 0;
}

static void test_fragments_out_of_order_dropped_when_hold_is_off(void)
{
	struct npgw_pkt_info pi;
	struct fx x;

	make_table(1024, no_hold);
	make_dgram(3000);
	for (int fam = 4; fam <= 6; fam += 2) {
		CU_ASSERT_EQUAL(later(&x, frag(fam, 7, 1480, 1480, true, &pi), &pi),
				NPGW_CONNTRACK_FRAG_DROP);
		CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_UNTRACKED);
		CU_ASSERT_EQUAL(first(&x, frag(fam, 7, 0, 1480, true, &pi), &pi, true),
				NPGW_CONNTRACK_FRAG_PASS);
		CU_ASSERT_EQUAL(later(&x, frag(fam, 7, 2960, 48, false, &pi), &pi),
				NPGW_CONNTRACK_FRAG_PASS);
	}
	drop_table();
}

static void test_fragments_follow_a_denied_first(void)
{
	struct npgw_pkt_info pi;
	struct fx x;

	make_table(1024, NULL);
	make_dgram(3000);
	CU_ASSERT_EQUAL(later(&x, frag(4, 9, 2960, 48, false, &pi), &pi), NPGW_CONNTRACK_FRAG_HELD);
	CU_ASSERT_EQUAL(first(&x, frag(4, 9, 0, 1480, true, &pi), &pi, false),
			NPGW_CONNTRACK_FRAG_DROP);
	CU_ASSERT_EQUAL(x.reason, NPGW_DROP_POLICY_INGRESS);
	CU_ASSERT_EQUAL_FATAL(x.n_out, 1);
	CU_ASSERT_EQUAL(x.out[0].reason, NPGW_DROP_POLICY_INGRESS);
	free_out(&x);
	CU_ASSERT_EQUAL(later(&x, frag(4, 9, 1480, 1480, true, &pi), &pi), NPGW_CONNTRACK_FRAG_DROP);
	CU_ASSERT_EQUAL(x.reason, NPGW_DROP_POLICY_INGRESS);
	drop_table();
}

static void test_overlapping_fragments_poison_the_datagram(void)
{
	struct npgw_pkt_info pi;
	struct fx x;

	make_table(1024, NULL);
	make_dgram(3000);
	for (int fam = 4; fam <= 6; fam += 2) {
		/* the classic: offset 8 rewrites the ports the first showed */
		CU_ASSERT_EQUAL(first(&x, frag(fam, 1, 0, 1480, true, &pi), &pi, true),
				NPGW_CONNTRACK_FRAG_PASS);
		CU_ASSERT_EQUAL(later(&x, frag(fam, 1, 8, 64, true, &pi), &pi),
				NPGW_CONNTRACK_FRAG_DROP);
		CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_OVERLAP);
		/* and everything after it */
		CU_ASSERT_EQUAL(later(&x, frag(fam, 1, 1480, 1480, true, &pi), &pi),
				NPGW_CONNTRACK_FRAG_DROP);
		CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_OVERLAP);

		/* the overlap sent first, held; the first then overlaps it */
		CU_ASSERT_EQUAL(later(&x, frag(fam, 2, 8, 64, true, &pi), &pi),
				NPGW_CONNTRACK_FRAG_HELD);
		CU_ASSERT_EQUAL(first(&x, frag(fam, 2, 0, 1480, true, &pi), &pi, true),
				NPGW_CONNTRACK_FRAG_DROP);
		CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_OVERLAP);
		CU_ASSERT_EQUAL_FATAL(x.n_out, 1);
		CU_ASSERT_EQUAL(x.out[0].reason, NPGW_DROP_FRAG_OVERLAP);
		free_out(&x);

		/* two later fragments overlapping each other */
		CU_ASSERT_EQUAL(later(&x, frag(fam, 3, 1480, 800, true, &pi), &pi),
				NPGW_CONNTRACK_FRAG_HELD);
		CU_ASSERT_EQUAL(later(&x, frag(fam, 3, 2000, 1008, false, &pi), &pi),
				NPGW_CONNTRACK_FRAG_DROP);
		CU_ASSERT_EQUAL(x.n_out, 1);
		free_out(&x);
		/* an exact duplicate */
		CU_ASSERT_EQUAL(first(&x, frag(fam, 4, 0, 1480, true, &pi), &pi, true),
				NPGW_CONNTRACK_FRAG_PASS);
		CU_ASSERT_EQUAL(first(&x, frag(fam, 4, 0, 1480, true, &pi), &pi, true),
				NPGW_CONNTRACK_FRAG_DROP);
		CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_OVERLAP);
	}
	CU_ASSERT_EQUAL(stats().frag_overlaps, 8);
	drop_table();
}

static void test_invalid_fragments(void)
{
	struct npgw_pkt_info pi;
	struct fx x;

	make_table(1024, NULL);
	make_dgram(3000);
	for (int fam = 4; fam <= 6; fam += 2) {
		/* a middle fragment not a multiple of 8 */
		CU_ASSERT_EQUAL(first(&x, frag(fam, 1, 0, 1480, true, &pi), &pi, true),
				NPGW_CONNTRACK_FRAG_PASS);
		CU_ASSERT_EQUAL(later(&x, frag(fam, 1, 1480, 1001, true, &pi), &pi),
				NPGW_CONNTRACK_FRAG_DROP);
		CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_INVALID);
		/* two different ends */
		CU_ASSERT_EQUAL(later(&x, frag(fam, 2, 2960, 48, false, &pi), &pi),
				NPGW_CONNTRACK_FRAG_HELD);
		CU_ASSERT_EQUAL(later(&x, frag(fam, 2, 1480, 40, false, &pi), &pi),
				NPGW_CONNTRACK_FRAG_DROP);
		CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_INVALID);
		CU_ASSERT_EQUAL(x.n_out, 1);
		free_out(&x);
	}
	/* past 65535 (ping of death) */
	CU_ASSERT_EQUAL(later(&x, frag(4, 3, 65528, 16, false, &pi), &pi), NPGW_CONNTRACK_FRAG_DROP);
	CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_INVALID);
	drop_table();
}

/* A tiny first fragment is the parser's FRAG_TINY; the later fragments
 * of its datagram never get a verdict: held, then dropped as timeouts. */
static void test_tiny_first_fragment_and_timeout(void)
{
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];
	struct npgw_pkt_info pi;
	uint8_t f[CTF_MAX];
	enum npgw_drop_reason r;
	struct fx x;
	unsigned int n = 0;

	make_table(1024, NULL);
	for (int fam = 4; fam <= 6; fam += 2) {
		struct ctf_ip o = {.src = fam == 4 ? A4 : A6, .dst = fam == 4 ? B4 : B6,
				   .proto = NPGW_PROTO_TCP, .frag = true, .frag_id = 5, .mf = true};
		struct ctf_l4 t = {.proto = NPGW_PROTO_TCP, .sport = 1, .dport = 22, .flags = SYN};
		uint8_t seg[64];

		ctf_l4_build(&t, seg);
		size_t len = ctf_wrap(&o, seg, 8, f); /* 8 bytes of a 20-byte header */

		CU_ASSERT_EQUAL(npgw_pkt_parse(f, (uint32_t)len, &pi, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_FRAG_TINY);
		o.frag_off = 8;
		o.mf = false;
		len = ctf_wrap(&o, seg + 8, 12, f);
		CU_ASSERT_EQUAL(later(&x, mk_mbuf(f, len, &pi), &pi), NPGW_CONNTRACK_FRAG_HELD);
	}
	CU_ASSERT_EQUAL(stats().frag_held, 2);
	now += 2 * SEC;
	for (int i = 0; i < 1024 / 8 + 1; i++) {
		unsigned int k = npgw_conntrack_housekeep(ct, now, out);

		for (unsigned int j = 0; j < k; j++) {
			CU_ASSERT_EQUAL(out[j].reason, NPGW_DROP_FRAG_TIMEOUT);
			rte_pktmbuf_free(out[j].m);
		}
		n += k;
	}
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(stats().frag_timeouts, 2);
	CU_ASSERT_EQUAL(stats().frag_in_use, 0);
	drop_table();
}

static void tiny_frag_table(struct npgw_conntrack_config *c)
{
	c->frag_capacity = 8; /* one bucket */
	c->frag_hold = 64;
}

static void test_fragment_floods(void)
{
	struct npgw_pkt_info pi;
	struct fx x;

	make_table(1024, tiny_frag_table);
	make_dgram(3000);
	for (uint32_t id = 0; id < 8; id++)
		CU_ASSERT_EQUAL(later(&x, frag(id & 1 ? 4 : 6, id, 1480, 8, true, &pi), &pi),
				NPGW_CONNTRACK_FRAG_HELD);
	CU_ASSERT_EQUAL(later(&x, frag(4, 99, 1480, 8, true, &pi), &pi), NPGW_CONNTRACK_FRAG_DROP);
	CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_FLOOD);
	CU_ASSERT_EQUAL(first(&x, frag(4, 99, 0, 1480, true, &pi), &pi, true),
			NPGW_CONNTRACK_FRAG_DROP);
	CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_FLOOD);
	/* when they expire, the bucket takes new datagrams again, handing
	 * back the expired one's held fragment */
	now += 2 * SEC;
	CU_ASSERT_EQUAL(first(&x, frag(4, 99, 0, 1480, true, &pi), &pi, true),
			NPGW_CONNTRACK_FRAG_PASS);
	CU_ASSERT_EQUAL(x.n_out, 1);
	CU_ASSERT_EQUAL(x.out[0].reason, NPGW_DROP_FRAG_TIMEOUT);
	free_out(&x);
	drop_table();

	/* more than NPGW_CONNTRACK_FRAG_MAX_HELD held for one datagram */
	make_table(1024, NULL);
	for (uint16_t k = 0; k < NPGW_CONNTRACK_FRAG_MAX_HELD; k++)
		CU_ASSERT_EQUAL(later(&x, frag(6, 1, (uint16_t)(8 + 16 * k), 8, true, &pi), &pi),
				NPGW_CONNTRACK_FRAG_HELD);
	CU_ASSERT_EQUAL(later(&x, frag(6, 1, 2000, 8, true, &pi), &pi), NPGW_CONNTRACK_FRAG_DROP);
	CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_FLOOD);
	/* and more disjoint ranges than tracked: the datagram is poisoned */
	CU_ASSERT_EQUAL(first(&x, frag(4, 3, 0, 8, true, &pi), &pi, true), NPGW_CONNTRACK_FRAG_PASS);
	for (uint16_t k = 1; k < 12; k++) {
		enum npgw_conntrack_frag_verdict v =
			later(&x, frag(4, 3, (uint16_t)(16 * k), 8, true, &pi), &pi);

		if (k < NPGW_CONNTRACK_FRAG_MAX_RANGES) {
			CU_ASSERT_EQUAL(v, NPGW_CONNTRACK_FRAG_PASS);
		} else {
			CU_ASSERT_EQUAL(v, NPGW_CONNTRACK_FRAG_DROP);
			CU_ASSERT_EQUAL(x.reason, NPGW_DROP_FRAG_FLOOD);
		}
	}
	CU_ASSERT(stats().frag_floods >= 2);
	drop_table();
}

/* ---- the worker's loop, worked example ----
 *
 * mini_burst is the per-burst algorithm of README.md, written out as the
 * data plane would run it (minus ports and tx), over a real generation:
 * it returns, per packet, NPGW_DROP_NONE (forward) or the drop reason.
 */

static const char mw_cluster[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: a, labels: {app: a}}\n"
	"status: {podIPs: [{ip: 10.0.1.1}, {ip: 'fd00::1:1'}]}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: b, labels: {app: b}}\n"
	"status: {podIPs: [{ip: 10.0.1.2}, {ip: 'fd00::1:2'}]}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: c, labels: {app: c}}\n"
	"status: {podIPs: [{ip: 10.0.1.3}, {ip: 'fd00::1:3'}]}\n"
	/* everyone in x is isolated both ways */
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: deny-all}\n"
	"spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n";

/* a may reach b on TCP 80 (a's egress, b's ingress); nothing else. */
static const char mw_allow_a_to_b[] =
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: b-from-a}\n"
	"spec:\n  podSelector: {matchLabels: {app: b}}\n"
	"  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: 80}]}]\n"
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: a-to-b}\n"
	"spec:\n  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]\n"
	"  egress: [{to: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: 80}]}]\n";

static struct npgw_ruleset *mw_build(const char *policies, uint64_t gen)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	struct npgw_compile_result *cr;
	struct npgw_ruleset *rs;
	char *y = NULL;
	int err = 0;

	CU_ASSERT_FATAL(asprintf(&y, "%s%s", mw_cluster, policies) > 0);
	CU_ASSERT_EQUAL_FATAL(npgw_k8s_load_buffer(c, "mw.yaml", y, strlen(y), &d), 0);
	npgw_diags_free(&d);
	free(y);
	cr = npgw_compile(c, &err);
	npgw_k8s_cluster_free(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cr);
	rs = npgw_ruleset_build(cr, gen, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	return rs;
}

static uint8_t policy_reason(const struct npgw_ruleset *rs, const struct npgw_ruleset_verdict *v)
{
	const struct npgw_compile_meta *e = npgw_ruleset_meta(rs, v->egress);

	return e && e->action == NPGW_COMPILE_DENY ? NPGW_DROP_POLICY_EGRESS
						   : NPGW_DROP_POLICY_INGRESS;
}

/* One burst of the nb packets in mb/info through conntrack and the
 * ruleset; verdict[i] = NPGW_DROP_NONE or a drop reason. Released held
 * fragments are freed here (the data plane would forward them). */
static void mini_burst(const struct npgw_ruleset *rs, enum npgw_conntrack_revoke mode,
		       uint8_t *verdict)
{
	struct npgw_ruleset_tuple tuples[NPGW_CONNTRACK_MAX_BURST];
	struct npgw_ruleset_verdict v[NPGW_CONNTRACK_MAX_BURST];
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];
	uint8_t cls[NPGW_CONNTRACK_MAX_BURST];
	const uint64_t gen = npgw_ruleset_generation(rs);
	unsigned int nt = 0, n_out;

	npgw_conntrack_lookup_burst(ct, mb, info, nb, ZONE, now, gen, res);
	for (unsigned int k = 0; k < nb; k++)
		if (res[k].kind == NPGW_CONNTRACK_MISS || res[k].kind == NPGW_CONNTRACK_UNTRACKED ||
		    (res[k].flags & NPGW_CONNTRACK_F_STALE)) {
			npgw_conntrack_orig_tuple(ct, k, &res[k], &tuples[nt]);
			cls[k] = (uint8_t)nt++;
		}
	if (nt > 0)
		CU_ASSERT_EQUAL(npgw_ruleset_classify_burst(rs, tuples, nt, v), (int)nt);

	for (unsigned int k = 0; k < nb; k++) {
		struct npgw_conntrack_result *r = &res[k];
		enum npgw_conntrack_action a = NPGW_CONNTRACK_PASS;
		uint8_t why = NPGW_DROP_NONE;

		switch (r->kind) {
		case NPGW_CONNTRACK_HIT:
		case NPGW_CONNTRACK_RELATED:
			if (r->flags & NPGW_CONNTRACK_F_STALE)
				a = npgw_conntrack_recheck(ct, k, gen, &v[cls[k]], mode, r);
			if (a == NPGW_CONNTRACK_RESET) {
				struct rte_mbuf *rst[2];

				/* the data plane sends rst[0] back by the input
				 * port and rst[1] on where the packet went */
				CU_ASSERT_EQUAL(npgw_conntrack_rst_mbufs(mp, mb[k], &info[k], rst), 2);
				rte_pktmbuf_free_bulk(rst, 2);
			}
			if (a != NPGW_CONNTRACK_PASS)
				why = NPGW_DROP_CT_REVOKED;
			break;
		case NPGW_CONNTRACK_MISS:
			a = npgw_conntrack_commit(ct, k, now, gen, &v[cls[k]], r);
			if (a == NPGW_CONNTRACK_DENY)
				why = policy_reason(rs, &v[cls[k]]);
			else if (a == NPGW_CONNTRACK_DROP_FULL)
				why = NPGW_DROP_CT_TABLE_FULL;
			break;
		case NPGW_CONNTRACK_UNTRACKED:
			if (!v[cls[k]].allowed)
				why = policy_reason(rs, &v[cls[k]]);
			break;
		case NPGW_CONNTRACK_FRAGMENT: {
			enum npgw_conntrack_frag_verdict fv = npgw_conntrack_frag_later(
				ct, mb[k], &info[k], ZONE, 0, now, &why, out, &n_out);

			if (fv == NPGW_CONNTRACK_FRAG_HELD)
				mb[k] = rte_pktmbuf_alloc(mp); /* the table owns it now */
			for (unsigned int j = 0; j < n_out; j++)
				rte_pktmbuf_free(out[j].m);
			break;
		}
		default:
			why = r->reason;
			break;
		}
		if (info[k].is_first_fragment) {
			uint8_t fr;

			npgw_conntrack_frag_first(ct, mb[k], &info[k], ZONE, now,
						  why == NPGW_DROP_NONE, why, &fr, out, &n_out);
			why = fr;
			for (unsigned int j = 0; j < n_out; j++)
				rte_pktmbuf_free(out[j].m);
		}
		verdict[k] = why;
	}
	n_out = npgw_conntrack_housekeep(ct, now, out); /* once per poll round */
	for (unsigned int j = 0; j < n_out; j++)
		rte_pktmbuf_free(out[j].m);
}

static uint8_t mw_one(const struct npgw_ruleset *rs, size_t len,
		      enum npgw_conntrack_revoke mode)
{
	uint8_t verdict[1];

	begin();
	add(fb, len);
	mini_burst(rs, mode, verdict);
	return verdict[0];
}

static void test_worked_example_replies_pass_where_the_reverse_is_denied(void)
{
	struct npgw_ruleset *g1 = mw_build(mw_allow_a_to_b, 1);
	struct npgw_ruleset *g2 = mw_build("", 2); /* deny all */
	uint8_t verdict[4], orig[CTF_MAX], e[CTF_MAX];
	size_t ol, el;

	make_table(1024, NULL);
	/* the reverse direction alone is denied */
	CU_ASSERT_EQUAL(mw_one(g1, tcp(B4, 80, A4, 40000, SYN), NPGW_CONNTRACK_REVOKE_DROP),
			NPGW_DROP_POLICY_EGRESS);
	/* a's handshake and b's replies, in one burst and then one by one */
	begin();
	add(fb, tcp(A4, 40000, B4, 80, SYN));
	add(fb, tcp(B4, 80, A4, 40000, SYNACK));
	add(fb, tcp(A4, 40000, B4, 80, ACK));
	add(fb, tcp(C4, 40000, B4, 80, SYN));
	mini_burst(g1, NPGW_CONNTRACK_REVOKE_DROP, verdict);
	CU_ASSERT_EQUAL(verdict[0], NPGW_DROP_NONE);
	CU_ASSERT_EQUAL(verdict[1], NPGW_DROP_NONE);
	CU_ASSERT_EQUAL(verdict[2], NPGW_DROP_NONE);
	CU_ASSERT_EQUAL(verdict[3], NPGW_DROP_POLICY_EGRESS); /* c may not */
	CU_ASSERT_EQUAL(mw_one(g1, tcp(B4, 80, A4, 40000, ACK | PSH), NPGW_CONNTRACK_REVOKE_DROP),
			NPGW_DROP_NONE);
	/* a mid-stream packet with no entry is classified, not waved through */
	CU_ASSERT_EQUAL(mw_one(g1, tcp(B4, 80, A4, 40001, ACK), NPGW_CONNTRACK_REVOKE_DROP),
			NPGW_DROP_POLICY_EGRESS);
	CU_ASSERT_EQUAL(mw_one(g1, tcp(A4, 40002, B4, 80, ACK), NPGW_CONNTRACK_REVOKE_DROP),
			NPGW_DROP_NONE);
	/* related: b's host says the path MTU is smaller; an unrelated one */
	ol = ctf_tcp(A4, 40000, B4, 80, ACK, orig);
	el = ctf_icmp_error(B4, A4, 3, 4, orig, ol, 64, e);
	begin();
	add(e, el);
	mini_burst(g1, NPGW_CONNTRACK_REVOKE_DROP, verdict);
	CU_ASSERT_EQUAL(verdict[0], NPGW_DROP_NONE);
	ol = ctf_tcp(A4, 40009, B4, 80, ACK, orig);
	el = ctf_icmp_error(B4, A4, 3, 4, orig, ol, 64, e);
	begin();
	add(e, el);
	mini_burst(g1, NPGW_CONNTRACK_REVOKE_DROP, verdict);
	CU_ASSERT_EQUAL(verdict[0], NPGW_DROP_ICMP_UNRELATED);
	/* the policy is revoked: reset mode stops the flow with RSTs */
	CU_ASSERT_EQUAL(mw_one(g2, tcp(B4, 80, A4, 40000, ACK), NPGW_CONNTRACK_REVOKE_RESET),
			NPGW_DROP_CT_REVOKED);
	CU_ASSERT_EQUAL(mw_one(g2, tcp(A4, 40000, B4, 80, ACK), NPGW_CONNTRACK_REVOKE_RESET),
			NPGW_DROP_POLICY_EGRESS);
	/* fragments of an allowed UDP datagram... none here: UDP is denied */
	make_dgram(2000);
	struct npgw_pkt_info pi;

	begin();
	mb[0] = frag(4, 1, 0, 1480, true, &pi);
	info[0] = pi;
	mb[1] = frag(4, 1, 1480, 528, false, &pi);
	info[1] = pi;
	nb = 2;
	mini_burst(g1, NPGW_CONNTRACK_REVOKE_DROP, verdict);
	CU_ASSERT_EQUAL(verdict[0], NPGW_DROP_POLICY_EGRESS);
	CU_ASSERT_EQUAL(verdict[1], NPGW_DROP_POLICY_EGRESS);
	npgw_ruleset_free(g1);
	npgw_ruleset_free(g2);
	drop_table();
}

/* ---- control thread ---- */

static void test_flush_request(void)
{
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];

	make_table(1024, NULL);
	one(fb, udp(A4, 1, B4, 2), 1, &allow);
	one(fb, tcp(A4, 1, B4, 2, SYN), 1, &allow);
	npgw_conntrack_flush_request(ct);
	/* nothing happens until the worker's next housekeep */
	one(fb, udp(B4, 2, A4, 1), 1, &deny);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	for (int i = 0; i < 1024 / 64; i++)
		npgw_conntrack_housekeep(ct, now, out);
	CU_ASSERT_EQUAL(one(fb, udp(B4, 2, A4, 1), 1, &deny), NPGW_CONNTRACK_DENY);
	CU_ASSERT_EQUAL(stats().in_use, 0);
	CU_ASSERT_EQUAL(stats().flushed, 2);
	CU_ASSERT_EQUAL(stats().flush_epoch, 1);
	/* flows after the flush live */
	one(fb, udp(A4, 1, B4, 2), 1, &allow);
	npgw_conntrack_housekeep(ct, now, out);
	one(fb, udp(B4, 2, A4, 1), 1, &deny);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(npgw_conntrack_flush_now(ct, out), 0);
	CU_ASSERT_EQUAL(stats().in_use, 0);
	drop_table();
}

static void small_snapshot(struct npgw_conntrack_config *c)
{
	c->snapshot_max = 5;
	c->sweep = 16;
	c->denied_capacity = 1024;
}

static void test_snapshot_lists_flows_in_their_original_direction(void)
{
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];
	const struct npgw_conntrack_flow *fl;
	struct npgw_conntrack_filter f = {0};
	size_t n;
	bool trunc;
	char a[32];
	int rounds = 0;

	make_table(1024, small_snapshot);
	CU_ASSERT_EQUAL(npgw_conntrack_snapshot_poll(ct, &fl, &n, &trunc), -ENOENT);
	one(fb, tcp(B4, 40000, A4, 443, SYN), 1, &allow);
	one(fb, tcp(A4, 443, B4, 40000, SYNACK), 1, &deny);
	for (int i = 0; i < 3; i++) {
		snprintf(a, sizeof(a), "10.3.0.%d", i + 1);
		one(fb, udp(a, 53, B4, 53), 1, &allow);
	}
	f.proto = NPGW_PROTO_TCP;
	CU_ASSERT_EQUAL(npgw_conntrack_snapshot_request(ct, &f), 0);
	CU_ASSERT_EQUAL(npgw_conntrack_snapshot_request(ct, &f), -EBUSY);
	CU_ASSERT_EQUAL(npgw_conntrack_snapshot_poll(ct, &fl, &n, &trunc), -EAGAIN);
	now += 5;
	while (npgw_conntrack_snapshot_poll(ct, &fl, &n, &trunc) == -EAGAIN) {
		npgw_conntrack_housekeep(ct, now, out);
		CU_ASSERT_FATAL(++rounds <= (1024 + 1024) / 16);
	}
	CU_ASSERT(rounds > 1); /* bounded work per call */
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_FALSE(trunc);
	struct npgw_addr aa, bb;

	npgw_addr_parse(A4, &aa);
	npgw_addr_parse(B4, &bb);
	CU_ASSERT_EQUAL(memcmp(fl[0].t.src, bb.bytes, 4), 0); /* the opener */
	CU_ASSERT_EQUAL(memcmp(fl[0].t.dst, aa.bytes, 4), 0);
	CU_ASSERT_EQUAL(fl[0].t.sport, 40000);
	CU_ASSERT_EQUAL(fl[0].t.dport, 443);
	CU_ASSERT_EQUAL(fl[0].t.zone, ZONE);
	CU_ASSERT_EQUAL(fl[0].state, NPGW_CONNTRACK_SYN_RECV);
	CU_ASSERT_EQUAL(fl[0].pkts[0], 1);
	CU_ASSERT_EQUAL(fl[0].pkts[1], 1);
	CU_ASSERT_EQUAL(fl[0].idle, 5);
	CU_ASSERT_EQUAL(fl[0].expires_in, 30 * SEC - 5);
	CU_ASSERT_EQUAL(fl[0].egress, 5);

	/* by address and port */
	memset(&f, 0, sizeof(f));
	f.has_addr = 1;
	npgw_addr_parse("10.3.0.2", &aa);
	memcpy(f.addr, aa.bytes, 4);
	f.port = 53;
	CU_ASSERT_EQUAL(npgw_conntrack_snapshot_request(ct, &f), 0);
	while (npgw_conntrack_snapshot_poll(ct, &fl, &n, &trunc) == -EAGAIN)
		npgw_conntrack_housekeep(ct, now, out);
	CU_ASSERT_EQUAL(n, 1);
	/* by state */
	memset(&f, 0, sizeof(f));
	f.state_mask = 1u << NPGW_CONNTRACK_NEW;
	CU_ASSERT_EQUAL(npgw_conntrack_snapshot_request(ct, &f), 0);
	while (npgw_conntrack_snapshot_poll(ct, &fl, &n, &trunc) == -EAGAIN)
		npgw_conntrack_housekeep(ct, now, out);
	CU_ASSERT_EQUAL(n, 3);
	/* everything, more than fits */
	for (int i = 0; i < 10; i++) {
		snprintf(a, sizeof(a), "10.4.0.%d", i + 1);
		one(fb, udp(a, 53, B4, 53), 1, &allow);
	}
	CU_ASSERT_EQUAL(npgw_conntrack_snapshot_request(ct, NULL), 0);
	while (npgw_conntrack_snapshot_poll(ct, &fl, &n, &trunc) == -EAGAIN)
		npgw_conntrack_housekeep(ct, now, out);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_TRUE(trunc);
	drop_table();
}

/* A worker lcore runs bursts of new flows and replies and its housekeep;
 * this thread asks for snapshots and flushes and reads counters. */
static atomic_bool worker_stop;
static atomic_uint worker_rounds;

static int worker_main(void *arg)
{
	struct npgw_conntrack_frag_out out[NPGW_CONNTRACK_FRAG_MAX_OUT];
	struct rte_mbuf *wm[32];
	struct npgw_pkt_info wi[32];
	struct npgw_conntrack_result wr[32];
	uint8_t f[CTF_MAX];
	uint64_t t = 1000 * SEC;
	char a[32];
	unsigned int round = 0;

	(void)arg;
	while (!atomic_load(&worker_stop)) {
		for (unsigned int i = 0; i < 32; i++) {
			enum npgw_drop_reason r;
			unsigned int k = (round * 16 + i / 2) % 5000;
			size_t len;

			/* a client's query, then the answer, in one burst */
			snprintf(a, sizeof(a), "10.5.%u.%u", k / 250, k % 250 + 1);
			len = i & 1 ? ctf_udp(B4, 53, a, 1000, f) : ctf_udp(a, 1000, B4, 53, f);
			wm[i] = rte_pktmbuf_alloc(mp);
			if (wm[i] == NULL)
				return -1;
			memcpy(rte_pktmbuf_append(wm[i], (uint16_t)len), f, len);
			npgw_pkt_parse(f, (uint32_t)len, &wi[i], &r);
		}
		npgw_conntrack_lookup_burst(ct, wm, wi, 32, ZONE, t, 1, wr);
		for (unsigned int i = 0; i < 32; i++)
			if (wr[i].kind == NPGW_CONNTRACK_MISS)
				npgw_conntrack_commit(ct, i, t, 1, &allow, &wr[i]);
		rte_pktmbuf_free_bulk(wm, 32);
		unsigned int k = npgw_conntrack_housekeep(ct, t, out);

		for (unsigned int j = 0; j < k; j++)
			rte_pktmbuf_free(out[j].m);
		t += 1;
		round++;
		atomic_store(&worker_rounds, round);
	}
	return 0;
}

static void test_control_thread_while_the_worker_runs(void)
{
	unsigned int lcore = rte_get_next_lcore(-1, 1, 0);
	const struct npgw_conntrack_flow *fl;
	size_t n;
	bool trunc;

	if (lcore >= RTE_MAX_LCORE) {
		printf("\n  (no second lcore: skipped)\n");
		return;
	}
	make_table(8192, NULL);
	atomic_store(&worker_stop, false);
	atomic_store(&worker_rounds, 0);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(worker_main, NULL, lcore), 0);
	for (int round = 0; round < 20; round++) {
		struct npgw_conntrack_stats st;
		int rc;

		CU_ASSERT_EQUAL(npgw_conntrack_snapshot_request(ct, NULL), 0);
		while ((rc = npgw_conntrack_snapshot_poll(ct, &fl, &n, &trunc)) == -EAGAIN)
			rte_pause();
		CU_ASSERT_EQUAL(rc, 0);
		for (size_t i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(fl[i].t.proto, NPGW_PROTO_UDP);
			CU_ASSERT_EQUAL(fl[i].t.dport, 53); /* the opener's side is the client */
		}
		npgw_conntrack_get_stats(ct, &st);
		CU_ASSERT(st.in_use <= st.capacity);
		if (round % 5 == 4)
			npgw_conntrack_flush_request(ct);
	}
	atomic_store(&worker_stop, true);
	CU_ASSERT_EQUAL(rte_eal_wait_lcore(lcore), 0);
	CU_ASSERT(atomic_load(&worker_rounds) > 0);
	CU_ASSERT(stats().flush_epoch >= 1);
	drop_table();
}

static void test_memory_per_entry_at_the_default_capacity(void)
{
	struct npgw_conntrack_config cfg;
	struct npgw_conntrack *big;
	int err = 0;
	size_t bytes;

	npgw_conntrack_config_defaults(&cfg);
	cfg.name = "mem";
	cfg.hz = HZ;
	big = npgw_conntrack_create(&cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	bytes = npgw_conntrack_memory(big);
	printf("\n  flow table: capacity %u, %zu bytes, %.1f bytes per flow "
	       "(entry %zu + rte_hash + fragments and snapshot)\n",
	       cfg.capacity, bytes, (double)bytes / cfg.capacity,
	       sizeof(struct npgw_conntrack_entry));
	CU_ASSERT(bytes >= (size_t)cfg.capacity * sizeof(struct npgw_conntrack_entry));
	CU_ASSERT(bytes < (size_t)cfg.capacity * 256);
	npgw_conntrack_free(big);
	npgw_conntrack_free(NULL);
	cfg.capacity = 4;
	CU_ASSERT_PTR_NULL(npgw_conntrack_create(&cfg, &err));
	CU_ASSERT_EQUAL(err, -EINVAL);
	/* the config's bound for frag_hold is the table's */
	cfg.capacity = 8;
	cfg.frag_hold = NPGW_CONNTRACK_FRAG_HOLD_MAX;
	big = npgw_conntrack_create(&cfg, &err);
	CU_ASSERT_PTR_NOT_NULL(big);
	npgw_conntrack_free(big);
	cfg.frag_hold = NPGW_CONNTRACK_FRAG_HOLD_MAX + 1;
	CU_ASSERT_PTR_NULL(npgw_conntrack_create(&cfg, &err));
	CU_ASSERT_EQUAL(err, -EINVAL);
}

/* ---- TCP windows ---- */

static size_t tcpw(const char *s, uint16_t sp, const char *d, uint16_t dp, uint8_t flags,
		   uint32_t seq, uint32_t ack, uint16_t win, int wscale, size_t plen)
{
	return ctf_tcp_seg(s, sp, d, dp, flags, seq, ack, win, wscale, plen, fb);
}

/* The client (A, port 40000) and server (B, port 80) of the window tests,
 * with their initial sequence numbers. */
#define CLI_ISN 100000u
#define SRV_ISN 7000000u

static enum npgw_conntrack_action cli(uint8_t fl, uint32_t seq, uint32_t ack, size_t plen)
{
	return one(fb, tcpw(A4, 40000, B4, 80, fl, seq, ack, 1000, -1, plen), 1, &allow);
}

static enum npgw_conntrack_action srv(uint8_t fl, uint32_t seq, uint32_t ack, size_t plen)
{
	return one(fb, tcpw(B4, 80, A4, 40000, fl, seq, ack, 1000, -1, plen), 1, &deny);
}

/* A handshake and 100 bytes each way: the client has sent up to
 * CLI_ISN + 101, the server up to SRV_ISN + 101. */
static void handshake_and_data(uint32_t cisn, uint32_t sisn)
{
	one(fb, tcpw(A4, 40000, B4, 80, SYN, cisn, 0, 1000, -1, 0), 1, &allow);
	one(fb, tcpw(B4, 80, A4, 40000, SYNACK, sisn, cisn + 1, 1000, -1, 0), 1, &deny);
	CU_ASSERT_EQUAL(cli(ACK, cisn + 1, sisn + 1, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(cli(ACK | PSH, cisn + 1, sisn + 1, 100), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(srv(ACK | PSH, sisn + 1, cisn + 101, 100), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(cli(ACK, cisn + 101, sisn + 101, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
}

/* The packet of the last one() was dropped as outside the window, and
 * the entry e is as it was (state, packet counts, deadline). */
static void assert_out_of_window(const struct npgw_conntrack_entry *before, uint32_t e)
{
	const struct npgw_conntrack_entry *now_e = npgw_conntrack_entry(ct, e);

	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DROP);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_TCP_OUT_OF_WINDOW);
	CU_ASSERT_EQUAL(now_e->state, before->state);
	CU_ASSERT_EQUAL(now_e->pkts[0], before->pkts[0]);
	CU_ASSERT_EQUAL(now_e->pkts[1], before->pkts[1]);
	CU_ASSERT_EQUAL(now_e->deadline, before->deadline);
}

static void test_tcp_window_rst_where_expected_closes(void)
{
	/* from the server at its next sequence number, RST|ACK */
	make_table(1024, NULL);
	handshake_and_data(CLI_ISN, SRV_ISN);
	CU_ASSERT_EQUAL(srv(RST | ACK, SRV_ISN + 101, CLI_ISN + 101, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	CU_ASSERT_EQUAL(stats().tcp_window_drops, 0);
	drop_table();
	/* from the client, a bare RST (no ACK) */
	make_table(1024, NULL);
	handshake_and_data(CLI_ISN, SRV_ISN);
	CU_ASSERT_EQUAL(cli(RST, CLI_ISN + 101, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	drop_table();
	/* at what the receiver acknowledged (a host that lost the socket
	 * answers a segment with its ack as sequence number) */
	make_table(1024, NULL);
	handshake_and_data(CLI_ISN, SRV_ISN);
	CU_ASSERT_EQUAL(srv(ACK | PSH, SRV_ISN + 101, CLI_ISN + 101, 500), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(srv(RST, SRV_ISN + 101, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	drop_table();
}

static void test_tcp_window_spoofed_rst_and_fin_are_dropped(void)
{
	struct npgw_conntrack_entry before;
	uint32_t e;

	make_table(1024, NULL);
	handshake_and_data(CLI_ISN, SRV_ISN);
	e = res[0].entry;
	before = *entry0();
	/* the right tuple, a sequence number far from the window */
	srv(RST | ACK, SRV_ISN + 50000000, CLI_ISN + 101, 0);
	assert_out_of_window(&before, e);
	cli(RST, CLI_ISN - 200000, 0, 0);
	assert_out_of_window(&before, e);
	/* a FIN beyond what the receiver granted */
	srv(FIN | ACK, SRV_ISN + 101 + 70000, CLI_ISN + 101, 0);
	assert_out_of_window(&before, e);
	/* an RST|ACK that acknowledges data never sent */
	srv(RST | ACK, SRV_ISN + 101, CLI_ISN + 5000000, 0);
	assert_out_of_window(&before, e);
	CU_ASSERT_EQUAL(stats().tcp_window_drops, 4);
	CU_ASSERT_EQUAL(stats().tcp_window_passed, 0);
	/* an RST inside the window, not at the expected number: forwarded
	 * (the endpoint answers with a challenge ACK), the flow stays */
	CU_ASSERT_EQUAL(srv(RST | ACK, SRV_ISN + 101 + 300, CLI_ISN + 101, 0),
			NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	/* data outside the window is forwarded, counted, learns nothing:
	 * the server's next sequence number is still SRV_ISN + 101 */
	CU_ASSERT_EQUAL(srv(ACK | PSH, SRV_ISN + 40000000, CLI_ISN + 101, 10),
			NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(stats().tcp_window_passed, 1);
	CU_ASSERT_EQUAL(srv(RST | ACK, SRV_ISN + 40000010, CLI_ISN + 101, 0), NPGW_CONNTRACK_DENY);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_TCP_OUT_OF_WINDOW);
	/* the flow still works and closes normally */
	CU_ASSERT_EQUAL(cli(FIN | ACK, CLI_ISN + 101, SRV_ISN + 101, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSING);
	CU_ASSERT_EQUAL(srv(FIN | ACK, SRV_ISN + 101, CLI_ISN + 102, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	CU_ASSERT_EQUAL(stats().tcp_window_drops, 5);
	drop_table();
}

static void seq_check_off(struct npgw_conntrack_config *c)
{
	c->tcp_seq_check = false;
}

/* tcp_seq_check off (a path whose sequence numbers a middlebox rewrites):
 * a FIN or RST outside the window is forwarded and acted on, counted as
 * passed; nothing is dropped as out of window. */
static void test_tcp_window_not_enforced_when_seq_check_is_off(void)
{
	make_table(1024, seq_check_off);
	handshake_and_data(CLI_ISN, SRV_ISN);
	CU_ASSERT_EQUAL(srv(FIN | ACK, SRV_ISN + 101 + 70000, CLI_ISN + 101, 0),
			NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSING);
	CU_ASSERT_EQUAL(srv(RST | ACK, SRV_ISN + 50000000, CLI_ISN + 101, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	CU_ASSERT_EQUAL(stats().tcp_window_drops, 0);
	CU_ASSERT_EQUAL(stats().tcp_window_passed, 2);
	drop_table();
}

/* The answer to a SYN must acknowledge it: an RST|ACK with another ack is
 * spoofed, whatever its sequence number. */
static void test_tcp_window_rst_answering_a_syn(void)
{
	struct npgw_conntrack_entry before;

	make_table(1024, NULL);
	one(fb, tcpw(A4, 40000, B4, 80, SYN, CLI_ISN, 0, 1000, -1, 0), 1, &allow);
	before = *entry0();
	srv(RST | ACK, 0, CLI_ISN + 7, 0);
	assert_out_of_window(&before, res[0].entry);
	/* and it did not make up the server's side: the real SYN-ACK works */
	CU_ASSERT_EQUAL(srv(SYNACK, SRV_ISN, CLI_ISN + 1, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_SYN_RECV);
	drop_table();

	make_table(1024, NULL);
	one(fb, tcpw(A4, 40000, B4, 80, SYN, CLI_ISN, 0, 1000, -1, 0), 1, &allow);
	CU_ASSERT_EQUAL(srv(RST | ACK, 0, CLI_ISN + 1, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	drop_table();
}

/* Window scale 7 on both SYNs: a window field of 1000 grants 128000
 * bytes; with the option on one SYN only, neither side scales. */
static void test_tcp_window_scaling(void)
{
	for (int both = 1; both >= 0; both--) {
		make_table(1024, NULL);
		one(fb, tcpw(A4, 40000, B4, 80, SYN, CLI_ISN, 0, 1000, 7, 0), 1, &allow);
		one(fb, tcpw(B4, 80, A4, 40000, SYNACK, SRV_ISN, CLI_ISN + 1, 1000, both ? 7 : -1, 0),
		    1, &deny);
		cli(ACK, CLI_ISN + 1, SRV_ISN + 1, 0);
		CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
		/* the SYN-ACK's window is never scaled: the server's first ACK
		 * grants the scaled one */
		srv(ACK, SRV_ISN + 1, CLI_ISN + 1, 0);
		/* 100,000 bytes into the server's window, then a FIN after them */
		CU_ASSERT_EQUAL(cli(ACK, CLI_ISN + 1 + 100000, SRV_ISN + 1, 1000),
				NPGW_CONNTRACK_PASS);
		CU_ASSERT_EQUAL(stats().tcp_window_passed, both ? 0 : 1);
		cli(FIN | ACK, CLI_ISN + 1 + 101000, SRV_ISN + 1, 0);
		if (both) {
			CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
			CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSING);
		} else {
			CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DROP);
			CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_TCP_OUT_OF_WINDOW);
		}
		drop_table();
	}
}

/* Sequence numbers wrap at 2^32: a window across 0 works both ways. */
static void test_tcp_window_sequence_wraparound(void)
{
	const uint32_t cisn = 0xffffff00u, sisn = 0xffffffc0u;
	struct npgw_conntrack_entry before;

	make_table(1024, NULL);
	handshake_and_data(cisn, sisn); /* both cross 0 here */
	before = *entry0();
	srv(RST | ACK, sisn + 101 - 0x80000000u, cisn + 101, 0);
	assert_out_of_window(&before, res[0].entry);
	CU_ASSERT_EQUAL(cli(ACK | PSH, cisn + 101, sisn + 101, 1000), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(stats().tcp_window_passed, 0);
	CU_ASSERT_EQUAL(cli(RST | ACK, cisn + 1101, sisn + 101, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	CU_ASSERT(cisn + 1101 < 2000); /* it did wrap */
	drop_table();
}

/* tcp_loose: a flow picked up mid-stream learns its window from its first
 * packets; spoofed RSTs are dropped from then on. */
static void test_tcp_window_loose_pickup_learns(void)
{
	struct npgw_conntrack_entry before;

	make_table(1024, loose);
	CU_ASSERT_EQUAL(cli(ACK | PSH, CLI_ISN, SRV_ISN, 100), NPGW_CONNTRACK_PASS);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_CREATED);
	CU_ASSERT(entry0()->flags & NPGW_CONNTRACK_E_PICKUP);
	CU_ASSERT_EQUAL(srv(ACK | PSH, SRV_ISN, CLI_ISN + 100, 1000), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	/* windows of unknown scale: far-ahead data still fits */
	CU_ASSERT_EQUAL(cli(ACK, CLI_ISN + 100 + 5000000, SRV_ISN + 1000, 1000),
			NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(stats().tcp_window_passed, 0);
	before = *entry0();
	srv(RST | ACK, SRV_ISN + 0x80000000u, CLI_ISN + 100, 0);
	assert_out_of_window(&before, res[0].entry);
	/* in the (huge) window but not at the server's next number: kept */
	CU_ASSERT_EQUAL(srv(RST | ACK, SRV_ISN + 1000 + 77777, CLI_ISN + 100, 0),
			NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	CU_ASSERT_EQUAL(srv(RST | ACK, SRV_ISN + 1000, CLI_ISN + 100, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	CU_ASSERT_EQUAL(stats().tcp_window_drops, 1);
	drop_table();
}

/* Without the frames (no mbufs given), the window is not checked: the
 * state follows the flags alone. */
static void test_tcp_window_needs_the_frame(void)
{
	make_table(1024, NULL);
	handshake_and_data(CLI_ISN, SRV_ISN);
	begin();
	add(fb, tcpw(B4, 80, A4, 40000, RST, SRV_ISN + 123456789, 0, 0, -1, 0));
	npgw_conntrack_lookup_burst(ct, NULL, info, nb, ZONE, now, 1, res);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	drop_table();
}

/* ---- SCTP associations ---- */

enum { S_DATA = 0, S_INIT = 1, S_INIT_ACK = 2, S_SACK = 3, S_ABORT = 6, S_SHUTDOWN = 7,
       S_SHUTDOWN_ACK = 8, S_COOKIE_ECHO = 10, S_COOKIE_ACK = 11, S_SHUTDOWN_COMPLETE = 14 };

static size_t sctpc(const char *s, uint16_t sp, const char *d, uint16_t dp, uint32_t vtag,
		    const struct ctf_sctp_chunk *c, unsigned int n)
{
	return ctf_sctp(s, sp, d, dp, vtag, c, n, fb);
}

#define TAG_A 0x11111111u /* the tag A's INIT chose: what B's packets carry */
#define TAG_B 0x22222222u /* the tag B's INIT-ACK chose: what A's packets carry */

/* From A (port 3868) to B (port 3868), one chunk; and back. */
static enum npgw_conntrack_action sa(uint32_t vtag, uint8_t type, uint8_t flags, uint32_t itag)
{
	struct ctf_sctp_chunk c = {type, flags, itag};

	return one(fb, sctpc(A4, 3868, B4, 3868, vtag, &c, 1), 1, &allow);
}

static enum npgw_conntrack_action sb(uint32_t vtag, uint8_t type, uint8_t flags, uint32_t itag)
{
	struct ctf_sctp_chunk c = {type, flags, itag};

	return one(fb, sctpc(B4, 3868, A4, 3868, vtag, &c, 1), 1, &deny);
}

static void sctp_handshake(void)
{
	CU_ASSERT_EQUAL(sa(0, S_INIT, 0, TAG_A), NPGW_CONNTRACK_PASS);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_CREATED);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_NEW);
	CU_ASSERT_EQUAL(sb(TAG_A, S_INIT_ACK, 0, TAG_B), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(sa(TAG_B, S_COOKIE_ECHO, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_SYN_RECV);
	CU_ASSERT_EQUAL(sb(TAG_A, S_COOKIE_ACK, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	CU_ASSERT_EQUAL(sa(TAG_B, S_DATA, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(sb(TAG_A, S_SACK, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
}

/* The packet of the last one() was dropped as SCTP_INVALID and the entry
 * is as it was. */
static void assert_sctp_dropped(const struct npgw_conntrack_entry *before, uint32_t e)
{
	const struct npgw_conntrack_entry *x = npgw_conntrack_entry(ct, e);

	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DROP);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_SCTP_INVALID);
	CU_ASSERT_EQUAL(x->state, before->state);
	CU_ASSERT_EQUAL(x->pkts[0], before->pkts[0]);
	CU_ASSERT_EQUAL(x->pkts[1], before->pkts[1]);
	CU_ASSERT_EQUAL(x->deadline, before->deadline);
}

static void test_sctp_association_from_init_to_shutdown(void)
{
	make_table(1024, NULL);
	sctp_handshake();
	CU_ASSERT_EQUAL(sa(TAG_B, S_SHUTDOWN, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSING);
	CU_ASSERT_EQUAL(sb(TAG_A, S_SHUTDOWN_ACK, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(sa(TAG_B, S_SHUTDOWN_COMPLETE, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	CU_ASSERT_EQUAL(entry0()->deadline, now + 10 * SEC);
	/* the association is gone: its data is out of state */
	now += SEC;
	sb(TAG_A, S_DATA, 0, 0);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DROP);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_SCTP_INVALID);
	/* a new INIT on the same ports is a new association */
	CU_ASSERT_EQUAL(sa(0, S_INIT, 0, 0x33333333), NPGW_CONNTRACK_PASS);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_CREATED);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_NEW);
	CU_ASSERT_EQUAL(stats().sctp_invalid, 1);
	drop_table();
}

static void test_sctp_wrong_verification_tag_is_dropped(void)
{
	struct npgw_conntrack_entry before;
	uint32_t e;

	make_table(1024, NULL);
	sctp_handshake();
	e = res[0].entry;
	before = *entry0();
	/* the right addresses and ports, a guessed tag */
	sa(0x12345678, S_DATA, 0, 0);
	assert_sctp_dropped(&before, e);
	sb(TAG_B, S_ABORT, 0, 0); /* A's tag from B, without the T bit */
	assert_sctp_dropped(&before, e);
	sb(TAG_A, S_ABORT, 1, 0); /* the T bit says "my own tag": B's is TAG_B */
	assert_sctp_dropped(&before, e);
	sa(0, S_SHUTDOWN_COMPLETE, 0, 0);
	assert_sctp_dropped(&before, e);
	/* an INIT-ACK nobody asked for */
	sb(0x55555555, S_INIT_ACK, 0, 0x66666666);
	assert_sctp_dropped(&before, e);
	CU_ASSERT_EQUAL(stats().sctp_invalid, 5);
	/* the real ABORT, with the T bit and B's own tag */
	CU_ASSERT_EQUAL(sb(TAG_B, S_ABORT, 1, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	drop_table();

	make_table(1024, NULL);
	sctp_handshake();
	CU_ASSERT_EQUAL(sa(TAG_B, S_ABORT, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_CLOSED);
	drop_table();
}

/* What SCTP forbids whatever the association: dropped by the lookup, no
 * entry made. */
static void test_sctp_chunks_sctp_forbids(void)
{
	const struct ctf_sctp_chunk init_data[2] = {{S_INIT, 0, TAG_A}, {S_DATA, 0, 0}};
	const struct ctf_sctp_chunk init = {S_INIT, 0, TAG_A}, init0 = {S_INIT, 0, 0};
	size_t n;

	make_table(1024, NULL);
	/* an INIT with a tag; bundled; with initiate tag 0 */
	one(fb, sctpc(A4, 1, B4, 2, 7, &init, 1), 1, &allow);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_DROP);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_SCTP_INVALID);
	one(fb, sctpc(A4, 1, B4, 2, 0, init_data, 2), 1, &allow);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_SCTP_INVALID);
	one(fb, sctpc(A4, 1, B4, 2, 0, &init0, 1), 1, &allow);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_SCTP_INVALID);
	/* a chunk longer than the packet */
	n = sctpc(A4, 1, B4, 2, 0, &init, 1);
	fb[14 + 20 + 12 + 3] = 200;
	one(fb, n, 1, &allow);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_SCTP_INVALID);
	CU_ASSERT_EQUAL(stats().in_use, 0);
	CU_ASSERT_EQUAL(stats().sctp_invalid, 4);
	drop_table();
}

/* An association first seen mid-way (after a flush) learns each side's
 * tag from its first packet, and holds it from then on. */
static void test_sctp_pickup_learns_the_tags(void)
{
	struct npgw_conntrack_entry before;

	make_table(1024, NULL);
	CU_ASSERT_EQUAL(sa(TAG_B, S_DATA, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT(res[0].flags & NPGW_CONNTRACK_F_CREATED);
	CU_ASSERT_EQUAL(sb(TAG_A, S_SACK, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	before = *entry0();
	sb(TAG_B, S_DATA, 0, 0);
	assert_sctp_dropped(&before, res[0].entry);
	CU_ASSERT_EQUAL(sa(TAG_B, S_DATA, 0, 0), NPGW_CONNTRACK_PASS);
	drop_table();
}

/* A restart (INIT on a live association): the new tags are accepted
 * beside the old ones, and replace them at the new COOKIE-ACK; a spoofed
 * INIT alone changes nothing for the live association. */
static void test_sctp_restart(void)
{
	const uint32_t ta = 0x33333333, tb = 0x44444444;

	make_table(1024, NULL);
	sctp_handshake();
	CU_ASSERT_EQUAL(sa(0, S_INIT, 0, ta), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(sb(TAG_A, S_SACK, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(sa(TAG_B, S_DATA, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(sb(ta, S_INIT_ACK, 0, tb), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(sa(tb, S_COOKIE_ECHO, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(sb(ta, S_COOKIE_ACK, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	CU_ASSERT_EQUAL(entry0()->state, NPGW_CONNTRACK_ESTABLISHED);
	/* the old tags are gone, the new ones hold */
	sa(TAG_B, S_DATA, 0, 0);
	CU_ASSERT_EQUAL(res[0].reason, NPGW_DROP_SCTP_INVALID);
	CU_ASSERT_EQUAL(sa(tb, S_DATA, 0, 0), NPGW_CONNTRACK_PASS);
	CU_ASSERT_EQUAL(res[0].kind, NPGW_CONNTRACK_HIT);
	drop_table();
}

/* The EAL's arguments: rte_eal_init takes char **, so writable storage. */
static char *eal_argv[] = {(char[]){"test_conntrack"}, (char[]){"--no-huge"}, (char[]){"-m"},
	(char[]){"256"}, (char[]){"--no-pci"}, (char[]){"--no-shconf"}, (char[]){"--no-telemetry"},
	(char[]){"--log-level=error"}, (char[]){"-l"}, (char[]){"0,1"}, NULL};

int npgw_test_register(void)
{
	static const CU_TestInfo flows[] = {
		{"both directions find one entry", test_both_directions_find_one_entry},
		{"the zone separates flows", test_zone_separates_flows},
		{"TCP states from handshake to close", test_tcp_states_handshake_to_close},
		{"TCP RST closes, a new SYN reopens", test_tcp_rst_closes_and_a_new_syn_reopens},
		{"SYN and SYN-ACK in one burst", test_syn_and_synack_in_one_burst},
		{"mid-stream ACK is new without SYN", test_mid_stream_ack_is_new_without_syn},
		{"invalid TCP flags are dropped", test_invalid_tcp_flags_are_dropped},
		{"UDP, ICMP echo, and chunkless SCTP by tuple (SCTP states: suite sctp)",
		 test_udp_sctp_icmp_echo_tracked_by_tuple},
		{"timeouts with an injected clock", test_timeouts_with_an_injected_clock},
		{"expiry reclaim is bounded per call", test_expiry_reclaim_is_bounded_per_call},
		{"capacity + 1 is refused, never evicting",
		 test_capacity_plus_one_is_refused_never_evicting},
		{NULL, NULL},
	};
	static const CU_TestInfo policy[] = {
		{"generation recheck", test_generation_recheck},
		{"a denied flow is decided by the lookup", test_denied_flow_is_decided_by_the_lookup},
		{"a denied flood never touches allowed flows",
		 test_denied_flood_never_touches_allowed_flows},
		{"denied admission under a flood", test_denied_admission_under_flood},
		{"revoke modes drop, keep, reset", test_revoke_modes},
		{"revoke twice in one burst", test_revoke_twice_in_one_burst},
		{"related ICMP, IPv4", test_related_icmp_v4},
		{"related ICMPv6", test_related_icmp_v6},
		{NULL, NULL},
	};
	static const CU_TestInfo tcpwin[] = {
		{"an RST where the receiver expects it closes",
		 test_tcp_window_rst_where_expected_closes},
		{"spoofed RST and FIN are dropped, the flow stays",
		 test_tcp_window_spoofed_rst_and_fin_are_dropped},
		{"tcp_seq_check off: out-of-window FIN and RST forwarded and acted on",
		 test_tcp_window_not_enforced_when_seq_check_is_off},
		{"an RST answering a SYN must acknowledge it", test_tcp_window_rst_answering_a_syn},
		{"window scaling", test_tcp_window_scaling},
		{"sequence numbers wrap around", test_tcp_window_sequence_wraparound},
		{"loose pickup learns the window", test_tcp_window_loose_pickup_learns},
		{"no frame, no window check", test_tcp_window_needs_the_frame},
		{NULL, NULL},
	};
	static const CU_TestInfo sctp[] = {
		{"an association from INIT to SHUTDOWN-COMPLETE",
		 test_sctp_association_from_init_to_shutdown},
		{"a wrong verification tag is dropped", test_sctp_wrong_verification_tag_is_dropped},
		{"chunks SCTP forbids", test_sctp_chunks_sctp_forbids},
		{"pickup learns the tags", test_sctp_pickup_learns_the_tags},
		{"restart", test_sctp_restart},
		{NULL, NULL},
	};
	static const CU_TestInfo frags[] = {
		{"in order", test_fragments_in_order},
		{"out of order: held, then released", test_fragments_out_of_order_are_held_then_released},
		{"out of order: dropped when hold is off",
		 test_fragments_out_of_order_dropped_when_hold_is_off},
		{"follow a denied first", test_fragments_follow_a_denied_first},
		{"overlaps poison the datagram", test_overlapping_fragments_poison_the_datagram},
		{"invalid lengths and offsets", test_invalid_fragments},
		{"tiny first, then timeout", test_tiny_first_fragment_and_timeout},
		{"floods", test_fragment_floods},
		{NULL, NULL},
	};
	static const CU_TestInfo example[] = {
		{"worked example: replies pass where the reverse is denied",
		 test_worked_example_replies_pass_where_the_reverse_is_denied},
		{NULL, NULL},
	};
	static const CU_TestInfo control[] = {
		{"flush request", test_flush_request},
		{"snapshot", test_snapshot_lists_flows_in_their_original_direction},
		{"control thread while the worker runs", test_control_thread_while_the_worker_runs},
		{"memory per entry", test_memory_per_entry_at_the_default_capacity},
		{NULL, NULL},
	};

	if (rte_eal_init((int)NPGW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		return -1;
	}
	mp = rte_pktmbuf_pool_create("ct_test", N_MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     SOCKET_ID_ANY);
	if (mp == NULL) {
		fprintf(stderr, "cannot create the mbuf pool\n");
		return -1;
	}
	if (npgw_test_add_suite("conntrack flows", flows) != 0 ||
	    npgw_test_add_suite("conntrack policy", policy) != 0 ||
	    npgw_test_add_suite("conntrack TCP window", tcpwin) != 0 ||
	    npgw_test_add_suite("conntrack SCTP", sctp) != 0 ||
	    npgw_test_add_suite("conntrack fragments", frags) != 0 ||
	    npgw_test_add_suite("conntrack in the worker's loop", example) != 0 ||
	    npgw_test_add_suite("conntrack control", control) != 0)
		return -1;
	return 0;
}
