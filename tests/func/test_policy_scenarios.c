/*
 * test_policy_scenarios.c: one scenario per point of NetworkPolicy
 * semantics (DESIGN.md, "Semantics that must be exact"), and of the
 * cluster-wide tiers (Admin, Baseline), each named after the behaviour it
 * covers. Every scenario loads YAML through the real
 * loader, compiles, builds a generation with rte_acl, and asks the same
 * classify path the data plane uses (via explain), asserting the verdict
 * and which policy and rule decided each side.
 *
 * The base cluster: namespaces x, y, z (with labels) and w (pods only, no
 * Namespace object); pods a, b, c in each of x, y, z with label pod=<name>,
 * addresses 10.0.N.M and fd00::N:M (N = 1, 2, 3 for x, y, z; M = 1, 2, 3
 * for a, b, c); plus a hostNetwork pod and a Succeeded pod in x.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>

#include "cunit_main.h"
#include "npgw_explain.h"

static const char base_cluster[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {team: red, env: prod}}\n"
	"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: 'y', labels: {team: blue, env: prod}}\n"
	"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: z, labels: {team: red}}\n"
	"%s" /* pods */;

static char *cluster_yaml;

/* Build the pod objects of the base cluster. */
static char *make_base(void)
{
	static const char *ns[] = {"x", "y", "z"};
	static const char *pod[] = {"a", "b", "c"};
	/* a and b name port "http" differently; c has none */
	static const char *http[] = {"8080", "8081", NULL};
	char *pods = NULL, *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&pods, &len);

	for (int n = 0; n < 3; n++)
		for (int m = 0; m < 3; m++) {
			fprintf(f,
				"---\napiVersion: v1\nkind: Pod\nmetadata:\n  namespace: '%s'\n"
				"  name: %s\n  labels: {pod: %s, tier: t%d}\nspec:\n"
				"  containers:\n  - name: main\n    ports:\n"
				"    - {name: serve-80-tcp, containerPort: 80}\n"
				"    - {name: serve-81-udp, containerPort: 81, protocol: UDP}\n",
				ns[n], pod[m], pod[m], m);
			if (http[m])
				fprintf(f, "    - {name: http, containerPort: %s}\n", http[m]);
			fprintf(f,
				"status:\n  phase: Running\n  podIP: 10.0.%d.%d\n"
				"  podIPs: [{ip: 10.0.%d.%d}, {ip: 'fd00::%d:%d'}]\n",
				n + 1, m + 1, n + 1, m + 1, n + 1, m + 1);
		}
	fprintf(f, "---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: host, "
		   "labels: {pod: a}}\nspec: {hostNetwork: true, containers: [{name: m}]}\n"
		   "status: {phase: Running, podIPs: [{ip: 192.168.50.1}]}\n");
	fprintf(f, "---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: done, "
		   "labels: {pod: a}}\nspec: {containers: [{name: m}]}\n"
		   "status: {phase: Succeeded, podIPs: [{ip: 10.0.1.9}]}\n");
	fprintf(f, "---\napiVersion: v1\nkind: Pod\nmetadata: {namespace: w, name: a, "
		   "labels: {pod: a}}\nspec: {containers: [{name: m}]}\n"
		   "status: {phase: Running, podIPs: [{ip: 10.0.9.1}]}\n");
	fclose(f);
	if (asprintf(&out, base_cluster, pods) < 0)
		out = NULL;
	free(pods);
	return out;
}

/* The scenario under test. */
static struct npgw_k8s_cluster *cl;
static struct npgw_ruleset *rs;

/* Load the base cluster plus policies; fail the test on any error. */
static void load(const char *policies)
{
	struct npgw_diags d = {0};
	char *text = NULL;
	int err = 0, rc;

	npgw_ruleset_free(rs);
	rs = NULL;
	npgw_k8s_cluster_free(cl);
	cl = npgw_k8s_cluster_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(cl);
	CU_ASSERT_FATAL(asprintf(&text, "%s---\n%s", cluster_yaml, policies) > 0);
	rc = npgw_k8s_load_buffer(cl, "scenario.yaml", text, strlen(text), &d);
	if (rc == 0)
		rc = npgw_k8s_cluster_validate(cl, &d);
	if (rc != 0)
		npgw_diags_print(&d, stderr);
	free(text);
	npgw_diags_free(&d);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	struct npgw_compile_result *cr = npgw_compile(cl, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cr);
	rs = npgw_ruleset_build(cr, 1, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rs);
}

/* "-" (not isolated), "allow ns/name#rule" or "deny ns/name"; a tier
 * rule "allow|deny|pass Kind/name#rule". */
static void side_text(const struct npgw_explain_side *s, char *buf, size_t len)
{
	if (s->meta != NULL && s->meta->tier != NPGW_K8S_TIER_NETPOL)
		snprintf(buf, len, "%s %s/%s#%d",
			 s->meta->action == NPGW_COMPILE_DENY	? "deny"
			 : s->meta->action == NPGW_COMPILE_PASS ? "pass"
								: "allow",
			 s->meta->policy_ns, s->meta->policy_name, s->meta->rule);
	else if (s->verdict == NPGW_EXPLAIN_NOT_ISOLATED)
		snprintf(buf, len, "-");
	else if (s->verdict == NPGW_EXPLAIN_ALLOW)
		snprintf(buf, len, "allow %s/%s#%d", s->meta->policy_ns, s->meta->policy_name,
			 s->meta->rule);
	else
		snprintf(buf, len, "deny %s/%s", s->meta->policy_ns, s->meta->policy_name);
}

