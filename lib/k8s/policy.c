/*
 * policy.c: networking.k8s.io/v1 NetworkPolicy objects, validated as the
 * API server's ValidateNetworkPolicySpec does, and stricter where the
 * server is lax:
 *  - every field of spec is known: an unknown field at any depth is an
 *    error (the server prunes it silently, so a typo such as "podSelectr"
 *    would widen a policy without a word);
 *  - a field of the wrong type is an error naming the field;
 *  - spec.podSelector is required (the server reads a missing one as {},
 *    selecting every pod; write {} to mean that); podSelector: null, which
 *    upstream's manifests write, is read as {} with a warning;
 *  - a rule that is null (a bare "-") is an error rather than "allow all";
 *  - a CIDR with host bits set is read as the network it denotes, with a
 *    warning.
 * A null field is read as absent, as the server does. Each mapping is a
 * field table walked by lib/doc's npgw_doc_read_fields: the "unknown field"
 * message lists the table's keys.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

static void nomem(struct k8s_ctx *x)
{
	x->rd.nomem = true;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- label selectors ---- */

static bool parse_op(const char *s, enum npgw_k8s_sel_op *op)
{
	static const struct {
		const char *name;
		enum npgw_k8s_sel_op op;
	} ops[] = {
		{"In", NPGW_K8S_OP_IN},
		{"NotIn", NPGW_K8S_OP_NOT_IN},
		{"Exists", NPGW_K8S_OP_EXISTS},
		{"DoesNotExist", NPGW_K8S_OP_DOES_NOT_EXIST},
	};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(ops); i++)
		if (strcmp(s, ops[i].name) == 0) {
			*op = ops[i].op;
			return true;
		}
	return false;
}

static void expr_values(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
			struct npgw_k8s_expr *e)
{
	char p[NPGW_DOC_PATH_MAX];
	size_t k = 0;

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	e->values = calloc(n->n ? n->n : 1, sizeof(*e->values));
	if (e->values == NULL)
		return nomem(x);
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *v = &n->kids[i];
		const char *why;

		npgw_doc_path_index(p, path, i);
		if (!npgw_doc_want(&x->rd, v, NPGW_DOC_STR, p))
			continue;
		if ((why = k8s_check_label_value(v->text)) != NULL) {
			npgw_doc_err(&x->rd, v, p, "invalid label value \"%.80s\": %s", v->text,
				     why);
			continue;
		}
		if ((e->values[e->n_values++] = strdup(v->text)) == NULL)
			nomem(x);
	}
	if (x->rd.nomem)
		return;
	/* sorted and unique, as the header promises */
	qsort(e->values, e->n_values, sizeof(*e->values), str_cmp);
	for (size_t i = 0; i < e->n_values; i++) {
		if (k > 0 && strcmp(e->values[k - 1], e->values[i]) == 0)
			free(e->values[i]);
		else
			e->values[k++] = e->values[i];
	}
	e->n_values = k;
}

enum { EXPR_KEY, EXPR_OPERATOR, EXPR_VALUES };
static const struct npgw_doc_field expr_fields[] = {
	[EXPR_KEY] = {.key = "key"},
	[EXPR_OPERATOR] = {.key = "operator"},
	[EXPR_VALUES] = {.key = "values"},
};
static const struct npgw_doc_fields expr_table = {"a match expression has", expr_fields,
						   NPGW_ARRAY_SIZE(expr_fields), NULL, NULL};

static void expression(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		       struct npgw_k8s_expr *e)
{
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(expr_fields)];
	const struct npgw_doc_node *key, *op, *values;
	char p[NPGW_DOC_PATH_MAX];
	const char *why;

	if (!npgw_doc_read_fields(&x->rd, x, n, path, &expr_table, e, got))
		return;
	key = got[EXPR_KEY];
	op = got[EXPR_OPERATOR];
	values = got[EXPR_VALUES];
	npgw_doc_path(p, path, "key");
	if (key == NULL)
		npgw_doc_err(&x->rd, n, p, "missing required field");
	else if (npgw_doc_get_str(&x->rd, key, p, &e->key) &&
		 (why = k8s_check_label_key(e->key)) != NULL)
		npgw_doc_err(&x->rd, key, p, "invalid label key \"%.80s\": %s", e->key, why);
	if (values != NULL)
		expr_values(x, values, npgw_doc_path(p, path, "values"), e);
	npgw_doc_path(p, path, "operator");
	if (op == NULL) {
		npgw_doc_err(&x->rd, n, p, "missing required field");
		return;
	}
	if (!npgw_doc_want(&x->rd, op, NPGW_DOC_STR, p))
		return;
	if (!parse_op(op->text, &e->op)) {
		npgw_doc_err(&x->rd, op, p,
			     "unknown operator \"%.64s\" (In, NotIn, Exists or DoesNotExist)",
			     op->text);
		return;
	}
	npgw_doc_path(p, path, "values");
	if ((e->op == NPGW_K8S_OP_IN || e->op == NPGW_K8S_OP_NOT_IN) &&
	    (values == NULL || values->n == 0))
		npgw_doc_err(&x->rd, values ? values : n, p, "operator %s needs at least one value",
			     op->text);
	if ((e->op == NPGW_K8S_OP_EXISTS || e->op == NPGW_K8S_OP_DOES_NOT_EXIST) &&
	    values != NULL && values->type == NPGW_DOC_SEQ && values->n > 0)
		npgw_doc_err(&x->rd, values, p, "operator %s takes no values", op->text);
}

