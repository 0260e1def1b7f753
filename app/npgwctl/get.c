/*
 * get.c: npgwctl get, in kubectl's grammar:
 *   get KIND [NAME ...] [-n NS | -A] [-l SELECTOR] [-o text|wide|json|yaml|name] [-w]
 * KIND singular, plural or short (networkpolicy, networkpolicies, netpol;
 * pod, pods, po; namespace, namespaces, ns; endpoints), also as KIND/NAME
 * or KIND/NS/NAME. The gateway answers a kind and namespace (command get);
 * names and label selectors are applied here, on what it sent.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "npgwctl.h"

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* key=value,... of an object of strings ("-" when empty). */
static char *labels_text(const cJSON *labels)
{
	size_t len = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &len);
	const cJSON *l;
	bool first = true;

	if (f == NULL)
		return NULL;
	cJSON_ArrayForEach(l, labels) {
		fprintf(f, "%s%s=%s", first ? "" : ",", l->string,
			cJSON_IsString(l) ? l->valuestring : "?");
		first = false;
	}
	if (first)
		fputs("-", f);
	fclose(f);
	return s;
}

/* A selector the way kubectl describe shows one: "app=db,tier in (a,b)". */
static char *selector_text(const cJSON *sel)
{
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(sel, "matchLabels");
	const cJSON *me = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
	size_t len = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &len);
	const cJSON *x;
	bool first = true;

	if (f == NULL)
		return NULL;
	cJSON_ArrayForEach(x, ml) {
		fprintf(f, "%s%s=%s", first ? "" : ",", x->string,
			cJSON_IsString(x) ? x->valuestring : "?");
		first = false;
	}
	cJSON_ArrayForEach(x, me) {
		const char *key = str_at(x, "key", NULL), *op = str_at(x, "operator", NULL);
		const cJSON *vals = cJSON_GetObjectItemCaseSensitive(x, "values"), *v;

		fprintf(f, "%s", first ? "" : ",");
		first = false;
		if (op && strcmp(op, "Exists") == 0) {
			fprintf(f, "%s", key ? key : "?");
		} else if (op && strcmp(op, "DoesNotExist") == 0) {
			fprintf(f, "!%s", key ? key : "?");
		} else {
			bool vf = true;

			fprintf(f, "%s %s (", key ? key : "?",
				op && strcmp(op, "NotIn") == 0 ? "notin" : "in");
			cJSON_ArrayForEach(v, vals) {
				fprintf(f, "%s%s", vf ? "" : ",",
					cJSON_IsString(v) ? v->valuestring : "?");
				vf = false;
			}
			fputc(')', f);
		}
	}
	if (first)
		fputs("(all)", f);
	fclose(f);
	return s;
}

static void add_str(cJSON *row, const char *key, const char *v)
{
	cJSON_AddStringToObject(row, key, v ? v : "-");
}

static void add_owned(cJSON *row, const char *key, char *v)
{
	add_str(row, key, v);
	free(v);
}

/* "name:80/TCP,443/TCP" of a pod's container ports ("-" when none). */
static char *ports_text(const cJSON *pod)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(spec, "containers"), *c, *p;
	size_t len = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &len);
	bool first = true;

	if (f == NULL)
		return NULL;
	cJSON_ArrayForEach(c, cs) {
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(c, "ports")) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "containerPort");
			const char *name = str_at(p, "name", NULL), *proto = str_at(p, "protocol", NULL);

			fprintf(f, "%s%s%s%d/%s", first ? "" : ",", name ? name : "", name ? ":" : "",
				cJSON_IsNumber(n) ? (int)n->valuedouble : 0, proto ? proto : "TCP");
			first = false;
		}
	}
	if (first)
		fputs("-", f);
	fclose(f);
	return s;
}

static int count(const cJSON *o, const char *a, const char *b)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(o, a), b));
}

