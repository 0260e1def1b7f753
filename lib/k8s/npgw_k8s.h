/*
 * npgw_k8s.h: the cluster model. Kubernetes NetworkPolicy
 * (networking.k8s.io/v1), Pod (v1) and Namespace (v1) objects read from YAML
 * or JSON into plain C structures, validated, with no DPDK dependency.
 *
 * The model is what the compiler reads. Everything in it has been validated:
 * a selector operator has the right number of values, a CIDR parses, an
 * except lies inside its cidr, ports are in range, endPort >= port, and so on.
 * Defaults are filled in: protocol is TCP when omitted; policy types are
 * inferred when omitted (Ingress always, Egress when an egress section is
 * present); a Namespace carries its implicit kubernetes.io/metadata.name
 * label.
 *
 * The cluster-wide tiers (sigs.k8s.io/network-policy-api) share the policy
 * model: AdminNetworkPolicy and BaselineAdminNetworkPolicy
 * (policy.networking.k8s.io/v1alpha1) and ClusterNetworkPolicy (v1alpha2)
 * are struct npgw_k8s_policy objects with kind, tier and priority set, and
 * v1 Node objects are struct npgw_k8s_pod objects that are never policy
 * targets. Both are cluster-scoped: they live in the namespaced lists under
 * a pseudo-namespace that no Namespace can have (it is not a DNS label:
 * upper case), the kind's name (NPGW_K8S_NS_ADMIN...). So every list
 * keeps its (namespace, name) order and its identity, and what edits,
 * journals and undoes the lists (lib/state) carries them unchanged.
 *
 * Threads: every function here is for the control thread (or any single
 * thread that owns the cluster); nothing is shared.
 */
#ifndef NPGW_K8S_H
#define NPGW_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_common.h"

#define NPGW_K8S_NS_NAME_LABEL "kubernetes.io/metadata.name"

/* The pseudo-namespaces of cluster-scoped objects (see above). */
#define NPGW_K8S_NS_ANP "AdminNetworkPolicy"
#define NPGW_K8S_NS_BANP "BaselineAdminNetworkPolicy"
#define NPGW_K8S_NS_CNP "ClusterNetworkPolicy"
#define NPGW_K8S_NS_NODE "Node"

/* What kind of policy object a struct npgw_k8s_policy is. */
enum npgw_k8s_policy_kind {
	NPGW_K8S_NETWORK_POLICY = 0, /* networking.k8s.io/v1 */
	NPGW_K8S_ADMIN_NETWORK_POLICY = 1, /* policy.networking.k8s.io/v1alpha1 */
	NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY = 2, /* v1alpha1, only "default" */
	NPGW_K8S_CLUSTER_NETWORK_POLICY = 3, /* policy.networking.k8s.io/v1alpha2 */
};

/* The tier a policy belongs to: evaluated Admin, NetworkPolicy, Baseline. */
enum npgw_k8s_tier {
	NPGW_K8S_TIER_NETPOL = 0,
	NPGW_K8S_TIER_ADMIN = 1,
	NPGW_K8S_TIER_BASELINE = 2,
};

/* The action of a tier rule (a NetworkPolicy rule always allows). */
enum npgw_k8s_action {
	NPGW_K8S_ACTION_ALLOW = 0, /* v1alpha1 Allow, v1alpha2 Accept */
	NPGW_K8S_ACTION_DENY = 1,
	NPGW_K8S_ACTION_PASS = 2,
};

/* The priority the one BaselineAdminNetworkPolicy is ordered by: after
 * every Baseline ClusterNetworkPolicy (0..1000), should both be used. */
#define NPGW_K8S_BANP_PRIORITY 1001

/* Where an object came from, for messages and explain output. */
struct npgw_k8s_origin {
	char *file;
	uint32_t line;
	uint32_t col;
};

struct npgw_k8s_label {
	char *key;
	char *value;
};

/* A set of labels, sorted by key, keys unique. */
struct npgw_k8s_labels {
	struct npgw_k8s_label *v;
	size_t n;
};

enum npgw_k8s_sel_op {
	NPGW_K8S_OP_IN,
	NPGW_K8S_OP_NOT_IN,
	NPGW_K8S_OP_EXISTS,
	NPGW_K8S_OP_DOES_NOT_EXIST,
};

