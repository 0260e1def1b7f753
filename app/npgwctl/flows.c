/*
 * flows.c: npgwctl flows: the connections the gateway tracks, filtered,
 * once or --watch; or flows flush.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "npgwctl.h"

static int flows_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"address", required_argument, NULL, 'a'},
		{"port", required_argument, NULL, 'p'},
		{"protocol", required_argument, NULL, 'P'},
		{"state", required_argument, NULL, 's'},
		{"watch", no_argument, NULL, 'w'},
		{"interval", required_argument, NULL, 'i'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	const char *addr = NULL, *proto = NULL, *state = NULL;
	long port = 0;
	struct npgwctl_watch w = {false, 2.0};
	bool flush = false;
	cJSON *args;
	char *end;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:hw", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs("usage: npgwctl flows [--address A] [--port N] [--protocol P]\n"
			      "                     [--state S] [-w [--interval S]] [-o text|json|yaml]\n"
			      "       npgwctl flows flush\n\n"
			      "The connections the gateway tracks (each worker's flow table), in\n"
			      "their original direction (opener -> responder), or, with flush,\n"
			      "forget them all (established connections are then classified again\n"
			      "at their next packet).\n\n"
			      "  --address A     flows with A at either end (IPv4 or IPv6)\n"
			      "  --port N        flows with port N at either end\n"
			      "  --protocol P    TCP, UDP, SCTP, ICMP or ICMPv6 (any case)\n"
			      "  --state S       new, syn-recv, established, closing or closed\n"
			      NPGWCTL_WATCH_HELP NPGWCTL_OUTPUT_HELP NPGWCTL_EXIT_HELP,
			      stdout);
			return NPGWCTL_EXIT_OK;
		case 'a':
			addr = optarg;
			continue;
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || port < 1 || port > 65535) {
				fprintf(stderr, "npgwctl flows: --port: '%s' is not 1..65535\n", optarg);
				return NPGWCTL_EXIT_USAGE;
			}
			continue;
		case 'P':
			proto = npgwctl_protocol(optarg, true);
			if (proto == NULL) {
				fprintf(stderr, "npgwctl flows: --protocol: '%s' is not TCP, UDP, SCTP, "
						"ICMP or ICMPv6\n", optarg);
				return NPGWCTL_EXIT_USAGE;
			}
			continue;
		case 'w':
			w.on = true;
			continue;
		case 'i':
			if (npgwctl_parse_interval("flows", optarg, &w) < 0)
				return NPGWCTL_EXIT_USAGE;
			continue;
		case 'o':
			if (npgwctl_parse_format("flows", optarg, &fmt) < 0)
				return NPGWCTL_EXIT_USAGE;
			continue;
		case 's':
			state = optarg;
			continue;
		default:
			break;
		}
		return npgwctl_bad_option("flows", opt, argv);
	}
	if (optind < argc && strcmp(argv[optind], "flush") == 0) {
		flush = true;
		optind++;
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl flows: unexpected argument '%s'\n", argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	if (flush && w.on) {
		fprintf(stderr, "npgwctl flows flush: --watch does not apply\n");
		return NPGWCTL_EXIT_USAGE;
	}
	if (flush && (addr || port || proto || state)) {
		fprintf(stderr, "npgwctl flows flush: forgets every flow; it takes no filter\n");
		return NPGWCTL_EXIT_USAGE;
	}
	args = cJSON_CreateObject();
	if (args == NULL || (flush && !cJSON_AddTrueToObject(args, "flush")) ||
	    (addr && !cJSON_AddStringToObject(args, "address", addr)) ||
	    (port && !cJSON_AddNumberToObject(args, "port", (double)port)) ||
	    (proto && !cJSON_AddStringToObject(args, "protocol", proto)) ||
	    (state && !cJSON_AddStringToObject(args, "state", state))) {
		cJSON_Delete(args);
		return NPGWCTL_EXIT_USAGE;
	}
	return npgwctl_run("flows", "flows", args, NPGWCTL_CALL_TIMEOUT_MS, fmt, NULL, &w);
}

const struct npgwctl_command npgwctl_cmd_flows = {
	.name = "flows",
	.usage = "flows [flush] [--address A] [--port N] [--protocol P] [--state S] [-w] [-o FMT]",
	.summary = "the tracked connections, or forget them all",
	.handler = flows_main,
	.options = "flush --address --port --protocol --state -w --watch --interval -o --output -h "
		   "--help",
};
