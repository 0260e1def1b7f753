/*
 * test_k8s_tiers.c: the cluster-wide tiers (AdminNetworkPolicy and
 * BaselineAdminNetworkPolicy v1alpha1, ClusterNetworkPolicy v1alpha2) and
 * v1 Node as lib/k8s reads them: the model each becomes, every CRD
 * validation rule refused with its FILE:LINE:COL, field path and message,
 * the round trip through JSON (what the persisted state relies on), and
 * NetworkPolicy's podSelector: null read as {} with a warning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cunit_main.h"
#include "k8s_compare.h"
#include "npgw_k8s.h"

#define ANP_HEAD                                                                             \
	"apiVersion: policy.networking.k8s.io/v1alpha1\n"                                    \
	"kind: AdminNetworkPolicy\n"                                                         \
	"metadata:\n"                                                                        \
	"  name: a\n"                                                                        \
	"spec:\n"
#define CNP_HEAD                                                                             \
	"apiVersion: policy.networking.k8s.io/v1alpha2\n"                                    \
	"kind: ClusterNetworkPolicy\n"                                                       \
	"metadata:\n"                                                                        \
	"  name: c\n"                                                                        \
	"spec:\n"
#define BANP_HEAD                                                                            \
	"apiVersion: policy.networking.k8s.io/v1alpha1\n"                                    \
	"kind: BaselineAdminNetworkPolicy\n"                                                 \
	"metadata:\n"                                                                        \
	"  name: default\n"                                                                  \
	"spec:\n"

struct result {
	struct npgw_k8s_cluster *c;
	struct npgw_diags d;
	int rc;
};

static struct result run(const char *text)
{
	struct result r = {.c = npgw_k8s_cluster_new()};

	CU_ASSERT_PTR_NOT_NULL_FATAL(r.c);
	r.rc = npgw_k8s_load_buffer(r.c, "t.yaml", text, strlen(text), &r.d);
	return r;
}

static void done(struct result *r)
{
	npgw_k8s_cluster_free(r->c);
	npgw_diags_free(&r->d);
}

static bool has(const struct npgw_diags *d, enum npgw_severity sev, const char *where,
		const char *path, const char *frag)
{
	char at[512];

	for (size_t i = 0; i < d->n; i++) {
		const struct npgw_diag *m = &d->v[i];

		snprintf(at, sizeof(at), "%s:%u:%u", m->file, m->line, m->col);
		if (m->severity == sev && strcmp(at, where) == 0 && strcmp(m->path, path) == 0 &&
		    strstr(m->message, frag) != NULL)
			return true;
	}
	fprintf(stderr, "\nexpected %s %s: %s: ...%s...; have:\n",
		sev == NPGW_SEV_ERROR ? "error" : "warning", where, path, frag);
	npgw_diags_print(d, stderr);
	return false;
}

/* One error expected, at where / path, and the object refused. */
static void expect_one(const char *text, const char *where, const char *path, const char *frag)
{
	struct result r = run(text);

	CU_ASSERT_EQUAL(r.rc, -EINVAL);
	if (r.d.n_errors != 1)
		npgw_diags_print(&r.d, stderr);
	CU_ASSERT_EQUAL(r.d.n_errors, 1);
	CU_ASSERT_TRUE(has(&r.d, NPGW_SEV_ERROR, where, path, frag));
	CU_ASSERT_EQUAL(r.c->n_policies, 0);
	CU_ASSERT_EQUAL(r.c->n_refused, 1);
	done(&r);
}

/* ---- the model ---- */

