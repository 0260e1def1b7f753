/*
 * policy.c: networking.k8s.io/v1 NetworkPolicy objects, validated as the
 * API server's ValidateNetworkPolicySpec does, and stricter where the
 * server is lax:
 *  - every field of spec is known: an unknown field at any depth is an
 *    error (the server prunes it silently, so a typo such as "podSelectr"
 *    would widen a policy without a word);
 *  - a field of the wrong type is an error naming the field;
 *  - spec.podSelector is required (the server reads a missing one as {},
 *    selecting every pod; write {} to mean that);
 *  - a rule that is null (a bare "-") is an error rather than "allow all";
 *  - a CIDR with host bits set is read as the network it denotes, with a
 *    warning.
 * A null field is read as absent, as the server does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

static void nomem(struct k8s_ctx *x)
{
	x->nomem = true;
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

static void expr_values(struct k8s_ctx *x, const struct doc_node *n, const char *path,
			struct npgw_k8s_expr *e)
{
	char p[K8S_PATH_MAX];
	size_t k = 0;

	if (!k8s_want(x, n, DOC_SEQ, path))
		return;
	e->values = calloc(n->n ? n->n : 1, sizeof(*e->values));
	if (e->values == NULL)
		return nomem(x);
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *v = &n->kids[i];
		const char *why;

		k8s_path_index(p, path, i);
		if (!k8s_want(x, v, DOC_STR, p))
			continue;
		if ((why = k8s_check_label_value(v->text)) != NULL) {
			k8s_err(x, v, p, "invalid label value \"%.80s\": %s", v->text, why);
			continue;
		}
		if ((e->values[e->n_values++] = strdup(v->text)) == NULL)
			nomem(x);
	}
	if (x->nomem)
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

static void expression(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		       struct npgw_k8s_expr *e)
{
	const struct doc_node *key = NULL, *op = NULL, *values = NULL;
	char p[K8S_PATH_MAX];
	const char *why;

	if (!k8s_want(x, n, DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *f = &n->kids[i];

		if (strcmp(f->key, "key") == 0)
			key = f;
		else if (strcmp(f->key, "operator") == 0)
			op = f;
		else if (strcmp(f->key, "values") == 0)
			values = f;
		else
			k8s_err_key(x, f, k8s_path(p, path, f->key),
				    "unknown field \"%.64s\" (a match expression has key, operator "
				    "and values)",
				    f->key);
	}
	if (key != NULL && key->type == DOC_NULL)
		key = NULL;
	if (op != NULL && op->type == DOC_NULL)
		op = NULL;
	if (values != NULL && values->type == DOC_NULL)
		values = NULL;
	k8s_path(p, path, "key");
	if (key == NULL)
		k8s_err(x, n, p, "missing required field");
	else if (k8s_get_str(x, key, p, &e->key) && (why = k8s_check_label_key(e->key)) != NULL)
		k8s_err(x, key, p, "invalid label key \"%.80s\": %s", e->key, why);
	if (values != NULL)
		expr_values(x, values, k8s_path(p, path, "values"), e);
	k8s_path(p, path, "operator");
	if (op == NULL) {
		k8s_err(x, n, p, "missing required field");
		return;
	}
	if (!k8s_want(x, op, DOC_STR, p))
		return;
	if (!parse_op(op->text, &e->op)) {
		k8s_err(x, op, p, "unknown operator \"%.64s\" (In, NotIn, Exists or DoesNotExist)",
			op->text);
		return;
	}
	k8s_path(p, path, "values");
	if ((e->op == NPGW_K8S_OP_IN || e->op == NPGW_K8S_OP_NOT_IN) &&
	    (values == NULL || values->n == 0))
		k8s_err(x, values ? values : n, p, "operator %s needs at least one value",
			op->text);
	if ((e->op == NPGW_K8S_OP_EXISTS || e->op == NPGW_K8S_OP_DOES_NOT_EXIST) &&
	    values != NULL && values->type == DOC_SEQ && values->n > 0)
		k8s_err(x, values, p, "operator %s takes no values", op->text);
}

static void selector(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		     struct npgw_k8s_selector *s)
{
	char p[K8S_PATH_MAX], q[K8S_PATH_MAX];

	if (!k8s_want(x, n, DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *f = &n->kids[i];

		k8s_path(p, path, f->key);
		if (f->type == DOC_NULL)
			continue;
		if (strcmp(f->key, "matchLabels") == 0) {
			k8s_get_labels(x, f, p, &s->match_labels);
		} else if (strcmp(f->key, "matchExpressions") == 0) {
			if (!k8s_want(x, f, DOC_SEQ, p))
				continue;
			s->exprs = calloc(f->n ? f->n : 1, sizeof(*s->exprs));
			if (s->exprs == NULL)
				return nomem(x);
			s->n_exprs = f->n;
			for (size_t k = 0; k < f->n; k++)
				expression(x, &f->kids[k], k8s_path_index(q, p, k), &s->exprs[k]);
		} else {
			k8s_err_key(x, f, p,
				    "unknown field \"%.64s\" (a label selector has matchLabels and "
				    "matchExpressions)",
				    f->key);
		}
	}
}

/* ---- peers ---- */

