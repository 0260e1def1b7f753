/*
 * diff.c: dry runs. `npgwctl diff -f PATH` and `npgwctl apply --dry-run
 * -f PATH` read the files with the gateway's loader, apply them to the
 * gateway's live objects here (an upsert, as apply does), validate the
 * result as the gateway would, and report what would change: objects
 * added and changed (field by field), and the compiled rules and address
 * classes before and after (lib/compile, the gateway's compiler). Nothing
 * is sent but the get requests that read the live state.
 *
 * Exit status (kubectl diff's): 0 nothing would change, 1 something would
 * change (diff) or the apply would be refused (apply --dry-run: 0 when it
 * would be accepted), 2 usage error, unreadable input or no connection.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "npgw_compile.h"
#include "npgw_k8s.h"
#include "npgwctl.h"

/* Print the differences of two JSON values under path as
 * "  path: old -> new", "  + path: new", "  - path: old"; add them to
 * changes (an array of {"path", "old"?, "new"?}). */
static void json_diff(const cJSON *a, const cJSON *b, const char *path, cJSON *changes)
{
	char p[512];

	if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
		const cJSON *x;

		cJSON_ArrayForEach(x, a) {
			snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", x->string);
			json_diff(x, cJSON_GetObjectItemCaseSensitive(b, x->string), p, changes);
		}
		cJSON_ArrayForEach(x, b) {
			if (cJSON_GetObjectItemCaseSensitive(a, x->string) != NULL)
				continue;
			snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", x->string);
			json_diff(NULL, x, p, changes);
		}
		return;
	}
	if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
		int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);

		for (int i = 0; i < na || i < nb; i++) {
			snprintf(p, sizeof(p), "%s[%d]", path, i);
			json_diff(i < na ? cJSON_GetArrayItem(a, i) : NULL,
				  i < nb ? cJSON_GetArrayItem(b, i) : NULL, p, changes);
		}
		return;
	}
	if (a != NULL && b != NULL && cJSON_Compare(a, b, true))
		return;
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "path", path);
	if (a != NULL)
		cJSON_AddItemToObject(c, "old", cJSON_Duplicate(a, true));
	if (b != NULL)
		cJSON_AddItemToObject(c, "new", cJSON_Duplicate(b, true));
	cJSON_AddItemToArray(changes, c);
}

struct obj_ref {
	const char *kind; /* singular, for messages */
	const char *ns; /* NULL for a namespace */
	const char *name;
	cJSON *json;
};

/* Every object of c as JSON, in c's sorted order. n objects in *out. */
static struct obj_ref *objects(const struct npgw_k8s_cluster *c, size_t *n)
{
	struct obj_ref *v = calloc(npgw_k8s_object_count(c) + 1, sizeof(*v));
	size_t k = 0;

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_namespaces; i++)
		v[k++] = (struct obj_ref){"namespace", NULL, c->namespaces[i]->name,
					  npgw_k8s_namespace_to_json(c->namespaces[i])};
	/* Nodes and the tier policies are cluster-scoped, held in the pod and
	 * policy lists under their kind as a pseudo-namespace */
	for (size_t i = 0; i < c->n_pods; i++) {
		bool node = npgw_k8s_pod_is_node(c->pods[i]);

		v[k++] = (struct obj_ref){node ? "node" : "pod",
					  node ? NULL : c->pods[i]->namespace, c->pods[i]->name,
					  npgw_k8s_pod_to_json(c->pods[i])};
	}
	for (size_t i = 0; i < c->n_policies; i++) {
		static const char *const kinds[] = {"networkpolicy", "adminnetworkpolicy",
						    "baselineadminnetworkpolicy",
						    "clusternetworkpolicy"};
		const struct npgw_k8s_policy *p = c->policies[i];

		v[k++] = (struct obj_ref){kinds[p->kind & 3],
					  p->tier == NPGW_K8S_TIER_NETPOL ? p->namespace : NULL,
					  p->name, npgw_k8s_policy_to_json(p)};
	}
	*n = k;
	return v;
}

static void objects_free(struct obj_ref *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		cJSON_Delete(v[i].json);
	free(v);
}

static const struct obj_ref *find(const struct obj_ref *v, size_t n, const struct obj_ref *o)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].kind, o->kind) == 0 && strcmp(v[i].name, o->name) == 0 &&
		    (o->ns == NULL || strcmp(v[i].ns, o->ns) == 0))
			return &v[i];
	return NULL;
}

