/*
 * npgw_ct_settings.h: what an operator sets of connection tracking (the
 * config's `conntrack:` section), in one DPDK-free header: lib/config
 * embeds these types and fills them from the file, lib/conntrack takes
 * them, and the defaults, the revoke modes and their names exist here
 * only. Header-only, so that lib/config needs no DPDK to use it.
 */
#ifndef NPGW_CT_SETTINGS_H
#define NPGW_CT_SETTINGS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Idle timeouts in seconds. A flow's deadline moves to now + the timeout of
 * its state on every packet, except in TCP CLOSED, whose deadline is set
 * once when it closes. */
struct npgw_conntrack_timeouts {
	uint32_t tcp_syn;         /* NEW and SYN_RECV: handshake in progress */
	uint32_t tcp_established;
	uint32_t tcp_closing;     /* one side sent FIN */
	uint32_t tcp_closed;      /* both FINs, or RST */
	uint32_t udp;             /* one direction seen */
	uint32_t udp_stream;      /* both directions seen */
	uint32_t icmp;            /* echo */
	uint32_t sctp;
	uint32_t other;           /* any other IP protocol */
	uint32_t frag;            /* a datagram's fragment record, held fragments too */
	uint32_t denied;          /* a denied flow's entry, idle */
};

/* What to do with a flow the new policies no longer allow. */
enum npgw_conntrack_revoke {
	NPGW_CONNTRACK_REVOKE_DROP = 0, /* the flow stops (default) */
	NPGW_CONNTRACK_REVOKE_KEEP,     /* established flows live on; a flow
					   still in its handshake stops */
	NPGW_CONNTRACK_REVOKE_RESET,    /* TCP: RST to both ends; others drop */
	NPGW_CONNTRACK_REVOKE_N
};

/* The most out-of-order fragments a table holds (a 16-bit count). */
#define NPGW_CONNTRACK_FRAG_HOLD_MAX 65535u

struct npgw_conntrack_settings {
	bool enabled;
	uint32_t capacity;        /* allowed flows per worker */
	uint32_t denied_capacity; /* denied flows remembered per worker; 0: none */
	enum npgw_conntrack_revoke revoke;
	bool tcp_loose;           /* pick up TCP flows mid-stream */
	bool tcp_seq_check;       /* TCP sequence windows enforced (default);
				     false: a segment outside its window is
				     forwarded and acted on, counted as passed
				     (OVS's tcp-seq-chk off, Linux's
				     nf_conntrack_tcp_be_liberal) */
	uint32_t frag_hold;       /* out-of-order fragments held per worker; 0 drops;
				     at most NPGW_CONNTRACK_FRAG_HOLD_MAX */
	struct npgw_conntrack_timeouts timeouts;
};

/* The defaults, the one place they are written. Any thread. */
static inline void npgw_conntrack_settings_defaults(struct npgw_conntrack_settings *s)
{
	*s = (struct npgw_conntrack_settings){
		.enabled = true,
		.capacity = 262144,
		.denied_capacity = 65536,
		.revoke = NPGW_CONNTRACK_REVOKE_DROP,
		.tcp_loose = false,
		.tcp_seq_check = true,
		.frag_hold = 64,
		.timeouts = {
			.tcp_syn = 30,
			.tcp_established = 86400,
			.tcp_closing = 120,
			.tcp_closed = 10,
			.udp = 30,
			.udp_stream = 120,
			.icmp = 30,
			.sctp = 300,
			.other = 600,
			.frag = 2,
			.denied = 5,
		},
	};
}

/* "drop", "keep", "reset"; "?" for anything else. */
static inline const char *npgw_conntrack_revoke_name(unsigned int mode)
{
	static const char *const names[NPGW_CONNTRACK_REVOKE_N] = {"drop", "keep", "reset"};

	return mode < NPGW_CONNTRACK_REVOKE_N ? names[mode] : "?";
}

/* The mode named s, or -EINVAL. */
static inline int npgw_conntrack_revoke_parse(const char *s)
{
	for (unsigned int i = 0; s != NULL && i < NPGW_CONNTRACK_REVOKE_N; i++)
		if (strcmp(s, npgw_conntrack_revoke_name(i)) == 0)
			return (int)i;
	return -EINVAL;
}

#endif /* NPGW_CT_SETTINGS_H */
