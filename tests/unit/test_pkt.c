/*
 * test_pkt.c: the data path's packet parser (lib/pkt). Frames come from a
 * small builder below; every parse runs on a malloc of exactly the frame's
 * length, so that ASan catches any read past its end. Covers every header
 * and field, a malformed corpus (truncation at every byte, bad lengths, bad
 * extension chains, VLAN depth, tiny and later fragments) and 200k random
 * mutations of valid frames.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cunit_main.h"
#include "npgw_common.h"
#include "npgw_pkt.h"

#define FRAME_MAX 4096
#define MAX_EXT 12

/* ---- frame builder ---------------------------------------------------- */

struct ext {
	uint8_t type;     /* next-header value naming this header */
	uint8_t len;      /* its length byte (not for the fragment header) */
	uint16_t frag;    /* fragment header: offset (bytes) | M */
	uint32_t frag_id; /* fragment header: identification */
};

struct spec {
	uint8_t n_vlan;
	uint16_t tpid[3]; /* 0 means 0x8100 */
	uint16_t tci[3];
	uint16_t ethertype;   /* 0: from family */
	uint8_t family;       /* 4 or 6; 0 with ethertype for non-IP */
	uint8_t v4_opt_words; /* IPv4 options in 4-byte words */
	uint16_t v4_frag;     /* IPv4 flags and offset field, raw */
	uint16_t v4_id;
	uint8_t n_ext;
	struct ext ext[MAX_EXT];
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t tcp_doff; /* words; 0 means 5 */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	uint16_t payload; /* bytes after the L4 header */
	uint16_t pad;     /* bytes after the IP packet (Ethernet padding) */
};

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;
	uint32_t l3;      /* IP header */
	uint32_t l4;      /* L4 header (after extension headers) */
	uint32_t l4_hlen; /* length of the L4 header written */
	uint32_t ip_end;  /* end of the IP packet */
	uint32_t ext_off[MAX_EXT];
};

