/*
 * ref_gen.c: seeded generators of cluster models and queries.
 *
 * Random mode (differential tests) draws from small vocabularies so that
 * selectors hit: a few label keys and values, a few namespaces (some without
 * a Namespace object), addresses from 10.0.0.0/22 and fd00::/118 so that
 * ipBlocks contain pods, and a few port numbers and names. Every feature of
 * the model appears: see ref_gen_random.
 *
 * Realistic mode (benchmarks) builds namespaces of Deployments and the
 * policies people write for them: see ref_gen_realistic.
 *
 * The PRNG is splitmix64, so a seed names the same cluster on every machine.
 */
#include <stdlib.h>
#include <string.h>

#include "ref.h"

uint64_t ref_rng_next(struct ref_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t ref_rng_below(struct ref_rng *r, uint32_t n)
{
	return (uint32_t)(((ref_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

bool ref_rng_pct(struct ref_rng *r, uint32_t pct)
{
	return ref_rng_below(r, 100) < pct;
}

#define PICK(rng, arr) ((arr)[ref_rng_below((rng), NPGW_ARRAY_SIZE(arr))])

/* ---- vocabularies of the random mode ---- */

static const char *const ns_names[] = {"alpha", "beta", "gamma", "delta"};

struct vocab {
	const char *key;
	const char *values[3];
};

static const struct vocab pod_vocab[] = {
	{"app", {"web", "api", "db"}},
	{"tier", {"front", "back", "front"}},
	{"role", {"a", "b", "c"}},
	{"env", {"prod", "dev", "prod"}},
};

static const struct vocab ns_vocab[] = {
	{"env", {"prod", "dev", "test"}},
	{"team", {"red", "blue", "red"}},
};

static const char *const port_names[] = {"http", "metrics", "dns", "grpc"};
static const uint16_t port_pool[] = {53, 80, 443, 8080, 9090, 5000, 5001, 5010, 1, 65535};
static const uint8_t l4_protos[] = {NPGW_PROTO_TCP, NPGW_PROTO_TCP, NPGW_PROTO_TCP,
				    NPGW_PROTO_UDP, NPGW_PROTO_UDP, NPGW_PROTO_SCTP};

static char *fmt_name(const char *prefix, unsigned int i)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s%u", prefix, i);
	return ref_xstrdup(buf);
}

static void labels_add(struct npgw_k8s_labels *l, const char *key, const char *value)
{
	l->v = ref_xrealloc(l->v, (l->n + 1) * sizeof(l->v[0]));
	l->v[l->n].key = ref_xstrdup(key);
	l->v[l->n].value = ref_xstrdup(value);
	l->n++;
}

static void random_labels(struct ref_rng *rng, const struct vocab *v, size_t nv, uint32_t pct,
			  struct npgw_k8s_labels *out)
{
	for (size_t i = 0; i < nv; i++)
		if (ref_rng_pct(rng, pct))
			labels_add(out, v[i].key, v[i].values[ref_rng_below(rng, 3)]);
}

/* One matchExpression over vocabulary v, every operator. */
static void random_expr(struct ref_rng *rng, const struct vocab *v, size_t nv,
			struct npgw_k8s_expr *e)
{
	const struct vocab *k = &v[ref_rng_below(rng, (uint32_t)nv)];

	memset(e, 0, sizeof(*e));
	/* now and then a key nobody carries */
	e->key = ref_xstrdup(ref_rng_pct(rng, 8) ? "nokey" : k->key);
	e->op = (enum npgw_k8s_sel_op)ref_rng_below(rng, 4);
	if (e->op == NPGW_K8S_OP_IN || e->op == NPGW_K8S_OP_NOT_IN) {
		uint32_t n = 1 + ref_rng_below(rng, 2);

		e->values = ref_xcalloc(3, sizeof(char *));
		for (uint32_t i = 0; i < n; i++) {
			const char *val = ref_rng_pct(rng, 10) ? "zzz" : k->values[ref_rng_below(rng, 3)];
			bool dup = false;

			for (size_t j = 0; j < e->n_values; j++)
				dup |= strcmp(e->values[j], val) == 0;
			if (!dup)
				e->values[e->n_values++] = ref_xstrdup(val);
		}
	}
}

/* A selector: empty with probability empty_pct, else 1-3 terms, each a
 * matchLabels entry or a matchExpression. */
static void random_selector(struct ref_rng *rng, const struct vocab *v, size_t nv,
			    uint32_t empty_pct, struct npgw_k8s_selector *s)
{
	uint32_t n_terms;

	memset(s, 0, sizeof(*s));
	if (ref_rng_pct(rng, empty_pct))
		return;
	n_terms = 1 + ref_rng_pct(rng, 30) + ref_rng_pct(rng, 10);
	s->exprs = ref_xcalloc(n_terms, sizeof(s->exprs[0]));
	for (uint32_t i = 0; i < n_terms; i++) {
		const struct vocab *k = &v[ref_rng_below(rng, (uint32_t)nv)];
		bool dup = false;

		if (ref_rng_pct(rng, 50)) {
			random_expr(rng, v, nv, &s->exprs[s->n_exprs++]);
			continue;
		}
		for (size_t j = 0; j < s->match_labels.n; j++)
			dup |= strcmp(s->match_labels.v[j].key, k->key) == 0;
		if (!dup)
			labels_add(&s->match_labels, k->key, k->values[ref_rng_below(rng, 3)]);
	}
	if (s->n_exprs == 0) {
		free(s->exprs);
		s->exprs = NULL;
	}
}

/* ---- addresses ---- */

/* An address of a pod of c (of a policy-target pod when targets_only). */
static bool addr_used(const struct npgw_k8s_cluster *c, const struct npgw_addr *a,
		      bool targets_only)
{
	for (size_t i = 0; i < c->n_pods; i++) {
		if (targets_only && !ref_pod_is_target(c->pods[i]))
			continue;
		for (size_t j = 0; j < c->pods[i]->n_addrs; j++)
			if (npgw_addr_cmp(&c->pods[i]->addrs[j], a) == 0)
				return true;
	}
	return false;
}

/* An address of family fam some pod of c already has (targets or not). */
static bool existing_addr(const struct npgw_k8s_cluster *c, struct ref_rng *rng, int fam,
			  bool non_targets_only, struct npgw_addr *out)
{
	for (int tries = 0; tries < 8 && c->n_pods > 0; tries++) {
		const struct npgw_k8s_pod *p = c->pods[ref_rng_below(rng, (uint32_t)c->n_pods)];

		if (non_targets_only && ref_pod_is_target(p))
			continue;
		for (size_t i = 0; i < p->n_addrs; i++) {
			if (p->addrs[i].family == fam) {
				*out = p->addrs[i];
				return true;
			}
		}
	}
	return false;
}

static void addr4(struct npgw_addr *a, uint32_t v)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->bytes[0] = (uint8_t)(v >> 24);
	a->bytes[1] = (uint8_t)(v >> 16);
	a->bytes[2] = (uint8_t)(v >> 8);
	a->bytes[3] = (uint8_t)v;
}

/* fd00::<v> (v in the low 64 bits). */
static void addr6(struct npgw_addr *a, uint64_t v)
{
	memset(a, 0, sizeof(*a));
	a->family = 6;
	a->bytes[0] = 0xfd;
	for (int i = 0; i < 8; i++)
		a->bytes[15 - i] = (uint8_t)(v >> (8 * i));
}

/* A random address of the pods' small ranges: 10.0.0.0/22, fd00::/118. */
static void random_pod_range_addr(struct ref_rng *rng, uint8_t family, struct npgw_addr *a)
{
	if (family == 4)
		addr4(a, 0x0a000000u | ref_rng_below(rng, 1024));
	else
		addr6(a, ref_rng_below(rng, 1024));
}

static void random_any_addr(struct ref_rng *rng, uint8_t family, struct npgw_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	for (size_t i = 0; i < npgw_addr_len(family); i++)
		a->bytes[i] = (uint8_t)ref_rng_below(rng, 256);
}

static void clear_host_bits(struct npgw_prefix *p)
{
	for (unsigned int i = p->len; i < npgw_addr_len(p->addr.family) * 8; i++)
		p->addr.bytes[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

static void set_host_bits(struct npgw_addr *a, uint8_t len)
{
	for (unsigned int i = len; i < npgw_addr_len(a->family) * 8; i++)
		a->bytes[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

/* a += delta (+1 or -1), wrapping. */
static void addr_step(struct npgw_addr *a, int delta)
{
	for (int i = (int)npgw_addr_len(a->family) - 1; i >= 0; i--) {
		if (delta > 0) {
			if (++a->bytes[i] != 0)
				return;
		} else {
			if (a->bytes[i]-- != 0)
				return;
		}
	}
}

/* ---- random mode ---- */

static void gen_pod(struct npgw_k8s_cluster *c, struct ref_rng *rng, const char *ns,
		    unsigned int idx)
{
	struct npgw_k8s_pod *p = ref_xcalloc(1, sizeof(*p));
	uint32_t r = ref_rng_below(rng, 100);
	bool v4, v6;
	uint32_t n_ports;

	p->namespace = ref_xstrdup(ns);
	p->name = fmt_name("pod-", idx);
	random_labels(rng, pod_vocab, NPGW_ARRAY_SIZE(pod_vocab), 60, &p->labels);
	p->host_network = ref_rng_pct(rng, 8);
	r = ref_rng_below(rng, 100);
	p->phase = r < 84 ? ref_xstrdup("Running")
		 : r < 89 ? ref_xstrdup("Succeeded")
		 : r < 92 ? ref_xstrdup("Failed")
		 : r < 97 ? ref_xstrdup("Pending")
			  : NULL;
	r = ref_rng_below(rng, 100);
	v4 = r >= 5 && r < 80;
	v6 = r >= 45;
	p->addrs = ref_xcalloc(2, sizeof(p->addrs[0]));
	for (int fam = 4; fam <= 6; fam += 2) {
		struct npgw_addr a;

		if ((fam == 4 && !v4) || (fam == 6 && !v6))
			continue;
		/* Addresses are unique among policy targets, but a hostNetwork
		 * pod shares its node's address and a finished pod may have
		 * handed its address on: the validator accepts both, so make
		 * them happen. */
		if (!ref_pod_is_target(p) && ref_rng_pct(rng, 40) &&
		    existing_addr(c, rng, fam, false, &a)) {
			p->addrs[p->n_addrs++] = a;
			continue;
		}
		if (ref_pod_is_target(p) && ref_rng_pct(rng, 15) &&
		    existing_addr(c, rng, fam, true, &a) && !addr_used(c, &a, true)) {
			p->addrs[p->n_addrs++] = a;
			continue;
		}
		do
			random_pod_range_addr(rng, (uint8_t)fam, &a);
		while (addr_used(c, &a, false));
		p->addrs[p->n_addrs++] = a;
	}
	n_ports = ref_rng_below(rng, 4);
	p->ports = ref_xcalloc(n_ports, sizeof(p->ports[0]));
	for (uint32_t i = 0; i < n_ports; i++) {
		struct npgw_k8s_container_port *cp = &p->ports[p->n_ports];
		const char *name = ref_rng_pct(rng, 70) ? PICK(rng, port_names) : NULL;

		cp->protocol = PICK(rng, l4_protos);
		cp->port = ref_rng_pct(rng, 80) ? PICK(rng, port_pool)
						: (uint16_t)(1 + ref_rng_below(rng, 65535));
		/* A name is unique within a container, and mostly within a pod;
		 * but two containers may both name a port "http" (the loader
		 * warns that a policy naming it matches both): keep a few. */
		for (size_t j = 0; name && j < p->n_ports; j++)
			if (p->ports[j].name && strcmp(p->ports[j].name, name) == 0 &&
			    p->ports[j].protocol == cp->protocol && !ref_rng_pct(rng, 15))
				name = NULL;
		cp->name = name ? ref_xstrdup(name) : NULL;
		p->n_ports++;
	}
	c->pods = ref_xrealloc(c->pods, (c->n_pods + 1) * sizeof(p));
	c->pods[c->n_pods++] = p;
}

/* A prefix for an ipBlock: around a pod address or in the pods' ranges,
 * with lengths at the interesting boundaries (/0, /max, the ranges'). */
static void random_cidr(const struct npgw_k8s_cluster *c, struct ref_rng *rng, uint8_t family,
			struct npgw_prefix *p)
{
	static const uint8_t len4[] = {0, 8, 16, 20, 22, 23, 24, 25, 26, 28, 30, 31, 32, 32};
	static const uint8_t len6[] = {0, 64, 112, 116, 118, 119, 120, 122, 124, 126, 127, 128, 128};
	uint32_t r = ref_rng_below(rng, 100);
	bool found = false;

	memset(p, 0, sizeof(*p));
	if (r < 55 && c->n_pods > 0) {
		for (int tries = 0; tries < 8 && !found; tries++) {
			const struct npgw_k8s_pod *pod = c->pods[ref_rng_below(rng, (uint32_t)c->n_pods)];

			for (size_t i = 0; i < pod->n_addrs && !found; i++) {
				if (pod->addrs[i].family == family) {
					p->addr = pod->addrs[i];
					found = true;
				}
			}
		}
	}
	if (!found) {
		if (r < 92)
			random_pod_range_addr(rng, family, &p->addr);
		else
			random_any_addr(rng, family, &p->addr);
	}
	p->len = family == 4 ? PICK(rng, len4) : PICK(rng, len6);
	clear_host_bits(p);
}

static void gen_ipblock(const struct npgw_k8s_cluster *c, struct ref_rng *rng,
			struct npgw_k8s_peer *peer)
{
	uint8_t family = ref_rng_pct(rng, 60) ? 4 : 6;
	uint8_t max = family == 4 ? 32 : 128;
	uint32_t n_ex = ref_rng_below(rng, 4);

	peer->has_ip_block = true;
	random_cidr(c, rng, family, &peer->cidr);
	if (peer->cidr.len == max)
		n_ex = 0; /* an except must be strictly inside */
	peer->except = ref_xcalloc(n_ex, sizeof(peer->except[0]));
	for (uint32_t i = 0; i < n_ex; i++) {
		struct npgw_prefix e;
		bool dup = false;
		uint32_t span = max - peer->cidr.len;

		/* inside cidr, longer; often near the pods so that it bites */
		do
			random_cidr(c, rng, family, &e);
		while (ref_rng_pct(rng, 50) && !ref_addr_in_prefix(&peer->cidr, &e.addr));
		for (unsigned int b = 0; b < peer->cidr.len; b++) {
			uint8_t m = (uint8_t)(0x80u >> (b % 8));

			e.addr.bytes[b / 8] = (uint8_t)((e.addr.bytes[b / 8] & ~m) |
							(peer->cidr.addr.bytes[b / 8] & m));
		}
		if (e.len <= peer->cidr.len)
			e.len = (uint8_t)(peer->cidr.len + 1 +
					  (span > 1 && ref_rng_pct(rng, 50)
						   ? ref_rng_below(rng, span)
						   : 0));
		if (e.len > max)
			e.len = max;
		clear_host_bits(&e);
		for (size_t j = 0; j < peer->n_except; j++)
			dup |= npgw_prefix_cmp(&peer->except[j], &e) == 0;
		if (!dup)
			peer->except[peer->n_except++] = e;
	}
}

static void gen_peer(const struct npgw_k8s_cluster *c, struct ref_rng *rng,
		     struct npgw_k8s_peer *peer)
{
	uint32_t r = ref_rng_below(rng, 100);

	memset(peer, 0, sizeof(*peer));
	if (r < 35) {
		gen_ipblock(c, rng, peer);
		return;
	}
	/* 35-59: pod only; 60-79: namespace only; 80-99: both */
	if (r < 60 || r >= 80) {
		peer->has_pod_selector = true;
		random_selector(rng, pod_vocab, NPGW_ARRAY_SIZE(pod_vocab), 25, &peer->pod_selector);
	}
	if (r >= 60) {
		peer->has_ns_selector = true;
		if (ref_rng_pct(rng, 25)) {
			memset(&peer->ns_selector, 0, sizeof(peer->ns_selector));
			labels_add(&peer->ns_selector.match_labels, NPGW_K8S_NS_NAME_LABEL,
				   PICK(rng, ns_names));
		} else {
			random_selector(rng, ns_vocab, NPGW_ARRAY_SIZE(ns_vocab), 30,
					&peer->ns_selector);
		}
	}
}

static void gen_port(struct ref_rng *rng, struct npgw_k8s_port *pt)
{
	uint32_t r = ref_rng_below(rng, 100);

	memset(pt, 0, sizeof(*pt));
	pt->protocol = PICK(rng, l4_protos);
	if (r < 15)
		return; /* every port of the protocol */
	pt->has_port = true;
	if (r < 45) {
		pt->name = ref_xstrdup(ref_rng_pct(rng, 10) ? "nope" : PICK(rng, port_names));
		return;
	}
	pt->port = ref_rng_pct(rng, 85) ? PICK(rng, port_pool) : (uint16_t)(1 + ref_rng_below(rng, 65535));
	if (r < 75) {
		static const uint32_t widths[] = {0, 1, 2, 10, 100, 1000, 20000, 65535};
		uint32_t end = pt->port + PICK(rng, widths);

		pt->end_port = (uint16_t)(end > 65535 ? 65535 : end);
	}
}

/* n rules, each with 0-3 peers and 0-3 ports (none more often). */
static struct npgw_k8s_rule *gen_rules(const struct npgw_k8s_cluster *c, struct ref_rng *rng,
				       size_t n)
{
	struct npgw_k8s_rule *r = ref_xcalloc(n, sizeof(*r));

	for (size_t i = 0; i < n; i++) {
		uint32_t n_peers = ref_rng_pct(rng, 25) ? 0 : 1 + ref_rng_below(rng, 3);
		uint32_t n_ports = ref_rng_pct(rng, 30) ? 0 : 1 + ref_rng_below(rng, 3);

		r[i].peers = n_peers ? ref_xcalloc(n_peers, sizeof(r[i].peers[0])) : NULL;
		for (uint32_t j = 0; j < n_peers; j++)
			gen_peer(c, rng, &r[i].peers[r[i].n_peers++]);
		r[i].ports = n_ports ? ref_xcalloc(n_ports, sizeof(r[i].ports[0])) : NULL;
		for (uint32_t j = 0; j < n_ports; j++)
			gen_port(rng, &r[i].ports[r[i].n_ports++]);
	}
	return r;
}

/* A direction's section: absent (NULL), empty list, or 1-3 rules. */
static void gen_section(const struct npgw_k8s_cluster *c, struct ref_rng *rng,
			uint32_t present_pct, struct npgw_k8s_rule **rules, size_t *n)
{
	*rules = NULL;
	*n = 0;
	if (!ref_rng_pct(rng, present_pct))
		return;
	if (ref_rng_pct(rng, 12)) {
		*rules = ref_xmalloc(sizeof(**rules)); /* present, empty */
		return;
	}
	*n = 1 + ref_rng_below(rng, 3);
	*rules = gen_rules(c, rng, *n);
}

static void gen_policy(struct npgw_k8s_cluster *c, struct ref_rng *rng, const char *ns,
		       unsigned int idx)
{
	struct npgw_k8s_policy *p = ref_xcalloc(1, sizeof(*p));
	uint32_t r;

	p->namespace = ref_xstrdup(ns);
	p->name = fmt_name("np-", idx);
	random_selector(rng, pod_vocab, NPGW_ARRAY_SIZE(pod_vocab), 30, &p->pod_selector);
	gen_section(c, rng, 75, &p->ingress, &p->n_ingress);
	gen_section(c, rng, 65, &p->egress, &p->n_egress);
	r = ref_rng_below(rng, 100);
	if (r < 45) {
		/* policyTypes omitted: the API server's inference */
		ref_policy_infer_types(p);
	} else if (r < 62) {
		p->isolates_ingress = true;
	} else if (r < 79) {
		p->isolates_egress = true;
	} else {
		p->isolates_ingress = true;
		p->isolates_egress = true;
	}
	c->policies = ref_xrealloc(c->policies, (c->n_policies + 1) * sizeof(p));
	c->policies[c->n_policies++] = p;
}

/* ---- the cluster-wide tiers ---- */

static const struct vocab node_vocab[] = {
	{"role", {"infra", "worker", "worker"}},
	{"zone", {"a", "b", "b"}},
};

static void gen_nodes(struct npgw_k8s_cluster *c, struct ref_rng *rng)
{
	uint32_t n = ref_rng_below(rng, 3);

	for (uint32_t i = 0; i < n; i++) {
		struct npgw_k8s_pod *p = ref_xcalloc(1, sizeof(*p));

		p->namespace = ref_xstrdup(NPGW_K8S_NS_NODE);
		p->name = fmt_name("node-", i);
		p->host_network = true;
		random_labels(rng, node_vocab, NPGW_ARRAY_SIZE(node_vocab), 70, &p->labels);
		p->addrs = ref_xcalloc(2, sizeof(*p->addrs));
		addr4(&p->addrs[p->n_addrs++], 0xc0a84d00u + 1 + i); /* 192.168.77.x */
		if (ref_rng_pct(rng, 50))
			addr6(&p->addrs[p->n_addrs++], 0x770000 + 1 + i);
		c->pods = ref_xrealloc(c->pods, (c->n_pods + 1) * sizeof(p));
		c->pods[c->n_pods++] = p;
	}
}

static void gen_tier_peer(const struct npgw_k8s_cluster *c, struct ref_rng *rng, bool egress,
			  struct npgw_k8s_peer *peer, bool *addr_peer)
{
	uint32_t r = ref_rng_below(rng, egress ? 100 : 60);

	memset(peer, 0, sizeof(*peer));
	if (r < 25) {
		peer->has_ns_selector = true;
		random_selector(rng, ns_vocab, NPGW_ARRAY_SIZE(ns_vocab), 40, &peer->ns_selector);
	} else if (r < 60) {
		peer->has_ns_selector = peer->has_pod_selector = true;
		random_selector(rng, ns_vocab, NPGW_ARRAY_SIZE(ns_vocab), 60, &peer->ns_selector);
		random_selector(rng, pod_vocab, NPGW_ARRAY_SIZE(pod_vocab), 30, &peer->pod_selector);
	} else if (r < 85) {
		/* networks: an ipBlock without except */
		gen_ipblock(c, rng, peer);
		free(peer->except);
		peer->except = NULL;
		peer->n_except = 0;
		*addr_peer = true;
	} else {
		peer->has_node_selector = true;
		random_selector(rng, node_vocab, NPGW_ARRAY_SIZE(node_vocab), 50,
				&peer->node_selector);
		*addr_peer = true;
	}
}

static void gen_tier_ports(struct ref_rng *rng, bool named_ok, struct npgw_k8s_rule *r)
{
	uint32_t n = ref_rng_pct(rng, 40) ? 0 : 1 + ref_rng_below(rng, 2);

	r->ports = ref_xcalloc(3 * n + 1, sizeof(*r->ports));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = ref_rng_below(rng, 100);

		if (k < 25 && named_ok) {
			static const uint8_t protos[] = {NPGW_PROTO_TCP, NPGW_PROTO_UDP,
							 NPGW_PROTO_SCTP};
			const char *name = PICK(rng, port_names);

			for (size_t j = 0; j < 3; j++) {
				struct npgw_k8s_port *pt = &r->ports[r->n_ports++];

				pt->protocol = protos[j];
				pt->has_port = true;
				pt->any_proto = true;
				pt->name = ref_xstrdup(name);
			}
			continue;
		}
		struct npgw_k8s_port *pt = &r->ports[r->n_ports++];

		pt->protocol = PICK(rng, l4_protos);
		pt->has_port = true;
		pt->port = PICK(rng, port_pool);
		if (k < 60 && pt->port < 65535)
			pt->end_port = (uint16_t)(pt->port + 1 + ref_rng_below(rng, 100) >= 65535
							  ? 65535
							  : pt->port + 1 + ref_rng_below(rng, 100));
	}
}

static void gen_tier_rules(const struct npgw_k8s_cluster *c, struct ref_rng *rng, bool egress,
			   bool pass_ok, struct npgw_k8s_rule **out, size_t *n_out)
{
	uint32_t n = ref_rng_pct(rng, 30) ? 0 : 1 + ref_rng_below(rng, 3);

	*out = n ? ref_xcalloc(n, sizeof(**out)) : NULL;
	*n_out = n;
	for (uint32_t i = 0; i < n; i++) {
		struct npgw_k8s_rule *r = &(*out)[i];
		uint32_t n_peers = 1 + ref_rng_below(rng, 2);
		bool addr_peer = false;

		r->action = (uint8_t)ref_rng_below(rng, pass_ok ? 3 : 2);
		if (ref_rng_pct(rng, 30))
			r->name = fmt_name("rule-", i);
		r->peers = ref_xcalloc(n_peers, sizeof(*r->peers));
		for (uint32_t j = 0; j < n_peers; j++)
			gen_tier_peer(c, rng, egress, &r->peers[r->n_peers++], &addr_peer);
		gen_tier_ports(rng, !(egress && addr_peer), r);
	}
}

/* 0-5 tier policies of every kind, priorities chosen to tie now and then,
 * and 0-2 Nodes. */
static void gen_tiers(struct npgw_k8s_cluster *c, struct ref_rng *rng)
{
	static const uint16_t prios[] = {0, 1, 5, 5, 10, 1000};
	uint32_t n = ref_rng_pct(rng, 30) ? 0 : 1 + ref_rng_below(rng, 5);
	bool banp = false;

	gen_nodes(c, rng);
	for (uint32_t i = 0; i < n; i++) {
		struct npgw_k8s_policy *p = ref_xcalloc(1, sizeof(*p));
		uint32_t k = ref_rng_below(rng, banp ? 3 : 4);

		p->kind = k == 0   ? NPGW_K8S_ADMIN_NETWORK_POLICY
			  : k == 3 ? NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY
				   : NPGW_K8S_CLUSTER_NETWORK_POLICY;
		p->tier = k == 0 || k == 1 ? NPGW_K8S_TIER_ADMIN : NPGW_K8S_TIER_BASELINE;
		p->priority = PICK(rng, prios);
		if (k == 3) {
			banp = true;
			p->namespace = ref_xstrdup(NPGW_K8S_NS_BANP);
			p->name = ref_xstrdup("default");
			p->priority = NPGW_K8S_BANP_PRIORITY;
		} else {
			p->namespace = ref_xstrdup(k == 0 ? NPGW_K8S_NS_ANP : NPGW_K8S_NS_CNP);
			p->name = fmt_name("tier-", i);
		}
		p->has_ns_selector = true;
		random_selector(rng, ns_vocab, NPGW_ARRAY_SIZE(ns_vocab), 50, &p->ns_selector);
		if (ref_rng_pct(rng, 40))
			random_selector(rng, pod_vocab, NPGW_ARRAY_SIZE(pod_vocab), 30,
					&p->pod_selector);
		gen_tier_rules(c, rng, false, k != 3, &p->ingress, &p->n_ingress);
		gen_tier_rules(c, rng, true, k != 3, &p->egress, &p->n_egress);
		c->policies = ref_xrealloc(c->policies, (c->n_policies + 1) * sizeof(p));
		c->policies[c->n_policies++] = p;
	}
}

struct npgw_k8s_cluster *ref_gen_random(uint64_t seed)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct ref_rng rng;
	uint32_t n_ns, n_pods, n_pol, size;

	ref_rng_seed(&rng, seed * 0x2545f4914f6cdd1dULL + 1);
	n_ns = 1 + ref_rng_below(&rng, NPGW_ARRAY_SIZE(ns_names));
	for (uint32_t i = 0; i < n_ns; i++) {
		struct npgw_k8s_namespace *n;

		if (ref_rng_pct(&rng, 25))
			continue; /* pods and policies, but no Namespace object */
		n = ref_xcalloc(1, sizeof(*n));
		n->name = ref_xstrdup(ns_names[i]);
		random_labels(&rng, ns_vocab, NPGW_ARRAY_SIZE(ns_vocab), 60, &n->labels);
		labels_add(&n->labels, NPGW_K8S_NS_NAME_LABEL, ns_names[i]);
		c->namespaces = ref_xrealloc(c->namespaces, (c->n_namespaces + 1) * sizeof(n));
		c->namespaces[c->n_namespaces++] = n;
	}
	size = ref_rng_below(&rng, 100);
	if (size < 40) {
		n_pods = ref_rng_below(&rng, 9);
		n_pol = 1 + ref_rng_below(&rng, 4);
	} else if (size < 85) {
		n_pods = 5 + ref_rng_below(&rng, 21);
		n_pol = 2 + ref_rng_below(&rng, 7);
	} else if (size < 97) {
		n_pods = 20 + ref_rng_below(&rng, 41);
		n_pol = 5 + ref_rng_below(&rng, 11);
	} else {
		/* now and then a bigger one, for class merging and ranges */
		n_pods = 60 + ref_rng_below(&rng, 141);
		n_pol = 15 + ref_rng_below(&rng, 26);
	}
	for (uint32_t i = 0; i < n_pods; i++)
		gen_pod(c, &rng, ns_names[ref_rng_below(&rng, n_ns)], i);
	/* policies mostly where the pods are */
	for (uint32_t i = 0; i < n_pol; i++)
		gen_policy(c, &rng,
			   c->n_pods > 0 && ref_rng_pct(&rng, 80)
				   ? c->pods[ref_rng_below(&rng, (uint32_t)c->n_pods)]->namespace
				   : ns_names[ref_rng_below(&rng, n_ns)],
			   i);
	/* the tiers from a stream of their own, so that the NetworkPolicy
	 * part of a seed's cluster is what it was before the tiers */
	{
		struct ref_rng trng;

		ref_rng_seed(&trng, seed * 0x9e3779b97f4a7c15ULL + 7);
		gen_tiers(c, &trng);
	}
	ref_cluster_sort(c);
	return c;
}

/* ---- queries ---- */

struct addr_pool {
	struct npgw_addr *v;
	size_t n;
	size_t cap;
};

static void pool_add(struct addr_pool *p, const struct npgw_addr *a)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->v = ref_xrealloc(p->v, p->cap * sizeof(p->v[0]));
	}
	p->v[p->n++] = *a;
}

/* First, last, one before and one after the prefix. */
static void pool_add_bounds(struct addr_pool *pools, const struct npgw_prefix *pfx)
{
	struct addr_pool *p = &pools[pfx->addr.family == 4 ? 0 : 1];
	struct npgw_addr a = pfx->addr;

	pool_add(p, &a);
	addr_step(&a, -1);
	pool_add(p, &a);
	a = pfx->addr;
	set_host_bits(&a, pfx->len);
	pool_add(p, &a);
	addr_step(&a, 1);
	pool_add(p, &a);
}

static void rules_bounds(struct addr_pool *bounds, struct npgw_k8s_rule *r, size_t n,
			 uint16_t **ports, size_t *n_ports, size_t *cap)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < r[i].n_peers; j++) {
			if (!r[i].peers[j].has_ip_block)
				continue;
			pool_add_bounds(bounds, &r[i].peers[j].cidr);
			for (size_t k = 0; k < r[i].peers[j].n_except; k++)
				pool_add_bounds(bounds, &r[i].peers[j].except[k]);
		}
		for (size_t j = 0; j < r[i].n_ports; j++) {
			const struct npgw_k8s_port *pt = &r[i].ports[j];
			uint16_t v[6] = {pt->port, (uint16_t)(pt->port - 1), (uint16_t)(pt->port + 1),
					 pt->end_port, (uint16_t)(pt->end_port - 1),
					 (uint16_t)(pt->end_port + 1)};

			if (!pt->has_port || pt->name != NULL)
				continue;
			if (*n_ports + 6 > *cap) {
				*cap = 2 * *cap + 6;
				*ports = ref_xrealloc(*ports, *cap * sizeof(uint16_t));
			}
			for (int k = 0; k < (pt->end_port ? 6 : 3); k++)
				(*ports)[(*n_ports)++] = v[k];
		}
	}
}

