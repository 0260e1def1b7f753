/*
 * tier.c: the cluster-wide tiers of sigs.k8s.io/network-policy-api, and v1
 * Node objects (the addresses their `nodes` peers match).
 *
 *  - AdminNetworkPolicy and BaselineAdminNetworkPolicy,
 *    policy.networking.k8s.io/v1alpha1 (the released API);
 *  - ClusterNetworkPolicy, policy.networking.k8s.io/v1alpha2, tier Admin or
 *    Baseline (the project's main branch since August 2025).
 *
 * Each is validated as its CRD does (OpenAPI bounds and CEL rules), with
 * npgw's usual strictness: unknown fields at any depth, wrong types and
 * null rules are errors naming the field path. The rules enforced:
 *  - spec.priority 0..1000 (AdminNetworkPolicy, ClusterNetworkPolicy);
 *    spec.tier Admin or Baseline (ClusterNetworkPolicy);
 *  - a BaselineAdminNetworkPolicy is named "default" and has no priority;
 *  - subject: exactly one of namespaces or pods; pods needs both
 *    namespaceSelector and podSelector;
 *  - ingress / egress: at most 100 rules each (v1alpha1), 25 (v1alpha2);
 *  - a rule: action required, one of Allow, Deny, Pass (v1alpha1 Admin),
 *    Allow, Deny (Baseline), Accept, Deny, Pass (v1alpha2); name at most
 *    100 characters; from / to required, 1..100 peers (v1alpha1), 1..25
 *    (v1alpha2); ports 1..100 (v1alpha1), protocols 1..25 (v1alpha2);
 *  - a peer: exactly one of namespaces, pods (ingress and egress), nodes,
 *    networks (egress only); networks 1..25 CIDRs, each valid, none twice;
 *    domainNames is refused: npgw sees addresses, not names;
 *  - v1alpha1 port: exactly one of portNumber {protocol (default TCP),
 *    port 1..65535}, namedPort, portRange {protocol, start, end, 1..65535,
 *    start <= end};
 *  - v1alpha2 protocol: exactly one of tcp, udp, sctp (each with
 *    destinationPort: exactly one of number 1..65535 or range {start, end},
 *    start < end as the CRD's CEL rule says) or destinationNamedPort;
 *  - an egress rule with a networks or nodes peer cannot name a port (the
 *    CRDs' CEL rule: those peers have no named ports).
 *
 * The model they become is described in npgw_k8s.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_private.h"

static void nomem(struct k8s_ctx *x)
{
	x->rd.nomem = true;
}

/* The bounds of one API version. */
struct tier_api {
	unsigned int kind; /* enum npgw_k8s_policy_kind */
	size_t max_rules, max_peers, max_ports;
	bool v1alpha2;
};

/* ---- subject and peers ---- */

enum { NSP_NAMESPACE, NSP_POD };
static const struct npgw_doc_field nspod_fields[] = {
	[NSP_NAMESPACE] = {.key = "namespaceSelector", .required = true},
	[NSP_POD] = {.key = "podSelector", .required = true},
};
static const struct npgw_doc_fields nspod_table = {"pods has", nspod_fields,
						    NPGW_ARRAY_SIZE(nspod_fields), NULL, NULL};

/* pods: {namespaceSelector, podSelector}, both required. */
static void namespaced_pod(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
			   struct npgw_k8s_selector *ns, struct npgw_k8s_selector *pod)
{
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(nspod_fields)];
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_read_fields(&x->rd, x, n, path, &nspod_table, NULL, got))
		return;
	if (got[NSP_NAMESPACE] != NULL)
		k8s_selector_read(x, got[NSP_NAMESPACE], npgw_doc_path(p, path, "namespaceSelector"),
				  ns);
	if (got[NSP_POD] != NULL)
		k8s_selector_read(x, got[NSP_POD], npgw_doc_path(p, path, "podSelector"), pod);
}