static const uint8_t v4_src[4] = {10, 0, 0, 1}, v4_dst[4] = {10, 1, 2, 3};
static const uint8_t v6_src[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_dst[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t ext_len(const struct ext *e)
{
	if (e->type == 44)
		return 8;
	if (e->type == 51)
		return ((uint32_t)e->len + 2) * 4;
	return ((uint32_t)e->len + 1) * 8;
}

static uint32_t l4_hlen(const struct spec *s)
{
	switch (s->proto) {
	case NPGW_PROTO_TCP:
		return (s->tcp_doff ? s->tcp_doff : 5) * 4u;
	case NPGW_PROTO_UDP:
		return 8;
	case NPGW_PROTO_SCTP:
		return 12;
	case NPGW_PROTO_ICMP:
	case NPGW_PROTO_ICMPV6:
		return 8;
	default:
		return 0;
	}
}

/* Build the frame s describes into f. */
static void build(const struct spec *s, struct frame *f)
{
	uint8_t *b = f->b;
	uint32_t o = 0;

	memset(f, 0, sizeof(*f));
	memcpy(b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	o = 12;
	for (unsigned int i = 0; i < s->n_vlan; i++) {
		put16(b + o, s->tpid[i] ? s->tpid[i] : 0x8100);
		put16(b + o + 2, s->tci[i]);
		o += 4;
	}
	put16(b + o, s->ethertype ? s->ethertype
		     : s->family == 4 ? 0x0800
		     : s->family == 6 ? 0x86dd
				      : 0x0806);
	o += 2;
	f->l3 = o;
	if (s->family == 4) {
		uint32_t ihl = 5 + s->v4_opt_words;

		b[o] = (uint8_t)(0x40 | ihl);
		put16(b + o + 4, s->v4_id);
		put16(b + o + 6, s->v4_frag);
		b[o + 8] = 64;
		b[o + 9] = s->proto;
		memcpy(b + o + 12, v4_src, 4);
		memcpy(b + o + 16, v4_dst, 4);
		memset(b + o + 20, 1, s->v4_opt_words * 4u); /* NOP options */
		o += ihl * 4;
	} else if (s->family == 6) {
		b[o] = 0x60;
		b[o + 6] = s->n_ext ? s->ext[0].type : s->proto;
		b[o + 7] = 64;
		memcpy(b + o + 8, v6_src, 16);
		memcpy(b + o + 24, v6_dst, 16);
		o += 40;
		for (unsigned int i = 0; i < s->n_ext; i++) {
			const struct ext *e = &s->ext[i];

			f->ext_off[i] = o;
			b[o] = i + 1 < s->n_ext ? s->ext[i + 1].type : s->proto;
			if (e->type == 44) {
				put16(b + o + 2, e->frag);
				put32(b + o + 4, e->frag_id);
			} else {
				b[o + 1] = e->len;
				memset(b + o + 2, 0, ext_len(e) - 2); /* Pad1 options */
			}
			o += ext_len(e);
		}
	} else {
		/* Non-IP: a little payload (an ARP body, say). */
		memset(b + o, 0xaa, 28);
		f->len = o + 28 + s->pad;
		return;
	}
	f->l4 = o;
	f->l4_hlen = l4_hlen(s);
	switch (s->proto) {
	case NPGW_PROTO_TCP:
		put16(b + o, s->sport);
		put16(b + o + 2, s->dport);
		put32(b + o + 4, 0x01020304);
		b[o + 12] = (uint8_t)((s->tcp_doff ? s->tcp_doff : 5) << 4);
		b[o + 13] = s->tcp_flags;
		put16(b + o + 14, 65535);
		memset(b + o + 20, 1, f->l4_hlen - 20); /* NOP options */
		break;
	case NPGW_PROTO_UDP:
		put16(b + o, s->sport);
		put16(b + o + 2, s->dport);
		put16(b + o + 4, (uint16_t)(8 + s->payload));
		break;
	case NPGW_PROTO_SCTP:
		put16(b + o, s->sport);
		put16(b + o + 2, s->dport);
		put32(b + o + 4, 0xdeadbeef);
		break;
	case NPGW_PROTO_ICMP:
	case NPGW_PROTO_ICMPV6:
		b[o] = s->icmp_type;
		b[o + 1] = s->icmp_code;
		put16(b + o + 4, s->icmp_id);
		put16(b + o + 6, 7);
		break;
	default:
		break;
	}
	o += f->l4_hlen;
	for (unsigned int i = 0; i < s->payload; i++)
		b[o + i] = (uint8_t)(i * 7 + 3);
	o += s->payload;
	f->ip_end = o;
	if (s->family == 4)
		put16(b + f->l3 + 2, (uint16_t)(o - f->l3));
	else
		put16(b + f->l3 + 4, (uint16_t)(o - f->l3 - 40));
	/* Padding that would look like more headers if anything read it. */
	memset(b + o, 0xff, s->pad);
	f->len = o + s->pad;
}

/* Parse b[0..len) from a malloc of exactly len bytes (ASan bounds). */
static enum npgw_pkt_kind parse_exact(const uint8_t *b, uint32_t len, struct npgw_pkt_info *info,
				      enum npgw_drop_reason *reason)
{
	/* exactly len bytes, so ASan catches any read past the frame (one
	 * initialised byte for an empty frame: malloc(0) may give NULL, and
	 * -O3 warns of an uninitialised buffer) */
	uint8_t *m = malloc(len ? len : 1);
	enum npgw_pkt_kind k;

	if (m == NULL) {
		CU_FAIL_FATAL("malloc");
		return NPGW_PKT_DROP;
	}
	if (len != 0)
		memcpy(m, b, len);
	else
		m[0] = 0;
	memset(info, 0xa5, sizeof(*info)); /* the parser must clear it */
	*reason = (enum npgw_drop_reason)0x5a;
	k = npgw_pkt_parse(m, len, info, reason);
	{
		/* the data path's straight-line parser must agree on every
		 * frame, field for field */
		struct npgw_pkt_info fast;
		enum npgw_drop_reason fr = (enum npgw_drop_reason)0x5a;

		memset(&fast, 0x5a, sizeof(fast));
		CU_ASSERT_EQUAL(npgw_pkt_parse_fast(m, len, &fast, &fr), k);
		CU_ASSERT_EQUAL(fr, *reason);
		CU_ASSERT(memcmp(&fast, info, sizeof(fast)) == 0);
	}
	free(m);
	return k;
}

static enum npgw_pkt_kind parse_frame(const struct frame *f, struct npgw_pkt_info *info,
				      enum npgw_drop_reason *reason)
{
	return parse_exact(f->b, f->len, info, reason);
}

/* Build s, parse it, expect a drop for reason r. */
static void expect_drop(const struct spec *s, enum npgw_drop_reason r)
{
	struct frame f;
	struct npgw_pkt_info info;
	enum npgw_drop_reason got;

	build(s, &f);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &got), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(got, r);
	if (got != r)
		fprintf(stderr, "\n  expected %s, got %s\n", npgw_drop_name(r), npgw_drop_name(got));
}

static bool is_non_first_frag(const struct spec *s)
{
	if (s->family == 4)
		return (s->v4_frag & 0x1fff) != 0;
	for (unsigned int i = 0; i < s->n_ext; i++)
		if (s->ext[i].type == 44 && (s->ext[i].frag & 0xfff8))
			return true;
	return false;
}

static bool is_frag(const struct spec *s, bool *first)
{
	if (s->family == 4) {
		*first = (s->v4_frag & 0x1fff) == 0;
		return (s->v4_frag & 0x3fff) != 0;
	}
	for (unsigned int i = 0; i < s->n_ext; i++)
		if (s->ext[i].type == 44 && (s->ext[i].frag & 0xfff9)) {
			*first = (s->ext[i].frag & 0xfff8) == 0;
			return true;
		}
	*first = false;
	return false;
}

/* Build s, parse it, check every field of the result against s. */
static void expect_ip(const struct spec *s)
{
	struct frame f;
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;
	bool first, frag = is_frag(s, &first);
	bool later = is_non_first_frag(s);
	bool ports = !later && (s->proto == NPGW_PROTO_TCP || s->proto == NPGW_PROTO_UDP ||
				s->proto == NPGW_PROTO_SCTP);
	bool icmp = !later && ((s->family == 4 && s->proto == NPGW_PROTO_ICMP) ||
			       (s->family == 6 && s->proto == NPGW_PROTO_ICMPV6));
	bool echo = icmp && (s->family == 4 ? s->icmp_type == 0 || s->icmp_type == 8
					    : s->icmp_type == 128 || s->icmp_type == 129);
	uint8_t proto = s->proto;

	build(s, &f);
	CU_ASSERT_EQUAL_FATAL(parse_frame(&f, &info, &r), NPGW_PKT_IP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_NONE);
	CU_ASSERT_EQUAL(info.family, s->family);
	if (later && s->family == 6) {
		/* The proto a later fragment reports is the fragment
		 * header's next header. */
		for (unsigned int i = 0; i < s->n_ext; i++)
			if (s->ext[i].type == 44)
				proto = i + 1 < s->n_ext ? s->ext[i + 1].type : s->proto;
	}
	CU_ASSERT_EQUAL(info.proto, proto);
	CU_ASSERT_EQUAL(info.n_vlan, s->n_vlan);
	for (unsigned int i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(info.vlan_tci[i], i < s->n_vlan ? s->tci[i] : 0);
	CU_ASSERT_EQUAL(info.ethertype, s->family == 4 ? 0x0800 : 0x86dd);
	CU_ASSERT_EQUAL(info.l3_off, f.l3);
	CU_ASSERT_EQUAL(info.l3_len, f.ip_end - f.l3);
	CU_ASSERT_EQUAL(info.l4_off, later || proto == 59 ? 0 : f.l4);
	if (s->family == 4) {
		static const uint8_t zero[12];

		CU_ASSERT_EQUAL(memcmp(info.src, v4_src, 4), 0);
		CU_ASSERT_EQUAL(memcmp(info.dst, v4_dst, 4), 0);
		CU_ASSERT_EQUAL(memcmp(info.src + 4, zero, 12), 0);
		CU_ASSERT_EQUAL(memcmp(info.dst + 4, zero, 12), 0);
		CU_ASSERT_EQUAL(info.frag_id, s->v4_id);
		CU_ASSERT_EQUAL(info.frag_offset, (s->v4_frag & 0x1fff) * 8);
		CU_ASSERT_EQUAL(info.more_fragments, !!(s->v4_frag & 0x2000));
	} else {
		CU_ASSERT_EQUAL(memcmp(info.src, v6_src, 16), 0);
		CU_ASSERT_EQUAL(memcmp(info.dst, v6_dst, 16), 0);
	}
	CU_ASSERT_EQUAL(info.is_fragment, frag);
	CU_ASSERT_EQUAL(info.is_first_fragment, frag && first);
	CU_ASSERT_EQUAL(info.sport, ports ? s->sport : 0);
	CU_ASSERT_EQUAL(info.dport, ports ? s->dport : 0);
	CU_ASSERT_EQUAL(info.tcp_flags,
			!later && s->proto == NPGW_PROTO_TCP ? s->tcp_flags : 0);
	CU_ASSERT_EQUAL(info.icmp_type, icmp ? s->icmp_type : 0);
	CU_ASSERT_EQUAL(info.icmp_code, icmp ? s->icmp_code : 0);
	CU_ASSERT_EQUAL(info.icmp_id, echo ? s->icmp_id : 0);
}

/* Handy specs. */
static struct spec v4(uint8_t proto)
{
	struct spec s = {.family = 4, .proto = proto, .sport = 40000, .dport = 443,
			 .tcp_flags = NPGW_PKT_TCP_SYN, .icmp_type = 8, .icmp_id = 0x1234,
			 .v4_id = 0xbeef, .payload = 10};

	return s;
}

static struct spec v6(uint8_t proto)
{
	struct spec s = v4(proto);

	s.family = 6;
	if (proto == NPGW_PROTO_ICMPV6)
		s.icmp_type = 128;
	return s;
}

static void add_ext(struct spec *s, uint8_t type, uint8_t len)
{
	s->ext[s->n_ext].type = type;
	s->ext[s->n_ext].len = len;
	s->n_ext++;
}

static void add_frag6(struct spec *s, uint16_t offset_bytes, bool more, uint32_t id)
{
	s->ext[s->n_ext].type = 44;
	s->ext[s->n_ext].frag = (uint16_t)(offset_bytes | (more ? 1 : 0));
	s->ext[s->n_ext].frag_id = id;
	s->n_ext++;
}

static const uint8_t l4_protos[] = {NPGW_PROTO_TCP, NPGW_PROTO_UDP, NPGW_PROTO_SCTP,
				    NPGW_PROTO_ICMP, NPGW_PROTO_ICMPV6, 47 /* GRE */,
				    50 /* ESP */, 89 /* OSPF */};

/* ---- well-formed frames ------------------------------------------------ */

static void test_every_l4_over_both_families_and_vlan_depths(void)
{
	for (unsigned int fam = 4; fam <= 6; fam += 2)
		for (unsigned int nv = 0; nv <= 2; nv++)
			for (size_t i = 0; i < NPGW_ARRAY_SIZE(l4_protos); i++) {
				struct spec s = fam == 4 ? v4(l4_protos[i]) : v6(l4_protos[i]);

				s.n_vlan = (uint8_t)nv;
				s.tci[0] = 0x2064; /* PCP 1, VLAN 100 */
				s.tci[1] = 0xf00a;
				expect_ip(&s);
			}
}

static void test_vlan_tpids(void)
{
	static const uint16_t tpids[] = {0x8100, 0x88a8, 0x9100};

	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++) {
			struct spec s = v4(NPGW_PROTO_UDP);

			s.n_vlan = 1;
			s.tpid[0] = tpids[i];
			s.tci[0] = 7;
			expect_ip(&s);
			s.n_vlan = 2;
			s.tpid[1] = tpids[j];
			s.tci[1] = 4095;
			expect_ip(&s);
		}
}

static void test_tcp_fields(void)
{
	struct spec s = v4(NPGW_PROTO_TCP);

	s.sport = 1;
	s.dport = 65535;
	s.tcp_flags = 0xff;
	expect_ip(&s);
	s.tcp_doff = 15; /* 40 bytes of options */
	s.tcp_flags = NPGW_PKT_TCP_SYN | NPGW_PKT_TCP_ACK;
	expect_ip(&s);
	s.payload = 0;
	expect_ip(&s);
	s = v6(NPGW_PROTO_TCP);
	s.tcp_doff = 8;
	s.tcp_flags = NPGW_PKT_TCP_FIN | NPGW_PKT_TCP_ACK;
	expect_ip(&s);
}

static void test_udp_sctp_fields(void)
{
	struct spec s = v4(NPGW_PROTO_UDP);

	s.sport = 53;
	s.dport = 5353;
	s.payload = 0;
	expect_ip(&s);
	s = v6(NPGW_PROTO_UDP);
	s.payload = 1400;
	expect_ip(&s);
	s = v4(NPGW_PROTO_SCTP);
	s.sport = 36412;
	s.dport = 38412;
	s.payload = 0;
	expect_ip(&s);
	s = v6(NPGW_PROTO_SCTP);
	expect_ip(&s);
}

static void test_icmp_fields(void)
{
	struct spec s = v4(NPGW_PROTO_ICMP);

	for (unsigned int t = 0; t < 256; t++) {
		s.icmp_type = (uint8_t)t;
		s.icmp_code = (uint8_t)(t * 3);
		expect_ip(&s); /* id only for 0 and 8 */
	}
	s = v6(NPGW_PROTO_ICMPV6);
	for (unsigned int t = 0; t < 256; t++) {
		s.icmp_type = (uint8_t)t;
		s.icmp_code = (uint8_t)(t * 5);
		expect_ip(&s); /* id only for 128 and 129 */
	}
	/* ICMPv6 over IPv4 and ICMPv4 over IPv6 are not ICMP there. */
	s = v4(NPGW_PROTO_ICMPV6);
	s.icmp_type = 128;
	expect_ip(&s);
	s = v6(NPGW_PROTO_ICMP);
	s.icmp_type = 8;
	expect_ip(&s);
}

static void test_ipv4_options(void)
{
	for (uint8_t w = 0; w <= 10; w++)
		for (size_t i = 0; i < NPGW_ARRAY_SIZE(l4_protos); i++) {
			struct spec s = v4(l4_protos[i]);

			s.v4_opt_words = w;
			expect_ip(&s);
		}
}

static void test_ipv6_each_extension_header(void)
{
	static const struct {
		uint8_t type, len;
	} exts[] = {{0, 0},   {0, 3},	{43, 0},  {43, 2},   {60, 0},  {60, 1},	 {51, 1},
		    {51, 4},  {51, 6},	{135, 0}, {139, 1},  {140, 0}, {253, 0}, {254, 2}};

	for (size_t e = 0; e < NPGW_ARRAY_SIZE(exts); e++)
		for (size_t i = 0; i < NPGW_ARRAY_SIZE(l4_protos); i++) {
			struct spec s = v6(l4_protos[i]);

			add_ext(&s, exts[e].type, exts[e].len);
			expect_ip(&s);
		}
	/* The atomic fragment (offset 0, M clear) is not a fragment. */
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(l4_protos); i++) {
		struct spec s = v6(l4_protos[i]);
		struct frame f;
		struct npgw_pkt_info info;
		enum npgw_drop_reason r;

		add_frag6(&s, 0, false, 0xcafef00d);
		expect_ip(&s);
		build(&s, &f);
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_IP);
		CU_ASSERT_EQUAL(info.frag_id, 0xcafef00d);
	}
}

