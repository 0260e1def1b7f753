/*
 * config.c: npgw_config_load, _load_buffer and _free: read the gateway's
 * config file (config/npgw.yaml) through lib/doc, check every field it
 * holds, and fill the defaults of what it leaves out. This file is the
 * first pass (see config_private.h): each section on its own; check.c does
 * what spans sections.
 *
 * Every message reads FILE:LINE:COL: field.path: message, as the policy
 * loader's do; every error of the file is reported, not only the first.
 * Unknown keys are errors at every level: a misspelt "rx_descriptor" would
 * otherwise silently leave the default in place.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config_private.h"

/* ---- small typed readers ---- */

/* An integer in min..max. */
static bool get_int_range(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path,
			  int64_t min, int64_t max, int64_t *out)
{
	if (!npgw_doc_get_int(&x->rd, n, path, out))
		return false;
	if (*out < min || *out > max) {
		npgw_doc_err(&x->rd, n, path, "%lld is outside %lld..%lld", (long long)*out,
			     (long long)min, (long long)max);
		return false;
	}
	return true;
}

static bool get_u16(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path, int64_t min,
		    int64_t max, uint16_t *out)
{
	int64_t v;

	if (!get_int_range(x, n, path, min, max, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool get_u32(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path, int64_t min,
		    int64_t max, uint32_t *out)
{
	int64_t v;

	if (!get_int_range(x, n, path, min, max, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A string of 1..max bytes, replacing *out (freed first). */
static bool get_string(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path,
		       size_t max, char **out)
{
	char *s;

	if (!npgw_doc_get_str(&x->rd, n, path, &s))
		return false;
	if (s[0] == '\0' || strlen(s) > max) {
		if (s[0] == '\0')
			npgw_doc_err(&x->rd, n, path, "must not be empty");
		else
			npgw_doc_err(&x->rd, n, path, "%zu bytes is longer than the limit of %zu",
				     strlen(s), max);
		free(s);
		return false;
	}
	free(*out);
	*out = s;
	return true;
}

/* One of names (NULL-terminated); its index in *out. A plain scalar that
 * YAML reads as something else (non_ip: yes) is named by its text: telling
 * the writer to quote it would not help. */
static bool get_enum(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path,
		     const char *const *names, const char *what, const char *choices, int *out)
{
	bool plain_scalar =
		(n->flags & NPGW_DOC_F_PLAIN) && n->type != NPGW_DOC_SEQ && n->type != NPGW_DOC_MAP;

	if (!plain_scalar && !npgw_doc_want(&x->rd, n, NPGW_DOC_STR, path))
		return false;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(n->text, names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	npgw_doc_err(&x->rd, n, path, "unknown %s \"%.64s\" (%s)", what, n->text, choices);
	return false;
}

/* A relative path resolves against the config file's directory, so the
 * file means the same whatever the daemon's working directory. */
static bool get_path(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path, size_t max,
		     char **out)
{
	bool resolve = n->type == NPGW_DOC_STR && n->text[0] != '/' && x->dir[0] != '\0';
	char *s = NULL;

	if (!get_string(x, n, path, CFG_MAX_PATH, &s))
		return false;
	if (resolve) {
		size_t dl = strlen(x->dir);
		char *full;

		if (asprintf(&full, "%s%s%s", x->dir, x->dir[dl - 1] == '/' ? "" : "/", s) < 0) {
			free(s);
			x->rd.nomem = true;
			return false;
		}
		free(s);
		s = full;
	}
	if (strlen(s) > max) {
		npgw_doc_err(&x->rd, n, path,
			     "a path of %zu bytes%s is longer than the limit of %zu", strlen(s),
			     resolve ? " (resolved against the config's directory)" : "", max);
		free(s);
		return false;
	}
	free(*out);
	*out = s;
	return true;
}

static void unknown(struct cfg_ctx *x, const struct npgw_doc_node *f, const char *path,
		    const char *has)
{
	npgw_doc_err_key(&x->rd, f, path, "unknown field \"%.64s\" (%s)", f->key, has);
}

static void missing(struct cfg_ctx *x, const struct npgw_doc_node *map, const char *base,
		    const char *field)
{
	char p[NPGW_DOC_PATH_MAX];

	npgw_doc_err(&x->rd, map, npgw_doc_path(p, base, field), "missing required field");
}

/* calloc that records a failure; never NULL for n == 0 unless out of memory. */
static void *alloc(struct cfg_ctx *x, size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (p == NULL)
		x->rd.nomem = true;
	return p;
}

const char *cfg_check_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "must not be empty";
	if (n > CFG_MAX_NAME)
		return "longer than 31 characters";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_' || s[i] == '.'))
			return "use only a-z, 0-9, '-', '_' and '.'";
	return NULL;
}

static bool get_name(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path,
		     const char *what, char **out)
{
	const char *why;

	if (!npgw_doc_get_str(&x->rd, n, path, out))
		return false;
	if ((why = cfg_check_name(*out)) != NULL) {
		npgw_doc_err(&x->rd, n, path, "invalid %s name \"%.64s\": %s", what, *out, why);
		return false; /* *out kept: later references to it are not "unknown" */
	}
	return true;
}

/* ---- devices ---- */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* n hex digits at s. */
static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

static unsigned int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned int)(c - '0');
	return (unsigned int)((c | 0x20) - 'a' + 10);
}

/* DDDD:BB:DD.F or BB:DD.F, exactly len bytes. */
static bool is_pci(const char *s, size_t len)
{
	if (len == 12) {
		if (!hex_run(s, 4) || s[4] != ':')
			return false;
		s += 5;
		len -= 5;
	}
	if (len != 7 || !hex_run(s, 2) || s[2] != ':' || !hex_run(s + 3, 2) || s[5] != '.' ||
	    s[6] < '0' || s[6] > '7')
		return false;
	/* a PCI device number has 5 bits */
	return hex_val(s[3]) * 16 + hex_val(s[4]) <= 0x1f;
}

/* NULL when s names a device npgw can probe, else why not. */
static const char *check_device(const char *s)
{
	static __thread char why[256];
	size_t n = strcspn(s, ",");

	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			return "white space in a device string";
	if (n > CFG_MAX_DEVICE_NAME)
		return "the device name (before the first ',') is longer than 63 characters";
	if (s[n] == ',' && s[n + 1] == '\0')
		return "nothing after ','";
	if (strncmp(s, "net_", 4) == 0) {
		if (n == 4)
			return "a virtual device needs a driver name after net_";
		for (size_t i = 4; i < n; i++)
			if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
				return "a virtual device name has only letters, digits and '_'";
		return cfg_check_device_args(s, why, sizeof(why));
	}
	if (is_pci(s, n))
		return cfg_check_device_args(s, why, sizeof(why));
	return "expected a virtual device (net_ring0, net_af_packet0,iface=eth0, net_pcap0,...) "
	       "or a PCI address (0000:01:00.0 or 01:00.0)";
}

/* ---- sections ---- */

static void read_policies(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	if (n->n > CFG_MAX_POLICY_PATHS) {
		npgw_doc_err(&x->rd, n, path, "more than %d paths", CFG_MAX_POLICY_PATHS);
		return;
	}
	x->c->policy_paths = alloc(x, n->n, sizeof(char *));
	if (x->c->policy_paths == NULL)
		return;
	x->c->n_policy_paths = n->n;
	for (size_t i = 0; i < n->n; i++)
		get_path(x, &n->kids[i], npgw_doc_path_index(p, path, i), CFG_MAX_PATH,
			 &x->c->policy_paths[i]);
}

static void read_control(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];

		npgw_doc_path_key(p, path, f->key);
		if (strcmp(f->key, "socket") == 0) {
			if (f->type != NPGW_DOC_NULL)
				get_path(x, f, p, CFG_MAX_SOCKET, &x->c->control_socket);
		} else {
			unknown(x, f, p, "control has socket");
		}
	}
}

static void read_port(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path,
		      struct npgw_config_port *port)
{
	bool have_name = false, have_device = false;
	char p[NPGW_DOC_PATH_MAX];
	const char *why;

	port->rx_descriptors = CFG_DEFAULT_RX_DESC;
	port->tx_descriptors = CFG_DEFAULT_TX_DESC;
	port->promiscuous = true;
	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];

		npgw_doc_path_key(p, path, f->key);
		if (f->type == NPGW_DOC_NULL)
			continue; /* null: the default, or missing when required */
		if (strcmp(f->key, "name") == 0) {
			have_name = true;
			get_name(x, f, p, "port", &port->name);
		} else if (strcmp(f->key, "device") == 0) {
			have_device = true;
			if (get_string(x, f, p, CFG_MAX_DEVICE, &port->device) &&
			    (why = check_device(port->device)) != NULL)
				npgw_doc_err(&x->rd, f, p, "invalid device \"%.64s\": %s",
					     port->device, why);
		} else if (strcmp(f->key, "rx_queues") == 0) {
			get_u16(x, f, p, 0, CFG_MAX_PORT_QUEUES, &port->rx_queues);
		} else if (strcmp(f->key, "tx_queues") == 0) {
			get_u16(x, f, p, 0, CFG_MAX_PORT_QUEUES, &port->tx_queues);
		} else if (strcmp(f->key, "rx_descriptors") == 0) {
			get_u16(x, f, p, CFG_MIN_DESC, CFG_MAX_DESC, &port->rx_descriptors);
		} else if (strcmp(f->key, "tx_descriptors") == 0) {
			get_u16(x, f, p, CFG_MIN_DESC, CFG_MAX_DESC, &port->tx_descriptors);
		} else if (strcmp(f->key, "promiscuous") == 0) {
			npgw_doc_get_bool(&x->rd, f, p, &port->promiscuous);
		} else {
			unknown(x, f, p,
				"a port has name, device, rx_queues, tx_queues, rx_descriptors, "
				"tx_descriptors and promiscuous");
		}
	}
	if (!have_name)
		missing(x, n, path, "name");
	if (!have_device)
		missing(x, n, path, "device");
}

