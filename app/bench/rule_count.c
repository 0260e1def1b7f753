/*
 * rule_count.c: npgw-bench-rules, a helper of the throughput benchmark
 * (scripts/bench/). Loads Kubernetes objects from files (as npgwctl
 * validate does), compiles them and prints one JSON object:
 * {"pods", "policies", "classes", "rules", "compile_ms"}. No EAL, no
 * rte_acl build: it tells the policy-set generator how many ACL rules a
 * set compiles to in milliseconds, where starting the daemon would take
 * the rte_acl build's seconds.
 *
 * Usage: npgw-bench-rules PATH [PATH ...]
 * Exit: 0, 1 (the objects are invalid or do not compile), 2 (usage).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "npgw_compile.h"
#include "npgw_k8s.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct npgw_diags d = {0};
	struct npgw_k8s_cluster *c;
	struct npgw_compile_result *cr;
	double t0;
	int err = 0;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: npgw-bench-rules PATH [PATH ...]\n");
		return 2;
	}
	c = npgw_k8s_load_paths((const char *const *)argv + 1, (size_t)argc - 1, &d, &err);
	npgw_diags_print(&d, stderr);
	npgw_diags_free(&d);
	if (c == NULL) {
		fprintf(stderr, "npgw-bench-rules: the objects are invalid\n");
		return 1;
	}
	t0 = now();
	cr = npgw_compile(c, &err);
	if (cr == NULL) {
		fprintf(stderr, "npgw-bench-rules: compile: %s\n", strerror(-err));
		npgw_k8s_cluster_free(c);
		return 1;
	}
	printf("{\"pods\": %zu, \"policies\": %zu, \"classes\": %u, \"rules\": %zu, "
	       "\"compile_ms\": %.1f}\n",
	       c->n_pods, c->n_policies, cr->n_classes, cr->n_rules, (now() - t0) * 1e3);
	npgw_compile_free(cr);
	npgw_k8s_cluster_free(c);
	return 0;
}
