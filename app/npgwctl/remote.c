/*
 * remote.c: what every npgwctl command that asks the running gateway
 * shares: the call over the control socket (lib/ctl's client) and how a
 * refusal is printed; the documents of apply, replace, diff and delete -f,
 * read through lib/doc; -o and --watch handling. The commands themselves
 * are in files of their own (info.c, stats.c, get.c, describe.c,
 * change.c, diff.c, wait.c, flows.c).
 *
 * Exit status: 0 success, 1 the gateway refused (its code and message on
 * stderr), 2 usage or connection errors.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "npgw_ctl.h"
#include "npgw_doc.h"
#include "npgwctl.h"

const char *npgwctl_socket = NPGW_CTL_DEFAULT_PATH;

/* Print a refusal: "npgwctl CMD: CODE: MESSAGE", then the validator's
 * messages when error.details carries them ({"diagnostics": [...]} or the
 * array itself: {file, line, column, path, message, severity}). */
static void print_refusal(const char *name, const cJSON *error)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(error, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(error, "message");
	const cJSON *det = cJSON_GetObjectItemCaseSensitive(error, "details");
	const cJSON *diags = cJSON_IsArray(det) ? det
						: cJSON_GetObjectItemCaseSensitive(det, "diagnostics");
	const cJSON *d;

	fprintf(stderr, "npgwctl %s: %s: %s\n", name,
		cJSON_IsString(code) ? code->valuestring : "error",
		cJSON_IsString(msg) ? msg->valuestring : "(no message)");
	if (!cJSON_IsArray(diags)) {
		if (det != NULL && !cJSON_IsNull(det))
			npgwctl_print_text(det, stderr);
		return;
	}
	cJSON_ArrayForEach(d, diags) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(d, "file");
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(d, "line");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(d, "column");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "path");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(d, "message");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(d, "severity");

		fprintf(stderr, "%s:%d:%d: %s%s%s: %s\n", cJSON_IsString(f) ? f->valuestring : "-",
			cJSON_IsNumber(l) ? (int)l->valuedouble : 0,
			cJSON_IsNumber(c) ? (int)c->valuedouble : 0,
			cJSON_IsString(p) ? p->valuestring : "",
			cJSON_IsString(p) && p->valuestring[0] ? ": " : "",
			cJSON_IsString(s) ? s->valuestring : "error",
			cJSON_IsString(m) ? m->valuestring : "");
	}
}

int npgwctl_remote_call(const char *name, const char *cmd, const cJSON *args, int timeout_ms,
			cJSON **result)
{
	struct npgw_ctl_client *cl;
	cJSON *reply = NULL;
	int err = 0, rc;

	*result = NULL;
	cl = npgw_ctl_client_connect(npgwctl_socket, 5000, &err);
	if (cl == NULL) {
		fprintf(stderr, "npgwctl %s: cannot connect to %s: %s%s\n", name, npgwctl_socket,
			strerror(-err),
			err == -ENOENT || err == -ECONNREFUSED
				? " (is npgw running? --socket PATH or NPGW_SOCKET names the "
				  "socket)"
				: "");
		return NPGWCTL_EXIT_USAGE;
	}
	rc = npgw_ctl_client_call(cl, cmd, args, &reply, timeout_ms);
	npgw_ctl_client_close(cl);
	if (rc < 0) {
		if (rc == -ETIMEDOUT)
			fprintf(stderr, "npgwctl %s: no reply from %s within %d s\n", name,
				npgwctl_socket, timeout_ms / 1000);
		else
			fprintf(stderr, "npgwctl %s: %s: %s\n", name, npgwctl_socket, strerror(-rc));
		return NPGWCTL_EXIT_USAGE;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"))) {
		print_refusal(name, cJSON_GetObjectItemCaseSensitive(reply, "error"));
		cJSON_Delete(reply);
		return NPGWCTL_EXIT_FAIL;
	}
	*result = cJSON_DetachItemFromObjectCaseSensitive(reply, "result");
	if (*result == NULL)
		*result = cJSON_CreateNull();
	cJSON_Delete(reply);
	return *result ? NPGWCTL_EXIT_OK : NPGWCTL_EXIT_USAGE;
}

/* ---- documents for apply, replace, diff, delete -f ---- */

struct docs_arg {
	cJSON *docs;
	const char *cmd;
	size_t bytes; /* the texts' sizes once JSON-escaped */
	bool failed;
};

/* Bytes a string takes in a JSON message (cJSON's escaping). */
static size_t json_size(const char *s, size_t len)
{
	size_t n = 2;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' ||
		    c == '\f')
			n += 2;
		else if (c < 0x20)
			n += 6;
		else
			n++;
	}
	return n;
}

/* npgw_doc_read_path's callback: one file's text as {"name", "text"}. */
static int add_text(void *arg, const char *name, const char *buf, size_t len)
{
	struct docs_arg *a = arg;
	uint32_t line, col;
	const char *why;
	cJSON *d;
	char *text;

	/* JSON strings carry no NUL; the daemon would refuse the rest anyway,
	 * with the same words */
	if ((why = npgw_doc_check_utf8(buf, len, &line, &col)) != NULL) {
		fprintf(stderr, "%s:%u:%u: %s: input must be UTF-8 text\n", name, line, col, why);
		a->failed = true;
		return 0;
	}
	text = strndup(buf, len);
	d = cJSON_CreateObject();
	if (text == NULL || d == NULL || !cJSON_AddStringToObject(d, "name", name) ||
	    !cJSON_AddStringToObject(d, "text", text)) {
		free(text);
		cJSON_Delete(d);
		return -ENOMEM;
	}
	free(text);
	a->bytes += json_size(buf, len) + json_size(name, strlen(name)) + 20;
	cJSON_AddItemToArray(a->docs, d);
	return 0;
}