/*
 * Ask about from -> to (proto, port) and check the verdict and both sides.
 * Reported with the caller's line so a failure names the query.
 */
#define expect(from, to, proto, port, allowed, eg, in) \
	expect_at(__LINE__, from, to, proto, port, allowed, eg, in)

static void expect_at(int line, const char *from, const char *to, const char *proto, int port,
		      bool allowed, const char *eg, const char *in)
{
	struct npgw_explain_query q = {.from = from, .to = to, .port = (uint16_t)port};
	struct npgw_ruleset_tuple t;
	struct npgw_explain_answer a;
	char err[256], e[256], i[256];
	bool ok;

	q.proto = (uint8_t)npgw_proto_parse(proto);
	CU_ASSERT_EQUAL_FATAL(npgw_explain_tuple(cl, &q, &t, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(npgw_explain_burst(rs, &t, 1, &a), 1);
	side_text(&a.egress, e, sizeof(e));
	side_text(&a.ingress, i, sizeof(i));
	ok = a.allowed == allowed && strcmp(e, eg) == 0 && strcmp(i, in) == 0;
	if (!ok)
		fprintf(stderr,
			"\nline %d: %s -> %s %s/%d: got %s egress[%s] ingress[%s], "
			"want %s egress[%s] ingress[%s]\n",
			line, from, to, proto, port, a.allowed ? "allowed" : "denied", e, i,
			allowed ? "allowed" : "denied", eg, in);
	CU_ASSERT_TRUE(ok);
}

#define ALLOW true
#define DENY false
#define NI "-"

/* The Admin tier's result of from -> to on each side ("-": no Admin rule
 * matched): a Pass that sent the side on shows here. */
#define expect_admin(from, to, proto, port, eg, in) \
	expect_admin_at(__LINE__, from, to, proto, port, eg, in)

static void expect_admin_at(int line, const char *from, const char *to, const char *proto,
			    int port, const char *eg, const char *in)
{
	struct npgw_explain_query q = {.from = from, .to = to, .port = (uint16_t)port};
	struct npgw_explain_side se, si;
	struct npgw_ruleset_tuple t;
	struct npgw_explain_answer a;
	char err[256], e[256], i[256];

	q.proto = (uint8_t)npgw_proto_parse(proto);
	CU_ASSERT_EQUAL_FATAL(npgw_explain_tuple(cl, &q, &t, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(npgw_explain_burst(rs, &t, 1, &a), 1);
	se.meta = npgw_ruleset_meta(rs, a.verdict.admin_egress);
	si.meta = npgw_ruleset_meta(rs, a.verdict.admin_ingress);
	se.verdict = si.verdict = NPGW_EXPLAIN_NOT_ISOLATED;
	side_text(&se, e, sizeof(e));
	side_text(&si, i, sizeof(i));
	if (strcmp(e, eg) != 0 || strcmp(i, in) != 0)
		fprintf(stderr, "\nline %d: %s -> %s: Admin egress[%s] ingress[%s], want [%s] [%s]\n",
			line, from, to, e, i, eg, in);
	CU_ASSERT_TRUE(strcmp(e, eg) == 0 && strcmp(i, in) == 0);
}

static void test_no_policy_allows_everything(void)
{
	load("");
	expect("x/a", "y/b", "TCP", 80, ALLOW, NI, NI);
	expect("10.9.9.9", "x/a", "UDP", 53, ALLOW, NI, NI);
	expect("x/a", "fd00:ff::1", "SCTP", 9, ALLOW, NI, NI);
}

static void test_policy_types_omitted_means_ingress_only(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: x, name: p}\nspec:\n  podSelector: {}\n");
	expect("y/a", "x/b", "TCP", 80, DENY, NI, "deny x/p");
	/* egress of x pods is not isolated: no egress section */
	expect("x/b", "y/a", "TCP", 80, ALLOW, NI, NI);
}

static void test_policy_types_omitted_with_egress_section_isolates_egress(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: x, name: p}\nspec:\n  podSelector: {matchLabels: {pod: a}}\n"
	     "  egress:\n  - ports: [{port: 53, protocol: UDP}]\n");
	expect("x/a", "y/a", "UDP", 53, ALLOW, "allow x/p#0", NI);
	expect("x/a", "y/a", "TCP", 80, DENY, "deny x/p", NI);
	/* the inferred types are Ingress and Egress: with no ingress list,
	 * x/a's ingress denies everything */
	expect("y/a", "x/a", "TCP", 80, DENY, NI, "deny x/p");
	expect("x/b", "y/a", "TCP", 80, ALLOW, NI, NI);
}

static void test_explicit_egress_only_policy_leaves_ingress_open(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: x, name: p}\nspec:\n  podSelector: {}\n"
	     "  policyTypes: [Egress]\n"
	     "  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]\n");
	expect("y/a", "x/a", "TCP", 80, ALLOW, NI, NI);
	expect("x/a", "y/a", "TCP", 80, DENY, "deny x/p", NI);
}

static void test_empty_pod_selector_selects_only_its_namespace(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: deny-all}\nspec: {podSelector: {}}\n");
	expect("x/a", "y/a", "TCP", 80, DENY, NI, "deny y/deny-all");
	expect("x/a", "y/c", "TCP", 80, DENY, NI, "deny y/deny-all");
	expect("y/a", "x/a", "TCP", 80, ALLOW, NI, NI);
	expect("y/a", "z/a", "TCP", 80, ALLOW, NI, NI);
}

