/*
 * ct_key.c: the pure half of connection tracking: a packet's tuple, the
 * normalized flow key both directions share, the seeded hashes (table and
 * steering), the quoted header of an ICMP error, and where a fragment's
 * payload lies. No DPDK, no state: any thread, and every read is checked
 * against the bounds the caller gives.
 */
#include <errno.h>
#include <string.h>

#include "ct_private.h"

void npgw_conntrack_tuple_of(const struct npgw_pkt_info *info, uint16_t zone,
			     struct npgw_conntrack_tuple *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->src, info->src, 16);
	memcpy(t->dst, info->dst, 16);
	t->family = info->family;
	t->proto = info->proto;
	t->zone = zone;
	if ((info->proto == NPGW_PROTO_ICMP && info->family == 4) ||
	    (info->proto == NPGW_PROTO_ICMPV6 && info->family == 6)) {
		t->sport = info->icmp_id;
		t->dport = info->icmp_id;
	} else {
		t->sport = info->sport;
		t->dport = info->dport;
	}
}

unsigned int ct_key_from_tuple(const struct npgw_conntrack_tuple *t, struct ct_key *k)
{
	return ct_key_build(t->src, t->dst, t->sport, t->dport, t->zone, t->family, t->proto, k);
}

static inline uint32_t rotl32(uint32_t x, unsigned int r)
{
	return (x << r) | (x >> (32 - r));
}