static void pick_addr(struct ref_rng *rng, const struct addr_pool *pods,
		      const struct addr_pool *bounds, uint8_t family, struct npgw_addr *a)
{
	uint32_t r = ref_rng_below(rng, 100);

	if (r < 65 && pods->n > 0)
		*a = pods->v[ref_rng_below(rng, (uint32_t)pods->n)];
	else if (r < 85 && bounds->n > 0)
		*a = bounds->v[ref_rng_below(rng, (uint32_t)bounds->n)];
	else if (r < 93)
		random_pod_range_addr(rng, family, a);
	else
		random_any_addr(rng, family, a);
}

void ref_gen_queries(const struct npgw_k8s_cluster *c, struct ref_rng *rng, struct ref_query *q,
		     size_t n)
{
	struct addr_pool pods[2] = {{0}}, bounds[2] = {{0}};
	uint16_t *ports = NULL;
	size_t n_ports = 0, cap = 0;

	for (size_t i = 0; i < c->n_pods; i++) {
		const struct npgw_k8s_pod *p = c->pods[i];

		for (size_t j = 0; j < p->n_addrs; j++)
			pool_add(&pods[p->addrs[j].family == 4 ? 0 : 1], &p->addrs[j]);
		for (size_t j = 0; j < p->n_ports; j++) {
			if (n_ports + 1 > cap) {
				cap = 2 * cap + 8;
				ports = ref_xrealloc(ports, cap * sizeof(uint16_t));
			}
			ports[n_ports++] = p->ports[j].port;
		}
	}
	for (size_t i = 0; i < c->n_policies; i++) {
		rules_bounds(bounds, c->policies[i]->ingress, c->policies[i]->n_ingress, &ports,
			     &n_ports, &cap);
		rules_bounds(bounds, c->policies[i]->egress, c->policies[i]->n_egress, &ports,
			     &n_ports, &cap);
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t family = ref_rng_pct(rng, 60) ? 4 : 6;
		int fi = family == 4 ? 0 : 1;
		uint32_t r = ref_rng_below(rng, 100);

		memset(&q[i], 0, sizeof(q[i]));
		pick_addr(rng, &pods[fi], &bounds[fi], family, &q[i].src);
		pick_addr(rng, &pods[fi], &bounds[fi], family, &q[i].dst);
		if (r < 30)
			q[i].proto = NPGW_PROTO_TCP;
		else if (r < 55)
			q[i].proto = NPGW_PROTO_UDP;
		else if (r < 75)
			q[i].proto = NPGW_PROTO_SCTP;
		else if (r < 90)
			q[i].proto = family == 4 ? NPGW_PROTO_ICMP : NPGW_PROTO_ICMPV6;
		else if (r < 94)
			q[i].proto = family == 4 ? NPGW_PROTO_ICMPV6 : NPGW_PROTO_ICMP;
		else
			q[i].proto = (uint8_t)PICK(rng, ((const uint8_t[]){0, 2, 47, 50, 255}));
		if (q[i].proto != NPGW_PROTO_TCP && q[i].proto != NPGW_PROTO_UDP &&
		    q[i].proto != NPGW_PROTO_SCTP)
			continue; /* dport 0 */
		r = ref_rng_below(rng, 100);
		if (r < 75 && n_ports > 0)
			q[i].dport = ports[ref_rng_below(rng, (uint32_t)n_ports)];
		else if (r < 80)
			q[i].dport = (uint16_t)PICK(rng, ((const uint16_t[]){0, 1, 65535}));
		else if (r < 90)
			q[i].dport = PICK(rng, port_pool);
		else
			q[i].dport = (uint16_t)ref_rng_below(rng, 65536);
	}
	free(ports);
	for (int i = 0; i < 2; i++) {
		free(pods[i].v);
		free(bounds[i].v);
	}
}