struct npgw_k8s_expr {
	char *key;
	enum npgw_k8s_sel_op op;
	char **values; /* sorted, unique; empty for Exists / DoesNotExist */
	size_t n_values;
};

/* A label selector. matchLabels AND every matchExpression. An empty
 * selector (no labels, no expressions) matches everything. */
struct npgw_k8s_selector {
	struct npgw_k8s_labels match_labels;
	struct npgw_k8s_expr *exprs;
	size_t n_exprs;
};

/* A peer of a rule: either ipBlock, or pod and/or namespace selectors, or
 * (tier policies, egress) a node selector.
 *  - pod selector only: pods of the policy's namespace matching it;
 *  - namespace selector only: every pod of the matching namespaces;
 *  - both: pods matching the pod selector in namespaces matching the
 *    namespace selector;
 *  - node selector: every address of the matching Nodes.
 * A tier policy's `networks: [a, b]` is read as one ipBlock peer per CIDR,
 * without except. */
struct npgw_k8s_peer {
	bool has_node_selector;
	struct npgw_k8s_selector node_selector;
	bool has_pod_selector;
	struct npgw_k8s_selector pod_selector;
	bool has_ns_selector;
	struct npgw_k8s_selector ns_selector;
	bool has_ip_block;
	struct npgw_prefix cidr;
	struct npgw_prefix *except; /* each inside cidr, same family */
	size_t n_except;
};

/* A port of a rule. Exactly one of: any port of the protocol (has_port
 * false), a number (port, with end_port >= port for a range, or 0), or a
 * named port (name non-NULL, resolved per destination pod). */
struct npgw_k8s_port {
	uint8_t protocol; /* NPGW_PROTO_TCP, _UDP or _SCTP */
	bool has_port;
	uint16_t port;
	uint16_t end_port; /* 0: no range */
	char *name; /* named port, or NULL */
	/* A tier policy's named port (v1alpha1 namedPort, v1alpha2
	 * destinationNamedPort) names a port whatever its protocol: it is read
	 * as three entries, TCP, UDP and SCTP, each with any_proto set. */
	bool any_proto;
};

/* One ingress or egress rule. n_peers == 0: every peer. n_ports == 0: every
 * port and protocol. */
struct npgw_k8s_rule {
	struct npgw_k8s_peer *peers;
	size_t n_peers;
	struct npgw_k8s_port *ports;
	size_t n_ports;
	/* Where the rule is written in its policy's origin file (1-based; 0
	 * in a rule built by hand): explain names it. */
	uint32_t line;
	uint32_t col;
	/* Tier policies: the action (NetworkPolicy rules: ALLOW), and the
	 * rule's name, or NULL. */
	uint8_t action; /* enum npgw_k8s_action */
	char *name;
};

/*
 * A NetworkPolicy, or a tier policy (kind != NPGW_K8S_NETWORK_POLICY): then
 * namespace is the kind's pseudo-namespace, the subject is ns_selector
 * (has_ns_selector: `namespaces`, or `pods.namespaceSelector`) AND
 * pod_selector ({} for `namespaces`), isolates_* are false (selection by a
 * tier policy isolates nothing), every rule has at least one peer, and
 * rules carry their action.
 */
struct npgw_k8s_policy {
	char *namespace;
	char *name;
	struct npgw_k8s_origin origin;
	uint8_t kind; /* enum npgw_k8s_policy_kind */
	uint8_t tier; /* enum npgw_k8s_tier */
	uint16_t priority; /* 0..1000; NPGW_K8S_BANP_PRIORITY; 0 for NetworkPolicy */
	bool has_ns_selector;
	struct npgw_k8s_selector ns_selector;
	struct npgw_k8s_selector pod_selector;
	bool isolates_ingress; /* Ingress in policyTypes (explicit or inferred) */
	bool isolates_egress; /* Egress in policyTypes (explicit or inferred) */
	struct npgw_k8s_rule *ingress;
	size_t n_ingress;
	struct npgw_k8s_rule *egress;
	size_t n_egress;
};

struct npgw_k8s_container_port {
	char *name; /* NULL when unnamed */
	uint16_t port;
	uint8_t protocol;
};

