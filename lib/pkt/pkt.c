/*
 * pkt.c: the data path's packet parser (see npgw_pkt.h for the contract).
 *
 * Written for the hot path: no allocation, no loop over bytes except the
 * bounded IPv6 extension header walk, multi-byte fields read with byte
 * loads (frames are not aligned, and UBSan checks that), every read preceded
 * by a bound check against what the header before it promised. Offsets are
 * kept in uint32_t, relative to the frame or to the IP header, and compared
 * as "length needed > length left", which cannot overflow.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "npgw_common.h"
#include "npgw_pkt.h"

_Static_assert(sizeof(struct npgw_pkt_info) == 64, "npgw_pkt_info is one cache line");

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define TPID_8021Q 0x8100
#define TPID_8021AD 0x88a8
#define TPID_QINQ_OLD 0x9100

#define IPV4_MIN_HLEN 20
#define IPV6_HLEN 40
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define IPV6_FRAG_OFFSET_MASK 0xfff8
#define IPV6_FRAG_M 0x0001
#define IPV6_EXT_MIN_LEN 8 /* every extension header is at least 8 bytes */

#define TCP_MIN_HLEN 20
#define UDP_HLEN 8
#define SCTP_HLEN 12
#define ICMP_HLEN 8

#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

/* How the IPv6 walk treats a next-header value. */
enum ext_kind {
	EXT_UPPER = 0, /* not an extension header: the walk ends here */
	EXT_HBH,       /* hop-by-hop: 8-byte units, must come first */
	EXT_GENERIC,   /* length byte in 8-byte units, not counting the first 8 */
	EXT_AH,        /* length byte in 4-byte units, not counting the first 2 */
	EXT_FRAG,      /* fixed 8 bytes */
	EXT_ROUTING,   /* as EXT_GENERIC; refused while segments are left */
};

