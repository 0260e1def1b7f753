/*
 * ref_model.c: building, freeing, sorting and printing cluster models by
 * hand, for the reference tests and the generator. Objects are allocated
 * exactly as npgw_k8s.h says the loader does (every pointer from malloc), so
 * a cluster built here may be given to lib/compile and freed by either
 * ref_cluster_free or npgw_k8s_cluster_free.
 */
#include <stdlib.h>
#include <string.h>

#include "ref.h"

void *ref_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "ref: out of memory\n");
		abort();
	}
	return p;
}

void *ref_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL) {
		fprintf(stderr, "ref: out of memory\n");
		abort();
	}
	return p;
}

void *ref_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "ref: out of memory\n");
		abort();
	}
	return p;
}

char *ref_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(ref_xmalloc(n), s, n);
}

static void fatal(const char *what, const char *text)
{
	fprintf(stderr, "ref: malformed %s: \"%s\"\n", what, text);
	abort();
}

/* ---- free ---- */

void ref_labels_free(struct npgw_k8s_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void ref_selector_free(struct npgw_k8s_selector *s)
{
	ref_labels_free(&s->match_labels);
	for (size_t i = 0; i < s->n_exprs; i++) {
		free(s->exprs[i].key);
		for (size_t j = 0; j < s->exprs[i].n_values; j++)
			free(s->exprs[i].values[j]);
		free(s->exprs[i].values);
	}
	free(s->exprs);
	s->exprs = NULL;
	s->n_exprs = 0;
}

static void rules_free(struct npgw_k8s_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < r[i].n_peers; j++) {
			ref_selector_free(&r[i].peers[j].pod_selector);
			ref_selector_free(&r[i].peers[j].ns_selector);
			ref_selector_free(&r[i].peers[j].node_selector);
			free(r[i].peers[j].except);
		}
		free(r[i].peers);
		free(r[i].name);
		for (size_t j = 0; j < r[i].n_ports; j++)
			free(r[i].ports[j].name);
		free(r[i].ports);
	}
	free(r);
}

void ref_policy_free(struct npgw_k8s_policy *p)
{
	if (p == NULL)
		return;
	free(p->namespace);
	free(p->name);
	free(p->origin.file);
	ref_selector_free(&p->pod_selector);
	ref_selector_free(&p->ns_selector);
	rules_free(p->ingress, p->n_ingress);
	rules_free(p->egress, p->n_egress);
	free(p);
}

void ref_pod_free(struct npgw_k8s_pod *p)
{
	if (p == NULL)
		return;
	free(p->namespace);
	free(p->name);
	free(p->origin.file);
	ref_labels_free(&p->labels);
	free(p->phase);
	free(p->addrs);
	for (size_t i = 0; i < p->n_ports; i++)
		free(p->ports[i].name);
	free(p->ports);
	free(p);
}

void ref_namespace_free(struct npgw_k8s_namespace *n)
{
	if (n == NULL)
		return;
	free(n->name);
	free(n->origin.file);
	ref_labels_free(&n->labels);
	free(n);
}

struct npgw_k8s_cluster *ref_cluster_new(void)
{
	return ref_xcalloc(1, sizeof(struct npgw_k8s_cluster));
}

void ref_cluster_free(struct npgw_k8s_cluster *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_namespaces; i++)
		ref_namespace_free(c->namespaces[i]);
	for (size_t i = 0; i < c->n_pods; i++)
		ref_pod_free(c->pods[i]);
	for (size_t i = 0; i < c->n_policies; i++)
		ref_policy_free(c->policies[i]);
	free(c->namespaces);
	free(c->pods);
	free(c->policies);
	free(c);
}

void ref_cluster_remove_pod(struct npgw_k8s_cluster *c, struct npgw_k8s_pod *p)
{
	for (size_t i = 0; i < c->n_pods; i++) {
		if (c->pods[i] != p)
			continue;
		memmove(&c->pods[i], &c->pods[i + 1], (c->n_pods - i - 1) * sizeof(c->pods[0]));
		c->n_pods--;
		ref_pod_free(p);
		return;
	}
}

/* ---- sort ---- */

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct npgw_k8s_label *)a)->key,
		      ((const struct npgw_k8s_label *)b)->key);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_labels(struct npgw_k8s_labels *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), cmp_label);
}

static void sort_selector(struct npgw_k8s_selector *s)
{
	sort_labels(&s->match_labels);
	for (size_t i = 0; i < s->n_exprs; i++)
		if (s->exprs[i].n_values > 1)
			qsort(s->exprs[i].values, s->exprs[i].n_values, sizeof(char *), cmp_str);
}

static void sort_rules(struct npgw_k8s_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < r[i].n_peers; j++) {
			sort_selector(&r[i].peers[j].pod_selector);
			sort_selector(&r[i].peers[j].ns_selector);
			sort_selector(&r[i].peers[j].node_selector);
		}
	}
}

