/*
 * npgw_pkt.h: the data path's packet parser. It reads one Ethernet frame
 * from a byte buffer and returns what the rest of the data path needs:
 * the family, addresses, L4 protocol and ports, TCP flags, ICMP type, code
 * and echo id, fragment fields, VLAN tags and header offsets; or the drop
 * reason (lib/common/npgw_drop.h) for a malformed frame.
 *
 * Pure C, no DPDK: the data plane calls it with rte_pktmbuf_mtod(m) and
 * m->data_len. Only the bytes given are parsed: a multi-segment mbuf must
 * be linearized first, or it is parsed over its first segment only, with
 * the caller passing that segment's data_len (headers that run past it are
 * reported as truncated). The parser never reads outside [data, data+len),
 * allocates nothing, takes no locks and keeps no state: any lcore may call
 * it concurrently.
 *
 * What it checks: the structure of the headers (lengths, versions, offsets,
 * the IPv6 extension header chain, the tiny-first-fragment attack). What it
 * does not: checksums (offloaded to the NIC, or the endpoint's job), IPv4
 * options (skipped by IHL), TCP options, IPv6 option contents, routing
 * header contents, reassembly.
 *
 * Coverage:
 *  - Ethernet II; up to two VLAN tags with TPID 0x8100, 0x88a8 or 0x9100 in
 *    either position; a third tag is VLAN_TOO_DEEP. An ethertype that is
 *    neither IPv4 nor IPv6 (ARP, an 802.3 length, anything) is NON_IP.
 *  - IPv4 with options. The IP total length, not the frame end, bounds the
 *    L4 parse: bytes past it are Ethernet padding and are ignored.
 *  - IPv6 with extension headers: hop-by-hop (first only), routing (43),
 *    fragment (44, at most one), destination options (60), AH (51), mobility
 *    (135), HIP (139), shim6 (140), experimental (253, 254); at most
 *    NPGW_PKT_MAX_EXT of them. ESP (50) and no-next-header (59) end the
 *    walk. Jumbograms (payload length 0 with hop-by-hop, RFC 2675) are
 *    refused as IPV6_BAD_LENGTH.
 *  - L4: TCP, UDP, SCTP, ICMP (over IPv4 only), ICMPv6 (over IPv6 only);
 *    any other protocol is reported with no ports.
 *  - Fragments: an IPv4 datagram with MF set or a non-zero offset, or an
 *    IPv6 packet with a fragment header that has M set or a non-zero offset
 *    (an atomic fragment, RFC 6946, is parsed as an unfragmented packet).
 *    A first fragment must hold the whole minimal L4 header (TCP: the whole
 *    header its data offset claims), else FRAG_TINY. A later fragment is
 *    reported as NPGW_PKT_IP with is_fragment set, is_first_fragment clear,
 *    no L4 header and no ports: the data plane decides what to do with it.
 *
 * Truncation: a frame cut short after the IP header carries an IP length
 * that points past the frame, so it is reported as IPV4_BAD_LENGTH or
 * IPV6_BAD_LENGTH; L4_TRUNCATED, TCP_BAD_OFFSET, UDP_BAD_LENGTH and
 * IPV6_BAD_EXT (truncated) mean the IP length itself is too short for the
 * headers inside it.
 */
#ifndef NPGW_PKT_H
#define NPGW_PKT_H

#include <stdint.h>
#include <string.h>

#include "npgw_common.h"
#include "npgw_drop.h"

/* The longest IPv6 extension header chain walked; a longer one is
 * IPV6_BAD_EXT. */
#define NPGW_PKT_MAX_EXT 8

/* The most VLAN tags parsed; one more is VLAN_TOO_DEEP. */
#define NPGW_PKT_MAX_VLAN 2

/* IP protocol numbers the parser knows beside those of npgw_common.h. */
#define NPGW_PKT_PROTO_ESP 50
#define NPGW_PKT_PROTO_NONXT 59 /* IPv6 no next header */

enum npgw_pkt_kind {
	NPGW_PKT_DROP = 0,   /* malformed: *reason says why; drop and count */
	NPGW_PKT_IP = 1,     /* IPv4 or IPv6: every field of the info is set */
	NPGW_PKT_NON_IP = 2, /* not IP: ethertype and VLAN fields are set */
};