struct npgw_k8s_pod {
	char *namespace;
	char *name;
	struct npgw_k8s_origin origin;
	struct npgw_k8s_labels labels;
	bool host_network;
	char *phase; /* status.phase, NULL when absent */
	struct npgw_addr *addrs; /* status.podIPs (or podIP), unique */
	size_t n_addrs;
	struct npgw_k8s_container_port *ports; /* every container's ports */
	size_t n_ports;
};

struct npgw_k8s_namespace {
	char *name;
	struct npgw_k8s_origin origin;
	struct npgw_k8s_labels labels; /* includes kubernetes.io/metadata.name */
};

/*
 * The cluster: every object sorted by (namespace, name) so that everything
 * computed from it is deterministic. Objects are owned by the cluster: every
 * pointer in it, strings, arrays and objects, comes from malloc and is freed
 * by npgw_k8s_cluster_free, so code that builds a cluster by hand (tests,
 * generators) allocates the same way and calls npgw_k8s_cluster_sort.
 */
struct npgw_k8s_cluster {
	struct npgw_k8s_namespace **namespaces;
	size_t n_namespaces;
	struct npgw_k8s_pod **pods;
	size_t n_pods;
	struct npgw_k8s_policy **policies;
	size_t n_policies;
	/* Objects of the kinds above that were read but refused because they
	 * had errors (not in the lists); for summaries such as npgwctl's
	 * "N errors in K objects". 0 in a cluster built by hand. */
	size_t n_refused;
};

/* An empty cluster, or NULL on allocation failure. Control thread. */
struct npgw_k8s_cluster *npgw_k8s_cluster_new(void);

/* Free a cluster and every object in it. Accepts NULL. */
void npgw_k8s_cluster_free(struct npgw_k8s_cluster *c);

/*
 * Read objects from a file or a directory (every .yaml, .yml and .json in
 * it, in name order, not recursive) into c. Multi-document YAML, JSON, and
 * kind: List (kubectl -o yaml / -o json) are read. Objects of other kinds
 * are ignored; fields npgw does not use outside a NetworkPolicy spec are
 * ignored; unknown fields inside a NetworkPolicy spec are errors.
 *
 * Every error and warning goes to diags, each naming file, line, column and
 * field path; all errors of a file are reported. Returns 0 when no error was
 * found, -EINVAL when diags holds errors (c then holds only the objects that
 * were read without error; callers that want all or nothing discard it),
 * or another negative errno (-ENOENT, -EIO, -ENOMEM). path "-" is stdin
 * (lib/doc's npgw_doc_read_path reads every path).
 */
int npgw_k8s_load_path(struct npgw_k8s_cluster *c, const char *path, struct npgw_diags *diags);

/*
 * Same as npgw_k8s_load_path for text already in memory (the control
 * socket's apply). name is used as the file name in messages.
 */
int npgw_k8s_load_buffer(struct npgw_k8s_cluster *c, const char *name, const char *buf,
			 size_t len, struct npgw_diags *diags);

/*
 * Read every path (as npgw_k8s_load_path) into a new cluster and run
 * npgw_k8s_cluster_validate: all or nothing. Returns the cluster, or NULL
 * with *err -EINVAL when diags holds errors (a path that cannot be read is
 * one, naming the path), or -ENOMEM. Warnings alone do not refuse.
 */
struct npgw_k8s_cluster *npgw_k8s_load_paths(const char *const *paths, size_t n,
					     struct npgw_diags *diags, int *err);

/*
 * Checks that span objects: duplicates (same kind, namespace and name
 * across files), and two pods that claim the same address. Returns 0 or
 * -EINVAL with the reasons in diags.
 */
int npgw_k8s_cluster_validate(const struct npgw_k8s_cluster *c, struct npgw_diags *diags);

/*
 * Advice on what the objects say, as warnings (never errors): when c holds
 * pods, a policy that selects none, an ingress rule's named port that no
 * pod the policy selects has, an egress rule's named port that no pod has.
 * For input being checked (npgwctl validate, the policy files); a restored
 * state is not warned about again. Returns 0 or -ENOMEM.
 */
int npgw_k8s_cluster_warn(const struct npgw_k8s_cluster *c, struct npgw_diags *diags);

/* Sort every object list by (namespace, name), and every label set by key.
 * Control thread. */
void npgw_k8s_cluster_sort(struct npgw_k8s_cluster *c);

/* True when the selector matches the labels. */
bool npgw_k8s_selector_matches(const struct npgw_k8s_selector *s, const struct npgw_k8s_labels *l);