uint32_t ct_hash_words(const uint32_t *w, unsigned int n, uint32_t seed)
{
	uint32_t h = seed;

	for (unsigned int i = 0; i < n; i++) {
		uint32_t k = w[i] * 0xcc9e2d51u;

		k = rotl32(k, 15) * 0x1b873593u;
		h ^= k;
		h = rotl32(h, 13) * 5 + 0xe6546b64u;
	}
	h ^= n * 4;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t key_hash(const struct ct_key *k, uint32_t seed)
{
	uint32_t w[sizeof(*k) / 4];

	memcpy(w, k, sizeof(w));
	return ct_hash_words(w, (unsigned int)NPGW_ARRAY_SIZE(w), seed);
}

uint32_t npgw_conntrack_hash_symmetric(const struct npgw_conntrack_tuple *t, uint32_t seed)
{
	struct ct_key k;

	ct_key_from_tuple(t, &k);
	return key_hash(&k, seed);
}

uint32_t npgw_conntrack_steer_hash(const uint8_t *frame, uint32_t len,
				   const struct npgw_pkt_info *info, uint16_t zone, bool l3_only,
				   uint32_t seed)
{
	struct npgw_conntrack_tuple t;

	if (npgw_conntrack_icmp_embedded(frame, len, info, zone, &t) != 0)
		npgw_conntrack_tuple_of(info, zone, &t);
	else if (info->is_fragment)
		l3_only = true; /* the quote is of a whole flow, but this error
				   is a fragment: hash like its siblings */
	if (l3_only || info->is_fragment) {
		t.sport = 0;
		t.dport = 0;
		t.proto = 0; /* a later IPv6 fragment names the header after the
				fragment header, not always the transport */
	}
	return npgw_conntrack_hash_symmetric(&t, seed);
}

bool ct_ipv6_ext_len(const uint8_t *h, uint8_t nh, uint32_t avail, uint32_t *hlen)
{
	if (avail < 8)
		return false;
	switch (nh) {
	case 0:   /* hop-by-hop */
	case 43:  /* routing */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253:
	case 254:
		*hlen = ((uint32_t)h[1] + 1) * 8;
		break;
	case 51: /* AH */
		*hlen = ((uint32_t)h[1] + 2) * 4;
		break;
	default:
		return false;
	}
	return *hlen <= avail;
}

static bool icmp_is_error(uint8_t family, uint8_t type)
{
	if (family == 4)
		return type == CT_ICMP_UNREACH || type == CT_ICMP_TIME_EXCEEDED ||
		       type == CT_ICMP_PARAM_PROBLEM;
	return type == CT_ICMPV6_UNREACH || type == CT_ICMPV6_TOO_BIG ||
	       type == CT_ICMPV6_TIME_EXCEEDED || type == CT_ICMPV6_PARAM_PROBLEM;
}

/* The transport part of a quote at l4 (avail bytes). */
static int quote_l4(const uint8_t *l4, uint32_t avail, uint8_t family,
		    struct npgw_conntrack_tuple *t)
{
	uint8_t icmp = family == 4 ? NPGW_PROTO_ICMP : NPGW_PROTO_ICMPV6;

	switch (t->proto) {
	case NPGW_PROTO_TCP:
	case NPGW_PROTO_UDP:
	case NPGW_PROTO_SCTP:
		if (avail < 8)
			return -EINVAL;
		t->sport = ct_rd16(l4);
		t->dport = ct_rd16(l4 + 2);
		return 0;
	default:
		break;
	}
	if (t->proto == icmp) {
		uint8_t req = family == 4 ? CT_ICMP_ECHO_REQUEST : CT_ICMPV6_ECHO_REQUEST;
		uint8_t rep = family == 4 ? CT_ICMP_ECHO_REPLY : CT_ICMPV6_ECHO_REPLY;

		if (avail < 8 || (l4[0] != req && l4[0] != rep))
			return -EINVAL; /* an error about an error, or untracked */
		t->sport = ct_rd16(l4 + 4);
		t->dport = t->sport;
		return 0;
	}
	if (t->proto == NPGW_PROTO_ICMP || t->proto == NPGW_PROTO_ICMPV6)
		return -EINVAL; /* the other family's ICMP in a quote: bogus */
	return 0; /* tracked by address pair */
}

int npgw_conntrack_icmp_embedded(const uint8_t *frame, uint32_t len,
				 const struct npgw_pkt_info *info, uint16_t zone,
				 struct npgw_conntrack_tuple *t)
{
	uint32_t end, q, avail, hl;
	const uint8_t *p;
	size_t alen;

	if (info->l4_off == 0 ||
	    !((info->family == 4 && info->proto == NPGW_PROTO_ICMP) ||
	      (info->family == 6 && info->proto == NPGW_PROTO_ICMPV6)) ||
	    !icmp_is_error(info->family, info->icmp_type))
		return -ENOENT;
	end = (uint32_t)info->l3_off + info->l3_len;
	if (end > len)
		end = len;
	q = (uint32_t)info->l4_off + 8;
	if (frame == NULL || q > end)
		return -EINVAL;
	p = frame + q;
	avail = end - q;
	memset(t, 0, sizeof(*t));
	t->family = info->family;
	t->zone = zone;
	alen = npgw_addr_len(info->family);
	if (info->family == 4) {
		if (avail < CT_IPV4_HLEN || (p[0] >> 4) != 4)
			return -EINVAL;
		hl = (uint32_t)(p[0] & 0x0f) * 4;
		if (hl < CT_IPV4_HLEN || hl > avail || ct_rd16(p + 2) < hl)
			return -EINVAL;
		if ((ct_rd16(p + 6) & 0x1fff) != 0)
			return -EINVAL; /* a later fragment: no ports to match */
		t->proto = p[9];
		memcpy(t->src, p + 12, 4);
		memcpy(t->dst, p + 16, 4);
	} else {
		uint8_t nh;

		if (avail < CT_IPV6_HLEN || (p[0] >> 4) != 6)
			return -EINVAL;
		memcpy(t->src, p + 8, 16);
		memcpy(t->dst, p + 24, 16);
		nh = p[6];
		hl = CT_IPV6_HLEN;
		for (unsigned int n = 0;; n++) {
			uint32_t xl;

			if (nh == CT_IPV6_FRAG) {
				if (avail - hl < 8 || (ct_rd16(p + hl + 2) & 0xfff8) != 0)
					return -EINVAL;
				nh = p[hl];
				hl += 8;
			} else if (ct_ipv6_ext_len(p + hl, nh, avail - hl, &xl)) {
				nh = p[hl];
				hl += xl;
			} else {
				break;
			}
			if (n == NPGW_PKT_MAX_EXT)
				return -EINVAL;
		}
		t->proto = nh;
	}
	/* The error must travel back to the quoted packet's sender: a quote
	 * of someone else's flow does not open a way to a third party. */
	if (memcmp(info->dst, t->src, alen) != 0)
		return -EINVAL;
	return quote_l4(p + hl, avail - hl, info->family, t);
}

int npgw_conntrack_frag_payload(const uint8_t *frame, uint32_t len,
				const struct npgw_pkt_info *info, uint32_t *off, uint32_t *plen)
{
	uint32_t ip = info->l3_off, end = ip + info->l3_len, o;

	if (frame == NULL || end > len || !info->is_fragment)
		return -EINVAL;
	if (info->family == 4) {
		if (info->l3_len < CT_IPV4_HLEN)
			return -EINVAL;
		o = ip + (uint32_t)(frame[ip] & 0x0f) * 4;
	} else if (info->family == 6) {
		uint8_t nh;

		if (info->l3_len < CT_IPV6_HLEN)
			return -EINVAL;
		nh = frame[ip + 6];
		o = ip + CT_IPV6_HLEN;
		for (unsigned int n = 0;; n++) {
			uint32_t xl;

			if (n > NPGW_PKT_MAX_EXT)
				return -EINVAL;
			if (nh == CT_IPV6_FRAG) {
				if (end - o < 8)
					return -EINVAL;
				o += 8;
				break;
			}
			if (!ct_ipv6_ext_len(frame + o, nh, end - o, &xl))
				return -EINVAL;
			nh = frame[o];
			o += xl;
		}
	} else {
		return -EINVAL;
	}
	if (o > end)
		return -EINVAL;
	*off = o;
	*plen = end - o;
	return 0;
}
