/*
 * describe.c: the endpoint view. `npgwctl describe pod NS/NAME` (and
 * `npgwctl get endpoints`) answer "which policies select this pod, and
 * what may reach it?", like cilium-dbg endpoint get: the pod's addresses
 * and labels, the policies that select it for ingress and for egress,
 * whether it is isolated in each direction, and the peers and ports each
 * rule admits, with the pods each peer selects today.
 *
 * It reads the gateway's objects (command get, three kinds) into a
 * cluster with the daemon's own loader and evaluates selectors with
 * lib/k8s, so it needs no command of its own on the control socket.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "npgw_k8s.h"
#include "npgwctl.h"

#define MAX_PEER_PODS 8 /* pods named per peer in text; the count is exact */

int npgwctl_fetch_cluster(const char *cmd, struct npgw_k8s_cluster **out)
{
	/* the gateway's pod and policy lists hold the Nodes and tier
	 * policies too */
	static const char *const kinds[] = {"namespaces", "pods", "policies"};
	struct npgw_k8s_cluster *c = npgw_k8s_cluster_new();
	struct npgw_diags d = {0};
	int rc = NPGWCTL_EXIT_OK;

	*out = NULL;
	if (c == NULL) {
		fprintf(stderr, "npgwctl %s: out of memory\n", cmd);
		return NPGWCTL_EXIT_USAGE;
	}
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(kinds) && rc == NPGWCTL_EXIT_OK; i++) {
		cJSON *args = cJSON_CreateObject(), *list = NULL;
		char *text;

		if (args == NULL || !cJSON_AddStringToObject(args, "kind", kinds[i])) {
			cJSON_Delete(args);
			rc = NPGWCTL_EXIT_USAGE;
			break;
		}
		rc = npgwctl_remote_call(cmd, "get", args, NPGWCTL_CALL_TIMEOUT_MS, &list);
		cJSON_Delete(args);
		if (rc != NPGWCTL_EXIT_OK)
			break;
		text = cJSON_PrintUnformatted(list);
		cJSON_Delete(list);
		if (text == NULL ||
		    npgw_k8s_load_buffer(c, "gateway", text, strlen(text), &d) == -ENOMEM) {
			free(text);
			rc = NPGWCTL_EXIT_USAGE;
			break;
		}
		free(text);
	}
	if (rc == NPGWCTL_EXIT_OK && d.n_errors > 0) {
		/* the gateway's objects passed its own loader: a version skew */
		npgw_diags_print(&d, stderr);
		fprintf(stderr, "npgwctl %s: cannot read the gateway's objects back\n", cmd);
		rc = NPGWCTL_EXIT_USAGE;
	}
	npgw_diags_free(&d);
	if (rc != NPGWCTL_EXIT_OK) {
		npgw_k8s_cluster_free(c);
		return rc;
	}
	npgw_k8s_cluster_sort(c);
	*out = c;
	return NPGWCTL_EXIT_OK;
}

/* ---- rendering a selector, a peer, a port ---- */

static void selector_text(const struct npgw_k8s_selector *s, FILE *f)
{
	bool first = true;

	for (size_t i = 0; i < s->match_labels.n; i++, first = false)
		fprintf(f, "%s%s=%s", first ? "" : ",", s->match_labels.v[i].key,
			s->match_labels.v[i].value);
	for (size_t i = 0; i < s->n_exprs; i++, first = false) {
		const struct npgw_k8s_expr *e = &s->exprs[i];

		fputs(first ? "" : ",", f);
		if (e->op == NPGW_K8S_OP_EXISTS) {
			fputs(e->key, f);
		} else if (e->op == NPGW_K8S_OP_DOES_NOT_EXIST) {
			fprintf(f, "!%s", e->key);
		} else {
			fprintf(f, "%s %s (", e->key, e->op == NPGW_K8S_OP_IN ? "in" : "notin");
			for (size_t k = 0; k < e->n_values; k++)
				fprintf(f, "%s%s", k ? "," : "", e->values[k]);
			fputc(')', f);
		}
	}
	if (first)
		fputs("(all)", f);
}

