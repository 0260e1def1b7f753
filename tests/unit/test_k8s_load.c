/*
 * test_k8s_load.c: lib/k8s reads every field of NetworkPolicy, Pod and
 * Namespace objects right, fills in the defaults, and reads the shapes
 * kubectl prints (multi-document YAML, kind: List in YAML and JSON, typed
 * lists, directories). Also the model helpers: selector matching, lookups,
 * namespace labels, sorting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "npgw_k8s.h"

#ifndef NPGW_TEST_DATA
#error "NPGW_TEST_DATA must name tests/data"
#endif

/* Load text into a new cluster; the diagnostics go to *d. */
static struct npgw_k8s_cluster *load(const char *name, const char *text, struct npgw_diags *d,
				     int *rc)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	*rc = npgw_k8s_load_buffer(c, name, text, strlen(text), d);
	if (d->n_errors)
		npgw_diags_print(d, stderr);
	return c;
}

static struct npgw_k8s_cluster *load_ok(const char *name, const char *text)
{
	struct npgw_diags d = {0};
	int rc;
	struct npgw_k8s_cluster *c = load(name, text, &d, &rc);

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(d.n_errors, 0);
	npgw_diags_free(&d);
	return c;
}

static const char *prefix_str(const struct npgw_prefix *p, char *buf)
{
	return npgw_prefix_format(p, buf, 64);
}

static const char policy_all_fields[] =
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata:\n"
	"  name: db.access\n"
	"  namespace: shop\n"
	"spec:\n"
	"  podSelector:\n"
	"    matchLabels: {app: db, tier: backend}\n"
	"    matchExpressions:\n"
	"    - {key: env, operator: In, values: [prod, dev, prod]}\n"
	"    - {key: canary, operator: DoesNotExist}\n"
	"  policyTypes: [Ingress, Egress]\n"
	"  ingress:\n"
	"  - from:\n"
	"    - podSelector: {matchLabels: {app: web}}\n"
	"    - namespaceSelector: {matchLabels: {team: a}}\n"
	"    - namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: [b]}]}\n"
	"      podSelector: {matchExpressions: [{key: app, operator: Exists}]}\n"
	"    - ipBlock:\n"
	"        cidr: 10.0.0.0/8\n"
	"        except: [10.1.0.0/16, 10.2.3.0/24]\n"
	"    - ipBlock: {cidr: 'fd00::/64', except: ['fd00::1:0/112']}\n"
	"    ports:\n"
	"    - port: 5432\n"
	"    - {protocol: UDP, port: 53}\n"
	"    - {protocol: SCTP, port: 3000, endPort: 3010}\n"
	"    - {port: pg-main}\n"
	"    - protocol: UDP\n"
	"  - {}\n"
	"  egress:\n"
	"  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]\n";

