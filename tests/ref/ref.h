/*
 * ref.h: the test oracle and the cluster generator of the differential tests.
 *
 *  - ref_verdict: a deliberately naive reference evaluator. It reads the
 *    Kubernetes NetworkPolicy rules (DESIGN.md, "Semantics that must be
 *    exact") directly over the cluster model, packet by packet: no classes,
 *    no tables, no cleverness, and none of lib/k8s's helpers, so that it
 *    shares no code (and no bug) with the product's compile path.
 *  - ref_cluster_*, ref_add_*: build clusters by hand (as the loader would:
 *    every pointer from malloc) with a small text notation for labels and
 *    selectors, free and sort them, and dump them as Kubernetes YAML.
 *  - ref_gen_*: a seeded generator (splitmix64) of random clusters that use
 *    every feature of the model, of queries aimed at them, and of clusters of
 *    a realistic shape for benchmarks.
 *
 * Everything here is for one thread at a time, and aborts on allocation
 * failure: it is test code.
 */
#ifndef NPGW_TEST_REF_H
#define NPGW_TEST_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "npgw_common.h"
#include "npgw_k8s.h"

/* ---- the reference evaluator ---- */

enum ref_side_verdict {
	REF_NOT_ISOLATED = 0,
	REF_ALLOW = 1,
	REF_DENY = 2,
	REF_PASS = 3, /* a Baseline tier Pass: nothing below, allowed */
};

/* One side (egress of the source, ingress of the destination), the tiers
 * in order: Admin, NetworkPolicy, Baseline.
 *  - an Admin or Baseline rule that decides: its verdict, policy and rule
 *    (rule index within its direction);
 *  - NetworkPolicy, REF_ALLOW: the first (policy, rule) in cluster order
 *    that allows; REF_DENY: the first policy that isolates the pod in that
 *    direction, and rule -1;
 *  - REF_NOT_ISOLATED: nothing decided; policy and rule -1.
 * pass_policy / pass_rule: the Admin rule whose Pass sent the side on to
 * the tiers below, or -1. */
struct ref_side {
	enum ref_side_verdict verdict;
	int32_t policy;
	int32_t rule;
	int32_t pass_policy;
	int32_t pass_rule;
};

struct ref_result {
	bool allowed;
	struct ref_side egress;
	struct ref_side ingress;
};

/* A packet as the policies see it: dport is 0 for protocols without ports. */
struct ref_query {
	struct npgw_addr src;
	struct npgw_addr dst;
	uint8_t proto;
	uint16_t dport;
};

/* The verdict of the Kubernetes rules on q. */
void ref_verdict(const struct npgw_k8s_cluster *c, const struct ref_query *q,
		 struct ref_result *out);

/* The policy-target pod (not hostNetwork, not Succeeded/Failed) that owns
 * address a, or NULL. */
const struct npgw_k8s_pod *ref_pod_of(const struct npgw_k8s_cluster *c, const struct npgw_addr *a);

bool ref_pod_is_target(const struct npgw_k8s_pod *p);
bool ref_selector_matches(const struct npgw_k8s_selector *s, const struct npgw_k8s_labels *l);
bool ref_addr_in_prefix(const struct npgw_prefix *p, const struct npgw_addr *a);

/* Field by field (the structs have padding). */
bool ref_result_equal(const struct ref_result *a, const struct ref_result *b);

/* "ALLOW policy 3 rule 1", "DENY policy 2", "not-isolated". */
const char *ref_side_format(const struct ref_side *s, char *buf, size_t len);
/* "TCP 10.0.0.1 -> 10.0.0.2:80". */
const char *ref_query_format(const struct ref_query *q, char *buf, size_t len);

/* ---- building clusters ---- */

/* Allocation that aborts on failure. */
void *ref_xmalloc(size_t n);
void *ref_xcalloc(size_t n, size_t size);
void *ref_xrealloc(void *p, size_t n);
char *ref_xstrdup(const char *s);

struct npgw_k8s_cluster *ref_cluster_new(void);
/* Free every object as npgw_k8s_cluster_free does. Accepts NULL. */
void ref_cluster_free(struct npgw_k8s_cluster *c);
/* Sort objects by (namespace, name), label sets by key, selector values. */
void ref_cluster_sort(struct npgw_k8s_cluster *c);

void ref_labels_free(struct npgw_k8s_labels *l);
void ref_selector_free(struct npgw_k8s_selector *s);
void ref_pod_free(struct npgw_k8s_pod *p);
void ref_policy_free(struct npgw_k8s_policy *p);
void ref_namespace_free(struct npgw_k8s_namespace *n);

/*
 * Text notation (kubectl's):
 *  labels:    "app=web,tier=front" ("" for none)
 *  selectors: comma-separated terms: "k=v" (matchLabels), "k in (a,b)",
 *             "k notin (a,b)", "k" (Exists), "!k" (DoesNotExist); "" is the
 *             empty selector.
 *  addresses: "10.0.0.1,fd00::1"; prefixes "10.0.0.0/24,10.0.0.8/30".
 * A malformed text aborts (these are for hand-written tests).
 */
void ref_parse_labels(const char *text, struct npgw_k8s_labels *out);
void ref_parse_selector(const char *text, struct npgw_k8s_selector *out);

/* Add a Namespace object; its kubernetes.io/metadata.name label is added. */
struct npgw_k8s_namespace *ref_add_namespace(struct npgw_k8s_cluster *c, const char *name,
					     const char *labels);
