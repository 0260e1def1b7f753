/*
 * test_k8s_validate.c: every refusal of the lib/k8s validator, each with
 * the exact FILE:LINE:COL, field path and a fragment of the message; all
 * errors of a file are reported, and an object with errors is not kept.
 * Also the checks across objects (npgw_k8s_cluster_validate).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "npgw_k8s.h"

/* Lines 1-6 of every policy below; spec's fields start on line 7. */
#define POLICY_HEAD                                                                          \
	"apiVersion: networking.k8s.io/v1\n"                                                 \
	"kind: NetworkPolicy\n"                                                              \
	"metadata:\n"                                                                        \
	"  name: p\n"                                                                        \
	"  namespace: x\n"                                                                   \
	"spec:\n"

struct result {
	struct npgw_k8s_cluster *c;
	struct npgw_diags d;
	int rc;
};

static struct result run(const char *name, const char *text)
{
	struct result r = {.c = npgw_k8s_cluster_new()};

	CU_ASSERT_PTR_NOT_NULL_FATAL(r.c);
	r.rc = npgw_k8s_load_buffer(r.c, name, text, strlen(text), &r.d);
	return r;
}

static void done(struct result *r)
{
	npgw_k8s_cluster_free(r->c);
	npgw_diags_free(&r->d);
}

/* True when d holds a message of severity sev at where ("f:L:C") with that
 * path and a message containing frag; prints what it holds otherwise. */
static bool has_sev(const struct npgw_diags *d, enum npgw_severity sev, const char *where,
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

#define EXPECT(r, where, path, frag) CU_ASSERT_TRUE(has_sev(&(r).d, NPGW_SEV_ERROR, where, path, frag))
#define EXPECT_WARN(r, where, path, frag)                                                     \
	CU_ASSERT_TRUE(has_sev(&(r).d, NPGW_SEV_WARNING, where, path, frag))

/* One error expected, the object refused. */
static void expect_one(const char *text, const char *where, const char *path, const char *frag)
{
	struct result r = run("t.yaml", text);

	CU_ASSERT_EQUAL(r.rc, -EINVAL);
	CU_ASSERT_EQUAL(r.d.n_errors, 1);
	CU_ASSERT_TRUE(has_sev(&r.d, NPGW_SEV_ERROR, where, path, frag));
	CU_ASSERT_EQUAL(r.c->n_policies + r.c->n_pods + r.c->n_namespaces, 0);
	CU_ASSERT_EQUAL(r.c->n_refused, 1);
	done(&r);
}

/* ---- ports ---- */

static void test_endport_below_port(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n"
			       "  ingress:\n"
			       "  - ports:\n"
			       "    - port: 80\n"
			       "      endPort: 79\n",
		   "t.yaml:11:16", "spec.ingress[0].ports[0].endPort", "79 is below port 80");
}

static void test_port_outside_1_65535(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports:\n    - port: 70000\n",
		   "t.yaml:10:13", "spec.ingress[0].ports[0].port", "70000 is outside 1..65535");
	expect_one(POLICY_HEAD "  podSelector: {}\n  egress:\n  - ports: [{port: 0}]\n",
		   "t.yaml:9:20", "spec.egress[0].ports[0].port", "0 is outside 1..65535");
	expect_one(POLICY_HEAD "  podSelector: {}\n  egress:\n  - ports: [{port: 1, endPort: 65536}]\n",
		   "t.yaml:9:32", "spec.egress[0].ports[0].endPort", "65536 is outside 1..65535");
}

static void test_endport_with_named_port(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports: [{port: http, endPort: 90}]\n",
		   "t.yaml:9:35", "spec.ingress[0].ports[0].endPort", "named port");
}

static void test_endport_without_port(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports: [{endPort: 90}]\n",
		   "t.yaml:9:23", "spec.ingress[0].ports[0].endPort", "needs port");
}

static void test_unknown_protocol(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports: [{protocol: ICMP}]\n",
		   "t.yaml:9:24", "spec.ingress[0].ports[0].protocol", "unknown protocol \"ICMP\"");
	/* case matters, as for the API server */
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports: [{protocol: tcp}]\n",
		   "t.yaml:9:24", "spec.ingress[0].ports[0].protocol", "unknown protocol \"tcp\"");
}

static void test_port_of_the_wrong_type(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports:\n    - port: [1]\n",
		   "t.yaml:10:13", "spec.ingress[0].ports[0].port",
		   "expected a port number or a port name, got a list");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80.0\n",
		   "t.yaml:10:13", "spec.ingress[0].ports[0].port", "expected an integer, got 80.0");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports:\n    - port: 080\n",
		   "t.yaml:10:13", "spec.ingress[0].ports[0].port", "not a plain decimal integer");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports:\n"
			       "    - port: 99999999999999999999\n",
		   "t.yaml:10:13", "spec.ingress[0].ports[0].port", "out of range");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports:\n    - port: -80\n",
		   "t.yaml:10:13", "spec.ingress[0].ports[0].port", "-80 is outside 1..65535");
}

