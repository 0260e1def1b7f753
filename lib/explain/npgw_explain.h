/*
 * npgw_explain.h: "why was this packet allowed or dropped?" Resolves two
 * endpoints (namespace/pod or an address) against the cluster, builds the
 * tuple a packet between them would carry, runs it through the generation's
 * classify path (npgw_ruleset_classify_burst, the data plane's own), and
 * names the policy and rule that decided each side. It never evaluates
 * policies by a second route.
 *
 * Used by `npgwctl explain --offline` and by the control socket's explain
 * command. Control thread (or any thread that owns the cluster and holds
 * the generation).
 */
#ifndef NPGW_EXPLAIN_H
#define NPGW_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "npgw_k8s.h"
#include "npgw_ruleset.h"

/* One question. from/to: "namespace/pod" or an address. */
struct npgw_explain_query {
	const char *from;
	const char *to;
	uint8_t proto; /* NPGW_PROTO_TCP, _UDP or _SCTP */
	uint16_t port;
};

/* One side's answer. */
enum npgw_explain_side_verdict {
	NPGW_EXPLAIN_NOT_ISOLATED,
	NPGW_EXPLAIN_ALLOW,
	NPGW_EXPLAIN_DENY,
};

struct npgw_explain_side {
	enum npgw_explain_side_verdict verdict;
	const struct npgw_compile_meta *meta; /* NULL when not isolated */
	/* The Admin tier rule whose Pass sent this side on to NetworkPolicy
	 * and Baseline, or NULL. */
	const struct npgw_compile_meta *pass;
	/* The generation has Admin tier rules and none matched this side. */
	bool admin_no_match;
};

struct npgw_explain_answer {
	struct npgw_ruleset_tuple tuple;
	struct npgw_ruleset_verdict verdict;
	struct npgw_explain_side egress;
	struct npgw_explain_side ingress;
	bool allowed;
};

/*
 * Resolve the query's endpoints into q's tuple. A pod endpoint takes the
 * pod's address of the family the other endpoint has (IPv4 first when
 * both are pods with both families). Returns 0, or -EINVAL with a message
 * in err (errlen bytes) naming what is wrong.
 */
int npgw_explain_tuple(const struct npgw_k8s_cluster *c, const struct npgw_explain_query *q,
		       struct npgw_ruleset_tuple *t, char *err, size_t errlen);

/*
 * Answer n resolved tuples (n <= NPGW_RULESET_MAX_BURST) with one classify
 * call. Returns n or a negative errno.
 */
int npgw_explain_burst(const struct npgw_ruleset *rs, const struct npgw_ruleset_tuple *t,
		       unsigned int n, struct npgw_explain_answer *out);

/* The verdict name as the explain contract spells it: "allow", "deny",
 * "not-isolated". */
const char *npgw_explain_verdict_name(enum npgw_explain_side_verdict v);

/*
 * Read a query object {"from", "to", "protocol" (default TCP, any case),
 * "port"} (the control socket's explain args and a --batch line): no other
 * field, none twice. q->from and q->to point into args. Returns 0, or
 * -EINVAL with the reason in err.
 */
int npgw_explain_query_from_json(const cJSON *args, struct npgw_explain_query *q, char *err,
				 size_t errlen);

/*
 * Add the answer's fields to a JSON object (which already holds the input
 * fields): "allowed", "egress", "ingress" (each {"verdict", "policy",
 * "rule", "rule_path" ("spec.ingress[1]"), "file", "line"} as far as
 * known; a tier rule adds "tier" ("Admin" or "Baseline"), "kind",
 * "priority" (not for a BaselineAdminNetworkPolicy), "action" ("allow",
 * "deny", "pass") and "rule_name" when it has one; a side an Admin Pass
 * sent on adds "pass", the same fields of that rule; where the generation
 * has Admin rules and none matched, "admin": "no rule matched"),
 * "generation", "src"
 * and "dst" (the addresses the endpoints resolved to). Returns 0 or
 * -ENOMEM.
 */
int npgw_explain_to_json(const struct npgw_ruleset *rs, const struct npgw_explain_answer *a,
			 cJSON *obj);

/* The whole answer: the query's fields ("protocol" as TCP, UDP or SCTP)
 * and npgw_explain_to_json's. NULL when out of memory; the caller frees it. */
cJSON *npgw_explain_answer_json(const struct npgw_explain_query *q, const struct npgw_ruleset *rs,
				const struct npgw_explain_answer *a);

/* Print an answer (npgw_explain_answer_json's, or the gateway's reply)
 * for people: the verdict line, then one line per side, naming where the
 * deciding rule is written: "allowed by policy y/web spec.ingress[1]
 * (policies/web.yaml:14)"; a tier rule with its tier, priority and name:
 * "denied by Admin tier: AdminNetworkPolicy/guard priority 10 rule
 * \"no-metadata\" spec.egress[0] (admin.yaml:12)"; a Pass on the way as
 * "Admin tier passed it on: ..." before the rule that decided. */
void npgw_explain_print_json(const cJSON *answer, FILE *out);

/* Print the answer for people (npgw_explain_print_json of its JSON). */
void npgw_explain_print(const struct npgw_explain_query *q, const struct npgw_ruleset *rs,
			const struct npgw_explain_answer *a, FILE *out);

/*
 * The batch contract: read one JSON object per line from in
 * ({"from", "to", "protocol" (default TCP), "port"}), write one JSON object
 * per line to out, in order: the input fields plus the answer, or
 * {"line": N, "error": "..."} for a malformed line. Queries are classified
 * in bursts. Returns the number of lines answered, or a negative errno for
 * an I/O failure.
 */
long npgw_explain_batch(const struct npgw_k8s_cluster *c, const struct npgw_ruleset *rs,
			FILE *in, FILE *out);

#endif /* NPGW_EXPLAIN_H */