static void read_ports(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	if (n->n == 0 || n->n > NPGW_CONFIG_MAX_PORTS) {
		npgw_doc_err(&x->rd, n, path, "%zu ports: npgw needs 1 to %d", n->n,
			     NPGW_CONFIG_MAX_PORTS);
		return;
	}
	x->c->ports = alloc(x, n->n, sizeof(*x->c->ports));
	if (x->c->ports == NULL)
		return;
	x->c->n_ports = n->n;
	x->ports = n;
	for (size_t i = 0; i < n->n; i++)
		read_port(x, &n->kids[i], npgw_doc_path_index(p, path, i), &x->c->ports[i]);
}

static void read_bridge(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path,
			struct npgw_config_bridge *br)
{
	bool have_name = false, have_ports = false;
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX];

	br->mac_age_seconds = CFG_DEFAULT_MAC_AGE;
	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];

		npgw_doc_path_key(p, path, f->key);
		if (f->type == NPGW_DOC_NULL)
			continue;
		if (strcmp(f->key, "name") == 0) {
			have_name = true;
			get_name(x, f, p, "bridge", &br->name);
		} else if (strcmp(f->key, "ports") == 0) {
			have_ports = true;
			if (!npgw_doc_want(&x->rd, f, NPGW_DOC_SEQ, p))
				continue;
			if (f->n < 2) {
				npgw_doc_err(&x->rd, f, p,
					     "a bridge joins at least 2 ports, this one has %zu",
					     f->n);
				continue;
			}
			if (f->n > NPGW_CONFIG_MAX_PORTS) {
				npgw_doc_err(&x->rd, f, p, "more than %d ports",
					     NPGW_CONFIG_MAX_PORTS);
				continue;
			}
			/* names are resolved to indexes by check.c */
			for (size_t k = 0; k < f->n; k++)
				npgw_doc_want(&x->rd, &f->kids[k], NPGW_DOC_STR,
					      npgw_doc_path_index(q, p, k));
			br->ports = alloc(x, f->n, sizeof(*br->ports));
			if (br->ports != NULL)
				br->n_ports = f->n;
		} else if (strcmp(f->key, "mac_age_seconds") == 0) {
			get_u32(x, f, p, 1, CFG_MAX_MAC_AGE, &br->mac_age_seconds);
		} else {
			unknown(x, f, p, "a bridge has name, ports and mac_age_seconds");
		}
	}
	if (!have_name)
		missing(x, n, path, "name");
	if (!have_ports)
		missing(x, n, path, "ports");
}

