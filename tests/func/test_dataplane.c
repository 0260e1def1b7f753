/*
 * test_dataplane.c: the data path on net_ring ports. Each test builds a
 * data plane over fresh ring ports, injects crafted frames into the rx
 * rings, runs worker polls on this thread (npgw_dp_poll_once), and asserts
 * exactly which frames leave by which port, byte for byte, which counters
 * moved, and that the mempool is whole afterwards. The swap stress test
 * runs a real worker lcore while this thread swaps generations.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_thash.h>

#include "cunit_main.h"
#include "ct_frames.h"
#include "npgw_dataplane.h"
#include "npgw_k8s.h"

#define MAX_PORTS 4
#define RING_SIZE 4096

static char br_name[] = "br"; /* the bridge of every test (char *: config type) */

static const char cluster[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: a, labels: {app: a}}\n"
	"status: {podIPs: [{ip: 10.0.1.1}, {ip: 'fd00::1:1'}]}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: b, labels: {app: b}}\n"
	"status: {podIPs: [{ip: 10.0.1.2}, {ip: 'fd00::1:2'}]}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: c, labels: {app: c}}\n"
	"status: {podIPs: [{ip: 10.0.1.3}, {ip: 'fd00::1:3'}]}\n";

/* b admits a on TCP 80 only; c may send only to a. */
static const char policy_b[] =
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: b-from-a}\n"
	"spec:\n  podSelector: {matchLabels: {app: b}}\n"
	"  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: 80}]}]\n"
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: c-to-a}\n"
	"spec:\n  podSelector: {matchLabels: {app: c}}\n  policyTypes: [Egress]\n"
	"  egress: [{to: [{podSelector: {matchLabels: {app: a}}}]}]\n";

struct fixture {
	struct npgw_config cfg;
	struct npgw_config_port ports[MAX_PORTS];
	struct npgw_config_bridge bridge;
	uint16_t bridge_ports[MAX_PORTS];
	struct npgw_config_worker worker;
	struct rte_ring *rx[MAX_PORTS], *tx[MAX_PORTS];
	char names[MAX_PORTS][RTE_ETH_NAME_MAX_LEN];
	struct npgw_dp *dp;
	struct rte_mempool *mp;
	uint64_t generation;
};

static struct fixture fx;
static unsigned int ring_seq;
/* The flow tracking config the next setup() uses (off unless a test sets
 * it). */
static struct npgw_conntrack_settings next_ct;
/* The events.rate of the next setup() (0: no events). */
static uint32_t next_events_rate;

/* Fresh ring ports (ethdev names are never reused) and a data plane over
 * them: n ports in one bridge, one worker polled by this thread. */
static void setup(unsigned int n_ports, bool fail_open, bool non_ip_pass)
{
	int err = 0;

	memset(&fx, 0, sizeof(fx));
	for (unsigned int p = 0; p < n_ports; p++) {
		char rn[32];

		ring_seq++;
		snprintf(rn, sizeof(rn), "rx%u", ring_seq);
		fx.rx[p] = rte_ring_create(rn, RING_SIZE, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(rn, sizeof(rn), "tx%u", ring_seq);
		fx.tx[p] = rte_ring_create(rn, RING_SIZE, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fx.rx[p]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fx.tx[p]);
		snprintf(rn, sizeof(rn), "ring%u", ring_seq);
		int pid = rte_eth_from_rings(rn, &fx.rx[p], 1, &fx.tx[p], 1, 0);

		CU_ASSERT_FATAL(pid >= 0);
		/* the ethdev's own name, which the config's device names */
		CU_ASSERT_FATAL(rte_eth_dev_get_name_by_port((uint16_t)pid, fx.names[p]) == 0);
		fx.ports[p].name = fx.names[p];
		fx.ports[p].device = fx.names[p];
		fx.ports[p].rx_descriptors = 512;
		fx.ports[p].tx_descriptors = 512;
		fx.bridge_ports[p] = (uint16_t)p;
	}
	fx.bridge.name = br_name;
	fx.bridge.ports = fx.bridge_ports;
	fx.bridge.n_ports = n_ports;
	fx.bridge.mac_age_seconds = 300;
	fx.worker.lcore = rte_get_next_lcore(-1, 1, 0);
	fx.cfg.ports = fx.ports;
	fx.cfg.n_ports = n_ports;
	fx.cfg.bridges = &fx.bridge;
	fx.cfg.n_bridges = 1;
	fx.cfg.workers = &fx.worker;
	fx.cfg.n_workers = 1;
	fx.cfg.mbufs = 2047;
	fx.cfg.mbuf_cache = 0; /* so the free count is exact */
	fx.cfg.burst = 32;
	fx.cfg.conntrack = next_ct;
	fx.cfg.events_rate = next_events_rate;
	fx.cfg.events_burst = 256;
	fx.cfg.posture = fail_open ? NPGW_POSTURE_FAIL_OPEN : NPGW_POSTURE_FAIL_CLOSED;
	fx.cfg.non_ip_pass = non_ip_pass;
	fx.dp = npgw_dp_create(&fx.cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx.dp);
	fx.mp = npgw_dp_mempool(fx.dp);
}

/* Compile YAML and make it the live generation. */
static void publish(const char *yaml)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	struct npgw_compile_result *cr;
	struct npgw_ruleset *rs;
	int err = 0;

	CU_ASSERT_EQUAL_FATAL(npgw_k8s_load_buffer(c, "test.yaml", yaml, strlen(yaml), &d), 0);
	npgw_diags_free(&d);
	cr = npgw_compile(c, &err);
	npgw_k8s_cluster_free(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cr);
	rs = npgw_ruleset_build(cr, ++fx.generation, npgw_dp_current(fx.dp), &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
	CU_ASSERT_EQUAL_FATAL(npgw_dp_publish(fx.dp, rs), 0);
}

static char *with_policies(void)
{
	char *s = NULL;

	CU_ASSERT_FATAL(asprintf(&s, "%s%s", cluster, policy_b) > 0);
	return s;
}

/* Free what is left in the tx rings, tear down, and check the pool. */
static void teardown(void)
{
	struct rte_mbuf *m;

	for (unsigned int p = 0; p < fx.cfg.n_ports; p++)
		while (rte_ring_dequeue(fx.tx[p], (void **)&m) == 0)
			rte_pktmbuf_free(m);
	npgw_dp_stop(fx.dp);
	npgw_dp_drain(fx.dp); /* fragments the flow tables still hold */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(fx.mp), fx.cfg.mbufs);
	npgw_dp_free(fx.dp);
	for (unsigned int p = 0; p < fx.cfg.n_ports; p++) {
		rte_ring_free(fx.rx[p]);
		rte_ring_free(fx.tx[p]);
	}
	memset(&fx, 0, sizeof(fx));
	memset(&next_ct, 0, sizeof(next_ct));
	next_events_rate = 0;
}

/* ---- frames ---- */

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0x0b};
static const uint8_t mac_c[6] = {0x02, 0, 0, 0, 0, 0x0c};
static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct rte_mbuf *mk_frame(const uint8_t *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fx.mp);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), bytes, len);
	return m;
}

/* Ethernet + IPv4 (or IPv6) + TCP/UDP header with dport, into buf. */
static size_t build_ip(uint8_t *b, const uint8_t *dmac, const uint8_t *smac, const char *src,
		       const char *dst, uint8_t proto, uint16_t dport)
{
	struct npgw_addr s, d;
	size_t off = 14, l4len = proto == NPGW_PROTO_TCP ? 20 : 8;

	npgw_addr_parse(src, &s);
	npgw_addr_parse(dst, &d);
	memset(b, 0, 128);
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	if (s.family == 4) {
		b[12] = 0x08;
		b[13] = 0x00;
		b[off] = 0x45;
		b[off + 2] = 0;
		b[off + 3] = (uint8_t)(20 + l4len);
		b[off + 8] = 64;
		b[off + 9] = proto;
		memcpy(b + off + 12, s.bytes, 4);
		memcpy(b + off + 16, d.bytes, 4);
		off += 20;
	} else {
		b[12] = 0x86;
		b[13] = 0xdd;
		b[off] = 0x60;
		b[off + 5] = (uint8_t)l4len;
		b[off + 6] = proto;
		b[off + 7] = 64;
		memcpy(b + off + 8, s.bytes, 16);
		memcpy(b + off + 24, d.bytes, 16);
		off += 40;
	}
	b[off] = 0x9c;
	b[off + 1] = 0x40; /* sport 40000 */
	b[off + 2] = (uint8_t)(dport >> 8);
	b[off + 3] = (uint8_t)dport;
	if (proto == NPGW_PROTO_TCP) {
		b[off + 12] = 0x50;
		b[off + 13] = 0x02; /* SYN */
	} else {
		b[off + 5] = 8;
	}
	return off + l4len;
}

static void inject_bytes(unsigned int port, const uint8_t *b, size_t len)
{
	struct rte_mbuf *m = mk_frame(b, len);

	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(fx.rx[port], m), 0);
}

static void inject_ip(unsigned int port, const uint8_t *dmac, const uint8_t *smac,
		      const char *src, const char *dst, uint8_t proto, uint16_t dport)
{
	uint8_t b[128];

	inject_bytes(port, b, build_ip(b, dmac, smac, src, dst, proto, dport));
}

static void poll_all(void)
{
	while (npgw_dp_poll_once(fx.dp, 0) > 0)
		;
}

/* Dequeue everything port p sent; returns the count. If want is not
 * NULL, the first frame must equal it byte for byte. */
static unsigned int collect(unsigned int p, const uint8_t *want, size_t len)
{
	struct rte_mbuf *m;
	unsigned int n = 0;

	while (rte_ring_dequeue(fx.tx[p], (void **)&m) == 0) {
		if (n == 0 && want != NULL) {
			CU_ASSERT_EQUAL(rte_pktmbuf_pkt_len(m), len);
			CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(m, void *), want, len), 0);
		}
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

