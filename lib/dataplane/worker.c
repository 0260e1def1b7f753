/*
 * worker.c: the poll-mode worker. Each round, for every rx queue it owns:
 * receive a burst and parse every packet; look the burst's IP packets up
 * in the worker's flow table in bulk (lib/conntrack); classify, in one
 * call, those that need it (new flows, untracked packets, flows checked
 * against an older generation); then walk the burst in order, forwarding
 * what passes to the ports its bridge chooses and freeing the rest in bulk.
 * No lock, allocation or syscall per packet (the one exception: revoke mode
 * reset takes two mbufs from the pool for the RSTs, once per revoked flow);
 * the generation pointer, the clock and a wire's output port are read once
 * per burst, counters are summed in locals and stored once per burst, an
 * RCU quiescent state is reported after each burst, and the flow table's
 * housekeeping runs at most every DP_HOUSEKEEP_US microseconds of TSC, not
 * every round.
 *
 * The fast path: a packet of a known flow, allowed or denied, is decided
 * by the flow table's one bulk lookup per burst (lib/conntrack): no
 * stage-1 lookup, no rte_acl. The common frame (Ethernet, up to two VLAN
 * tags, IPv4 without options or IPv6 without extension headers, TCP or
 * UDP) is parsed by npgw_pkt_parse_fast's straight-line code; every other
 * frame goes through the full parser and its security rules.
 */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include "dp_private.h"

#define PREFETCH_AHEAD 3

/* Send what is queued for config port p; unsent frames are dropped. */
static void tx_flush(struct dp_worker *w, uint16_t p)
{
	struct npgw_dp *dp = w->dp;
	uint16_t k = w->n_tx[p], sent;

	if (k == 0)
		return;
	sent = rte_eth_tx_burst(dp->port_id[p], (uint16_t)w->index, w->tx[p], k);
	w->st.port_tx[p] += sent;
	if (unlikely(sent < k)) {
		w->st.drops[NPGW_DROP_TX_FULL] += k - sent;
		w->st.port_drop[p] += k - sent;
		rte_pktmbuf_free_bulk(&w->tx[p][sent], k - sent);
	}
	w->n_tx[p] = 0;
}

void dp_queue_tx(struct dp_worker *w, uint16_t out, struct rte_mbuf *m)
{
	if (unlikely(w->n_tx[out] == DP_MAX_BURST))
		tx_flush(w, out);
	w->tx[out][w->n_tx[out]++] = m;
}

/* Send every queue and free what was dropped: the end of a burst. */
static void flush_all(struct dp_worker *w)
{
	if (unlikely(w->steer != NULL && w->steer->n_pending > 0))
		dp_steer_flush(w); /* first: what a full ring refuses is dropped */
	for (uint16_t p = 0; p < w->dp->n_ports; p++)
		tx_flush(w, p);
	if (w->n_drop > 0) {
		rte_pktmbuf_free_bulk(w->drop, w->n_drop);
		w->n_drop = 0;
	}
}

/* Drop m, which entered config port in, for reason. */
static inline void drop_pkt(struct dp_worker *w, struct rte_mbuf *m, uint16_t in,
			    unsigned int reason)
{
	w->st.drops[reason]++;
	w->st.port_drop[in]++;
	if (unlikely(w->n_drop == DP_MAX_BURST)) {
		rte_pktmbuf_free_bulk(w->drop, w->n_drop);
		w->n_drop = 0;
	}
	w->drop[w->n_drop++] = m;
}

void dp_drop(struct dp_worker *w, struct rte_mbuf *m, uint16_t in, unsigned int reason)
{
	drop_pkt(w, m, in, reason);
}

