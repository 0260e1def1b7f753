/*
 * cluster.c: the cluster model: ownership, sorting, lookups, and the checks
 * that span objects (duplicates, two pods claiming one address).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

struct npgw_k8s_cluster *npgw_k8s_cluster_new(void)
{
	return calloc(1, sizeof(struct npgw_k8s_cluster));
}

static void rules_free(struct npgw_k8s_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < r[i].n_peers; k++) {
			k8s_selector_free(&r[i].peers[k].pod_selector);
			k8s_selector_free(&r[i].peers[k].ns_selector);
			k8s_selector_free(&r[i].peers[k].node_selector);
			free(r[i].peers[k].except);
		}
		free(r[i].peers);
		free(r[i].name);
		for (size_t k = 0; k < r[i].n_ports; k++)
			free(r[i].ports[k].name);
		free(r[i].ports);
	}
	free(r);
}

void k8s_policy_free(struct npgw_k8s_policy *p)
{
	if (p == NULL)
		return;
	free(p->namespace);
	free(p->name);
	free(p->origin.file);
	k8s_selector_free(&p->pod_selector);
	k8s_selector_free(&p->ns_selector);
	rules_free(p->ingress, p->n_ingress);
	rules_free(p->egress, p->n_egress);
	free(p);
}

void k8s_pod_free(struct npgw_k8s_pod *p)
{
	if (p == NULL)
		return;
	free(p->namespace);
	free(p->name);
	free(p->origin.file);
	k8s_labels_free(&p->labels);
	free(p->phase);
	free(p->addrs);
	for (size_t i = 0; i < p->n_ports; i++)
		free(p->ports[i].name);
	free(p->ports);
	free(p);
}

void k8s_namespace_free(struct npgw_k8s_namespace *n)
{
	if (n == NULL)
		return;
	free(n->name);
	free(n->origin.file);
	k8s_labels_free(&n->labels);
	free(n);
}

void npgw_k8s_cluster_free(struct npgw_k8s_cluster *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_namespaces; i++)
		k8s_namespace_free(c->namespaces[i]);
	for (size_t i = 0; i < c->n_pods; i++)
		k8s_pod_free(c->pods[i]);
	for (size_t i = 0; i < c->n_policies; i++)
		k8s_policy_free(c->policies[i]);
	free(c->namespaces);
	free(c->pods);
	free(c->policies);
	free(c);
}

static int append(void ***v, size_t *n, void *obj)
{
	void **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (nv == NULL)
		return -ENOMEM;
	nv[(*n)++] = obj;
	*v = nv;
	return 0;
}

int k8s_cluster_add_policy(struct npgw_k8s_cluster *c, struct npgw_k8s_policy *p)
{
	int rc = append((void ***)&c->policies, &c->n_policies, p);

	if (rc < 0)
		k8s_policy_free(p);
	return rc;
}

int k8s_cluster_add_pod(struct npgw_k8s_cluster *c, struct npgw_k8s_pod *p)
{
	int rc = append((void ***)&c->pods, &c->n_pods, p);

	if (rc < 0)
		k8s_pod_free(p);
	return rc;
}

int k8s_cluster_add_namespace(struct npgw_k8s_cluster *c, struct npgw_k8s_namespace *n)
{
	int rc = append((void ***)&c->namespaces, &c->n_namespaces, n);

	if (rc < 0)
		k8s_namespace_free(n);
	return rc;
}

/* ---- sorting ---- */

static int nstrcmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int origin_cmp(const struct npgw_k8s_origin *a, const struct npgw_k8s_origin *b)
{
	int c = nstrcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->col < b->col ? -1 : a->col > b->col;
}

static int ns_cmp(const void *a, const void *b)
{
	const struct npgw_k8s_namespace *x = *(const struct npgw_k8s_namespace *const *)a;
	const struct npgw_k8s_namespace *y = *(const struct npgw_k8s_namespace *const *)b;
	int c = nstrcmp(x->name, y->name);

	return c ? c : origin_cmp(&x->origin, &y->origin);
}