static void rd_match_labels(void *ctx, const struct npgw_doc_field *fd,
			    const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_k8s_selector *s = obj;

	(void)fd;
	k8s_get_labels(ctx, f, path, &s->match_labels);
}

static void rd_match_expressions(void *ctx, const struct npgw_doc_field *fd,
				 const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_k8s_selector *s = obj;
	struct k8s_ctx *x = ctx;
	char q[NPGW_DOC_PATH_MAX];

	(void)fd;
	if (!npgw_doc_want(&x->rd, f, NPGW_DOC_SEQ, path))
		return;
	s->exprs = calloc(f->n ? f->n : 1, sizeof(*s->exprs));
	if (s->exprs == NULL)
		return nomem(x);
	s->n_exprs = f->n;
	for (size_t k = 0; k < f->n; k++)
		expression(x, &f->kids[k], npgw_doc_path_index(q, path, k), &s->exprs[k]);
}

static const struct npgw_doc_field selector_fields[] = {
	{.key = "matchLabels", .read = rd_match_labels},
	{.key = "matchExpressions", .read = rd_match_expressions},
};
static const struct npgw_doc_fields selector_table = {
	"a label selector has", selector_fields, NPGW_ARRAY_SIZE(selector_fields), NULL, NULL};

void k8s_selector_read(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		       struct npgw_k8s_selector *s)
{
	npgw_doc_read_fields(&x->rd, x, n, path, &selector_table, s, NULL);
}

static void selector(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		     struct npgw_k8s_selector *s)
{
	k8s_selector_read(x, n, path, s);
}

/* ---- peers ---- */

static bool cidr(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		 struct npgw_prefix *out)
{
	return k8s_get_cidr(x, n, path, out);
}

bool k8s_get_cidr(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		  struct npgw_prefix *out)
{
	char buf[64];
	bool host_bits;

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_STR, path))
		return false;
	if (npgw_prefix_parse(n->text, out, &host_bits) < 0) {
		npgw_doc_err(&x->rd, n, path,
			     "\"%.64s\" is not a valid CIDR (such as 10.0.0.0/8 or fd00::/64)",
			     n->text);
		return false;
	}
	if (host_bits)
		npgw_doc_warn(&x->rd, n, path, "%s has host bits set: read as %s", n->text,
			      npgw_prefix_format(out, buf, sizeof(buf)));
	return true;
}

static const struct npgw_doc_field ip_block_fields[] = {{.key = "cidr"}, {.key = "except"}};
static const struct npgw_doc_fields ip_block_table = {"an ipBlock has", ip_block_fields,
						       NPGW_ARRAY_SIZE(ip_block_fields), NULL, NULL};

static void ip_block(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		     struct npgw_k8s_peer *peer)
{
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(ip_block_fields)], *c, *ex;
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX], b1[64], b2[64];
	bool have_cidr;

	if (!npgw_doc_read_fields(&x->rd, x, n, path, &ip_block_table, peer, got))
		return;
	c = got[0];
	ex = got[1];
	npgw_doc_path(p, path, "cidr");
	if (c == NULL) {
		npgw_doc_err(&x->rd, n, p, "missing required field");
		have_cidr = false;
	} else {
		have_cidr = cidr(x, c, p, &peer->cidr);
	}
	npgw_doc_path(p, path, "except");
	if (ex == NULL || !npgw_doc_want(&x->rd, ex, NPGW_DOC_SEQ, p))
		return;
	peer->except = calloc(ex->n ? ex->n : 1, sizeof(*peer->except));
	if (peer->except == NULL)
		return nomem(x);
	for (size_t i = 0; i < ex->n; i++) {
		const struct npgw_doc_node *e = &ex->kids[i];
		struct npgw_prefix pf;

		npgw_doc_path_index(q, p, i);
		if (!cidr(x, e, q, &pf) || !have_cidr)
			continue;
		npgw_prefix_format(&pf, b1, sizeof(b1));
		npgw_prefix_format(&peer->cidr, b2, sizeof(b2));
		if (pf.addr.family != peer->cidr.addr.family)
			npgw_doc_err(&x->rd, e, q, "except %s is IPv%u but cidr %s is IPv%u", b1,
				     pf.addr.family, b2, peer->cidr.addr.family);
		else if (!npgw_prefix_covers(&peer->cidr, &pf) || pf.len == peer->cidr.len)
			npgw_doc_err(&x->rd, e, q, "except %s is not strictly inside cidr %s", b1,
				     b2);
		else
			peer->except[peer->n_except++] = pf;
	}
}