static inline void forward(struct dp_worker *w, struct rte_mbuf *m, uint16_t in, uint64_t now)
{
	if (unlikely(!dp_bridge_forward(w, m, in, now)))
		drop_pkt(w, m, in, NPGW_DROP_NO_ROUTE);
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
 * (a node answers it for its pods), so these pass as non-IP frames do, but
 * only as receivers accept them: ND (router and neighbour solicitation and
 * advertisement, redirect: types 133-137) with hop limit 255 (RFC 4861
 * 6.1, 7.1, 8.1), MLD (query, report, done, MLDv2 report: 130-132, 143)
 * with hop limit 1 (RFC 2710 3, RFC 3810 5), and neither as a fragment
 * (RFC 6980). Any other hop limit means the message crossed a router, or
 * was made to pass here: it is classified like any ICMPv6, by the
 * policies. (The link-local source MLD also requires is not checked:
 * MLDv2 reports may come from :: during address configuration.) The hop
 * limit is read from the frame: the parser keeps no field for it.
 */
static inline bool is_link_control(const struct rte_mbuf *m, const struct npgw_pkt_info *info)
{
	const uint8_t t = info->icmp_type;
	uint8_t want;

	if (t >= 133 && t <= 137)
		want = 255;
	else if ((t >= 130 && t <= 132) || t == 143)
		want = 1;
	else
		return false;
	if (info->is_fragment)
		return false;
	/* the parser checked that the 40-byte IPv6 header is in the frame */
	return rte_pktmbuf_mtod_offset(m, const uint8_t *, info->l3_off)[7] == want;
}

static inline void as_non_ip(struct dp_worker *w, unsigned int i)
{
	w->action[i] = w->dp->non_ip_pass ? DP_FORWARD : DP_DROP;
	w->reason[i] = NPGW_DROP_NON_IP;
	if (w->dp->non_ip_pass)
		w->st.non_ip++;
}

/* Whether an IP packet may belong to another worker's flow although RSS
 * put it here: a fragment, or an ICMP error (steer.c). */
static inline bool steer_candidate(const struct npgw_pkt_info *info)
{
	const uint8_t t = info->icmp_type;

	if (info->is_fragment)
		return true;
	if (info->proto == NPGW_PROTO_ICMP)
		return t == 3 || t == 11 || t == 12; /* unreachable, time exceeded, parameter */
	if (info->proto == NPGW_PROTO_ICMPV6)
		return t >= 1 && t <= 4; /* unreachable, too big, time exceeded, parameter */
	return false;
}

/* Parse packet i, which came in on config port `in`; IP packets join the
 * burst's IP list (nip of them so far). Returns the new count. With steer,
 * a fragment or ICMP error of a flow another worker owns is handed to it.
 * Always inlined: process_burst has a loop for each value of steer, so
 * that each copy has it as a constant and the loop without steering pays
 * nothing for it (nor a call per packet). */
static __rte_always_inline unsigned int parse_one(struct dp_worker *w, unsigned int i, unsigned int nip,
				     uint16_t in, uint64_t now, const bool steer)
{
	struct rte_mbuf *m = w->pkts[i];
	struct npgw_pkt_info *info = &w->info[nip];
	enum npgw_drop_reason reason = NPGW_DROP_NONE;
	enum npgw_pkt_kind kind =
		npgw_pkt_parse_fast(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, info, &reason);

	if (kind == NPGW_PKT_DROP) {
		w->action[i] = DP_DROP;
		w->reason[i] = (uint8_t)reason;
		dp_event(w->ev, now, info, NPGW_DP_EV_MALFORMED, (uint8_t)reason, 0, 0,
			 NPGW_DP_EV_STATE_NONE, in);
		return nip;
	}
	if (kind == NPGW_PKT_NON_IP) {
		if (carries_ip(info->ethertype)) {
			w->action[i] = DP_DROP;
			w->reason[i] = NPGW_DROP_ENCAP_IP;
		} else {
			as_non_ip(w, i);
		}
		return nip;
	}
	if (unlikely(info->proto == NPGW_PROTO_ICMPV6 && is_link_control(m, info))) {
		as_non_ip(w, i);
		return nip;
	}
	if (steer && steer_candidate(info)) {
		const unsigned int owner = dp_steer_owner(w, m, info, in);

		if (owner != w->index) {
			dp_steer_stage(w, owner, m, in, false, 0);
			w->action[i] = DP_STEERED;
			return nip;
		}
	}
	if (w->ct == NULL && info->is_fragment && !info->is_first_fragment) {
		/* without flow tracking a later fragment cannot follow its
		 * first one's verdict */
		w->action[i] = DP_DROP;
		w->reason[i] = NPGW_DROP_FRAG_UNTRACKED;
		return nip;
	}
	w->action[i] = DP_CLASSIFY;
	w->ip_of[i] = (uint8_t)nip;
	w->ipm[nip] = m;
	return nip + 1;
}

static inline void tuple_of(const struct npgw_pkt_info *info, struct npgw_ruleset_tuple *t)
{
	memcpy(t->src, info->src, 16);
	memcpy(t->dst, info->dst, 16);
	t->dport = info->dport;
	t->family = info->family;
	t->proto = info->proto;
}

static inline void count_hits(const struct dp_gen *g, unsigned int wi,
			      const struct npgw_ruleset_verdict *v)
{
	uint64_t *h = g->hits + (size_t)wi * g->stride;

	h[v->egress]++;
	h[v->ingress]++;
}

/* The drop reason of a denied verdict: the egress side's when it denies. */
static inline unsigned int policy_reason(const struct dp_gen *g,
					 const struct npgw_ruleset_verdict *v)
{
	const struct npgw_compile_meta *e = npgw_ruleset_meta(g->rs, v->egress);

	return e && e->action == NPGW_COMPILE_DENY ? NPGW_DROP_POLICY_EGRESS
						   : NPGW_DROP_POLICY_INGRESS;
}

/* The ACL result that decided a verdict, for its event: the denying side
 * of a denial, else the side a rule allowed (ingress first); 0 when no
 * policy isolates either side. */
static inline uint32_t deciding_meta(const struct dp_gen *g, const struct npgw_ruleset_verdict *v,
				     bool denied)
{
	if (denied)
		return policy_reason(g, v) == NPGW_DROP_POLICY_EGRESS ? v->egress : v->ingress;
	return v->ingress != 0 ? v->ingress : v->egress;
}

/* Held fragments the flow table hands back: forward or drop each. */
static void frag_out(struct dp_worker *w, unsigned int n, uint64_t now)
{
	for (unsigned int j = 0; j < n; j++) {
		const struct npgw_conntrack_frag_out *o = &w->fout[j];

		if (o->reason == NPGW_DROP_NONE) {
			w->st.allowed++;
			forward(w, o->m, o->cookie, now);
		} else
			drop_pkt(w, o->m, o->cookie, o->reason);
	}
}

/* Revoke mode reset: a RST back by the input port and one on toward the
 * destination, as the packet would have gone. */
static void send_resets(struct dp_worker *w, struct rte_mbuf *m, const struct npgw_pkt_info *info,
			uint16_t in, uint64_t now)
{
	struct rte_mbuf *rst[2];

	if (npgw_conntrack_rst_mbufs(w->dp->mp, m, info, rst) != 2)
		return; /* pool empty: the flow is dropped all the same */
	dp_queue_tx(w, in, rst[0]);
	forward(w, rst[1], in, now);
}

/*
 * The decision for IP packet k (in the flow table's result), given the
 * classification when there is one. Returns NPGW_DROP_NONE to forward,
 * a drop reason, or DP_HELD when the flow table kept the packet.
 */
#define DP_HELD 0xff

static unsigned int decide_tracked(struct dp_worker *w, const struct dp_gen *g, unsigned int k,
				   uint16_t in, uint16_t zone, uint64_t now)
{
	struct npgw_conntrack_result *r = &w->ctr[k];
	const struct npgw_ruleset_verdict *v = &w->verdicts[w->cls_of[k]];
	const uint64_t gen = npgw_ruleset_generation(g->rs);
	enum npgw_conntrack_action a = NPGW_CONNTRACK_PASS;
	unsigned int n_out;
	uint8_t why = NPGW_DROP_NONE;

	switch (r->kind) {
	case NPGW_CONNTRACK_HIT:
	case NPGW_CONNTRACK_RELATED:
		if (r->flags & NPGW_CONNTRACK_F_STALE)
			a = npgw_conntrack_recheck(w->ct, k, gen, v, w->dp->revoke, r);
		if (likely(a == NPGW_CONNTRACK_PASS))
			return NPGW_DROP_NONE;
		if (a == NPGW_CONNTRACK_RESET)
			send_resets(w, w->ipm[k], &w->info[k], in, now);
		dp_event(w->ev, now, &w->info[k], NPGW_DP_EV_REVOKED, NPGW_DROP_CT_REVOKED,
			 deciding_meta(g, v, true), gen,
			 npgw_conntrack_entry(w->ct, r->entry)->state, in);
		return NPGW_DROP_CT_REVOKED;
	case NPGW_CONNTRACK_MISS:
		count_hits(g, w->index, v);
		a = npgw_conntrack_commit(w->ct, k, now, gen, v, r);
		if (a == NPGW_CONNTRACK_DENY) {
			why = (uint8_t)policy_reason(g, v);
			dp_event(w->ev, now, &w->info[k], NPGW_DP_EV_NEW_DENIED, why,
				 deciding_meta(g, v, true), gen, NPGW_DP_EV_STATE_NONE, in);
			return why;
		}
		if (unlikely(a == NPGW_CONNTRACK_DROP_FULL)) {
			dp_event(w->ev, now, &w->info[k], NPGW_DP_EV_NEW_DENIED,
				 NPGW_DROP_CT_TABLE_FULL, deciding_meta(g, v, false), gen,
				 NPGW_DP_EV_STATE_NONE, in);
			return NPGW_DROP_CT_TABLE_FULL;
		}
		dp_event(w->ev, now, &w->info[k], NPGW_DP_EV_NEW_ALLOWED, NPGW_DROP_NONE,
			 deciding_meta(g, v, false), gen, npgw_conntrack_entry(w->ct, r->entry)->state,
			 in);
		return NPGW_DROP_NONE;
	case NPGW_CONNTRACK_UNTRACKED:
		count_hits(g, w->index, v);
		if (v->allowed)
			return NPGW_DROP_NONE;
		why = (uint8_t)policy_reason(g, v);
		dp_event(w->ev, now, &w->info[k], NPGW_DP_EV_NEW_DENIED, why,
			 deciding_meta(g, v, true), gen, NPGW_DP_EV_STATE_UNTRACKED, in);
		return why;
	case NPGW_CONNTRACK_FRAGMENT: {
		enum npgw_conntrack_frag_verdict fv = npgw_conntrack_frag_later(
			w->ct, w->ipm[k], &w->info[k], zone, in, now, &why, w->fout, &n_out);

		frag_out(w, n_out, now);
		if (fv == NPGW_CONNTRACK_FRAG_HELD)
			return DP_HELD;
		return fv == NPGW_CONNTRACK_FRAG_PASS ? NPGW_DROP_NONE : why;
	}
	default: /* DROP, and DENIED (its reason set after the lookup) */
		if (r->reason == NPGW_DROP_ICMP_UNRELATED)
			dp_event(w->ev, now, &w->info[k], NPGW_DP_EV_ICMP_DROPPED, r->reason, 0,
				 gen, NPGW_DP_EV_STATE_NONE, in);
		else if (r->reason == NPGW_DROP_TCP_INVALID || r->reason == NPGW_DROP_SCTP_INVALID)
			dp_event(w->ev, now, &w->info[k], NPGW_DP_EV_INVALID, r->reason, 0, gen,
				 NPGW_DP_EV_STATE_NONE, in);
		else if (r->reason == NPGW_DROP_TCP_OUT_OF_WINDOW) /* its flow goes on */
			dp_event(w->ev, now, &w->info[k], NPGW_DP_EV_INVALID, r->reason, 0, gen,
				 npgw_conntrack_entry(w->ct, r->entry)->state, in);
		return r->reason;
	}
}

/*
 * After the flow table's lookup: what needs a classification (new flows,
 * untracked packets, flows of an older generation) gets a tuple; a denied
 * flow's packet gets its drop reason and its rule hits now, before any
 * commit of the burst may evict denied entries. Returns the tuple count.
 */
static unsigned int after_lookup(struct dp_worker *w, const struct dp_gen *g, unsigned int nip)
{
	unsigned int nt = 0;

	for (unsigned int k = 0; k < nip; k++) {
		struct npgw_conntrack_result *r = &w->ctr[k];

		if (r->kind == NPGW_CONNTRACK_DENIED) {
			const struct npgw_conntrack_entry *e = npgw_conntrack_entry(w->ct, r->entry);
			const struct npgw_ruleset_verdict v = {.egress = e->egress,
							       .ingress = e->ingress};

			count_hits(g, w->index, &v);
			r->reason = (uint8_t)policy_reason(g, &v);
		} else if (r->kind == NPGW_CONNTRACK_MISS || r->kind == NPGW_CONNTRACK_UNTRACKED ||
			   (r->flags & NPGW_CONNTRACK_F_STALE)) {
			npgw_conntrack_orig_tuple(w->ct, k, r, &w->tuples[nt]);
			w->cls_of[k] = (uint8_t)nt++;
		}
	}
	return nt;
}

/* Process one burst of w->pkts, n frames that entered config port `in`.
 * steer: hand fragments and ICMP errors of other workers' flows to them
 * (frames from an rx queue of a worker with peers; never frames that came
 * over a steering ring, which are where they belong). */
static void process_burst(struct dp_worker *w, uint16_t in, unsigned int n, bool steer)
{
	struct npgw_dp *dp = w->dp;
	const struct dp_gen *g = atomic_load_explicit(&dp->gen, memory_order_acquire);
	const uint16_t zone = (uint16_t)dp->port_bridge[in];
	const int wire = dp->wire_out[in]; /* the other port of a 2-port bridge, or -1 */
	const bool tracked = w->ct != NULL && g != NULL;
	unsigned int nip = 0, nt = 0;
	uint64_t allowed = 0;
	uint64_t now = rte_rdtsc();

	for (unsigned int i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(w->pkts[i], void *));
	/* one test per burst: each loop has its own constant steer */
	if (unlikely(steer)) {
		for (unsigned int i = 0; i < n; i++) {
			if (i + PREFETCH_AHEAD < n)
				rte_prefetch0(rte_pktmbuf_mtod(w->pkts[i + PREFETCH_AHEAD], void *));
			nip = parse_one(w, i, nip, in, now, true);
		}
	} else {
		for (unsigned int i = 0; i < n; i++) {
			if (i + PREFETCH_AHEAD < n)
				rte_prefetch0(rte_pktmbuf_mtod(w->pkts[i + PREFETCH_AHEAD], void *));
			nip = parse_one(w, i, nip, in, now, false);
		}
	}

	if (tracked && nip > 0) {
		npgw_conntrack_lookup_burst(w->ct, w->ipm, w->info, nip, zone, now,
					    npgw_ruleset_generation(g->rs), w->ctr);
		nt = after_lookup(w, g, nip);
	} else if (g != NULL) {
		for (unsigned int k = 0; k < nip; k++) {
			tuple_of(&w->info[k], &w->tuples[nt]);
			w->cls_of[k] = (uint8_t)nt++;
		}
	}
	if (nt > 0)
		npgw_ruleset_classify_burst(g->rs, w->tuples, nt, w->verdicts);

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = w->pkts[i];
		unsigned int k, why;

		if (w->action[i] != DP_CLASSIFY) {
			if (w->action[i] == DP_DROP)
				drop_pkt(w, m, in, w->reason[i]);
			else if (w->action[i] == DP_FORWARD)
				forward(w, m, in, now);
			continue; /* or DP_STEERED: another worker's now */
		}
		k = w->ip_of[i];
		if (unlikely(g == NULL)) {
			/* no generation yet: the start-up posture */
			if (dp->fail_open) {
				allowed++;
				forward(w, m, in, now);
			} else {
				drop_pkt(w, m, in, NPGW_DROP_NOT_READY);
			}
			continue;
		}
		if (tracked) {
			why = decide_tracked(w, g, k, in, zone, now);
			if (why == DP_HELD)
				continue; /* the flow table owns it now */
			if (unlikely(w->info[k].is_first_fragment)) {
				uint8_t fr;
				unsigned int n_out;

				if (w->steer != NULL) {
					/* its later fragments meet at its datagram's
					 * home: the verdict goes there with it */
					const unsigned int home =
						dp_steer_frag_home(w, &w->info[k], in);

					if (home != w->index) {
						dp_steer_stage(w, home, m, in, true, (uint8_t)why);
						continue;
					}
				}
				/* later fragments of the datagram follow this verdict */
				npgw_conntrack_frag_first(w->ct, m, &w->info[k], zone, now,
							  why == NPGW_DROP_NONE, why, &fr, w->fout,
							  &n_out);
				why = fr;
				frag_out(w, n_out, now);
			}
		} else {
			const struct npgw_ruleset_verdict *v = &w->verdicts[w->cls_of[k]];

			count_hits(g, w->index, v);
			why = likely(v->allowed) ? NPGW_DROP_NONE : policy_reason(g, v);
			if (unlikely(why != NPGW_DROP_NONE))
				dp_event(w->ev, now, &w->info[k], NPGW_DP_EV_NEW_DENIED, (uint8_t)why,
					 deciding_meta(g, v, true), npgw_ruleset_generation(g->rs),
					 NPGW_DP_EV_STATE_UNTRACKED, in);
		}
		if (unlikely(why != NPGW_DROP_NONE)) {
			drop_pkt(w, m, in, why);
			continue;
		}
		allowed++;
		if (likely(wire >= 0))
			dp_queue_tx(w, (uint16_t)wire, m);
		else
			forward(w, m, in, now);
	}
	w->st.allowed += allowed;
	flush_all(w);
}