static int cmp_ns_name(const char *ans, const char *an, const char *bns, const char *bn)
{
	int c = strcmp(ans, bns);

	return c ? c : strcmp(an, bn);
}

static int cmp_pod(const void *a, const void *b)
{
	const struct npgw_k8s_pod *x = *(struct npgw_k8s_pod *const *)a;
	const struct npgw_k8s_pod *y = *(struct npgw_k8s_pod *const *)b;

	return cmp_ns_name(x->namespace, x->name, y->namespace, y->name);
}

static int cmp_policy(const void *a, const void *b)
{
	const struct npgw_k8s_policy *x = *(struct npgw_k8s_policy *const *)a;
	const struct npgw_k8s_policy *y = *(struct npgw_k8s_policy *const *)b;

	return cmp_ns_name(x->namespace, x->name, y->namespace, y->name);
}

static int cmp_namespace(const void *a, const void *b)
{
	return strcmp((*(struct npgw_k8s_namespace *const *)a)->name,
		      (*(struct npgw_k8s_namespace *const *)b)->name);
}

void ref_cluster_sort(struct npgw_k8s_cluster *c)
{
	if (c->n_namespaces > 1)
		qsort(c->namespaces, c->n_namespaces, sizeof(c->namespaces[0]), cmp_namespace);
	if (c->n_pods > 1)
		qsort(c->pods, c->n_pods, sizeof(c->pods[0]), cmp_pod);
	if (c->n_policies > 1)
		qsort(c->policies, c->n_policies, sizeof(c->policies[0]), cmp_policy);
	for (size_t i = 0; i < c->n_namespaces; i++)
		sort_labels(&c->namespaces[i]->labels);
	for (size_t i = 0; i < c->n_pods; i++)
		sort_labels(&c->pods[i]->labels);
	for (size_t i = 0; i < c->n_policies; i++) {
		struct npgw_k8s_policy *p = c->policies[i];

		sort_selector(&p->pod_selector);
		sort_selector(&p->ns_selector);
		sort_rules(p->ingress, p->n_ingress);
		sort_rules(p->egress, p->n_egress);
	}
}

/* ---- text notation ---- */

/* Split text at commas outside parentheses; calls fn on each trimmed term. */
static void split_terms(const char *text, void (*fn)(const char *term, void *arg), void *arg)
{
	size_t len = strlen(text);
	char *buf = ref_xstrdup(text);
	size_t start = 0;
	int depth = 0;

	for (size_t i = 0; i <= len; i++) {
		if (buf[i] == '(')
			depth++;
		else if (buf[i] == ')')
			depth--;
		if ((buf[i] == ',' && depth == 0) || buf[i] == '\0') {
			char *t = buf + start, *e = buf + i;

			*e = '\0';
			while (*t == ' ')
				t++;
			while (e > t && e[-1] == ' ')
				*--e = '\0';
			if (*t != '\0')
				fn(t, arg);
			start = i + 1;
		}
	}
	free(buf);
}

static void labels_append(struct npgw_k8s_labels *l, const char *key, const char *value)
{
	l->v = ref_xrealloc(l->v, (l->n + 1) * sizeof(l->v[0]));
	l->v[l->n].key = ref_xstrdup(key);
	l->v[l->n].value = ref_xstrdup(value);
	l->n++;
}

static void label_term(const char *term, void *arg)
{
	const char *eq = strchr(term, '=');
	char *key;

	if (eq == NULL || eq == term)
		fatal("labels", term);
	key = ref_xmalloc((size_t)(eq - term) + 1);
	memcpy(key, term, (size_t)(eq - term));
	key[eq - term] = '\0';
	labels_append(arg, key, eq + 1);
	free(key);
}

void ref_parse_labels(const char *text, struct npgw_k8s_labels *out)
{
	memset(out, 0, sizeof(*out));
	split_terms(text, label_term, out);
	sort_labels(out);
}

static void value_term(const char *term, void *arg)
{
	struct npgw_k8s_expr *e = arg;

	e->values = ref_xrealloc(e->values, (e->n_values + 1) * sizeof(char *));
	e->values[e->n_values++] = ref_xstrdup(term);
}

