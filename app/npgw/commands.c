/*
 * commands.c: the control socket's commands (lib/ctl is the server, this
 * is what each command does to the gateway). apply, replace and delete
 * make a change and hand it to gw_submit, which refuses it at once
 * (nothing changed) or accepts it and defers the reply until its
 * generation is live (gateway.h); in file mode they are refused: the
 * policy files own the desired state. The other commands answer at once,
 * also while a build runs. Control thread.
 *
 *   apply    {"documents": [{"name", "text"}]}       upsert the objects
 *   replace  {"documents": [...]}                      the whole desired state
 *   delete   {"objects": [{"kind", "namespace", "name"}]} or {"documents"}
 *   get      {"kind": "policies"|"pods"|"namespaces", "namespace"?}
 *   status   {}
 *   stats    {"reset"?: bool}
 *   explain  {"from", "to", "protocol"?, "port"}
 *   wait     {"generation", "timeout_ms"?}
 *   flows    {"flush"?, "address"?, "port"?, "protocol"?, "state"?}
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_log.h>

#include "gateway.h"
#include "npgw_explain.h"
#include "obs.h"

/* Parse {"documents": [{"name", "text"}]} with the real loader into a new
 * cluster. NULL with the error (and diagnostics) set when anything is
 * wrong. */
static struct npgw_k8s_cluster *read_documents(const cJSON *args, struct npgw_ctl_reply *r)
{
	struct npgw_diags diags = {0};
	struct npgw_k8s_cluster *c;
	const cJSON *docs = NULL, *d;
	bool io_error = false;

	if (npgw_ctl_arg_array(args, "documents", true, &docs, &r->error) < 0)
		return NULL;
	c = npgw_k8s_cluster_new();
	if (c == NULL) {
		npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
		return NULL;
	}
	cJSON_ArrayForEach(d, docs) {
		const char *name = NULL, *text = NULL;
		int rc;

		if (npgw_ctl_arg_only(d, &r->error, "name", "text", NULL) < 0 ||
		    npgw_ctl_arg_string(d, "name", true, &name, &r->error) < 0 ||
		    npgw_ctl_arg_string(d, "text", true, &text, &r->error) < 0) {
			npgw_k8s_cluster_free(c);
			npgw_diags_free(&diags);
			return NULL;
		}
		rc = npgw_k8s_load_buffer(c, name, text, strlen(text), &diags);
		if (rc < 0 && rc != -EINVAL)
			io_error = true;
	}
	if (diags.n_errors > 0 || io_error) {
		char *s = npgw_diags_to_json(&diags);
		cJSON *arr = s ? cJSON_Parse(s) : NULL;

		free(s);
		npgw_ctl_error(&r->error, NPGW_CTL_E_INVALID, "%zu error%s in the objects; nothing changed",
			       diags.n_errors, diags.n_errors == 1 ? "" : "s");
		r->result = cJSON_CreateObject();
		if (r->result != NULL && arr != NULL)
			cJSON_AddItemToObject(r->result, "diagnostics", arr);
		else
			cJSON_Delete(arr);
		npgw_k8s_cluster_free(c);
		c = NULL;
	}
	npgw_diags_free(&diags);
	return c;
}

/* A change through the socket when the policy files own the state. */
static bool refuse_when_not_owner(struct gateway *gw, struct npgw_ctl_reply *r)
{
	if (gw->cfg->owner == NPGW_OWNER_SOCKET)
		return false;
	npgw_ctl_error(&r->error, NPGW_CTL_E_NOT_OWNER,
		       "the policy files own the desired state (config desired_state: files): "
		       "change them and send SIGHUP; the control socket only reads");
	return true;
}

/* The timing of the last change, as an object of o. */
static void add_times(cJSON *o, const struct gateway *gw)
{
	cJSON *t = cJSON_AddObjectToObject(o, "timing_ms");

	if (t == NULL)
		return;
	cJSON_AddNumberToObject(t, "validate", gw->times.validate_ms);
	cJSON_AddNumberToObject(t, "wait", gw->times.wait_ms);
	cJSON_AddNumberToObject(t, "compile", gw->times.compile_ms);
	cJSON_AddNumberToObject(t, "build", gw->times.build_ms);
	cJSON_AddNumberToObject(t, "save", gw->times.save_ms);
	cJSON_AddNumberToObject(t, "publish", gw->times.publish_ms);
	cJSON_AddBoolToObject(o, "incremental", gw->times.incremental);
}

