/*
 * sctp.c: SCTP associations (RFC 9260), as Linux conntrack follows them
 * (nf_conntrack_proto_sctp.c): the chunks of a packet, the verification
 * tag each direction must carry, and the association's state from INIT to
 * SHUTDOWN-COMPLETE or ABORT.
 *
 * The verification tag is SCTP's defence against blind spoofing (RFC 9260
 * 8.5): every packet carries the tag its receiver chose in its INIT or
 * INIT-ACK, except an INIT (tag 0) and an ABORT or SHUTDOWN-COMPLETE with
 * the T bit (the sender's own tag: it answers a packet it has no
 * association for). The gateway learns both tags from the handshake and
 * drops any packet with another: a spoofer who knows the addresses and
 * ports but not the 32-bit tag can neither ABORT the association nor
 * inject into it. A flow first seen mid-association (its handshake not
 * seen: after a flush or a restart of npgw) learns each direction's tag
 * from its first packet.
 *
 * A restart (an INIT on a live association, RFC 9260 5.2.2) is followed
 * without trusting it: the INIT's and INIT-ACK's tags are kept as a second
 * pair, packets with either pair pass, and the new pair replaces the old
 * one only when the new association's COOKIE-ACK is seen. A spoofed INIT
 * therefore cannot make the live association's packets fail the check.
 */
#include "ct_sctp.h"

/* Chunk types (RFC 9260 3.2). */
enum {
	SCTP_DATA = 0,
	SCTP_INIT = 1,
	SCTP_INIT_ACK = 2,
	SCTP_ABORT = 6,
	SCTP_SHUTDOWN = 7,
	SCTP_SHUTDOWN_ACK = 8,
	SCTP_COOKIE_ECHO = 10,
	SCTP_COOKIE_ACK = 11,
	SCTP_SHUTDOWN_COMPLETE = 14,
};

#define CT_SCTP_HLEN 12
#define CT_SCTP_MAX_CHUNKS 16 /* chunks looked at per packet */
#define CHUNK(t) (1u << (t))

int ct_sctp_read(const uint8_t *frame, uint32_t len, const struct npgw_pkt_info *info,
		 struct ct_sctp_pkt *s)
{
	uint32_t ihl, end, off;
	unsigned int n = 0;

	memset(s, 0, sizeof(*s));
	if (info->l4_off < info->l3_off || info->is_fragment)
		return -ENOENT; /* no whole SCTP packet to read */
	ihl = (uint32_t)info->l4_off - info->l3_off;
	end = (uint32_t)info->l3_off + info->l3_len;
	if (end > len || ihl + CT_SCTP_HLEN > info->l3_len)
		return -ENOENT;
	s->vtag = ct_rd32(frame + info->l4_off + 4);
	for (off = (uint32_t)info->l4_off + CT_SCTP_HLEN; end - off >= 4; n++) {
		const uint8_t *c = frame + off;
		uint32_t clen = ct_rd16(c + 2), type = c[0];

		if (n == CT_SCTP_MAX_CHUNKS)
			break; /* the rest is not looked at */
		if (clen < 4 || clen > end - off)
			return -EINVAL; /* a chunk that does not fit */
		if (type < 32)
			s->chunks |= CHUNK(type);
		else
			s->chunks |= CT_SCTP_C_OTHER;
		if (type == SCTP_INIT || type == SCTP_INIT_ACK) {
			if (clen < 8)
				return -EINVAL;
			s->init_tag = ct_rd32(c + 4);
		}
		if ((type == SCTP_ABORT || type == SCTP_SHUTDOWN_COMPLETE) && (c[1] & 1))
			s->t_bit = 1;
		off += (clen + 3) & ~3u; /* chunks are padded to 4 bytes */
	}
	s->n_chunks = (uint8_t)n;
	/* RFC 9260 6.10: INIT, INIT-ACK and SHUTDOWN-COMPLETE travel alone;
	 * 8.5.1: an INIT carries tag 0 and an initiate tag that is not */
	if ((s->chunks & (CHUNK(SCTP_INIT) | CHUNK(SCTP_INIT_ACK) |
			  CHUNK(SCTP_SHUTDOWN_COMPLETE))) &&
	    n != 1)
		return -EINVAL;
	if ((s->chunks & (CHUNK(SCTP_INIT) | CHUNK(SCTP_INIT_ACK))) && s->init_tag == 0)
		return -EINVAL;
	if ((s->chunks & CHUNK(SCTP_INIT)) && s->vtag != 0)
		return -EINVAL;
	return 0;
}

bool ct_sctp_is_init(const struct ct_sctp_pkt *s)
{
	return s->chunks == CHUNK(SCTP_INIT);
}

/* Whether tag is one that packets of direction dir carry: the live
 * association's, or (a restart in progress) the new one's. */
