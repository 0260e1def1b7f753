/*
 * gateway.h: the daemon's control plane: the desired state (what operators
 * applied), the live generation built from it, and how a change becomes
 * live.
 *
 * A change (apply, replace, delete; a SIGHUP reload in file mode) is
 * checked on the control thread against the desired state and either
 * refused at once (nothing changes) or accepted into it; its reply waits.
 * Accepted changes go to the builder thread, which applies them to its own
 * copy of the state, compiles (incrementally when only Pods changed),
 * builds the tables and appends the record to the journal (fsync'd); the
 * control thread then publishes the generation with RCU and answers every
 * change that went into it. Changes that arrive during a build wait and go
 * into the next one together: at most one build in flight, one waiting. A
 * build that fails (out of memory, the ACL refusing) leaves the live
 * generation; its changes are then built again one by one, so that only
 * the one that fails is refused.
 *
 * Exactly one channel owns the desired state (config desired_state): the
 * policy files (SIGHUP reloads them; the socket's changes are refused) or
 * the control socket (SIGHUP changes nothing). Control thread, except
 * where a function says otherwise.
 */
#ifndef NPGW_GATEWAY_H
#define NPGW_GATEWAY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "npgw_config.h"
#include "npgw_ctl.h"
#include "npgw_dataplane.h"
#include "npgw_k8s.h"
#include "npgw_state.h"

/* A client waiting for a generation (the wait command). */
struct gw_waiter {
	struct npgw_ctl_pending *pending;
	uint64_t generation;
};

#define GW_MAX_WAITERS 256

/* One change to the desired state, as a command makes it. */
struct gw_change {
	bool replace; /* items become the whole state */
	struct npgw_k8s_cluster *items; /* upserted, owned; may be NULL */
	struct npgw_state_removal *removals; /* owned, their strings too */
	size_t n_removals;
	/* set by gw_submit */
	char *json; /* the journal's text of it */
	size_t objects; /* objects of the desired state once it is in */
	struct npgw_ctl_pending *pending; /* the deferred reply, or NULL */
	struct timespec t0; /* when it was submitted */
	double validate_ms; /* its checks on the control thread */
	bool solo; /* built alone (a retry after a failed build) */
	struct gw_change *next;
};

/* Free a change and what it owns. Accepts NULL. */
void gw_change_free(struct gw_change *ch);

/* Add a removal to ch (the strings are copied). 0 or -ENOMEM. */
int gw_change_remove(struct gw_change *ch, const char *kind, const char *ns, const char *name);

/* Where the time of the last change went, milliseconds. */
struct gw_commit_times {
	double validate_ms; /* the checks of the change against the desired state */
	double compile_ms; /* incremental or full */
	double build_ms; /* npgw_ruleset_build */
	double save_ms; /* the journal append and its fsync */
	double publish_ms; /* npgw_dp_publish_nowait: the store (the old one is freed later) */
	double wait_ms; /* from the request to the start of its build */
	bool incremental; /* npgw_compile_update_pods answered */
};

/* A build: the changes that go into one generation. */
struct gw_job {
	struct gw_change *changes; /* in order */
	size_t n;
	uint64_t generation;
	const struct npgw_ruleset *base; /* live when it started: read only */
	bool journal; /* append the record (not for a restored state) */
	bool no_incremental; /* the live generation is not what the builder has */
	/* results */
	int rc;
	struct npgw_ctl_error err;
	struct npgw_ruleset *rs;
	struct gw_commit_times tm;
	size_t objects;
	struct timespec t0; /* when it started */
};