static uint64_t drops(unsigned int reason)
{
	struct npgw_dp_stats st;

	npgw_dp_get_stats(fx.dp, &st);
	return st.drops[reason];
}

/* ---- tests ---- */

static void test_allowed_frame_crosses_the_wire_unchanged(void)
{
	char *y = with_policies();
	uint8_t b[128];
	size_t len;

	setup(2, false, true);
	publish(y);
	len = build_ip(b, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 80);
	inject_bytes(0, b, len);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, b, len), 1);
	CU_ASSERT_EQUAL(collect(0, NULL, 0), 0);
	/* and the other way round, a different pair that nothing isolates */
	len = build_ip(b, mac_a, mac_b, "10.0.1.2", "10.0.1.1", NPGW_PROTO_UDP, 53);
	inject_bytes(1, b, len);
	poll_all();
	CU_ASSERT_EQUAL(collect(0, b, len), 1);
	struct npgw_dp_stats st;

	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.allowed, 2);
	CU_ASSERT_EQUAL(st.drops_total, 0);
	CU_ASSERT_EQUAL(st.ports[0].rx, 1);
	CU_ASSERT_EQUAL(st.ports[1].tx, 1);
	CU_ASSERT_EQUAL(st.generation, 1);
	free(y);
	teardown();
}

static void test_denied_by_ingress_is_dropped_and_counted(void)
{
	char *y = with_policies();

	setup(2, false, true);
	publish(y);
	inject_ip(0, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 81);
	inject_ip(0, mac_b, mac_c, "10.0.1.3", "10.0.1.2", NPGW_PROTO_TCP, 80);
	inject_ip(0, mac_b, mac_a, "fd00::1:1", "fd00::1:2", NPGW_PROTO_UDP, 80);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 0);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_POLICY_INGRESS), 2);
	/* c may only send to a: its egress side denies first */
	CU_ASSERT_EQUAL(drops(NPGW_DROP_POLICY_EGRESS), 1);
	free(y);
	teardown();
}

static void test_ipv6_allowed_like_ipv4(void)
{
	char *y = with_policies();

	setup(2, false, true);
	publish(y);
	inject_ip(0, mac_b, mac_a, "fd00::1:1", "fd00::1:2", NPGW_PROTO_TCP, 80);
	inject_ip(0, mac_a, mac_c, "fd00::1:3", "fd00::1:1", NPGW_PROTO_UDP, 9);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 2);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_POLICY_INGRESS) + drops(NPGW_DROP_POLICY_EGRESS), 0);
	free(y);
	teardown();
}

static void test_fail_closed_drops_ip_until_first_generation(void)
{
	char *y = with_policies();
	uint8_t arp[60] = {0};

	setup(2, false, true);
	memcpy(arp, mac_bcast, 6);
	memcpy(arp + 6, mac_a, 6);
	arp[12] = 0x08;
	arp[13] = 0x06;
	inject_ip(0, mac_b, mac_a, "10.0.1.2", "10.0.1.1", NPGW_PROTO_TCP, 22);
	inject_bytes(0, arp, sizeof(arp));
	poll_all();
	CU_ASSERT_EQUAL(drops(NPGW_DROP_NOT_READY), 1);
	CU_ASSERT_EQUAL(collect(1, arp, sizeof(arp)), 1); /* ARP passes */
	publish(y);
	inject_ip(0, mac_b, mac_a, "10.0.1.2", "10.0.1.1", NPGW_PROTO_TCP, 22);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 1);
	free(y);
	teardown();
}

static void test_fail_open_forwards_until_first_generation(void)
{
	setup(2, true, true);
	inject_ip(0, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 81);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 1);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_NOT_READY), 0);
	teardown();
}

static void test_non_ip_dropped_when_configured(void)
{
	uint8_t arp[60] = {0};

	setup(2, true, false);
	memcpy(arp, mac_bcast, 6);
	memcpy(arp + 6, mac_a, 6);
	arp[12] = 0x08;
	arp[13] = 0x06;
	inject_bytes(0, arp, sizeof(arp));
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 0);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_NON_IP), 1);
	teardown();
}

/* An ICMPv6 message of type from c to b with hop limit hlim, through
 * port 0; returns 1 when it came out of port 1, 0 when it was dropped by
 * policy (any other outcome fails). */
static unsigned int icmpv6_from_c_to_b(uint8_t type, uint8_t hlim)
{
	uint64_t denied = drops(NPGW_DROP_POLICY_EGRESS) + drops(NPGW_DROP_POLICY_INGRESS);
	uint8_t b[128];
	size_t len = build_ip(b, mac_b, mac_c, "fd00::1:3", "fd00::1:2", NPGW_PROTO_ICMPV6, 0);
	unsigned int out;

	b[14 + 7] = hlim;
	b[14 + 40] = type;
	inject_bytes(0, b, len);
	poll_all();
	out = collect(1, NULL, 0);
	CU_ASSERT_EQUAL(out + drops(NPGW_DROP_POLICY_EGRESS) + drops(NPGW_DROP_POLICY_INGRESS) -
				denied,
			1);
	return out;
}

/* b isolates ingress (TCP 80 from a only), c egress (to a only): ND and
 * MLD from c still reach b when they carry the hop limit their receivers
 * require (ND 255, MLD 1); with any other they are classified like any
 * ICMPv6 and denied, as an echo request is. */
static void test_ipv6_nd_and_mld_pass_only_with_the_hop_limit_receivers_require(void)
{
	char *y = with_policies();
	struct npgw_dp_stats st;

	setup(2, false, true);
	publish(y);
	for (uint8_t t = 133; t <= 137; t++) {
		CU_ASSERT_EQUAL(icmpv6_from_c_to_b(t, 255), 1);
		CU_ASSERT_EQUAL(icmpv6_from_c_to_b(t, 64), 0);
		CU_ASSERT_EQUAL(icmpv6_from_c_to_b(t, 254), 0);
		CU_ASSERT_EQUAL(icmpv6_from_c_to_b(t, 1), 0);
	}
	static const uint8_t mld[] = {130, 131, 132, 143};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(mld); i++) {
		CU_ASSERT_EQUAL(icmpv6_from_c_to_b(mld[i], 1), 1);
		CU_ASSERT_EQUAL(icmpv6_from_c_to_b(mld[i], 255), 0);
		CU_ASSERT_EQUAL(icmpv6_from_c_to_b(mld[i], 2), 0);
	}
	/* neither family of link control, whatever the hop limit */
	CU_ASSERT_EQUAL(icmpv6_from_c_to_b(128, 255), 0);
	CU_ASSERT_EQUAL(icmpv6_from_c_to_b(138, 255), 0);
	CU_ASSERT_EQUAL(icmpv6_from_c_to_b(129, 1), 0);
	/* a fragmented neighbour solicitation (RFC 6980: never accepted) */
	uint64_t denied = drops(NPGW_DROP_POLICY_EGRESS) + drops(NPGW_DROP_POLICY_INGRESS);
	uint8_t b[160], f[160];
	size_t len = build_ip(b, mac_b, mac_c, "fd00::1:3", "fd00::1:2", NPGW_PROTO_ICMPV6, 0);

	b[14 + 7] = 255;
	b[14 + 40] = 135;
	memcpy(f, b, 14 + 40);
	f[14 + 5] = (uint8_t)(b[14 + 5] + 8); /* payload length */
	f[14 + 6] = 44;                       /* a fragment header */
	memset(f + 54, 0, 8);
	f[54] = NPGW_PROTO_ICMPV6;
	f[57] = 1; /* offset 0, M */
	f[61] = 7; /* id */
	memcpy(f + 62, b + 54, len - 54);
	inject_bytes(0, f, len + 8);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 0);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_POLICY_EGRESS) + drops(NPGW_DROP_POLICY_INGRESS), denied + 1);
	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.non_ip, 5 + NPGW_ARRAY_SIZE(mld));
	free(y);
	teardown();
}

static void test_frames_that_carry_ip_never_pass_as_non_ip(void)
{
	static const uint16_t types[] = {0x8847, 0x8848, 0x8864, 0x88e7};
	uint8_t f[60] = {0};

	setup(2, true, true);
	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(types); i++) {
		f[12] = (uint8_t)(types[i] >> 8);
		f[13] = (uint8_t)types[i];
		inject_bytes(0, f, sizeof(f));
	}
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 0);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_ENCAP_IP), NPGW_ARRAY_SIZE(types));
	teardown();
}

static void test_malformed_frames_are_dropped_by_reason(void)
{
	uint8_t b[128];
	size_t len;

	setup(2, true, true);
	/* truncated inside the Ethernet header */
	inject_bytes(0, (const uint8_t *)"\x02\x00\x00", 3);
	/* IPv4 with IHL 4 */
	len = build_ip(b, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 80);
	b[14] = 0x44;
	inject_bytes(0, b, len);
	/* IPv4 total length past the frame */
	len = build_ip(b, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 80);
	b[16] = 0x05;
	inject_bytes(0, b, len);
	/* TCP header cut short */
	len = build_ip(b, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 80);
	b[17] = 30; /* total length 30: 10 bytes of TCP */
	inject_bytes(0, b, 44);
	/* every truncation of a valid IPv6 TCP frame */
	len = build_ip(b, mac_b, mac_a, "fd00::1:1", "fd00::1:2", NPGW_PROTO_TCP, 80);
	for (size_t cut = 1; cut < len; cut++)
		inject_bytes(0, b, cut);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 0);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_ETH_TRUNCATED), 1 + 13);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_IPV4_BAD_IHL), 1);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_IPV4_BAD_LENGTH), 1);
	CU_ASSERT(drops(NPGW_DROP_L4_TRUNCATED) >= 1);
	CU_ASSERT(drops(NPGW_DROP_IPV6_TRUNCATED) >= 1);
	struct npgw_dp_stats st;

	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.drops_total, st.ports[0].rx);
	teardown();
}

