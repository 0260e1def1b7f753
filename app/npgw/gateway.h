/*
 * gateway.h: the daemon's control plane state: the desired cluster (what
 * operators applied), the live generation built from it, and how a change
 * becomes live: validate the whole next state, compile, build, save it to
 * the state directory, publish it with RCU. A failure before the save
 * leaves the live and the saved state as they were; a publish that fails
 * after the save (out of memory) leaves the saved state ahead of the live
 * one. Control thread only.
 */
#ifndef NPGW_GATEWAY_H
#define NPGW_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "npgw_config.h"
#include "npgw_ctl.h"
#include "npgw_dataplane.h"
#include "npgw_k8s.h"

/* A client waiting for a generation (the wait command). */
struct gw_waiter {
	struct npgw_ctl_pending *pending;
	uint64_t generation;
};

#define GW_MAX_WAITERS 256

/*
 * A change that adds, replaces or removes Pod objects and nothing else:
 * removed are the pods of gw->desired that go (or are replaced), added
 * the pods of next that come (or replace them). With it gw_commit first
 * tries npgw_compile_update_pods on the live generation's result.
 */
struct gw_pod_delta {
	const struct npgw_k8s_pod **removed;
	size_t n_removed;
	const struct npgw_k8s_pod **added;
	size_t n_added;
};

/* Where the time of the last change went, milliseconds. */
struct gw_commit_times {
	double validate_ms; /* npgw_k8s_cluster_validate of the whole next state */
	double compile_ms; /* incremental or full */
	double build_ms; /* npgw_ruleset_build */
	double save_ms; /* npgw_state_save */
	double publish_ms; /* npgw_dp_publish: the RCU grace period, freeing the old */
	bool incremental; /* npgw_compile_update_pods answered */
};

struct gateway {
	const struct npgw_config *cfg;
	struct npgw_dp *dp;
	struct npgw_ctl *ctl;
	struct npgw_k8s_cluster *desired; /* what the live generation was built from */
	uint64_t generation; /* the live one, 0 before the first */
	struct timespec built_at; /* wall clock, when it went live */
	double build_ms; /* stage-1 and ACL build of the live generation */
	double commit_ms; /* request to live, of the last change */
	struct gw_commit_times times; /* of the last change */
	uint64_t n_incremental, n_full; /* compiles since start */
	/* The state file could not be read (corrupt, or from a newer npgw):
	 * changes are refused until an operator moves it away, so that it is
	 * never overwritten with a guess. */
	bool state_blocked;
	char state_problem[256];
	struct gw_waiter waiters[GW_MAX_WAITERS];
	unsigned int n_waiters;
	struct gw_obs *obs; /* metrics, telemetry, events (obs.c) */
};

/*
 * Make next the desired state: validate, compile, build, save (unless
 * save is false: a restore of what the file already holds), publish.
 * Takes next (frees it on failure). On failure returns a negative errno,
 * fills err (code and message) and, when the input was refused, *details
 * with {"diagnostics": [...]} (may be NULL). generation: the number the new
 * generation takes (0: the next one). delta (may be NULL): next differs
 * from gw->desired by these pods only; the compile is then incremental
 * when the pods fit the live classes (a full compile otherwise: the
 * result is the same either way).
 */
int gw_commit(struct gateway *gw, struct npgw_k8s_cluster *next, uint64_t generation, bool save,
	      const struct gw_pod_delta *delta, struct npgw_ctl_error *err, cJSON **details);

/*
 * At start: restore the saved state, or (none saved yet) read the config's
 * policy paths. A state file that cannot be read is reported and leaves no
 * generation (the configured posture applies). Returns 0 when a
 * generation is live.
 */
int gw_start(struct gateway *gw);

/* The config's policy paths as one validated cluster; NULL (every message
 * printed) on any error. */
struct npgw_k8s_cluster *gw_load_files(const struct npgw_config *cfg);

/* SIGHUP: the config's policy paths become the whole desired state. */
int gw_reload_files(struct gateway *gw);

/* Complete the waits a new generation satisfies, and drop dead ones. */
void gw_wake_waiters(struct gateway *gw);

/* Register the control commands on gw->ctl. Returns 0 or a negative errno. */
int gw_register_commands(struct gateway *gw);

/* Free what gw owns (not cfg, dp, ctl). */
void gw_fini(struct gateway *gw);

/* Set every npgw.* log type (npgw.gateway, npgw.ctl, npgw.dataplane,
 * npgw.ruleset, npgw.metrics) to the config's log_level ("error",
 * "warning", "info", "debug"). Before rte_eal_init, so that the EAL's own
 * --log-level arguments may still override it. */
void gw_set_log_level(const char *name);
/* The daemon's log (log type npgw.gateway). */
void gw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* NPGW_GATEWAY_H */
