/*
 * obs.c: the gateway's metrics, telemetry, audit log and the port and
 * worker parts of status and stats (observe.c has the event stream).
 *
 * Snapshots: the metrics thread (libmicrohttpd's) and the telemetry
 * thread (DPDK's) never read the data plane. They ask the control thread
 * for a snapshot (an eventfd in its poll set) and wait for it, at most
 * OBS_WAIT_MS; the control thread copies the counters into a new snapshot
 * and swaps a pointer under a mutex (held for the swap only). Snapshots
 * are reference counted: a reader formats from its own reference, so the
 * control thread never waits for a scrape. A snapshot is also taken once
 * a second, and a reader that gets no fresh one in time uses the last.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "gateway.h"
#include "npgw_metrics.h"
#include "obs.h"

RTE_LOG_REGISTER_SUFFIX(obs_ctl_logtype, ctl, INFO);
RTE_LOG_REGISTER_SUFFIX(obs_logtype, metrics, INFO);
#define OBS_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, obs_logtype, "npgw.metrics: " fmt "\n", ##__VA_ARGS__)

#define OBS_WAIT_MS 1000 /* a reader waits this long for a fresh snapshot */
#define OBS_MAX_AGE_S 1.0 /* the control thread refreshes at least this often */

/* npgw_apply_duration_seconds buckets */
static const double apply_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				      0.25,  0.5,    1,     2.5,  5,     10,   30};
#define N_BOUNDS NPGW_ARRAY_SIZE(apply_bounds)

struct obs_hit {
	char ns[64];
	char name[256];
	uint8_t dir, action, tier;
	int32_t rule;
	uint64_t hits;
};

struct obs_snap {
	atomic_int refs;
	uint64_t seq;
	bool ready;
	bool fail_open;
	bool conntrack;
	bool events;
	uint64_t generation;
	uint64_t apply_failures;
	uint64_t apply_counts[N_BOUNDS + 1];
	double apply_sum;
	struct npgw_dp_stats st; /* since start */
	struct {
		bool ok;
		struct npgw_dp_port_info pi;
	} ports[NPGW_CONFIG_MAX_PORTS];
	unsigned int n_workers;
	struct npgw_dp_worker_stats workers[NPGW_CONFIG_MAX_WORKERS];
	size_t n_hits, cap_hits;
	struct obs_hit *hits;
};

struct gw_obs {
	struct gateway *gw;
	int efd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	struct obs_snap *snap;
	uint64_t published; /* seq of snap */
	uint64_t wanted; /* a reader waits for a snapshot of at least this seq */
	bool stopping;
	/* control thread */
	double snap_at; /* monotonic seconds */
	uint64_t apply_failures;
	uint64_t apply_counts[N_BOUNDS + 1];
	double apply_sum;
	struct npgw_metrics_server *http;
};

/* Telemetry callbacks have no argument: the one gateway of the process. */
static struct gw_obs *tel_obs;

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- snapshots ---- */

static void snap_unref(struct obs_snap *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	free(s->hits);
	free(s);
}

static void snap_hit(const struct npgw_compile_meta *m, uint64_t hits, void *arg)
{
	struct obs_snap *s = arg;
	struct obs_hit *h;

	if (s->n_hits == s->cap_hits) {
		size_t cap = s->cap_hits ? 2 * s->cap_hits : 64;
		struct obs_hit *v = realloc(s->hits, cap * sizeof(*v));

		if (v == NULL)
			return; /* the snapshot lacks some rules: logged by the caller */
		s->hits = v;
		s->cap_hits = cap;
	}
	h = &s->hits[s->n_hits++];
	snprintf(h->ns, sizeof(h->ns), "%s", m->policy_ns);
	snprintf(h->name, sizeof(h->name), "%s", m->policy_name);
	h->dir = m->dir;
	h->action = m->action;
	h->tier = m->tier;
	h->rule = m->rule;
	h->hits = hits;
}