static void test_quoted_number_is_an_invalid_port_name(void)
{
	/* IntOrString: "80" is a string, hence a name, and a name needs a letter */
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports:\n    - port: \"80\"\n",
		   "t.yaml:10:13", "spec.ingress[0].ports[0].port", "must contain at least one letter");
}

static void test_invalid_port_names(void)
{
	static const struct {
		const char *name;
		const char *why;
	} bad[] = {
		{"http-metrics-long", "no more than 15"},
		{"-http", "begin or end with '-'"},
		{"http-", "begin or end with '-'"},
		{"ht--tp", "'--'"},
		{"HTTP", "lower case"},
		{"h_p", "lower case"},
	};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(bad); i++) {
		char text[512];

		snprintf(text, sizeof(text),
			 POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports: [{port: %s}]\n",
			 bad[i].name);
		expect_one(text, "t.yaml:9:20", "spec.ingress[0].ports[0].port", bad[i].why);
	}
}

/* ---- policy types, fields, types ---- */

static void test_unknown_or_repeated_policy_type(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n  policyTypes: [Ingress, ingress]\n",
		   "t.yaml:8:26", "spec.policyTypes[1]", "unknown policy type \"ingress\"");
	expect_one(POLICY_HEAD "  podSelector: {}\n  policyTypes: [Egress, Egress]\n",
		   "t.yaml:8:25", "spec.policyTypes[1]", "listed twice");
}

static void test_unknown_fields_in_spec_at_any_depth(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n  podSelectr: {}\n", "t.yaml:8:3",
		   "spec.podSelectr", "unknown field \"podSelectr\"");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - from:\n"
			       "    - podSelector:\n        matchLabel: {a: b}\n",
		   "t.yaml:11:9", "spec.ingress[0].from[0].podSelector.matchLabel",
		   "unknown field \"matchLabel\"");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - from:\n"
			       "    - ipBlock: {cidr: 10.0.0.0/8, exception: []}\n",
		   "t.yaml:10:35", "spec.ingress[0].from[0].ipBlock.exception",
		   "unknown field \"exception\"");
	/* an ingress rule has from, not to */
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - to: []\n", "t.yaml:9:5",
		   "spec.ingress[0].to", "an ingress rule has from and ports");
	expect_one(POLICY_HEAD "  podSelector: {matchExpressions: [{key: a, operator: Exists, "
			       "value: [x]}]}\n",
		   "t.yaml:7:63", "spec.podSelector.matchExpressions[0].value",
		   "unknown field \"value\"");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - ports: [{port: 80, proto: TCP}]\n",
		   "t.yaml:9:24", "spec.ingress[0].ports[0].proto", "unknown field \"proto\"");
}

static void test_fields_of_the_wrong_type(void)
{
	expect_one(POLICY_HEAD "  podSelector: \"x\"\n", "t.yaml:7:16", "spec.podSelector",
		   "expected a mapping, got a string");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress: {from: []}\n", "t.yaml:8:12",
		   "spec.ingress", "expected a list, got a mapping");
	expect_one(POLICY_HEAD "  podSelector: {}\n  policyTypes: Ingress\n", "t.yaml:8:16",
		   "spec.policyTypes", "expected a list, got a string");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n"
			       "        cidr: 10\n",
		   "t.yaml:11:15", "spec.ingress[0].from[0].ipBlock.cidr",
		   "expected a string, got an integer");
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress: [\"all\"]\n", "t.yaml:8:13",
		   "spec.ingress[0]", "expected a mapping, got a string");
	/* a bare "-" is null: refused rather than read as allow-all */
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  -\n", "t.yaml:9:4",
		   "spec.ingress[0]", "write {} to allow everything");
}

static void test_spec_and_pod_selector_are_required(void)
{
	expect_one(POLICY_HEAD "  policyTypes: [Ingress]\n", "t.yaml:7:3", "spec.podSelector",
		   "missing required field");
	expect_one("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n",
		   "t.yaml:1:1", "spec", "missing required field");
}

/* ---- peers, CIDRs ---- */

static void test_empty_peer(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - from:\n    - {}\n",
		   "t.yaml:10:7", "spec.ingress[0].from[0]",
		   "needs podSelector, namespaceSelector or ipBlock");
	/* null selectors are absent: this peer is empty too */
	expect_one(POLICY_HEAD "  podSelector: {}\n  egress:\n  - to:\n    - podSelector: null\n",
		   "t.yaml:10:7", "spec.egress[0].to[0]", "needs podSelector");
}

static void test_ipblock_with_a_selector_in_one_peer(void)
{
	expect_one(POLICY_HEAD "  podSelector: {}\n  ingress:\n  - from:\n"
			       "    - namespaceSelector: {}\n      ipBlock: {cidr: 10.0.0.0/8}\n",
		   "t.yaml:11:7", "spec.ingress[0].from[0].ipBlock", "cannot be combined");
}

