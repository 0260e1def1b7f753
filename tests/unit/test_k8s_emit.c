/*
 * test_k8s_emit.c: lib/k8s writes the model back as Kubernetes JSON that
 * reads back as the same model. The property is checked field by field
 * (k8s_compare.c) over hand-written fixtures that use every field, over the
 * shipped config/examples and the kubectl-shaped fixtures; the JSON shapes
 * that matter to readers (explicit policyTypes, named ports as strings,
 * containers, order of a List) are checked directly; every allocation
 * failure of the emitter is injected through cJSON's hooks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cunit_main.h"
#include "k8s_compare.h"
#include "npgw_k8s.h"

#ifndef NPGW_TEST_DATA
#error "NPGW_TEST_DATA must name tests/data"
#endif
#ifndef NPGW_SOURCE_ROOT
#error "NPGW_SOURCE_ROOT must name the source tree"
#endif

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
	CU_ASSERT_EQUAL(d.n_errors, 0);
	npgw_diags_free(&d);
	return c;
}

static struct npgw_k8s_cluster *load_path(const char *path)
{
	struct npgw_diags d = {0};
	int err = 0;
	struct npgw_k8s_cluster *c = npgw_k8s_load_paths(&path, 1, &d, &err);

	if (d.n_errors)
		npgw_diags_print(&d, stderr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	npgw_diags_free(&d);
	return c;
}

/*
 * Emit a, load the text back, and check the model is the same; then emit
 * the copy and check the text is the same (the emitter is a fixed point).
 */
static void check_round_trip(const struct npgw_k8s_cluster *a)
{
	cJSON *j = npgw_k8s_cluster_to_json(a), *j2;
	struct npgw_k8s_cluster *b;
	char *text, *text2, why[1024];
	bool same;

	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	text = cJSON_Print(j);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	b = load_text("emitted.json", text);
	same = k8s_cluster_same(a, b, 0, why, sizeof(why));
	if (!same)
		fprintf(stderr, "\nround trip differs: %s\n", why);
	CU_ASSERT_TRUE(same);
	CU_ASSERT_EQUAL(b->n_refused, 0);
	j2 = npgw_k8s_cluster_to_json(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j2);
	text2 = cJSON_Print(j2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text2);
	CU_ASSERT_STRING_EQUAL(text, text2);
	cJSON_free(text);
	cJSON_free(text2);
	cJSON_Delete(j);
	cJSON_Delete(j2);
	npgw_k8s_cluster_free(b);
}

