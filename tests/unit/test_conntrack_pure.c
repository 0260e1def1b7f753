/*
 * test_conntrack_pure.c: the parts of lib/conntrack that need no EAL: the
 * tuple and its normalized key, the symmetric hashes (10,000 random flows,
 * both directions), steering of ICMP errors and fragments, the quote of
 * an ICMP error (well-formed, bogus, every truncation), a fragment's
 * payload range, and the TCP RST builder byte for byte with both
 * checksums verified independently.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ct_frames.h"
#include "ct_private.h"
#include "cunit_main.h"
#include "npgw_conntrack.h"
#include "npgw_pkt.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void parse_ok(const uint8_t *f, size_t len, struct npgw_pkt_info *info)
{
	enum npgw_drop_reason r;

	CU_ASSERT_EQUAL_FATAL(npgw_pkt_parse(f, (uint32_t)len, info, &r), NPGW_PKT_IP);
}

static void random_tuple(struct npgw_conntrack_tuple *t)
{
	static const uint8_t protos[] = {NPGW_PROTO_TCP, NPGW_PROTO_UDP, NPGW_PROTO_SCTP,
					 NPGW_PROTO_ICMP, 47};

	memset(t, 0, sizeof(*t));
	t->family = rnd() & 1 ? 4 : 6;
	for (size_t i = 0; i < npgw_addr_len(t->family); i++) {
		t->src[i] = (uint8_t)rnd();
		t->dst[i] = (uint8_t)rnd();
	}
	if (rnd() % 16 == 0)
		memcpy(t->dst, t->src, 16); /* same host, different ports */
	t->proto = protos[rnd() % NPGW_ARRAY_SIZE(protos)];
	t->sport = (uint16_t)rnd();
	t->dport = (uint16_t)rnd();
	t->zone = (uint16_t)(rnd() % 4);
}

static void reverse(const struct npgw_conntrack_tuple *t, struct npgw_conntrack_tuple *r)
{
	*r = *t;
	memcpy(r->src, t->dst, 16);
	memcpy(r->dst, t->src, 16);
	r->sport = t->dport;
	r->dport = t->sport;
}

/* ---- keys and hashes ---- */

static void test_both_directions_give_one_key(void)
{
	for (int i = 0; i < 10000; i++) {
		struct npgw_conntrack_tuple t, r;
		struct ct_key a, b;
		unsigned int fa, fb;

		random_tuple(&t);
		reverse(&t, &r);
		fa = ct_key_from_tuple(&t, &a);
		fb = ct_key_from_tuple(&r, &b);
		CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
		if (memcmp(t.src, t.dst, 16) != 0 || t.sport != t.dport)
			CU_ASSERT_NOT_EQUAL(fa, fb);
		CU_ASSERT_EQUAL(a.pad[0] | a.pad[1], 0);
		/* the endpoint the source went to holds the source */
		CU_ASSERT_EQUAL(memcmp(a.addr[fa], t.src, 16), 0);
		CU_ASSERT_EQUAL(a.port[fa], t.sport);
	}
}

static void test_different_flows_give_different_keys(void)
{
	struct npgw_conntrack_tuple t, u;
	struct ct_key a, b;

	random_tuple(&t);
	t.proto = NPGW_PROTO_TCP;
	u = t;
	u.zone = (uint16_t)(t.zone + 1);
	ct_key_from_tuple(&t, &a);
	ct_key_from_tuple(&u, &b);
	CU_ASSERT_NOT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	u = t;
	u.proto = NPGW_PROTO_UDP;
	ct_key_from_tuple(&u, &b);
	CU_ASSERT_NOT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	u = t;
	u.dport++;
	ct_key_from_tuple(&u, &b);
	CU_ASSERT_NOT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
}

static void test_symmetric_hash_10000_random_flows(void)
{
	unsigned int per_worker[4] = {0};
	const uint32_t seed = 0x1234567;

	for (int i = 0; i < 10000; i++) {
		struct npgw_conntrack_tuple t, r;
		uint32_t h;

		random_tuple(&t);
		reverse(&t, &r);
		h = npgw_conntrack_hash_symmetric(&t, seed);
		CU_ASSERT_EQUAL(h, npgw_conntrack_hash_symmetric(&r, seed));
		per_worker[h % 4]++;
	}
	/* and it spreads: each of 4 workers within 10% of a quarter */
	for (int w = 0; w < 4; w++)
		CU_ASSERT(per_worker[w] > 2250 && per_worker[w] < 2750);
}

