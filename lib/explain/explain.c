/*
 * explain.c: endpoints -> tuple -> the generation's classify path -> the
 * policies and rules that decided, as text, JSON, or the batch contract.
 * It is the one codec of the explain contract: the query parser, the
 * answer's JSON and its text rendering (from the JSON, so the daemon's
 * answer and an offline one print alike) are here and nowhere else.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "npgw_explain.h"

/* A batch line longer than this is refused (a query is ~100 bytes). */
#define EXPLAIN_MAX_LINE 4096

const char *npgw_explain_verdict_name(enum npgw_explain_side_verdict v)
{
	switch (v) {
	case NPGW_EXPLAIN_ALLOW:
		return "allow";
	case NPGW_EXPLAIN_DENY:
		return "deny";
	default:
		return "not-isolated";
	}
}

/* An endpoint: a pod's addresses, or one address. */
struct endpoint {
	const struct npgw_k8s_pod *pod;
	struct npgw_addr addr;
};

static int endpoint_parse(const struct npgw_k8s_cluster *c, const char *s, struct endpoint *ep,
			  const char *what, char *err, size_t errlen)
{
	const char *slash;

	memset(ep, 0, sizeof(*ep));
	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "%s: empty endpoint", what);
		return -EINVAL;
	}
	if (npgw_addr_parse(s, &ep->addr) == 0)
		return 0;
	slash = strchr(s, '/');
	if (slash == NULL || slash == s || slash[1] == '\0' || strchr(slash + 1, '/')) {
		snprintf(err, errlen, "%s: '%s' is neither namespace/pod nor an IP address", what, s);
		return -EINVAL;
	}
	char ns[256];
	size_t nlen = (size_t)(slash - s);

	if (nlen >= sizeof(ns)) {
		snprintf(err, errlen, "%s: namespace too long", what);
		return -EINVAL;
	}
	memcpy(ns, s, nlen);
	ns[nlen] = '\0';
	ep->pod = npgw_k8s_find_pod(c, ns, slash + 1);
	if (ep->pod == NULL) {
		snprintf(err, errlen, "%s: no pod %s", what, s);
		return -EINVAL;
	}
	if (ep->pod->n_addrs == 0) {
		snprintf(err, errlen, "%s: pod %s has no address (status.podIPs)", what, s);
		return -EINVAL;
	}
	return 0;
}

static const struct npgw_addr *pod_addr(const struct npgw_k8s_pod *p, uint8_t family)
{
	for (size_t i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].family == family)
			return &p->addrs[i];
	return NULL;
}

int npgw_explain_tuple(const struct npgw_k8s_cluster *c, const struct npgw_explain_query *q,
		       struct npgw_ruleset_tuple *t, char *err, size_t errlen)
{
	struct endpoint from, to;
	const struct npgw_addr *sa, *da;
	uint8_t family;

	if (endpoint_parse(c, q->from, &from, "from", err, errlen) < 0 ||
	    endpoint_parse(c, q->to, &to, "to", err, errlen) < 0)
		return -EINVAL;
	if (from.pod == NULL)
		family = from.addr.family;
	else if (to.pod == NULL)
		family = to.addr.family;
	else
		family = (pod_addr(from.pod, 4) && pod_addr(to.pod, 4)) ? 4 : 6;
	sa = from.pod ? pod_addr(from.pod, family) : &from.addr;
	da = to.pod ? pod_addr(to.pod, family) : &to.addr;
	if (sa == NULL || da == NULL || sa->family != da->family) {
		snprintf(err, errlen, "from %s and to %s have no address family in common", q->from,
			 q->to);
		return -EINVAL;
	}
	if (q->port == 0) {
		snprintf(err, errlen, "port: must be 1..65535");
		return -EINVAL;
	}
	memset(t, 0, sizeof(*t));
	t->family = family;
	t->proto = q->proto;
	t->dport = q->port;
	memcpy(t->src, sa->bytes, npgw_addr_len(family));
	memcpy(t->dst, da->bytes, npgw_addr_len(family));
	return 0;
}

