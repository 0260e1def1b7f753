/*
 * dataplane.c: the control thread's side of the data plane: ports, the
 * mbuf pool, worker state, RCU publish of generations, and the counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "dp_private.h"

RTE_LOG_REGISTER_SUFFIX(npgw_dp_logtype, dataplane, INFO);
#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, npgw_dp_logtype, "npgw.dataplane: " fmt "\n", ##__VA_ARGS__)

/*
 * A symmetric RSS key: a 16-bit pattern repeated makes the Toeplitz hash
 * of (src, dst) equal that of (dst, src), so both directions of a flow
 * reach the same queue and worker.
 */
static uint8_t symmetric_rss_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

/* The ethdev name of a device string: what precedes the first comma. */
static void device_name(const char *device, char *out, size_t len)
{
	size_t n = strcspn(device, ",");

	if (n >= len)
		n = len - 1;
	memcpy(out, device, n);
	out[n] = '\0';
}

/* Find the ethdev of a config port: an existing one of that name (tests
 * create ring ports), else probe the device string (vdev or PCI). */
static int port_find(const struct npgw_config_port *cp, uint16_t *pid)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	int rc;

	device_name(cp->device, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, pid) == 0)
		return 0;
	rc = rte_dev_probe(cp->device);
	if (rc < 0) {
		DP_LOG(ERR, "port %s: cannot probe device '%s': %s", cp->name, cp->device,
		       strerror(-rc));
		return rc;
	}
	if (rte_eth_dev_get_port_by_name(name, pid) != 0) {
		DP_LOG(ERR, "port %s: device '%s' probed but no ethdev named '%s'", cp->name,
		       cp->device, name);
		return -ENODEV;
	}
	return 0;
}

/*
 * Spread the redirection table over the rx queues in turn (entry j ->
 * queue j % nb_rxq), as most drivers do by default, but written so that
 * software steering (steer.c) knows it: queue = table[hash % size]. A
 * device that refuses keeps its own table; steering then assumes the
 * same spread.
 */
static void reta_setup(struct npgw_dp *dp, unsigned int i, uint16_t pid, uint16_t size,
		       uint16_t nb_rxq)
{
	struct rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE];
	int rc;

	dp->rss_reta[i] = size;
	if (size > RTE_ETH_RSS_RETA_SIZE_512)
		return;
	memset(reta, 0, sizeof(reta));
	for (uint16_t j = 0; j < size; j++) {
		reta[j / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ull << (j % RTE_ETH_RETA_GROUP_SIZE);
		reta[j / RTE_ETH_RETA_GROUP_SIZE].reta[j % RTE_ETH_RETA_GROUP_SIZE] =
			(uint16_t)(j % nb_rxq);
	}
	rc = rte_eth_dev_rss_reta_update(pid, reta, size);
	if (rc < 0)
		DP_LOG(WARNING,
		       "port %s: cannot set the RSS redirection table (%s): software steering "
		       "assumes entry j goes to queue j %% %u",
		       dp->cfg->ports[i].name, strerror(-rc), nb_rxq);
}

