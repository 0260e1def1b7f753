/*
 * test_ref.c: the oracle is checked too. The reference evaluator of the
 * differential tests (tests/ref) on tiny hand-built clusters, one Kubernetes
 * rule per test, and the generator's determinism and coverage.
 */
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "ref.h"

#define TCP NPGW_PROTO_TCP
#define UDP NPGW_PROTO_UDP
#define SCTP NPGW_PROTO_SCTP
#define ICMP NPGW_PROTO_ICMP

/* Check the verdict on (proto, src -> dst:dport): each side as
 * ref_side_format prints it ("not-isolated", "ALLOW policy P rule R",
 * "DENY policy P"); allowed follows from the sides and is checked too. */
static void expect_at(const char *file, int line, const struct npgw_k8s_cluster *c,
		      uint8_t proto, const char *src, const char *dst, uint16_t dport,
		      const char *egress, const char *ingress)
{
	struct ref_query q = {.proto = proto, .dport = dport};
	struct ref_result r;
	char eg[64], in[64], qb[160];
	bool ok;

	CU_ASSERT_FATAL(npgw_addr_parse(src, &q.src) == 0);
	CU_ASSERT_FATAL(npgw_addr_parse(dst, &q.dst) == 0);
	ref_verdict(c, &q, &r);
	ref_side_format(&r.egress, eg, sizeof(eg));
	ref_side_format(&r.ingress, in, sizeof(in));
	ok = strcmp(eg, egress) == 0 && strcmp(in, ingress) == 0 &&
	     r.allowed == (strncmp(egress, "DENY", 4) != 0 && strncmp(ingress, "DENY", 4) != 0);
	if (!ok)
		fprintf(stderr, "\n%s:%d: %s: got egress [%s] ingress [%s] allowed %d, "
				"expected egress [%s] ingress [%s]\n",
			file, line, ref_query_format(&q, qb, sizeof(qb)), eg, in, r.allowed, egress,
			ingress);
	CU_ASSERT(ok);
}

#define EXPECT(c, proto, src, dst, dport, eg, in) \
	expect_at(__FILE__, __LINE__, (c), (proto), (src), (dst), (dport), (eg), (in))

#define NI "not-isolated"

static void test_no_policy_allows_everything(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();

	ref_add_pod(c, "a", "x", "app=web", "10.0.0.1");
	ref_add_pod(c, "b", "y", "app=db", "10.0.0.2");
	ref_cluster_sort(c);
	EXPECT(c, TCP, "10.0.0.1", "10.0.0.2", 80, NI, NI);
	EXPECT(c, ICMP, "10.0.0.2", "10.0.0.1", 0, NI, NI);
	EXPECT(c, UDP, "192.168.1.1", "8.8.8.8", 53, NI, NI);
	ref_cluster_free(c);
}

static void test_default_deny_ingress_isolates_only_ingress(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();

	ref_add_pod(c, "a", "x", "app=web", "10.0.0.1");
	ref_add_pod(c, "b", "y", "app=db", "10.0.0.2");
	ref_add_policy(c, "a", "deny", "", true, false);
	ref_cluster_sort(c);
	EXPECT(c, TCP, "10.0.0.2", "10.0.0.1", 80, NI, "DENY policy 0");
	EXPECT(c, TCP, "10.0.0.1", "10.0.0.2", 80, NI, NI);
	/* a missing ingress list denies every protocol */
	EXPECT(c, ICMP, "1.2.3.4", "10.0.0.1", 0, NI, "DENY policy 0");
	ref_cluster_free(c);
}

static void test_rules_of_a_direction_not_in_policy_types_do_nothing(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct npgw_k8s_policy *p;

	ref_add_pod(c, "a", "x", "", "10.0.0.1");
	ref_add_pod(c, "a", "y", "", "10.0.0.2");
	/* policyTypes: [Egress] with an allow-all ingress section */
	p = ref_add_policy(c, "a", "eg", "", false, true);
	ref_policy_add_rule(p, false);
	ref_cluster_sort(c);
	EXPECT(c, TCP, "10.0.0.1", "10.0.0.2", 80, "DENY policy 0", NI);
	ref_cluster_free(c);
}

