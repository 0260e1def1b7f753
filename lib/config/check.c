/*
 * check.c: the second pass over a config (see config_private.h): resolve
 * the port names that bridges and workers use, give the default worker
 * when the file lists none, and check what spans sections, each error at
 * the offending value:
 *  - ports: names and devices unique;
 *  - bridges: names unique, ports known, a port in at most one bridge (a
 *    port in none is a warning: what it receives is dropped, no-route);
 *  - workers: lcores unique and not main_lcore; queue ports known; no
 *    (port, queue) polled twice, counting the default "queue <worker
 *    index> of every port" of a worker without queues; no queue beyond a
 *    port's rx_queues; tx_queues, when set, one per worker at least;
 *  - warnings for ports or rx queues no worker polls, and for rings that
 *    hold more mbufs than the pool.
 * Values the first pass refused (NULL names, UINT_MAX lcores, UINT16_MAX
 * queues) are skipped here, so one mistake makes one message.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config_private.h"

/* The node of field key of item i of seq, or NULL. */
static const struct npgw_doc_node *item_field(const struct npgw_doc_node *seq, size_t i,
					      const char *key)
{
	if (seq == NULL || i >= seq->n)
		return NULL;
	return npgw_doc_get(&seq->kids[i], key);
}

static int port_index(const struct npgw_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_ports; i++)
		if (c->ports[i].name != NULL && strcmp(c->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Port i has a name that was not refused: worth a warning of its own. */
static bool port_named(const struct npgw_config *c, size_t i)
{
	const char *name = c->ports[i].name;

	return name != NULL && cfg_check_name(name) == NULL && port_index(c, name) == (int)i;
}

/* The ethdev name a device string gives (before the first ','), with a
 * PCI address in its full form, so 01:00.0 and 0000:01:00.0 compare
 * equal. */
static void device_key(const char *dev, char *out, size_t len)
{
	size_t n = strcspn(dev, ",");
	bool short_pci = n == 7 && dev[2] == ':' && dev[5] == '.';

	snprintf(out, len, "%s%.*s", short_pci ? "0000:" : "", (int)n, dev);
	if (strncmp(dev, "net_", 4) != 0)
		for (char *p = out; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p | 0x20);
}

static void check_ports(struct cfg_ctx *x)
{
	const struct npgw_config *c = x->c;
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX], ki[80], kj[80];

	for (size_t i = 0; i < c->n_ports; i++) {
		const struct npgw_config_port *a = &c->ports[i];

		npgw_doc_path_index(q, "ports", i);
		for (size_t j = 0; j < i && a->name != NULL; j++) {
			if (c->ports[j].name == NULL || strcmp(c->ports[j].name, a->name) != 0)
				continue;
			npgw_doc_err(&x->rd, item_field(x->ports, i, "name"),
				     npgw_doc_path(p, q, "name"),
				     "duplicate port name \"%s\" (first at line %u)", a->name,
				     item_field(x->ports, j, "name")->line);
			break;
		}
		if (a->device == NULL)
			continue;
		device_key(a->device, ki, sizeof(ki));
		for (size_t j = 0; j < i; j++) {
			if (c->ports[j].device == NULL)
				continue;
			device_key(c->ports[j].device, kj, sizeof(kj));
			if (strcmp(ki, kj) != 0)
				continue;
			npgw_doc_err(
				&x->rd, item_field(x->ports, i, "device"),
				npgw_doc_path(p, q, "device"),
				"device %s is also the device of ports[%zu] (line %u): one device "
				"backs one port",
				ki, j, item_field(x->ports, j, "device")->line);
			break;
		}
	}
}

static void check_bridges(struct cfg_ctx *x)
{
	struct npgw_config *c = x->c;
	int in_bridge[NPGW_CONFIG_MAX_PORTS];
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX], r[NPGW_DOC_PATH_MAX];

	for (size_t i = 0; i < NPGW_CONFIG_MAX_PORTS; i++)
		in_bridge[i] = -1;
	for (size_t b = 0; b < c->n_bridges; b++) {
		struct npgw_config_bridge *br = &c->bridges[b];
		const struct npgw_doc_node *ports = item_field(x->bridges, b, "ports");

		npgw_doc_path_index(q, "bridges", b);
		for (size_t j = 0; j < b && br->name != NULL; j++) {
			if (c->bridges[j].name == NULL || strcmp(c->bridges[j].name, br->name) != 0)
				continue;
			npgw_doc_err(&x->rd, item_field(x->bridges, b, "name"),
				     npgw_doc_path(p, q, "name"),
				     "duplicate bridge name \"%s\" (first at line %u)", br->name,
				     item_field(x->bridges, j, "name")->line);
			break;
		}
		for (size_t k = 0; k < br->n_ports; k++) {
			const struct npgw_doc_node *pn = &ports->kids[k];
			int idx;

			if (pn->type != NPGW_DOC_STR)
				continue; /* reported */
			npgw_doc_path_index(p, npgw_doc_path(r, q, "ports"), k);
			idx = port_index(c, pn->text);
			if (idx < 0) {
				npgw_doc_err(&x->rd, pn, p,
					     "unknown port \"%.64s\": no port has that name",
					     pn->text);
			} else if (in_bridge[idx] == (int)b) {
				npgw_doc_err(&x->rd, pn, p,
					     "port \"%s\" is listed twice in this bridge",
					     pn->text);
			} else if (in_bridge[idx] >= 0) {
				const char *other = c->bridges[in_bridge[idx]].name;

				npgw_doc_err(
					&x->rd, pn, p,
					"port \"%s\" is already in bridge \"%s\" (line %u): a port "
					"is in at most one bridge",
					pn->text, other ? other : "?",
					x->bridges->kids[in_bridge[idx]].line);
			} else {
				in_bridge[idx] = (int)b;
				br->ports[k] = (uint16_t)idx;
			}
		}
	}
	for (size_t i = 0; i < c->n_ports; i++) {
		if (in_bridge[i] >= 0 || !port_named(c, i))
			continue;
		npgw_doc_path(p, npgw_doc_path_index(q, "ports", i), "name");
		npgw_doc_warn(&x->rd, item_field(x->ports, i, "name"), p,
			      "port \"%s\" is in no bridge: frames it receives will be dropped "
			      "(no-route)",
			      c->ports[i].name);
	}
}

