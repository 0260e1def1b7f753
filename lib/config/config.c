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
 * otherwise silently leave the default in place. Each section is a field
 * table walked by lib/doc's npgw_doc_read_fields, so the "unknown field"
 * message lists exactly the keys the table reads.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
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

/* ---- field readers shared by the tables ----
 *
 * Each takes the table entry: off is the offset of the target in the
 * object the table fills, min..max its range. */

#define AT(obj, fd, type) ((type *)(void *)((char *)(obj) + (fd)->off))

static void rd_u16(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		   const char *path, void *obj)
{
	get_u16(ctx, f, path, fd->min, fd->max, AT(obj, fd, uint16_t));
}

static void rd_u32(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		   const char *path, void *obj)
{
	get_u32(ctx, f, path, fd->min, fd->max, AT(obj, fd, uint32_t));
}

static void rd_bool(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		    const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;

	npgw_doc_get_bool(&x->rd, f, path, AT(obj, fd, bool));
}

/* A path of at most fd->max bytes, resolved against the config's directory. */
static void rd_path(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		    const char *path, void *obj)
{
	get_path(ctx, f, path, (size_t)fd->max, AT(obj, fd, char *));
}

#define U16(k, type, m, lo, hi) {.key = k, .read = rd_u16, .off = offsetof(type, m), .min = lo, .max = hi}
#define U32(k, type, m, lo, hi) {.key = k, .read = rd_u32, .off = offsetof(type, m), .min = lo, .max = hi}
#define BOOL(k, type, m) {.key = k, .read = rd_bool, .off = offsetof(type, m)}
#define PATH(k, type, m, hi) {.key = k, .read = rd_path, .off = offsetof(type, m), .max = hi}
#define FIELDS(what, v) {what, v, NPGW_ARRAY_SIZE(v), NULL, NULL}

/* ---- sections ---- */

