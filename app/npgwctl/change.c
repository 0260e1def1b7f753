/*
 * change.c: the commands that change the gateway's desired state: apply,
 * replace and delete. Each is atomic in the gateway (validated, compiled,
 * built and swapped in, or refused with nothing changed). apply --dry-run
 * changes nothing: it is npgwctl diff with the validator's verdict.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "npgwctl.h"

#define DOCS_HELP                                                                              \
	"  -f, --filename PATH  a file, a directory (its .yaml, .yml and .json files,\n"        \
	"                    not recursive) or - for stdin; repeatable. Read as the\n"          \
	"                    gateway reads files (the same size limit, 16 MiB a file);\n"       \
	"                    the text is sent as it is, so errors name the file, line\n"        \
	"                    and column.\n"

/* What apply, replace and delete -f share: -f PATH... and -o. */
static int documents_main(const char *name, const char *help, int argc, char **argv,
			  bool allow_names, bool allow_dry_run)
{
	enum { OPT_DRY_RUN = 256 };
	static const struct option opts[] = {
		{"filename", required_argument, NULL, 'f'},
		{"dry-run", optional_argument, NULL, OPT_DRY_RUN},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	bool dry_run = false;
	size_t n = 0;
	cJSON *args = NULL;
	int opt, rc = NPGWCTL_EXIT_USAGE;

	if (paths == NULL)
		return NPGWCTL_EXIT_USAGE;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			rc = NPGWCTL_EXIT_OK;
			goto out;
		case 'f':
			paths[n++] = optarg;
			break;
		case OPT_DRY_RUN:
			/* kubectl spells it --dry-run=client|server; both mean
			 * "against the live state, changing nothing" here */
			if (!allow_dry_run) {
				fprintf(stderr, "npgwctl %s: --dry-run: see npgwctl diff\n", name);
				goto out;
			}
			if (optarg != NULL && strcmp(optarg, "client") != 0 &&
			    strcmp(optarg, "server") != 0 && strcmp(optarg, "true") != 0) {
				fprintf(stderr, "npgwctl %s: --dry-run='%s' (client, server or nothing)\n",
					name, optarg);
				goto out;
			}
			dry_run = true;
			break;
		case 'o':
			if (npgwctl_parse_format(name, optarg, &fmt) < 0)
				goto out;
			break;
		default:
			rc = npgwctl_bad_option(name, opt, argv);
			goto out;
		}
	}
	if (n == 0) {
		fprintf(stderr, "npgwctl %s: give the objects with -f PATH (a file, a directory "
				"or - for stdin)\n", name);
		goto out;
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl %s: unexpected argument '%s'%s\n", name, argv[optind],
			allow_names ? " (-f and KIND NAME do not mix)" : "");
		goto out;
	}
	if (dry_run) {
		rc = npgwctl_diff_run(name, paths, n, fmt, true);
		goto out;
	}
	args = npgwctl_read_documents(paths, n, name);
	if (args == NULL)
		goto out;
	rc = npgwctl_run(name, name, args, NPGWCTL_CHANGE_TIMEOUT_MS, fmt, NULL, NULL);
out:
	free(paths);
	return rc;
}

static int apply_main(int argc, char **argv)
{
	return documents_main(
		"apply",
		"usage: npgwctl apply -f PATH [-f PATH ...] [--dry-run] [-o text|json|yaml]\n\n"
		"Create or update NetworkPolicy, Pod, Namespace, Node, AdminNetworkPolicy,\n"
		"BaselineAdminNetworkPolicy and ClusterNetworkPolicy objects in the running\n"
		"gateway (YAML or JSON, multi-document, kubectl get -o yaml|json output).\n"
		"Atomic: the whole set is validated, compiled and built, then swapped in;\n"
		"or refused with the validator's messages, and nothing changes. The reply\n"
		"names the new generation.\n\n"
		"  kubectl get networkpolicies,pods,namespaces -A -o yaml | npgwctl apply -f -\n\n"
		DOCS_HELP
		"  --dry-run         change nothing: validate against the live state and\n"
		"                    show what would change (as npgwctl diff); exit 1 when\n"
		"                    the apply would be refused\n" NPGWCTL_OUTPUT_HELP
			NPGWCTL_EXIT_HELP,
		argc, argv, false, true);
}

