/*
 * main.c: the npgw daemon. Stages run in order, each with its teardown, as
 * a goto ladder whose labels name what they undo:
 *   config -> EAL -> data plane (mempool, ports) -> first generation (the
 *   saved state, else the policy files) -> control socket -> workers ->
 *   control loop -> stop.
 *
 * The control thread (this one, on the main lcore) checks every change
 * and publishes generations with RCU; the builder thread compiles, builds
 * and journals them off the data path and off the control loop, so that
 * other clients are served during a build; a change that fails leaves the
 * live generation in place (gateway.c). The loop serves the control
 * socket (commands.c), the builder's completions and signals: SIGHUP
 * makes the config's policy files the desired state (file mode; in socket
 * mode it changes nothing), SIGUSR1 prints the counters, SIGTERM and
 * SIGINT stop the workers, print the final counters and exit 0.
 *
 * Under systemd (Type=notify) npgw says READY=1 once a generation is live
 * and the workers forward: at start, or, when none could be made then
 * (the posture applies), when the first one goes live. Without
 * $NOTIFY_SOCKET (or built without libsystemd) nothing is sent.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_version.h>

#ifdef NPGW_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "gateway.h"
#include "npgw_state.h"
#include "npgw_config.h"
#include "npgw_ctl.h"
#include "npgw_dataplane.h"
#include "npgw_k8s.h"
#include "obs.h"
#include "npgw_ruleset.h"

#define LOG(level, ...) gw_log(RTE_LOG_##level, __VA_ARGS__)

static const char usage_text[] =
	"usage: npgw --config FILE [--check]\n"
	"\n"
	"Run the npgw gateway: poll-mode workers classify every packet against the\n"
	"cluster's NetworkPolicies and forward or drop it.\n"
	"\n"
	"  -c, --config FILE  the gateway config (see config/npgw.yaml)\n"
	"  --check            read and check the config and the policies, then exit\n"
	"                     (exit 0: fine; 1: errors, printed as FILE:LINE:COL: path:\n"
	"                     message; 2: a file that cannot be read; as npgwctl validate)\n"
	"  -h, --help         this help\n"
	"  --version          print the version\n"
	"\n"
	"One channel owns the desired state (config desired_state): the policy\n"
	"files (files: read at start and on SIGHUP; changes over the socket are\n"
	"refused) or the control socket (socket: npgwctl apply/replace/delete;\n"
	"SIGHUP changes nothing). Every accepted change is journaled in the\n"
	"config's state_dir, fsync'd, before it is acknowledged; at start npgw\n"
	"restores snapshot + journal. One npgw per state_dir (flock).\n"
	"\n"
	"Signals: SIGHUP reloads the policy files in file mode (a reload that\n"
	"fails keeps the live generation), SIGUSR1 prints the counters, SIGTERM\n"
	"and SIGINT stop the gateway and print the final counters.\n";

/* EAL arguments: the config's, then what npgw derives from it: the lcores,
 * the main lcore, and one --vdev or -a per port. */
static char **eal_argv(const struct npgw_config *cfg, int *argc)
{
	size_t n = 1 + cfg->n_eal_args + 1 + 4 + 2 * cfg->n_ports + 1;
	bool simd_set = false;
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
	for (size_t i = 0; i < cfg->n_eal_args; i++) {
		v[k++] = strdup(cfg->eal_args[i]);
		if (strncmp(cfg->eal_args[i], "--force-max-simd-bitwidth", 25) == 0)
			simd_set = true;
	}
	/* rte_acl's 512-bit method runs only when the EAL allows 512-bit
	 * vectors (its default is 256); the config's eal: may say otherwise */
	if (!simd_set)
		v[k++] = strdup("--force-max-simd-bitwidth=512");
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

/* The control socket's version reply: the DPDK version beside ours. */
static int version_extra(void *arg, cJSON *obj)
{
	(void)arg;
	return cJSON_AddStringToObject(obj, "dpdk", rte_version()) ? 0 : -ENOMEM;
}

/* The control socket: its directory is made when missing; its log lines
 * and the audit of changes go to the log type npgw.ctl. */
static struct npgw_ctl *open_control(struct gateway *gw)
{
	const struct npgw_config *cfg = gw->cfg;
	struct npgw_ctl_params p = {
		.path = cfg->control_socket,
		.version_extra = version_extra,
		.log = gw_obs_ctl_log,
		.audit = gw_obs_audit,
		.audit_arg = gw,
	};
	char dir[PATH_MAX];
	char *slash;
	int err = 0;
	struct npgw_ctl *ctl;

	snprintf(dir, sizeof(dir), "%s", cfg->control_socket);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			LOG(WARNING, "cannot create %s: %s", dir, strerror(errno));
	}
	ctl = npgw_ctl_create(&p, &err);
	if (ctl == NULL)
		LOG(ERR, "cannot open the control socket %s: %s", cfg->control_socket,
		    strerror(-err));
	return ctl;
}