static void test_policy_every_field_is_read(void)
{
	struct npgw_k8s_cluster *c = load_ok("p.yaml", policy_all_fields);
	const struct npgw_k8s_policy *p;
	const struct npgw_k8s_rule *r;
	char buf[64];

	CU_ASSERT_EQUAL_FATAL(c->n_policies, 1);
	p = c->policies[0];
	CU_ASSERT_STRING_EQUAL(p->namespace, "shop");
	CU_ASSERT_STRING_EQUAL(p->name, "db.access");
	CU_ASSERT_STRING_EQUAL(p->origin.file, "p.yaml");
	CU_ASSERT_EQUAL(p->origin.line, 1);
	CU_ASSERT_EQUAL(p->origin.col, 1);
	/* pod selector: labels sorted by key, expression values sorted unique */
	CU_ASSERT_EQUAL_FATAL(p->pod_selector.match_labels.n, 2);
	CU_ASSERT_STRING_EQUAL(p->pod_selector.match_labels.v[0].key, "app");
	CU_ASSERT_STRING_EQUAL(p->pod_selector.match_labels.v[0].value, "db");
	CU_ASSERT_STRING_EQUAL(p->pod_selector.match_labels.v[1].key, "tier");
	CU_ASSERT_EQUAL_FATAL(p->pod_selector.n_exprs, 2);
	CU_ASSERT_STRING_EQUAL(p->pod_selector.exprs[0].key, "env");
	CU_ASSERT_EQUAL(p->pod_selector.exprs[0].op, NPGW_K8S_OP_IN);
	CU_ASSERT_EQUAL_FATAL(p->pod_selector.exprs[0].n_values, 2);
	CU_ASSERT_STRING_EQUAL(p->pod_selector.exprs[0].values[0], "dev");
	CU_ASSERT_STRING_EQUAL(p->pod_selector.exprs[0].values[1], "prod");
	CU_ASSERT_EQUAL(p->pod_selector.exprs[1].op, NPGW_K8S_OP_DOES_NOT_EXIST);
	CU_ASSERT_EQUAL(p->pod_selector.exprs[1].n_values, 0);
	CU_ASSERT_TRUE(p->isolates_ingress);
	CU_ASSERT_TRUE(p->isolates_egress);

	CU_ASSERT_EQUAL_FATAL(p->n_ingress, 2);
	r = &p->ingress[0];
	CU_ASSERT_EQUAL_FATAL(r->n_peers, 5);
	CU_ASSERT_TRUE(r->peers[0].has_pod_selector);
	CU_ASSERT_FALSE(r->peers[0].has_ns_selector);
	CU_ASSERT_FALSE(r->peers[0].has_ip_block);
	CU_ASSERT_STRING_EQUAL(r->peers[0].pod_selector.match_labels.v[0].value, "web");
	CU_ASSERT_FALSE(r->peers[1].has_pod_selector);
	CU_ASSERT_TRUE(r->peers[1].has_ns_selector);
	CU_ASSERT_TRUE(r->peers[2].has_pod_selector);
	CU_ASSERT_TRUE(r->peers[2].has_ns_selector);
	CU_ASSERT_EQUAL(r->peers[2].ns_selector.exprs[0].op, NPGW_K8S_OP_NOT_IN);
	CU_ASSERT_EQUAL(r->peers[2].pod_selector.exprs[0].op, NPGW_K8S_OP_EXISTS);
	CU_ASSERT_TRUE(r->peers[3].has_ip_block);
	CU_ASSERT_STRING_EQUAL(prefix_str(&r->peers[3].cidr, buf), "10.0.0.0/8");
	CU_ASSERT_EQUAL_FATAL(r->peers[3].n_except, 2);
	CU_ASSERT_STRING_EQUAL(prefix_str(&r->peers[3].except[0], buf), "10.1.0.0/16");
	CU_ASSERT_STRING_EQUAL(prefix_str(&r->peers[3].except[1], buf), "10.2.3.0/24");
	CU_ASSERT_STRING_EQUAL(prefix_str(&r->peers[4].cidr, buf), "fd00::/64");
	CU_ASSERT_EQUAL(r->peers[4].cidr.addr.family, 6);
	CU_ASSERT_STRING_EQUAL(prefix_str(&r->peers[4].except[0], buf), "fd00::1:0/112");

	CU_ASSERT_EQUAL_FATAL(r->n_ports, 5);
	CU_ASSERT_EQUAL(r->ports[0].protocol, NPGW_PROTO_TCP); /* default */
	CU_ASSERT_TRUE(r->ports[0].has_port);
	CU_ASSERT_EQUAL(r->ports[0].port, 5432);
	CU_ASSERT_EQUAL(r->ports[0].end_port, 0);
	CU_ASSERT_PTR_NULL(r->ports[0].name);
	CU_ASSERT_EQUAL(r->ports[1].protocol, NPGW_PROTO_UDP);
	CU_ASSERT_EQUAL(r->ports[1].port, 53);
	CU_ASSERT_EQUAL(r->ports[2].protocol, NPGW_PROTO_SCTP);
	CU_ASSERT_EQUAL(r->ports[2].port, 3000);
	CU_ASSERT_EQUAL(r->ports[2].end_port, 3010);
	CU_ASSERT_TRUE(r->ports[3].has_port);
	CU_ASSERT_STRING_EQUAL(r->ports[3].name, "pg-main");
	CU_ASSERT_EQUAL(r->ports[3].port, 0);
	CU_ASSERT_EQUAL(r->ports[4].protocol, NPGW_PROTO_UDP);
	CU_ASSERT_FALSE(r->ports[4].has_port);
	/* ingress: [.., {}] : the second rule allows everything */
	CU_ASSERT_EQUAL(p->ingress[1].n_peers, 0);
	CU_ASSERT_EQUAL(p->ingress[1].n_ports, 0);
	CU_ASSERT_EQUAL_FATAL(p->n_egress, 1);
	CU_ASSERT_STRING_EQUAL(prefix_str(&p->egress[0].peers[0].cidr, buf), "0.0.0.0/0");
	npgw_k8s_cluster_free(c);
}