static int port_setup(struct npgw_dp *dp, unsigned int i, uint16_t nb_rxq, uint16_t nb_txq)
{
	const struct npgw_config_port *cp = &dp->cfg->ports[i];
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	uint16_t pid, nb_rxd = cp->rx_descriptors, nb_txd = cp->tx_descriptors;
	int rc;

	rc = port_find(cp, &pid);
	if (rc < 0)
		return rc;
	dp->port_id[i] = pid;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc < 0)
		return rc;
	if (nb_rxq > info.max_rx_queues || nb_txq > info.max_tx_queues) {
		DP_LOG(ERR, "port %s: needs %u rx and %u tx queues, device has %u and %u", cp->name,
		       nb_rxq, nb_txq, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	dp->rss_nq[i] = nb_rxq;
	if (nb_rxq > 1) {
		const uint64_t hf =
			RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_SCTP;

		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = symmetric_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(symmetric_rss_key);
		conf.rx_adv_conf.rss_conf.rss_hf = hf & info.flow_type_rss_offloads;
		/* what software steering assumes the device does (steer.c) */
		dp->rss_hf[i] = info.flow_type_rss_offloads != 0 ? hf & info.flow_type_rss_offloads
								 : hf;
	}
	rc = rte_eth_dev_configure(pid, nb_rxq, nb_txq, &conf);
	if (rc < 0) {
		DP_LOG(ERR, "port %s: configure: %s", cp->name, strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	if (rc < 0)
		return rc;
	for (uint16_t q = 0; q < nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, nb_rxd, rte_eth_dev_socket_id(pid), NULL, dp->mp);
		if (rc < 0) {
			DP_LOG(ERR, "port %s: rx queue %u: %s", cp->name, q, strerror(-rc));
			return rc;
		}
	}
	for (uint16_t q = 0; q < nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(pid, q, nb_txd, rte_eth_dev_socket_id(pid), NULL);
		if (rc < 0) {
			DP_LOG(ERR, "port %s: tx queue %u: %s", cp->name, q, strerror(-rc));
			return rc;
		}
	}
	/* a bump in the wire forwards frames for every MAC */
	if (cp->promiscuous)
		rte_eth_promiscuous_enable(pid);
	rc = rte_eth_dev_start(pid);
	if (rc < 0) {
		DP_LOG(ERR, "port %s: start: %s", cp->name, strerror(-rc));
		return rc;
	}
	dp->port_started[i] = true;
	if (nb_rxq > 1 && info.flow_type_rss_offloads != 0 && info.reta_size > 0)
		reta_setup(dp, i, pid, info.reta_size, nb_rxq);
	return 0;
}

/* The worker's flow table, from the config's conntrack section. */
static int conntrack_setup(struct npgw_dp *dp, struct dp_worker *wk)
{
	const struct npgw_conntrack_settings *cs = &dp->cfg->conntrack;
	struct npgw_conntrack_config c;
	char name[32];
	int err = 0;

	npgw_conntrack_config_defaults(&c);
	snprintf(name, sizeof(name), "npgw-ct%u", wk->index);
	c.name = name;
	c.socket_id = (int)rte_lcore_to_socket_id(wk->lcore);
	c.hz = rte_get_tsc_hz();
	c.capacity = cs->capacity;
	c.denied_capacity = cs->denied_capacity;
	c.frag_hold = cs->frag_hold;
	c.tcp_loose = cs->tcp_loose;
	c.tcp_seq_check = cs->tcp_seq_check;
	c.timeouts = cs->timeouts;
	wk->ct = npgw_conntrack_create(&c, &err);
	if (wk->ct == NULL) {
		DP_LOG(ERR, "worker %u: cannot create a flow table of %u flows: %s", wk->index,
		       c.capacity, strerror(-err));
		return err < 0 ? err : -ENOMEM;
	}
	return 0;
}

static int workers_setup(struct npgw_dp *dp)
{
	const struct npgw_config *cfg = dp->cfg;

	dp->n_workers = (unsigned int)cfg->n_workers;
	dp->workers = rte_zmalloc("npgw-workers", sizeof(*dp->workers) * dp->n_workers,
				  RTE_CACHE_LINE_SIZE);
	if (dp->workers == NULL)
		return -ENOMEM;
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		const struct npgw_config_worker *cw = &cfg->workers[w];
		/* each worker's state on its own lcore's NUMA socket */
		const int socket = (int)rte_lcore_to_socket_id(cw->lcore);
		struct dp_worker *wk = rte_zmalloc_socket("npgw-worker", sizeof(*wk),
							  RTE_CACHE_LINE_SIZE, socket);

		if (wk == NULL)
			return -ENOMEM;
		dp->workers[w] = wk;

		wk->dp = dp;
		wk->index = w;
		wk->lcore = cw->lcore;
		if (cw->n_queues == 0) {
			for (uint16_t p = 0; p < dp->n_ports; p++) {
				wk->queues[wk->n_queues].port = p;
				wk->queues[wk->n_queues].queue = (uint16_t)w;
				wk->n_queues++;
			}
		} else {
			for (size_t q = 0; q < cw->n_queues && q < NPGW_CONFIG_MAX_QUEUES; q++) {
				wk->queues[q].port = cw->queues[q].port;
				wk->queues[q].queue = cw->queues[q].queue;
			}
			wk->n_queues = (uint16_t)NPGW_MIN(cw->n_queues, NPGW_CONFIG_MAX_QUEUES);
		}
		if (dp->n_bridges > 0) {
			wk->macs = rte_zmalloc_socket("npgw-macs", sizeof(*wk->macs) * dp->n_bridges,
						      RTE_CACHE_LINE_SIZE, socket);
			if (wk->macs == NULL)
				return -ENOMEM;
		}
		if (cfg->conntrack.enabled) {
			int rc = conntrack_setup(dp, wk);

			if (rc < 0)
				return rc;
		}
		if (cfg->events_rate > 0) {
			int rc;

			wk->ev = dp_events_ring_create(cfg, w, (int)rte_lcore_to_socket_id(wk->lcore),
						       &rc);
			if (wk->ev == NULL)
				return rc < 0 ? rc : -ENOMEM;
		}
	}
	dp->wbaseline = calloc(NPGW_MAX(dp->n_workers, 1u), sizeof(*dp->wbaseline));
	dp->retired_hits = dp_hitmap_new();
	if (dp->wbaseline == NULL || dp->retired_hits == NULL)
		return -ENOMEM;
	if (cfg->events_rate > 0) {
		dp->events = dp_events_history_create();
		if (dp->events == NULL)
			return -ENOMEM;
	}
	return 0;
}

struct npgw_dp *npgw_dp_create(const struct npgw_config *cfg, int *err)
{
	struct npgw_dp *dp = rte_zmalloc("npgw-dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	uint16_t nb_rxq[NPGW_CONFIG_MAX_PORTS] = {0};
	size_t sz;
	int rc;

	if (dp == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	dp->cfg = cfg;
	dp->n_ports = (uint16_t)cfg->n_ports;
	dp->burst = cfg->burst ? (uint16_t)NPGW_MIN(cfg->burst, DP_MAX_BURST) : 32;
	dp->non_ip_pass = cfg->non_ip_pass;
	dp->fail_open = cfg->posture == NPGW_POSTURE_FAIL_OPEN;
	dp->revoke = cfg->conntrack.revoke;
	atomic_init(&dp->gen, NULL);
	atomic_init(&dp->stop, false);
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		dp->port_bridge[p] = -1;
		dp->wire_out[p] = -1;
	}
	dp->housekeep_tsc = rte_get_tsc_hz() / 1000000 * DP_HOUSEKEEP_US;
	for (size_t b = 0; b < cfg->n_bridges; b++) {
		struct dp_bridge *br = &dp->bridges[b];

		for (size_t k = 0; k < cfg->bridges[b].n_ports; k++) {
			br->ports[k] = cfg->bridges[b].ports[k];
			dp->port_bridge[br->ports[k]] = (int16_t)b;
		}
		br->n_ports = (uint16_t)cfg->bridges[b].n_ports;
		if (br->n_ports == 2) { /* a wire: each port's output is the other */
			dp->wire_out[br->ports[0]] = (int16_t)br->ports[1];
			dp->wire_out[br->ports[1]] = (int16_t)br->ports[0];
		}
		br->age_tsc = (uint64_t)cfg->bridges[b].mac_age_seconds * rte_get_tsc_hz();
	}
	dp->n_bridges = (uint16_t)cfg->n_bridges;

	dp->mp = rte_pktmbuf_pool_create("npgw-mbufs", cfg->mbufs, cfg->mbuf_cache, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (dp->mp == NULL) {
		DP_LOG(ERR, "cannot create a pool of %u mbufs: %s", cfg->mbufs,
		       rte_strerror(rte_errno));
		rc = -rte_errno;
		goto fail;
	}
	rc = workers_setup(dp);
	if (rc < 0)
		goto fail;
	for (unsigned int w = 0; w < dp->n_workers; w++)
		for (uint16_t q = 0; q < dp->workers[w]->n_queues; q++) {
			uint16_t p = dp->workers[w]->queues[q].port;

			nb_rxq[p] = NPGW_MAX(nb_rxq[p], dp->workers[w]->queues[q].queue + 1);
		}
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		uint16_t rxq = NPGW_MAX(nb_rxq[p], cfg->ports[p].rx_queues);
		uint16_t txq = NPGW_MAX((uint16_t)dp->n_workers, cfg->ports[p].tx_queues);

		rc = port_setup(dp, p, rxq ? rxq : 1, txq ? txq : 1);
		if (rc < 0)
			goto fail;
	}
	rc = dp_steer_setup(dp);
	if (rc < 0)
		goto fail;
	sz = rte_rcu_qsbr_get_memsize(NPGW_MAX(dp->n_workers, 1u));
	dp->rcu = rte_zmalloc("npgw-rcu", sz, RTE_CACHE_LINE_SIZE);
	if (dp->rcu == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = rte_rcu_qsbr_init(dp->rcu, NPGW_MAX(dp->n_workers, 1u));
	if (rc < 0)
		goto fail;
	return dp;
fail:
	npgw_dp_free(dp);
	*err = rc < 0 ? rc : -EINVAL;
	return NULL;
}

int npgw_dp_start(struct npgw_dp *dp)
{
	atomic_store(&dp->stop, false); /* a data plane stopped before may start again */
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		int rc = rte_eal_remote_launch(dp_worker_main, dp->workers[w],
					       dp->workers[w]->lcore);

		if (rc < 0) {
			DP_LOG(ERR, "worker %u: cannot launch on lcore %u: %s", w,
			       dp->workers[w]->lcore, strerror(-rc));
			npgw_dp_stop(dp);
			return rc;
		}
		dp->running = true;
	}
	return 0;
}

void npgw_dp_stop(struct npgw_dp *dp)
{
	if (dp == NULL || !dp->running)
		return;
	atomic_store(&dp->stop, true);
	for (unsigned int w = 0; w < dp->n_workers; w++)
		rte_eal_wait_lcore(dp->workers[w]->lcore);
	dp->running = false;
}

static void gen_free(struct dp_gen *g)
{
	if (g == NULL)
		return;
	npgw_ruleset_free(g->rs);
	free(g->hits);
	free(g);
}

void npgw_dp_free(struct npgw_dp *dp)
{
	if (dp == NULL)
		return;
	npgw_dp_stop(dp);
	npgw_dp_drain(dp);
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		if (!dp->port_started[p])
			continue;
		rte_eth_dev_stop(dp->port_id[p]);
		/* flush what the PMD still holds back into the pool */
		rte_eth_dev_close(dp->port_id[p]);
	}
	npgw_dp_reclaim(dp, true);
	gen_free(atomic_load(&dp->gen));
	dp_steer_free(dp);
	if (dp->workers != NULL)
		for (unsigned int w = 0; w < dp->n_workers; w++) {
			if (dp->workers[w] == NULL)
				continue;
			rte_free(dp->workers[w]->macs);
			npgw_conntrack_free(dp->workers[w]->ct);
			dp_events_ring_free(dp->workers[w]->ev);
			rte_free(dp->workers[w]);
		}
	free(dp->wbaseline);
	dp_hitmap_free(dp->retired_hits);
	dp_events_history_free(dp->events);
	rte_free(dp->workers);
	rte_free(dp->rcu);
	rte_mempool_free(dp->mp);
	rte_free(dp);
}

/* A generation for rs, its rule-hit counters zeroed; NULL (rs freed)
 * when out of memory. */
static struct dp_gen *gen_new(struct npgw_dp *dp, struct npgw_ruleset *rs)
{
	struct dp_gen *g = calloc(1, sizeof(*g));
	const struct npgw_compile_result *cr = npgw_ruleset_compiled(rs);

	if (g == NULL)
		goto nomem;
	g->rs = rs;
	g->n_results = cr->n_metas + 1;
	/* a cache line of its own for each worker's counters */
	g->stride = RTE_ALIGN_CEIL((size_t)g->n_results, RTE_CACHE_LINE_SIZE / sizeof(uint64_t));
	g->hits = aligned_alloc(RTE_CACHE_LINE_SIZE,
				RTE_ALIGN_CEIL(g->stride * NPGW_MAX(dp->n_workers, 1u) *
						       sizeof(uint64_t),
					       RTE_CACHE_LINE_SIZE));
	if (g->hits == NULL)
		goto nomem;
	memset(g->hits, 0, g->stride * NPGW_MAX(dp->n_workers, 1u) * sizeof(uint64_t));
	return g;
nomem:
	if (g != NULL)
		g->rs = NULL;
	gen_free(g);
	npgw_ruleset_free(rs);
	return NULL;
}

/* Free a generation no worker can be in any more; its events name its
 * rules and its rule hits live on (by identity): take both first. */
static void gen_retire(struct npgw_dp *dp, struct dp_gen *old)
{
	dp_events_drain_gen(dp, old);
	if (dp_gen_fold_hits(dp, old, dp->retired_hits) < 0)
		DP_LOG(WARNING, "out of memory: rule hits of generation %" PRIu64
				" are lost from the totals",
		       npgw_ruleset_generation(old->rs));
	gen_free(old);
}

unsigned int npgw_dp_reclaim(struct npgw_dp *dp, bool wait)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < dp->n_retired; i++) {
		/* tokens grow with time: once one is not done, later ones
		 * are not either (unless waiting) */
		if ((k == 0 || wait) &&
		    rte_rcu_qsbr_check(dp->rcu, dp->retired[i].token, wait) == 1) {
			gen_retire(dp, dp->retired[i].g);
			continue;
		}
		dp->retired[k++] = dp->retired[i];
	}
	dp->n_retired = k;
	return k;
}