static const char *const example =
	ANP_HEAD "  priority: 10\n"
		 "  subject:\n"
		 "    namespaces: {matchLabels: {env: prod}}\n"
		 "  egress:\n"
		 "  - name: no-metadata\n"
		 "    action: Deny\n"
		 "    to:\n"
		 "    - networks: [169.254.169.254/32, \"fd00::/8\"]\n"
		 "    - nodes: {matchLabels: {role: infra}}\n"
		 "    ports:\n"
		 "    - portNumber: {port: 80}\n"
		 "    - portRange: {protocol: UDP, start: 10, end: 20}\n"
		 "  ingress:\n"
		 "  - action: Pass\n"
		 "    from:\n"
		 "    - pods:\n"
		 "        namespaceSelector: {}\n"
		 "        podSelector: {matchLabels: {app: mon}}\n"
		 "    ports:\n"
		 "    - namedPort: metrics\n"
		 "---\n" BANP_HEAD "  subject:\n"
		 "    pods:\n"
		 "      namespaceSelector: {matchLabels: {team: b}}\n"
		 "      podSelector: {}\n"
		 "  ingress:\n"
		 "  - action: Deny\n"
		 "    from: [{namespaces: {}}]\n"
		 "---\n" CNP_HEAD "  tier: Baseline\n"
		 "  priority: 7\n"
		 "  subject: {namespaces: {}}\n"
		 "  egress:\n"
		 "  - action: Accept\n"
		 "    to: [{namespaces: {}}]\n"
		 "    protocols:\n"
		 "    - tcp: {destinationPort: {number: 443}}\n"
		 "    - udp: {destinationPort: {range: {start: 1000, end: 2000}}}\n"
		 "    - destinationNamedPort: dns\n"
		 "---\n"
		 "apiVersion: v1\n"
		 "kind: Node\n"
		 "metadata: {name: n1, labels: {role: infra}}\n"
		 "status:\n"
		 "  addresses:\n"
		 "  - {type: Hostname, address: n1}\n"
		 "  - {type: InternalIP, address: 192.168.1.5}\n"
		 "  - {type: ExternalIP, address: \"2001:db8::5\"}\n";

static const struct npgw_k8s_policy *find_policy(const struct npgw_k8s_cluster *c, unsigned kind)
{
	for (size_t i = 0; i < c->n_policies; i++)
		if (c->policies[i]->kind == kind)
			return c->policies[i];
	return NULL;
}

