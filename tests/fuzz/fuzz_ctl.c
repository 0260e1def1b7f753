/*
 * fuzz_ctl.c: libFuzzer target for the control protocol (lib/ctl): the
 * framing (newline-delimited requests, blank lines, a last line without a
 * newline, the size limit), the request checks (one JSON object of id, cmd
 * and args, depth, duplicate keys) and the argument helpers, through the
 * real server on a Unix socket in this process.
 *
 * One server is created once, with a small message limit (4 KiB) so that
 * inputs reach it, and three commands besides the built-ins: "args" runs
 * every argument helper the daemon's handlers use, "defer" answers later
 * (the next round of the loop), "fail" returns an error with details.
 * Each input is written on a new connection, then the write side is shut;
 * the server must answer and close within a bounded number of rounds, and
 * every line it sends must be one JSON object with id and ok.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "npgw_common.h"
#include "npgw_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct npgw_ctl *ctl;
static char dir[64], path[96];
static struct npgw_ctl_pending *deferred[64];
static size_t n_deferred;

static int cmd_args(void *arg, const cJSON *args, struct npgw_ctl_reply *reply)
{
	(void)arg;
	const char *s = "";
	uint64_t n = 0;
	bool b = false;
	const cJSON *a = NULL, *o = NULL;
	if (npgw_ctl_arg_only(args, &reply->error, "s", "n", "b", "a", "o", NULL) < 0 ||
	    npgw_ctl_arg_string(args, "s", false, &s, &reply->error) < 0 ||
	    npgw_ctl_arg_uint(args, "n", 1, 1ull << 53, false, &n, &reply->error) < 0 ||
	    npgw_ctl_arg_bool(args, "b", false, &b, &reply->error) < 0 ||
	    npgw_ctl_arg_array(args, "a", false, &a, &reply->error) < 0 ||
	    npgw_ctl_arg_object(args, "o", false, &o, &reply->error) < 0)
		return -EINVAL;
	reply->result = cJSON_CreateObject();
	if (reply->result == NULL)
		return -ENOMEM;
	cJSON_AddStringToObject(reply->result, "s", s);
	cJSON_AddNumberToObject(reply->result, "n", (double)n);
	cJSON_AddBoolToObject(reply->result, "b", b);
	cJSON_AddNumberToObject(reply->result, "a", a ? cJSON_GetArraySize(a) : -1);
	return 0;
}

static int cmd_defer(void *arg, const cJSON *args, struct npgw_ctl_reply *reply)
{
	(void)arg;
	(void)args;
	if (n_deferred == NPGW_ARRAY_SIZE(deferred))
		return npgw_ctl_error(&reply->error, NPGW_CTL_E_BUSY, "too many");
	struct npgw_ctl_pending *p = npgw_ctl_defer(reply, 10000);
	if (p == NULL)
		return -EINVAL; /* the helper set the error */
	deferred[n_deferred++] = p;
	return NPGW_CTL_DEFER;
}

static int cmd_fail(void *arg, const cJSON *args, struct npgw_ctl_reply *reply)
{
	(void)arg;
	reply->result = cJSON_Duplicate(args, true);
	return npgw_ctl_error(&reply->error, "refused", "refused with %d arguments",
			      cJSON_GetArraySize(args));
}

static void complete_deferred(void)
{
	for (size_t i = 0; i < n_deferred; i++) {
		if (npgw_ctl_pending_alive(deferred[i]))
			npgw_ctl_complete(ctl, deferred[i], cJSON_CreateString("later"), NULL);
		else
			npgw_ctl_complete(ctl, deferred[i], NULL, NULL);
	}
	n_deferred = 0;
}

static void cleanup(void)
{
	npgw_ctl_free(ctl);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/npgw-fuzz-ctl-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/s", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		perror(dir);
		exit(1);
	}
	struct npgw_ctl_params p = {.path = path, .max_msg = 4096, .max_output = 1 << 20};
	int err = 0;
	ctl = npgw_ctl_create(&p, &err);
	if (ctl == NULL) {
		fprintf(stderr, "fuzz_ctl: cannot create the server: %s\n", strerror(-err));
		exit(1);
	}
	static const struct npgw_ctl_command cmds[] = {
		{.name = "args", .usage = "args", .summary = "argument helpers", .handler = cmd_args},
		{.name = "defer", .usage = "defer", .summary = "answer later", .handler = cmd_defer},
		{.name = "fail", .usage = "fail", .summary = "an error", .handler = cmd_fail},
	};
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(cmds); i++)
		if (npgw_ctl_register(ctl, &cmds[i]) < 0)
			exit(1);
	atexit(cleanup);
	return 0;
}

/* Check the reply lines in out[0..len): each one JSON object with ok. */
static size_t check_lines(const char *out, size_t len)
{
	size_t start = 0, n = 0;
	for (size_t i = 0; i < len; i++) {
		if (out[i] != '\n')
			continue;
		cJSON *r = cJSON_ParseWithLength(out + start, i - start);
		if (r == NULL || !cJSON_IsObject(r) || !cJSON_IsBool(cJSON_GetObjectItem(r, "ok")) ||
		    cJSON_GetObjectItem(r, "id") == NULL) {
			fprintf(stderr, "fuzz_ctl: bad reply line: %.*s\n", (int)(i - start),
				out + start);
			abort();
		}
		cJSON_Delete(r);
		start = i + 1;
		n++;
	}
	if (start != len) {
		fprintf(stderr, "fuzz_ctl: a reply without its newline\n");
		abort();
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (fd < 0)
		abort();
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	size_t sent = 0, out_len = 0, out_cap = 1 << 16;
	char *out = malloc(out_cap);
	bool shut = false, eof = false;
	for (unsigned int round = 0; !eof; round++) {
		if (round > 100000) {
			fprintf(stderr, "fuzz_ctl: the server neither answered nor closed\n");
			abort();
		}
		if (sent < size) {
			ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN)
				sent = size; /* closed on us (too large): read what came */
		}
		if (sent == size && !shut) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		npgw_ctl_process(ctl, 0);
		complete_deferred();
		for (;;) {
			if (out_cap - out_len < 4096) {
				out_cap *= 2;
				out = realloc(out, out_cap);
				if (out == NULL)
					abort();
			}
			ssize_t r = recv(fd, out + out_len, out_cap - out_len, 0);
			if (r > 0) {
				out_len += (size_t)r;
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				eof = true;
			break;
		}
	}
	close(fd);
	(void)check_lines(out, out_len);
	free(out);
	/* the server forgets the connection */
	for (int i = 0; i < 100 && npgw_ctl_n_clients(ctl) > 0; i++)
		npgw_ctl_process(ctl, 0);
	if (npgw_ctl_n_clients(ctl) > 0)
		abort();
	return 0;
}