static void test_bridge_learns_macs_and_floods_unknown(void)
{
	setup(3, true, true);
	/* a (behind port 0) -> b unknown: flood to ports 1 and 2 */
	inject_ip(0, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_UDP, 1);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 1);
	CU_ASSERT_EQUAL(collect(2, NULL, 0), 1);
	/* b (port 1) answers a: a was learned on port 0 */
	inject_ip(1, mac_a, mac_b, "10.0.1.2", "10.0.1.1", NPGW_PROTO_UDP, 1);
	poll_all();
	CU_ASSERT_EQUAL(collect(0, NULL, 0), 1);
	CU_ASSERT_EQUAL(collect(2, NULL, 0), 0);
	/* a -> b is now unicast to port 1 */
	inject_ip(0, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_UDP, 1);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 1);
	CU_ASSERT_EQUAL(collect(2, NULL, 0), 0);
	/* broadcast floods */
	inject_ip(2, mac_bcast, mac_c, "10.0.1.3", "10.0.1.255", NPGW_PROTO_UDP, 1);
	poll_all();
	CU_ASSERT_EQUAL(collect(0, NULL, 0), 1);
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 1);
	/* a frame for a MAC behind its own input port goes nowhere */
	inject_ip(0, mac_a, mac_c, "10.0.1.3", "10.0.1.1", NPGW_PROTO_UDP, 1);
	poll_all();
	CU_ASSERT_EQUAL(drops(NPGW_DROP_NO_ROUTE), 1);
	teardown();
}

/* ---- connection tracking ---- */

/* x isolated both ways; a may reach b on TCP 80 (a's egress, b's ingress). */
static const char ct_policies[] =
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: deny-all}\n"
	"spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: b-from-a}\n"
	"spec:\n  podSelector: {matchLabels: {app: b}}\n"
	"  ingress: [{from: [{podSelector: {matchLabels: {app: a}}}], ports: [{port: 80}]}]\n"
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: a-to-b}\n"
	"spec:\n  podSelector: {matchLabels: {app: a}}\n  policyTypes: [Egress]\n"
	"  egress: [{to: [{podSelector: {matchLabels: {app: b}}}], ports: [{port: 80}]}]\n";

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* An IPv4 TCP frame from sport to dport with flags. */
static size_t build_tcp(uint8_t *b, const uint8_t *dmac, const uint8_t *smac, const char *src,
			const char *dst, uint16_t sport, uint16_t dport, uint8_t flags)
{
	size_t len = build_ip(b, dmac, smac, src, dst, NPGW_PROTO_TCP, dport);

	b[34] = (uint8_t)(sport >> 8);
	b[35] = (uint8_t)sport;
	b[34 + 13] = flags;
	return len;
}

static void inject_tcp(unsigned int port, const char *src, const char *dst, uint16_t sport,
		       uint16_t dport, uint8_t flags)
{
	uint8_t b[128];
	bool from_a = strcmp(src, "10.0.1.1") == 0;

	inject_bytes(port, b,
		     build_tcp(b, from_a ? mac_b : mac_a, from_a ? mac_a : mac_b, src, dst, sport,
			       dport, flags));
}

/* Flow tracking on, with the config's default timeouts. */
static struct npgw_conntrack_settings ct_config(enum npgw_conntrack_revoke revoke, uint32_t capacity)
{
	struct npgw_conntrack_settings s;

	npgw_conntrack_settings_defaults(&s);
	s.capacity = capacity;
	s.denied_capacity = capacity;
	s.revoke = revoke;
	s.frag_hold = 8;
	s.timeouts.tcp_established = 3600;
	return s;
}

static void ct_setup(enum npgw_conntrack_revoke revoke)
{
	char *y = NULL;

	next_ct = ct_config(revoke, 1024);
	setup(2, false, true);
	CU_ASSERT_FATAL(asprintf(&y, "%s%s", cluster, ct_policies) > 0);
	publish(y);
	free(y);
}

/* a (port 0) opens a connection to b (port 1): SYN, SYN-ACK, ACK. */
static void handshake(void)
{
	inject_tcp(0, "10.0.1.1", "10.0.1.2", 40000, 80, TCP_SYN);
	poll_all();
	inject_tcp(1, "10.0.1.2", "10.0.1.1", 80, 40000, TCP_SYN | TCP_ACK);
	poll_all();
	inject_tcp(0, "10.0.1.1", "10.0.1.2", 40000, 80, TCP_ACK);
	poll_all();
}

static void test_reply_of_an_allowed_connection_passes_where_the_reverse_is_denied(void)
{
	struct npgw_dp_stats st;

	ct_setup(NPGW_CONNTRACK_REVOKE_DROP);
	/* b may not open a connection to a */
	inject_tcp(1, "10.0.1.2", "10.0.1.1", 40001, 80, TCP_SYN);
	poll_all();
	CU_ASSERT_EQUAL(collect(0, NULL, 0), 0);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_POLICY_EGRESS), 1);
	/* but its replies to a's connection pass */
	handshake();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 2); /* SYN, ACK */
	CU_ASSERT_EQUAL(collect(0, NULL, 0), 1); /* SYN-ACK */
	inject_tcp(1, "10.0.1.2", "10.0.1.1", 80, 40000, TCP_ACK);
	poll_all();
	CU_ASSERT_EQUAL(collect(0, NULL, 0), 1);
	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT(st.ct.enabled);
	CU_ASSERT_EQUAL(st.ct.inserts, 1);
	CU_ASSERT_EQUAL(st.ct.in_use, 1);
	teardown();
}

static void test_mid_stream_packet_without_syn_is_classified(void)
{
	struct npgw_dp_stats st;

	ct_setup(NPGW_CONNTRACK_REVOKE_DROP);
	/* an ACK from b to a with no flow: classified as new, and denied */
	inject_tcp(1, "10.0.1.2", "10.0.1.1", 80, 40000, TCP_ACK);
	/* an ACK from a to b with no flow: allowed by policy, but opens none */
	inject_tcp(0, "10.0.1.1", "10.0.1.2", 40000, 80, TCP_ACK);
	poll_all();
	CU_ASSERT_EQUAL(collect(0, NULL, 0), 0);
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 1);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_POLICY_EGRESS), 1);
	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.ct.inserts, 0);
	teardown();
}

/* Establish a flow, then make b-from-a disappear: what its next packet
 * meets depends on the revocation mode. */
static void revoke_with(enum npgw_conntrack_revoke mode, unsigned int out_b, unsigned int out_a,
			uint64_t revoked_drops)
{
	char *y = NULL;

	ct_setup(mode);
	handshake();
	collect(0, NULL, 0);
	collect(1, NULL, 0);
	CU_ASSERT_FATAL(asprintf(&y, "%s%s", cluster,
				 "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
				 "metadata: {namespace: x, name: deny-all}\n"
				 "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n") > 0);
	publish(y);
	free(y);
	inject_tcp(0, "10.0.1.1", "10.0.1.2", 40000, 80, TCP_ACK);
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), out_b);
	CU_ASSERT_EQUAL(collect(0, NULL, 0), out_a);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_CT_REVOKED), revoked_drops);
	teardown();
}

static void test_revoked_connection_stops_in_drop_mode(void)
{
	revoke_with(NPGW_CONNTRACK_REVOKE_DROP, 0, 0, 1);
}

static void test_revoked_connection_lives_on_in_keep_mode(void)
{
	revoke_with(NPGW_CONNTRACK_REVOKE_KEEP, 1, 0, 0);
}

static void test_revoked_connection_gets_resets_in_reset_mode(void)
{
	/* the packet is dropped; a RST goes on to b and one back to a */
	revoke_with(NPGW_CONNTRACK_REVOKE_RESET, 1, 1, 1);
}

/* An IPv4 UDP fragment of datagram id: offset in bytes, more fragments. */
static size_t build_frag(uint8_t *b, const char *src, const char *dst, uint16_t id,
			 uint16_t offset, bool more, uint16_t dport)
{
	size_t len = build_ip(b, mac_b, mac_a, src, dst, NPGW_PROTO_UDP, dport);
	uint16_t fo = (uint16_t)((more ? 0x2000 : 0) | (offset / 8));

	len += 16; /* 24 bytes of UDP payload: a multiple of 8 */
	b[16] = 0;
	b[17] = (uint8_t)(len - 14);
	b[18] = (uint8_t)(id >> 8);
	b[19] = (uint8_t)id;
	b[20] = (uint8_t)(fo >> 8);
	b[21] = (uint8_t)fo;
	return len;
}

static void test_later_fragments_follow_their_first(void)
{
	uint8_t b[160];

	ct_setup(NPGW_CONNTRACK_REVOKE_DROP);
	/* allowed datagram a -> b UDP... b admits TCP 80 only: use a's egress
	 * to b on TCP? UDP to b is denied; so the denied case is UDP, and the
	 * allowed one is a datagram from a to b on TCP 80. */
	memset(b, 0, sizeof(b));
	/* denied: UDP a -> b port 80 (b admits TCP only) */
	inject_bytes(0, b, build_frag(b, "10.0.1.1", "10.0.1.2", 7, 0, true, 80));
	inject_bytes(0, b, build_frag(b, "10.0.1.1", "10.0.1.2", 7, 32, false, 80));
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 0);
	CU_ASSERT_EQUAL(drops(NPGW_DROP_POLICY_EGRESS) + drops(NPGW_DROP_POLICY_INGRESS), 2);
	/* a later fragment whose first never came: held, then dropped on
	 * timeout, or refused; never forwarded */
	inject_bytes(0, b, build_frag(b, "10.0.1.1", "10.0.1.2", 9, 32, false, 80));
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 0);
	teardown();
}

