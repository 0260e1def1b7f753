/*
 * test_k8s_edit.c: editing the desired state as the control socket does:
 * clone (a deep copy, independent of the original: ASan sees any shared
 * pointer once the original is freed), merge (apply: replace by kind,
 * namespace and name, keep the applied object's origin, sorted result, src
 * emptied), remove (delete: kinds and their kubectl aliases, the default
 * namespace, -ENOENT, -EINVAL) and object counts. Allocation failures:
 * the executable is linked with --wrap for malloc, calloc, realloc and
 * strdup, so the n-th allocation of a clone or a merge can be made to fail,
 * for every n; ASan then sees any leak of the paths that unwind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cunit_main.h"
#include "k8s_compare.h"
#include "npgw_k8s.h"

/* ---- allocation failures ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t sz);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t sz);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long fail_after = -1; /* allocations left before one fails; -1 never */
static bool failed;

static bool fail_now(void)
{
	if (fail_after < 0)
		return false;
	if (fail_after == 0) {
		failed = true;
		return true;
	}
	fail_after--;
	return false;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t sz)
{
	return fail_now() ? NULL : __real_calloc(n, sz);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

static struct npgw_k8s_cluster *load_text(const char *name, const char *text)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	rc = npgw_k8s_load_buffer(c, name, text, strlen(text), &d);
	if (d.n_errors)
		npgw_diags_print(&d, stderr);
	CU_ASSERT_EQUAL(rc, 0);
	npgw_diags_free(&d);
	return c;
}

static const char base[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: web}}\n"
	"---\n"
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: ops}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: web-1, namespace: shop, labels: {app: web}}\n"
	"spec: {containers: [{name: a, ports: [{name: http, containerPort: 80}]}, "
	"{name: b, ports: [{name: http, containerPort: 81, protocol: UDP}]}]}\n"
	"status: {phase: Running, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: web-2, namespace: shop, labels: {app: web}}\n"
	"status: {podIP: 10.0.0.2}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: x}\n"
	"spec: {hostNetwork: true}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: x}\n"
	"spec: {podSelector: {}}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: web, namespace: shop}\n"
	"spec:\n"
	"  podSelector: {matchLabels: {app: web}, matchExpressions: [{key: env, operator: In, "
	"values: [a, b]}]}\n"
	"  ingress:\n"
	"  - from: [{podSelector: {matchLabels: {app: lb}}, namespaceSelector: {}}, "
	"{ipBlock: {cidr: 10.0.0.0/8, except: [10.9.0.0/16]}}]\n"
	"    ports: [{port: http}, {port: 8000, endPort: 8100, protocol: UDP}]\n"
	"  egress: [{}]\n";

/* ---- clone ---- */