/* How many of got[0..n-1] are set; reports "exactly one" at map when not 1. */
static bool exactly_one(struct k8s_ctx *x, const struct npgw_doc_node *map, const char *path,
			const struct npgw_doc_node *const *got, size_t n, const char *what)
{
	size_t set = 0;

	/* an unknown key was reported already: one message is enough */
	for (size_t i = 0; i < map->n; i++) {
		bool known = false;

		for (size_t k = 0; k < n && !known; k++)
			known = got[k] != NULL && got[k] == &map->kids[i];
		if (!known && map->kids[i].type != NPGW_DOC_NULL)
			return false;
	}

	for (size_t i = 0; i < n; i++)
		set += got[i] != NULL;
	if (set != 1)
		npgw_doc_err(&x->rd, map, path, "needs exactly one of %s (it has %zu)", what, set);
	return set == 1;
}

enum { SUBJ_NAMESPACES, SUBJ_PODS };
static const struct npgw_doc_field subject_fields[] = {
	[SUBJ_NAMESPACES] = {.key = "namespaces"},
	[SUBJ_PODS] = {.key = "pods"},
};
static const struct npgw_doc_fields subject_table = {
	"a subject has", subject_fields, NPGW_ARRAY_SIZE(subject_fields), "or", "(exactly one)"};

static void subject(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		    struct npgw_k8s_policy *pol)
{
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(subject_fields)];
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_read_fields(&x->rd, x, n, path, &subject_table, NULL, got) ||
	    !exactly_one(x, n, path, got, NPGW_ARRAY_SIZE(got), "namespaces or pods"))
		return;
	pol->has_ns_selector = true;
	if (got[SUBJ_NAMESPACES] != NULL)
		k8s_selector_read(x, got[SUBJ_NAMESPACES], npgw_doc_path(p, path, "namespaces"),
				  &pol->ns_selector);
	else
		namespaced_pod(x, got[SUBJ_PODS], npgw_doc_path(p, path, "pods"), &pol->ns_selector,
			       &pol->pod_selector);
}

/* A growing peer list of one rule. */
static struct npgw_k8s_peer *new_peer(struct k8s_ctx *x, struct npgw_k8s_rule *r, size_t *cap)
{
	if (npgw_doc_grow((void **)&r->peers, cap, r->n_peers, sizeof(*r->peers)) < 0) {
		nomem(x);
		return NULL;
	}
	memset(&r->peers[r->n_peers], 0, sizeof(*r->peers));
	return &r->peers[r->n_peers++];
}

static void networks(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		     struct npgw_k8s_rule *r, size_t *cap)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	if (n->n < 1 || n->n > 25) {
		npgw_doc_err(&x->rd, n, path, "networks needs 1 to 25 CIDRs, not %zu", n->n);
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *e = &n->kids[i];
		struct npgw_k8s_peer *pr;
		struct npgw_prefix pf;
		bool dup = false;

		npgw_doc_path_index(p, path, i);
		if (!k8s_get_cidr(x, e, p, &pf))
			continue;
		if (e->len > 43) {
			npgw_doc_err(&x->rd, e, p, "a CIDR is at most 43 characters");
			continue;
		}
		for (size_t k = 0; k < i && !dup; k++)
			dup = n->kids[k].type == NPGW_DOC_STR && strcmp(n->kids[k].text, e->text) == 0;
		if (dup) {
			npgw_doc_err(&x->rd, e, p, "%s is listed twice (networks is a set)", e->text);
			continue;
		}
		if ((pr = new_peer(x, r, cap)) == NULL)
			return;
		pr->has_ip_block = true;
		pr->cidr = pf;
	}
}

enum { PEER_NAMESPACES, PEER_PODS, PEER_NODES, PEER_NETWORKS, PEER_DOMAINS };
static const struct npgw_doc_field in_peer_fields[] = {
	[PEER_NAMESPACES] = {.key = "namespaces"},
	[PEER_PODS] = {.key = "pods"},
};
static const struct npgw_doc_field eg_peer_fields[] = {
	[PEER_NAMESPACES] = {.key = "namespaces"}, [PEER_PODS] = {.key = "pods"},
	[PEER_NODES] = {.key = "nodes"},	   [PEER_NETWORKS] = {.key = "networks"},
	[PEER_DOMAINS] = {.key = "domainNames"},
};
static const struct npgw_doc_fields peer_tables[2] = {
	{"an egress peer has", eg_peer_fields, NPGW_ARRAY_SIZE(eg_peer_fields), "or",
	 "(exactly one)"},
	{"an ingress peer has", in_peer_fields, NPGW_ARRAY_SIZE(in_peer_fields), "or",
	 "(exactly one)"},
};