static void test_cidr_that_does_not_parse(void)
{
	static const char *bad[] = {"10.0.0.0/33", "10.0.0.0", "10.0.0/8", "fd00::/129",
				    "banana", "10.0.0.0/8/8", "\"\""};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(bad); i++) {
		char text[512];

		snprintf(text, sizeof(text),
			 POLICY_HEAD "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n"
				     "        cidr: %s\n",
			 bad[i]);
		expect_one(text, "t.yaml:11:15", "spec.egress[0].to[0].ipBlock.cidr",
			   "is not a valid CIDR");
	}
}

static void test_except_outside_cidr_or_other_family(void)
{
	struct result r = run("e.yaml", POLICY_HEAD "  podSelector: {}\n"
						    "  egress:\n"
						    "  - to:\n"
						    "    - ipBlock:\n"
						    "        cidr: 10.1.0.0/16\n"
						    "        except:\n"
						    "        - 10.2.0.0/24\n"
						    "        - 10.1.0.0/16\n"
						    "        - 10.0.0.0/8\n"
						    "        - fd00::/64\n"
						    "        - 10.1.2.0/24\n");

	CU_ASSERT_EQUAL(r.rc, -EINVAL);
	CU_ASSERT_EQUAL(r.d.n_errors, 4);
	EXPECT(r, "e.yaml:13:11", "spec.egress[0].to[0].ipBlock.except[0]",
	       "except 10.2.0.0/24 is not strictly inside cidr 10.1.0.0/16");
	EXPECT(r, "e.yaml:14:11", "spec.egress[0].to[0].ipBlock.except[1]", "not strictly inside");
	EXPECT(r, "e.yaml:15:11", "spec.egress[0].to[0].ipBlock.except[2]", "not strictly inside");
	EXPECT(r, "e.yaml:16:11", "spec.egress[0].to[0].ipBlock.except[3]",
	       "except fd00::/64 is IPv6 but cidr 10.1.0.0/16 is IPv4");
	CU_ASSERT_EQUAL(r.c->n_policies, 0);
	done(&r);
}

static void test_cidr_with_host_bits_is_kept_with_a_warning(void)
{
	struct result r = run("h.yaml", POLICY_HEAD "  podSelector: {}\n  egress:\n  - to:\n"
						    "    - ipBlock:\n        cidr: 10.0.1.1/4\n"
						    "        except: [8.0.0.1/8]\n");
	char buf[64];

	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.d.n_errors, 0);
	CU_ASSERT_EQUAL(r.d.n_warnings, 2);
	EXPECT_WARN(r, "h.yaml:11:15", "spec.egress[0].to[0].ipBlock.cidr",
		    "10.0.1.1/4 has host bits set: read as 0.0.0.0/4");
	EXPECT_WARN(r, "h.yaml:12:18", "spec.egress[0].to[0].ipBlock.except[0]", "host bits");
	CU_ASSERT_EQUAL_FATAL(r.c->n_policies, 1);
	CU_ASSERT_STRING_EQUAL(
		npgw_prefix_format(&r.c->policies[0]->egress[0].peers[0].cidr, buf, sizeof(buf)),
		"0.0.0.0/4");
	done(&r);
}

/* ---- labels and selectors ---- */

static void test_invalid_label_keys(void)
{
	static const struct {
		const char *key;
		const char *why;
	} bad[] = {
		{"\"a b\"", "alphanumeric characters, '-', '_' or '.'"},
		{"-a", "start and end with an alphanumeric"},
		{"\"Example.com/a\"", "prefix must be a DNS subdomain"},
		{"\"/a\"", "prefix before '/' must not be empty"},
		{"\"example.com/\"", "name part must not be empty"},
		{"\"a/b/c\"", "at most one '/'"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "no more than 63"},
	};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(bad); i++) {
		char text[512];

		snprintf(text, sizeof(text), POLICY_HEAD "  podSelector:\n    matchLabels:\n"
							 "      %s: x\n",
			 bad[i].key);
		struct result r = run("l.yaml", text);

		CU_ASSERT_EQUAL(r.d.n_errors, 1);
		CU_ASSERT_EQUAL_FATAL(r.d.n, 1);
		CU_ASSERT_EQUAL(r.d.v[0].line, 9);
		CU_ASSERT_EQUAL(r.d.v[0].col, 7);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.d.v[0].path, "spec.podSelector.matchLabels"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.d.v[0].message, "invalid label key"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.d.v[0].message, bad[i].why));
		done(&r);
	}
	/* a 253-character prefix is fine, 254 is not */
	char key[300], text[700];

	memset(key, 'a', 254);
	key[63] = key[127] = key[191] = '.';
	strcpy(key + 254, "/k");
	snprintf(text, sizeof(text), POLICY_HEAD "  podSelector: {matchLabels: {%s: x}}\n", key);
	expect_one(text, "t.yaml:7:31", "spec.podSelector.matchLabels[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.\"]",
		   "prefix must be no more than 253");
	snprintf(text, sizeof(text), POLICY_HEAD "  podSelector: {matchLabels: {%s: x}}\n",
		 key + 1);
	struct result ok = run("t.yaml", text);

	CU_ASSERT_EQUAL(ok.d.n, 0);
	done(&ok);
}