static void test_later_fragments_of_an_allowed_datagram_pass(void)
{
	uint8_t b[160];
	char *y = NULL;

	ct_setup(NPGW_CONNTRACK_REVOKE_DROP);
	/* let a send UDP 80 to b too */
	CU_ASSERT_FATAL(asprintf(&y, "%s%s%s", cluster, ct_policies,
				 "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
				 "metadata: {namespace: x, name: udp}\n"
				 "spec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"
				 "  ingress: [{ports: [{port: 80, protocol: UDP}]}]\n"
				 "  egress: [{ports: [{port: 80, protocol: UDP}]}]\n") > 0);
	publish(y);
	free(y);
	memset(b, 0, sizeof(b));
	/* out of order: the later fragment first (held), then the first */
	inject_bytes(0, b, build_frag(b, "10.0.1.1", "10.0.1.2", 11, 32, false, 80));
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 0);
	inject_bytes(0, b, build_frag(b, "10.0.1.1", "10.0.1.2", 11, 0, true, 80));
	poll_all();
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 2);
	teardown();
}

/*
 * Several workers: the test plays the NIC's RSS, spreading frames over the
 * rx queues by the Toeplitz hash with the key the ports are configured with
 * (npgw_dp_rss_key). Both directions of every flow must reach the same
 * queue, hence the same worker and flow table: a reply that reached
 * another worker would find no flow there and be denied.
 */
static void several_workers(unsigned int n_workers, unsigned int n_flows)
{
	struct rte_ring *rx[2][4], *tx[2][4];
	struct npgw_config_worker workers[4];
	struct npgw_config_port ports[2];
	struct npgw_config_bridge bridge;
	uint16_t bports[2] = {0, 1};
	char names[2][RTE_ETH_NAME_MAX_LEN];
	struct npgw_config cfg;
	struct npgw_dp *dp;
	size_t klen;
	const uint8_t *key = npgw_dp_rss_key(&klen);
	uint8_t be_key[64];
	char *y = NULL;
	int err = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ n_workers, got_b = 0, got_a = 0, mismatched = 0;

	CU_ASSERT_FATAL(klen <= sizeof(be_key));
	rte_convert_rss_key((const uint32_t *)key, (uint32_t *)be_key, (int)klen);
	memset(&cfg, 0, sizeof(cfg));
	memset(ports, 0, sizeof(ports));
	memset(workers, 0, sizeof(workers));
	for (unsigned int p = 0; p < 2; p++) {
		char rn[32];
		int pid;

		for (unsigned int q = 0; q < n_workers; q++) {
			ring_seq++;
			snprintf(rn, sizeof(rn), "mrx%u", ring_seq);
			rx[p][q] = rte_ring_create(rn, 32768, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(rn, sizeof(rn), "mtx%u", ring_seq);
			tx[p][q] = rte_ring_create(rn, 32768, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
			CU_ASSERT_FATAL(rx[p][q] != NULL && tx[p][q] != NULL);
		}
		snprintf(rn, sizeof(rn), "mring%u", ring_seq);
		pid = rte_eth_from_rings(rn, rx[p], n_workers, tx[p], n_workers, 0);
		CU_ASSERT_FATAL(pid >= 0);
		CU_ASSERT_FATAL(rte_eth_dev_get_name_by_port((uint16_t)pid, names[p]) == 0);
		ports[p].name = names[p];
		ports[p].device = names[p];
		ports[p].rx_descriptors = 512;
		ports[p].tx_descriptors = 512;
	}
	for (unsigned int w = 0; w < n_workers; w++)
		workers[w].lcore = w + 1; /* never launched: polled by this thread */
	bridge = (struct npgw_config_bridge){.name = br_name, .ports = bports, .n_ports = 2,
					     .mac_age_seconds = 300};
	cfg.ports = ports;
	cfg.n_ports = 2;
	cfg.bridges = &bridge;
	cfg.n_bridges = 1;
	cfg.workers = workers;
	cfg.n_workers = n_workers;
	cfg.mbufs = 8191;
	cfg.burst = 32;
	cfg.non_ip_pass = true;
	cfg.conntrack = ct_config(NPGW_CONNTRACK_REVOKE_DROP, 4 * n_flows);
	cfg.conntrack.frag_hold = 0;
	dp = npgw_dp_create(&cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
	memset(&fx, 0, sizeof(fx));
	fx.dp = dp;
	fx.mp = npgw_dp_mempool(dp);
	CU_ASSERT_FATAL(asprintf(&y, "%s%s", cluster, ct_policies) > 0);
	publish(y);
	free(y);

	for (unsigned int f = 0; f < n_flows; f++) {
		/* a random flow from a to b:80 (allowed), then b's reply */
		uint16_t sport;
		unsigned int q_fwd, q_rev;
		struct rte_ipv4_tuple t;
		uint8_t b[128];
		size_t len;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		sport = (uint16_t)(1024 + seed % 60000);
		t.src_addr = RTE_IPV4(10, 0, 1, 1);
		t.dst_addr = RTE_IPV4(10, 0, 1, 2);
		t.sport = sport;
		t.dport = 80;
		q_fwd = rte_softrss_be((uint32_t *)&t, RTE_THASH_V4_L4_LEN, be_key) % n_workers;
		t.src_addr = RTE_IPV4(10, 0, 1, 2);
		t.dst_addr = RTE_IPV4(10, 0, 1, 1);
		t.sport = 80;
		t.dport = sport;
		q_rev = rte_softrss_be((uint32_t *)&t, RTE_THASH_V4_L4_LEN, be_key) % n_workers;
		if (q_fwd != q_rev)
			mismatched++;
		len = build_tcp(b, mac_b, mac_a, "10.0.1.1", "10.0.1.2", sport, 80, TCP_SYN);
		CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(rx[0][q_fwd], mk_frame(b, len)), 0);
		len = build_tcp(b, mac_a, mac_b, "10.0.1.2", "10.0.1.1", 80, sport,
				TCP_SYN | TCP_ACK);
		CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(rx[1][q_rev], mk_frame(b, len)), 0);
		if (f % 256 == 255 || f + 1 == n_flows) {
			/* the SYNs first, then the replies: each worker in turn */
			for (unsigned int w = 0; w < n_workers; w++)
				while (npgw_dp_poll_once(dp, w) > 0)
					;
			for (unsigned int q = 0; q < n_workers; q++) {
				struct rte_mbuf *m;

				while (rte_ring_dequeue(tx[1][q], (void **)&m) == 0) {
					got_b++;
					rte_pktmbuf_free(m);
				}
				while (rte_ring_dequeue(tx[0][q], (void **)&m) == 0) {
					got_a++;
					rte_pktmbuf_free(m);
				}
			}
		}
	}
	CU_ASSERT_EQUAL(mismatched, 0);
	CU_ASSERT_EQUAL(got_b, n_flows); /* every SYN */
	CU_ASSERT_EQUAL(got_a, n_flows); /* every reply met its flow */
	printf("\n  %u workers: %u flows, both directions on one queue for all; %lu replies "
	       "passed\n",
	       n_workers, n_flows, (unsigned long)got_a);
	npgw_dp_drain(dp);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(fx.mp), cfg.mbufs);
	npgw_dp_free(dp);
	memset(&fx, 0, sizeof(fx));
	for (unsigned int p = 0; p < 2; p++)
		for (unsigned int q = 0; q < n_workers; q++) {
			rte_ring_free(rx[p][q]);
			rte_ring_free(tx[p][q]);
		}
}

static void test_two_workers_both_directions_meet_the_same_worker(void)
{
	several_workers(2, 10000);
}

static void test_four_workers_both_directions_meet_the_same_worker(void)
{
	several_workers(4, 10000);
}

/* ---- several workers: software steering ---- */

/*
 * Four workers on net_ring ports, the test playing the NIC's RSS as
 * several_workers does: a frame goes to queue Toeplitz(key, tuple) % 4,
 * the tuple with ports for TCP and UDP that are not fragments, the
 * address pair alone for fragments and ICMP (what NICs hash them on). An
 * independent model: DPDK's rte_thash_load_v6_addrs and tuple layouts.
 */
#define MW_WORKERS 4

struct mw {
	unsigned int n; /* workers, and rx/tx queues per port */
	struct rte_ring *rx[2][MW_WORKERS], *tx[2][MW_WORKERS];
	struct npgw_config_worker workers[MW_WORKERS];
	struct npgw_config_port ports[2];
	struct npgw_config_bridge bridge;
	uint16_t bports[2];
	char names[2][RTE_ETH_NAME_MAX_LEN];
	struct npgw_config cfg;
	uint8_t be_key[64];
};

static struct mw mw;

/* UDP to port 80 allowed both ways for every pod of x, on top of
 * ct_policies (a -> b TCP 80 only). */
static const char udp80_policy[] =
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: udp}\n"
	"spec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"
	"  ingress: [{ports: [{port: 80, protocol: UDP}]}]\n"
	"  egress: [{ports: [{port: 80, protocol: UDP}]}]\n";

