/*
 * tcp_window.c: the slow path of TCP window tracking (ct_tcp.h): the first
 * packet of a direction (a SYN with its window scale option, or a segment
 * of a flow picked up mid-stream), SYNs of a restarted handshake, and
 * RSTs, which must also sit where the receiver expects them to end a flow.
 *
 * Why RSTs are held to more than the window: a blind attacker who knows a
 * flow's addresses and ports needs about 2^32 / window tries to land an
 * RST anywhere in a window (with scaled windows of megabytes, a few
 * thousand), but 2^32 / 3 to hit the sender's next sequence number. A
 * real RST carries that number (RFC 793: the sender's SND.NXT, or the ack
 * of the segment it answers, which is what the receiver has acknowledged),
 * so an RST that ends the flow must start at the sender's td_end (+-1, as
 * pf accepts) or at the receiver's highest ack (Linux's td_maxack). Other
 * in-window RSTs pass unchanged: the endpoint's own check (RFC 5961) drops
 * them or answers with a challenge ACK, which keeps the flow alive.
 */
#include "ct_tcp.h"

/* The window scale option of a SYN, or -1 when it has none. Reads
 * o[0..n) only. */
static int tcp_opt_wscale(const uint8_t *o, unsigned int n)
{
	unsigned int i = 0;

	while (i < n) {
		unsigned int kind = o[i], len;

		if (kind == 0) /* end of options */
			break;
		if (kind == 1) { /* no-op */
			i++;
			continue;
		}
		if (n - i < 2)
			break;
		len = o[i + 1];
		if (len < 2 || len > n - i)
			break;
		if (kind == 3 && len == 3)
			return o[i + 2] > CT_TCP_PICKUP_SCALE ? CT_TCP_PICKUP_SCALE : o[i + 2];
		i += len;
	}
	return -1;
}

/* A direction's first SYN (or SYN-ACK): its sequence space starts here. */
static void tcp_init_syn(struct ct_tcp_dir *s, struct ct_tcp_dir *r, const struct ct_tcp_seg *g)
{
	int ws = tcp_opt_wscale(g->opt, g->optlen);

	s->td_end = s->td_maxend = g->end;
	s->td_maxwin = g->win != 0 ? g->win : 1;
	s->flags = 0;
	s->td_scale = 0;
	if (ws >= 0) {
		s->flags |= CT_TCPF_WSCALE;
		s->td_scale = (uint8_t)ws;
	}
	/* RFC 7323: windows scale only when both SYNs offered it; the
	 * opener's tentative scale goes when the answer has none */
	if (!((s->flags & CT_TCPF_WSCALE) && (r->flags & CT_TCPF_WSCALE)))
		s->td_scale = r->td_scale = 0;
}

enum ct_tcpw ct_tcp_window_slow(union ct_l4 *l4, uint8_t state, uint8_t eflags, unsigned int dir,
				const struct ct_tcp_seg *g)
{
	/* work on copies: a segment out of the window changes nothing, not
	 * even the first-packet set-up it went through (a spoofed RST must
	 * not seed a direction the real SYN-ACK then fails against) */
	struct ct_tcp_dir sc = l4->tcp[dir], rc = l4->tcp[!dir];
	struct ct_tcp_dir *s = &sc, *r = &rc;
	const bool syn = g->flags & NPGW_PKT_TCP_SYN, rst = g->flags & NPGW_PKT_TCP_RST;
	const bool has_ack = g->flags & NPGW_PKT_TCP_ACK;
	/* only the opener's SYN seen: the flow's own handshake, not a pickup */
	const bool syn_sent = state == NPGW_CONNTRACK_NEW && !(eflags & NPGW_CONNTRACK_E_PICKUP);
	uint32_t seq = g->seq, end = g->end, ack = g->ack, rwin;

	if (s->td_maxwin == 0) {
		if (syn) {
			tcp_init_syn(s, r, g);
			if (!has_ack)
				goto ok; /* the opener's SYN, or a simultaneous open */
		} else {
			/* mid-stream: this direction's history is lost to us;
			 * learn it from the packet */
			uint32_t w = (uint32_t)g->win << s->td_scale;

			s->td_end = end;
			s->td_maxwin = g->win != 0 ? g->win : 1;
			s->td_maxend = end + (w != 0 ? w : 1);
			if (r->td_maxwin == 0)
				r->td_end = r->td_maxend = ack;
			else if (ack == r->td_end + 1)
				r->td_end++; /* the answer to a keepalive */
		}
	} else if (syn && ct_seq_gt(end, s->td_end) &&
		   ((syn_sent && dir == NPGW_CONNTRACK_DIR_ORIG) ||
		    (state == NPGW_CONNTRACK_SYN_RECV && dir == NPGW_CONNTRACK_DIR_REPLY))) {
		/* a SYN (SYN-ACK) with a later ISN: the handshake restarted */
		tcp_init_syn(s, r, g);
	}

	if (!has_ack || (rst && ack == 0))
		ack = r->td_end; /* no ack to check (some stacks send RST|ACK with 0) */
	if (rst && syn_sent && dir == NPGW_CONNTRACK_DIR_REPLY) {
		/* the answer to the SYN must acknowledge it (RFC 793,
		 * SYN-SENT): an RST at any sequence number does */
		if (!has_ack || g->ack != r->td_end)
			return CT_TCPW_OUT;
		seq = end = s->td_end;
	}

	rwin = (uint32_t)r->td_maxwin << r->td_scale;
	if (ct_seq_gt(seq, s->td_maxend) ||
	    (r->td_maxwin != 0 && !ct_seq_gt(end, s->td_end - rwin - 1)) ||
	    ct_seq_gt(ack, r->td_end) || !ct_seq_gt(ack, r->td_end - ct_tcp_maxackwin(s) - 1))
		return CT_TCPW_OUT;
	if (rst && !(seq == s->td_end || seq + 1 == s->td_end || seq == s->td_end + 1 ||
		     ((r->flags & CT_TCPF_MAXACK) && seq == r->td_maxack)))
		return CT_TCPW_RST_INEXACT;
	ct_tcp_learn(s, r, g, end, ack);
ok:
	l4->tcp[dir] = sc;
	l4->tcp[!dir] = rc;
	return CT_TCPW_OK;
}