static void test_ipv6_chains(void)
{
	struct spec s = v6(NPGW_PROTO_TCP);

	/* HBH, DST, RH, FRAG (atomic), AH, DST: the RFC 8200 order. */
	add_ext(&s, 0, 0);
	add_ext(&s, 60, 1);
	add_ext(&s, 43, 2);
	add_frag6(&s, 0, false, 1);
	add_ext(&s, 51, 4);
	add_ext(&s, 60, 0);
	expect_ip(&s);
	/* Exactly NPGW_PKT_MAX_EXT headers is fine. */
	s = v6(NPGW_PROTO_UDP);
	add_ext(&s, 0, 0);
	for (unsigned int i = 1; i < NPGW_PKT_MAX_EXT; i++)
		add_ext(&s, i % 2 ? 60 : 43, (uint8_t)(i % 3));
	CU_ASSERT_EQUAL(s.n_ext, NPGW_PKT_MAX_EXT);
	expect_ip(&s);
	/* Mobility, HIP and shim6 headers in a chain. */
	s = v6(NPGW_PROTO_SCTP);
	add_ext(&s, 135, 1);
	add_ext(&s, 139, 0);
	add_ext(&s, 140, 2);
	add_ext(&s, 253, 0);
	expect_ip(&s);
}

static void test_ipv6_esp_and_no_next_header(void)
{
	struct spec s = v6(50);

	expect_ip(&s);
	add_ext(&s, 0, 0);
	add_ext(&s, 60, 0);
	expect_ip(&s); /* ESP after options: proto 50, l4_off at the ESP header */
	s = v6(59);
	s.payload = 0;
	expect_ip(&s); /* proto 59, no L4 */
	s.payload = 13;
	expect_ip(&s); /* bytes after no-next-header are ignored */
	s = v6(59);
	s.payload = 0;
	add_ext(&s, 60, 0);
	expect_ip(&s);
	/* ESP over IPv4. */
	s = v4(50);
	expect_ip(&s);
}