/* ---- realistic mode ---- */

struct deployment {
	char *ns;
	char *app;
	const char *tier;
	uint16_t port; /* its service port */
	bool dual;
};

static const char *const tiers[] = {"frontend", "backend", "backend", "db", "cache"};

/* The i-th pod address: 10.64.0.0 + i, and fd00::1:0:0 + i. */
static void realistic_addrs(struct npgw_k8s_pod *p, uint32_t i, bool dual)
{
	p->addrs = ref_xcalloc(2, sizeof(p->addrs[0]));
	addr4(&p->addrs[p->n_addrs++], 0x0a400000u + i);
	if (dual)
		addr6(&p->addrs[p->n_addrs++], 0x100000000ull + i);
}

static struct npgw_k8s_pod *realistic_pod(struct npgw_k8s_cluster *c, const struct deployment *d,
					  unsigned int replica, uint32_t addr_idx)
{
	struct npgw_k8s_pod *p = ref_xcalloc(1, sizeof(*p));
	char name[128];

	snprintf(name, sizeof(name), "%s-%u", d->app, replica);
	p->namespace = ref_xstrdup(d->ns);
	p->name = ref_xstrdup(name);
	p->phase = ref_xstrdup("Running");
	labels_add(&p->labels, "app", d->app);
	labels_add(&p->labels, "tier", d->tier);
	labels_add(&p->labels, "pod-template-hash", "5d8f7c9b6");
	realistic_addrs(p, addr_idx, d->dual);
	p->ports = ref_xcalloc(2, sizeof(p->ports[0]));
	p->ports[0] = (struct npgw_k8s_container_port){ref_xstrdup("http"), d->port,
						       NPGW_PROTO_TCP};
	p->ports[1] = (struct npgw_k8s_container_port){ref_xstrdup("metrics"), 9090,
						       NPGW_PROTO_TCP};
	p->n_ports = 2;
	c->pods = ref_xrealloc(c->pods, (c->n_pods + 1) * sizeof(p));
	c->pods[c->n_pods++] = p;
	return p;
}