const struct npgwctl_command npgwctl_cmd_apply = {
	.name = "apply",
	.usage = "apply -f PATH [-f PATH ...] [--dry-run] [-o FMT]",
	.summary = "create or update objects in the running gateway, atomically",
	.handler = apply_main,
	.options = "-f --filename --dry-run -o --output -h --help",
};

static int replace_main(int argc, char **argv)
{
	return documents_main(
		"replace",
		"usage: npgwctl replace -f PATH [-f PATH ...] [-o text|json|yaml]\n\n"
		"Make the given objects the gateway's whole state: every object not in\n"
		"the files is removed, in the same atomic step (validated, compiled,\n"
		"built and swapped in, or refused with nothing changed).\n\n" DOCS_HELP
			NPGWCTL_OUTPUT_HELP NPGWCTL_EXIT_HELP,
		argc, argv, false, false);
}

const struct npgwctl_command npgwctl_cmd_replace = {
	.name = "replace",
	.usage = "replace -f PATH [-f PATH ...] [-o FMT]",
	.summary = "make the given objects the gateway's whole state, atomically",
	.handler = replace_main,
	.options = "-f --filename -o --output -h --help",
};

static const char delete_help[] =
	"usage: npgwctl delete KIND NAME [NAME ...] [-n NAMESPACE] [-o text|json|yaml]\n"
	"       npgwctl delete KIND NAMESPACE/NAME ... | KIND/NAMESPACE/NAME ...\n"
	"       npgwctl delete -f PATH [-f PATH ...] [-o text|json|yaml]\n\n"
	"Remove objects from the running gateway, atomically (all or none). KIND is\n"
	"networkpolicy (networkpolicies, netpol), pod (pods, po), namespace\n"
	"(namespaces, ns), adminnetworkpolicy (anp), baselineadminnetworkpolicy\n"
	"(banp), clusternetworkpolicy (cnp) or node (nodes, no); the last four and\n"
	"namespaces are cluster-scoped. A NAME without a namespace is in -n's, else in\n"
	"\"default\", as kubectl reads it. With -f, the objects the files name are\n"
	"removed (the gateway reads them; their content beyond kind, namespace and\n"
	"name does not matter).\n\n"
	"  -n, --namespace NS  the namespace of NAMEs given without one\n" DOCS_HELP
		NPGWCTL_OUTPUT_HELP NPGWCTL_EXIT_HELP;

/* One object to delete: {"kind", "namespace"?, "name"}. */
static int add_object(cJSON *objs, const struct npgwctl_kind *k, const char *arg, const char *ns)
{
	const char *ons, *name;
	char *copy = npgwctl_split_name("delete", k, arg, ns, &ons, &name);
	cJSON *o;

	if (copy == NULL)
		return -1;
	o = cJSON_CreateObject();
	cJSON_AddItemToArray(objs, o);
	/* a tier policy or a Node is held in the policy or pod list, under
	 * its pseudo-namespace */
	if (o == NULL ||
	    !cJSON_AddStringToObject(o, "kind",
				     k->scope == NULL		     ? k->k8s
				     : strcmp(k->get, "pods") == 0 ? "Pod"
								   : "NetworkPolicy") ||
	    (k->namespaced && !cJSON_AddStringToObject(o, "namespace", ons ? ons : "default")) ||
	    (k->scope != NULL && !cJSON_AddStringToObject(o, "namespace", k->scope)) ||
	    !cJSON_AddStringToObject(o, "name", name)) {
		free(copy);
		fprintf(stderr, "npgwctl delete: out of memory\n");
		return -1;
	}
	free(copy);
	return 0;
}