static const uint8_t ext_kind[256] = {
	[0] = EXT_HBH,	   [43] = EXT_ROUTING,	[44] = EXT_FRAG,     [51] = EXT_AH,
	[60] = EXT_GENERIC,  [135] = EXT_GENERIC, [139] = EXT_GENERIC, [140] = EXT_GENERIC,
	[253] = EXT_GENERIC, [254] = EXT_GENERIC,
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline int is_vlan_tpid(uint16_t t)
{
	return t == TPID_8021Q || t == TPID_8021AD || t == TPID_QINQ_OLD;
}

static inline void rd_ports(const uint8_t *l4, struct npgw_pkt_info *info)
{
	info->sport = rd16(l4);
	info->dport = rd16(l4 + 2);
}

/*
 * Parse the L4 header at l4, with avail bytes up to the end of the IP
 * packet. first_frag says the packet is the first fragment of a datagram:
 * then a header cut short is FRAG_TINY, and the UDP length (which covers
 * the whole datagram) is not compared with this fragment's payload.
 * Returns NPGW_DROP_NONE or the reason to drop.
 */
static inline enum npgw_drop_reason parse_l4(const uint8_t *l4, uint32_t avail,
					     struct npgw_pkt_info *info, int first_frag)
{
	const enum npgw_drop_reason short_reason =
		first_frag ? NPGW_DROP_FRAG_TINY : NPGW_DROP_L4_TRUNCATED;
	uint32_t hlen;

	switch (info->proto) {
	case NPGW_PROTO_TCP:
		if (avail < TCP_MIN_HLEN)
			return short_reason;
		hlen = (uint32_t)(l4[12] >> 4) * 4;
		if (hlen < TCP_MIN_HLEN)
			return NPGW_DROP_TCP_BAD_OFFSET;
		if (hlen > avail)
			return first_frag ? NPGW_DROP_FRAG_TINY : NPGW_DROP_TCP_BAD_OFFSET;
		rd_ports(l4, info);
		info->tcp_flags = l4[13];
		return NPGW_DROP_NONE;
	case NPGW_PROTO_UDP:
		if (avail < UDP_HLEN)
			return short_reason;
		hlen = rd16(l4 + 4);
		if (hlen < UDP_HLEN || (!first_frag && hlen > avail))
			return NPGW_DROP_UDP_BAD_LENGTH;
		rd_ports(l4, info);
		return NPGW_DROP_NONE;
	case NPGW_PROTO_SCTP:
		if (avail < SCTP_HLEN)
			return short_reason;
		rd_ports(l4, info);
		return NPGW_DROP_NONE;
	case NPGW_PROTO_ICMP:
		if (info->family != 4)
			return NPGW_DROP_NONE; /* ICMPv4 over IPv6: no ports */
		if (avail < ICMP_HLEN)
			return short_reason;
		info->icmp_type = l4[0];
		info->icmp_code = l4[1];
		if (l4[0] == ICMP_ECHO_REQUEST || l4[0] == ICMP_ECHO_REPLY)
			info->icmp_id = rd16(l4 + 4);
		return NPGW_DROP_NONE;
	case NPGW_PROTO_ICMPV6:
		if (info->family != 6)
			return NPGW_DROP_NONE;
		if (avail < ICMP_HLEN)
			return short_reason;
		info->icmp_type = l4[0];
		info->icmp_code = l4[1];
		if (l4[0] == ICMPV6_ECHO_REQUEST || l4[0] == ICMPV6_ECHO_REPLY)
			info->icmp_id = rd16(l4 + 4);
		return NPGW_DROP_NONE;
	default:
		return NPGW_DROP_NONE; /* GRE, ESP, OSPF...: no ports */
	}
}

/*
 * Walk the IPv4 options (at most 40 bytes). Loose and strict source routes
 * make the destination in the header a waypoint, not where the packet
 * ends up, so policy on it would be checked against the wrong pod: refused.
 * A malformed option list (a length below 2 or past the header) is refused
 * too, as a router would.
 */
static inline enum npgw_drop_reason check_ipv4_options(const uint8_t *o, uint32_t len)
{
	for (uint32_t i = 0; i < len;) {
		uint8_t type = o[i];

		if (type == 0) /* end of options */
			break;
		if (type == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || o[i + 1] > len - i)
			return NPGW_DROP_IPV4_BAD_IHL;
		if (type == 0x83 || type == 0x89) /* LSRR, SSRR */
			return NPGW_DROP_IPV4_SOURCE_ROUTE;
		i += o[i + 1];
	}
	return NPGW_DROP_NONE;
}

/* IPv4 at ip, with avail bytes left in the frame. */
static inline enum npgw_drop_reason parse_ipv4(const uint8_t *ip, uint32_t avail,
					       struct npgw_pkt_info *info)
{
	uint32_t ihl, tot;
	uint16_t frag;

	if (avail < IPV4_MIN_HLEN)
		return NPGW_DROP_IPV4_TRUNCATED;
	if ((ip[0] >> 4) != 4)
		return NPGW_DROP_IPV4_BAD_VERSION;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < IPV4_MIN_HLEN || ihl > avail)
		return NPGW_DROP_IPV4_BAD_IHL;
	tot = rd16(ip + 2);
	if (tot < ihl || tot > avail)
		return NPGW_DROP_IPV4_BAD_LENGTH;
	if (ihl > IPV4_MIN_HLEN) {
		enum npgw_drop_reason r = check_ipv4_options(ip + IPV4_MIN_HLEN, ihl - IPV4_MIN_HLEN);

		if (r != NPGW_DROP_NONE)
			return r;
	}

	info->family = 4;
	info->proto = ip[9];
	info->l3_len = (uint16_t)tot;
	memcpy(info->src, ip + 12, 4);
	memcpy(info->dst, ip + 16, 4);
	info->frag_id = rd16(ip + 4);
	frag = rd16(ip + 6);
	if (frag & (IPV4_MF | IPV4_OFFSET_MASK)) {
		info->is_fragment = 1;
		info->more_fragments = !!(frag & IPV4_MF);
		info->frag_offset = (uint16_t)((frag & IPV4_OFFSET_MASK) << 3);
		if (info->frag_offset != 0)
			return NPGW_DROP_NONE; /* later fragment: no L4 header */
		info->is_first_fragment = 1;
	}
	info->l4_off = (uint16_t)(info->l3_off + ihl);
	return parse_l4(ip + ihl, tot - ihl, info, info->is_first_fragment);
}

/* IPv6 and its extension headers at ip, with avail bytes left in the
 * frame. */
static inline enum npgw_drop_reason parse_ipv6(const uint8_t *ip, uint32_t avail,
					       struct npgw_pkt_info *info)
{
	uint32_t end, off = IPV6_HLEN;
	uint8_t nh;
	int seen_frag = 0;

	if (avail < IPV6_HLEN)
		return NPGW_DROP_IPV6_TRUNCATED;
	if ((ip[0] >> 4) != 6)
		return NPGW_DROP_IPV6_BAD_VERSION;
	end = IPV6_HLEN + (uint32_t)rd16(ip + 4);
	nh = ip[6];
	if (end > avail)
		return NPGW_DROP_IPV6_BAD_LENGTH;
	if (end == IPV6_HLEN && nh == 0)
		return NPGW_DROP_IPV6_BAD_LENGTH; /* jumbogram (RFC 2675) */

	info->family = 6;
	info->l3_len = (uint16_t)end;
	memcpy(info->src, ip + 8, 16);
	memcpy(info->dst, ip + 24, 16);