static struct npgw_k8s_policy *new_policy(struct npgw_k8s_cluster *c, const char *ns,
					  const char *name)
{
	struct npgw_k8s_policy *p = ref_xcalloc(1, sizeof(*p));

	p->namespace = ref_xstrdup(ns);
	p->name = ref_xstrdup(name);
	c->policies = ref_xrealloc(c->policies, (c->n_policies + 1) * sizeof(p));
	c->policies[c->n_policies++] = p;
	return p;
}

/* ---- realistic tiers ---- */

static struct npgw_k8s_policy *tier_new(struct npgw_k8s_cluster *c, unsigned int kind,
					unsigned int tier, const char *name, uint16_t prio,
					const char *ns_sel, const char *pod_sel)
{
	struct npgw_k8s_policy *p = ref_xcalloc(1, sizeof(*p));

	p->kind = (uint8_t)kind;
	p->tier = (uint8_t)tier;
	p->priority = prio;
	p->namespace = ref_xstrdup(kind == NPGW_K8S_ADMIN_NETWORK_POLICY	    ? NPGW_K8S_NS_ANP
				   : kind == NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY ? NPGW_K8S_NS_BANP
										    : NPGW_K8S_NS_CNP);
	p->name = ref_xstrdup(name);
	p->has_ns_selector = true;
	ref_parse_selector(ns_sel, &p->ns_selector);
	ref_parse_selector(pod_sel, &p->pod_selector);
	c->policies = ref_xrealloc(c->policies, (c->n_policies + 1) * sizeof(p));
	c->policies[c->n_policies++] = p;
	return p;
}