static void selector_term(const char *term, void *arg)
{
	struct npgw_k8s_selector *s = arg;
	struct npgw_k8s_expr e = {0};
	const char *sp = strchr(term, ' ');
	const char *eq = strchr(term, '=');

	if (eq != NULL && (sp == NULL || eq < sp)) {
		label_term(term, &s->match_labels);
		return;
	}
	if (term[0] == '!') {
		e.key = ref_xstrdup(term + 1);
		e.op = NPGW_K8S_OP_DOES_NOT_EXIST;
	} else if (sp == NULL) {
		e.key = ref_xstrdup(term);
		e.op = NPGW_K8S_OP_EXISTS;
	} else {
		const char *rest = sp + 1, *open, *close;
		char *vals;

		e.key = ref_xmalloc((size_t)(sp - term) + 1);
		memcpy(e.key, term, (size_t)(sp - term));
		e.key[sp - term] = '\0';
		if (strncmp(rest, "in ", 3) == 0 || strncmp(rest, "in(", 3) == 0)
			e.op = NPGW_K8S_OP_IN;
		else if (strncmp(rest, "notin ", 6) == 0 || strncmp(rest, "notin(", 6) == 0)
			e.op = NPGW_K8S_OP_NOT_IN;
		else
			fatal("selector", term);
		open = strchr(rest, '(');
		close = strrchr(rest, ')');
		if (open == NULL || close == NULL || close < open)
			fatal("selector", term);
		vals = ref_xmalloc((size_t)(close - open));
		memcpy(vals, open + 1, (size_t)(close - open - 1));
		vals[close - open - 1] = '\0';
		split_terms(vals, value_term, &e);
		free(vals);
		if (e.n_values == 0)
			fatal("selector", term);
	}
	s->exprs = ref_xrealloc(s->exprs, (s->n_exprs + 1) * sizeof(s->exprs[0]));
	s->exprs[s->n_exprs++] = e;
}

void ref_parse_selector(const char *text, struct npgw_k8s_selector *out)
{
	memset(out, 0, sizeof(*out));
	split_terms(text, selector_term, out);
	sort_selector(out);
}

static void addr_term(const char *term, void *arg)
{
	struct npgw_k8s_pod *p = arg;

	p->addrs = ref_xrealloc(p->addrs, (p->n_addrs + 1) * sizeof(p->addrs[0]));
	if (npgw_addr_parse(term, &p->addrs[p->n_addrs]) != 0)
		fatal("address", term);
	p->n_addrs++;
}

struct prefix_list {
	struct npgw_prefix *v;
	size_t n;
};

static void prefix_term(const char *term, void *arg)
{
	struct prefix_list *l = arg;

	l->v = ref_xrealloc(l->v, (l->n + 1) * sizeof(l->v[0]));
	if (npgw_prefix_parse(term, &l->v[l->n], NULL) != 0)
		fatal("prefix", term);
	l->n++;
}

/* ---- builders ---- */

struct npgw_k8s_namespace *ref_add_namespace(struct npgw_k8s_cluster *c, const char *name,
					     const char *labels)
{
	struct npgw_k8s_namespace *n = ref_xcalloc(1, sizeof(*n));

	n->name = ref_xstrdup(name);
	ref_parse_labels(labels ? labels : "", &n->labels);
	labels_append(&n->labels, NPGW_K8S_NS_NAME_LABEL, name);
	sort_labels(&n->labels);
	c->namespaces = ref_xrealloc(c->namespaces, (c->n_namespaces + 1) * sizeof(n));
	c->namespaces[c->n_namespaces++] = n;
	return n;
}

struct npgw_k8s_pod *ref_add_pod(struct npgw_k8s_cluster *c, const char *ns, const char *name,
				 const char *labels, const char *addrs)
{
	struct npgw_k8s_pod *p = ref_xcalloc(1, sizeof(*p));

	p->namespace = ref_xstrdup(ns);
	p->name = ref_xstrdup(name);
	p->phase = ref_xstrdup("Running");
	ref_parse_labels(labels ? labels : "", &p->labels);
	if (addrs != NULL)
		split_terms(addrs, addr_term, p);
	c->pods = ref_xrealloc(c->pods, (c->n_pods + 1) * sizeof(p));
	c->pods[c->n_pods++] = p;
	return p;
}

void ref_pod_add_port(struct npgw_k8s_pod *p, const char *name, uint8_t proto, uint16_t port)
{
	p->ports = ref_xrealloc(p->ports, (p->n_ports + 1) * sizeof(p->ports[0]));
	p->ports[p->n_ports].name = name ? ref_xstrdup(name) : NULL;
	p->ports[p->n_ports].protocol = proto;
	p->ports[p->n_ports].port = port;
	p->n_ports++;
}

struct npgw_k8s_policy *ref_add_policy(struct npgw_k8s_cluster *c, const char *ns,
				       const char *name, const char *pod_selector,
				       bool isolates_ingress, bool isolates_egress)
{
	struct npgw_k8s_policy *p = ref_xcalloc(1, sizeof(*p));

	p->namespace = ref_xstrdup(ns);
	p->name = ref_xstrdup(name);
	ref_parse_selector(pod_selector ? pod_selector : "", &p->pod_selector);
	p->isolates_ingress = isolates_ingress;
	p->isolates_egress = isolates_egress;
	c->policies = ref_xrealloc(c->policies, (c->n_policies + 1) * sizeof(p));
	c->policies[c->n_policies++] = p;
	return p;
}

void ref_policy_infer_types(struct npgw_k8s_policy *p)
{
	p->isolates_ingress = true;
	p->isolates_egress = p->n_egress > 0;
}

