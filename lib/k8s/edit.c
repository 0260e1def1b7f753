/*
 * edit.c: changing a cluster as the control socket does: a deep copy (the
 * daemon edits a copy of the desired state and swaps it in only when the
 * result validates, compiles and is saved), an upsert of one cluster into
 * another (apply), removal by kind/namespace/name (delete), and counts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

/* ---- deep copy ---- */

/* Copy helpers set *ok to false when out of memory and leave what they
 * could build in place, so that the one k8s_*_free of the whole object
 * releases it. */

static char *dup_str(const char *s, bool *ok)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*ok = false;
	return d;
}

/* calloc(n, sz), with n == 0 giving NULL (not an error). */
static void *dup_array(const void *v, size_t n, size_t sz, bool *ok)
{
	void *d;

	if (n == 0 || v == NULL)
		return NULL;
	d = calloc(n, sz);
	if (d == NULL)
		*ok = false;
	return d;
}

static void copy_origin(struct npgw_k8s_origin *d, const struct npgw_k8s_origin *s, bool *ok)
{
	d->file = dup_str(s->file, ok);
	d->line = s->line;
	d->col = s->col;
}

static void copy_labels(struct npgw_k8s_labels *d, const struct npgw_k8s_labels *s, bool *ok)
{
	d->v = dup_array(s->v, s->n, sizeof(*d->v), ok);
	d->n = 0;
	if (d->v == NULL)
		return;
	for (; d->n < s->n; d->n++) {
		d->v[d->n].key = dup_str(s->v[d->n].key, ok);
		d->v[d->n].value = dup_str(s->v[d->n].value, ok);
	}
}

static void copy_selector(struct npgw_k8s_selector *d, const struct npgw_k8s_selector *s,
			  bool *ok)
{
	copy_labels(&d->match_labels, &s->match_labels, ok);
	d->exprs = dup_array(s->exprs, s->n_exprs, sizeof(*d->exprs), ok);
	d->n_exprs = 0;
	if (d->exprs == NULL)
		return;
	for (; d->n_exprs < s->n_exprs; d->n_exprs++) {
		struct npgw_k8s_expr *de = &d->exprs[d->n_exprs];
		const struct npgw_k8s_expr *se = &s->exprs[d->n_exprs];

		de->key = dup_str(se->key, ok);
		de->op = se->op;
		de->values = dup_array(se->values, se->n_values, sizeof(*de->values), ok);
		if (de->values == NULL)
			continue;
		for (; de->n_values < se->n_values; de->n_values++)
			de->values[de->n_values] = dup_str(se->values[de->n_values], ok);
	}
}

static void copy_peer(struct npgw_k8s_peer *d, const struct npgw_k8s_peer *s, bool *ok)
{
	d->has_node_selector = s->has_node_selector;
	copy_selector(&d->node_selector, &s->node_selector, ok);
	d->has_pod_selector = s->has_pod_selector;
	copy_selector(&d->pod_selector, &s->pod_selector, ok);
	d->has_ns_selector = s->has_ns_selector;
	copy_selector(&d->ns_selector, &s->ns_selector, ok);
	d->has_ip_block = s->has_ip_block;
	d->cidr = s->cidr;
	d->except = dup_array(s->except, s->n_except, sizeof(*d->except), ok);
	if (d->except != NULL) {
		memcpy(d->except, s->except, s->n_except * sizeof(*d->except));
		d->n_except = s->n_except;
	}
}

/* The rules array keeps n entries even when one of them is incomplete, so
 * rules_free (through k8s_policy_free) walks every one. */