/* Free what a selector holds (not s itself) and empty it. */
void npgw_k8s_selector_clear(struct npgw_k8s_selector *s);

/* The value of key in l, or NULL. */
const char *npgw_k8s_label_get(const struct npgw_k8s_labels *l, const char *key);

/* Find an object by namespace and name (binary search), or NULL. */
const struct npgw_k8s_pod *npgw_k8s_find_pod(const struct npgw_k8s_cluster *c, const char *ns,
					     const char *name);
const struct npgw_k8s_namespace *npgw_k8s_find_namespace(const struct npgw_k8s_cluster *c,
							 const char *name);

/*
 * The labels of namespace ns: those of its Namespace object, or, when the
 * cluster has none, only the implicit kubernetes.io/metadata.name label.
 * *tmp is storage for that implicit label. Never NULL.
 */
const struct npgw_k8s_labels *npgw_k8s_namespace_labels(const struct npgw_k8s_cluster *c,
							const char *ns,
							struct npgw_k8s_label *tmp,
							struct npgw_k8s_labels *tmp_set);

/* True when the pod takes part in policy: not hostNetwork, and not in a
 * terminal phase (Succeeded, Failed), whose addresses may be reused. */
bool npgw_k8s_pod_is_policy_target(const struct npgw_k8s_pod *p);

/* True when the "pod" is a v1 Node (namespace NPGW_K8S_NS_NODE; its
 * addresses are status.addresses of type InternalIP and ExternalIP; it is
 * hostNetwork, so never a policy target). */
bool npgw_k8s_pod_is_node(const struct npgw_k8s_pod *p);

/* The kind name of a policy ("NetworkPolicy", "AdminNetworkPolicy",
 * "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy") and of a tier
 * ("NetworkPolicy", "Admin", "Baseline"). */
const char *npgw_k8s_policy_kind_name(const struct npgw_k8s_policy *p);
const char *npgw_k8s_tier_name(unsigned int tier);

/* True when the tier policy p selects pod (ns_labels: its namespace's):
 * never a host-network pod. For NetworkPolicy objects: namespace equality
 * and the pod selector, as always. */
bool npgw_k8s_policy_selects(const struct npgw_k8s_policy *p, const struct npgw_k8s_pod *pod,
			     const struct npgw_k8s_labels *ns_labels);

/* ---- editing the desired state (edit.c) ---- */

/*
 * A deep copy of c: every string, array and object is new, so the copy and
 * the original may be changed or freed independently. n_refused is copied.
 * Returns the copy, or NULL with *err = -ENOMEM (err may be NULL). The
 * caller frees it with npgw_k8s_cluster_free. Control thread.
 */
struct npgw_k8s_cluster *npgw_k8s_cluster_clone(const struct npgw_k8s_cluster *c, int *err);

/*
 * Move every object of src into dst (an upsert): an object of src replaces
 * every object of dst with the same kind, namespace and name (the replaced
 * ones are freed); the others are added. The objects keep their origin, so
 * a replaced object now names where the applied one came from. src is left
 * empty (its n_refused is added to dst's), dst is sorted. Objects that src
 * holds twice both land in dst: npgw_k8s_cluster_validate reports them.
 * Returns 0, or -ENOMEM with dst and src unchanged. Control thread.
 */
int npgw_k8s_cluster_merge(struct npgw_k8s_cluster *dst, struct npgw_k8s_cluster *src);

/*
 * Remove the object of kind with namespace ns and name name (every copy,
 * should the cluster hold duplicates). kind is "NetworkPolicy", "Pod" or
 * "Namespace", or as kubectl names resources: "networkpolicy",
 * "networkpolicies", "netpol", "pod", "pods", "po", "namespace",
 * "namespaces", "ns" (case-sensitive). ns NULL or "" means "default", as
 * in the loader; it is ignored for a Namespace. Removing a Namespace does
 * not remove its pods and policies (their namespace then has only its
 * implicit name label). The order stays sorted. Returns 0, -ENOENT when
 * there is no such object, or -EINVAL for an unknown kind or a NULL name.
 * Control thread.
 */
int npgw_k8s_cluster_remove(struct npgw_k8s_cluster *c, const char *kind, const char *ns,
			    const char *name);

