/*
 * compile_private.h: internals of the policy compiler: an interning table
 * that gives byte strings dense ids (used to group pods, behaviours and
 * classes), growable arrays, the compile context (compile.c), and what a
 * full compile keeps for npgw_compile_update_pods (incr.c).
 */
#ifndef NPGW_COMPILE_PRIVATE_H
#define NPGW_COMPILE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_compile.h"

/*
 * Interning table: byte string -> dense id (0, 1, 2, ... in order of first
 * insertion). The strings are copied into one pool, each 8-byte aligned.
 * Single owner.
 */
struct intern {
	uint8_t *pool;
	size_t pool_len;
	size_t pool_cap;
	size_t *off; /* id -> offset of its string in pool */
	uint32_t *len; /* id -> length */
	uint32_t n;
	uint32_t cap_ids;
	uint32_t *slots; /* open addressing: id + 1, 0 = empty */
	uint64_t *slot_hash;
	uint32_t n_slots; /* power of two */
};

void intern_free(struct intern *t);

/* The id of s (added when new, *added then true). Returns the id, or -1 on
 * allocation failure. */
int64_t intern_put(struct intern *t, const void *s, uint32_t len, bool *added);

/* The id of s, or -1 when t does not hold it. Reads only. */
int64_t intern_get(const struct intern *t, const void *s, uint32_t len);

static inline const uint8_t *intern_str(const struct intern *t, uint32_t id)
{
	return t->pool + t->off[id];
}

/* Grow *v (of *cap elements of size sz) so that it holds at least n. */
int grow(void **v, size_t *cap, size_t n, size_t sz);

/* Past this the ACL build would take minutes and gigabytes (DESIGN.md). */
#define NPGW_COMPILE_MAX_RULES (4u << 20)
/* Far beyond any cluster an ACL can be built for, and it keeps the high
 * bit of a class id free for STAGE1_POD_ENTRY. */
#define NPGW_COMPILE_MAX_CLASSES (1u << 24)

#define BITS_WORDS(n) (((n) + 63) / 64)

/* Marks a pod's host entry in ctx.stage1 until numbering (class ids stay
 * below NPGW_COMPILE_MAX_CLASSES, so the high bit is free). */
#define STAGE1_POD_ENTRY 0x80000000u

static inline bool bit_get(const uint64_t *v, uint32_t i)
{
	return (v[i / 64] >> (i % 64)) & 1;
}

static inline void bit_set(uint64_t *v, uint32_t i)
{
	v[i / 64] |= 1ull << (i % 64);
}

/* A named port some rule uses. A pod may name several container ports
 * alike (in different containers): slot k holds the k-th smallest distinct
 * number, and a rule naming the port matches each of them. */
struct named {
	const char *name;
	uint8_t proto;
	uint8_t slot;
};

/* A selector peer column: the first peer with that identity. */
struct sel_col {
	const struct npgw_k8s_policy *policy;
	const struct npgw_k8s_peer *peer;
};

/* A peer as the rule walk meets it: a selector column or an ipBlock. */
struct peer_ref {
	int32_t col; /* selector column, or -1 */
	int32_t block; /* ipBlock index, or -1 */
};

struct class_info {
	uint32_t tmp_id;
	uint32_t behaviour;
	const uint64_t *ipvec;
	const char *ns_key; /* namespace of the first pod member, "" for none */
	char *example;
	uint32_t n_pod_addrs;
	bool region; /* an ipBlock region is a member (the first: regions come first) */
};

struct ctx {
	/* Policies and namespaces: the compiler's own deep copy of them
	 * (model), so that what the columns point at outlives the cluster
	 * compiled, for npgw_compile_update_pods. */
	const struct npgw_k8s_cluster *c;
	struct npgw_k8s_cluster *model;
	const struct npgw_k8s_cluster *in; /* the cluster compiled: its pods */
	int err;

	uint32_t n_pol;
	uint32_t n_cols; /* n_pol policy columns, then selector peer columns */
	struct sel_col *cols; /* selector peer columns */
	size_t cols_cap;
	struct intern peer_keys;