static struct npgw_k8s_rule *copy_rules(const struct npgw_k8s_rule *s, size_t n, size_t *n_out,
					bool *ok)
{
	struct npgw_k8s_rule *d = dup_array(s, n, sizeof(*d), ok);

	*n_out = 0;
	if (d == NULL)
		return NULL;
	*n_out = n;
	for (size_t i = 0; i < n; i++) {
		d[i].line = s[i].line;
		d[i].col = s[i].col;
		d[i].action = s[i].action;
		d[i].name = dup_str(s[i].name, ok);
		d[i].peers = dup_array(s[i].peers, s[i].n_peers, sizeof(*d[i].peers), ok);
		if (d[i].peers != NULL)
			for (; d[i].n_peers < s[i].n_peers; d[i].n_peers++)
				copy_peer(&d[i].peers[d[i].n_peers], &s[i].peers[d[i].n_peers], ok);
		d[i].ports = dup_array(s[i].ports, s[i].n_ports, sizeof(*d[i].ports), ok);
		if (d[i].ports != NULL)
			for (; d[i].n_ports < s[i].n_ports; d[i].n_ports++) {
				struct npgw_k8s_port *dp = &d[i].ports[d[i].n_ports];

				*dp = s[i].ports[d[i].n_ports];
				dp->name = dup_str(dp->name, ok);
			}
	}
	return d;
}

static struct npgw_k8s_policy *copy_policy(const struct npgw_k8s_policy *s)
{
	struct npgw_k8s_policy *d = calloc(1, sizeof(*d));
	bool ok = true;

	if (d == NULL)
		return NULL;
	d->namespace = dup_str(s->namespace, &ok);
	d->name = dup_str(s->name, &ok);
	copy_origin(&d->origin, &s->origin, &ok);
	d->kind = s->kind;
	d->tier = s->tier;
	d->priority = s->priority;
	d->has_ns_selector = s->has_ns_selector;
	copy_selector(&d->ns_selector, &s->ns_selector, &ok);
	copy_selector(&d->pod_selector, &s->pod_selector, &ok);
	d->isolates_ingress = s->isolates_ingress;
	d->isolates_egress = s->isolates_egress;
	d->ingress = copy_rules(s->ingress, s->n_ingress, &d->n_ingress, &ok);
	d->egress = copy_rules(s->egress, s->n_egress, &d->n_egress, &ok);
	if (!ok) {
		k8s_policy_free(d);
		return NULL;
	}
	return d;
}

static struct npgw_k8s_pod *copy_pod(const struct npgw_k8s_pod *s)
{
	struct npgw_k8s_pod *d = calloc(1, sizeof(*d));
	bool ok = true;

	if (d == NULL)
		return NULL;
	d->namespace = dup_str(s->namespace, &ok);
	d->name = dup_str(s->name, &ok);
	copy_origin(&d->origin, &s->origin, &ok);
	copy_labels(&d->labels, &s->labels, &ok);
	d->host_network = s->host_network;
	d->phase = dup_str(s->phase, &ok);
	d->addrs = dup_array(s->addrs, s->n_addrs, sizeof(*d->addrs), &ok);
	if (d->addrs != NULL) {
		memcpy(d->addrs, s->addrs, s->n_addrs * sizeof(*d->addrs));
		d->n_addrs = s->n_addrs;
	}
	d->ports = dup_array(s->ports, s->n_ports, sizeof(*d->ports), &ok);
	if (d->ports != NULL)
		for (; d->n_ports < s->n_ports; d->n_ports++) {
			d->ports[d->n_ports] = s->ports[d->n_ports];
			d->ports[d->n_ports].name = dup_str(s->ports[d->n_ports].name, &ok);
		}
	if (!ok) {
		k8s_pod_free(d);
		return NULL;
	}
	return d;
}

static struct npgw_k8s_namespace *copy_namespace(const struct npgw_k8s_namespace *s)
{
	struct npgw_k8s_namespace *d = calloc(1, sizeof(*d));
	bool ok = true;

	if (d == NULL)
		return NULL;
	d->name = dup_str(s->name, &ok);
	copy_origin(&d->origin, &s->origin, &ok);
	copy_labels(&d->labels, &s->labels, &ok);
	if (!ok) {
		k8s_namespace_free(d);
		return NULL;
	}
	return d;
}