static char *peer_text(const struct npgw_k8s_peer *p, const char *pol_ns)
{
	size_t len = 0;
	char *s = NULL, buf[64];
	FILE *f = open_memstream(&s, &len);

	if (f == NULL)
		return NULL;
	if (p->has_ip_block) {
		fprintf(f, "ipBlock %s", npgw_prefix_format(&p->cidr, buf, sizeof(buf)));
		for (size_t i = 0; i < p->n_except; i++)
			fprintf(f, "%s%s", i ? "," : " except ",
				npgw_prefix_format(&p->except[i], buf, sizeof(buf)));
	} else {
		fputs("pods ", f);
		if (p->has_pod_selector)
			selector_text(&p->pod_selector, f);
		else
			fputs("(all)", f);
		if (p->has_ns_selector) {
			fputs(" in namespaces ", f);
			selector_text(&p->ns_selector, f);
		} else {
			fprintf(f, " in namespace %s", pol_ns);
		}
	}
	fclose(f);
	return s;
}

static char *port_text(const struct npgw_k8s_port *p)
{
	char pb[16], *s = NULL;
	const char *proto = npgw_proto_name(p->protocol, pb, sizeof(pb));
	int n;

	if (p->name != NULL)
		n = asprintf(&s, "%s/%s", proto, p->name);
	else if (!p->has_port)
		n = asprintf(&s, "%s (every port)", proto);
	else if (p->end_port > p->port)
		n = asprintf(&s, "%s/%u-%u", proto, p->port, p->end_port);
	else
		n = asprintf(&s, "%s/%u", proto, p->port);
	return n < 0 ? NULL : s;
}

/* Does the peer of a policy in pol_ns select pod q? */
static bool peer_selects(const struct npgw_k8s_cluster *c, const struct npgw_k8s_peer *p,
			 const char *pol_ns, const struct npgw_k8s_pod *q)
{
	struct npgw_k8s_label tmp;
	struct npgw_k8s_labels tmp_set;

	if (p->has_ip_block) {
		for (size_t a = 0; a < q->n_addrs; a++) {
			bool in = npgw_prefix_contains(&p->cidr, &q->addrs[a]);

			for (size_t e = 0; in && e < p->n_except; e++)
				if (npgw_prefix_contains(&p->except[e], &q->addrs[a]))
					in = false;
			if (in)
				return true;
		}
		return false;
	}
	if (p->has_ns_selector) {
		if (!npgw_k8s_selector_matches(
			    &p->ns_selector,
			    npgw_k8s_namespace_labels(c, q->namespace, &tmp, &tmp_set)))
			return false;
	} else if (strcmp(q->namespace, pol_ns) != 0) {
		return false;
	}
	return !p->has_pod_selector || npgw_k8s_selector_matches(&p->pod_selector, &q->labels);
}

/* ---- one pod ---- */

