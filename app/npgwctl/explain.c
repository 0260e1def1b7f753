/*
 * explain.c: `npgwctl explain`: why a packet between two endpoints is
 * allowed or dropped, from a generation built with rte_acl exactly as the
 * data plane builds it (EAL started in-process, quietly, without hugepages).
 *
 *   npgwctl explain --offline -f PATH [-f PATH ...] --from EP --to EP --port N
 *                   [--protocol TCP|UDP|SCTP] [-o text|json|yaml]
 *   npgwctl explain --offline -f PATH [-f PATH ...] --batch FILE|- -o json
 *   npgwctl explain --from EP --to EP --port N [--protocol P] [-o text|json|yaml]
 *
 * Without --offline the question goes to the running gateway over its
 * control socket (command "explain", args {from, to, protocol, port}), which
 * answers from its live generation with the same JSON as -o json here.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "npgw_ctl.h"
#include "npgw_explain.h"
#include "npgwctl.h"

static const char explain_usage[] =
	"usage: npgwctl explain --from ENDPOINT --to ENDPOINT --port N\n"
	"                       [--protocol TCP|UDP|SCTP] [-o text|json|yaml]\n"
	"       npgwctl explain --offline -f PATH [-f PATH ...] --from ENDPOINT --to ENDPOINT\n"
	"                       --port N [--protocol TCP|UDP|SCTP] [-o text|json|yaml]\n"
	"       npgwctl explain --offline -f PATH [-f PATH ...] --batch FILE|- [-o json]\n"
	"\n"
	"Tell whether a packet from one endpoint to another is allowed, and which\n"
	"policy and rule decided each side (egress of the source, ingress of the\n"
	"destination). The answer comes from the compiled rte_acl tables, through the\n"
	"same classify path the data plane uses: by default the running gateway's\n"
	"live generation (over the control socket, see npgwctl --socket), with\n"
	"--offline tables built here from files.\n"
	"\n"
	"  --offline          build the tables from files here instead of asking a\n"
	"                     running gateway\n"
	"  -f, --filename PATH Kubernetes objects (NetworkPolicy, Pod, Namespace, Node\n"
	"                     and the tier kinds): a file or a directory, as for\n"
	"                     `npgwctl validate`; repeatable\n"
	"  --from ENDPOINT    namespace/pod, or an IPv4 or IPv6 address\n"
	"  --to ENDPOINT      namespace/pod, or an IPv4 or IPv6 address\n"
	"  --port N           destination port, 1..65535\n"
	"  --protocol P       TCP (default), UDP or SCTP, in any case\n"
	"  --batch FILE|-     one JSON query per line, {\"from\", \"to\", \"protocol\",\n"
	"                     \"port\"}; one JSON answer per line, in order; a malformed\n"
	"                     line gives {\"line\": N, \"error\": \"...\"} and the run goes on\n"
	"  -o, --output FMT   text (default for one query), json or yaml; --batch\n"
	"                     answers in JSON lines only\n"
	"\n"
	"A pod endpoint uses the pod's address of the other endpoint's family (IPv4\n"
	"when both are pods with both families).\n"
	"Exit status: 0 answered, 1 the gateway refused the question (an unknown pod:\n"
	"its message is printed), 2 usage error, invalid input (the validator's\n"
	"messages are printed) or no connection to the gateway.\n";

/* Ask the running gateway. */
static int explain_remote(const struct npgw_explain_query *q, const char *proto_name,
			  enum npgwctl_format fmt)
{
	cJSON *args = cJSON_CreateObject(), *r = NULL;
	int rc;

