/*
 * main.c: the npgw daemon. Stages run in order, each with its teardown, as
 * a goto ladder whose labels name what they undo:
 *   config -> EAL -> data plane (mempool, ports) -> first generation ->
 *   workers -> control loop (signals) -> stop.
 *
 * The control thread (this one, on the main lcore) owns every change: it
 * builds generations off the data path and publishes them with RCU; a
 * build that fails leaves the live generation in place. SIGHUP reloads the
 * policy paths of the config, SIGUSR1 prints the counters, SIGTERM and
 * SIGINT stop the workers, print the final counters and exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_version.h>

#include "npgw_config.h"
#include "npgw_dataplane.h"
#include "npgw_k8s.h"

/*
 * The daemon's own messages (start, generations, signals) go to stderr at
 * the config's log_level, whatever level the EAL arguments give DPDK's
 * libraries: an operator always wants to see a generation go live.
 */
static uint32_t log_level = RTE_LOG_INFO;
#define LOG(level, fmt, ...)                                                         \
	do {                                                                         \
		if (RTE_LOG_##level <= log_level)                                    \
			fprintf(stderr, "npgw: " fmt "\n", ##__VA_ARGS__);           \
	} while (0)

static uint32_t parse_log_level(const char *s)
{
	if (s == NULL)
		return RTE_LOG_INFO;
	if (strcmp(s, "error") == 0)
		return RTE_LOG_ERR;
	if (strcmp(s, "warning") == 0)
		return RTE_LOG_WARNING;
	if (strcmp(s, "debug") == 0)
		return RTE_LOG_DEBUG;
	return RTE_LOG_INFO;
}

static const char usage_text[] =
	"usage: npgw --config FILE [--check]\n"
	"\n"
	"Run the npgw gateway: poll-mode workers classify every packet against the\n"
	"cluster's NetworkPolicies and forward or drop it.\n"
	"\n"
	"  -c, --config FILE  the gateway config (see config/npgw.yaml)\n"
	"  --check            read and check the config and the policies, then exit\n"
	"                     (0: fine, 2: errors, printed as FILE:LINE:COL: path: message)\n"
	"  -h, --help         this help\n"
	"  --version          print the version\n"
	"\n"
	"Signals: SIGHUP reloads the policy paths of the config (a reload that\n"
	"fails keeps the live generation), SIGUSR1 prints the counters, SIGTERM\n"
	"and SIGINT stop the gateway and print the final counters.\n";

struct daemon {
	struct npgw_config *cfg;
	struct npgw_dp *dp;
	uint64_t next_generation;
};

/* EAL arguments: the config's, then what npgw derives from it: the lcores,
 * the main lcore, and one --vdev or -a per port. */
static char **eal_argv(const struct npgw_config *cfg, int *argc)
{
	size_t n = 1 + cfg->n_eal_args + 4 + 2 * cfg->n_ports + 1;
	char **v = calloc(n, sizeof(*v));
	char *lcores = NULL;
	size_t len = 0;
	FILE *f;
	int k = 0;

	if (v == NULL)
		return NULL;
	f = open_memstream(&lcores, &len);
	if (f == NULL) {
		free(v);
		return NULL;
	}
	fprintf(f, "%u", cfg->main_lcore);
	for (size_t w = 0; w < cfg->n_workers; w++)
		fprintf(f, ",%u", cfg->workers[w].lcore);
	fclose(f);
	v[k++] = strdup("npgw");
	for (size_t i = 0; i < cfg->n_eal_args; i++)
		v[k++] = strdup(cfg->eal_args[i]);
	v[k++] = strdup("-l");
	v[k++] = lcores;
	v[k++] = strdup("--main-lcore");
	if (asprintf(&v[k++], "%u", cfg->main_lcore) < 0)
		v[k - 1] = NULL;
	for (size_t p = 0; p < cfg->n_ports; p++) {
		const char *dev = cfg->ports[p].device;

		v[k++] = strdup(strncmp(dev, "net_", 4) == 0 ? "--vdev" : "-a");
		v[k++] = strdup(dev);
	}
	for (int i = 0; i < k; i++)
		if (v[i] == NULL) {
			for (int j = 0; j < k; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
	*argc = k;
	return v;
}

/*
 * Read the config's policy paths into a validated cluster, all or nothing.
 * Every message is printed; NULL when anything is wrong.
 */
static struct npgw_k8s_cluster *load_policies(const struct npgw_config *cfg)
{
	struct npgw_diags diags = {0};
	struct npgw_k8s_cluster *c;
	int err = 0;

	c = npgw_k8s_load_paths((const char *const *)cfg->policy_paths, cfg->n_policy_paths,
				&diags, &err);
	npgw_diags_print(&diags, stderr);
	npgw_diags_free(&diags);
	return c;
}

/*
 * Compile the policies and build the next generation. NULL (and the
 * reasons logged) when anything fails: the caller keeps what is live.
 */
static struct npgw_ruleset *build_generation(struct daemon *d)
{
	struct npgw_k8s_cluster *c = load_policies(d->cfg);
	struct npgw_ruleset *rs = NULL;
	struct npgw_ruleset_info info;
	struct npgw_compile_result *cr;
	int err = 0;

	if (c == NULL) {
		LOG(ERR, "policies refused: the live generation stays");
		return NULL;
	}
	cr = npgw_compile(c, &err);
	if (cr != NULL)
		rs = npgw_ruleset_build(cr, d->next_generation, npgw_dp_current(d->dp), &err);
	if (rs == NULL) {
		LOG(ERR, "cannot build a generation: %s; the live generation stays",
		    strerror(-err));
		goto out;
	}
	npgw_ruleset_get_info(rs, &info);
	LOG(INFO,
	    "generation %" PRIu64 ": %zu policies, %zu pods, %zu namespaces -> %u classes, "
	    "%zu ACL rules%s, built in %.1f ms",
	    info.generation, c->n_policies, c->n_pods, c->n_namespaces, info.n_classes,
	    info.n_acl_rules, info.acl_shared ? " (ACL shared with the previous one)" : "",
	    info.build_seconds * 1e3);
	d->next_generation++;
out:
	npgw_k8s_cluster_free(c);
	return rs;
}

static int reload(struct daemon *d)
{
	struct npgw_ruleset *rs = build_generation(d);
	uint64_t gen;

	if (rs == NULL)
		return -EINVAL;
	gen = npgw_ruleset_generation(rs);
	if (npgw_dp_publish(d->dp, rs) < 0) {
		LOG(ERR, "cannot publish generation %" PRIu64, gen);
		return -ENOMEM;
	}
	LOG(INFO, "generation %" PRIu64 " is live", gen);
	return 0;
}

/* Wait for signals until SIGTERM or SIGINT. */
static void control_loop(struct daemon *d, int sfd)
{
	for (;;) {
		struct pollfd pfd = {.fd = sfd, .events = POLLIN};
		struct signalfd_siginfo si;

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			LOG(INFO, "SIGHUP: reloading policies");
			reload(d);
			break;
		case SIGUSR1:
			npgw_dp_print_stats(d->dp, stdout);
			fflush(stdout);
			break;
		case SIGTERM:
		case SIGINT:
			LOG(INFO, "%s: stopping", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		default:
			break;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct daemon d = {.next_generation = 1};
	struct npgw_diags diags = {0};
	const char *config = NULL;
	bool check = false;
	char **eargv = NULL, **eal_copy = NULL;
	int eargc = 0, opt, err = 0, status = 2, sfd = -1;
	sigset_t sigs;

	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("npgw %s (%s)\n", NPGW_VERSION, rte_version());
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (config == NULL || optind < argc) {
		fputs(usage_text, stderr);
		return 2;
	}

	/* Signals are taken by a signalfd in the control loop: block them
	 * before any thread exists (EAL's threads inherit the mask), so none
	 * is ever delivered asynchronously. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0) {
		perror("npgw: sigprocmask");
		return 2;
	}

	/* stage: config */
	d.cfg = npgw_config_load(config, &diags, &err);
	npgw_diags_print(&diags, stderr);
	npgw_diags_free(&diags);
	if (d.cfg == NULL) {
		fprintf(stderr, "npgw: %s: config refused\n", config);
		return 2;
	}
	log_level = parse_log_level(d.cfg->log_level);
	if (check) {
		/* the policies too; no EAL needed to read them */
		struct npgw_k8s_cluster *c = load_policies(d.cfg);

		status = c != NULL ? 0 : 2;
		fprintf(stderr, "npgw: %s: %s\n", config,
			c != NULL ? "config and policies are fine" : "errors above");
		npgw_k8s_cluster_free(c);
		goto out_config;
	}

	/* stage: EAL */
	eargv = eal_argv(d.cfg, &eargc);
	if (eargv == NULL)
		goto out_config;
	/* rte_eal_init reorders and rewrites its argv: give it a copy of the
	 * pointers and free the originals */
	eal_copy = calloc((size_t)eargc + 1, sizeof(*eal_copy));
	if (eal_copy == NULL)
		goto out_eal_args;
	memcpy(eal_copy, eargv, (size_t)eargc * sizeof(*eal_copy));
	if (rte_eal_init(eargc, eal_copy) < 0) {
		fprintf(stderr, "npgw: cannot start DPDK EAL (%s; see its messages above)\n",
			rte_strerror(rte_errno));
		goto out_eal_args;
	}
	LOG(INFO, "%s, %s", "npgw " NPGW_VERSION, rte_version());

	/* stage: data plane (mempool, ports) */
	d.dp = npgw_dp_create(d.cfg, &err);
	if (d.dp == NULL) {
		LOG(ERR, "cannot set up the data plane: %s", strerror(-err));
		goto out_eal;
	}

	/* stage: first generation, live before any worker forwards */
	if (reload(&d) < 0)
		LOG(WARNING, "no generation at start: posture %s",
		    d.cfg->posture == NPGW_POSTURE_FAIL_OPEN ? "fail-open: forwarding IP unchecked"
							     : "fail-closed: dropping IP");

	/* stage: signals, then workers */
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		LOG(ERR, "cannot take signals: %s", strerror(errno));
		goto out_dp;
	}
	if (npgw_dp_start(d.dp) < 0)
		goto out_signals;
	LOG(INFO, "forwarding with %zu worker%s", d.cfg->n_workers,
	    d.cfg->n_workers == 1 ? "" : "s");

	control_loop(&d, sfd);
	npgw_dp_stop(d.dp);
	printf("npgw: final counters\n");
	npgw_dp_print_stats(d.dp, stdout);
	fflush(stdout);
	status = 0;
out_signals:
	close(sfd);
out_dp:
	npgw_dp_free(d.dp);
out_eal:
	rte_eal_cleanup();
out_eal_args:
	for (int i = 0; i < eargc; i++)
		free(eargv[i]);
	free(eargv);
	free(eal_copy);
out_config:
	npgw_config_free(d.cfg);
	return status;
}