static void test_each_kind_becomes_its_model(void)
{
	struct result r = run(example);
	const struct npgw_k8s_policy *anp, *banp, *cnp;
	const struct npgw_k8s_rule *e;
	const struct npgw_k8s_pod *node;

	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.d.n_errors, 0);
	if (r.d.n_errors)
		npgw_diags_print(&r.d, stderr);
	CU_ASSERT_EQUAL_FATAL(r.c->n_policies, 3);
	CU_ASSERT_EQUAL_FATAL(r.c->n_pods, 1);
	anp = find_policy(r.c, NPGW_K8S_ADMIN_NETWORK_POLICY);
	banp = find_policy(r.c, NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY);
	cnp = find_policy(r.c, NPGW_K8S_CLUSTER_NETWORK_POLICY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(anp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(banp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cnp);

	/* AdminNetworkPolicy: pseudo-namespace, tier, priority, subject */
	CU_ASSERT_STRING_EQUAL(anp->namespace, NPGW_K8S_NS_ANP);
	CU_ASSERT_EQUAL(anp->tier, NPGW_K8S_TIER_ADMIN);
	CU_ASSERT_EQUAL(anp->priority, 10);
	CU_ASSERT_TRUE(anp->has_ns_selector);
	CU_ASSERT_EQUAL(anp->ns_selector.match_labels.n, 1);
	CU_ASSERT_EQUAL(anp->pod_selector.match_labels.n + anp->pod_selector.n_exprs, 0);
	CU_ASSERT_FALSE(anp->isolates_ingress || anp->isolates_egress);
	CU_ASSERT_EQUAL_FATAL(anp->n_egress, 1);
	e = &anp->egress[0];
	CU_ASSERT_EQUAL(e->action, NPGW_K8S_ACTION_DENY);
	CU_ASSERT_STRING_EQUAL(e->name, "no-metadata");
	/* networks: one ipBlock peer per CIDR, then the nodes peer */
	CU_ASSERT_EQUAL_FATAL(e->n_peers, 3);
	CU_ASSERT_TRUE(e->peers[0].has_ip_block && e->peers[1].has_ip_block);
	CU_ASSERT_EQUAL(e->peers[0].cidr.len, 32);
	CU_ASSERT_EQUAL(e->peers[1].cidr.addr.family, 6);
	CU_ASSERT_TRUE(e->peers[2].has_node_selector);
	CU_ASSERT_EQUAL_FATAL(e->n_ports, 2);
	CU_ASSERT_EQUAL(e->ports[0].protocol, NPGW_PROTO_TCP);
	CU_ASSERT_EQUAL(e->ports[0].port, 80);
	CU_ASSERT_EQUAL(e->ports[0].end_port, 0);
	CU_ASSERT_EQUAL(e->ports[1].protocol, NPGW_PROTO_UDP);
	CU_ASSERT_EQUAL(e->ports[1].port, 10);
	CU_ASSERT_EQUAL(e->ports[1].end_port, 20);
	/* a named port of any protocol: three entries */
	CU_ASSERT_EQUAL_FATAL(anp->n_ingress, 1);
	CU_ASSERT_EQUAL(anp->ingress[0].action, NPGW_K8S_ACTION_PASS);
	CU_ASSERT_TRUE(anp->ingress[0].peers[0].has_ns_selector &&
		       anp->ingress[0].peers[0].has_pod_selector);
	CU_ASSERT_EQUAL_FATAL(anp->ingress[0].n_ports, 3);
	for (size_t i = 0; i < 3; i++) {
		CU_ASSERT_STRING_EQUAL(anp->ingress[0].ports[i].name, "metrics");
		CU_ASSERT_TRUE(anp->ingress[0].ports[i].any_proto);
	}
	CU_ASSERT_EQUAL(anp->ingress[0].ports[1].protocol, NPGW_PROTO_UDP);
	CU_ASSERT_EQUAL(anp->ingress[0].ports[2].protocol, NPGW_PROTO_SCTP);

	/* BaselineAdminNetworkPolicy: the Baseline tier, after every CNP */
	CU_ASSERT_STRING_EQUAL(banp->namespace, NPGW_K8S_NS_BANP);
	CU_ASSERT_EQUAL(banp->tier, NPGW_K8S_TIER_BASELINE);
	CU_ASSERT_EQUAL(banp->priority, NPGW_K8S_BANP_PRIORITY);
	CU_ASSERT_EQUAL(banp->pod_selector.match_labels.n, 0);
	CU_ASSERT_EQUAL(banp->ns_selector.match_labels.n, 1);

	/* ClusterNetworkPolicy: tier from spec.tier, protocols */
	CU_ASSERT_STRING_EQUAL(cnp->namespace, NPGW_K8S_NS_CNP);
	CU_ASSERT_EQUAL(cnp->tier, NPGW_K8S_TIER_BASELINE);
	CU_ASSERT_EQUAL(cnp->priority, 7);
	CU_ASSERT_EQUAL(cnp->egress[0].action, NPGW_K8S_ACTION_ALLOW);
	CU_ASSERT_EQUAL_FATAL(cnp->egress[0].n_ports, 5);
	CU_ASSERT_EQUAL(cnp->egress[0].ports[0].port, 443);
	CU_ASSERT_EQUAL(cnp->egress[0].ports[1].protocol, NPGW_PROTO_UDP);
	CU_ASSERT_EQUAL(cnp->egress[0].ports[1].end_port, 2000);
	CU_ASSERT_STRING_EQUAL(cnp->egress[0].ports[4].name, "dns");

	/* Node: a pod of the Node pseudo-namespace, never a policy target,
	 * its InternalIP and ExternalIP addresses */
	node = r.c->pods[0];
	CU_ASSERT_TRUE(npgw_k8s_pod_is_node(node));
	CU_ASSERT_FALSE(npgw_k8s_pod_is_policy_target(node));
	CU_ASSERT_STRING_EQUAL(node->name, "n1");
	CU_ASSERT_EQUAL(node->n_addrs, 2);
	CU_ASSERT_STRING_EQUAL(npgw_k8s_label_get(&node->labels, "role"), "infra");
	done(&r);
}

/* What the persisted state relies on: emit, load, the same model. */
static void test_round_trip_through_json(void)
{
	struct result r = run(example), back;
	cJSON *j = npgw_k8s_cluster_to_json(r.c);
	char *text = cJSON_PrintUnformatted(j), why[512] = "";

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	back = run(text);
	CU_ASSERT_EQUAL(back.d.n_errors, 0);
	if (back.d.n_errors)
		npgw_diags_print(&back.d, stderr);
	CU_ASSERT_TRUE(k8s_cluster_same(r.c, back.c, 0, why, sizeof(why)));
	if (why[0])
		fprintf(stderr, "\n%s\n", why);
	free(text);
	cJSON_Delete(j);
	done(&back);
	done(&r);
}

static void test_clone_copies_every_tier_field(void)
{
	struct result r = run(example);
	int err = 0;
	struct npgw_k8s_cluster *copy = npgw_k8s_cluster_clone(r.c, &err);
	char why[512] = "";

	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	CU_ASSERT_TRUE(k8s_cluster_same(r.c, copy, K8S_CMP_ORIGIN, why, sizeof(why)));
	if (why[0])
		fprintf(stderr, "\n%s\n", why);
	npgw_k8s_cluster_free(copy);
	done(&r);
}

/* ---- every CRD rule (the line numbers count from the head's 5 lines) ---- */

static void test_priority_range_and_presence(void)
{
	expect_one(ANP_HEAD "  priority: 1001\n  subject: {namespaces: {}}\n", "t.yaml:6:13",
		   "spec.priority", "1001 is outside 0..1000");
	expect_one(ANP_HEAD "  priority: -1\n  subject: {namespaces: {}}\n", "t.yaml:6:13",
		   "spec.priority", "-1 is outside 0..1000");
	expect_one(CNP_HEAD "  tier: Admin\n  subject: {namespaces: {}}\n", "t.yaml:6:3",
		   "spec.priority", "missing required field");
	expect_one(BANP_HEAD "  priority: 3\n  subject: {namespaces: {}}\n", "t.yaml:6:3",
		   "spec.priority", "unknown field \"priority\"");
}

static void test_tier_is_admin_or_baseline(void)
{
	expect_one(CNP_HEAD "  tier: Middle\n  priority: 1\n  subject: {namespaces: {}}\n",
		   "t.yaml:6:9", "spec.tier", "unknown tier \"Middle\"");
	expect_one(CNP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n", "t.yaml:6:3",
		   "spec.tier", "missing required field");
}

static void test_baseline_is_named_default(void)
{
	expect_one("apiVersion: policy.networking.k8s.io/v1alpha1\n"
		   "kind: BaselineAdminNetworkPolicy\n"
		   "metadata: {name: other}\n"
		   "spec: {subject: {namespaces: {}}}\n",
		   "t.yaml:3:18", "metadata.name", "must be named \"default\"");
}

static void test_subject_exactly_one(void)
{
	expect_one(ANP_HEAD "  priority: 1\n  subject: {}\n", "t.yaml:7:12", "spec.subject",
		   "exactly one of namespaces or pods (it has 0)");
	expect_one(ANP_HEAD "  priority: 1\n"
			    "  subject:\n"
			    "    namespaces: {}\n"
			    "    pods: {namespaceSelector: {}, podSelector: {}}\n",
		   "t.yaml:8:5", "spec.subject", "(it has 2)");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {pods: {podSelector: {}}}\n",
		   "t.yaml:7:19", "spec.subject.pods.namespaceSelector", "missing required field");
	expect_one(ANP_HEAD "  priority: 1\n", "t.yaml:6:3", "spec.subject",
		   "missing required field");
}