static void rd_peer_pods(void *ctx, const struct npgw_doc_field *fd, const struct npgw_doc_node *f,
			 const char *path, void *obj)
{
	struct npgw_k8s_peer *pr = obj;

	(void)fd;
	pr->has_pod_selector = true;
	selector(ctx, f, path, &pr->pod_selector);
}

static void rd_peer_namespaces(void *ctx, const struct npgw_doc_field *fd,
			       const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_k8s_peer *pr = obj;

	(void)fd;
	pr->has_ns_selector = true;
	selector(ctx, f, path, &pr->ns_selector);
}

static void rd_peer_ip_block(void *ctx, const struct npgw_doc_field *fd,
			     const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_k8s_peer *pr = obj;

	(void)fd;
	pr->has_ip_block = true;
	ip_block(ctx, f, path, pr);
}

enum { PEER_PODS, PEER_NAMESPACES, PEER_IP_BLOCK };
static const struct npgw_doc_field peer_fields[] = {
	[PEER_PODS] = {.key = "podSelector", .read = rd_peer_pods},
	[PEER_NAMESPACES] = {.key = "namespaceSelector", .read = rd_peer_namespaces},
	[PEER_IP_BLOCK] = {.key = "ipBlock", .read = rd_peer_ip_block},
};
static const struct npgw_doc_fields peer_table = {"a peer has", peer_fields,
						   NPGW_ARRAY_SIZE(peer_fields), "or", NULL};

static void peer(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		 struct npgw_k8s_peer *pr)
{
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(peer_fields)];
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_read_fields(&x->rd, x, n, path, &peer_table, pr, got))
		return;
	if (!pr->has_pod_selector && !pr->has_ns_selector && !pr->has_ip_block)
		npgw_doc_err(
			&x->rd, n, path,
			"a peer needs podSelector, namespaceSelector or ipBlock (to allow every "
			"peer, leave out the whole list)");
	else if (got[PEER_IP_BLOCK] != NULL && (pr->has_pod_selector || pr->has_ns_selector))
		npgw_doc_err_key(
			&x->rd, got[PEER_IP_BLOCK], npgw_doc_path(p, path, "ipBlock"),
			"ipBlock cannot be combined with podSelector or namespaceSelector in "
			"one peer (make them two peers)");
}

/* ---- ports ---- */

static const struct npgw_doc_field port_fields[] = {
	{.key = "protocol"}, {.key = "port"}, {.key = "endPort"}};
static const struct npgw_doc_fields port_table = {"a port has", port_fields,
						   NPGW_ARRAY_SIZE(port_fields), NULL, NULL};