/* One (port, queue) a worker polls, with where it comes from. */
struct polled {
	uint16_t port, queue;
	size_t worker;
	size_t k; /* index in the worker's queues */
	const struct npgw_doc_node *at; /* the queue item, or the worker (default) */
	bool by_default;
};

/* Report msg where an entry comes from: workers[i].queues[k], or
 * workers[i] for a worker that polls its default queues. */
static void polled_err(struct cfg_ctx *x, const struct polled *e, const char *msg)
{
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX], r[NPGW_DOC_PATH_MAX];

	npgw_doc_path_index(p, "workers", e->worker);
	if (!e->by_default)
		npgw_doc_err(&x->rd, e->at,
			     npgw_doc_path_index(r, npgw_doc_path(q, p, "queues"), e->k), "%s",
			     msg);
	else
		npgw_doc_err(
			&x->rd, e->at, p,
			"%s (this worker lists no queues, so it polls queue %zu of every port: "
			"list them)",
			msg, e->worker);
}

static void check_queues(struct cfg_ctx *x, const struct polled *v, size_t n)
{
	const struct npgw_config *c = x->c;
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX], msg[256];
	uint16_t max_q[NPGW_CONFIG_MAX_PORTS] = {0}; /* highest polled queue + 1 */

	for (size_t i = 0; i < n; i++) {
		const struct polled *e = &v[i];
		const struct npgw_config_port *port = &c->ports[e->port];

		for (size_t j = 0; j < i; j++) {
			if (v[j].port != e->port || v[j].queue != e->queue)
				continue;
			if (v[j].worker == e->worker)
				snprintf(msg, sizeof(msg),
					 "queue %u of port \"%s\" is listed twice", e->queue,
					 port->name);
			else
				snprintf(msg, sizeof(msg),
					 "queue %u of port \"%s\" is also polled by workers[%zu] "
					 "(lcore %u)",
					 e->queue, port->name, v[j].worker,
					 c->workers[v[j].worker].lcore);
			polled_err(x, e, msg);
			break;
		}
		if (port->rx_queues != 0 && e->queue >= port->rx_queues) {
			snprintf(msg, sizeof(msg),
				 "queue %u of port \"%s\" is beyond the port's rx_queues: %u",
				 e->queue, port->name, port->rx_queues);
			polled_err(x, e, msg);
		}
		max_q[e->port] = NPGW_MAX(max_q[e->port], (uint16_t)(e->queue + 1));
	}
	for (size_t i = 0; i < c->n_ports; i++) {
		const struct npgw_config_port *port = &c->ports[i];

		if (!port_named(c, i))
			continue;
		npgw_doc_path_index(q, "ports", i);
		if (max_q[i] == 0)
			npgw_doc_warn(&x->rd, item_field(x->ports, i, "name"),
				      npgw_doc_path(p, q, "name"),
				      "port \"%s\" is polled by no worker: frames it receives are "
				      "never read",
				      port->name);
		else if (port->rx_queues > max_q[i])
			npgw_doc_warn(
				&x->rd, item_field(x->ports, i, "rx_queues"),
				npgw_doc_path(p, q, "rx_queues"),
				"%u rx queues but workers poll only queues 0..%u: RSS spreads "
				"frames over every queue, and those on the others are never read",
				port->rx_queues, max_q[i] - 1);
		if (port->tx_queues != 0 && port->tx_queues < c->n_workers)
			npgw_doc_err(&x->rd, item_field(x->ports, i, "tx_queues"),
				     npgw_doc_path(p, q, "tx_queues"),
				     "%u is fewer than the %zu workers: each worker sends on a tx "
				     "queue of its own (leave tx_queues out for one per worker)",
				     port->tx_queues, c->n_workers);
	}
}