static cJSON *rule_json(const struct npgw_k8s_cluster *c, const struct npgw_k8s_policy *pol,
			const struct npgw_k8s_rule *r, size_t idx, bool ingress)
{
	cJSON *o = cJSON_CreateObject(), *peers, *ports;
	char path[64];

	snprintf(path, sizeof(path), "spec.%s[%zu]", ingress ? "ingress" : "egress", idx);
	cJSON_AddStringToObject(o, "rule", path);
	peers = cJSON_AddArrayToObject(o, ingress ? "from" : "to");
	ports = cJSON_AddArrayToObject(o, "ports");
	if (r->n_peers == 0)
		cJSON_AddItemToArray(peers, cJSON_CreateString("any peer"));
	for (size_t i = 0; i < r->n_peers; i++) {
		cJSON *po = cJSON_CreateObject(), *pods;
		char *t = peer_text(&r->peers[i], pol->namespace);
		size_t n = 0;

		cJSON_AddItemToArray(peers, po);
		cJSON_AddStringToObject(po, "peer", t ? t : "?");
		free(t);
		pods = cJSON_AddArrayToObject(po, "pods");
		for (size_t k = 0; k < c->n_pods; k++) {
			const struct npgw_k8s_pod *q = c->pods[k];
			char name[512];

			if (!npgw_k8s_pod_is_policy_target(q) ||
			    !peer_selects(c, &r->peers[i], pol->namespace, q))
				continue;
			snprintf(name, sizeof(name), "%s/%s", q->namespace, q->name);
			cJSON_AddItemToArray(pods, cJSON_CreateString(name));
			n++;
		}
		(void)n;
	}
	if (r->n_ports == 0)
		cJSON_AddItemToArray(ports, cJSON_CreateString("every port and protocol"));
	for (size_t i = 0; i < r->n_ports; i++) {
		char *t = port_text(&r->ports[i]);

		cJSON_AddItemToArray(ports, cJSON_CreateString(t ? t : "?"));
		free(t);
	}
	return o;
}

/* {"isolated", "policies": [{"policy", "rules": [...]}]} of one direction. */
static cJSON *direction_json(const struct npgw_k8s_cluster *c, const struct npgw_k8s_pod *p,
			     bool ingress)
{
	cJSON *d = cJSON_CreateObject(), *pols = cJSON_CreateArray();
	bool isolated = false;

	for (size_t i = 0; i < c->n_policies; i++) {
		const struct npgw_k8s_policy *pol = c->policies[i];
		const struct npgw_k8s_rule *rules = ingress ? pol->ingress : pol->egress;
		size_t n = ingress ? pol->n_ingress : pol->n_egress;
		char name[512];
		cJSON *po, *rl;

		if (strcmp(pol->namespace, p->namespace) != 0 ||
		    !(ingress ? pol->isolates_ingress : pol->isolates_egress) ||
		    !npgw_k8s_selector_matches(&pol->pod_selector, &p->labels))
			continue;
		isolated = true;
		po = cJSON_CreateObject();
		snprintf(name, sizeof(name), "%s/%s", pol->namespace, pol->name);
		cJSON_AddStringToObject(po, "policy", name);
		rl = cJSON_AddArrayToObject(po, "rules");
		for (size_t r = 0; r < n; r++)
			cJSON_AddItemToArray(rl, rule_json(c, pol, &rules[r], r, ingress));
		cJSON_AddItemToArray(pols, po);
	}
	cJSON_AddBoolToObject(d, "isolated", isolated);
	cJSON_AddItemToObject(d, "policies", pols);
	return d;
}

/* The tier policies whose subject holds p, in the order they are
 * evaluated: tier (Admin, then Baseline), priority, kind and name. */
static cJSON *tiers_json(const struct npgw_k8s_cluster *c, const struct npgw_k8s_pod *p)
{
	struct npgw_k8s_label tmp;
	struct npgw_k8s_labels tmp_set;
	const struct npgw_k8s_labels *nsl =
		npgw_k8s_namespace_labels(c, p->namespace, &tmp, &tmp_set);
	cJSON *a = cJSON_CreateArray();

	for (unsigned int tier = NPGW_K8S_TIER_ADMIN; tier <= NPGW_K8S_TIER_BASELINE; tier++)
		for (int prio = 0; prio <= NPGW_K8S_BANP_PRIORITY; prio++)
			for (size_t i = 0; i < c->n_policies; i++) {
				const struct npgw_k8s_policy *pol = c->policies[i];
				char name[512];
				cJSON *o;

				if (pol->tier != tier || pol->priority != prio ||
				    !npgw_k8s_policy_selects(pol, p, nsl))
					continue;
				o = cJSON_CreateObject();
				snprintf(name, sizeof(name), "%s/%s", pol->namespace, pol->name);
				cJSON_AddStringToObject(o, "policy", name);
				cJSON_AddStringToObject(o, "tier", npgw_k8s_tier_name(tier));
				if (pol->kind != NPGW_K8S_BASELINE_ADMIN_NETWORK_POLICY)
					cJSON_AddNumberToObject(o, "priority", pol->priority);
				cJSON_AddNumberToObject(o, "ingress_rules", (double)pol->n_ingress);
				cJSON_AddNumberToObject(o, "egress_rules", (double)pol->n_egress);
				cJSON_AddItemToArray(a, o);
			}
	return a;
}

