/*
 * ref_eval.c: the reference evaluator. A direct, slow reading of the
 * Kubernetes NetworkPolicy rules (networking.k8s.io/v1) over the cluster
 * model for one packet at a time. Deliberately naive: every lookup is a
 * linear scan, nothing is cached, and nothing from lib/k8s or lib/compile is
 * called, so the oracle cannot share a bug with the code it checks.
 */
#include <stdio.h>
#include <string.h>

#include "ref.h"

/* Address a lies inside prefix p: same family and the first p->len bits
 * equal, compared bit by bit. */
bool ref_addr_in_prefix(const struct npgw_prefix *p, const struct npgw_addr *a)
{
	if (p->addr.family != a->family)
		return false;
	for (unsigned int i = 0; i < p->len; i++) {
		unsigned int byte = i / 8, shift = 7 - i % 8;

		if (((p->addr.bytes[byte] >> shift) & 1) != ((a->bytes[byte] >> shift) & 1))
			return false;
	}
	return true;
}

static bool addr_equal(const struct npgw_addr *a, const struct npgw_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

static const char *label_value(const struct npgw_k8s_labels *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

static bool value_listed(const struct npgw_k8s_expr *e, const char *v)
{
	for (size_t i = 0; i < e->n_values; i++)
		if (strcmp(e->values[i], v) == 0)
			return true;
	return false;
}

/* matchLabels AND every matchExpression; the empty selector matches all. */
bool ref_selector_matches(const struct npgw_k8s_selector *s, const struct npgw_k8s_labels *l)
{
	for (size_t i = 0; i < s->match_labels.n; i++) {
		const char *v = label_value(l, s->match_labels.v[i].key);

		if (v == NULL || strcmp(v, s->match_labels.v[i].value) != 0)
			return false;
	}
	for (size_t i = 0; i < s->n_exprs; i++) {
		const struct npgw_k8s_expr *e = &s->exprs[i];
		const char *v = label_value(l, e->key);
		bool ok;

		switch (e->op) {
		case NPGW_K8S_OP_IN:
			ok = v != NULL && value_listed(e, v);
			break;
		case NPGW_K8S_OP_NOT_IN:
			ok = v == NULL || !value_listed(e, v);
			break;
		case NPGW_K8S_OP_EXISTS:
			ok = v != NULL;
			break;
		case NPGW_K8S_OP_DOES_NOT_EXIST:
			ok = v == NULL;
			break;
		default:
			ok = false;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* Policy applies to a pod that is not hostNetwork and whose phase is not
 * terminal (the address of a finished pod may belong to another one). */
bool ref_pod_is_target(const struct npgw_k8s_pod *p)
{
	if (p->host_network)
		return false;
	if (p->phase != NULL &&
	    (strcmp(p->phase, "Succeeded") == 0 || strcmp(p->phase, "Failed") == 0))
		return false;
	return true;
}

const struct npgw_k8s_pod *ref_pod_of(const struct npgw_k8s_cluster *c, const struct npgw_addr *a)
{
	for (size_t i = 0; i < c->n_pods; i++) {
		const struct npgw_k8s_pod *p = c->pods[i];

		if (!ref_pod_is_target(p))
			continue;
		for (size_t j = 0; j < p->n_addrs; j++)
			if (addr_equal(&p->addrs[j], a))
				return p;
	}
	return NULL;
}

/* The labels of namespace ns: its Namespace object's, or only the implicit
 * kubernetes.io/metadata.name=<ns> when there is no object. */
static bool ns_selector_matches(const struct npgw_k8s_cluster *c, const char *ns,
				const struct npgw_k8s_selector *s)
{
	struct npgw_k8s_label implicit = {.key = (char *)(uintptr_t)NPGW_K8S_NS_NAME_LABEL,
					  .value = (char *)(uintptr_t)ns};
	struct npgw_k8s_labels implicit_set = {.v = &implicit, .n = 1};

	for (size_t i = 0; i < c->n_namespaces; i++)
		if (strcmp(c->namespaces[i]->name, ns) == 0)
			return ref_selector_matches(s, &c->namespaces[i]->labels);
	return ref_selector_matches(s, &implicit_set);
}

/* The peer (of a rule of policy pol) matches the address at the other end. */
static bool peer_matches(const struct npgw_k8s_cluster *c, const struct npgw_k8s_policy *pol,
			 const struct npgw_k8s_peer *peer, const struct npgw_addr *a)
{
	const struct npgw_k8s_pod *pod;

	if (peer->has_ip_block) {
		if (!ref_addr_in_prefix(&peer->cidr, a))
			return false;
		for (size_t i = 0; i < peer->n_except; i++)
			if (ref_addr_in_prefix(&peer->except[i], a))
				return false;
		return true;
	}
	pod = ref_pod_of(c, a);
	if (pod == NULL)
		return false;
	if (peer->has_ns_selector) {
		if (!ns_selector_matches(c, pod->namespace, &peer->ns_selector))
			return false;
	} else if (strcmp(pod->namespace, pol->namespace) != 0) {
		return false;
	}
	if (peer->has_pod_selector && !ref_selector_matches(&peer->pod_selector, &pod->labels))
		return false;
	return true;
}

/* A port entry matches (proto, dport) going to dst_pod (NULL when the
 * destination is no pod: a named port then never matches). */
static bool port_matches(const struct npgw_k8s_port *pt, uint8_t proto, uint16_t dport,
			 const struct npgw_k8s_pod *dst_pod)
{
	if (pt->protocol != proto)
		return false;
	if (pt->name != NULL) {
		if (dst_pod == NULL)
			return false;
		for (size_t i = 0; i < dst_pod->n_ports; i++) {
			const struct npgw_k8s_container_port *cp = &dst_pod->ports[i];

			if (cp->name != NULL && strcmp(cp->name, pt->name) == 0 &&
			    cp->protocol == proto && cp->port == dport)
				return true;
		}
		return false;
	}
	if (!pt->has_port)
		return true;
	if (pt->end_port != 0)
		return dport >= pt->port && dport <= pt->end_port;
	return dport == pt->port;
}

static bool rule_allows(const struct npgw_k8s_cluster *c, const struct npgw_k8s_policy *pol,
			const struct npgw_k8s_rule *r, const struct npgw_addr *peer_addr,
			uint8_t proto, uint16_t dport, const struct npgw_k8s_pod *dst_pod)
{
	bool ok;

	ok = r->n_peers == 0;
	for (size_t i = 0; !ok && i < r->n_peers; i++)
		ok = peer_matches(c, pol, &r->peers[i], peer_addr);
	if (!ok)
		return false;
	if (r->n_ports == 0)
		return true;
	for (size_t i = 0; i < r->n_ports; i++)
		if (port_matches(&r->ports[i], proto, dport, dst_pod))
			return true;
	return false;
}

/* ---- the cluster-wide tiers ---- */

static bool is_node(const struct npgw_k8s_pod *p)
{
	return strcmp(p->namespace, NPGW_K8S_NS_NODE) == 0;
}

/* A tier rule's peer: an address set (networks, the addresses of selected
 * Nodes) or pods by namespace and pod selectors, never host-network ones. */
static bool tier_peer_matches(const struct npgw_k8s_cluster *c, const struct npgw_k8s_peer *peer,
			      const struct npgw_addr *a)
{
	const struct npgw_k8s_pod *pod;

	if (peer->has_ip_block)
		return ref_addr_in_prefix(&peer->cidr, a);
	if (peer->has_node_selector) {
		for (size_t i = 0; i < c->n_pods; i++) {
			const struct npgw_k8s_pod *n = c->pods[i];

			if (!is_node(n) || !ref_selector_matches(&peer->node_selector, &n->labels))
				continue;
			for (size_t k = 0; k < n->n_addrs; k++)
				if (addr_equal(&n->addrs[k], a))
					return true;
		}
		return false;
	}
	pod = ref_pod_of(c, a);
	if (pod == NULL || !ns_selector_matches(c, pod->namespace, &peer->ns_selector))
		return false;
	return !peer->has_pod_selector || ref_selector_matches(&peer->pod_selector, &pod->labels);
}

/* A tier rule matches: some peer (none: nothing) and some port (none: all). */
static bool tier_rule_matches(const struct npgw_k8s_cluster *c, const struct npgw_k8s_rule *r,
			      const struct npgw_addr *peer_addr, uint8_t proto, uint16_t dport,
			      const struct npgw_k8s_pod *dst_pod)
{
	bool ok = false;

	for (size_t i = 0; !ok && i < r->n_peers; i++)
		ok = tier_peer_matches(c, &r->peers[i], peer_addr);
	if (!ok)
		return false;
	if (r->n_ports == 0)
		return true;
	for (size_t i = 0; i < r->n_ports; i++)
		if (port_matches(&r->ports[i], proto, dport, dst_pod))
			return true;
	return false;
}

/* The tier policy's subject holds pod (a policy target). */
static bool tier_selects(const struct npgw_k8s_cluster *c, const struct npgw_k8s_policy *pol,
			 const struct npgw_k8s_pod *pod)
{
	if (pol->has_ns_selector && !ns_selector_matches(c, pod->namespace, &pol->ns_selector))
		return false;
	return ref_selector_matches(&pol->pod_selector, &pod->labels);
}

/*
 * Walk the policies of one tier that select pod, by ascending priority
 * (equal priorities: cluster order), their rules in list order; the first
 * matching rule decides. Returns true with out set when one matched.
 */
static bool eval_tier(const struct npgw_k8s_cluster *c, unsigned int tier,
		      const struct npgw_k8s_pod *pod, bool egress, const struct npgw_addr *peer_addr,
		      uint8_t proto, uint16_t dport, const struct npgw_k8s_pod *dst_pod,
		      struct ref_side *out)
{
	int32_t done = -1; /* the last policy taken */
	int last_prio = -1;

	for (;;) {
		int32_t best = -1;

		/* the next policy in (priority, index) order after (last_prio, done) */
		for (size_t i = 0; i < c->n_policies; i++) {
			const struct npgw_k8s_policy *p = c->policies[i];

			if (p->tier != tier)
				continue;
			if ((int)p->priority < last_prio ||
			    ((int)p->priority == last_prio && (int32_t)i <= done))
				continue;
			if (best < 0 || p->priority < c->policies[best]->priority)
				best = (int32_t)i;
		}
		if (best < 0)
			return false;
		done = best;
		last_prio = c->policies[best]->priority;
		{
			const struct npgw_k8s_policy *pol = c->policies[best];
			const struct npgw_k8s_rule *rules = egress ? pol->egress : pol->ingress;
			size_t n = egress ? pol->n_egress : pol->n_ingress;

			if (!tier_selects(c, pol, pod))
				continue;
			for (size_t j = 0; j < n; j++) {
				if (!tier_rule_matches(c, &rules[j], peer_addr, proto, dport, dst_pod))
					continue;
				out->policy = best;
				out->rule = (int32_t)j;
				out->verdict = rules[j].action == NPGW_K8S_ACTION_ALLOW  ? REF_ALLOW
					       : rules[j].action == NPGW_K8S_ACTION_DENY ? REF_DENY
											 : REF_PASS;
				return true;
			}
		}
	}
}

/*
 * One side for pod (NULL: the address is no pod, not isolated).
 * egress: the rules of the policies isolating pod for egress, peer the
 * destination; ingress: for ingress, peer the source. dst_pod is the pod
 * named ports resolve against (egress: the destination; ingress: pod).
 */
static void eval_side(const struct npgw_k8s_cluster *c, const struct npgw_k8s_pod *pod,
		      bool egress, const struct npgw_addr *peer_addr, uint8_t proto,
		      uint16_t dport, const struct npgw_k8s_pod *dst_pod, struct ref_side *out)
{
	out->verdict = REF_NOT_ISOLATED;
	out->policy = -1;
	out->rule = -1;
	out->pass_policy = -1;
	out->pass_rule = -1;
	if (pod == NULL)
		return;
	/* Admin: an Allow or Deny decides; a Pass goes on below */
	if (eval_tier(c, NPGW_K8S_TIER_ADMIN, pod, egress, peer_addr, proto, dport, dst_pod, out)) {
		if (out->verdict != REF_PASS)
			return;
		out->pass_policy = out->policy;
		out->pass_rule = out->rule;
		out->verdict = REF_NOT_ISOLATED;
		out->policy = out->rule = -1;
	}
	for (size_t i = 0; i < c->n_policies; i++) {
		const struct npgw_k8s_policy *pol = c->policies[i];
		const struct npgw_k8s_rule *rules = egress ? pol->egress : pol->ingress;
		size_t n_rules = egress ? pol->n_egress : pol->n_ingress;

		if (pol->tier != NPGW_K8S_TIER_NETPOL)
			continue;
		if (strcmp(pol->namespace, pod->namespace) != 0)
			continue;
		if (!(egress ? pol->isolates_egress : pol->isolates_ingress))
			continue; /* rules of a direction not in policyTypes do nothing */
		if (!ref_selector_matches(&pol->pod_selector, &pod->labels))
			continue;
		if (out->verdict == REF_NOT_ISOLATED) {
			out->verdict = REF_DENY;
			out->policy = (int32_t)i;
		}
		for (size_t j = 0; j < n_rules; j++) {
			if (rule_allows(c, pol, &rules[j], peer_addr, proto, dport, dst_pod)) {
				out->verdict = REF_ALLOW;
				out->policy = (int32_t)i;
				out->rule = (int32_t)j;
				return;
			}
		}
	}
	/* Baseline: only where no NetworkPolicy selects the pod for this
	 * direction */
	if (out->verdict == REF_NOT_ISOLATED)
		eval_tier(c, NPGW_K8S_TIER_BASELINE, pod, egress, peer_addr, proto, dport, dst_pod,
			  out);
}

void ref_verdict(const struct npgw_k8s_cluster *c, const struct ref_query *q,
		 struct ref_result *out)
{
	const struct npgw_k8s_pod *src_pod = ref_pod_of(c, &q->src);
	const struct npgw_k8s_pod *dst_pod = ref_pod_of(c, &q->dst);

	eval_side(c, src_pod, true, &q->dst, q->proto, q->dport, dst_pod, &out->egress);
	eval_side(c, dst_pod, false, &q->src, q->proto, q->dport, dst_pod, &out->ingress);
	out->allowed = out->egress.verdict != REF_DENY && out->ingress.verdict != REF_DENY;
}

static bool side_equal(const struct ref_side *a, const struct ref_side *b)
{
	return a->verdict == b->verdict && a->policy == b->policy && a->rule == b->rule &&
	       a->pass_policy == b->pass_policy && a->pass_rule == b->pass_rule;
}

bool ref_result_equal(const struct ref_result *a, const struct ref_result *b)
{
	return a->allowed == b->allowed && side_equal(&a->egress, &b->egress) &&
	       side_equal(&a->ingress, &b->ingress);
}

const char *ref_side_format(const struct ref_side *s, char *buf, size_t len)
{
	switch (s->verdict) {
	case REF_ALLOW:
		snprintf(buf, len, "ALLOW policy %d rule %d", (int)s->policy, (int)s->rule);
		break;
	case REF_DENY:
		if (s->rule < 0)
			snprintf(buf, len, "DENY policy %d", (int)s->policy);
		else
			snprintf(buf, len, "DENY policy %d rule %d", (int)s->policy, (int)s->rule);
		break;
	case REF_PASS:
		snprintf(buf, len, "PASS policy %d rule %d", (int)s->policy, (int)s->rule);
		break;
	default:
		snprintf(buf, len, "not-isolated");
		break;
	}
	if (s->pass_policy >= 0) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, " (after Admin pass policy %d rule %d)",
			 (int)s->pass_policy, (int)s->pass_rule);
	}
	return buf;
}

const char *ref_query_format(const struct ref_query *q, char *buf, size_t len)
{
	char s[64], d[64], pb[16];

	npgw_addr_format(&q->src, s, sizeof(s));
	npgw_addr_format(&q->dst, d, sizeof(d));
	if (q->dst.family == 6)
		snprintf(buf, len, "%s %s -> [%s]:%u", npgw_proto_name(q->proto, pb, sizeof(pb)), s,
			 d, q->dport);
	else
		snprintf(buf, len, "%s %s -> %s:%u", npgw_proto_name(q->proto, pb, sizeof(pb)), s,
			 d, q->dport);
	return buf;
}