int npgw_dp_publish_nowait(struct npgw_dp *dp, struct npgw_ruleset *rs)
{
	struct dp_gen *g = gen_new(dp, rs), *old;

	if (g == NULL)
		return -ENOMEM;
	if (dp->n_retired == DP_MAX_RETIRED) {
		/* room for the one this store retires */
		rte_rcu_qsbr_check(dp->rcu, dp->retired[0].token, true);
		npgw_dp_reclaim(dp, false);
	}
	old = atomic_exchange_explicit(&dp->gen, g, memory_order_acq_rel);
	dp->swaps++;
	if (old != NULL) {
		dp->retired[dp->n_retired].g = old;
		dp->retired[dp->n_retired].token = rte_rcu_qsbr_start(dp->rcu);
		dp->n_retired++;
	}
	return 0;
}

int npgw_dp_publish(struct npgw_dp *dp, struct npgw_ruleset *rs)
{
	struct dp_gen *g = gen_new(dp, rs), *old;

	if (g == NULL)
		return -ENOMEM;
	old = atomic_exchange_explicit(&dp->gen, g, memory_order_acq_rel);
	dp->swaps++;
	if (old != NULL) {
		/* every worker finishes the burst that may still use old */
		rte_rcu_qsbr_synchronize(dp->rcu, RTE_QSBR_THRID_INVALID);
		gen_retire(dp, old);
	}
	return 0;
}

