/*
 * test_ref_yaml.c: a generated cluster written as Kubernetes YAML
 * (ref_dump_yaml, what a mismatch report leaves for replay) and read back
 * by the product's loader (npgw_k8s_load_buffer) means the same: same
 * object counts, no error, and the reference gives the same verdict on
 * every query over both models. This checks the dump and, differentially,
 * the loader.
 */
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "npgw_k8s.h"
#include "ref.h"

#define SEEDS 300
#define QUERIES 200

static void test_generated_yaml_loads_back_to_the_same_meaning(void)
{
	unsigned int failed = 0;

	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct npgw_k8s_cluster *c = ref_gen_random(seed);
		struct npgw_k8s_cluster *l = npgw_k8s_cluster_new();
		struct npgw_diags d = {0};
		struct ref_query q[QUERIES];
		struct ref_rng rng;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		bool ok = true;
		int rc;

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_PTR_NOT_NULL_FATAL(l);
		ref_dump_yaml(c, f);
		fclose(f);
		rc = npgw_k8s_load_buffer(l, "generated.yaml", buf, len, &d);
		if (rc == 0)
			rc = npgw_k8s_cluster_validate(l, &d);
		npgw_k8s_cluster_sort(l);
		if (rc != 0 || d.n_errors != 0 || l->n_policies != c->n_policies ||
		    l->n_pods != c->n_pods || l->n_namespaces != c->n_namespaces) {
			fprintf(stderr, "\nseed %llu: load returned %d, %zu errors\n",
				(unsigned long long)seed, rc, d.n_errors);
			npgw_diags_print(&d, stderr);
			ok = false;
		}
		ref_rng_seed(&rng, seed);
		ref_gen_queries(c, &rng, q, QUERIES);
		for (size_t i = 0; ok && i < QUERIES; i++) {
			struct ref_result a, b;
			char qb[160];

			ref_verdict(c, &q[i], &a);
			ref_verdict(l, &q[i], &b);
			if (!ref_result_equal(&a, &b)) {
				fprintf(stderr, "\nseed %llu: %s differs after YAML\n",
					(unsigned long long)seed, ref_query_format(&q[i], qb, sizeof(qb)));
				ok = false;
			}
		}
		failed += !ok;
		npgw_diags_free(&d);
		free(buf);
		ref_cluster_free(c);
		npgw_k8s_cluster_free(l);
	}
	CU_ASSERT_EQUAL(failed, 0);
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"generated YAML loads back to the same meaning",
		 test_generated_yaml_loads_back_to_the_same_meaning},
		CU_TEST_INFO_NULL,
	};

	return npgw_test_add_suite("ref yaml", tests);
}