/* Copy the counters into a new snapshot and publish it. Control thread. */
static void snap_take(struct gw_obs *o)
{
	struct gateway *gw = o->gw;
	struct obs_snap *s = calloc(1, sizeof(*s)), *old;

	if (s == NULL)
		return;
	atomic_init(&s->refs, 1);
	s->ready = npgw_dp_current(gw->dp) != NULL;
	s->fail_open = gw->cfg->posture == NPGW_POSTURE_FAIL_OPEN;
	s->conntrack = gw->cfg->conntrack.enabled;
	s->events = gw->cfg->events_rate > 0;
	s->generation = gw->generation;
	s->apply_failures = o->apply_failures;
	memcpy(s->apply_counts, o->apply_counts, sizeof(s->apply_counts));
	s->apply_sum = o->apply_sum;
	npgw_dp_get_counters(gw->dp, &s->st);
	for (unsigned int p = 0; p < s->st.n_ports; p++)
		s->ports[p].ok = npgw_dp_port_info(gw->dp, p, &s->ports[p].pi) == 0;
	s->n_workers = NPGW_MIN(npgw_dp_n_workers(gw->dp), (unsigned int)NPGW_CONFIG_MAX_WORKERS);
	for (unsigned int w = 0; w < s->n_workers; w++)
		npgw_dp_get_worker_stats(gw->dp, w, true, &s->workers[w]);
	if (npgw_dp_rule_hits_total(gw->dp, snap_hit, s) < 0)
		OBS_LOG(WARNING, "out of memory: this snapshot has no rule hits");
	o->snap_at = mono_s();

	pthread_mutex_lock(&o->mu);
	s->seq = o->published + 1;
	old = o->snap;
	o->snap = s;
	o->published = s->seq;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	snap_unref(old);
}

/* A snapshot taken after this call began, or (after OBS_WAIT_MS, or when
 * stopping) the last one; NULL when there is none. Any thread but the
 * control thread; release with snap_unref. */
static struct obs_snap *snap_get(struct gw_obs *o)
{
	struct timespec dl;
	struct obs_snap *s;
	uint64_t target, one = 1;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += OBS_WAIT_MS / 1000;
	dl.tv_nsec += (long)(OBS_WAIT_MS % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&o->mu);
	target = o->published + 1;
	if (o->wanted < target)
		o->wanted = target;
	pthread_mutex_unlock(&o->mu);
	if (write(o->efd, &one, sizeof(one)) < 0) {
		/* the counter is full: a request is pending anyway */
	}
	pthread_mutex_lock(&o->mu);
	while (o->published < target && !o->stopping)
		if (pthread_cond_timedwait(&o->cv, &o->mu, &dl) == ETIMEDOUT)
			break;
	s = o->snap;
	if (s != NULL)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&o->mu);
	return s;
}

int gw_obs_fd(const struct gateway *gw)
{
	return gw->obs ? gw->obs->efd : -1;
}

void gw_obs_service(struct gateway *gw)
{
	struct gw_obs *o = gw->obs;
	uint64_t v;
	bool wanted;

	if (o == NULL)
		return;
	npgw_dp_events_drain(gw->dp);
	if (read(o->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nobody asked */
	}
	pthread_mutex_lock(&o->mu);
	wanted = o->wanted > o->published;
	pthread_mutex_unlock(&o->mu);
	if (wanted || mono_s() - o->snap_at >= OBS_MAX_AGE_S)
		snap_take(o);
}

void gw_obs_apply(struct gateway *gw, double seconds, bool ok)
{
	struct gw_obs *o = gw->obs;
	size_t b = 0;

	if (o == NULL)
		return;
	if (!ok) {
		o->apply_failures++;
		return;
	}
	while (b < N_BOUNDS && seconds > apply_bounds[b])
		b++;
	o->apply_counts[b]++;
	o->apply_sum += seconds;
}

/* ---- Prometheus ---- */

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	npgw_metrics_family(f, name, "counter", help);
	npgw_metrics_u64(f, name, NULL, v);
}