static void test_invalid_label_values(void)
{
	expect_one(POLICY_HEAD "  podSelector: {matchLabels: {app: \"a b\"}}\n", "t.yaml:7:36",
		   "spec.podSelector.matchLabels.app", "invalid label value \"a b\"");
	expect_one(POLICY_HEAD "  podSelector: {matchLabels: {app: -x}}\n", "t.yaml:7:36",
		   "spec.podSelector.matchLabels.app", "start and end with an alphanumeric");
	expect_one(POLICY_HEAD "  podSelector: {matchLabels: {app: "
			       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}}\n",
		   "t.yaml:7:36", "spec.podSelector.matchLabels.app", "no more than 63");
	/* YAML 1.1 typing, as kubectl: yes is a boolean, 80 an integer */
	expect_one(POLICY_HEAD "  podSelector: {matchLabels: {enabled: yes}}\n", "t.yaml:7:40",
		   "spec.podSelector.matchLabels.enabled",
		   "expected a string, got a boolean (quote it: \"yes\")");
	expect_one(POLICY_HEAD "  podSelector: {matchLabels: {port: 80}}\n", "t.yaml:7:37",
		   "spec.podSelector.matchLabels.port", "expected a string, got an integer");
	expect_one(POLICY_HEAD "  podSelector: {matchLabels: {app: }}\n", "t.yaml:7:36",
		   "spec.podSelector.matchLabels.app", "null");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    app: [x]\n",
		   "t.yaml:6:10", "metadata.labels.app", "expected a string, got a list");
}

static void test_selector_operator_value_counts(void)
{
	expect_one(POLICY_HEAD "  podSelector:\n    matchExpressions:\n    - key: a\n"
			       "      operator: In\n",
		   "t.yaml:9:7", "spec.podSelector.matchExpressions[0].values",
		   "operator In needs at least one value");
	expect_one(POLICY_HEAD "  podSelector:\n    matchExpressions:\n    - key: a\n"
			       "      operator: NotIn\n      values: []\n",
		   "t.yaml:11:15", "spec.podSelector.matchExpressions[0].values",
		   "operator NotIn needs at least one value");
	expect_one(POLICY_HEAD "  podSelector:\n    matchExpressions:\n    - key: a\n"
			       "      operator: Exists\n      values: [x]\n",
		   "t.yaml:11:15", "spec.podSelector.matchExpressions[0].values",
		   "operator Exists takes no values");
	expect_one(POLICY_HEAD "  podSelector:\n    matchExpressions:\n    - key: a\n"
			       "      operator: DoesNotExist\n      values: [x]\n",
		   "t.yaml:11:15", "spec.podSelector.matchExpressions[0].values", "takes no values");
	expect_one(POLICY_HEAD "  podSelector:\n    matchExpressions:\n    - key: a\n"
			       "      operator: Equals\n      values: [x]\n",
		   "t.yaml:10:17", "spec.podSelector.matchExpressions[0].operator",
		   "unknown operator \"Equals\"");
	expect_one(POLICY_HEAD "  podSelector:\n    matchExpressions:\n    - operator: Exists\n",
		   "t.yaml:9:7", "spec.podSelector.matchExpressions[0].key", "missing required");
	expect_one(POLICY_HEAD "  podSelector:\n    matchExpressions:\n    - key: a\n"
			       "      operator: In\n      values: [\"a b\"]\n",
		   "t.yaml:11:16", "spec.podSelector.matchExpressions[0].values[0]",
		   "invalid label value");
}

/* ---- object names, kinds, versions ---- */

static void test_invalid_object_names(void)
{
	expect_one("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		   "metadata: {name: Allow_DB}\nspec: {podSelector: {}}\n",
		   "t.yaml:3:18", "metadata.name", "invalid name \"Allow_DB\"");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: web.1-, namespace: x}\n",
		   "t.yaml:3:18", "metadata.name", "invalid name");
	/* namespaces are DNS labels: no dots */
	expect_one("apiVersion: v1\nkind: Namespace\nmetadata: {name: a.b}\n", "t.yaml:3:18",
		   "metadata.name", "lower case alphanumeric characters or '-'");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: X}\n", "t.yaml:3:32",
		   "metadata.namespace", "invalid namespace \"X\"");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n", "t.yaml:3:11",
		   "metadata.name", "missing required field");
	struct result r = run("t.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\n---\n"
					"apiVersion: v1\nkind: Pod\n");

	CU_ASSERT_EQUAL(r.d.n_errors, 1);
	EXPECT(r, "t.yaml:5:1", "metadata", "missing required field");
	CU_ASSERT_EQUAL(r.c->n_pods, 1);
	done(&r);
}

