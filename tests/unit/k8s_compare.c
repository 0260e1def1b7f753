/*
 * k8s_compare.c: field-by-field comparison of cluster models (see
 * k8s_compare.h). Each compare function returns false after writing the
 * path of the first difference into the context.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "k8s_compare.h"

struct cmp {
	char *why;
	size_t len;
	unsigned int flags;
};

static bool differ(struct cmp *c, const char *path, const char *fmt, ...) NPGW_PRINTF(3, 4);

static bool differ(struct cmp *c, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->why, c->len, "%s: %s", path, msg);
	return false;
}

static bool same_str(struct cmp *c, const char *path, const char *a, const char *b)
{
	if (a == NULL && b == NULL)
		return true;
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		return differ(c, path, "\"%s\" vs \"%s\"", a ? a : "(null)", b ? b : "(null)");
	return true;
}

static bool same_uint(struct cmp *c, const char *path, unsigned long long a,
		      unsigned long long b)
{
	if (a != b)
		return differ(c, path, "%llu vs %llu", a, b);
	return true;
}

/* path = base + suffix, in a caller's buffer. */
static const char *sub(char *buf, const char *base, const char *fmt, ...) NPGW_PRINTF(3, 4);

static const char *sub(char *buf, const char *base, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(buf, 512, "%s", base);
	va_list ap;

	if (n >= 512)
		return buf;
	va_start(ap, fmt);
	vsnprintf(buf + n, 512 - n, fmt, ap);
	va_end(ap);
	return buf;
}

static bool same_labels(struct cmp *c, const char *path, const struct npgw_k8s_labels *a,
			const struct npgw_k8s_labels *b)
{
	char p[512];

	if (!same_uint(c, sub(p, path, ".n"), a->n, b->n))
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!same_str(c, sub(p, path, "[%zu].key", i), a->v[i].key, b->v[i].key) ||
		    !same_str(c, sub(p, path, "[%zu].value", i), a->v[i].value, b->v[i].value))
			return false;
	return true;
}

static bool same_selector(struct cmp *c, const char *path, const struct npgw_k8s_selector *a,
			  const struct npgw_k8s_selector *b)
{
	char p[512];

	if (!same_labels(c, sub(p, path, ".matchLabels"), &a->match_labels, &b->match_labels) ||
	    !same_uint(c, sub(p, path, ".n_exprs"), a->n_exprs, b->n_exprs))
		return false;
	for (size_t i = 0; i < a->n_exprs; i++) {
		const struct npgw_k8s_expr *x = &a->exprs[i], *y = &b->exprs[i];

		if (!same_str(c, sub(p, path, ".matchExpressions[%zu].key", i), x->key, y->key) ||
		    !same_uint(c, sub(p, path, ".matchExpressions[%zu].op", i), x->op, y->op) ||
		    !same_uint(c, sub(p, path, ".matchExpressions[%zu].n_values", i), x->n_values,
			       y->n_values))
			return false;
		for (size_t k = 0; k < x->n_values; k++)
			if (!same_str(c, sub(p, path, ".matchExpressions[%zu].values[%zu]", i, k),
				      x->values[k], y->values[k]))
				return false;
	}
	return true;
}

static bool same_prefix(struct cmp *c, const char *path, const struct npgw_prefix *a,
			const struct npgw_prefix *b)
{
	char x[64], y[64];

	if (a->len != b->len || a->addr.family != b->addr.family ||
	    memcmp(a->addr.bytes, b->addr.bytes, sizeof(a->addr.bytes)) != 0)
		return differ(c, path, "%s vs %s", npgw_prefix_format(a, x, sizeof(x)),
			      npgw_prefix_format(b, y, sizeof(y)));
	return true;
}