/* The rows people look at: a row per object; wide adds columns. */
static cJSON *table_rows(const struct npgwctl_kind *k, const cJSON *items, bool wide)
{
	cJSON *rows = cJSON_CreateArray();
	const cJSON *o;

	cJSON_ArrayForEach(o, items) {
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
		cJSON *row = cJSON_CreateObject();

		if (row == NULL)
			break;
		cJSON_AddItemToArray(rows, row);
		if (k->namespaced)
			add_str(row, "namespace", str_at(meta, "namespace", NULL));
		add_str(row, "name", str_at(meta, "name", NULL));
		if (k->scope != NULL && strcmp(k->get, "pods") == 0) { /* Node */
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status"), *a;
			cJSON *list = cJSON_CreateArray();

			cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(st, "addresses"))
				if (str_at(a, "address", NULL) != NULL)
					cJSON_AddItemToArray(
						list, cJSON_CreateString(str_at(a, "address", NULL)));
			cJSON_AddItemToObject(row, "ips", list);
			add_owned(row, "labels",
				  labels_text(cJSON_GetObjectItemCaseSensitive(meta, "labels")));
		} else if (k->scope != NULL) { /* a tier policy */
			const cJSON *subj = cJSON_GetObjectItemCaseSensitive(spec, "subject");
			const cJSON *pods = cJSON_GetObjectItemCaseSensitive(subj, "pods");
			const cJSON *prio = cJSON_GetObjectItemCaseSensitive(spec, "priority");
			char buf[32];

			add_str(row, "tier", str_at(spec, "tier", NULL) ? str_at(spec, "tier", NULL)
					      : strcmp(k->k8s, "AdminNetworkPolicy") == 0 ? "Admin"
											 : "Baseline");
			snprintf(buf, sizeof(buf), "%d", cJSON_IsNumber(prio) ? (int)prio->valuedouble : 0);
			add_str(row, "priority", cJSON_IsNumber(prio) ? buf : "-");
			if (cJSON_IsObject(pods)) {
				char *a = selector_text(
					cJSON_GetObjectItemCaseSensitive(pods, "namespaceSelector"));
				char *b = selector_text(
					cJSON_GetObjectItemCaseSensitive(pods, "podSelector"));
				char *t = NULL;

				if (asprintf(&t, "namespaces %s, pods %s", a ? a : "?", b ? b : "?") < 0)
					t = NULL;
				free(a);
				free(b);
				add_owned(row, "subject", t);
			} else {
				char *a = selector_text(
					cJSON_GetObjectItemCaseSensitive(subj, "namespaces"));
				char *t = NULL;

				if (asprintf(&t, "namespaces %s", a ? a : "?") < 0)
					t = NULL;
				free(a);
				add_owned(row, "subject", t);
			}
			cJSON_AddNumberToObject(row, "ingress_rules", count(o, "spec", "ingress"));
			cJSON_AddNumberToObject(row, "egress_rules", count(o, "spec", "egress"));
		} else if (strcmp(k->get, "pods") == 0) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
			const cJSON *ips = cJSON_GetObjectItemCaseSensitive(st, "podIPs"), *ip;
			cJSON *list = cJSON_CreateArray();

			cJSON_ArrayForEach(ip, ips) {
				const char *a = str_at(ip, "ip", NULL);

				if (a != NULL)
					cJSON_AddItemToArray(list, cJSON_CreateString(a));
			}
			if (cJSON_GetArraySize(list) == 0 && str_at(st, "podIP", NULL) != NULL)
				cJSON_AddItemToArray(list,
						     cJSON_CreateString(str_at(st, "podIP", NULL)));
			cJSON_AddItemToObject(row, "ips", list);
			add_owned(row, "labels",
				  labels_text(cJSON_GetObjectItemCaseSensitive(meta, "labels")));
			if (wide) {
				add_owned(row, "ports", ports_text(o));
				add_str(row, "phase", str_at(st, "phase", NULL));
			}
		} else if (strcmp(k->get, "policies") == 0) {
			const cJSON *types = cJSON_GetObjectItemCaseSensitive(spec, "policyTypes");

			add_owned(row, "pod_selector",
				  selector_text(cJSON_GetObjectItemCaseSensitive(spec, "podSelector")));
			if (cJSON_IsArray(types))
				cJSON_AddItemToObject(row, "policy_types",
						      cJSON_Duplicate(types, true));
			else
				add_str(row, "policy_types", NULL);
			if (wide) {
				cJSON_AddNumberToObject(row, "ingress_rules",
							count(o, "spec", "ingress"));
				cJSON_AddNumberToObject(row, "egress_rules",
							count(o, "spec", "egress"));
			}
		} else {
			add_owned(row, "labels",
				  labels_text(cJSON_GetObjectItemCaseSensitive(meta, "labels")));
		}
	}
	return rows;
}

