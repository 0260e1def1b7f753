/*
 * npgw_config.h: the gateway's own configuration (config/npgw.yaml), read
 * with the same FILE:LINE:COL: path: message diagnostics as policies.
 *
 * Threads: read once by main at start-up (and by tests); the result is
 * immutable afterwards.
 */
#ifndef NPGW_CONFIG_H
#define NPGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_common.h"
#include "npgw_ct_settings.h"

#define NPGW_CONFIG_MAX_PORTS 32
#define NPGW_CONFIG_MAX_WORKERS 64
#define NPGW_CONFIG_MAX_QUEUES 64 /* per worker */
#define NPGW_CONFIG_MAX_BURST 64

enum npgw_config_posture {
	NPGW_POSTURE_FAIL_CLOSED, /* drop IP until the first generation is live */
	NPGW_POSTURE_FAIL_OPEN, /* forward IP until then */
};

/* Who owns the desired state (config desired_state). */
enum npgw_config_owner {
	NPGW_OWNER_FILES, /* the policy files; SIGHUP reloads them; the socket only reads */
	NPGW_OWNER_SOCKET, /* the control socket; SIGHUP changes nothing */
};

struct npgw_config_port {
	char *name; /* unique, referenced by bridges and workers */
	char *device; /* PCI address or vdev string: "net_ring0", "net_af_packet0,iface=v0" */
	uint16_t rx_queues; /* 0: one per worker that polls the port */
	uint16_t tx_queues; /* 0: one per worker */
	uint16_t rx_descriptors;
	uint16_t tx_descriptors;
	bool promiscuous;
};

struct npgw_config_bridge {
	char *name;
	uint16_t *ports; /* indexes into ports; a port is in at most one bridge */
	size_t n_ports; /* 2: a wire; more: MAC learning, flooding unknowns */
	uint32_t mac_age_seconds; /* learned MAC lifetime (n_ports > 2) */
};

struct npgw_config_queue {
	uint16_t port; /* index into ports */
	uint16_t queue;
};

struct npgw_config_worker {
	unsigned int lcore;
	struct npgw_config_queue *queues; /* rx queues it polls */
	size_t n_queues; /* 0 in the file: queue <worker index> of every port */
};

struct npgw_config {
	char *file; /* where it was read from */

	/* What operators change. */
	char **policy_paths; /* files/directories loaded at start */
	size_t n_policy_paths;
	char *control_socket;
	char *state_dir;
	/* desired_state: files or socket; when left out, files when policies
	 * lists any path, else socket */
	enum npgw_config_owner owner;
	enum npgw_config_posture posture;
	bool non_ip_pass; /* forward ARP and other non-IP frames */
	struct npgw_config_port *ports;
	size_t n_ports;
	struct npgw_config_bridge *bridges;
	size_t n_bridges;

	/* connection tracking: one flow table per worker (lib/conntrack's
	 * own settings type, DPDK-free) */
	struct npgw_conntrack_settings conntrack;

	/* Observability (metrics:, events:). */
	char *metrics_listen; /* "ADDR:PORT" of GET /metrics; NULL: no listener */
	uint32_t events_rate; /* drop/verdict events per second per worker; 0: none */
	uint32_t events_burst; /* events a worker may record at once */

	/* What tunes performance. */
	struct npgw_config_worker *workers;
	size_t n_workers;
	unsigned int main_lcore;
	uint32_t mbufs; /* mempool size */
	uint32_t mbuf_cache;
	uint16_t burst;
	char *acl_method; /* rte_acl classify method: "auto" (the widest this CPU
			     runs) or scalar, sse, avx2, avx512x16, avx512x32 */
	uint32_t acl_max_mib; /* rte_acl's memory budget per context, MiB; 0:
				 its default (npgw_ruleset_set_acl_max_size) */

	/* Rarely touched. */
	char **eal_args; /* passed to rte_eal_init after the program name */
	size_t n_eal_args;
	char *log_level; /* "error", "warning", "info", "debug" */
};

/*
 * Read and check a config file. Returns the config, or NULL with every
 * problem in diags (FILE:LINE:COL: path: message) and *err a negative
 * errno. Defaults fill what the file leaves out. Caller frees with
 * npgw_config_free.
 */
struct npgw_config *npgw_config_load(const char *path, struct npgw_diags *diags, int *err);

/* Same, from text in memory; name is the file name used in messages. */
struct npgw_config *npgw_config_load_buffer(const char *name, const char *buf, size_t len,
					    struct npgw_diags *diags, int *err);

void npgw_config_free(struct npgw_config *c);

#endif /* NPGW_CONFIG_H */