static void test_symmetric_hash_depends_on_seed(void)
{
	struct npgw_conntrack_tuple t;
	int same = 0;

	for (int i = 0; i < 100; i++) {
		random_tuple(&t);
		same += npgw_conntrack_hash_symmetric(&t, 1) == npgw_conntrack_hash_symmetric(&t, 2);
	}
	CU_ASSERT(same < 3);
}

/* The steering hash of a frame: both directions of random TCP/UDP flows
 * meet; an ICMP error meets the flow it quotes; fragments meet. */
static void test_steer_hash_flows_errors_and_fragments(void)
{
	static const char *const a4 = "10.0.1.1", *const b4 = "10.0.1.2", *const r4 = "10.9.9.9";
	static const char *const a6 = "fd00::1:1", *const b6 = "fd00::1:2", *const r6 = "fd00::99";
	uint8_t f[CTF_MAX], g[CTF_MAX], e[CTF_MAX];
	struct npgw_pkt_info fi, gi, ei;
	size_t fl, gl, el;

	for (int fam = 4; fam <= 6; fam += 2) {
		const char *a = fam == 4 ? a4 : a6, *b = fam == 4 ? b4 : b6, *r = fam == 4 ? r4 : r6;

		for (int i = 0; i < 500; i++) {
			uint16_t sp = (uint16_t)(rnd() | 1024), dp = (uint16_t)rnd();
			bool l3 = i & 1;

			fl = ctf_tcp(a, sp, b, dp, 0x10, f);
			gl = ctf_tcp(b, dp, a, sp, 0x10, g);
			parse_ok(f, fl, &fi);
			parse_ok(g, gl, &gi);
			CU_ASSERT_EQUAL(npgw_conntrack_steer_hash(f, (uint32_t)fl, &fi, 3, l3, 7),
					npgw_conntrack_steer_hash(g, (uint32_t)gl, &gi, 3, l3, 7));
			/* a router's error about a -> b, sent to a */
			el = ctf_icmp_error(r, a, fam == 4 ? 3 : 2, fam == 4 ? 4 : 0, f, fl, 64, e);
			parse_ok(e, el, &ei);
			CU_ASSERT_EQUAL(npgw_conntrack_steer_hash(e, (uint32_t)el, &ei, 3, l3, 7),
					npgw_conntrack_steer_hash(f, (uint32_t)fl, &fi, 3, l3, 7));
		}
		/* fragments: first and later, both directions, meet */
		uint8_t data[64] = {0};
		struct ctf_ip o = {.src = a, .dst = b, .proto = NPGW_PROTO_UDP, .frag = true,
				   .frag_id = 77, .mf = true};
		struct ctf_l4 u = {.proto = NPGW_PROTO_UDP, .sport = 5, .dport = 53,
				   .payload = data, .plen = 24};
		uint8_t l4[64];
		size_t n = ctf_l4_build(&u, l4);

		fl = ctf_wrap(&o, l4, 16, f);
		o.frag_off = 16;
		o.mf = false;
		gl = ctf_wrap(&o, l4 + 16, n - 16, g);
		parse_ok(f, fl, &fi);
		parse_ok(g, gl, &gi);
		CU_ASSERT_TRUE(fi.is_first_fragment);
		CU_ASSERT_TRUE(gi.is_fragment && !gi.is_first_fragment);
		CU_ASSERT_EQUAL(npgw_conntrack_steer_hash(f, (uint32_t)fl, &fi, 0, false, 7),
				npgw_conntrack_steer_hash(g, (uint32_t)gl, &gi, 0, false, 7));
		o.src = b;
		o.dst = a;
		gl = ctf_wrap(&o, l4 + 16, n - 16, g);
		parse_ok(g, gl, &gi);
		CU_ASSERT_EQUAL(npgw_conntrack_steer_hash(f, (uint32_t)fl, &fi, 0, false, 7),
				npgw_conntrack_steer_hash(g, (uint32_t)gl, &gi, 0, false, 7));
	}
}

/* ---- ICMP quotes ---- */