/* A first fragment another worker decided (why: its verdict), handed here,
 * the home of its datagram: record the verdict for the later fragments,
 * then forward or drop it. */
static void steer_decided(struct dp_worker *w, struct rte_mbuf *m, uint16_t in, uint8_t why,
			  uint64_t now)
{
	struct npgw_pkt_info *info = &w->info[0];
	enum npgw_drop_reason r = NPGW_DROP_NONE;
	unsigned int n_out;
	uint8_t fr;

	if (npgw_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, info, &r) !=
		    NPGW_PKT_IP ||
	    !info->is_first_fragment) {
		/* the worker that decided it parsed it as a first fragment */
		drop_pkt(w, m, in, r != NPGW_DROP_NONE ? r : NPGW_DROP_FRAG_INVALID);
		return;
	}
	npgw_conntrack_frag_first(w->ct, m, info, (uint16_t)w->dp->port_bridge[in], now,
				  why == NPGW_DROP_NONE, why, &fr, w->fout, &n_out);
	frag_out(w, n_out, now);
	if (fr != NPGW_DROP_NONE) {
		drop_pkt(w, m, in, fr);
		return;
	}
	w->st.allowed++;
	forward(w, m, in, now);
}

/* Take a burst from each ring the other workers hand w packets on: the
 * decided first fragments are recorded, the rest processed per input port
 * like a received burst (without steering again). Returns the count. */