static void test_wrong_api_version_or_missing_kind(void)
{
	expect_one("apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\n"
		   "metadata: {name: p}\nspec: {podSelector: {}}\n",
		   "t.yaml:1:13", "apiVersion", "NetworkPolicy must be apiVersion networking.k8s.io/v1");
	expect_one("apiVersion: apps/v1\nkind: Pod\nmetadata: {name: p}\n", "t.yaml:1:13",
		   "apiVersion", "Pod must be apiVersion v1");
	expect_one("kind: Namespace\nmetadata: {name: p}\n", "t.yaml:1:1", "apiVersion",
		   "missing required field");
	struct result r = run("t.yaml", "apiVersion: v1\nmetadata: {name: p}\n");

	EXPECT(r, "t.yaml:1:1", "kind", "missing required field");
	done(&r);
	r = run("t.yaml", "- a\n- b\n");
	EXPECT(r, "t.yaml:1:1", "", "expected a mapping, got a list");
	done(&r);
}

/* ---- pods ---- */

static void test_bad_pod_fields(void)
{
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
		   "status: {podIP: 10.0.0.256}\n",
		   "t.yaml:4:17", "status.podIP", "\"10.0.0.256\" is not an IPv4 or IPv6 address");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
		   "status:\n  podIPs:\n  - ip: 10.0.0.1\n  - ip: fd00::g\n",
		   "t.yaml:7:9", "status.podIPs[1].ip", "not an IPv4 or IPv6 address");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
		   "spec: {hostNetwork: \"true\"}\n",
		   "t.yaml:4:21", "spec.hostNetwork", "expected a boolean, got a string");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
		   "  - name: c\n    ports:\n    - containerPort: 0\n",
		   "t.yaml:8:22", "spec.containers[0].ports[0].containerPort", "0 is outside 1..65535");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
		   "  - name: c\n    ports:\n    - {containerPort: 80, name: HTTP}\n",
		   "t.yaml:8:33", "spec.containers[0].ports[0].name", "invalid port name \"HTTP\"");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
		   "  - name: c\n    ports:\n    - {containerPort: 80, protocol: ICMP}\n",
		   "t.yaml:8:37", "spec.containers[0].ports[0].protocol", "unknown protocol");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
		   "  - name: c\n    ports:\n    - {name: web}\n",
		   "t.yaml:8:7", "spec.containers[0].ports[0].containerPort", "missing required");
	expect_one("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
		   "  - name: c\n    ports:\n    - {containerPort: 80, name: web}\n"
		   "    - {containerPort: 81, name: web}\n",
		   "t.yaml:9:33", "spec.containers[0].ports[1].name", "duplicate port name \"web\"");
}

static void test_port_name_shared_across_containers_is_a_warning(void)
{
	struct result r = run("t.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n"
					"  containers:\n"
					"  - ports: [{containerPort: 80, name: web}]\n"
					"  - ports: [{containerPort: 81, name: web}]\n");

	CU_ASSERT_EQUAL(r.rc, 0);
	EXPECT_WARN(r, "t.yaml:7:39", "spec.containers[1].ports[0].name", "also names another");
	CU_ASSERT_EQUAL(r.c->n_pods, 1);
	done(&r);
}

/* ---- YAML and JSON level ---- */

static void test_duplicate_keys_are_refused(void)
{
	struct result r = run("d.yaml", POLICY_HEAD "  podSelector: {}\n  ingress: []\n"
						    "  podSelector: {matchLabels: {a: b}}\n");

	CU_ASSERT_EQUAL(r.rc, -EINVAL);
	EXPECT(r, "d.yaml:9:3", "", "duplicate key \"podSelector\" (first at line 7)");
	CU_ASSERT_EQUAL(r.c->n_policies, 0);
	done(&r);
	r = run("d.json", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n"
			  " \"metadata\": {\"name\": \"a\", \"name\": \"b\"}}");
	EXPECT(r, "d.json:2:28", "", "duplicate key \"name\"");
	CU_ASSERT_EQUAL(r.c->n_pods, 0);
	done(&r);
}

static void test_yaml_tags_other_than_core_are_refused(void)
{
	struct result r = run("t.yaml", "apiVersion: v1\nkind: Namespace\n"
					"metadata: {name: !!python/object:os.system x}\n");

	CU_ASSERT_EQUAL(r.rc, -EINVAL);
	EXPECT(r, "t.yaml:3:18", "", "YAML tag \"tag:yaml.org,2002:python/object:os.system\"");
	CU_ASSERT_EQUAL(r.c->n_namespaces, 0);
	done(&r);
	/* core tags are fine: !!str makes a string of 80 */
	r = run("t.yaml", "apiVersion: v1\nkind: Namespace\n"
			  "metadata: {name: a, labels: {port: !!str 80}}\n");
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.c->n_namespaces, 1);
	done(&r);
	r = run("t.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: !!int a}\n");
	EXPECT(r, "t.yaml:3:18", "", "\"a\" is not a valid !!int");
	done(&r);
}