static int delete_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"namespace", required_argument, NULL, 'n'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	const struct npgwctl_kind *k = NULL;
	const char *ns = NULL;
	cJSON *args, *objs;
	int opt, first;

	/* -f anywhere: the documents form */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-f") == 0 || strncmp(argv[i], "--filename", 10) == 0 ||
		    (strncmp(argv[i], "-f", 2) == 0 && argv[i][2] != '\0'))
			return documents_main("delete", delete_help, argc, argv, true, false);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(delete_help, stdout);
			return NPGWCTL_EXIT_OK;
		case 'n':
			ns = optarg;
			break;
		case 'o':
			if (npgwctl_parse_format("delete", optarg, &fmt) < 0)
				return NPGWCTL_EXIT_USAGE;
			break;
		default:
			return npgwctl_bad_option("delete", opt, argv);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "npgwctl delete: give KIND and NAME, or -f PATH (npgwctl delete "
				"--help)\n");
		return NPGWCTL_EXIT_USAGE;
	}
	args = cJSON_CreateObject();
	objs = cJSON_AddArrayToObject(args, "objects");
	if (objs == NULL) {
		cJSON_Delete(args);
		return NPGWCTL_EXIT_USAGE;
	}
	/* KIND NAME..., or KIND/NAME... each with its own kind */
	first = optind;
	if (strchr(argv[optind], '/') == NULL) {
		k = npgwctl_find_kind(argv[optind]);
		if (k == NULL) {
			fprintf(stderr, "npgwctl delete: unknown kind '%s' (networkpolicy, pod or "
					"namespace)\n", argv[optind]);
			cJSON_Delete(args);
			return NPGWCTL_EXIT_USAGE;
		}
		if (!k->namespaced && ns != NULL) {
			fprintf(stderr, "npgwctl delete: namespaces are not in a namespace: -n does "
					"not apply\n");
			cJSON_Delete(args);
			return NPGWCTL_EXIT_USAGE;
		}
		first++;
		if (first >= argc) {
			fprintf(stderr, "npgwctl delete: give the NAME of the %s to delete\n",
				k->singular);
			cJSON_Delete(args);
			return NPGWCTL_EXIT_USAGE;
		}
	}
	for (int i = first; i < argc; i++) {
		const struct npgwctl_kind *ki = k;
		const char *arg = argv[i];
		char kind[32];

		if (k == NULL) {
			const char *slash = strchr(arg, '/');
			size_t kl = slash ? (size_t)(slash - arg) : 0;

			if (slash == NULL || kl >= sizeof(kind)) {
				fprintf(stderr, "npgwctl delete: '%s' is not KIND/NAME (or give KIND "
						"first)\n", arg);
				cJSON_Delete(args);
				return NPGWCTL_EXIT_USAGE;
			}
			memcpy(kind, arg, kl);
			kind[kl] = '\0';
			ki = npgwctl_find_kind(kind);
			if (ki == NULL) {
				fprintf(stderr, "npgwctl delete: unknown kind '%s'\n", kind);
				cJSON_Delete(args);
				return NPGWCTL_EXIT_USAGE;
			}
			arg = slash + 1;
		}
		if (add_object(objs, ki, arg, ns) < 0) {
			cJSON_Delete(args);
			return NPGWCTL_EXIT_USAGE;
		}
	}
	return npgwctl_run("delete", "delete", args, NPGWCTL_CHANGE_TIMEOUT_MS, fmt, NULL, NULL);
}

const struct npgwctl_command npgwctl_cmd_delete = {
	.name = "delete",
	.usage = "delete KIND NAME ... [-n NS] | delete -f PATH ... [-o FMT]",
	.summary = "remove objects from the running gateway, atomically",
	.handler = delete_main,
	.options = "-n --namespace -f --filename -o --output -h --help",
};