static void test_policy_types_are_inferred_when_omitted(void)
{
	struct npgw_k8s_cluster *c = load_ok(
		"t.yaml",
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: only-ingress}\nspec: {podSelector: {}}\n"
		"---\n"
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: with-egress}\nspec: {podSelector: {}, egress: [{}]}\n"
		"---\n"
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: empty-egress}\nspec: {podSelector: {}, egress: []}\n"
		"---\n"
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: egress-only}\n"
		"spec: {podSelector: {}, policyTypes: [Egress], ingress: [{}]}\n"
		"---\n"
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: empty-types}\nspec: {podSelector: {}, policyTypes: []}\n");

	/* sorted by (namespace, name); namespace defaults to "default" */
	CU_ASSERT_EQUAL_FATAL(c->n_policies, 5);
	CU_ASSERT_STRING_EQUAL(c->policies[0]->namespace, "default");
	CU_ASSERT_STRING_EQUAL(c->policies[0]->name, "egress-only");
	CU_ASSERT_FALSE(c->policies[0]->isolates_ingress);
	CU_ASSERT_TRUE(c->policies[0]->isolates_egress);
	CU_ASSERT_EQUAL(c->policies[0]->n_ingress, 1); /* kept, though not enforced */
	CU_ASSERT_STRING_EQUAL(c->policies[1]->name, "empty-egress");
	CU_ASSERT_TRUE(c->policies[1]->isolates_ingress);
	CU_ASSERT_FALSE(c->policies[1]->isolates_egress);
	CU_ASSERT_STRING_EQUAL(c->policies[2]->name, "empty-types");
	CU_ASSERT_TRUE(c->policies[2]->isolates_ingress);
	CU_ASSERT_FALSE(c->policies[2]->isolates_egress);
	CU_ASSERT_STRING_EQUAL(c->policies[3]->name, "only-ingress");
	CU_ASSERT_TRUE(c->policies[3]->isolates_ingress);
	CU_ASSERT_FALSE(c->policies[3]->isolates_egress);
	CU_ASSERT_EQUAL(c->policies[3]->n_ingress, 0);
	CU_ASSERT_STRING_EQUAL(c->policies[4]->name, "with-egress");
	CU_ASSERT_TRUE(c->policies[4]->isolates_ingress);
	CU_ASSERT_TRUE(c->policies[4]->isolates_egress);
	npgw_k8s_cluster_free(c);
}

static void test_null_fields_read_as_absent(void)
{
	struct npgw_k8s_cluster *c = load_ok(
		"n.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
			  "metadata: {name: np, namespace: ~}\n"
			  "spec:\n  podSelector: {matchLabels: null}\n  policyTypes:\n"
			  "  ingress:\n  - from: null\n    ports:\n    - port: 80\n"
			  "      protocol: null\n      endPort: ~\n");

	CU_ASSERT_EQUAL_FATAL(c->n_policies, 1);
	CU_ASSERT_STRING_EQUAL(c->policies[0]->namespace, "default");
	CU_ASSERT_EQUAL(c->policies[0]->pod_selector.match_labels.n, 0);
	CU_ASSERT_EQUAL(c->policies[0]->ingress[0].n_peers, 0);
	CU_ASSERT_EQUAL(c->policies[0]->ingress[0].ports[0].protocol, NPGW_PROTO_TCP);
	CU_ASSERT_EQUAL(c->policies[0]->ingress[0].ports[0].end_port, 0);
	npgw_k8s_cluster_free(c);
}