static struct gw_change *new_change(struct npgw_ctl_reply *r)
{
	struct gw_change *ch = calloc(1, sizeof(*ch));

	if (ch == NULL)
		npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
	return ch;
}

/* Upsert the objects of the documents; the reply comes when they are live:
 * {"generation", "commit_ms", "objects", "timing_ms", "incremental",
 * "coalesced"}. */
static int cmd_apply(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	struct gw_change *ch;

	if (refuse_when_not_owner(gw, r) ||
	    npgw_ctl_arg_only(args, &r->error, "documents", NULL) < 0)
		return -EINVAL;
	ch = new_change(r);
	if (ch == NULL)
		return -ENOMEM;
	ch->items = read_documents(args, r);
	if (ch->items == NULL) {
		gw_change_free(ch);
		return -EINVAL;
	}
	return gw_submit(gw, ch, r);
}

static int cmd_replace(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	struct gw_change *ch;

	if (refuse_when_not_owner(gw, r) ||
	    npgw_ctl_arg_only(args, &r->error, "documents", NULL) < 0)
		return -EINVAL;
	ch = new_change(r);
	if (ch == NULL)
		return -ENOMEM;
	ch->replace = true;
	ch->items = read_documents(args, r);
	if (ch->items == NULL) {
		gw_change_free(ch);
		return -EINVAL;
	}
	return gw_submit(gw, ch, r);
}

/* Add a removal of kind (as kubectl names it) to ch. */
static int add_removal(struct gw_change *ch, const char *kind, const char *ns, const char *name,
		       struct npgw_ctl_reply *r)
{
	const char *k = npgw_state_kind(kind);

	if (k == NULL)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS,
				      "kind: '%s' is not NetworkPolicy, Pod or Namespace", kind);
	if (gw_change_remove(ch, k, strcmp(k, "Namespace") == 0 ? NULL : ns, name) < 0)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
	return 0;
}

/* Remove objects; a Namespace takes its Pods and NetworkPolicies with it,
 * in the same generation. */
static int cmd_delete(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	struct npgw_k8s_cluster *named = NULL;
	const cJSON *objs = NULL, *o;
	struct gw_change *ch;
	int rc = 0;

	if (refuse_when_not_owner(gw, r) ||
	    npgw_ctl_arg_only(args, &r->error, "objects", "documents", NULL) < 0)
		return -EINVAL;
	if (cJSON_GetObjectItemCaseSensitive(args, "documents") != NULL) {
		named = read_documents(args, r);
		if (named == NULL)
			return -EINVAL;
	} else if (npgw_ctl_arg_array(args, "objects", true, &objs, &r->error) < 0) {
		return -EINVAL;
	}
	ch = new_change(r);
	if (ch == NULL) {
		npgw_k8s_cluster_free(named);
		return -ENOMEM;
	}
	if (named != NULL) {
		for (size_t i = 0; i < named->n_policies && rc == 0; i++)
			rc = add_removal(ch, "NetworkPolicy", named->policies[i]->namespace,
					 named->policies[i]->name, r);
		for (size_t i = 0; i < named->n_pods && rc == 0; i++)
			rc = add_removal(ch, "Pod", named->pods[i]->namespace, named->pods[i]->name,
					 r);
		for (size_t i = 0; i < named->n_namespaces && rc == 0; i++)
			rc = add_removal(ch, "Namespace", NULL, named->namespaces[i]->name, r);
		npgw_k8s_cluster_free(named);
	} else {
		cJSON_ArrayForEach(o, objs) {
			const char *kind = NULL, *ns = NULL, *name = NULL;

			if (npgw_ctl_arg_only(o, &r->error, "kind", "namespace", "name", NULL) < 0 ||
			    npgw_ctl_arg_string(o, "kind", true, &kind, &r->error) < 0 ||
			    npgw_ctl_arg_string(o, "namespace", false, &ns, &r->error) < 0 ||
			    npgw_ctl_arg_string(o, "name", true, &name, &r->error) < 0) {
				rc = -EINVAL;
				break;
			}
			rc = add_removal(ch, kind, ns, name, r);
			if (rc < 0)
				break;
		}
	}
	if (rc < 0) {
		gw_change_free(ch);
		return rc;
	}
	return gw_submit(gw, ch, r);
}