/* One peer of a rule, appended to r (networks: one peer per CIDR). Sets
 * *addr_peer for a nodes or networks peer. */
static void tier_peer(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		      bool ingress, struct npgw_k8s_rule *r, size_t *cap, bool *addr_peer)
{
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(eg_peer_fields)] = {NULL};
	const struct npgw_doc_fields *t = &peer_tables[ingress];
	struct npgw_k8s_peer *pr;
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_read_fields(&x->rd, x, n, path, t, NULL, got) ||
	    !exactly_one(x, n, path, got, t->n,
			 ingress ? "namespaces or pods" : "namespaces, pods, nodes or networks"))
		return;
	if (got[PEER_DOMAINS] != NULL) {
		npgw_doc_err_key(&x->rd, got[PEER_DOMAINS], npgw_doc_path(p, path, "domainNames"),
				 "domainNames peers are not supported: npgw sees addresses, not DNS "
				 "names (use networks)");
		return;
	}
	if (got[PEER_NETWORKS] != NULL) {
		*addr_peer = true;
		networks(x, got[PEER_NETWORKS], npgw_doc_path(p, path, "networks"), r, cap);
		return;
	}
	if ((pr = new_peer(x, r, cap)) == NULL)
		return;
	if (got[PEER_NAMESPACES] != NULL) {
		pr->has_ns_selector = true;
		k8s_selector_read(x, got[PEER_NAMESPACES], npgw_doc_path(p, path, "namespaces"),
				  &pr->ns_selector);
	} else if (got[PEER_PODS] != NULL) {
		pr->has_ns_selector = pr->has_pod_selector = true;
		namespaced_pod(x, got[PEER_PODS], npgw_doc_path(p, path, "pods"), &pr->ns_selector,
			       &pr->pod_selector);
	} else {
		*addr_peer = true;
		pr->has_node_selector = true;
		k8s_selector_read(x, got[PEER_NODES], npgw_doc_path(p, path, "nodes"),
				  &pr->node_selector);
	}
}

/* ---- ports ---- */

static struct npgw_k8s_port *new_port(struct k8s_ctx *x, struct npgw_k8s_rule *r, size_t *cap)
{
	if (npgw_doc_grow((void **)&r->ports, cap, r->n_ports, sizeof(*r->ports)) < 0) {
		nomem(x);
		return NULL;
	}
	memset(&r->ports[r->n_ports], 0, sizeof(*r->ports));
	return &r->ports[r->n_ports++];
}

/* A named port of any protocol: three entries. */
static void named_port(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		       struct npgw_k8s_rule *r, size_t *cap)
{
	static const uint8_t protos[] = {NPGW_PROTO_TCP, NPGW_PROTO_UDP, NPGW_PROTO_SCTP};
	const char *why;

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_STR, path))
		return;
	if ((why = k8s_check_port_name(n->text)) != NULL) {
		npgw_doc_err(&x->rd, n, path, "invalid port name \"%.64s\": %s", n->text, why);
		return;
	}
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(protos); i++) {
		struct npgw_k8s_port *pt = new_port(x, r, cap);

		if (pt == NULL)
			return;
		pt->protocol = protos[i];
		pt->has_port = true;
		pt->any_proto = true;
		if ((pt->name = strdup(n->text)) == NULL)
			return nomem(x);
	}
}

/* start..end of a range; strict: start < end (v1alpha2's CEL rule). */
static void port_range(struct k8s_ctx *x, const struct npgw_doc_node *start,
		       const struct npgw_doc_node *end, const struct npgw_doc_node *at,
		       const char *path, bool strict, struct npgw_k8s_port *pt)
{
	char p[NPGW_DOC_PATH_MAX];
	uint16_t lo = 0, hi = 0;
	bool ok = true;

	ok = k8s_get_port(x, start, npgw_doc_path(p, path, "start"), &lo) && ok;
	ok = k8s_get_port(x, end, npgw_doc_path(p, path, "end"), &hi) && ok;
	if (!ok)
		return;
	if (strict ? lo >= hi : lo > hi) {
		npgw_doc_err(&x->rd, at, path, "start %u must be %s end %u", lo,
			     strict ? "less than" : "at most", hi);
		return;
	}
	pt->has_port = true;
	pt->port = lo;
	pt->end_port = hi;
}

