/*
 * ct_frames.h: frame builders for the conntrack suites (unit and func):
 * a transport segment (TCP, UDP, SCTP, ICMP/ICMPv6 echo or error), wrapped
 * in IPv4 or IPv6 (optionally as one fragment, optionally behind a VLAN
 * tag) and Ethernet. Checksums the parser does not check are left zero;
 * the IPv4 header checksum is set.
 */
#ifndef NPGW_CT_FRAMES_H
#define NPGW_CT_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "npgw_common.h"

#define CTF_MAX 2048

static inline void ctf_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void ctf_wr32(uint8_t *p, uint32_t v)
{
	ctf_wr16(p, (uint16_t)(v >> 16));
	ctf_wr16(p + 2, (uint16_t)v);
}

static inline uint16_t ctf_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t ctf_rd32(const uint8_t *p)
{
	return (uint32_t)ctf_rd16(p) << 16 | ctf_rd16(p + 2);
}

/* A transport segment. */
struct ctf_l4 {
	uint8_t proto;
	uint16_t sport, dport;       /* TCP, UDP, SCTP */
	uint8_t flags;               /* TCP */
	uint32_t seq, ack;           /* TCP */
	uint8_t type, code;          /* ICMP */
	uint16_t id;                 /* ICMP echo */
	const uint8_t *payload;      /* after the header (an ICMP error's quote) */
	size_t plen;
};

/* Write the segment into out; returns its length. */
static inline size_t ctf_l4_build(const struct ctf_l4 *s, uint8_t *out)
{
	size_t h;

	switch (s->proto) {
	case NPGW_PROTO_TCP:
		h = 20;
		memset(out, 0, h);
		ctf_wr16(out, s->sport);
		ctf_wr16(out + 2, s->dport);
		ctf_wr32(out + 4, s->seq);
		ctf_wr32(out + 8, s->ack);
		out[12] = 0x50;
		out[13] = s->flags;
		ctf_wr16(out + 14, 65535);
		break;
	case NPGW_PROTO_UDP:
		h = 8;
		memset(out, 0, h);
		ctf_wr16(out, s->sport);
		ctf_wr16(out + 2, s->dport);
		ctf_wr16(out + 4, (uint16_t)(8 + s->plen));
		break;
	case NPGW_PROTO_SCTP:
		h = 12;
		memset(out, 0, h);
		ctf_wr16(out, s->sport);
		ctf_wr16(out + 2, s->dport);
		break;
	case NPGW_PROTO_ICMP:
	case NPGW_PROTO_ICMPV6:
		h = 8;
		memset(out, 0, h);
		out[0] = s->type;
		out[1] = s->code;
		ctf_wr16(out + 4, s->id);
		break;
	default:
		h = 0;
		break;
	}
	if (s->plen > 0)
		memcpy(out + h, s->payload, s->plen);
	return h + s->plen;
}

/* How to wrap it. */
struct ctf_ip {
	const char *src, *dst;
	uint8_t proto;
	uint16_t vlan;     /* 0: untagged */
	bool frag;         /* a fragment: */
	uint32_t frag_id;
	uint16_t frag_off; /* bytes, a multiple of 8 */
	bool mf;
	uint8_t ttl;       /* 0: 64 */
};

static inline uint16_t ctf_ipv4_cksum(const uint8_t *ip)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet [+ VLAN] + IP [+ fragment header] + data[0..len); returns the
 * frame length. */
static inline size_t ctf_wrap(const struct ctf_ip *o, const uint8_t *data, size_t len,
			      uint8_t *out)
{
	static const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x0b};
	static const uint8_t smac[6] = {0x02, 0, 0, 0, 0, 0x0a};
	struct npgw_addr s, d;
	size_t off = 12;
	uint8_t *ip;

	npgw_addr_parse(o->src, &s);
	npgw_addr_parse(o->dst, &d);
	memcpy(out, dmac, 6);
	memcpy(out + 6, smac, 6);
	if (o->vlan != 0) {
		ctf_wr16(out + off, 0x8100);
		ctf_wr16(out + off + 2, o->vlan);
		off += 4;
	}
	ctf_wr16(out + off, s.family == 4 ? 0x0800 : 0x86dd);
	off += 2;
	ip = out + off;
	if (s.family == 4) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ctf_wr16(ip + 2, (uint16_t)(20 + len));
		ctf_wr16(ip + 4, (uint16_t)o->frag_id);
		if (o->frag)
			ctf_wr16(ip + 6, (uint16_t)((o->mf ? 0x2000 : 0) | (o->frag_off >> 3)));
		ip[8] = o->ttl ? o->ttl : 64;
		ip[9] = o->proto;
		memcpy(ip + 12, s.bytes, 4);
		memcpy(ip + 16, d.bytes, 4);
		ctf_wr16(ip + 10, ctf_ipv4_cksum(ip));
		memcpy(ip + 20, data, len);
		return off + 20 + len;
	}
	size_t fh = o->frag ? 8 : 0;

	memset(ip, 0, 40 + fh);
	ip[0] = 0x60;
	ctf_wr16(ip + 4, (uint16_t)(fh + len));
	ip[6] = o->frag ? 44 : o->proto;
	ip[7] = o->ttl ? o->ttl : 64;
	memcpy(ip + 8, s.bytes, 16);
	memcpy(ip + 24, d.bytes, 16);
	if (o->frag) {
		ip[40] = o->proto;
		ctf_wr16(ip + 42, (uint16_t)(o->frag_off | (o->mf ? 1 : 0)));
		ctf_wr32(ip + 44, o->frag_id);
	}
	memcpy(ip + 40 + fh, data, len);
	return off + 40 + fh + len;
}

