/*
 * ctl_fake_gateway.c: a stand-in for the npgw daemon's control socket, for
 * testing npgwctl end to end before (and apart from) the daemon: the real
 * lib/ctl server, driven as the daemon drives it (poll on npgw_ctl_fd and
 * a signalfd), with handlers that check the args npgwctl sends against the
 * contract and answer with canned results of the documented shapes.
 *
 *   ctl_fake_gateway SOCKET_PATH     runs until SIGTERM or SIGINT
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "npgw_ctl.h"

#define LIVE_GENERATION 3

static struct npgw_ctl *ctl;
static struct npgw_ctl_pending *waiter; /* wait for a generation never built */

static cJSON *parse(const char *json)
{
	cJSON *v = cJSON_Parse(json);

	if (v == NULL)
		abort();
	return v;
}

static int cmd_status(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	(void)arg;
	if (npgw_ctl_arg_only(args, &r->error, NULL) < 0)
		return -EINVAL;
	r->result = parse("{\"generation\":3,\"ready\":true,\"posture\":\"fail-closed\","
			  "\"built_at\":\"2024-05-01T10:00:00Z\",\"build_ms\":1.5,"
			  "\"acl\":{\"rules\":12,\"categories\":4,\"memory_bytes\":65536}}");
	return 0;
}

static int cmd_stats(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	bool reset = false;

	(void)arg;
	if (npgw_ctl_arg_only(args, &r->error, "reset", NULL) < 0 ||
	    npgw_ctl_arg_bool(args, "reset", false, &reset, &r->error) < 0)
		return -EINVAL;
	r->result = parse("{\"ports\":[{\"name\":\"p0\",\"rx_packets\":10,\"tx_packets\":9},"
			  "{\"name\":\"p1\",\"rx_packets\":9,\"tx_packets\":10}],"
			  "\"drops\":{\"policy-ingress\":1,\"malformed\":0}}");
	cJSON_AddBoolToObject(r->result, "reset", reset);
	return 0;
}

static const char *const objects_json =
	"[{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\","
	"\"labels\":{\"kubernetes.io/metadata.name\":\"x\"}}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"x\",\"name\":\"a\","
	"\"labels\":{\"app\":\"web\"}},\"status\":{\"podIPs\":[{\"ip\":\"10.0.1.1\"},"
	"{\"ip\":\"fd00::1\"}]}},"
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"y\",\"name\":\"b\","
	"\"labels\":{\"app\":\"yes\"}},\"status\":{\"podIP\":\"10.0.2.1\"}},"
	"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":"
	"{\"namespace\":\"x\",\"name\":\"allow-web\"},\"spec\":{\"podSelector\":{\"matchLabels\":"
	"{\"app\":\"web\"}},\"policyTypes\":[\"Ingress\"],\"ingress\":[{\"ports\":[{\"port\":80}]}]}}]";

static int cmd_get(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	const char *kind = NULL, *ns = NULL, *want;
	cJSON *all, *items;
	const cJSON *o;

	(void)arg;
	if (npgw_ctl_arg_only(args, &r->error, "kind", "namespace", NULL) < 0 ||
	    npgw_ctl_arg_string(args, "kind", true, &kind, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "namespace", false, &ns, &r->error) < 0)
		return -EINVAL;
	if (strcmp(kind, "policies") == 0)
		want = "NetworkPolicy";
	else if (strcmp(kind, "pods") == 0)
		want = "Pod";
	else if (strcmp(kind, "namespaces") == 0)
		want = "Namespace";
	else
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS, "unknown kind \"%s\"", kind);
	all = parse(objects_json);
	r->result = parse("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[]}");
	items = cJSON_GetObjectItem(r->result, "items");
	cJSON_ArrayForEach(o, all) {
		const cJSON *meta = cJSON_GetObjectItem(o, "metadata");
		const cJSON *ons = cJSON_GetObjectItem(meta, "namespace");

		if (strcmp(cJSON_GetObjectItem(o, "kind")->valuestring, want) != 0)
			continue;
		if (ns != NULL && (!cJSON_IsString(ons) || strcmp(ons->valuestring, ns) != 0))
			continue;
		cJSON_AddItemToArray(items, cJSON_Duplicate(o, true));
	}
	cJSON_Delete(all);
	return 0;
}

/* apply and replace: {"documents": [{"name", "text"}]}; a text with "BAD"
 * in it is refused as the daemon refuses invalid input. */