static void check_quote(const char *a, const char *b, const char *router, uint8_t type,
			uint8_t code, uint8_t proto)
{
	uint8_t f[CTF_MAX], e[CTF_MAX];
	struct npgw_pkt_info ei;
	struct npgw_conntrack_tuple t, want;
	struct npgw_addr aa, bb;
	size_t fl, el;
	struct ctf_l4 s = {.proto = proto, .sport = 40000, .dport = 443, .flags = 0x18,
			   .type = proto == NPGW_PROTO_ICMP ? 8 : 128, .id = 0x4242};

	fl = ctf_packet(a, b, &s, f);
	el = ctf_icmp_error(router, a, type, code, f, fl, 1000, e);
	parse_ok(e, el, &ei);
	CU_ASSERT_EQUAL_FATAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 9, &t), 0);
	npgw_addr_parse(a, &aa);
	npgw_addr_parse(b, &bb);
	memset(&want, 0, sizeof(want));
	memcpy(want.src, aa.bytes, 16);
	memcpy(want.dst, bb.bytes, 16);
	want.family = aa.family;
	want.proto = proto;
	want.zone = 9;
	if (proto == NPGW_PROTO_ICMP || proto == NPGW_PROTO_ICMPV6) {
		want.sport = 0x4242;
		want.dport = 0x4242;
	} else {
		want.sport = 40000;
		want.dport = 443;
	}
	CU_ASSERT_EQUAL(memcmp(&t, &want, sizeof(t)), 0);
}

static void test_icmp_quote_v4(void)
{
	check_quote("10.0.1.1", "10.0.1.2", "10.9.9.9", 3, 4, NPGW_PROTO_TCP); /* frag needed */
	check_quote("10.0.1.1", "10.0.1.2", "10.9.9.9", 11, 0, NPGW_PROTO_UDP);
	check_quote("10.0.1.1", "10.0.1.2", "10.0.1.2", 3, 3, NPGW_PROTO_UDP); /* port unreach */
	check_quote("10.0.1.1", "10.0.1.2", "10.9.9.9", 12, 0, NPGW_PROTO_SCTP);
	check_quote("10.0.1.1", "10.0.1.2", "10.9.9.9", 3, 1, NPGW_PROTO_ICMP); /* echo */
}

static void test_icmp_quote_v6(void)
{
	check_quote("fd00::1:1", "fd00::1:2", "fd00::99", 2, 0, NPGW_PROTO_TCP); /* too big */
	check_quote("fd00::1:1", "fd00::1:2", "fd00::99", 1, 4, NPGW_PROTO_UDP);
	check_quote("fd00::1:1", "fd00::1:2", "fd00::99", 3, 0, NPGW_PROTO_SCTP);
	check_quote("fd00::1:1", "fd00::1:2", "fd00::99", 4, 0, NPGW_PROTO_ICMPV6);
}

/* A quoted IPv6 packet with a destination options header and an atomic
 * fragment header before TCP. */
static void test_icmp_quote_v6_extension_headers(void)
{
	uint8_t q[128] = {0}, e[CTF_MAX];
	struct npgw_addr a, b;
	struct npgw_pkt_info ei;
	struct npgw_conntrack_tuple t;
	size_t el;

	npgw_addr_parse("fd00::1:1", &a);
	npgw_addr_parse("fd00::1:2", &b);
	q[0] = 0x60;
	ctf_wr16(q + 4, 8 + 8 + 20);
	q[6] = 60;
	q[7] = 64;
	memcpy(q + 8, a.bytes, 16);
	memcpy(q + 24, b.bytes, 16);
	q[40] = 44; /* dest opts -> fragment */
	q[41] = 0;
	q[48] = NPGW_PROTO_TCP; /* fragment, offset 0 -> TCP */
	ctf_wr16(q + 56, 1234);
	ctf_wr16(q + 58, 80);
	struct ctf_l4 s = {.proto = NPGW_PROTO_ICMPV6, .type = 1, .payload = q, .plen = 76};

	el = ctf_packet("fd00::99", "fd00::1:1", &s, e);
	parse_ok(e, el, &ei);
	CU_ASSERT_EQUAL_FATAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t), 0);
	CU_ASSERT_EQUAL(t.proto, NPGW_PROTO_TCP);
	CU_ASSERT_EQUAL(t.sport, 1234);
	CU_ASSERT_EQUAL(t.dport, 80);
	/* the same with a non-zero fragment offset: no ports to match */
	ctf_wr16(q + 50, 8);
	el = ctf_packet("fd00::99", "fd00::1:1", &s, e);
	parse_ok(e, el, &ei);
	CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t), -EINVAL);
}