static int cmd_get(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	const char *kind = NULL, *ns = NULL;
	cJSON *list, *items;

	if (npgw_ctl_arg_only(args, &r->error, "kind", "namespace", NULL) < 0 ||
	    npgw_ctl_arg_string(args, "kind", true, &kind, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "namespace", false, &ns, &r->error) < 0)
		return -EINVAL;
	if (strcmp(kind, "policies") != 0 && strcmp(kind, "pods") != 0 &&
	    strcmp(kind, "namespaces") != 0)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS,
				      "kind: '%s' is not policies, pods or namespaces", kind);
	list = cJSON_CreateObject();
	items = cJSON_CreateArray();
	if (list == NULL || items == NULL) {
		cJSON_Delete(list);
		cJSON_Delete(items);
		return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
	}
	cJSON_AddStringToObject(list, "apiVersion", "v1");
	cJSON_AddStringToObject(list, "kind", "List");
	cJSON_AddItemToObject(list, "items", items);
	r->result = list;
	if (gw->desired == NULL)
		return 0;
	if (kind[1] == 'o') { /* policies, pods */
		bool pol = kind[2] == 'l';
		size_t n = pol ? gw->desired->n_policies : gw->desired->n_pods;

		for (size_t i = 0; i < n; i++) {
			const char *ons = pol ? gw->desired->policies[i]->namespace
					      : gw->desired->pods[i]->namespace;

			if (ns != NULL && strcmp(ns, ons) != 0)
				continue;
			cJSON_AddItemToArray(items, pol ? npgw_k8s_policy_to_json(gw->desired->policies[i])
							: npgw_k8s_pod_to_json(gw->desired->pods[i]));
		}
	} else {
		for (size_t i = 0; i < gw->desired->n_namespaces; i++)
			cJSON_AddItemToArray(items,
					     npgw_k8s_namespace_to_json(gw->desired->namespaces[i]));
	}
	return 0;
}

/* The builder and the journal, as objects of o. */
static void add_control_plane(cJSON *o, struct gateway *gw)
{
	cJSON *b = cJSON_AddObjectToObject(o, "builder"), *j;
	struct npgw_state_info si;

	if (b != NULL) {
		cJSON_AddBoolToObject(b, "building", gw->inflight != NULL);
		cJSON_AddNumberToObject(b, "queued", (double)gw->n_queued);
		cJSON_AddNumberToObject(b, "builds", (double)gw->n_builds);
		cJSON_AddNumberToObject(b, "coalesced_changes", (double)gw->n_coalesced);
		cJSON_AddNumberToObject(b, "refused_after_build", (double)gw->n_refused_late);
	}
	if (gw->state == NULL)
		return;
	npgw_state_get_info(gw->state, &si);
	j = cJSON_AddObjectToObject(o, "journal");
	if (j == NULL)
		return;
	cJSON_AddNumberToObject(j, "bytes", (double)si.journal_bytes);
	cJSON_AddNumberToObject(j, "records", (double)si.records);
	cJSON_AddNumberToObject(j, "snapshots", (double)si.snapshots);
	cJSON_AddNumberToObject(j, "snapshot_generation", (double)si.snapshot_generation);
	cJSON_AddBoolToObject(j, "snapshot_running", si.snapshot_running);
	if (si.snapshot_error[0])
		cJSON_AddStringToObject(j, "snapshot_error", si.snapshot_error);
}