static struct npgw_k8s_rule *tier_rule(struct npgw_k8s_policy *p, bool egress, uint8_t action)
{
	struct npgw_k8s_rule *r = ref_policy_add_rule(p, egress);

	r->action = action;
	return r;
}

static void tier_peer(struct npgw_k8s_rule *r, const char *ns_sel, const char *pod_sel)
{
	struct npgw_k8s_peer *pr;

	r->peers = ref_xrealloc(r->peers, (r->n_peers + 1) * sizeof(*r->peers));
	pr = &r->peers[r->n_peers++];
	memset(pr, 0, sizeof(*pr));
	pr->has_ns_selector = true;
	ref_parse_selector(ns_sel, &pr->ns_selector);
	if (pod_sel != NULL) {
		pr->has_pod_selector = true;
		ref_parse_selector(pod_sel, &pr->pod_selector);
	}
}

/* A named port of any protocol, as the loader reads one: three entries. */
static void tier_named(struct npgw_k8s_rule *r, const char *name)
{
	static const uint8_t protos[] = {NPGW_PROTO_TCP, NPGW_PROTO_UDP, NPGW_PROTO_SCTP};

	for (size_t k = 0; k < 3; k++) {
		ref_rule_add_port(r, protos[k], 0, 0, name);
		r->ports[r->n_ports - 1].has_port = true;
		r->ports[r->n_ports - 1].any_proto = true;
	}
}

