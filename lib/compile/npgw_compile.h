/*
 * npgw_compile.h: the policy compiler. Cluster model (lib/k8s) -> rule set:
 * address classes (stage 1) and class-pair ACL rules (stage 2). Pure C, no
 * DPDK, deterministic: the same cluster gives the same rule set, byte for
 * byte.
 *
 * Why classes (see DESIGN.md): two addresses share a class when every
 * selector, every ipBlock and every named port of every policy treats them
 * alike. Pods of one Deployment collapse into one class, so the ACL grows
 * with the number of distinct behaviours, not with pods x peers, and a pod
 * that joins an existing class changes only the stage-1 table.
 *
 * Per packet, the data plane:
 *  1. looks up the class of the source and of the destination address in
 *     the stage-1 table (longest prefix match over `stage1`, the family's
 *     default class on a miss);
 *  2. classifies the key (protocol, src class, dst class, dst port, and the
 *     class_bits of both classes) against
 *     `rules` with NPGW_COMPILE_N_CATEGORIES categories. Category
 *     NPGW_COMPILE_CAT_EGRESS gives the egress side's result, category
 *     NPGW_COMPILE_CAT_INGRESS the ingress side's: the NetworkPolicy tier,
 *     and below it (only where no NetworkPolicy isolates the pod) the
 *     Baseline tier. NPGW_COMPILE_CAT_ADMIN_EGRESS / _INGRESS give the
 *     Admin tier's first matching rule. A result of 0 means "nothing
 *     decided" on that side; otherwise it is a meta index + 1 and the
 *     meta says allow, deny or pass and which policy and rule it is.
 *  3. Per side, the Admin result decides when it allows or denies; after a
 *     Pass or no Admin match, the NetworkPolicy / Baseline result does.
 *     The packet is allowed iff neither side's deciding meta says deny.
 *
 * Threads: control thread only. The result is immutable once returned and
 * may be read from any thread.
 */
#ifndef NPGW_COMPILE_H
#define NPGW_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_common.h"
#include "npgw_k8s.h"

/* ACL categories. The count must be a multiple of
 * RTE_ACL_RESULTS_MULTIPLIER (4 on x86). The Admin tier needs categories
 * of its own because a Pass must reveal what the tiers below say; the
 * Baseline tier shares the NetworkPolicy ones, below every NetworkPolicy
 * rule (a pod a NetworkPolicy isolates has its default deny there, so
 * Baseline rules only ever decide for pods no NetworkPolicy selects). */
enum {
	NPGW_COMPILE_CAT_EGRESS = 0,
	NPGW_COMPILE_CAT_INGRESS = 1,
	NPGW_COMPILE_CAT_ADMIN_EGRESS = 2,
	NPGW_COMPILE_CAT_ADMIN_INGRESS = 3,
	NPGW_COMPILE_N_CATEGORIES = 4,
};

enum npgw_compile_dir {
	NPGW_COMPILE_EGRESS = 0,
	NPGW_COMPILE_INGRESS = 1,
};

enum npgw_compile_action {
	NPGW_COMPILE_ALLOW = 1,
	/* The per-pod default deny of a pod isolated in that direction, or a
	 * tier rule's Deny. */
	NPGW_COMPILE_DENY = 2,
	/* An Admin (or v1alpha2 Baseline) rule's Pass: the tiers below decide
	 * (after a Baseline Pass: allowed). */
	NPGW_COMPILE_PASS = 3,
};

/* Priority bands: every allow rule outranks every default deny, which
 * outranks every Baseline rule. Within the allow band, earlier (policy,
 * direction, rule) ranks higher, so the policy and rule reported for an
 * allowed packet are the first that allow it in cluster order (policies
 * sorted by namespace/name). Tier rules rank by (priority, kind, name,
 * rule): NPGW_COMPILE_TIER_RULES slots a policy. */
#define NPGW_COMPILE_PRIO_DENY (1u << 24)
#define NPGW_COMPILE_PRIO_ALLOW_MAX 0x1fffffffu /* RTE_ACL_MAX_PRIORITY */
#define NPGW_COMPILE_TIER_RULES 128u

/* What an ACL result means. */
struct npgw_compile_meta {
	uint8_t action; /* enum npgw_compile_action */
	uint8_t dir; /* enum npgw_compile_dir */
	uint32_t policy; /* index into the cluster's policies at compile time */
	char *policy_ns;
	char *policy_name;
	int32_t rule; /* rule index within its direction; -1 for a default deny */
	uint8_t tier; /* enum npgw_k8s_tier of the policy */
	uint8_t kind; /* enum npgw_k8s_policy_kind */
	uint16_t priority; /* tier policies: spec.priority */
	char *rule_name; /* tier rules: the rule's name, or NULL */
	/* Where the rule (a deny: the policy) is written: the policy's origin
	 * file and the rule's line; NULL and 0 when unknown. */
	char *file;
	uint32_t line;
};

/*
 * One ACL rule: every field inclusive; proto_mask 0 means any protocol.
 * src_bits / dst_bits: the rule matches only when the source (destination)
 * class has these bits of class_bits set; 0 matches any class. They carry
 * the peers whose classes lie scattered over the id order (an ipBlock
 * spans pods of every namespace): one bit test instead of one rule per run
 * of ids.
 */
struct npgw_compile_rule {
	uint8_t proto;
	uint8_t proto_mask;
	uint16_t port_lo;
	uint16_t port_hi;
	uint32_t src_lo;
	uint32_t src_hi;
	uint32_t dst_lo;
	uint32_t dst_hi;
	uint32_t src_bits;
	uint32_t dst_bits;
	uint32_t categories; /* bit i: category i */
	uint32_t priority;
	uint32_t userdata; /* meta index + 1, never 0 */
};