struct npgw_k8s_rule *ref_policy_add_rule(struct npgw_k8s_policy *p, bool egress)
{
	struct npgw_k8s_rule **v = egress ? &p->egress : &p->ingress;
	size_t *n = egress ? &p->n_egress : &p->n_ingress;

	*v = ref_xrealloc(*v, (*n + 1) * sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	return &(*v)[(*n)++];
}

static struct npgw_k8s_peer *rule_new_peer(struct npgw_k8s_rule *r)
{
	r->peers = ref_xrealloc(r->peers, (r->n_peers + 1) * sizeof(r->peers[0]));
	memset(&r->peers[r->n_peers], 0, sizeof(r->peers[0]));
	return &r->peers[r->n_peers++];
}

void ref_rule_add_peer(struct npgw_k8s_rule *r, const char *pod_sel, const char *ns_sel)
{
	struct npgw_k8s_peer *peer = rule_new_peer(r);

	if (pod_sel != NULL) {
		peer->has_pod_selector = true;
		ref_parse_selector(pod_sel, &peer->pod_selector);
	}
	if (ns_sel != NULL) {
		peer->has_ns_selector = true;
		ref_parse_selector(ns_sel, &peer->ns_selector);
	}
}

void ref_rule_add_ipblock(struct npgw_k8s_rule *r, const char *cidr, const char *excepts)
{
	struct npgw_k8s_peer *peer = rule_new_peer(r);
	struct prefix_list l = {0};

	peer->has_ip_block = true;
	if (npgw_prefix_parse(cidr, &peer->cidr, NULL) != 0)
		fatal("prefix", cidr);
	if (excepts != NULL)
		split_terms(excepts, prefix_term, &l);
	peer->except = l.v;
	peer->n_except = l.n;
}

void ref_rule_add_port(struct npgw_k8s_rule *r, uint8_t proto, uint16_t port, uint16_t end_port,
		       const char *name)
{
	struct npgw_k8s_port *pt;

	r->ports = ref_xrealloc(r->ports, (r->n_ports + 1) * sizeof(r->ports[0]));
	pt = &r->ports[r->n_ports++];
	memset(pt, 0, sizeof(*pt));
	pt->protocol = proto;
	if (name != NULL) {
		pt->has_port = true;
		pt->name = ref_xstrdup(name);
	} else if (port != 0) {
		pt->has_port = true;
		pt->port = port;
		pt->end_port = end_port;
	}
}

/* ---- printing ---- */

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
	return "?";
}

void ref_selector_format(const struct npgw_k8s_selector *s, FILE *out)
{
	bool first = true;

	fputc('{', out);
	for (size_t i = 0; i < s->match_labels.n; i++, first = false)
		fprintf(out, "%s%s=%s", first ? "" : ",", s->match_labels.v[i].key,
			s->match_labels.v[i].value);
	for (size_t i = 0; i < s->n_exprs; i++, first = false) {
		const struct npgw_k8s_expr *e = &s->exprs[i];

		fputs(first ? "" : ",", out);
		switch (e->op) {
		case NPGW_K8S_OP_EXISTS:
			fprintf(out, "%s", e->key);
			break;
		case NPGW_K8S_OP_DOES_NOT_EXIST:
			fprintf(out, "!%s", e->key);
			break;
		default:
			fprintf(out, "%s %s (", e->key, e->op == NPGW_K8S_OP_IN ? "in" : "notin");
			for (size_t j = 0; j < e->n_values; j++)
				fprintf(out, "%s%s", j ? "," : "", e->values[j]);
			fputc(')', out);
			break;
		}
	}
	fputc('}', out);
}

static void yaml_labels(const struct npgw_k8s_labels *l, const char *indent, FILE *out)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s%s: \"%s\"\n", indent, l->v[i].key, l->v[i].value);
}

/* A selector as YAML mapping lines at indent (which ends in spaces). */
static void yaml_selector(const struct npgw_k8s_selector *s, const char *indent, FILE *out)
{
	char deeper[64];

	snprintf(deeper, sizeof(deeper), "%s  ", indent);
	if (s->match_labels.n == 0 && s->n_exprs == 0) {
		fprintf(out, " {}\n");
		return;
	}
	fputc('\n', out);
	if (s->match_labels.n > 0) {
		fprintf(out, "%smatchLabels:\n", indent);
		yaml_labels(&s->match_labels, deeper, out);
	}
	if (s->n_exprs > 0) {
		fprintf(out, "%smatchExpressions:\n", indent);
		for (size_t i = 0; i < s->n_exprs; i++) {
			const struct npgw_k8s_expr *e = &s->exprs[i];

			fprintf(out, "%s- key: %s\n%s  operator: %s\n", indent, e->key, indent,
				op_name(e->op));
			if (e->n_values > 0) {
				fprintf(out, "%s  values: [", indent);
				for (size_t j = 0; j < e->n_values; j++)
					fprintf(out, "%s\"%s\"", j ? ", " : "", e->values[j]);
				fprintf(out, "]\n");
			}
		}
	}
}