static void read_bridges(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	if (n->n > NPGW_CONFIG_MAX_PORTS) {
		npgw_doc_err(&x->rd, n, path, "more than %d bridges", NPGW_CONFIG_MAX_PORTS);
		return;
	}
	x->c->bridges = alloc(x, n->n, sizeof(*x->c->bridges));
	if (x->c->bridges == NULL)
		return;
	x->c->n_bridges = n->n;
	x->bridges = n;
	for (size_t i = 0; i < n->n; i++)
		read_bridge(x, &n->kids[i], npgw_doc_path_index(p, path, i), &x->c->bridges[i]);
}

static void read_queue(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path,
		       struct npgw_config_queue *q)
{
	bool have_port = false, have_queue = false;
	char p[NPGW_DOC_PATH_MAX];

	/* unknown until read (queue) or resolved by check.c (port) */
	q->port = UINT16_MAX;
	q->queue = UINT16_MAX;
	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];

		npgw_doc_path_key(p, path, f->key);
		if (f->type == NPGW_DOC_NULL)
			continue;
		if (strcmp(f->key, "port") == 0) {
			have_port = true;
			npgw_doc_want(&x->rd, f, NPGW_DOC_STR, p); /* resolved by check.c */
		} else if (strcmp(f->key, "queue") == 0) {
			have_queue = true;
			get_u16(x, f, p, 0, CFG_MAX_PORT_QUEUES - 1, &q->queue);
		} else {
			unknown(x, f, p, "a queue has port and queue");
		}
	}
	if (!have_port)
		missing(x, n, path, "port");
	if (!have_queue)
		missing(x, n, path, "queue");
}

