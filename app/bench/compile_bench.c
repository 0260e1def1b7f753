/*
 * compile_bench.c: npgw-bench-compile, the control-plane benchmark (not a
 * test). Builds clusters of realistic shape (tests/ref's generator:
 * namespaces of Deployments, namespace isolation, per-app allow policies,
 * DNS egress, a few ipBlocks) and measures, as the median of several runs:
 *  - npgw_compile: time, classes, ACL rules;
 *  - npgw_ruleset_build: time, rte_acl memory, rte_malloc heap growth;
 *  - adding one pod to an existing Deployment, as the daemon does it:
 *    npgw_compile_update_pods from the live generation's result, then
 *    npgw_ruleset_build with the live generation (ACL shared, stage-1
 *    tables patched); time, and whether the ACL was shared;
 *  - removing that pod again the same way;
 *  - for comparison, the pod add by a full recompile (the fallback).
 * Persistence (lib/state) is not in these figures: see the daemon's
 * commit_ms for a whole apply.
 *
 * The last size adds 100 Admin and 10 Baseline tier policies (issue 16).
 *
 * Usage: npgw-bench-compile [--quick] [--runs N]
 *   --quick  small sizes only (the CI smoke run)
 * Goals: 10,000 pods + 1,000 policies compile + build < 1 s; a pod add
 * < 1 ms with no ACL rebuild.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "npgw_compile.h"
#include "npgw_ruleset.h"
#include "ref.h"

#define MAX_RUNS 64

struct size {
	size_t pods;
	size_t policies;
	size_t admin, baseline; /* cluster-wide tier policies */
};

static const struct size full_sizes[] = {{1000, 100, 0, 0},  {1000, 1000, 0, 0},
					 {10000, 100, 0, 0}, {10000, 1000, 0, 0},
					 {10000, 1000, 100, 10}};
static const struct size quick_sizes[] = {
	{200, 20, 0, 0}, {1000, 100, 0, 0}, {1000, 100, 10, 2}};