/* {"rules", "classes"} of a compile of c; NULL members when it fails. */
static cJSON *tables_json(const struct npgw_k8s_cluster *c)
{
	int err = 0;
	struct npgw_compile_result *r = npgw_compile(c, &err);
	cJSON *o = cJSON_CreateObject();

	if (r == NULL) {
		cJSON_AddStringToObject(o, "error", strerror(-err));
		return o;
	}
	cJSON_AddNumberToObject(o, "rules", (double)r->n_rules);
	cJSON_AddNumberToObject(o, "classes", r->n_classes);
	npgw_compile_free(r);
	return o;
}

static void print_value(const cJSON *v, FILE *out)
{
	char *s = cJSON_PrintUnformatted(v);

	fputs(s ? s : "?", out);
	free(s);
}

static void print_report(const cJSON *rep, FILE *out)
{
	const cJSON *objs = cJSON_GetObjectItemCaseSensitive(rep, "objects"), *o;
	const cJSON *before = cJSON_GetObjectItemCaseSensitive(rep, "before");
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(rep, "after");
	int n = 0;

	cJSON_ArrayForEach(o, objs) {
		const char *what = cJSON_GetObjectItemCaseSensitive(o, "change")->valuestring;
		const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "fields"), *c;

		if (strcmp(what, "unchanged") == 0)
			continue;
		n++;
		fprintf(out, "%s %s %s\n", cJSON_GetObjectItemCaseSensitive(o, "object")->valuestring,
			what, strcmp(what, "added") == 0 ? "(new)" : "");
		cJSON_ArrayForEach(c, ch) {
			const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "old");
			const cJSON *b = cJSON_GetObjectItemCaseSensitive(c, "new");

			fprintf(out, "  %s %s", a && b ? "~" : b ? "+" : "-",
				cJSON_GetObjectItemCaseSensitive(c, "path")->valuestring);
			if (a != NULL) {
				fputs(": ", out);
				print_value(a, out);
			}
			if (b != NULL) {
				fputs(a ? " -> " : ": ", out);
				print_value(b, out);
			}
			fputc('\n', out);
		}
	}
	if (n == 0)
		fputs("no object would change\n", out);
	fprintf(out, "rules: %g -> %g, address classes: %g -> %g\n",
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(before, "rules")),
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(after, "rules")),
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(before, "classes")),
		cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(after, "classes")));
}