/* Print the kept items in fmt. */
static void print_items(const struct npgwctl_kind *k, cJSON *list, bool single,
			enum npgwctl_format fmt, FILE *out)
{
	cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
	const cJSON *o;

	switch (fmt) {
	case NPGWCTL_FMT_NAME:
		cJSON_ArrayForEach(o, items) {
			const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
			const char *ns = str_at(meta, "namespace", NULL);

			if (k->namespaced)
				fprintf(out, "%s/%s/%s\n", k->singular, ns ? ns : "-",
					str_at(meta, "name", NULL));
			else
				fprintf(out, "%s/%s\n", k->singular, str_at(meta, "name", NULL));
		}
		break;
	case NPGWCTL_FMT_JSON:
	case NPGWCTL_FMT_YAML:
		/* one object by name: the object itself, as kubectl prints it */
		npgwctl_print_result(single && cJSON_GetArraySize(items) == 1 ? items->child : list,
				     fmt);
		break;
	default: {
		cJSON *rows;

		if (cJSON_GetArraySize(items) == 0) {
			fprintf(stderr, "No %s.\n", k->get);
			break;
		}
		rows = table_rows(k, items, fmt == NPGWCTL_FMT_WIDE);
		npgwctl_print_table(rows, 0, out);
		cJSON_Delete(rows);
	}
	}
}

/* Keep the items named in names (NULL: all) and matching sel. Returns the
 * number of names not found (each printed). */
