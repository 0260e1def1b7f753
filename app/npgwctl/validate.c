/*
 * validate.c: npgwctl validate: read NetworkPolicy, Pod, Namespace, Node and
 * the cluster-wide tier
 * objects from files or directories, as the gateway would, and print every
 * error and warning (FILE:LINE:COL: field.path: message) without touching a
 * running gateway.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npgw_k8s.h"
#include "npgwctl.h"

static void validate_usage(FILE *out)
{
	fprintf(out,
		"usage: npgwctl %s\n\n"
		"Read Kubernetes NetworkPolicy (networking.k8s.io/v1), Pod, Namespace and Node\n"
		"(v1), AdminNetworkPolicy and BaselineAdminNetworkPolicy\n"
		"(policy.networking.k8s.io/v1alpha1) and ClusterNetworkPolicy (v1alpha2)\n"
		"objects and report what npgw would refuse. Checks each object as the API server\n"
		"does (and stricter: unknown or mistyped fields in a NetworkPolicy spec, except\n"
		"outside its cidr, endPort below port...), then checks across all the objects:\n"
		"the same object twice, two pods with one address.\n\n"
		"  -f, --filename PATH  a file or a directory (its .yaml, .yml and .json files,\n"
		"                       not recursive); repeat for more. Multi-document YAML,\n"
		"                       JSON, and kubectl get -o yaml|json output (kind: List)\n"
		"                       are read; other kinds of objects are skipped.\n"
		"  -o, --output FORMAT  text (default): one FILE:LINE:COL: path: message line\n"
		"                       each; json (or yaml): an array of {file, line, column,\n"
		"                       path, message, severity}. A summary goes to stderr.\n"
		"  -h, --help           this help\n\n"
		"Exit status: 0 no error (warnings allowed), 1 errors found, 2 usage error or\n"
		"a path that cannot be read.\n",
		npgwctl_cmd_validate.usage);
}

static size_t objects(const struct npgw_k8s_cluster *c)
{
	return c->n_namespaces + c->n_pods + c->n_policies + c->n_refused;
}

static int validate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"filename", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct npgw_diags diags = {0};
	struct npgw_k8s_cluster *c = NULL;
	const char **paths = NULL;
	size_t n_paths = 0;
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	int status = NPGWCTL_EXIT_USAGE, opt, rc;

	paths = calloc((size_t)argc, sizeof(*paths));
	if (paths == NULL) {
		fprintf(stderr, "npgwctl validate: out of memory\n");
		return NPGWCTL_EXIT_USAGE;
	}
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			paths[n_paths++] = optarg;
			break;
		case 'o':
			if (npgwctl_parse_format("validate", optarg, &fmt) < 0)
				goto out;
			break;
		case 'h':
			validate_usage(stdout);
			status = NPGWCTL_EXIT_OK;
			goto out;
		case ':':
			fprintf(stderr, "npgwctl validate: option '%s' needs a value\n",
				argv[optind - 1]);
			goto usage;
		default:
			fprintf(stderr, "npgwctl validate: unknown option '%s'\n", argv[optind - 1]);
			goto usage;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl validate: unexpected argument '%s' (give files with -f)\n",
			argv[optind]);
		goto usage;
	}
	if (n_paths == 0) {
		fprintf(stderr, "npgwctl validate: no input: give at least one -f PATH\n");
		goto usage;
	}
	c = npgw_k8s_cluster_new();
	if (c == NULL) {
		fprintf(stderr, "npgwctl validate: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n_paths; i++) {
		rc = npgw_k8s_load_path(c, paths[i], &diags);
		if (rc == -ENOMEM) {
			fprintf(stderr, "npgwctl validate: out of memory\n");
			goto out;
		}
		if (rc < 0 && rc != -EINVAL) {
			fprintf(stderr, "npgwctl validate: cannot read %s: %s\n", paths[i],
				strerror(-rc));
			goto out;
		}
	}
	if (npgw_k8s_cluster_validate(c, &diags) == -ENOMEM ||
	    npgw_k8s_cluster_warn(c, &diags) == -ENOMEM) {
		fprintf(stderr, "npgwctl validate: out of memory\n");
		goto out;
	}
	if (fmt != NPGWCTL_FMT_TEXT) {
		char *s = npgw_diags_to_json(&diags);
		cJSON *v = s != NULL && fmt == NPGWCTL_FMT_YAML ? cJSON_Parse(s) : NULL;

		if (s == NULL || (fmt == NPGWCTL_FMT_YAML && v == NULL)) {
			free(s);
			fprintf(stderr, "npgwctl validate: out of memory\n");
			goto out;
		}
		if (v != NULL)
			npgwctl_print_yaml(v, stdout);
		else
			printf("%s\n", s);
		cJSON_Delete(v);
		free(s);
	} else {
		npgw_diags_print(&diags, stdout);
	}
	fflush(stdout);
	fprintf(stderr, "%zu error%s, %zu warning%s in %zu object%s\n", diags.n_errors,
		diags.n_errors == 1 ? "" : "s", diags.n_warnings, diags.n_warnings == 1 ? "" : "s",
		objects(c), objects(c) == 1 ? "" : "s");
	status = diags.n_errors ? NPGWCTL_EXIT_FAIL : NPGWCTL_EXIT_OK;
	goto out;
usage:
	fprintf(stderr, "usage: npgwctl %s (npgwctl validate --help)\n",
		npgwctl_cmd_validate.usage);
out:
	npgw_k8s_cluster_free(c);
	npgw_diags_free(&diags);
	free(paths);
	return status;
}

const struct npgwctl_command npgwctl_cmd_validate = {
	.name = "validate",
	.usage = "validate -f PATH [-f PATH ...] [-o text|json|yaml]",
	.options = "-f --filename -o --output -h --help",
	.summary = "check policy, Pod, Namespace and Node files; print every error",
	.handler = validate_main,
};