	if (args == NULL || !cJSON_AddStringToObject(args, "from", q->from) ||
	    !cJSON_AddStringToObject(args, "to", q->to) ||
	    !cJSON_AddStringToObject(args, "protocol", proto_name) ||
	    !cJSON_AddNumberToObject(args, "port", q->port)) {
		cJSON_Delete(args);
		fprintf(stderr, "npgwctl explain: out of memory\n");
		return NPGWCTL_EXIT_USAGE;
	}
	rc = npgwctl_remote_call("explain", "explain", args, 10000, &r);
	cJSON_Delete(args);
	if (rc != NPGWCTL_EXIT_OK)
		return rc;
	if (fmt == NPGWCTL_FMT_JSON) {
		char *s = cJSON_PrintUnformatted(r); /* one line, as --offline -o json */

		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else if (fmt == NPGWCTL_FMT_YAML) {
		npgwctl_print_yaml(r, stdout);
	} else {
		npgw_explain_print_json(r, stdout); /* lib/explain's text, as offline */
	}
	cJSON_Delete(r);
	return fflush(stdout) == 0 ? NPGWCTL_EXIT_OK : NPGWCTL_EXIT_USAGE;
}

/* The EAL's arguments: rte_eal_init takes char **, so writable storage. */
static char *eal_argv[] = {(char[]){"npgwctl"}, (char[]){"--no-huge"}, (char[]){"-m"},
	(char[]){"1024"}, (char[]){"--no-pci"}, (char[]){"--no-shconf"}, (char[]){"--no-telemetry"},
	(char[]){"--log-level=error"}, (char[]){"-l"}, (char[]){"0"}, NULL};

/* Start EAL for tables only: no hugepages, no devices, no shared files,
 * nothing printed below errors. */
static int start_eal(void)
{
	rte_log_set_global_level(RTE_LOG_ERR);
	if (rte_eal_init((int)NPGW_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "npgwctl explain: cannot start DPDK EAL: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int answer_one(const struct npgw_k8s_cluster *c, const struct npgw_ruleset *rs,
		      const struct npgw_explain_query *q, bool json, bool yaml)
{
	struct npgw_ruleset_tuple t;
	struct npgw_explain_answer a;
	char err[256], *s = NULL;
	cJSON *o;

	if (npgw_explain_tuple(c, q, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "npgwctl explain: %s\n", err);
		return NPGWCTL_EXIT_USAGE;
	}
	if (npgw_explain_burst(rs, &t, 1, &a) != 1) {
		fprintf(stderr, "npgwctl explain: classify failed\n");
		return NPGWCTL_EXIT_USAGE;
	}
	o = npgw_explain_answer_json(q, rs, &a);
	if (o != NULL && json)
		s = cJSON_PrintUnformatted(o);
	else if (o != NULL && yaml)
		npgwctl_print_yaml(o, stdout);
	else if (o != NULL)
		npgw_explain_print_json(o, stdout);
	cJSON_Delete(o);
	if (o == NULL || (json && s == NULL)) {
		fprintf(stderr, "npgwctl explain: out of memory\n");
		return NPGWCTL_EXIT_USAGE;
	}
	if (json)
		printf("%s\n", s);
	free(s);
	return 0;
}

/* Read the paths into a validated cluster, printing the validator's
 * messages; NULL when there was any error. */
static struct npgw_k8s_cluster *load_cluster(const char **paths, size_t n)
{
	struct npgw_diags d = {0};
	int err = 0;
	struct npgw_k8s_cluster *c = npgw_k8s_load_paths(paths, n, &d, &err);

	npgw_diags_print(&d, stderr);
	if (c == NULL)
		fprintf(stderr, "npgwctl explain: %zu error%s in the input; nothing explained\n",
			d.n_errors, d.n_errors == 1 ? "" : "s");
	npgw_diags_free(&d);
	return c;
}

static int explain_main(int argc, char **argv)
{
	enum { OPT_OFFLINE = 256, OPT_FROM, OPT_TO, OPT_PORT, OPT_PROTO, OPT_BATCH };
	static const struct option opts[] = {
		{"offline", no_argument, NULL, OPT_OFFLINE},
		{"filename", required_argument, NULL, 'f'},
		{"from", required_argument, NULL, OPT_FROM},
		{"to", required_argument, NULL, OPT_TO},
		{"port", required_argument, NULL, OPT_PORT},
		{"protocol", required_argument, NULL, OPT_PROTO},
		{"batch", required_argument, NULL, OPT_BATCH},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char **files = calloc((size_t)argc + 1, sizeof(*files));
	size_t n_files = 0;
	const char *batch = NULL, *output = NULL, *proto_name = "TCP";
	struct npgw_explain_query q = {.proto = NPGW_PROTO_TCP};
	bool offline = false, json, yaml;
	struct npgw_k8s_cluster *c = NULL;
	struct npgw_ruleset *rs = NULL;
	int opt, rc = NPGWCTL_EXIT_USAGE, err = 0;
	long port = -1;
	char *end;

	if (files == NULL) {
		fprintf(stderr, "npgwctl explain: out of memory\n");
		return NPGWCTL_EXIT_USAGE;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_OFFLINE:
			offline = true;
			break;
		case 'f':
			files[n_files++] = optarg;
			break;
		case OPT_FROM:
			q.from = optarg;
			break;
		case OPT_TO:
			q.to = optarg;
			break;
		case OPT_PORT:
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || port < 1 || port > 65535) {
				fprintf(stderr, "npgwctl explain: --port: '%s' is not 1..65535\n",
					optarg);
				goto out;
			}
			break;
		case OPT_PROTO: {
			const char *name = npgwctl_protocol(optarg, false);
			int p = name ? npgw_proto_parse(name) : -1;

			if (p < 0) {
				fprintf(stderr,
					"npgwctl explain: --protocol: '%s' is not TCP, UDP or SCTP\n",
					optarg);
				goto out;
			}
			q.proto = (uint8_t)p;
			proto_name = name;
			break;
		}
		case OPT_BATCH:
			batch = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(explain_usage, stdout);
			rc = NPGWCTL_EXIT_OK;
			goto out;
		default:
			fputs(explain_usage, stderr);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl explain: unexpected argument '%s'\n%s", argv[optind],
			explain_usage);
		goto out;
	}
	if (!offline) {
		enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;

		if (n_files > 0 || batch != NULL) {
			fprintf(stderr, "npgwctl explain: -f and --batch go with --offline (without "
					"it the running gateway answers from its own state)\n");
			goto out;
		}
		if (q.from == NULL || q.to == NULL || port < 0) {
			fprintf(stderr, "npgwctl explain: --from, --to and --port are needed\n%s",
				explain_usage);
			goto out;
		}
		if (output != NULL && npgwctl_parse_format("explain", output, &fmt) < 0)
			goto out;
		q.port = (uint16_t)port;
		rc = explain_remote(&q, proto_name, fmt);
		goto out;
	}
	if (n_files == 0) {
		fprintf(stderr, "npgwctl explain: --offline needs at least one -f PATH\n");
		goto out;
	}
	if (output != NULL && strcasecmp(output, "json") != 0 && strcasecmp(output, "text") != 0 &&
	    strcasecmp(output, "yaml") != 0) {
		fprintf(stderr, "npgwctl explain: -o: '%s' is not text, json or yaml\n", output);
		goto out;
	}
	json = output != NULL && strcasecmp(output, "json") == 0;
	yaml = output != NULL && strcasecmp(output, "yaml") == 0;
	if (batch != NULL) {
		if (output != NULL && !json) {
			fprintf(stderr, "npgwctl explain: --batch answers in JSON only (-o json)\n");
			goto out;
		}
		if (q.from || q.to || port >= 0) {
			fprintf(stderr, "npgwctl explain: --batch takes its queries from the "
					"file, not from --from/--to/--port\n");
			goto out;
		}
	} else if (q.from == NULL || q.to == NULL || port < 0) {
		fprintf(stderr, "npgwctl explain: --from, --to and --port are needed\n%s",
			explain_usage);
		goto out;
	}
	q.port = (uint16_t)(port < 0 ? 0 : port);

	c = load_cluster(files, n_files);
	if (c == NULL)
		goto out;
	if (start_eal() < 0)
		goto out;
	rs = npgw_ruleset_from_cluster(c, 1, NULL, &err);
	if (rs == NULL) {
		fprintf(stderr, "npgwctl explain: cannot build the tables: %s\n", strerror(-err));
		goto out_eal;
	}
	if (batch == NULL) {
		rc = answer_one(c, rs, &q, json, yaml);
	} else {
		FILE *in = strcmp(batch, "-") == 0 ? stdin : fopen(batch, "r");
		long n;

		if (in == NULL) {
			fprintf(stderr, "npgwctl explain: --batch %s: %s\n", batch, strerror(errno));
			goto out_eal;
		}
		n = npgw_explain_batch(c, rs, in, stdout);
		if (in != stdin)
			fclose(in);
		if (n < 0 || fflush(stdout) != 0) {
			fprintf(stderr, "npgwctl explain: --batch: %s\n",
				strerror(n < 0 ? (int)-n : errno));
			goto out_eal;
		}
		rc = 0;
	}
out_eal:
	npgw_ruleset_free(rs);
	rte_eal_cleanup();
out:
	npgw_k8s_cluster_free(c);
	free(files);
	return rc;
}

const struct npgwctl_command npgwctl_cmd_explain = {
	.name = "explain",
	.usage = "explain [--offline -f PATH ...] (--from EP --to EP --port N "
		 "[--protocol P] [-o FMT] | --batch FILE|- -o json)",
	.summary = "why a packet between two endpoints is allowed or denied",
	.handler = explain_main,
	.options = "--offline -f --filename --from --to --port --protocol --batch -o --output -h "
		   "--help",
};