static cJSON *endpoint_json(const struct npgw_k8s_cluster *c, const struct npgw_k8s_pod *p)
{
	cJSON *o = cJSON_CreateObject(), *addrs, *labels;
	char buf[64];

	cJSON_AddStringToObject(o, "namespace", p->namespace);
	cJSON_AddStringToObject(o, "name", p->name);
	addrs = cJSON_AddArrayToObject(o, "addresses");
	for (size_t i = 0; i < p->n_addrs; i++)
		cJSON_AddItemToArray(addrs, cJSON_CreateString(
						    npgw_addr_format(&p->addrs[i], buf, sizeof(buf))));
	labels = cJSON_AddObjectToObject(o, "labels");
	for (size_t i = 0; i < p->labels.n; i++)
		cJSON_AddStringToObject(labels, p->labels.v[i].key, p->labels.v[i].value);
	cJSON_AddBoolToObject(o, "policy_target", npgw_k8s_pod_is_policy_target(p));
	cJSON_AddItemToObject(o, "tiers", tiers_json(c, p));
	cJSON_AddItemToObject(o, "ingress", direction_json(c, p, true));
	cJSON_AddItemToObject(o, "egress", direction_json(c, p, false));
	return o;
}

static void print_direction(const char *dir, const cJSON *d, FILE *out)
{
	const cJSON *pols = cJSON_GetObjectItemCaseSensitive(d, "policies"), *po;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "isolated"))) {
		fprintf(out, "%s:%*snot isolated: no policy selects it for %s; everything is "
			     "allowed\n",
			dir, (int)(12 - strlen(dir)), "", strcmp(dir, "Ingress") ? "egress" : "ingress");
		return;
	}
	fprintf(out, "%s:%*sisolated by", dir, (int)(12 - strlen(dir)), "");
	cJSON_ArrayForEach(po, pols)
		fprintf(out, " %s%s", cJSON_GetObjectItemCaseSensitive(po, "policy")->valuestring,
			po->next ? "," : "");
	fputc('\n', out);
	cJSON_ArrayForEach(po, pols) {
		const cJSON *rules = cJSON_GetObjectItemCaseSensitive(po, "rules"), *r;
		const char *pname = cJSON_GetObjectItemCaseSensitive(po, "policy")->valuestring;

		if (cJSON_GetArraySize(rules) == 0)
			fprintf(out, "  %s: no %s rule: denies everything\n", pname,
				strcmp(dir, "Ingress") ? "egress" : "ingress");
		cJSON_ArrayForEach(r, rules) {
			const cJSON *peers = cJSON_GetObjectItemCaseSensitive(
				r, strcmp(dir, "Ingress") ? "to" : "from");
			const cJSON *ports = cJSON_GetObjectItemCaseSensitive(r, "ports"), *x;

			fprintf(out, "  %s %s\n", pname,
				cJSON_GetObjectItemCaseSensitive(r, "rule")->valuestring);
			fprintf(out, "    %s:\n", strcmp(dir, "Ingress") ? "to" : "from");
			cJSON_ArrayForEach(x, peers) {
				const cJSON *pods = cJSON_GetObjectItemCaseSensitive(x, "pods"), *q;
				int n = cJSON_GetArraySize(pods), k = 0;

				if (cJSON_IsString(x)) {
					fprintf(out, "      %s\n", x->valuestring);
					continue;
				}
				fprintf(out, "      %s: %d pod%s",
					cJSON_GetObjectItemCaseSensitive(x, "peer")->valuestring, n,
					n == 1 ? "" : "s");
				cJSON_ArrayForEach(q, pods) {
					if (k == MAX_PEER_PODS) {
						fputs(", ...", out);
						break;
					}
					fprintf(out, "%s%s", k++ ? ", " : " (", q->valuestring);
				}
				fputs(n > 0 ? ")\n" : "\n", out);
			}
			fputs("    ports: ", out);
			cJSON_ArrayForEach(x, ports)
				fprintf(out, "%s%s", x->valuestring, x->next ? ", " : "\n");
		}
	}
}

