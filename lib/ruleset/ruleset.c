/*
 * ruleset.c: build one generation (stage 1 tables, see stage1.c, and one
 * rte_acl context for stage 2) from a compile result, and classify bursts
 * of tuples against it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "npgw_ruleset.h"
#include "ruleset_private.h"

RTE_LOG_REGISTER_SUFFIX(npgw_ruleset_logtype, ruleset, INFO);
#define RS_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, npgw_ruleset_logtype, "npgw.ruleset: " fmt "\n", ##__VA_ARGS__)

/*
 * The ACL key. rte_acl wants the first field one byte wide and the rest in
 * 4-byte input groups; it compares the input as big-endian bytes, so the
 * key holds every value in network order. The two 16-bit fields share one
 * input index, as the ports do in DPDK's examples; `spare` is always 0 and
 * matched by every rule (room for ICMP type/code later). src_bits and
 * dst_bits are the classes' peer bits (npgw_compile_result.class_bits),
 * tested as bitmasks.
 */
struct acl_key {
	uint8_t proto;
	uint8_t pad[3];
	uint32_t src_class;
	uint32_t dst_class;
	uint16_t dport;
	uint16_t spare;
	uint32_t src_bits;
	uint32_t dst_bits;
};

enum { F_PROTO, F_SRC, F_DST, F_DPORT, F_SPARE, F_SRC_BITS, F_DST_BITS, F_NUM };

_Static_assert(offsetof(struct acl_key, proto) == 0, "rte_acl needs a 1-byte first field");
_Static_assert(offsetof(struct acl_key, src_class) == 4, "4-byte input groups");
_Static_assert(offsetof(struct acl_key, dst_class) == 8, "4-byte input groups");
_Static_assert(offsetof(struct acl_key, dport) == 12, "ports share input index 3");
_Static_assert(offsetof(struct acl_key, spare) == 14, "ports share input index 3");
_Static_assert(offsetof(struct acl_key, src_bits) == 16, "4-byte input groups");
_Static_assert(offsetof(struct acl_key, dst_bits) == 20, "4-byte input groups");
_Static_assert(sizeof(struct acl_key) == 24, "no trailing padding");
_Static_assert(NPGW_COMPILE_N_CATEGORIES % RTE_ACL_RESULTS_MULTIPLIER == 0,
	       "category count must be a multiple of RTE_ACL_RESULTS_MULTIPLIER");
_Static_assert(NPGW_COMPILE_PRIO_ALLOW_MAX == RTE_ACL_MAX_PRIORITY, "priority band");

static const struct rte_acl_field_def acl_fields[F_NUM] = {
	[F_PROTO] = {.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 1, .field_index = F_PROTO,
		     .input_index = 0, .offset = offsetof(struct acl_key, proto)},
	[F_SRC] = {.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 4, .field_index = F_SRC,
		   .input_index = 1, .offset = offsetof(struct acl_key, src_class)},
	[F_DST] = {.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 4, .field_index = F_DST,
		   .input_index = 2, .offset = offsetof(struct acl_key, dst_class)},
	[F_DPORT] = {.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = F_DPORT,
		     .input_index = 3, .offset = offsetof(struct acl_key, dport)},
	[F_SPARE] = {.type = RTE_ACL_FIELD_TYPE_RANGE, .size = 2, .field_index = F_SPARE,
		     .input_index = 3, .offset = offsetof(struct acl_key, spare)},
	[F_SRC_BITS] = {.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 4, .field_index = F_SRC_BITS,
			.input_index = 4, .offset = offsetof(struct acl_key, src_bits)},
	[F_DST_BITS] = {.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = 4, .field_index = F_DST_BITS,
			.input_index = 5, .offset = offsetof(struct acl_key, dst_bits)},
};

RTE_ACL_RULE_DEF(acl_rule, F_NUM);

/* An ACL context, shared by the generations whose ACL is the same.
 * Reference counted by the control thread only. */
struct acl_holder {
	struct rte_acl_ctx *ctx; /* NULL when there are no rules */
	uint32_t refcnt;
	size_t bytes;
	double build_seconds;
};