static void side_of(const struct npgw_ruleset *rs, uint32_t result, struct npgw_explain_side *s)
{
	s->meta = npgw_ruleset_meta(rs, result);
	if (s->meta == NULL)
		s->verdict = NPGW_EXPLAIN_NOT_ISOLATED;
	else
		/* a Baseline Pass decides nothing below it: allowed */
		s->verdict = s->meta->action == NPGW_COMPILE_DENY ? NPGW_EXPLAIN_DENY
								 : NPGW_EXPLAIN_ALLOW;
}

int npgw_explain_burst(const struct npgw_ruleset *rs, const struct npgw_ruleset_tuple *t,
		       unsigned int n, struct npgw_explain_answer *out)
{
	struct npgw_ruleset_verdict v[NPGW_RULESET_MAX_BURST];
	int rc = npgw_ruleset_classify_burst(rs, t, n, v);

	const struct npgw_compile_result *cr = npgw_ruleset_compiled(rs);
	bool admin = false;

	if (rc < 0)
		return rc;
	for (uint32_t m = 0; m < cr->n_metas && !admin; m++)
		admin = cr->metas[m].tier == NPGW_K8S_TIER_ADMIN;
	for (unsigned int i = 0; i < n; i++) {
		out[i].tuple = t[i];
		out[i].verdict = v[i];
		side_of(rs, v[i].egress, &out[i].egress);
		side_of(rs, v[i].ingress, &out[i].ingress);
		out[i].egress.pass = v[i].admin_egress != v[i].egress
					     ? npgw_ruleset_meta(rs, v[i].admin_egress)
					     : NULL;
		out[i].ingress.pass = v[i].admin_ingress != v[i].ingress
					      ? npgw_ruleset_meta(rs, v[i].admin_ingress)
					      : NULL;
		out[i].egress.admin_no_match = admin && v[i].admin_egress == 0;
		out[i].ingress.admin_no_match = admin && v[i].admin_ingress == 0;
		out[i].allowed = v[i].allowed;
	}
	return (int)n;
}

/* ---- the codec: one query parser, one answer JSON, one text ---- */

static const char *const query_keys[] = {"from", "to", "protocol", "port"};

int npgw_explain_query_from_json(const cJSON *args, struct npgw_explain_query *q, char *err,
				 size_t errlen)
{
	const cJSON *from, *to, *proto, *port;
	const char *name = "TCP";
	int pr;

	memset(q, 0, sizeof(*q));
	if (!cJSON_IsObject(args)) {
		snprintf(err, errlen, "not a JSON object");
		return -EINVAL;
	}
	for (const cJSON *k = args->child; k != NULL; k = k->next) {
		bool found = false;

		for (size_t i = 0; i < NPGW_ARRAY_SIZE(query_keys); i++)
			found = found || strcmp(k->string, query_keys[i]) == 0;
		if (!found) {
			snprintf(err, errlen, "unknown field \"%.64s\" (a query has from, to, "
					      "protocol and port)", k->string);
			return -EINVAL;
		}
		for (const cJSON *j = k->next; j != NULL; j = j->next)
			if (strcmp(k->string, j->string) == 0) {
				snprintf(err, errlen, "duplicate field \"%s\"", k->string);
				return -EINVAL;
			}
	}
	from = cJSON_GetObjectItemCaseSensitive(args, "from");
	to = cJSON_GetObjectItemCaseSensitive(args, "to");
	proto = cJSON_GetObjectItemCaseSensitive(args, "protocol");
	port = cJSON_GetObjectItemCaseSensitive(args, "port");
	if (!cJSON_IsString(from) || !cJSON_IsString(to)) {
		snprintf(err, errlen, "\"from\" and \"to\" must be strings");
		return -EINVAL;
	}
	if (proto != NULL && !cJSON_IsString(proto)) {
		snprintf(err, errlen, "\"protocol\" must be a string");
		return -EINVAL;
	}
	if (proto != NULL) {
		/* any case: tcp, Udp; the answer spells it as the contract does */
		static const char *const names[] = {"TCP", "UDP", "SCTP"};

		name = NULL;
		for (size_t i = 0; i < NPGW_ARRAY_SIZE(names); i++)
			if (strcasecmp(proto->valuestring, names[i]) == 0)
				name = names[i];
	}
	pr = name ? npgw_proto_parse(name) : -EINVAL;
	if (pr < 0) {
		snprintf(err, errlen, "\"protocol\": \"%.32s\" is not TCP, UDP or SCTP",
			 proto->valuestring);
		return -EINVAL;
	}
	if (!cJSON_IsNumber(port) || port->valuedouble != floor(port->valuedouble) ||
	    port->valuedouble < 1 || port->valuedouble > 65535) {
		snprintf(err, errlen, "\"port\" must be an integer 1..65535");
		return -EINVAL;
	}
	q->from = from->valuestring;
	q->to = to->valuestring;
	q->proto = (uint8_t)pr;
	q->port = (uint16_t)port->valuedouble;
	return 0;
}