static bool cidr(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		 struct npgw_prefix *out)
{
	char buf[64];
	bool host_bits;

	if (!k8s_want(x, n, DOC_STR, path))
		return false;
	if (npgw_prefix_parse(n->text, out, &host_bits) < 0) {
		k8s_err(x, n, path, "\"%.64s\" is not a valid CIDR (such as 10.0.0.0/8 or fd00::/64)",
			n->text);
		return false;
	}
	if (host_bits)
		k8s_warn(x, n, path, "%s has host bits set: read as %s", n->text,
			 npgw_prefix_format(out, buf, sizeof(buf)));
	return true;
}

static void ip_block(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		     struct npgw_k8s_peer *peer)
{
	const struct doc_node *c = NULL, *ex = NULL;
	char p[K8S_PATH_MAX], q[K8S_PATH_MAX], b1[64], b2[64];
	bool have_cidr;

	if (!k8s_want(x, n, DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *f = &n->kids[i];

		if (strcmp(f->key, "cidr") == 0)
			c = f->type == DOC_NULL ? NULL : f;
		else if (strcmp(f->key, "except") == 0)
			ex = f->type == DOC_NULL ? NULL : f;
		else
			k8s_err_key(x, f, k8s_path(p, path, f->key),
				    "unknown field \"%.64s\" (an ipBlock has cidr and except)", f->key);
	}
	k8s_path(p, path, "cidr");
	if (c == NULL) {
		k8s_err(x, n, p, "missing required field");
		have_cidr = false;
	} else {
		have_cidr = cidr(x, c, p, &peer->cidr);
	}
	k8s_path(p, path, "except");
	if (ex == NULL || !k8s_want(x, ex, DOC_SEQ, p))
		return;
	peer->except = calloc(ex->n ? ex->n : 1, sizeof(*peer->except));
	if (peer->except == NULL)
		return nomem(x);
	for (size_t i = 0; i < ex->n; i++) {
		const struct doc_node *e = &ex->kids[i];
		struct npgw_prefix pf;

		k8s_path_index(q, p, i);
		if (!cidr(x, e, q, &pf) || !have_cidr)
			continue;
		npgw_prefix_format(&pf, b1, sizeof(b1));
		npgw_prefix_format(&peer->cidr, b2, sizeof(b2));
		if (pf.addr.family != peer->cidr.addr.family)
			k8s_err(x, e, q, "except %s is IPv%u but cidr %s is IPv%u", b1,
				pf.addr.family, b2, peer->cidr.addr.family);
		else if (!npgw_prefix_covers(&peer->cidr, &pf) || pf.len == peer->cidr.len)
			k8s_err(x, e, q, "except %s is not strictly inside cidr %s", b1, b2);
		else
			peer->except[peer->n_except++] = pf;
	}
}

static void peer(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		 struct npgw_k8s_peer *pr)
{
	const struct doc_node *ipb = NULL;
	char p[K8S_PATH_MAX];

	if (!k8s_want(x, n, DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *f = &n->kids[i];

		k8s_path(p, path, f->key);
		if (f->type == DOC_NULL)
			continue;
		if (strcmp(f->key, "podSelector") == 0) {
			pr->has_pod_selector = true;
			selector(x, f, p, &pr->pod_selector);
		} else if (strcmp(f->key, "namespaceSelector") == 0) {
			pr->has_ns_selector = true;
			selector(x, f, p, &pr->ns_selector);
		} else if (strcmp(f->key, "ipBlock") == 0) {
			pr->has_ip_block = true;
			ipb = f;
			ip_block(x, f, p, pr);
		} else {
			k8s_err_key(x, f, p,
				    "unknown field \"%.64s\" (a peer has podSelector, "
				    "namespaceSelector or ipBlock)",
				    f->key);
		}
	}
	if (!pr->has_pod_selector && !pr->has_ns_selector && !pr->has_ip_block)
		k8s_err(x, n, path,
			"a peer needs podSelector, namespaceSelector or ipBlock (to allow every "
			"peer, leave out the whole list)");
	else if (ipb != NULL && (pr->has_pod_selector || pr->has_ns_selector))
		k8s_err_key(x, ipb, k8s_path(p, path, "ipBlock"),
			    "ipBlock cannot be combined with podSelector or namespaceSelector in "
			    "one peer (make them two peers)");
}

/* ---- ports ---- */

static void port(struct k8s_ctx *x, const struct doc_node *n, const char *path,
		 struct npgw_k8s_port *pt)
{
	const struct doc_node *proto = NULL, *num = NULL, *end = NULL;
	char p[K8S_PATH_MAX];
	uint16_t end_port = 0;
	bool port_ok = false;
	const char *why;

	pt->protocol = NPGW_PROTO_TCP;
	if (!k8s_want(x, n, DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *f = &n->kids[i];

		if (strcmp(f->key, "protocol") == 0)
			proto = f->type == DOC_NULL ? NULL : f;
		else if (strcmp(f->key, "port") == 0)
			num = f->type == DOC_NULL ? NULL : f;
		else if (strcmp(f->key, "endPort") == 0)
			end = f->type == DOC_NULL ? NULL : f;
		else
			k8s_err_key(x, f, k8s_path(p, path, f->key),
				    "unknown field \"%.64s\" (a port has protocol, port and endPort)",
				    f->key);
	}
	if (proto != NULL)
		k8s_get_proto(x, proto, k8s_path(p, path, "protocol"), &pt->protocol);
	k8s_path(p, path, "port");
	if (num != NULL && num->type == DOC_STR) {
		if ((why = k8s_check_port_name(num->text)) != NULL) {
			bool digits = num->text[strspn(num->text, "0123456789")] == '\0';

			k8s_err(x, num, p, "invalid port name \"%.64s\": %s%s", num->text, why,
				digits ? " (write a port number without quotes)" : "");
		} else if ((pt->name = strdup(num->text)) == NULL) {
			nomem(x);
		} else {
			pt->has_port = true;
		}
	} else if (num != NULL && (num->type == DOC_INT || num->type == DOC_FLOAT)) {
		port_ok = k8s_get_port(x, num, p, &pt->port);
		pt->has_port = port_ok;
	} else if (num != NULL) {
		k8s_err(x, num, p, "expected a port number or a port name, got %s",
			doc_type_name(num));
	}
	if (end == NULL)
		return;
	k8s_path(p, path, "endPort");
	if (!k8s_get_port(x, end, p, &end_port))
		return;
	if (num == NULL)
		k8s_err(x, end, p, "endPort needs port (the start of the range)");
	else if (num->type == DOC_STR)
		k8s_err(x, end, p, "endPort cannot be used with a named port (\"%.64s\")", num->text);
	else if (port_ok && end_port < pt->port)
		k8s_err(x, end, p, "%u is below port %u", end_port, pt->port);
	else
		pt->end_port = end_port;
}

/* ---- rules ---- */

static void rule(struct k8s_ctx *x, const struct doc_node *n, const char *path, bool ingress,
		 struct npgw_k8s_rule *r)
{
	const char *peers_key = ingress ? "from" : "to";
	char p[K8S_PATH_MAX], q[K8S_PATH_MAX];

	if (n->type == DOC_NULL) {
		k8s_err(x, n, path, "a rule is null: write {} to allow everything");
		return;
	}
	if (!k8s_want(x, n, DOC_MAP, path))
		return;
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *f = &n->kids[i];

		k8s_path(p, path, f->key);
		if (f->type == DOC_NULL)
			continue;
		if (strcmp(f->key, peers_key) == 0) {
			if (!k8s_want(x, f, DOC_SEQ, p))
				continue;
			r->peers = calloc(f->n ? f->n : 1, sizeof(*r->peers));
			if (r->peers == NULL)
				return nomem(x);
			r->n_peers = f->n;
			for (size_t k = 0; k < f->n; k++)
				peer(x, &f->kids[k], k8s_path_index(q, p, k), &r->peers[k]);
		} else if (strcmp(f->key, "ports") == 0) {
			if (!k8s_want(x, f, DOC_SEQ, p))
				continue;
			r->ports = calloc(f->n ? f->n : 1, sizeof(*r->ports));
			if (r->ports == NULL)
				return nomem(x);
			r->n_ports = f->n;
			for (size_t k = 0; k < f->n; k++)
				port(x, &f->kids[k], k8s_path_index(q, p, k), &r->ports[k]);
		} else {
			k8s_err_key(x, f, p, "unknown field \"%.64s\" (an %s rule has %s and ports)",
				    f->key, ingress ? "ingress" : "egress", peers_key);
		}
	}
}

static void rules(struct k8s_ctx *x, const struct doc_node *n, const char *path, bool ingress,
		  struct npgw_k8s_rule **out, size_t *n_out)
{
	char p[K8S_PATH_MAX];

	if (!k8s_want(x, n, DOC_SEQ, path))
		return;
	*out = calloc(n->n ? n->n : 1, sizeof(**out));
	if (*out == NULL)
		return nomem(x);
	*n_out = n->n;
	for (size_t i = 0; i < n->n; i++)
		rule(x, &n->kids[i], k8s_path_index(p, path, i), ingress, &(*out)[i]);
}

/* policyTypes: a list of "Ingress" / "Egress", each at most once. */
static void policy_types(struct k8s_ctx *x, const struct doc_node *n, const char *path,
			 bool *have, bool *in, bool *eg)
{
	char p[K8S_PATH_MAX];

	if (!k8s_want(x, n, DOC_SEQ, path))
		return;
	/* An empty list is defaulted by the API server as if omitted. */
	*have = n->n > 0;
	for (size_t i = 0; i < n->n; i++) {
		const struct doc_node *t = &n->kids[i];
		bool *flag;

		k8s_path_index(p, path, i);
		if (!k8s_want(x, t, DOC_STR, p))
			continue;
		if (strcmp(t->text, "Ingress") == 0) {
			flag = in;
		} else if (strcmp(t->text, "Egress") == 0) {
			flag = eg;
		} else {
			k8s_err(x, t, p, "unknown policy type \"%.64s\" (Ingress or Egress)", t->text);
			continue;
		}
		if (*flag)
			k8s_err(x, t, p, "policy type %s is listed twice", t->text);
		*flag = true;
	}
}

struct npgw_k8s_policy *k8s_policy(struct k8s_ctx *x, const struct doc_node *root,
				   const char *prefix)
{
	struct npgw_k8s_policy *pol = calloc(1, sizeof(*pol));
	const struct doc_node *spec;
	bool have_types = false, t_in = false, t_eg = false, have_sel = false;
	char sp[K8S_PATH_MAX], p[K8S_PATH_MAX];

	if (pol == NULL) {
		nomem(x);
		return NULL;
	}
	k8s_set_origin(x, &pol->origin, root);
	k8s_get_meta(x, root, prefix, &pol->namespace, &pol->name);
	k8s_path(sp, prefix, "spec");
	spec = doc_get(root, "spec");
	if (spec == NULL) {
		k8s_err(x, root, sp, "missing required field");
		return pol;
	}
	if (!k8s_want(x, spec, DOC_MAP, sp))
		return pol;
	for (size_t i = 0; i < spec->n; i++) {
		const struct doc_node *f = &spec->kids[i];

		k8s_path(p, sp, f->key);
		if (f->type == DOC_NULL)
			continue;
		if (strcmp(f->key, "podSelector") == 0) {
			have_sel = true;
			selector(x, f, p, &pol->pod_selector);
		} else if (strcmp(f->key, "policyTypes") == 0) {
			policy_types(x, f, p, &have_types, &t_in, &t_eg);
		} else if (strcmp(f->key, "ingress") == 0) {
			rules(x, f, p, true, &pol->ingress, &pol->n_ingress);
		} else if (strcmp(f->key, "egress") == 0) {
			rules(x, f, p, false, &pol->egress, &pol->n_egress);
		} else {
			k8s_err_key(x, f, p,
				    "unknown field \"%.64s\" (a NetworkPolicy spec has podSelector, "
				    "policyTypes, ingress and egress)",
				    f->key);
		}
	}
	if (!have_sel)
		k8s_err(x, spec, k8s_path(p, sp, "podSelector"),
			"missing required field (write podSelector: {} to select every pod of "
			"the namespace)");
	if (have_types) {
		pol->isolates_ingress = t_in;
		pol->isolates_egress = t_eg;
	} else {
		pol->isolates_ingress = true;
		pol->isolates_egress = pol->n_egress > 0;
	}
	return pol;
}