static void test_ethernet_padding_is_ignored(void)
{
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(l4_protos); i++) {
		struct spec s = v4(l4_protos[i]);

		s.payload = 0;
		s.pad = 60; /* 0xff padding */
		expect_ip(&s);
		s = v6(l4_protos[i]);
		s.payload = 0;
		s.pad = 17;
		expect_ip(&s);
	}
}

static void test_l4_bounded_by_ip_length_not_frame(void)
{
	struct spec s;
	struct frame f;
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;

	/* A UDP length reaching into the padding is past the IP packet. */
	s = v4(NPGW_PROTO_UDP);
	s.payload = 0;
	s.pad = 30;
	build(&s, &f);
	put16(f.b + f.l4 + 4, 20);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_UDP_BAD_LENGTH);
	/* So is a TCP data offset. */
	s = v6(NPGW_PROTO_TCP);
	s.payload = 0;
	s.pad = 40;
	build(&s, &f);
	f.b[f.l4 + 12] = 0x60;
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_TCP_BAD_OFFSET);
	/* And a TCP header that starts in the IP packet and ends in the
	 * padding is truncated. */
	s = v4(NPGW_PROTO_TCP);
	s.payload = 0;
	s.pad = 40;
	build(&s, &f);
	put16(f.b + f.l3 + 2, 20 + 12);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_L4_TRUNCATED);
	/* A UDP length shorter than the IP payload is fine (trailer). */
	s = v4(NPGW_PROTO_UDP);
	build(&s, &f);
	put16(f.b + f.l4 + 4, 8);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_IP);
}

static void test_non_ip_frames(void)
{
	static const uint16_t types[] = {0x0806, 0x8035, 0x88cc, 0x8847, 0x0042, 0x05dc, 0};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(types); i++)
		for (unsigned int nv = 0; nv <= 2; nv++) {
			struct spec s = {.ethertype = types[i], .n_vlan = (uint8_t)nv,
					 .tci = {5, 6}};
			struct frame f;
			struct npgw_pkt_info info, zero;
			enum npgw_drop_reason r;

			build(&s, &f);
			CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_NON_IP);
			CU_ASSERT_EQUAL(r, NPGW_DROP_NONE);
			CU_ASSERT_EQUAL(info.ethertype, types[i] ? types[i] : 0x0806);
			CU_ASSERT_EQUAL(info.n_vlan, nv);
			CU_ASSERT_EQUAL(info.vlan_tci[0], nv >= 1 ? 5 : 0);
			CU_ASSERT_EQUAL(info.vlan_tci[1], nv >= 2 ? 6 : 0);
			/* Everything else is zero. */
			memset(&zero, 0, sizeof(zero));
			zero.ethertype = info.ethertype;
			zero.n_vlan = info.n_vlan;
			memcpy(zero.vlan_tci, info.vlan_tci, sizeof(zero.vlan_tci));
			CU_ASSERT_EQUAL(memcmp(&zero, &info, sizeof(info)), 0);
		}
	/* A bare 14-byte header is a frame. */
	{
		static const uint8_t b[14] = {[12] = 0x08, [13] = 0x06};
		struct npgw_pkt_info info;
		enum npgw_drop_reason r;

		CU_ASSERT_EQUAL(parse_exact(b, 14, &info, &r), NPGW_PKT_NON_IP);
	}
}

static void test_fragments_first_and_later(void)
{
	struct spec s;
	struct frame f;
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(l4_protos); i++) {
		/* IPv4 first fragment: parsed, ports found. */
		s = v4(l4_protos[i]);
		s.v4_frag = 0x2000;
		expect_ip(&s);
		/* IPv4 middle and last fragments: no L4. */
		s.v4_frag = 0x2000 | 185; /* offset 1480 */
		expect_ip(&s);
		s.v4_frag = 370;
		expect_ip(&s);
		/* DF alone is not a fragment. */
		s.v4_frag = 0x4000;
		expect_ip(&s);
		/* IPv6 first, middle and last fragments. */
		s = v6(l4_protos[i]);
		add_frag6(&s, 0, true, 0x11223344);
		expect_ip(&s);
		s.ext[0].frag = 1448 | 1;
		expect_ip(&s);
		s.ext[0].frag = 2896;
		expect_ip(&s);
		/* Behind other headers, and with headers after it. */
		s = v6(l4_protos[i]);
		add_ext(&s, 0, 0);
		add_ext(&s, 60, 0);
		add_frag6(&s, 0, true, 7);
		add_ext(&s, 60, 1);
		expect_ip(&s);
		s.ext[2].frag = 8;
		expect_ip(&s);
	}
	/* The fields of a later IPv6 fragment. */
	s = v6(NPGW_PROTO_UDP);
	add_frag6(&s, 65528, true, 0xfedcba98);
	build(&s, &f);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_IP);
	CU_ASSERT_TRUE(info.is_fragment);
	CU_ASSERT_FALSE(info.is_first_fragment);
	CU_ASSERT_TRUE(info.more_fragments);
	CU_ASSERT_EQUAL(info.frag_offset, 65528);
	CU_ASSERT_EQUAL(info.frag_id, 0xfedcba98);
	CU_ASSERT_EQUAL(info.proto, NPGW_PROTO_UDP);
	CU_ASSERT_EQUAL(info.l4_off, 0);
	CU_ASSERT_EQUAL(info.sport, 0);
	/* A later IPv4 fragment whose payload is garbage (an invalid TCP
	 * header) is still a fragment: nothing past the IP header is read. */
	s = v4(NPGW_PROTO_TCP);
	s.v4_frag = 1;
	s.payload = 0;
	build(&s, &f);
	f.b[f.l4 + 12] = 0;
	f.len = f.l4 + 13;
	put16(f.b + f.l3 + 2, 20 + 13);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_IP);
	CU_ASSERT_EQUAL(info.frag_offset, 8);
	/* An IPv6 later fragment: headers after it are not walked. */
	s = v6(NPGW_PROTO_TCP);
	add_frag6(&s, 16, false, 3);
	s.payload = 0;
	build(&s, &f);
	f.len = f.l4 + 1; /* one byte of "TCP" */
	put16(f.b + f.l3 + 4, (uint16_t)(f.len - f.l3 - 40));
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_IP);
	CU_ASSERT_FALSE(info.more_fragments);
}