struct row {
	size_t pods, policies, admin, baseline;
	double compile_ms, build_ms, total_ms;
	uint32_t classes;
	size_t stage1, rules;
	double acl_mib, heap_mib;
	double full_add_ms; /* full recompile + build */
	double add_compile_ms, add_build_ms, add_total_ms;
	double rm_compile_ms, rm_build_ms, rm_total_ms;
	unsigned int add_shared, add_runs, add_incremental;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static size_t heap_bytes(void)
{
	struct rte_malloc_socket_stats s;
	size_t total = 0;

	for (int sock = 0; sock < RTE_MAX_NUMA_NODES; sock++)
		if (rte_malloc_get_socket_stats(sock, &s) == 0)
			total += s.heap_allocsz_bytes;
	return total;
}

static struct npgw_ruleset *compile_build(const struct npgw_k8s_cluster *c, uint64_t gen,
					  const struct npgw_ruleset *prev, double *compile_s,
					  double *build_s)
{
	struct npgw_compile_result *cr;
	struct npgw_ruleset *rs;
	double t0, t1, t2;
	int err = 0;

	t0 = now();
	cr = npgw_compile(c, &err);
	t1 = now();
	if (cr == NULL) {
		fprintf(stderr, "npgw_compile: %s\n", strerror(-err));
		return NULL;
	}
	rs = npgw_ruleset_build(cr, gen, prev, &err);
	t2 = now();
	if (rs == NULL) {
		fprintf(stderr, "npgw_ruleset_build: %s\n", strerror(-err));
		return NULL;
	}
	*compile_s = t1 - t0;
	*build_s = t2 - t1;
	return rs;
}

/* Take p out of c without freeing it (the update reads it). */
static void detach_pod(struct npgw_k8s_cluster *c, const struct npgw_k8s_pod *p)
{
	for (size_t i = 0; i < c->n_pods; i++) {
		if (c->pods[i] != p)
			continue;
		memmove(&c->pods[i], &c->pods[i + 1], (c->n_pods - i - 1) * sizeof(c->pods[0]));
		c->n_pods--;
		return;
	}
}

/* The daemon's way: npgw_compile_update_pods from prev's result (a full
 * compile on -EAGAIN), build with prev. *incremental: the update answered. */
static struct npgw_ruleset *update_build(const struct npgw_k8s_cluster *c, uint64_t gen,
					 const struct npgw_ruleset *prev,
					 const struct npgw_k8s_pod *rm, const struct npgw_k8s_pod *ad,
					 double *compile_s, double *build_s, bool *incremental)
{
	const struct npgw_k8s_pod *rmv[1] = {rm}, *adv[1] = {ad};
	struct npgw_compile_result *cr;
	struct npgw_ruleset *rs;
	double t0, t1, t2;
	int err = 0;

	t0 = now();
	cr = npgw_compile_update_pods(npgw_ruleset_compiled(prev), c, rmv, rm ? 1 : 0, adv,
				      ad ? 1 : 0, &err);
	*incremental = cr != NULL;
	if (cr == NULL && err == -EAGAIN)
		cr = npgw_compile(c, &err);
	t1 = now();
	if (cr == NULL) {
		fprintf(stderr, "npgw_compile: %s\n", strerror(-err));
		return NULL;
	}
	rs = npgw_ruleset_build(cr, gen, prev, &err);
	t2 = now();
	if (rs == NULL) {
		fprintf(stderr, "npgw_ruleset_build: %s\n", strerror(-err));
		return NULL;
	}
	*compile_s = t1 - t0;
	*build_s = t2 - t1;
	return rs;
}

static int bench_size(const struct size *sz, unsigned int runs, struct row *row)
{
	struct ref_gen_realistic_params prm = {.seed = 42, .n_pods = sz->pods,
					       .n_policies = sz->policies, .n_admin = sz->admin,
					       .n_baseline = sz->baseline};
	struct npgw_k8s_cluster *c = ref_gen_realistic(&prm);
	double comp[MAX_RUNS], bld[MAX_RUNS], tot[MAX_RUNS];
	double acomp[MAX_RUNS], abld[MAX_RUNS], atot[MAX_RUNS], fadd[MAX_RUNS];
	double rcomp[MAX_RUNS], rbld[MAX_RUNS], rtot[MAX_RUNS];
	struct npgw_ruleset *base = NULL;
	struct npgw_ruleset_info info;
	struct ref_rng rng;
	uint64_t gen = 1;
	int rc = -1;

	memset(row, 0, sizeof(*row));
	row->pods = c->n_pods;
	row->policies = c->n_policies - sz->admin - sz->baseline;
	row->admin = sz->admin;
	row->baseline = sz->baseline;
	for (unsigned int r = 0; r < runs; r++) {
		size_t h0 = heap_bytes();
		struct npgw_ruleset *rs = compile_build(c, gen++, NULL, &comp[r], &bld[r]);

		if (rs == NULL)
			goto out;
		tot[r] = comp[r] + bld[r];
		npgw_ruleset_get_info(rs, &info);
		row->classes = info.n_classes;
		row->stage1 = info.n_stage1;
		row->rules = info.n_acl_rules;
		row->acl_mib = (double)info.acl_bytes / (1 << 20);
		row->heap_mib = (double)(heap_bytes() - h0) / (1 << 20);
		npgw_ruleset_free(base);
		base = rs;
	}
	ref_rng_seed(&rng, 7);
	for (unsigned int r = 0; r < runs; r++) {
		struct npgw_k8s_pod *p = ref_gen_add_replica(c, &rng);
		struct npgw_ruleset *rs, *rs2;
		bool incr_add, incr_rm;
		double fc, fb;

		if (p == NULL) {
			fprintf(stderr, "no Deployment to add a replica to\n");
			goto out;
		}
		/* the fallback, for comparison */
		rs = compile_build(c, gen++, base, &fc, &fb);
		if (rs == NULL)
			goto out;
		fadd[r] = fc + fb;
		npgw_ruleset_free(rs);
		/* add, then remove it again, each from the generation before */
		rs = update_build(c, gen++, base, NULL, p, &acomp[r], &abld[r], &incr_add);
		if (rs == NULL)
			goto out;
		atot[r] = acomp[r] + abld[r];
		npgw_ruleset_get_info(rs, &info);
		row->add_shared += info.acl_shared;
		row->add_incremental += incr_add;
		row->add_runs++;
		detach_pod(c, p);
		rs2 = update_build(c, gen++, rs, p, NULL, &rcomp[r], &rbld[r], &incr_rm);
		ref_pod_free(p);
		npgw_ruleset_free(rs);
		if (rs2 == NULL)
			goto out;
		rtot[r] = rcomp[r] + rbld[r];
		npgw_ruleset_free(base);
		base = rs2;
	}
	row->compile_ms = median(comp, runs) * 1e3;
	row->build_ms = median(bld, runs) * 1e3;
	row->total_ms = median(tot, runs) * 1e3;
	row->add_compile_ms = median(acomp, runs) * 1e3;
	row->add_build_ms = median(abld, runs) * 1e3;
	row->add_total_ms = median(atot, runs) * 1e3;
	row->full_add_ms = median(fadd, runs) * 1e3;
	row->rm_compile_ms = median(rcomp, runs) * 1e3;
	row->rm_build_ms = median(rbld, runs) * 1e3;
	row->rm_total_ms = median(rtot, runs) * 1e3;
	rc = 0;
out:
	npgw_ruleset_free(base);
	ref_cluster_free(c);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: npgw-bench-compile [--quick] [--runs N]\n"
		   "  --quick   small sizes only (CI smoke)\n"
		   "  --runs N  runs per size, the median is reported (default 5, quick 3)\n");
}