static bool same_peer(struct cmp *c, const char *path, const struct npgw_k8s_peer *a,
		      const struct npgw_k8s_peer *b)
{
	char p[512];

	if (!same_uint(c, sub(p, path, ".has_pod_selector"), a->has_pod_selector,
		       b->has_pod_selector) ||
	    !same_uint(c, sub(p, path, ".has_ns_selector"), a->has_ns_selector,
		       b->has_ns_selector) ||
	    !same_uint(c, sub(p, path, ".has_ip_block"), a->has_ip_block, b->has_ip_block) ||
	    !same_uint(c, sub(p, path, ".has_node_selector"), a->has_node_selector,
		       b->has_node_selector))
		return false;
	if (a->has_node_selector && !same_selector(c, sub(p, path, ".nodes"), &a->node_selector,
						   &b->node_selector))
		return false;
	if (a->has_pod_selector &&
	    !same_selector(c, sub(p, path, ".podSelector"), &a->pod_selector, &b->pod_selector))
		return false;
	if (a->has_ns_selector && !same_selector(c, sub(p, path, ".namespaceSelector"),
						 &a->ns_selector, &b->ns_selector))
		return false;
	if (!a->has_ip_block)
		return true;
	if (!same_prefix(c, sub(p, path, ".ipBlock.cidr"), &a->cidr, &b->cidr) ||
	    !same_uint(c, sub(p, path, ".ipBlock.n_except"), a->n_except, b->n_except))
		return false;
	for (size_t i = 0; i < a->n_except; i++)
		if (!same_prefix(c, sub(p, path, ".ipBlock.except[%zu]", i), &a->except[i],
				 &b->except[i]))
			return false;
	return true;
}

static bool same_port(struct cmp *c, const char *path, const struct npgw_k8s_port *a,
		      const struct npgw_k8s_port *b)
{
	char p[512];

	return same_uint(c, sub(p, path, ".protocol"), a->protocol, b->protocol) &&
	       same_uint(c, sub(p, path, ".has_port"), a->has_port, b->has_port) &&
	       same_uint(c, sub(p, path, ".port"), a->port, b->port) &&
	       same_uint(c, sub(p, path, ".endPort"), a->end_port, b->end_port) &&
	       same_str(c, sub(p, path, ".name"), a->name, b->name) &&
	       same_uint(c, sub(p, path, ".any_proto"), a->any_proto, b->any_proto);
}

static bool same_rules(struct cmp *c, const char *path, const struct npgw_k8s_rule *a,
		       size_t na, const struct npgw_k8s_rule *b, size_t nb)
{
	char p[512];

	if (!same_uint(c, sub(p, path, ".n"), na, nb))
		return false;
	for (size_t i = 0; i < na; i++) {
		if (!same_uint(c, sub(p, path, "[%zu].n_peers", i), a[i].n_peers, b[i].n_peers) ||
		    !same_uint(c, sub(p, path, "[%zu].n_ports", i), a[i].n_ports, b[i].n_ports) ||
		    !same_uint(c, sub(p, path, "[%zu].action", i), a[i].action, b[i].action) ||
		    !same_str(c, sub(p, path, "[%zu].name", i), a[i].name, b[i].name))
			return false;
		for (size_t k = 0; k < a[i].n_peers; k++)
			if (!same_peer(c, sub(p, path, "[%zu].peers[%zu]", i, k), &a[i].peers[k],
				       &b[i].peers[k]))
				return false;
		for (size_t k = 0; k < a[i].n_ports; k++)
			if (!same_port(c, sub(p, path, "[%zu].ports[%zu]", i, k), &a[i].ports[k],
				       &b[i].ports[k]))
				return false;
	}
	return true;
}

static bool same_origin(struct cmp *c, const char *path, const struct npgw_k8s_origin *a,
			const struct npgw_k8s_origin *b)
{
	char p[512];

	if (!(c->flags & K8S_CMP_ORIGIN))
		return true;
	return same_str(c, sub(p, path, ".origin.file"), a->file, b->file) &&
	       same_uint(c, sub(p, path, ".origin.line"), a->line, b->line) &&
	       same_uint(c, sub(p, path, ".origin.col"), a->col, b->col);
}

static bool same_policy(struct cmp *c, const char *path, const struct npgw_k8s_policy *a,
			const struct npgw_k8s_policy *b)
{
	char p[512];

	return same_str(c, sub(p, path, ".namespace"), a->namespace, b->namespace) &&
	       same_str(c, sub(p, path, ".name"), a->name, b->name) &&
	       same_origin(c, path, &a->origin, &b->origin) &&
	       same_uint(c, sub(p, path, ".kind"), a->kind, b->kind) &&
	       same_uint(c, sub(p, path, ".tier"), a->tier, b->tier) &&
	       same_uint(c, sub(p, path, ".priority"), a->priority, b->priority) &&
	       same_uint(c, sub(p, path, ".has_ns_selector"), a->has_ns_selector,
			 b->has_ns_selector) &&
	       same_selector(c, sub(p, path, ".nsSelector"), &a->ns_selector, &b->ns_selector) &&
	       same_selector(c, sub(p, path, ".podSelector"), &a->pod_selector,
			     &b->pod_selector) &&
	       same_uint(c, sub(p, path, ".isolates_ingress"), a->isolates_ingress,
			 b->isolates_ingress) &&
	       same_uint(c, sub(p, path, ".isolates_egress"), a->isolates_egress,
			 b->isolates_egress) &&
	       same_rules(c, sub(p, path, ".ingress"), a->ingress, a->n_ingress, b->ingress,
			  b->n_ingress) &&
	       same_rules(c, sub(p, path, ".egress"), a->egress, a->n_egress, b->egress,
			  b->n_egress);
}