static int cmd_status(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	const struct npgw_ruleset *rs = npgw_dp_current(gw->dp);
	cJSON *o, *acl, *obj;
	char when[64] = "";

	if (npgw_ctl_arg_only(args, &r->error, NULL) < 0)
		return -EINVAL;
	o = cJSON_CreateObject();
	if (o == NULL)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
	r->result = o;
	cJSON_AddBoolToObject(o, "ready", rs != NULL);
	npgw_ctl_add_u64(o, "generation", gw->generation);
	cJSON_AddStringToObject(o, "posture", gw->cfg->posture == NPGW_POSTURE_FAIL_OPEN
						      ? "fail-open"
						      : "fail-closed");
	gw_obs_status(gw, o);
	cJSON_AddStringToObject(o, "desired_state", gw_owner_name(gw));
	if (gw->state_blocked)
		cJSON_AddStringToObject(o, "problem", gw->state_problem);
	add_control_plane(o, gw);
	if (rs == NULL)
		return 0;
	struct npgw_ruleset_info info;
	struct tm tm;

	npgw_ruleset_get_info(rs, &info);
	gmtime_r(&gw->built_at.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(o, "live_since", when);
	cJSON_AddNumberToObject(o, "build_ms", gw->build_ms);
	cJSON_AddNumberToObject(o, "commit_ms", gw->commit_ms);
	add_times(o, gw);
	cJSON_AddNumberToObject(o, "compiles_incremental", (double)gw->n_incremental);
	cJSON_AddNumberToObject(o, "compiles_full", (double)gw->n_full);
	cJSON_AddNumberToObject(o, "classes", info.n_classes);
	cJSON_AddNumberToObject(o, "stage1_entries", (double)info.n_stage1);
	acl = cJSON_AddObjectToObject(o, "acl");
	if (acl != NULL) {
		cJSON_AddNumberToObject(acl, "rules", (double)info.n_acl_rules);
		cJSON_AddNumberToObject(acl, "memory_bytes", (double)info.acl_bytes);
		cJSON_AddBoolToObject(acl, "shared_with_previous", info.acl_shared);
	}
	obj = cJSON_AddObjectToObject(o, "objects");
	if (obj != NULL && gw->desired != NULL) {
		cJSON_AddNumberToObject(obj, "namespaces", (double)gw->desired->n_namespaces);
		cJSON_AddNumberToObject(obj, "pods", (double)gw->desired->n_pods);
		cJSON_AddNumberToObject(obj, "policies", (double)gw->desired->n_policies);
	}
	cJSON_AddNumberToObject(o, "workers", (double)gw->cfg->n_workers);
	cJSON_AddStringToObject(o, "acl_method", npgw_ruleset_acl_method());
	if (gw->cfg->conntrack.enabled) {
		struct npgw_dp_stats st;
		cJSON *ct = cJSON_AddObjectToObject(o, "conntrack");

		npgw_dp_get_stats(gw->dp, &st);
		if (ct != NULL) {
			cJSON_AddNumberToObject(ct, "capacity", (double)st.ct.capacity);
			cJSON_AddNumberToObject(ct, "in_use", (double)st.ct.in_use);
			cJSON_AddNumberToObject(ct, "denied_capacity", (double)st.ct.denied_capacity);
			cJSON_AddNumberToObject(ct, "memory_bytes", (double)st.ct.bytes);
			cJSON_AddStringToObject(ct, "revoke",
						npgw_conntrack_revoke_name(gw->cfg->conntrack.revoke));
		}
	}
	cJSON_AddStringToObject(o, "state_dir", gw->cfg->state_dir);
	return 0;
}

static void hit_to_json(const struct npgw_compile_meta *m, uint64_t hits, void *arg)
{
	cJSON *arr = arg, *o = cJSON_CreateObject();
	char pol[320];

	if (o == NULL)
		return;
	snprintf(pol, sizeof(pol), "%s/%s", m->policy_ns, m->policy_name);
	cJSON_AddStringToObject(o, "policy", pol);
	cJSON_AddStringToObject(o, "direction", m->dir == NPGW_COMPILE_EGRESS ? "egress" : "ingress");
	if (m->rule >= 0)
		cJSON_AddNumberToObject(o, "rule", m->rule);
	cJSON_AddStringToObject(o, "action", m->action == NPGW_COMPILE_ALLOW  ? "allow"
					     : m->action == NPGW_COMPILE_PASS ? "pass"
									      : "deny");
	cJSON_AddStringToObject(o, "tier", npgw_k8s_tier_name(m->tier));
	cJSON_AddNumberToObject(o, "hits", (double)hits);
	cJSON_AddItemToArray(arr, o);
}

static int cmd_stats(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	struct npgw_dp_stats st;
	bool reset = false;
	cJSON *o, *ports, *drops, *rules;

	if (npgw_ctl_arg_only(args, &r->error, "reset", NULL) < 0 ||
	    npgw_ctl_arg_bool(args, "reset", false, &reset, &r->error) < 0)
		return -EINVAL;
	npgw_dp_get_stats(gw->dp, &st);
	o = cJSON_CreateObject();
	if (o == NULL)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
	r->result = o;
	npgw_ctl_add_u64(o, "generation", st.generation);
	cJSON_AddNumberToObject(o, "rx", (double)st.rx);
	cJSON_AddNumberToObject(o, "tx", (double)st.tx);
	cJSON_AddNumberToObject(o, "allowed", (double)st.allowed);
	cJSON_AddNumberToObject(o, "non_ip", (double)st.non_ip);
	cJSON_AddNumberToObject(o, "steered", (double)st.steered);
	cJSON_AddNumberToObject(o, "dropped", (double)st.drops_total);
	ports = cJSON_AddArrayToObject(o, "ports");
	for (unsigned int p = 0; ports != NULL && p < st.n_ports; p++) {
		cJSON *po = cJSON_CreateObject();

		if (po == NULL)
			break;
		cJSON_AddStringToObject(po, "name", st.ports[p].name);
		cJSON_AddNumberToObject(po, "rx", (double)st.ports[p].rx);
		cJSON_AddNumberToObject(po, "tx", (double)st.ports[p].tx);
		cJSON_AddNumberToObject(po, "drop", (double)st.ports[p].drop);
		cJSON_AddItemToArray(ports, po);
	}
	drops = cJSON_AddObjectToObject(o, "drops");
	for (unsigned int d = 0; drops != NULL && d < NPGW_DROP_MAX; d++)
		if (st.drops[d] > 0 && npgw_drop_name(d) != NULL)
			cJSON_AddNumberToObject(drops, npgw_drop_name(d), (double)st.drops[d]);
	if (st.ct.enabled) {
		cJSON *ct = cJSON_AddObjectToObject(o, "flows");

		if (ct != NULL) {
			cJSON_AddNumberToObject(ct, "in_use", (double)st.ct.in_use);
			cJSON_AddNumberToObject(ct, "capacity", (double)st.ct.capacity);
			cJSON_AddNumberToObject(ct, "created", (double)st.ct.inserts);
			cJSON_AddNumberToObject(ct, "refused_full", (double)st.ct.refused);
			cJSON_AddNumberToObject(ct, "expired", (double)st.ct.expired);
			cJSON_AddNumberToObject(ct, "revoked", (double)st.ct.revoked);
			cJSON_AddNumberToObject(ct, "hits", (double)st.ct.hits);
			cJSON_AddNumberToObject(ct, "misses", (double)st.ct.misses);
			cJSON_AddNumberToObject(ct, "bytes", (double)st.ct.bytes);
			cJSON *dn = cJSON_AddObjectToObject(ct, "denied");

			if (dn != NULL) {
				cJSON_AddNumberToObject(dn, "in_use", (double)st.ct.denied_in_use);
				cJSON_AddNumberToObject(dn, "capacity",
							(double)st.ct.denied_capacity);
				cJSON_AddNumberToObject(dn, "created", (double)st.ct.denied_inserts);
				cJSON_AddNumberToObject(dn, "hits", (double)st.ct.denied_hits);
				cJSON_AddNumberToObject(dn, "evicted", (double)st.ct.denied_evicted);
				cJSON_AddNumberToObject(dn, "skipped", (double)st.ct.denied_skipped);
			}
			cJSON *tw = cJSON_AddObjectToObject(ct, "tcp_window");

			if (tw != NULL) {
				cJSON_AddNumberToObject(tw, "dropped", (double)st.ct.tcp_window_drops);
				cJSON_AddNumberToObject(tw, "passed", (double)st.ct.tcp_window_passed);
			}
			cJSON_AddNumberToObject(ct, "sctp_invalid", (double)st.ct.sctp_invalid);
		}
	}
	gw_obs_stats(gw, o);
	rules = cJSON_AddArrayToObject(o, "rules");
	if (rules != NULL)
		npgw_dp_rule_hits(gw->dp, hit_to_json, rules);
	if (reset) {
		npgw_dp_reset_stats(gw->dp);
		cJSON_AddBoolToObject(o, "reset", true);
	}
	return 0;
}

static int cmd_explain(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	const struct npgw_ruleset *rs = npgw_dp_current(gw->dp);
	struct npgw_explain_query q;
	struct npgw_ruleset_tuple t;
	struct npgw_explain_answer a;
	char why[256];

	/* lib/explain's codec: the same query parser and answer as offline */
	if (npgw_explain_query_from_json(args, &q, why, sizeof(why)) < 0)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS, "%s", why);
	if (rs == NULL || gw->desired == NULL)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_NOT_READY, "no generation is live");
	if (npgw_explain_tuple(gw->desired, &q, &t, why, sizeof(why)) < 0)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS, "%s", why);
	if (npgw_explain_burst(rs, &t, 1, &a) != 1)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "classify failed");
	r->result = npgw_explain_answer_json(&q, rs, &a);
	if (r->result == NULL)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
	return 0;
}