static void test_policy_types_inference(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct npgw_k8s_policy *p;

	ref_add_pod(c, "a", "x", "app=x", "10.0.0.1");
	ref_add_pod(c, "a", "y", "app=y", "10.0.0.2");
	/* egress section present: Ingress and Egress */
	p = ref_add_policy(c, "a", "p1", "app=x", false, false);
	ref_rule_add_port(ref_policy_add_rule(p, true), UDP, 53, 0, NULL);
	ref_policy_infer_types(p);
	CU_ASSERT_TRUE(p->isolates_ingress);
	CU_ASSERT_TRUE(p->isolates_egress);
	/* no egress rules: Ingress only */
	p = ref_add_policy(c, "a", "p2", "app=y", false, false);
	ref_policy_add_rule(p, false);
	ref_policy_infer_types(p);
	CU_ASSERT_TRUE(p->isolates_ingress);
	CU_ASSERT_FALSE(p->isolates_egress);
	ref_cluster_sort(c);
	EXPECT(c, UDP, "10.0.0.1", "10.0.0.2", 53, "ALLOW policy 0 rule 0", "ALLOW policy 1 rule 0");
	EXPECT(c, TCP, "10.0.0.1", "10.0.0.2", 53, "DENY policy 0", "ALLOW policy 1 rule 0");
	EXPECT(c, TCP, "10.0.0.2", "10.0.0.1", 53, NI, "DENY policy 0");
	ref_cluster_free(c);
}

