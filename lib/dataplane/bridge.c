/*
 * bridge.c: output port selection. A bridge domain of two ports is a wire
 * (bump in the wire: what enters one port leaves by the other). A larger
 * domain learns source MACs per worker and forwards by destination MAC,
 * flooding broadcast, multicast and unknown destinations, as a switch.
 *
 * MAC tables are per worker: no sharing, no locks. A worker that has not
 * seen a MAC floods, which is correct, only less efficient; with symmetric
 * RSS both directions of a flow meet the same worker, so its table learns
 * what it needs.
 */
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp_private.h"

static inline uint64_t mac_u64(const struct rte_ether_addr *a)
{
	uint64_t v = 0;

	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v = v << 8 | a->addr_bytes[i];
	return v;
}

static inline uint32_t mac_slot(uint64_t mac)
{
	return (uint32_t)((mac * 0x9e3779b97f4a7c15ull) >> 52) & (DP_MAC_TABLE_SIZE - 1);
}

static void mac_learn(struct mac_table *t, uint64_t mac, uint16_t port, uint64_t now,
		      uint64_t age)
{
	uint32_t s = mac_slot(mac);
	struct mac_entry *victim = NULL;

	for (int i = 0; i < DP_MAC_PROBE; i++) {
		struct mac_entry *e = &t->e[(s + (uint32_t)i) & (DP_MAC_TABLE_SIZE - 1)];

		if (e->mac == mac) {
			e->port = port;
			e->seen_tsc = now;
			return;
		}
		if (victim == NULL && (e->mac == 0 || now - e->seen_tsc > age))
			victim = e;
	}
	if (victim != NULL) {
		victim->mac = mac;
		victim->port = port;
		victim->seen_tsc = now;
	}
	/* probe window full of live entries: not learned, frames to it flood */
}

static int mac_lookup(const struct mac_table *t, uint64_t mac, uint64_t now, uint64_t age)
{
	uint32_t s = mac_slot(mac);

	for (int i = 0; i < DP_MAC_PROBE; i++) {
		const struct mac_entry *e = &t->e[(s + (uint32_t)i) & (DP_MAC_TABLE_SIZE - 1)];

		if (e->mac == mac)
			return now - e->seen_tsc > age ? -1 : e->port;
	}
	return -1;
}

bool dp_bridge_forward(struct dp_worker *w, struct rte_mbuf *m, uint16_t in, uint64_t now)
{
	struct npgw_dp *dp = w->dp;
	int b = dp->port_bridge[in];
	const struct dp_bridge *br;
	const struct rte_ether_hdr *eth;
	uint64_t src, dst;
	int out;

	if (unlikely(b < 0))
		return false;
	br = &dp->bridges[b];
	if (unlikely(br->n_ports < 2))
		return false;
	if (br->n_ports == 2) {
		dp_queue_tx(w, br->ports[br->ports[0] == in], m);
		return true;
	}
	/* the parser has checked that an Ethernet header is there */
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	src = mac_u64(&eth->src_addr);
	dst = mac_u64(&eth->dst_addr);
	if (likely(src != 0 && !rte_is_multicast_ether_addr(&eth->src_addr)))
		mac_learn(&w->macs[b], src, in, now, br->age_tsc);
	if (!rte_is_multicast_ether_addr(&eth->dst_addr) &&
	    (out = mac_lookup(&w->macs[b], dst, now, br->age_tsc)) >= 0) {
		if (out == in)
			return false; /* the destination sits behind the input port */
		dp_queue_tx(w, (uint16_t)out, m);
		return true;
	}
	/* flood: every other port of the domain gets the same mbuf */
	if (br->n_ports > 2)
		rte_pktmbuf_refcnt_update(m, (int16_t)(br->n_ports - 2)); /* every segment */
	for (uint16_t i = 0; i < br->n_ports; i++)
		if (br->ports[i] != in)
			dp_queue_tx(w, br->ports[i], m);
	return true;
}