static void port(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		 struct npgw_k8s_port *pt)
{
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(port_fields)], *proto, *num, *end;
	char p[NPGW_DOC_PATH_MAX];
	uint16_t end_port = 0;
	bool port_ok = false;
	const char *why;

	pt->protocol = NPGW_PROTO_TCP;
	if (!npgw_doc_read_fields(&x->rd, x, n, path, &port_table, pt, got))
		return;
	proto = got[0];
	num = got[1];
	end = got[2];
	if (proto != NULL)
		k8s_get_proto(x, proto, npgw_doc_path(p, path, "protocol"), &pt->protocol);
	npgw_doc_path(p, path, "port");
	if (num != NULL && num->type == NPGW_DOC_STR) {
		if ((why = k8s_check_port_name(num->text)) != NULL) {
			bool digits = num->text[strspn(num->text, "0123456789")] == '\0';

			npgw_doc_err(&x->rd, num, p, "invalid port name \"%.64s\": %s%s", num->text,
				     why, digits ? " (write a port number without quotes)" : "");
		} else if ((pt->name = strdup(num->text)) == NULL) {
			nomem(x);
		} else {
			pt->has_port = true;
		}
	} else if (num != NULL && (num->type == NPGW_DOC_INT || num->type == NPGW_DOC_FLOAT)) {
		port_ok = k8s_get_port(x, num, p, &pt->port);
		pt->has_port = port_ok;
	} else if (num != NULL) {
		npgw_doc_err(&x->rd, num, p, "expected a port number or a port name, got %s",
			     npgw_doc_type_name(num));
	}
	if (end == NULL)
		return;
	npgw_doc_path(p, path, "endPort");
	if (!k8s_get_port(x, end, p, &end_port))
		return;
	if (num == NULL)
		npgw_doc_err(&x->rd, end, p, "endPort needs port (the start of the range)");
	else if (num->type == NPGW_DOC_STR)
		npgw_doc_err(&x->rd, end, p, "endPort cannot be used with a named port (\"%.64s\")",
			     num->text);
	else if (port_ok && end_port < pt->port)
		npgw_doc_err(&x->rd, end, p, "%u is below port %u", end_port, pt->port);
	else
		pt->end_port = end_port;
}

/* ---- rules ---- */

static void rd_rule_peers(void *ctx, const struct npgw_doc_field *fd,
			  const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_k8s_rule *r = obj;
	struct k8s_ctx *x = ctx;
	char q[NPGW_DOC_PATH_MAX];

	(void)fd;
	if (!npgw_doc_want(&x->rd, f, NPGW_DOC_SEQ, path))
		return;
	r->peers = calloc(f->n ? f->n : 1, sizeof(*r->peers));
	if (r->peers == NULL)
		return nomem(x);
	r->n_peers = f->n;
	for (size_t k = 0; k < f->n; k++)
		peer(x, &f->kids[k], npgw_doc_path_index(q, path, k), &r->peers[k]);
}

static void rd_rule_ports(void *ctx, const struct npgw_doc_field *fd,
			  const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct npgw_k8s_rule *r = obj;
	struct k8s_ctx *x = ctx;
	char q[NPGW_DOC_PATH_MAX];

	(void)fd;
	if (!npgw_doc_want(&x->rd, f, NPGW_DOC_SEQ, path))
		return;
	r->ports = calloc(f->n ? f->n : 1, sizeof(*r->ports));
	if (r->ports == NULL)
		return nomem(x);
	r->n_ports = f->n;
	for (size_t k = 0; k < f->n; k++)
		port(x, &f->kids[k], npgw_doc_path_index(q, path, k), &r->ports[k]);
}

static const struct npgw_doc_field ingress_rule_fields[] = {
	{.key = "from", .read = rd_rule_peers},
	{.key = "ports", .read = rd_rule_ports},
};
static const struct npgw_doc_field egress_rule_fields[] = {
	{.key = "to", .read = rd_rule_peers},
	{.key = "ports", .read = rd_rule_ports},
};
static const struct npgw_doc_fields rule_tables[2] = {
	{"an egress rule has", egress_rule_fields, NPGW_ARRAY_SIZE(egress_rule_fields), NULL,
	 NULL},
	{"an ingress rule has", ingress_rule_fields, NPGW_ARRAY_SIZE(ingress_rule_fields), NULL,
	 NULL},
};

static void rule(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path, bool ingress,
		 struct npgw_k8s_rule *r)
{
	r->line = n->line;
	r->col = n->col;
	if (n->type == NPGW_DOC_NULL) {
		npgw_doc_err(&x->rd, n, path, "a rule is null: write {} to allow everything");
		return;
	}
	npgw_doc_read_fields(&x->rd, x, n, path, &rule_tables[ingress], r, NULL);
}

static void rules(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path, bool ingress,
		  struct npgw_k8s_rule **out, size_t *n_out)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	*out = calloc(n->n ? n->n : 1, sizeof(**out));
	if (*out == NULL)
		return nomem(x);
	*n_out = n->n;
	for (size_t i = 0; i < n->n; i++)
		rule(x, &n->kids[i], npgw_doc_path_index(p, path, i), ingress, &(*out)[i]);
}

/* policyTypes: a list of "Ingress" / "Egress", each at most once. */
static void policy_types(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
			 bool *have, bool *in, bool *eg)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	/* An empty list is defaulted by the API server as if omitted. */
	*have = n->n > 0;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *t = &n->kids[i];
		bool *flag;

		npgw_doc_path_index(p, path, i);
		if (!npgw_doc_want(&x->rd, t, NPGW_DOC_STR, p))
			continue;
		if (strcmp(t->text, "Ingress") == 0) {
			flag = in;
		} else if (strcmp(t->text, "Egress") == 0) {
			flag = eg;
		} else {
			npgw_doc_err(&x->rd, t, p,
				     "unknown policy type \"%.64s\" (Ingress or Egress)", t->text);
			continue;
		}
		if (*flag)
			npgw_doc_err(&x->rd, t, p, "policy type %s is listed twice", t->text);
		*flag = true;
	}
}

