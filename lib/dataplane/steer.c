/*
 * steer.c: software steering between workers. Each worker owns its flow
 * table, so every packet of a flow must reach one worker. The NIC's RSS,
 * with the symmetric key (dataplane.c), does that for the packets it
 * hashes on the flow's own tuple; it does not for two kinds:
 *  - fragments: the NIC hashes them on the address pair alone (a later
 *    fragment carries no ports), so they land on another worker than the
 *    unfragmented packets of their flow, and than each other when the
 *    model differs (net_ring in tests spreads them anywhere);
 *  - ICMP errors: the NIC hashes the router's address, not the flow the
 *    error quotes.
 * The worker that receives one computes, in software, the Toeplitz hash
 * the NIC computes for the flow (same key, same hash types, same
 * redirection table, the same queue -> worker map), and hands the packet
 * to the owner over a single-producer single-consumer ring of that pair of
 * workers, staged and sent in bursts. Ownership:
 *  - an ICMP error: the owner of the flow it quotes (of its own tuple when
 *    the quote says nothing: it is dropped as unrelated wherever it is);
 *  - a first fragment: the owner of its flow, which decides it against
 *    its flow table like any packet of the flow; then the verdict goes with
 *    the mbuf to the datagram's home (below), which records it and lets
 *    the later fragments follow it;
 *  - a later fragment: the datagram's home, the RSS worker of its address
 *    pair (where the NIC puts fragments: no hop for them on a real NIC).
 * A full ring drops the packet (steer-full). No allocation, lock or
 * syscall per packet. With one worker, or without flow tracking, nothing
 * here runs: a worker's steer pointer is NULL.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_thash.h>

#include "dp_private.h"

/* What an mbuf on a steering ring carries in m->hash.usr: its input
 * config port, whether it is a decided first fragment, and the verdict. */
#define TAG_PORT_MASK 0xffu
#define TAG_DECIDED 0x100u
#define TAG_WHY_SHIFT 16

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Whether the device hashes proto over the ports too (else the address
 * pair only), per the hash types in effect on the port. */
static bool rss_l4(uint64_t hf, uint8_t family, uint8_t proto)
{
	switch (proto) {
	case NPGW_PROTO_TCP:
		return hf & (family == 4 ? RTE_ETH_RSS_NONFRAG_IPV4_TCP : RTE_ETH_RSS_NONFRAG_IPV6_TCP);
	case NPGW_PROTO_UDP:
		return hf & (family == 4 ? RTE_ETH_RSS_NONFRAG_IPV4_UDP : RTE_ETH_RSS_NONFRAG_IPV6_UDP);
	case NPGW_PROTO_SCTP:
		return hf &
		       (family == 4 ? RTE_ETH_RSS_NONFRAG_IPV4_SCTP : RTE_ETH_RSS_NONFRAG_IPV6_SCTP);
	default:
		return false;
	}
}

/* The worker RSS gives a packet of (src, dst[, sport, dport]) entering
 * config port in; w's own index when no worker polls that queue. */
static unsigned int rss_worker(const struct dp_worker *w, uint16_t in, uint8_t family,
			       const uint8_t *src, const uint8_t *dst, bool l4, uint16_t sport,
			       uint16_t dport)
{
	const struct npgw_dp *dp = w->dp;
	uint32_t t[9], h, q;
	unsigned int n = 0;
	const size_t alen = family == 4 ? 4 : 16;
	const uint16_t nq = dp->rss_nq[in];
	int16_t o;

	if (nq == 0 || dp->q_worker[in] == NULL)
		return w->index;
	for (size_t i = 0; i < alen; i += 4)
		t[n++] = rd32(src + i);
	for (size_t i = 0; i < alen; i += 4)
		t[n++] = rd32(dst + i);
	if (l4)
		t[n++] = (uint32_t)sport << 16 | dport;
	h = rte_softrss_be(t, n, dp->rss_key_be);
	q = dp->rss_reta[in] != 0 ? (h % dp->rss_reta[in]) % nq : h % nq;
	o = dp->q_worker[in][q];
	return o >= 0 ? (unsigned int)o : w->index;
}

unsigned int dp_steer_frag_home(const struct dp_worker *w, const struct npgw_pkt_info *info,
				uint16_t in)
{
	return rss_worker(w, in, info->family, info->src, info->dst, false, 0, 0);
}

unsigned int dp_steer_owner(const struct dp_worker *w, const struct rte_mbuf *m,
			    const struct npgw_pkt_info *info, uint16_t in)
{
	const uint64_t hf = w->dp->rss_hf[in];
	struct npgw_conntrack_tuple t;

	if (info->is_fragment && !info->is_first_fragment)
		return dp_steer_frag_home(w, info, in);
	if (!info->is_fragment) {
		int rc = npgw_conntrack_icmp_embedded(rte_pktmbuf_mtod(m, const uint8_t *),
						      m->data_len, info, 0, &t);

		if (rc == 0)
			return rss_worker(w, in, t.family, t.src, t.dst,
					  rss_l4(hf, t.family, t.proto), t.sport, t.dport);
		if (rc != -ENOENT)
			return w->index; /* a bogus quote: unrelated wherever it goes */
	}
	return rss_worker(w, in, info->family, info->src, info->dst,
			  rss_l4(hf, info->family, info->proto), info->sport, info->dport);
}