static bool tag_is(const struct ct_sctp *a, unsigned int dir, uint32_t tag)
{
	return (a->vtag[dir] != 0 && tag == a->vtag[dir]) ||
	       (a->init_tag[dir] != 0 && tag == a->init_tag[dir]);
}

/* tag_is, except that an association first seen mid-way learns each
 * direction's tag from its first packet. */
static bool tag_ok(struct ct_sctp *a, unsigned int dir, uint32_t tag)
{
	if (a->vtag[dir] == 0 && (a->state == CT_SCTP_NONE || a->state == CT_SCTP_PICKED_UP)) {
		a->vtag[dir] = tag;
		return true;
	}
	return tag_is(a, dir, tag);
}

enum ct_sctp_verdict ct_sctp_track(struct ct_sctp *a, unsigned int dir, const struct ct_sctp_pkt *s)
{
	const unsigned int back = !dir;
	struct ct_sctp c = *a; /* a packet that fails changes nothing */

	if (s->chunks & CHUNK(SCTP_INIT)) {
		/* tag 0, alone: checked by ct_sctp_read */
		if (c.state == CT_SCTP_NONE || c.state == CT_SCTP_COOKIE_WAIT ||
		    c.state == CT_SCTP_CLOSED) {
			/* a new association: its answers carry this tag */
			c.vtag[back] = s->init_tag;
			c.vtag[dir] = 0;
			c.init_tag[0] = c.init_tag[1] = 0;
			c.state = CT_SCTP_COOKIE_WAIT;
		} else {
			/* a restart of a live one: a second pair of tags */
			c.init_tag[back] = s->init_tag;
			c.init_tag[dir] = 0;
		}
		goto ok;
	}
	if (s->chunks & CHUNK(SCTP_INIT_ACK)) {
		if (c.state == CT_SCTP_COOKIE_WAIT && s->vtag == c.vtag[dir] && s->vtag != 0) {
			c.vtag[back] = s->init_tag;
			goto ok;
		}
		if (c.init_tag[dir] != 0 && s->vtag == c.init_tag[dir]) {
			c.init_tag[back] = s->init_tag; /* the restart's answer */
			goto ok;
		}
		return CT_SCTP_BAD_TAG;
	}
	if (s->chunks & (CHUNK(SCTP_ABORT) | CHUNK(SCTP_SHUTDOWN_COMPLETE))) {
		/* with the T bit, the sender's own tag: the one its peer's
		 * packets carry */
		if (!(s->t_bit ? tag_is(&c, back, s->vtag) : tag_ok(&c, dir, s->vtag)))
			return CT_SCTP_BAD_TAG;
		c.state = CT_SCTP_CLOSED;
		goto ok;
	}
	if (!tag_ok(&c, dir, s->vtag))
		return CT_SCTP_BAD_TAG;
	if (c.state == CT_SCTP_CLOSED && (s->chunks & ~CHUNK(SCTP_SHUTDOWN_ACK)))
		return CT_SCTP_OUT_OF_STATE; /* the association is gone */
	if (s->chunks & CHUNK(SCTP_COOKIE_ACK)) {
		if (c.init_tag[dir] != 0 && s->vtag == c.init_tag[dir]) {
			/* the restarted association is up: its tags are the tags */
			c.vtag[0] = c.init_tag[0];
			c.vtag[1] = c.init_tag[1];
			c.init_tag[0] = c.init_tag[1] = 0;
		}
		c.state = CT_SCTP_ESTABLISHED;
	} else if (s->chunks & (CHUNK(SCTP_SHUTDOWN) | CHUNK(SCTP_SHUTDOWN_ACK))) {
		c.state = CT_SCTP_SHUTDOWN;
	} else if (s->chunks & CHUNK(SCTP_COOKIE_ECHO)) {
		if (c.state == CT_SCTP_COOKIE_WAIT)
			c.state = CT_SCTP_COOKIE_ECHOED;
	} else if (c.state == CT_SCTP_NONE && s->chunks != 0) {
		c.state = CT_SCTP_PICKED_UP; /* data of an association whose start we missed */
	}
ok:
	*a = c;
	return CT_SCTP_OK;
}

uint8_t ct_sctp_conntrack_state(const struct ct_sctp *a, bool seen_reply)
{
	switch (a->state) {
	case CT_SCTP_COOKIE_WAIT:
		return NPGW_CONNTRACK_NEW;
	case CT_SCTP_COOKIE_ECHOED:
		return NPGW_CONNTRACK_SYN_RECV;
	case CT_SCTP_ESTABLISHED:
		return NPGW_CONNTRACK_ESTABLISHED;
	case CT_SCTP_SHUTDOWN:
		return NPGW_CONNTRACK_CLOSING;
	case CT_SCTP_CLOSED:
		return NPGW_CONNTRACK_CLOSED;
	default: /* not seen from its start: as other protocols */
		return seen_reply ? NPGW_CONNTRACK_ESTABLISHED : NPGW_CONNTRACK_NEW;
	}
}