const struct npgw_ruleset *npgw_dp_current(const struct npgw_dp *dp)
{
	const struct dp_gen *g = atomic_load_explicit(&dp->gen, memory_order_acquire);

	return g ? g->rs : NULL;
}

static void stats_raw(const struct npgw_dp *dp, struct npgw_dp_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->n_ports = dp->n_ports;
	for (uint16_t p = 0; p < dp->n_ports; p++)
		snprintf(st->ports[p].name, sizeof(st->ports[p].name), "%s", dp->cfg->ports[p].name);
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		/* plain loads of counters another lcore writes: each is one
		 * aligned 64-bit word, read without tearing on x86-64 and ARMv8 */
		const struct worker_stats *ws = &dp->workers[w]->st;

		for (uint16_t p = 0; p < dp->n_ports; p++) {
			st->ports[p].rx += ws->port_rx[p];
			st->ports[p].tx += ws->port_tx[p];
			st->ports[p].drop += ws->port_drop[p];
		}
		for (unsigned int r = 0; r < NPGW_DROP_MAX; r++)
			st->drops[r] += ws->drops[r];
		st->allowed += ws->allowed;
		st->non_ip += ws->non_ip;
		st->steered += ws->steered;
		if (dp->workers[w]->ct != NULL) {
			struct npgw_conntrack_stats cs;

			npgw_conntrack_get_stats(dp->workers[w]->ct, &cs);
			st->ct.enabled = true;
			st->ct.capacity += cs.capacity;
			st->ct.in_use += cs.in_use;
			st->ct.inserts += cs.inserts;
			st->ct.refused += cs.refused;
			st->ct.expired += cs.expired;
			st->ct.revoked += cs.revoked;
			st->ct.hits += cs.hits;
			st->ct.misses += cs.misses;
			st->ct.denied_capacity += cs.denied_capacity;
			st->ct.denied_in_use += cs.denied_in_use;
			st->ct.denied_inserts += cs.denied_inserts;
			st->ct.denied_hits += cs.denied_hits;
			st->ct.denied_evicted += cs.denied_evicted;
			st->ct.denied_skipped += cs.denied_skipped;
			st->ct.tcp_window_drops += cs.tcp_window_drops;
			st->ct.tcp_window_passed += cs.tcp_window_passed;
			st->ct.sctp_invalid += cs.sctp_invalid;
			st->ct.bytes += cs.bytes;
		}
	}
}