static void gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
	npgw_metrics_family(f, name, "gauge", help);
	npgw_metrics_u64(f, name, NULL, v);
}

/* A per-port family: one sample per port. field: offset in port_info. */
static void port_family(FILE *f, const struct obs_snap *s, const char *name, const char *type,
			const char *help, size_t field)
{
	npgw_metrics_family(f, name, type, help);
	for (unsigned int p = 0; p < s->st.n_ports; p++) {
		const char *labels[] = {"port", s->st.ports[p].name, NULL};
		uint64_t v;

		if (!s->ports[p].ok)
			continue;
		if (field == SIZE_MAX)
			v = s->ports[p].pi.link_up;
		else
			memcpy(&v, (const char *)&s->ports[p].pi + field, sizeof(v));
		npgw_metrics_u64(f, name, labels, v);
	}
}

static uint64_t denied_of(const struct npgw_dp_stats *st)
{
	return st->drops[NPGW_DROP_POLICY_EGRESS] + st->drops[NPGW_DROP_POLICY_INGRESS] +
	       st->drops[NPGW_DROP_CT_REVOKED];
}

static void render_snap(FILE *f, const struct obs_snap *s)
{
	const struct npgw_dp_stats *st = &s->st;
	uint64_t ev = 0, lost = 0;
	char num[32];

	npgw_metrics_family(f, "npgw_build_info", "gauge",
			    "npgw's version and the DPDK it runs on (value 1)");
	npgw_metrics_u64(f, "npgw_build_info",
			 (const char *const[]){"version", NPGW_VERSION, "dpdk", rte_version(), NULL}, 1);
	gauge(f, "npgw_generation", "the live generation (0: none yet)", s->generation);
	counter(f, "npgw_generations_published_total", "generations made live since start",
		st->swaps);
	npgw_metrics_family(f, "npgw_apply_duration_seconds", "histogram",
			    "changes from request to live (validate, compile, build, save, "
			    "publish)");
	npgw_metrics_histogram(f, "npgw_apply_duration_seconds", apply_bounds, s->apply_counts,
			       N_BOUNDS, s->apply_sum);
	counter(f, "npgw_apply_failures_total", "changes refused or failed; nothing of them is live",
		s->apply_failures);

	port_family(f, s, "npgw_port_rx_packets_total", "counter", "packets the port received",
		    offsetof(struct npgw_dp_port_info, ipackets));
	port_family(f, s, "npgw_port_tx_packets_total", "counter", "packets the port sent",
		    offsetof(struct npgw_dp_port_info, opackets));
	port_family(f, s, "npgw_port_rx_bytes_total", "counter", "bytes the port received",
		    offsetof(struct npgw_dp_port_info, ibytes));
	port_family(f, s, "npgw_port_tx_bytes_total", "counter", "bytes the port sent",
		    offsetof(struct npgw_dp_port_info, obytes));
	port_family(f, s, "npgw_port_rx_missed_total", "counter",
		    "packets the port dropped because no rx descriptor was free (imissed)",
		    offsetof(struct npgw_dp_port_info, imissed));
	port_family(f, s, "npgw_port_rx_nombuf_total", "counter",
		    "receive failures for want of an mbuf", offsetof(struct npgw_dp_port_info, rx_nombuf));
	port_family(f, s, "npgw_port_link_up", "gauge", "1 when the port's link is up", SIZE_MAX);

	npgw_metrics_family(f, "npgw_packets_total", "counter",
			    "IP packets decided by policy: allowed, or denied (policy-egress, "
			    "policy-ingress, ct-revoked)");
	npgw_metrics_u64(f, "npgw_packets_total", (const char *const[]){"verdict", "allowed", NULL},
			 st->allowed);
	npgw_metrics_u64(f, "npgw_packets_total", (const char *const[]){"verdict", "denied", NULL},
			 denied_of(st));
	npgw_metrics_family(f, "npgw_drops_total", "counter",
			    "packets dropped, by reason (lib/common/npgw_drop.h)");
	for (unsigned int r = 0; r < NPGW_DROP_MAX; r++) {
		const char *name = npgw_drop_name(r);

		if (name != NULL)
			npgw_metrics_u64(f, "npgw_drops_total",
					 (const char *const[]){"reason", name, NULL}, st->drops[r]);
	}
	counter(f, "npgw_non_ip_packets_total", "non-IP frames forwarded (ARP, neighbour discovery)",
		st->non_ip);
	counter(f, "npgw_steered_packets_total",
		"fragments and ICMP errors handed to the worker that holds their flow "
		"(several workers)",
		st->steered);

	npgw_metrics_family(f, "npgw_policy_rule_hits_total", "counter",
			    "new flows (or untracked packets) each rule decided, over every "
			    "generation; rule \"default\" is the policy's default deny; tier "
			    "NetworkPolicy, Admin or Baseline (a tier policy's namespace label is "
			    "its kind)");
	for (size_t i = 0; i < s->n_hits; i++) {
		const struct obs_hit *h = &s->hits[i];

		if (h->rule >= 0)
			snprintf(num, sizeof(num), "%d", h->rule);
		else
			snprintf(num, sizeof(num), "default");
		npgw_metrics_u64(f, "npgw_policy_rule_hits_total",
				 (const char *const[]){"namespace", h->ns, "policy", h->name,
						       "direction",
						       h->dir == NPGW_COMPILE_EGRESS ? "egress"
										     : "ingress",
						       "rule", num, "action",
						       h->action == NPGW_COMPILE_ALLOW	 ? "allow"
						       : h->action == NPGW_COMPILE_PASS ? "pass"
											 : "deny",
						       "tier", npgw_k8s_tier_name(h->tier), NULL},
				 h->hits);
	}

	gauge(f, "npgw_flows_active", "tracked flows, over every worker", st->ct.in_use);
	gauge(f, "npgw_flow_table_capacity", "flows the tables hold, over every worker",
	      st->ct.capacity);
	counter(f, "npgw_flows_created_total", "flows tracked since start", st->ct.inserts);
	counter(f, "npgw_flows_refused_full_total",
		"allowed new flows dropped because the table was full", st->ct.refused);
	counter(f, "npgw_flows_expired_total", "flows that timed out", st->ct.expired);
	counter(f, "npgw_flows_revoked_total", "flows the live policies no longer allow",
		st->ct.revoked);
	gauge(f, "npgw_denied_flows_active", "denied flows remembered, over every worker",
	      st->ct.denied_in_use);
	counter(f, "npgw_denied_flows_created_total", "denied flows remembered since start",
		st->ct.denied_inserts);
	counter(f, "npgw_denied_flows_hits_total",
		"packets dropped by a remembered denied flow, without a classification",
		st->ct.denied_hits);
	counter(f, "npgw_denied_flows_evicted_total",
		"live denied flows forgotten to make room for newer ones", st->ct.denied_evicted);
	counter(f, "npgw_denied_flows_skipped_total",
		"denied flows not remembered: the full denied space admits 1 in 16 "
		"while its entries are not hit (a flood of new flows)",
		st->ct.denied_skipped);
	npgw_metrics_family(f, "npgw_tcp_out_of_window_total", "counter",
			    "TCP segments outside their flow's sequence window: RSTs and FINs "
			    "dropped, others forwarded without moving the flow");
	npgw_metrics_u64(f, "npgw_tcp_out_of_window_total",
			 (const char *const[]){"action", "dropped", NULL}, st->ct.tcp_window_drops);
	npgw_metrics_u64(f, "npgw_tcp_out_of_window_total",
			 (const char *const[]){"action", "passed", NULL}, st->ct.tcp_window_passed);
	counter(f, "npgw_sctp_invalid_total",
		"SCTP packets dropped: another verification tag than their association's, a "
		"chunk after it ended, or bundling SCTP forbids",
		st->ct.sctp_invalid);

	npgw_metrics_family(f, "npgw_worker_polls_total", "counter",
			    "poll rounds over the worker's rx queues");
	for (unsigned int w = 0; w < s->n_workers; w++) {
		snprintf(num, sizeof(num), "%u", w);
		npgw_metrics_u64(f, "npgw_worker_polls_total",
				 (const char *const[]){"worker", num, NULL}, s->workers[w].polls);
	}
	npgw_metrics_family(f, "npgw_worker_busy_polls_total", "counter",
			    "poll rounds that received at least one packet");
	for (unsigned int w = 0; w < s->n_workers; w++) {
		snprintf(num, sizeof(num), "%u", w);
		npgw_metrics_u64(f, "npgw_worker_busy_polls_total",
				 (const char *const[]){"worker", num, NULL},
				 s->workers[w].busy_polls);
	}
	for (unsigned int w = 0; w < s->n_workers; w++) {
		ev += s->workers[w].events;
		lost += s->workers[w].events_lost_rate + s->workers[w].events_lost_full;
	}
	counter(f, "npgw_events_total", "drop and verdict events recorded (npgwctl observe)", ev);
	counter(f, "npgw_events_lost_total",
		"events not recorded: over the per-worker rate limit, or the ring full", lost);
}