struct gateway {
	const struct npgw_config *cfg;
	struct npgw_dp *dp;
	struct npgw_ctl *ctl;
	struct npgw_state *state; /* the state directory, locked */
	/* what the control thread answers from: every accepted change, built
	 * or not (sorted; edited in place) */
	struct npgw_k8s_cluster *desired;
	uint64_t generation; /* the live one, 0 before the first */
	struct timespec built_at; /* wall clock, when it went live */
	double build_ms; /* stage-1 and ACL build of the live generation */
	double commit_ms; /* request to live, of the last change */
	struct gw_commit_times times; /* of the last change */
	uint64_t n_incremental, n_full; /* compiles since start */
	uint64_t n_builds, n_coalesced, n_refused_late; /* builds; changes that shared one;
							   changes refused by a failed build */
	/* The state file could not be read (corrupt, or from a newer npgw):
	 * changes are refused until an operator moves it away, so that it is
	 * never overwritten with a guess. */
	bool state_blocked;
	char state_problem[256];
	struct gw_waiter waiters[GW_MAX_WAITERS];
	unsigned int n_waiters;

	/* the builder */
	struct npgw_k8s_cluster *mirror; /* the builder's copy: what the live
					    generation (or the one in flight)
					    was built from */
	struct gw_change *queue, **queue_tail; /* accepted, waiting for a build */
	size_t n_queued;
	struct gw_job *inflight; /* handed to the builder */
	bool mirror_ahead; /* a build was journaled but not published */
	pthread_t builder;
	bool builder_running;
	pthread_mutex_t lock; /* guards job, stop */
	pthread_cond_t cond;
	struct gw_job *job; /* for the builder to take */
	bool stop;
	int done_fd; /* eventfd: a build finished; the control loop polls it */
};

/*
 * Check a change against the desired state and accept it (NPGW_CTL_DEFER:
 * the reply comes when its generation is live, or its build fails; 0 when
 * r has no connection, as for SIGHUP: nothing to answer) or refuse it
 * (< 0, r->error and maybe r->result set; nothing changed; -EBUSY when no
 * reply can be deferred). Takes ch either way.
 */
int gw_submit(struct gateway *gw, struct gw_change *ch, struct npgw_ctl_reply *r);

/* The builder finished (done_fd readable): publish, answer, start the
 * next build. */
void gw_builder_done(struct gateway *gw);

/* Start and stop the builder thread. Stop waits for a build in flight
 * (its generation is not published; its clients get "shutdown"). */
int gw_builder_start(struct gateway *gw);
void gw_builder_stop(struct gateway *gw);

/*
 * At start: open and lock the state directory (a failure is fatal:
 * returns -EBUSY when another npgw holds it), restore the saved state,
 * and in file mode read the policy files over it; build and publish the
 * first generation. A state that cannot be read is reported and leaves no
 * generation (the configured posture applies). Returns 0 when a generation
 * is live, -EBUSY / -EACCES... when the directory cannot be had (the
 * daemon stops), another negative errno when there is no generation.
 */
int gw_start(struct gateway *gw);

/* The config's policy paths as one validated cluster; NULL (every message
 * printed) on any error. */
struct npgw_k8s_cluster *gw_load_files(const struct npgw_config *cfg);

/* SIGHUP: in file mode the policy files become the whole desired state
 * (submitted as a replace); in socket mode nothing changes, and the log
 * says so. */
int gw_reload_files(struct gateway *gw);

/* "files" or "socket". */
const char *gw_owner_name(const struct gateway *gw);

/* Complete the waits a new generation satisfies, and drop dead ones. */
void gw_wake_waiters(struct gateway *gw);

/* Register the control commands on gw->ctl. Returns 0 or a negative errno. */
int gw_register_commands(struct gateway *gw);

/* Free what gw owns (not cfg, dp, ctl); the builder must be stopped. */
void gw_fini(struct gateway *gw);

/* The daemon's own messages go to stderr at the config's log_level
 * ("error", "warning", "info", "debug"), whatever level DPDK's libraries
 * get from the EAL arguments. */
void gw_set_log_level(const char *name);
/* The daemon's log (stderr, at the config's level). Any thread. */
void gw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* NPGW_GATEWAY_H */