static void read_worker(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path,
			struct npgw_config_worker *w)
{
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX];
	bool have_lcore = false;

	w->lcore = UINT_MAX; /* unknown until read: check.c skips it */
	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];

		npgw_doc_path_key(p, path, f->key);
		if (f->type == NPGW_DOC_NULL)
			continue;
		if (strcmp(f->key, "lcore") == 0) {
			int64_t v;

			have_lcore = true;
			if (get_int_range(x, f, p, 0, CFG_MAX_LCORE, &v))
				w->lcore = (unsigned int)v;
		} else if (strcmp(f->key, "queues") == 0) {
			if (!npgw_doc_want(&x->rd, f, NPGW_DOC_SEQ, p))
				continue;
			if (f->n == 0) {
				npgw_doc_err(&x->rd, f, p,
					     "an empty list polls nothing: list queues, or leave "
					     "queues out for queue <worker index> of every port");
				continue;
			}
			if (f->n > NPGW_CONFIG_MAX_QUEUES) {
				npgw_doc_err(&x->rd, f, p, "more than %d queues for one worker",
					     NPGW_CONFIG_MAX_QUEUES);
				continue;
			}
			w->queues = alloc(x, f->n, sizeof(*w->queues));
			if (w->queues == NULL)
				continue;
			w->n_queues = f->n;
			for (size_t k = 0; k < f->n; k++)
				read_queue(x, &f->kids[k], npgw_doc_path_index(q, p, k),
					   &w->queues[k]);
		} else {
			unknown(x, f, p, "a worker has lcore and queues");
		}
	}
	if (!have_lcore)
		missing(x, n, path, "lcore");
}