static void test_len_above_64k_is_clamped(void)
{
	struct spec s = v4(NPGW_PROTO_UDP);
	struct frame f;
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;
	uint8_t *big = calloc(1, 70000);

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	build(&s, &f);
	memcpy(big, f.b, f.len);
	CU_ASSERT_EQUAL(npgw_pkt_parse(big, 70000, &info, &r), NPGW_PKT_IP);
	CU_ASSERT_EQUAL(info.dport, 443);
	/* An IPv6 payload of 65535 bytes after a 14-byte Ethernet header
	 * does not fit 65535 bytes. */
	s = v6(59);
	s.payload = 0;
	build(&s, &f);
	memcpy(big, f.b, f.len);
	put16(big + f.l3 + 4, 65535);
	CU_ASSERT_EQUAL(npgw_pkt_parse(big, 70000, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV6_BAD_LENGTH);
	put16(big + f.l3 + 4, 65535 - 14 - 40);
	CU_ASSERT_EQUAL(npgw_pkt_parse(big, 70000, &info, &r), NPGW_PKT_IP);
	CU_ASSERT_EQUAL(info.l3_len, 65535 - 14);
	free(big);
}

/* ---- malformed corpus --------------------------------------------------- */

static void test_ethernet_and_vlan_malformed(void)
{
	static const uint16_t tpids[] = {0x8100, 0x88a8, 0x9100};
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;

	CU_ASSERT_EQUAL(parse_exact(NULL, 0, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_ETH_TRUNCATED);
	/* Three tags, whatever the TPIDs. */
	for (size_t i = 0; i < 27; i++) {
		struct spec s = v4(NPGW_PROTO_TCP);

		s.n_vlan = 3;
		s.tpid[0] = tpids[i % 3];
		s.tpid[1] = tpids[i / 3 % 3];
		s.tpid[2] = tpids[i / 9];
		expect_drop(&s, NPGW_DROP_VLAN_TOO_DEEP);
	}
	/* Three tags and nothing after them. */
	{
		struct spec s = {.n_vlan = 2, .ethertype = 0x8100};
		struct frame f;

		build(&s, &f);
		f.len = 24;
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_VLAN_TOO_DEEP);
	}
}

static void test_ipv4_malformed(void)
{
	struct spec s = v4(NPGW_PROTO_TCP);
	struct frame f;
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;

	/* IHL below 5. */
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		build(&s, &f);
		f.b[f.l3] = (uint8_t)(0x40 | ihl);
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_IPV4_BAD_IHL);
	}
	/* IHL past the frame. */
	s.payload = 0;
	s.proto = 47;
	build(&s, &f);
	f.b[f.l3] = 0x4f; /* 60 bytes; the frame has 20 */
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV4_BAD_IHL);
	/* IHL within the frame but past the total length. */
	s = v4(NPGW_PROTO_UDP);
	build(&s, &f);
	f.b[f.l3] = 0x48;
	put16(f.b + f.l3 + 2, 28);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV4_BAD_LENGTH);
	/* Versions other than 4. */
	for (unsigned int v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		build(&s, &f);
		f.b[f.l3] = (uint8_t)(v << 4 | 5);
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_IPV4_BAD_VERSION);
	}
	/* Total length below the header, and past the frame. */
	static const uint16_t bad_tot[] = {0, 1, 19, 65535};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(bad_tot); i++) {
		build(&s, &f);
		put16(f.b + f.l3 + 2, bad_tot[i]);
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_IPV4_BAD_LENGTH);
	}
	build(&s, &f);
	put16(f.b + f.l3 + 2, (uint16_t)(f.len - f.l3 + 1));
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV4_BAD_LENGTH);
}

static void test_ipv6_malformed(void)
{
	struct spec s = v6(NPGW_PROTO_UDP);
	struct frame f;
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;

	for (unsigned int v = 0; v < 16; v++) {
		if (v == 6)
			continue;
		build(&s, &f);
		f.b[f.l3] = (uint8_t)(v << 4);
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_IPV6_BAD_VERSION);
	}
	build(&s, &f);
	put16(f.b + f.l3 + 4, (uint16_t)(f.len - f.l3 - 40 + 1));
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV6_BAD_LENGTH);
	put16(f.b + f.l3 + 4, 65535);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV6_BAD_LENGTH);
	/* A jumbogram: payload length 0 and a hop-by-hop header. */
	s = v6(NPGW_PROTO_UDP);
	add_ext(&s, 0, 0);
	build(&s, &f);
	put16(f.b + f.l3 + 4, 0);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV6_BAD_LENGTH);
	/* Payload length 0 without it: an empty upper layer. */
	s = v6(NPGW_PROTO_TCP);
	build(&s, &f);
	put16(f.b + f.l3 + 4, 0);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_L4_TRUNCATED);
}

static void test_ipv6_bad_extension_chains(void)
{
	struct spec s;
	struct frame f;
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;

	/* One header too many, whatever the types. */
	static const uint8_t types[] = {43, 60, 51, 135, 139, 140, 253, 254};

	for (size_t t = 0; t < NPGW_ARRAY_SIZE(types); t++) {
		s = v6(NPGW_PROTO_TCP);
		for (unsigned int i = 0; i <= NPGW_PKT_MAX_EXT; i++)
			add_ext(&s, types[(t + i) % NPGW_ARRAY_SIZE(types)], 0);
		expect_drop(&s, NPGW_DROP_IPV6_BAD_EXT);
	}
	/* Hop-by-hop anywhere but first. */
	for (unsigned int pos = 1; pos < 4; pos++) {
		s = v6(NPGW_PROTO_UDP);
		for (unsigned int i = 0; i < 4; i++)
			add_ext(&s, i == pos ? 0 : 60, 0);
		expect_drop(&s, NPGW_DROP_IPV6_BAD_EXT);
	}
	s = v6(NPGW_PROTO_UDP);
	add_ext(&s, 0, 0);
	add_ext(&s, 0, 0);
	expect_drop(&s, NPGW_DROP_IPV6_BAD_EXT);
	/* Two fragment headers. */
	s = v6(NPGW_PROTO_UDP);
	add_frag6(&s, 0, true, 1);
	add_frag6(&s, 0, true, 1);
	expect_drop(&s, NPGW_DROP_IPV6_BAD_EXT);
	/* A header whose length runs past the payload, for each type. */
	static const uint8_t all[] = {0, 43, 60, 51, 135, 139, 140, 253, 254};

	for (size_t t = 0; t < NPGW_ARRAY_SIZE(all); t++) {
		s = v6(NPGW_PROTO_UDP);
		if (all[t] != 0)
			add_ext(&s, 60, 0);
		add_ext(&s, all[t], 1);
		build(&s, &f);
		f.b[f.ext_off[s.n_ext - 1] + 1] = 200;
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_IPV6_BAD_EXT);
	}
	/* AH's unit is 4 bytes: read in 8-byte units its length would land
	 * elsewhere, and the UDP header would not be found. */
	s = v6(NPGW_PROTO_UDP);
	add_ext(&s, 51, 1); /* 12 bytes */
	expect_ip(&s);
	add_ext(&s, 51, 3); /* 20 bytes */
	expect_ip(&s);
}