static int pod_cmp(const void *a, const void *b)
{
	const struct npgw_k8s_pod *x = *(const struct npgw_k8s_pod *const *)a;
	const struct npgw_k8s_pod *y = *(const struct npgw_k8s_pod *const *)b;
	int c = nstrcmp(x->namespace, y->namespace);

	if (c == 0)
		c = nstrcmp(x->name, y->name);
	return c ? c : origin_cmp(&x->origin, &y->origin);
}

static int policy_cmp(const void *a, const void *b)
{
	const struct npgw_k8s_policy *x = *(const struct npgw_k8s_policy *const *)a;
	const struct npgw_k8s_policy *y = *(const struct npgw_k8s_policy *const *)b;
	int c = nstrcmp(x->namespace, y->namespace);

	if (c == 0)
		c = nstrcmp(x->name, y->name);
	return c ? c : origin_cmp(&x->origin, &y->origin);
}

static void rules_sort(struct npgw_k8s_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < r[i].n_peers; k++) {
			k8s_selector_sort(&r[i].peers[k].pod_selector);
			k8s_selector_sort(&r[i].peers[k].ns_selector);
			k8s_selector_sort(&r[i].peers[k].node_selector);
		}
}

void npgw_k8s_cluster_sort(struct npgw_k8s_cluster *c)
{
	if (c->n_namespaces > 1)
		qsort(c->namespaces, c->n_namespaces, sizeof(*c->namespaces), ns_cmp);
	if (c->n_pods > 1)
		qsort(c->pods, c->n_pods, sizeof(*c->pods), pod_cmp);
	if (c->n_policies > 1)
		qsort(c->policies, c->n_policies, sizeof(*c->policies), policy_cmp);
	for (size_t i = 0; i < c->n_namespaces; i++)
		k8s_labels_sort(&c->namespaces[i]->labels);
	for (size_t i = 0; i < c->n_pods; i++)
		k8s_labels_sort(&c->pods[i]->labels);
	for (size_t i = 0; i < c->n_policies; i++) {
		struct npgw_k8s_policy *p = c->policies[i];

		k8s_selector_sort(&p->pod_selector);
		k8s_selector_sort(&p->ns_selector);
		rules_sort(p->ingress, p->n_ingress);
		rules_sort(p->egress, p->n_egress);
	}
}

/* ---- lookups ---- */