static void mw_setup_n(unsigned int n_workers, uint32_t frag_hold)
{
	size_t klen;
	const uint8_t *key = npgw_dp_rss_key(&klen);
	char *y = NULL;
	int err = 0;

	memset(&mw, 0, sizeof(mw));
	mw.n = n_workers;
	CU_ASSERT_FATAL(klen <= sizeof(mw.be_key));
	rte_convert_rss_key((const uint32_t *)key, (uint32_t *)mw.be_key, (int)klen);
	for (unsigned int p = 0; p < 2; p++) {
		char rn[32];
		int pid;

		for (unsigned int q = 0; q < mw.n; q++) {
			ring_seq++;
			snprintf(rn, sizeof(rn), "srx%u", ring_seq);
			mw.rx[p][q] = rte_ring_create(rn, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(rn, sizeof(rn), "stx%u", ring_seq);
			mw.tx[p][q] = rte_ring_create(rn, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
			CU_ASSERT_FATAL(mw.rx[p][q] != NULL && mw.tx[p][q] != NULL);
		}
		snprintf(rn, sizeof(rn), "sring%u", ring_seq);
		pid = rte_eth_from_rings(rn, mw.rx[p], mw.n, mw.tx[p], mw.n, 0);
		CU_ASSERT_FATAL(pid >= 0);
		CU_ASSERT_FATAL(rte_eth_dev_get_name_by_port((uint16_t)pid, mw.names[p]) == 0);
		mw.ports[p].name = mw.names[p];
		mw.ports[p].device = mw.names[p];
		mw.ports[p].rx_descriptors = 512;
		mw.ports[p].tx_descriptors = 512;
		mw.bports[p] = (uint16_t)p;
	}
	for (unsigned int w = 0; w < mw.n; w++)
		mw.workers[w].lcore = w + 1; /* never launched: polled by this thread */
	mw.bridge = (struct npgw_config_bridge){.name = br_name, .ports = mw.bports, .n_ports = 2,
						.mac_age_seconds = 300};
	mw.cfg.ports = mw.ports;
	mw.cfg.n_ports = 2;
	mw.cfg.bridges = &mw.bridge;
	mw.cfg.n_bridges = 1;
	mw.cfg.workers = mw.workers;
	mw.cfg.n_workers = mw.n;
	mw.cfg.mbufs = 2047;
	mw.cfg.mbuf_cache = 0;
	mw.cfg.burst = 32;
	mw.cfg.non_ip_pass = true;
	mw.cfg.conntrack = ct_config(NPGW_CONNTRACK_REVOKE_DROP, 1024);
	mw.cfg.conntrack.frag_hold = frag_hold;
	memset(&fx, 0, sizeof(fx));
	fx.dp = npgw_dp_create(&mw.cfg, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fx.dp);
	fx.mp = npgw_dp_mempool(fx.dp);
	CU_ASSERT_FATAL(asprintf(&y, "%s%s%s", cluster, ct_policies, udp80_policy) > 0);
	publish(y);
	free(y);
}

static void mw_setup(void)
{
	mw_setup_n(MW_WORKERS, 8);
}

static void mw_teardown(void)
{
	struct rte_mbuf *m;

	for (unsigned int p = 0; p < 2; p++)
		for (unsigned int q = 0; q < mw.n; q++)
			while (rte_ring_dequeue(mw.tx[p][q], (void **)&m) == 0)
				rte_pktmbuf_free(m);
	npgw_dp_drain(fx.dp);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(fx.mp), mw.cfg.mbufs);
	npgw_dp_free(fx.dp);
	for (unsigned int p = 0; p < 2; p++)
		for (unsigned int q = 0; q < mw.n; q++) {
			rte_ring_free(mw.rx[p][q]);
			rte_ring_free(mw.tx[p][q]);
		}
	memset(&fx, 0, sizeof(fx));
}

/* Poll every worker until none has anything left (steering rings too). */
static void mw_poll(void)
{
	bool more;

	do {
		more = false;
		for (unsigned int w = 0; w < mw.n; w++)
			while (npgw_dp_poll_once(fx.dp, w) > 0)
				more = true;
	} while (more);
}

/* Frames port p sent, over all its queues. */
static unsigned int mw_collect(unsigned int p)
{
	struct rte_mbuf *m;
	unsigned int n = 0;

	for (unsigned int q = 0; q < mw.n; q++)
		while (rte_ring_dequeue(mw.tx[p][q], (void **)&m) == 0) {
			rte_pktmbuf_free(m);
			n++;
		}
	return n;
}

/* The queue RSS gives src -> dst, with the ports when l4. */
static unsigned int mw_rss(const char *src, const char *dst, bool l4, uint16_t sport,
			   uint16_t dport)
{
	struct npgw_addr s, d;
	union rte_thash_tuple t;
	uint32_t len;

	npgw_addr_parse(src, &s);
	npgw_addr_parse(dst, &d);
	memset(&t, 0, sizeof(t));
	if (s.family == 4) {
		t.v4.src_addr = (uint32_t)s.bytes[0] << 24 | (uint32_t)s.bytes[1] << 16 |
				(uint32_t)s.bytes[2] << 8 | s.bytes[3];
		t.v4.dst_addr = (uint32_t)d.bytes[0] << 24 | (uint32_t)d.bytes[1] << 16 |
				(uint32_t)d.bytes[2] << 8 | d.bytes[3];
		t.v4.sport = sport;
		t.v4.dport = dport;
		len = l4 ? RTE_THASH_V4_L4_LEN : RTE_THASH_V4_L3_LEN;
	} else {
		struct rte_ipv6_hdr h;

		memset(&h, 0, sizeof(h));
		memcpy(&h.src_addr, s.bytes, 16);
		memcpy(&h.dst_addr, d.bytes, 16);
		rte_thash_load_v6_addrs(&h, &t);
		t.v6.sport = sport;
		t.v6.dport = dport;
		len = l4 ? RTE_THASH_V6_L4_LEN : RTE_THASH_V6_L3_LEN;
	}
	return rte_softrss_be((uint32_t *)&t, len, mw.be_key) % mw.n;
}

static void mw_inject(unsigned int port, unsigned int q, const uint8_t *b, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(mw.rx[port][q % mw.n], mk_frame(b, len)), 0);
}

/* Fragment [off, off + n) of the UDP datagram in l4 (l4len bytes), from
 * src to dst. */
static size_t mw_frag(const char *src, const char *dst, uint32_t id, const uint8_t *l4,
		      size_t l4len, size_t off, size_t n, uint8_t *out)
{
	struct ctf_ip o = {.src = src, .dst = dst, .proto = NPGW_PROTO_UDP, .frag = true,
			   .frag_id = id, .frag_off = (uint16_t)off, .mf = off + n < l4len};

	return ctf_wrap(&o, l4 + off, n, out);
}

/*
 * The reply of an allowed UDP flow, fragmented in three, every fragment on
 * a queue RSS would not have put it on for npgw's sake (the first away from
 * its flow's worker, the later ones away from their datagram's home, the
 * RSS worker of the address pair): all three pass, as the reply they are.
 * A denied datagram spread the same way: all three dropped by policy.
 */
static void steer_fragments(int fam)
{
	const char *a = fam == 4 ? "10.0.1.1" : "fd00::1:1", *b = fam == 4 ? "10.0.1.2" : "fd00::1:2";
	uint8_t payload[40], l4[64], f[CTF_MAX];
	uint16_t sport = 40000;
	unsigned int owner, home, q[3];
	struct npgw_dp_stats st;
	size_t len, l4len;

	mw_setup();
	/* a flow whose worker is not its address pair's: the first fragment
	 * is decided on one and recorded on the other */
	home = mw_rss(a, b, false, 0, 0);
	while ((owner = mw_rss(a, b, true, sport, 80)) == home)
		sport++;
	len = ctf_udp(a, sport, b, 80, f);
	mw_inject(0, owner, f, len);
	mw_poll();
	CU_ASSERT_EQUAL(mw_collect(1), 1);

	memset(payload, 0x5a, sizeof(payload));
	struct ctf_l4 u = {.proto = NPGW_PROTO_UDP, .sport = 80, .dport = sport,
			   .payload = payload, .plen = sizeof(payload)};

	l4len = ctf_l4_build(&u, l4); /* 48 bytes: three fragments of 16 */
	q[0] = (owner + 1) % MW_WORKERS == home ? (owner + 2) % MW_WORKERS : (owner + 1) % MW_WORKERS;
	q[1] = (home + 1) % MW_WORKERS;
	q[2] = (home + 2) % MW_WORKERS;
	/* a later fragment first (held at the home), then the first, then the last */
	mw_inject(1, q[1], f, mw_frag(b, a, 4242, l4, l4len, 16, 16, f));
	mw_inject(1, q[0], f, mw_frag(b, a, 4242, l4, l4len, 0, 16, f));
	mw_inject(1, q[2], f, mw_frag(b, a, 4242, l4, l4len, 32, 16, f));
	mw_poll();
	CU_ASSERT_EQUAL(mw_collect(0), 3);
	npgw_dp_get_stats(fx.dp, &st);
	/* first: to its flow's worker, then to its home; two later ones home */
	CU_ASSERT_EQUAL(st.steered, 4);
	CU_ASSERT_EQUAL(st.drops_total, 0);

	/* a -> b UDP 81: denied (b admits UDP 80 only), its fragments too */
	u = (struct ctf_l4){.proto = NPGW_PROTO_UDP, .sport = sport, .dport = 81,
			    .payload = payload, .plen = sizeof(payload)};
	l4len = ctf_l4_build(&u, l4);
	for (unsigned int i = 0; i < 3; i++)
		mw_inject(0, (home + 1 + i) % MW_WORKERS, f,
			  mw_frag(a, b, 4343, l4, l4len, 16 * i, 16, f));
	mw_poll();
	CU_ASSERT_EQUAL(mw_collect(1), 0);
	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.drops[NPGW_DROP_POLICY_EGRESS] + st.drops[NPGW_DROP_POLICY_INGRESS], 3);
	CU_ASSERT_EQUAL(st.drops_total, 3);
	CU_ASSERT_EQUAL(st.drops[NPGW_DROP_STEER_FULL], 0);
	printf("\n  IPv%d: %lu frames steered to the worker of their flow\n", fam,
	       (unsigned long)st.steered);
	mw_teardown();
}

static void test_four_workers_fragments_on_any_queue_follow_their_flow_ipv4(void)
{
	steer_fragments(4);
}

static void test_four_workers_fragments_on_any_queue_follow_their_flow_ipv6(void)
{
	steer_fragments(6);
}

/*
 * A router's ICMP error about a connection a opened, arriving on another
 * worker's queue than the connection's: related, it passes (a admits
 * nothing by policy). The same error about a connection that does not
 * exist is steered too, and dropped as unrelated.
 */