void npgw_dp_get_stats(const struct npgw_dp *dp, struct npgw_dp_stats *st)
{
	const struct npgw_dp_stats *b = &dp->baseline;
	const struct npgw_ruleset *rs = npgw_dp_current(dp);

	stats_raw(dp, st);
	for (uint16_t p = 0; p < dp->n_ports; p++) {
		st->ports[p].rx -= b->ports[p].rx;
		st->ports[p].tx -= b->ports[p].tx;
		st->ports[p].drop -= b->ports[p].drop;
		st->rx += st->ports[p].rx;
		st->tx += st->ports[p].tx;
	}
	for (unsigned int r = 0; r < NPGW_DROP_MAX; r++) {
		st->drops[r] -= b->drops[r];
		st->drops_total += st->drops[r];
	}
	st->allowed -= b->allowed;
	st->non_ip -= b->non_ip;
	st->steered -= b->steered;
	st->ct.inserts -= b->ct.inserts;
	st->ct.refused -= b->ct.refused;
	st->ct.expired -= b->ct.expired;
	st->ct.revoked -= b->ct.revoked;
	st->ct.hits -= b->ct.hits;
	st->ct.misses -= b->ct.misses;
	st->ct.denied_inserts -= b->ct.denied_inserts;
	st->ct.denied_hits -= b->ct.denied_hits;
	st->ct.denied_evicted -= b->ct.denied_evicted;
	st->ct.denied_skipped -= b->ct.denied_skipped;
	st->ct.tcp_window_drops -= b->ct.tcp_window_drops;
	st->ct.tcp_window_passed -= b->ct.tcp_window_passed;
	st->ct.sctp_invalid -= b->ct.sctp_invalid;
	st->generation = rs ? npgw_ruleset_generation(rs) : 0;
	st->swaps = dp->swaps;
}