/*
 * One object at a time, for a control plane that edits a large state in
 * place and may have to undo: c must be sorted (npgw_k8s_cluster_sort, or
 * only edited with these and merge), and stays sorted. put: the object
 * (taken) replaces the one with its namespace and name,
 * which is handed back in *old, not freed (NULL when there was none), or
 * is inserted in order; 0 or -ENOMEM (nothing changed). take: the object
 * with that key out of c, not freed, or NULL. O(log n) to find, O(n)
 * pointer moves to insert or take. An object put comes from a cluster
 * that was sorted (npgw_k8s_cluster_sort sorts labels and selectors too).
 * The free functions accept NULL.
 * Control thread (or the one thread that owns c).
 */
int npgw_k8s_cluster_put_pod(struct npgw_k8s_cluster *c, struct npgw_k8s_pod *p,
			     struct npgw_k8s_pod **old);
int npgw_k8s_cluster_put_policy(struct npgw_k8s_cluster *c, struct npgw_k8s_policy *p,
				struct npgw_k8s_policy **old);
int npgw_k8s_cluster_put_namespace(struct npgw_k8s_cluster *c, struct npgw_k8s_namespace *n,
				   struct npgw_k8s_namespace **old);
struct npgw_k8s_pod *npgw_k8s_cluster_take_pod(struct npgw_k8s_cluster *c, const char *ns,
					       const char *name);
struct npgw_k8s_policy *npgw_k8s_cluster_take_policy(struct npgw_k8s_cluster *c, const char *ns,
						     const char *name);
struct npgw_k8s_namespace *npgw_k8s_cluster_take_namespace(struct npgw_k8s_cluster *c,
							   const char *name);
void npgw_k8s_pod_free(struct npgw_k8s_pod *p);
void npgw_k8s_policy_free(struct npgw_k8s_policy *p);
void npgw_k8s_namespace_free(struct npgw_k8s_namespace *n);

/* Namespaces + pods + policies of c (refused objects do not count); 0 for
 * NULL. */
size_t npgw_k8s_object_count(const struct npgw_k8s_cluster *c);

/* ---- back to Kubernetes JSON (emit.c) ---- */

struct cJSON; /* <cjson/cJSON.h> */

/*
 * Each object as Kubernetes JSON (a cJSON tree the caller frees with
 * cJSON_Delete), holding exactly what the model holds, with every default
 * written out, so that npgw_k8s_load_buffer reads back the same object
 * (origin aside):
 *  - NetworkPolicy: apiVersion, kind, metadata {namespace, name}, spec
 *    {podSelector, policyTypes (always explicit, from isolates_ingress /
 *    isolates_egress), ingress / egress when they hold rules}; peers with
 *    podSelector / namespaceSelector / ipBlock {cidr, except} (canonical
 *    prefixes: host bits cleared), ports with protocol always, port as a
 *    number or a port name string, endPort when a range. A policy that
 *    isolates neither direction cannot be written in Kubernetes (an empty
 *    policyTypes reads as omitted); only a cluster built by hand holds one,
 *    and it is written with policyTypes: [].
 *  - Pod: metadata {namespace, name, labels}, spec {hostNetwork when true,
 *    containers}, status {phase when known, podIP (the first address),
 *    podIPs}. The model keeps one flat list of container ports, so they are
 *    written into containers "c0", "c1"...: in order, a new container only
 *    where a port name repeats (the loader refuses a name twice in one
 *    container).
 *  - Namespace: metadata {name, labels}, labels as held (with
 *    kubernetes.io/metadata.name).
 * Returns NULL on allocation failure. Any thread (reads only).
 */
struct cJSON *npgw_k8s_policy_to_json(const struct npgw_k8s_policy *p);
struct cJSON *npgw_k8s_pod_to_json(const struct npgw_k8s_pod *p);
struct cJSON *npgw_k8s_namespace_to_json(const struct npgw_k8s_namespace *n);

/*
 * The whole cluster as {"apiVersion": "v1", "kind": "List", "items": [...]}:
 * namespaces, then pods, then policies, each by (namespace, name) whatever
 * the order of c. Returns NULL on allocation failure; the caller frees with
 * cJSON_Delete. Any thread (reads only).
 */
struct cJSON *npgw_k8s_cluster_to_json(const struct npgw_k8s_cluster *c);

#endif /* NPGW_K8S_H */