static void test_pod_fields_and_defaults(void)
{
	struct npgw_k8s_cluster *c = load_ok(
		"pod.yaml", "apiVersion: v1\nkind: Pod\n"
			    "metadata:\n  name: web-1\n  labels: {app: web, \"example.com/tier\": front, "
			    "empty: \"\"}\n"
			    "spec:\n"
			    "  initContainers:\n  - name: init\n    ports: [{containerPort: 1}]\n"
			    "  containers:\n"
			    "  - name: a\n    ports:\n    - {name: http, containerPort: 8080}\n"
			    "    - {containerPort: 9000, protocol: UDP}\n"
			    "  - name: b\n    ports: [{name: sctp-x, containerPort: 36412, protocol: SCTP}]\n"
			    "  - name: c\n"
			    "status:\n  phase: Pending\n  podIP: 10.0.0.5\n"
			    "  podIPs: [{ip: 10.0.0.5}, {ip: 'fd00::5'}]\n");
	const struct npgw_k8s_pod *p;
	char buf[64];

	CU_ASSERT_EQUAL_FATAL(c->n_pods, 1);
	p = c->pods[0];
	CU_ASSERT_STRING_EQUAL(p->namespace, "default");
	CU_ASSERT_STRING_EQUAL(p->name, "web-1");
	CU_ASSERT_EQUAL_FATAL(p->labels.n, 3);
	CU_ASSERT_STRING_EQUAL(p->labels.v[0].key, "app");
	CU_ASSERT_STRING_EQUAL(p->labels.v[1].key, "empty");
	CU_ASSERT_STRING_EQUAL(p->labels.v[1].value, "");
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(&p->labels, "example.com/tier"), "front");
	CU_ASSERT_FALSE(p->host_network);
	CU_ASSERT_STRING_EQUAL(p->phase, "Pending");
	/* podIP and podIPs merged, each address once */
	CU_ASSERT_EQUAL_FATAL(p->n_addrs, 2);
	CU_ASSERT_STRING_EQUAL(npgw_addr_format(&p->addrs[0], buf, sizeof(buf)), "10.0.0.5");
	CU_ASSERT_STRING_EQUAL(npgw_addr_format(&p->addrs[1], buf, sizeof(buf)), "fd00::5");
	/* every container's ports, init containers' not */
	CU_ASSERT_EQUAL_FATAL(p->n_ports, 3);
	CU_ASSERT_STRING_EQUAL(p->ports[0].name, "http");
	CU_ASSERT_EQUAL(p->ports[0].port, 8080);
	CU_ASSERT_EQUAL(p->ports[0].protocol, NPGW_PROTO_TCP);
	CU_ASSERT_PTR_NULL(p->ports[1].name);
	CU_ASSERT_EQUAL(p->ports[1].protocol, NPGW_PROTO_UDP);
	CU_ASSERT_STRING_EQUAL(p->ports[2].name, "sctp-x");
	CU_ASSERT_EQUAL(p->ports[2].protocol, NPGW_PROTO_SCTP);
	CU_ASSERT_TRUE(npgw_k8s_pod_is_policy_target(p));
	npgw_k8s_cluster_free(c);
}

static void test_pod_is_policy_target_excludes_host_network_and_finished(void)
{
	struct npgw_k8s_cluster *c = load_ok(
		"pods.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: host}\n"
			     "spec: {hostNetwork: true}\n---\n"
			     "apiVersion: v1\nkind: Pod\nmetadata: {name: done}\n"
			     "status: {phase: Succeeded}\n---\n"
			     "apiVersion: v1\nkind: Pod\nmetadata: {name: failed}\n"
			     "status: {phase: Failed}\n---\n"
			     "apiVersion: v1\nkind: Pod\nmetadata: {name: nophase}\n");

	CU_ASSERT_EQUAL_FATAL(c->n_pods, 4);
	CU_ASSERT_FALSE(npgw_k8s_pod_is_policy_target(npgw_k8s_find_pod(c, "default", "host")));
	CU_ASSERT_TRUE(npgw_k8s_find_pod(c, "default", "host")->host_network);
	CU_ASSERT_FALSE(npgw_k8s_pod_is_policy_target(npgw_k8s_find_pod(c, "default", "done")));
	CU_ASSERT_FALSE(npgw_k8s_pod_is_policy_target(npgw_k8s_find_pod(c, "default", "failed")));
	CU_ASSERT_TRUE(npgw_k8s_pod_is_policy_target(npgw_k8s_find_pod(c, "default", "nophase")));
	npgw_k8s_cluster_free(c);
}

static void test_namespace_gets_implicit_name_label(void)
{
	struct npgw_k8s_cluster *c = load_ok("ns.yaml",
					     "apiVersion: v1\nkind: Namespace\n"
					     "metadata: {name: shop, labels: {team: web}}\n");
	const struct npgw_k8s_namespace *ns;

	CU_ASSERT_EQUAL_FATAL(c->n_namespaces, 1);
	ns = c->namespaces[0];
	CU_ASSERT_STRING_EQUAL(ns->name, "shop");
	CU_ASSERT_EQUAL_FATAL(ns->labels.n, 2);
	CU_ASSERT_STRING_EQUAL(ns->labels.v[0].key, NPGW_K8S_NS_NAME_LABEL); /* sorted */
	CU_ASSERT_STRING_EQUAL(ns->labels.v[0].value, "shop");
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(&ns->labels, "team"), "web");
	npgw_k8s_cluster_free(c);
}