/* Tiers of a realistic cluster (see ref_gen_realistic_params). */
static void realistic_tiers(struct npgw_k8s_cluster *c, struct ref_rng *rng, size_t n_ns,
			    const struct deployment *deps, size_t n_deps,
			    const struct ref_gen_realistic_params *prm)
{
	char name[96], sel[160], nsel[160];

	for (size_t i = 0; i < prm->n_admin; i++) {
		unsigned int kind = i % 2 ? NPGW_K8S_CLUSTER_NETWORK_POLICY
					  : NPGW_K8S_ADMIN_NETWORK_POLICY;
		uint16_t prio = (uint16_t)(10 + i);
		struct npgw_k8s_policy *p;
		struct npgw_k8s_rule *r;

		switch (i % 5) {
		case 0: /* no pod reaches the metadata service */
			snprintf(name, sizeof(name), "no-metadata-%zu", i);
			p = tier_new(c, kind, NPGW_K8S_TIER_ADMIN, name, prio, "env=prod", "");
			ref_rule_add_ipblock(tier_rule(p, true, NPGW_K8S_ACTION_DENY),
					     "169.254.169.254/32", "");
			break;
		case 1: /* monitoring may always scrape */
			snprintf(name, sizeof(name), "allow-monitoring-%zu", i);
			p = tier_new(c, kind, NPGW_K8S_TIER_ADMIN, name, prio, "", "");
			r = tier_rule(p, false, NPGW_K8S_ACTION_ALLOW);
			tier_peer(r, NPGW_K8S_NS_NAME_LABEL "=kube-system", NULL);
			ref_rule_add_port(r, NPGW_PROTO_TCP, 9090, 9100, NULL);
			break;
		case 2: /* payments is closed to search */
			snprintf(name, sizeof(name), "isolate-payments-%zu", i);
			p = tier_new(c, kind, NPGW_K8S_TIER_ADMIN, name, prio, "team=payments", "");
			tier_peer(tier_rule(p, false, NPGW_K8S_ACTION_DENY), "team=search", NULL);
			break;
		case 3: { /* a service leaves its ingress from payments to NetworkPolicy */
			const struct deployment *d = &deps[ref_rng_below(rng, (uint32_t)n_deps)];

			snprintf(name, sizeof(name), "pass-%s-%zu", d->app, i);
			snprintf(nsel, sizeof(nsel), NPGW_K8S_NS_NAME_LABEL "=%s", d->ns);
			snprintf(sel, sizeof(sel), "app=%s", d->app);
			p = tier_new(c, kind, NPGW_K8S_TIER_ADMIN, name, prio, nsel, sel);
			r = tier_rule(p, false, NPGW_K8S_ACTION_PASS);
			tier_peer(r, "team=payments", NULL);
			tier_named(r, "http");
			break;
		}
		default: /* staging reaches DNS, and no private network */
			snprintf(name, sizeof(name), "staging-egress-%zu", i);
			p = tier_new(c, kind, NPGW_K8S_TIER_ADMIN, name, prio, "env=staging", "");
			r = tier_rule(p, true, NPGW_K8S_ACTION_ALLOW);
			tier_peer(r, NPGW_K8S_NS_NAME_LABEL "=kube-system", "k8s-app=kube-dns");
			ref_rule_add_port(r, NPGW_PROTO_UDP, 53, 0, NULL);
			r = tier_rule(p, true, NPGW_K8S_ACTION_DENY);
			ref_rule_add_ipblock(r, "172.16.0.0/12", "");
			ref_rule_add_ipblock(r, "192.168.0.0/16", "");
			break;
		}
	}
	for (size_t i = 0; i < prm->n_baseline; i++) {
		struct npgw_k8s_policy *p;

		if (i == 0) { /* the one BANP: staging namespaces deny ingress */
			p = tier_new(c, NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY, NPGW_K8S_TIER_BASELINE,
				     "default", NPGW_K8S_BANP_PRIORITY, "env=staging", "");
			tier_peer(tier_rule(p, false, NPGW_K8S_ACTION_DENY), "", NULL);
			continue;
		}
		/* a team namespace admits only itself unless NetworkPolicy says more */
		snprintf(name, sizeof(name), "team-%zu-baseline-%zu", i % n_ns, i);
		snprintf(nsel, sizeof(nsel), NPGW_K8S_NS_NAME_LABEL "=team-%zu", i % n_ns);
		p = tier_new(c, NPGW_K8S_CLUSTER_NETWORK_POLICY, NPGW_K8S_TIER_BASELINE, name,
			     (uint16_t)i, nsel, "");
		tier_peer(tier_rule(p, false, NPGW_K8S_ACTION_ALLOW), nsel, NULL);
		tier_peer(tier_rule(p, false, NPGW_K8S_ACTION_DENY), "", NULL);
	}
}

