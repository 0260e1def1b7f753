/*
 * make_seeds.c: writes the binary seed corpora of fuzz_pkt (one frame per
 * file) and fuzz_ct (records of [control][length LE16][frame], see
 * fuzz_ct.c) with the frame builders of the conntrack tests
 * (tests/unit/ct_frames.h): TCP handshakes and sequence windows, UDP, SCTP
 * associations, ICMP echo and
 * errors quoting a flow, VLAN tags, in-order and out-of-order fragments of
 * both families. The files are kept in tests/fuzz/seeds; run
 * `build/tests/fuzz/make_seeds tests/fuzz/seeds` to write them again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ct_frames.h"

static const char *root;

static void put(const char *target, const char *name, const uint8_t *b, size_t len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, target);
	if (mkdir(p, 0755) < 0 && errno != EEXIST) {
		perror(p);
		exit(1);
	}
	snprintf(p, sizeof(p), "%s/%s/%s", root, target, name);
	FILE *f = fopen(p, "wb");
	if (f == NULL || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
		perror(p);
		exit(1);
	}
}

/* A fuzz_ct input being built. */
struct rec {
	uint8_t b[16384];
	size_t n;
};

static void rec_add(struct rec *r, uint8_t ctl, const uint8_t *f, size_t len)
{
	r->b[r->n++] = ctl;
	r->b[r->n++] = (uint8_t)len;
	r->b[r->n++] = (uint8_t)(len >> 8);
	memcpy(r->b + r->n, f, len);
	r->n += len;
}

/* One datagram of 3 fragments of 24 bytes each (the first holds the UDP
 * header), in the order given. */
static void frags(struct rec *r, const char *s, const char *d, const int order[3], uint8_t ctl)
{
	uint8_t data[72], f[CTF_MAX];
	struct ctf_l4 u = {.proto = NPGW_PROTO_UDP, .sport = 5353, .dport = 53};
	memset(data, 0x5a, sizeof(data));
	size_t n = ctf_l4_build(&u, data);
	(void)n;
	ctf_wr16(data + 4, 72);
	for (int i = 0; i < 3; i++) {
		int k = order[i];
		struct ctf_ip o = {.src = s, .dst = d, .proto = NPGW_PROTO_UDP, .frag = true,
				   .frag_id = 77, .frag_off = (uint16_t)(24 * k), .mf = k < 2};
		size_t len = ctf_wrap(&o, data + 24 * k, 24, f);
		rec_add(r, ctl, f, len);
	}
}