/* Send what is staged for worker j; drop what its ring refuses. */
static void flush_one(struct dp_worker *w, unsigned int j)
{
	struct dp_steer *s = w->steer;
	unsigned int k = s->n_out[j], sent;

	sent = rte_ring_enqueue_burst(s->out[j], (void **)s->out_buf[j], k, NULL);
	for (unsigned int i = sent; i < k; i++) {
		struct rte_mbuf *m = s->out_buf[j][i];

		dp_drop(w, m, (uint16_t)(m->hash.usr & TAG_PORT_MASK), NPGW_DROP_STEER_FULL);
	}
	w->st.steered -= k - sent;
	s->n_pending -= k;
	s->n_out[j] = 0;
}

void dp_steer_stage(struct dp_worker *w, unsigned int owner, struct rte_mbuf *m, uint16_t in,
		    bool decided, uint8_t why)
{
	struct dp_steer *s = w->steer;

	m->hash.usr = (uint32_t)in | (decided ? TAG_DECIDED : 0) | (uint32_t)why << TAG_WHY_SHIFT;
	if (unlikely(s->n_out[owner] == DP_MAX_BURST))
		flush_one(w, owner);
	s->out_buf[owner][s->n_out[owner]++] = m;
	s->n_pending++;
	w->st.steered++;
}

void dp_steer_flush(struct dp_worker *w)
{
	struct dp_steer *s = w->steer;

	for (unsigned int j = 0; j < w->dp->n_workers && s->n_pending > 0; j++)
		if (s->n_out[j] > 0)
			flush_one(w, j);
}

uint16_t dp_steer_tag_port(const struct rte_mbuf *m)
{
	return (uint16_t)(m->hash.usr & TAG_PORT_MASK);
}

bool dp_steer_tag_decided(const struct rte_mbuf *m, uint8_t *why)
{
	*why = (uint8_t)(m->hash.usr >> TAG_WHY_SHIFT);
	return (m->hash.usr & TAG_DECIDED) != 0;
}

int dp_steer_setup(struct npgw_dp *dp)
{
	static unsigned int seq; /* ring names are process-wide */
	size_t klen;
	const uint8_t *key = npgw_dp_rss_key(&klen);

	if (dp->n_workers < 2 || !dp->cfg->conntrack.enabled)
		return 0;
	if (klen > sizeof(dp->rss_key_be))
		return -EINVAL;
	rte_convert_rss_key((const uint32_t *)key, (uint32_t *)dp->rss_key_be, (int)klen);
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		if (dp->rss_nq[p] == 0)
			continue;
		dp->q_worker[p] = rte_malloc("npgw-steer-q", sizeof(int16_t) * dp->rss_nq[p], 0);
		if (dp->q_worker[p] == NULL)
			return -ENOMEM;
		for (uint16_t q = 0; q < dp->rss_nq[p]; q++)
			dp->q_worker[p][q] = -1;
	}
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		struct dp_worker *wk = dp->workers[w];

		for (uint16_t q = 0; q < wk->n_queues; q++) {
			uint16_t p = wk->queues[q].port, qi = wk->queues[q].queue;

			if (dp->q_worker[p] != NULL && qi < dp->rss_nq[p])
				dp->q_worker[p][qi] = (int16_t)w;
		}
		wk->steer = rte_zmalloc_socket("npgw-steer", sizeof(*wk->steer),
					       RTE_CACHE_LINE_SIZE,
					       (int)rte_lcore_to_socket_id(wk->lcore));
		if (wk->steer == NULL)
			return -ENOMEM;
	}
	seq++;
	for (unsigned int j = 0; j < dp->n_workers; j++)
		for (unsigned int k = 0; k < dp->n_workers; k++) {
			char name[64];
			struct rte_ring *r;

			if (j == k)
				continue;
			/* at most 64 workers: under RTE_RING_NAMESIZE while
			 * seq stays below 10^8 data planes per process */
			snprintf(name, sizeof(name), "npgw-st%u-%u-%u", seq % 100000000u, j, k);
			/* on the consumer's socket: it reads every slot */
			r = rte_ring_create(name, DP_STEER_RING_SIZE,
					    (int)rte_lcore_to_socket_id(dp->workers[k]->lcore),
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL)
				return -rte_errno;
			dp->workers[j]->steer->out[k] = r;
			dp->workers[k]->steer->in[j] = r;
		}
	return 0;
}

void dp_steer_drain(struct npgw_dp *dp)
{
	if (dp->workers == NULL)
		return;
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		struct dp_worker *wk = dp->workers[w];
		struct dp_steer *s;
		struct rte_mbuf *m;

		if (wk == NULL || (s = wk->steer) == NULL)
			continue;
		for (unsigned int j = 0; j < dp->n_workers; j++) {
			if (s->n_out[j] > 0)
				rte_pktmbuf_free_bulk(s->out_buf[j], s->n_out[j]);
			s->n_out[j] = 0;
			if (s->in[j] != NULL)
				while (rte_ring_dequeue(s->in[j], (void **)&m) == 0)
					rte_pktmbuf_free(m);
		}
		s->n_pending = 0;
	}
}

void dp_steer_free(struct npgw_dp *dp)
{
	for (uint16_t p = 0; p < NPGW_CONFIG_MAX_PORTS; p++) {
		rte_free(dp->q_worker[p]);
		dp->q_worker[p] = NULL;
	}
	if (dp->workers == NULL)
		return;
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		struct dp_worker *wk = dp->workers[w];

		if (wk == NULL || wk->steer == NULL)
			continue;
		for (unsigned int j = 0; j < dp->n_workers; j++)
			rte_ring_free(wk->steer->out[j]);
		rte_free(wk->steer);
		wk->steer = NULL;
	}
}