struct npgw_k8s_cluster *ref_gen_realistic(const struct ref_gen_realistic_params *prm)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct ref_rng rng;
	struct deployment *deps = NULL;
	size_t n_deps = 0, n_ns;
	uint32_t addr_idx = 0;
	char name[128];

	ref_rng_seed(&rng, prm->seed);
	n_ns = prm->n_pods / 250 + 2;
	/* kube-system with CoreDNS */
	ref_add_namespace(c, "kube-system", "");
	{
		struct deployment dns = {NULL, NULL, "system", 53, true};
		struct npgw_k8s_pod *p;

		dns.ns = ref_xstrdup("kube-system");
		dns.app = ref_xstrdup("coredns");
		for (unsigned int r = 0; r < 2; r++) {
			p = realistic_pod(c, &dns, r, addr_idx++);
			labels_add(&p->labels, "k8s-app", "kube-dns");
			free(p->ports[1].name);
			p->ports[0].protocol = NPGW_PROTO_UDP;
			p->ports[1] = (struct npgw_k8s_container_port){ref_xstrdup("dns-tcp"), 53,
								       NPGW_PROTO_TCP};
			free(p->ports[0].name);
			p->ports[0].name = ref_xstrdup("dns");
		}
		free(dns.ns);
		free(dns.app);
	}
	for (size_t i = 0; i < n_ns; i++) {
		snprintf(name, sizeof(name), "team-%zu", i);
		ref_add_namespace(c, name, i % 3 == 0 ? "env=prod,team=payments"
				  : i % 3 == 1  ? "env=prod,team=search"
						: "env=staging,team=search");
	}
	while (c->n_pods < prm->n_pods) {
		struct deployment d;
		size_t replicas = 5 + ref_rng_below(&rng, 46);

		snprintf(name, sizeof(name), "team-%u", ref_rng_below(&rng, (uint32_t)n_ns));
		d.ns = ref_xstrdup(name);
		snprintf(name, sizeof(name), "svc%zu", n_deps);
		d.app = ref_xstrdup(name);
		d.tier = PICK(&rng, tiers);
		d.port = (uint16_t)PICK(&rng, ((const uint16_t[]){80, 8080, 8443, 5432, 6379, 50051}));
		d.dual = ref_rng_pct(&rng, 25);
		if (replicas > prm->n_pods - c->n_pods)
			replicas = prm->n_pods - c->n_pods;
		for (size_t r = 0; r < replicas; r++)
			realistic_pod(c, &d, (unsigned int)r, addr_idx++);
		deps = ref_xrealloc(deps, (n_deps + 1) * sizeof(deps[0]));
		deps[n_deps++] = d;
	}
	/* Namespace isolation first, then DNS, then same-namespace, so that
	 * a small policy budget still isolates. */
	for (int kind = 0; kind < 3; kind++) {
		for (size_t i = 0; i < n_ns && c->n_policies < prm->n_policies; i++) {
			struct npgw_k8s_policy *p;
			struct npgw_k8s_rule *r;

			snprintf(name, sizeof(name), "team-%zu", i);
			if (kind == 0) {
				p = new_policy(c, name, "default-deny");
				p->isolates_ingress = p->isolates_egress = true;
			} else if (kind == 1) {
				p = new_policy(c, name, "allow-dns");
				p->isolates_egress = true;
				r = ref_policy_add_rule(p, true);
				ref_rule_add_peer(r, "k8s-app=kube-dns",
						  NPGW_K8S_NS_NAME_LABEL "=kube-system");
				ref_rule_add_port(r, NPGW_PROTO_UDP, 53, 0, NULL);
				ref_rule_add_port(r, NPGW_PROTO_TCP, 53, 0, NULL);
			} else {
				p = new_policy(c, name, "allow-same-namespace");
				p->isolates_ingress = true;
				r = ref_policy_add_rule(p, false);
				ref_rule_add_peer(r, "", NULL);
			}
		}
	}
	for (size_t k = 0; c->n_policies < prm->n_policies && n_deps > 0; k++) {
		const struct deployment *d = &deps[ref_rng_below(&rng, (uint32_t)n_deps)];
		struct npgw_k8s_policy *p;
		struct npgw_k8s_rule *r;
		uint32_t n_from = 1 + ref_rng_below(&rng, 3), n_ports = 1 + ref_rng_below(&rng, 3);
		uint32_t kind = ref_rng_below(&rng, 100);
		char sel[160];

		snprintf(name, sizeof(name), "allow-%s-%zu", d->app, k);
		snprintf(sel, sizeof(sel), "app=%s", d->app);
		p = new_policy(c, d->ns, name);
		ref_parse_selector(sel, &p->pod_selector);
		if (kind < 85) {
			p->isolates_ingress = true;
			r = ref_policy_add_rule(p, false);
			for (uint32_t i = 0; i < n_from; i++) {
				const struct deployment *o = &deps[ref_rng_below(&rng, (uint32_t)n_deps)];

				snprintf(sel, sizeof(sel), "app=%s", o->app);
				if (strcmp(o->ns, d->ns) == 0) {
					ref_rule_add_peer(r, sel, NULL);
				} else {
					char nsel[160];

					snprintf(nsel, sizeof(nsel), NPGW_K8S_NS_NAME_LABEL "=%s", o->ns);
					ref_rule_add_peer(r, sel, nsel);
				}
			}
			if (kind < 10)
				ref_rule_add_ipblock(r, "192.168.0.0/16", "192.168.13.0/24");
			for (uint32_t i = 0; i < n_ports; i++) {
				uint32_t pk = ref_rng_below(&rng, 3);

				if (pk == 0)
					ref_rule_add_port(r, NPGW_PROTO_TCP, 0, 0, "http");
				else if (pk == 1)
					ref_rule_add_port(r, NPGW_PROTO_TCP, d->port, 0, NULL);
				else
					ref_rule_add_port(r, NPGW_PROTO_TCP, 9090, 9100, NULL);
			}
		} else {
			/* egress to the outside world on 443, but not the cluster */
			p->isolates_egress = true;
			r = ref_policy_add_rule(p, true);
			ref_rule_add_ipblock(r, "0.0.0.0/0", "10.0.0.0/8,172.16.0.0/12");
			ref_rule_add_ipblock(r, "::/0", "fd00::/8");
			ref_rule_add_port(r, NPGW_PROTO_TCP, 443, 0, NULL);
		}
	}
	if (n_deps > 0)
		realistic_tiers(c, &rng, n_ns, deps, n_deps, prm);
	for (size_t i = 0; i < n_deps; i++) {
		free(deps[i].ns);
		free(deps[i].app);
	}
	free(deps);
	ref_cluster_sort(c);
	return c;
}

