/*
 * gateway.c: how a desired state becomes the live generation, at start,
 * on SIGHUP and on every change over the control socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_log.h>

#include "gateway.h"
#include "npgw_state.h"

static uint32_t gw_log_level = RTE_LOG_INFO;

void gw_set_log_level(const char *name)
{
	if (name == NULL || strcmp(name, "info") == 0)
		gw_log_level = RTE_LOG_INFO;
	else if (strcmp(name, "error") == 0)
		gw_log_level = RTE_LOG_ERR;
	else if (strcmp(name, "warning") == 0)
		gw_log_level = RTE_LOG_WARNING;
	else if (strcmp(name, "debug") == 0)
		gw_log_level = RTE_LOG_DEBUG;
}

void gw_log(int level, const char *fmt, ...)
{
	va_list ap;

	if ((uint32_t)level > gw_log_level)
		return;
	fputs("npgw: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* {"diagnostics": [...]} from a diagnostics list; NULL when empty. */
static cJSON *diag_details(const struct npgw_diags *d)
{
	char *s;
	cJSON *arr, *o;

	if (d->n == 0)
		return NULL;
	s = npgw_diags_to_json(d);
	arr = s ? cJSON_Parse(s) : NULL;
	free(s);
	if (arr == NULL)
		return NULL;
	o = cJSON_CreateObject();
	if (o == NULL) {
		cJSON_Delete(arr);
		return NULL;
	}
	cJSON_AddItemToObject(o, "diagnostics", arr);
	return o;
}

/*
 * The compile result of next: incremental from the live generation's when
 * delta says only pods changed and they fit its classes, else in full.
 * *incremental says which. NULL with *rc set on failure.
 */
static struct npgw_compile_result *compile_next(struct gateway *gw,
						const struct npgw_k8s_cluster *next,
						const struct gw_pod_delta *delta, bool *incremental,
						int *rc)
{
	const struct npgw_ruleset *live = npgw_dp_current(gw->dp);
	struct npgw_compile_result *cr = NULL;

	*incremental = false;
	if (delta != NULL && live != NULL) {
		cr = npgw_compile_update_pods(npgw_ruleset_compiled(live), next, delta->removed,
					      delta->n_removed, delta->added, delta->n_added, rc);
		*incremental = cr != NULL;
		/* -EAGAIN (a new class, an emptied one...) or even -ENOMEM:
		 * the full compile decides */
	}
	return cr != NULL ? cr : npgw_compile(next, rc);
}

int gw_commit(struct gateway *gw, struct npgw_k8s_cluster *next, uint64_t generation, bool save,
	      const struct gw_pod_delta *delta, struct npgw_ctl_error *err, cJSON **details)
{
	struct npgw_diags diags = {0};
	struct npgw_compile_result *cr;
	struct npgw_ruleset *rs = NULL;
	struct npgw_ruleset_info info;
	struct gw_commit_times tm = {0};
	struct timespec t0, t;
	char why[512];
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = t0;
	if (details)
		*details = NULL;
	if (generation == 0 && gw->generation >= NPGW_STATE_MAX_GENERATION) {
		npgw_ctl_error(err, "generation-limit",
			       "generation %" PRIu64 " is the last (2^53): npgw never wraps; "
			       "restart it with the state moved away; nothing changed",
			       gw->generation);
		rc = -ERANGE;
		goto fail;
	}
	if (generation == 0)
		generation = gw->generation + 1;
	rc = npgw_k8s_cluster_validate(next, &diags);
	if (rc < 0 && diags.n_errors == 0) {
		npgw_ctl_error(err, NPGW_CTL_E_INTERNAL, "cannot validate: %s; nothing changed",
			       strerror(-rc));
		goto fail;
	}
	if (diags.n_errors > 0) {
		npgw_ctl_error(err, "invalid", "%zu error%s in the objects; nothing changed",
			       diags.n_errors, diags.n_errors == 1 ? "" : "s");
		if (details)
			*details = diag_details(&diags);
		rc = -EINVAL;
		goto fail;
	}
	if (save) {
		/* the state file's limits before any compile: a change too large
		 * to save is refused now, not after the tables are built */
		rc = npgw_state_check_size(next, why, sizeof(why));
		if (rc < 0) {
			npgw_ctl_error(err, rc == -EFBIG ? "too-large" : NPGW_CTL_E_INTERNAL, "%s",
				       why);
			goto fail;
		}
	}
	tm.validate_ms = ms_since(&t);
	clock_gettime(CLOCK_MONOTONIC, &t);
	cr = compile_next(gw, next, delta, &tm.incremental, &rc);
	tm.compile_ms = ms_since(&t);
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (cr != NULL)
		rs = npgw_ruleset_build_or_ranges(cr, next, generation, npgw_dp_current(gw->dp),
						  &rc);
	tm.build_ms = ms_since(&t);
	if (rs == NULL) {
		npgw_ctl_error(err, "build-failed", "cannot build the tables: %s; nothing changed",
			       strerror(-rc));
		goto fail;
	}
	npgw_ruleset_get_info(rs, &info);
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (save) {
		rc = npgw_state_save(gw->cfg->state_dir, next, generation, why, sizeof(why));
		if (rc < 0) {
			npgw_ctl_error(err, "persist-failed", "%s; nothing changed", why);
			npgw_ruleset_free(rs);
			goto fail;
		}
	}
	tm.save_ms = ms_since(&t);
	clock_gettime(CLOCK_MONOTONIC, &t);
	rc = npgw_dp_publish(gw->dp, rs);
	tm.publish_ms = ms_since(&t);
	if (rc < 0) {
		/* the state file already holds next: what a restart would run */
		npgw_ctl_error(err, "publish-failed", "saved, but cannot publish: %s",
			       strerror(-rc));
		goto fail;
	}
	gw->build_ms = info.build_seconds * 1e3;
	gw->commit_ms = ms_since(&t0);
	gw->times = tm;
	if (tm.incremental)
		gw->n_incremental++;
	else
		gw->n_full++;
	clock_gettime(CLOCK_REALTIME, &gw->built_at);
	gw_log(RTE_LOG_INFO,
	       "generation %" PRIu64 " is live: %zu policies, %zu pods, %zu namespaces -> "
	       "%u classes, %zu ACL rules%s; %.1f ms from request to live (validate %.2f, "
	       "%s compile %.2f, build %.2f, save %.2f, publish %.2f)",
	       generation, next->n_policies, next->n_pods, next->n_namespaces, info.n_classes,
	       info.n_acl_rules, info.acl_shared ? " (ACL shared with the previous one)" : "",
	       gw->commit_ms, tm.validate_ms, tm.incremental ? "incremental" : "full",
	       tm.compile_ms, tm.build_ms, tm.save_ms, tm.publish_ms);
	npgw_k8s_cluster_free(gw->desired);
	gw->desired = next;
	gw->generation = generation;
	npgw_diags_free(&diags);
	gw_wake_waiters(gw);
	return 0;
fail:
	gw_log(RTE_LOG_ERR, "change refused (%s): %s", err->code, err->message);
	npgw_diags_print(&diags, stderr);
	npgw_diags_free(&diags);
	npgw_k8s_cluster_free(next);
	return rc < 0 ? rc : -EINVAL;
}