static void test_icmp_quote_bogus(void)
{
	uint8_t f[CTF_MAX], e[CTF_MAX], g[CTF_MAX];
	struct npgw_pkt_info ei;
	struct npgw_conntrack_tuple t;
	size_t fl, el, gl;

	/* not errors */
	struct ctf_l4 echo = {.proto = NPGW_PROTO_ICMP, .type = 8, .id = 1};

	el = ctf_packet("10.0.1.1", "10.0.1.2", &echo, e);
	parse_ok(e, el, &ei);
	CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t), -ENOENT);
	fl = ctf_tcp("10.0.1.1", 1, "10.0.1.2", 2, 0x02, f);
	parse_ok(f, fl, &ei);
	CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(f, (uint32_t)fl, &ei, 0, &t), -ENOENT);

	/* every truncation of a quote: 0..19 bytes is no IPv4 header, 20..27
	 * no ports; from 28 on it is whole */
	for (size_t q = 0; q <= 48; q++) {
		el = ctf_icmp_error("10.9.9.9", "10.0.1.1", 3, 4, f, fl, q, e);
		parse_ok(e, el, &ei);
		CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t),
				q >= 28 ? 0 : -EINVAL);
		/* the frame cut short under a whole IP length: never read */
		for (size_t cut = 34; cut < el; cut++)
			(void)npgw_conntrack_icmp_embedded(e, (uint32_t)cut, &ei, 0, &t);
	}
	/* sent to a third party (outer dst is not the quoted source) */
	el = ctf_icmp_error("10.9.9.9", "10.0.1.7", 3, 4, f, fl, 64, e);
	parse_ok(e, el, &ei);
	CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t), -EINVAL);
	/* an IPv6 quote in an ICMPv4 error */
	gl = ctf_tcp("fd00::1:1", 1, "fd00::1:2", 2, 0x02, g);
	el = ctf_icmp_error("10.9.9.9", "10.0.1.1", 3, 4, g, gl, 64, e);
	parse_ok(e, el, &ei);
	CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t), -EINVAL);
	/* an error quoting an error */
	el = ctf_icmp_error("10.9.9.9", "10.0.1.1", 3, 4, f, fl, 64, g);
	el = ctf_icmp_error("10.9.9.8", "10.9.9.9", 3, 4, g, el, 64, e);
	parse_ok(e, el, &ei);
	CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t), -EINVAL);
	/* a quoted later fragment */
	struct ctf_ip o = {.src = "10.0.1.1", .dst = "10.0.1.2", .proto = NPGW_PROTO_UDP,
			   .frag = true, .frag_off = 64, .frag_id = 1};
	uint8_t junk[16] = {0};

	gl = ctf_wrap(&o, junk, sizeof(junk), g);
	el = ctf_icmp_error("10.9.9.9", "10.0.1.1", 11, 1, g, gl, 64, e);
	parse_ok(e, el, &ei);
	CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t), -EINVAL);
	/* a bad IHL in the quote */
	el = ctf_icmp_error("10.9.9.9", "10.0.1.1", 3, 4, f, fl, 64, e);
	e[14 + 20 + 8] = 0x44;
	parse_ok(e, el, &ei);
	CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t), -EINVAL);
	e[14 + 20 + 8] = 0x4f; /* 60 bytes, past the quote */
	CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t), -EINVAL);
	/* IPv6: every truncation; 48 bytes (40 + 8) make it whole */
	gl = ctf_tcp("fd00::1:1", 1, "fd00::1:2", 2, 0x02, g);
	for (size_t q = 0; q <= 60; q++) {
		el = ctf_icmp_error("fd00::99", "fd00::1:1", 2, 0, g, gl, q, e);
		parse_ok(e, el, &ei);
		CU_ASSERT_EQUAL(npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t),
				q >= 48 ? 0 : -EINVAL);
	}
}

