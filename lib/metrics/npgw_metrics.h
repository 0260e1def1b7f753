/*
 * npgw_metrics.h: the Prometheus side of npgw: the text exposition format
 * (version 0.0.4) written to a stdio stream, and a small HTTP server (GNU
 * libmicrohttpd, on a thread of its own) that answers GET /metrics with
 * what a render callback produces. No DPDK in here: the gateway renders
 * from a snapshot its control thread copies.
 *
 * Threads: the writers may be used by any thread on its own stream; the
 * server is started and stopped by one thread (the control thread) and
 * calls render on its own thread, one request at a time.
 */
#ifndef NPGW_METRICS_H
#define NPGW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "npgw_common.h"

/* ---- the exposition format ---- */

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge,
 * histogram). help must not hold a newline. */
void npgw_metrics_family(FILE *out, const char *name, const char *type, const char *help);

/*
 * One sample: name{k1="v1",...} value. labels: NULL, or a NULL-terminated
 * list of key, value, key, value...; values are escaped (\\, \", \n).
 */
void npgw_metrics_u64(FILE *out, const char *name, const char *const *labels, uint64_t v);
void npgw_metrics_double(FILE *out, const char *name, const char *const *labels, double v);

/* A label value escaped as the format wants it, into buf. Returns buf. */
char *npgw_metrics_escape(const char *s, char *buf, size_t len);

/*
 * A histogram: name_bucket{le="..."} (cumulative, bounds in ascending
 * order, then le="+Inf"), name_sum and name_count. counts[i] holds the
 * observations in (bounds[i-1], bounds[i]]; counts[n] those above the last.
 */
void npgw_metrics_histogram(FILE *out, const char *name, const double *bounds,
			    const uint64_t *counts, size_t n, double sum);

/* ---- the HTTP server ---- */

struct npgw_metrics_server;

/* The exposition text, malloc'd (the server frees it), its length in
 * *len; NULL when it cannot be made (the client gets 503). */
typedef char *(*npgw_metrics_render_t)(void *arg, size_t *len);

/*
 * Listen on addr:port (port 0: any free port, see _port) and serve
 * GET /metrics (and HEAD) from render, 404 for other paths, 405 for other
 * methods; at most 16 connections, 10 s each. Returns the server or NULL
 * with *err a negative errno (-EADDRINUSE...). Free with _stop.
 */
struct npgw_metrics_server *npgw_metrics_server_start(const struct npgw_addr *addr,
						      uint16_t port, npgw_metrics_render_t render,
						      void *arg, int *err);

/* The port it listens on. */
uint16_t npgw_metrics_server_port(const struct npgw_metrics_server *s);

/* Stop serving (waits for a request in progress) and free. Accepts NULL. */
void npgw_metrics_server_stop(struct npgw_metrics_server *s);

#endif /* NPGW_METRICS_H */