static void print_endpoint(const cJSON *e, FILE *out)
{
	const cJSON *x;
	bool first = true;

	fprintf(out, "Name:        %s\n",
		cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring);
	fprintf(out, "Namespace:   %s\n",
		cJSON_GetObjectItemCaseSensitive(e, "namespace")->valuestring);
	fputs("Addresses:   ", out);
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "addresses")) {
		fprintf(out, "%s%s", first ? "" : ", ", x->valuestring);
		first = false;
	}
	fputs(first ? "(none: no policy can name it)\n" : "\n", out);
	fputs("Labels:      ", out);
	first = true;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "labels")) {
		fprintf(out, "%s%s=%s", first ? "" : ",", x->string, x->valuestring);
		first = false;
	}
	fputs(first ? "-\n" : "\n", out);
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "policy_target")))
		fputs("Note:        hostNetwork or finished: policies do not apply to it\n", out);
	fputs("Tiers:       ", out);
	first = true;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "tiers")) {
		const cJSON *prio = cJSON_GetObjectItemCaseSensitive(x, "priority");

		fprintf(out, "%s%s %s", first ? "" : ", ",
			cJSON_GetObjectItemCaseSensitive(x, "tier")->valuestring,
			cJSON_GetObjectItemCaseSensitive(x, "policy")->valuestring);
		if (cJSON_IsNumber(prio))
			fprintf(out, " (priority %d)", (int)prio->valuedouble);
		first = false;
	}
	fputs(first ? "- (no Admin or Baseline policy selects it)\n" : "\n", out);
	print_direction("Ingress", cJSON_GetObjectItemCaseSensitive(e, "ingress"), out);
	print_direction("Egress", cJSON_GetObjectItemCaseSensitive(e, "egress"), out);
}

static char *isolation_text(const cJSON *d)
{
	const cJSON *pols = cJSON_GetObjectItemCaseSensitive(d, "policies"), *po;
	size_t len = 0;
	char *s = NULL;
	FILE *f;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "isolated")))
		return strdup("open");
	f = open_memstream(&s, &len);
	if (f == NULL)
		return NULL;
	cJSON_ArrayForEach(po, pols)
		fprintf(f, "%s%s", po == pols->child ? "" : ",",
			cJSON_GetObjectItemCaseSensitive(po, "policy")->valuestring);
	fclose(f);
	return s;
}

/* describe pod NAME... / get endpoints [NAME...]: names[0..n) (NS/NAME, or
 * NAME in ns or in any namespace), all pods when n == 0. */
