/*
 * addr.c: IPv4/IPv6 addresses and prefixes, and protocol names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npgw_common.h"

int npgw_addr_parse(const char *s, struct npgw_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -EINVAL;
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, out->bytes) != 1)
			return -EINVAL;
		out->family = 6;
		return 0;
	}
	if (inet_pton(AF_INET, s, out->bytes) != 1)
		return -EINVAL;
	out->family = 4;
	return 0;
}

int npgw_addr_port_parse(const char *s, struct npgw_addr *out, uint16_t *port)
{
	char host[64];
	const char *colon, *h = s, *p;
	size_t hl;
	char *end;
	long v;

	memset(out, 0, sizeof(*out));
	if (s == NULL || (colon = strrchr(s, ':')) == NULL)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[') { /* [IPv6]:port */
		if (hl < 2 || s[hl - 1] != ']')
			return -EINVAL;
		h = s + 1;
		hl -= 2;
	} else if (memchr(s, ':', hl) != NULL) {
		return -EINVAL; /* an IPv6 address needs its brackets */
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	p = colon + 1;
	/* digits only, no leading zero */
	if (p[0] < '1' || p[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || *end != '\0' || v < 1 || v > 65535)
		return -EINVAL;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (npgw_addr_parse(host, out) < 0 || (s[0] == '[') != (out->family == 6))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int npgw_prefix_parse(const char *s, struct npgw_prefix *out, bool *host_bits)
{
	char buf[64];
	const char *slash;
	char *end;
	long len;
	size_t alen;
	bool hb = false;

	memset(out, 0, sizeof(*out));
	if (host_bits)
		*host_bits = false;
	if (s == NULL || (slash = strchr(s, '/')) == NULL)
		return -EINVAL;
	if ((size_t)(slash - s) >= sizeof(buf) || slash == s)
		return -EINVAL;
	memcpy(buf, s, slash - s);
	buf[slash - s] = '\0';
	if (npgw_addr_parse(buf, &out->addr) < 0)
		return -EINVAL;
	/* digits only: no sign, no spaces, no leading zeros beyond "0" */
	if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2] != '\0'))
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end != '\0' || len < 0 || len > (out->addr.family == 4 ? 32 : 128))
		return -EINVAL;
	out->len = (uint8_t)len;
	alen = npgw_addr_len(out->addr.family);
	for (size_t i = 0; i < alen; i++) {
		int keep = (int)len - (int)i * 8;
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));

		if (out->addr.bytes[i] & ~mask)
			hb = true;
		out->addr.bytes[i] &= mask;
	}
	if (host_bits)
		*host_bits = hb;
	return 0;
}

char *npgw_addr_format(const struct npgw_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

char *npgw_prefix_format(const struct npgw_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", npgw_addr_format(&p->addr, a, sizeof(a)), p->len);
	return buf;
}

static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

bool npgw_prefix_contains(const struct npgw_prefix *p, const struct npgw_addr *a)
{
	return p->addr.family == a->family && bits_equal(p->addr.bytes, a->bytes, p->len);
}

bool npgw_prefix_covers(const struct npgw_prefix *outer, const struct npgw_prefix *inner)
{
	return outer->addr.family == inner->addr.family && outer->len <= inner->len &&
	       bits_equal(outer->addr.bytes, inner->addr.bytes, outer->len);
}

int npgw_addr_cmp(const struct npgw_addr *a, const struct npgw_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, npgw_addr_len(a->family));
}

int npgw_prefix_cmp(const struct npgw_prefix *a, const struct npgw_prefix *b)
{
	int c = npgw_addr_cmp(&a->addr, &b->addr);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

int npgw_proto_parse(const char *s)
{
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "TCP") == 0)
		return NPGW_PROTO_TCP;
	if (strcmp(s, "UDP") == 0)
		return NPGW_PROTO_UDP;
	if (strcmp(s, "SCTP") == 0)
		return NPGW_PROTO_SCTP;
	return -EINVAL;
}

const char *npgw_proto_name(int proto, char *buf, size_t len)
{
	switch (proto) {
	case NPGW_PROTO_TCP:
		return "TCP";
	case NPGW_PROTO_UDP:
		return "UDP";
	case NPGW_PROTO_SCTP:
		return "SCTP";
	case NPGW_PROTO_ICMP:
		return "ICMP";
	case NPGW_PROTO_ICMPV6:
		return "ICMPv6";
	default:
		snprintf(buf, len, "proto-%d", proto);
		return buf;
	}
}