static void test_pod_selector_peer_means_own_namespace(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct npgw_k8s_policy *p;

	ref_add_pod(c, "a", "db", "app=db", "10.0.0.1");
	ref_add_pod(c, "a", "web", "app=web", "10.0.0.2");
	ref_add_pod(c, "b", "web", "app=web", "10.0.0.3");
	p = ref_add_policy(c, "a", "db", "app=db", true, false);
	ref_rule_add_peer(ref_policy_add_rule(p, false), "app=web", NULL);
	ref_cluster_sort(c);
	EXPECT(c, TCP, "10.0.0.2", "10.0.0.1", 5432, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.0.3", "10.0.0.1", 5432, NI, "DENY policy 0");
	EXPECT(c, TCP, "10.0.0.9", "10.0.0.1", 5432, NI, "DENY policy 0");
	ref_cluster_free(c);
}

static void test_namespace_selector_and_implicit_name_label(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct npgw_k8s_policy *p;
	struct npgw_k8s_rule *r;

	ref_add_namespace(c, "a", "");
	ref_add_namespace(c, "b", "team=red");
	/* namespace c has no Namespace object */
	ref_add_pod(c, "a", "db", "app=db", "10.0.0.1");
	ref_add_pod(c, "a", "x", "app=web", "10.0.0.2");
	ref_add_pod(c, "b", "x", "app=web", "10.0.0.3");
	ref_add_pod(c, "b", "y", "app=api", "10.0.0.4");
	ref_add_pod(c, "c", "x", "app=web", "10.0.0.5");
	p = ref_add_policy(c, "a", "db", "app=db", true, false);
	ref_rule_add_peer(ref_policy_add_rule(p, false), NULL, "team=red");
	ref_rule_add_peer(ref_policy_add_rule(p, false), NULL, NPGW_K8S_NS_NAME_LABEL "=c");
	/* both in one peer: the intersection */
	r = ref_policy_add_rule(p, false);
	ref_rule_add_peer(r, "app=web", "team notin (red)");
	ref_cluster_sort(c);
	EXPECT(c, TCP, "10.0.0.3", "10.0.0.1", 1, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.0.4", "10.0.0.1", 1, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.0.5", "10.0.0.1", 1, NI, "ALLOW policy 0 rule 1");
	EXPECT(c, TCP, "10.0.0.2", "10.0.0.1", 1, NI, "ALLOW policy 0 rule 2");
	ref_cluster_free(c);

	c = ref_cluster_new();
	ref_add_namespace(c, "b", "team=red");
	ref_add_pod(c, "a", "db", "app=db", "10.0.0.1");
	ref_add_pod(c, "b", "x", "app=web", "10.0.0.3");
	ref_add_pod(c, "b", "y", "app=api", "10.0.0.4");
	ref_add_pod(c, "c", "x", "app=web", "10.0.0.5");
	p = ref_add_policy(c, "a", "db", "app=db", true, false);
	ref_rule_add_peer(ref_policy_add_rule(p, false), "app=web", "team=red");
	ref_cluster_sort(c);
	EXPECT(c, TCP, "10.0.0.3", "10.0.0.1", 1, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.0.4", "10.0.0.1", 1, NI, "DENY policy 0");
	EXPECT(c, TCP, "10.0.0.5", "10.0.0.1", 1, NI, "DENY policy 0");
	ref_cluster_free(c);
}

static void test_ip_block_with_except_matches_pods_too(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct npgw_k8s_policy *p;

	ref_add_pod(c, "a", "x", "app=x", "10.0.0.1,fd00::1");
	ref_add_pod(c, "a", "in", "", "10.0.1.7");
	ref_add_pod(c, "a", "ex", "", "10.0.1.130");
	p = ref_add_policy(c, "a", "x", "app=x", true, true);
	ref_rule_add_ipblock(ref_policy_add_rule(p, false), "10.0.1.0/24", "10.0.1.128/25");
	ref_rule_add_ipblock(ref_policy_add_rule(p, true), "0.0.0.0/0", "10.0.0.0/8");
	ref_rule_add_ipblock(ref_policy_add_rule(p, true), "fd00::/112", "fd00::2/128");
	ref_cluster_sort(c);
	EXPECT(c, TCP, "10.0.1.7", "10.0.0.1", 80, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.1.0", "10.0.0.1", 80, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.1.127", "10.0.0.1", 80, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.1.128", "10.0.0.1", 80, NI, "DENY policy 0");
	EXPECT(c, TCP, "10.0.1.130", "10.0.0.1", 80, NI, "DENY policy 0");
	EXPECT(c, TCP, "10.0.2.0", "10.0.0.1", 80, NI, "DENY policy 0");
	EXPECT(c, UDP, "10.0.0.1", "8.8.8.8", 53, "ALLOW policy 0 rule 0", NI);
	EXPECT(c, UDP, "10.0.0.1", "11.0.0.0", 53, "ALLOW policy 0 rule 0", NI);
	EXPECT(c, UDP, "10.0.0.1", "9.255.255.255", 53, "ALLOW policy 0 rule 0", NI);
	EXPECT(c, UDP, "10.0.0.1", "10.255.255.255", 53, "DENY policy 0", NI);
	/* dual stack: the v6 address is the same pod; v4 blocks skip v6 */
	EXPECT(c, UDP, "fd00::1", "fd00::3", 53, "ALLOW policy 0 rule 1", NI);
	EXPECT(c, UDP, "fd00::1", "fd00::2", 53, "DENY policy 0", NI);
	EXPECT(c, UDP, "fd00::1", "fd00::1:0", 53, "DENY policy 0", NI);
	EXPECT(c, UDP, "fd00::2", "fd00::1", 53, NI, "DENY policy 0");
	ref_cluster_free(c);
}

static void test_named_port_resolves_per_destination_pod(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct npgw_k8s_policy *p;
	struct npgw_k8s_pod *pod;

	pod = ref_add_pod(c, "a", "s1", "app=srv", "10.0.0.1");
	ref_pod_add_port(pod, "http", TCP, 8080);
	ref_pod_add_port(pod, "dns", UDP, 53);
	pod = ref_add_pod(c, "a", "s2", "app=srv", "10.0.0.2");
	ref_pod_add_port(pod, "http", TCP, 9000);
	ref_pod_add_port(pod, "dns", TCP, 53);
	ref_add_pod(c, "a", "cl", "app=client", "10.0.0.3");
	p = ref_add_policy(c, "a", "srv", "app=srv", true, false);
	ref_rule_add_port(ref_policy_add_rule(p, false), TCP, 0, 0, "http");
	ref_rule_add_port(ref_policy_add_rule(p, false), UDP, 0, 0, "dns");
	p = ref_add_policy(c, "a", "zclient", "app=client", false, true);
	ref_rule_add_port(ref_policy_add_rule(p, true), TCP, 0, 0, "http");
	ref_cluster_sort(c);
	EXPECT(c, TCP, "10.0.0.3", "10.0.0.1", 8080, "ALLOW policy 1 rule 0",
	       "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.0.3", "10.0.0.1", 9000, "DENY policy 1", "DENY policy 0");
	EXPECT(c, TCP, "10.0.0.3", "10.0.0.2", 9000, "ALLOW policy 1 rule 0",
	       "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.0.3", "10.0.0.2", 8080, "DENY policy 1", "DENY policy 0");
	/* name and protocol must both match */
	EXPECT(c, UDP, "10.0.0.3", "10.0.0.1", 53, "DENY policy 1", "ALLOW policy 0 rule 1");
	EXPECT(c, UDP, "10.0.0.3", "10.0.0.2", 53, "DENY policy 1", "DENY policy 0");
	EXPECT(c, TCP, "10.0.0.3", "10.0.0.2", 53, "DENY policy 1", "DENY policy 0");
	/* a destination that is no pod has no named ports */
	EXPECT(c, TCP, "10.0.0.3", "10.9.9.9", 8080, "DENY policy 1", NI);
	ref_cluster_free(c);
}

static void test_ports_protocols_and_ranges(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct npgw_k8s_policy *p;
	struct npgw_k8s_rule *r;

	ref_add_pod(c, "a", "x", "app=x", "10.0.0.1");
	ref_add_pod(c, "a", "y", "app=y", "10.0.0.2");
	p = ref_add_policy(c, "a", "x", "app=x", true, false);
	r = ref_policy_add_rule(p, false);
	ref_rule_add_port(r, TCP, 1000, 2000, NULL);
	ref_rule_add_port(r, SCTP, 0, 0, NULL);
	ref_rule_add_port(r, UDP, 53, 0, NULL);
	ref_rule_add_port(r, UDP, 65535, 65535, NULL);
	/* no ports: every protocol and port, ICMP included */
	p = ref_add_policy(c, "a", "y", "app=y", true, false);
	ref_rule_add_peer(ref_policy_add_rule(p, false), "app=x", NULL);
	ref_cluster_sort(c);
	EXPECT(c, TCP, "1.1.1.1", "10.0.0.1", 999, NI, "DENY policy 0");
	EXPECT(c, TCP, "1.1.1.1", "10.0.0.1", 1000, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "1.1.1.1", "10.0.0.1", 2000, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "1.1.1.1", "10.0.0.1", 2001, NI, "DENY policy 0");
	EXPECT(c, UDP, "1.1.1.1", "10.0.0.1", 1500, NI, "DENY policy 0");
	EXPECT(c, SCTP, "1.1.1.1", "10.0.0.1", 7, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, UDP, "1.1.1.1", "10.0.0.1", 53, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, UDP, "1.1.1.1", "10.0.0.1", 54, NI, "DENY policy 0");
	EXPECT(c, UDP, "1.1.1.1", "10.0.0.1", 65535, NI, "ALLOW policy 0 rule 0");
	EXPECT(c, ICMP, "1.1.1.1", "10.0.0.1", 0, NI, "DENY policy 0");
	EXPECT(c, ICMP, "10.0.0.1", "10.0.0.2", 0, NI, "ALLOW policy 1 rule 0");
	EXPECT(c, 47, "10.0.0.1", "10.0.0.2", 0, NI, "ALLOW policy 1 rule 0");
	EXPECT(c, UDP, "10.0.0.1", "10.0.0.2", 12345, NI, "ALLOW policy 1 rule 0");
	ref_cluster_free(c);
}

static void test_selector_operators(void)
{
	struct npgw_k8s_labels l;
	struct {
		const char *sel;
		bool match;
	} cases[] = {
		{"", true},
		{"app=web", true},
		{"app=db", false},
		{"app=web,tier=front", true},
		{"app=web,tier=back", false},
		{"nokey=x", false},
		{"app in (db,web)", true},
		{"app in (db)", false},
		{"nokey in (x)", false},
		{"app notin (db)", true},
		{"app notin (web,db)", false},
		{"nokey notin (x)", true},
		{"app", true},
		{"nokey", false},
		{"!app", false},
		{"!nokey", true},
		{"app=web,!nokey,tier in (front),env notin (prod)", true},
		{"app=web,!nokey,tier in (front),app notin (web)", false},
	};

	ref_parse_labels("app=web,tier=front", &l);
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(cases); i++) {
		struct npgw_k8s_selector s;
		bool m;

		ref_parse_selector(cases[i].sel, &s);
		m = ref_selector_matches(&s, &l);
		if (m != cases[i].match)
			fprintf(stderr, "\nselector \"%s\": got %d\n", cases[i].sel, m);
		CU_ASSERT_EQUAL(m, cases[i].match);
		ref_selector_free(&s);
	}
	ref_labels_free(&l);
}

static void test_non_target_pods_are_no_pods(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct npgw_k8s_policy *p;
	struct npgw_k8s_pod *pod;

	ref_add_pod(c, "a", "x", "app=x", "10.0.0.1");
	pod = ref_add_pod(c, "a", "host", "app=x", "10.0.0.2");
	pod->host_network = true;
	pod = ref_add_pod(c, "a", "done", "app=x", "10.0.0.3");
	free(pod->phase);
	pod->phase = ref_xstrdup("Succeeded");
	pod = ref_add_pod(c, "a", "failed", "app=x", "10.0.0.4");
	free(pod->phase);
	pod->phase = ref_xstrdup("Failed");
	pod = ref_add_pod(c, "a", "nophase", "app=x", "10.0.0.5");
	free(pod->phase);
	pod->phase = NULL;
	p = ref_add_policy(c, "a", "x", "app=x", true, true);
	ref_rule_add_peer(ref_policy_add_rule(p, false), "app=x", NULL);
	ref_cluster_sort(c);
	EXPECT(c, TCP, "10.0.0.2", "10.0.0.1", 80, NI, "DENY policy 0");
	EXPECT(c, TCP, "10.0.0.3", "10.0.0.1", 80, NI, "DENY policy 0");
	EXPECT(c, TCP, "10.0.0.4", "10.0.0.1", 80, NI, "DENY policy 0");
	EXPECT(c, TCP, "10.0.0.5", "10.0.0.1", 80, "DENY policy 0", "ALLOW policy 0 rule 0");
	EXPECT(c, TCP, "10.0.0.1", "10.0.0.2", 80, "DENY policy 0", NI);
	EXPECT(c, TCP, "10.0.0.2", "10.0.0.3", 80, NI, NI);
	ref_cluster_free(c);
}

static void test_deciding_rule_is_first_in_cluster_order(void)
{
	struct npgw_k8s_cluster *c = ref_cluster_new();
	struct npgw_k8s_policy *p;

	ref_add_pod(c, "a", "x", "app=x", "10.0.0.1");
	ref_add_pod(c, "a", "y", "app=y", "10.0.0.2");
	/* added out of order: sorting makes "p-a" policy 0 ... "p-d" policy 3 */
	p = ref_add_policy(c, "a", "p-c", "app=x", true, false);
	ref_rule_add_port(ref_policy_add_rule(p, false), TCP, 80, 0, NULL);
	ref_rule_add_port(ref_policy_add_rule(p, false), TCP, 0, 0, NULL);
	p = ref_add_policy(c, "a", "p-a", "app=y", true, false); /* not x */
	ref_policy_add_rule(p, false);
	p = ref_add_policy(c, "a", "p-b", "app=x", true, false);
	ref_rule_add_port(ref_policy_add_rule(p, false), UDP, 0, 0, NULL);
	ref_rule_add_port(ref_policy_add_rule(p, false), TCP, 443, 0, NULL);
	p = ref_add_policy(c, "a", "p-d", "", false, true); /* egress of both */
	ref_rule_add_port(ref_policy_add_rule(p, true), TCP, 0, 0, NULL);
	ref_cluster_sort(c);
	CU_ASSERT_STRING_EQUAL(c->policies[0]->name, "p-a");
	CU_ASSERT_STRING_EQUAL(c->policies[3]->name, "p-d");
	EXPECT(c, TCP, "10.0.0.2", "10.0.0.1", 443, "ALLOW policy 3 rule 0", "ALLOW policy 1 rule 1");
	EXPECT(c, TCP, "10.0.0.2", "10.0.0.1", 80, "ALLOW policy 3 rule 0", "ALLOW policy 2 rule 0");
	EXPECT(c, TCP, "10.0.0.2", "10.0.0.1", 81, "ALLOW policy 3 rule 0", "ALLOW policy 2 rule 1");
	EXPECT(c, UDP, "10.0.0.2", "10.0.0.1", 53, "DENY policy 3", "ALLOW policy 1 rule 0");
	EXPECT(c, SCTP, "10.0.0.2", "10.0.0.1", 53, "DENY policy 3", "DENY policy 1");
	EXPECT(c, SCTP, "10.0.0.1", "10.0.0.2", 53, "DENY policy 3", "ALLOW policy 0 rule 0");
	ref_cluster_free(c);
}

/* ---- the generator ---- */

static char *dump_to_string(const struct npgw_k8s_cluster *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	ref_dump_yaml(c, f);
	fclose(f);
	return buf;
}

static void test_generator_is_deterministic(void)
{
	for (uint64_t seed = 1; seed < 20; seed++) {
		struct npgw_k8s_cluster *a = ref_gen_random(seed), *b = ref_gen_random(seed);
		char *da = dump_to_string(a), *db = dump_to_string(b);
		struct ref_query qa[64], qb[64];
		struct ref_rng ra, rb;

		CU_ASSERT_STRING_EQUAL(da, db);
		ref_rng_seed(&ra, seed);
		ref_rng_seed(&rb, seed);
		ref_gen_queries(a, &ra, qa, 64);
		ref_gen_queries(b, &rb, qb, 64);
		CU_ASSERT(memcmp(qa, qb, sizeof(qa)) == 0);
		free(da);
		free(db);
		ref_cluster_free(a);
		ref_cluster_free(b);
	}
}

struct coverage {
	unsigned int ops[4], peer_pod, peer_ns, peer_both, peer_block4, peer_block6, except,
		cidr0, cidr_max, port_any, port_num, port_range, port_named, rule_no_peers,
		rule_no_ports, empty_section, types_eg_only, types_in_only, host_net,
		terminal, no_ns_object, dual, empty_pod_sel, shared_addr;
	/* verdicts by enum ref_side_verdict (REF_PASS: a Baseline Pass) */
	unsigned int verdicts[2][4];
	/* the tiers: sides an Admin, a Baseline rule decided; Admin passes */
	unsigned int by_admin, by_baseline, admin_pass, nodes;
};

static void cover_selector(struct coverage *cv, const struct npgw_k8s_selector *s)
{
	for (size_t i = 0; i < s->n_exprs; i++)
		cv->ops[s->exprs[i].op]++;
}

static void cover_rules(struct coverage *cv, const struct npgw_k8s_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cv->rule_no_peers += r[i].n_peers == 0;
		cv->rule_no_ports += r[i].n_ports == 0;
		for (size_t j = 0; j < r[i].n_peers; j++) {
			const struct npgw_k8s_peer *p = &r[i].peers[j];

			cover_selector(cv, &p->pod_selector);
			cover_selector(cv, &p->ns_selector);
			cv->peer_pod += p->has_pod_selector && !p->has_ns_selector;
			cv->peer_ns += !p->has_pod_selector && p->has_ns_selector;
			cv->peer_both += p->has_pod_selector && p->has_ns_selector;
			if (p->has_ip_block) {
				cv->peer_block4 += p->cidr.addr.family == 4;
				cv->peer_block6 += p->cidr.addr.family == 6;
				cv->except += p->n_except;
				cv->cidr0 += p->cidr.len == 0;
				cv->cidr_max += p->cidr.len == (p->cidr.addr.family == 4 ? 32 : 128);
			}
		}
		for (size_t j = 0; j < r[i].n_ports; j++) {
			const struct npgw_k8s_port *pt = &r[i].ports[j];

			cv->port_any += !pt->has_port;
			cv->port_named += pt->name != NULL;
			cv->port_num += pt->has_port && !pt->name && !pt->end_port;
			cv->port_range += pt->has_port && !pt->name && pt->end_port;
		}
	}
}

/* Over a few hundred seeds every feature appears, and every verdict of
 * each side. */
static void test_generator_uses_every_feature(void)
{
	struct coverage cv = {0};

	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct npgw_k8s_cluster *c = ref_gen_random(seed);
		struct ref_query q[100];
		struct ref_rng rng;

		for (size_t i = 0; i < c->n_policies; i++) {
			const struct npgw_k8s_policy *p = c->policies[i];

			cover_selector(&cv, &p->pod_selector);
			cover_rules(&cv, p->ingress, p->n_ingress);
			cover_rules(&cv, p->egress, p->n_egress);
			cv.empty_section += (p->ingress && !p->n_ingress) || (p->egress && !p->n_egress);
			cv.types_eg_only += p->isolates_egress && !p->isolates_ingress;
			cv.types_in_only += !p->isolates_egress && p->isolates_ingress;
			cv.empty_pod_sel += p->pod_selector.match_labels.n == 0 && p->pod_selector.n_exprs == 0;
		}
		for (size_t i = 0; i < c->n_pods; i++) {
			bool has_ns = false;

			cv.host_net += c->pods[i]->host_network;
			cv.terminal += !ref_pod_is_target(c->pods[i]) && !c->pods[i]->host_network;
			cv.dual += c->pods[i]->n_addrs == 2;
			for (size_t j = 0; j < i; j++)
				for (size_t a = 0; a < c->pods[i]->n_addrs; a++)
					for (size_t b = 0; b < c->pods[j]->n_addrs; b++)
						cv.shared_addr += npgw_addr_cmp(&c->pods[i]->addrs[a],
										&c->pods[j]->addrs[b]) == 0;
			for (size_t j = 0; j < c->n_namespaces; j++)
				has_ns |= strcmp(c->namespaces[j]->name, c->pods[i]->namespace) == 0;
			cv.no_ns_object += !has_ns;
		}
		ref_rng_seed(&rng, seed);
		ref_gen_queries(c, &rng, q, NPGW_ARRAY_SIZE(q));
		for (size_t i = 0; i < NPGW_ARRAY_SIZE(q); i++) {
			struct ref_result r;

			ref_verdict(c, &q[i], &r);
			cv.verdicts[0][r.egress.verdict]++;
			cv.verdicts[1][r.ingress.verdict]++;
			for (int k = 0; k < 2; k++) {
				const struct ref_side *sd = k ? &r.ingress : &r.egress;

				if (sd->policy >= 0) {
					cv.by_admin += c->policies[sd->policy]->tier ==
						       NPGW_K8S_TIER_ADMIN;
					cv.by_baseline += c->policies[sd->policy]->tier ==
							  NPGW_K8S_TIER_BASELINE;
				}
				cv.admin_pass += sd->pass_policy >= 0;
			}
		}
		for (size_t i = 0; i < c->n_pods; i++)
			cv.nodes += strcmp(c->pods[i]->namespace, NPGW_K8S_NS_NODE) == 0;
		ref_cluster_free(c);
	}
	for (int i = 0; i < 4; i++)
		CU_ASSERT(cv.ops[i] > 0);
	CU_ASSERT(cv.peer_pod > 0 && cv.peer_ns > 0 && cv.peer_both > 0);
	CU_ASSERT(cv.peer_block4 > 0 && cv.peer_block6 > 0 && cv.except > 0);
	CU_ASSERT(cv.cidr0 > 0 && cv.cidr_max > 0);
	CU_ASSERT(cv.port_any > 0 && cv.port_num > 0 && cv.port_range > 0 && cv.port_named > 0);
	CU_ASSERT(cv.rule_no_peers > 0 && cv.rule_no_ports > 0 && cv.empty_section > 0);
	CU_ASSERT(cv.types_eg_only > 0 && cv.types_in_only > 0 && cv.empty_pod_sel > 0);
	CU_ASSERT(cv.host_net > 0 && cv.terminal > 0 && cv.no_ns_object > 0 && cv.dual > 0);
	CU_ASSERT(cv.shared_addr > 0);
	for (int s = 0; s < 2; s++)
		for (int v = 0; v < 3; v++)
			CU_ASSERT(cv.verdicts[s][v] > 500);
	CU_ASSERT(cv.verdicts[0][REF_PASS] + cv.verdicts[1][REF_PASS] > 0);
	CU_ASSERT(cv.by_admin > 100 && cv.by_baseline > 100 && cv.admin_pass > 100);
	CU_ASSERT(cv.nodes > 0);
	printf("\n  verdicts over 30,000 queries: egress %u not-isolated, %u allow, %u deny; "
	       "ingress %u / %u / %u\n",
	       cv.verdicts[0][0], cv.verdicts[0][1], cv.verdicts[0][2], cv.verdicts[1][0],
	       cv.verdicts[1][1], cv.verdicts[1][2]);
}

