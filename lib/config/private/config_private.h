/*
 * config_private.h: internals of lib/config.
 *
 * Loading runs in two passes over the document tree of lib/doc, both while
 * the tree is alive (inside the parse callback):
 *  1. config.c reads every field: types, ranges, names, enums, unknown
 *     keys, and fills struct npgw_config, keeping every list the same
 *     length as in the file (entry i of c->ports is item i of ports:) even
 *     when an item is bad, so the second pass can find an entry's node;
 *  2. check.c resolves names (bridge and worker ports), fills the defaults
 *     that depend on other sections (the default worker), and runs the
 *     checks that span sections: duplicates, a port in two bridges, lcores,
 *     queues polled twice, queues beyond a port's rx_queues.
 * The config is returned only when neither pass found an error.
 */
#ifndef NPGW_CONFIG_PRIVATE_H
#define NPGW_CONFIG_PRIVATE_H

#include "npgw_config.h"
#include "npgw_doc.h"

/* Defaults of what the file leaves out. */
#define CFG_DEFAULT_SOCKET "/run/npgw/npgw.sock"
#define CFG_DEFAULT_STATE_DIR "/var/lib/npgw"
#define CFG_DEFAULT_RX_DESC 1024
#define CFG_DEFAULT_TX_DESC 1024
#define CFG_DEFAULT_MAC_AGE 300
#define CFG_DEFAULT_WORKER_LCORE 1
#define CFG_DEFAULT_MBUFS 8191
#define CFG_DEFAULT_MBUF_CACHE 256
#define CFG_DEFAULT_BURST 32
#define CFG_DEFAULT_LOG_LEVEL "info"
#define CFG_DEFAULT_EVENTS_RATE 1000 /* per worker and second */
#define CFG_DEFAULT_EVENTS_BURST 256

/* Ranges. */
#define CFG_MAX_NAME 31 /* port and bridge names */
#define CFG_MAX_DEVICE 1024 /* a device string with its arguments */
#define CFG_MAX_DEVICE_NAME 63 /* before the first ',': RTE_ETH_NAME_MAX_LEN - 1 */
#define CFG_MAX_PATH 4095
#define CFG_MAX_SOCKET 107 /* sizeof(sockaddr_un.sun_path) - 1 */
#define CFG_MAX_EAL_ARG 4096
#define CFG_MAX_EAL_ARGS 256
#define CFG_MAX_POLICY_PATHS 1024
#define CFG_MAX_PORT_QUEUES 64 /* rx_queues, tx_queues */
#define CFG_MIN_DESC 64
#define CFG_MAX_DESC 16384
#define CFG_MAX_MAC_AGE 86400
#define CFG_MAX_LCORE 1023
#define CFG_MIN_MBUFS 1023
#define CFG_MAX_MBUFS (16u * 1024 * 1024)
#define CFG_MAX_MBUF_CACHE 512 /* RTE_MEMPOOL_CACHE_MAX_SIZE */
#define CFG_MAX_EVENTS_RATE 1000000
#define CFG_MAX_EVENTS_BURST 1024 /* a worker's event ring holds that many */

struct cfg_ctx {
	struct npgw_doc_reader rd;
	struct npgw_config *c;
	const char *dir; /* directory of the file, "" when none: relative paths */
	size_t docs; /* documents met: a config file holds one */
	/* Sections of the document, NULL when absent or of the wrong type:
	 * the second pass walks them again for positions. */
	const struct npgw_doc_node *root;
	const struct npgw_doc_node *ports;
	const struct npgw_doc_node *bridges;
	const struct npgw_doc_node *workers;
	const struct npgw_doc_node *main_lcore;
	const struct npgw_doc_node *desired_state;
};

/* A port or bridge name: [a-z0-9-_.]{1,31}. NULL when valid, else why
 * not (config.c). */
const char *cfg_check_name(const char *s);

/* The EAL arguments (a sequence of strings, already read): unknown
 * options, a value missing or given where none is taken, options that print
 * and exit, --in-memory with --no-huge (eal.c). Errors go to x->rd. */
void cfg_check_eal_args(struct cfg_ctx *x, const struct npgw_doc_node *n, const char *path);

/* A device string's arguments after its name: key=value pairs, and for the
 * drivers npgw documents, keys the driver takes. NULL when fine, else why
 * not, written into why[len] (eal.c). */
const char *cfg_check_device_args(const char *dev, char *why, size_t len);

/* The second pass (check.c). Errors and warnings go to x->rd. */
void cfg_check(struct cfg_ctx *x);

#endif /* NPGW_CONFIG_PRIVATE_H */