static void read_workers(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	if (n->n == 0 || n->n > NPGW_CONFIG_MAX_WORKERS) {
		npgw_doc_err(&x->rd, n, path,
			     "%zu workers: npgw needs 1 to %d (leave workers out for one worker "
			     "on lcore %d)",
			     n->n, NPGW_CONFIG_MAX_WORKERS, CFG_DEFAULT_WORKER_LCORE);
		return;
	}
	x->c->workers = alloc(x, n->n, sizeof(*x->c->workers));
	if (x->c->workers == NULL)
		return;
	x->c->n_workers = n->n;
	x->workers = n;
	for (size_t i = 0; i < n->n; i++)
		read_worker(x, &n->kids[i], npgw_doc_path_index(p, path, i), &x->c->workers[i]);
}

static void read_mempool(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];

	/* rte_mempool_create refuses a cache whose flush threshold (1.5 x the
	 * cache) exceeds the pool: the ranges alone rule that out */
	_Static_assert(CFG_MAX_MBUF_CACHE * 3 / 2 <= CFG_MIN_MBUFS, "cache range vs pool range");

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];

		npgw_doc_path_key(p, path, f->key);
		if (f->type == NPGW_DOC_NULL)
			continue;
		if (strcmp(f->key, "mbufs") == 0) {
			get_u32(x, f, p, CFG_MIN_MBUFS, CFG_MAX_MBUFS, &x->c->mbufs);
		} else if (strcmp(f->key, "cache") == 0) {
			get_u32(x, f, p, 0, CFG_MAX_MBUF_CACHE, &x->c->mbuf_cache);
		} else {
			unknown(x, f, p, "mempool has mbufs and cache");
		}
	}
}

static const char *const revoke_modes[] = {"drop", "keep", "reset", NULL};

static void read_ct_timeouts(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	struct npgw_config_conntrack *ct = &x->c->conntrack;
	const struct {
		const char *key;
		uint32_t *v;
	} t[] = {
		{"tcp_syn", &ct->tcp_syn},	 {"tcp_established", &ct->tcp_established},
		{"tcp_closing", &ct->tcp_closing}, {"tcp_closed", &ct->tcp_closed},
		{"udp", &ct->udp},		 {"udp_stream", &ct->udp_stream},
		{"icmp", &ct->icmp},		 {"sctp", &ct->sctp},
		{"other", &ct->other},		 {"frag", &ct->frag},
	};
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];
		size_t k;

		npgw_doc_path_key(p, path, f->key);
		if (f->type == NPGW_DOC_NULL)
			continue;
		for (k = 0; k < NPGW_ARRAY_SIZE(t); k++)
			if (strcmp(f->key, t[k].key) == 0)
				break;
		if (k == NPGW_ARRAY_SIZE(t))
			unknown(x, f, p,
				"timeouts are tcp_syn, tcp_established, tcp_closing, tcp_closed, udp, "
				"udp_stream, icmp, sctp, other and frag (seconds)");
		else
			get_u32(x, f, p, 1, 7 * 86400, t[k].v);
	}
}