static const char *proto_str(uint8_t proto)
{
	static char buf[16];

	return npgw_proto_name(proto, buf, sizeof(buf));
}

static void yaml_rules(const struct npgw_k8s_rule *r, size_t n, bool egress, FILE *out)
{
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  - # rule %zu\n", i);
		if (r[i].n_peers > 0)
			fprintf(out, "    %s:\n", egress ? "to" : "from");
		for (size_t j = 0; j < r[i].n_peers; j++) {
			const struct npgw_k8s_peer *p = &r[i].peers[j];
			const char *lead = "    - ";

			if (p->has_ip_block) {
				fprintf(out, "%sipBlock:\n        cidr: %s\n", lead,
					npgw_prefix_format(&p->cidr, buf, sizeof(buf)));
				if (p->n_except > 0) {
					fprintf(out, "        except:\n");
					for (size_t k = 0; k < p->n_except; k++)
						fprintf(out, "        - %s\n",
							npgw_prefix_format(&p->except[k], buf,
									   sizeof(buf)));
				}
				continue;
			}
			if (p->has_pod_selector) {
				fprintf(out, "%spodSelector:", lead);
				yaml_selector(&p->pod_selector, "        ", out);
				lead = "      ";
			}
			if (p->has_ns_selector) {
				fprintf(out, "%snamespaceSelector:", lead);
				yaml_selector(&p->ns_selector, "        ", out);
			}
		}
		if (r[i].n_ports > 0)
			fprintf(out, "    ports:\n");
		for (size_t j = 0; j < r[i].n_ports; j++) {
			const struct npgw_k8s_port *pt = &r[i].ports[j];

			fprintf(out, "    - protocol: %s\n", proto_str(pt->protocol));
			if (pt->name != NULL)
				fprintf(out, "      port: %s\n", pt->name);
			else if (pt->has_port)
				fprintf(out, "      port: %u\n", pt->port);
			if (pt->name == NULL && pt->has_port && pt->end_port != 0)
				fprintf(out, "      endPort: %u\n", pt->end_port);
		}
		if (r[i].n_peers == 0 && r[i].n_ports == 0)
			fprintf(out, "    {}\n");
	}
}

/* A tier policy (AdminNetworkPolicy, BaselineAdminNetworkPolicy,
 * ClusterNetworkPolicy) as its API version writes it. */
static void yaml_tier_rules(const struct npgw_k8s_rule *r, size_t n, bool egress, bool v1alpha2,
			    FILE *out)
{
	static const char *const act[2][3] = {{"Allow", "Deny", "Pass"}, {"Accept", "Deny", "Pass"}};
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  - # rule %zu\n    action: %s\n", i, act[v1alpha2][r[i].action]);
		if (r[i].name != NULL)
			fprintf(out, "    name: %s\n", r[i].name);
		fprintf(out, "    %s:\n", egress ? "to" : "from");
		for (size_t j = 0; j < r[i].n_peers; j++) {
			const struct npgw_k8s_peer *p = &r[i].peers[j];

			if (p->has_ip_block) {
				fprintf(out, "    - networks: [\"%s\"]\n",
					npgw_prefix_format(&p->cidr, buf, sizeof(buf)));
			} else if (p->has_node_selector) {
				fprintf(out, "    - nodes:");
				yaml_selector(&p->node_selector, "        ", out);
			} else if (p->has_pod_selector) {
				fprintf(out, "    - pods:\n        namespaceSelector:");
				yaml_selector(&p->ns_selector, "          ", out);
				fprintf(out, "        podSelector:");
				yaml_selector(&p->pod_selector, "          ", out);
			} else {
				fprintf(out, "    - namespaces:");
				yaml_selector(&p->ns_selector, "        ", out);
			}
		}
		if (r[i].n_ports > 0)
			fprintf(out, "    %s:\n", v1alpha2 ? "protocols" : "ports");
		for (size_t j = 0; j < r[i].n_ports; j++) {
			const struct npgw_k8s_port *pt = &r[i].ports[j];

			if (pt->name != NULL && pt->any_proto && pt->protocol != NPGW_PROTO_TCP)
				continue; /* one namedPort stands for all three */
			if (pt->name != NULL)
				fprintf(out, "    - %s: %s\n",
					v1alpha2 ? "destinationNamedPort" : "namedPort", pt->name);
			else if (v1alpha2 && pt->end_port != 0)
				fprintf(out, "    - %s: {destinationPort: {range: {start: %u, end: %u}}}\n",
					pt->protocol == NPGW_PROTO_UDP	  ? "udp"
					: pt->protocol == NPGW_PROTO_SCTP ? "sctp"
									  : "tcp",
					pt->port, pt->end_port);
			else if (v1alpha2)
				fprintf(out, "    - %s: {destinationPort: {number: %u}}\n",
					pt->protocol == NPGW_PROTO_UDP	  ? "udp"
					: pt->protocol == NPGW_PROTO_SCTP ? "sctp"
									  : "tcp",
					pt->port);
			else if (pt->end_port != 0)
				fprintf(out, "    - portRange: {protocol: %s, start: %u, end: %u}\n",
					proto_str(pt->protocol), pt->port, pt->end_port);
			else
				fprintf(out, "    - portNumber: {protocol: %s, port: %u}\n",
					proto_str(pt->protocol), pt->port);
		}
	}
}