int npgwctl_diff_run(const char *cmd, char **paths, size_t n, enum npgwctl_format fmt,
		     bool dry_run)
{
	struct npgw_k8s_cluster *live = NULL, *next = NULL, *in = NULL;
	struct obj_ref *lv = NULL, *nv = NULL, *iv = NULL;
	size_t n_lv = 0, n_nv = 0, n_iv = 0;
	struct npgw_diags d = {0};
	int rc = NPGWCTL_EXIT_USAGE, err = 0, changed = 0;
	cJSON *rep = NULL, *objs;

	/* the files, with the gateway's loader and its messages */
	in = npgw_k8s_cluster_new();
	if (in == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		int r = npgw_k8s_load_path(in, paths[i], &d);

		if (r == -ENOMEM)
			goto nomem;
		if (r < 0 && r != -EINVAL) {
			fprintf(stderr, "npgwctl %s: cannot read %s: %s\n", cmd, paths[i],
				strerror(-r));
			goto out;
		}
	}
	rc = npgwctl_fetch_cluster(cmd, &live);
	if (rc != NPGWCTL_EXIT_OK)
		goto out;
	rc = NPGWCTL_EXIT_USAGE;
	next = npgw_k8s_cluster_clone(live, &err);
	iv = objects(in, &n_iv);
	if (next == NULL || iv == NULL)
		goto nomem;
	if (npgw_k8s_cluster_merge(next, in) < 0)
		goto nomem;
	if (d.n_errors == 0 && npgw_k8s_cluster_validate(next, &d) == -ENOMEM)
		goto nomem;
	if (d.n_errors > 0) {
		npgw_diags_print(&d, stderr);
		fprintf(stderr, "npgwctl %s: %zu error%s: the gateway would refuse this; nothing "
				"changed\n",
			cmd, d.n_errors, d.n_errors == 1 ? "" : "s");
		rc = NPGWCTL_EXIT_FAIL;
		goto out;
	}
	npgw_diags_print(&d, stderr); /* warnings */
	lv = objects(live, &n_lv);
	nv = objects(next, &n_nv);
	rep = cJSON_CreateObject();
	objs = cJSON_AddArrayToObject(rep, "objects");
	if (lv == NULL || nv == NULL || objs == NULL)
		goto nomem;
	/* the objects the files hold, in the order of next */
	for (size_t i = 0; i < n_nv; i++) {
		const struct obj_ref *was = find(lv, n_lv, &nv[i]);
		cJSON *o, *fields;
		char name[600];

		if (find(iv, n_iv, &nv[i]) == NULL)
			continue; /* not in the files: kept as it is */
		o = cJSON_CreateObject();
		cJSON_AddItemToArray(objs, o);
		if (nv[i].ns != NULL)
			snprintf(name, sizeof(name), "%s/%s/%s", nv[i].kind, nv[i].ns, nv[i].name);
		else
			snprintf(name, sizeof(name), "%s/%s", nv[i].kind, nv[i].name);
		cJSON_AddStringToObject(o, "object", name);
		fields = cJSON_CreateArray();
		json_diff(was ? was->json : NULL, nv[i].json, "", fields);
		if (was == NULL) {
			cJSON_AddStringToObject(o, "change", "added");
			cJSON_Delete(fields);
			changed++;
		} else if (cJSON_GetArraySize(fields) > 0) {
			cJSON_AddStringToObject(o, "change", "changed");
			cJSON_AddItemToObject(o, "fields", fields);
			changed++;
		} else {
			cJSON_AddStringToObject(o, "change", "unchanged");
			cJSON_Delete(fields);
		}
	}
	cJSON_AddItemToObject(rep, "before", tables_json(live));
	cJSON_AddItemToObject(rep, "after", tables_json(next));
	cJSON_AddBoolToObject(rep, "dry_run", true);
	if (fmt == NPGWCTL_FMT_JSON || fmt == NPGWCTL_FMT_YAML)
		npgwctl_print_result(rep, fmt);
	else
		print_report(rep, stdout);
	if (fflush(stdout) != 0)
		goto out;
	rc = dry_run ? NPGWCTL_EXIT_OK : changed ? NPGWCTL_EXIT_FAIL : NPGWCTL_EXIT_OK;
	goto out;
nomem:
	fprintf(stderr, "npgwctl %s: out of memory\n", cmd);
	rc = NPGWCTL_EXIT_USAGE;
out:
	cJSON_Delete(rep);
	objects_free(lv, n_lv);
	objects_free(nv, n_nv);
	objects_free(iv, n_iv);
	npgw_diags_free(&d);
	npgw_k8s_cluster_free(in);
	npgw_k8s_cluster_free(live);
	npgw_k8s_cluster_free(next);
	return rc;
}

static const char diff_help[] =
	"usage: npgwctl diff -f PATH [-f PATH ...] [-o text|json|yaml]\n\n"
	"What `npgwctl apply -f PATH` would change in the running gateway, without\n"
	"changing it: the files are read with the gateway's loader, applied to its\n"
	"live objects here and validated as the gateway would; then the objects\n"
	"added and changed (field by field, as KIND/NAMESPACE/NAME) and the compiled\n"
	"rules and address classes before and after.\n\n"
	"  -f, --filename PATH  a file, a directory or - for stdin; repeatable\n"
	"  -o, --output FMT  text (default), json or yaml\n"
	"  -h, --help        this help\n"
	"\nExit status (as kubectl diff): 0 nothing would change, 1 something would\n"
	"change or the apply would be refused (the validator's messages on stderr),\n"
	"2 usage error, unreadable input or no connection to the gateway.\n";

static int diff_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"filename", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	int opt, rc = NPGWCTL_EXIT_USAGE;
	size_t n = 0;

	if (paths == NULL)
		return NPGWCTL_EXIT_USAGE;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(diff_help, stdout);
			rc = NPGWCTL_EXIT_OK;
			goto out;
		case 'f':
			paths[n++] = optarg;
			break;
		case 'o':
			if (npgwctl_parse_format("diff", optarg, &fmt) < 0)
				goto out;
			break;
		default:
			rc = npgwctl_bad_option("diff", opt, argv);
			goto out;
		}
	}
	if (n == 0 || optind < argc) {
		fprintf(stderr, "npgwctl diff: give the objects with -f PATH, and nothing else\n");
		goto out;
	}
	rc = npgwctl_diff_run("diff", paths, n, fmt, false);
out:
	free(paths);
	return rc;
}

const struct npgwctl_command npgwctl_cmd_diff = {
	.name = "diff",
	.usage = "diff -f PATH [-f PATH ...] [-o FMT]",
	.summary = "what an apply would change (objects, rules, classes), changing nothing",
	.handler = diff_main,
	.options = "-f --filename -o --output -h --help",
};