/* Totals of a raw stats_raw result. */
static void stats_totals(struct npgw_dp_stats *st)
{
	for (uint16_t p = 0; p < st->n_ports; p++) {
		st->rx += st->ports[p].rx;
		st->tx += st->ports[p].tx;
	}
	for (unsigned int r = 0; r < NPGW_DROP_MAX; r++)
		st->drops_total += st->drops[r];
}

void npgw_dp_get_counters(const struct npgw_dp *dp, struct npgw_dp_stats *st)
{
	const struct npgw_ruleset *rs = npgw_dp_current(dp);

	stats_raw(dp, st);
	stats_totals(st);
	st->generation = rs ? npgw_ruleset_generation(rs) : 0;
	st->swaps = dp->swaps;
}

static void worker_raw(const struct dp_worker *wk, struct npgw_dp_worker_stats *ws)
{
	const struct worker_stats *s = &wk->st;

	memset(ws, 0, sizeof(*ws));
	ws->lcore = wk->lcore;
	for (uint16_t p = 0; p < wk->dp->n_ports; p++) {
		ws->rx += s->port_rx[p];
		ws->tx += s->port_tx[p];
	}
	for (unsigned int r = 0; r < NPGW_DROP_MAX; r++)
		ws->dropped += s->drops[r];
	ws->allowed = s->allowed;
	ws->non_ip = s->non_ip;
	ws->polls = s->polls;
	ws->busy_polls = s->busy_polls;
	if (wk->ct != NULL) {
		struct npgw_conntrack_stats cs;

		npgw_conntrack_get_stats(wk->ct, &cs);
		ws->flows = cs.in_use;
		ws->flows_capacity = cs.capacity;
	}
	if (wk->ev != NULL) {
		ws->events = atomic_load_explicit(&wk->ev->head, memory_order_relaxed);
		ws->events_lost_rate = wk->ev->lost_rate;
		ws->events_lost_full = wk->ev->lost_full;
	}
}

int npgw_dp_get_worker_stats(const struct npgw_dp *dp, unsigned int w, bool raw,
			     struct npgw_dp_worker_stats *ws)
{
	const struct npgw_dp_worker_stats *b;

	if (w >= dp->n_workers)
		return -EINVAL;
	worker_raw(dp->workers[w], ws);
	if (raw)
		return 0;
	b = &dp->wbaseline[w];
	ws->rx -= b->rx;
	ws->tx -= b->tx;
	ws->allowed -= b->allowed;
	ws->dropped -= b->dropped;
	ws->non_ip -= b->non_ip;
	ws->polls -= b->polls;
	ws->busy_polls -= b->busy_polls;
	ws->events -= b->events;
	ws->events_lost_rate -= b->events_lost_rate;
	ws->events_lost_full -= b->events_lost_full;
	return 0;
}

void npgw_dp_reset_stats(struct npgw_dp *dp)
{
	stats_raw(dp, &dp->baseline);
	for (unsigned int w = 0; w < dp->n_workers; w++)
		worker_raw(dp->workers[w], &dp->wbaseline[w]);
}