static void read_conntrack(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	struct npgw_config_conntrack *ct = &x->c->conntrack;
	char p[NPGW_DOC_PATH_MAX];
	int v;

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *f = &n->kids[i];

		npgw_doc_path_key(p, path, f->key);
		if (f->type == NPGW_DOC_NULL)
			continue;
		if (strcmp(f->key, "enabled") == 0) {
			npgw_doc_get_bool(&x->rd, f, p, &ct->enabled);
		} else if (strcmp(f->key, "capacity") == 0) {
			get_u32(x, f, p, 8, 64u << 20, &ct->capacity);
		} else if (strcmp(f->key, "revoke") == 0) {
			if (get_enum(x, f, p, revoke_modes, "revoke mode", "drop, keep or reset", &v))
				ct->revoke = (enum npgw_config_revoke)v;
		} else if (strcmp(f->key, "tcp_loose") == 0) {
			npgw_doc_get_bool(&x->rd, f, p, &ct->tcp_loose);
		} else if (strcmp(f->key, "frag_hold") == 0) {
			get_u32(x, f, p, 0, 65536, &ct->frag_hold);
		} else if (strcmp(f->key, "timeouts") == 0) {
			read_ct_timeouts(x, f, p);
		} else {
			unknown(x, f, p,
				"conntrack has enabled, capacity, revoke, tcp_loose, frag_hold and "
				"timeouts");
		}
	}
}

/* EAL options npgw writes itself, from workers, main_lcore and ports. */
static const struct {
	const char *opt;
	const char *what;
	const char *from;
} eal_owned[] = {
	{"-l", "the lcore list", "main_lcore and workers"},
	{"--lcores", "the lcore list", "main_lcore and workers"},
	{"-c", "the lcore list", "main_lcore and workers"},
	{"--main-lcore", "the main lcore", "main_lcore"},
	{"--master-lcore", "the main lcore", "main_lcore"},
	{"--vdev", "the devices", "ports"},
	{"-a", "the devices", "ports"},
	{"--allow", "the devices", "ports"},
};

static void read_eal(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	if (n->n > CFG_MAX_EAL_ARGS) {
		npgw_doc_err(&x->rd, n, path, "more than %d arguments", CFG_MAX_EAL_ARGS);
		return;
	}
	x->c->eal_args = alloc(x, n->n, sizeof(char *));
	if (x->c->eal_args == NULL)
		return;
	x->c->n_eal_args = n->n;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *a = &n->kids[i];
		const char *s;

		npgw_doc_path_index(p, path, i);
		if (!get_string(x, a, p, CFG_MAX_EAL_ARG, &x->c->eal_args[i]))
			continue;
		s = a->text;
		for (size_t k = 0; k < NPGW_ARRAY_SIZE(eal_owned); k++) {
			const char *o = eal_owned[k].opt;
			size_t ol = strlen(o);
			bool hit;

			if (o[1] == '-') /* --opt or --opt=value */
				hit = strncmp(s, o, ol) == 0 && (s[ol] == '\0' || s[ol] == '=');
			else /* -o or -ovalue */
				hit = strncmp(s, o, ol) == 0;
			if (hit) {
				npgw_doc_err(&x->rd, a, p,
					     "\"%.64s\" is not allowed here: npgw gives the EAL %s "
					     "itself, derived from %s",
					     s, eal_owned[k].what, eal_owned[k].from);
				break;
			}
		}
	}
	cfg_check_eal_args(x, n, path);
}

static const char *const postures[] = {"fail-closed", "fail-open", NULL};
static const char *const non_ip_modes[] = {"pass", "drop", NULL};
static const char *const log_levels[] = {"error", "warning", "info", "debug", NULL};