struct npgw_ruleset {
	uint64_t generation;
	struct npgw_compile_result *cr;
	struct stage1 s1;
	struct acl_holder *acl;
	uint8_t *deny; /* by userdata: 1 when that result denies */
	uint8_t *decides; /* by userdata: 1 when an Admin result ends the side */
	bool acl_shared;
	double build_seconds;
};

/*
 * The rte_acl classify method every context gets, widest first: rte_acl
 * picks its default from the EAL's max SIMD bitwidth (256 unless
 * --force-max-simd-bitwidth says more), so on an AVX-512 CPU it would run
 * avx512x16 and never avx512x32. "auto" takes the widest method this CPU
 * and the EAL allow; a named one must be available. Set on the control
 * thread before the builds; read by every build.
 */
static const struct {
	const char *name;
	enum rte_acl_classify_alg alg;
} acl_methods[] = {
	{"avx512x32", RTE_ACL_CLASSIFY_AVX512X32}, {"avx512x16", RTE_ACL_CLASSIFY_AVX512X16},
	{"avx2", RTE_ACL_CLASSIFY_AVX2},	   {"sse", RTE_ACL_CLASSIFY_SSE},
	{"scalar", RTE_ACL_CLASSIFY_SCALAR},
};
static int acl_method_forced = -1; /* index into acl_methods, -1: auto */
static int acl_method_used = -1;   /* what the last build got */

static int acl_apply_method(struct rte_acl_ctx *ctx)
{
	if (acl_method_forced >= 0) {
		int rc = rte_acl_set_ctx_classify(ctx, acl_methods[acl_method_forced].alg);

		if (rc == 0)
			acl_method_used = acl_method_forced;
		return rc;
	}
	for (unsigned int i = 0; i < NPGW_ARRAY_SIZE(acl_methods); i++)
		if (rte_acl_set_ctx_classify(ctx, acl_methods[i].alg) == 0) {
			acl_method_used = (int)i;
			return 0;
		}
	return -ENOTSUP;
}

int npgw_ruleset_set_acl_method(const char *name)
{
	struct rte_acl_param prm = {
		.name = "npgw-acl-probe",
		.socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(1),
		.max_rule_num = 1,
	};
	struct rte_acl_ctx *probe;
	int idx = -1, rc;

	if (name != NULL && strcmp(name, "auto") != 0) {
		for (unsigned int i = 0; i < NPGW_ARRAY_SIZE(acl_methods); i++)
			if (strcmp(name, acl_methods[i].name) == 0)
				idx = (int)i;
		if (idx < 0)
			return -EINVAL;
	}
	/* whether this CPU and the EAL's SIMD bitwidth allow it */
	probe = rte_acl_create(&prm);
	if (probe == NULL)
		return -ENOMEM;
	if (idx >= 0) {
		rc = rte_acl_set_ctx_classify(probe, acl_methods[idx].alg);
	} else {
		rc = -ENOTSUP;
		for (unsigned int i = 0; i < NPGW_ARRAY_SIZE(acl_methods) && rc != 0; i++)
			if ((rc = rte_acl_set_ctx_classify(probe, acl_methods[i].alg)) == 0)
				acl_method_used = (int)i;
	}
	rte_acl_free(probe);
	if (rc == 0) {
		acl_method_forced = idx;
		if (idx >= 0)
			acl_method_used = idx;
	}
	return rc;
}

const char *npgw_ruleset_acl_method(void)
{
	return acl_method_used >= 0 ? acl_methods[acl_method_used].name : "none";
}

/* Unique object names: rte_acl_create returns an existing context of the
 * same name, and must never rebuild a published one. */
static atomic_uint_fast64_t name_seq;

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_alloc_bytes(void)
{
	size_t total = 0;

	for (unsigned int i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;

		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	}
	return total;
}

static void acl_put(struct acl_holder *h)
{
	if (h == NULL || --h->refcnt > 0)
		return;
	rte_acl_free(h->ctx);
	free(h);
}

static struct acl_holder *acl_build(const struct npgw_compile_result *cr, int *err)
{
	struct acl_holder *h = calloc(1, sizeof(*h));
	struct rte_acl_param prm = {
		.socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(F_NUM),
		.max_rule_num = (uint32_t)cr->n_rules,
	};
	struct rte_acl_config cfg = {
		.num_categories = NPGW_COMPILE_N_CATEGORIES,
		.num_fields = F_NUM,
	};
	char name[RTE_ACL_NAMESIZE];
	double t0 = now_seconds();
	size_t mem0 = heap_alloc_bytes();
	struct acl_rule rule;
	int rc;