static int filter(const struct npgwctl_kind *k, cJSON *list, char **names, int n_names,
		  const char *ns, const struct npgwctl_selector *sel, bool report)
{
	cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
	cJSON *kept = cJSON_CreateArray();
	int missing = 0;

	if (items == NULL || kept == NULL) {
		cJSON_Delete(kept);
		return 0;
	}
	for (int i = 0; i < n_names || (n_names == 0 && i == 0); i++) {
		const char *want_ns = NULL, *want = NULL;
		char *copy = NULL;
		bool found = false;

		if (n_names > 0) {
			copy = npgwctl_split_name("get", k, names[i], ns, &want_ns, &want);
			if (copy == NULL) {
				missing++;
				continue;
			}
		}
		for (cJSON *o = items->child, *next; o != NULL; o = next) {
			const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
			const char *ons = str_at(meta, "namespace", NULL);
			const char *oname = str_at(meta, "name", NULL);

			next = o->next;
			/* the gateway's policy and pod lists also hold the tiers
			 * and the Nodes: keep the kind asked for */
			if (str_at(o, "kind", NULL) != NULL && strcmp(str_at(o, "kind", NULL), k->k8s) != 0)
				continue;
			if (want != NULL && (oname == NULL || strcmp(oname, want) != 0))
				continue;
			if (want_ns != NULL && (ons == NULL || strcmp(ons, want_ns) != 0))
				continue;
			if (!npgwctl_selector_matches(
				    sel, cJSON_GetObjectItemCaseSensitive(meta, "labels")))
				continue;
			found = true;
			cJSON_AddItemToArray(kept, cJSON_DetachItemViaPointer(items, o));
		}
		if (n_names > 0 && !found) {
			missing++;
			if (report)
				fprintf(stderr, "npgwctl get: %s \"%s\" not found%s%s\n", k->singular,
					names[i], want_ns && !strchr(names[i], '/') ? " in " : "",
					want_ns && !strchr(names[i], '/') ? want_ns : "");
		}
		free(copy);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(list, "items", kept);
	return missing;
}

static const char get_help[] =
	"usage: npgwctl get KIND [NAME ...] [-n NAMESPACE | -A] [-l SELECTOR]\n"
	"                   [-o text|wide|json|yaml|name] [-w [--interval S]]\n\n"
	"The objects the gateway holds, as applied. The text table shows names, pod\n"
	"addresses and labels, policy selectors and types, a tier policy's tier,\n"
	"priority, subject and rule counts; -o wide adds pod ports and phase and\n"
	"policy rule counts; -o yaml and -o json give the objects whole (a\n"
	"List that npgwctl apply reads back; one object when one NAME is given);\n"
	"-o name prints KIND/NAMESPACE/NAME lines that delete and describe take.\n\n"
	"  KIND              networkpolicies (networkpolicy, netpol), pods (pod, po),\n"
	"                    namespaces (namespace, ns), adminnetworkpolicies (anp),\n"
	"                    baselineadminnetworkpolicies (banp), clusternetworkpolicies\n"
	"                    (cnp), nodes (node, no) or endpoints (endpoint, ep:\n"
	"                    see npgwctl describe); KIND/NAME and KIND/NS/NAME too\n"
	"  NAME              NAME or NAMESPACE/NAME; without a namespace, NAME is\n"
	"                    looked for in every namespace (or in -n's)\n"
	"  -n, --namespace NS  only this namespace (not for namespaces)\n"
	"  -A, --all-namespaces  every namespace (the default)\n"
	"  -l, --selector SEL  only objects whose labels match: key=value, key!=value,\n"
	"                    key, !key, key in (a,b), key notin (a,b), comma-separated\n"
	"  -o, --output FMT  text (default), wide, json, yaml or name\n" NPGWCTL_WATCH_HELP
	"  -h, --help        this help\n"
	"\nExit status: 0 success, 1 a NAME was not found or the gateway refused,\n"
	"2 usage error or no connection to the gateway.\n";

static int get_main(int argc, char **argv)
{
	enum { OPT_INTERVAL = 256 };
	static const struct option opts[] = {
		{"namespace", required_argument, NULL, 'n'},
		{"all-namespaces", no_argument, NULL, 'A'},
		{"selector", required_argument, NULL, 'l'},
		{"output", required_argument, NULL, 'o'},
		{"watch", no_argument, NULL, 'w'},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	struct npgwctl_watch w = {false, 2.0};
	const char *ns = NULL, *selector = NULL;
	struct npgwctl_selector *sel = NULL;
	const struct npgwctl_kind *k;
	char *kind_arg, *slash, *last = NULL, **names;
	int opt, n_names, rc = NPGWCTL_EXIT_USAGE;
	char *one[1];

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:Al:o:wh", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(get_help, stdout);
			return NPGWCTL_EXIT_OK;
		case 'n':
			ns = optarg;
			break;
		case 'A':
			ns = NULL;
			break;
		case 'l':
			selector = optarg;
			break;
		case 'o':
			if (npgwctl_parse_format_in("get", optarg, NPGWCTL_FMTS_ALL, &fmt) < 0)
				return NPGWCTL_EXIT_USAGE;
			break;
		case 'w':
			w.on = true;
			break;
		case OPT_INTERVAL:
			if (npgwctl_parse_interval("get", optarg, &w) < 0)
				return NPGWCTL_EXIT_USAGE;
			break;
		default:
			return npgwctl_bad_option("get", opt, argv);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "npgwctl get: give a kind: networkpolicies, pods, namespaces or "
				"endpoints (npgwctl get --help)\n");
		return NPGWCTL_EXIT_USAGE;
	}
	kind_arg = argv[optind];
	names = argv + optind + 1;
	n_names = argc - optind - 1;
	/* KIND/NAME, KIND/NS/NAME */
	slash = strchr(kind_arg, '/');
	if (slash != NULL) {
		if (n_names > 0) {
			fprintf(stderr, "npgwctl get: KIND/NAME and further names do not mix\n");
			return NPGWCTL_EXIT_USAGE;
		}
		*slash = '\0';
		one[0] = slash + 1;
		names = one;
		n_names = 1;
	}
	if (strcasecmp(kind_arg, "endpoints") == 0 || strcasecmp(kind_arg, "endpoint") == 0 ||
	    strcasecmp(kind_arg, "ep") == 0) {
		if (w.on) {
			fprintf(stderr, "npgwctl get endpoints: --watch does not apply\n");
			return NPGWCTL_EXIT_USAGE;
		}
		return npgwctl_endpoints_main("get", n_names, names, 0, ns, selector, fmt);
	}
	k = npgwctl_find_kind(kind_arg);
	if (k == NULL) {
		fprintf(stderr, "npgwctl get: unknown kind '%s' (networkpolicies, pods, namespaces "
				"or endpoints)\n",
			kind_arg);
		return NPGWCTL_EXIT_USAGE;
	}
	if (ns != NULL && !k->namespaced) {
		fprintf(stderr, "npgwctl get: namespaces are not in a namespace: -n does not "
				"apply\n");
		return NPGWCTL_EXIT_USAGE;
	}
	if (selector != NULL && (sel = npgwctl_selector_parse("get", selector)) == NULL)
		return NPGWCTL_EXIT_USAGE;
	/* check the names before asking */
	for (int i = 0; i < n_names; i++) {
		const char *a, *b;
		char *c = npgwctl_split_name("get", k, names[i], ns, &a, &b);

		if (c == NULL)
			goto out;
		free(c);
	}
	if (w.on)
		npgwctl_watch_signals();
	do {
		cJSON *args = cJSON_CreateObject(), *list = NULL;
		char *text = NULL;
		size_t len = 0;
		FILE *f;
		int missing;

		/* the namespace of NS/NAME narrows the question too */
		if (args == NULL || !cJSON_AddStringToObject(args, "kind", k->get) ||
		    (ns != NULL && !cJSON_AddStringToObject(args, "namespace", ns)) ||
		    (k->scope != NULL && !cJSON_AddStringToObject(args, "namespace", k->scope))) {
			cJSON_Delete(args);
			rc = NPGWCTL_EXIT_USAGE;
			break;
		}
		rc = npgwctl_remote_call("get", "get", args, NPGWCTL_CALL_TIMEOUT_MS, &list);
		cJSON_Delete(args);
		if (rc != NPGWCTL_EXIT_OK)
			break;
		missing = filter(k, list, names, n_names, ns, sel, !w.on || last == NULL);
		f = open_memstream(&text, &len);
		if (f == NULL) {
			cJSON_Delete(list);
			rc = NPGWCTL_EXIT_USAGE;
			break;
		}
		print_items(k, list, n_names == 1, fmt, f);
		fclose(f);
		cJSON_Delete(list);
		/* watching: print again only what changed */
		if (last == NULL || strcmp(last, text) != 0)
			fputs(text, stdout);
		free(last);
		last = text;
		if (fflush(stdout) != 0) {
			rc = NPGWCTL_EXIT_USAGE;
			break;
		}
		rc = missing > 0 ? NPGWCTL_EXIT_FAIL : NPGWCTL_EXIT_OK;
	} while (w.on && npgwctl_watch_sleep(&w));
	if (w.on && rc == NPGWCTL_EXIT_FAIL)
		rc = NPGWCTL_EXIT_OK; /* a name that came and went while watching */
out:
	free(last);
	npgwctl_selector_free(sel);
	return rc;
}

const struct npgwctl_command npgwctl_cmd_get = {
	.name = "get",
	.usage = "get KIND [NAME ...] [-n NS | -A] [-l SEL] [-o FMT] [-w]",
	.summary = "the objects the gateway holds, as applied",
	.handler = get_main,
	.options = "-n --namespace -A --all-namespaces -l --selector -o --output -w --watch "
		   "--interval -h --help",
};