int npgw_dp_port_info(const struct npgw_dp *dp, unsigned int i, struct npgw_dp_port_info *pi)
{
	struct rte_eth_link link;
	struct rte_eth_stats es;
	int rc;

	memset(pi, 0, sizeof(*pi));
	if (i >= dp->n_ports || !dp->port_started[i])
		return -EINVAL;
	rc = rte_eth_link_get_nowait(dp->port_id[i], &link);
	if (rc < 0)
		return rc;
	pi->link_up = link.link_status == RTE_ETH_LINK_UP;
	pi->full_duplex = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
	pi->autoneg = link.link_autoneg == RTE_ETH_LINK_AUTONEG;
	pi->speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
	rc = rte_eth_stats_get(dp->port_id[i], &es);
	if (rc < 0)
		return rc;
	pi->ipackets = es.ipackets;
	pi->opackets = es.opackets;
	pi->ibytes = es.ibytes;
	pi->obytes = es.obytes;
	pi->imissed = es.imissed;
	pi->ierrors = es.ierrors;
	pi->oerrors = es.oerrors;
	pi->rx_nombuf = es.rx_nombuf;
	return 0;
}

unsigned int npgw_dp_n_workers(const struct npgw_dp *dp)
{
	return dp->n_workers;
}

struct hit_copy {
	struct dp_hitmap *m;
	int *rc;
};

static void hitmap_copy_one(const struct npgw_compile_meta *meta, uint64_t hits, void *arg)
{
	struct hit_copy *c = arg;

	if (*c->rc == 0)
		*c->rc = dp_hitmap_add(c->m, meta, hits);
}

int npgw_dp_rule_hits_total(const struct npgw_dp *dp,
			    void (*fn)(const struct npgw_compile_meta *m, uint64_t hits, void *arg),
			    void *arg)
{
	const struct dp_gen *g = atomic_load_explicit(&dp->gen, memory_order_acquire);
	struct dp_hitmap *m = dp_hitmap_new();
	int rc = 0;

	if (m == NULL)
		return -ENOMEM;
	/* the generations gone, those replaced but not yet freed, then the
	 * live one, summed by identity */
	dp_hitmap_each(dp->retired_hits, hitmap_copy_one, &(struct hit_copy){m, &rc});
	for (unsigned int i = 0; rc == 0 && i < dp->n_retired; i++)
		rc = dp_gen_fold_hits(dp, dp->retired[i].g, m);
	if (rc == 0 && g != NULL)
		rc = dp_gen_fold_hits(dp, g, m);
	if (rc == 0)
		dp_hitmap_each(m, fn, arg);
	dp_hitmap_free(m);
	return rc;
}

void npgw_dp_rule_hits(const struct npgw_dp *dp,
		       void (*fn)(const struct npgw_compile_meta *m, uint64_t hits, void *arg),
		       void *arg)
{
	const struct dp_gen *g = atomic_load_explicit(&dp->gen, memory_order_acquire);

	if (g == NULL)
		return;
	for (uint32_t r = 1; r < g->n_results; r++) {
		uint64_t sum = 0;

		for (unsigned int w = 0; w < NPGW_MAX(dp->n_workers, 1u); w++)
			sum += g->hits[w * g->stride + r];
		if (sum > 0)
			fn(npgw_ruleset_meta(g->rs, r), sum, arg);
	}
}

static void print_hit(const struct npgw_compile_meta *m, uint64_t hits, void *arg)
{
	FILE *out = arg;

	char who[320], rule[16] = "default";

	snprintf(who, sizeof(who), "%s/%s", m->policy_ns, m->policy_name);
	if (m->rule >= 0)
		snprintf(rule, sizeof(rule), "rule %d", m->rule);
	fprintf(out, "  %-40s %-7s %-9s %-6s %14" PRIu64 "\n", who,
		m->dir == NPGW_COMPILE_EGRESS ? "egress" : "ingress", rule,
		m->action == NPGW_COMPILE_ALLOW ? "allow" : "deny", hits);
}