static int documents(const cJSON *args, struct npgw_ctl_reply *r, int generation)
{
	const cJSON *docs = NULL, *d;
	cJSON *names, *diags;
	double bytes = 0;

	if (npgw_ctl_arg_only(args, &r->error, "documents", NULL) < 0 ||
	    npgw_ctl_arg_array(args, "documents", true, &docs, &r->error) < 0)
		return -EINVAL;
	names = cJSON_CreateArray();
	diags = cJSON_CreateArray();
	cJSON_ArrayForEach(d, docs) {
		const char *name = NULL, *text = NULL;

		if (npgw_ctl_arg_only(d, &r->error, "name", "text", NULL) < 0 ||
		    npgw_ctl_arg_string(d, "name", true, &name, &r->error) < 0 ||
		    npgw_ctl_arg_string(d, "text", true, &text, &r->error) < 0) {
			cJSON_Delete(names);
			cJSON_Delete(diags);
			return -EINVAL;
		}
		cJSON_AddItemToArray(names, cJSON_CreateString(name));
		bytes += (double)strlen(text);
		if (strstr(text, "BAD") != NULL) {
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "file", name);
			cJSON_AddNumberToObject(e, "line", 2);
			cJSON_AddNumberToObject(e, "column", 3);
			cJSON_AddStringToObject(e, "path", "spec.podSelector");
			cJSON_AddStringToObject(e, "message", "BAD is not allowed here");
			cJSON_AddStringToObject(e, "severity", "error");
			cJSON_AddItemToArray(diags, e);
		}
	}
	if (cJSON_GetArraySize(diags) > 0) {
		cJSON_Delete(names);
		r->result = cJSON_CreateObject();
		cJSON_AddItemToObject(r->result, "diagnostics", diags);
		return npgw_ctl_error(&r->error, "invalid", "%d error(s); nothing changed",
				      cJSON_GetArraySize(diags));
	}
	cJSON_Delete(diags);
	r->result = cJSON_CreateObject();
	cJSON_AddNumberToObject(r->result, "generation", generation);
	cJSON_AddItemToObject(r->result, "documents", names);
	cJSON_AddNumberToObject(r->result, "bytes", bytes);
	return 0;
}

static int cmd_apply(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	(void)arg;
	return documents(args, r, LIVE_GENERATION + 1);
}

static int cmd_replace(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	(void)arg;
	return documents(args, r, LIVE_GENERATION + 2);
}

/* delete: {"objects": [{kind, namespace, name}]} or {"documents": [...]} */
static int cmd_delete(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	const cJSON *objs = NULL, *o;

	(void)arg;
	if (cJSON_GetObjectItem(args, "documents") != NULL)
		return documents(args, r, LIVE_GENERATION + 3);
	if (npgw_ctl_arg_only(args, &r->error, "objects", NULL) < 0 ||
	    npgw_ctl_arg_array(args, "objects", true, &objs, &r->error) < 0)
		return -EINVAL;
	cJSON_ArrayForEach(o, objs) {
		const char *kind = NULL, *ns = NULL, *name = NULL;

		if (npgw_ctl_arg_only(o, &r->error, "kind", "namespace", "name", NULL) < 0 ||
		    npgw_ctl_arg_string(o, "kind", true, &kind, &r->error) < 0 ||
		    npgw_ctl_arg_string(o, "namespace", strcmp(kind, "Namespace") != 0, &ns,
					&r->error) < 0 ||
		    npgw_ctl_arg_string(o, "name", true, &name, &r->error) < 0)
			return -EINVAL;
		if (strcmp(name, "missing") == 0)
			return npgw_ctl_error(&r->error, "not-found", "%s %s%s%s not found", kind,
					      ns ? ns : "", ns ? "/" : "", name);
	}
	r->result = cJSON_CreateObject();
	cJSON_AddNumberToObject(r->result, "generation", LIVE_GENERATION + 3);
	cJSON_AddItemToObject(r->result, "deleted", cJSON_Duplicate(objs, true));
	return 0;
}

/* wait {generation, timeout_ms}: generations up to 3 are live; later ones
 * never come, so the wait times out (a deferred reply). */
static int cmd_wait(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	uint64_t gen = 0, t = 30000;

	(void)arg;
	if (npgw_ctl_arg_only(args, &r->error, "generation", "timeout_ms", NULL) < 0 ||
	    npgw_ctl_arg_uint(args, "generation", 0, UINT64_C(1) << 53, true, &gen, &r->error) <
		    0 ||
	    npgw_ctl_arg_uint(args, "timeout_ms", 1, 3600000, false, &t, &r->error) < 0)
		return -EINVAL;
	if (gen <= LIVE_GENERATION) {
		r->result = cJSON_CreateObject();
		cJSON_AddNumberToObject(r->result, "generation", LIVE_GENERATION);
		return 0;
	}
	if (waiter != NULL) { /* one at a time in this fake: drop the old handle */
		npgw_ctl_complete(ctl, waiter, NULL, &(struct npgw_ctl_error){"superseded", ""});
		waiter = NULL;
	}
	waiter = npgw_ctl_defer(r, (int)t);
	return waiter ? NPGW_CTL_DEFER : -EBUSY;
}

/* flows {flush?, address?, port?, protocol?, state?}: the protocol as the
 * contract spells it (npgwctl takes any case and sends this). */