/*
 * What the parser found. Exposed (not opaque) because it is filled per
 * packet on the hot path, usually in a per-lcore burst array. 64 bytes.
 * Every field the parse did not reach is zero.
 */
struct npgw_pkt_info {
	uint8_t src[16]; /* IPv4 in src[0..3], network order; rest zero */
	uint8_t dst[16];
	uint16_t sport, dport; /* host order; 0 when the protocol has no ports
				  or the packet is a non-first fragment */
	uint16_t l3_off;       /* IP header offset from the frame start */
	uint16_t l4_off;       /* offset of the upper-layer header (after
				  IPv6 extension headers), for any protocol
				  (ESP, GRE... too; only TCP, UDP, SCTP and
				  ICMP are checked to be whole); 0 when the
				  packet carries none: non-first fragment,
				  no-next-header */
	uint16_t l3_len;       /* IP packet length as its header says: IPv4
				  total length, or 40 + IPv6 payload length;
				  l3_off + l3_len <= len, padding excluded */
	uint16_t ethertype;    /* the ethertype after the VLAN tags */
	uint16_t vlan_tci[NPGW_PKT_MAX_VLAN]; /* outer first, host order */
	uint16_t icmp_id;      /* echo request/reply identifier, else 0 */
	uint16_t frag_offset;  /* fragment offset in bytes */
	uint32_t frag_id;      /* IPv4 identification or IPv6 fragment id */
	uint8_t family;        /* 4 or 6; 0 for non-IP */
	uint8_t proto;         /* L4 protocol, after IPv6 extension headers;
				  for a non-first fragment, the protocol the
				  fragment header names */
	uint8_t n_vlan;        /* VLAN tags found, 0..2 */
	uint8_t tcp_flags;     /* TCP flags byte (FIN 0x01 .. CWR 0x80) */
	uint8_t icmp_type;     /* ICMP / ICMPv6 type and code */
	uint8_t icmp_code;
	uint8_t is_fragment : 1;       /* part of a fragmented datagram */
	uint8_t is_first_fragment : 1; /* is_fragment and offset 0 */
	uint8_t more_fragments : 1;    /* MF (IPv4) or M (IPv6) flag */
};

/* TCP flag bits of npgw_pkt_info.tcp_flags. */
#define NPGW_PKT_TCP_FIN 0x01
#define NPGW_PKT_TCP_SYN 0x02
#define NPGW_PKT_TCP_RST 0x04
#define NPGW_PKT_TCP_PSH 0x08
#define NPGW_PKT_TCP_ACK 0x10
#define NPGW_PKT_TCP_URG 0x20
#define NPGW_PKT_TCP_ECE 0x40
#define NPGW_PKT_TCP_CWR 0x80

/*
 * Parse the frame data[0..len). Returns:
 *  - NPGW_PKT_IP: info fully filled, *reason = NPGW_DROP_NONE;
 *  - NPGW_PKT_NON_IP: info->ethertype, n_vlan and vlan_tci set, the rest
 *    zero, *reason = NPGW_DROP_NONE;
 *  - NPGW_PKT_DROP: *reason is one of the parser's reasons (ETH_TRUNCATED
 *    .. FRAG_TINY); info holds what was parsed before the fault (for
 *    tracing), the rest zero.
 * Never reads outside [data, data+len); data may be NULL when len is 0.
 * A len above 65535 (more than an mbuf segment holds) is parsed as 65535,
 * so that every offset and length fits its uint16_t field.
 * Any thread, lock-free; no allocation, no side effects beyond *info and
 * *reason.
 */
enum npgw_pkt_kind npgw_pkt_parse(const uint8_t *data, uint32_t len, struct npgw_pkt_info *info,
				  enum npgw_drop_reason *reason);

/*
 * The same contract and the same result as npgw_pkt_parse, for every frame:
 * the common frame (Ethernet, up to two VLAN tags, IPv4 without options and
 * not a fragment, or IPv6 without extension headers, carrying a whole TCP
 * or UDP header) is parsed here in straight-line code;
 * any other frame, and any frame this code would have to judge, goes to
 * npgw_pkt_parse. tests/unit/test_pkt.c checks that both agree on every
 * frame of its corpora and random mutations. Any thread, lock-free.
 */