/* Tell systemd (Type=notify) that npgw is ready: once, when a generation
 * is live and the workers forward. *done keeps it to once. */
static void notify_ready(const struct gateway *gw, bool *done)
{
	if (*done || gw->generation == 0)
		return;
	*done = true;
#ifdef NPGW_HAVE_SYSTEMD
	sd_notifyf(0, "READY=1\nSTATUS=generation %" PRIu64 " live, %zu worker%s forwarding",
		   gw->generation, gw->cfg->n_workers, gw->cfg->n_workers == 1 ? "" : "s");
#endif
}

static void notify_stopping(void)
{
#ifdef NPGW_HAVE_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}

/* Serve the control socket, snapshots for metrics and telemetry, and
 * signals until SIGTERM or SIGINT; drain the workers' events every 100 ms.
 * The workers forward already. */
static void control_loop(struct gateway *gw, int sfd)
{
	bool ready = false;

	for (;;) {
		struct pollfd pfd[4] = {
			{.fd = sfd, .events = POLLIN},
			{.fd = npgw_ctl_fd(gw->ctl), .events = POLLIN},
			{.fd = gw->done_fd, .events = POLLIN},
			{.fd = gw_obs_fd(gw), .events = POLLIN},
		};
		struct signalfd_siginfo si;

		notify_ready(gw, &ready);
		/* replaced generations wait for the workers' grace period:
		 * look again soon while some do; the workers' events are
		 * drained at least every 100 ms */
		int wait_ms = npgw_dp_reclaim(gw->dp, false) > 0 ? 1 : 100;

		if (poll(pfd, 4, wait_ms) < 0 && errno != EINTR)
			LOG(ERR, "poll: %s", strerror(errno));
		if (pfd[2].revents & POLLIN)
			gw_builder_done(gw);
		if (pfd[1].revents & POLLIN)
			npgw_ctl_process(gw->ctl, 0);
		gw_obs_service(gw);
		notify_ready(gw, &ready);
		if (!(pfd[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGHUP:
			if (gw->cfg->owner == NPGW_OWNER_FILES)
				LOG(INFO, "SIGHUP: the policy files become the desired state");
			gw_reload_files(gw);
			break;
		case SIGUSR1:
			npgw_dp_print_stats(gw->dp, stdout);
			fflush(stdout);
			break;
		case SIGTERM:
		case SIGINT:
			LOG(INFO, "%s: stopping", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			notify_stopping();
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
	struct gateway gw = {0};
	struct npgw_config *cfg = NULL;
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
	cfg = npgw_config_load(config, &diags, &err);
	npgw_diags_print(&diags, stderr);
	npgw_diags_free(&diags);
	if (cfg == NULL) {
		fprintf(stderr, "npgw: %s: config refused\n", config);
		return check && err == -EINVAL ? NPGW_EXIT_FAIL : NPGW_EXIT_USAGE;
	}
	gw.cfg = cfg;
	gw_set_log_level(cfg->log_level);
	/* whoever can write the state directory decides the policy at the
	 * next start: refuse one the gateway cannot trust (--check too) */
	err = npgw_state_check_dir(cfg->state_dir, &diags);
	npgw_diags_print(&diags, stderr);
	npgw_diags_free(&diags);
	if (err < 0) {
		fprintf(stderr, "npgw: refusing to start: the state directory %s %s\n",
			cfg->state_dir,
			err == -EPERM ? "can be changed by others than root and the gateway's user"
				      : "cannot be checked");
		status = 2;
		goto out_config;
	}
	if (check) {
		/* the policy files too; no EAL needed to read them */
		struct npgw_k8s_cluster *c = gw_load_files(cfg);

		status = c != NULL ? NPGW_EXIT_OK : NPGW_EXIT_FAIL;
		fprintf(stderr, "npgw: %s: %s\n", config,
			c != NULL ? "config and policies are fine" : "errors above");
		npgw_k8s_cluster_free(c);
		goto out_config;
	}

	/* stage: EAL */
	eargv = eal_argv(cfg, &eargc);
	if (eargv == NULL)
		goto out_config;
	/* rte_eal_init reorders and rewrites its argv: give it a copy of the
	 * pointers and free the originals */
	eal_copy = calloc((size_t)eargc + 1, sizeof(*eal_copy));
	if (eal_copy == NULL)
		goto out_eal_args;
	memcpy(eal_copy, eargv, (size_t)eargc * sizeof(*eal_copy));
	if (rte_eal_init(eargc, eal_copy) < 0) {
		/* rte_errno is 0 when the EAL failed before setting it (another
		 * process holds the file prefix's lock): say what is likely */
		if (rte_errno == 0 || rte_errno == EALREADY)
			fprintf(stderr, "npgw: cannot start DPDK EAL: see its messages above; when "
				"another DPDK process (another npgw) uses the same file prefix, "
				"give this one its own (eal: [--file-prefix, NAME])\n");
		else
			fprintf(stderr, "npgw: cannot start DPDK EAL (%s; see its messages above)\n",
				rte_strerror(rte_errno));
		goto out_eal_args;
	}
	LOG(INFO, "%s, %s", "npgw " NPGW_VERSION, rte_version());
	err = npgw_ruleset_set_acl_method(cfg->acl_method);
	if (err < 0) {
		LOG(ERR,
		    "%s: acl_method %s is not available here (%s): this CPU, or the EAL's "
		    "--force-max-simd-bitwidth, does not run it; use auto",
		    cfg->file, cfg->acl_method, strerror(-err));
		goto out_eal;
	}
	LOG(INFO, "rte_acl classify method: %s", npgw_ruleset_acl_method());
	npgw_ruleset_set_acl_max_size((size_t)cfg->acl_max_mib << 20);

	/* stage: data plane (mempool, ports) */
	gw.dp = npgw_dp_create(cfg, &err);
	if (gw.dp == NULL) {
		LOG(ERR, "cannot set up the data plane: %s", strerror(-err));
		goto out_eal;
	}

	/* stage: the state directory (locked) and the first generation, live
	 * before any worker forwards */
	if (gw_obs_init(&gw) < 0) {
		LOG(ERR, "out of memory");
		goto out_gateway;
	}
	if (gw_start(&gw) < 0) {
		if (gw.state == NULL) {
			LOG(ERR, "cannot use the state directory %s: stopping", cfg->state_dir);
			goto out_gateway;
		}
		LOG(WARNING, "no generation at start: posture %s",
		    cfg->posture == NPGW_POSTURE_FAIL_OPEN ? "fail-open: forwarding IP unchecked"
							   : "fail-closed: dropping IP");
	}
	LOG(INFO, "the desired state is owned by the %s (config desired_state: %s)",
	    cfg->owner == NPGW_OWNER_FILES ? "policy files" : "control socket",
	    gw_owner_name(&gw));

	/* stage: the builder thread */
	err = gw_builder_start(&gw);
	if (err < 0) {
		LOG(ERR, "cannot start the builder thread: %s", strerror(-err));
		goto out_gateway;
	}

	/* stage: control socket */
	gw.ctl = open_control(&gw);
	if (gw.ctl == NULL)
		goto out_gateway;
	if (gw_register_commands(&gw) < 0 || gw_obs_register_observe(&gw) < 0) {
		LOG(ERR, "cannot register the control commands");
		goto out_ctl;
	}
	LOG(INFO, "control socket %s", cfg->control_socket);

	/* stage: metrics listener and telemetry commands */
	if (gw_obs_start(&gw) < 0)
		goto out_ctl;

	/* stage: signals, then workers */
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (sfd < 0) {
		LOG(ERR, "cannot take signals: %s", strerror(errno));
		goto out_ctl;
	}
	if (npgw_dp_start(gw.dp) < 0) {
		LOG(ERR, "cannot start the workers");
		goto out_signals;
	}
	LOG(INFO, "forwarding with %zu worker%s", cfg->n_workers, cfg->n_workers == 1 ? "" : "s");

	control_loop(&gw, sfd);
	gw_builder_stop(&gw);
	npgw_dp_stop(gw.dp);
	printf("npgw: final counters\n");
	npgw_dp_print_stats(gw.dp, stdout);
	fflush(stdout);
	status = 0;
out_signals:
	close(sfd);
out_ctl:
	gw_obs_fini(&gw);
	gw_builder_stop(&gw);
	npgw_ctl_free(gw.ctl);
out_gateway:
	gw_obs_fini(&gw);
	gw_builder_stop(&gw);
	gw_fini(&gw);
	npgw_dp_free(gw.dp);
out_eal:
	rte_eal_cleanup();
out_eal_args:
	for (int i = 0; i < eargc; i++)
		free(eargv[i]);
	free(eargv);
	free(eal_copy);
out_config:
	npgw_config_free(cfg);
	return status;
}