struct npgw_k8s_cluster *gw_load_files(const struct npgw_config *cfg)
{
	struct npgw_diags d = {0};
	int err = 0; /* the messages in d say it all */
	struct npgw_k8s_cluster *c = npgw_k8s_load_paths((const char *const *)cfg->policy_paths,
							 cfg->n_policy_paths, &d, &err);

	npgw_diags_print(&d, stderr);
	npgw_diags_free(&d);
	return c;
}

int gw_reload_files(struct gateway *gw)
{
	struct npgw_k8s_cluster *c;
	struct npgw_ctl_error err;

	memset(&err, 0, sizeof(err));
	if (gw->state_blocked) {
		gw_log(RTE_LOG_ERR, "reload refused: %s", gw->state_problem);
		return -EPERM;
	}
	c = gw_load_files(gw->cfg);
	if (c == NULL) {
		gw_log(RTE_LOG_ERR, "policy files refused: the live generation stays");
		return -EINVAL;
	}
	return gw_commit(gw, c, 0, true, NULL, &err, NULL);
}

int gw_start(struct gateway *gw)
{
	struct npgw_diags d = {0};
	struct npgw_ctl_error err;
	uint64_t gen = 0;
	int rc = 0;
	struct npgw_k8s_cluster *c = npgw_state_load(gw->cfg->state_dir, &gen, &d, &rc);

	memset(&err, 0, sizeof(err));
	npgw_diags_print(&d, stderr);
	npgw_diags_free(&d);
	if (c != NULL) {
		gw_log(RTE_LOG_INFO, "restoring the saved state of generation %" PRIu64 " from %s",
		       gen, gw->cfg->state_dir);
		/* the saved state keeps its number: it was live before */
		return gw_commit(gw, c, gen, false, NULL, &err, NULL);
	}
	if (rc != -ENOENT) {
		snprintf(gw->state_problem, sizeof(gw->state_problem),
			 "the state in %s cannot be read (%s); move it away to start afresh",
			 gw->cfg->state_dir, strerror(-rc));
		gw->state_blocked = true;
		gw_log(RTE_LOG_ERR, "%s", gw->state_problem);
		return rc;
	}
	gw_log(RTE_LOG_INFO, "no saved state in %s: reading the policy files",
	       gw->cfg->state_dir);
	c = gw_load_files(gw->cfg);
	if (c == NULL)
		return -EINVAL;
	return gw_commit(gw, c, 0, true, NULL, &err, NULL);
}

void gw_wake_waiters(struct gateway *gw)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < gw->n_waiters; i++) {
		struct gw_waiter *w = &gw->waiters[i];

		if (!npgw_ctl_pending_alive(w->pending)) {
			npgw_ctl_complete(gw->ctl, w->pending, NULL, NULL); /* frees it */
			continue;
		}
		if (gw->generation >= w->generation) {
			cJSON *r = cJSON_CreateObject();

			if (r != NULL)
				npgw_ctl_add_u64(r, "generation", gw->generation);
			npgw_ctl_complete(gw->ctl, w->pending, r,
					  r ? NULL
					    : &(struct npgw_ctl_error){NPGW_CTL_E_INTERNAL,
								       "out of memory"});
			continue;
		}
		gw->waiters[n++] = *w;
	}
	gw->n_waiters = n;
}

void gw_fini(struct gateway *gw)
{
	npgw_k8s_cluster_free(gw->desired);
	gw->desired = NULL;
	/* pending waits are freed by npgw_ctl_free (the clients get "shutdown") */
	gw->n_waiters = 0;
}
