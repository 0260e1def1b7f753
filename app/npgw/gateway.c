/*
 * gateway.c: how a desired state becomes the live generation, at start,
 * on SIGHUP and on every change over the control socket: the checks on
 * the control thread, the builder thread, publishing and answering (see
 * gateway.h for the flow).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_log.h>

#include "gateway.h"
#include "npgw_state.h"
#include "obs.h"

/* A deferred reply waits at most this long for its generation (a build
 * of 100,000 rules takes seconds; the client has its own timeout). */
#define GW_REPLY_TIMEOUT_MS (10 * 60 * 1000)
/* A change with more new pods than this is checked against the whole
 * desired state (sorting) rather than pod by pod. */
#define GW_SCAN_PODS 64

RTE_LOG_REGISTER_SUFFIX(gw_logtype, gateway, INFO);

void gw_set_log_level(const char *name)
{
	uint32_t level = RTE_LOG_INFO;

	if (name != NULL && strcmp(name, "error") == 0)
		level = RTE_LOG_ERR;
	else if (name != NULL && strcmp(name, "warning") == 0)
		level = RTE_LOG_WARNING;
	else if (name != NULL && strcmp(name, "debug") == 0)
		level = RTE_LOG_DEBUG;
	/* the pattern also reaches types registered later */
	rte_log_set_level_pattern("npgw.*", level);
}