static void test_clone_is_equal(void)
{
	struct npgw_k8s_cluster *c = load_text("base.yaml", base), *d;
	char why[1024];
	int err = 0;

	c->n_refused = 3;
	d = npgw_k8s_cluster_clone(c, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_TRUE(k8s_cluster_same(c, d, K8S_CMP_ORIGIN | K8S_CMP_REFUSED, why,
					sizeof(why)));
	npgw_k8s_cluster_free(c);
	npgw_k8s_cluster_free(d);
}

static void test_clone_of_empty(void)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_k8s_cluster *d = npgw_k8s_cluster_clone(c, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(npgw_k8s_object_count(d), 0);
	npgw_k8s_cluster_free(c);
	npgw_k8s_cluster_free(d);
}

/* Change every kind of field of the clone; the original keeps its values.
 * Then free the original and walk the whole clone (emit it): a pointer
 * shared between the two is a use after free that ASan reports. */
static void test_clone_is_independent(void)
{
	struct npgw_k8s_cluster *c = load_text("base.yaml", base), *d, *fresh;
	struct npgw_k8s_policy *p;
	struct npgw_k8s_pod *pod;
	char why[1024];
	cJSON *j;

	d = npgw_k8s_cluster_clone(c, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL_FATAL(d->n_pods, 3);
	CU_ASSERT_EQUAL_FATAL(d->n_policies, 2);
	pod = d->pods[0];
	CU_ASSERT_STRING_EQUAL_FATAL(pod->name, "x");
	free(pod->name);
	pod->name = strdup("renamed");
	pod = d->pods[1];
	pod->labels.v[0].value[0] = 'X';
	pod->ports[0].name[0] = 'H';
	pod->ports[1].port = 1;
	pod->addrs[1].bytes[15] = 9;
	pod->phase[0] = 'r';
	pod->origin.file[0] = 'B';
	p = d->policies[1];
	CU_ASSERT_STRING_EQUAL_FATAL(p->name, "web");
	p->pod_selector.match_labels.v[0].value[0] = 'W';
	p->pod_selector.exprs[0].values[1][0] = 'z';
	p->ingress[0].peers[0].pod_selector.match_labels.v[0].key[0] = 'A';
	p->ingress[0].peers[1].except[0].len = 17;
	p->ingress[0].ports[0].name[0] = 'H';
	p->isolates_egress = false;
	d->namespaces[0]->labels.v[0].value[0] = 'O';

	fresh = load_text("base.yaml", base);
	CU_ASSERT_TRUE(k8s_cluster_same(c, fresh, K8S_CMP_ORIGIN, why, sizeof(why)));
	CU_ASSERT_FALSE(k8s_cluster_same(c, d, 0, why, sizeof(why)));
	npgw_k8s_cluster_free(c);
	npgw_k8s_cluster_free(fresh);
	j = npgw_k8s_cluster_to_json(d);
	CU_ASSERT_PTR_NOT_NULL(j);
	cJSON_Delete(j);
	npgw_k8s_cluster_free(d);
}

/* ---- merge ---- */

static const char applied[] =
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: web-2, namespace: shop, labels: {app: web, v: '2'}}\n"
	"status: {podIP: 10.0.0.22}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: api, namespace: shop}\n"
	"---\n"
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: aaa}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: x}\n"
	"spec: {podSelector: {matchLabels: {new: 'true'}}, policyTypes: [Egress]}\n";