int main(int argc, char **argv)
{
	char *eal_argv[] = {argv[0], (char[]){"--no-huge"}, (char[]){"-m"}, (char[]){"4096"},
		(char[]){"--no-pci"}, (char[]){"--no-shconf"}, (char[]){"--no-telemetry"},
		(char[]){"--log-level=lib.eal:error"}, (char[]){"-c"}, (char[]){"0x1"}};
	static char quick_mem[] = "512";
	const struct size *sizes = full_sizes;
	size_t n_sizes = NPGW_ARRAY_SIZE(full_sizes);
	unsigned int runs = 0;
	bool quick = false;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = (unsigned int)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (quick) {
		sizes = quick_sizes;
		n_sizes = NPGW_ARRAY_SIZE(quick_sizes);
		eal_argv[3] = quick_mem; /* -m */
	}
	if (runs == 0)
		runs = quick ? 3 : 5;
	if (runs > MAX_RUNS)
		runs = MAX_RUNS;
	if (rte_eal_init((int)NPGW_ARRAY_SIZE(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	printf("npgw-bench-compile: realistic clusters, median of %u runs\n\n", runs);
	printf("| pods | policies | Admin + Baseline | compile ms | classes | stage-1 | ACL rules | ACL build ms "
	       "| compile+build ms | ACL MiB | heap MiB | pod add by full recompile ms "
	       "| pod add ms (compile + build) | pod remove ms (compile + build) "
	       "| incremental, ACL shared |\n");
	printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < n_sizes; i++) {
		struct row r;

		if (bench_size(&sizes[i], runs, &r) != 0) {
			rc = 1;
			break;
		}
		printf("| %zu | %zu | %zu + %zu | %.1f | %u | %zu | %zu | %.1f | %.1f | %.2f | %.2f | %.1f "
		       "| %.3f (%.3f + %.3f) | %.3f (%.3f + %.3f) | %u, %u of %u |\n",
		       r.pods, r.policies, r.admin, r.baseline, r.compile_ms, r.classes, r.stage1, r.rules, r.build_ms,
		       r.total_ms, r.acl_mib, r.heap_mib, r.full_add_ms, r.add_total_ms,
		       r.add_compile_ms, r.add_build_ms, r.rm_total_ms, r.rm_compile_ms,
		       r.rm_build_ms, r.add_incremental, r.add_shared, r.add_runs);
		fflush(stdout);
		if (r.pods >= 10000 && r.policies >= 1000 && r.admin == 0)
			printf("\ngoal 10,000 pods + 1,000 policies compile+build < 1 s: %s "
			       "(%.0f ms); pod add < 1 ms without ACL rebuild: %s\n",
			       r.total_ms < 1000 ? "met" : "MISSED", r.total_ms,
			       r.add_total_ms < 1 && r.add_shared == r.add_runs &&
					       r.add_incremental == r.add_runs
				       ? "met"
				       : "MISSED");
	}
	rte_eal_cleanup();
	return rc;
}