static void test_namespace_name_label_is_overridden_with_a_warning(void)
{
	struct npgw_diags d = {0};
	int rc;
	struct npgw_k8s_cluster *c =
		load("ns.yaml",
		     "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n"
		     "    kubernetes.io/metadata.name: other\n",
		     &d, &rc);

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(d.n_errors, 0);
	CU_ASSERT_EQUAL_FATAL(d.n_warnings, 1);
	CU_ASSERT_EQUAL(d.v[0].severity, NPGW_SEV_WARNING);
	CU_ASSERT_EQUAL(d.v[0].line, 6);
	CU_ASSERT_EQUAL(d.v[0].col, 34);
	CU_ASSERT_STRING_EQUAL(d.v[0].path, "metadata.labels[\"kubernetes.io/metadata.name\"]");
	CU_ASSERT_EQUAL_FATAL(c->n_namespaces, 1);
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(&c->namespaces[0]->labels, NPGW_K8S_NS_NAME_LABEL),
			       "shop");
	CU_ASSERT_EQUAL(c->namespaces[0]->labels.n, 1);
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(c);
}

static void test_multi_document_yaml_skips_empty_docs_and_other_kinds(void)
{
	struct npgw_k8s_cluster *c = load_ok(
		"multi.yaml", "---\n# nothing here\n---\n"
			      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
			      "---\n---\n"
			      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
			      "spec: {replicas: 3, whatever: [1, 2]}\n"
			      "---\n"
			      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
			      "---\n"
			      "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n"
			      "...\n");

	CU_ASSERT_EQUAL(c->n_namespaces, 2);
	CU_ASSERT_EQUAL(c->n_pods, 0);
	CU_ASSERT_EQUAL(c->n_policies, 0);
	CU_ASSERT_EQUAL(c->n_refused, 0);
	npgw_k8s_cluster_free(c);
}

/* The kubectl get -o yaml / -o json fixture: one Namespace, two Pods (one
 * hostNetwork), a Service (skipped) and a NetworkPolicy, with managedFields,
 * annotations and status as kubectl prints them. */
static void check_kubectl_list(const struct npgw_k8s_cluster *c, const char *file)
{
	const struct npgw_k8s_pod *web, *proxy;
	const struct npgw_k8s_namespace *ns;
	const struct npgw_k8s_policy *pol;
	char buf[64];

	CU_ASSERT_EQUAL_FATAL(c->n_namespaces, 1);
	CU_ASSERT_EQUAL_FATAL(c->n_pods, 2);
	CU_ASSERT_EQUAL_FATAL(c->n_policies, 1);
	ns = npgw_k8s_find_namespace(c, "shop");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ns);
	CU_ASSERT_EQUAL(ns->labels.n, 2);
	CU_ASSERT_STRING_EQUAL(ns->origin.file, file);
	web = npgw_k8s_find_pod(c, "shop", "web-7d9c6b5f4-x2x7p");
	CU_ASSERT_PTR_NOT_NULL_FATAL(web);
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(&web->labels, "app"), "web");
	CU_ASSERT_EQUAL_FATAL(web->n_addrs, 2);
	CU_ASSERT_STRING_EQUAL(npgw_addr_format(&web->addrs[0], buf, sizeof(buf)), "10.244.1.7");
	CU_ASSERT_STRING_EQUAL(npgw_addr_format(&web->addrs[1], buf, sizeof(buf)),
			       "fd00:10:244:1::7");
	CU_ASSERT_EQUAL_FATAL(web->n_ports, 3);
	CU_ASSERT_STRING_EQUAL(web->ports[0].name, "http");
	CU_ASSERT_EQUAL(web->ports[0].port, 8080);
	CU_ASSERT_STRING_EQUAL(web->ports[1].name, "metrics");
	CU_ASSERT_EQUAL(web->ports[1].protocol, NPGW_PROTO_TCP);
	CU_ASSERT_STRING_EQUAL(web->ports[2].name, "dns");
	CU_ASSERT_EQUAL(web->ports[2].protocol, NPGW_PROTO_UDP);
	CU_ASSERT_STRING_EQUAL(web->phase, "Running");
	proxy = npgw_k8s_find_pod(c, "kube-system", "kube-proxy-8xk2d");
	CU_ASSERT_PTR_NOT_NULL_FATAL(proxy);
	CU_ASSERT_TRUE(proxy->host_network);
	pol = c->policies[0];
	CU_ASSERT_STRING_EQUAL(pol->name, "web-ingress");
	CU_ASSERT_STRING_EQUAL(pol->namespace, "shop");
	CU_ASSERT_EQUAL_FATAL(pol->n_ingress, 1);
	CU_ASSERT_STRING_EQUAL(pol->ingress[0].ports[0].name, "http");
	CU_ASSERT_TRUE(pol->ingress[0].peers[0].has_ns_selector);
	CU_ASSERT_FALSE(pol->isolates_egress);
}

