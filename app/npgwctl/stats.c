/*
 * stats.c: npgwctl stats: the gateway's counters (per port, per worker,
 * drops by reason, hits per policy rule), once or --watch.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "npgwctl.h"

static const char stats_help[] =
	"usage: npgwctl stats [--reset] [-w [--interval S]] [-o text|json|yaml]\n\n"
	"Counters: per port, per worker, drops by reason, hits per policy rule.\n\n"
	"  --reset           zero the counters after reading them (the reply holds\n"
	"                    the values before the reset)\n" NPGWCTL_WATCH_HELP
		NPGWCTL_OUTPUT_HELP NPGWCTL_EXIT_HELP;

static int stats_main(int argc, char **argv)
{
	enum { OPT_RESET = 256, OPT_INTERVAL };
	static const struct option opts[] = {
		{"reset", no_argument, NULL, OPT_RESET},
		{"watch", no_argument, NULL, 'w'},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	struct npgwctl_watch w = {false, 2.0};
	bool reset = false;
	cJSON *args;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:hw", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(stats_help, stdout);
			return NPGWCTL_EXIT_OK;
		case OPT_RESET:
			reset = true;
			break;
		case 'w':
			w.on = true;
			break;
		case OPT_INTERVAL:
			if (npgwctl_parse_interval("stats", optarg, &w) < 0)
				return NPGWCTL_EXIT_USAGE;
			break;
		case 'o':
			if (npgwctl_parse_format("stats", optarg, &fmt) < 0)
				return NPGWCTL_EXIT_USAGE;
			break;
		default:
			return npgwctl_bad_option("stats", opt, argv);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl stats: unexpected argument '%s'\n", argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	if (reset && w.on) {
		fprintf(stderr, "npgwctl stats: --reset and --watch do not mix (each answer would "
				"zero the counters)\n");
		return NPGWCTL_EXIT_USAGE;
	}
	args = cJSON_CreateObject();
	if (args == NULL || (reset && !cJSON_AddTrueToObject(args, "reset"))) {
		cJSON_Delete(args);
		return NPGWCTL_EXIT_USAGE;
	}
	return npgwctl_run("stats", "stats", args, NPGWCTL_CALL_TIMEOUT_MS, fmt, NULL, &w);
}

const struct npgwctl_command npgwctl_cmd_stats = {
	.name = "stats",
	.usage = "stats [--reset] [-w] [-o FMT]",
	.summary = "counters per port, worker, drop reason and policy rule",
	.handler = stats_main,
	.options = "--reset -w --watch --interval -o --output -h --help",
};