	if (h == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	h->refcnt = 1;
	if (cr->n_rules == 0)
		return h; /* nothing isolated: every result is 0 */
	snprintf(name, sizeof(name), "npgw-acl-%" PRIu64, (uint64_t)atomic_fetch_add(&name_seq, 1));
	prm.name = name;
	h->ctx = rte_acl_create(&prm);
	if (h->ctx == NULL) {
		*err = rte_errno ? -rte_errno : -ENOMEM;
		free(h);
		return NULL;
	}
	for (size_t i = 0; i < cr->n_rules; i++) {
		const struct npgw_compile_rule *r = &cr->rules[i];

		memset(&rule, 0, sizeof(rule));
		rule.data.category_mask = r->categories;
		rule.data.priority = (int32_t)r->priority;
		rule.data.userdata = r->userdata;
		rule.field[F_PROTO].value.u8 = r->proto;
		rule.field[F_PROTO].mask_range.u8 = r->proto_mask;
		rule.field[F_SRC].value.u32 = r->src_lo;
		rule.field[F_SRC].mask_range.u32 = r->src_hi;
		rule.field[F_DST].value.u32 = r->dst_lo;
		rule.field[F_DST].mask_range.u32 = r->dst_hi;
		rule.field[F_DPORT].value.u16 = r->port_lo;
		rule.field[F_DPORT].mask_range.u16 = r->port_hi;
		rule.field[F_SPARE].value.u16 = 0;
		rule.field[F_SPARE].mask_range.u16 = UINT16_MAX;
		rule.field[F_SRC_BITS].value.u32 = r->src_bits;
		rule.field[F_SRC_BITS].mask_range.u32 = r->src_bits;
		rule.field[F_DST_BITS].value.u32 = r->dst_bits;
		rule.field[F_DST_BITS].mask_range.u32 = r->dst_bits;
		rc = rte_acl_add_rules(h->ctx, (const struct rte_acl_rule *)&rule, 1);
		if (rc < 0)
			goto fail;
	}
	memcpy(cfg.defs, acl_fields, sizeof(acl_fields));
	rc = rte_acl_build(h->ctx, &cfg);
	if (rc < 0)
		goto fail;
	rc = acl_apply_method(h->ctx);
	if (rc < 0)
		goto fail;
	h->build_seconds = now_seconds() - t0;
	h->bytes = heap_alloc_bytes() - mem0;
	return h;
fail:
	RS_LOG(ERR, "ACL %s: cannot build %zu rules: %s", name, cr->n_rules, strerror(-rc));
	rte_acl_free(h->ctx);
	free(h);
	*err = rc;
	return NULL;
}

struct npgw_ruleset *npgw_ruleset_build(struct npgw_compile_result *cr, uint64_t generation,
					const struct npgw_ruleset *prev, int *err)
{
	struct npgw_ruleset *rs = calloc(1, sizeof(*rs));
	double t0 = now_seconds();
	int rc = 0;

	if (rs == NULL) {
		npgw_compile_free(cr);
		*err = -ENOMEM;
		return NULL;
	}
	rs->cr = cr;
	rs->generation = generation;
	rs->deny = calloc(cr->n_metas + 1, 1);
	rs->decides = calloc(cr->n_metas + 1, 1);
	if (rs->deny == NULL || rs->decides == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < cr->n_metas; i++) {
		rs->deny[i + 1] = cr->metas[i].action == NPGW_COMPILE_DENY;
		rs->decides[i + 1] = cr->metas[i].action != NPGW_COMPILE_PASS;
	}
	rc = stage1_build(&rs->s1, cr, prev ? &prev->s1 : NULL, prev ? prev->cr : NULL);
	if (rc < 0)
		goto fail;
	if (prev != NULL && npgw_compile_same_acl(prev->cr, cr)) {
		rs->acl = prev->acl;
		rs->acl->refcnt++;
		rs->acl_shared = true;
	} else {
		rs->acl = acl_build(cr, &rc);
		if (rs->acl == NULL)
			goto fail;
	}
	rs->build_seconds = now_seconds() - t0;
	return rs;
fail:
	npgw_ruleset_free(rs);
	*err = rc;
	return NULL;
}

struct npgw_ruleset *npgw_ruleset_build_or_ranges(struct npgw_compile_result *cr,
						  const struct npgw_k8s_cluster *c,
						  uint64_t generation, const struct npgw_ruleset *prev,
						  int *err)
{
	struct npgw_ruleset *rs;
	bool had_bits = false;

	for (size_t i = 0; i < cr->n_rules && !had_bits; i++)
		had_bits = (cr->rules[i].src_bits | cr->rules[i].dst_bits) != 0;
	rs = npgw_ruleset_build(cr, generation, prev, err);
	if (rs != NULL || !had_bits || *err == -EINVAL)
		return rs;
	RS_LOG(WARNING, "generation %" PRIu64 ": rte_acl could not build the rules with class "
			"bits (%s); compiling them as class ranges",
	       generation, strerror(-*err));
	return npgw_ruleset_build_ranges(c, generation, prev, err);
}

struct npgw_ruleset *npgw_ruleset_from_cluster(const struct npgw_k8s_cluster *c,
					       uint64_t generation, const struct npgw_ruleset *prev,
					       int *err)
{
	struct npgw_compile_result *cr = npgw_compile(c, err);

	return cr ? npgw_ruleset_build_or_ranges(cr, c, generation, prev, err) : NULL;
}

struct npgw_ruleset *npgw_ruleset_build_ranges(const struct npgw_k8s_cluster *c,
					       uint64_t generation, const struct npgw_ruleset *prev,
					       int *err)
{
	const struct npgw_compile_opts no_bits = {.max_bits = 0};
	struct npgw_compile_result *cr = npgw_compile_with(c, &no_bits, err);

	return cr ? npgw_ruleset_build(cr, generation, prev, err) : NULL;
}

void npgw_ruleset_free(struct npgw_ruleset *rs)
{
	if (rs == NULL)
		return;
	acl_put(rs->acl);
	stage1_free(&rs->s1);
	npgw_compile_free(rs->cr);
	free(rs->deny);
	free(rs->decides);
	free(rs);
}

int npgw_ruleset_classify_burst(const struct npgw_ruleset *rs,
				const struct npgw_ruleset_tuple *tuples, unsigned int n,
				struct npgw_ruleset_verdict *out)
{
	/* Two addresses per tuple, split by family; idx maps results back. */
	const void *k4[NPGW_RULESET_MAX_BURST * 2], *k6[NPGW_RULESET_MAX_BURST * 2];
	uint32_t c4[NPGW_RULESET_MAX_BURST * 2], c6[NPGW_RULESET_MAX_BURST * 2];
	uint16_t idx4[NPGW_RULESET_MAX_BURST * 2], idx6[NPGW_RULESET_MAX_BURST * 2];
	uint32_t cls[NPGW_RULESET_MAX_BURST * 2];
	struct acl_key keys[NPGW_RULESET_MAX_BURST];
	const uint8_t *data[NPGW_RULESET_MAX_BURST];
	uint32_t res[NPGW_RULESET_MAX_BURST * NPGW_COMPILE_N_CATEGORIES];
	unsigned int n4 = 0, n6 = 0;

