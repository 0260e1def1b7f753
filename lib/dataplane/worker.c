/*
 * worker.c: the poll-mode worker. Each round, for every rx queue it owns:
 * receive a burst, parse every packet, classify all IP packets of the
 * burst in one call, then walk the burst in order forwarding the allowed
 * and the passing non-IP frames to the ports their bridge chooses, and
 * free the rest in one bulk call. No lock, allocation or syscall per
 * packet; the generation pointer is read once per burst and an RCU
 * quiescent state is reported after each burst.
 */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "dp_private.h"
#include "npgw_pkt.h"

#define PREFETCH_AHEAD 3

static inline void drop_pkt(struct dp_worker *w, unsigned int *n_drop, struct rte_mbuf *m,
			    uint16_t in, unsigned int reason)
{
	w->st.drops[reason]++;
	w->st.port_drop[in]++;
	w->drop[(*n_drop)++] = m;
}

/*
 * Frame types that carry IP the parser does not open (MPLS, PPPoE session,
 * 802.1ah PBB). Passing them as "non-IP" would carry IP past the policy, so
 * they are dropped whatever non_ip says.
 */
static inline bool carries_ip(uint16_t ethertype)
{
	return ethertype == 0x8847 || ethertype == 0x8848 || ethertype == 0x8864 ||
	       ethertype == 0x88e7;
}

/*
 * IPv6 neighbour discovery and multicast listener messages: what ARP is to
 * IPv4, the link's own control traffic. NetworkPolicy does not govern it
 * (a node answers it for its pods), so types 130-137 and 143 pass as
 * non-IP frames do. Receivers accept them only with hop limit 255
 * (RFC 4861, 3810), so nothing from beyond the link gets through this way.
 */
static inline bool is_link_control(const struct npgw_pkt_info *info)
{
	uint8_t t = info->icmp_type;

	return (t >= 130 && t <= 137) || t == 143;
}

/* Parse packet i into the action arrays; IP packets get a tuple. */
static inline unsigned int parse_one(struct dp_worker *w, unsigned int i, unsigned int nt)
{
	struct rte_mbuf *m = w->pkts[i];
	struct npgw_pkt_info info;
	enum npgw_drop_reason reason = NPGW_DROP_NONE;
	enum npgw_pkt_kind kind =
		npgw_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &info, &reason);

	if (kind == NPGW_PKT_DROP) {
		w->action[i] = DP_DROP;
		w->reason[i] = (uint8_t)reason;
		return nt;
	}
	if (kind == NPGW_PKT_NON_IP) {
		if (carries_ip(info.ethertype)) {
			w->action[i] = DP_DROP;
			w->reason[i] = NPGW_DROP_ENCAP_IP;
			return nt;
		}
		w->action[i] = w->dp->non_ip_pass ? DP_FORWARD : DP_DROP;
		w->reason[i] = NPGW_DROP_NON_IP;
		if (w->dp->non_ip_pass)
			w->st.non_ip++;
		return nt;
	}
	if (unlikely(info.proto == NPGW_PROTO_ICMPV6 && is_link_control(&info))) {
		w->action[i] = w->dp->non_ip_pass ? DP_FORWARD : DP_DROP;
		w->reason[i] = NPGW_DROP_NON_IP;
		if (w->dp->non_ip_pass)
			w->st.non_ip++;
		return nt;
	}
	if (info.is_fragment && !info.is_first_fragment) {
		/* Later fragments follow their first one's verdict once flows
		 * are tracked (issue 6); until then they cannot be checked. */
		w->action[i] = DP_DROP;
		w->reason[i] = NPGW_DROP_FRAG_UNTRACKED;
		return nt;
	}
	struct npgw_ruleset_tuple *t = &w->tuples[nt];

	t->family = info.family;
	t->proto = info.proto;
	t->dport = info.dport;
	memcpy(t->src, info.src, 16);
	memcpy(t->dst, info.dst, 16);
	w->action[i] = DP_CLASSIFY;
	w->cls_of[i] = (uint8_t)nt;
	return nt + 1;
}

