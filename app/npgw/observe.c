/*
 * observe.c: the control socket's observe command: the drop and verdict
 * events the workers recorded (lib/dataplane events), filtered, with pod
 * names for addresses, and the count of events lost.
 *
 *   observe {"since"?, "last"?, "verdict"?: "allowed"|"denied"|"all",
 *            "namespace"?, "pod"?: "NS/NAME", "protocol"?, "port"?}
 *   -> {"events": [...], "next": N, "lost": N, "lost_rate_limit": N,
 *       "lost_ring_full": N, "missed": N}
 *
 * "next" is the cursor of the following call (npgwctl observe --follow
 * polls with it); "missed": events from "since" on the history no longer
 * held (a client too slow); "lost": events the workers could not record
 * since start. Control thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway.h"
#include "obs.h"

#define OBSERVE_MAX 10000 /* events one reply carries at most */

/* An address of a pod, for the lookup of event endpoints. */
struct pod_addr {
	struct npgw_addr a;
	const struct npgw_k8s_pod *pod;
};

struct observe {
	struct gateway *gw;
	cJSON *events;
	int n, last;
	int verdict; /* 0 all, 1 allowed, 2 denied */
	const char *ns, *pod;
	int proto; /* -1: any */
	uint16_t port;
	struct pod_addr *pods;
	size_t n_pods;
};

static int pod_addr_cmp(const void *a, const void *b)
{
	return npgw_addr_cmp(&((const struct pod_addr *)a)->a, &((const struct pod_addr *)b)->a);
}

/* Every pod address of the desired state, sorted. Returns 0 or -ENOMEM. */
static int pods_index(struct observe *ob)
{
	const struct npgw_k8s_cluster *c = ob->gw->desired;
	size_t n = 0;

	if (c == NULL)
		return 0;
	for (size_t i = 0; i < c->n_pods; i++)
		n += c->pods[i]->n_addrs;
	ob->pods = calloc(n ? n : 1, sizeof(*ob->pods));
	if (ob->pods == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_pods; i++)
		for (size_t k = 0; k < c->pods[i]->n_addrs; k++) {
			ob->pods[ob->n_pods].a = c->pods[i]->addrs[k];
			ob->pods[ob->n_pods++].pod = c->pods[i];
		}
	qsort(ob->pods, ob->n_pods, sizeof(*ob->pods), pod_addr_cmp);
	return 0;
}

static const struct npgw_k8s_pod *pod_of(const struct observe *ob, const uint8_t *bytes,
					 uint8_t family)
{
	struct pod_addr key = {.a.family = family};
	const struct pod_addr *hit;

	if (family == 0)
		return NULL;
	memcpy(key.a.bytes, bytes, 16);
	hit = bsearch(&key, ob->pods, ob->n_pods, sizeof(*ob->pods), pod_addr_cmp);
	return hit ? hit->pod : NULL;
}

static bool pod_is(const struct npgw_k8s_pod *p, const char *nsname)
{
	size_t nl;

	if (p == NULL)
		return false;
	nl = strlen(p->namespace);
	return strncmp(nsname, p->namespace, nl) == 0 && nsname[nl] == '/' &&
	       strcmp(nsname + nl + 1, p->name) == 0;
}

/* {"address", "port"?, "pod"?} of one end. */
static cJSON *endpoint(const struct npgw_dp_event *e, const uint8_t *bytes, uint16_t port,
		       const struct npgw_k8s_pod *pod)
{
	cJSON *o = cJSON_CreateObject();
	struct npgw_addr a = {.family = e->family};
	char buf[320];

	if (o == NULL)
		return NULL;
	memcpy(a.bytes, bytes, 16);
	cJSON_AddStringToObject(o, "address", e->family ? npgw_addr_format(&a, buf, sizeof(buf))
							: "-");
	if (port != 0)
		cJSON_AddNumberToObject(o, "port", port);
	if (pod != NULL) {
		snprintf(buf, sizeof(buf), "%s/%s", pod->namespace, pod->name);
		cJSON_AddStringToObject(o, "pod", buf);
	}
	return o;
}

static const char *state_name(uint8_t s)
{
	if (s == NPGW_DP_EV_STATE_NONE)
		return "-";
	if (s == NPGW_DP_EV_STATE_UNTRACKED)
		return "untracked";
	return npgw_conntrack_state_name(s);
}