static void steer_icmp_error(int fam)
{
	const char *a = fam == 4 ? "10.0.1.1" : "fd00::1:1", *b = fam == 4 ? "10.0.1.2" : "fd00::1:2";
	const char *r = fam == 4 ? "10.9.9.9" : "fd00::99";
	const uint8_t type = fam == 4 ? 3 : 2, code = fam == 4 ? 4 : 0; /* frag needed / too big */
	uint8_t syn[CTF_MAX], e[CTF_MAX];
	unsigned int owner, q;
	struct npgw_dp_stats st;
	size_t len, el;

	mw_setup();
	len = ctf_tcp(a, 40000, b, 80, 0x02, syn);
	owner = mw_rss(a, b, true, 40000, 80);
	mw_inject(0, owner, syn, len);
	mw_poll();
	CU_ASSERT_EQUAL(mw_collect(1), 1);
	el = ctf_icmp_error(r, a, type, code, syn, len, 64, e);
	q = (owner + 1) % MW_WORKERS;
	mw_inject(1, q, e, el);
	mw_poll();
	CU_ASSERT_EQUAL(mw_collect(0), 1);
	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.steered, 1);
	CU_ASSERT_EQUAL(st.drops_total, 0);
	/* about a connection nobody opened */
	len = ctf_tcp(a, 40001, b, 80, 0x02, syn);
	owner = mw_rss(a, b, true, 40001, 80);
	el = ctf_icmp_error(r, a, type, code, syn, len, 64, e);
	mw_inject(1, (owner + 1) % MW_WORKERS, e, el);
	mw_poll();
	CU_ASSERT_EQUAL(mw_collect(0), 0);
	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.steered, 2);
	CU_ASSERT_EQUAL(st.drops[NPGW_DROP_ICMP_UNRELATED], 1);
	CU_ASSERT_EQUAL(st.drops_total, 1);
	mw_teardown();
}

static void test_four_workers_icmp_error_on_another_queue_is_related_ipv4(void)
{
	steer_icmp_error(4);
}

static void test_four_workers_icmp_error_on_another_queue_is_related_ipv6(void)
{
	steer_icmp_error(6);
}

/* The ring to a worker that does not poll holds DP_STEER_RING_SIZE - 1
 * frames: the rest are dropped and counted as steer-full, never lost;
 * what the ring held passes once the owner polls. */
static void test_four_workers_full_steering_ring_drops_and_counts(void)
{
	uint8_t syn[CTF_MAX], e[CTF_MAX];
	unsigned int owner, q;
	struct npgw_dp_stats st;
	size_t len, el;

	mw_setup();
	len = ctf_tcp("10.0.1.1", 40000, "10.0.1.2", 80, 0x02, syn);
	owner = mw_rss("10.0.1.1", "10.0.1.2", true, 40000, 80);
	mw_inject(0, owner, syn, len);
	mw_poll();
	CU_ASSERT_EQUAL(mw_collect(1), 1);
	el = ctf_icmp_error("10.9.9.9", "10.0.1.1", 3, 4, syn, len, 64, e);
	q = (owner + 1) % MW_WORKERS;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 600; i++)
			mw_inject(1, q, e, el);
		while (npgw_dp_poll_once(fx.dp, q) > 0)
			;
	}
	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.drops[NPGW_DROP_STEER_FULL], 1200 - 1023);
	CU_ASSERT_EQUAL(st.steered, 1023);
	mw_poll();
	CU_ASSERT_EQUAL(mw_collect(0), 1023);
	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.drops_total, 1200 - 1023);
	mw_teardown();
}

/*
 * The same frames through four workers, each fragment and ICMP error on a
 * random queue, and through one worker: what leaves each port and every
 * drop counter must be the same (steering makes four workers one table's
 * worth of state). Per round: six TCP connections a -> b:80 and six UDP
 * flows a -> b:80 set up on their RSS queues (either family), then for
 * each UDP flow b's reply in three fragments in a random order, a denied
 * datagram (UDP 81) in two, a router's error about the connection (quotes
 * of the least, 64 bytes and all of the SYN) and one about a connection
 * nobody opened.
 */
struct mw_frame {
	uint8_t port, q;
	bool poll_after;
	uint16_t len;
	uint8_t b[160];
};

#define MW_ROUNDS 20
#define MW_SCRIPT_MAX (MW_ROUNDS * 64)
static struct mw_frame mw_script[MW_SCRIPT_MAX];
static unsigned int mw_script_n;
static uint64_t mw_seed;

static uint32_t mw_rnd(void)
{
	mw_seed ^= mw_seed << 13;
	mw_seed ^= mw_seed >> 7;
	mw_seed ^= mw_seed << 17;
	return (uint32_t)(mw_seed >> 16);
}

static void script_add(unsigned int port, unsigned int q, const uint8_t *b, size_t len)
{
	struct mw_frame *f = &mw_script[mw_script_n++];

	CU_ASSERT_FATAL(mw_script_n <= MW_SCRIPT_MAX && len <= sizeof(f->b));
	f->port = (uint8_t)port;
	f->q = (uint8_t)q;
	f->len = (uint16_t)len;
	f->poll_after = false;
	memcpy(f->b, b, len);
}

/* Make the script (queues as RSS gives them with MW_WORKERS workers). */
static void script_make(void)
{
	uint8_t payload[40], l4[64], f[CTF_MAX], e[CTF_MAX];

	memset(payload, 0xa5, sizeof(payload));
	mw_script_n = 0;
	for (unsigned int r = 0; r < MW_ROUNDS; r++) {
		int fam[6];
		uint16_t sport[6];

		for (unsigned int i = 0; i < 6; i++) {
			const char *a, *b;
			size_t len;

			fam[i] = mw_rnd() & 1 ? 4 : 6;
			sport[i] = (uint16_t)(2000 + r * 20 + i * 2); /* sport + 1: no flow */
			a = fam[i] == 4 ? "10.0.1.1" : "fd00::1:1";
			b = fam[i] == 4 ? "10.0.1.2" : "fd00::1:2";
			len = ctf_tcp(a, sport[i], b, 80, 0x02, f);
			script_add(0, mw_rss(a, b, true, sport[i], 80), f, len);
			len = ctf_tcp(b, 80, a, sport[i], 0x12, f);
			script_add(1, mw_rss(b, a, true, 80, sport[i]), f, len);
			len = ctf_udp(a, sport[i], b, 80, f);
			script_add(0, mw_rss(a, b, true, sport[i], 80), f, len);
		}
		mw_script[mw_script_n - 1].poll_after = true;
		for (unsigned int i = 0; i < 6; i++) {
			const char *a = fam[i] == 4 ? "10.0.1.1" : "fd00::1:1";
			const char *b = fam[i] == 4 ? "10.0.1.2" : "fd00::1:2";
			const char *rt = fam[i] == 4 ? "10.9.9.9" : "fd00::99";
			const uint8_t type = fam[i] == 4 ? 3 : 2, code = fam[i] == 4 ? 4 : 0;
			const size_t quotes[3] = {fam[i] == 4 ? 28 : 48, 64, 200};
			unsigned int order[3] = {0, 1, 2};
			size_t l4len, len;

			/* b's reply, three fragments in a random order */
			struct ctf_l4 u = {.proto = NPGW_PROTO_UDP, .sport = 80, .dport = sport[i],
					   .payload = payload, .plen = sizeof(payload)};

			l4len = ctf_l4_build(&u, l4);
			for (unsigned int k = 2; k > 0; k--) {
				unsigned int j = mw_rnd() % (k + 1), t = order[k];

				order[k] = order[j];
				order[j] = t;
			}
			for (unsigned int k = 0; k < 3; k++)
				script_add(1, mw_rnd() % MW_WORKERS, f,
					   mw_frag(b, a, r * 100 + i, l4, l4len, 16 * order[k], 16, f));
			/* a denied datagram, two fragments, the later first */
			u = (struct ctf_l4){.proto = NPGW_PROTO_UDP, .sport = sport[i], .dport = 81,
					    .payload = payload, .plen = 24};
			l4len = ctf_l4_build(&u, l4);
			script_add(0, mw_rnd() % MW_WORKERS, f,
				   mw_frag(a, b, r * 100 + 50 + i, l4, l4len, 16, 16, f));
			script_add(0, mw_rnd() % MW_WORKERS, f,
				   mw_frag(a, b, r * 100 + 50 + i, l4, l4len, 0, 16, f));
			/* a router's errors: about the connection, about none */
			len = ctf_tcp(a, sport[i], b, 80, 0x02, f);
			script_add(1, mw_rnd() % MW_WORKERS, e,
				   ctf_icmp_error(rt, a, type, code, f, len, quotes[mw_rnd() % 3], e));
			len = ctf_tcp(a, (uint16_t)(sport[i] + 1), b, 80, 0x02, f);
			script_add(1, mw_rnd() % MW_WORKERS, e,
				   ctf_icmp_error(rt, a, type, code, f, len, 64, e));
		}
		mw_script[mw_script_n - 1].poll_after = true;
	}
}

/* Play the script on the data plane of mw; out[p]: frames port p sent. */
static void script_run(uint64_t out[2], struct npgw_dp_stats *st)
{
	out[0] = out[1] = 0;
	for (unsigned int i = 0; i < mw_script_n; i++) {
		const struct mw_frame *f = &mw_script[i];

		mw_inject(f->port, f->q, f->b, f->len);
		if (f->poll_after) {
			mw_poll();
			out[0] += mw_collect(0);
			out[1] += mw_collect(1);
		}
	}
	npgw_dp_get_stats(fx.dp, st);
}