/* Every field of every kind, and the corners of the defaults. */
static const char fixture[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: web, "
	"tier: front}}\n"
	"---\n"
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: bare}\n"
	"---\n"
	"apiVersion: v1\nkind: Namespace\n"
	"metadata: {name: named, labels: {kubernetes.io/metadata.name: named, a.b/c: ''}}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata:\n"
	"  name: web-1\n"
	"  namespace: shop\n"
	"  labels: {app: web, app.kubernetes.io/name: web, empty: ''}\n"
	"spec:\n"
	"  initContainers: [{name: init, ports: [{containerPort: 9}]}]\n"
	"  containers:\n"
	"  - name: app\n"
	"    ports:\n"
	"    - {name: http, containerPort: 8080}\n"
	"    - {containerPort: 8443, protocol: TCP}\n"
	"    - {name: dns, containerPort: 53, protocol: UDP}\n"
	"  - name: sidecar\n"
	"    ports:\n"
	"    - {name: metrics, containerPort: 9090, protocol: SCTP}\n"
	"    - {name: http, containerPort: 8081}\n"
	"  - name: noports\n"
	"status:\n"
	"  phase: Running\n"
	"  podIP: 10.1.0.5\n"
	"  podIPs: [{ip: 10.1.0.5}, {ip: 'fd00::1:5'}]\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: host, namespace: kube-system}\n"
	"spec: {hostNetwork: true, containers: [{name: x}]}\n"
	"status: {phase: Running, podIP: 192.168.1.10}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: pending}\n"
	"spec: {containers: []}\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\n"
	"metadata: {name: done, labels: {job: x}}\n"
	"status: {phase: Succeeded, podIPs: [{ip: 'fd00::7'}]}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: db.access, namespace: shop, labels: {ignored: yes-it-is}}\n"
	"spec:\n"
	"  podSelector:\n"
	"    matchLabels: {app: db, tier: backend}\n"
	"    matchExpressions:\n"
	"    - {key: env, operator: In, values: [prod, dev, prod]}\n"
	"    - {key: canary, operator: DoesNotExist}\n"
	"    - {key: team, operator: NotIn, values: [b]}\n"
	"    - {key: app.kubernetes.io/name, operator: Exists}\n"
	"  policyTypes: [Egress, Ingress]\n"
	"  ingress:\n"
	"  - from:\n"
	"    - podSelector: {matchLabels: {app: web}}\n"
	"    - namespaceSelector: {matchLabels: {team: a}}\n"
	"    - namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: [b]}]}\n"
	"      podSelector: {matchExpressions: [{key: app, operator: Exists}]}\n"
	"    - podSelector: {}\n"
	"    - namespaceSelector: {}\n"
	"    - {podSelector: {}, namespaceSelector: {}}\n"
	"    - ipBlock:\n"
	"        cidr: 10.0.0.0/8\n"
	"        except: [10.2.3.0/24, 10.1.0.0/16]\n"
	"    - ipBlock: {cidr: 'fd00::/64', except: ['fd00::1:0/112']}\n"
	"    - ipBlock: {cidr: 192.168.7.9/24}\n"
	"    ports:\n"
	"    - port: 5432\n"
	"    - {protocol: UDP, port: 53}\n"
	"    - {protocol: SCTP, port: 3000, endPort: 3010}\n"
	"    - {port: 7000, endPort: 7000}\n"
	"    - {port: pg-main}\n"
	"    - {port: dns, protocol: UDP}\n"
	"    - protocol: UDP\n"
	"    - {}\n"
	"  - {}\n"
	"  - ports: [{port: 1}]\n"
	"  - from: [{ipBlock: {cidr: '::/0'}}]\n"
	"  egress:\n"
	"  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]\n"
	"    ports: [{port: 443, endPort: 65535}]\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: inferred-ingress}\n"
	"spec: {podSelector: {}}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: inferred-egress}\n"
	"spec: {podSelector: {matchLabels: {a: b}}, egress: [{}], ingress: []}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: empty-egress}\n"
	"spec: {podSelector: {}, egress: []}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: egress-only-with-ingress-rules}\n"
	"spec: {podSelector: {}, policyTypes: [Egress], ingress: [{}], egress: []}\n"
	"---\n"
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: empty-types, namespace: bare}\n"
	"spec: {podSelector: {}, policyTypes: []}\n";

static void test_fixture_round_trips(void)
{
	struct npgw_k8s_cluster *c = load_text("fixture.yaml", fixture);

	CU_ASSERT_EQUAL(c->n_namespaces, 3);
	CU_ASSERT_EQUAL(c->n_pods, 4);
	CU_ASSERT_EQUAL(c->n_policies, 6);
	check_round_trip(c);
	npgw_k8s_cluster_free(c);
}

static void test_examples_round_trip(void)
{
	static const char *const paths[] = {
		NPGW_SOURCE_ROOT "/config/examples",
		NPGW_TEST_DATA "/k8s/dir",
		NPGW_TEST_DATA "/k8s/kubectl-list.json",
		NPGW_TEST_DATA "/k8s/kubectl-list.yaml",
	};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(paths); i++) {
		struct npgw_k8s_cluster *c = load_path(paths[i]);

		CU_ASSERT(npgw_k8s_object_count(c) > 0);
		check_round_trip(c);
		npgw_k8s_cluster_free(c);
	}
}

static void test_empty_cluster_is_an_empty_list(void)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	cJSON *j = npgw_k8s_cluster_to_json(c);
	char *text = cJSON_PrintUnformatted(j);

	CU_ASSERT_STRING_EQUAL(text, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[]}");
	check_round_trip(c);
	cJSON_free(text);
	cJSON_Delete(j);
	npgw_k8s_cluster_free(c);
}