struct npgw_k8s_cluster *npgw_k8s_cluster_clone(const struct npgw_k8s_cluster *c, int *err)
{
	struct npgw_k8s_cluster *d = npgw_k8s_cluster_new();
	bool ok = d != NULL;

	if (ok) {
		d->namespaces = dup_array(c->namespaces, c->n_namespaces, sizeof(*d->namespaces),
					  &ok);
		d->pods = dup_array(c->pods, c->n_pods, sizeof(*d->pods), &ok);
		d->policies = dup_array(c->policies, c->n_policies, sizeof(*d->policies), &ok);
		d->n_refused = c->n_refused;
	}
	/* each list counts only what was copied, for npgw_k8s_cluster_free */
	for (size_t i = 0; ok && i < c->n_namespaces; i++)
		if ((d->namespaces[d->n_namespaces] = copy_namespace(c->namespaces[i])) != NULL)
			d->n_namespaces++;
		else
			ok = false;
	for (size_t i = 0; ok && i < c->n_pods; i++)
		if ((d->pods[d->n_pods] = copy_pod(c->pods[i])) != NULL)
			d->n_pods++;
		else
			ok = false;
	for (size_t i = 0; ok && i < c->n_policies; i++)
		if ((d->policies[d->n_policies] = copy_policy(c->policies[i])) != NULL)
			d->n_policies++;
		else
			ok = false;
	if (!ok) {
		npgw_k8s_cluster_free(d);
		if (err != NULL)
			*err = -ENOMEM;
		return NULL;
	}
	return d;
}

/* ---- keys ---- */

static int nstrcmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int ns_key_cmp(const void *a, const void *b)
{
	return nstrcmp(((const struct npgw_k8s_namespace *)a)->name,
		       ((const struct npgw_k8s_namespace *)b)->name);
}

static int pod_key_cmp(const void *a, const void *b)
{
	const struct npgw_k8s_pod *x = a, *y = b;
	int c = nstrcmp(x->namespace, y->namespace);

	return c ? c : nstrcmp(x->name, y->name);
}

static int policy_key_cmp(const void *a, const void *b)
{
	const struct npgw_k8s_policy *x = a, *y = b;
	int c = nstrcmp(x->namespace, y->namespace);

	return c ? c : nstrcmp(x->name, y->name);
}

/* ---- merge ---- */

/*
 * Merge two lists sorted by key into out (room for n_d + n_s): an object
 * of s drops every object of d with its key (freed). Cannot fail.
 */
static size_t merge_list(void **out, void **d, size_t n_d, void **s, size_t n_s,
			 int (*cmp)(const void *, const void *), void (*drop)(void *))
{
	size_t i = 0, j = 0, n = 0;

	while (i < n_d || j < n_s) {
		int c = i == n_d ? 1 : j == n_s ? -1 : cmp(d[i], s[j]);

		if (c < 0)
			out[n++] = d[i++];
		else if (c > 0)
			out[n++] = s[j++];
		else
			drop(d[i++]); /* replaced: s[j] is taken when d moves past it */
	}
	return n;
}

static void drop_ns(void *o)
{
	k8s_namespace_free(o);
}

static void drop_pod(void *o)
{
	k8s_pod_free(o);
}

static void drop_policy(void *o)
{
	k8s_policy_free(o);
}