	if (unlikely(n > NPGW_RULESET_MAX_BURST || rs == NULL))
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		const struct npgw_ruleset_tuple *t = &tuples[i];

		if (t->family == 4) {
			k4[n4] = t->src;
			idx4[n4++] = (uint16_t)(i * 2);
			k4[n4] = t->dst;
			idx4[n4++] = (uint16_t)(i * 2 + 1);
		} else {
			k6[n6] = t->src;
			idx6[n6++] = (uint16_t)(i * 2);
			k6[n6] = t->dst;
			idx6[n6++] = (uint16_t)(i * 2 + 1);
		}
	}
	/* stage 1 takes at most 64 keys a call */
	for (unsigned int j = 0; j < n4; j += 64)
		stage1_lookup4(&rs->s1, k4 + j, NPGW_MIN(64u, n4 - j), c4 + j);
	for (unsigned int j = 0; j < n6; j += 64)
		stage1_lookup6(&rs->s1, k6 + j, NPGW_MIN(64u, n6 - j), c6 + j);
	for (unsigned int j = 0; j < n4; j++)
		cls[idx4[j]] = c4[j];
	for (unsigned int j = 0; j < n6; j++)
		cls[idx6[j]] = c6[j];
	for (unsigned int i = 0; i < n; i++) {
		keys[i] = (struct acl_key){
			.proto = tuples[i].proto,
			.src_class = rte_cpu_to_be_32(cls[i * 2]),
			.dst_class = rte_cpu_to_be_32(cls[i * 2 + 1]),
			.dport = rte_cpu_to_be_16(tuples[i].dport),
			.src_bits = rte_cpu_to_be_32(rs->cr->class_bits[cls[i * 2]]),
			.dst_bits = rte_cpu_to_be_32(rs->cr->class_bits[cls[i * 2 + 1]]),
		};
		data[i] = (const uint8_t *)&keys[i];
	}
	if (rs->acl->ctx != NULL && n > 0)
		rte_acl_classify(rs->acl->ctx, data, res, n, NPGW_COMPILE_N_CATEGORIES);
	else
		memset(res, 0, sizeof(res[0]) * n * NPGW_COMPILE_N_CATEGORIES);
	for (unsigned int i = 0; i < n; i++) {
		const uint32_t *r = &res[i * NPGW_COMPILE_N_CATEGORIES];
		uint32_t ae = r[NPGW_COMPILE_CAT_ADMIN_EGRESS], ag = r[NPGW_COMPILE_CAT_ADMIN_INGRESS];
		/* an Admin Allow or Deny decides its side; a Pass or no match
		 * leaves it to NetworkPolicy, then Baseline */
		uint32_t e = rs->decides[ae] ? ae : r[NPGW_COMPILE_CAT_EGRESS];
		uint32_t g = rs->decides[ag] ? ag : r[NPGW_COMPILE_CAT_INGRESS];

		out[i].src_class = cls[i * 2];
		out[i].dst_class = cls[i * 2 + 1];
		out[i].egress = e;
		out[i].ingress = g;
		out[i].admin_egress = ae;
		out[i].admin_ingress = ag;
		out[i].allowed = !rs->deny[e] && !rs->deny[g];
	}
	return (int)n;
}