	struct peer_ref *peers; /* every peer of every rule, in walk order */
	size_t n_peers, peers_cap;

	struct named *names;
	size_t n_names, names_cap;

	const struct npgw_k8s_peer **blocks;
	size_t n_blocks, blocks_cap;
	struct intern block_keys;

	size_t vec_words; /* words of a behaviour's column bits */
	size_t ip_words; /* words of an ipBlock membership vector */
	size_t beh_len; /* bytes of a behaviour key: bits, then u16 per name */
	size_t class_len; /* bytes of a class key: u32 behaviour, then ipvec */

	struct intern groups;
	uint32_t *group_beh; /* group -> behaviour */
	size_t group_beh_cap;
	struct intern behaviours;
	struct intern classes; /* key -> tmp class id */
	struct class_info *cinfo; /* by tmp id */
	size_t cinfo_cap;

	struct npgw_compile_stage1 *stage1; /* class ids are tmp until renumbered */
	size_t n_stage1, stage1_cap;
	bool have_default[2];
	uint32_t default_class[2]; /* [0] IPv4, [1] IPv6, tmp ids */

	uint32_t n_classes;
	uint32_t *final_of_tmp;
	struct class_info **by_final;
	/* by final id: 1 when the class holds an ipBlock region (its first
	 * member, so its example and place never change with pods) */
	uint8_t *has_region;
	/* the region entries of host length (an except or cidr that is one
	 * address), final ids, sorted: what a pod's host entry hides */
	struct npgw_compile_stage1 *regions;
	size_t n_regions;
	/* no pod namespace holds a '/': "ns/name" examples split back */
	bool plain_names;
	uint64_t *scratch; /* key buffer */

	int8_t *bit_of; /* peer id (column, or n_cols + block) -> bit, -1 */
	unsigned int max_bits;
	struct npgw_compile_result *res;
	size_t rules_cap;
	uint32_t metas_cap_;
};

/* ---- shared by compile.c and incr.c ---- */

/* The host prefix (/32, /128) of an address. */
void compile_host_prefix(const struct npgw_addr *a, struct npgw_prefix *p);

/* The group key of a pod (namespace, labels, named-port numbers) into
 * *buf (grown as needed), its length in *len. 0 or -ENOMEM. */
int compile_group_key(struct ctx *x, const struct npgw_k8s_pod *pod, char **buf, size_t *cap,
		      size_t *len);

/* The behaviour key of a pod (x->beh_len bytes) into key. */
void compile_behaviour_key(struct ctx *x, const struct npgw_k8s_pod *pod, uint8_t *key);

/* True when every named port pod gives fits the slots the compile made (a
 * pod naming one port more often than any pod did needs a new column). */
bool compile_named_fits(const struct ctx *x, const struct npgw_k8s_pod *pod);

/* The class key of an address of behaviour beh (x->class_len bytes) into
 * x->scratch. */
void compile_class_key(struct ctx *x, uint32_t beh, const struct npgw_addr *a);

/* Free what a context owns (not x itself, not x->res). */
void compile_ctx_free(struct ctx *x);

/*
 * What the results of one full compile share (npgw_compile_result.state):
 * the ACL part (rules, metas, class_bits: equal in every result derived by
 * npgw_compile_update_pods, since the class set is), and what placing a
 * pod needs: the context of the full compile with its columns, its model
 * of policies and namespaces and its interning tables, stripped of what
 * only a full compile uses. Immutable once made, but for refcnt; freed
 * with the last result that holds it. Control thread only.
 */
struct npgw_compile_state {
	uint32_t refcnt;
	struct ctx x;
	struct npgw_compile_rule *rules;
	struct npgw_compile_meta *metas;
	uint32_t n_metas;
	uint32_t *class_bits;
};

/* Drop a reference to a state; the last frees it. Accepts NULL. */
void compile_state_put(struct npgw_compile_state *s);


#endif /* NPGW_COMPILE_PRIVATE_H */