static void test_merge_replaces_and_adds(void)
{
	struct npgw_k8s_cluster *dst = load_text("base.yaml", base);
	struct npgw_k8s_cluster *src = load_text("apply.yaml", applied);
	const struct npgw_k8s_pod *p;
	char buf[64];

	dst->n_refused = 1;
	src->n_refused = 2;
	CU_ASSERT_EQUAL_FATAL(npgw_k8s_cluster_merge(dst, src), 0);
	/* src is empty and reusable */
	CU_ASSERT_EQUAL(npgw_k8s_object_count(src), 0);
	CU_ASSERT_EQUAL(src->n_refused, 0);
	CU_ASSERT_PTR_NULL(src->pods);
	/* 2 + 1 namespaces, 3 + 1 pods, 2 policies (one replaced) */
	CU_ASSERT_EQUAL(dst->n_namespaces, 3);
	CU_ASSERT_EQUAL(dst->n_pods, 4);
	CU_ASSERT_EQUAL(dst->n_policies, 2);
	CU_ASSERT_EQUAL(dst->n_refused, 3);
	/* sorted */
	CU_ASSERT_STRING_EQUAL(dst->namespaces[0]->name, "aaa");
	CU_ASSERT_STRING_EQUAL(dst->namespaces[1]->name, "ops");
	CU_ASSERT_STRING_EQUAL(dst->namespaces[2]->name, "shop");
	CU_ASSERT_STRING_EQUAL(dst->pods[0]->name, "x");
	CU_ASSERT_STRING_EQUAL(dst->pods[1]->name, "api");
	CU_ASSERT_STRING_EQUAL(dst->pods[2]->name, "web-1");
	CU_ASSERT_STRING_EQUAL(dst->pods[3]->name, "web-2");
	/* the replaced pod is the applied one, with its origin */
	p = npgw_k8s_find_pod(dst, "shop", "web-2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->labels.n, 2);
	CU_ASSERT_EQUAL_FATAL(p->n_addrs, 1);
	CU_ASSERT_STRING_EQUAL(npgw_addr_format(&p->addrs[0], buf, sizeof(buf)), "10.0.0.22");
	CU_ASSERT_STRING_EQUAL(p->origin.file, "apply.yaml");
	CU_ASSERT_EQUAL(p->origin.line, 1);
	/* an untouched one keeps its own */
	CU_ASSERT_STRING_EQUAL(npgw_k8s_find_pod(dst, "shop", "web-1")->origin.file, "base.yaml");
	/* policy default/x replaced; pod default/x of the same name untouched */
	CU_ASSERT_STRING_EQUAL(dst->policies[0]->name, "x");
	CU_ASSERT_STRING_EQUAL(dst->policies[0]->origin.file, "apply.yaml");
	CU_ASSERT_FALSE(dst->policies[0]->isolates_ingress);
	CU_ASSERT_TRUE(npgw_k8s_find_pod(dst, "default", "x")->host_network);
	CU_ASSERT_STRING_EQUAL(dst->policies[1]->origin.file, "base.yaml");
	npgw_k8s_cluster_free(dst);
	npgw_k8s_cluster_free(src);
}

static void test_merge_into_empty_and_of_empty(void)
{
	struct npgw_k8s_cluster *dst = npgw_k8s_cluster_new();
	struct npgw_k8s_cluster *src = load_text("base.yaml", base);
	struct npgw_k8s_cluster *ref = load_text("base.yaml", base);
	char why[1024];

	CU_ASSERT_EQUAL(npgw_k8s_cluster_merge(dst, src), 0);
	CU_ASSERT_TRUE(k8s_cluster_same(dst, ref, K8S_CMP_ORIGIN, why, sizeof(why)));
	/* merging the now empty src changes nothing */
	CU_ASSERT_EQUAL(npgw_k8s_cluster_merge(dst, src), 0);
	CU_ASSERT_TRUE(k8s_cluster_same(dst, ref, K8S_CMP_ORIGIN, why, sizeof(why)));
	npgw_k8s_cluster_free(dst);
	npgw_k8s_cluster_free(src);
	npgw_k8s_cluster_free(ref);
}

/* Merging a cluster into a copy of itself replaces every object by its twin. */
static void test_merge_with_itself(void)
{
	struct npgw_k8s_cluster *dst = load_text("base.yaml", base);
	struct npgw_k8s_cluster *src = load_text("again.yaml", base);
	struct npgw_k8s_cluster *ref = load_text("again.yaml", base);
	char why[1024];

	CU_ASSERT_EQUAL(npgw_k8s_cluster_merge(dst, src), 0);
	CU_ASSERT_TRUE(k8s_cluster_same(dst, ref, K8S_CMP_ORIGIN, why, sizeof(why)));
	npgw_k8s_cluster_free(dst);
	npgw_k8s_cluster_free(src);
	npgw_k8s_cluster_free(ref);
}

/* dst in any order: the merge sorts it first. */
static void test_merge_unsorted_dst(void)
{
	struct npgw_k8s_cluster *dst = load_text("base.yaml", base);
	struct npgw_k8s_cluster *src = load_text("apply.yaml", applied);
	struct npgw_k8s_pod *t = dst->pods[0];

	dst->pods[0] = dst->pods[2];
	dst->pods[2] = t;
	CU_ASSERT_EQUAL(npgw_k8s_cluster_merge(dst, src), 0);
	CU_ASSERT_EQUAL_FATAL(dst->n_pods, 4);
	CU_ASSERT_STRING_EQUAL(dst->pods[3]->name, "web-2");
	CU_ASSERT_STRING_EQUAL(dst->pods[3]->origin.file, "apply.yaml");
	for (size_t i = 1; i < dst->n_pods; i++) {
		int c = strcmp(dst->pods[i - 1]->namespace, dst->pods[i]->namespace);

		CU_ASSERT(c < 0 ||
			  (c == 0 && strcmp(dst->pods[i - 1]->name, dst->pods[i]->name) < 0));
	}
	npgw_k8s_cluster_free(dst);
	npgw_k8s_cluster_free(src);
}

/* An object src holds twice lands twice: validation reports it. */
static void test_merge_keeps_duplicates_for_validate(void)
{
	struct npgw_k8s_cluster *dst = load_text("base.yaml", base);
	struct npgw_k8s_cluster *src = load_text(
		"dup.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n---\n"
			    "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n");
	struct npgw_diags d = {0};

	CU_ASSERT_EQUAL(src->n_pods, 2);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_merge(dst, src), 0);
	CU_ASSERT_EQUAL(dst->n_pods, 4);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_validate(dst, &d), -EINVAL);
	CU_ASSERT_EQUAL(d.n_errors, 1);
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(dst);
	npgw_k8s_cluster_free(src);
}

