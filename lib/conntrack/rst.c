/*
 * rst.c: TCP resets for the `reset` revocation mode. The builder is pure
 * (bytes in, bytes out) so tests check every byte and both checksums; the
 * mbuf wrapper takes two buffers from the data path's pool, which is the
 * only allocation the data path makes and needs no lock.
 *
 * The sequence numbers follow what makes each end accept the RST (RFC 793,
 * RFC 5961's exact-match rule, as Linux's nf_reject does it): toward the
 * sender, seq = the ack it sent (what it expects from its peer next);
 * toward the receiver, seq = the packet's own seq (the packet is dropped,
 * so that is the receiver's next expected sequence number).
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "ct_private.h"

#define ETH_MIN_FRAME 60 /* without FCS; shorter frames are padded */

/* One's complement sum of len bytes, folded later. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += ct_rd16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int npgw_conntrack_rst_build(const uint8_t *frame, uint32_t len,
			     const struct npgw_pkt_info *info, enum npgw_conntrack_rst_to to,
			     uint8_t *out, size_t out_len)
{
	const uint8_t *tcp;
	uint32_t l2 = info->l3_off, ip_end = (uint32_t)info->l3_off + info->l3_len, doff, seglen;
	uint32_t seq, ack, r_seq, r_ack;
	uint8_t flags, r_flags, *ip, *th;
	size_t alen = npgw_addr_len(info->family), iphl, total;
	const bool back = to == NPGW_CONNTRACK_RST_TO_SENDER;
	uint32_t s;

	if (info->proto != NPGW_PROTO_TCP || info->l4_off == 0 || info->is_fragment ||
	    (info->family != 4 && info->family != 6) || ip_end > len || l2 < CT_ETH_HLEN ||
	    l2 > CT_ETH_HLEN + 4 * NPGW_PKT_MAX_VLAN || out == NULL ||
	    out_len < NPGW_CONNTRACK_RST_MAX_LEN || (uint32_t)info->l4_off + CT_TCP_HLEN > ip_end)
		return -EINVAL;
	tcp = frame + info->l4_off;
	doff = (uint32_t)(tcp[12] >> 4) * 4;
	if (doff < CT_TCP_HLEN || info->l4_off + doff > ip_end)
		return -EINVAL;
	seq = ct_rd32(tcp + 4);
	ack = ct_rd32(tcp + 8);
	flags = tcp[13];
	seglen = ip_end - info->l4_off - doff;
	if (flags & NPGW_PKT_TCP_SYN)
		seglen++;
	if (flags & NPGW_PKT_TCP_FIN)
		seglen++;

	if (back) {
		if (flags & NPGW_PKT_TCP_ACK) {
			r_seq = ack;
			r_ack = 0;
			r_flags = NPGW_PKT_TCP_RST;
		} else {
			r_seq = 0;
			r_ack = seq + seglen;
			r_flags = NPGW_PKT_TCP_RST | NPGW_PKT_TCP_ACK;
		}
	} else {
		r_seq = seq;
		r_ack = flags & NPGW_PKT_TCP_ACK ? ack : 0;
		r_flags = NPGW_PKT_TCP_RST | (flags & NPGW_PKT_TCP_ACK);
	}

	iphl = info->family == 4 ? CT_IPV4_HLEN : CT_IPV6_HLEN;
	total = l2 + iphl + CT_TCP_HLEN;
	memset(out, 0, total < ETH_MIN_FRAME ? ETH_MIN_FRAME : total);
	/* Ethernet and VLAN tags as they came; MACs swapped going back. */
	memcpy(out, frame, l2);
	for (unsigned int k = 0; back && k < 6; k++) {
		out[k] = frame[6 + k];
		out[6 + k] = frame[k];
	}
	ip = out + l2;
	if (info->family == 4) {
		ip[0] = 0x45;
		ct_wr16(ip + 2, (uint16_t)(CT_IPV4_HLEN + CT_TCP_HLEN));
		ct_wr16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = NPGW_PROTO_TCP;
		memcpy(ip + 12, back ? info->dst : info->src, 4);
		memcpy(ip + 16, back ? info->src : info->dst, 4);
		ct_wr16(ip + 10, fold(sum16(ip, CT_IPV4_HLEN, 0)));
	} else {
		ip[0] = 0x60;
		ct_wr16(ip + 4, CT_TCP_HLEN);
		ip[6] = NPGW_PROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, back ? info->dst : info->src, 16);
		memcpy(ip + 24, back ? info->src : info->dst, 16);
	}
	th = ip + iphl;
	ct_wr16(th, back ? info->dport : info->sport);
	ct_wr16(th + 2, back ? info->sport : info->dport);
	ct_wr32(th + 4, r_seq);
	ct_wr32(th + 8, r_ack);
	th[12] = (CT_TCP_HLEN / 4) << 4;
	th[13] = r_flags;
	/* window 0, urgent 0; checksum over the pseudo-header and the header */
	s = sum16(th - 2 * alen, 2 * alen, 0); /* source and destination */
	s += NPGW_PROTO_TCP + CT_TCP_HLEN;
	ct_wr16(th + 16, fold(sum16(th, CT_TCP_HLEN, s)));
	return (int)(total < ETH_MIN_FRAME ? ETH_MIN_FRAME : total);
}

int npgw_conntrack_rst_mbufs(struct rte_mempool *mp, const struct rte_mbuf *m,
			     const struct npgw_pkt_info *info, struct rte_mbuf *out[2])
{
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t buf[2][NPGW_CONNTRACK_RST_MAX_LEN];
	int len[2];

	for (unsigned int k = 0; k < 2; k++) {
		len[k] = npgw_conntrack_rst_build(frame, m->data_len, info,
						  (enum npgw_conntrack_rst_to)k, buf[k],
						  sizeof(buf[k]));
		if (len[k] < 0)
			return len[k];
	}
	if (rte_pktmbuf_alloc_bulk(mp, out, 2) != 0)
		return -ENOMEM;
	for (unsigned int k = 0; k < 2; k++) {
		char *d = rte_pktmbuf_append(out[k], (uint16_t)len[k]);

		if (d == NULL) {
			rte_pktmbuf_free(out[0]);
			rte_pktmbuf_free(out[1]);
			return -ENOMEM;
		}
		memcpy(d, buf[k], (size_t)len[k]);
		out[k]->port = m->port;
	}
	return 2;
}