void gw_log(int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (!rte_log_can_log(gw_logtype, (uint32_t)level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rte_log((uint32_t)level, gw_logtype, "npgw.gateway: %s\n", line); /* one write */
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


/* ---- changes ---- */

void gw_change_free(struct gw_change *ch)
{
	if (ch == NULL)
		return;
	npgw_k8s_cluster_free(ch->items);
	for (size_t i = 0; i < ch->n_removals; i++) {
		free((void *)(uintptr_t)ch->removals[i].ns);
		free((void *)(uintptr_t)ch->removals[i].name);
	}
	free(ch->removals);
	free(ch->json);
	free(ch);
}

int gw_change_remove(struct gw_change *ch, const char *kind, const char *ns, const char *name)
{
	struct npgw_state_removal *v = realloc(ch->removals, (ch->n_removals + 1) * sizeof(*v));
	struct npgw_state_removal *r;

	if (v == NULL)
		return -ENOMEM;
	ch->removals = v;
	r = &v[ch->n_removals];
	r->kind = kind; /* a static string: npgw_state_kind's */
	r->ns = ns ? strdup(ns) : NULL;
	r->name = strdup(name);
	if ((ns && r->ns == NULL) || r->name == NULL) {
		free((void *)(uintptr_t)r->ns);
		free((void *)(uintptr_t)r->name);
		return -ENOMEM;
	}
	ch->n_removals++;
	return 0;
}

static struct npgw_state_change state_change(const struct gw_change *ch)
{
	return (struct npgw_state_change){
		.replace = ch->replace,
		.removals = ch->removals,
		.n_removals = ch->n_removals,
		.items = ch->items,
	};
}

/* Does the object a removal names exist in c? */
static bool removal_exists(const struct npgw_k8s_cluster *c, const struct npgw_state_removal *r)
{
	const char *ns = r->ns && r->ns[0] ? r->ns : "default";

	if (strcmp(r->kind, "Namespace") == 0)
		return npgw_k8s_find_namespace(c, r->name) != NULL;
	if (strcmp(r->kind, "Pod") == 0)
		return npgw_k8s_find_pod(c, ns, r->name) != NULL;
	for (size_t i = 0; i < c->n_policies; i++)
		if (strcmp(c->policies[i]->namespace, ns) == 0 &&
		    strcmp(c->policies[i]->name, r->name) == 0)
			return true;
	return false;
}

static bool is_new(const struct npgw_k8s_pod *const *v, size_t n, const struct npgw_k8s_pod *p)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == p)
			return true;
	return false;
}

/*
 * The addresses of the pods a change put into c (n of them, checked among
 * themselves already) against every other pod of c, as
 * npgw_k8s_cluster_validate words it.
 */
static void check_new_pods(const struct npgw_k8s_cluster *c, const struct npgw_k8s_pod *const *v,
			   size_t n, struct npgw_diags *d)
{
	for (size_t i = 0; i < n; i++) {
		const struct npgw_k8s_pod *b = v[i];

		if (!npgw_k8s_pod_is_policy_target(b))
			continue;
		for (size_t j = 0; j < c->n_pods; j++) {
			const struct npgw_k8s_pod *a = c->pods[j];

			if (a == b || !npgw_k8s_pod_is_policy_target(a) || is_new(v, n, a))
				continue;
			for (size_t x = 0; x < b->n_addrs; x++)
				for (size_t y = 0; y < a->n_addrs; y++) {
					char buf[64];

					if (npgw_addr_cmp(&b->addrs[x], &a->addrs[y]) != 0)
						continue;
					npgw_diags_add(d, NPGW_SEV_ERROR, b->origin.file,
						       b->origin.line, b->origin.col, "",
						       "pod %s/%s claims address %s, already claimed "
						       "by pod %s/%s (%s:%u:%u)",
						       b->namespace, b->name,
						       npgw_addr_format(&b->addrs[x], buf, sizeof(buf)),
						       a->namespace, a->name, a->origin.file,
						       a->origin.line, a->origin.col);
				}
		}
	}
}

/*
 * Check ch against gw->desired and, when it holds, apply it there (the
 * builder gets its own copy of the items). Returns 0, or a negative errno
 * with err (and *details) set and gw->desired as it was. undo: NULL to
 * keep the change at once, else it receives what undoes it.
 */
static int accept_change(struct gateway *gw, struct gw_change *ch, struct npgw_ctl_error *err,
			 cJSON **details, struct npgw_state_undo *undo)
{
	struct npgw_state_change sc = state_change(ch);
	struct npgw_k8s_cluster *copy = NULL;
	const struct npgw_k8s_pod **pods = NULL;
	struct npgw_state_undo u = {0};
	struct npgw_diags d = {0};
	size_t n_pods = ch->items ? ch->items->n_pods : 0;
	int rc = 0, e = 0;

	*details = NULL;
	if (ch->items != NULL) {
		rc = npgw_k8s_cluster_validate(ch->items, &d);
		if (rc < 0 && d.n_errors == 0)
			goto nomem;
	}
	if (d.n_errors > 0)
		goto invalid;
	for (size_t i = 0; i < ch->n_removals; i++)
		if (!ch->replace && !removal_exists(gw->desired, &ch->removals[i])) {
			const struct npgw_state_removal *r = &ch->removals[i];

			npgw_ctl_error(err, NPGW_CTL_E_NOT_FOUND, "%s %s%s%s not found; nothing changed",
				       r->kind, r->ns ? r->ns : "", r->ns ? "/" : "", r->name);
			return -ENOENT;
		}
	/* the journal's text is made by the builder, from its copy: for a
	 * large change it takes seconds */
	pods = calloc(n_pods + 1, sizeof(*pods));
	if (pods == NULL)
		goto nomem;
	for (size_t i = 0; i < n_pods; i++)
		pods[i] = ch->items->pods[i];
	if (ch->items != NULL && (copy = npgw_k8s_cluster_clone(ch->items, &e)) == NULL)
		goto nomem;
	/* the change's own objects go into gw->desired (the pods checked
	 * below are those); the copy is the builder's */
	rc = npgw_state_change_apply(gw->desired, &sc, ch->items, &u);
	if (rc < 0) {
		npgw_state_undo_clear(&u);
		if (rc == -ENOMEM)
			goto nomem;
		npgw_ctl_error(err, NPGW_CTL_E_NOT_FOUND, "an object to remove is not there: %s; nothing "
						 "changed", strerror(-rc));
		goto out;
	}
	if (copy != NULL) {
		npgw_k8s_cluster_free(ch->items); /* emptied */
		ch->items = copy;
		copy = NULL;
	}
	if (!ch->replace) {
		if (n_pods <= GW_SCAN_PODS)
			check_new_pods(gw->desired, pods, n_pods, &d);
		else if (npgw_k8s_cluster_validate(gw->desired, &d) < 0 && d.n_errors == 0)
			rc = -ENOMEM;
	}
	if (rc < 0 || d.n_errors > 0) {
		npgw_state_undo_rollback(gw->desired, &u);
		npgw_state_undo_clear(&u);
		if (rc == -ENOMEM)
			goto nomem;
		goto invalid;
	}
	if (undo != NULL) {
		*undo = u; /* the caller commits or rolls back */
	} else {
		npgw_state_undo_commit(&u);
		npgw_state_undo_clear(&u);
	}
	ch->objects = npgw_k8s_object_count(gw->desired);
	rc = 0;
	goto out;
invalid:
	npgw_ctl_error(err, NPGW_CTL_E_INVALID, "%zu error%s in the objects; nothing changed", d.n_errors,
		       d.n_errors == 1 ? "" : "s");
	*details = diag_details(&d);
	rc = -EINVAL;
	goto out;
nomem:
	npgw_ctl_error(err, NPGW_CTL_E_INTERNAL, "out of memory; nothing changed");
	rc = -ENOMEM;
out:
	if (rc < 0) {
		gw_obs_apply(gw, 0, false);
		gw_log(RTE_LOG_ERR, "change refused (%s): %s", err->code, err->message);
		npgw_diags_print(&d, stderr);
	}
	npgw_k8s_cluster_free(copy);
	npgw_diags_free(&d);
	free(pods);
	return rc;
}

/* ---- the build (builder thread, or the control thread at start) ---- */

/*
 * Apply the job's changes to gw->mirror, compile (incrementally when only
 * pods changed and they fit the live classes), build, journal. On failure
 * gw->mirror is as it was and job->rc < 0 with job->err.
 */
static void run_job(struct gateway *gw, struct gw_job *job)
{
	const struct npgw_k8s_pod **removed = NULL, **added = NULL;
	struct npgw_compile_result *cr = NULL;
	struct npgw_state_undo u = {0};
	size_t n_removed = 0, n_added = 0, k = 0;
	const char **texts = NULL;
	struct timespec t;
	char why[512];
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &job->t0);
	memset(&job->tm, 0, sizeof(job->tm));
	texts = calloc(job->n + 1, sizeof(*texts));
	if (texts == NULL) {
		rc = -ENOMEM;
		npgw_ctl_error(&job->err, NPGW_CTL_E_INTERNAL, "out of memory; nothing changed");
		goto fail;
	}
	for (struct gw_change *ch = job->changes; ch != NULL && k < job->n; ch = ch->next, k++) {
		struct npgw_state_change sc = state_change(ch);
		struct npgw_k8s_cluster *copy = NULL;
		int e = 0;

		if (ch->json == NULL && job->journal) {
			ch->json = npgw_state_change_json(&sc);
			if (ch->json == NULL)
				rc = -ENOMEM;
		}
		texts[k] = ch->json;
		/* a copy: the change's items must outlive a failed build */
		if (ch->items != NULL && (copy = npgw_k8s_cluster_clone(ch->items, &e)) == NULL)
			rc = -ENOMEM;
		if (rc == 0)
			rc = npgw_state_change_apply(gw->mirror, &sc, copy, &u);
		npgw_k8s_cluster_free(copy);
		if (rc < 0) {
			npgw_ctl_error(&job->err, NPGW_CTL_E_INTERNAL,
				       "cannot apply the change to the build's state: %s; nothing "
				       "changed",
				       strerror(-rc));
			goto fail;
		}
	}
	job->objects = npgw_k8s_object_count(gw->mirror);
	if (job->generation > NPGW_STATE_MAX_GENERATION) {
		rc = -ERANGE;
		npgw_ctl_error(&job->err, "generation-limit",
			       "generation %" PRIu64 " is the last (2^53): npgw never wraps; "
			       "restart it with the state moved away; nothing changed",
			       job->generation - 1);
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (job->base != NULL && !job->no_incremental &&
	    npgw_state_undo_pods(&u, &removed, &n_removed, &added, &n_added) == 0) {
		cr = npgw_compile_update_pods(npgw_ruleset_compiled(job->base), gw->mirror, removed,
					      n_removed, added, n_added, &rc);
		job->tm.incremental = cr != NULL;
		/* -EAGAIN (a new class, an emptied one...) or even -ENOMEM:
		 * the full compile decides */
	}
	if (cr == NULL)
		cr = npgw_compile(gw->mirror, &rc);
	job->tm.compile_ms = ms_since(&t);
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (cr != NULL)
		job->rs = npgw_ruleset_build_or_ranges(cr, gw->mirror, job->generation, job->base,
						       &rc);
	job->tm.build_ms = ms_since(&t);
	if (job->rs == NULL) {
		npgw_ctl_error(&job->err, NPGW_CTL_E_BUILD_FAILED, "cannot build the tables: %s; nothing "
							  "changed",
			       strerror(-rc));
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (job->journal && gw->state != NULL) {
		rc = npgw_state_append(gw->state, job->generation, texts, job->n, gw->mirror, why,
				       sizeof(why));
		if (rc < 0) {
			npgw_ctl_error(&job->err, NPGW_CTL_E_PERSIST_FAILED, "%s; nothing changed", why);
			npgw_ruleset_free(job->rs);
			job->rs = NULL;
			goto fail;
		}
	}
	job->tm.save_ms = ms_since(&t);
	/* nothing refers to the objects the changes displaced any more: the
	 * compile copied what it keeps */
	npgw_state_undo_commit(&u);
	npgw_state_undo_clear(&u);
	free(removed);
	free(added);
	free(texts);
	job->rc = 0;
	return;
fail:
	npgw_state_undo_rollback(gw->mirror, &u);
	npgw_state_undo_clear(&u);
	free(removed);
	free(added);
	free(texts);
	job->rc = rc < 0 ? rc : -EINVAL;
}

static void *builder_main(void *arg)
{
	struct gateway *gw = arg;
	uint64_t one = 1;


	pthread_mutex_lock(&gw->lock);
	for (;;) {
		struct gw_job *job;

		while (gw->job == NULL && !gw->stop)
			pthread_cond_wait(&gw->cond, &gw->lock);
		if (gw->job == NULL)
			break;
		job = gw->job;
		gw->job = NULL;
		pthread_mutex_unlock(&gw->lock);
		run_job(gw, job);
		if (write(gw->done_fd, &one, sizeof(one)) != sizeof(one))
			gw_log(RTE_LOG_ERR, "builder: cannot signal the control thread");
		pthread_mutex_lock(&gw->lock);
	}
	pthread_mutex_unlock(&gw->lock);
	return NULL;
}

int gw_builder_start(struct gateway *gw)
{
	int rc;

	gw->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (gw->done_fd < 0)
		return -errno;
	pthread_mutex_init(&gw->lock, NULL);
	pthread_cond_init(&gw->cond, NULL);
	/* a control thread of the EAL: on the CPUs no worker polls (with
	 * none spare, the main lcore's, where the control loop mostly sleeps
	 * in poll and, woken, preempts a build) */
	rc = rte_ctrl_thread_create(&gw->builder, "npgw-builder", NULL, builder_main, gw);
	if (rc != 0) {
		close(gw->done_fd);
		gw->done_fd = -1;
		return rc < 0 ? rc : -rc;
	}
	gw->builder_running = true;
	return 0;
}

static void free_job(struct gw_job *job)
{
	while (job && job->changes) {
		struct gw_change *ch = job->changes;

		job->changes = ch->next;
		gw_change_free(ch);
	}
	free(job);
}

void gw_builder_stop(struct gateway *gw)
{
	if (!gw->builder_running)
		return;
	pthread_mutex_lock(&gw->lock);
	gw->stop = true;
	pthread_cond_signal(&gw->cond);
	pthread_mutex_unlock(&gw->lock);
	pthread_join(gw->builder, NULL);
	gw->builder_running = false;
	if (gw->inflight != NULL) {
		/* built (and journaled) but not published: the clients get
		 * "shutdown" from npgw_ctl_free; a restart has the record */
		npgw_ruleset_free(gw->inflight->rs);
		free_job(gw->inflight);
		gw->inflight = NULL;
	}
	pthread_mutex_destroy(&gw->lock);
	pthread_cond_destroy(&gw->cond);
	close(gw->done_fd);
	gw->done_fd = -1;
}

/* ---- publishing and answering (control thread) ---- */

static void reply_ok(struct gateway *gw, struct gw_change *ch, const struct gw_job *job)
{
	cJSON *r;

	if (ch->pending == NULL)
		return;
	r = cJSON_CreateObject();
	if (r != NULL) {
		cJSON *t;

		npgw_ctl_add_u64(r, "generation", job->generation);
		cJSON_AddNumberToObject(r, "commit_ms", ms_since(&ch->t0));
		cJSON_AddNumberToObject(r, "objects", (double)ch->objects);
		t = cJSON_AddObjectToObject(r, "timing_ms");
		if (t != NULL) {
			cJSON_AddNumberToObject(t, "validate", ch->validate_ms);
			cJSON_AddNumberToObject(t, "wait", ms_since(&ch->t0) - ms_since(&job->t0));
			cJSON_AddNumberToObject(t, "compile", job->tm.compile_ms);
			cJSON_AddNumberToObject(t, "build", job->tm.build_ms);
			cJSON_AddNumberToObject(t, "save", job->tm.save_ms);
			cJSON_AddNumberToObject(t, "publish", job->tm.publish_ms);
		}
		cJSON_AddBoolToObject(r, "incremental", job->tm.incremental);
		cJSON_AddNumberToObject(r, "coalesced", (double)job->n);
	}
	npgw_ctl_complete(gw->ctl, ch->pending, r,
			  r ? NULL
			    : &(struct npgw_ctl_error){NPGW_CTL_E_INTERNAL, "out of memory"});
	ch->pending = NULL;
}

static void reply_err(struct gateway *gw, struct gw_change *ch, const struct npgw_ctl_error *e)
{
	if (ch->pending == NULL)
		return;
	npgw_ctl_complete(gw->ctl, ch->pending, NULL, e);
	ch->pending = NULL;
}

/* Publish a job's generation. 0, or < 0 with the job's error set. */
static int publish(struct gateway *gw, struct gw_job *job)
{
	struct npgw_ruleset_info info;
	struct timespec t;
	int rc;

	npgw_ruleset_get_info(job->rs, &info);
	clock_gettime(CLOCK_MONOTONIC, &t);
	/* live with the store; the old generation is freed by the control
	 * loop once the workers are past it (npgw_dp_reclaim) */
	rc = npgw_dp_publish_nowait(gw->dp, job->rs); /* takes rs, also on failure */
	job->rs = NULL;
	job->tm.publish_ms = ms_since(&t);
	if (rc < 0) {
		/* the journal already holds it: what a restart would run */
		npgw_ctl_error(&job->err, NPGW_CTL_E_PUBLISH_FAILED, "saved, but cannot publish: %s",
			       strerror(-rc));
		return rc;
	}
	gw->generation = job->generation;
	gw->mirror_ahead = false; /* what is live is what the builder has */
	gw->build_ms = info.build_seconds * 1e3;
	gw->commit_ms = ms_since(&job->changes->t0);
	gw_obs_apply(gw, gw->commit_ms / 1e3, true);
	job->tm.validate_ms = job->changes->validate_ms;
	job->tm.wait_ms = gw->commit_ms - ms_since(&job->t0);
	gw->times = job->tm;
	gw->n_builds++;
	if (job->n > 1)
		gw->n_coalesced += job->n;
	if (job->tm.incremental)
		gw->n_incremental++;
	else
		gw->n_full++;
	clock_gettime(CLOCK_REALTIME, &gw->built_at);
	gw_log(RTE_LOG_INFO,
	       "generation %" PRIu64 " is live: %zu change%s, %zu policies, %zu pods, "
	       "%zu namespaces -> %u classes, %zu ACL rules%s; %.1f ms from request to live "
	       "(wait %.2f, %s compile %.2f, build %.2f, journal %.2f, publish %.2f)",
	       job->generation, job->n, job->n == 1 ? "" : "s", gw->mirror->n_policies,
	       gw->mirror->n_pods, gw->mirror->n_namespaces, info.n_classes, info.n_acl_rules,
	       info.acl_shared ? " (ACL shared with the previous one)" : "", gw->commit_ms,
	       job->tm.wait_ms, job->tm.incremental ? "incremental" : "full", job->tm.compile_ms,
	       job->tm.build_ms, job->tm.save_ms, job->tm.publish_ms);
	return 0;
}

/*
 * gw->desired after a build failed: the builder's state (what is live)
 * with the changes still waiting applied again, each checked again; those
 * that no longer hold are refused.
 */
static void resync_desired(struct gateway *gw)
{
	struct gw_change *q = gw->queue, **tail;
	int e = 0;
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_clone(gw->mirror, &e);

	if (c == NULL) {
		gw_log(RTE_LOG_ERR, "out of memory: the desired state may be ahead of the live one");
		return;
	}
	npgw_k8s_cluster_free(gw->desired);
	gw->desired = c;
	gw->queue = NULL;
	gw->queue_tail = &gw->queue;
	gw->n_queued = 0;
	tail = &gw->queue;
	while (q != NULL) {
		struct gw_change *next = q->next;
		struct npgw_ctl_error err = {0};
		cJSON *details = NULL;

		q->next = NULL;
		if (accept_change(gw, q, &err, &details, NULL) < 0) {
			if (q->pending != NULL)
				npgw_ctl_complete(gw->ctl, q->pending, details, &err);
			else
				cJSON_Delete(details);
			q->pending = NULL;
			gw->n_refused_late++;
			gw_change_free(q);
		} else {
			*tail = q;
			tail = &q->next;
			gw->n_queued++;
		}
		q = next;
	}
	gw->queue_tail = tail;
}

/* Hand the waiting changes to the builder when it is idle: all of them
 * (coalesced), or the first alone when it is a retry. */
static void dispatch(struct gateway *gw)
{
	struct gw_job *job;
	struct gw_change *last;
	size_t n = 0;

	if (gw->inflight != NULL || gw->queue == NULL || !gw->builder_running)
		return;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return; /* the next completion or change tries again */
	last = gw->queue;
	n = 1;
	if (!last->solo)
		while (last->next != NULL && !last->next->solo) {
			last = last->next;
			n++;
		}
	job->changes = gw->queue;
	job->n = n;
	gw->queue = last->next;
	last->next = NULL;
	if (gw->queue == NULL)
		gw->queue_tail = &gw->queue;
	gw->n_queued -= n;
	job->generation = gw->generation + 1;
	job->base = npgw_dp_current(gw->dp);
	job->no_incremental = gw->mirror_ahead;
	job->journal = true;
	gw->inflight = job;
	pthread_mutex_lock(&gw->lock);
	gw->job = job;
	pthread_cond_signal(&gw->cond);
	pthread_mutex_unlock(&gw->lock);
}

/* Answer (or retry) the changes of a finished job; frees it. */
static void finish(struct gateway *gw, struct gw_job *job)
{
	if (job->rc == 0 && publish(gw, job) == 0) {
		for (struct gw_change *ch = job->changes; ch != NULL; ch = ch->next)
			reply_ok(gw, ch, job);
		free_job(job);
		gw_wake_waiters(gw);
		return;
	}
	if (job->rc == 0) {
		/* built and journaled, not published (out of memory): the
		 * builder's state is ahead of the live generation, so the next
		 * compile cannot start from the live one's; say so, as before */
		gw->mirror_ahead = true;
		for (struct gw_change *ch = job->changes; ch != NULL; ch = ch->next)
			reply_err(gw, ch, &job->err);
		free_job(job);
		return;
	}
	gw_log(RTE_LOG_ERR, "build of %zu change%s refused (%s): %s", job->n,
	       job->n == 1 ? "" : "s", job->err.code, job->err.message);
	if (job->n > 1) {
		/* which one? each alone, in order, ahead of what waits */
		struct gw_change *last = job->changes;

		for (struct gw_change *ch = job->changes; ch != NULL; ch = ch->next) {
			ch->solo = true;
			last = ch;
		}
		last->next = gw->queue;
		gw->queue = job->changes;
		if (last->next == NULL)
			gw->queue_tail = &last->next;
		gw->n_queued += job->n;
		job->changes = NULL;
		free_job(job);
		return;
	}
	reply_err(gw, job->changes, &job->err);
	gw->n_refused_late++;
	gw_obs_apply(gw, 0, false);
	free_job(job);
	/* gw->desired holds the refused change: rebuild it from what is live */
	resync_desired(gw);
}

void gw_builder_done(struct gateway *gw)
{
	uint64_t v;
	struct gw_job *job = gw->inflight;

	if (read(gw->done_fd, &v, sizeof(v)) != sizeof(v) || job == NULL)
		return;
	gw->inflight = NULL;
	finish(gw, job);
	dispatch(gw);
}

int gw_submit(struct gateway *gw, struct gw_change *ch, struct npgw_ctl_reply *r)
{
	struct npgw_state_undo u = {0};
	struct timespec t;
	cJSON *details = NULL;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &ch->t0);
	t = ch->t0;
	if (gw->state_blocked) {
		npgw_ctl_error(&r->error, NPGW_CTL_E_STATE_UNREADABLE, "%s", gw->state_problem);
		gw_change_free(ch);
		return -EPERM;
	}
	rc = accept_change(gw, ch, &r->error, &details, &u);
	if (rc < 0) {
		r->result = details;
		gw_change_free(ch);
		return rc;
	}
	if (r->ctl != NULL) {
		ch->pending = npgw_ctl_defer(r, GW_REPLY_TIMEOUT_MS);
		if (ch->pending == NULL) {
			/* no room for the reply: refused, and undone */
			npgw_state_undo_rollback(gw->desired, &u);
			npgw_state_undo_clear(&u);
			gw_change_free(ch);
			return -EBUSY;
		}
	}
	npgw_state_undo_commit(&u);
	npgw_state_undo_clear(&u);
	ch->validate_ms = ms_since(&t);
	*gw->queue_tail = ch;
	gw->queue_tail = &ch->next;
	gw->n_queued++;
	dispatch(gw);
	return ch->pending != NULL ? NPGW_CTL_DEFER : 0;
}

/* ---- start, SIGHUP ---- */

const char *gw_owner_name(const struct gateway *gw)
{
	return gw->cfg->owner == NPGW_OWNER_FILES ? "files" : "socket";
}

struct npgw_k8s_cluster *gw_load_files(const struct npgw_config *cfg)
{
	struct npgw_diags d = {0};
	int err = 0; /* the messages in d say it all */
	struct npgw_k8s_cluster *c = npgw_k8s_load_paths((const char *const *)cfg->policy_paths,
							 cfg->n_policy_paths, &d, &err);

	npgw_diags_print(&d, stderr);
	npgw_diags_free(&d);
	if (c != NULL)
		npgw_k8s_cluster_sort(c);
	return c;
}

int gw_reload_files(struct gateway *gw)
{
	struct npgw_ctl_reply r;
	struct gw_change *ch;
	struct npgw_k8s_cluster *c;
	int rc;

	if (gw->cfg->owner != NPGW_OWNER_FILES) {
		gw_log(RTE_LOG_WARNING,
		       "SIGHUP: the control socket owns the desired state (config desired_state: "
		       "socket): the policy files are not read, nothing changed");
		return 0;
	}
	if (gw->state_blocked) {
		gw_log(RTE_LOG_ERR, "reload refused: %s", gw->state_problem);
		return -EPERM;
	}
	c = gw_load_files(gw->cfg);
	if (c == NULL) {
		gw_log(RTE_LOG_ERR, "policy files refused: the live generation stays");
		return -EINVAL;
	}
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL) {
		npgw_k8s_cluster_free(c);
		return -ENOMEM;
	}
	ch->replace = true;
	ch->items = c;
	memset(&r, 0, sizeof(r));
	rc = gw_submit(gw, ch, &r); /* no reply to defer: 0 when accepted */
	cJSON_Delete(r.result);
	return rc;
}

