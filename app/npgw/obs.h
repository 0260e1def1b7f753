/*
 * obs.h: what the gateway shows of itself: Prometheus metrics over HTTP,
 * DPDK telemetry commands, the `observe` stream of drop/verdict events,
 * the audit log of control socket changes, the port and worker parts of
 * `status` and `stats`, and the log types.
 *
 * The control thread owns every counter read: it copies a snapshot (the
 * data plane's counters, the ports, the rule hits) when the metrics or
 * telemetry thread asks for one, or once a second; those threads format
 * from the snapshot and never touch the data plane themselves.
 */
#ifndef NPGW_OBS_H
#define NPGW_OBS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "npgw_ctl.h"

struct gateway;

/* Allocate the state (apply histogram, snapshot slot). Before the first
 * generation. Returns 0 or -ENOMEM. */
int gw_obs_init(struct gateway *gw);

/* After the data plane and the control socket: the metrics listener
 * (config metrics.listen), the telemetry commands, the observe command.
 * Returns 0 or a negative errno (the reason logged). */
int gw_obs_start(struct gateway *gw);

/* Stop the listener and free everything. Accepts a gateway without obs. */
void gw_obs_fini(struct gateway *gw);

/* The fd the control loop polls (readable when a snapshot is asked for),
 * and the work to do on every turn of the loop (at least every 100 ms):
 * drain the workers' events, copy a snapshot when asked or a second old. */
int gw_obs_fd(const struct gateway *gw);
void gw_obs_service(struct gateway *gw);

/* gw_commit tells of every change: how long it took, whether it went live. */
void gw_obs_apply(struct gateway *gw, double seconds, bool ok);

/* Register the observe command on gw->ctl (observe.c). 0 or -errno. */
int gw_obs_register_observe(struct gateway *gw);

/* The status reply's ports (link state) and the stats reply's workers and
 * events. */
void gw_obs_status(struct gateway *gw, cJSON *o);
void gw_obs_stats(struct gateway *gw, cJSON *o);

/* Control socket callbacks: its log lines, and one audit line per change
 * accepted or refused (apply, replace, delete, flows flush, stats reset). */
void gw_obs_ctl_log(void *arg, int level, const char *msg);
void gw_obs_audit(void *arg, const struct npgw_ctl_audit *a);

#endif /* NPGW_OBS_H */