uint32_t npgw_ruleset_class_of(const struct npgw_ruleset *rs, const struct npgw_addr *a)
{
	uint64_t aligned[2] = {0};
	const void *key = aligned;
	uint32_t cls;

	memcpy(aligned, a->bytes, npgw_addr_len(a->family));
	if (a->family == 4)
		stage1_lookup4(&rs->s1, &key, 1, &cls);
	else
		stage1_lookup6(&rs->s1, &key, 1, &cls);
	return cls;
}

const struct npgw_compile_result *npgw_ruleset_compiled(const struct npgw_ruleset *rs)
{
	return rs->cr;
}

const struct npgw_compile_meta *npgw_ruleset_meta(const struct npgw_ruleset *rs, uint32_t result)
{
	if (result == 0 || result > rs->cr->n_metas)
		return NULL;
	return &rs->cr->metas[result - 1];
}

uint64_t npgw_ruleset_generation(const struct npgw_ruleset *rs)
{
	return rs->generation;
}

void npgw_ruleset_get_info(const struct npgw_ruleset *rs, struct npgw_ruleset_info *info)
{
	memset(info, 0, sizeof(*info));
	info->generation = rs->generation;
	info->n_classes = rs->cr->n_classes;
	info->n_stage1 = rs->cr->n_stage1;
	info->n_acl_rules = rs->cr->n_rules;
	info->acl_bytes = rs->acl->bytes;
	info->acl_shared = rs->acl_shared;
	info->stage1_patched = rs->s1.patched;
	info->build_seconds = rs->build_seconds;
}

int npgw_ruleset_set_acl_alg(struct npgw_ruleset *rs, int alg)
{
	if (rs->acl->ctx == NULL)
		return 0;
	return rte_acl_set_ctx_classify(rs->acl->ctx, (enum rte_acl_classify_alg)alg);
}