/* The tier fields of a tier rule's meta into o; true when done. */
static bool tier_json(const struct npgw_compile_meta *m, cJSON *o)
{
	static const char *const kinds[] = {"NetworkPolicy", "AdminNetworkPolicy",
					    "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"};

	if (m->tier == NPGW_K8S_TIER_NETPOL)
		return true;
	if (!cJSON_AddStringToObject(o, "tier", npgw_k8s_tier_name(m->tier)) ||
	    !cJSON_AddStringToObject(o, "kind", kinds[m->kind & 3]) ||
	    !cJSON_AddStringToObject(o, "action", m->action == NPGW_COMPILE_DENY   ? "deny"
						  : m->action == NPGW_COMPILE_PASS ? "pass"
										   : "allow"))
		return false;
	if (m->kind != NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY &&
	    !cJSON_AddNumberToObject(o, "priority", m->priority))
		return false;
	return m->rule_name == NULL || cJSON_AddStringToObject(o, "rule_name", m->rule_name);
}

/* policy, rule, rule_path, file, line and the tier fields of m into o. */
static bool meta_json(const struct npgw_compile_meta *m, cJSON *o)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", m->policy_ns, m->policy_name);
	if (!cJSON_AddStringToObject(o, "policy", buf))
		return false;
	if (m->rule >= 0) {
		snprintf(buf, sizeof(buf), "spec.%s[%d]",
			 m->dir == NPGW_COMPILE_INGRESS ? "ingress" : "egress", m->rule);
		if (!cJSON_AddNumberToObject(o, "rule", m->rule) ||
		    !cJSON_AddStringToObject(o, "rule_path", buf))
			return false;
	}
	if (m->file != NULL && (!cJSON_AddStringToObject(o, "file", m->file) ||
				!cJSON_AddNumberToObject(o, "line", m->line)))
		return false;
	return tier_json(m, o);
}

