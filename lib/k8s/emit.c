/*
 * emit.c: the cluster model back to Kubernetes JSON (cJSON trees), for the
 * control socket's get and for the persisted state. What is written is
 * exactly what the model holds, with every default spelled out (protocol,
 * policyTypes), so that npgw_k8s_load_buffer reads back the same objects:
 * tests/unit/test_k8s_emit.c holds that property field by field.
 *
 * Every builder returns NULL when cJSON cannot allocate; a partial tree is
 * freed on the way out, never returned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "npgw_k8s.h"

/* ---- small helpers: each returns false when out of memory ---- */

/* Attach item to obj under key; on failure item is freed. */
static bool attach(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL)
		return false;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

/* Append item to the array; on failure item is freed. */
static bool push(cJSON *arr, cJSON *item)
{
	if (item == NULL)
		return false;
	if (!cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static bool add_str(cJSON *obj, const char *key, const char *v)
{
	return cJSON_AddStringToObject(obj, key, v) != NULL;
}

static bool add_num(cJSON *obj, const char *key, unsigned int v)
{
	return cJSON_AddNumberToObject(obj, key, v) != NULL;
}

/* The protocol's name into obj[key]: "TCP", "UDP" or "SCTP" (anything
 * else, which only a cluster built by hand holds, as "proto-N", which the
 * loader refuses). */
static bool add_proto(cJSON *obj, const char *key, uint8_t proto)
{
	char buf[16];

	return add_str(obj, key, npgw_proto_name(proto, buf, sizeof(buf)));
}

static cJSON *labels_json(const struct npgw_k8s_labels *l)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (!add_str(o, l->v[i].key, l->v[i].value)) {
			cJSON_Delete(o);
			return NULL;
		}
	return o;
}

/* {apiVersion, kind, metadata: {namespace?, name}}; metadata in *meta. */
static cJSON *object_head(const char *api_version, const char *kind, const char *ns,
			  const char *name, cJSON **meta)
{
	cJSON *o = cJSON_CreateObject(), *m = NULL;

	if (o == NULL)
		return NULL;
	if (!add_str(o, "apiVersion", api_version) || !add_str(o, "kind", kind) ||
	    !attach(o, "metadata", m = cJSON_CreateObject()) ||
	    (ns != NULL && !add_str(m, "namespace", ns)) ||
	    !add_str(m, "name", name ? name : "")) {
		cJSON_Delete(o);
		return NULL;
	}
	*meta = m;
	return o;
}

/* ---- NetworkPolicy ---- */

static const char *op_name(enum npgw_k8s_sel_op op)
{
	switch (op) {
	case NPGW_K8S_OP_IN:
		return "In";
	case NPGW_K8S_OP_NOT_IN:
		return "NotIn";
	case NPGW_K8S_OP_EXISTS:
		return "Exists";
	case NPGW_K8S_OP_DOES_NOT_EXIST:
		return "DoesNotExist";
	}
	return "In"; /* not reached: the loader admits the four above */
}

static cJSON *expr_json(const struct npgw_k8s_expr *e)
{
	cJSON *o = cJSON_CreateObject(), *v;
	bool ok;

	if (o == NULL)
		return NULL;
	ok = add_str(o, "key", e->key ? e->key : "") && add_str(o, "operator", op_name(e->op));
	if (ok && e->n_values > 0) {
		ok = attach(o, "values", v = cJSON_CreateArray());
		for (size_t i = 0; ok && i < e->n_values; i++)
			ok = push(v, cJSON_CreateString(e->values[i]));
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* {} selects everything; otherwise matchLabels and / or matchExpressions. */
static cJSON *selector_json(const struct npgw_k8s_selector *s)
{
	cJSON *o = cJSON_CreateObject(), *a;
	bool ok = o != NULL;

	if (ok && s->match_labels.n > 0)
		ok = attach(o, "matchLabels", labels_json(&s->match_labels));
	if (ok && s->n_exprs > 0) {
		ok = attach(o, "matchExpressions", a = cJSON_CreateArray());
		for (size_t i = 0; ok && i < s->n_exprs; i++)
			ok = push(a, expr_json(&s->exprs[i]));
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *prefix_json(const struct npgw_prefix *p)
{
	char buf[64];

	return cJSON_CreateString(npgw_prefix_format(p, buf, sizeof(buf)));
}

static cJSON *peer_json(const struct npgw_k8s_peer *p)
{
	cJSON *o = cJSON_CreateObject(), *b, *a;
	bool ok = o != NULL;

	if (ok && p->has_pod_selector)
		ok = attach(o, "podSelector", selector_json(&p->pod_selector));
	if (ok && p->has_ns_selector)
		ok = attach(o, "namespaceSelector", selector_json(&p->ns_selector));
	if (ok && p->has_ip_block) {
		ok = attach(o, "ipBlock", b = cJSON_CreateObject()) &&
		     attach(b, "cidr", prefix_json(&p->cidr));
		if (ok && p->n_except > 0) {
			ok = attach(b, "except", a = cJSON_CreateArray());
			for (size_t i = 0; ok && i < p->n_except; i++)
				ok = push(a, prefix_json(&p->except[i]));
		}
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *port_json(const struct npgw_k8s_port *p)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL && add_proto(o, "protocol", p->protocol);

	if (ok && p->has_port && p->name != NULL)
		ok = add_str(o, "port", p->name);
	else if (ok && p->has_port)
		ok = add_num(o, "port", p->port);
	if (ok && p->has_port && p->name == NULL && p->end_port != 0)
		ok = add_num(o, "endPort", p->end_port);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *rule_json(const struct npgw_k8s_rule *r, bool ingress)
{
	cJSON *o = cJSON_CreateObject(), *a;
	bool ok = o != NULL;

	if (ok && r->n_peers > 0) {
		ok = attach(o, ingress ? "from" : "to", a = cJSON_CreateArray());
		for (size_t i = 0; ok && i < r->n_peers; i++)
			ok = push(a, peer_json(&r->peers[i]));
	}
	if (ok && r->n_ports > 0) {
		ok = attach(o, "ports", a = cJSON_CreateArray());
		for (size_t i = 0; ok && i < r->n_ports; i++)
			ok = push(a, port_json(&r->ports[i]));
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool add_rules(cJSON *spec, const char *key, const struct npgw_k8s_rule *r, size_t n,
		      bool ingress)
{
	cJSON *a;
	bool ok;

	if (n == 0)
		return true;
	ok = attach(spec, key, a = cJSON_CreateArray());
	for (size_t i = 0; ok && i < n; i++)
		ok = push(a, rule_json(&r[i], ingress));
	return ok;
}

/* ---- AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy ---- */

/* A v1alpha1 port or a v1alpha2 protocol; NULL with *skip for the UDP and
 * SCTP entries of a named port of any protocol (written once). */
static cJSON *tier_port_json(const struct npgw_k8s_port *p, bool v1alpha2, bool *skip)
{
	cJSON *o = cJSON_CreateObject(), *a, *b;
	char buf[16];
	bool ok = o != NULL;

	*skip = false;
	if (ok && p->name != NULL) {
		if (p->any_proto && p->protocol != NPGW_PROTO_TCP) {
			*skip = true;
			cJSON_Delete(o);
			return NULL;
		}
		ok = add_str(o, v1alpha2 ? "destinationNamedPort" : "namedPort", p->name);
	} else if (ok && v1alpha2) {
		char *l = strdup(npgw_proto_name(p->protocol, buf, sizeof(buf)));

		for (char *c = l; c != NULL && *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		ok = l != NULL && attach(o, l, a = cJSON_CreateObject()) &&
		     attach(a, "destinationPort", b = cJSON_CreateObject());
		free(l);
		if (ok && p->end_port != 0)
			ok = attach(b, "range", a = cJSON_CreateObject()) &&
			     add_num(a, "start", p->port) && add_num(a, "end", p->end_port);
		else if (ok)
			ok = add_num(b, "number", p->port);
	} else if (ok && p->end_port != 0) {
		ok = attach(o, "portRange", a = cJSON_CreateObject()) &&
		     add_proto(a, "protocol", p->protocol) && add_num(a, "start", p->port) &&
		     add_num(a, "end", p->end_port);
	} else if (ok) {
		ok = attach(o, "portNumber", a = cJSON_CreateObject()) &&
		     add_proto(a, "protocol", p->protocol) && add_num(a, "port", p->port);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* {pods: {namespaceSelector, podSelector}} or {namespaces: sel} into o. */
static bool add_pods_or_namespaces(cJSON *o, bool has_pod, const struct npgw_k8s_selector *ns,
				   const struct npgw_k8s_selector *pod)
{
	cJSON *a;

	if (!has_pod)
		return attach(o, "namespaces", selector_json(ns));
	return attach(o, "pods", a = cJSON_CreateObject()) &&
	       attach(a, "namespaceSelector", selector_json(ns)) &&
	       attach(a, "podSelector", selector_json(pod));
}

/* Whether the networks list arr already holds prefix p. */
static bool networks_has(const cJSON *arr, const struct npgw_prefix *p)
{
	char buf[64];
	const cJSON *e;

	npgw_prefix_format(p, buf, sizeof(buf));
	cJSON_ArrayForEach(e, arr)
		if (cJSON_IsString(e) && strcmp(e->valuestring, buf) == 0)
			return true;
	return false;
}

static cJSON *tier_rule_json(const struct npgw_k8s_rule *r, bool ingress, bool v1alpha2)
{
	static const char *const actions[2][3] = {{"Allow", "Deny", "Pass"},
						  {"Accept", "Deny", "Pass"}};
	cJSON *o = cJSON_CreateObject(), *a, *e, *nets = NULL;
	bool ok = o != NULL, skip;

	if (ok && r->name != NULL)
		ok = add_str(o, "name", r->name);
	ok = ok && add_str(o, "action", actions[v1alpha2][r->action > 2 ? 1 : r->action]) &&
	     attach(o, ingress ? "from" : "to", a = cJSON_CreateArray());
	for (size_t i = 0; ok && i < r->n_peers; i++) {
		const struct npgw_k8s_peer *p = &r->peers[i];

		/* consecutive networks peers: one list (as written), unless
		 * that would list a CIDR twice or pass the limit of 25 */
		if (p->has_ip_block && nets != NULL && cJSON_GetArraySize(nets) < 25 &&
		    !networks_has(nets, &p->cidr)) {
			ok = push(nets, prefix_json(&p->cidr));
			continue;
		}
		nets = NULL;
		ok = push(a, e = cJSON_CreateObject());
		if (ok && p->has_ip_block)
			ok = attach(e, "networks", nets = cJSON_CreateArray()) &&
			     push(nets, prefix_json(&p->cidr));
		else if (ok && p->has_node_selector)
			ok = attach(e, "nodes", selector_json(&p->node_selector));
		else if (ok)
			ok = add_pods_or_namespaces(e, p->has_pod_selector, &p->ns_selector,
						    &p->pod_selector);
	}
	if (ok && r->n_ports > 0) {
		ok = attach(o, v1alpha2 ? "protocols" : "ports", a = cJSON_CreateArray());
		for (size_t i = 0; ok && i < r->n_ports; i++) {
			e = tier_port_json(&r->ports[i], v1alpha2, &skip);
			ok = skip || push(a, e);
		}
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool add_tier_rules(cJSON *spec, const char *key, const struct npgw_k8s_rule *r, size_t n,
			   bool ingress, bool v1alpha2)
{
	cJSON *a;
	bool ok;

	if (n == 0)
		return true;
	ok = attach(spec, key, a = cJSON_CreateArray());
	for (size_t i = 0; ok && i < n; i++)
		ok = push(a, tier_rule_json(&r[i], ingress, v1alpha2));
	return ok;
}

static cJSON *tier_policy_json(const struct npgw_k8s_policy *p)
{
	bool v1alpha2 = p->kind == NPGW_K8S_CLUSTER_NETWORK_POLICY;
	cJSON *meta, *spec = NULL, *subj = NULL;
	cJSON *o = object_head(v1alpha2 ? "policy.networking.k8s.io/v1alpha2"
					: "policy.networking.k8s.io/v1alpha1",
			       npgw_k8s_policy_kind_name(p), NULL, p->name, &meta);
	bool ok = o != NULL && attach(o, "spec", spec = cJSON_CreateObject());

	if (ok && v1alpha2)
		ok = add_str(spec, "tier", npgw_k8s_tier_name(p->tier));
	if (ok && p->kind != NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY)
		ok = add_num(spec, "priority", p->priority);
	ok = ok && attach(spec, "subject", subj = cJSON_CreateObject()) &&
	     add_pods_or_namespaces(subj, p->pod_selector.match_labels.n > 0 ||
					  p->pod_selector.n_exprs > 0 || !p->has_ns_selector,
				    &p->ns_selector, &p->pod_selector) &&
	     add_tier_rules(spec, "ingress", p->ingress, p->n_ingress, true, v1alpha2) &&
	     add_tier_rules(spec, "egress", p->egress, p->n_egress, false, v1alpha2);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *npgw_k8s_policy_to_json(const struct npgw_k8s_policy *p)
{
	if (p->kind != NPGW_K8S_NETWORK_POLICY)
		return tier_policy_json(p);
	cJSON *meta, *spec = NULL, *types = NULL;
	cJSON *o = object_head("networking.k8s.io/v1", "NetworkPolicy", p->namespace, p->name,
			       &meta);
	bool ok = o != NULL;

	if (ok)
		ok = attach(o, "spec", spec = cJSON_CreateObject()) &&
		     attach(spec, "podSelector", selector_json(&p->pod_selector)) &&
		     attach(spec, "policyTypes", types = cJSON_CreateArray());
	if (ok && p->isolates_ingress)
		ok = push(types, cJSON_CreateString("Ingress"));
	if (ok && p->isolates_egress)
		ok = push(types, cJSON_CreateString("Egress"));
	ok = ok && add_rules(spec, "ingress", p->ingress, p->n_ingress, true) &&
	     add_rules(spec, "egress", p->egress, p->n_egress, false);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- Pod ---- */

static cJSON *container_port_json(const struct npgw_k8s_container_port *cp)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	if (ok && cp->name != NULL)
		ok = add_str(o, "name", cp->name);
	ok = ok && add_num(o, "containerPort", cp->port) &&
	     add_proto(o, "protocol", cp->protocol);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Does a port of ports[from..to) carry name? */
static bool name_used(const struct npgw_k8s_container_port *ports, size_t from, size_t to,
		      const char *name)
{
	for (size_t i = from; i < to; i++)
		if (ports[i].name != NULL && strcmp(ports[i].name, name) == 0)
			return true;
	return false;
}

/* The flat port list as containers c0, c1...: a container ends where the
 * next port's name is already used in it. At least one container. */
static cJSON *containers_json(const struct npgw_k8s_pod *p)
{
	cJSON *a = cJSON_CreateArray(), *c = NULL, *ports = NULL;
	size_t first = 0, n_containers = 0;
	bool ok = a != NULL;

	for (size_t i = 0; ok && (i < p->n_ports || n_containers == 0); i++) {
		bool split = c == NULL || (i < p->n_ports && p->ports[i].name != NULL &&
					   name_used(p->ports, first, i, p->ports[i].name));

		if (split) {
			char name[32];

			snprintf(name, sizeof(name), "c%zu", n_containers++);
			ok = push(a, c = cJSON_CreateObject()) && add_str(c, "name", name);
			ports = NULL;
			first = i;
		}
		if (ok && i < p->n_ports) {
			if (ports == NULL)
				ok = attach(c, "ports", ports = cJSON_CreateArray());
			ok = ok && push(ports, container_port_json(&p->ports[i]));
		}
	}
	if (!ok) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

/* A Node: name, labels, status.addresses (as InternalIP). */
static cJSON *node_json(const struct npgw_k8s_pod *p)
{
	cJSON *meta, *status, *a = NULL, *e;
	cJSON *o = object_head("v1", "Node", NULL, p->name, &meta);
	bool ok = o != NULL && attach(meta, "labels", labels_json(&p->labels)) &&
		  attach(o, "status", status = cJSON_CreateObject()) &&
		  attach(status, "addresses", a = cJSON_CreateArray());
	char buf[64];

	for (size_t i = 0; ok && i < p->n_addrs; i++)
		ok = push(a, e = cJSON_CreateObject()) && add_str(e, "type", "InternalIP") &&
		     add_str(e, "address", npgw_addr_format(&p->addrs[i], buf, sizeof(buf)));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *npgw_k8s_pod_to_json(const struct npgw_k8s_pod *p)
{
	if (npgw_k8s_pod_is_node(p))
		return node_json(p);
	cJSON *meta, *spec, *status, *ips = NULL, *e;
	cJSON *o = object_head("v1", "Pod", p->namespace, p->name, &meta);
	bool ok = o != NULL;
	char buf[64];

	ok = ok && attach(meta, "labels", labels_json(&p->labels)) &&
	     attach(o, "spec", spec = cJSON_CreateObject());
	if (ok && p->host_network)
		ok = cJSON_AddTrueToObject(spec, "hostNetwork") != NULL;
	ok = ok && attach(spec, "containers", containers_json(p)) &&
	     attach(o, "status", status = cJSON_CreateObject());
	if (ok && p->phase != NULL)
		ok = add_str(status, "phase", p->phase);
	if (ok && p->n_addrs > 0)
		ok = add_str(status, "podIP", npgw_addr_format(&p->addrs[0], buf, sizeof(buf))) &&
		     attach(status, "podIPs", ips = cJSON_CreateArray());
	for (size_t i = 0; ok && i < p->n_addrs; i++)
		ok = push(ips, e = cJSON_CreateObject()) &&
		     add_str(e, "ip", npgw_addr_format(&p->addrs[i], buf, sizeof(buf)));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- Namespace ---- */

cJSON *npgw_k8s_namespace_to_json(const struct npgw_k8s_namespace *n)
{
	cJSON *meta;
	cJSON *o = object_head("v1", "Namespace", NULL, n->name, &meta);

	if (o != NULL && !attach(meta, "labels", labels_json(&n->labels))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- the cluster ---- */

static int nstrcmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int ns_cmp(const void *a, const void *b)
{
	const struct npgw_k8s_namespace *x = *(const struct npgw_k8s_namespace *const *)a;
	const struct npgw_k8s_namespace *y = *(const struct npgw_k8s_namespace *const *)b;

	return nstrcmp(x->name, y->name);
}

static int pod_cmp(const void *a, const void *b)
{
	const struct npgw_k8s_pod *x = *(const struct npgw_k8s_pod *const *)a;
	const struct npgw_k8s_pod *y = *(const struct npgw_k8s_pod *const *)b;
	int c = nstrcmp(x->namespace, y->namespace);

	return c ? c : nstrcmp(x->name, y->name);
}

static int policy_cmp(const void *a, const void *b)
{
	const struct npgw_k8s_policy *x = *(const struct npgw_k8s_policy *const *)a;
	const struct npgw_k8s_policy *y = *(const struct npgw_k8s_policy *const *)b;
	int c = nstrcmp(x->namespace, y->namespace);

	return c ? c : nstrcmp(x->name, y->name);
}

/* A sorted copy of an array of n object pointers (the cluster is const and
 * usually sorted already; this makes the output order a promise). */
static void **sorted(void *const *v, size_t n, int (*cmp)(const void *, const void *))
{
	void **copy = malloc((n ? n : 1) * sizeof(*copy));

	if (copy == NULL)
		return NULL;
	if (n > 0)
		memcpy(copy, v, n * sizeof(*copy));
	if (n > 1)
		qsort(copy, n, sizeof(*copy), cmp);
	return copy;
}

/* Append to items every object of v (n of them) in order. */
static bool push_objects(cJSON *items, void *const *v, size_t n,
			 int (*cmp)(const void *, const void *), cJSON *(*to_json)(const void *))
{
	void **s = sorted(v, n, cmp);
	bool ok = s != NULL;

	for (size_t i = 0; ok && i < n; i++)
		ok = push(items, to_json(s[i]));
	free(s);
	return ok;
}

static cJSON *ns_json(const void *o)
{
	return npgw_k8s_namespace_to_json(o);
}

static cJSON *pod_json(const void *o)
{
	return npgw_k8s_pod_to_json(o);
}

static cJSON *policy_json(const void *o)
{
	return npgw_k8s_policy_to_json(o);
}

cJSON *npgw_k8s_cluster_to_json(const struct npgw_k8s_cluster *c)
{
	cJSON *o = cJSON_CreateObject(), *items;
	bool ok = o != NULL && add_str(o, "apiVersion", "v1") && add_str(o, "kind", "List") &&
		  attach(o, "items", items = cJSON_CreateArray());

	ok = ok && push_objects(items, (void *const *)c->namespaces, c->n_namespaces, ns_cmp,
				ns_json) &&
	     push_objects(items, (void *const *)c->pods, c->n_pods, pod_cmp, pod_json) &&
	     push_objects(items, (void *const *)c->policies, c->n_policies, policy_cmp,
			  policy_json);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