static int cmd_wait(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	uint64_t gen = 0, timeout = 30000;
	struct npgw_ctl_pending *p;

	if (npgw_ctl_arg_only(args, &r->error, "generation", "timeout_ms", NULL) < 0 ||
	    npgw_ctl_arg_uint(args, "generation", 0, UINT64_C(1) << 53, true, &gen, &r->error) <
		    0 ||
	    npgw_ctl_arg_uint(args, "timeout_ms", 1, 3600000, false, &timeout, &r->error) < 0)
		return -EINVAL;
	if (gw->generation >= gen) {
		r->result = cJSON_CreateObject();
		if (r->result == NULL)
			return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
		npgw_ctl_add_u64(r->result, "generation", gw->generation);
		return 0;
	}
	gw_wake_waiters(gw); /* drops dead handles, making room */
	if (gw->n_waiters == GW_MAX_WAITERS)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BUSY, "too many clients waiting");
	p = npgw_ctl_defer(r, (int)timeout);
	if (p == NULL)
		return -EBUSY;
	gw->waiters[gw->n_waiters].pending = p;
	gw->waiters[gw->n_waiters].generation = gen;
	gw->n_waiters++;
	return NPGW_CTL_DEFER;
}

struct flow_list {
	cJSON *arr;
	double hz;
};