/* The metrics server's render callback (its own thread). */
static char *render_metrics(void *arg, size_t *len)
{
	struct gw_obs *o = arg;
	struct obs_snap *s = snap_get(o);
	char *text = NULL;
	FILE *f;

	if (s == NULL)
		return NULL;
	f = open_memstream(&text, len);
	if (f != NULL) {
		render_snap(f, s);
		if (fclose(f) != 0) {
			free(text);
			text = NULL;
		}
	}
	snap_unref(s);
	return text;
}

/* ---- DPDK telemetry ---- */

/* A telemetry dict key: letters, digits, '_' and '/' only ('-' -> '_'). */
static const char *tel_key(const char *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s", s);
	for (char *c = buf; *c; c++)
		if (*c == '-' || *c == '.')
			*c = '_';
	return buf;
}

static int tel_status(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct obs_snap *s = tel_obs ? snap_get(tel_obs) : NULL;
	struct rte_tel_data *ports;

	(void)cmd;
	(void)params;
	if (s == NULL)
		return -EAGAIN;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", NPGW_VERSION);
	rte_tel_data_add_dict_u64(d, "ready", s->ready);
	rte_tel_data_add_dict_u64(d, "generation", s->generation);
	rte_tel_data_add_dict_string(d, "posture", s->fail_open ? "fail-open" : "fail-closed");
	rte_tel_data_add_dict_u64(d, "workers", s->n_workers);
	ports = rte_tel_data_alloc();
	if (ports != NULL) {
		rte_tel_data_start_dict(ports);
		for (unsigned int p = 0; p < s->st.n_ports; p++) {
			char key[64];

			rte_tel_data_add_dict_string(ports,
						     tel_key(s->st.ports[p].name, key, sizeof(key)),
						     !s->ports[p].ok	       ? "unknown"
						     : s->ports[p].pi.link_up ? "up"
									      : "down");
		}
		rte_tel_data_add_dict_container(d, "links", ports, 0);
	}
	snap_unref(s);
	return 0;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct obs_snap *s = tel_obs ? snap_get(tel_obs) : NULL;
	struct rte_tel_data *drops;
	uint64_t ev = 0, lost = 0;

	(void)cmd;
	(void)params;
	if (s == NULL)
		return -EAGAIN;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "generation", s->generation);
	rte_tel_data_add_dict_u64(d, "rx", s->st.rx);
	rte_tel_data_add_dict_u64(d, "tx", s->st.tx);
	rte_tel_data_add_dict_u64(d, "allowed", s->st.allowed);
	rte_tel_data_add_dict_u64(d, "denied", denied_of(&s->st));
	rte_tel_data_add_dict_u64(d, "dropped", s->st.drops_total);
	rte_tel_data_add_dict_u64(d, "non_ip", s->st.non_ip);
	for (unsigned int w = 0; w < s->n_workers; w++) {
		ev += s->workers[w].events;
		lost += s->workers[w].events_lost_rate + s->workers[w].events_lost_full;
	}
	rte_tel_data_add_dict_u64(d, "events", ev);
	rte_tel_data_add_dict_u64(d, "events_lost", lost);
	drops = rte_tel_data_alloc();
	if (drops != NULL) {
		rte_tel_data_start_dict(drops);
		for (unsigned int r = 0; r < NPGW_DROP_MAX; r++) {
			char key[32];

			if (s->st.drops[r] > 0 && npgw_drop_name(r) != NULL)
				rte_tel_data_add_dict_u64(drops,
							  tel_key(npgw_drop_name(r), key, sizeof(key)),
							  s->st.drops[r]);
		}
		rte_tel_data_add_dict_container(d, "drops", drops, 0);
	}
	snap_unref(s);
	return 0;
}