static unsigned int steer_poll(struct dp_worker *w)
{
	struct dp_steer *s = w->steer;
	struct npgw_dp *dp = w->dp;
	unsigned int total = 0;

	for (unsigned int j = 0; j < dp->n_workers; j++) {
		unsigned int n, left = 0;
		uint64_t ports = 0, now;

		if (s->in[j] == NULL)
			continue;
		n = rte_ring_dequeue_burst(s->in[j], (void **)s->rx, dp->burst, NULL);
		if (n == 0)
			continue;
		total += n;
		now = rte_rdtsc();
		for (unsigned int i = 0; i < n; i++) {
			uint8_t why;

			if (dp_steer_tag_decided(s->rx[i], &why))
				steer_decided(w, s->rx[i], dp_steer_tag_port(s->rx[i]), why, now);
			else {
				ports |= 1ull << dp_steer_tag_port(s->rx[i]);
				s->rx[left++] = s->rx[i];
			}
		}
		if (left == 0)
			flush_all(w);
		while (ports != 0) {
			const uint16_t in = (uint16_t)__builtin_ctzll(ports);
			unsigned int k = 0;

			for (unsigned int i = 0; i < left; i++)
				if (dp_steer_tag_port(s->rx[i]) == in)
					w->pkts[k++] = s->rx[i];
			process_burst(w, in, k, false); /* flushes the decided ones too */
			ports &= ports - 1;
		}
		rte_rcu_qsbr_quiescent(dp->rcu, w->index);
	}
	return total;
}