/* Build and publish a job on the control thread (start-up, before the
 * builder runs). */
static int run_inline(struct gateway *gw, struct gw_job *job)
{
	int rc;

	job->base = npgw_dp_current(gw->dp);
	run_job(gw, job);
	if (job->rc < 0) {
		gw_obs_apply(gw, 0, false);
		gw_log(RTE_LOG_ERR, "change refused (%s): %s", job->err.code, job->err.message);
		return job->rc;
	}
	rc = publish(gw, job);
	if (rc < 0)
		gw_log(RTE_LOG_ERR, "%s", job->err.message);
	return rc;
}

/* The desired state changes start from: what the mirror holds (the saved
 * state, or nothing). Set on every way out of gw_start that leaves the
 * gateway running, also without a generation: a later SIGHUP or apply
 * works on it (a NULL one crashed the first SIGHUP after refused files). */
static int start_desired(struct gateway *gw)
{
	int e = 0;

	if (gw->desired == NULL)
		gw->desired = npgw_k8s_cluster_clone(gw->mirror, &e);
	return gw->desired != NULL ? 0 : -ENOMEM;
}

int gw_start(struct gateway *gw)
{
	struct npgw_diags d = {0};
	struct gw_job job = {0};
	struct gw_change *ch = NULL;
	struct npgw_k8s_cluster *c = NULL;
	char why[512];
	uint64_t gen = 0;
	int rc = 0;

	gw->queue_tail = &gw->queue;
	gw->done_fd = -1;
	gw->state = npgw_state_open(gw->cfg->state_dir, why, sizeof(why), &rc);
	if (gw->state == NULL) {
		gw_log(RTE_LOG_ERR, "%s", why);
		return rc;
	}
	c = npgw_state_restore(gw->state, &gen, &d, &rc);
	npgw_diags_print(&d, stderr);
	npgw_diags_free(&d);
	if (c == NULL && rc != -ENOENT) {
		snprintf(gw->state_problem, sizeof(gw->state_problem),
			 "the state in %s cannot be read (%s); move it away to start afresh",
			 gw->cfg->state_dir, strerror(-rc));
		gw->state_blocked = true;
		gw_log(RTE_LOG_ERR, "%s", gw->state_problem);
	}
	gw->mirror = c != NULL ? c : npgw_k8s_cluster_new();
	if (gw->mirror == NULL)
		return -ENOMEM;
	gw->generation = gen; /* the next one follows the saved one */
	job.generation = gen;
	if (c != NULL)
		gw_log(RTE_LOG_INFO,
		       "restored the saved state of generation %" PRIu64 " from %s: %zu "
		       "namespaces, %zu pods, %zu policies",
		       gen, gw->cfg->state_dir, c->n_namespaces, c->n_pods, c->n_policies);
	if (gw->cfg->owner == NPGW_OWNER_FILES && !gw->state_blocked) {
		/* the files own it: what they say now, over what was saved */
		struct npgw_k8s_cluster *files = gw_load_files(gw->cfg);
		struct npgw_state_change sc = {.replace = true};

		if (files != NULL) {
			ch = calloc(1, sizeof(*ch));
			sc.items = files;
			if (ch == NULL || (ch->json = npgw_state_change_json(&sc)) == NULL) {
				npgw_k8s_cluster_free(files);
				free(ch);
				return -ENOMEM;
			}
			ch->replace = true;
			ch->items = files;
			clock_gettime(CLOCK_MONOTONIC, &ch->t0);
			job.changes = ch;
			job.n = 1;
			job.generation = gen + 1;
			job.journal = true;
			rc = run_inline(gw, &job);
			gw_change_free(ch);
			job.changes = NULL;
			if (rc == 0)
				goto live;
		}
		gw_log(RTE_LOG_ERR, "the policy files are refused%s",
		       c != NULL ? ": running the saved state (SIGHUP once they are fixed)"
				 : " (SIGHUP once they are fixed)");
		if (c == NULL)
			return start_desired(gw) < 0 ? -ENOMEM : -EINVAL;
		job.generation = gen;
	}
	if (gw->state_blocked)
		return start_desired(gw) < 0 ? -ENOMEM : rc;
	if (job.generation == 0)
		job.generation = 1; /* nothing saved: an empty state, everything allowed */
	/* the saved state keeps its number: it was live before */
	job.journal = false;
	clock_gettime(CLOCK_MONOTONIC, &job.t0);
	{
		struct gw_change none = {0};

		clock_gettime(CLOCK_MONOTONIC, &none.t0);
		job.changes = &none;
		rc = run_inline(gw, &job);
		job.changes = NULL;
	}
	if (rc < 0)
		return start_desired(gw) < 0 ? -ENOMEM : rc;
live:
	if (start_desired(gw) < 0)
		return -ENOMEM;
	gw_wake_waiters(gw);
	return 0;
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
	while (gw->queue != NULL) {
		struct gw_change *ch = gw->queue;

		gw->queue = ch->next;
		gw_change_free(ch); /* pending replies: freed by npgw_ctl_free */
	}
	npgw_k8s_cluster_free(gw->desired);
	gw->desired = NULL;
	npgw_k8s_cluster_free(gw->mirror);
	gw->mirror = NULL;
	npgw_state_close(gw->state);
	gw->state = NULL;
	/* pending waits are freed by npgw_ctl_free (the clients get "shutdown") */
	gw->n_waiters = 0;
}
