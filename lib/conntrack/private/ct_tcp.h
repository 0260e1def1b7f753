/*
 * ct_tcp.h: TCP sequence-window tracking of one flow (tcp_window.c has the
 * slow path): per direction, how far the side has sent (td_end), how far
 * its peer lets it send (td_maxend), the largest window it advertised and
 * its scale, the highest ack it sent. The model is Linux conntrack's
 * tcp_in_window (nf_conntrack_proto_tcp.c), with pf's/OVS's unscaled
 * 16-bit window so that both directions fit 32 bytes (union ct_l4).
 *
 * A segment is in the window when
 *   - it starts no later than the receiver allows: seq <= td_maxend;
 *   - it ends no more than the receiver's largest window behind what the
 *     sender sent before (a retransmission, not a replay from long ago):
 *     end > td_end - receiver's maxwin;
 *   - it acknowledges nothing the receiver has not sent: ack <= the
 *     receiver's td_end, and not more than a window (at least 66000
 *     bytes, Linux's MAXACKWINCONST) behind it.
 * An in-window segment moves the window; one outside changes nothing.
 *
 * The hot path is ct_tcp_window's first branch: both directions known, an
 * ACK without SYN or RST, four compares and a few stores. Everything else
 * (a direction's first packet, SYNs, RSTs) goes to ct_tcp_window_slow.
 */
#ifndef NPGW_CT_TCP_H
#define NPGW_CT_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "ct_private.h"

/* Linux's MAXACKWINCONST: the least slack an ack may lag by. */
#define CT_TCP_MAXACKWIN 66000u

/* The scale a picked-up flow assumes for both sides (RFC 7323's largest):
 * the SYNs that carried the real one were not seen. */
#define CT_TCP_PICKUP_SCALE 14

/* What one segment carries that the window needs (host order). */
struct ct_tcp_seg {
	uint32_t seq, ack;
	uint32_t end;          /* seq + payload length, + 1 for SYN and for FIN */
	uint16_t win;          /* the window field, unscaled */
	uint8_t flags;         /* NPGW_PKT_TCP_* */
	uint8_t optlen;        /* bytes of options at opt */
	const uint8_t *opt;    /* the TCP options (read for SYNs only) */
};

/* What the window says of a segment. */
enum ct_tcpw {
	CT_TCPW_OK = 0,      /* in the window (and learned), or not checked */
	CT_TCPW_RST_INEXACT, /* an RST in the window but not at the sequence
				number the receiver expects: forwarded, the
				flow left as it is (RFC 5961: the endpoint
				answers with a challenge ACK) */
	CT_TCPW_OUT,         /* outside the window: nothing learned */
};

static inline bool ct_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/*
 * Read the segment of TCP packet info from its frame (frame[0..len), as
 * parsed). Returns false when the header is not whole in it (then the
 * window is not checked). Pure.
 */
static inline bool ct_tcp_seg_read(const uint8_t *frame, uint32_t len,
				   const struct npgw_pkt_info *info, struct ct_tcp_seg *g)
{
	const uint8_t *th;
	uint32_t ihl, hl;

	if (info->l4_off < info->l3_off || (uint32_t)info->l4_off + CT_TCP_HLEN > len)
		return false;
	th = frame + info->l4_off;
	hl = (uint32_t)(th[12] >> 4) * 4;
	ihl = (uint32_t)info->l4_off - info->l3_off;
	if (hl < CT_TCP_HLEN || (uint32_t)info->l4_off + hl > len || ihl + hl > info->l3_len)
		return false;
	g->seq = ct_rd32(th + 4);
	g->ack = ct_rd32(th + 8);
	g->win = ct_rd16(th + 14);
	g->flags = info->tcp_flags;
	g->end = g->seq + (info->l3_len - ihl - hl) + !!(g->flags & NPGW_PKT_TCP_SYN) +
		 !!(g->flags & NPGW_PKT_TCP_FIN);
	g->opt = th + CT_TCP_HLEN;
	g->optlen = (uint8_t)(hl - CT_TCP_HLEN);
	return true;
}

/* The ack slack of a sender: its largest window, at least 66000 bytes. */
static inline uint32_t ct_tcp_maxackwin(const struct ct_tcp_dir *s)
{
	uint32_t w = (uint32_t)s->td_maxwin << s->td_scale;

	return w > CT_TCP_MAXACKWIN ? w : CT_TCP_MAXACKWIN;
}

/* Learn from an in-window segment: seq..end sent, ack and window granted
 * to the receiver. */
static inline void ct_tcp_learn(struct ct_tcp_dir *s, struct ct_tcp_dir *r,
				const struct ct_tcp_seg *g, uint32_t end, uint32_t ack)
{
	/* a SYN's window is never scaled (RFC 7323) */
	uint32_t win = (g->flags & NPGW_PKT_TCP_SYN) ? g->win : (uint32_t)g->win << s->td_scale;

	if (g->win > s->td_maxwin)
		s->td_maxwin = g->win;
	if (ct_seq_gt(end, s->td_end))
		s->td_end = end;
	if (g->flags & NPGW_PKT_TCP_ACK) {
		if (!(s->flags & CT_TCPF_MAXACK) || ct_seq_gt(ack, s->td_maxack)) {
			s->td_maxack = ack;
			s->flags |= CT_TCPF_MAXACK;
		}
	}
	if (ct_seq_gt(ack + win, r->td_maxend - 1))
		r->td_maxend = ack + win + (win == 0); /* a zero window admits one probe byte */
}

/* The slow path of ct_tcp_window (tcp_window.c). */
enum ct_tcpw ct_tcp_window_slow(union ct_l4 *l4, uint8_t state, uint8_t eflags, unsigned int dir,
				const struct ct_tcp_seg *g);

/*
 * Check segment g of direction dir against flow l4 (entry state and flags
 * as they were before this packet) and learn from it when it is in the
 * window. Worker only.
 */
static inline enum ct_tcpw ct_tcp_window(union ct_l4 *l4, uint8_t state, uint8_t eflags,
					 unsigned int dir, const struct ct_tcp_seg *g)
{
	struct ct_tcp_dir *s = &l4->tcp[dir], *r = &l4->tcp[!dir];

	if (__builtin_expect(!(g->flags & (NPGW_PKT_TCP_SYN | NPGW_PKT_TCP_RST)) &&
				     (g->flags & NPGW_PKT_TCP_ACK) && s->td_maxwin != 0 &&
				     r->td_maxwin != 0,
			     1)) {
		const uint32_t rwin = (uint32_t)r->td_maxwin << r->td_scale;

		if (ct_seq_gt(g->seq, s->td_maxend) || !ct_seq_gt(g->end, s->td_end - rwin - 1) ||
		    ct_seq_gt(g->ack, r->td_end) ||
		    !ct_seq_gt(g->ack, r->td_end - ct_tcp_maxackwin(s) - 1))
			return CT_TCPW_OUT;
		ct_tcp_learn(s, r, g, g->end, g->ack);
		return CT_TCPW_OK;
	}
	return ct_tcp_window_slow(l4, state, eflags, dir, g);
}

#endif /* NPGW_CT_TCP_H */