enum { RANGE_PROTOCOL, RANGE_START, RANGE_END };
static const struct npgw_doc_field range1_fields[] = {
	[RANGE_PROTOCOL] = {.key = "protocol"},
	[RANGE_START] = {.key = "start", .required = true},
	[RANGE_END] = {.key = "end", .required = true},
};
static const struct npgw_doc_fields range1_table = {"portRange has", range1_fields,
						     NPGW_ARRAY_SIZE(range1_fields), NULL, NULL};
static const struct npgw_doc_field number1_fields[] = {
	{.key = "protocol"},
	{.key = "port", .required = true},
};
static const struct npgw_doc_fields number1_table = {"portNumber has", number1_fields,
						      NPGW_ARRAY_SIZE(number1_fields), NULL, NULL};

enum { P1_NUMBER, P1_NAMED, P1_RANGE };
static const struct npgw_doc_field port1_fields[] = {
	[P1_NUMBER] = {.key = "portNumber"},
	[P1_NAMED] = {.key = "namedPort"},
	[P1_RANGE] = {.key = "portRange"},
};
static const struct npgw_doc_fields port1_table = {"a port has", port1_fields,
						    NPGW_ARRAY_SIZE(port1_fields), "or",
						    "(exactly one)"};

/* A v1alpha1 port. */
static void port_v1alpha1(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
			  struct npgw_k8s_rule *r, size_t *cap, bool *named)
{
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(port1_fields)], *g[3];
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX];
	struct npgw_k8s_port *pt;

	if (!npgw_doc_read_fields(&x->rd, x, n, path, &port1_table, NULL, got) ||
	    !exactly_one(x, n, path, got, NPGW_ARRAY_SIZE(got),
			 "portNumber, namedPort or portRange"))
		return;
	if (got[P1_NAMED] != NULL) {
		*named = true;
		named_port(x, got[P1_NAMED], npgw_doc_path(p, path, "namedPort"), r, cap);
		return;
	}
	if ((pt = new_port(x, r, cap)) == NULL)
		return;
	pt->protocol = NPGW_PROTO_TCP;
	if (got[P1_NUMBER] != NULL) {
		npgw_doc_path(p, path, "portNumber");
		if (!npgw_doc_read_fields(&x->rd, x, got[P1_NUMBER], p, &number1_table, NULL, g))
			return;
		if (g[0] != NULL)
			k8s_get_proto(x, g[0], npgw_doc_path(q, p, "protocol"), &pt->protocol);
		if (g[1] != NULL)
			pt->has_port = k8s_get_port(x, g[1], npgw_doc_path(q, p, "port"), &pt->port);
		return;
	}
	npgw_doc_path(p, path, "portRange");
	if (!npgw_doc_read_fields(&x->rd, x, got[P1_RANGE], p, &range1_table, NULL, g))
		return;
	if (g[RANGE_PROTOCOL] != NULL)
		k8s_get_proto(x, g[RANGE_PROTOCOL], npgw_doc_path(q, p, "protocol"), &pt->protocol);
	if (g[RANGE_START] != NULL && g[RANGE_END] != NULL)
		port_range(x, g[RANGE_START], g[RANGE_END], got[P1_RANGE], p, false, pt);
}

static const struct npgw_doc_field range2_fields[] = {
	{.key = "start", .required = true},
	{.key = "end", .required = true},
};
static const struct npgw_doc_fields range2_table = {"range has", range2_fields,
						     NPGW_ARRAY_SIZE(range2_fields), NULL, NULL};
static const struct npgw_doc_field dport_fields[] = {{.key = "number"}, {.key = "range"}};
static const struct npgw_doc_fields dport_table = {"destinationPort has", dport_fields,
						    NPGW_ARRAY_SIZE(dport_fields), "or",
						    "(exactly one)"};
static const struct npgw_doc_field l4_fields[] = {{.key = "destinationPort"}};
static const struct npgw_doc_fields l4_table = {"a protocol match has", l4_fields,
						 NPGW_ARRAY_SIZE(l4_fields), NULL, NULL};