static void dump_tier_policy_yaml(const struct npgw_k8s_policy *p, FILE *out)
{
	bool v1alpha2 = p->kind == NPGW_K8S_CLUSTER_NETWORK_POLICY;
	const char *kind = p->kind == NPGW_K8S_ADMIN_NETWORK_POLICY ? "AdminNetworkPolicy"
			   : v1alpha2 ? "ClusterNetworkPolicy"
				      : "BaselineAdminNetworkPolicy";

	fprintf(out, "apiVersion: policy.networking.k8s.io/%s\nkind: %s\nmetadata:\n  name: %s\n"
		     "spec:\n",
		v1alpha2 ? "v1alpha2" : "v1alpha1", kind, p->name);
	if (v1alpha2)
		fprintf(out, "  tier: %s\n", p->tier == NPGW_K8S_TIER_ADMIN ? "Admin" : "Baseline");
	if (p->kind != NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY)
		fprintf(out, "  priority: %u\n", p->priority);
	fprintf(out, "  subject:\n    pods:\n      namespaceSelector:");
	yaml_selector(&p->ns_selector, "        ", out);
	fprintf(out, "      podSelector:");
	yaml_selector(&p->pod_selector, "        ", out);
	if (p->n_ingress > 0) {
		fprintf(out, "  ingress:\n");
		yaml_tier_rules(p->ingress, p->n_ingress, false, v1alpha2, out);
	}
	if (p->n_egress > 0) {
		fprintf(out, "  egress:\n");
		yaml_tier_rules(p->egress, p->n_egress, true, v1alpha2, out);
	}
}

void ref_dump_policy_yaml(const struct npgw_k8s_policy *p, FILE *out)
{
	if (p->tier != NPGW_K8S_TIER_NETPOL) {
		dump_tier_policy_yaml(p, out);
		return;
	}
	fprintf(out, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
		     "  namespace: %s\n  name: %s\nspec:\n  podSelector:",
		p->namespace, p->name);
	yaml_selector(&p->pod_selector, "    ", out);
	fprintf(out, "  policyTypes: [%s%s%s]\n", p->isolates_ingress ? "Ingress" : "",
		p->isolates_ingress && p->isolates_egress ? ", " : "",
		p->isolates_egress ? "Egress" : "");
	if (p->ingress != NULL) {
		fprintf(out, "  ingress:%s\n", p->n_ingress ? "" : " []");
		yaml_rules(p->ingress, p->n_ingress, false, out);
	}
	if (p->egress != NULL) {
		fprintf(out, "  egress:%s\n", p->n_egress ? "" : " []");
		yaml_rules(p->egress, p->n_egress, true, out);
	}
}

void ref_dump_pod_yaml(const struct npgw_k8s_pod *p, FILE *out)
{
	char buf[64];

	if (strcmp(p->namespace, NPGW_K8S_NS_NODE) == 0) {
		fprintf(out, "apiVersion: v1\nkind: Node\nmetadata:\n  name: %s\n", p->name);
		if (p->labels.n > 0) {
			fprintf(out, "  labels:\n");
			yaml_labels(&p->labels, "    ", out);
		}
		fprintf(out, "status:\n  addresses:\n");
		for (size_t i = 0; i < p->n_addrs; i++)
			fprintf(out, "  - {type: InternalIP, address: \"%s\"}\n",
				npgw_addr_format(&p->addrs[i], buf, sizeof(buf)));
		return;
	}

	fprintf(out, "apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: %s\n  name: %s\n",
		p->namespace, p->name);
	if (p->labels.n > 0) {
		fprintf(out, "  labels:\n");
		yaml_labels(&p->labels, "    ", out);
	}
	fprintf(out, "spec:\n");
	if (p->host_network)
		fprintf(out, "  hostNetwork: true\n");
	/* A port name is unique within a container, not within a pod: a name
	 * that comes again (with another protocol) goes to the next container. */
	fprintf(out, "  containers:\n");
	for (size_t k = 0, done = 0; k == 0 || done < p->n_ports; k++) {
		bool any = false;

		fprintf(out, "  - name: c%zu\n    image: busybox\n", k);
		for (size_t i = 0; i < p->n_ports; i++) {
			size_t box = 0;

			for (size_t j = 0; j < i; j++)
				if (p->ports[i].name && p->ports[j].name &&
				    strcmp(p->ports[i].name, p->ports[j].name) == 0)
					box++;
			if (box != k)
				continue;
			if (!any)
				fprintf(out, "    ports:\n");
			any = true;
			done++;
			fprintf(out, "    - containerPort: %u\n      protocol: %s\n",
				p->ports[i].port, proto_str(p->ports[i].protocol));
			if (p->ports[i].name != NULL)
				fprintf(out, "      name: %s\n", p->ports[i].name);
		}
	}
	if (p->phase == NULL && p->n_addrs == 0)
		return;
	fprintf(out, "status:\n");
	if (p->phase != NULL)
		fprintf(out, "  phase: %s\n", p->phase);
	if (p->n_addrs > 0) {
		fprintf(out, "  podIP: \"%s\"\n  podIPs:\n",
			npgw_addr_format(&p->addrs[0], buf, sizeof(buf)));
		for (size_t i = 0; i < p->n_addrs; i++)
			fprintf(out, "  - ip: \"%s\"\n",
				npgw_addr_format(&p->addrs[i], buf, sizeof(buf)));
	}
}