int npgwctl_endpoints_main(const char *cmd, int n, char **names, int describe, const char *ns,
			   const char *selector, enum npgwctl_format fmt)
{
	const struct npgwctl_kind *pods = npgwctl_find_kind("pods");
	struct npgwctl_selector *sel = NULL;
	struct npgw_k8s_cluster *c = NULL;
	cJSON *list = NULL;
	int rc, missing = 0;

	if (fmt == NPGWCTL_FMT_NAME) {
		fprintf(stderr, "npgwctl %s: -o name does not apply to endpoints\n", cmd);
		return NPGWCTL_EXIT_USAGE;
	}
	if (selector != NULL && (sel = npgwctl_selector_parse(cmd, selector)) == NULL)
		return NPGWCTL_EXIT_USAGE;
	for (int i = 0; i < n; i++) {
		const char *a, *b;
		char *copy = npgwctl_split_name(cmd, pods, names[i], ns, &a, &b);

		if (copy == NULL) {
			npgwctl_selector_free(sel);
			return NPGWCTL_EXIT_USAGE;
		}
		free(copy);
	}
	rc = npgwctl_fetch_cluster(cmd, &c);
	if (rc != NPGWCTL_EXIT_OK) {
		npgwctl_selector_free(sel);
		return rc;
	}
	list = cJSON_CreateArray();
	for (int i = 0; i < n || (n == 0 && i == 0); i++) {
		const char *want_ns = ns, *want = NULL;
		char *copy = NULL;
		bool found = false;

		if (n > 0)
			copy = npgwctl_split_name(cmd, pods, names[i], ns, &want_ns, &want);
		for (size_t k = 0; k < c->n_pods; k++) {
			const struct npgw_k8s_pod *p = c->pods[k];
			cJSON *labels;

			if (npgw_k8s_pod_is_node(p))
				continue; /* a Node, held in the pod list: no endpoint */
			if ((want != NULL && strcmp(p->name, want) != 0) ||
			    (want_ns != NULL && strcmp(p->namespace, want_ns) != 0))
				continue;
			if (sel != NULL) {
				bool ok;

				labels = cJSON_CreateObject();
				for (size_t l = 0; labels != NULL && l < p->labels.n; l++)
					cJSON_AddStringToObject(labels, p->labels.v[l].key,
								p->labels.v[l].value);
				ok = npgwctl_selector_matches(sel, labels);
				cJSON_Delete(labels);
				if (!ok)
					continue;
			}
			found = true;
			cJSON_AddItemToArray(list, endpoint_json(c, p));
		}
		if (n > 0 && !found) {
			missing++;
			fprintf(stderr, "npgwctl %s: pod \"%s\" not found%s%s\n", cmd, names[i],
				want_ns && !strchr(names[i], '/') ? " in " : "",
				want_ns && !strchr(names[i], '/') ? want_ns : "");
		}
		free(copy);
	}
	if (fmt == NPGWCTL_FMT_JSON || fmt == NPGWCTL_FMT_YAML) {
		npgwctl_print_result(describe && n == 1 && cJSON_GetArraySize(list) == 1
					     ? list->child
					     : list,
				     fmt);
	} else if (describe) {
		const cJSON *e;

		cJSON_ArrayForEach(e, list) {
			print_endpoint(e, stdout);
			if (e->next != NULL)
				fputc('\n', stdout);
		}
	} else if (cJSON_GetArraySize(list) == 0) {
		fprintf(stderr, "No endpoints.\n");
	} else {
		cJSON *rows = cJSON_CreateArray();
		const cJSON *e;

		cJSON_ArrayForEach(e, list) {
			cJSON *row = cJSON_CreateObject(), *ips = cJSON_CreateArray();
			char *t;

			cJSON_AddItemToArray(rows, row);
			cJSON_AddStringToObject(row, "namespace",
						cJSON_GetObjectItemCaseSensitive(e, "namespace")->valuestring);
			cJSON_AddStringToObject(row, "name",
						cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring);
			cJSON_AddItemToObject(
				row, "ips",
				cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(e, "addresses"), true));
			cJSON_Delete(ips);
			t = isolation_text(cJSON_GetObjectItemCaseSensitive(e, "ingress"));
			cJSON_AddStringToObject(row, "ingress", t ? t : "?");
			free(t);
			t = isolation_text(cJSON_GetObjectItemCaseSensitive(e, "egress"));
			cJSON_AddStringToObject(row, "egress", t ? t : "?");
			free(t);
		}
		npgwctl_print_table(rows, 0, stdout);
		cJSON_Delete(rows);
	}
	cJSON_Delete(list);
	npgw_k8s_cluster_free(c);
	npgwctl_selector_free(sel);
	if (fflush(stdout) != 0)
		return NPGWCTL_EXIT_USAGE;
	return missing ? NPGWCTL_EXIT_FAIL : NPGWCTL_EXIT_OK;
}