static void check_workers(struct cfg_ctx *x)
{
	struct npgw_config *c = x->c;
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX], r[NPGW_DOC_PATH_MAX];
	struct polled *v;
	size_t n = 0;

	if (npgw_doc_get(x->root, "workers") == NULL) {
		/* the default: one worker on lcore 1, queue 0 of every port */
		c->workers = calloc(1, sizeof(*c->workers));
		if (c->workers == NULL) {
			x->rd.nomem = true;
			return;
		}
		c->workers[0].lcore = CFG_DEFAULT_WORKER_LCORE;
		c->n_workers = 1;
		if (c->main_lcore == CFG_DEFAULT_WORKER_LCORE)
			npgw_doc_err(
				&x->rd, x->main_lcore, "main_lcore",
				"main_lcore %u is the lcore of the default worker: choose another "
				"or list workers",
				c->main_lcore);
	}
	for (size_t i = 0; i < c->n_workers && x->workers != NULL; i++) {
		const struct npgw_config_worker *w = &c->workers[i];
		const struct npgw_doc_node *ln = item_field(x->workers, i, "lcore");

		npgw_doc_path(p, npgw_doc_path_index(q, "workers", i), "lcore");
		if (w->lcore == UINT_MAX)
			continue;
		if (c->main_lcore != UINT_MAX && w->lcore == c->main_lcore) {
			npgw_doc_err(
				&x->rd, ln, p,
				"lcore %u is main_lcore: the main lcore runs the control thread, "
				"a worker needs an lcore of its own",
				w->lcore);
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			if (c->workers[j].lcore != w->lcore)
				continue;
			npgw_doc_err(&x->rd, ln, p,
				     "lcore %u is already the lcore of workers[%zu] "
				     "(line %u)",
				     w->lcore, j, item_field(x->workers, j, "lcore")->line);
			break;
		}
	}

	/* every (port, queue) polled, in worker order */
	v = calloc(c->n_workers * NPGW_MAX(c->n_ports, (size_t)NPGW_CONFIG_MAX_QUEUES) + 1,
		   sizeof(*v));
	if (v == NULL) {
		x->rd.nomem = true;
		return;
	}
	for (size_t i = 0; i < c->n_workers; i++) {
		struct npgw_config_worker *w = &c->workers[i];
		const struct npgw_doc_node *qs = item_field(x->workers, i, "queues");

		if (w->n_queues == 0) {
			/* the worker's map, or NULL for the default worker */
			const struct npgw_doc_node *at = x->workers ? &x->workers->kids[i] : NULL;

			for (size_t k = 0; k < c->n_ports; k++)
				v[n++] = (struct polled){(uint16_t)k, (uint16_t)i, i, k, at, true};
			continue;
		}
		for (size_t k = 0; k < w->n_queues; k++) {
			struct npgw_config_queue *cq = &w->queues[k];
			const struct npgw_doc_node *pn = item_field(qs, k, "port");
			int idx;

			if (pn == NULL || pn->type != NPGW_DOC_STR)
				continue; /* reported */
			idx = port_index(c, pn->text);
			if (idx < 0) {
				npgw_doc_path_index(
					r,
					npgw_doc_path(q, npgw_doc_path_index(p, "workers", i),
						      "queues"),
					k);
				npgw_doc_err(&x->rd, pn, npgw_doc_path(p, r, "port"),
					     "unknown port \"%.64s\": no port has that name",
					     pn->text);
				continue;
			}
			cq->port = (uint16_t)idx;
			if (cq->queue != UINT16_MAX)
				v[n++] = (struct polled){cq->port, cq->queue,	 i,
							 k,	   &qs->kids[k], false};
		}
	}
	check_queues(x, v, n);
	free(v);
}