static void test_tiny_first_fragments(void)
{
	static const struct {
		uint8_t proto;
		uint32_t min;
	} l4[] = {{NPGW_PROTO_TCP, 20}, {NPGW_PROTO_UDP, 8}, {NPGW_PROTO_SCTP, 12}};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(l4); i++)
		for (uint32_t have = 0; have < l4[i].min; have++)
			for (unsigned int fam = 4; fam <= 6; fam += 2) {
				struct spec s = fam == 4 ? v4(l4[i].proto) : v6(l4[i].proto);
				struct frame f;
				struct npgw_pkt_info info;
				enum npgw_drop_reason r;

				if (fam == 4)
					s.v4_frag = 0x2000;
				else
					add_frag6(&s, 0, true, 9);
				s.payload = 0;
				build(&s, &f);
				f.len = f.l4 + have;
				if (fam == 4)
					put16(f.b + f.l3 + 2, (uint16_t)(f.len - f.l3));
				else
					put16(f.b + f.l3 + 4, (uint16_t)(f.len - f.l3 - 40));
				CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
				CU_ASSERT_EQUAL(r, NPGW_DROP_FRAG_TINY);
			}
	/* ICMP in both families. */
	for (unsigned int fam = 4; fam <= 6; fam += 2) {
		struct spec s = fam == 4 ? v4(NPGW_PROTO_ICMP) : v6(NPGW_PROTO_ICMPV6);
		struct frame f;
		struct npgw_pkt_info info;
		enum npgw_drop_reason r;

		if (fam == 4)
			s.v4_frag = 0x2000;
		else
			add_frag6(&s, 0, true, 9);
		s.payload = 0;
		build(&s, &f);
		f.len = f.l4 + 4;
		if (fam == 4)
			put16(f.b + f.l3 + 2, (uint16_t)(f.len - f.l3));
		else
			put16(f.b + f.l3 + 4, (uint16_t)(f.len - f.l3 - 40));
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_FRAG_TINY);
	}
	/* TCP: the whole header the data offset claims must be in the first
	 * fragment (options may hide nothing, but the rule is simple). */
	for (unsigned int fam = 4; fam <= 6; fam += 2) {
		struct spec s = fam == 4 ? v4(NPGW_PROTO_TCP) : v6(NPGW_PROTO_TCP);
		struct frame f;
		struct npgw_pkt_info info;
		enum npgw_drop_reason r;

		if (fam == 4)
			s.v4_frag = 0x2000;
		else
			add_frag6(&s, 0, true, 9);
		s.tcp_doff = 10;
		s.payload = 0;
		build(&s, &f);
		f.len = f.l4 + 39;
		if (fam == 4)
			put16(f.b + f.l3 + 2, (uint16_t)(f.len - f.l3));
		else
			put16(f.b + f.l3 + 4, (uint16_t)(f.len - f.l3 - 40));
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_FRAG_TINY);
		/* A data offset below 5 is bad, fragment or not. */
		build(&s, &f);
		f.b[f.l4 + 12] = 0x40;
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_TCP_BAD_OFFSET);
	}
	/* A first UDP fragment's length covers the whole datagram. */
	{
		struct spec s = v4(NPGW_PROTO_UDP);
		struct frame f;
		struct npgw_pkt_info info;
		enum npgw_drop_reason r;

		s.v4_frag = 0x2000;
		build(&s, &f);
		put16(f.b + f.l4 + 4, 3000);
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_IP);
		put16(f.b + f.l4 + 4, 7);
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_UDP_BAD_LENGTH);
	}
}

static void test_l4_malformed(void)
{
	for (unsigned int fam = 4; fam <= 6; fam += 2) {
		struct spec s = fam == 4 ? v4(NPGW_PROTO_TCP) : v6(NPGW_PROTO_TCP);
		struct frame f;
		struct npgw_pkt_info info;
		enum npgw_drop_reason r;

		s.payload = 8;
		for (unsigned int doff = 0; doff < 16; doff++) {
			build(&s, &f);
			f.b[f.l4 + 12] = (uint8_t)(doff << 4);
			CU_ASSERT_EQUAL(parse_frame(&f, &info, &r),
					doff >= 5 && doff <= 7 ? NPGW_PKT_IP : NPGW_PKT_DROP);
			if (doff < 5 || doff > 7)
				CU_ASSERT_EQUAL(r, NPGW_DROP_TCP_BAD_OFFSET);
		}
		s = fam == 4 ? v4(NPGW_PROTO_UDP) : v6(NPGW_PROTO_UDP);
		s.payload = 8;
		for (unsigned int ulen = 0; ulen < 30; ulen++) {
			build(&s, &f);
			put16(f.b + f.l4 + 4, (uint16_t)ulen);
			CU_ASSERT_EQUAL(parse_frame(&f, &info, &r),
					ulen >= 8 && ulen <= 16 ? NPGW_PKT_IP : NPGW_PKT_DROP);
			if (ulen < 8 || ulen > 16)
				CU_ASSERT_EQUAL(r, NPGW_DROP_UDP_BAD_LENGTH);
		}
	}
}

/*
 * Which reason a frame cut to cut bytes must give: the header the cut
 * falls in (after the IP header, the IP length that now points past the
 * frame). NPGW_DROP_NONE: the cut is in the padding, still a frame.
 */
static enum npgw_drop_reason cut_reason(const struct spec *s, const struct frame *f, uint32_t cut)
{
	if (cut < 14)
		return NPGW_DROP_ETH_TRUNCATED;
	if (cut < 14 + 4u * s->n_vlan)
		return NPGW_DROP_VLAN_TRUNCATED;
	if (s->family == 4) {
		if (cut < f->l3 + 20)
			return NPGW_DROP_IPV4_TRUNCATED;
		if (cut < f->l3 + 20 + 4u * s->v4_opt_words)
			return NPGW_DROP_IPV4_BAD_IHL;
		return cut < f->ip_end ? NPGW_DROP_IPV4_BAD_LENGTH : NPGW_DROP_NONE;
	}
	if (cut < f->l3 + 40)
		return NPGW_DROP_IPV6_TRUNCATED;
	return cut < f->ip_end ? NPGW_DROP_IPV6_BAD_LENGTH : NPGW_DROP_NONE;
}

/*
 * Which reason a frame cut to cut bytes, its IP length set to match, must
 * give: the header the cut falls in.
 */
static enum npgw_drop_reason cut_inner_reason(const struct spec *s, const struct frame *f,
					      uint32_t cut)
{
	bool first, frag = is_frag(s, &first);
	uint32_t have = cut - f->l4;
	enum npgw_drop_reason tiny = frag ? NPGW_DROP_FRAG_TINY : NPGW_DROP_L4_TRUNCATED;

	if (s->family == 4 && cut < f->l4)
		return NPGW_DROP_IPV4_BAD_IHL; /* the frame ends in the options */
	if (s->family == 6 && cut < f->l4) {
		if (cut == f->l3 + 40 && s->n_ext && s->ext[0].type == 0)
			return NPGW_DROP_IPV6_BAD_LENGTH; /* looks like a jumbogram */
		return NPGW_DROP_IPV6_BAD_EXT;
	}
	if (s->proto == 59)
		return NPGW_DROP_NONE;
	switch (s->proto) {
	case NPGW_PROTO_TCP:
		if (have < 20)
			return tiny;
		return have < f->l4_hlen ? (frag ? NPGW_DROP_FRAG_TINY : NPGW_DROP_TCP_BAD_OFFSET)
					 : NPGW_DROP_NONE;
	case NPGW_PROTO_UDP:
		if (have < 8)
			return tiny;
		return !frag && have < 8u + s->payload ? NPGW_DROP_UDP_BAD_LENGTH : NPGW_DROP_NONE;
	case NPGW_PROTO_SCTP:
		return have < 12 ? tiny : NPGW_DROP_NONE;
	case NPGW_PROTO_ICMP:
		return s->family == 4 && have < 8 ? tiny : NPGW_DROP_NONE;
	case NPGW_PROTO_ICMPV6:
		return s->family == 6 && have < 8 ? tiny : NPGW_DROP_NONE;
	default:
		return NPGW_DROP_NONE;
	}
}