int npgw_k8s_cluster_merge(struct npgw_k8s_cluster *dst, struct npgw_k8s_cluster *src)
{
	void **ns, **pods, **pols;

	/* all the memory first, so that failing changes nothing */
	ns = malloc((dst->n_namespaces + src->n_namespaces + 1) * sizeof(*ns));
	pods = malloc((dst->n_pods + src->n_pods + 1) * sizeof(*pods));
	pols = malloc((dst->n_policies + src->n_policies + 1) * sizeof(*pols));
	if (ns == NULL || pods == NULL || pols == NULL) {
		free(ns);
		free(pods);
		free(pols);
		return -ENOMEM;
	}
	npgw_k8s_cluster_sort(dst);
	npgw_k8s_cluster_sort(src);
	dst->n_namespaces = merge_list(ns, (void **)dst->namespaces, dst->n_namespaces,
				       (void **)src->namespaces, src->n_namespaces, ns_key_cmp,
				       drop_ns);
	dst->n_pods = merge_list(pods, (void **)dst->pods, dst->n_pods, (void **)src->pods,
				 src->n_pods, pod_key_cmp, drop_pod);
	dst->n_policies = merge_list(pols, (void **)dst->policies, dst->n_policies,
				     (void **)src->policies, src->n_policies, policy_key_cmp,
				     drop_policy);
	free(dst->namespaces);
	free(dst->pods);
	free(dst->policies);
	dst->namespaces = (struct npgw_k8s_namespace **)ns;
	dst->pods = (struct npgw_k8s_pod **)pods;
	dst->policies = (struct npgw_k8s_policy **)pols;
	dst->n_refused += src->n_refused;
	free(src->namespaces);
	free(src->pods);
	free(src->policies);
	memset(src, 0, sizeof(*src));
	return 0;
}

/* ---- remove ---- */

enum kind {
	KIND_NONE,
	KIND_POLICY,
	KIND_POD,
	KIND_NAMESPACE,
};

static enum kind parse_kind(const char *s)
{
	static const struct {
		const char *name;
		enum kind kind;
	} names[] = {
		{"NetworkPolicy", KIND_POLICY}, {"networkpolicy", KIND_POLICY},
		{"networkpolicies", KIND_POLICY}, {"netpol", KIND_POLICY},
		{"Pod", KIND_POD}, {"pod", KIND_POD}, {"pods", KIND_POD}, {"po", KIND_POD},
		{"Namespace", KIND_NAMESPACE}, {"namespace", KIND_NAMESPACE},
		{"namespaces", KIND_NAMESPACE}, {"ns", KIND_NAMESPACE},
	};

	for (size_t i = 0; s != NULL && i < NPGW_ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].kind;
	return KIND_NONE;
}

/* Drop every element of v (n of them) that matches key; keep the order. */
static size_t remove_matching(void **v, size_t n, const void *key,
			      int (*cmp)(const void *, const void *), void (*drop)(void *))
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (cmp(v[i], key) == 0)
			drop(v[i]);
		else
			v[k++] = v[i];
	}
	return k;
}

int npgw_k8s_cluster_remove(struct npgw_k8s_cluster *c, const char *kind, const char *ns,
			    const char *name)
{
	enum kind k = parse_kind(kind);
	size_t before, after;

	if (k == KIND_NONE || name == NULL)
		return -EINVAL;
	if (ns == NULL || ns[0] == '\0')
		ns = "default";
	switch (k) {
	case KIND_POLICY: {
		struct npgw_k8s_policy key = {.namespace = (char *)(uintptr_t)ns, .name = (char *)(uintptr_t)name};

		before = c->n_policies;
		after = c->n_policies = remove_matching((void **)c->policies, c->n_policies, &key,
							policy_key_cmp, drop_policy);
		break;
	}
	case KIND_POD: {
		struct npgw_k8s_pod key = {.namespace = (char *)(uintptr_t)ns, .name = (char *)(uintptr_t)name};

		before = c->n_pods;
		after = c->n_pods = remove_matching((void **)c->pods, c->n_pods, &key,
						    pod_key_cmp, drop_pod);
		break;
	}
	default: {
		struct npgw_k8s_namespace key = {.name = (char *)(uintptr_t)name};

		before = c->n_namespaces;
		after = c->n_namespaces = remove_matching((void **)c->namespaces,
							  c->n_namespaces, &key, ns_key_cmp,
							  drop_ns);
		break;
	}
	}
	return after < before ? 0 : -ENOENT;
}