/* ---- remove ---- */

static void test_remove_each_kind(void)
{
	struct npgw_k8s_cluster *c = load_text("base.yaml", base);

	CU_ASSERT_EQUAL(npgw_k8s_object_count(c), 7);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "Pod", "shop", "web-1"), 0);
	CU_ASSERT_PTR_NULL(npgw_k8s_find_pod(c, "shop", "web-1"));
	CU_ASSERT_PTR_NOT_NULL(npgw_k8s_find_pod(c, "shop", "web-2"));
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "Pod", "shop", "web-1"), -ENOENT);
	/* NULL or "" namespace: default, as in the loader */
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "NetworkPolicy", NULL, "x"), 0);
	CU_ASSERT_EQUAL(c->n_policies, 1);
	CU_ASSERT_PTR_NOT_NULL(npgw_k8s_find_pod(c, "default", "x")); /* other kind */
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "pods", "", "x"), 0);
	/* a Namespace ignores ns, and leaves its pods and policies */
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "Namespace", "whatever", "shop"), 0);
	CU_ASSERT_PTR_NULL(npgw_k8s_find_namespace(c, "shop"));
	CU_ASSERT_PTR_NOT_NULL(npgw_k8s_find_pod(c, "shop", "web-2"));
	CU_ASSERT_EQUAL(c->n_policies, 1);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "Namespace", NULL, "shop"), -ENOENT);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "networkpolicies", "other", "web"), -ENOENT);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "netpol", "shop", "web"), 0);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "ns", NULL, "ops"), 0);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "po", "shop", "web-2"), 0);
	CU_ASSERT_EQUAL(npgw_k8s_object_count(c), 0);
	npgw_k8s_cluster_free(c);
}

static void test_remove_aliases(void)
{
	static const char *const pol[] = {"NetworkPolicy", "networkpolicy", "networkpolicies",
					  "netpol"};
	static const char *const pod[] = {"Pod", "pod", "pods", "po"};
	static const char *const ns[] = {"Namespace", "namespace", "namespaces", "ns"};

	for (size_t i = 0; i < 4; i++) {
		struct npgw_k8s_cluster *c = load_text("base.yaml", base);

		CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, pol[i], "shop", "web"), 0);
		CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, pod[i], "shop", "web-1"), 0);
		CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, ns[i], NULL, "ops"), 0);
		CU_ASSERT_EQUAL(npgw_k8s_object_count(c), 4);
		npgw_k8s_cluster_free(c);
	}
}

static void test_remove_refuses_unknown_kinds(void)
{
	struct npgw_k8s_cluster *c = load_text("base.yaml", base);
	static const char *const bad[] = {"Service", "pod ", "POD", "Pods", "", "NetworkPolicies"};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(bad); i++)
		CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, bad[i], "shop", "web-1"), -EINVAL);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, NULL, "shop", "web-1"), -EINVAL);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_remove(c, "Pod", "shop", NULL), -EINVAL);
	CU_ASSERT_EQUAL(npgw_k8s_object_count(c), 7);
	npgw_k8s_cluster_free(c);
}