enum { P2_TCP, P2_UDP, P2_SCTP, P2_NAMED };
static const struct npgw_doc_field proto2_fields[] = {
	[P2_TCP] = {.key = "tcp"},
	[P2_UDP] = {.key = "udp"},
	[P2_SCTP] = {.key = "sctp"},
	[P2_NAMED] = {.key = "destinationNamedPort"},
};
static const struct npgw_doc_fields proto2_table = {"a protocol has", proto2_fields,
						     NPGW_ARRAY_SIZE(proto2_fields), "or",
						     "(exactly one)"};

/* A v1alpha2 protocol. */
static void protocol_v1alpha2(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
			      struct npgw_k8s_rule *r, size_t *cap, bool *named)
{
	static const uint8_t protos[] = {NPGW_PROTO_TCP, NPGW_PROTO_UDP, NPGW_PROTO_SCTP};
	static const char *const keys[] = {"tcp", "udp", "sctp"};
	const struct npgw_doc_node *got[NPGW_ARRAY_SIZE(proto2_fields)], *l4[1], *dp[2], *rg[2];
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX], s[NPGW_DOC_PATH_MAX];
	struct npgw_k8s_port *pt;
	size_t k;

	if (!npgw_doc_read_fields(&x->rd, x, n, path, &proto2_table, NULL, got) ||
	    !exactly_one(x, n, path, got, NPGW_ARRAY_SIZE(got),
			 "tcp, udp, sctp or destinationNamedPort"))
		return;
	if (got[P2_NAMED] != NULL) {
		*named = true;
		named_port(x, got[P2_NAMED], npgw_doc_path(p, path, "destinationNamedPort"), r, cap);
		return;
	}
	for (k = 0; got[k] == NULL; k++)
		;
	npgw_doc_path(p, path, keys[k]);
	if (!npgw_doc_read_fields(&x->rd, x, got[k], p, &l4_table, NULL, l4))
		return;
	if (l4[0] == NULL) {
		npgw_doc_err(&x->rd, got[k], p, "%s needs destinationPort", keys[k]);
		return;
	}
	if ((pt = new_port(x, r, cap)) == NULL)
		return;
	pt->protocol = protos[k];
	npgw_doc_path(q, p, "destinationPort");
	if (!npgw_doc_read_fields(&x->rd, x, l4[0], q, &dport_table, NULL, dp) ||
	    !exactly_one(x, l4[0], q, dp, 2, "number or range"))
		return;
	if (dp[0] != NULL) {
		pt->has_port = k8s_get_port(x, dp[0], npgw_doc_path(s, q, "number"), &pt->port);
		return;
	}
	npgw_doc_path(s, q, "range");
	if (npgw_doc_read_fields(&x->rd, x, dp[1], s, &range2_table, NULL, rg) && rg[0] != NULL &&
	    rg[1] != NULL)
		port_range(x, rg[0], rg[1], dp[1], s, true, pt);
}

/* ---- rules ---- */

/* A list with min..max items, or an error. */
static bool list_of(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		    size_t min, size_t max)
{
	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return false;
	if (n->n < min || n->n > max) {
		npgw_doc_err(&x->rd, n, path, "needs %zu to %zu items, not %zu", min, max, n->n);
		return false;
	}
	return true;
}

static bool action(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		   const struct tier_api *api, uint8_t *out)
{
	const char *allow = api->v1alpha2 ? "Accept" : "Allow";
	bool pass = api->kind != NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY;

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_STR, path))
		return false;
	if (strcmp(n->text, allow) == 0)
		*out = NPGW_K8S_ACTION_ALLOW;
	else if (strcmp(n->text, "Deny") == 0)
		*out = NPGW_K8S_ACTION_DENY;
	else if (pass && strcmp(n->text, "Pass") == 0)
		*out = NPGW_K8S_ACTION_PASS;
	else {
		npgw_doc_err(&x->rd, n, path, "unknown action \"%.64s\" (%s, Deny%s)", n->text,
			     allow, pass ? " or Pass" : "");
		return false;
	}
	return true;
}