static void read_root(struct cfg_ctx *x, const struct npgw_doc_node *root)
{
	struct npgw_config *c = x->c;
	bool have_ports = false;
	char p[NPGW_DOC_PATH_MAX];
	int v;

	x->root = root;
	if (root->type != NPGW_DOC_NULL && !npgw_doc_want(&x->rd, root, NPGW_DOC_MAP, ""))
		return;
	for (size_t i = 0; i < root->n; i++) {
		const struct npgw_doc_node *f = &root->kids[i];

		npgw_doc_path_key(p, "", f->key);
		if (f->type == NPGW_DOC_NULL)
			continue; /* null: the default */
		if (strcmp(f->key, "policies") == 0) {
			read_policies(x, f, p);
		} else if (strcmp(f->key, "control") == 0) {
			read_control(x, f, p);
		} else if (strcmp(f->key, "state_dir") == 0) {
			get_path(x, f, p, CFG_MAX_PATH, &c->state_dir);
		} else if (strcmp(f->key, "posture") == 0) {
			if (get_enum(x, f, p, postures, "posture", "fail-closed or fail-open", &v))
				c->posture =
					v == 0 ? NPGW_POSTURE_FAIL_CLOSED : NPGW_POSTURE_FAIL_OPEN;
		} else if (strcmp(f->key, "non_ip") == 0) {
			if (get_enum(x, f, p, non_ip_modes, "non_ip mode", "pass or drop", &v))
				c->non_ip_pass = v == 0;
		} else if (strcmp(f->key, "ports") == 0) {
			have_ports = true;
			read_ports(x, f, p);
		} else if (strcmp(f->key, "bridges") == 0) {
			read_bridges(x, f, p);
		} else if (strcmp(f->key, "workers") == 0) {
			read_workers(x, f, p);
		} else if (strcmp(f->key, "main_lcore") == 0) {
			int64_t l;

			x->main_lcore = f;
			/* UINT_MAX when bad: check.c skips it */
			c->main_lcore = get_int_range(x, f, p, 0, CFG_MAX_LCORE, &l)
						? (unsigned int)l
						: UINT_MAX;
		} else if (strcmp(f->key, "conntrack") == 0) {
			read_conntrack(x, f, p);
		} else if (strcmp(f->key, "mempool") == 0) {
			read_mempool(x, f, p);
		} else if (strcmp(f->key, "burst") == 0) {
			get_u16(x, f, p, 1, NPGW_CONFIG_MAX_BURST, &c->burst);
		} else if (strcmp(f->key, "eal") == 0) {
			read_eal(x, f, p);
		} else if (strcmp(f->key, "log_level") == 0) {
			if (get_enum(x, f, p, log_levels, "log level",
				     "error, warning, info or debug", &v))
				get_string(x, f, p, 16, &c->log_level);
		} else {
			unknown(x, f, p,
				"the config has policies, control, state_dir, posture, non_ip, ports, "
				"bridges, conntrack, workers, main_lcore, mempool, burst, eal and "
				"log_level");
		}
	}
	if (!have_ports)
		missing(x, root, "", "ports");
}

static int on_doc(void *arg, const struct npgw_doc_node *root, bool had_errors)
{
	struct cfg_ctx *x = arg;

	(void)had_errors; /* counted by the sink: the config is refused */
	if (++x->docs > 1) {
		npgw_doc_err(&x->rd, root, "",
			     "a config file holds one document; this is document %zu", x->docs);
		return 0;
	}
	read_root(x, root);
	if (!x->rd.nomem)
		cfg_check(x);
	return x->rd.nomem ? -ENOMEM : 0;
}

/* ---- the public API ---- */

void npgw_config_free(struct npgw_config *c)
{
	if (c == NULL)
		return;
	free(c->file);
	for (size_t i = 0; i < c->n_policy_paths; i++)
		free(c->policy_paths[i]);
	free(c->policy_paths);
	free(c->control_socket);
	free(c->state_dir);
	for (size_t i = 0; i < c->n_ports; i++) {
		free(c->ports[i].name);
		free(c->ports[i].device);
	}
	free(c->ports);
	for (size_t i = 0; i < c->n_bridges; i++) {
		free(c->bridges[i].name);
		free(c->bridges[i].ports);
	}
	free(c->bridges);
	for (size_t i = 0; i < c->n_workers; i++)
		free(c->workers[i].queues);
	free(c->workers);
	for (size_t i = 0; i < c->n_eal_args; i++)
		free(c->eal_args[i]);
	free(c->eal_args);
	free(c->log_level);
	free(c);
}

