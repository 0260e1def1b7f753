/*
 * observe.c: npgwctl observe, the gateway's drop and verdict events, one
 * per line (like `hubble observe`): time, source and destination (pod or
 * address, and port), protocol, verdict, what decided (policy, direction
 * and rule, or the drop reason), the flow's state. --follow keeps asking
 * for what came since (a cursor, four times a second) until interrupted.
 * How many events the workers could not record (rate limit, full ring) is
 * said on stderr.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npgwctl.h"

#define OBSERVE_TIMEOUT_MS 10000
#define FOLLOW_PERIOD_MS 250

static const char help[] =
	"usage: npgwctl observe [--verdict denied|allowed|all] [-n NS] [--pod NS/NAME]\n"
	"                       [--protocol P] [--port N] [--last N] [--follow] [-o text|json]\n"
	"\n"
	"The drop and verdict events of the running gateway, oldest first: new flows\n"
	"allowed and denied, flows revoked by a policy change, ICMP errors dropped\n"
	"(no flow of theirs), malformed frames, and packets their flow's tracking\n"
	"refuses (invalid: TCP flags, outside the TCP window, SCTP chunks or tags).\n"
	"Each worker records at most the config's events.rate per second\n"
	"(events.burst at once); what it could not record is counted and reported\n"
	"on stderr.\n"
	"\n"
	"  --verdict V        denied, allowed or all (default)\n"
	"  -n, --namespace NS events whose source or destination pod is in NS\n"
	"  --pod NS/NAME      events whose source or destination is that pod\n"
	"  --protocol P       TCP, UDP, SCTP, ICMP or ICMPv6\n"
	"  --port N           destination port N\n"
	"  --last N           the last N matching events the gateway holds (default\n"
	"                     1000; it keeps the last 8192 of all)\n"
	"  -f, --follow       then keep printing new events until interrupted\n"
	"                     (SIGINT or SIGTERM: exit 0)\n"
	"  -o, --output FMT   text (default: one line per event) or json (one JSON\n"
	"                     object per line)\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: 0 success, 1 the gateway refused (events off: events.rate 0),\n"
	"2 usage error or no connection to the gateway.\n";

/* "y/a:41234", "10.0.0.9:53" or "10.0.0.9" for an endpoint object. */
static void endpoint_text(const cJSON *ep, char *buf, size_t len)
{
	const cJSON *pod = cJSON_GetObjectItemCaseSensitive(ep, "pod");
	const cJSON *addr = cJSON_GetObjectItemCaseSensitive(ep, "address");
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(ep, "port");
	const char *who = cJSON_IsString(pod)	 ? pod->valuestring
			  : cJSON_IsString(addr) ? addr->valuestring
						 : "-";
	bool v6 = !cJSON_IsString(pod) && strchr(who, ':') != NULL;

	if (cJSON_IsNumber(port))
		snprintf(buf, len, "%s%s%s:%d", v6 ? "[" : "", who, v6 ? "]" : "", port->valueint);
	else
		snprintf(buf, len, "%s", who);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_event(const cJSON *ev, enum npgwctl_format fmt)
{
	char src[320], dst[320], by[640];
	const cJSON *rule = cJSON_GetObjectItemCaseSensitive(ev, "rule");
	const char *policy = str(ev, "policy"), *reason = str(ev, "reason");
	const char *type = str(ev, "type") ?: "?";

	if (fmt == NPGWCTL_FMT_JSON) {
		char *s = cJSON_PrintUnformatted(ev);

		if (s != NULL)
			puts(s);
		free(s);
		return;
	}
	endpoint_text(cJSON_GetObjectItemCaseSensitive(ev, "source"), src, sizeof(src));
	endpoint_text(cJSON_GetObjectItemCaseSensitive(ev, "destination"), dst, sizeof(dst));
	if (policy != NULL) {
		char r[32];

		if (cJSON_IsNumber(rule))
			snprintf(r, sizeof(r), "rule %d", rule->valueint);
		else
			snprintf(r, sizeof(r), "default deny");
		snprintf(by, sizeof(by), "%s %s %s%s%s", policy, str(ev, "direction") ?: "?", r,
			 reason ? ": " : "", reason ? reason : "");
	} else if (reason != NULL) {
		snprintf(by, sizeof(by), "%s", reason);
	} else {
		snprintf(by, sizeof(by), "not isolated");
	}
	printf("%s  %-8s %s -> %s %s %s (%s) state %s\n", str(ev, "time") ?: "?",
	       strcmp(type, "new-allowed") == 0 ? "ALLOWED" : "DENIED", src, dst,
	       str(ev, "protocol") ?: "-", type, by, str(ev, "state") ?: "-");
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* SIGINT or SIGTERM during --follow: finish the line, say what was lost,
 * exit 0. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

static int observe_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"verdict", required_argument, NULL, 'v'},
		{"namespace", required_argument, NULL, 'n'},
		{"pod", required_argument, NULL, 'p'},
		{"protocol", required_argument, NULL, 'P'},
		{"port", required_argument, NULL, 't'},
		{"last", required_argument, NULL, 'l'},
		{"follow", no_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	cJSON *args = cJSON_CreateObject();
	bool follow = false;
	double lost0 = -1, missed = 0;
	int opt, rc = NPGWCTL_EXIT_OK;
	long n;
	char *end;

	if (args == NULL)
		return NPGWCTL_EXIT_USAGE;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:fo:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(help, stdout);
			cJSON_Delete(args);
			return NPGWCTL_EXIT_OK;
		case 'v':
			cJSON_AddStringToObject(args, "verdict", optarg);
			break;
		case 'n':
			cJSON_AddStringToObject(args, "namespace", optarg);
			break;
		case 'p':
			cJSON_AddStringToObject(args, "pod", optarg);
			break;
		case 'P':
			cJSON_AddStringToObject(args, "protocol", optarg);
			break;
		case 't':
		case 'l':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1 ||
			    n > (opt == 't' ? 65535 : 10000)) {
				fprintf(stderr, "npgwctl observe: --%s: '%s' is not a number in 1..%d\n",
					opt == 't' ? "port" : "last", optarg,
					opt == 't' ? 65535 : 10000);
				cJSON_Delete(args);
				return NPGWCTL_EXIT_USAGE;
			}
			cJSON_AddNumberToObject(args, opt == 't' ? "port" : "last", (double)n);
			break;
		case 'f':
			follow = true;
			break;
		case 'o':
			if (npgwctl_parse_format("observe", optarg, &fmt) < 0 ||
			    fmt == NPGWCTL_FMT_YAML) {
				if (fmt == NPGWCTL_FMT_YAML)
					fprintf(stderr, "npgwctl observe: -o takes text or json\n");
				cJSON_Delete(args);
				return NPGWCTL_EXIT_USAGE;
			}
			break;
		default:
			fprintf(stderr, "npgwctl observe: %s '%s' (npgwctl observe --help)\n",
				opt == ':' ? "option needs a value:" : "unknown option",
				argv[optind - 1]);
			cJSON_Delete(args);
			return NPGWCTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl observe: unexpected argument '%s'\n", argv[optind]);
		cJSON_Delete(args);
		return NPGWCTL_EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_DFL);
	if (follow) {
		struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	while (!interrupted) {
		cJSON *result = NULL, *ev;
		double lost;

		rc = npgwctl_remote_call("observe", "observe", args, OBSERVE_TIMEOUT_MS, &result);
		if (rc != NPGWCTL_EXIT_OK)
			break;
		cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(result, "events"))
			print_event(ev, fmt);
		fflush(stdout);
		lost = num(result, "lost");
		missed += num(result, "missed");
		if (lost0 < 0) {
			if (!follow || lost > 0)
				fprintf(stderr,
					"npgwctl observe: %.0f events recorded, %.0f lost since the "
					"gateway started (rate limit %.0f, ring full %.0f)\n",
					num(result, "recorded"), lost, num(result, "lost_rate_limit"),
					num(result, "lost_ring_full"));
		} else if (lost > lost0) {
			fprintf(stderr, "npgwctl observe: %.0f more events lost (rate limit or ring full)\n",
				lost - lost0);
		}
		if (num(result, "missed") > 0)
			fprintf(stderr, "npgwctl observe: %.0f events went by before they could be read\n",
				num(result, "missed"));
		lost0 = lost;
		if (!follow) {
			cJSON_Delete(result);
			break;
		}
		cJSON_DeleteItemFromObject(args, "since");
		cJSON_DeleteItemFromObject(args, "last");
		cJSON_AddNumberToObject(args, "since", num(result, "next"));
		cJSON_AddNumberToObject(args, "last", 10000);
		cJSON_Delete(result);
		sleep_ms(FOLLOW_PERIOD_MS);
	}
	if (interrupted && lost0 >= 0)
		fprintf(stderr, "npgwctl observe: stopped; %.0f events lost since the gateway started\n",
			lost0);
	cJSON_Delete(args);
	return rc;
}

const struct npgwctl_command npgwctl_cmd_observe = {
	.name = "observe",
	.usage = "observe [--verdict V] [-n NS] [--pod NS/NAME] [--protocol P] [--port N] "
		 "[--follow] [-o FMT]",
	.summary = "drop and verdict events: new flows allowed and denied, revoked, dropped",
	.handler = observe_main,
};