static bool on_event(const struct npgw_dp_event_info *ev, void *arg)
{
	struct observe *ob = arg;
	const struct npgw_dp_event *e = &ev->e;
	const struct npgw_k8s_pod *src = pod_of(ob, e->src, e->family);
	const struct npgw_k8s_pod *dst = pod_of(ob, e->dst, e->family);
	bool allowed = e->type == NPGW_DP_EV_NEW_ALLOWED;
	char buf[384], pb[16];
	struct tm tm;
	cJSON *o;

	if ((ob->verdict == 1 && !allowed) || (ob->verdict == 2 && allowed))
		return true;
	if (ob->ns != NULL && !(src && strcmp(src->namespace, ob->ns) == 0) &&
	    !(dst && strcmp(dst->namespace, ob->ns) == 0))
		return true;
	if (ob->pod != NULL && !pod_is(src, ob->pod) && !pod_is(dst, ob->pod))
		return true;
	if (ob->proto >= 0 && (e->family == 0 || e->proto != ob->proto))
		return true;
	if (ob->port != 0 && e->dport != ob->port)
		return true;
	o = cJSON_CreateObject();
	if (o == NULL)
		return false;
	gmtime_r(&ev->time.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03ldZ",
		 ev->time.tv_nsec / 1000000L);
	cJSON_AddNumberToObject(o, "seq", (double)ev->seq);
	cJSON_AddStringToObject(o, "time", buf);
	cJSON_AddStringToObject(o, "type", npgw_dp_event_type_name(e->type) ?: "?");
	cJSON_AddStringToObject(o, "verdict", allowed ? "allowed" : "denied");
	cJSON_AddItemToObject(o, "source", endpoint(e, e->src, e->sport, src));
	cJSON_AddItemToObject(o, "destination", endpoint(e, e->dst, e->dport, dst));
	cJSON_AddStringToObject(o, "protocol",
				e->family ? npgw_proto_name(e->proto, pb, sizeof(pb)) : "-");
	if (ev->has_rule) {
		snprintf(buf, sizeof(buf), "%s/%s", ev->policy_ns, ev->policy_name);
		cJSON_AddStringToObject(o, "policy", buf);
		cJSON_AddStringToObject(o, "direction",
					ev->dir == NPGW_COMPILE_EGRESS ? "egress" : "ingress");
		if (ev->rule >= 0)
			cJSON_AddNumberToObject(o, "rule", ev->rule);
		else
			cJSON_AddStringToObject(o, "rule", "default");
	}
	if (e->reason != NPGW_DROP_NONE)
		cJSON_AddStringToObject(o, "reason", npgw_drop_name(e->reason) ?: "?");
	cJSON_AddStringToObject(o, "state", state_name(e->state));
	cJSON_AddNumberToObject(o, "generation", (double)e->generation);
	cJSON_AddNumberToObject(o, "worker", e->worker);
	cJSON_AddItemToArray(ob->events, o);
	/* keep the last ones only */
	if (++ob->n > ob->last) {
		cJSON_DeleteItemFromArray(ob->events, 0);
		ob->n--;
	}
	return true;
}

static int cmd_observe(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	struct gateway *gw = arg;
	struct observe ob = {.gw = gw, .proto = -1};
	const char *verdict = "all", *proto = NULL;
	uint64_t since = 0, last = 1000, port = 0, missed = 0, next;
	uint64_t ev = 0, lr = 0, lf = 0;

	if (npgw_ctl_arg_only(args, &r->error, "since", "last", "verdict", "namespace", "pod",
			      "protocol", "port", NULL) < 0 ||
	    npgw_ctl_arg_uint(args, "since", 0, UINT64_C(1) << 53, false, &since, &r->error) < 0 ||
	    npgw_ctl_arg_uint(args, "last", 1, OBSERVE_MAX, false, &last, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "verdict", false, &verdict, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "namespace", false, &ob.ns, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "pod", false, &ob.pod, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "protocol", false, &proto, &r->error) < 0 ||
	    npgw_ctl_arg_uint(args, "port", 1, 65535, false, &port, &r->error) < 0)
		return -EINVAL;
	if (strcmp(verdict, "all") == 0)
		ob.verdict = 0;
	else if (strcmp(verdict, "allowed") == 0)
		ob.verdict = 1;
	else if (strcmp(verdict, "denied") == 0)
		ob.verdict = 2;
	else
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS,
				      "verdict: '%s' is not allowed, denied or all", verdict);
	if (ob.pod != NULL && strchr(ob.pod, '/') == NULL)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS,
				      "pod: '%s' is not NAMESPACE/NAME", ob.pod);
	if (proto != NULL) {
		ob.proto = strcasecmp(proto, "ICMP") == 0     ? NPGW_PROTO_ICMP
			   : strcasecmp(proto, "ICMPv6") == 0 ? NPGW_PROTO_ICMPV6
							      : npgw_proto_parse(proto);
		if (ob.proto < 0)
			return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS,
					      "protocol: '%s' is not TCP, UDP, SCTP, ICMP or ICMPv6",
					      proto);
	}
	if (gw->cfg->events_rate == 0)
		return npgw_ctl_error(&r->error, "events-off",
				      "events are off (config events.rate is 0)");
	ob.port = (uint16_t)port;
	ob.last = (int)last;
	ob.events = cJSON_CreateArray();
	r->result = cJSON_CreateObject();
	if (ob.events == NULL || r->result == NULL || pods_index(&ob) < 0) {
		cJSON_Delete(ob.events);
		free(ob.pods);
		return npgw_ctl_error(&r->error, NPGW_CTL_E_INTERNAL, "out of memory");
	}
	npgw_dp_events_drain(gw->dp);
	next = npgw_dp_events_read(gw->dp, since, on_event, &ob, &missed);
	free(ob.pods);
	for (unsigned int w = 0; w < npgw_dp_n_workers(gw->dp); w++) {
		struct npgw_dp_worker_stats ws;

		if (npgw_dp_get_worker_stats(gw->dp, w, true, &ws) == 0) {
			ev += ws.events;
			lr += ws.events_lost_rate;
			lf += ws.events_lost_full;
		}
	}
	cJSON_AddItemToObject(r->result, "events", ob.events);
	cJSON_AddNumberToObject(r->result, "next", (double)next);
	cJSON_AddNumberToObject(r->result, "recorded", (double)ev);
	cJSON_AddNumberToObject(r->result, "lost", (double)(lr + lf));
	cJSON_AddNumberToObject(r->result, "lost_rate_limit", (double)lr);
	cJSON_AddNumberToObject(r->result, "lost_ring_full", (double)lf);
	cJSON_AddNumberToObject(r->result, "missed", (double)missed);
	return 0;
}

int gw_obs_register_observe(struct gateway *gw)
{
	const struct npgw_ctl_command c = {
		"observe",
		"observe [--verdict denied|allowed|all] [-n NS] [--pod NS/NAME] [--protocol P] "
		"[--port N] [--follow]",
		"drop and verdict events: new flows allowed and denied, revoked, dropped",
		cmd_observe,
		gw,
	};

	return npgw_ctl_register(gw->ctl, &c);
}