/* The list's Service is skipped, and said so in one warning. */
static void check_skipped_service(const struct npgw_diags *d)
{
	CU_ASSERT_EQUAL(d->n_errors, 0);
	CU_ASSERT_EQUAL_FATAL(d->n, 1);
	CU_ASSERT_EQUAL(d->v[0].severity, NPGW_SEV_WARNING);
	CU_ASSERT_PTR_NOT_NULL(strstr(d->v[0].message, "skipped 1 document: kind Service"));
}

static void test_kubectl_list_yaml_is_read(void)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	const char *path = NPGW_TEST_DATA "/k8s/kubectl-list.yaml";

	CU_ASSERT_EQUAL(npgw_k8s_load_path(c, path, &d), 0);
	check_skipped_service(&d);
	check_kubectl_list(c, path);
	/* positions come from the file: the Namespace is items[0] at 3:3 */
	CU_ASSERT_EQUAL(c->namespaces[0]->origin.line, 3);
	CU_ASSERT_EQUAL(c->namespaces[0]->origin.col, 3);
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(c);
}

static void test_kubectl_list_json_is_read(void)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	const char *path = NPGW_TEST_DATA "/k8s/kubectl-list.json";

	CU_ASSERT_EQUAL(npgw_k8s_load_path(c, path, &d), 0);
	check_skipped_service(&d);
	check_kubectl_list(c, path);
	CU_ASSERT_EQUAL(c->namespaces[0]->origin.line, 4);
	CU_ASSERT_EQUAL(c->namespaces[0]->origin.col, 9);
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(c);
}

static void test_json_buffer_is_sniffed_and_escapes_decoded(void)
{
	struct npgw_diags d = {0};
	struct npgw_k8s_cluster *c;
	int rc;

	/* a name without extension starting with '{' is JSON; \u escapes
	 * decode to UTF-8 (the refused name shows it decoded) */
	c = load("apply", "  {\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
			  "{\"name\":\"caf\\u00e9\\ud83d\\ude00\"}}",
		 &d, &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_EQUAL_FATAL(d.n, 1);
	CU_ASSERT_EQUAL(d.v[0].line, 1);
	CU_ASSERT_EQUAL(d.v[0].col, 60);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.v[0].message, "\"caf\xc3\xa9\xf0\x9f\x98\x80\""));
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(c);
	c = load_ok("apply", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
			     "\"n\\u0031\",\"labels\":{\"k\":\"a\\u002db\"}}}");
	CU_ASSERT_EQUAL_FATAL(c->n_namespaces, 1);
	CU_ASSERT_STRING_EQUAL(c->namespaces[0]->name, "n1");
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(&c->namespaces[0]->labels, "k"), "a-b");
	npgw_k8s_cluster_free(c);
}

static void test_typed_lists_without_item_kinds(void)
{
	struct npgw_k8s_cluster *c = load_ok(
		"lists.yaml",
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitems:\n"
		"- metadata: {name: p1, namespace: a}\n  spec: {podSelector: {}}\n"
		"- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n"
		"  metadata: {name: p2, namespace: a}\n  spec: {podSelector: {}}\n"
		"---\n"
		"apiVersion: v1\nkind: NamespaceList\nitems: [{metadata: {name: a}}]\n"
		"---\n"
		"apiVersion: v1\nkind: PodList\nitems: [{metadata: {name: x, namespace: a}}]\n"
		"---\n"
		"apiVersion: v1\nkind: List\nitems: []\n");

	CU_ASSERT_EQUAL(c->n_policies, 2);
	CU_ASSERT_EQUAL(c->n_namespaces, 1);
	CU_ASSERT_EQUAL(c->n_pods, 1);
	npgw_k8s_cluster_free(c);
}