/* Rings that can hold more mbufs than the pool make ports fail to start
 * (drivers fill their rx rings at start) or stall when the rings fill. */
static void check_mbufs(struct cfg_ctx *x)
{
	const struct npgw_config *c = x->c;
	const struct npgw_doc_node *mp = npgw_doc_get(x->root, "mempool"), *at;
	uint16_t nb_rxq[NPGW_CONFIG_MAX_PORTS] = {0};
	uint64_t need = 0;

	for (size_t i = 0; i < c->n_workers; i++) {
		const struct npgw_config_worker *w = &c->workers[i];

		if (w->n_queues == 0)
			for (size_t p = 0; p < c->n_ports; p++)
				nb_rxq[p] = NPGW_MAX(nb_rxq[p], (uint16_t)(i + 1));
		for (size_t k = 0; k < w->n_queues; k++)
			if (w->queues[k].port < c->n_ports && w->queues[k].queue != UINT16_MAX)
				nb_rxq[w->queues[k].port] =
					NPGW_MAX(nb_rxq[w->queues[k].port],
						 (uint16_t)(w->queues[k].queue + 1));
	}
	for (size_t p = 0; p < c->n_ports; p++) {
		const struct npgw_config_port *port = &c->ports[p];
		uint64_t rxq = NPGW_MAX(NPGW_MAX(nb_rxq[p], port->rx_queues), 1);
		uint64_t txq = NPGW_MAX(NPGW_MAX(c->n_workers, port->tx_queues), 1);

		need += rxq * port->rx_descriptors + txq * port->tx_descriptors;
	}
	if (need <= c->mbufs)
		return;
	at = npgw_doc_get(mp, "mbufs");
	npgw_doc_warn(&x->rd,
		      at   ? at
		      : mp ? mp
			   : x->root,
		      at ? "mempool.mbufs" : "mempool",
		      "the ports' rx and tx rings hold up to %llu mbufs, more than the pool's %u: "
		      "ports may fail to start, or stall when the rings fill (raise mempool.mbufs "
		      "or lower the descriptors)",
		      (unsigned long long)need, c->mbufs);
}

void cfg_check(struct cfg_ctx *x)
{
	/* cross checks on a broken section would only repeat its errors */
	size_t before = x->rd.errors;

	check_ports(x);
	check_bridges(x);
	check_workers(x);
	if (x->rd.errors == before && x->rd.errors == 0)
		check_mbufs(x);
}