size_t npgw_k8s_object_count(const struct npgw_k8s_cluster *c)
{
	if (c == NULL)
		return 0;
	return c->n_namespaces + c->n_pods + c->n_policies;
}

/* ---- one object at a time, with the replaced object handed back ---- */

/* The index of the first element of v (n, sorted) not below key. */
static size_t lower_bound(void *const *v, size_t n, const void *key,
			  int (*cmp)(const void *, const void *))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp(v[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Put obj into the sorted list *v (*n): replace the element with its key
 * (handed back in *old) or insert it in order. */
static int put_sorted(void ***v, size_t *n, void *obj, void **old,
		      int (*cmp)(const void *, const void *))
{
	size_t i = lower_bound(*v, *n, obj, cmp);
	void **nv;

	*old = NULL;
	if (i < *n && cmp((*v)[i], obj) == 0) {
		*old = (*v)[i];
		(*v)[i] = obj;
		return 0;
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	memmove(nv + i + 1, nv + i, (*n - i) * sizeof(*nv));
	nv[i] = obj;
	*v = nv;
	(*n)++;
	return 0;
}

/* Take the element with key out of the sorted list; NULL when none. */
static void *take_sorted(void **v, size_t *n, const void *key,
			 int (*cmp)(const void *, const void *))
{
	size_t i = lower_bound(v, *n, key, cmp);
	void *o;

	if (i == *n || cmp(v[i], key) != 0)
		return NULL;
	o = v[i];
	memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(*v));
	(*n)--;
	return o;
}

int npgw_k8s_cluster_put_pod(struct npgw_k8s_cluster *c, struct npgw_k8s_pod *p,
			     struct npgw_k8s_pod **old)
{
	return put_sorted((void ***)&c->pods, &c->n_pods, p, (void **)old, pod_key_cmp);
}

int npgw_k8s_cluster_put_policy(struct npgw_k8s_cluster *c, struct npgw_k8s_policy *p,
				struct npgw_k8s_policy **old)
{
	return put_sorted((void ***)&c->policies, &c->n_policies, p, (void **)old,
			  policy_key_cmp);
}

int npgw_k8s_cluster_put_namespace(struct npgw_k8s_cluster *c, struct npgw_k8s_namespace *n,
				   struct npgw_k8s_namespace **old)
{
	return put_sorted((void ***)&c->namespaces, &c->n_namespaces, n, (void **)old,
			  ns_key_cmp);
}

struct npgw_k8s_pod *npgw_k8s_cluster_take_pod(struct npgw_k8s_cluster *c, const char *ns,
					       const char *name)
{
	struct npgw_k8s_pod key = {.namespace = (char *)(uintptr_t)ns, .name = (char *)(uintptr_t)name};

	return take_sorted((void **)c->pods, &c->n_pods, &key, pod_key_cmp);
}

struct npgw_k8s_policy *npgw_k8s_cluster_take_policy(struct npgw_k8s_cluster *c, const char *ns,
						     const char *name)
{
	struct npgw_k8s_policy key = {.namespace = (char *)(uintptr_t)ns, .name = (char *)(uintptr_t)name};

	return take_sorted((void **)c->policies, &c->n_policies, &key, policy_key_cmp);
}

struct npgw_k8s_namespace *npgw_k8s_cluster_take_namespace(struct npgw_k8s_cluster *c,
							   const char *name)
{
	struct npgw_k8s_namespace key = {.name = (char *)(uintptr_t)name};

	return take_sorted((void **)c->namespaces, &c->n_namespaces, &key, ns_key_cmp);
}

void npgw_k8s_pod_free(struct npgw_k8s_pod *p)
{
	k8s_pod_free(p);
}

void npgw_k8s_policy_free(struct npgw_k8s_policy *p)
{
	k8s_policy_free(p);
}

void npgw_k8s_namespace_free(struct npgw_k8s_namespace *n)
{
	k8s_namespace_free(n);
}