/* Add a pod (phase "Running", not hostNetwork). */
struct npgw_k8s_pod *ref_add_pod(struct npgw_k8s_cluster *c, const char *ns, const char *name,
				 const char *labels, const char *addrs);
void ref_pod_add_port(struct npgw_k8s_pod *p, const char *name, uint8_t proto, uint16_t port);
/* Add a policy with explicit policy types. */
struct npgw_k8s_policy *ref_add_policy(struct npgw_k8s_cluster *c, const char *ns,
				       const char *name, const char *pod_selector,
				       bool isolates_ingress, bool isolates_egress);
/* Set the policy types as the API server infers them when policyTypes is
 * omitted: Ingress always, Egress iff there is at least one egress rule. */
void ref_policy_infer_types(struct npgw_k8s_policy *p);
/* Add a rule (no peers, no ports). The pointer is valid until the next rule
 * of that direction is added. */
struct npgw_k8s_rule *ref_policy_add_rule(struct npgw_k8s_policy *p, bool egress);
/* A peer with a pod and/or namespace selector; NULL means absent. */
void ref_rule_add_peer(struct npgw_k8s_rule *r, const char *pod_sel, const char *ns_sel);
void ref_rule_add_ipblock(struct npgw_k8s_rule *r, const char *cidr, const char *excepts);
/* A port: name non-NULL for a named port; port 0 for every port of proto;
 * end_port 0 for a single port. */
void ref_rule_add_port(struct npgw_k8s_rule *r, uint8_t proto, uint16_t port, uint16_t end_port,
		       const char *name);

/* Remove the pod (found by pointer) from c and free it. */
void ref_cluster_remove_pod(struct npgw_k8s_cluster *c, struct npgw_k8s_pod *p);

/*
 * Test-case minimisation: remove the k-th removable item of c (a policy, a
 * pod, a Namespace object, a rule, a peer, an except, a port, a selector
 * term, a label, a container port; in that walk order). What is left is
 * still a valid model (a rule that loses its last peer allows every peer,
 * and so on). Returns false when c has k items or fewer.
 */
bool ref_remove_item(struct npgw_k8s_cluster *c, size_t k);

/* ---- printing ---- */

void ref_selector_format(const struct npgw_k8s_selector *s, FILE *out);
/* The whole cluster as Kubernetes YAML (policyTypes always explicit), which
 * the loader reads back. */
void ref_dump_yaml(const struct npgw_k8s_cluster *c, FILE *out);
void ref_dump_policy_yaml(const struct npgw_k8s_policy *p, FILE *out);
void ref_dump_pod_yaml(const struct npgw_k8s_pod *p, FILE *out);
/* What a person needs to understand a verdict on q: the pods of both ends
 * with their labels and ports, their namespaces' labels, and every policy
 * that selects the source (egress) or the destination (ingress), plus
 * the policies given in extra (-1 ends the list). */
void ref_dump_relevant(const struct npgw_k8s_cluster *c, const struct ref_query *q,
		       const int32_t *extra, size_t n_extra, FILE *out);

/* ---- generator ---- */

/* splitmix64: small, fast, good enough, and the same on every machine. */
struct ref_rng {
	uint64_t s;
};

static inline void ref_rng_seed(struct ref_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t ref_rng_next(struct ref_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t ref_rng_below(struct ref_rng *r, uint32_t n);
/* True with probability pct / 100. */
bool ref_rng_pct(struct ref_rng *r, uint32_t pct);

/* A random cluster using every feature of the model: namespaces with and
 * without Namespace objects, target and non-target pods, dual stack, named
 * ports, selectors of every operator, every peer kind, ipBlocks with
 * excepts in both families, every port form. Sorted. */
struct npgw_k8s_cluster *ref_gen_random(uint64_t seed);

/* n queries aimed at c: pod addresses, ipBlock boundaries and random
 * addresses; protocols TCP/UDP/SCTP/ICMP(v6) and a few others; ports those
 * the policies and pods use, their neighbours, and random ones. */
void ref_gen_queries(const struct npgw_k8s_cluster *c, struct ref_rng *rng, struct ref_query *q,
		     size_t n);

/* A cluster of realistic shape (benchmarks): namespaces of Deployments of
 * 5-50 replicas labelled app=<name>, tier=..., default-deny and
 * same-namespace policies per namespace, per-app policies allowing 1-3
 * other apps on 1-3 ports, a few ipBlocks, DNS egress. */
struct ref_gen_realistic_params {
	uint64_t seed;
	size_t n_pods; /* about this many pods */
	size_t n_policies; /* about this many policies */
	/* cluster-wide tiers: Admin policies (AdminNetworkPolicy and
	 * ClusterNetworkPolicy, priorities 10..), Baseline policies (the
	 * BaselineAdminNetworkPolicy, then Baseline ClusterNetworkPolicies):
	 * metadata guards, monitoring allows, team isolation, Passes, namespace
	 * default denies */
	size_t n_admin;
	size_t n_baseline;
};
struct npgw_k8s_cluster *ref_gen_realistic(const struct ref_gen_realistic_params *prm);

/* Add one replica to a Deployment of c, chosen by rng: same namespace,
 * labels and container ports as its siblings, a new unique address.
 * Returns the new pod (c is sorted again). */
struct npgw_k8s_pod *ref_gen_add_replica(struct npgw_k8s_cluster *c, struct ref_rng *rng);

#endif /* NPGW_TEST_REF_H */