static void test_json_errors_carry_exact_positions(void)
{
	struct result r = run("p.json", "{\n"
					"  \"apiVersion\": \"networking.k8s.io/v1\",\n"
					"  \"kind\": \"NetworkPolicy\",\n"
					"  \"metadata\": {\"name\": \"p\"},\n"
					"  \"spec\": {\n"
					"    \"podSelector\": {},\n"
					"    \"ingress\": [{\"ports\": [{\"port\": 80, \"endPort\": 1.5e1}]}]\n"
					"  }\n"
					"}\n");

	EXPECT(r, "p.json:7:52", "spec.ingress[0].ports[0].endPort",
	       "expected an integer, got 1.5e1");
	done(&r);
	r = run("s.json", "{\"kind\": \"Pod\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": 'a'}}");
	EXPECT(r, "s.json:1:58", "", "JSON: expected a value, found '''");
	done(&r);
}

/* ---- several errors, lists ---- */

static void test_all_errors_of_a_file_are_reported(void)
{
	struct result r = run("many.yaml",
			      "apiVersion: v1\nkind: Namespace\nmetadata: {name: good}\n"
			      "---\n" POLICY_HEAD "  podSelector: {}\n"
			      "  policyTypes: [Sideways]\n"
			      "  ingress:\n"
			      "  - from: [{}]\n"
			      "    ports: [{port: 0}, {port: 80, endPort: 8}]\n"
			      "---\n"
			      "apiVersion: v1\nkind: Pod\nmetadata: {name: Bad}\n"
			      "---\n"
			      "apiVersion: v1\nkind: Pod\nmetadata: {name: fine, namespace: good}\n");

	CU_ASSERT_EQUAL(r.rc, -EINVAL);
	CU_ASSERT_EQUAL(r.d.n_errors, 5);
	EXPECT(r, "many.yaml:12:17", "spec.policyTypes[0]", "unknown policy type");
	EXPECT(r, "many.yaml:14:12", "spec.ingress[0].from[0]", "needs podSelector");
	EXPECT(r, "many.yaml:15:20", "spec.ingress[0].ports[0].port", "0 is outside");
	EXPECT(r, "many.yaml:15:44", "spec.ingress[0].ports[1].endPort", "8 is below port 80");
	EXPECT(r, "many.yaml:19:18", "metadata.name", "invalid name \"Bad\"");
	/* the good objects are kept, the bad ones refused and counted */
	CU_ASSERT_EQUAL(r.c->n_namespaces, 1);
	CU_ASSERT_EQUAL(r.c->n_pods, 1);
	CU_ASSERT_EQUAL(r.c->n_policies, 0);
	CU_ASSERT_EQUAL(r.c->n_refused, 2);
	done(&r);
}

static void test_list_items_are_prefixed_in_paths(void)
{
	struct result r = run("list.yaml", "apiVersion: v1\nkind: List\nitems:\n"
					   "- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n"
					   "- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n"
					   "  metadata: {name: p}\n"
					   "  spec:\n    podSelector: {}\n"
					   "    egress: [{ports: [{port: 80, endPort: 79}]}]\n"
					   "- apiVersion: v1\n  kind: List\n  items: []\n");

	CU_ASSERT_EQUAL(r.rc, -EINVAL);
	EXPECT(r, "list.yaml:12:43", "items[1].spec.egress[0].ports[0].endPort",
	       "79 is below port 80");
	EXPECT(r, "list.yaml:14:9", "items[2].kind", "a list cannot hold another list");
	CU_ASSERT_EQUAL(r.c->n_namespaces, 1);
	done(&r);
	r = run("typed.yaml", "apiVersion: v1\nkind: PodList\nitems:\n"
			      "- kind: Namespace\n  metadata: {name: a}\n");
	EXPECT(r, "typed.yaml:4:9", "items[0].kind", "a PodList item must be a Pod, not Namespace");
	done(&r);
}

/* ---- across objects ---- */

static void test_duplicate_objects_across_files(void)
{
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	const char *a = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n"
			"apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\n---\n"
			"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
			"metadata: {name: np, namespace: x}\nspec: {podSelector: {}}\n";
	const char *b = "\n\n" /* the same three objects, two lines down */
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n"
			"apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\n---\n"
			"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
			"metadata: {name: np, namespace: x}\nspec: {podSelector: {}}\n";
	struct result r = {.c = c};

	CU_ASSERT_EQUAL(npgw_k8s_load_buffer(c, "a.yaml", a, strlen(a), &d), 0);
	CU_ASSERT_EQUAL(npgw_k8s_load_buffer(c, "b.yaml", b, strlen(b), &d), 0);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_validate(c, &d), -EINVAL);
	r.d = d;
	CU_ASSERT_EQUAL(d.n_errors, 3);
	EXPECT(r, "b.yaml:3:1", "", "Namespace x is defined twice (first at a.yaml:1:1)");
	EXPECT(r, "b.yaml:7:1", "", "Pod x/p is defined twice (first at a.yaml:5:1)");
	EXPECT(r, "b.yaml:11:1", "", "NetworkPolicy x/np is defined twice (first at a.yaml:9:1)");
	done(&r);
}