static int tel_flows(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct obs_snap *s = tel_obs ? snap_get(tel_obs) : NULL;
	struct rte_tel_data *per;

	(void)cmd;
	(void)params;
	if (s == NULL)
		return -EAGAIN;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "tracking", s->conntrack);
	rte_tel_data_add_dict_u64(d, "active", s->st.ct.in_use);
	rte_tel_data_add_dict_u64(d, "capacity", s->st.ct.capacity);
	rte_tel_data_add_dict_u64(d, "created", s->st.ct.inserts);
	rte_tel_data_add_dict_u64(d, "refused_full", s->st.ct.refused);
	rte_tel_data_add_dict_u64(d, "expired", s->st.ct.expired);
	rte_tel_data_add_dict_u64(d, "revoked", s->st.ct.revoked);
	per = rte_tel_data_alloc();
	if (per != NULL) {
		rte_tel_data_start_array(per, RTE_TEL_U64_VAL);
		for (unsigned int w = 0; w < s->n_workers; w++)
			rte_tel_data_add_array_u64(per, s->workers[w].flows);
		rte_tel_data_add_dict_container(d, "active_per_worker", per, 0);
	}
	snap_unref(s);
	return 0;
}

/* ---- life cycle ---- */

int gw_obs_init(struct gateway *gw)
{
	struct gw_obs *o = calloc(1, sizeof(*o));
	pthread_condattr_t ca;

	if (o == NULL)
		return -ENOMEM;
	o->gw = gw;
	o->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (o->efd < 0) {
		free(o);
		return -errno;
	}
	pthread_mutex_init(&o->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cv, &ca);
	pthread_condattr_destroy(&ca);
	gw->obs = o;
	return 0;
}