enum { RULE_NAME, RULE_ACTION, RULE_PEERS, RULE_PORTS };
static const struct npgw_doc_field rule_fields[2][2][4] = {
	/* [v1alpha2][ingress] */
	{{{.key = "name"}, {.key = "action", .required = true}, {.key = "to", .required = true},
	  {.key = "ports"}},
	 {{.key = "name"}, {.key = "action", .required = true}, {.key = "from", .required = true},
	  {.key = "ports"}}},
	{{{.key = "name"}, {.key = "action", .required = true}, {.key = "to", .required = true},
	  {.key = "protocols"}},
	 {{.key = "name"}, {.key = "action", .required = true}, {.key = "from", .required = true},
	  {.key = "protocols"}}},
};
static const char *const rule_what[2] = {"an egress rule has", "an ingress rule has"};

static void tier_rule(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		      bool ingress, const struct tier_api *api, struct npgw_k8s_rule *r)
{
	const struct npgw_doc_fields t = {rule_what[ingress], rule_fields[api->v1alpha2][ingress],
					   4, NULL, NULL};
	const struct npgw_doc_node *got[4];
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX];
	size_t peer_cap = 0, port_cap = 0;
	bool addr_peer = false, named = false;

	r->line = n->line;
	r->col = n->col;
	if (n->type == NPGW_DOC_NULL) {
		npgw_doc_err(&x->rd, n, path, "a rule is null");
		return;
	}
	if (!npgw_doc_read_fields(&x->rd, x, n, path, &t, NULL, got))
		return;
	if (got[RULE_NAME] != NULL) {
		npgw_doc_path(p, path, "name");
		if (npgw_doc_get_str(&x->rd, got[RULE_NAME], p, &r->name) && strlen(r->name) > 100)
			npgw_doc_err(&x->rd, got[RULE_NAME], p,
				     "a rule name is at most 100 characters, not %zu",
				     strlen(r->name));
	}
	if (got[RULE_ACTION] != NULL)
		action(x, got[RULE_ACTION], npgw_doc_path(p, path, "action"), api, &r->action);
	npgw_doc_path(p, path, ingress ? "from" : "to");
	if (got[RULE_PEERS] != NULL && list_of(x, got[RULE_PEERS], p, 1, api->max_peers))
		for (size_t i = 0; i < got[RULE_PEERS]->n; i++)
			tier_peer(x, &got[RULE_PEERS]->kids[i], npgw_doc_path_index(q, p, i),
				  ingress, r, &peer_cap, &addr_peer);
	npgw_doc_path(p, path, api->v1alpha2 ? "protocols" : "ports");
	if (got[RULE_PORTS] != NULL && list_of(x, got[RULE_PORTS], p, 1, api->max_ports))
		for (size_t i = 0; i < got[RULE_PORTS]->n; i++) {
			npgw_doc_path_index(q, p, i);
			if (api->v1alpha2)
				protocol_v1alpha2(x, &got[RULE_PORTS]->kids[i], q, r, &port_cap,
						  &named);
			else
				port_v1alpha1(x, &got[RULE_PORTS]->kids[i], q, r, &port_cap, &named);
		}
	if (!ingress && addr_peer && named)
		npgw_doc_err(&x->rd, n, path,
			     "networks and nodes peers cannot be used with a named port: they have "
			     "no named ports");
}

static void tier_rules(struct k8s_ctx *x, const struct npgw_doc_node *n, const char *path,
		       bool ingress, const struct tier_api *api, struct npgw_k8s_rule **out,
		       size_t *n_out)
{
	char p[NPGW_DOC_PATH_MAX];

	if (!npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, path))
		return;
	if (n->n > api->max_rules) {
		npgw_doc_err(&x->rd, n, path, "at most %zu rules, not %zu", api->max_rules, n->n);
		return;
	}
	*out = calloc(n->n ? n->n : 1, sizeof(**out));
	if (*out == NULL)
		return nomem(x);
	*n_out = n->n;
	for (size_t i = 0; i < n->n; i++)
		tier_rule(x, &n->kids[i], npgw_doc_path_index(p, path, i), ingress, api,
			  &(*out)[i]);
}

/* ---- the objects ---- */