static bool same_pod(struct cmp *c, const char *path, const struct npgw_k8s_pod *a,
		     const struct npgw_k8s_pod *b)
{
	char p[512], x[64], y[64];

	if (!same_str(c, sub(p, path, ".namespace"), a->namespace, b->namespace) ||
	    !same_str(c, sub(p, path, ".name"), a->name, b->name) ||
	    !same_origin(c, path, &a->origin, &b->origin) ||
	    !same_labels(c, sub(p, path, ".labels"), &a->labels, &b->labels) ||
	    !same_uint(c, sub(p, path, ".hostNetwork"), a->host_network, b->host_network) ||
	    !same_str(c, sub(p, path, ".phase"), a->phase, b->phase) ||
	    !same_uint(c, sub(p, path, ".n_addrs"), a->n_addrs, b->n_addrs) ||
	    !same_uint(c, sub(p, path, ".n_ports"), a->n_ports, b->n_ports))
		return false;
	for (size_t i = 0; i < a->n_addrs; i++)
		if (npgw_addr_cmp(&a->addrs[i], &b->addrs[i]) != 0)
			return differ(c, sub(p, path, ".addrs[%zu]", i), "%s vs %s",
				      npgw_addr_format(&a->addrs[i], x, sizeof(x)),
				      npgw_addr_format(&b->addrs[i], y, sizeof(y)));
	for (size_t i = 0; i < a->n_ports; i++)
		if (!same_str(c, sub(p, path, ".ports[%zu].name", i), a->ports[i].name,
			      b->ports[i].name) ||
		    !same_uint(c, sub(p, path, ".ports[%zu].port", i), a->ports[i].port,
			       b->ports[i].port) ||
		    !same_uint(c, sub(p, path, ".ports[%zu].protocol", i), a->ports[i].protocol,
			       b->ports[i].protocol))
			return false;
	return true;
}

static bool same_namespace(struct cmp *c, const char *path, const struct npgw_k8s_namespace *a,
			   const struct npgw_k8s_namespace *b)
{
	char p[512];

	return same_str(c, sub(p, path, ".name"), a->name, b->name) &&
	       same_origin(c, path, &a->origin, &b->origin) &&
	       same_labels(c, sub(p, path, ".labels"), &a->labels, &b->labels);
}

bool k8s_cluster_same(const struct npgw_k8s_cluster *a, const struct npgw_k8s_cluster *b,
		      unsigned int flags, char *why, size_t len)
{
	struct cmp c = {.why = why, .len = len, .flags = flags};
	char p[512];

	if (len > 0)
		why[0] = '\0';
	if (!same_uint(&c, "n_namespaces", a->n_namespaces, b->n_namespaces) ||
	    !same_uint(&c, "n_pods", a->n_pods, b->n_pods) ||
	    !same_uint(&c, "n_policies", a->n_policies, b->n_policies))
		return false;
	if ((flags & K8S_CMP_REFUSED) && !same_uint(&c, "n_refused", a->n_refused, b->n_refused))
		return false;
	for (size_t i = 0; i < a->n_namespaces; i++)
		if (!same_namespace(&c,
				    sub(p, "", "namespaces[%zu] (%s)", i, a->namespaces[i]->name),
				    a->namespaces[i], b->namespaces[i]))
			return false;
	for (size_t i = 0; i < a->n_pods; i++)
		if (!same_pod(&c, sub(p, "", "pods[%zu] (%s/%s)", i, a->pods[i]->namespace,
				      a->pods[i]->name),
			      a->pods[i], b->pods[i]))
			return false;
	for (size_t i = 0; i < a->n_policies; i++)
		if (!same_policy(&c,
				 sub(p, "", "policies[%zu] (%s/%s)", i, a->policies[i]->namespace,
				     a->policies[i]->name),
				 a->policies[i], b->policies[i]))
			return false;
	return true;
}