/* Peers given a bit at most, and the fewest runs of class ids that earn
 * one (fewer runs are cheaper as ranges). */
#define NPGW_COMPILE_MAX_BITS 32
#define NPGW_COMPILE_BIT_MIN_RUNS 3

/* A stage-1 entry: every address inside prefix whose longest match is this
 * entry belongs to class_id. Pod addresses are host entries (/32, /128);
 * ipBlock cidrs and excepts are prefixes. Prefixes of length 0 are not
 * entries: they set the family's default class. */
struct npgw_compile_stage1 {
	struct npgw_prefix prefix;
	uint32_t class_id;
};

/* A class, described for people (explain, status). */
struct npgw_compile_class {
	uint32_t n_pod_addrs; /* pod addresses in the class */
	char *example; /* "ns/pod" or a prefix, the first member */
	int32_t isolated_ingress_by; /* first policy isolating it, or -1 */
	int32_t isolated_egress_by;
};

struct npgw_compile_state; /* private (compile_private.h) */

struct npgw_compile_result {
	struct npgw_compile_class *classes;
	uint32_t n_classes;
	uint32_t *class_bits; /* per class: the peer bits it belongs to */
	struct npgw_compile_stage1 *stage1; /* sorted: family, then prefix */
	size_t n_stage1;
	uint32_t default_class4; /* class of an IPv4 address no entry covers */
	uint32_t default_class6;
	struct npgw_compile_rule *rules; /* sorted, no duplicates */
	size_t n_rules;
	struct npgw_compile_meta *metas;
	uint32_t n_metas;
	/* Private: what npgw_compile_update_pods needs, shared (reference
	 * counted) by every result derived from one full compile, and owning
	 * their rules, metas and class_bits. NULL in a result built by hand,
	 * which then owns those itself. */
	struct npgw_compile_state *state;
};

/* Knobs of a compile; npgw_compile uses the defaults. */
struct npgw_compile_opts {
	/* Peers given a class bit, at most NPGW_COMPILE_MAX_BITS; 0 turns
	 * the bits off (every peer as class ranges: more rules, but a shape
	 * rte_acl always builds). */
	unsigned int max_bits;
};

/* Compile with opts (see npgw_compile). */
struct npgw_compile_result *npgw_compile_with(const struct npgw_k8s_cluster *c,
					      const struct npgw_compile_opts *opts, int *err);

/*
 * Compile a validated cluster. Returns the rule set, or NULL with *err set
 * to a negative errno (-ENOMEM; -E2BIG when the classes or rules exceed
 * what the ACL can hold). Control thread. Free with npgw_compile_free.
 */
struct npgw_compile_result *npgw_compile(const struct npgw_k8s_cluster *c, int *err);

/*
 * The result a full npgw_compile(next) would give, derived from prev
 * when next is the cluster prev was compiled from with the pods removed
 * taken out and the pods added put in (a changed pod: its old version in
 * removed, its new one in added), and nothing else changed: the same
 * policies and Namespace objects, in the same order. The caller vouches
 * for that (the daemon applied or deleted Pod objects only); only the
 * numbers of policies and namespaces are checked, since reading them all
 * would cost more than the update. removed points at the pods as prev's
 * cluster held them; they are read during the call only.
 *
 * Only pods that join and leave classes that exist go this way: the result
 * then has the same classes with the same ids, the same rules, metas and
 * class_bits (shared with prev, not copied: npgw_compile_same_acl is true
 * at once), and equals npgw_compile(next) field for field, class examples
 * and counts and stage-1 entries included. Otherwise it returns NULL with
 * *err = -EAGAIN, and the caller compiles next in full:
 *  - a pod whose behaviour (selections, peers matched, named-port numbers)
 *    or whose (behaviour, ipBlock memberships) no class of prev has;
 *  - a class left without members (it would vanish, renumbering others);
 *  - a class whose first member (in cluster order) changes namespace
 *    (classes are numbered by that namespace);
 *  - prev not from npgw_compile (no state), other numbers of policies or
 *    namespaces, an added address that a pod of prev already holds, a
 *    removed pod that prev does not have.
 * Other errors: -ENOMEM. Cost: the pods changed, plus a copy of prev's
 * stage-1 array and class list. Control thread; prev stays valid and
 * unchanged. Free with npgw_compile_free, in any order with prev.
 */
struct npgw_compile_result *npgw_compile_update_pods(const struct npgw_compile_result *prev,
						     const struct npgw_k8s_cluster *next,
						     const struct npgw_k8s_pod *const *removed,
						     size_t n_removed,
						     const struct npgw_k8s_pod *const *added,
						     size_t n_added, int *err);

/* Free a result. Accepts NULL. */
void npgw_compile_free(struct npgw_compile_result *r);

/*
 * Class of an address by a linear scan of stage1 (longest match).
 * For tests and tools; the data plane uses lib/ruleset's stage-1 tables.
 * Any thread.
 */
uint32_t npgw_compile_class_of(const struct npgw_compile_result *r, const struct npgw_addr *a);

/*
 * True when the ACL parts of two results are identical (same classes
 * count, same rules), so the ACL built for one serves the other: the case of
 * pod churn that creates no new class. (class_bits are looked up per
 * generation, outside the ACL.) Results that share their rules
 * (npgw_compile_update_pods) answer without comparing them.
 */
bool npgw_compile_same_acl(const struct npgw_compile_result *a,
			   const struct npgw_compile_result *b);

#endif /* NPGW_COMPILE_H */