/* The valid frames the truncation and random tests start from. */
static unsigned int corpus(struct spec *out, unsigned int max)
{
	unsigned int n = 0;

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(l4_protos); i++) {
		struct spec s;

		s = v4(l4_protos[i]);
		s.tcp_doff = 8;
		out[n++] = s;
		s.v4_opt_words = 3;
		s.n_vlan = 2;
		s.pad = 9;
		out[n++] = s;
		s.v4_frag = 0x2000;
		out[n++] = s;
		s = v6(l4_protos[i]);
		s.n_vlan = 1;
		s.tcp_doff = 6;
		out[n++] = s;
		add_ext(&s, 0, 0);
		add_ext(&s, 43, 1);
		add_frag6(&s, 0, true, 77);
		add_ext(&s, 51, 2);
		add_ext(&s, 60, 0);
		s.pad = 5;
		out[n++] = s;
		s.ext[2].frag = 0;
		out[n++] = s;
		s = v6(l4_protos[i]);
		add_ext(&s, 135, 0);
		add_ext(&s, 139, 0);
		add_ext(&s, 140, 0);
		add_ext(&s, 253, 0);
		add_ext(&s, 254, 0);
		out[n++] = s;
	}
	{
		struct spec s = v6(59);

		add_ext(&s, 0, 0);
		add_ext(&s, 60, 0);
		s.payload = 0;
		out[n++] = s;
	}
	CU_ASSERT_FATAL(n <= max);
	return n;
}

static void test_truncation_at_every_byte(void)
{
	struct spec specs[128];
	unsigned int n = corpus(specs, NPGW_ARRAY_SIZE(specs)), checked = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct frame f;

		build(&specs[i], &f);
		for (uint32_t cut = 0; cut <= f.len; cut++) {
			struct npgw_pkt_info info;
			enum npgw_drop_reason r, want = cut_reason(&specs[i], &f, cut);
			enum npgw_pkt_kind k = parse_exact(f.b, cut, &info, &r);

			checked++;
			if (want == NPGW_DROP_NONE) {
				CU_ASSERT_EQUAL(k, NPGW_PKT_IP);
				CU_ASSERT_EQUAL(r, NPGW_DROP_NONE);
				continue;
			}
			CU_ASSERT_EQUAL(k, NPGW_PKT_DROP);
			CU_ASSERT_EQUAL(r, want);
			if (r != want)
				fprintf(stderr, "\n  spec %u cut %u/%u: want %s got %s\n", i, cut,
					f.len, npgw_drop_name(want), npgw_drop_name(r));
		}
	}
	CU_ASSERT(checked > 2000);
}

static void test_truncation_inside_ip_with_consistent_length(void)
{
	struct spec specs[128];
	unsigned int n = corpus(specs, NPGW_ARRAY_SIZE(specs));

	for (unsigned int i = 0; i < n; i++) {
		struct frame f;
		uint32_t from;

		if (is_non_first_frag(&specs[i]))
			continue; /* nothing after the IP header is read */
		build(&specs[i], &f);
		from = f.l3 + (specs[i].family == 4 ? 20 : 40);
		for (uint32_t cut = from; cut <= f.ip_end; cut++) {
			struct frame g = f;
			struct npgw_pkt_info info;
			enum npgw_drop_reason r, want;
			enum npgw_pkt_kind k;

			g.len = cut;
			if (specs[i].family == 4)
				put16(g.b + g.l3 + 2, (uint16_t)(cut - g.l3));
			else
				put16(g.b + g.l3 + 4, (uint16_t)(cut - g.l3 - 40));
			want = cut == f.ip_end ? NPGW_DROP_NONE : cut_inner_reason(&specs[i], &f, cut);
			k = parse_frame(&g, &info, &r);
			CU_ASSERT_EQUAL(k, want == NPGW_DROP_NONE ? NPGW_PKT_IP : NPGW_PKT_DROP);
			CU_ASSERT_EQUAL(r, want);
			if (r != want)
				fprintf(stderr, "\n  spec %u cut %u/%u: want %s got %s\n", i, cut,
					f.ip_end, npgw_drop_name(want), npgw_drop_name(r));
		}
	}
}

/* ---- randomized ---------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* Check what a parse returned is self-consistent and within the frame.
 * Returns NULL or what is wrong. */
static const char *check_result(const uint8_t *b, uint32_t len, enum npgw_pkt_kind k,
				const struct npgw_pkt_info *info, enum npgw_drop_reason r)
{
	switch (k) {
	case NPGW_PKT_DROP:
		if (((r < NPGW_DROP_ETH_TRUNCATED || r > NPGW_DROP_FRAG_TINY) &&
		     r != NPGW_DROP_IPV6_ROUTING && r != NPGW_DROP_IPV4_SOURCE_ROUTE) ||
		    npgw_drop_name(r) == NULL)
			return "drop without a parser reason";
		return NULL;
	case NPGW_PKT_NON_IP:
		if (r != NPGW_DROP_NONE || info->family != 0 || info->ethertype == 0x0800 ||
		    info->ethertype == 0x86dd || info->n_vlan > 2)
			return "bad non-ip result";
		return NULL;
	case NPGW_PKT_IP:
		break;
	default:
		return "unknown kind";
	}
	if (r != NPGW_DROP_NONE)
		return "ip with a reason";
	if (info->family != 4 && info->family != 6)
		return "bad family";
	if (info->n_vlan > 2 || info->l3_off != 14 + 4 * info->n_vlan)
		return "bad l3_off";
	if ((uint32_t)info->l3_off + info->l3_len > len)
		return "l3_len past the frame";
	if (info->l3_len < (info->family == 4 ? 20 : 40))
		return "l3_len below the header";
	if (info->family == 4 && memcmp(info->src, b + info->l3_off + 12, 4) != 0)
		return "bad v4 src";
	if (info->family == 6 && memcmp(info->dst, b + info->l3_off + 24, 16) != 0)
		return "bad v6 dst";
	if (info->is_first_fragment && !info->is_fragment)
		return "first fragment flag without fragment";
	if (info->is_fragment && !info->is_first_fragment &&
	    (info->frag_offset == 0 || info->l4_off != 0 || info->sport || info->dport))
		return "bad later fragment";
	if (info->l4_off != 0) {
		uint32_t end = (uint32_t)info->l3_off + info->l3_len;
		uint32_t need = info->proto == NPGW_PROTO_TCP	 ? 20
				: info->proto == NPGW_PROTO_UDP	 ? 8
				: info->proto == NPGW_PROTO_SCTP ? 12
								 : 0;

		if (info->l4_off < info->l3_off + 20 || info->l4_off > end)
			return "l4_off outside the IP packet";
		if (info->l4_off + need > end)
			return "L4 header past the IP packet";
		if (need && (info->sport != (b[info->l4_off] << 8 | b[info->l4_off + 1]) ||
			     info->dport != (b[info->l4_off + 2] << 8 | b[info->l4_off + 3])))
			return "ports not read from l4_off";
	} else if (info->sport || info->dport || info->tcp_flags) {
		return "ports without an L4 header";
	}
	return NULL;
}