static void test_four_workers_forward_what_one_worker_forwards(void)
{
	uint64_t out4[2], out1[2];
	struct npgw_dp_stats st4, st1;
	const uint64_t flows = MW_ROUNDS * 6;

	mw_seed = 0x243f6a8885a308d3ull;
	mw_setup_n(MW_WORKERS, 64);
	script_make();
	script_run(out4, &st4);
	mw_teardown();
	mw_setup_n(1, 64);
	script_run(out1, &st1);
	mw_teardown();
	CU_ASSERT_EQUAL(out4[0], out1[0]);
	CU_ASSERT_EQUAL(out4[1], out1[1]);
	for (unsigned int r = 0; r < NPGW_DROP_MAX; r++)
		if (st4.drops[r] != st1.drops[r]) {
			printf("\n  drop %s: %lu with %u workers, %lu with one", npgw_drop_name(r),
			       (unsigned long)st4.drops[r], MW_WORKERS, (unsigned long)st1.drops[r]);
			CU_FAIL("a drop counter differs");
		}
	/* and what that is: to b every SYN and UDP datagram; to a every
	 * SYN-ACK, reply fragment and related error; denied fragments and
	 * unrelated errors dropped */
	CU_ASSERT_EQUAL(out1[1], 2 * flows);
	CU_ASSERT_EQUAL(out1[0], flows * (1 + 3 + 1));
	CU_ASSERT_EQUAL(st1.drops[NPGW_DROP_POLICY_EGRESS] + st1.drops[NPGW_DROP_POLICY_INGRESS],
			2 * flows);
	CU_ASSERT_EQUAL(st1.drops[NPGW_DROP_ICMP_UNRELATED], flows);
	CU_ASSERT_EQUAL(st1.drops_total, 3 * flows);
	CU_ASSERT_EQUAL(st1.steered, 0);
	CU_ASSERT(st4.steered > 0);
	printf("\n  %u frames: %u workers and one forward %lu and %lu, drop %lu and %lu; %lu steered\n",
	       mw_script_n, MW_WORKERS, (unsigned long)(out4[0] + out4[1]),
	       (unsigned long)(out1[0] + out1[1]), (unsigned long)st4.drops_total,
	       (unsigned long)st1.drops_total, (unsigned long)st4.steered);
}

/* ---- hot swap under load ---- */

static const char gen_a_extra[] = "";
/* b admits a on TCP 80 only (gen B adds nothing that changes 80) */
static const char gen_b_extra[] =
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {namespace: x, name: b-also-81}\n"
	"spec:\n  podSelector: {matchLabels: {app: b}}\n"
	"  ingress: [{ports: [{port: 81}]}]\n";

/* Both generations allow TCP 80 from a to b; only B allows 81. With flow
 * tracking, an 81 flow B allowed is revoked under A (drop mode): those drops
 * are ct-revoked instead of policy-ingress; nothing else may drop. */
static void swap_stress(bool tracked)
{
	char *ya = NULL, *yb = NULL;
	uint64_t sent80 = 0, sent81 = 0, got = 0;
	unsigned int swaps = 0;
	struct npgw_dp_stats st;

	if (rte_lcore_count() < 2) {
		/* stated, not counted as passed: the test needs a worker lcore */
		CU_FAIL("swap stress needs two lcores (-l 0,1)");
		return;
	}
	CU_ASSERT_FATAL(asprintf(&ya, "%s%s%s", cluster, policy_b, gen_a_extra) > 0);
	CU_ASSERT_FATAL(asprintf(&yb, "%s%s%s", cluster, policy_b, gen_b_extra) > 0);
	if (tracked) {
		next_ct = ct_config(NPGW_CONNTRACK_REVOKE_DROP, 1024);
		next_ct.frag_hold = 0;
	}
	setup(2, false, true);
	publish(ya);
	CU_ASSERT_EQUAL_FATAL(npgw_dp_start(fx.dp), 0);
	while (swaps < 1000) {
		/* a burst of 80 (allowed by both generations) and 81 (allowed
		 * by B only), then a swap */
		for (int i = 0; i < 16; i++) {
			uint8_t b[128];
			size_t len = build_ip(b, mac_b, mac_a, "10.0.1.1", "10.0.1.2",
					      NPGW_PROTO_TCP, (i & 1) ? 81 : 80);
			struct rte_mbuf *m = rte_pktmbuf_alloc(fx.mp);

			if (m == NULL)
				break; /* pool busy in flight: send fewer this round */
			memcpy(rte_pktmbuf_append(m, (uint16_t)len), b, len);
			if (rte_ring_enqueue(fx.rx[0], m) != 0) {
				rte_pktmbuf_free(m);
				continue;
			}
			if (i & 1)
				sent81++;
			else
				sent80++;
		}
		got += collect(1, NULL, 0);
		publish(swaps & 1 ? ya : yb);
		swaps++;
	}
	/* let the worker drain */
	for (int i = 0; i < 1000 && rte_ring_count(fx.rx[0]) > 0; i++)
		usleep(1000);
	usleep(10000);
	npgw_dp_stop(fx.dp);
	got += collect(1, NULL, 0);
	npgw_dp_get_stats(fx.dp, &st);
	/* nothing lost: every frame either left or was denied by policy */
	CU_ASSERT_EQUAL(st.ports[0].rx, sent80 + sent81);
	CU_ASSERT_EQUAL(got + st.drops_total, sent80 + sent81);
	CU_ASSERT_EQUAL(st.drops_total,
			st.drops[NPGW_DROP_POLICY_INGRESS] + st.drops[NPGW_DROP_CT_REVOKED]);
	/* 80 is allowed by both generations: every one got through */
	CU_ASSERT(got >= sent80);
	CU_ASSERT(st.drops_total <= sent81);
	CU_ASSERT_EQUAL(st.swaps, 1001);
	printf("\n  swap stress%s: %u swaps, %lu frames, %lu forwarded, %lu denied (port 81 "
	       "under generation A)\n",
	       tracked ? " (flows tracked)" : "", swaps, (unsigned long)(sent80 + sent81),
	       (unsigned long)got,
	       (unsigned long)st.drops_total);
	free(ya);
	free(yb);
	teardown();
}

static void test_swap_1000_generations_under_traffic_loses_nothing(void)
{
	swap_stress(false);
}

static void test_swap_1000_generations_with_flows_tracked_loses_nothing(void)
{
	swap_stress(true);
}

/* ---- counters for Prometheus: monotonic across generations ---- */

struct hit_find {
	const char *policy;
	uint64_t hits;
	unsigned int seen;
};

static void find_hit(const struct npgw_compile_meta *m, uint64_t hits, void *arg)
{
	struct hit_find *h = arg;

	if (strcmp(m->policy_name, h->policy) == 0 && m->rule < 0) {
		h->hits += hits;
		h->seen++;
	}
}

/* An Admin tier Deny drops a flow NetworkPolicy allows, and its rule's
 * hits carry the tier (what npgw_policy_rule_hits_total labels). */
struct tier_hit {
	uint64_t hits;
	uint8_t tier, action;
	int32_t rule;
};

static void find_tier_hit(const struct npgw_compile_meta *m, uint64_t hits, void *arg)
{
	struct tier_hit *h = arg;

	if (strcmp(m->policy_name, "guard") != 0)
		return;
	h->hits += hits;
	h->tier = m->tier;
	h->action = m->action;
	h->rule = m->rule;
}

static void test_admin_deny_drops_and_its_hits_carry_the_tier(void)
{
	static const char anp[] =
		"---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
		"metadata: {name: guard}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n"
		"  ingress:\n  - {action: Deny, from: [{pods: {namespaceSelector: {}, "
		"podSelector: {matchLabels: {app: a}}}}], ports: [{portNumber: {port: 80}}]}\n";
	struct tier_hit h = {0};
	struct npgw_dp_stats st;
	char *y = NULL;

	CU_ASSERT_FATAL(asprintf(&y, "%s%s%s", cluster, policy_b, anp) > 0);
	setup(2, false, true);
	publish(y);
	/* b-from-a allows a -> b TCP 80; the Admin Deny comes first */
	inject_ip(0, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 80);
	inject_ip(0, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 80);
	poll_all();
	CU_ASSERT_EQUAL(npgw_dp_rule_hits_total(fx.dp, find_tier_hit, &h), 0);
	CU_ASSERT_EQUAL(h.hits, 2);
	CU_ASSERT_EQUAL(h.tier, NPGW_K8S_TIER_ADMIN);
	CU_ASSERT_EQUAL(h.action, NPGW_COMPILE_DENY);
	CU_ASSERT_EQUAL(h.rule, 0);
	npgw_dp_get_counters(fx.dp, &st);
	CU_ASSERT_EQUAL(st.drops[NPGW_DROP_POLICY_INGRESS], 2);
	CU_ASSERT_EQUAL(collect(1, NULL, 0), 0); /* nothing got through */
	free(y);
	teardown();
}

static void test_rule_hits_carry_over_generations_by_identity(void)
{
	char *y = with_policies();
	struct hit_find live = {"b-from-a", 0, 0}, total = {"b-from-a", 0, 0};
	struct npgw_dp_stats st;

	setup(2, false, true);
	publish(y);
	/* two denied by b-from-a's default deny (ingress of b) */
	inject_ip(0, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 81);
	inject_ip(0, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_UDP, 81);
	poll_all();
	/* a new generation of the same policies (and one more): the rule's
	 * counter goes on from 2, the live generation's starts again */
	publish(y);
	inject_ip(0, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 82);
	poll_all();
	npgw_dp_rule_hits(fx.dp, find_hit, &live);
	CU_ASSERT_EQUAL(npgw_dp_rule_hits_total(fx.dp, find_hit, &total), 0);
	CU_ASSERT_EQUAL(live.hits, 1);
	CU_ASSERT_EQUAL(total.hits, 3);
	CU_ASSERT_EQUAL(total.seen, 1); /* one series per identity */
	/* a reset of `stats` leaves the monotonic counters alone */
	npgw_dp_reset_stats(fx.dp);
	npgw_dp_get_counters(fx.dp, &st);
	CU_ASSERT_EQUAL(st.drops[NPGW_DROP_POLICY_INGRESS], 3);
	CU_ASSERT_EQUAL(st.swaps, 2);
	npgw_dp_get_stats(fx.dp, &st);
	CU_ASSERT_EQUAL(st.drops[NPGW_DROP_POLICY_INGRESS], 0);
	collect(1, NULL, 0);
	free(y);
	teardown();
}

struct ev_list {
	struct npgw_dp_event_info ev[16];
	unsigned int n;
};