static const char describe_help[] =
	"usage: npgwctl describe pod|endpoint NAME|NAMESPACE/NAME ... [-n NS]\n"
	"                        [-l SELECTOR] [-o text|json|yaml]\n\n"
	"The endpoint view of a pod: its addresses and labels, the Admin and\n"
	"Baseline tier policies whose subject holds it (in evaluation order), the\n"
	"policies that select it for ingress and for egress, whether it is isolated in each\n"
	"direction, and for each rule of those policies the peers it admits (with\n"
	"the pods each peer selects now) and the ports. Computed here from the\n"
	"gateway's objects (npgwctl get), with the gateway's own loader and\n"
	"selector code. `npgwctl get endpoints` lists every pod with its isolation.\n\n"
	"  -n, --namespace NS  the namespace of NAMEs given without one\n"
	"  -l, --selector SEL  only pods whose labels match (as for get)\n"
	"  -o, --output FMT  text (default), json or yaml\n"
	"  -h, --help        this help\n"
	"\nExit status: 0 success, 1 a pod was not found or the gateway refused,\n"
	"2 usage error or no connection to the gateway.\n";

static int describe_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"namespace", required_argument, NULL, 'n'},
		{"selector", required_argument, NULL, 'l'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	const char *ns = NULL, *selector = NULL;
	char *kind, *slash, *one[1], **names;
	int opt, n;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:l:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(describe_help, stdout);
			return NPGWCTL_EXIT_OK;
		case 'n':
			ns = optarg;
			break;
		case 'l':
			selector = optarg;
			break;
		case 'o':
			if (npgwctl_parse_format("describe", optarg, &fmt) < 0)
				return NPGWCTL_EXIT_USAGE;
			break;
		default:
			return npgwctl_bad_option("describe", opt, argv);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "npgwctl describe: give pod NAMESPACE/NAME (npgwctl describe "
				"--help)\n");
		return NPGWCTL_EXIT_USAGE;
	}
	kind = argv[optind];
	names = argv + optind + 1;
	n = argc - optind - 1;
	if ((slash = strchr(kind, '/')) != NULL) {
		*slash = '\0';
		one[0] = slash + 1;
		names = one;
		n = 1;
	}
	if (npgwctl_find_kind(kind) != npgwctl_find_kind("pods") && strcasecmp(kind, "endpoint") &&
	    strcasecmp(kind, "endpoints") && strcasecmp(kind, "ep")) {
		fprintf(stderr, "npgwctl describe: '%s': describe knows pods (pod, po) and "
				"endpoints (endpoint, ep)\n",
			kind);
		return NPGWCTL_EXIT_USAGE;
	}
	if (n == 0 && selector == NULL) {
		fprintf(stderr, "npgwctl describe: give NAMESPACE/NAME (or -l SELECTOR)\n");
		return NPGWCTL_EXIT_USAGE;
	}
	return npgwctl_endpoints_main("describe", n, names, 1, ns, selector, fmt);
}

const struct npgwctl_command npgwctl_cmd_describe = {
	.name = "describe",
	.usage = "describe pod NS/NAME ... [-n NS] [-l SEL] [-o FMT]",
	.summary = "a pod's endpoint view: policies selecting it, isolation, what may reach it",
	.handler = describe_main,
	.options = "-n --namespace -l --selector -o --output -h --help",
};