static void test_directory_is_read_in_name_order_yaml_yml_json_only(void)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};

	CU_ASSERT_EQUAL(npgw_k8s_load_path(c, NPGW_TEST_DATA "/k8s/dir", &d), 0);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_EQUAL(c->n_namespaces, 1);
	CU_ASSERT_EQUAL(c->n_policies, 1);
	CU_ASSERT_EQUAL_FATAL(c->n_pods, 2);
	/* sorted by name whatever the file order */
	CU_ASSERT_STRING_EQUAL(c->pods[0]->name, "a");
	CU_ASSERT_STRING_EQUAL(c->pods[1]->name, "b");
	CU_ASSERT_STRING_EQUAL(c->pods[1]->origin.file, NPGW_TEST_DATA "/k8s/dir/20-pods.json");
	CU_ASSERT_EQUAL(c->pods[1]->origin.line, 6);
	CU_ASSERT_EQUAL(c->pods[1]->origin.col, 9);
	CU_ASSERT_EQUAL(npgw_k8s_load_path(c, NPGW_TEST_DATA "/k8s/no-such-dir", &d), -ENOENT);
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(c);
}

static void test_examples_load_without_errors(void)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};

	CU_ASSERT_EQUAL(npgw_k8s_load_path(c, NPGW_TEST_DATA "/../../config/examples", &d), 0);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_validate(c, &d), 0);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_EQUAL(c->n_namespaces, 4);
	CU_ASSERT_EQUAL(c->n_pods, 10);
	CU_ASSERT_EQUAL(c->n_policies, 5);
	CU_ASSERT_PTR_NOT_NULL(npgw_k8s_find_pod(c, "y", "b"));
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(c);
}

/* ---- model helpers ---- */

static struct npgw_k8s_labels labels_of(struct npgw_k8s_label *v, size_t n)
{
	return (struct npgw_k8s_labels){.v = v, .n = n};
}

static void test_selector_operators_match_as_kubernetes(void)
{
	struct npgw_k8s_label lv[] = {{(char[]){"app"}, (char[]){"web"}}, {(char[]){"env"}, (char[]){"prod"}}};
	struct npgw_k8s_labels l = labels_of(lv, 2), none = labels_of(NULL, 0);
	char *vals[] = {(char[]){"prod"}, (char[]){"staging"}};
	struct npgw_k8s_expr e = {.key = (char[]){"env"}, .values = vals, .n_values = 2};
	struct npgw_k8s_selector s = {.exprs = &e, .n_exprs = 1};
	struct npgw_k8s_selector empty = {0};
	struct npgw_k8s_label ml = {(char[]){"app"}, (char[]){"web"}};
	struct npgw_k8s_selector by_label = {.match_labels = labels_of(&ml, 1)};

	CU_ASSERT_TRUE(npgw_k8s_selector_matches(&empty, &l));
	CU_ASSERT_TRUE(npgw_k8s_selector_matches(&empty, &none));
	CU_ASSERT_TRUE(npgw_k8s_selector_matches(&by_label, &l));
	CU_ASSERT_FALSE(npgw_k8s_selector_matches(&by_label, &none));
	e.op = NPGW_K8S_OP_IN;
	CU_ASSERT_TRUE(npgw_k8s_selector_matches(&s, &l));
	CU_ASSERT_FALSE(npgw_k8s_selector_matches(&s, &none));
	e.op = NPGW_K8S_OP_NOT_IN;
	CU_ASSERT_FALSE(npgw_k8s_selector_matches(&s, &l));
	CU_ASSERT_TRUE(npgw_k8s_selector_matches(&s, &none)); /* missing key: true */
	e.op = NPGW_K8S_OP_EXISTS;
	e.n_values = 0;
	CU_ASSERT_TRUE(npgw_k8s_selector_matches(&s, &l));
	CU_ASSERT_FALSE(npgw_k8s_selector_matches(&s, &none));
	e.op = NPGW_K8S_OP_DOES_NOT_EXIST;
	CU_ASSERT_FALSE(npgw_k8s_selector_matches(&s, &l));
	CU_ASSERT_TRUE(npgw_k8s_selector_matches(&s, &none));
	/* matchLabels AND expressions */
	by_label.exprs = &e;
	by_label.n_exprs = 1;
	CU_ASSERT_FALSE(npgw_k8s_selector_matches(&by_label, &l));
}

static void test_namespace_labels_fall_back_to_the_implicit_label(void)
{
	struct npgw_k8s_cluster *c = load_ok("ns.yaml", "apiVersion: v1\nkind: Namespace\n"
							"metadata: {name: a, labels: {x: '1'}}\n");
	struct npgw_k8s_label tmp;
	struct npgw_k8s_labels tmp_set;
	const struct npgw_k8s_labels *l;

	l = npgw_k8s_namespace_labels(c, "a", &tmp, &tmp_set);
	CU_ASSERT_EQUAL(l->n, 2);
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(l, "x"), "1");
	l = npgw_k8s_namespace_labels(c, "unknown", &tmp, &tmp_set);
	CU_ASSERT_PTR_EQUAL(l, &tmp_set);
	CU_ASSERT_EQUAL(l->n, 1);
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(l, NPGW_K8S_NS_NAME_LABEL), "unknown");
	CU_ASSERT_PTR_NULL(npgw_k8s_find_namespace(c, "unknown"));
	CU_ASSERT_PTR_NULL(npgw_k8s_find_pod(c, "a", "nope"));
	npgw_k8s_cluster_free(c);
}