/* The unformatted JSON of one object of the fixture. */
static char *object_text(const struct npgw_k8s_cluster *c, const char *kind, size_t i)
{
	cJSON *j;
	char *s;

	if (strcmp(kind, "policy") == 0)
		j = npgw_k8s_policy_to_json(c->policies[i]);
	else if (strcmp(kind, "pod") == 0)
		j = npgw_k8s_pod_to_json(c->pods[i]);
	else
		j = npgw_k8s_namespace_to_json(c->namespaces[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static void test_policy_json_shape(void)
{
	struct npgw_k8s_cluster *c = load_text(
		"p.yaml",
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: p, namespace: ns1}\n"
		"spec:\n"
		"  podSelector: {}\n"
		"  ingress:\n"
		"  - from: [{ipBlock: {cidr: 10.9.8.7/8, except: [10.1.2.3/16]}}]\n"
		"    ports: [{port: http}, {protocol: UDP, port: 53, endPort: 54}, "
		"{protocol: SCTP}]\n"
		"---\n"
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: q, namespace: ns1}\n"
		"spec: {podSelector: {matchExpressions: [{key: k, operator: Exists}]}, "
		"egress: [{to: [{podSelector: {}}]}]}\n");
	char *s;

	CU_ASSERT_EQUAL_FATAL(c->n_policies, 2);
	s = object_text(c, "policy", 0);
	/* policyTypes written out; protocol written out; host bits cleared;
	 * a named port is a string, a number a number */
	CU_ASSERT_STRING_EQUAL(
		s, "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
		   "\"metadata\":{\"namespace\":\"ns1\",\"name\":\"p\"},"
		   "\"spec\":{\"podSelector\":{},\"policyTypes\":[\"Ingress\"],"
		   "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\","
		   "\"except\":[\"10.1.0.0/16\"]}}],"
		   "\"ports\":[{\"protocol\":\"TCP\",\"port\":\"http\"},"
		   "{\"protocol\":\"UDP\",\"port\":53,\"endPort\":54},"
		   "{\"protocol\":\"SCTP\"}]}]}}");
	cJSON_free(s);
	s = object_text(c, "policy", 1);
	CU_ASSERT_STRING_EQUAL(
		s, "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
		   "\"metadata\":{\"namespace\":\"ns1\",\"name\":\"q\"},"
		   "\"spec\":{\"podSelector\":{\"matchExpressions\":[{\"key\":\"k\","
		   "\"operator\":\"Exists\"}]},\"policyTypes\":[\"Ingress\",\"Egress\"],"
		   "\"egress\":[{\"to\":[{\"podSelector\":{}}]}]}}");
	cJSON_free(s);
	npgw_k8s_cluster_free(c);
}

static void test_pod_json_shape(void)
{
	struct npgw_k8s_cluster *c = load_text("fixture.yaml", fixture);
	const struct npgw_k8s_pod *p = npgw_k8s_find_pod(c, "shop", "web-1");
	size_t i;
	char *s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (i = 0; c->pods[i] != p; i++)
		;
	s = object_text(c, "pod", i);
	/* the flat port list splits where a name repeats ("http" of the
	 * sidecar); podIP is the first address */
	CU_ASSERT_STRING_EQUAL(
		s, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
		   "\"metadata\":{\"namespace\":\"shop\",\"name\":\"web-1\",\"labels\":{"
		   "\"app\":\"web\",\"app.kubernetes.io/name\":\"web\",\"empty\":\"\"}},"
		   "\"spec\":{\"containers\":[{\"name\":\"c0\",\"ports\":["
		   "{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"},"
		   "{\"containerPort\":8443,\"protocol\":\"TCP\"},"
		   "{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"},"
		   "{\"name\":\"metrics\",\"containerPort\":9090,\"protocol\":\"SCTP\"}]},"
		   "{\"name\":\"c1\",\"ports\":["
		   "{\"name\":\"http\",\"containerPort\":8081,\"protocol\":\"TCP\"}]}]},"
		   "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.0.5\","
		   "\"podIPs\":[{\"ip\":\"10.1.0.5\"},{\"ip\":\"fd00::1:5\"}]}}");
	cJSON_free(s);
	p = npgw_k8s_find_pod(c, "default", "pending");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (i = 0; c->pods[i] != p; i++)
		;
	s = object_text(c, "pod", i);
	CU_ASSERT_STRING_EQUAL(s, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
				  "\"namespace\":\"default\",\"name\":\"pending\",\"labels\":{}},"
				  "\"spec\":{\"containers\":[{\"name\":\"c0\"}]},\"status\":{}}");
	cJSON_free(s);
	p = npgw_k8s_find_pod(c, "kube-system", "host");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (i = 0; c->pods[i] != p; i++)
		;
	s = object_text(c, "pod", i);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"spec\":{\"hostNetwork\":true,"));
	cJSON_free(s);
	npgw_k8s_cluster_free(c);
}