static void flow_to_json(unsigned int worker, const struct npgw_conntrack_flow *f, void *arg)
{
	struct flow_list *l = arg;
	cJSON *o = cJSON_CreateObject();
	struct npgw_addr a = {.family = f->t.family};
	char buf[64], pb[16];

	if (o == NULL)
		return;
	cJSON_AddNumberToObject(o, "worker", worker);
	cJSON_AddStringToObject(o, "protocol", npgw_proto_name(f->t.proto, pb, sizeof(pb)));
	memcpy(a.bytes, f->t.src, 16);
	cJSON_AddStringToObject(o, "src", npgw_addr_format(&a, buf, sizeof(buf)));
	cJSON_AddNumberToObject(o, "sport", f->t.sport);
	memcpy(a.bytes, f->t.dst, 16);
	cJSON_AddStringToObject(o, "dst", npgw_addr_format(&a, buf, sizeof(buf)));
	cJSON_AddNumberToObject(o, "dport", f->t.dport);
	cJSON_AddStringToObject(o, "state", npgw_conntrack_state_name(f->state));
	cJSON_AddNumberToObject(o, "packets", (double)(f->pkts[0] + f->pkts[1]));
	cJSON_AddNumberToObject(o, "bytes", (double)(f->bytes[0] + f->bytes[1]));
	cJSON_AddNumberToObject(o, "replies", (double)f->pkts[1]);
	cJSON_AddNumberToObject(o, "idle_s", (double)f->idle / l->hz);
	cJSON_AddNumberToObject(o, "expires_s", (double)f->expires_in / l->hz);
	npgw_ctl_add_u64(o, "generation", f->generation);
	if (f->flags & NPGW_CONNTRACK_E_KEPT)
		cJSON_AddBoolToObject(o, "kept", true);
	cJSON_AddItemToArray(l->arr, o);
}