/* What the spec table fills: the policy and the policyTypes it read. */
struct spec_obj {
	struct npgw_k8s_policy *pol;
	bool have_types, t_in, t_eg;
};

static void rd_spec_selector(void *ctx, const struct npgw_doc_field *fd,
			     const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct spec_obj *so = obj;

	(void)fd;
	selector(ctx, f, path, &so->pol->pod_selector);
}

static void rd_spec_types(void *ctx, const struct npgw_doc_field *fd,
			  const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct spec_obj *so = obj;

	(void)fd;
	policy_types(ctx, f, path, &so->have_types, &so->t_in, &so->t_eg);
}

static void rd_spec_ingress(void *ctx, const struct npgw_doc_field *fd,
			    const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct spec_obj *so = obj;

	(void)fd;
	rules(ctx, f, path, true, &so->pol->ingress, &so->pol->n_ingress);
}

static void rd_spec_egress(void *ctx, const struct npgw_doc_field *fd,
			   const struct npgw_doc_node *f, const char *path, void *obj)
{
	struct spec_obj *so = obj;

	(void)fd;
	rules(ctx, f, path, false, &so->pol->egress, &so->pol->n_egress);
}

enum { SPEC_POD_SELECTOR, SPEC_POLICY_TYPES, SPEC_INGRESS, SPEC_EGRESS };
static const struct npgw_doc_field spec_fields[] = {
	[SPEC_POD_SELECTOR] = {.key = "podSelector", .read = rd_spec_selector},
	[SPEC_POLICY_TYPES] = {.key = "policyTypes", .read = rd_spec_types},
	[SPEC_INGRESS] = {.key = "ingress", .read = rd_spec_ingress},
	[SPEC_EGRESS] = {.key = "egress", .read = rd_spec_egress},
};
static const struct npgw_doc_fields spec_table = {"a NetworkPolicy spec has", spec_fields,
						   NPGW_ARRAY_SIZE(spec_fields), NULL, NULL};

struct npgw_k8s_policy *k8s_policy(struct k8s_ctx *x, const struct npgw_doc_node *root,
				   const char *prefix)
{
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(spec_fields)];
	struct npgw_k8s_policy *pol = calloc(1, sizeof(*pol));
	struct spec_obj so = {.pol = pol};
	const struct npgw_doc_node *spec;
	char sp[NPGW_DOC_PATH_MAX], p[NPGW_DOC_PATH_MAX];

	if (pol == NULL) {
		nomem(x);
		return NULL;
	}
	k8s_set_origin(x, &pol->origin, root);
	k8s_get_meta(x, root, prefix, &pol->namespace, &pol->name);
	npgw_doc_path(sp, prefix, "spec");
	spec = npgw_doc_get(root, "spec");
	if (spec == NULL) {
		npgw_doc_err(&x->rd, root, sp, "missing required field");
		return pol;
	}
	if (!npgw_doc_read_fields(&x->rd, x, spec, sp, &spec_table, &so, got))
		return pol;
	/* required, with a hint the table's message cannot give; but null is
	 * what upstream's own manifests write and the API server stores as {}
	 * (every pod of the namespace): read it so, with a warning */
	if (got[SPEC_POD_SELECTOR] == NULL) {
		const struct npgw_doc_node *null_sel = NULL;

		for (size_t i = 0; i < spec->n; i++)
			if (strcmp(spec->kids[i].key, "podSelector") == 0)
				null_sel = &spec->kids[i];
		npgw_doc_path(p, sp, "podSelector");
		if (null_sel != NULL)
			npgw_doc_warn(&x->rd, null_sel, p,
				      "podSelector is null: read as {} (every pod of namespace %s), "
				      "as the API server stores it",
				      pol->namespace ? pol->namespace : "default");
		else
			npgw_doc_err(&x->rd, spec, p,
				     "missing required field (write podSelector: {} to select every "
				     "pod of the namespace)");
	}
	if (so.have_types) {
		pol->isolates_ingress = so.t_in;
		pol->isolates_egress = so.t_eg;
	} else {
		pol->isolates_ingress = true;
		pol->isolates_egress = pol->n_egress > 0;
	}
	return pol;
}