int gw_obs_start(struct gateway *gw)
{
	struct gw_obs *o = gw->obs;
	const char *listen = gw->cfg->metrics_listen;
	int rc;

	snap_take(o);
	tel_obs = o;
	if (rte_telemetry_register_cmd("/npgw/status", tel_status,
				       "npgw: ready, generation, posture, link of every port") < 0 ||
	    rte_telemetry_register_cmd("/npgw/stats", tel_stats,
				       "npgw: packets allowed, denied, dropped by reason; events") <
		    0 ||
	    rte_telemetry_register_cmd("/npgw/flows", tel_flows,
				       "npgw: tracked flows: active, capacity, created, refused, "
				       "expired, revoked") < 0)
		OBS_LOG(WARNING, "cannot register the /npgw telemetry commands");
	if (listen != NULL) {
		struct npgw_addr a;
		uint16_t port;

		if (npgw_addr_port_parse(listen, &a, &port) < 0) {
			OBS_LOG(ERR, "metrics.listen: \"%s\" is not ADDR:PORT", listen);
			return -EINVAL;
		}
		o->http = npgw_metrics_server_start(&a, port, render_metrics, o, &rc);
		if (o->http == NULL) {
			OBS_LOG(ERR, "cannot serve metrics on %s: %s", listen, strerror(-rc));
			return rc;
		}
		OBS_LOG(INFO, "metrics on http://%s/metrics", listen);
	}
	return 0;
}