static void dump_namespace_yaml(const struct npgw_k8s_namespace *n, FILE *out)
{
	fprintf(out, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", n->name);
	if (n->labels.n > 0) {
		fprintf(out, "  labels:\n");
		yaml_labels(&n->labels, "    ", out);
	}
}

void ref_dump_yaml(const struct npgw_k8s_cluster *c, FILE *out)
{
	for (size_t i = 0; i < c->n_namespaces; i++) {
		fprintf(out, "---\n");
		dump_namespace_yaml(c->namespaces[i], out);
	}
	for (size_t i = 0; i < c->n_pods; i++) {
		fprintf(out, "---\n");
		ref_dump_pod_yaml(c->pods[i], out);
	}
	for (size_t i = 0; i < c->n_policies; i++) {
		fprintf(out, "--- # policy %zu\n", i);
		ref_dump_policy_yaml(c->policies[i], out);
	}
}

/* Every pod owning a (targets or not), and its namespace's labels. */
static void dump_end(const struct npgw_k8s_cluster *c, const char *what,
		     const struct npgw_addr *a, FILE *out)
{
	char buf[64];
	bool any = false;

	for (size_t i = 0; i < c->n_pods; i++) {
		const struct npgw_k8s_pod *p = c->pods[i];
		const struct npgw_k8s_namespace *ns = NULL;

		for (size_t j = 0; j < p->n_addrs; j++) {
			if (npgw_addr_cmp(&p->addrs[j], a) != 0)
				continue;
			any = true;
			fprintf(out, "# %s %s is pod %s/%s%s; namespace labels: ", what,
				npgw_addr_format(a, buf, sizeof(buf)), p->namespace, p->name,
				ref_pod_is_target(p) ? "" : " (NOT a policy target)");
			for (size_t k = 0; k < c->n_namespaces; k++)
				if (strcmp(c->namespaces[k]->name, p->namespace) == 0)
					ns = c->namespaces[k];
			if (ns == NULL)
				fprintf(out, "(no Namespace object)\n");
			else
				for (size_t k = 0; k < ns->labels.n; k++)
					fprintf(out, "%s=%s%s", ns->labels.v[k].key,
						ns->labels.v[k].value,
						k + 1 < ns->labels.n ? "," : "\n");
			fprintf(out, "---\n");
			ref_dump_pod_yaml(p, out);
		}
	}
	if (!any)
		fprintf(out, "# %s %s is no pod\n", what, npgw_addr_format(a, buf, sizeof(buf)));
}

void ref_dump_relevant(const struct npgw_k8s_cluster *c, const struct ref_query *q,
		       const int32_t *extra, size_t n_extra, FILE *out)
{
	const struct npgw_k8s_pod *sp = ref_pod_of(c, &q->src);
	const struct npgw_k8s_pod *dp = ref_pod_of(c, &q->dst);

	dump_end(c, "source", &q->src, out);
	dump_end(c, "destination", &q->dst, out);
	for (size_t i = 0; i < c->n_policies; i++) {
		const struct npgw_k8s_policy *p = c->policies[i];
		bool sel_src = sp && strcmp(p->namespace, sp->namespace) == 0 &&
			       ref_selector_matches(&p->pod_selector, &sp->labels);
		bool sel_dst = dp && strcmp(p->namespace, dp->namespace) == 0 &&
			       ref_selector_matches(&p->pod_selector, &dp->labels);
		bool named = false;

		for (size_t k = 0; k < n_extra; k++)
			named |= extra[k] == (int32_t)i;
		if (!sel_src && !sel_dst && !named)
			continue;
		fprintf(out, "--- # policy %zu:%s%s%s\n", i, sel_src ? " selects source" : "",
			sel_dst ? " selects destination" : "",
			named ? " named by a verdict" : "");
		ref_dump_policy_yaml(p, out);
	}
}


/* ---- shrinking (test-case minimisation) ---- */

/* The walk of ref_remove_item: counts items and removes the k-th. */
struct shrink {
	size_t k;
	size_t n;
	bool done;
};

static bool shrink_hit(struct shrink *s)
{
	return !s->done && s->n++ == s->k && (s->done = true);
}

static void remove_at(void *base, size_t *n, size_t size, size_t i)
{
	char *b = base;

	memmove(b + i * size, b + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

static void shrink_labels(struct shrink *s, struct npgw_k8s_labels *l, bool keep_ns_name)
{
	for (size_t i = 0; i < l->n; i++) {
		if (keep_ns_name && strcmp(l->v[i].key, NPGW_K8S_NS_NAME_LABEL) == 0)
			continue;
		if (shrink_hit(s)) {
			free(l->v[i].key);
			free(l->v[i].value);
			remove_at(l->v, &l->n, sizeof(l->v[0]), i);
			return;
		}
	}
}

static void shrink_selector(struct shrink *s, struct npgw_k8s_selector *sel)
{
	shrink_labels(s, &sel->match_labels, false);
	for (size_t i = 0; i < sel->n_exprs; i++) {
		if (shrink_hit(s)) {
			free(sel->exprs[i].key);
			for (size_t j = 0; j < sel->exprs[i].n_values; j++)
				free(sel->exprs[i].values[j]);
			free(sel->exprs[i].values);
			remove_at(sel->exprs, &sel->n_exprs, sizeof(sel->exprs[0]), i);
			return;
		}
	}
}

static void shrink_rules(struct shrink *s, struct npgw_k8s_rule *r, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		if (shrink_hit(s)) {
			struct npgw_k8s_rule *one = ref_xmalloc(sizeof(*one));

			*one = r[i];
			rules_free(one, 1);
			remove_at(r, n, sizeof(r[0]), i);
			return;
		}
	}
	for (size_t i = 0; i < *n; i++) {
		struct npgw_k8s_rule *rule = &r[i];

		for (size_t j = 0; j < rule->n_peers; j++) {
			struct npgw_k8s_peer *p = &rule->peers[j];

			if (shrink_hit(s)) {
				ref_selector_free(&p->pod_selector);
				ref_selector_free(&p->ns_selector);
				ref_selector_free(&p->node_selector);
				free(p->except);
				remove_at(rule->peers, &rule->n_peers, sizeof(*p), j);
				return;
			}
			for (size_t k = 0; k < p->n_except; k++)
				if (shrink_hit(s)) {
					remove_at(p->except, &p->n_except, sizeof(p->except[0]), k);
					return;
				}
			if (p->has_pod_selector)
				shrink_selector(s, &p->pod_selector);
			if (p->has_ns_selector)
				shrink_selector(s, &p->ns_selector);
		}
		for (size_t j = 0; j < rule->n_ports; j++) {
			if (shrink_hit(s)) {
				free(rule->ports[j].name);
				remove_at(rule->ports, &rule->n_ports, sizeof(rule->ports[0]), j);
				return;
			}
		}
	}
}

bool ref_remove_item(struct npgw_k8s_cluster *c, size_t k)
{
	struct shrink s = {.k = k};

	for (size_t i = 0; i < c->n_policies && !s.done; i++)
		if (shrink_hit(&s)) {
			ref_policy_free(c->policies[i]);
			remove_at(c->policies, &c->n_policies, sizeof(c->policies[0]), i);
		}
	for (size_t i = 0; i < c->n_pods && !s.done; i++)
		if (shrink_hit(&s)) {
			ref_pod_free(c->pods[i]);
			remove_at(c->pods, &c->n_pods, sizeof(c->pods[0]), i);
		}
	for (size_t i = 0; i < c->n_namespaces && !s.done; i++)
		if (shrink_hit(&s)) {
			ref_namespace_free(c->namespaces[i]);
			remove_at(c->namespaces, &c->n_namespaces, sizeof(c->namespaces[0]), i);
		}
	for (size_t i = 0; i < c->n_policies && !s.done; i++) {
		struct npgw_k8s_policy *p = c->policies[i];

		shrink_rules(&s, p->ingress, &p->n_ingress);
		if (!s.done)
			shrink_rules(&s, p->egress, &p->n_egress);
		if (!s.done)
			shrink_selector(&s, &p->pod_selector);
	}
	for (size_t i = 0; i < c->n_pods && !s.done; i++) {
		struct npgw_k8s_pod *p = c->pods[i];

		shrink_labels(&s, &p->labels, false);
		for (size_t j = 0; j < p->n_ports && !s.done; j++)
			if (shrink_hit(&s)) {
				free(p->ports[j].name);
				remove_at(p->ports, &p->n_ports, sizeof(p->ports[0]), j);
			}
	}
	for (size_t i = 0; i < c->n_namespaces && !s.done; i++)
		shrink_labels(&s, &c->namespaces[i]->labels, true);
	return s.done;
}