struct npgw_k8s_pod *ref_gen_add_replica(struct npgw_k8s_cluster *c, struct ref_rng *rng)
{
	const struct npgw_k8s_pod *model = NULL;
	struct npgw_k8s_pod *p;
	uint32_t max4 = 0;
	uint64_t max6 = 0;
	char name[160];

	for (int tries = 0; tries < 1000 && model == NULL; tries++) {
		const struct npgw_k8s_pod *q = c->pods[ref_rng_below(rng, (uint32_t)c->n_pods)];

		for (size_t i = 0; i < q->labels.n; i++)
			if (strcmp(q->labels.v[i].key, "app") == 0 &&
			    strcmp(q->labels.v[i].value, "coredns") != 0)
				model = q;
	}
	if (model == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_pods; i++) {
		for (size_t j = 0; j < c->pods[i]->n_addrs; j++) {
			const uint8_t *b = c->pods[i]->addrs[j].bytes;
			uint64_t v6 = 0;

			if (c->pods[i]->addrs[j].family == 4) {
				uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
					     (uint32_t)b[2] << 8 | b[3];

				max4 = v > max4 ? v : max4;
				continue;
			}
			for (int k = 8; k < 16; k++)
				v6 = v6 << 8 | b[k];
			max6 = v6 > max6 ? v6 : max6;
		}
	}
	p = ref_xcalloc(1, sizeof(*p));
	snprintf(name, sizeof(name), "%s-extra%u", model->name, (unsigned int)ref_rng_below(rng, 1000000));
	p->namespace = ref_xstrdup(model->namespace);
	p->name = ref_xstrdup(name);
	p->phase = ref_xstrdup("Running");
	for (size_t i = 0; i < model->labels.n; i++)
		labels_add(&p->labels, model->labels.v[i].key, model->labels.v[i].value);
	p->ports = ref_xcalloc(model->n_ports, sizeof(p->ports[0]));
	for (size_t i = 0; i < model->n_ports; i++) {
		p->ports[i] = model->ports[i];
		p->ports[i].name = model->ports[i].name ? ref_xstrdup(model->ports[i].name) : NULL;
	}
	p->n_ports = model->n_ports;
	p->addrs = ref_xcalloc(2, sizeof(p->addrs[0]));
	for (size_t i = 0; i < model->n_addrs; i++) {
		if (model->addrs[i].family == 4)
			addr4(&p->addrs[p->n_addrs++], max4 + 1);
		else
			addr6(&p->addrs[p->n_addrs++], max6 + 1);
	}
	c->pods = ref_xrealloc(c->pods, (c->n_pods + 1) * sizeof(p));
	c->pods[c->n_pods++] = p;
	ref_cluster_sort(c);
	return p;
}