static inline void count_hits(const struct dp_gen *g, unsigned int wi,
			      const struct npgw_ruleset_verdict *v)
{
	uint64_t *h = g->hits + (size_t)wi * g->stride;

	h[v->egress]++;
	h[v->ingress]++;
}

/* Process one received burst of port `in` (config index). */
static void process_burst(struct dp_worker *w, uint16_t in, unsigned int n)
{
	struct npgw_dp *dp = w->dp;
	const struct dp_gen *g = atomic_load_explicit(&dp->gen, memory_order_acquire);
	unsigned int nt = 0, n_drop = 0;
	uint64_t now = rte_rdtsc();

	for (unsigned int i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(w->pkts[i], void *));
	for (unsigned int i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(w->pkts[i + PREFETCH_AHEAD], void *));
		nt = parse_one(w, i, nt);
	}
	if (nt > 0 && g != NULL)
		npgw_ruleset_classify_burst(g->rs, w->tuples, nt, w->verdicts);

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = w->pkts[i];

		if (w->action[i] == DP_CLASSIFY) {
			if (unlikely(g == NULL)) {
				if (!dp->fail_open) {
					drop_pkt(w, &n_drop, m, in, NPGW_DROP_NOT_READY);
					continue;
				}
			} else {
				const struct npgw_ruleset_verdict *v = &w->verdicts[w->cls_of[i]];

				count_hits(g, w->index, v);
				if (unlikely(!v->allowed)) {
					const struct npgw_compile_meta *e =
						npgw_ruleset_meta(g->rs, v->egress);
					unsigned int r = e && e->action == NPGW_COMPILE_DENY
								 ? NPGW_DROP_POLICY_EGRESS
								 : NPGW_DROP_POLICY_INGRESS;

					drop_pkt(w, &n_drop, m, in, r);
					continue;
				}
			}
			w->st.allowed++;
		} else if (w->action[i] == DP_DROP) {
			drop_pkt(w, &n_drop, m, in, w->reason[i]);
			continue;
		}
		if (unlikely(!dp_bridge_forward(w, m, in, now)))
			drop_pkt(w, &n_drop, m, in, NPGW_DROP_NO_ROUTE);
	}

	for (uint16_t p = 0; p < dp->n_ports; p++) {
		uint16_t k = w->n_tx[p], sent;

		if (k == 0)
			continue;
		sent = rte_eth_tx_burst(dp->port_id[p], (uint16_t)w->index, w->tx[p], k);
		w->st.port_tx[p] += sent;
		if (unlikely(sent < k)) {
			w->st.drops[NPGW_DROP_TX_FULL] += k - sent;
			w->st.port_drop[p] += k - sent;
			rte_pktmbuf_free_bulk(&w->tx[p][sent], k - sent);
		}
		w->n_tx[p] = 0;
	}
	if (n_drop > 0)
		rte_pktmbuf_free_bulk(w->drop, n_drop);
}

unsigned int dp_worker_poll(struct dp_worker *w)
{
	struct npgw_dp *dp = w->dp;
	unsigned int total = 0;

	for (uint16_t q = 0; q < w->n_queues; q++) {
		uint16_t in = w->queues[q].port;
		uint16_t n = rte_eth_rx_burst(dp->port_id[in], w->queues[q].queue, w->pkts, dp->burst);

		if (n > 0) {
			w->st.port_rx[in] += n;
			process_burst(w, in, n);
			total += n;
		}
		rte_rcu_qsbr_quiescent(dp->rcu, w->index);
	}
	return total;
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct npgw_dp *dp = w->dp;

	rte_rcu_qsbr_thread_register(dp->rcu, w->index);
	rte_rcu_qsbr_thread_online(dp->rcu, w->index);
	while (!atomic_load_explicit(&dp->stop, memory_order_relaxed))
		dp_worker_poll(w);
	rte_rcu_qsbr_thread_offline(dp->rcu, w->index);
	rte_rcu_qsbr_thread_unregister(dp->rcu, w->index);
	return 0;
}
