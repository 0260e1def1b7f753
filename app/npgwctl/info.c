/*
 * info.c: npgwctl version, list-commands and status: what the running
 * gateway is. version prints npgwctl's own version first, so it answers
 * even when no gateway does (kubectl version does the same).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "npgw_ctl.h"
#include "npgwctl.h"

static const struct option fmt_opts[] = {
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* A command with no arguments of its own but -o: list-commands, status. */
static int simple_main(const char *name, const char *help, int argc, char **argv,
		       void (*text)(const cJSON *, enum npgwctl_format))
{
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", fmt_opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(help, stdout);
			return NPGWCTL_EXIT_OK;
		}
		if (opt != 'o')
			return npgwctl_bad_option(name, opt, argv);
		if (npgwctl_parse_format(name, optarg, &fmt) < 0)
			return NPGWCTL_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl %s: unexpected argument '%s'\n", name, argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	return npgwctl_run(name, name, NULL, NPGWCTL_CALL_TIMEOUT_MS, fmt, text, NULL);
}

/* ---- version ---- */

static const char version_help[] =
	"usage: npgwctl version [--client] [-o text|json|yaml]\n\n"
	"npgwctl's version and control protocol, then the running gateway's: its\n"
	"build version, control protocol version, pid and DPDK version. npgwctl's\n"
	"own line is printed even when no gateway answers (the exit status is then\n"
	"2, with the reason on stderr).\n\n"
	"  --client          npgwctl's version only; do not ask the gateway\n" NPGWCTL_OUTPUT_HELP
		NPGWCTL_EXIT_HELP;

static cJSON *client_json(void)
{
	cJSON *c = cJSON_CreateObject();

	if (c == NULL || !cJSON_AddStringToObject(c, "version", NPGW_VERSION) ||
	    !cJSON_AddNumberToObject(c, "protocol", NPGW_CTL_PROTOCOL_VERSION)) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

static int version_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"client", no_argument, NULL, 'c'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	bool client_only = false;
	cJSON *server = NULL, *all;
	int opt, rc = NPGWCTL_EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(version_help, stdout);
			return NPGWCTL_EXIT_OK;
		}
		if (opt == 'c') {
			client_only = true;
			continue;
		}
		if (opt != 'o')
			return npgwctl_bad_option("version", opt, argv);
		if (npgwctl_parse_format("version", optarg, &fmt) < 0)
			return NPGWCTL_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl version: unexpected argument '%s'\n", argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	if (fmt == NPGWCTL_FMT_TEXT) {
		const cJSON *proto;

		/* before asking: printed whatever the gateway does */
		printf("npgwctl: %s (protocol %d)\n", NPGW_VERSION, NPGW_CTL_PROTOCOL_VERSION);
		fflush(stdout);
		if (client_only)
			return NPGWCTL_EXIT_OK;
		rc = npgwctl_remote_call("version", "version", NULL, NPGWCTL_CALL_TIMEOUT_MS,
					 &server);
		if (rc != NPGWCTL_EXIT_OK)
			return rc;
		printf("gateway:\n");
		proto = cJSON_GetObjectItemCaseSensitive(server, "protocol");
		npgwctl_print_text(server, stdout);
		if (cJSON_IsNumber(proto) && proto->valuedouble != NPGW_CTL_PROTOCOL_VERSION)
			fprintf(stderr,
				"npgwctl version: warning: the gateway speaks protocol %g, npgwctl "
				"%d\n",
				proto->valuedouble, NPGW_CTL_PROTOCOL_VERSION);
		cJSON_Delete(server);
		return fflush(stdout) == 0 ? NPGWCTL_EXIT_OK : NPGWCTL_EXIT_USAGE;
	}
	/* {"client": {...}, "server": {...}}; server left out when unreachable */
	if (!client_only)
		rc = npgwctl_remote_call("version", "version", NULL, NPGWCTL_CALL_TIMEOUT_MS,
					 &server);
	all = cJSON_CreateObject();
	if (all == NULL) {
		cJSON_Delete(server);
		return NPGWCTL_EXIT_USAGE;
	}
	cJSON_AddItemToObject(all, "client", client_json());
	if (server != NULL)
		cJSON_AddItemToObject(all, "server", server);
	npgwctl_print_result(all, fmt);
	cJSON_Delete(all);
	if (fflush(stdout) != 0)
		return NPGWCTL_EXIT_USAGE;
	return rc;
}

const struct npgwctl_command npgwctl_cmd_version = {
	.name = "version",
	.usage = "version [--client] [-o FMT]",
	.summary = "npgwctl's version, then the running gateway's",
	.handler = version_main,
	.options = "--client -o --output -h --help",
};

/* ---- list-commands ---- */

static void list_text(const cJSON *r, enum npgwctl_format fmt)
{
	const cJSON *c, *list = cJSON_GetObjectItemCaseSensitive(r, "commands");

	(void)fmt;
	cJSON_ArrayForEach(c, list) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(c, "usage");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "summary");

		printf("%-40s %s\n", cJSON_IsString(u) ? u->valuestring : "",
		       cJSON_IsString(s) ? s->valuestring : "");
	}
}

static int list_main(int argc, char **argv)
{
	return simple_main("list-commands",
			   "usage: npgwctl list-commands [-o text|json|yaml]\n\n"
			   "The commands the running gateway's control socket answers, with\n"
			   "their usage (in the socket's terms: argument names, not npgwctl's\n"
			   "options).\n\n" NPGWCTL_OUTPUT_HELP NPGWCTL_EXIT_HELP,
			   argc, argv, list_text);
}

const struct npgwctl_command npgwctl_cmd_list_commands = {
	.name = "list-commands",
	.usage = "list-commands [-o FMT]",
	.summary = "the commands the gateway's control socket answers",
	.handler = list_main,
	.options = "-o --output -h --help",
};

/* ---- status ---- */

static int status_main(int argc, char **argv)
{
	return simple_main("status",
			   "usage: npgwctl status [-o text|json|yaml]\n\n"
			   "The gateway's state: the live generation, when it was built and how\n"
			   "long that took, rule counts and memory of its tables, the start-up\n"
			   "posture, and whether it is ready (a generation live, ports up).\n\n"
			   NPGWCTL_OUTPUT_HELP NPGWCTL_EXIT_HELP,
			   argc, argv, NULL);
}

const struct npgwctl_command npgwctl_cmd_status = {
	.name = "status",
	.usage = "status [-o FMT]",
	.summary = "live generation, build time, table sizes, readiness",
	.handler = status_main,
	.options = "-o --output -h --help",
};