void gw_obs_fini(struct gateway *gw)
{
	struct gw_obs *o = gw->obs;

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->stopping = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	npgw_metrics_server_stop(o->http);
	/* telemetry commands cannot be unregistered: they find no gateway */
	tel_obs = NULL;
	snap_unref(o->snap);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	close(o->efd);
	free(o);
	gw->obs = NULL;
}

/* ---- status and stats ---- */

void gw_obs_status(struct gateway *gw, cJSON *o)
{
	struct npgw_dp_stats st;
	cJSON *ports = cJSON_AddArrayToObject(o, "ports");
	unsigned int up = 0;

	npgw_dp_get_counters(gw->dp, &st);
	for (unsigned int p = 0; ports != NULL && p < st.n_ports; p++) {
		struct npgw_dp_port_info pi;
		cJSON *po = cJSON_CreateObject();
		int rc = npgw_dp_port_info(gw->dp, p, &pi);

		if (po == NULL)
			break;
		cJSON_AddStringToObject(po, "name", st.ports[p].name);
		if (rc < 0) {
			cJSON_AddStringToObject(po, "link", "unknown");
			cJSON_AddStringToObject(po, "error", strerror(-rc));
		} else {
			up += pi.link_up;
			cJSON_AddStringToObject(po, "link", pi.link_up ? "up" : "down");
			cJSON_AddNumberToObject(po, "speed_mbps", pi.speed_mbps);
			cJSON_AddStringToObject(po, "duplex", pi.full_duplex ? "full" : "half");
		}
		cJSON_AddItemToArray(ports, po);
	}
	cJSON_AddNumberToObject(o, "ports_up", up);
	cJSON_AddStringToObject(o, "metrics", gw->cfg->metrics_listen ? gw->cfg->metrics_listen
								       : "off");
}