static void test_object_count(void)
{
	struct npgw_k8s_cluster *c = load_text("base.yaml", base);

	CU_ASSERT_EQUAL(npgw_k8s_object_count(NULL), 0);
	CU_ASSERT_EQUAL(npgw_k8s_object_count(c), 2 + 3 + 2);
	c->n_refused = 5; /* not counted */
	CU_ASSERT_EQUAL(npgw_k8s_object_count(c), 7);
	npgw_k8s_cluster_free(c);
}

/* Fail the n-th allocation of a clone, for every n: NULL and -ENOMEM
 * each time, nothing leaked, until a clone needs no more. */
static void test_clone_allocation_failures(void)
{
	struct npgw_k8s_cluster *c = load_text("base.yaml", base), *d = NULL;
	char why[1024];
	long n;

	for (n = 0; n < 100000; n++) {
		int err = 0;

		failed = false;
		fail_after = n;
		d = npgw_k8s_cluster_clone(c, &err);
		fail_after = -1;
		if (!failed)
			break;
		CU_ASSERT_PTR_NULL(d);
		CU_ASSERT_EQUAL(err, -ENOMEM);
		npgw_k8s_cluster_free(d);
		d = NULL;
	}
	CU_ASSERT(n > 50); /* the wrapping works: many allocations were failed */
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_TRUE(k8s_cluster_same(c, d, K8S_CMP_ORIGIN, why, sizeof(why)));
	npgw_k8s_cluster_free(c);
	npgw_k8s_cluster_free(d);
}

/* A merge that cannot allocate changes neither cluster. */
static void test_merge_allocation_failures(void)
{
	struct npgw_k8s_cluster *ref_dst = load_text("base.yaml", base);
	struct npgw_k8s_cluster *ref_src = load_text("apply.yaml", applied);
	char why[1024];
	long n;
	int rc = -1;

	for (n = 0; n < 100; n++) {
		struct npgw_k8s_cluster *dst = load_text("base.yaml", base);
		struct npgw_k8s_cluster *src = load_text("apply.yaml", applied);

		failed = false;
		fail_after = n;
		rc = npgw_k8s_cluster_merge(dst, src);
		fail_after = -1;
		if (failed) {
			CU_ASSERT_EQUAL(rc, -ENOMEM);
			CU_ASSERT_TRUE(k8s_cluster_same(dst, ref_dst, K8S_CMP_ORIGIN, why,
							sizeof(why)));
			CU_ASSERT_TRUE(k8s_cluster_same(src, ref_src, K8S_CMP_ORIGIN, why,
							sizeof(why)));
		}
		npgw_k8s_cluster_free(dst);
		npgw_k8s_cluster_free(src);
		if (!failed)
			break;
	}
	CU_ASSERT_EQUAL(n, 3); /* three arrays, allocated before anything moves */
	CU_ASSERT_EQUAL(rc, 0);
	npgw_k8s_cluster_free(ref_dst);
	npgw_k8s_cluster_free(ref_src);
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"clone is equal", test_clone_is_equal},
		{"clone of an empty cluster", test_clone_of_empty},
		{"clone is independent", test_clone_is_independent},
		{"merge replaces and adds", test_merge_replaces_and_adds},
		{"merge into / of empty", test_merge_into_empty_and_of_empty},
		{"merge with itself", test_merge_with_itself},
		{"merge sorts an unsorted dst", test_merge_unsorted_dst},
		{"merge keeps duplicates for validate", test_merge_keeps_duplicates_for_validate},
		{"remove each kind", test_remove_each_kind},
		{"remove: kind aliases", test_remove_aliases},
		{"remove: unknown kinds", test_remove_refuses_unknown_kinds},
		{"object count", test_object_count},
		{"clone: allocation failures", test_clone_allocation_failures},
		{"merge: allocation failures", test_merge_allocation_failures},
		{NULL, NULL},
	};

	return npgw_test_add_suite("k8s_edit", tests);
}