static void test_realistic_generator_shape(void)
{
	struct ref_gen_realistic_params prm = {.seed = 7, .n_pods = 1000, .n_policies = 100};
	struct npgw_k8s_cluster *c = ref_gen_realistic(&prm);
	struct ref_rng rng;
	struct npgw_k8s_pod *p;
	size_t n;

	CU_ASSERT(c->n_pods >= 1000 && c->n_pods <= 1010);
	CU_ASSERT_EQUAL(c->n_policies, 100);
	ref_rng_seed(&rng, 1);
	n = c->n_pods;
	p = ref_gen_add_replica(c, &rng);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(c->n_pods, n + 1);
	CU_ASSERT(ref_pod_of(c, &p->addrs[0]) == p);
	ref_cluster_remove_pod(c, p);
	CU_ASSERT_EQUAL(c->n_pods, n);
	ref_cluster_free(c);
}

/* Removing items one by one always leaves a valid, smaller cluster and
 * ends with an empty one (run under ASan, this checks the frees). */
static void test_remove_item_shrinks_to_empty(void)
{
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct npgw_k8s_cluster *c = ref_gen_random(seed);
		struct ref_rng rng;
		size_t steps = 0;

		ref_rng_seed(&rng, seed);
		/* random items first, then always the first */
		while (ref_remove_item(c, ref_rng_below(&rng, 50)))
			steps++;
		while (ref_remove_item(c, 0))
			steps++;
		CU_ASSERT_EQUAL(c->n_policies, 0);
		CU_ASSERT_EQUAL(c->n_pods, 0);
		CU_ASSERT_EQUAL(c->n_namespaces, 0);
		CU_ASSERT(steps > 0 || seed == 0);
		ref_cluster_free(c);
	}
}