/* A whole unfragmented packet: segment s from src to dst. */
static inline size_t ctf_packet(const char *src, const char *dst, const struct ctf_l4 *s,
				uint8_t *out)
{
	uint8_t l4[CTF_MAX];
	size_t n = ctf_l4_build(s, l4);
	struct ctf_ip o = {.src = src, .dst = dst, .proto = s->proto};

	return ctf_wrap(&o, l4, n, out);
}

/* A TCP packet. Both sides start at sequence number 1000 (the SYN takes
 * it), and an ACK acknowledges the other side's SYN (1001): a handshake,
 * data without payload, FINs and RSTs all sit in the TCP window. */
static inline size_t ctf_tcp(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			     uint8_t flags, uint8_t *out)
{
	struct ctf_l4 s = {.proto = NPGW_PROTO_TCP, .sport = sport, .dport = dport,
			   .flags = flags, .seq = 1000, .ack = flags & 0x10 ? 1001 : 0};

	return ctf_packet(src, dst, &s, out);
}

/* A TCP segment with every field the window reads: seq, ack, window,
 * plen zero bytes of payload, and a window scale option when wscale >= 0. */
static inline size_t ctf_tcp_seg(const char *src, uint16_t sport, const char *dst, uint16_t dport,
				 uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, int wscale,
				 size_t plen, uint8_t *out)
{
	uint8_t l4[CTF_MAX];
	size_t hl = wscale >= 0 ? 24 : 20;
	struct ctf_ip o = {.src = src, .dst = dst, .proto = NPGW_PROTO_TCP};

	memset(l4, 0, hl + plen);
	ctf_wr16(l4, sport);
	ctf_wr16(l4 + 2, dport);
	ctf_wr32(l4 + 4, seq);
	ctf_wr32(l4 + 8, ack);
	l4[12] = (uint8_t)((hl / 4) << 4);
	l4[13] = flags;
	ctf_wr16(l4 + 14, win);
	if (wscale >= 0) {
		l4[20] = 1; /* no-op, then kind 3, length 3 */
		l4[21] = 3;
		l4[22] = 3;
		l4[23] = (uint8_t)wscale;
	}
	return ctf_wrap(&o, l4, hl + plen, out);
}

/* One chunk of an SCTP packet. */
struct ctf_sctp_chunk {
	uint8_t type, flags;
	uint32_t init_tag; /* INIT, INIT-ACK */
};

/* An SCTP packet with verification tag vtag and chunks c[0..n), each as
 * long as its type needs (INIT and INIT-ACK with their fixed fields, DATA
 * with 4 bytes of data). */
static inline size_t ctf_sctp(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			      uint32_t vtag, const struct ctf_sctp_chunk *c, unsigned int n,
			      uint8_t *out)
{
	uint8_t l4[CTF_MAX];
	size_t off = 12;
	struct ctf_ip o = {.src = src, .dst = dst, .proto = NPGW_PROTO_SCTP};

	memset(l4, 0, sizeof(l4));
	ctf_wr16(l4, sport);
	ctf_wr16(l4 + 2, dport);
	ctf_wr32(l4 + 4, vtag);
	for (unsigned int i = 0; i < n && off + 20 <= sizeof(l4); i++) {
		const uint8_t t = c[i].type;
		const size_t len = t == 0 || t == 1 || t == 2 ? 20 : t == 7 || t == 10 ? 8 : 4;

		l4[off] = t;
		l4[off + 1] = c[i].flags;
		ctf_wr16(l4 + off + 2, (uint16_t)len);
		if (t == 1 || t == 2) {
			ctf_wr32(l4 + off + 4, c[i].init_tag);
			ctf_wr32(l4 + off + 8, 65536); /* a_rwnd */
			ctf_wr16(l4 + off + 12, 10);   /* streams out, in */
			ctf_wr16(l4 + off + 14, 10);
			ctf_wr32(l4 + off + 16, 1);    /* initial TSN */
		}
		off += len;
	}
	return ctf_wrap(&o, l4, off, out);
}

/* A UDP packet with plen bytes of payload. */
static inline size_t ctf_udp(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			     uint8_t *out)
{
	struct ctf_l4 s = {.proto = NPGW_PROTO_UDP, .sport = sport, .dport = dport};

	return ctf_packet(src, dst, &s, out);
}

/*
 * An ICMP error from `from` to `to`, quoting the first `quote` bytes of the
 * IP packet in frame (an Ethernet frame, untagged, as ctf_packet builds).
 */
static inline size_t ctf_icmp_error(const char *from, const char *to, uint8_t type,
				    uint8_t code, const uint8_t *frame, size_t flen,
				    size_t quote, uint8_t *out)
{
	struct npgw_addr a;
	size_t q = flen - 14 < quote ? flen - 14 : quote;

	npgw_addr_parse(from, &a);
	struct ctf_l4 s = {.proto = a.family == 4 ? NPGW_PROTO_ICMP : NPGW_PROTO_ICMPV6,
			   .type = type, .code = code, .payload = frame + 14, .plen = q};

	return ctf_packet(from, to, &s, out);
}

#endif /* NPGW_CT_FRAMES_H */