/* Random bytes as a quote never crash it (ASan watches). */
static void test_icmp_quote_random_bytes(void)
{
	uint8_t q[96], e[CTF_MAX];
	struct npgw_pkt_info ei;
	struct npgw_conntrack_tuple t;

	for (int i = 0; i < 20000; i++) {
		bool v6 = i & 1;
		size_t n = rnd() % sizeof(q);

		for (size_t k = 0; k < n; k++)
			q[k] = (uint8_t)rnd();
		if (n > 0)
			q[0] = (uint8_t)((v6 ? 0x60 : 0x45) | (rnd() % 4 == 0 ? rnd() & 0x0f : 0));
		struct ctf_l4 s = {.proto = v6 ? NPGW_PROTO_ICMPV6 : NPGW_PROTO_ICMP,
				   .type = v6 ? 1 : 3, .payload = q, .plen = n};
		size_t el = ctf_packet(v6 ? "fd00::99" : "10.9.9.9", v6 ? "fd00::1" : "10.0.0.1", &s,
				       e);

		parse_ok(e, el, &ei);
		int rc = npgw_conntrack_icmp_embedded(e, (uint32_t)el, &ei, 0, &t);

		CU_ASSERT(rc == 0 || rc == -EINVAL);
	}
}

/* ---- fragments ---- */

static void test_frag_payload_both_families(void)
{
	uint8_t f[CTF_MAX], data[200];
	struct npgw_pkt_info fi;
	uint32_t off, plen;
	size_t fl;

	memset(data, 0xab, sizeof(data));
	for (int fam = 4; fam <= 6; fam += 2) {
		struct ctf_ip o = {.src = fam == 4 ? "10.0.0.1" : "fd00::1",
				   .dst = fam == 4 ? "10.0.0.2" : "fd00::2",
				   .proto = NPGW_PROTO_UDP, .frag = true, .frag_off = 1480,
				   .frag_id = 5, .mf = true, .vlan = 7};

		fl = ctf_wrap(&o, data, 120, f);
		parse_ok(f, fl, &fi);
		CU_ASSERT_EQUAL_FATAL(npgw_conntrack_frag_payload(f, (uint32_t)fl, &fi, &off, &plen),
				      0);
		CU_ASSERT_EQUAL(plen, 120);
		CU_ASSERT_EQUAL(off, 18 + (fam == 4 ? 20u : 48u));
		CU_ASSERT_EQUAL(fi.frag_offset, 1480);
		/* cut short: refused, never read */
		CU_ASSERT_EQUAL(npgw_conntrack_frag_payload(f, (uint32_t)fl - 1, &fi, &off, &plen),
				-EINVAL);
	}
}

/* ---- RST ---- */

/* One's complement sum of the pseudo-header and the TCP segment: 0xffff
 * when the checksum is right. */