static void test_rule_limits(void)
{
	char buf[8192];
	size_t n;

	/* 26 rules in a v1alpha2 direction, 101 in v1alpha1 */
	n = (size_t)snprintf(buf, sizeof(buf), "%s",
			     CNP_HEAD "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n"
				      "  egress:\n");
	for (int i = 0; i < 26; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "  - {action: Deny, to: [{namespaces: {}}]}\n");
	expect_one(buf, "t.yaml:10:3", "spec.egress", "at most 25 rules, not 26");
	n = (size_t)snprintf(buf, sizeof(buf), "%s",
			     ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n");
	for (int i = 0; i < 101; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "  - {action: Deny, from: [{namespaces: {}}]}\n");
	expect_one(buf, "t.yaml:9:3", "spec.ingress", "at most 100 rules, not 101");
}

static void test_rule_fields(void)
{
	char name[160];

	memset(name, 'x', 101);
	name[101] = '\0';
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - to: [{namespaces: {}}]\n",
		   "t.yaml:9:5", "spec.egress[0].action", "missing required field");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - {action: Deny}\n",
		   "t.yaml:9:5", "spec.egress[0].to", "missing required field");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - {action: Deny, to: []}\n",
		   "t.yaml:9:24", "spec.egress[0].to", "needs 1 to 100 items, not 0");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - {action: Deny, to: [{namespaces: {}}], ports: []}\n",
		   "t.yaml:9:51", "spec.egress[0].ports", "needs 1 to 100 items, not 0");
	/* actions by kind */
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - {action: Accept, to: [{namespaces: {}}]}\n",
		   "t.yaml:9:14", "spec.egress[0].action", "unknown action \"Accept\" (Allow, Deny or Pass)");
	expect_one(CNP_HEAD "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - {action: Allow, to: [{namespaces: {}}]}\n",
		   "t.yaml:10:14", "spec.egress[0].action", "(Accept, Deny or Pass)");
	expect_one(BANP_HEAD "  subject: {namespaces: {}}\n"
			     "  egress:\n  - {action: Pass, to: [{namespaces: {}}]}\n",
		   "t.yaml:8:14", "spec.egress[0].action", "unknown action \"Pass\" (Allow, Deny)");
	/* a name of at most 100 characters */
	{
		char buf[1024];

		snprintf(buf, sizeof(buf),
			 ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
				  "  egress:\n  - {name: %s, action: Deny, to: [{namespaces: {}}]}\n",
			 name);
		expect_one(buf, "t.yaml:9:12", "spec.egress[0].name", "at most 100 characters");
	}
	/* a null rule */
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n  egress:\n  -\n",
		   "t.yaml:9:4", "spec.egress[0]", "a rule is null");
}