cJSON *npgwctl_read_documents(char **paths, size_t n, const char *cmd)
{
	cJSON *args = cJSON_CreateObject();
	struct docs_arg a = {.docs = cJSON_AddArrayToObject(args, "documents"), .cmd = cmd};
	struct npgw_diags diags = {0};
	bool stdin_used = false;

	if (a.docs == NULL) {
		cJSON_Delete(args);
		fprintf(stderr, "npgwctl %s: out of memory\n", cmd);
		return NULL;
	}
	for (size_t i = 0; i < n && !a.failed; i++) {
		int rc;

		if (strcmp(paths[i], "-") == 0) {
			if (stdin_used) {
				fprintf(stderr, "npgwctl %s: -f - given twice\n", cmd);
				a.failed = true;
				break;
			}
			stdin_used = true;
		}
		rc = npgw_doc_read_path(paths[i], &diags, add_text, &a);
		if (rc == -ENOMEM) {
			fprintf(stderr, "npgwctl %s: out of memory\n", cmd);
			a.failed = true;
		} else if (rc < 0 && rc != -EINVAL) {
			fprintf(stderr, "npgwctl %s: cannot read %s: %s\n", cmd, paths[i],
				strerror(-rc));
			a.failed = true;
		}
	}
	/* files over lib/doc's limit, unreadable files in a directory, and
	 * the empty-directory warning */
	npgw_diags_print(&diags, stderr);
	if (diags.n_errors > 0)
		a.failed = true;
	npgw_diags_free(&diags);
	if (!a.failed && a.bytes > NPGW_CTL_DEFAULT_MAX_MSG) {
		fprintf(stderr,
			"npgwctl %s: the request would be %zu bytes, over the control socket's limit "
			"of %u MiB: send the files in several commands\n",
			cmd, a.bytes, NPGW_CTL_DEFAULT_MAX_MSG >> 20);
		a.failed = true;
	}
	if (a.failed) {
		cJSON_Delete(args);
		return NULL;
	}
	return args;
}

/* ---- options ---- */

int npgwctl_bad_option(const char *cmd, int opt, char **argv)
{
	if (opt == ':')
		fprintf(stderr, "npgwctl %s: option '%s' needs a value\n", cmd, argv[optind - 1]);
	else
		fprintf(stderr, "npgwctl %s: unknown option '%s'\n", cmd, argv[optind - 1]);
	fprintf(stderr, "(npgwctl %s --help)\n", cmd);
	return NPGWCTL_EXIT_USAGE;
}

int npgwctl_parse_interval(const char *cmd, const char *s, struct npgwctl_watch *w)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || end == s || !(v >= 0.1 && v <= 3600)) {
		fprintf(stderr, "npgwctl %s: --interval: '%s' is not 0.1..3600 seconds\n", cmd, s);
		return -1;
	}
	w->interval_s = v;
	return 0;
}

const char *npgwctl_protocol(const char *s, bool accept_icmp)
{
	static const char *const names[] = {"TCP", "UDP", "SCTP", "ICMP", "ICMPv6"};

	for (size_t i = 0; i < NPGW_ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i]) == 0 && (i < 3 || accept_icmp))
			return names[i];
	return NULL;
}

/* ---- watching ---- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void npgwctl_watch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: nanosleep returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool npgwctl_watch_sleep(const struct npgwctl_watch *w)
{
	double s = w->interval_s > 0 ? w->interval_s : 2.0;
	struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};

	if (interrupted)
		return false;
	nanosleep(&ts, NULL);
	return !interrupted;
}

int npgwctl_run(const char *name, const char *cmd, cJSON *args, int timeout_ms,
		enum npgwctl_format fmt, void (*text)(const cJSON *, enum npgwctl_format),
		const struct npgwctl_watch *w)
{
	bool watching = w != NULL && w->on;
	int rc;

	if (watching)
		npgwctl_watch_signals();
	do {
		cJSON *result = NULL;

		rc = npgwctl_remote_call(name, cmd, args, timeout_ms, &result);
		if (rc != NPGWCTL_EXIT_OK)
			break;
		if (watching && fmt == NPGWCTL_FMT_YAML) {
			printf("---\n"); /* one YAML document per answer */
		} else if (watching && fmt != NPGWCTL_FMT_JSON && fmt != NPGWCTL_FMT_NAME) {
			time_t now = time(NULL);
			struct tm tm;
			char ts[32];

			strftime(ts, sizeof(ts), "%H:%M:%S", localtime_r(&now, &tm));
			printf("--- %s\n", ts);
		}
		if (text != NULL && (fmt == NPGWCTL_FMT_TEXT || fmt == NPGWCTL_FMT_WIDE ||
				     fmt == NPGWCTL_FMT_NAME))
			text(result, fmt);
		else
			npgwctl_print_result(result, fmt);
		cJSON_Delete(result);
		if (fflush(stdout) != 0) {
			rc = NPGWCTL_EXIT_USAGE;
			break;
		}
	} while (watching && npgwctl_watch_sleep(w));
	cJSON_Delete(args);
	return rc;
}