enum { SPEC_TIER, SPEC_PRIORITY, SPEC_SUBJECT, SPEC_INGRESS, SPEC_EGRESS };
static const struct npgw_doc_field spec_fields[] = {
	[SPEC_TIER] = {.key = "tier", .required = true},
	[SPEC_PRIORITY] = {.key = "priority", .required = true},
	[SPEC_SUBJECT] = {.key = "subject", .required = true},
	[SPEC_INGRESS] = {.key = "ingress"},
	[SPEC_EGRESS] = {.key = "egress"},
};
/* the spec tables of the kinds: CNP all, ANP from priority, BANP from subject */
static const struct npgw_doc_fields spec_tables[] = {
	[NPGW_K8S_ADMIN_NETWORK_POLICY] = {"an AdminNetworkPolicy spec has", spec_fields + 1, 4,
					   NULL, NULL},
	[NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY] = {"a BaselineAdminNetworkPolicy spec has",
						    spec_fields + 2, 3, NULL, NULL},
	[NPGW_K8S_CLUSTER_NETWORK_POLICY] = {"a ClusterNetworkPolicy spec has", spec_fields, 5,
					     NULL, NULL},
};

struct npgw_k8s_policy *k8s_tier_policy(struct k8s_ctx *x, const struct npgw_doc_node *root,
					const char *prefix, unsigned int kind)
{
	const struct tier_api api = {
		.kind = kind,
		.v1alpha2 = kind == NPGW_K8S_CLUSTER_NETWORK_POLICY,
		.max_rules = kind == NPGW_K8S_CLUSTER_NETWORK_POLICY ? 25 : 100,
		.max_peers = kind == NPGW_K8S_CLUSTER_NETWORK_POLICY ? 25 : 100,
		.max_ports = kind == NPGW_K8S_CLUSTER_NETWORK_POLICY ? 25 : 100,
	};
	const struct npgw_doc_fields *t = &spec_tables[kind];
	const struct npgw_doc_node *got[5] = {NULL}, *spec, **g;
	struct npgw_k8s_policy *pol = calloc(1, sizeof(*pol));
	char sp[NPGW_DOC_PATH_MAX], p[NPGW_DOC_PATH_MAX];
	const char *ns = kind == NPGW_K8S_ADMIN_NETWORK_POLICY		  ? NPGW_K8S_NS_ANP
			 : kind == NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY ? NPGW_K8S_NS_BANP
									  : NPGW_K8S_NS_CNP;

	if (pol == NULL) {
		nomem(x);
		return NULL;
	}
	pol->kind = (uint8_t)kind;
	pol->tier = kind == NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY ? NPGW_K8S_TIER_BASELINE
								   : NPGW_K8S_TIER_ADMIN;
	pol->priority = kind == NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY ? NPGW_K8S_BANP_PRIORITY : 0;
	if ((pol->namespace = strdup(ns)) == NULL)
		nomem(x);
	k8s_set_origin(x, &pol->origin, root);
	if (k8s_get_cluster_meta(x, root, prefix, npgw_k8s_policy_kind_name(pol), &pol->name) &&
	    kind == NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY && strcmp(pol->name, "default") != 0)
		npgw_doc_err(&x->rd, npgw_doc_get(npgw_doc_get(root, "metadata"), "name"),
			     npgw_doc_path(p, prefix, "metadata.name"),
			     "a BaselineAdminNetworkPolicy must be named \"default\" (there is only "
			     "one in a cluster), not \"%s\"",
			     pol->name);
	npgw_doc_path(sp, prefix, "spec");
	spec = npgw_doc_get(root, "spec");
	if (spec == NULL) {
		npgw_doc_err(&x->rd, root, sp, "missing required field");
		return pol;
	}
	/* got[] is indexed as spec_fields; the table starts part way in it */
	g = got + (t->v - spec_fields);
	if (!npgw_doc_read_fields(&x->rd, x, spec, sp, t, NULL, g))
		return pol;
	if (got[SPEC_TIER] != NULL) {
		npgw_doc_path(p, sp, "tier");
		if (npgw_doc_want(&x->rd, got[SPEC_TIER], NPGW_DOC_STR, p)) {
			if (strcmp(got[SPEC_TIER]->text, "Admin") == 0)
				pol->tier = NPGW_K8S_TIER_ADMIN;
			else if (strcmp(got[SPEC_TIER]->text, "Baseline") == 0)
				pol->tier = NPGW_K8S_TIER_BASELINE;
			else
				npgw_doc_err(&x->rd, got[SPEC_TIER], p,
					     "unknown tier \"%.64s\" (Admin or Baseline)",
					     got[SPEC_TIER]->text);
		}
	}
	if (got[SPEC_PRIORITY] != NULL) {
		int64_t v;

		npgw_doc_path(p, sp, "priority");
		if (npgw_doc_get_int(&x->rd, got[SPEC_PRIORITY], p, &v)) {
			if (v < 0 || v > 1000)
				npgw_doc_err(&x->rd, got[SPEC_PRIORITY], p,
					     "%lld is outside 0..1000", (long long)v);
			else
				pol->priority = (uint16_t)v;
		}
	}
	if (got[SPEC_SUBJECT] != NULL)
		subject(x, got[SPEC_SUBJECT], npgw_doc_path(p, sp, "subject"), pol);
	if (got[SPEC_INGRESS] != NULL)
		tier_rules(x, got[SPEC_INGRESS], npgw_doc_path(p, sp, "ingress"), true, &api,
			   &pol->ingress, &pol->n_ingress);
	if (got[SPEC_EGRESS] != NULL)
		tier_rules(x, got[SPEC_EGRESS], npgw_doc_path(p, sp, "egress"), false, &api,
			   &pol->egress, &pol->n_egress);
	return pol;
}

