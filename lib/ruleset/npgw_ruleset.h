/*
 * npgw_ruleset.h: one immutable generation of the tables the data plane
 * classifies with, built from a compile result (lib/compile):
 *  - stage 1: address -> class (host entries in a flat hash table,
 *    prefixes as sorted intervals: see ruleset_private.h);
 *  - stage 2: one rte_acl context over (protocol, src class, dst class,
 *    dst port) with NPGW_COMPILE_N_CATEGORIES categories, so one classify
 *    call gives the egress and the ingress result of every packet. Classes
 *    are family-independent, so one context serves IPv4 and IPv6;
 *  - the compile result itself, whose metas map every ACL result back to
 *    (namespace, policy, direction, rule).
 *
 * A generation is built by the control thread and never changes after
 * npgw_ruleset_build returns; workers and explain read it concurrently
 * through npgw_ruleset_classify_burst, which is the one classify path of
 * the product.
 */
#ifndef NPGW_RULESET_H
#define NPGW_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npgw_common.h"
#include "npgw_compile.h"

struct npgw_ruleset;

/* What classification needs of a packet. The addresses come first and
 * the struct is 8-byte aligned: they are stage-1 keys, read as 8-byte words. */
struct npgw_ruleset_tuple {
	uint8_t src[16]; /* IPv4 in the first 4 bytes, network order */
	uint8_t dst[16];
	uint16_t dport; /* host order; 0 for protocols without ports */
	uint8_t family; /* 4 or 6 */
	uint8_t proto;
} __attribute__((aligned(8)));

/* The decision for one tuple. egress / ingress: meta index + 1 of the
 * deciding rule (an Admin Allow or Deny, else the NetworkPolicy or
 * Baseline result), 0 when nothing decided that side. admin_egress /
 * admin_ingress: the Admin tier's result (0: no Admin rule matched), which
 * is a Pass when it did not decide: what explain shows of the chain. */
struct npgw_ruleset_verdict {
	uint32_t src_class;
	uint32_t dst_class;
	uint32_t egress;
	uint32_t ingress;
	uint32_t admin_egress;
	uint32_t admin_ingress;
	bool allowed;
};

/* The largest burst npgw_ruleset_classify_burst takes in one call. */
#define NPGW_RULESET_MAX_BURST 64

/*
 * Build a generation from cr, which it takes over (freed with the
 * generation, also on failure). generation is the number it carries.
 * When prev is not NULL:
 *  - if its ACL is the same (npgw_compile_same_acl), the rte_acl context is
 *    shared instead of rebuilt (reference counted: freed with the last
 *    generation that uses it);
 *  - if its stage-1 host entries differ from cr's in few places, the new
 *    host tables start as copies of prev's, patched with the differences.
 * So pod churn that makes no new class costs a copy of the stage-1 tables.
 * prev is only read, and nothing the new generation owns is written to
 * after this returns. Returns NULL with *err a negative errno on failure.
 * Control thread only; EAL must be running.
 */
struct npgw_ruleset *npgw_ruleset_build(struct npgw_compile_result *cr, uint64_t generation,
					const struct npgw_ruleset *prev, int *err);

/*
 * Compile a validated cluster and build its generation: npgw_compile, then
 * npgw_ruleset_build; should rte_acl fail to build the rules (some rule
 * shapes with class bits need more tries than it allows), compile again
 * without class bits and build that (a log line says so). Returns NULL
 * with *err on failure. Control thread.
 */
struct npgw_ruleset *npgw_ruleset_from_cluster(const struct npgw_k8s_cluster *c,
					       uint64_t generation, const struct npgw_ruleset *prev,
					       int *err);

/*
 * Build cr (taken over, as npgw_ruleset_build), compiled from c; when
 * rte_acl cannot build it and its rules use class bits, compile c again
 * without them and build that. The fallback of npgw_ruleset_from_cluster,
 * for callers that compiled themselves (incrementally). Control thread.
 */
struct npgw_ruleset *npgw_ruleset_build_or_ranges(struct npgw_compile_result *cr,
						  const struct npgw_k8s_cluster *c,
						  uint64_t generation, const struct npgw_ruleset *prev,
						  int *err);

/* Compile c without class bits and build it: the fallback of
 * npgw_ruleset_from_cluster. Control thread. */
struct npgw_ruleset *npgw_ruleset_build_ranges(const struct npgw_k8s_cluster *c,
					       uint64_t generation, const struct npgw_ruleset *prev,
					       int *err);

/* Free a generation (no reader may still use it). Accepts NULL.
 * Control thread only. */
void npgw_ruleset_free(struct npgw_ruleset *rs);

/*
 * Classify n tuples (n <= NPGW_RULESET_MAX_BURST): stage-1 lookups in
 * bulk, then one rte_acl_classify call for the burst. Writes out[0..n-1].
 * Returns n, or a negative errno for bad arguments. Any lcore, lock-free,
 * no allocation.
 */
int npgw_ruleset_classify_burst(const struct npgw_ruleset *rs,
				const struct npgw_ruleset_tuple *tuples, unsigned int n,
				struct npgw_ruleset_verdict *out);

/* The class of one address. Any thread. */
uint32_t npgw_ruleset_class_of(const struct npgw_ruleset *rs, const struct npgw_addr *a);

/* The compile result the generation was built from (metas, classes). */
const struct npgw_compile_result *npgw_ruleset_compiled(const struct npgw_ruleset *rs);

/* The meta of a verdict side, or NULL for 0 (not isolated). */
const struct npgw_compile_meta *npgw_ruleset_meta(const struct npgw_ruleset *rs, uint32_t result);

uint64_t npgw_ruleset_generation(const struct npgw_ruleset *rs);

/* Facts for status and benchmarks. */
struct npgw_ruleset_info {
	uint64_t generation;
	uint32_t n_classes;
	size_t n_stage1;
	size_t n_acl_rules;
	size_t acl_bytes; /* rte_acl memory of the context */
	bool acl_shared; /* reused from the previous generation */
	bool stage1_patched; /* host tables copied from the previous one and patched */
	double build_seconds; /* stage 1 + ACL build */
};
void npgw_ruleset_get_info(const struct npgw_ruleset *rs, struct npgw_ruleset_info *info);

/*
 * Force an rte_acl classify algorithm (enum rte_acl_classify_alg) on this
 * generation's context, for tests that run every algorithm. Returns 0,
 * or -ENOTSUP when this machine or EAL cannot run it. Control thread, on a
 * generation that no worker uses yet.
 */
int npgw_ruleset_set_acl_alg(struct npgw_ruleset *rs, int alg);

/*
 * The rte_acl classify method of every context built from now on: "auto"
 * (the widest this CPU and the EAL's max SIMD bitwidth allow: avx512x32,
 * avx512x16, avx2, sse, scalar, in that order), or one of those names.
 * Returns 0, -EINVAL (unknown name) or -ENOTSUP (not available here: for
 * the AVX-512 methods the CPU needs AVX-512 and the EAL
 * --force-max-simd-bitwidth=512). Control thread, after rte_eal_init.
 */
int npgw_ruleset_set_acl_method(const char *name);

/* The method the last build (or set_acl_method) got: a name above, or
 * "none" before any. Control thread. */
const char *npgw_ruleset_acl_method(void);

#endif /* NPGW_RULESET_H */