static void test_namespace_json_shape(void)
{
	struct npgw_k8s_cluster *c = load_text("fixture.yaml", fixture);
	char *s;

	CU_ASSERT_STRING_EQUAL_FATAL(c->namespaces[0]->name, "bare");
	s = object_text(c, "namespace", 0);
	CU_ASSERT_STRING_EQUAL(s, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{"
				  "\"name\":\"bare\",\"labels\":{"
				  "\"kubernetes.io/metadata.name\":\"bare\"}}}");
	cJSON_free(s);
	npgw_k8s_cluster_free(c);
}

/* Whatever the order of the cluster, the List holds namespaces, pods and
 * policies in that order, each by (namespace, name). */
static void test_list_order(void)
{
	struct npgw_k8s_cluster *c = load_text("fixture.yaml", fixture);
	const char *expect[] = {
		"Namespace //bare",
		"Namespace //named",
		"Namespace //shop",
		"Pod default/done",
		"Pod default/pending",
		"Pod kube-system/host",
		"Pod shop/web-1",
		"NetworkPolicy bare/empty-types",
		"NetworkPolicy default/egress-only-with-ingress-rules",
		"NetworkPolicy default/empty-egress",
		"NetworkPolicy default/inferred-egress",
		"NetworkPolicy default/inferred-ingress",
		"NetworkPolicy shop/db.access",
	};
	const cJSON *items, *it;
	cJSON *j;
	size_t i = 0;

	/* reverse every list */
	for (size_t k = 0; k < c->n_pods / 2; k++) {
		struct npgw_k8s_pod *t = c->pods[k];

		c->pods[k] = c->pods[c->n_pods - 1 - k];
		c->pods[c->n_pods - 1 - k] = t;
	}
	for (size_t k = 0; k < c->n_policies / 2; k++) {
		struct npgw_k8s_policy *t = c->policies[k];

		c->policies[k] = c->policies[c->n_policies - 1 - k];
		c->policies[c->n_policies - 1 - k] = t;
	}
	{
		struct npgw_k8s_namespace *t = c->namespaces[0];

		c->namespaces[0] = c->namespaces[2];
		c->namespaces[2] = t;
	}
	j = npgw_k8s_cluster_to_json(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	items = cJSON_GetObjectItemCaseSensitive(j, "items");
	CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(items), (int)NPGW_ARRAY_SIZE(expect));
	cJSON_ArrayForEach(it, items)
	{
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "metadata");
		const cJSON *ns = cJSON_GetObjectItemCaseSensitive(m, "namespace");
		char got[256];

		snprintf(got, sizeof(got), "%s %s/%s",
			 cJSON_GetObjectItemCaseSensitive(it, "kind")->valuestring,
			 ns ? ns->valuestring : "/",
			 cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring);
		CU_ASSERT_STRING_EQUAL(got, expect[i]);
		i++;
	}
	cJSON_Delete(j);
	npgw_k8s_cluster_free(c);
}

/* ---- allocation failures, injected through cJSON's hooks ---- */

static long fail_after = -1; /* allocations left before one fails; -1 never */
static bool failed;

static void *failing_malloc(size_t n)
{
	if (fail_after == 0) {
		failed = true;
		return NULL;
	}
	if (fail_after > 0)
		fail_after--;
	return malloc(n);
}

static void test_allocation_failures_return_null(void)
{
	struct npgw_k8s_cluster *c = load_text("fixture.yaml", fixture);
	cJSON_Hooks hooks = {.malloc_fn = failing_malloc, .free_fn = free};
	cJSON_Hooks plain = {.malloc_fn = malloc, .free_fn = free};
	cJSON *j = NULL;
	long n;

	cJSON_InitHooks(&hooks);
	/* the n-th allocation fails, for every n until none does; each
	 * failure gives NULL and leaks nothing (ASan checks that) */
	for (n = 0; n < 100000; n++) {
		fail_after = n;
		failed = false;
		j = npgw_k8s_cluster_to_json(c);
		if (!failed)
			break; /* no allocation failed: done */
		CU_ASSERT_PTR_NULL(j);
		cJSON_Delete(j);
		j = NULL;
	}
	fail_after = -1;
	cJSON_InitHooks(&plain);
	CU_ASSERT(n > 100);
	CU_ASSERT_PTR_NOT_NULL(j);
	cJSON_Delete(j);
	npgw_k8s_cluster_free(c);
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"every field round-trips", test_fixture_round_trips},
		{"shipped examples round-trip", test_examples_round_trip},
		{"empty cluster", test_empty_cluster_is_an_empty_list},
		{"policy JSON shape", test_policy_json_shape},
		{"pod JSON shape", test_pod_json_shape},
		{"namespace JSON shape", test_namespace_json_shape},
		{"List order", test_list_order},
		{"allocation failures", test_allocation_failures_return_null},
		{NULL, NULL},
	};

	return npgw_test_add_suite("k8s_emit", tests);
}