static cJSON *side_json(const struct npgw_explain_side *s)
{
	cJSON *o = cJSON_CreateObject(), *p;

	if (o == NULL)
		return NULL;
	if (!cJSON_AddStringToObject(o, "verdict", npgw_explain_verdict_name(s->verdict)))
		goto fail;
	if (s->pass != NULL &&
	    (!cJSON_AddItemToObject(o, "pass", p = cJSON_CreateObject()) || p == NULL ||
	     !meta_json(s->pass, p)))
		goto fail;
	if (s->admin_no_match && !cJSON_AddStringToObject(o, "admin", "no rule matched"))
		goto fail;
	if (s->meta != NULL && !meta_json(s->meta, o))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

int npgw_explain_to_json(const struct npgw_ruleset *rs, const struct npgw_explain_answer *a,
			 cJSON *obj)
{
	struct npgw_addr s = {.family = a->tuple.family}, d = {.family = a->tuple.family};
	char sa[64], da[64];
	cJSON *e, *i;

	memcpy(s.bytes, a->tuple.src, sizeof(s.bytes));
	memcpy(d.bytes, a->tuple.dst, sizeof(d.bytes));
	if (!cJSON_AddBoolToObject(obj, "allowed", a->allowed))
		return -ENOMEM;
	e = side_json(&a->egress);
	if (e == NULL)
		return -ENOMEM;
	cJSON_AddItemToObject(obj, "egress", e);
	i = side_json(&a->ingress);
	if (i == NULL)
		return -ENOMEM;
	cJSON_AddItemToObject(obj, "ingress", i);
	/* exact digits: cJSON prints numbers above 10^15 with 15 of them */
	char gen[24];
	cJSON *g;

	snprintf(gen, sizeof(gen), "%" PRIu64, npgw_ruleset_generation(rs));
	g = cJSON_CreateRaw(gen);
	if (g == NULL || !cJSON_AddItemToObject(obj, "generation", g)) {
		cJSON_Delete(g);
		return -ENOMEM;
	}
	if (!cJSON_AddStringToObject(obj, "src", npgw_addr_format(&s, sa, sizeof(sa))) ||
	    !cJSON_AddStringToObject(obj, "dst", npgw_addr_format(&d, da, sizeof(da))))
		return -ENOMEM;
	return 0;
}

cJSON *npgw_explain_answer_json(const struct npgw_explain_query *q, const struct npgw_ruleset *rs,
				const struct npgw_explain_answer *a)
{
	cJSON *o = cJSON_CreateObject();
	char pb[16];

	if (o == NULL || !cJSON_AddStringToObject(o, "from", q->from) ||
	    !cJSON_AddStringToObject(o, "to", q->to) ||
	    !cJSON_AddStringToObject(o, "protocol", npgw_proto_name(q->proto, pb, sizeof(pb))) ||
	    !cJSON_AddNumberToObject(o, "port", q->port) || npgw_explain_to_json(rs, a, o) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const char *str_of(const cJSON *o, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* "policy x/web spec.ingress[1] (policies/web.yaml:14)" or, where the
 * location is unknown, "policy x/web, ingress rule 1". */
static void print_rule(FILE *out, const char *dir, const cJSON *side)
{
	const cJSON *rule = cJSON_GetObjectItemCaseSensitive(side, "rule");
	const cJSON *line = cJSON_GetObjectItemCaseSensitive(side, "line");
	const char *path = str_of(side, "rule_path", NULL), *file = str_of(side, "file", NULL);

	fprintf(out, "policy %s", str_of(side, "policy", "?"));
	if (path != NULL)
		fprintf(out, " %s", path);
	else if (cJSON_IsNumber(rule))
		fprintf(out, ", %s rule %d", dir, (int)rule->valuedouble);
	if (file != NULL && cJSON_IsNumber(line) && line->valuedouble > 0)
		fprintf(out, " (%s:%d)", file, (int)line->valuedouble);
}

/* "AdminNetworkPolicy/guard priority 10 rule "no-metadata" spec.egress[0]
 * (admin.yaml:12)" */
static void print_tier_rule(FILE *out, const cJSON *side)
{
	const cJSON *prio = cJSON_GetObjectItemCaseSensitive(side, "priority");
	const cJSON *line = cJSON_GetObjectItemCaseSensitive(side, "line");
	const char *name = str_of(side, "rule_name", NULL), *file = str_of(side, "file", NULL);

	fprintf(out, "%s", str_of(side, "policy", "?"));
	if (cJSON_IsNumber(prio))
		fprintf(out, " priority %d", (int)prio->valuedouble);
	if (name != NULL)
		fprintf(out, " rule \"%s\"", name);
	fprintf(out, " %s", str_of(side, "rule_path", "?"));
	if (file != NULL && cJSON_IsNumber(line) && line->valuedouble > 0)
		fprintf(out, " (%s:%d)", file, (int)line->valuedouble);
}

static void print_side(FILE *out, const char *dir, const char *who, const char *what,
		       const cJSON *side)
{
	const char *verdict = str_of(side, "verdict", "?");
	const char *tier = str_of(side, "tier", NULL);
	const cJSON *pass = cJSON_GetObjectItemCaseSensitive(side, "pass");

	if (cJSON_IsObject(pass)) {
		fprintf(out, "  %-7s %s: Admin tier passed it on: ", dir, who);
		print_tier_rule(out, pass);
		fputc('\n', out);
	} else if (str_of(side, "admin", NULL) != NULL) {
		fprintf(out, "  %-7s %s: Admin tier: no rule matched (or no Admin policy selects it)\n",
			dir, who);
	}
	fprintf(out, "  %-7s %s: ", dir, who);
	if (tier != NULL) {
		const char *action = str_of(side, "action", "?");

		fprintf(out, "%s by %s tier: ",
			strcmp(action, "deny") == 0   ? "denied"
			: strcmp(action, "pass") == 0 ? "allowed (passed, no tier below)"
						      : "allowed",
			tier);
		print_tier_rule(out, side);
		fputc('\n', out);
	} else if (strcmp(verdict, "not-isolated") == 0 && cJSON_IsObject(pass)) {
		fprintf(out, "no NetworkPolicy or Baseline rule decides %s: allowed\n", dir);
	} else if (strcmp(verdict, "not-isolated") == 0) {
		fprintf(out, "not isolated: no policy selects it for %s\n", dir);
	} else if (strcmp(verdict, "allow") == 0) {
		fputs("allowed by ", out);
		print_rule(out, dir, side);
		fputc('\n', out);
	} else {
		fputs("denied: ", out);
		print_rule(out, dir, side);
		fprintf(out, " isolates it for %s, and no %s rule of any policy selecting it allows "
			     "%s\n",
			dir, dir, what);
	}
}

void npgw_explain_print_json(const cJSON *r, FILE *out)
{
	const char *from = str_of(r, "from", "?"), *to = str_of(r, "to", "?");
	const char *src = str_of(r, "src", NULL), *dst = str_of(r, "dst", NULL);
	const char *proto = str_of(r, "protocol", "TCP");
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(r, "port");
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(r, "generation");
	int pn = cJSON_IsNumber(port) ? (int)port->valuedouble : 0;
	char what[160];

	fprintf(out, "%s: %s", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "allowed"))
				       ? "ALLOWED"
				       : "DENIED",
		from);
	if (src != NULL && strcmp(src, from) != 0)
		fprintf(out, " (%s)", src);
	fprintf(out, " -> %s", to);
	if (dst != NULL && strcmp(dst, to) != 0)
		fprintf(out, " (%s)", dst);
	fprintf(out, " %s/%d", proto, pn);
	if (cJSON_IsNumber(gen))
		fprintf(out, " (generation %.0f)", gen->valuedouble);
	fputc('\n', out);
	if (dst != NULL)
		snprintf(what, sizeof(what), "%s/%d to %s", proto, pn, dst);
	else
		snprintf(what, sizeof(what), "this");
	print_side(out, "egress", from, what, cJSON_GetObjectItemCaseSensitive(r, "egress"));
	if (src != NULL)
		snprintf(what, sizeof(what), "%s/%d from %s", proto, pn, src);
	print_side(out, "ingress", to, what, cJSON_GetObjectItemCaseSensitive(r, "ingress"));
}

void npgw_explain_print(const struct npgw_explain_query *q, const struct npgw_ruleset *rs,
			const struct npgw_explain_answer *a, FILE *out)
{
	cJSON *o = npgw_explain_answer_json(q, rs, a);

	if (o == NULL) {
		fputs("explain: out of memory\n", out);
		return;
	}
	npgw_explain_print_json(o, out);
	cJSON_Delete(o);
}

/* ---- batch ---- */

struct pending {
	long line;
	cJSON *obj; /* the output object, input fields filled */
	char err[256];
	bool ok;
	struct npgw_ruleset_tuple tuple;
};

/* Parse one line into p (p->ok false with p->err on a malformed line). */
static void parse_line(const struct npgw_k8s_cluster *c, const char *text, size_t len,
		       struct pending *p)
{
	cJSON *in = cJSON_ParseWithLength(text, len);
	struct npgw_explain_query q;
	char pb[16];

	p->ok = false;
	if (in == NULL) {
		snprintf(p->err, sizeof(p->err), "not a JSON object");
		goto out;
	}
	if (npgw_explain_query_from_json(in, &q, p->err, sizeof(p->err)) < 0)
		goto out;
	if (npgw_explain_tuple(c, &q, &p->tuple, p->err, sizeof(p->err)) < 0)
		goto out;
	p->obj = cJSON_CreateObject();
	if (p->obj == NULL || !cJSON_AddStringToObject(p->obj, "from", q.from) ||
	    !cJSON_AddStringToObject(p->obj, "to", q.to) ||
	    !cJSON_AddStringToObject(p->obj, "protocol", npgw_proto_name(q.proto, pb, sizeof(pb))) ||
	    !cJSON_AddNumberToObject(p->obj, "port", q.port)) {
		snprintf(p->err, sizeof(p->err), "out of memory");
		goto out;
	}
	p->ok = true;
out:
	if (!p->ok) {
		cJSON_Delete(p->obj);
		p->obj = NULL;
	}
	cJSON_Delete(in);
}

static int print_obj(cJSON *o, FILE *out)
{
	char *s = cJSON_PrintUnformatted(o);
	int rc = 0;

	if (s == NULL)
		return -ENOMEM;
	if (fputs(s, out) < 0 || fputc('\n', out) < 0)
		rc = -EIO;
	free(s);
	return rc;
}

/* Classify the pending lines in one burst and print them in order. */
static int flush(const struct npgw_ruleset *rs, struct pending *pend, unsigned int n, FILE *out)
{
	struct npgw_ruleset_tuple t[NPGW_RULESET_MAX_BURST];
	struct npgw_explain_answer a[NPGW_RULESET_MAX_BURST];
	unsigned int map[NPGW_RULESET_MAX_BURST], m = 0;
	int rc = 0;

	for (unsigned int i = 0; i < n; i++)
		if (pend[i].ok) {
			map[m] = i;
			t[m++] = pend[i].tuple;
		}
	if (m > 0 && npgw_explain_burst(rs, t, m, a) < 0) {
		for (unsigned int i = 0; i < n; i++) {
			cJSON_Delete(pend[i].obj);
			pend[i].obj = NULL;
		}
		return -EINVAL;
	}
	for (unsigned int j = 0; j < m; j++)
		if (npgw_explain_to_json(rs, &a[j], pend[map[j]].obj) < 0) {
			pend[map[j]].ok = false;
			snprintf(pend[map[j]].err, sizeof(pend[map[j]].err), "out of memory");
		}
	for (unsigned int i = 0; i < n; i++) {
		cJSON *o = pend[i].obj;

		if (!pend[i].ok) {
			cJSON_Delete(o);
			o = cJSON_CreateObject();
			if (o == NULL || !cJSON_AddNumberToObject(o, "line", (double)pend[i].line) ||
			    !cJSON_AddStringToObject(o, "error", pend[i].err))
				rc = -ENOMEM;
		}
		if (o != NULL && rc == 0)
			rc = print_obj(o, out);
		cJSON_Delete(o);
		pend[i].obj = NULL;
	}
	return rc;
}

long npgw_explain_batch(const struct npgw_k8s_cluster *c, const struct npgw_ruleset *rs,
			FILE *in, FILE *out)
{
	struct pending pend[NPGW_RULESET_MAX_BURST];
	unsigned int n = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0, answered = 0;
	int rc = 0;

	memset(pend, 0, sizeof(pend));
	while ((len = getline(&line, &cap, in)) >= 0) {
		struct pending *p = &pend[n];

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		memset(p, 0, sizeof(*p));
		p->line = lineno;
		if (len == 0)
			continue; /* blank lines are no queries */
		if ((size_t)len > EXPLAIN_MAX_LINE)
			snprintf(p->err, sizeof(p->err), "line longer than %d bytes",
				 EXPLAIN_MAX_LINE);
		else if (memchr(line, '\0', (size_t)len) != NULL)
			snprintf(p->err, sizeof(p->err), "NUL byte in line");
		else
			parse_line(c, line, (size_t)len, p);
		if (++n == NPGW_RULESET_MAX_BURST) {
			rc = flush(rs, pend, n, out);
			answered += n;
			n = 0;
			if (rc < 0)
				break;
		}
	}
	if (rc == 0 && n > 0) {
		rc = flush(rs, pend, n, out);
		answered += n;
	}
	free(line);
	if (rc == 0 && ferror(in))
		rc = -EIO;
	return rc < 0 ? rc : answered;
}