static void test_peers_exactly_one_and_by_direction(void)
{
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to:\n    - namespaces: {}\n"
			    "      nodes: {}\n",
		   "t.yaml:11:7", "spec.egress[0].to[0]", "(it has 2)");
	/* nodes and networks are egress peers only */
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  ingress:\n  - action: Deny\n    from:\n    - nodes: {}\n",
		   "t.yaml:11:7", "spec.ingress[0].from[0].nodes", "unknown field \"nodes\"");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to:\n    - domainNames: [a.example]\n",
		   "t.yaml:11:7", "spec.egress[0].to[0].domainNames", "not supported");
}

static void test_networks(void)
{
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to:\n    - networks: [10.0.0.0/33]\n",
		   "t.yaml:11:18", "spec.egress[0].to[0].networks[0]", "not a valid CIDR");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to:\n"
			    "    - networks: [10.0.0.0/8, 10.0.0.0/8]\n",
		   "t.yaml:11:30", "spec.egress[0].to[0].networks[1]", "listed twice");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to:\n    - networks: []\n",
		   "t.yaml:11:17", "spec.egress[0].to[0].networks", "1 to 25 CIDRs");
}

static void test_ports_v1alpha1(void)
{
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
			    "    ports:\n    - {portNumber: {port: 80}, namedPort: http}\n",
		   "t.yaml:12:7", "spec.egress[0].ports[0]", "(it has 2)");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
			    "    ports:\n    - portRange: {start: 20, end: 10}\n",
		   "t.yaml:12:18", "spec.egress[0].ports[0].portRange", "start 20 must be at most end 10");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
			    "    ports:\n    - portNumber: {port: 0}\n",
		   "t.yaml:12:26", "spec.egress[0].ports[0].portNumber.port", "outside 1..65535");
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
			    "    ports:\n    - portNumber: {protocol: ICMP, port: 1}\n",
		   "t.yaml:12:30", "spec.egress[0].ports[0].portNumber.protocol", "unknown protocol");
	/* a single-port range is allowed in v1alpha1 */
	{
		struct result r = run(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
					       "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
					       "    ports:\n    - portRange: {start: 20, end: 20}\n");

		CU_ASSERT_EQUAL(r.d.n_errors, 0);
		done(&r);
	}
}

