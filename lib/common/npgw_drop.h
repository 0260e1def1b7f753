/*
 * npgw_drop.h: every reason npgw drops a packet, as one X-macro that
 * generates the enum, the names and the counter slots. The number of a
 * reason is part of the product's interface (dashboards read counters by
 * it): once given it is never changed or reused. Add new reasons at the
 * end with the next free number.
 *
 * X(NAME, number, "name-in-stats", "what it means")
 */
#ifndef NPGW_DROP_H
#define NPGW_DROP_H

#define NPGW_DROP_REASONS(X)                                                                  \
	X(POLICY_EGRESS, 1, "policy-egress", "the source pod's egress policies deny it")       \
	X(POLICY_INGRESS, 2, "policy-ingress", "the destination pod's ingress policies deny it") \
	X(NOT_READY, 3, "not-ready", "no generation is live yet and the posture is fail-closed") \
	X(NON_IP, 4, "non-ip", "a non-IP frame, and the config drops those")                  \
	X(NO_ROUTE, 5, "no-route", "no output port in the bridge domain")                     \
	X(TX_FULL, 6, "tx-full", "the output queue was full")                                 \
	X(ENCAP_IP, 7, "encap-ip",                                                            \
	  "a non-IP frame of a type that carries IP (MPLS, PPPoE, PBB), which npgw cannot check") \
	X(IPV6_ROUTING, 8, "ipv6-routing",                                                    \
	  "IPv6 routing header with segments left: the destination is not the final one")    \
	X(IPV4_SOURCE_ROUTE, 9, "ipv4-source-route",                                          \
	  "IPv4 loose or strict source route option: the destination is not the final one")  \
	X(ETH_TRUNCATED, 10, "eth-truncated", "frame shorter than an Ethernet header")        \
	X(VLAN_TRUNCATED, 11, "vlan-truncated", "frame ends inside a VLAN tag")               \
	X(VLAN_TOO_DEEP, 12, "vlan-too-deep", "more than two VLAN tags")                      \
	X(IPV4_TRUNCATED, 13, "ipv4-truncated", "frame ends inside the IPv4 header")          \
	X(IPV4_BAD_VERSION, 14, "ipv4-bad-version", "IPv4 ethertype but version is not 4")    \
	X(IPV4_BAD_IHL, 15, "ipv4-bad-ihl",                                                   \
	  "IPv4 header length below 20 bytes or past the frame, or malformed options")       \
	X(IPV4_BAD_LENGTH, 16, "ipv4-bad-length",                                             \
	  "IPv4 total length below the header length or past the frame")                      \
	X(IPV6_TRUNCATED, 17, "ipv6-truncated", "frame ends inside the IPv6 header")          \
	X(IPV6_BAD_VERSION, 18, "ipv6-bad-version", "IPv6 ethertype but version is not 6")    \
	X(IPV6_BAD_LENGTH, 19, "ipv6-bad-length", "IPv6 payload length past the frame")       \
	X(IPV6_BAD_EXT, 20, "ipv6-bad-ext",                                                   \
	  "IPv6 extension header truncated, misplaced, or the chain too long")                \
	X(L4_TRUNCATED, 21, "l4-truncated", "packet ends inside the TCP/UDP/SCTP/ICMP header") \
	X(TCP_BAD_OFFSET, 22, "tcp-bad-offset", "TCP data offset below 5 or past the packet") \
	X(UDP_BAD_LENGTH, 23, "udp-bad-length", "UDP length below 8 or past the packet")      \
	X(FRAG_TINY, 24, "frag-tiny",                                                         \
	  "first fragment too short to hold the transport header it claims")                  \
	X(FRAG_UNTRACKED, 25, "frag-untracked",                                               \
	  "a non-first fragment whose first fragment was not seen")                           \
	X(CT_TABLE_FULL, 26, "ct-table-full",                                                 \
	  "a new flow was allowed but its worker's flow table is full (fail closed)")         \
	X(CT_REVOKED, 27, "ct-revoked",                                                       \
	  "a tracked flow the live policies no longer allow (revocation drop or reset)")      \
	X(TCP_INVALID, 28, "tcp-invalid",                                                     \
	  "TCP flags no stack sends together (SYN+FIN, SYN+RST, none, FIN without ACK)")      \
	X(ICMP_UNRELATED, 29, "icmp-unrelated",                                               \
	  "an ICMP error that quotes no tracked flow, or a bogus quote")                      \
	X(FRAG_OVERLAP, 30, "frag-overlap",                                                   \
	  "a fragment overlapping bytes already seen of its datagram (poisons it)")           \
	X(FRAG_INVALID, 31, "frag-invalid",                                                   \
	  "a fragment with an impossible offset or length (poisons its datagram)")            \
	X(FRAG_FLOOD, 32, "frag-flood",                                                       \
	  "the fragment table, the hold buffer or a datagram's range list is full")           \
	X(FRAG_TIMEOUT, 33, "frag-timeout",                                                   \
	  "a held fragment whose first fragment did not come in time")                        \
	X(TCP_OUT_OF_WINDOW, 34, "tcp-out-of-window",                                         \
	  "a TCP RST or FIN outside its flow's sequence window (spoofed or stale): the flow "  \
	  "is left as it was")                                                                \
	X(STEER_FULL, 35, "steer-full",                                                       \
	  "a fragment or ICMP error for another worker's flow, and the ring to that worker "  \
	  "was full")                                                                         \
	X(SCTP_INVALID, 36, "sctp-invalid",                                                   \
	  "an SCTP packet with another verification tag than its association's, a chunk "     \
	  "after the association ended, or chunks bundled as SCTP forbids")

enum npgw_drop_reason {
	NPGW_DROP_NONE = 0,
#define NPGW_DROP_ENUM(name, num, str, doc) NPGW_DROP_##name = num,
	NPGW_DROP_REASONS(NPGW_DROP_ENUM)
#undef NPGW_DROP_ENUM
	NPGW_DROP_MAX = 64 /* counter slots; every number stays below */
};

/* The stats name of a reason ("policy-egress"), or NULL for an unused
 * number. */
static inline const char *npgw_drop_name(unsigned int reason)
{
	switch (reason) {
#define NPGW_DROP_CASE(name, num, str, doc)                                            \
	case num:                                                                             \
		return str;
		NPGW_DROP_REASONS(NPGW_DROP_CASE)
#undef NPGW_DROP_CASE
	default:
		return NULL;
	}
}

#endif /* NPGW_DROP_H */