/* ---- Node ---- */

struct npgw_k8s_pod *k8s_node(struct k8s_ctx *x, const struct npgw_doc_node *root,
			      const char *prefix)
{
	struct npgw_k8s_pod *node = calloc(1, sizeof(*node));
	const struct npgw_doc_node *m, *n, *st;
	char p[NPGW_DOC_PATH_MAX], q[NPGW_DOC_PATH_MAX], r[NPGW_DOC_PATH_MAX];

	if (node == NULL) {
		nomem(x);
		return NULL;
	}
	node->host_network = true;
	if ((node->namespace = strdup(NPGW_K8S_NS_NODE)) == NULL)
		nomem(x);
	k8s_set_origin(x, &node->origin, root);
	if (!k8s_get_cluster_meta(x, root, prefix, "Node", &node->name))
		return node;
	m = npgw_doc_get(root, "metadata");
	if ((n = npgw_doc_get(m, "labels")) != NULL)
		k8s_get_labels(x, n, npgw_doc_path(p, prefix, "metadata.labels"), &node->labels);
	if ((st = npgw_doc_get(root, "status")) == NULL ||
	    !npgw_doc_want(&x->rd, st, NPGW_DOC_MAP, npgw_doc_path(p, prefix, "status")))
		return node;
	if ((n = npgw_doc_get(st, "addresses")) == NULL ||
	    !npgw_doc_want(&x->rd, n, NPGW_DOC_SEQ, npgw_doc_path(p, prefix, "status.addresses")))
		return node;
	for (size_t i = 0; i < n->n; i++) {
		const struct npgw_doc_node *e = &n->kids[i], *type, *addr;
		struct npgw_addr a, *v;
		bool dup = false;

		npgw_doc_path_index(q, p, i);
		if (!npgw_doc_want(&x->rd, e, NPGW_DOC_MAP, q))
			continue;
		/* Hostname, InternalDNS, ExternalDNS are names, not addresses */
		type = npgw_doc_get(e, "type");
		if (type == NULL || type->type != NPGW_DOC_STR ||
		    (strcmp(type->text, "InternalIP") != 0 && strcmp(type->text, "ExternalIP") != 0))
			continue;
		npgw_doc_path(r, q, "address");
		if ((addr = npgw_doc_get(e, "address")) == NULL) {
			npgw_doc_err(&x->rd, e, r, "missing required field");
			continue;
		}
		if (!npgw_doc_want(&x->rd, addr, NPGW_DOC_STR, r))
			continue;
		if (npgw_addr_parse(addr->text, &a) < 0) {
			npgw_doc_err(&x->rd, addr, r, "\"%.64s\" is not an IPv4 or IPv6 address",
				     addr->text);
			continue;
		}
		for (size_t k = 0; k < node->n_addrs; k++)
			dup |= npgw_addr_cmp(&node->addrs[k], &a) == 0;
		if (dup)
			continue;
		v = realloc(node->addrs, (node->n_addrs + 1) * sizeof(*v));
		if (v == NULL)
			return nomem(x), node;
		node->addrs = v;
		v[node->n_addrs++] = a;
	}
	return node;
}