void gw_obs_stats(struct gateway *gw, cJSON *o)
{
	cJSON *workers = cJSON_AddArrayToObject(o, "workers");
	uint64_t ev = 0, lr = 0, lf = 0;

	for (unsigned int w = 0; workers != NULL && w < npgw_dp_n_workers(gw->dp); w++) {
		struct npgw_dp_worker_stats ws;
		cJSON *wo;

		if (npgw_dp_get_worker_stats(gw->dp, w, false, &ws) < 0 ||
		    (wo = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddNumberToObject(wo, "worker", w);
		cJSON_AddNumberToObject(wo, "lcore", ws.lcore);
		cJSON_AddNumberToObject(wo, "rx", (double)ws.rx);
		cJSON_AddNumberToObject(wo, "tx", (double)ws.tx);
		cJSON_AddNumberToObject(wo, "allowed", (double)ws.allowed);
		cJSON_AddNumberToObject(wo, "dropped", (double)ws.dropped);
		cJSON_AddNumberToObject(wo, "polls", (double)ws.polls);
		cJSON_AddNumberToObject(wo, "busy_polls", (double)ws.busy_polls);
		cJSON_AddNumberToObject(wo, "flows", (double)ws.flows);
		cJSON_AddNumberToObject(wo, "events", (double)ws.events);
		cJSON_AddNumberToObject(wo, "events_lost",
					(double)(ws.events_lost_rate + ws.events_lost_full));
		cJSON_AddItemToArray(workers, wo);
		ev += ws.events;
		lr += ws.events_lost_rate;
		lf += ws.events_lost_full;
	}
	if (gw->cfg->events_rate > 0) {
		cJSON *e = cJSON_AddObjectToObject(o, "events");

		if (e != NULL) {
			cJSON_AddNumberToObject(e, "recorded", (double)ev);
			cJSON_AddNumberToObject(e, "lost_rate_limit", (double)lr);
			cJSON_AddNumberToObject(e, "lost_ring_full", (double)lf);
		}
	}
}

/* ---- control socket: log and audit ---- */

void gw_obs_ctl_log(void *arg, int level, const char *msg)
{
	(void)arg;
	/* lib/ctl's levels are syslog's, as are DPDK's plus one */
	rte_log((uint32_t)level + 1, obs_ctl_logtype, "npgw.ctl: %s\n", msg);
}

/* "a.yaml, b.yaml" (documents) or "Pod x/a, ..." (objects) of a request. */
static void what_changed(const cJSON *args, char *buf, size_t len)
{
	const cJSON *docs = cJSON_GetObjectItemCaseSensitive(args, "documents");
	const cJSON *objs = cJSON_GetObjectItemCaseSensitive(args, "objects");
	const cJSON *list = cJSON_IsArray(docs) ? docs : cJSON_IsArray(objs) ? objs : NULL;
	const cJSON *it;
	size_t o = 0;
	int n = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, list) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *kind = cJSON_GetObjectItemCaseSensitive(it, "kind");
		const cJSON *ns = cJSON_GetObjectItemCaseSensitive(it, "namespace");
		int k;

		if (!cJSON_IsString(name))
			continue;
		if (o + 8 >= len) {
			n++;
			continue;
		}
		if (cJSON_IsString(kind))
			k = snprintf(buf + o, len - o, "%s%s %s%s%s", o ? ", " : "", kind->valuestring,
				     cJSON_IsString(ns) ? ns->valuestring : "",
				     cJSON_IsString(ns) ? "/" : "", name->valuestring);
		else
			k = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", name->valuestring);
		if (k < 0 || (size_t)k >= len - o) {
			buf[o] = '\0';
			n++;
			continue;
		}
		o += (size_t)k;
	}
	if (n > 0 && o + 16 < len)
		snprintf(buf + o, len - o, " and %d more", n);
}

void gw_obs_audit(void *arg, const struct npgw_ctl_audit *a)
{
	struct gateway *gw = arg;
	const cJSON *objects = a->ok ? cJSON_GetObjectItemCaseSensitive(a->result, "objects") : NULL;
	char what[512], why[1100] = "", live[48] = "";
	bool change = strcmp(a->cmd, "apply") == 0 || strcmp(a->cmd, "replace") == 0 ||
		      strcmp(a->cmd, "delete") == 0;

	what_changed(a->args, what, sizeof(what));
	if (!change && a->args != NULL) {
		/* flows flush and stats reset change the gateway too */
		if (strcmp(a->cmd, "flows") == 0 &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a->args, "flush"))) {
			change = true;
			snprintf(what, sizeof(what), "every tracked flow forgotten");
		} else if (strcmp(a->cmd, "stats") == 0 &&
			   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a->args, "reset"))) {
			change = true;
			snprintf(what, sizeof(what), "counters reset");
		}
	}
	if (!change)
		return;
	if (!a->ok)
		snprintf(why, sizeof(why), " (%s: %s)", a->error->code, a->error->message);
	if (cJSON_IsNumber(objects))
		snprintf(live, sizeof(live), " (%d objects live)", objects->valueint);
	rte_log(RTE_LOG_NOTICE, obs_ctl_logtype,
		"npgw.ctl: audit: uid %u pid %d %s %s%s: generation %" PRIu64 "%s%s, %s, %.1f ms\n",
		(unsigned int)a->uid, (int)a->pid, a->cmd, a->ok ? "accepted" : "refused", why,
		gw->generation, a->ok ? "" : " stays", live, what[0] ? what : "-", a->ms);
}