/* The defaults of every field the file may leave out. */
static struct npgw_config *config_new(const char *file)
{
	struct npgw_config *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->file = strdup(file);
	c->control_socket = strdup(CFG_DEFAULT_SOCKET);
	c->state_dir = strdup(CFG_DEFAULT_STATE_DIR);
	c->log_level = strdup(CFG_DEFAULT_LOG_LEVEL);
	c->posture = NPGW_POSTURE_FAIL_CLOSED;
	c->non_ip_pass = true;
	c->main_lcore = 0;
	c->mbufs = CFG_DEFAULT_MBUFS;
	c->mbuf_cache = CFG_DEFAULT_MBUF_CACHE;
	c->burst = CFG_DEFAULT_BURST;
	/* conntrack: on, lib/conntrack's defaults */
	c->conntrack = (struct npgw_config_conntrack){
		.enabled = true,
		.capacity = 262144,
		.revoke = NPGW_REVOKE_DROP,
		.frag_hold = 64,
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
	};
	if (c->file == NULL || c->control_socket == NULL || c->state_dir == NULL ||
	    c->log_level == NULL) {
		npgw_config_free(c);
		return NULL;
	}
	return c;
}

struct npgw_config *npgw_config_load_buffer(const char *name, const char *buf, size_t len,
					    struct npgw_diags *diags, int *err)
{
	struct npgw_doc_sink sink = {.what = "npgw config files"};
	struct cfg_ctx x = {0};
	const char *slash;
	char *dir = NULL;
	int rc, dummy;

	if (err == NULL)
		err = &dummy;
	name = name ? name : "-";
	sink.diags = diags;
	sink.file = name;
	x.rd.diags = diags;
	x.rd.file = name;
	/* relative paths in the file resolve against its directory */
	slash = strrchr(name, '/');
	dir = slash ? strndup(name, (size_t)(slash - name) + (slash == name)) : strdup("");
	x.c = config_new(name);
	if (dir == NULL || x.c == NULL) {
		free(dir);
		npgw_config_free(x.c);
		*err = -ENOMEM;
		return NULL;
	}
	x.dir = dir;
	rc = npgw_doc_parse(&sink, buf, len, on_doc, &x);
	if (rc == 0 && x.docs == 0) {
		/* an empty file holds no document: read it as an empty one, so
		 * it is refused for what it lacks */
		static const struct npgw_doc_node empty = {
			.type = NPGW_DOC_NULL, .line = 1, .col = 1, .text = ""};

		rc = on_doc(&x, &empty, false);
	}
	free(dir);
	if (rc == -ENOMEM || sink.nomem || x.rd.nomem) {
		*err = -ENOMEM;
	} else if (rc < 0 || sink.errors || x.rd.errors) {
		*err = -EINVAL;
	} else {
		*err = 0;
		return x.c;
	}
	npgw_config_free(x.c);
	return NULL;
}

struct npgw_config *npgw_config_load(const char *path, struct npgw_diags *diags, int *err)
{
	struct npgw_config *c;
	char *buf = NULL;
	size_t len = 0;
	int rc, dummy;

	if (err == NULL)
		err = &dummy;
	rc = npgw_doc_read_file(path, &buf, &len);
	if (rc == -EFBIG) {
		/* the words npgw_doc_parse uses for a buffer over the limit */
		rc = npgw_diags_add(diags, NPGW_SEV_ERROR, path, 0, 0, "",
				    "larger than the limit of %u MiB",
				    NPGW_DOC_MAX_FILE_SIZE / 1024 / 1024);
		*err = rc < 0 ? -ENOMEM : -EINVAL;
		return NULL;
	}
	if (rc < 0) {
		*err = npgw_diags_add(diags, NPGW_SEV_ERROR, path, 0, 0, "", "cannot read: %s",
				      strerror(-rc)) < 0
			       ? -ENOMEM
			       : rc;
		return NULL;
	}
	c = npgw_config_load_buffer(path, buf, len, diags, err);
	free(buf);
	return c;
}