int main(int argc, char **argv)
{
	uint8_t f[CTF_MAX], g[CTF_MAX];
	size_t n, m;
	struct rec r;

	if (argc != 2) {
		fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	root = argv[1];

	/* fuzz_pkt: single frames */
	n = ctf_tcp("10.0.1.1", 40000, "10.0.2.1", 80, 0x02, f);
	put("pkt", "tcp4-syn", f, n);
	n = ctf_tcp("fd00::1:1", 40000, "fd00::2:1", 80, 0x12, f);
	put("pkt", "tcp6-synack", f, n);
	n = ctf_udp("10.0.1.1", 5353, "10.0.2.1", 53, f);
	put("pkt", "udp4", f, n);
	struct ctf_l4 sc = {.proto = NPGW_PROTO_SCTP, .sport = 9, .dport = 99};
	n = ctf_packet("fd00::1:1", "fd00::2:1", &sc, f);
	put("pkt", "sctp6", f, n);
	struct ctf_l4 echo = {.proto = NPGW_PROTO_ICMP, .type = 8, .id = 7};
	n = ctf_packet("10.0.1.1", "10.0.2.1", &echo, f);
	put("pkt", "icmp4-echo", f, n);
	struct ctf_l4 echo6 = {.proto = NPGW_PROTO_ICMPV6, .type = 128, .id = 7};
	n = ctf_packet("fd00::1:1", "fd00::2:1", &echo6, f);
	put("pkt", "icmp6-echo", f, n);
	m = ctf_udp("10.0.1.1", 5353, "10.0.2.1", 53, g);
	n = ctf_icmp_error("10.0.2.1", "10.0.1.1", 3, 3, g, m, 28, f);
	put("pkt", "icmp4-unreach", f, n);
	m = ctf_tcp("fd00::1:1", 40000, "fd00::2:1", 80, 0x02, g);
	n = ctf_icmp_error("fd00::2:1", "fd00::1:1", 2, 0, g, m, 60, f);
	put("pkt", "icmp6-too-big", f, n);
	struct ctf_ip vo = {.src = "10.0.1.1", .dst = "10.0.2.1", .proto = NPGW_PROTO_UDP,
			    .vlan = 100};
	uint8_t l4[64];
	struct ctf_l4 u = {.proto = NPGW_PROTO_UDP, .sport = 1, .dport = 2};
	m = ctf_l4_build(&u, l4);
	n = ctf_wrap(&vo, l4, m, f);
	put("pkt", "udp4-vlan", f, n);
	struct ctf_ip fo = {.src = "fd00::1:1", .dst = "fd00::2:1", .proto = NPGW_PROTO_UDP,
			    .frag = true, .frag_id = 5, .frag_off = 0, .mf = true};
	uint8_t data[16] = {0};
	n = ctf_wrap(&fo, data, 16, f);
	put("pkt", "udp6-frag-first", f, n);
	fo.frag_off = 16;
	fo.mf = false;
	n = ctf_wrap(&fo, data, 16, f);
	put("pkt", "udp6-frag-last", f, n);
	static const uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1,
					0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1};
	put("pkt", "arp", arp, sizeof(arp));

	/* fuzz_ct: sequences. A TCP handshake, data, FIN both ways. */
	r.n = 0;
	n = ctf_tcp("10.0.1.1", 40000, "10.0.2.1", 80, 0x02, f);
	rec_add(&r, 0x03, f, n);
	n = ctf_tcp("10.0.2.1", 80, "10.0.1.1", 40000, 0x12, f);
	rec_add(&r, 0x03, f, n);
	n = ctf_tcp("10.0.1.1", 40000, "10.0.2.1", 80, 0x10, f);
	rec_add(&r, 0x07, f, n);
	n = ctf_tcp("10.0.1.1", 40000, "10.0.2.1", 80, 0x11, f);
	rec_add(&r, 0x13, f, n);
	n = ctf_tcp("10.0.2.1", 80, "10.0.1.1", 40000, 0x11, f);
	rec_add(&r, 0x33, f, n);
	put("ct", "tcp4-handshake-close", r.b, r.n);

	/* TCP windows: a handshake with window scaling, data, then a spoofed
	 * RST and FIN far outside the window (dropped), an RST in the window
	 * but not where expected (kept), and the real RST. */
	r.n = 0;
	n = ctf_tcp_seg("10.0.1.1", 40000, "10.0.2.1", 80, 0x02, 100000, 0, 1000, 7, 0, f);
	rec_add(&r, 0x03, f, n);
	n = ctf_tcp_seg("10.0.2.1", 80, "10.0.1.1", 40000, 0x12, 7000000, 100001, 1000, 7, 0, f);
	rec_add(&r, 0x03, f, n);
	n = ctf_tcp_seg("10.0.1.1", 40000, "10.0.2.1", 80, 0x18, 100001, 7000001, 1000, -1, 100, f);
	rec_add(&r, 0x01, f, n);
	n = ctf_tcp_seg("10.0.2.1", 80, "10.0.1.1", 40000, 0x10, 7000001, 100101, 1000, -1, 0, f);
	rec_add(&r, 0x03, f, n);
	n = ctf_tcp_seg("10.0.2.1", 80, "10.0.1.1", 40000, 0x14, 0x87000001, 100101, 0, -1, 0, f);
	rec_add(&r, 0x01, f, n);
	n = ctf_tcp_seg("10.0.2.1", 80, "10.0.1.1", 40000, 0x11, 7000001 + 300000000, 100101,
			1000, -1, 0, f);
	rec_add(&r, 0x03, f, n);
	n = ctf_tcp_seg("10.0.2.1", 80, "10.0.1.1", 40000, 0x14, 7000301, 100101, 0, -1, 0, f);
	rec_add(&r, 0x07, f, n);
	n = ctf_tcp_seg("10.0.2.1", 80, "10.0.1.1", 40000, 0x14, 7000001, 100101, 0, -1, 0, f);
	rec_add(&r, 0x03, f, n);
	put("ct", "tcp4-window-spoofed-rst", r.b, r.n);

	/* An SCTP association: INIT .. COOKIE-ACK, data, an ABORT with a
	 * guessed tag (dropped), the real ABORT (T bit, the sender's tag). */
	{
		const struct ctf_sctp_chunk init = {1, 0, 0x11111111},
					    init_ack = {2, 0, 0x22222222}, echo = {10, 0, 0},
					    cack = {11, 0, 0}, data2[2] = {{0, 0, 0}, {3, 0, 0}},
					    abort = {6, 0, 0}, abort_t = {6, 1, 0};

		r.n = 0;
		n = ctf_sctp("10.0.1.1", 3868, "10.0.2.1", 3868, 0, &init, 1, f);
		rec_add(&r, 0x03, f, n);
		n = ctf_sctp("10.0.2.1", 3868, "10.0.1.1", 3868, 0x11111111, &init_ack, 1, f);
		rec_add(&r, 0x03, f, n);
		n = ctf_sctp("10.0.1.1", 3868, "10.0.2.1", 3868, 0x22222222, &echo, 1, f);
		rec_add(&r, 0x01, f, n);
		n = ctf_sctp("10.0.2.1", 3868, "10.0.1.1", 3868, 0x11111111, &cack, 1, f);
		rec_add(&r, 0x03, f, n);
		n = ctf_sctp("10.0.1.1", 3868, "10.0.2.1", 3868, 0x22222222, data2, 2, f);
		rec_add(&r, 0x03, f, n);
		n = ctf_sctp("10.0.2.1", 3868, "10.0.1.1", 3868, 0x12345678, &abort, 1, f);
		rec_add(&r, 0x03, f, n);
		n = ctf_sctp("10.0.2.1", 3868, "10.0.1.1", 3868, 0x22222222, &abort_t, 1, f);
		rec_add(&r, 0x03, f, n);
		put("ct", "sctp4-association-abort", r.b, r.n);
	}

	/* A UDP flow, then an ICMP error quoting it, then one quoting nothing. */
	r.n = 0;
	m = ctf_udp("10.0.1.1", 5353, "10.0.2.1", 53, g);
	rec_add(&r, 0x03, g, m);
	n = ctf_icmp_error("10.0.2.1", "10.0.1.1", 3, 3, g, m, 28, f);
	rec_add(&r, 0x03, f, n);
	m = ctf_udp("10.0.1.9", 1, "10.0.2.1", 53, g);
	n = ctf_icmp_error("10.0.2.1", "10.0.1.9", 11, 0, g, m, 28, f);
	rec_add(&r, 0x02, f, n);
	put("ct", "udp4-icmp-related", r.b, r.n);

	r.n = 0;
	m = ctf_tcp("fd00::1:1", 40000, "fd00::2:1", 80, 0x02, g);
	rec_add(&r, 0x03, g, m);
	n = ctf_icmp_error("fd00::2:1", "fd00::1:1", 2, 0, g, m, 60, f);
	rec_add(&r, 0x13, f, n);
	n = ctf_packet("fd00::1:1", "fd00::2:1", &echo6, f);
	rec_add(&r, 0x01, f, n);
	echo6.type = 129;
	n = ctf_packet("fd00::2:1", "fd00::1:1", &echo6, f);
	rec_add(&r, 0x03, f, n);
	put("ct", "tcp6-icmp6-echo", r.b, r.n);

	/* Fragments: in order, out of order (held), last first, both families. */
	static const int in_order[3] = {0, 1, 2}, reverse[3] = {2, 1, 0}, mid[3] = {1, 0, 2};
	r.n = 0;
	frags(&r, "10.0.1.1", "10.0.2.1", in_order, 0x01);
	put("ct", "frag4-in-order", r.b, r.n);
	r.n = 0;
	frags(&r, "fd00::1:1", "fd00::2:1", reverse, 0x03);
	put("ct", "frag6-reverse", r.b, r.n);
	r.n = 0;
	frags(&r, "10.0.1.1", "10.0.2.1", mid, 0x0b);
	frags(&r, "10.0.1.1", "10.0.2.1", in_order, 0x00);
	put("ct", "frag4-held-then-denied", r.b, r.n);
	return 0;
}