static int cmd_flows(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	const char *proto = NULL;

	(void)arg;
	if (npgw_ctl_arg_only(args, &r->error, "flush", "address", "port", "protocol", "state",
			      NULL) < 0 ||
	    npgw_ctl_arg_string(args, "protocol", false, &proto, &r->error) < 0)
		return -EINVAL;
	if (proto != NULL && strcmp(proto, "TCP") != 0 && strcmp(proto, "UDP") != 0 &&
	    strcmp(proto, "SCTP") != 0 && strcmp(proto, "ICMP") != 0 &&
	    strcmp(proto, "ICMPv6") != 0)
		return npgw_ctl_error(&r->error, NPGW_CTL_E_BAD_ARGS, "protocol \"%s\"", proto);
	r->result = parse("{\"flows\":[],\"count\":0}");
	return 0;
}

static int cmd_explain(void *arg, const cJSON *args, struct npgw_ctl_reply *r)
{
	const char *from = NULL, *to = NULL, *proto = "TCP";
	uint64_t port = 0;

	(void)arg;
	if (npgw_ctl_arg_only(args, &r->error, "from", "to", "protocol", "port", NULL) < 0 ||
	    npgw_ctl_arg_string(args, "from", true, &from, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "to", true, &to, &r->error) < 0 ||
	    npgw_ctl_arg_string(args, "protocol", false, &proto, &r->error) < 0 ||
	    npgw_ctl_arg_uint(args, "port", 1, 65535, true, &port, &r->error) < 0)
		return -EINVAL;
	if (strcmp(from, "x/nope") == 0)
		return npgw_ctl_error(&r->error, "not-found", "no pod x/nope");
	r->result = cJSON_CreateObject();
	cJSON_AddStringToObject(r->result, "from", from);
	cJSON_AddStringToObject(r->result, "to", to);
	cJSON_AddStringToObject(r->result, "protocol", proto);
	cJSON_AddNumberToObject(r->result, "port", (double)port);
	cJSON_AddBoolToObject(r->result, "allowed", port == 80);
	cJSON_AddItemToObject(r->result, "egress", parse("{\"verdict\":\"not-isolated\"}"));
	cJSON_AddItemToObject(r->result, "ingress",
			      port == 80 ? parse("{\"verdict\":\"allow\",\"policy\":\"x/allow-web\","
						 "\"rule\":0}")
					 : parse("{\"verdict\":\"deny\",\"policy\":\"x/allow-web\"}"));
	cJSON_AddNumberToObject(r->result, "generation", LIVE_GENERATION);
	return 0;
}

static int extra(void *arg, cJSON *o)
{
	(void)arg;
	return cJSON_AddStringToObject(o, "dpdk", "DPDK fake") ? 0 : -ENOMEM;
}

int main(int argc, char **argv)
{
	static const struct npgw_ctl_command cmds[] = {
		{"status", "status", "state of the gateway", cmd_status, NULL},
		{"stats", "stats [reset]", "counters", cmd_stats, NULL},
		{"get", "get kind [namespace]", "objects as applied", cmd_get, NULL},
		{"apply", "apply documents", "create or update objects", cmd_apply, NULL},
		{"replace", "replace documents", "the whole state", cmd_replace, NULL},
		{"delete", "delete objects|documents", "remove objects", cmd_delete, NULL},
		{"wait", "wait generation [timeout_ms]", "until a generation is live", cmd_wait,
		 NULL},
		{"explain", "explain from to [protocol] port", "why allowed or denied",
		 cmd_explain, NULL},
		{"flows", "flows [flush] [address] [port] [protocol] [state]", "tracked flows",
		 cmd_flows, NULL},
	};
	struct npgw_ctl_params p = {.version_extra = extra};
	sigset_t mask;
	int err = 0, sfd;

	if (argc != 2) {
		fprintf(stderr, "usage: ctl_fake_gateway SOCKET_PATH\n");
		return 2;
	}
	p.path = argv[1];
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	ctl = npgw_ctl_create(&p, &err);
	if (ctl == NULL || sfd < 0) {
		fprintf(stderr, "ctl_fake_gateway: %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (npgw_ctl_register(ctl, &cmds[i]) < 0)
			return 1;
	for (;;) {
		struct pollfd fds[2] = {{.fd = npgw_ctl_fd(ctl), .events = POLLIN},
					{.fd = sfd, .events = POLLIN}};

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents & POLLIN)
			break;
		if (fds[0].revents & POLLIN)
			npgw_ctl_process(ctl, 0);
		if (waiter != NULL && !npgw_ctl_pending_alive(waiter)) {
			npgw_ctl_complete(ctl, waiter, NULL, NULL); /* timed out: free it */
			waiter = NULL;
		}
	}
	npgw_ctl_free(ctl); /* a waiting client hears "shutdown" */
	close(sfd);
	return 0;
}