const struct npgw_k8s_pod *npgw_k8s_find_pod(const struct npgw_k8s_cluster *c, const char *ns,
					     const char *name)
{
	size_t lo = 0, hi = c->n_pods;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct npgw_k8s_pod *p = c->pods[mid];
		int cmp = nstrcmp(ns, p->namespace);

		if (cmp == 0)
			cmp = nstrcmp(name, p->name);
		if (cmp == 0)
			return p;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct npgw_k8s_namespace *npgw_k8s_find_namespace(const struct npgw_k8s_cluster *c,
							 const char *name)
{
	size_t lo = 0, hi = c->n_namespaces;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = nstrcmp(name, c->namespaces[mid]->name);

		if (cmp == 0)
			return c->namespaces[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct npgw_k8s_labels *npgw_k8s_namespace_labels(const struct npgw_k8s_cluster *c,
							const char *ns,
							struct npgw_k8s_label *tmp,
							struct npgw_k8s_labels *tmp_set)
{
	const struct npgw_k8s_namespace *n = npgw_k8s_find_namespace(c, ns);

	if (n != NULL)
		return &n->labels;
	tmp->key = (char *)(uintptr_t)NPGW_K8S_NS_NAME_LABEL;
	tmp->value = (char *)(uintptr_t)ns;
	tmp_set->v = tmp;
	tmp_set->n = 1;
	return tmp_set;
}

bool npgw_k8s_pod_is_policy_target(const struct npgw_k8s_pod *p)
{
	if (p->host_network)
		return false;
	return p->phase == NULL ||
	       (strcmp(p->phase, "Succeeded") != 0 && strcmp(p->phase, "Failed") != 0);
}

bool npgw_k8s_pod_is_node(const struct npgw_k8s_pod *p)
{
	return p->namespace != NULL && strcmp(p->namespace, NPGW_K8S_NS_NODE) == 0;
}

const char *npgw_k8s_policy_kind_name(const struct npgw_k8s_policy *p)
{
	switch (p->kind) {
	case NPGW_K8S_ADMIN_NETWORK_POLICY:
		return "AdminNetworkPolicy";
	case NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY:
		return "BaselineAdminNetworkPolicy";
	case NPGW_K8S_CLUSTER_NETWORK_POLICY:
		return "ClusterNetworkPolicy";
	default:
		return "NetworkPolicy";
	}
}

const char *npgw_k8s_tier_name(unsigned int tier)
{
	return tier == NPGW_K8S_TIER_ADMIN	  ? "Admin"
	       : tier == NPGW_K8S_TIER_BASELINE ? "Baseline"
						 : "NetworkPolicy";
}

bool npgw_k8s_policy_selects(const struct npgw_k8s_policy *p, const struct npgw_k8s_pod *pod,
			     const struct npgw_k8s_labels *ns_labels)
{
	if (!npgw_k8s_pod_is_policy_target(pod))
		return false;
	if (p->tier == NPGW_K8S_TIER_NETPOL)
		return nstrcmp(pod->namespace, p->namespace) == 0 &&
		       npgw_k8s_selector_matches(&p->pod_selector, &pod->labels);
	return (!p->has_ns_selector || npgw_k8s_selector_matches(&p->ns_selector, ns_labels)) &&
	       npgw_k8s_selector_matches(&p->pod_selector, &pod->labels);
}

/* ---- checks across objects ---- */

static void dup_error(struct npgw_diags *d, const char *kind, const char *ns, const char *name,
		      const struct npgw_k8s_origin *first, const struct npgw_k8s_origin *again)
{
	npgw_diags_add(d, NPGW_SEV_ERROR, again->file, again->line, again->col, "",
		       "%s %s%s%s is defined twice (first at %s:%u:%u)", kind, ns ? ns : "",
		       ns ? "/" : "", name, first->file, first->line, first->col);
}

static void *sorted_copy(void *v, size_t n, int (*cmp)(const void *, const void *))
{
	void **copy = malloc((n ? n : 1) * sizeof(void *));

	if (copy == NULL)
		return NULL;
	if (n > 0) {
		memcpy(copy, v, n * sizeof(void *));
		qsort(copy, n, sizeof(void *), cmp);
	}
	return copy;
}

struct claim {
	const struct npgw_addr *addr;
	const struct npgw_k8s_pod *pod;
};

static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = npgw_addr_cmp(x->addr, y->addr);

	return c ? c : pod_cmp(&x->pod, &y->pod);
}

static int check_addresses(const struct npgw_k8s_cluster *c, struct npgw_diags *d)
{
	struct claim *v;
	size_t n = 0;

	for (size_t i = 0; i < c->n_pods; i++)
		n += c->pods[i]->n_addrs;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	n = 0;
	/* hostNetwork pods share their node's address, and pods that have
	 * finished may have handed theirs on: neither is a conflict */
	for (size_t i = 0; i < c->n_pods; i++)
		if (npgw_k8s_pod_is_policy_target(c->pods[i]))
			for (size_t k = 0; k < c->pods[i]->n_addrs; k++)
				v[n++] = (struct claim){&c->pods[i]->addrs[k], c->pods[i]};
	if (n > 1)
		qsort(v, n, sizeof(*v), claim_cmp);
	for (size_t i = 1, first = 0; i < n; i++) {
		const struct npgw_k8s_pod *a = v[first].pod, *b = v[i].pod;
		char buf[64];

		if (npgw_addr_cmp(v[i].addr, v[first].addr) != 0) {
			first = i;
			continue;
		}
		if (nstrcmp(a->namespace, b->namespace) == 0 && nstrcmp(a->name, b->name) == 0)
			continue; /* a duplicate object, reported as such */
		npgw_diags_add(d, NPGW_SEV_ERROR, b->origin.file, b->origin.line, b->origin.col, "",
			       "pod %s/%s claims address %s, already claimed by pod %s/%s (%s:%u:%u)",
			       b->namespace, b->name, npgw_addr_format(v[i].addr, buf, sizeof(buf)),
			       a->namespace, a->name, a->origin.file, a->origin.line,
			       a->origin.col);
	}
	free(v);
	return 0;
}

/* Whether pod has a container port of that name and protocol. */
static bool pod_has_port(const struct npgw_k8s_pod *pod, const char *name, uint8_t proto)
{
	for (size_t i = 0; i < pod->n_ports; i++)
		if (pod->ports[i].name != NULL && strcmp(pod->ports[i].name, name) == 0 &&
		    pod->ports[i].protocol == proto)
			return true;
	return false;
}

static bool selects(const struct npgw_k8s_policy *p, const struct npgw_k8s_pod *pod)
{
	return nstrcmp(pod->namespace, p->namespace) == 0 && npgw_k8s_pod_is_policy_target(pod) &&
	       npgw_k8s_selector_matches(&p->pod_selector, &pod->labels);
}

static const char *proto_name(uint8_t proto)
{
	return proto == NPGW_PROTO_UDP ? "UDP" : proto == NPGW_PROTO_SCTP ? "SCTP" : "TCP";
}

/*
 * Two policies of one tier with the same priority: upstream leaves their
 * order to the implementation. npgw evaluates them in (kind, name) order
 * (the model's order: ClusterNetworkPolicy after AdminNetworkPolicy, then
 * by name), deterministic but not portable: say so. Returns 0 or -ENOMEM.
 */
static int warn_priorities(const struct npgw_k8s_cluster *c, struct npgw_diags *d)
{
	for (size_t i = 0; i < c->n_policies; i++) {
		const struct npgw_k8s_policy *p = c->policies[i];

		if (p->tier == NPGW_K8S_TIER_NETPOL)
			continue;
		for (size_t k = 0; k < i; k++) {
			const struct npgw_k8s_policy *q = c->policies[k];

			if (q->tier != p->tier || q->priority != p->priority)
				continue;
			if (npgw_diags_add(d, NPGW_SEV_WARNING, p->origin.file, p->origin.line,
					   p->origin.col, "spec.priority",
					   "%s %s has the same priority (%u) in the %s tier as %s %s: "
					   "npgw evaluates %s %s first (kind, then name order); "
					   "other implementations may not",
					   npgw_k8s_policy_kind_name(p), p->name, p->priority,
					   npgw_k8s_tier_name(p->tier), npgw_k8s_policy_kind_name(q),
					   q->name, npgw_k8s_policy_kind_name(q), q->name) < 0)
				return -ENOMEM;
			break;
		}
	}
	return 0;
}

/*
 * Warnings, when the cluster holds pods (policy files checked alone say
 * nothing): a policy that selects no pod, an ingress rule's named port that
 * no pod the policy selects has, and an egress rule's named port that no
 * pod at all has: each rule opens nothing where it was meant to. Returns 0
 * or -ENOMEM.
 */
int npgw_k8s_cluster_warn(const struct npgw_k8s_cluster *c, struct npgw_diags *d)
{
	char path[96];

	if (warn_priorities(c, d) < 0)
		return -ENOMEM;
	if (c->n_pods == 0)
		return 0;
	for (size_t i = 0; i < c->n_policies; i++) {
		const struct npgw_k8s_policy *p = c->policies[i];
		const struct npgw_k8s_origin *o = &p->origin;
		size_t n_sel = 0;

		if (p->tier != NPGW_K8S_TIER_NETPOL)
			continue;

		for (size_t k = 0; k < c->n_pods; k++)
			n_sel += selects(p, c->pods[k]);
		if (n_sel == 0) {
			if (npgw_diags_add(d, NPGW_SEV_WARNING, o->file, o->line, o->col,
					   "spec.podSelector",
					   "NetworkPolicy %s/%s selects no pod (no pod of namespace %s "
					   "matches): it has no effect until one does",
					   p->namespace, p->name, p->namespace) < 0)
				return -ENOMEM;
			continue;
		}
		for (int dir = 0; dir < 2; dir++) {
			const struct npgw_k8s_rule *rules = dir == 0 ? p->ingress : p->egress;
			size_t n_rules = dir == 0 ? p->n_ingress : p->n_egress;

			for (size_t r = 0; r < n_rules; r++) {
				for (size_t j = 0; j < rules[r].n_ports; j++) {
					const struct npgw_k8s_port *pt = &rules[r].ports[j];
					bool found = false;

					if (pt->name == NULL)
						continue;
					for (size_t k = 0; k < c->n_pods && !found; k++)
						found = (dir == 1 || selects(p, c->pods[k])) &&
							pod_has_port(c->pods[k], pt->name, pt->protocol);
					if (found)
						continue;
					snprintf(path, sizeof(path), "spec.%s[%zu].ports[%zu].port",
						 dir == 0 ? "ingress" : "egress", r, j);
					if (npgw_diags_add(d, NPGW_SEV_WARNING, o->file, o->line, o->col,
							   path,
							   "no pod %s has a %s port named \"%s\": this port "
							   "opens nothing",
							   dir == 0 ? "this policy selects" : "of the cluster",
							   proto_name(pt->protocol), pt->name) < 0)
						return -ENOMEM;
				}
			}
		}
	}
	return 0;
}

int npgw_k8s_cluster_validate(const struct npgw_k8s_cluster *c, struct npgw_diags *diags)
{
	size_t before = diags->n_errors;
	struct npgw_k8s_namespace **ns;
	struct npgw_k8s_pod **pods;
	struct npgw_k8s_policy **pols;
	int rc = 0;

	ns = sorted_copy(c->namespaces, c->n_namespaces, ns_cmp);
	pods = sorted_copy(c->pods, c->n_pods, pod_cmp);
	pols = sorted_copy(c->policies, c->n_policies, policy_cmp);
	if (ns == NULL || pods == NULL || pols == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* each copy after the first is reported, naming the first */
	for (size_t i = 1, f = 0; i < c->n_namespaces; i++) {
		if (nstrcmp(ns[i]->name, ns[f]->name) != 0)
			f = i;
		else
			dup_error(diags, "Namespace", NULL, ns[i]->name, &ns[f]->origin,
				  &ns[i]->origin);
	}
	for (size_t i = 1, f = 0; i < c->n_pods; i++) {
		if (nstrcmp(pods[i]->namespace, pods[f]->namespace) != 0 ||
		    nstrcmp(pods[i]->name, pods[f]->name) != 0)
			f = i;
		else
			dup_error(diags, npgw_k8s_pod_is_node(pods[i]) ? "Node" : "Pod",
				  npgw_k8s_pod_is_node(pods[i]) ? NULL : pods[i]->namespace,
				  pods[i]->name, &pods[f]->origin, &pods[i]->origin);
	}
	for (size_t i = 1, f = 0; i < c->n_policies; i++) {
		if (nstrcmp(pols[i]->namespace, pols[f]->namespace) != 0 ||
		    nstrcmp(pols[i]->name, pols[f]->name) != 0)
			f = i;
		else
			dup_error(diags, npgw_k8s_policy_kind_name(pols[i]),
				  pols[i]->tier ? NULL : pols[i]->namespace, pols[i]->name,
				  &pols[f]->origin, &pols[i]->origin);
	}
	rc = check_addresses(c, diags);
out:
	free(ns);
	free(pods);
	free(pols);
	if (rc == 0 && diags->n_errors != before)
		rc = -EINVAL;
	return rc;
}