static void test_protocols_v1alpha2(void)
{
	expect_one(CNP_HEAD "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
			    "    protocols:\n    - tcp: {}\n",
		   "t.yaml:13:12", "spec.egress[0].protocols[0].tcp", "needs destinationPort");
	expect_one(CNP_HEAD "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
			    "    protocols:\n    - udp: {destinationPort: {range: {start: 5, end: 5}}}\n",
		   "t.yaml:13:38", "spec.egress[0].protocols[0].udp.destinationPort.range",
		   "start 5 must be less than end 5");
	expect_one(CNP_HEAD "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
			    "    protocols:\n    - sctp: {destinationPort: {number: 1, range: {start: 1, end: 2}}}\n",
		   "t.yaml:13:31", "spec.egress[0].protocols[0].sctp.destinationPort",
		   "number or range (it has 2)");
	expect_one(CNP_HEAD "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
			    "    protocols:\n    - {tcp: {destinationPort: {number: 1}}, destinationNamedPort: x}\n",
		   "t.yaml:13:7", "spec.egress[0].protocols[0]", "(it has 2)");
	expect_one(CNP_HEAD "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
			    "    protocols:\n    - tcp: {destinationPort: {number: 65536}}\n",
		   "t.yaml:13:39", "spec.egress[0].protocols[0].tcp.destinationPort.number",
		   "outside 1..65535");
}

static void test_named_port_with_address_peer(void)
{
	expect_one(ANP_HEAD "  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{networks: [10.0.0.0/8]}]\n"
			    "    ports: [{namedPort: http}]\n",
		   "t.yaml:9:5", "spec.egress[0]", "cannot be used with a named port");
	expect_one(CNP_HEAD "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n"
			    "  egress:\n  - action: Deny\n    to: [{nodes: {}}]\n"
			    "    protocols: [{destinationNamedPort: http}]\n",
		   "t.yaml:10:5", "spec.egress[0]", "cannot be used with a named port");
}

static void test_api_versions_and_foreign_kinds(void)
{
	struct result r;

	expect_one("apiVersion: policy.networking.k8s.io/v1alpha1\n"
		   "kind: ClusterNetworkPolicy\n"
		   "metadata: {name: c}\n"
		   "spec: {}\n",
		   "t.yaml:1:13", "apiVersion", "must be apiVersion policy.networking.k8s.io/v1alpha2");
	/* Antrea's ClusterNetworkPolicy is another API's kind: skipped */
	r = run("apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\n"
		"metadata: {name: c}\nspec: {}\n");
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.c->n_policies, 0);
	CU_ASSERT_EQUAL(r.d.n_warnings, 1);
	done(&r);
}

static void test_node_addresses(void)
{
	expect_one("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"
		   "status: {addresses: [{type: InternalIP, address: nope}]}\n",
		   "t.yaml:4:50", "status.addresses[0].address", "not an IPv4 or IPv6 address");
}

/* ---- across objects ---- */

static void test_equal_priorities_warn(void)
{
	struct result r = run(ANP_HEAD "  priority: 3\n  subject: {namespaces: {}}\n---\n" CNP_HEAD
				       "  tier: Admin\n  priority: 3\n  subject: {namespaces: {}}\n"
				       "---\n" CNP_HEAD "  tier: Baseline\n  priority: 3\n"
				       "  subject: {namespaces: {}}\n");

	/* the second CNP is a duplicate name: use another */
	done(&r);
	r = run(ANP_HEAD "  priority: 3\n  subject: {namespaces: {}}\n---\n"
			 "apiVersion: policy.networking.k8s.io/v1alpha2\n"
			 "kind: ClusterNetworkPolicy\nmetadata: {name: b}\n"
			 "spec: {tier: Admin, priority: 3, subject: {namespaces: {}}}\n---\n"
			 "apiVersion: policy.networking.k8s.io/v1alpha2\n"
			 "kind: ClusterNetworkPolicy\nmetadata: {name: z}\n"
			 "spec: {tier: Baseline, priority: 3, subject: {namespaces: {}}}\n");
	CU_ASSERT_EQUAL(r.d.n_errors, 0);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_warn(r.c, &r.d), 0);
	/* the Admin pair warns once, naming the one evaluated first; the
	 * Baseline policy shares the number but not the tier */
	CU_ASSERT_EQUAL(r.d.n_warnings, 1);
	CU_ASSERT_TRUE(has(&r.d, NPGW_SEV_WARNING, "t.yaml:9:1", "spec.priority",
			   "evaluates AdminNetworkPolicy a first"));
	done(&r);
}