void npgw_dp_print_stats(const struct npgw_dp *dp, FILE *out)
{
	struct npgw_dp_stats st;

	npgw_dp_get_stats(dp, &st);
	fprintf(out, "generation %" PRIu64 " (%" PRIu64 " published)\n", st.generation, st.swaps);
	fprintf(out, "%-16s %14s %14s %14s\n", "port", "rx", "tx", "drop");
	for (unsigned int p = 0; p < st.n_ports; p++)
		fprintf(out, "%-16s %14" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n", st.ports[p].name,
			st.ports[p].rx, st.ports[p].tx, st.ports[p].drop);
	fprintf(out, "allowed %" PRIu64 ", non-IP forwarded %" PRIu64 ", dropped %" PRIu64 "\n",
		st.allowed, st.non_ip, st.drops_total);
	if (st.steered > 0)
		fprintf(out, "steered to the worker of their flow %" PRIu64 "\n", st.steered);
	if (st.ct.enabled)
		fprintf(out,
			"flows: %" PRIu64 " of %" PRIu64 " in use, %" PRIu64 " created, %" PRIu64
			" refused (table full), %" PRIu64 " expired, %" PRIu64 " revoked\n",
			st.ct.in_use, st.ct.capacity, st.ct.inserts, st.ct.refused, st.ct.expired,
			st.ct.revoked);
	if (st.ct.enabled && st.ct.denied_capacity > 0)
		fprintf(out,
			"denied flows: %" PRIu64 " of %" PRIu64 " remembered, %" PRIu64
			" created, %" PRIu64 " hits, %" PRIu64 " evicted, %" PRIu64
			" skipped\n",
			st.ct.denied_in_use, st.ct.denied_capacity, st.ct.denied_inserts,
			st.ct.denied_hits, st.ct.denied_evicted, st.ct.denied_skipped);
	for (unsigned int r = 0; r < NPGW_DROP_MAX; r++) {
		const char *name = npgw_drop_name(r);

		if (st.drops[r] > 0 && name != NULL)
			fprintf(out, "  drop %-22s %14" PRIu64 "\n", name, st.drops[r]);
	}
	fprintf(out, "rule hits (live generation):\n");
	npgw_dp_rule_hits(dp, print_hit, out);
}

unsigned int npgw_dp_poll_once(struct npgw_dp *dp, unsigned int w)
{
	if (w >= dp->n_workers || dp->running)
		return 0;
	return dp_worker_poll(dp->workers[w], true);
}

int npgw_dp_flows_flush(struct npgw_dp *dp)
{
	if (dp->n_workers == 0 || dp->workers[0]->ct == NULL)
		return -ENOTSUP;
	for (unsigned int w = 0; w < dp->n_workers; w++)
		npgw_conntrack_flush_request(dp->workers[w]->ct);
	return 0;
}

long npgw_dp_flows(struct npgw_dp *dp, const struct npgw_conntrack_filter *f, int timeout_ms,
		   void (*fn)(unsigned int worker, const struct npgw_conntrack_flow *flow,
			      void *arg),
		   void *arg, bool *truncated)
{
	bool done[NPGW_CONFIG_MAX_WORKERS] = {false};
	unsigned int left = dp->n_workers;
	long total = 0;

	*truncated = false;
	if (dp->n_workers == 0 || dp->workers[0]->ct == NULL)
		return -ENOTSUP;
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		int rc = npgw_conntrack_snapshot_request(dp->workers[w]->ct, f);

		if (rc < 0)
			return rc;
	}
	for (int waited = 0; left > 0; waited++) {
		for (unsigned int w = 0; w < dp->n_workers; w++) {
			const struct npgw_conntrack_flow *flows;
			size_t n;
			bool trunc;

			if (done[w] ||
			    npgw_conntrack_snapshot_poll(dp->workers[w]->ct, &flows, &n, &trunc) != 0)
				continue;
			for (size_t i = 0; i < n; i++)
				fn(w, &flows[i], arg);
			total += (long)n;
			*truncated |= trunc;
			done[w] = true;
			left--;
		}
		if (left > 0) {
			if (waited >= timeout_ms)
				return -ETIMEDOUT;
			rte_delay_us_sleep(1000);
		}
	}
	return total;
}

const uint8_t *npgw_dp_rss_key(size_t *len)
{
	*len = sizeof(symmetric_rss_key);
	return symmetric_rss_key;
}

uint64_t npgw_dp_hz(void)
{
	return rte_get_tsc_hz();
}

void npgw_dp_drain(struct npgw_dp *dp)
{
	if (dp == NULL || dp->running)
		return;
	dp_steer_drain(dp);
	for (unsigned int w = 0; w < dp->n_workers; w++) {
		struct dp_worker *wk = dp->workers[w];
		unsigned int n;

		if (wk->ct == NULL)
			continue;
		n = npgw_conntrack_flush_now(wk->ct, wk->fout);
		for (unsigned int j = 0; j < n; j++)
			rte_pktmbuf_free(wk->fout[j].m);
	}
}

struct rte_mempool *npgw_dp_mempool(const struct npgw_dp *dp)
{
	return dp->mp;
}

uint16_t npgw_dp_port_id(const struct npgw_dp *dp, unsigned int i)
{
	return dp->port_id[i];
}