static bool take_event(const struct npgw_dp_event_info *ev, void *arg)
{
	struct ev_list *l = arg;

	if (l->n < 16)
		l->ev[l->n++] = *ev;
	return true;
}

static void test_events_name_the_flows_decided_and_their_rules(void)
{
	struct ev_list l = {.n = 0};
	struct npgw_dp_worker_stats ws;
	uint64_t missed = 1, next;
	uint8_t frame[128];
	char *y = NULL;

	next_events_rate = 1000;
	ct_setup(NPGW_CONNTRACK_REVOKE_DROP);
	/* b may not open a connection to a: x/deny-all's egress side */
	inject_tcp(1, "10.0.1.2", "10.0.1.1", 40001, 80, TCP_SYN);
	poll_all();
	/* a opens one to b: b-from-a's ingress rule 0 */
	handshake();
	/* a frame the parser refuses: IPv4 cut inside its header */
	build_ip(frame, mac_b, mac_a, "10.0.1.1", "10.0.1.2", NPGW_PROTO_TCP, 80);
	inject_bytes(0, frame, 14 + 10);
	poll_all();
	/* a new generation without b-from-a and a-to-b: a's flow is revoked
	 * at its next packet; the events of generation 1 still name its rules */
	CU_ASSERT_FATAL(asprintf(&y, "%s%s", cluster,
				 "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
				 "metadata: {namespace: x, name: deny-all}\n"
				 "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n") > 0);
	publish(y);
	free(y);
	inject_tcp(0, "10.0.1.1", "10.0.1.2", 40000, 80, TCP_ACK);
	poll_all();
	npgw_dp_events_drain(fx.dp);
	next = npgw_dp_events_read(fx.dp, 0, take_event, &l, &missed);
	CU_ASSERT_EQUAL(missed, 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 4);
	CU_ASSERT_EQUAL(next, l.ev[3].seq + 1);

	CU_ASSERT_EQUAL(l.ev[0].e.type, NPGW_DP_EV_NEW_DENIED);
	CU_ASSERT_EQUAL(l.ev[0].e.reason, NPGW_DROP_POLICY_EGRESS);
	CU_ASSERT(l.ev[0].has_rule);
	CU_ASSERT_STRING_EQUAL(l.ev[0].policy_name, "deny-all");
	CU_ASSERT_EQUAL(l.ev[0].dir, NPGW_COMPILE_EGRESS);
	CU_ASSERT_EQUAL(l.ev[0].rule, -1);
	CU_ASSERT_EQUAL(l.ev[0].e.sport, 40001);
	CU_ASSERT_EQUAL(l.ev[0].e.src[3], 2);
	CU_ASSERT_EQUAL(l.ev[0].e.state, NPGW_DP_EV_STATE_NONE);
	CU_ASSERT_EQUAL(l.ev[0].e.port, 1);

	CU_ASSERT_EQUAL(l.ev[1].e.type, NPGW_DP_EV_NEW_ALLOWED);
	CU_ASSERT_EQUAL(l.ev[1].e.reason, NPGW_DROP_NONE);
	CU_ASSERT(l.ev[1].has_rule);
	CU_ASSERT_STRING_EQUAL(l.ev[1].policy_name, "b-from-a");
	CU_ASSERT_EQUAL(l.ev[1].dir, NPGW_COMPILE_INGRESS);
	CU_ASSERT_EQUAL(l.ev[1].rule, 0);
	CU_ASSERT_EQUAL(l.ev[1].e.state, NPGW_CONNTRACK_NEW);
	CU_ASSERT_EQUAL(l.ev[1].e.generation, 1);
	CU_ASSERT_EQUAL(l.ev[1].e.dport, 80);

	CU_ASSERT_EQUAL(l.ev[2].e.type, NPGW_DP_EV_MALFORMED);
	CU_ASSERT_EQUAL(l.ev[2].e.reason, NPGW_DROP_IPV4_TRUNCATED);
	CU_ASSERT(!l.ev[2].has_rule);

	CU_ASSERT_EQUAL(l.ev[3].e.type, NPGW_DP_EV_REVOKED);
	CU_ASSERT_EQUAL(l.ev[3].e.reason, NPGW_DROP_CT_REVOKED);
	CU_ASSERT_EQUAL(l.ev[3].e.generation, 2);
	CU_ASSERT(l.ev[3].has_rule);
	CU_ASSERT_STRING_EQUAL(l.ev[3].policy_name, "deny-all");
	CU_ASSERT_EQUAL(l.ev[3].e.state, NPGW_CONNTRACK_ESTABLISHED);
	CU_ASSERT(l.ev[0].time.tv_sec > 1700000000);

	/* counted per worker; nothing lost at this rate */
	CU_ASSERT_EQUAL(npgw_dp_get_worker_stats(fx.dp, 0, true, &ws), 0);
	CU_ASSERT_EQUAL(ws.events, 4);
	CU_ASSERT_EQUAL(ws.events_lost_rate + ws.events_lost_full, 0);
	CU_ASSERT(ws.polls >= ws.busy_polls && ws.busy_polls >= 5);
	/* a cursor past the end reads nothing */
	l.n = 0;
	CU_ASSERT_EQUAL(npgw_dp_events_read(fx.dp, next, take_event, &l, NULL), next);
	CU_ASSERT_EQUAL(l.n, 0);
	collect(0, NULL, 0);
	collect(1, NULL, 0);
	teardown();
}

static void cleanup(void)
{
	rte_eal_cleanup();
}

/* The EAL's arguments: rte_eal_init takes char **, so writable storage. */
static char *eal_argv[] = {(char[]){"test_dataplane"}, (char[]){"--no-huge"}, (char[]){"-m"},
	(char[]){"256"}, (char[]){"--no-pci"}, (char[]){"--no-shconf"}, (char[]){"--no-telemetry"},
	(char[]){"--log-level=error"}, (char[]){"-l"}, (char[]){"0,1"}, NULL};

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"allowed_frame_crosses_the_wire_unchanged",
		 test_allowed_frame_crosses_the_wire_unchanged},
		{"denied_by_ingress_is_dropped_and_counted",
		 test_denied_by_ingress_is_dropped_and_counted},
		{"ipv6_allowed_like_ipv4", test_ipv6_allowed_like_ipv4},
		{"fail_closed_drops_ip_until_first_generation",
		 test_fail_closed_drops_ip_until_first_generation},
		{"fail_open_forwards_until_first_generation",
		 test_fail_open_forwards_until_first_generation},
		{"non_ip_dropped_when_configured", test_non_ip_dropped_when_configured},
		{"ipv6_nd_and_mld_pass_only_with_the_hop_limit_receivers_require",
		 test_ipv6_nd_and_mld_pass_only_with_the_hop_limit_receivers_require},
		{"frames_that_carry_ip_never_pass_as_non_ip",
		 test_frames_that_carry_ip_never_pass_as_non_ip},
		{"malformed_frames_are_dropped_by_reason", test_malformed_frames_are_dropped_by_reason},
		{"bridge_learns_macs_and_floods_unknown", test_bridge_learns_macs_and_floods_unknown},
		{"reply_of_an_allowed_connection_passes_where_the_reverse_is_denied",
		 test_reply_of_an_allowed_connection_passes_where_the_reverse_is_denied},
		{"mid_stream_packet_without_syn_is_classified",
		 test_mid_stream_packet_without_syn_is_classified},
		{"revoked_connection_stops_in_drop_mode", test_revoked_connection_stops_in_drop_mode},
		{"revoked_connection_lives_on_in_keep_mode",
		 test_revoked_connection_lives_on_in_keep_mode},
		{"revoked_connection_gets_resets_in_reset_mode",
		 test_revoked_connection_gets_resets_in_reset_mode},
		{"later_fragments_follow_their_first", test_later_fragments_follow_their_first},
		{"later_fragments_of_an_allowed_datagram_pass",
		 test_later_fragments_of_an_allowed_datagram_pass},
		{"two_workers_both_directions_meet_the_same_worker",
		 test_two_workers_both_directions_meet_the_same_worker},
		{"four_workers_both_directions_meet_the_same_worker",
		 test_four_workers_both_directions_meet_the_same_worker},
		{"four_workers_fragments_on_any_queue_follow_their_flow_ipv4",
		 test_four_workers_fragments_on_any_queue_follow_their_flow_ipv4},
		{"four_workers_fragments_on_any_queue_follow_their_flow_ipv6",
		 test_four_workers_fragments_on_any_queue_follow_their_flow_ipv6},
		{"four_workers_icmp_error_on_another_queue_is_related_ipv4",
		 test_four_workers_icmp_error_on_another_queue_is_related_ipv4},
		{"four_workers_icmp_error_on_another_queue_is_related_ipv6",
		 test_four_workers_icmp_error_on_another_queue_is_related_ipv6},
		{"four_workers_full_steering_ring_drops_and_counts",
		 test_four_workers_full_steering_ring_drops_and_counts},
		{"four_workers_forward_what_one_worker_forwards",
		 test_four_workers_forward_what_one_worker_forwards},
		{"swap_1000_generations_under_traffic_loses_nothing",
		 test_swap_1000_generations_under_traffic_loses_nothing},
		{"swap_1000_generations_with_flows_tracked_loses_nothing",
		 test_swap_1000_generations_with_flows_tracked_loses_nothing},
		{"rule_hits_carry_over_generations_by_identity",
		 test_rule_hits_carry_over_generations_by_identity},
		{"admin_deny_drops_and_its_hits_carry_the_tier",
		 test_admin_deny_drops_and_its_hits_carry_the_tier},
		{"events_name_the_flows_decided_and_their_rules",
		 test_events_name_the_flows_decided_and_their_rules},
		CU_TEST_INFO_NULL,
	};

	if (rte_eal_init((int)NPGW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		return -1;
	}
	atexit(cleanup);
	return npgw_test_add_suite("dataplane", tests);
}