static void test_two_pods_claiming_one_address(void)
{
	struct result r = run("pods.yaml",
			      "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
			      "status: {podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}\n---\n"
			      "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"
			      "status: {podIP: 'fd00::1'}\n---\n"
			      /* hostNetwork pods share the node address: no conflict */
			      "apiVersion: v1\nkind: Pod\nmetadata: {name: h1}\n"
			      "spec: {hostNetwork: true}\nstatus: {podIP: 10.0.0.1}\n---\n"
			      "apiVersion: v1\nkind: Pod\nmetadata: {name: h2}\n"
			      "spec: {hostNetwork: true}\nstatus: {podIP: 10.0.0.1}\n---\n"
			      /* a finished pod's address may be reused */
			      "apiVersion: v1\nkind: Pod\nmetadata: {name: old}\n"
			      "status: {phase: Succeeded, podIP: 10.0.0.1}\n");

	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_validate(r.c, &r.d), -EINVAL);
	CU_ASSERT_EQUAL(r.d.n_errors, 1);
	EXPECT(r, "pods.yaml:6:1", "",
	       "pod default/b claims address fd00::1, already claimed by pod default/a "
	       "(pods.yaml:1:1)");
	done(&r);
}

/* Issue 18: documents of kinds npgw does not read are counted and named
 * in one warning per file, not skipped silently. */
static void test_skipped_kinds_are_reported(void)
{
	struct result r = run("mixed.yaml",
			      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n"
			      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\n"
			      "apiVersion: v1\nkind: Service\nmetadata: {name: t}\n---\n"
			      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n---\n"
			      "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n");

	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.d.n_errors, 0);
	CU_ASSERT_EQUAL(r.d.n_warnings, 1);
	EXPECT_WARN(r, "mixed.yaml:0:0", "",
		    "skipped 4 documents: kinds Service, Deployment, ConfigMap (npgw reads");
	CU_ASSERT_EQUAL(r.c->n_namespaces, 1);
	done(&r);

	struct result q = run("one.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
	EXPECT_WARN(q, "one.yaml:0:0", "", "skipped 1 document: kind ConfigMap (");
	done(&q);
}

/* Issue 18: a near-miss kind is an error that names the kind meant; a
 * wrong apiVersion of a kind npgw reads is one too. */
static void test_near_miss_kinds_and_api_versions_are_errors(void)
{
	static const struct {
		const char *kind, *meant;
	} miss[] = {
		{"Networkpolicy", "NetworkPolicy"}, {"networkpolicy", "NetworkPolicy"},
		{"NetworkPolicies", "NetworkPolicy"}, {"NetworkPolcy", "NetworkPolicy"},
		{"pod", "Pod"}, {"Pods", "Pod"}, {"namespaces", "Namespace"},
		{"Namepsace", "Namespace"}, {"list", "List"},
	};
	char text[256], frag[128];

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(miss); i++) {
		snprintf(text, sizeof(text),
			 "apiVersion: networking.k8s.io/v1\nkind: %s\nmetadata: {name: p}\n",
			 miss[i].kind);
		snprintf(frag, sizeof(frag), "unknown kind \"%s\": did you mean %s?", miss[i].kind,
			 miss[i].meant);
		struct result r = run("t.yaml", text);
		CU_ASSERT_EQUAL(r.rc, -EINVAL);
		CU_ASSERT_EQUAL(r.d.n_errors, 1);
		EXPECT(r, "t.yaml:2:7", "kind", frag);
		done(&r);
	}
	expect_one("apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\n"
		   "metadata: {name: p}\nspec: {podSelector: {}}\n",
		   "t.yaml:1:13", "apiVersion",
		   "NetworkPolicy must be apiVersion networking.k8s.io/v1, not "
		   "\"networking.k8s.io/v1beta1\"");
	expect_one("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\n"
		   "metadata: {name: p}\nspec: {podSelector: {}}\n",
		   "t.yaml:1:13", "apiVersion", "must be apiVersion networking.k8s.io/v1");
}

/* Issue 18: with pods in the cluster, a policy that selects none, and a
 * named port no selected pod (ingress) or no pod (egress) has, are
 * warned of; policy files checked without pods are not. */