static void test_random_mutations_never_misbehave(void)
{
	static const uint8_t interesting[] = {0x00, 0x01, 0x05, 0x06, 0x08, 0x0f, 0x11, 0x20,
					      0x2c, 0x33, 0x3b, 0x40, 0x45, 0x4f, 0x60, 0x81,
					      0x84, 0x86, 0x88, 0x91, 0xa8, 0xdd, 0xfe, 0xff};
	struct spec specs[128];
	unsigned int n = corpus(specs, NPGW_ARRAY_SIZE(specs));
	struct frame *frames = malloc(n * sizeof(*frames));
	const char *env = getenv("NPGW_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();
	unsigned long kinds[3] = {0}, reasons[NPGW_DROP_MAX] = {0}, bad = 0;
	const unsigned int iters = 200000;

	CU_ASSERT_PTR_NOT_NULL_FATAL(frames);
	if (seed == 0)
		seed = 1;
	rng_state = seed;
	printf("\n  random mutations: seed %" PRIu64 " (NPGW_TEST_SEED to replay)\n", seed);
	for (unsigned int i = 0; i < n; i++)
		build(&specs[i], &frames[i]);
	for (unsigned int it = 0; it < iters; it++) {
		const struct frame *f = &frames[rng() % n];
		uint8_t b[FRAME_MAX];
		uint32_t len = f->len;
		unsigned int muts = 1 + rng() % 4;
		struct npgw_pkt_info info;
		enum npgw_drop_reason r;
		enum npgw_pkt_kind k;
		const char *err;

		memcpy(b, f->b, len);
		for (unsigned int m = 0; m < muts; m++) {
			/* Mostly in the headers, where the decisions are. */
			uint32_t span = rng() % 4 ? NPGW_MIN(len, f->l4 + 24) : len;
			uint32_t pos = (uint32_t)(rng() % span);

			switch (rng() % 4) {
			case 0:
				b[pos] ^= (uint8_t)(1u << (rng() % 8));
				break;
			case 1:
				b[pos] = (uint8_t)rng();
				break;
			default:
				b[pos] = interesting[rng() % sizeof(interesting)];
				break;
			}
		}
		if (rng() % 3 == 0)
			len = (uint32_t)(rng() % (len + 1));
		k = parse_exact(b, len, &info, &r);
		err = check_result(b, len, k, &info, r);
		if (err != NULL) {
			if (bad++ < 5)
				fprintf(stderr, "\n  seed %" PRIu64 " iteration %u: %s\n", seed, it,
					err);
			continue;
		}
		kinds[k]++;
		if (k == NPGW_PKT_DROP)
			reasons[r]++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	printf("  ip %lu, non-ip %lu, drop %lu:", kinds[NPGW_PKT_IP], kinds[NPGW_PKT_NON_IP],
	       kinds[NPGW_PKT_DROP]);
	for (unsigned int i = 0; i < NPGW_DROP_MAX; i++) {
		const char *name = npgw_drop_name(i);

		if (reasons[i] && name != NULL)
			printf(" %s %lu", name, reasons[i]);
	}
	printf("\n");
	CU_ASSERT(kinds[NPGW_PKT_IP] > iters / 10);
	CU_ASSERT(kinds[NPGW_PKT_DROP] > iters / 10);
	free(frames);
}

/* A source route makes the header's destination a waypoint: refused, in
 * both families; a malformed option list is refused too. */
static void test_source_routes_are_refused(void)
{
	struct spec s = v4(NPGW_PROTO_TCP);
	struct frame f;
	struct npgw_pkt_info info;
	enum npgw_drop_reason r;
	static const uint8_t opts[][4] = {
		{0x83, 3, 4, 0}, /* LSRR */
		{0x89, 3, 4, 0}, /* SSRR */
		{0x01, 0x83, 3, 4}, /* LSRR after a no-op */
	};

	s.v4_opt_words = 1;
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(opts); i++) {
		build(&s, &f);
		memcpy(f.b + f.l3 + 20, opts[i], 4);
		CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
		CU_ASSERT_EQUAL(r, NPGW_DROP_IPV4_SOURCE_ROUTE);
	}
	/* record route (7) is harmless */
	build(&s, &f);
	memcpy(f.b + f.l3 + 20, "\x07\x03\x04\x00", 4);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_IP);
	/* an option length of 1, and one past the header */
	build(&s, &f);
	memcpy(f.b + f.l3 + 20, "\x07\x01\x00\x00", 4);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV4_BAD_IHL);
	build(&s, &f);
	memcpy(f.b + f.l3 + 20, "\x07\x09\x00\x00", 4);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV4_BAD_IHL);

	/* IPv6 routing header: passes with no segments left, refused with */
	struct spec s6 = v6(NPGW_PROTO_UDP);

	add_ext(&s6, 43, 2);
	build(&s6, &f);
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_IP);
	f.b[f.ext_off[0] + 3] = 1;
	CU_ASSERT_EQUAL(parse_frame(&f, &info, &r), NPGW_PKT_DROP);
	CU_ASSERT_EQUAL(r, NPGW_DROP_IPV6_ROUTING);
}

int npgw_test_register(void)
{
	static const CU_TestInfo wellformed[] = {
		{"every L4 over both families and 0-2 VLAN tags",
		 test_every_l4_over_both_families_and_vlan_depths},
		{"VLAN TPIDs 8100, 88a8, 9100", test_vlan_tpids},
		{"TCP ports, flags, data offsets", test_tcp_fields},
		{"UDP and SCTP ports", test_udp_sctp_fields},
		{"ICMP and ICMPv6 type, code, echo id", test_icmp_fields},
		{"IPv4 options", test_ipv4_options},
		{"IPv6: each extension header", test_ipv6_each_extension_header},
		{"IPv6: extension header chains", test_ipv6_chains},
		{"IPv6: ESP and no-next-header", test_ipv6_esp_and_no_next_header},
		{"Ethernet padding is ignored", test_ethernet_padding_is_ignored},
		{"L4 bounded by the IP length, not the frame",
		 test_l4_bounded_by_ip_length_not_frame},
		{"non-IP frames", test_non_ip_frames},
		{"fragments: first and later", test_fragments_first_and_later},
		{"len above 64k is clamped", test_len_above_64k_is_clamped},
		{NULL, NULL},
	};
	static const CU_TestInfo malformed[] = {
		{"Ethernet and VLAN", test_ethernet_and_vlan_malformed},
		{"IPv4 IHL, version, length", test_ipv4_malformed},
		{"IPv6 version, length, jumbogram", test_ipv6_malformed},
		{"IPv6 bad extension chains", test_ipv6_bad_extension_chains},
		{"tiny first fragments", test_tiny_first_fragments},
		{"source routes are refused", test_source_routes_are_refused},
		{"TCP offset and UDP length", test_l4_malformed},
		{"truncation at every byte", test_truncation_at_every_byte},
		{"truncation inside IP, length consistent",
		 test_truncation_inside_ip_with_consistent_length},
		{"200k random mutations", test_random_mutations_never_misbehave},
		{NULL, NULL},
	};

	if (npgw_test_add_suite("pkt: well-formed frames", wellformed) != 0)
		return -1;
	return npgw_test_add_suite("pkt: malformed frames", malformed);
}