/* Flow table housekeeping (expiry, flush and snapshot requests), bounded
 * work; fragments held too long come back to be freed. */
static void housekeep(struct dp_worker *w, uint64_t now)
{
	unsigned int n_out = npgw_conntrack_housekeep(w->ct, now, w->fout);

	w->next_housekeep = now + w->dp->housekeep_tsc;
	if (unlikely(n_out > 0)) {
		frag_out(w, n_out, now);
		flush_all(w);
	}
}

unsigned int dp_worker_poll(struct dp_worker *w, bool force_housekeep)
{
	struct npgw_dp *dp = w->dp;
	unsigned int total = 0;

	for (uint16_t q = 0; q < w->n_queues; q++) {
		uint16_t in = w->queues[q].port;
		uint16_t n = rte_eth_rx_burst(dp->port_id[in], w->queues[q].queue, w->pkts, dp->burst);

		if (n > 0) {
			w->st.port_rx[in] += n;
			process_burst(w, in, n, w->steer != NULL);
			total += n;
		}
		rte_rcu_qsbr_quiescent(dp->rcu, w->index);
	}
	if (unlikely(w->steer != NULL))
		total += steer_poll(w);
	w->st.polls++;
	w->st.busy_polls += total > 0;
	if (w->ct != NULL) {
		uint64_t now = rte_rdtsc();

		if (force_housekeep || now >= w->next_housekeep)
			housekeep(w, now);
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
		dp_worker_poll(w, false);
	rte_rcu_qsbr_thread_offline(dp->rcu, w->index);
	rte_rcu_qsbr_thread_unregister(dp->rcu, w->index);
	return 0;
}