static void test_cluster_sort_orders_hand_built_objects(void)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	const char *names[][2] = {{"b", "x"}, {"a", "z"}, {"a", "y"}, {"c", "a"}};

	c->pods = calloc(4, sizeof(*c->pods));
	for (size_t i = 0; i < 4; i++) {
		struct npgw_k8s_pod *p = calloc(1, sizeof(*p));

		p->namespace = strdup(names[i][0]);
		p->name = strdup(names[i][1]);
		p->labels.v = calloc(2, sizeof(*p->labels.v));
		p->labels.v[0] = (struct npgw_k8s_label){strdup("z"), strdup("1")};
		p->labels.v[1] = (struct npgw_k8s_label){strdup("a"), strdup("2")};
		p->labels.n = 2;
		c->pods[c->n_pods++] = p;
	}
	npgw_k8s_cluster_sort(c);
	CU_ASSERT_STRING_EQUAL(c->pods[0]->name, "y");
	CU_ASSERT_STRING_EQUAL(c->pods[1]->name, "z");
	CU_ASSERT_STRING_EQUAL(c->pods[2]->namespace, "b");
	CU_ASSERT_STRING_EQUAL(c->pods[3]->namespace, "c");
	CU_ASSERT_STRING_EQUAL(c->pods[0]->labels.v[0].key, "a");
	CU_ASSERT_PTR_NOT_NULL(npgw_k8s_find_pod(c, "a", "z"));
	CU_ASSERT_PTR_NOT_NULL(npgw_k8s_find_pod(c, "c", "a"));
	npgw_k8s_cluster_free(c);
	npgw_k8s_cluster_free(NULL);
}

int npgw_test_register(void)
{
	static const CU_TestInfo read_tests[] = {
		{"policy_every_field_is_read", test_policy_every_field_is_read},
		{"policy_types_are_inferred_when_omitted", test_policy_types_are_inferred_when_omitted},
		{"null_fields_read_as_absent", test_null_fields_read_as_absent},
		{"pod_fields_and_defaults", test_pod_fields_and_defaults},
		{"pod_is_policy_target_excludes_host_network_and_finished",
		 test_pod_is_policy_target_excludes_host_network_and_finished},
		{"namespace_gets_implicit_name_label", test_namespace_gets_implicit_name_label},
		{"namespace_name_label_is_overridden_with_a_warning",
		 test_namespace_name_label_is_overridden_with_a_warning},
		{NULL, NULL},
	};
	static const CU_TestInfo shape_tests[] = {
		{"multi_document_yaml_skips_empty_docs_and_other_kinds",
		 test_multi_document_yaml_skips_empty_docs_and_other_kinds},
		{"kubectl_list_yaml_is_read", test_kubectl_list_yaml_is_read},
		{"kubectl_list_json_is_read", test_kubectl_list_json_is_read},
		{"json_buffer_is_sniffed_and_escapes_decoded",
		 test_json_buffer_is_sniffed_and_escapes_decoded},
		{"typed_lists_without_item_kinds", test_typed_lists_without_item_kinds},
		{"directory_is_read_in_name_order_yaml_yml_json_only",
		 test_directory_is_read_in_name_order_yaml_yml_json_only},
		{"examples_load_without_errors", test_examples_load_without_errors},
		{NULL, NULL},
	};
	static const CU_TestInfo model_tests[] = {
		{"selector_operators_match_as_kubernetes", test_selector_operators_match_as_kubernetes},
		{"namespace_labels_fall_back_to_the_implicit_label",
		 test_namespace_labels_fall_back_to_the_implicit_label},
		{"cluster_sort_orders_hand_built_objects", test_cluster_sort_orders_hand_built_objects},
		{NULL, NULL},
	};

	if (npgw_test_add_suite("k8s_load_fields", read_tests) ||
	    npgw_test_add_suite("k8s_load_shapes", shape_tests) ||
	    npgw_test_add_suite("k8s_model", model_tests))
		return -1;
	return 0;
}