static inline enum npgw_pkt_kind npgw_pkt_parse_fast(const uint8_t *d, uint32_t len,
						     struct npgw_pkt_info *info,
						     enum npgw_drop_reason *reason)
{
#define NPGW_PKT_RD16(p) ((uint16_t)((unsigned int)(p)[0] << 8 | (p)[1]))
#define NPGW_PKT_IS_VLAN(t) ((t) == 0x8100 || (t) == 0x88a8 || (t) == 0x9100)
	uint32_t off = 14, avail, l3_len;
	uint16_t et, tci[NPGW_PKT_MAX_VLAN] = {0, 0};
	uint8_t n_vlan = 0, proto;
	const uint8_t *ip, *l4;

	/* 42 bytes, the shortest IPv4 + UDP frame, hold two tags and an
	 * IPv4 header: those reads need no check of their own */
	if (__builtin_expect(len < 42 || len > UINT16_MAX, 0))
		goto full;
	et = NPGW_PKT_RD16(d + 12);
	if (NPGW_PKT_IS_VLAN(et)) {
		tci[0] = NPGW_PKT_RD16(d + 14);
		et = NPGW_PKT_RD16(d + 16);
		off = 18;
		n_vlan = 1;
		if (NPGW_PKT_IS_VLAN(et)) {
			tci[1] = NPGW_PKT_RD16(d + 18);
			et = NPGW_PKT_RD16(d + 20);
			off = 22;
			n_vlan = 2;
			if (NPGW_PKT_IS_VLAN(et))
				goto full;
		}
	}
	ip = d + off;
	if (et == 0x0800) {
		/* version 4, IHL 5 (no options), not a fragment */
		if (ip[0] != 0x45 || (NPGW_PKT_RD16(ip + 6) & 0x3fff) != 0)
			goto full;
		l3_len = NPGW_PKT_RD16(ip + 2);
		if (l3_len < 20 || l3_len > len - off)
			goto full;
		proto = ip[9];
		l4 = ip + 20;
		avail = l3_len - 20;
	} else if (et == 0x86dd) {
		if (len - off < 40 || (ip[0] >> 4) != 6)
			goto full;
		l3_len = 40 + (uint32_t)NPGW_PKT_RD16(ip + 4);
		if (l3_len > len - off)
			goto full;
		proto = ip[6]; /* TCP or UDP below: no extension header */
		l4 = ip + 40;
		avail = l3_len - 40;
	} else {
		goto full;
	}
	if (proto == NPGW_PROTO_TCP) {
		if (avail < 20 || (uint32_t)(l4[12] >> 4) * 4 < 20 ||
		    (uint32_t)(l4[12] >> 4) * 4 > avail)
			goto full;
	} else if (proto == NPGW_PROTO_UDP) {
		if (avail < 8 || NPGW_PKT_RD16(l4 + 4) < 8 || NPGW_PKT_RD16(l4 + 4) > avail)
			goto full;
	} else {
		goto full;
	}
	memset(info, 0, sizeof(*info));
	if (et == 0x0800) {
		memcpy(info->src, ip + 12, 4);
		memcpy(info->dst, ip + 16, 4);
		info->frag_id = NPGW_PKT_RD16(ip + 4);
		info->family = 4;
	} else {
		memcpy(info->src, ip + 8, 16);
		memcpy(info->dst, ip + 24, 16);
		info->family = 6;
	}
	info->sport = NPGW_PKT_RD16(l4);
	info->dport = NPGW_PKT_RD16(l4 + 2);
	info->l3_off = (uint16_t)off;
	info->l4_off = (uint16_t)(l4 - d);
	info->l3_len = (uint16_t)l3_len;
	info->ethertype = et;
	info->vlan_tci[0] = tci[0];
	info->vlan_tci[1] = tci[1];
	info->n_vlan = n_vlan;
	info->proto = proto;
	if (proto == NPGW_PROTO_TCP)
		info->tcp_flags = l4[13];
	*reason = NPGW_DROP_NONE;
	return NPGW_PKT_IP;
full:
	return npgw_pkt_parse(d, len, info, reason);
#undef NPGW_PKT_RD16
#undef NPGW_PKT_IS_VLAN
}

/* "ip", "non-ip" or "drop"; "?" for anything else. */
const char *npgw_pkt_kind_name(enum npgw_pkt_kind kind);

#endif /* NPGW_PKT_H */