	for (unsigned int n = 0;; n++) {
		const uint8_t *h = ip + off;
		const uint8_t kind = ext_kind[nh];
		uint32_t hlen;
		uint16_t fo;

		if (kind == EXT_UPPER)
			break;
		if ((kind == EXT_HBH && n != 0) || n == NPGW_PKT_MAX_EXT ||
		    end - off < IPV6_EXT_MIN_LEN)
			return NPGW_DROP_IPV6_BAD_EXT;
		switch (kind) {
		case EXT_AH:
			hlen = ((uint32_t)h[1] + 2) * 4;
			break;
		case EXT_FRAG:
			if (seen_frag)
				return NPGW_DROP_IPV6_BAD_EXT;
			seen_frag = 1;
			hlen = IPV6_EXT_MIN_LEN;
			fo = rd16(h + 2);
			info->frag_id = rd32(h + 4);
			if (fo & (IPV6_FRAG_OFFSET_MASK | IPV6_FRAG_M)) {
				info->is_fragment = 1;
				info->more_fragments = fo & IPV6_FRAG_M;
				info->frag_offset = fo & IPV6_FRAG_OFFSET_MASK;
				if (info->frag_offset != 0) {
					/* Later fragment: what follows is
					 * the middle of the datagram. */
					info->proto = h[0];
					return NPGW_DROP_NONE;
				}
				info->is_first_fragment = 1;
			}
			break;
		case EXT_ROUTING:
			/* Segments left: the destination in the header is the
			 * next waypoint, not the final one; refused, as for
			 * IPv4 source routes. */
			if (h[3] != 0)
				return NPGW_DROP_IPV6_ROUTING;
			hlen = ((uint32_t)h[1] + 1) * 8;
			break;
		default: /* hop-by-hop and the 8-byte-unit headers */
			hlen = ((uint32_t)h[1] + 1) * 8;
			break;
		}
		if (hlen > end - off)
			return NPGW_DROP_IPV6_BAD_EXT;
		nh = h[0];
		off += hlen;
	}
	info->proto = nh;
	if (nh == NPGW_PKT_PROTO_NONXT)
		return NPGW_DROP_NONE;
	info->l4_off = (uint16_t)(info->l3_off + off);
	return parse_l4(ip + off, end - off, info, info->is_first_fragment);
}

enum npgw_pkt_kind npgw_pkt_parse(const uint8_t *data, uint32_t len, struct npgw_pkt_info *info,
				  enum npgw_drop_reason *reason)
{
	enum npgw_drop_reason r;
	uint32_t off = ETH_HLEN;
	uint16_t et;

	memset(info, 0, sizeof(*info));
	if (len > UINT16_MAX)
		len = UINT16_MAX;
	if (len < ETH_HLEN) {
		r = NPGW_DROP_ETH_TRUNCATED;
		goto drop;
	}
	et = rd16(data + 12);
	if (is_vlan_tpid(et)) {
		if (len < ETH_HLEN + VLAN_HLEN) {
			r = NPGW_DROP_VLAN_TRUNCATED;
			goto drop;
		}
		info->vlan_tci[0] = rd16(data + 14);
		et = rd16(data + 16);
		info->n_vlan = 1;
		off += VLAN_HLEN;
		if (is_vlan_tpid(et)) {
			if (len < ETH_HLEN + 2 * VLAN_HLEN) {
				r = NPGW_DROP_VLAN_TRUNCATED;
				goto drop;
			}
			info->vlan_tci[1] = rd16(data + 18);
			et = rd16(data + 20);
			info->n_vlan = 2;
			off += VLAN_HLEN;
			if (is_vlan_tpid(et)) {
				r = NPGW_DROP_VLAN_TOO_DEEP;
				goto drop;
			}
		}
	}
	info->ethertype = et;
	info->l3_off = (uint16_t)off;
	if (et == ETHERTYPE_IPV4)
		r = parse_ipv4(data + off, len - off, info);
	else if (et == ETHERTYPE_IPV6)
		r = parse_ipv6(data + off, len - off, info);
	else {
		info->l3_off = 0;
		*reason = NPGW_DROP_NONE;
		return NPGW_PKT_NON_IP;
	}
	if (r != NPGW_DROP_NONE)
		goto drop;
	*reason = NPGW_DROP_NONE;
	return NPGW_PKT_IP;
drop:
	*reason = r;
	return NPGW_PKT_DROP;
}

const char *npgw_pkt_kind_name(enum npgw_pkt_kind kind)
{
	switch (kind) {
	case NPGW_PKT_DROP:
		return "drop";
	case NPGW_PKT_IP:
		return "ip";
	case NPGW_PKT_NON_IP:
		return "non-ip";
	}
	return "?";
}