static void read_policies(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *n,
			  const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;
	char p[NPGW_DOC_PATH_MAX];

	(void)fd;
	(void)obj;
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

static const struct npgw_doc_field control_fields[] = {
	PATH("socket", struct npgw_config, control_socket, CFG_MAX_SOCKET),
};
static const struct npgw_doc_fields control_table = FIELDS("control has", control_fields);

static void read_control(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *n,
			 const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;

	(void)fd;
	npgw_doc_read_fields(&x->rd, x, n, path, &control_table, obj, NULL);
}

static void rd_port_name(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
			 const char *path, void *obj)
{
	struct npgw_config_port *port = obj;

	(void)fd;
	get_name(ctx, f, path, "port", &port->name);
}

static void rd_device(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		      const char *path, void *obj)
{
	struct npgw_config_port *port = obj;
	struct cfg_ctx *x = ctx;
	const char *why;

	(void)fd;
	if (get_string(x, f, path, CFG_MAX_DEVICE, &port->device) &&
	    (why = check_device(port->device)) != NULL)
		npgw_doc_err(&x->rd, f, path, "invalid device \"%.64s\": %s", port->device, why);
}

static const struct npgw_doc_field port_fields[] = {
	{.key = "name", .read = rd_port_name, .required = true},
	{.key = "device", .read = rd_device, .required = true},
	U16("rx_queues", struct npgw_config_port, rx_queues, 0, CFG_MAX_PORT_QUEUES),
	U16("tx_queues", struct npgw_config_port, tx_queues, 0, CFG_MAX_PORT_QUEUES),
	U16("rx_descriptors", struct npgw_config_port, rx_descriptors, CFG_MIN_DESC, CFG_MAX_DESC),
	U16("tx_descriptors", struct npgw_config_port, tx_descriptors, CFG_MIN_DESC, CFG_MAX_DESC),
	BOOL("promiscuous", struct npgw_config_port, promiscuous),
};
static const struct npgw_doc_fields port_table = FIELDS("a port has", port_fields);

static void read_ports(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *n,
		       const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;
	char p[NPGW_DOC_PATH_MAX];

	(void)fd;
	(void)obj;
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
	for (size_t i = 0; i < n->n; i++) {
		struct npgw_config_port *port = &x->c->ports[i];

		port->rx_descriptors = CFG_DEFAULT_RX_DESC;
		port->tx_descriptors = CFG_DEFAULT_TX_DESC;
		port->promiscuous = true;
		npgw_doc_read_fields(&x->rd, x, &n->kids[i], npgw_doc_path_index(p, path, i),
				     &port_table, port, NULL);
	}
}

static void rd_bridge_name(void *ctx, const struct npgw_doc_field *fd,
			   const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_config_bridge *br = obj;

	(void)fd;
	get_name(ctx, f, path, "bridge", &br->name);
}

static void rd_bridge_ports(void *ctx, const struct npgw_doc_field *fd,
			    const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_config_bridge *br = obj;
	struct cfg_ctx *x = ctx;
	char q[NPGW_DOC_PATH_MAX];

	(void)fd;
	if (!npgw_doc_want(&x->rd, f, NPGW_DOC_SEQ, path))
		return;
	if (f->n < 2) {
		npgw_doc_err(&x->rd, f, path, "a bridge joins at least 2 ports, this one has %zu",
			     f->n);
		return;
	}
	if (f->n > NPGW_CONFIG_MAX_PORTS) {
		npgw_doc_err(&x->rd, f, path, "more than %d ports", NPGW_CONFIG_MAX_PORTS);
		return;
	}
	/* names are resolved to indexes by check.c */
	for (size_t k = 0; k < f->n; k++)
		npgw_doc_want(&x->rd, &f->kids[k], NPGW_DOC_STR, npgw_doc_path_index(q, path, k));
	br->ports = alloc(x, f->n, sizeof(*br->ports));
	if (br->ports != NULL)
		br->n_ports = f->n;
}

static const struct npgw_doc_field bridge_fields[] = {
	{.key = "name", .read = rd_bridge_name, .required = true},
	{.key = "ports", .read = rd_bridge_ports, .required = true},
	U32("mac_age_seconds", struct npgw_config_bridge, mac_age_seconds, 1, CFG_MAX_MAC_AGE),
};
static const struct npgw_doc_fields bridge_table = FIELDS("a bridge has", bridge_fields);

static void read_bridges(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *n,
			 const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;
	char p[NPGW_DOC_PATH_MAX];

	(void)fd;
	(void)obj;
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
	for (size_t i = 0; i < n->n; i++) {
		x->c->bridges[i].mac_age_seconds = CFG_DEFAULT_MAC_AGE;
		npgw_doc_read_fields(&x->rd, x, &n->kids[i], npgw_doc_path_index(p, path, i),
				     &bridge_table, &x->c->bridges[i], NULL);
	}
}

static void rd_queue_port(void *ctx, const struct npgw_doc_field *fd,
			  const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;

	(void)fd;
	(void)obj;
	npgw_doc_want(&x->rd, f, NPGW_DOC_STR, path); /* resolved by check.c */
}

static const struct npgw_doc_field queue_fields[] = {
	{.key = "port", .read = rd_queue_port, .required = true},
	{.key = "queue",
	 .read = rd_u16,
	 .required = true,
	 .off = offsetof(struct npgw_config_queue, queue),
	 .min = 0,
	 .max = CFG_MAX_PORT_QUEUES - 1},
};
static const struct npgw_doc_fields queue_table = FIELDS("a queue has", queue_fields);

static void rd_lcore(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		     const char *path, void *obj)
{
	unsigned int *lcore = AT(obj, fd, unsigned int);
	int64_t v;

	/* UINT_MAX when bad: check.c skips it */
	*lcore = get_int_range(ctx, f, path, 0, CFG_MAX_LCORE, &v) ? (unsigned int)v : UINT_MAX;
}

static void rd_worker_queues(void *ctx, const struct npgw_doc_field *fd,
			     const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_config_worker *w = obj;
	struct cfg_ctx *x = ctx;
	char q[NPGW_DOC_PATH_MAX];

	(void)fd;
	if (!npgw_doc_want(&x->rd, f, NPGW_DOC_SEQ, path))
		return;
	if (f->n == 0) {
		npgw_doc_err(&x->rd, f, path,
			     "an empty list polls nothing: list queues, or leave queues out for "
			     "queue <worker index> of every port");
		return;
	}
	if (f->n > NPGW_CONFIG_MAX_QUEUES) {
		npgw_doc_err(&x->rd, f, path, "more than %d queues for one worker",
			     NPGW_CONFIG_MAX_QUEUES);
		return;
	}
	w->queues = alloc(x, f->n, sizeof(*w->queues));
	if (w->queues == NULL)
		return;
	w->n_queues = f->n;
	for (size_t k = 0; k < f->n; k++) {
		/* unknown until read (queue) or resolved by check.c (port) */
		w->queues[k].port = UINT16_MAX;
		w->queues[k].queue = UINT16_MAX;
		npgw_doc_read_fields(&x->rd, x, &f->kids[k], npgw_doc_path_index(q, path, k),
				     &queue_table, &w->queues[k], NULL);
	}
}

static const struct npgw_doc_field worker_fields[] = {
	{.key = "lcore",
	 .read = rd_lcore,
	 .required = true,
	 .off = offsetof(struct npgw_config_worker, lcore)},
	{.key = "queues", .read = rd_worker_queues},
};
static const struct npgw_doc_fields worker_table = FIELDS("a worker has", worker_fields);

static void read_workers(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *n,
			 const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;
	char p[NPGW_DOC_PATH_MAX];

	(void)fd;
	(void)obj;
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
	for (size_t i = 0; i < n->n; i++) {
		x->c->workers[i].lcore = UINT_MAX; /* unknown until read: check.c skips it */
		npgw_doc_read_fields(&x->rd, x, &n->kids[i], npgw_doc_path_index(p, path, i),
				     &worker_table, &x->c->workers[i], NULL);
	}
}

/* rte_mempool_create refuses a cache whose flush threshold (1.5 x the cache)
 * exceeds the pool: the ranges alone rule that out */
_Static_assert(CFG_MAX_MBUF_CACHE * 3 / 2 <= CFG_MIN_MBUFS, "cache range vs pool range");

static const struct npgw_doc_field mempool_fields[] = {
	U32("mbufs", struct npgw_config, mbufs, CFG_MIN_MBUFS, CFG_MAX_MBUFS),
	U32("cache", struct npgw_config, mbuf_cache, 0, CFG_MAX_MBUF_CACHE),
};
static const struct npgw_doc_fields mempool_table = FIELDS("mempool has", mempool_fields);

static void read_mempool(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *n,
			 const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;

	(void)fd;
	npgw_doc_read_fields(&x->rd, x, n, path, &mempool_table, obj, NULL);
}

#define TIMEOUT(k, m) U32(k, struct npgw_conntrack_timeouts, m, 1, 7 * 86400)
static const struct npgw_doc_field timeout_fields[] = {
	TIMEOUT("tcp_syn", tcp_syn), TIMEOUT("tcp_established", tcp_established),
	TIMEOUT("tcp_closing", tcp_closing), TIMEOUT("tcp_closed", tcp_closed),
	TIMEOUT("udp", udp), TIMEOUT("udp_stream", udp_stream),
	TIMEOUT("icmp", icmp), TIMEOUT("sctp", sctp),
	TIMEOUT("other", other), TIMEOUT("frag", frag),
	TIMEOUT("denied", denied),
};
static const struct npgw_doc_fields timeout_table = {
	"timeouts are", timeout_fields, NPGW_ARRAY_SIZE(timeout_fields), NULL, "(seconds)"};

static void read_ct_timeouts(void *ctx, const struct npgw_doc_field *fd,
			     const struct npgw_doc_node *n, const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;

	/* obj is the conntrack settings; fd->off finds their timeouts */
	npgw_doc_read_fields(&x->rd, x, n, path, &timeout_table, (char *)obj + fd->off, NULL);
}

static void rd_revoke(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		      const char *path, void *obj)
{
	struct npgw_conntrack_settings *ct = obj;
	const char *modes[NPGW_CONNTRACK_REVOKE_N + 1] = {NULL};
	int v;

	(void)fd;
	/* the names lib/conntrack's settings header gives, the one table */
	for (unsigned int m = 0; m < NPGW_CONNTRACK_REVOKE_N; m++)
		modes[m] = npgw_conntrack_revoke_name(m);
	if (get_enum(ctx, f, path, modes, "revoke mode", "drop, keep or reset", &v))
		ct->revoke = (enum npgw_conntrack_revoke)v;
}

static const struct npgw_doc_field conntrack_fields[] = {
	BOOL("enabled", struct npgw_conntrack_settings, enabled),
	U32("capacity", struct npgw_conntrack_settings, capacity, 8, 64u << 20),
	U32("denied_capacity", struct npgw_conntrack_settings, denied_capacity, 0, 16u << 20),
	{.key = "revoke", .read = rd_revoke},
	BOOL("tcp_loose", struct npgw_conntrack_settings, tcp_loose),
	BOOL("tcp_seq_check", struct npgw_conntrack_settings, tcp_seq_check),
	U32("frag_hold", struct npgw_conntrack_settings, frag_hold, 0,
	    NPGW_CONNTRACK_FRAG_HOLD_MAX),
	{.key = "timeouts", .read = read_ct_timeouts,
	 .off = offsetof(struct npgw_conntrack_settings, timeouts)},
};
static const struct npgw_doc_fields conntrack_table = FIELDS("conntrack has", conntrack_fields);

static void read_conntrack(void *ctx, const struct npgw_doc_field *fd,
			   const struct npgw_doc_node *n, const char *path, void *obj)
{
	struct npgw_config *c = obj;
	struct cfg_ctx *x = ctx;

	(void)fd;
	npgw_doc_read_fields(&x->rd, x, n, path, &conntrack_table, &c->conntrack, NULL);
}

/* metrics: {listen: "ADDR:PORT"}: GET /metrics there; no listener without it. */
static void rd_listen(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		      const char *path, void *obj)
{
	struct npgw_config *c = obj;
	struct cfg_ctx *x = ctx;
	struct npgw_addr a;
	uint16_t port;
	char *s = NULL;

	(void)fd;
	if (!npgw_doc_get_str(&x->rd, f, path, &s))
		return;
	if (npgw_addr_port_parse(s, &a, &port) < 0) {
		npgw_doc_err(&x->rd, f, path,
			     "\"%.64s\" is not ADDR:PORT (127.0.0.1:9469, [::1]:9469, "
			     "localhost:9469; port 1..65535)",
			     s);
		free(s);
		return;
	}
	free(c->metrics_listen);
	c->metrics_listen = s;
}

static const struct npgw_doc_field metrics_fields[] = {
	{.key = "listen", .read = rd_listen},
};
static const struct npgw_doc_fields metrics_table = FIELDS("metrics has", metrics_fields);

/* events: {rate, burst}: the drop/verdict events of each worker. */
static const struct npgw_doc_field events_fields[] = {
	U32("rate", struct npgw_config, events_rate, 0, CFG_MAX_EVENTS_RATE),
	U32("burst", struct npgw_config, events_burst, 1, CFG_MAX_EVENTS_BURST),
};
static const struct npgw_doc_fields events_table = FIELDS("events has", events_fields);

static void read_metrics(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *n,
			 const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;

	(void)fd;
	npgw_doc_read_fields(&x->rd, x, n, path, &metrics_table, obj, NULL);
}

static void read_events(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *n,
			const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;

	(void)fd;
	npgw_doc_read_fields(&x->rd, x, n, path, &events_table, obj, NULL);
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

static void read_eal(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *n,
		     const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;
	char p[NPGW_DOC_PATH_MAX];

	(void)fd;
	(void)obj;
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
/* lib/ruleset's rte_acl methods (npgw_ruleset_set_acl_method) */
static const char *const acl_methods[] = {"auto", "scalar", "sse", "avx2", "avx512x16",
					  "avx512x32", NULL};
static const char *const owners[] = {"files", "socket", NULL};

static void rd_posture(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		       const char *path, void *obj)
{
	struct npgw_config *c = obj;
	int v;

	(void)fd;
	if (get_enum(ctx, f, path, postures, "posture", "fail-closed or fail-open", &v))
		c->posture = v == 0 ? NPGW_POSTURE_FAIL_CLOSED : NPGW_POSTURE_FAIL_OPEN;
}

static void rd_desired_state(void *ctx, const struct npgw_doc_field *fd,
			     const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;
	struct npgw_config *c = obj;
	int v;

	(void)fd;
	if (get_enum(ctx, f, path, owners, "owner of the desired state", "files or socket", &v)) {
		x->desired_state = f;
		c->owner = v == 0 ? NPGW_OWNER_FILES : NPGW_OWNER_SOCKET;
	}
}

static void rd_non_ip(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
		      const char *path, void *obj)
{
	struct npgw_config *c = obj;
	int v;

	(void)fd;
	if (get_enum(ctx, f, path, non_ip_modes, "non_ip mode", "pass or drop", &v))
		c->non_ip_pass = v == 0;
}

static void rd_main_lcore(void *ctx, const struct npgw_doc_field *fd,
			  const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct cfg_ctx *x = ctx;

	x->main_lcore = f;
	rd_lcore(ctx, fd, f, path, obj);
}

static void rd_log_level(void *ctx, const struct npgw_doc_field *fd,
			 const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_config *c = obj;
	int v;

	(void)fd;
	if (get_enum(ctx, f, path, log_levels, "log level", "error, warning, info or debug", &v))
		get_string(ctx, f, path, 16, &c->log_level);
}

static void rd_acl_method(void *ctx, const struct npgw_doc_field *fd,
			  const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_config *c = obj;
	int v;

	(void)fd;
	if (get_enum(ctx, f, path, acl_methods, "rte_acl method",
		     "auto, scalar, sse, avx2, avx512x16 or avx512x32", &v))
		get_string(ctx, f, path, 16, &c->acl_method);
}

static const struct npgw_doc_field root_fields[] = {
	{.key = "policies", .read = read_policies},
	{.key = "control", .read = read_control},
	PATH("state_dir", struct npgw_config, state_dir, CFG_MAX_PATH),
	{.key = "desired_state", .read = rd_desired_state},
	{.key = "posture", .read = rd_posture},
	{.key = "non_ip", .read = rd_non_ip},
	{.key = "ports", .read = read_ports, .required = true},
	{.key = "bridges", .read = read_bridges},
	{.key = "conntrack", .read = read_conntrack},
	{.key = "metrics", .read = read_metrics},
	{.key = "events", .read = read_events},
	{.key = "workers", .read = read_workers},
	{.key = "main_lcore", .read = rd_main_lcore, .off = offsetof(struct npgw_config, main_lcore)},
	{.key = "mempool", .read = read_mempool},
	U16("burst", struct npgw_config, burst, 1, NPGW_CONFIG_MAX_BURST),
	{.key = "acl_method", .read = rd_acl_method},
	U32("acl_max_mib", struct npgw_config, acl_max_mib, 0, 65536),
	{.key = "eal", .read = read_eal},
	{.key = "log_level", .read = rd_log_level},
};
static const struct npgw_doc_fields root_table = FIELDS("the config has", root_fields);

static void read_root(struct cfg_ctx *x, const struct npgw_doc_node *root)
{
	struct npgw_doc_node empty = *root;

	x->root = root;
	/* an empty file reads as a mapping with no fields: "missing ports" */
	empty.type = NPGW_DOC_MAP;
	empty.n = 0;
	npgw_doc_read_fields(&x->rd, x, root->type == NPGW_DOC_NULL ? &empty : root, "",
			     &root_table, x->c, NULL);
	/* who owns the desired state: said, or files when there are any */
	if (x->desired_state == NULL)
		x->c->owner = x->c->n_policy_paths > 0 ? NPGW_OWNER_FILES : NPGW_OWNER_SOCKET;
	else if (x->c->owner == NPGW_OWNER_SOCKET && x->c->n_policy_paths > 0)
		npgw_doc_err(&x->rd, x->desired_state, "desired_state",
			     "socket: the control socket owns the desired state, so the policy "
			     "files would never be read; remove policies or say files");
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
	free(c->metrics_listen);
	free(c->acl_method);
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
	c->acl_method = strdup("auto");
	c->posture = NPGW_POSTURE_FAIL_CLOSED;
	c->non_ip_pass = true;
	c->main_lcore = 0;
	c->mbufs = CFG_DEFAULT_MBUFS;
	c->mbuf_cache = CFG_DEFAULT_MBUF_CACHE;
	c->burst = CFG_DEFAULT_BURST;
	c->events_rate = CFG_DEFAULT_EVENTS_RATE;
	c->events_burst = CFG_DEFAULT_EVENTS_BURST;
	/* conntrack: on, lib/conntrack's defaults */
	npgw_conntrack_settings_defaults(&c->conntrack);
	if (c->file == NULL || c->control_socket == NULL || c->state_dir == NULL ||
	    c->log_level == NULL || c->acl_method == NULL) {
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
