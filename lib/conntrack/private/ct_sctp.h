/*
 * ct_sctp.h: SCTP associations of the flow table (sctp.c): what a packet's
 * chunks say, and the verification-tag check and state of its association.
 */
#ifndef NPGW_CT_SCTP_H
#define NPGW_CT_SCTP_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "ct_private.h"

/* struct ct_sctp.state: the association as its chunks tell it. */
enum ct_sctp_state {
	CT_SCTP_NONE = 0,      /* its first packet was not an INIT */
	CT_SCTP_PICKED_UP,     /* first seen mid-association, chunks since */
	CT_SCTP_COOKIE_WAIT,   /* INIT seen (and maybe its INIT-ACK) */
	CT_SCTP_COOKIE_ECHOED, /* COOKIE-ECHO seen */
	CT_SCTP_ESTABLISHED,   /* COOKIE-ACK seen */
	CT_SCTP_SHUTDOWN,      /* SHUTDOWN or SHUTDOWN-ACK seen */
	CT_SCTP_CLOSED,        /* SHUTDOWN-COMPLETE or ABORT seen */
};

/* ct_sctp_pkt.chunks: bit t for chunk type t < 32, and this for others. */
#define CT_SCTP_C_OTHER 0x80000000u

/* What one SCTP packet carries. */
struct ct_sctp_pkt {
	uint32_t vtag;     /* the common header's verification tag */
	uint32_t chunks;   /* chunk types present (the first 16 chunks) */
	uint32_t init_tag; /* an INIT's or INIT-ACK's initiate tag */
	uint8_t n_chunks;
	uint8_t t_bit;     /* an ABORT or SHUTDOWN-COMPLETE with the T bit */
};

/* What the association says of a packet. */
enum ct_sctp_verdict {
	CT_SCTP_OK = 0,
	CT_SCTP_BAD_TAG,      /* not the association's verification tag */
	CT_SCTP_OUT_OF_STATE, /* a chunk on an association that has ended */
};

/*
 * Read the SCTP packet of info from frame[0..len): its tag and chunks.
 * Returns 0; -ENOENT when the packet is not whole in the frame (a
 * fragment, or a frame not given); -EINVAL when SCTP forbids it whatever
 * the association: a chunk longer than the packet, an INIT, INIT-ACK or
 * SHUTDOWN-COMPLETE bundled with another chunk, an INIT with a tag, an
 * initiate tag of 0. Pure.
 */
int ct_sctp_read(const uint8_t *frame, uint32_t len, const struct npgw_pkt_info *info,
		 struct ct_sctp_pkt *s);

/* Whether the packet is an INIT (which opens an association anew). */
bool ct_sctp_is_init(const struct ct_sctp_pkt *s);

/* Check packet s of direction dir against association a and move it;
 * anything but OK leaves a unchanged. Worker only. */
enum ct_sctp_verdict ct_sctp_track(struct ct_sctp *a, unsigned int dir, const struct ct_sctp_pkt *s);

/* The flow state (enum npgw_conntrack_state) an association shows. */
uint8_t ct_sctp_conntrack_state(const struct ct_sctp *a, bool seen_reply);

#endif /* NPGW_CT_SCTP_H */
