/*
 * wait.c: npgwctl wait GENERATION: block until the gateway's live
 * generation reaches the one an apply replied with.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "npgw_ctl.h"
#include "npgwctl.h"

static int wait_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"timeout", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	double timeout = 30;
	unsigned long long gen;
	cJSON *args;
	char *end;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs("usage: npgwctl wait GENERATION [--timeout SECONDS] [-o text|json|yaml]\n\n"
			      "Block until the gateway's live generation is GENERATION or later\n"
			      "(the number an apply replied with), or the timeout passes.\n\n"
			      "  --timeout SECONDS  give up after this long (default 30; fractions\n"
			      "                    allowed; at most 3600); exit status 1 then\n" NPGWCTL_OUTPUT_HELP
				      NPGWCTL_EXIT_HELP,
			      stdout);
			return NPGWCTL_EXIT_OK;
		}
		if (opt == 't') {
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(timeout > 0 && timeout <= 3600)) {
				fprintf(stderr, "npgwctl wait: --timeout: '%s' is not 0..3600 "
						"seconds\n", optarg);
				return NPGWCTL_EXIT_USAGE;
			}
			continue;
		}
		if (opt != 'o')
			return npgwctl_bad_option("wait", opt, argv);
		if (npgwctl_parse_format("wait", optarg, &fmt) < 0)
			return NPGWCTL_EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "npgwctl wait: give one GENERATION\n");
		return NPGWCTL_EXIT_USAGE;
	}
	errno = 0;
	gen = strtoull(argv[optind], &end, 10);
	if (errno || *end || end == argv[optind] || argv[optind][0] == '-' ||
	    gen > (1ULL << 53)) {
		fprintf(stderr, "npgwctl wait: '%s' is not a generation number (0 to 2^53)\n",
			argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	int timeout_ms = (int)(timeout * 1000);

	if (timeout_ms < 1)
		timeout_ms = 1;
	args = cJSON_CreateObject();
	if (args == NULL || !npgw_ctl_add_u64(args, "generation", gen) ||
	    !cJSON_AddNumberToObject(args, "timeout_ms", timeout_ms)) {
		cJSON_Delete(args);
		return NPGWCTL_EXIT_USAGE;
	}
	/* The gateway times the wait out; the margin covers the round trip. */
	return npgwctl_run("wait", "wait", args, timeout_ms + 5000, fmt, NULL, NULL);
}

const struct npgwctl_command npgwctl_cmd_wait = {
	.name = "wait",
	.usage = "wait GENERATION [--timeout SECONDS] [-o FMT]",
	.summary = "block until a generation is live",
	.handler = wait_main,
	.options = "--timeout -o --output -h --help",
};