static void test_policy_selecting_no_pod_and_unknown_port_names_warn(void)
{
	static const char *pods =
		"apiVersion: v1\nkind: Pod\nmetadata: {namespace: x, name: a, labels: {app: web}}\n"
		"spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}\n"
		"status: {podIP: 10.0.0.1}\n---\n";
	static const char *pols =
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {namespace: x, name: typo}\n"
		"spec: {podSelector: {matchLabels: {app: wbe}}}\n---\n"
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {namespace: x, name: ports}\n"
		"spec:\n  podSelector: {matchLabels: {app: web}}\n"
		"  ingress: [{ports: [{port: http}, {port: htpp}, {port: http, protocol: UDP}]}]\n"
		"  egress: [{ports: [{port: http}, {port: dns, protocol: UDP}]}]\n";
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", pods, pols);
	struct result r = run("c.yaml", text);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_validate(r.c, &r.d), 0);
	CU_ASSERT_EQUAL(r.d.n_warnings, 0); /* validation proper does not warn of it */
	CU_ASSERT_EQUAL(npgw_k8s_cluster_warn(r.c, &r.d), 0);
	CU_ASSERT_EQUAL(r.d.n_errors, 0);
	CU_ASSERT_EQUAL(r.d.n_warnings, 4);
	EXPECT_WARN(r, "c.yaml:7:1", "spec.podSelector", "NetworkPolicy x/typo selects no pod");
	EXPECT_WARN(r, "c.yaml:12:1", "spec.ingress[0].ports[1].port",
		    "no pod this policy selects has a TCP port named \"htpp\"");
	EXPECT_WARN(r, "c.yaml:12:1", "spec.ingress[0].ports[2].port",
		    "no pod this policy selects has a UDP port named \"http\"");
	EXPECT_WARN(r, "c.yaml:12:1", "spec.egress[0].ports[1].port",
		    "no pod of the cluster has a UDP port named \"dns\"");
	done(&r);

	struct result alone = run("p.yaml", pols);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_validate(alone.c, &alone.d), 0);
	CU_ASSERT_EQUAL(npgw_k8s_cluster_warn(alone.c, &alone.d), 0);
	CU_ASSERT_EQUAL(alone.d.n, 0);
	done(&alone);
}

int npgw_test_register(void)
{
	static const CU_TestInfo port_tests[] = {
		{"endport_below_port", test_endport_below_port},
		{"port_outside_1_65535", test_port_outside_1_65535},
		{"endport_with_named_port", test_endport_with_named_port},
		{"endport_without_port", test_endport_without_port},
		{"unknown_protocol", test_unknown_protocol},
		{"port_of_the_wrong_type", test_port_of_the_wrong_type},
		{"quoted_number_is_an_invalid_port_name", test_quoted_number_is_an_invalid_port_name},
		{"invalid_port_names", test_invalid_port_names},
		{NULL, NULL},
	};
	static const CU_TestInfo spec_tests[] = {
		{"unknown_or_repeated_policy_type", test_unknown_or_repeated_policy_type},
		{"unknown_fields_in_spec_at_any_depth", test_unknown_fields_in_spec_at_any_depth},
		{"fields_of_the_wrong_type", test_fields_of_the_wrong_type},
		{"spec_and_pod_selector_are_required", test_spec_and_pod_selector_are_required},
		{"empty_peer", test_empty_peer},
		{"ipblock_with_a_selector_in_one_peer", test_ipblock_with_a_selector_in_one_peer},
		{"cidr_that_does_not_parse", test_cidr_that_does_not_parse},
		{"except_outside_cidr_or_other_family", test_except_outside_cidr_or_other_family},
		{"cidr_with_host_bits_is_kept_with_a_warning",
		 test_cidr_with_host_bits_is_kept_with_a_warning},
		{"invalid_label_keys", test_invalid_label_keys},
		{"invalid_label_values", test_invalid_label_values},
		{"selector_operator_value_counts", test_selector_operator_value_counts},
		{NULL, NULL},
	};
	static const CU_TestInfo object_tests[] = {
		{"invalid_object_names", test_invalid_object_names},
		{"wrong_api_version_or_missing_kind", test_wrong_api_version_or_missing_kind},
		{"bad_pod_fields", test_bad_pod_fields},
		{"port_name_shared_across_containers_is_a_warning",
		 test_port_name_shared_across_containers_is_a_warning},
		{"duplicate_keys_are_refused", test_duplicate_keys_are_refused},
		{"yaml_tags_other_than_core_are_refused", test_yaml_tags_other_than_core_are_refused},
		{"json_errors_carry_exact_positions", test_json_errors_carry_exact_positions},
		{"all_errors_of_a_file_are_reported", test_all_errors_of_a_file_are_reported},
		{"list_items_are_prefixed_in_paths", test_list_items_are_prefixed_in_paths},
		{"skipped_kinds_are_reported", test_skipped_kinds_are_reported},
		{"near_miss_kinds_and_api_versions_are_errors",
		 test_near_miss_kinds_and_api_versions_are_errors},
		{NULL, NULL},
	};
	static const CU_TestInfo cluster_tests[] = {
		{"duplicate_objects_across_files", test_duplicate_objects_across_files},
		{"two_pods_claiming_one_address", test_two_pods_claiming_one_address},
		{"policy_selecting_no_pod_and_unknown_port_names_warn",
		 test_policy_selecting_no_pod_and_unknown_port_names_warn},
		{NULL, NULL},
	};

	if (npgw_test_add_suite("k8s_validate_ports", port_tests) ||
	    npgw_test_add_suite("k8s_validate_spec", spec_tests) ||
	    npgw_test_add_suite("k8s_validate_objects", object_tests) ||
	    npgw_test_add_suite("k8s_validate_cluster", cluster_tests))
		return -1;
	return 0;
}