static void test_ingress_empty_rule_allows_all(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: all}\nspec: {podSelector: {}, ingress: [{}]}\n");
	expect("x/a", "y/a", "TCP", 80, ALLOW, NI, "allow y/all#0");
	expect("10.200.0.1", "y/b", "SCTP", 7, ALLOW, NI, "allow y/all#0");
}

static void test_missing_ingress_list_denies_all(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: none}\nspec: {podSelector: {}, "
	     "policyTypes: [Ingress, Egress]}\n");
	expect("x/a", "y/a", "TCP", 80, DENY, NI, "deny y/none");
	expect("y/a", "y/b", "TCP", 80, DENY, "deny y/none", "deny y/none");
	expect("y/a", "x/a", "UDP", 81, DENY, "deny y/none", NI);
}

static void test_empty_from_matches_every_peer(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{from: [], ports: [{port: 80}]}]\n");
	expect("x/a", "y/a", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("10.77.0.1", "y/a", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "TCP", 81, DENY, NI, "deny y/p");
}

static void test_empty_ports_match_every_protocol_and_port(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{from: [{namespaceSelector: {matchLabels: {team: red}}}], ports: []}]\n");
	expect("x/a", "y/a", "TCP", 1, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "UDP", 65535, ALLOW, NI, "allow y/p#0");
	expect("z/b", "y/a", "SCTP", 80, ALLOW, NI, "allow y/p#0");
	expect("y/b", "y/a", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_pod_selector_peer_is_scoped_to_policy_namespace(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{from: [{podSelector: {matchLabels: {pod: a}}}]}]\n");
	expect("y/a", "y/b", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/b", "TCP", 80, DENY, NI, "deny y/p");
	expect("w/a", "y/b", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_namespace_selector_peer_matches_every_pod_of_namespaces(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{from: [{namespaceSelector: {matchLabels: {env: prod}}}]}]\n");
	expect("x/a", "y/b", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("x/c", "y/b", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("y/c", "y/b", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("z/a", "y/b", "TCP", 80, DENY, NI, "deny y/p");
	/* a pod that is no pod of the model (the address of a hostNetwork pod)
	 * is matched by no selector */
	expect("192.168.50.1", "y/b", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_pod_and_namespace_selector_in_one_peer_is_intersection(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: red}}\n"
	     "      podSelector: {matchLabels: {pod: a}}\n");
	expect("x/a", "y/b", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("z/a", "y/b", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("x/b", "y/b", "TCP", 80, DENY, NI, "deny y/p");
	expect("y/a", "y/b", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_two_peers_are_a_union(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: red}}\n"
	     "    - podSelector: {matchLabels: {pod: a}}\n");
	expect("x/b", "y/b", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("z/c", "y/b", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("y/a", "y/b", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("y/c", "y/b", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_ipblock_cidr_minus_except_includes_pod_addresses(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/16, except: [10.0.3.0/24, "
	     "10.0.1.2/32]}\n");
	expect("x/a", "y/a", "TCP", 80, ALLOW, NI, "allow y/p#0"); /* 10.0.1.1 */
	expect("x/b", "y/a", "TCP", 80, DENY, NI, "deny y/p"); /* 10.0.1.2 excepted */
	expect("z/a", "y/a", "TCP", 80, DENY, NI, "deny y/p"); /* 10.0.3.0/24 */
	expect("10.0.200.7", "y/a", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("10.1.0.1", "y/a", "TCP", 80, DENY, NI, "deny y/p");
	/* the rule is IPv4: the same pod over IPv6 is not in the block */
	expect("fd00::1:1", "y/a", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_ipblock_ipv6_with_except(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress:\n  - from:\n    - ipBlock: {cidr: 'fd00::/16', except: ['fd00::3:0/112']}\n");
	expect("fd00::1:1", "y/a", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("fd00::3:2", "y/a", "TCP", 80, DENY, NI, "deny y/p");
	expect("fd01::1", "y/a", "TCP", 80, DENY, NI, "deny y/p");
	expect("10.0.1.1", "y/a", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_match_expressions_all_operators(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: x, name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	     "        - {key: team, operator: NotIn, values: [blue]}\n"
	     "      podSelector:\n        matchExpressions:\n"
	     "        - {key: pod, operator: In, values: [a, c]}\n"
	     "        - {key: tier, operator: Exists}\n"
	     "        - {key: missing, operator: DoesNotExist}\n");
	expect("z/a", "x/b", "TCP", 80, ALLOW, NI, "allow x/p#0");
	expect("z/c", "x/b", "TCP", 80, ALLOW, NI, "allow x/p#0");
	expect("z/b", "x/b", "TCP", 80, DENY, NI, "deny x/p");
	expect("y/a", "x/b", "TCP", 80, DENY, NI, "deny x/p"); /* team NotIn [blue] */
	/* NotIn is true when the key is missing: w has no team label */
	expect("w/a", "x/b", "TCP", 80, DENY, NI, "deny x/p"); /* w/a has no tier label */
}

static void test_not_in_is_true_when_key_missing(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: x, name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress:\n  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
	     "        - {key: team, operator: NotIn, values: [blue]}\n");
	expect("w/a", "x/b", "TCP", 80, ALLOW, NI, "allow x/p#0");
	expect("z/a", "x/b", "TCP", 80, ALLOW, NI, "allow x/p#0");
	expect("y/a", "x/b", "TCP", 80, DENY, NI, "deny x/p");
}

static void test_protocol_defaults_to_tcp(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{ports: [{port: 80}]}]\n");
	expect("x/a", "y/a", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "UDP", 80, DENY, NI, "deny y/p");
	expect("x/a", "y/a", "SCTP", 80, DENY, NI, "deny y/p");
}

static void test_udp_and_sctp_ports(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{ports: [{port: 53, protocol: UDP}, {port: 3868, protocol: SCTP}, "
	     "{protocol: UDP, port: 5000, endPort: 5001}]}]\n");
	expect("x/a", "y/a", "UDP", 53, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "TCP", 53, DENY, NI, "deny y/p");
	expect("x/a", "y/a", "SCTP", 3868, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "UDP", 3868, DENY, NI, "deny y/p");
	expect("x/a", "y/a", "UDP", 5001, ALLOW, NI, "allow y/p#0");
}

static void test_protocol_without_port_matches_every_port_of_it(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{ports: [{protocol: UDP}]}]\n");
	expect("x/a", "y/a", "UDP", 1, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "UDP", 65535, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_end_port_range_is_inclusive(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{ports: [{port: 32000, endPort: 32768}]}]\n");
	expect("x/a", "y/a", "TCP", 31999, DENY, NI, "deny y/p");
	expect("x/a", "y/a", "TCP", 32000, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "TCP", 32500, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "TCP", 32768, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "TCP", 32769, DENY, NI, "deny y/p");
}

static void test_named_port_resolves_per_destination_pod(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{ports: [{port: http}]}]\n");
	/* y/a names 8080 http, y/b 8081, y/c has no http port */
	expect("x/a", "y/a", "TCP", 8080, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/a", "TCP", 8081, DENY, NI, "deny y/p");
	expect("x/a", "y/b", "TCP", 8081, ALLOW, NI, "allow y/p#0");
	expect("x/a", "y/b", "TCP", 8080, DENY, NI, "deny y/p");
	expect("x/a", "y/c", "TCP", 8080, DENY, NI, "deny y/p");
	expect("x/a", "y/c", "TCP", 8081, DENY, NI, "deny y/p");
}

static void test_named_port_protocol_must_match(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{ports: [{port: serve-81-udp}, {port: serve-80-tcp, protocol: UDP}]}]\n");
	/* serve-81-udp is a UDP port, the rule asks TCP (default): no match;
	 * serve-80-tcp is TCP, the rule asks UDP: no match */
	expect("x/a", "y/a", "TCP", 81, DENY, NI, "deny y/p");
	expect("x/a", "y/a", "UDP", 81, DENY, NI, "deny y/p");
	expect("x/a", "y/a", "UDP", 80, DENY, NI, "deny y/p");
	expect("x/a", "y/a", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_named_port_in_egress_resolves_against_destination(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: x, name: p}\nspec:\n  podSelector: {matchLabels: {pod: c}}\n"
	     "  policyTypes: [Egress]\n"
	     "  egress: [{ports: [{port: http}]}]\n");
	/* x/c itself has no http port: the destination's numbers count */
	expect("x/c", "y/a", "TCP", 8080, ALLOW, "allow x/p#0", NI);
	expect("x/c", "y/b", "TCP", 8081, ALLOW, "allow x/p#0", NI);
	expect("x/c", "y/b", "TCP", 8080, DENY, "deny x/p", NI);
	/* a destination that is no pod has no named ports */
	expect("x/c", "10.99.0.1", "TCP", 8080, DENY, "deny x/p", NI);
}

static void test_host_network_and_finished_pods_are_never_selected(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: x, name: p}\nspec:\n  podSelector: {matchLabels: {pod: a}}\n"
	     "  policyTypes: [Ingress, Egress]\n");
	expect("x/a", "y/a", "TCP", 80, DENY, "deny x/p", NI);
	/* x/host (pod=a, hostNetwork) and x/done (pod=a, Succeeded) */
	expect("x/host", "y/a", "TCP", 80, ALLOW, NI, NI);
	expect("y/a", "x/host", "TCP", 80, ALLOW, NI, NI);
	expect("x/done", "y/a", "TCP", 80, ALLOW, NI, NI);
}

static void test_named_port_given_twice_in_a_pod_matches_both_numbers(void)
{
	load("apiVersion: v1\nkind: Pod\nmetadata: {namespace: z, name: multi, labels: {pod: m}}\n"
	     "spec:\n  containers:\n  - {name: one, ports: [{name: http, containerPort: 8080}]}\n"
	     "  - {name: two, ports: [{name: http, containerPort: 9090}]}\n"
	     "status: {podIPs: [{ip: 10.0.3.9}]}\n"
	     "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: z, name: p}\nspec:\n  podSelector: {matchLabels: {pod: m}}\n"
	     "  ingress: [{ports: [{port: http}]}]\n");
	expect("x/a", "z/multi", "TCP", 8080, ALLOW, NI, "allow z/p#0");
	expect("x/a", "z/multi", "TCP", 9090, ALLOW, NI, "allow z/p#0");
	expect("x/a", "z/multi", "TCP", 8081, DENY, NI, "deny z/p");
}

static void test_rules_apply_to_ipv6_alike(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {matchLabels: {pod: a}}\n"
	     "  ingress: [{from: [{namespaceSelector: {matchLabels: {team: red}}}]}]\n");
	expect("fd00::1:2", "fd00::2:1", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("fd00::2:2", "fd00::2:1", "TCP", 80, DENY, NI, "deny y/p");
	expect("x/b", "y/a", "UDP", 9, ALLOW, NI, "allow y/p#0");
}

static void test_both_sides_must_allow(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: x, name: out}\nspec:\n  podSelector: {}\n"
	     "  egress: [{to: [{namespaceSelector: {matchLabels: {team: red}}}]}]\n"
	     "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: in}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{from: [{namespaceSelector: {}}]}]\n");
	/* y admits everyone, but x may only talk to red namespaces */
	expect("x/a", "y/a", "TCP", 80, DENY, "deny x/out", "allow y/in#0");
	expect("x/a", "z/a", "TCP", 80, ALLOW, "allow x/out#0", NI);
	/* x's own ingress is isolated by x/out too (types inferred: Ingress) */
	expect("z/a", "x/a", "TCP", 80, DENY, NI, "deny x/out");
}

static void test_first_allowing_policy_and_rule_is_reported(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: b-second}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{ports: [{port: 81}]}, {ports: [{port: 80}]}]\n"
	     "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: a-first}\nspec:\n  podSelector: {matchLabels: {pod: a}}\n"
	     "  ingress: [{ports: [{port: 80}]}]\n");
	expect("x/a", "y/a", "TCP", 80, ALLOW, NI, "allow y/a-first#0");
	expect("x/a", "y/b", "TCP", 80, ALLOW, NI, "allow y/b-second#1");
	expect("x/a", "y/a", "TCP", 81, ALLOW, NI, "allow y/b-second#0");
	expect("x/a", "y/a", "TCP", 82, DENY, NI, "deny y/a-first");
}

static void test_implicit_namespace_name_label(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: 'y', name: p}\nspec:\n  podSelector: {}\n"
	     "  ingress: [{from: [{namespaceSelector: {matchLabels: "
	     "{kubernetes.io/metadata.name: x}}}, {namespaceSelector: {matchLabels: "
	     "{kubernetes.io/metadata.name: w}}}]}]\n");
	expect("x/b", "y/a", "TCP", 80, ALLOW, NI, "allow y/p#0");
	/* w has no Namespace object: its implicit label still matches */
	expect("w/a", "y/a", "TCP", 80, ALLOW, NI, "allow y/p#0");
	expect("z/b", "y/a", "TCP", 80, DENY, NI, "deny y/p");
}

static void test_egress_to_ipblock(void)
{
	load("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	     "metadata: {namespace: x, name: p}\nspec:\n  podSelector: {}\n"
	     "  policyTypes: [Egress]\n"
	     "  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]}]\n");
	expect("x/a", "8.8.8.8", "UDP", 53, ALLOW, "allow x/p#0", NI);
	expect("x/a", "y/a", "TCP", 80, DENY, "deny x/p", NI);
	expect("x/a", "fd00::2:1", "TCP", 80, DENY, "deny x/p", NI);
}

/* ---- the cluster-wide tiers (issue 16) ---- */

#define ANP(name, prio) \
	"---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n" \
	"metadata: {name: " name "}\nspec:\n  priority: " #prio "\n"
#define CNP(name, tier, prio) \
	"---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n" \
	"metadata: {name: " name "}\nspec:\n  tier: " tier "\n  priority: " #prio "\n"
#define BANP \
	"---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\n" \
	"metadata: {name: default}\nspec:\n"
#define NP(ns, name) \
	"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" \
	"metadata: {namespace: '" ns "', name: " name "}\nspec:\n"

static void test_admin_deny_overrides_networkpolicy_allow(void)
{
	load(NP("y", "all") "  podSelector: {}\n  ingress: [{}]\n"
	     ANP("no-red", 10) "  subject: {namespaces: {matchLabels: {team: blue}}}\n"
	     "  ingress:\n  - action: Deny\n    from: [{namespaces: {matchLabels: {team: red}}}]\n");
	expect("x/a", "y/a", "TCP", 80, DENY, NI, "deny AdminNetworkPolicy/no-red#0");
	expect("z/c", "y/b", "UDP", 81, DENY, NI, "deny AdminNetworkPolicy/no-red#0");
	/* not matched by the Admin rule: NetworkPolicy decides */
	expect("y/b", "y/a", "TCP", 80, ALLOW, NI, "allow y/all#0");
	expect_admin("y/b", "y/a", "TCP", 80, NI, NI);
}

static void test_admin_allow_overrides_networkpolicy_isolation(void)
{
	load(NP("y", "deny-all") "  podSelector: {}\n  policyTypes: [Ingress]\n"
	     ANP("scrape", 3) "  subject: {namespaces: {}}\n"
	     "  ingress:\n  - name: monitoring\n    action: Allow\n"
	     "    from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}]\n"
	     "    ports: [{portNumber: {port: 80}}]\n");
	expect("x/a", "y/a", "TCP", 80, ALLOW, NI, "allow AdminNetworkPolicy/scrape#0");
	expect("x/a", "y/a", "UDP", 81, DENY, NI, "deny y/deny-all");
	expect("z/a", "y/a", "TCP", 80, DENY, NI, "deny y/deny-all");
	/* selected by an Admin policy isolates nothing by itself */
	expect("y/a", "z/a", "TCP", 9, ALLOW, NI, NI);
}

static void test_admin_pass_goes_to_networkpolicy(void)
{
	load(NP("y", "from-x") "  podSelector: {}\n"
	     "  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}}]}]\n"
	     ANP("pass-red", 1) "  subject: {namespaces: {}}\n"
	     "  ingress:\n  - action: Pass\n    from: [{namespaces: {matchLabels: {team: red}}}]\n"
	     ANP("deny-rest", 2) "  subject: {namespaces: {}}\n"
	     "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n");
	/* passed, then NetworkPolicy allows x and isolates y from z */
	expect("x/a", "y/a", "TCP", 80, ALLOW, NI, "allow y/from-x#0");
	expect_admin("x/a", "y/a", "TCP", 80, NI, "pass AdminNetworkPolicy/pass-red#0");
	expect("z/a", "y/a", "TCP", 80, DENY, NI, "deny y/from-x");
	expect_admin("z/a", "y/a", "TCP", 80, NI, "pass AdminNetworkPolicy/pass-red#0");
	/* not passed: the next Admin policy denies */
	expect("y/b", "y/a", "TCP", 80, DENY, NI, "deny AdminNetworkPolicy/deny-rest#0");
}

static void test_admin_pass_goes_to_baseline_when_no_networkpolicy_selects(void)
{
	load(NP("x", "open") "  podSelector: {}\n  ingress: [{}]\n"
	     ANP("pass-all", 0) "  subject: {namespaces: {}}\n"
	     "  ingress:\n  - action: Pass\n    from: [{namespaces: {}}]\n"
	     BANP "  subject: {namespaces: {}}\n"
	     "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n");
	/* x/a is selected by a NetworkPolicy: it decides, Baseline never does */
	expect("y/a", "x/a", "TCP", 80, ALLOW, NI, "allow x/open#0");
	/* z/a is selected by none: Baseline's default deny */
	expect("y/a", "z/a", "TCP", 80, DENY, NI, "deny BaselineAdminNetworkPolicy/default#0");
	expect_admin("y/a", "z/a", "TCP", 80, NI, "pass AdminNetworkPolicy/pass-all#0");
	/* egress has no Baseline rule: allowed */
	expect("z/a", "10.9.9.9", "TCP", 80, ALLOW, NI, NI);
}

static void test_baseline_priorities_and_pass(void)
{
	/* v1alpha2 Baseline: priorities, and a Pass ends the tier (allowed) */
	load(CNP("b-pass", "Baseline", 1) "  subject: {namespaces: {}}\n"
	     "  ingress:\n  - action: Pass\n    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: a}}}}]\n"
	     CNP("b-deny", "Baseline", 2) "  subject: {namespaces: {}}\n"
	     "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n");
	expect("x/a", "y/b", "TCP", 80, ALLOW, NI, "pass ClusterNetworkPolicy/b-pass#0");
	expect("x/b", "y/b", "TCP", 80, DENY, NI, "deny ClusterNetworkPolicy/b-deny#0");
}

/*
 * Equal priorities: upstream leaves the order to the implementation. npgw
 * evaluates them in (kind, name) order, AdminNetworkPolicy before
 * ClusterNetworkPolicy, then by name: deterministic, the same on every
 * node and every restart, and explain names the one that decided (the
 * loader warns that the pair is ambiguous elsewhere).
 */
static void test_equal_priorities_in_kind_then_name_order(void)
{
	load(CNP("a-allow", "Admin", 5) "  subject: {namespaces: {}}\n"
	     "  ingress:\n  - action: Accept\n    from: [{namespaces: {}}]\n"
	     ANP("z-deny", 5) "  subject: {namespaces: {}}\n"
	     "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n"
	     CNP("m-allow", "Admin", 6) "  subject: {namespaces: {}}\n"
	     "  egress:\n  - action: Accept\n    to: [{namespaces: {}}]\n"
	     CNP("n-deny", "Admin", 6) "  subject: {namespaces: {}}\n"
	     "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n");
	/* the AdminNetworkPolicy comes first, whatever the names */
	expect("x/a", "y/a", "TCP", 80, DENY, "allow ClusterNetworkPolicy/m-allow#0",
	       "deny AdminNetworkPolicy/z-deny#0");
	/* egress: two ClusterNetworkPolicies, by name (m-allow before n-deny) */
	expect("z/b", "x/c", "UDP", 81, DENY, "allow ClusterNetworkPolicy/m-allow#0",
	       "deny AdminNetworkPolicy/z-deny#0");
}

static void test_networks_match_pod_addresses(void)
{
	load(ANP("no-y4", 1) "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}\n"
	     "  egress:\n  - action: Deny\n    to: [{networks: [10.0.2.0/24]}]\n");
	expect("x/a", "y/a", "TCP", 80, DENY, "deny AdminNetworkPolicy/no-y4#0", NI);
	expect("x/a", "10.0.2.77", "UDP", 53, DENY, "deny AdminNetworkPolicy/no-y4#0", NI);
	expect("x/a", "z/a", "TCP", 80, ALLOW, NI, NI);
	/* an IPv4 network says nothing of IPv6 */
	expect("x/a", "fd00::2:1", "TCP", 80, ALLOW, NI, NI);
}

static void test_nodes_peer_matches_node_addresses(void)
{
	load("---\napiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: {role: infra}}\n"
	     "status: {addresses: [{type: InternalIP, address: 192.168.60.1}, "
	     "{type: InternalIP, address: 'fd00:60::1'}, {type: Hostname, address: n1}]}\n"
	     "---\napiVersion: v1\nkind: Node\nmetadata: {name: n2, labels: {role: worker}}\n"
	     "status: {addresses: [{type: InternalIP, address: 192.168.60.2}]}\n"
	     CNP("no-infra", "Admin", 1) "  subject: {namespaces: {}}\n"
	     "  egress:\n  - action: Deny\n    to: [{nodes: {matchLabels: {role: infra}}}]\n");
	expect("x/a", "192.168.60.1", "TCP", 22, DENY, "deny ClusterNetworkPolicy/no-infra#0", NI);
	expect("x/a", "fd00:60::1", "TCP", 22, DENY, "deny ClusterNetworkPolicy/no-infra#0", NI);
	expect("x/a", "192.168.60.2", "TCP", 22, ALLOW, NI, NI);
}

static void test_tier_peers_and_subjects_exclude_host_network_pods(void)
{
	load(ANP("iso-x", 1) "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}\n"
	     "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n");
	expect("y/a", "x/a", "TCP", 80, DENY, NI, "deny AdminNetworkPolicy/iso-x#0");
	/* the hostNetwork pod x/host (192.168.50.1, label pod=a) is no peer */
	expect("192.168.50.1", "x/a", "TCP", 80, ALLOW, NI, NI);
	/* nor a subject */
	expect("y/a", "192.168.50.1", "TCP", 80, ALLOW, NI, NI);
}

static void test_tier_named_ports_in_both_versions(void)
{
	load(ANP("http-in", 1) "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}\n"
	     "  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n"
	     "    ports: [{namedPort: http}]\n"
	     "  - action: Deny\n    from: [{namespaces: {}}]\n"
	     CNP("udp-out", "Admin", 2) "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: 'y'}}}\n"
	     "  egress:\n  - action: Accept\n    to: [{namespaces: {}}]\n"
	     "    protocols: [{destinationNamedPort: serve-81-udp}]\n"
	     "  - action: Deny\n    to: [{namespaces: {}}]\n");
	/* v1alpha1 namedPort: http is 8080 on x/a, 8081 on x/b, absent on x/c */
	expect("z/a", "x/a", "TCP", 8080, ALLOW, NI, "allow AdminNetworkPolicy/http-in#0");
	expect("z/a", "x/b", "TCP", 8081, ALLOW, NI, "allow AdminNetworkPolicy/http-in#0");
	expect("z/a", "x/b", "TCP", 8080, DENY, NI, "deny AdminNetworkPolicy/http-in#1");
	expect("z/a", "x/c", "TCP", 8080, DENY, NI, "deny AdminNetworkPolicy/http-in#1");
	/* v1alpha2 destinationNamedPort: the container port's protocol only */
	expect("y/a", "z/a", "UDP", 81, ALLOW, "allow ClusterNetworkPolicy/udp-out#0", NI);
	expect("y/a", "z/a", "TCP", 81, DENY, "deny ClusterNetworkPolicy/udp-out#1", NI);
}

static void test_tier_port_ranges_in_both_versions(void)
{
	load(ANP("r1", 1) "  subject: {namespaces: {}}\n"
	     "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
	     "    ports: [{portRange: {protocol: UDP, start: 1000, end: 2000}}]\n"
	     CNP("r2", "Admin", 2) "  subject: {namespaces: {}}\n"
	     "  egress:\n  - action: Deny\n    to: [{namespaces: {}}]\n"
	     "    protocols: [{sctp: {destinationPort: {range: {start: 5000, end: 5010}}}}]\n");
	expect("x/a", "y/a", "UDP", 1000, DENY, "deny AdminNetworkPolicy/r1#0", NI);
	expect("x/a", "y/a", "UDP", 2000, DENY, "deny AdminNetworkPolicy/r1#0", NI);
	expect("x/a", "y/a", "UDP", 2001, ALLOW, NI, NI);
	expect("x/a", "y/a", "TCP", 1500, ALLOW, NI, NI);
	expect("x/a", "y/a", "SCTP", 5010, DENY, "deny ClusterNetworkPolicy/r2#0", NI);
}

static void test_tiers_apply_to_ipv6_alike(void)
{
	load(ANP("no-y6", 1) "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}\n"
	     "  egress:\n  - action: Deny\n    to: [{networks: ['fd00::2:0/112']}]\n"
	     "  ingress:\n  - action: Deny\n"
	     "    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: c}}}}]\n");
	expect("x/a", "fd00::2:1", "TCP", 80, DENY, "deny AdminNetworkPolicy/no-y6#0", NI);
	expect("x/a", "y/a", "TCP", 80, ALLOW, NI, NI); /* IPv4: 10.0.2.1 */
	/* a pods peer matches both families of the pod */
	expect("fd00::3:3", "x/a", "TCP", 80, DENY, NI, "deny AdminNetworkPolicy/no-y6#0");
	expect("z/c", "x/a", "TCP", 80, DENY, NI, "deny AdminNetworkPolicy/no-y6#0");
}

static void test_both_sides_across_tiers(void)
{
	/* egress allowed by an Admin rule, ingress denied by Baseline: the
	 * connection needs both */
	load(ANP("out", 1) "  subject: {namespaces: {}}\n"
	     "  egress:\n  - action: Allow\n    to: [{namespaces: {}}]\n"
	     BANP "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: z}}}\n"
	     "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n");
	expect("x/a", "z/a", "TCP", 80, DENY, "allow AdminNetworkPolicy/out#0",
	       "deny BaselineAdminNetworkPolicy/default#0");
	expect("x/a", "y/a", "TCP", 80, ALLOW, "allow AdminNetworkPolicy/out#0", NI);
}

static void cleanup(void)
{
	npgw_ruleset_free(rs);
	npgw_k8s_cluster_free(cl);
	free(cluster_yaml);
	rte_eal_cleanup();
}

/* The EAL's arguments: rte_eal_init takes char **, so writable storage. */
static char *eal_argv[] = {(char[]){"test_policy_scenarios"}, (char[]){"--no-huge"}, (char[]){"-m"},
	(char[]){"256"}, (char[]){"--no-pci"}, (char[]){"--no-shconf"},
	(char[]){"--log-level=error"}, (char[]){"-l"}, (char[]){"0"}, NULL};

int npgw_test_register(void)
{
	static const CU_TestInfo tests[] = {
		{"no_policy_allows_everything", test_no_policy_allows_everything},
		{"policy_types_omitted_means_ingress_only",
		 test_policy_types_omitted_means_ingress_only},
		{"policy_types_omitted_with_egress_section_isolates_egress",
		 test_policy_types_omitted_with_egress_section_isolates_egress},
		{"explicit_egress_only_policy_leaves_ingress_open",
		 test_explicit_egress_only_policy_leaves_ingress_open},
		{"empty_pod_selector_selects_only_its_namespace",
		 test_empty_pod_selector_selects_only_its_namespace},
		{"ingress_empty_rule_allows_all", test_ingress_empty_rule_allows_all},
		{"missing_ingress_list_denies_all", test_missing_ingress_list_denies_all},
		{"empty_from_matches_every_peer", test_empty_from_matches_every_peer},
		{"empty_ports_match_every_protocol_and_port",
		 test_empty_ports_match_every_protocol_and_port},
		{"pod_selector_peer_is_scoped_to_policy_namespace",
		 test_pod_selector_peer_is_scoped_to_policy_namespace},
		{"namespace_selector_peer_matches_every_pod_of_namespaces",
		 test_namespace_selector_peer_matches_every_pod_of_namespaces},
		{"pod_and_namespace_selector_in_one_peer_is_intersection",
		 test_pod_and_namespace_selector_in_one_peer_is_intersection},
		{"two_peers_are_a_union", test_two_peers_are_a_union},
		{"ipblock_cidr_minus_except_includes_pod_addresses",
		 test_ipblock_cidr_minus_except_includes_pod_addresses},
		{"ipblock_ipv6_with_except", test_ipblock_ipv6_with_except},
		{"match_expressions_all_operators", test_match_expressions_all_operators},
		{"not_in_is_true_when_key_missing", test_not_in_is_true_when_key_missing},
		{"protocol_defaults_to_tcp", test_protocol_defaults_to_tcp},
		{"udp_and_sctp_ports", test_udp_and_sctp_ports},
		{"protocol_without_port_matches_every_port_of_it",
		 test_protocol_without_port_matches_every_port_of_it},
		{"end_port_range_is_inclusive", test_end_port_range_is_inclusive},
		{"named_port_resolves_per_destination_pod",
		 test_named_port_resolves_per_destination_pod},
		{"named_port_protocol_must_match", test_named_port_protocol_must_match},
		{"named_port_in_egress_resolves_against_destination",
		 test_named_port_in_egress_resolves_against_destination},
		{"host_network_and_finished_pods_are_never_selected",
		 test_host_network_and_finished_pods_are_never_selected},
		{"named_port_given_twice_in_a_pod_matches_both_numbers",
		 test_named_port_given_twice_in_a_pod_matches_both_numbers},
		{"rules_apply_to_ipv6_alike", test_rules_apply_to_ipv6_alike},
		{"both_sides_must_allow", test_both_sides_must_allow},
		{"first_allowing_policy_and_rule_is_reported",
		 test_first_allowing_policy_and_rule_is_reported},
		{"implicit_namespace_name_label", test_implicit_namespace_name_label},
		{"egress_to_ipblock", test_egress_to_ipblock},
		{"admin_deny_overrides_networkpolicy_allow",
		 test_admin_deny_overrides_networkpolicy_allow},
		{"admin_allow_overrides_networkpolicy_isolation",
		 test_admin_allow_overrides_networkpolicy_isolation},
		{"admin_pass_goes_to_networkpolicy", test_admin_pass_goes_to_networkpolicy},
		{"admin_pass_goes_to_baseline_when_no_networkpolicy_selects",
		 test_admin_pass_goes_to_baseline_when_no_networkpolicy_selects},
		{"baseline_priorities_and_pass", test_baseline_priorities_and_pass},
		{"equal_priorities_in_kind_then_name_order",
		 test_equal_priorities_in_kind_then_name_order},
		{"networks_match_pod_addresses", test_networks_match_pod_addresses},
		{"nodes_peer_matches_node_addresses", test_nodes_peer_matches_node_addresses},
		{"tier_peers_and_subjects_exclude_host_network_pods",
		 test_tier_peers_and_subjects_exclude_host_network_pods},
		{"tier_named_ports_in_both_versions", test_tier_named_ports_in_both_versions},
		{"tier_port_ranges_in_both_versions", test_tier_port_ranges_in_both_versions},
		{"tiers_apply_to_ipv6_alike", test_tiers_apply_to_ipv6_alike},
		{"both_sides_across_tiers", test_both_sides_across_tiers},
		CU_TEST_INFO_NULL,
	};

	if (rte_eal_init((int)NPGW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "cannot start EAL\n");
		return -1;
	}
	atexit(cleanup);
	cluster_yaml = make_base();
	if (cluster_yaml == NULL)
		return -1;
	return npgw_test_add_suite("policy_scenarios", tests);
}