static int cmd_flows(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	struct npgw_conntrack_filter f = {0};
	const char *addr = NULL, *proto = NULL, *state = NULL;
	uint64_t port = 0;
	bool flush = false, truncated = false;
	struct flow_list l;
	long n;

	if (npgw_ctl_arg_only(args, &r->error, "flush", "address", "port", "protocol", "state",
			      NULL) < 0 ||
	    npgw_ctl_arg_bool(args, "flush", false, &flush, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "address", false, &addr, &r->error) < 0 ||
	    npgw_ctl_arg_uint(args, "port", 1, 65535, false, &port, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "protocol", false, &proto, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "state", false, &state, &r->error) < 0)
		return -EINVAL;
	if (flush) {
		if (npgw_dp_flows_flush(gw->dp) < 0)
			return npgw_ctl_error(&r->error, NPGW_CTL_E_NOT_TRACKING,
					      "connection tracking is off (config conntrack.enabled)");
		r->result = cJSON_CreateObject();
		if (r->result != NULL)
			cJSON_AddBoolToObject(r->result, "flushed", true);
		return 0;
	}
	if (addr != NULL) {
		struct npgw_addr a;

		if (npgw_addr_parse(addr, &a) < 0)
			return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS,
					      "address: '%s' is not an IP address", addr);
		f.has_addr = 1;
		f.family = a.family;
		memcpy(f.addr, a.bytes, 16);
	}
	f.port = (uint16_t)port;
	if (proto != NULL) {
		int p = strcmp(proto, "ICMP") == 0 ? NPGW_PROTO_ICMP
			: strcmp(proto, "ICMPv6") == 0 ? NPGW_PROTO_ICMPV6
						       : npgw_proto_parse(proto);

		if (p < 0)
			return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS,
					      "protocol: '%s' is not TCP, UDP, SCTP, ICMP or ICMPv6",
					      proto);
		f.proto = (uint8_t)p;
	}
	if (state != NULL) {
		unsigned int s;

		for (s = 0; s < NPGW_CONNTRACK_N_STATES; s++)
			if (strcmp(state, npgw_conntrack_state_name(s)) == 0)
				break;
		if (s == NPGW_CONNTRACK_N_STATES)
			return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS,
					      "state: '%s' is not new, syn-recv, established, "
					      "closing or closed",
					      state);
		f.state_mask = (uint8_t)(1u << s);
	}
	l.arr = cJSON_CreateArray();
	l.hz = (double)npgw_dp_hz();
	if (l.arr == NULL)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
	n = npgw_dp_flows(gw->dp, &f, 2000, flow_to_json, &l, &truncated);
	if (n < 0) {
		cJSON_Delete(l.arr);
		if (n == -ENOTSUP)
			return npgw_ctl_error(&r->error, NPGW_CTL_E_NOT_TRACKING,
					      "connection tracking is off (config conntrack.enabled)");
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BUSY, "the workers did not answer: %s",
				      strerror((int)-n));
	}
	r->result = cJSON_CreateObject();
	if (r->result == NULL) {
		cJSON_Delete(l.arr);
		return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
	}
	cJSON_AddItemToObject(r->result, "flows", l.arr);
	if (truncated)
		cJSON_AddBoolToObject(r->result, "truncated", true);
	return 0;
}

int gw_register_commands(struct gateway *gw)
{
	const struct npgw_ctl_command cmds[] = {
		{"apply", "apply -f PATH", "upsert NetworkPolicy, Pod and Namespace objects",
		 cmd_apply, gw},
		{"replace", "replace -f PATH", "make the given objects the whole desired state",
		 cmd_replace, gw},
		{"delete", "delete KIND NAMESPACE/NAME | -f PATH", "remove objects", cmd_delete, gw},
		{"get", "get policies|pods|namespaces [-n NAMESPACE]", "the objects as applied",
		 cmd_get, gw},
		{"status", "status", "the live generation and how it was built", cmd_status, gw},
		{"stats", "stats [--reset]", "counters by port, drop reason and rule", cmd_stats, gw},
		{"explain", "explain --from EP --to EP --port N [--protocol P]",
		 "why a packet is allowed or denied, by the live generation", cmd_explain, gw},
		{"wait", "wait GENERATION [--timeout SECONDS]", "until a generation is live",
		 cmd_wait, gw},
		{"flows", "flows [flush] [--address A] [--port N] [--protocol P] [--state S]",
		 "the tracked flows, or forget them all", cmd_flows, gw},
	};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(cmds); i++) {
		int rc = npgw_ctl_register(gw->ctl, &cmds[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}