static void test_duplicates_name_the_kind(void)
{
	struct result r = run(ANP_HEAD "  priority: 3\n  subject: {namespaces: {}}\n---\n" ANP_HEAD
				       "  priority: 4\n  subject: {namespaces: {}}\n---\n" CNP_HEAD
				       "  tier: Admin\n  priority: 5\n  subject: {namespaces: {}}\n");

	/* a (ANP) twice is an error; c (CNP) shares no identity with a */
	CU_ASSERT_EQUAL(npgw_k8s_cluster_validate(r.c, &r.d), -EINVAL);
	CU_ASSERT_EQUAL(r.d.n_errors, 1);
	CU_ASSERT_TRUE(has(&r.d, NPGW_SEV_ERROR, "t.yaml:9:1", "",
			   "AdminNetworkPolicy a is defined twice"));
	done(&r);
}

/* ---- NetworkPolicy podSelector: null ---- */

static void test_null_pod_selector_reads_as_empty(void)
{
	struct result r = run("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
			      "metadata: {name: p, namespace: x}\n"
			      "spec:\n  podSelector: null\n  policyTypes: [Ingress]\n");

	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.d.n_errors, 0);
	CU_ASSERT_TRUE(has(&r.d, NPGW_SEV_WARNING, "t.yaml:5:16", "spec.podSelector",
			   "read as {} (every pod of namespace x)"));
	CU_ASSERT_EQUAL_FATAL(r.c->n_policies, 1);
	CU_ASSERT_EQUAL(r.c->policies[0]->pod_selector.match_labels.n, 0);
	CU_ASSERT_EQUAL(r.c->policies[0]->pod_selector.n_exprs, 0);
	done(&r);
	/* missing stays an error */
	r = run("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: p, namespace: x}\nspec:\n  policyTypes: [Ingress]\n");
	CU_ASSERT_EQUAL(r.d.n_errors, 1);
	done(&r);
}

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"each_kind_becomes_its_model", test_each_kind_becomes_its_model},
		{"round_trip_through_json", test_round_trip_through_json},
		{"clone_copies_every_tier_field", test_clone_copies_every_tier_field},
		{"priority_range_and_presence", test_priority_range_and_presence},
		{"tier_is_admin_or_baseline", test_tier_is_admin_or_baseline},
		{"baseline_is_named_default", test_baseline_is_named_default},
		{"subject_exactly_one", test_subject_exactly_one},
		{"rule_limits", test_rule_limits},
		{"rule_fields", test_rule_fields},
		{"peers_exactly_one_and_by_direction", test_peers_exactly_one_and_by_direction},
		{"networks", test_networks},
		{"ports_v1alpha1", test_ports_v1alpha1},
		{"protocols_v1alpha2", test_protocols_v1alpha2},
		{"named_port_with_address_peer", test_named_port_with_address_peer},
		{"api_versions_and_foreign_kinds", test_api_versions_and_foreign_kinds},
		{"node_addresses", test_node_addresses},
		{"equal_priorities_warn", test_equal_priorities_warn},
		{"duplicates_name_the_kind", test_duplicates_name_the_kind},
		{"null_pod_selector_reads_as_empty", test_null_pod_selector_reads_as_empty},
		{NULL, NULL},
	};

	return npgw_test_add_suite("k8s_tiers", tests);
}