int npgw_test_register(void)
{
	static const CU_TestInfo eval[] = {
		{"no policy allows everything", test_no_policy_allows_everything},
		{"default deny ingress isolates only ingress",
		 test_default_deny_ingress_isolates_only_ingress},
		{"rules of a direction not in policyTypes do nothing",
		 test_rules_of_a_direction_not_in_policy_types_do_nothing},
		{"policyTypes inference", test_policy_types_inference},
		{"podSelector peer means own namespace", test_pod_selector_peer_means_own_namespace},
		{"namespaceSelector and implicit name label",
		 test_namespace_selector_and_implicit_name_label},
		{"ipBlock with except matches pods too", test_ip_block_with_except_matches_pods_too},
		{"named port resolves per destination pod",
		 test_named_port_resolves_per_destination_pod},
		{"ports, protocols and ranges", test_ports_protocols_and_ranges},
		{"selector operators", test_selector_operators},
		{"non-target pods are no pods", test_non_target_pods_are_no_pods},
		{"deciding rule is first in cluster order",
		 test_deciding_rule_is_first_in_cluster_order},
		CU_TEST_INFO_NULL,
	};
	static const CU_TestInfo gen[] = {
		{"generator is deterministic", test_generator_is_deterministic},
		{"generator uses every feature", test_generator_uses_every_feature},
		{"realistic generator shape", test_realistic_generator_shape},
		{"remove_item shrinks to empty", test_remove_item_shrinks_to_empty},
		CU_TEST_INFO_NULL,
	};

	if (npgw_test_add_suite("ref evaluator", eval) != 0)
		return -1;
	return npgw_test_add_suite("ref generator", gen);
}