static uint16_t tcp_sum(const uint8_t *ip, int family, const uint8_t *tcp, size_t tlen)
{
	uint32_t s = 0;
	size_t alen = family == 4 ? 4 : 16;
	const uint8_t *addrs = family == 4 ? ip + 12 : ip + 8;

	for (size_t i = 0; i < 2 * alen; i += 2)
		s += ctf_rd16(addrs + i);
	s += NPGW_PROTO_TCP + (uint32_t)tlen;
	for (size_t i = 0; i < tlen; i += 2)
		s += ctf_rd16(tcp + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t ipv4_sum(const uint8_t *ip)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += ctf_rd16(ip + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void check_rst(int family, uint16_t vlan, uint8_t flags, size_t payload)
{
	const char *a = family == 4 ? "10.0.1.1" : "fd00::1:1";
	const char *b = family == 4 ? "10.0.1.2" : "fd00::1:2";
	uint8_t f[CTF_MAX], out[NPGW_CONNTRACK_RST_MAX_LEN], data[300];
	struct npgw_pkt_info fi;
	struct npgw_addr aa, bb;
	const size_t alen = family == 4 ? 4 : 16, l2 = vlan ? 18 : 14;
	const size_t iphl = family == 4 ? 20 : 40;
	struct ctf_l4 s = {.proto = NPGW_PROTO_TCP, .sport = 40000, .dport = 80, .flags = flags,
			   .seq = 0xfffffff0u, .ack = flags & 0x10 ? 0x12345678u : 0,
			   .payload = data, .plen = payload};
	struct ctf_ip o = {.src = a, .dst = b, .proto = NPGW_PROTO_TCP, .vlan = vlan};
	uint8_t l4[CTF_MAX];
	size_t fl = ctf_wrap(&o, l4, ctf_l4_build(&s, l4), f);
	uint32_t seglen = (uint32_t)payload + !!(flags & 0x02) + !!(flags & 0x01);

	memset(data, 0x5a, sizeof(data));
	npgw_addr_parse(a, &aa);
	npgw_addr_parse(b, &bb);
	parse_ok(f, fl, &fi);
	for (int to = 0; to < 2; to++) {
		const bool back = to == NPGW_CONNTRACK_RST_TO_SENDER;
		int n = npgw_conntrack_rst_build(f, (uint32_t)fl, &fi, to, out, sizeof(out));
		size_t want = l2 + iphl + 20;
		const uint8_t *ip = out + l2, *th = ip + iphl;

		CU_ASSERT_EQUAL_FATAL(n, (int)(want < 60 ? 60 : want));
		/* Ethernet: MACs swapped going back; VLAN kept */
		CU_ASSERT_EQUAL(memcmp(out, back ? f + 6 : f, 6), 0);
		CU_ASSERT_EQUAL(memcmp(out + 6, back ? f : f + 6, 6), 0);
		CU_ASSERT_EQUAL(memcmp(out + 12, f + 12, l2 - 12), 0);
		if (family == 4) {
			CU_ASSERT_EQUAL(ip[0], 0x45);
			CU_ASSERT_EQUAL(ctf_rd16(ip + 2), 40);
			CU_ASSERT_EQUAL(ctf_rd16(ip + 6), 0x4000);
			CU_ASSERT_EQUAL(ip[8], 64);
			CU_ASSERT_EQUAL(ip[9], NPGW_PROTO_TCP);
			CU_ASSERT_EQUAL(ipv4_sum(ip), 0xffff);
			CU_ASSERT_EQUAL(memcmp(ip + 12, back ? bb.bytes : aa.bytes, 4), 0);
			CU_ASSERT_EQUAL(memcmp(ip + 16, back ? aa.bytes : bb.bytes, 4), 0);
		} else {
			CU_ASSERT_EQUAL(ctf_rd32(ip), 0x60000000u);
			CU_ASSERT_EQUAL(ctf_rd16(ip + 4), 20);
			CU_ASSERT_EQUAL(ip[6], NPGW_PROTO_TCP);
			CU_ASSERT_EQUAL(ip[7], 64);
			CU_ASSERT_EQUAL(memcmp(ip + 8, back ? bb.bytes : aa.bytes, alen), 0);
			CU_ASSERT_EQUAL(memcmp(ip + 24, back ? aa.bytes : bb.bytes, alen), 0);
		}
		CU_ASSERT_EQUAL(ctf_rd16(th), back ? 80 : 40000);
		CU_ASSERT_EQUAL(ctf_rd16(th + 2), back ? 40000 : 80);
		CU_ASSERT_EQUAL(th[12], 0x50);
		CU_ASSERT_EQUAL(ctf_rd16(th + 14), 0); /* window */
		CU_ASSERT_EQUAL(ctf_rd16(th + 18), 0);
		CU_ASSERT_EQUAL(tcp_sum(ip, family, th, 20), 0xffff);
		if (back && (flags & 0x10)) {
			CU_ASSERT_EQUAL(ctf_rd32(th + 4), 0x12345678u);
			CU_ASSERT_EQUAL(ctf_rd32(th + 8), 0);
			CU_ASSERT_EQUAL(th[13], 0x04);
		} else if (back) {
			CU_ASSERT_EQUAL(ctf_rd32(th + 4), 0);
			CU_ASSERT_EQUAL(ctf_rd32(th + 8), 0xfffffff0u + seglen); /* wraps */
			CU_ASSERT_EQUAL(th[13], 0x14);
		} else {
			CU_ASSERT_EQUAL(ctf_rd32(th + 4), 0xfffffff0u);
			CU_ASSERT_EQUAL(ctf_rd32(th + 8), flags & 0x10 ? 0x12345678u : 0);
			CU_ASSERT_EQUAL(th[13], 0x04 | (flags & 0x10));
		}
		/* padding to the Ethernet minimum is zero */
		for (int k = (int)want; k < n; k++)
			CU_ASSERT_EQUAL(out[k], 0);
	}
}

static void test_rst_ipv4(void)
{
	check_rst(4, 0, 0x18, 100); /* PSH|ACK with data */
	check_rst(4, 0, 0x10, 0);
	check_rst(4, 0, 0x02, 0); /* SYN: ack = seq + 1 */
	check_rst(4, 0, 0x11, 0); /* FIN|ACK */
	check_rst(4, 100, 0x18, 7);
}

static void test_rst_ipv6(void)
{
	check_rst(6, 0, 0x18, 100);
	check_rst(6, 0, 0x02, 0);
	check_rst(6, 42, 0x11, 1);
	check_rst(6, 42, 0x10, 0);
}

static void test_rst_refuses_what_is_not_tcp(void)
{
	uint8_t f[CTF_MAX], out[NPGW_CONNTRACK_RST_MAX_LEN];
	struct npgw_pkt_info fi;
	size_t fl = ctf_udp("10.0.0.1", 1, "10.0.0.2", 2, f);

	parse_ok(f, fl, &fi);
	CU_ASSERT_EQUAL(npgw_conntrack_rst_build(f, (uint32_t)fl, &fi, 0, out, sizeof(out)),
			-EINVAL);
	fl = ctf_tcp("10.0.0.1", 1, "10.0.0.2", 2, 0x10, f);
	parse_ok(f, fl, &fi);
	CU_ASSERT_EQUAL(npgw_conntrack_rst_build(f, (uint32_t)fl, &fi, 0, out, 10), -EINVAL);
	CU_ASSERT_EQUAL(npgw_conntrack_rst_build(f, (uint32_t)fl - 1, &fi, 0, out, sizeof(out)),
			-EINVAL);
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(npgw_conntrack_state_name(NPGW_CONNTRACK_ESTABLISHED),
			       "established");
	CU_ASSERT_STRING_EQUAL(npgw_conntrack_state_name(99), "?");
	CU_ASSERT_EQUAL(npgw_conntrack_revoke_parse("keep"), NPGW_CONNTRACK_REVOKE_KEEP);
	CU_ASSERT_EQUAL(npgw_conntrack_revoke_parse("reset"), NPGW_CONNTRACK_REVOKE_RESET);
	CU_ASSERT_EQUAL(npgw_conntrack_revoke_parse("Drop"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(npgw_conntrack_revoke_name(NPGW_CONNTRACK_REVOKE_DROP), "drop");
	CU_ASSERT_STRING_EQUAL(npgw_drop_name(NPGW_DROP_CT_TABLE_FULL), "ct-table-full");
	CU_ASSERT_STRING_EQUAL(npgw_drop_name(33), "frag-timeout");
}

int npgw_test_register(void)
{
	static const CU_TestInfo keys[] = {
		{"both directions give one key", test_both_directions_give_one_key},
		{"different flows give different keys", test_different_flows_give_different_keys},
		{"symmetric hash, 10,000 random flows", test_symmetric_hash_10000_random_flows},
		{"symmetric hash depends on the seed", test_symmetric_hash_depends_on_seed},
		{"steering: flows, ICMP errors, fragments meet",
		 test_steer_hash_flows_errors_and_fragments},
		{"names", test_names},
		{NULL, NULL},
	};
	static const CU_TestInfo icmp[] = {
		{"IPv4 errors quote the flow", test_icmp_quote_v4},
		{"IPv6 errors quote the flow", test_icmp_quote_v6},
		{"IPv6 quote with extension headers", test_icmp_quote_v6_extension_headers},
		{"bogus and truncated quotes", test_icmp_quote_bogus},
		{"random quotes", test_icmp_quote_random_bytes},
		{"fragment payload, both families", test_frag_payload_both_families},
		{NULL, NULL},
	};
	static const CU_TestInfo rst[] = {
		{"IPv4 RST bytes and checksums", test_rst_ipv4},
		{"IPv6 RST bytes and checksums", test_rst_ipv6},
		{"RST refuses non-TCP and short buffers", test_rst_refuses_what_is_not_tcp},
		{NULL, NULL},
	};

	if (npgw_test_add_suite("conntrack keys and hashes", keys) != 0 ||
	    npgw_test_add_suite("conntrack ICMP quotes", icmp) != 0 ||
	    npgw_test_add_suite("conntrack RST", rst) != 0)
		return -1;
	return 0;
}
