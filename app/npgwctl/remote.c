/*
 * remote.c: the npgwctl commands that ask a running gateway over its
 * control socket: version, list-commands, status, stats, get, apply,
 * delete, replace, wait (explain lives in explain.c and calls
 * npgwctl_remote_call too). Each builds the request's args, sends it with
 * lib/ctl's client, and prints the result as text, JSON or YAML.
 *
 * Exit status: 0 success, 1 the gateway refused (its code and message on
 * stderr), 2 usage or connection errors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npgw_ctl.h"
#include "npgwctl.h"

#define CALL_TIMEOUT_MS 10000 /* status, get... */
#define CHANGE_TIMEOUT_MS 120000 /* apply builds tables: seconds for 100k rules */
#define NPGWCTL_MAX_INPUT (64u << 20) /* one file or stdin */

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

/* ---- reading files for apply, delete -f, replace ---- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Add {"name", "text"} for one file (or stdin when fd is 0 and name "-"). */
static int add_document(const char *name, cJSON *docs, const char *cmd)
{
	bool is_stdin = strcmp(name, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 65536;
	char *buf = NULL;
	cJSON *d;

	if (fd < 0) {
		fprintf(stderr, "npgwctl %s: cannot read %s: %s\n", cmd, name, strerror(errno));
		return -1;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t r;

		if (buf == NULL)
			break;
		if (len + 1 >= cap) {
			char *n = cap > NPGWCTL_MAX_INPUT ? NULL : realloc(buf, cap * 2);

			if (n == NULL) {
				fprintf(stderr, "npgwctl %s: %s: larger than %u MiB\n", cmd, name,
					NPGWCTL_MAX_INPUT >> 20);
				free(buf);
				buf = NULL;
				len = 0;
				goto fail;
			}
			buf = n;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "npgwctl %s: cannot read %s: %s\n", cmd, name,
				strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (buf == NULL) {
		fprintf(stderr, "npgwctl %s: out of memory\n", cmd);
		goto fail;
	}
	buf[len] = '\0';
	/* JSON strings carry no NUL: the text would be cut without a word. */
	if (memchr(buf, '\0', len) != NULL) {
		fprintf(stderr, "npgwctl %s: %s: a NUL byte: not a text file\n", cmd, name);
		goto fail;
	}
	d = cJSON_CreateObject();
	if (d == NULL || !cJSON_AddStringToObject(d, "name", is_stdin ? "<stdin>" : name) ||
	    !cJSON_AddStringToObject(d, "text", buf)) {
		cJSON_Delete(d);
		fprintf(stderr, "npgwctl %s: out of memory\n", cmd);
		goto fail;
	}
	cJSON_AddItemToArray(docs, d);
	free(buf);
	if (!is_stdin)
		close(fd);
	return 0;
fail:
	free(buf);
	if (!is_stdin)
		close(fd);
	return -1;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory: its .yaml, .yml and .json files, sorted, not recursive (as
 * npgwctl validate and the daemon's loader read directories). */
static int add_directory(const char *path, cJSON *docs, const char *cmd)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;
	DIR *d = opendir(path);

	if (d == NULL) {
		fprintf(stderr, "npgwctl %s: cannot read %s: %s\n", cmd, path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *full;
		struct stat st;

		if (!ends_with(de->d_name, ".yaml") && !ends_with(de->d_name, ".yml") &&
		    !ends_with(de->d_name, ".json"))
			continue;
		if (asprintf(&full, "%s%s%s", path, ends_with(path, "/") ? "" : "/",
			     de->d_name) < 0) {
			rc = -1;
			break;
		}
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			free(full);
			continue;
		}
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));

			if (nn == NULL) {
				free(full);
				rc = -1;
				break;
			}
			names = nn;
		}
		names[n++] = full;
	}
	closedir(d);
	if (rc == 0 && n == 0)
		fprintf(stderr, "npgwctl %s: warning: no .yaml, .yml or .json file in %s\n", cmd,
			path);
	if (n > 1)
		qsort(names, n, sizeof(*names), str_cmp);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_document(names[i], docs, cmd);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* {"documents": [{"name", "text"}...]} from files, directories and "-". */
static cJSON *read_documents(char **paths, size_t n, const char *cmd)
{
	cJSON *args = cJSON_CreateObject();
	cJSON *docs = cJSON_AddArrayToObject(args, "documents");
	bool stdin_used = false;

	if (docs == NULL) {
		cJSON_Delete(args);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		int rc;

		if (strcmp(paths[i], "-") == 0) {
			if (stdin_used) {
				fprintf(stderr, "npgwctl %s: -f - given twice\n", cmd);
				rc = -1;
			} else {
				stdin_used = true;
				rc = add_document("-", docs, cmd);
			}
		} else if (stat(paths[i], &st) < 0) {
			fprintf(stderr, "npgwctl %s: cannot read %s: %s\n", cmd, paths[i],
				strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = add_directory(paths[i], docs, cmd);
		} else {
			rc = add_document(paths[i], docs, cmd);
		}
		if (rc < 0) {
			cJSON_Delete(args);
			return NULL;
		}
	}
	return args;
}

/* ---- shared option handling ---- */

/* Options every remote command takes: -o FORMAT, -h. Parsed by each
 * command's getopt loop through this helper. Returns 0 when handled, 1
 * when not its option, -1 on error (message printed). */
static int common_opt(const char *cmd, int opt, enum npgwctl_format *fmt)
{
	if (opt == 'o')
		return npgwctl_parse_format(cmd, optarg, fmt) < 0 ? -1 : 0;
	return 1;
}

static int bad_option(const char *cmd, int opt, char **argv)
{
	if (opt == ':')
		fprintf(stderr, "npgwctl %s: option '%s' needs a value\n", cmd, argv[optind - 1]);
	else
		fprintf(stderr, "npgwctl %s: unknown option '%s'\n", cmd, argv[optind - 1]);
	fprintf(stderr, "(npgwctl %s --help)\n", cmd);
	return NPGWCTL_EXIT_USAGE;
}

/* Send, print with fmt (or with text() for the text format), exit status. */
static int run(const char *name, const char *cmd, cJSON *args, int timeout_ms,
	       enum npgwctl_format fmt, void (*text)(const cJSON *))
{
	cJSON *result = NULL;
	int rc = npgwctl_remote_call(name, cmd, args, timeout_ms, &result);

	cJSON_Delete(args);
	if (rc != NPGWCTL_EXIT_OK)
		return rc;
	if (fmt == NPGWCTL_FMT_TEXT && text != NULL)
		text(result);
	else
		npgwctl_print_result(result, fmt);
	cJSON_Delete(result);
	return fflush(stdout) == 0 ? NPGWCTL_EXIT_OK : NPGWCTL_EXIT_USAGE;
}

static const struct option fmt_opts[] = {
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define OUTPUT_HELP                                                                            \
	"  -o, --output FMT  text (default: for people), json or yaml (the result\n"             \
	"                    as the gateway sent it)\n"                                          \
	"  -h, --help        this help\n"
#define EXIT_HELP                                                                              \
	"\nExit status: 0 success, 1 the gateway refused (its error code and message\n"         \
	"on stderr), 2 usage error or no connection to the gateway.\n"

/* A command with no arguments of its own: version, list-commands, status. */
static int simple_main(const char *name, const char *help, int argc, char **argv,
		       void (*text)(const cJSON *))
{
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", fmt_opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(help, stdout);
			return NPGWCTL_EXIT_OK;
		}
		int r = common_opt(name, opt, &fmt);

		if (r < 0)
			return NPGWCTL_EXIT_USAGE;
		if (r > 0)
			return bad_option(name, opt, argv);
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl %s: unexpected argument '%s'\n", name, argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	return run(name, name, NULL, CALL_TIMEOUT_MS, fmt, text);
}

/* ---- version ---- */

static void version_text(const cJSON *r)
{
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(r, "protocol");

	printf("npgwctl: %s (protocol %d)\n", NPGW_VERSION, NPGW_CTL_PROTOCOL_VERSION);
	npgwctl_print_text(r, stdout);
	if (cJSON_IsNumber(proto) && proto->valuedouble != NPGW_CTL_PROTOCOL_VERSION)
		fprintf(stderr, "npgwctl version: warning: the gateway speaks protocol %g, "
				"npgwctl %d\n",
			proto->valuedouble, NPGW_CTL_PROTOCOL_VERSION);
}

static int version_main(int argc, char **argv)
{
	return simple_main("version",
			   "usage: npgwctl version [-o text|json|yaml]\n\n"
			   "The gateway's build version, control protocol version, pid and\n"
			   "DPDK version, and npgwctl's own.\n\n" OUTPUT_HELP EXIT_HELP,
			   argc, argv, version_text);
}

const struct npgwctl_command npgwctl_cmd_version = {
	.name = "version",
	.usage = "version [-o FMT]",
	.summary = "versions of the running gateway and of npgwctl",
	.handler = version_main,
};

/* ---- list-commands ---- */

static void list_text(const cJSON *r)
{
	const cJSON *c, *list = cJSON_GetObjectItemCaseSensitive(r, "commands");

	cJSON_ArrayForEach(c, list) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(c, "usage");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "summary");

		printf("%-40s %s\n", cJSON_IsString(u) ? u->valuestring : "",
		       cJSON_IsString(s) ? s->valuestring : "");
	}
}

static int list_main(int argc, char **argv)
{
	return simple_main("list-commands",
			   "usage: npgwctl list-commands [-o text|json|yaml]\n\n"
			   "The commands the running gateway's control socket answers, with\n"
			   "their usage (in the socket's terms: argument names, not npgwctl's\n"
			   "options).\n\n" OUTPUT_HELP EXIT_HELP,
			   argc, argv, list_text);
}

const struct npgwctl_command npgwctl_cmd_list_commands = {
	.name = "list-commands",
	.usage = "list-commands [-o FMT]",
	.summary = "the commands the gateway's control socket answers",
	.handler = list_main,
};

/* ---- status ---- */

static int status_main(int argc, char **argv)
{
	return simple_main("status",
			   "usage: npgwctl status [-o text|json|yaml]\n\n"
			   "The gateway's state: the live generation, when it was built and how\n"
			   "long that took, rule counts and memory of its tables, the start-up\n"
			   "posture, and whether it is ready (a generation live, ports up).\n\n"
			   OUTPUT_HELP EXIT_HELP,
			   argc, argv, NULL);
}

const struct npgwctl_command npgwctl_cmd_status = {
	.name = "status",
	.usage = "status [-o FMT]",
	.summary = "live generation, build time, table sizes, readiness",
	.handler = status_main,
};

/* ---- stats ---- */

static int stats_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"reset", no_argument, NULL, 'r'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	bool reset = false;
	cJSON *args;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs("usage: npgwctl stats [--reset] [-o text|json|yaml]\n\n"
			      "Counters: per port, per worker, drops by reason, hits per policy\n"
			      "rule.\n\n"
			      "  --reset           zero the counters after reading them (the reply\n"
			      "                    holds the values before the reset)\n" OUTPUT_HELP
				      EXIT_HELP,
			      stdout);
			return NPGWCTL_EXIT_OK;
		}
		if (opt == 'r') {
			reset = true;
			continue;
		}
		int r = common_opt("stats", opt, &fmt);

		if (r < 0)
			return NPGWCTL_EXIT_USAGE;
		if (r > 0)
			return bad_option("stats", opt, argv);
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl stats: unexpected argument '%s'\n", argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	args = cJSON_CreateObject();
	if (args == NULL || (reset && !cJSON_AddTrueToObject(args, "reset"))) {
		cJSON_Delete(args);
		return NPGWCTL_EXIT_USAGE;
	}
	return run("stats", "stats", args, CALL_TIMEOUT_MS, fmt, NULL);
}

const struct npgwctl_command npgwctl_cmd_stats = {
	.name = "stats",
	.usage = "stats [--reset] [-o FMT]",
	.summary = "counters per port, worker, drop reason and policy rule",
	.handler = stats_main,
};

/* ---- get ---- */

/* The kinds get and delete know, with the names people type. */
struct kind {
	const char *get; /* get's kind argument */
	const char *k8s; /* delete's kind: the Kubernetes kind */
	const char *names[6];
	bool namespaced;
};

static const struct kind kinds[] = {
	{"policies", "NetworkPolicy",
	 {"policies", "policy", "networkpolicies", "networkpolicy", "netpol", NULL}, true},
	{"pods", "Pod", {"pods", "pod", "po", NULL}, true},
	{"namespaces", "Namespace", {"namespaces", "namespace", "ns", NULL}, false},
};

static const struct kind *find_kind(const char *s)
{
	for (size_t i = 0; i < NPGW_ARRAY_SIZE(kinds); i++)
		for (size_t j = 0; kinds[i].names[j] != NULL; j++)
			if (strcasecmp(s, kinds[i].names[j]) == 0)
				return &kinds[i];
	return NULL;
}

static const char *get_kind_name; /* for get_text */

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* key=value,... of an object of strings ("-" when empty). */
static char *labels_text(const cJSON *labels)
{
	size_t len = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &len);
	const cJSON *l;
	bool first = true;

	if (f == NULL)
		return NULL;
	cJSON_ArrayForEach(l, labels) {
		fprintf(f, "%s%s=%s", first ? "" : ",", l->string,
			cJSON_IsString(l) ? l->valuestring : "?");
		first = false;
	}
	if (first)
		fputs("-", f);
	fclose(f);
	return s;
}

/* A selector the way kubectl describe shows one: "app=db,tier in (a,b)". */
static char *selector_text(const cJSON *sel)
{
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(sel, "matchLabels");
	const cJSON *me = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions");
	size_t len = 0;
	char *s = NULL;
	FILE *f = open_memstream(&s, &len);
	const cJSON *x;
	bool first = true;

	if (f == NULL)
		return NULL;
	cJSON_ArrayForEach(x, ml) {
		fprintf(f, "%s%s=%s", first ? "" : ",", x->string,
			cJSON_IsString(x) ? x->valuestring : "?");
		first = false;
	}
	cJSON_ArrayForEach(x, me) {
		const char *key = str_at(x, "key", NULL), *op = str_at(x, "operator", NULL);
		const cJSON *vals = cJSON_GetObjectItemCaseSensitive(x, "values"), *v;

		fprintf(f, "%s", first ? "" : ",");
		first = false;
		if (op && strcmp(op, "Exists") == 0) {
			fprintf(f, "%s", key ? key : "?");
		} else if (op && strcmp(op, "DoesNotExist") == 0) {
			fprintf(f, "!%s", key ? key : "?");
		} else {
			bool vf = true;

			fprintf(f, "%s %s (", key ? key : "?",
				op && strcmp(op, "NotIn") == 0 ? "notin" : "in");
			cJSON_ArrayForEach(v, vals) {
				fprintf(f, "%s%s", vf ? "" : ",",
					cJSON_IsString(v) ? v->valuestring : "?");
				vf = false;
			}
			fputc(')', f);
		}
	}
	if (first)
		fputs("(all)", f);
	fclose(f);
	return s;
}

static void add_str(cJSON *row, const char *key, const char *v)
{
	cJSON_AddStringToObject(row, key, v ? v : "-");
}

static void add_owned(cJSON *row, const char *key, char *v)
{
	add_str(row, key, v);
	free(v);
}

/* The text table of get: a row per object with the columns people look
 * at; -o yaml|json give the objects whole. */
static void get_text(const cJSON *r)
{
	const cJSON *items = cJSON_IsArray(r) ? r : cJSON_GetObjectItemCaseSensitive(r, "items");
	cJSON *rows = cJSON_CreateArray();
	const cJSON *o;

	if (cJSON_GetArraySize(items) == 0) {
		fprintf(stderr, "No %s.\n", get_kind_name);
		cJSON_Delete(rows);
		return;
	}
	cJSON_ArrayForEach(o, items) {
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
		cJSON *row = cJSON_CreateObject();

		if (row == NULL)
			break;
		cJSON_AddItemToArray(rows, row);
		if (strcmp(get_kind_name, "namespaces") != 0)
			add_str(row, "namespace", str_at(meta, "namespace", NULL));
		add_str(row, "name", str_at(meta, "name", NULL));
		if (strcmp(get_kind_name, "pods") == 0) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
			const cJSON *ips = cJSON_GetObjectItemCaseSensitive(st, "podIPs"), *ip;
			cJSON *list = cJSON_CreateArray();

			cJSON_ArrayForEach(ip, ips) {
				const char *a = str_at(ip, "ip", NULL);

				if (a != NULL)
					cJSON_AddItemToArray(list, cJSON_CreateString(a));
			}
			if (cJSON_GetArraySize(list) == 0 && str_at(st, "podIP", NULL) != NULL)
				cJSON_AddItemToArray(list,
						     cJSON_CreateString(str_at(st, "podIP", NULL)));
			cJSON_AddItemToObject(row, "ips", list);
			add_owned(row, "labels",
				  labels_text(cJSON_GetObjectItemCaseSensitive(meta, "labels")));
		} else if (strcmp(get_kind_name, "policies") == 0) {
			const cJSON *types = cJSON_GetObjectItemCaseSensitive(spec, "policyTypes");

			add_owned(row, "pod_selector",
				  selector_text(cJSON_GetObjectItemCaseSensitive(spec, "podSelector")));
			if (cJSON_IsArray(types))
				cJSON_AddItemToObject(row, "policy_types",
						      cJSON_Duplicate(types, true));
			else
				add_str(row, "policy_types", NULL);
		} else {
			add_owned(row, "labels",
				  labels_text(cJSON_GetObjectItemCaseSensitive(meta, "labels")));
		}
	}
	npgwctl_print_table(rows, 0, stdout);
	cJSON_Delete(rows);
}

static int get_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"namespace", required_argument, NULL, 'n'},
		{"all-namespaces", no_argument, NULL, 'A'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	const char *ns = NULL;
	const struct kind *k;
	cJSON *args;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:Ao:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs("usage: npgwctl get policies|pods|namespaces [-n NAMESPACE]\n"
			      "                   [-o text|json|yaml]\n\n"
			      "The objects the gateway holds, as applied. The text table shows\n"
			      "names, pod addresses and labels, policy selectors and types; -o yaml\n"
			      "and -o json give the objects whole (a List that npgwctl apply reads\n"
			      "back).\n\n"
			      "  KIND              policies (policy, networkpolicies, netpol), pods\n"
			      "                    (pod, po) or namespaces (namespace, ns)\n"
			      "  -n, --namespace NS  only this namespace (not for namespaces)\n"
			      "  -A, --all-namespaces  every namespace (the default)\n" OUTPUT_HELP
				      EXIT_HELP,
			      stdout);
			return NPGWCTL_EXIT_OK;
		}
		if (opt == 'n') {
			ns = optarg;
			continue;
		}
		if (opt == 'A') {
			ns = NULL;
			continue;
		}
		int r = common_opt("get", opt, &fmt);

		if (r < 0)
			return NPGWCTL_EXIT_USAGE;
		if (r > 0)
			return bad_option("get", opt, argv);
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "npgwctl get: give one kind: policies, pods or namespaces\n");
		return NPGWCTL_EXIT_USAGE;
	}
	k = find_kind(argv[optind]);
	if (k == NULL) {
		fprintf(stderr, "npgwctl get: unknown kind '%s' (policies, pods or namespaces)\n",
			argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	if (ns != NULL && !k->namespaced) {
		fprintf(stderr, "npgwctl get: namespaces are not in a namespace: -n does not "
				"apply\n");
		return NPGWCTL_EXIT_USAGE;
	}
	args = cJSON_CreateObject();
	if (args == NULL || !cJSON_AddStringToObject(args, "kind", k->get) ||
	    (ns != NULL && !cJSON_AddStringToObject(args, "namespace", ns))) {
		cJSON_Delete(args);
		return NPGWCTL_EXIT_USAGE;
	}
	get_kind_name = k->get;
	return run("get", "get", args, CALL_TIMEOUT_MS, fmt, get_text);
}

const struct npgwctl_command npgwctl_cmd_get = {
	.name = "get",
	.usage = "get policies|pods|namespaces [-n NS] [-o FMT]",
	.summary = "the objects the gateway holds, as applied",
	.handler = get_main,
};

/* ---- apply, replace, delete -f ---- */

/* What apply, replace and delete -f share: -f PATH... and -o. */
static int documents_main(const char *name, const char *help, int argc, char **argv,
			  bool allow_names)
{
	static const struct option opts[] = {
		{"filename", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	char **paths = calloc((size_t)argc + 1, sizeof(*paths));
	size_t n = 0;
	cJSON *args = NULL;
	int opt, rc = NPGWCTL_EXIT_USAGE;

	if (paths == NULL)
		return NPGWCTL_EXIT_USAGE;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:o:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(help, stdout);
			rc = NPGWCTL_EXIT_OK;
			goto out;
		}
		if (opt == 'f') {
			paths[n++] = optarg;
			continue;
		}
		int r = common_opt(name, opt, &fmt);

		if (r < 0)
			goto out;
		if (r > 0) {
			rc = bad_option(name, opt, argv);
			goto out;
		}
	}
	if (n == 0) {
		fprintf(stderr, "npgwctl %s: give the objects with -f PATH (a file, a directory "
				"or - for stdin)\n", name);
		goto out;
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl %s: unexpected argument '%s'%s\n", name, argv[optind],
			allow_names ? " (-f and KIND NAME do not mix)" : "");
		goto out;
	}
	args = read_documents(paths, n, name);
	if (args == NULL)
		goto out;
	rc = run(name, name, args, CHANGE_TIMEOUT_MS, fmt, NULL);
out:
	free(paths);
	return rc;
}

#define DOCS_HELP                                                                              \
	"  -f, --filename PATH  a file, a directory (its .yaml, .yml and .json files,\n"        \
	"                    not recursive) or - for stdin; repeatable. The text of each\n"     \
	"                    file is sent as it is: the gateway reads it with its own\n"        \
	"                    loader, so errors name the file, line and column.\n"

static int apply_main(int argc, char **argv)
{
	return documents_main(
		"apply",
		"usage: npgwctl apply -f PATH [-f PATH ...] [-o text|json|yaml]\n\n"
		"Create or update NetworkPolicy, Pod and Namespace objects in the running\n"
		"gateway (YAML or JSON, multi-document, kubectl get -o yaml|json output).\n"
		"Atomic: the whole set is validated, compiled and built, then swapped in;\n"
		"or refused with the validator's messages, and nothing changes. The reply\n"
		"names the new generation.\n\n"
		"  kubectl get networkpolicies,pods,namespaces -A -o yaml | npgwctl apply -f -\n\n"
		DOCS_HELP OUTPUT_HELP EXIT_HELP,
		argc, argv, false);
}

const struct npgwctl_command npgwctl_cmd_apply = {
	.name = "apply",
	.usage = "apply -f PATH [-f PATH ...] [-o FMT]",
	.summary = "create or update objects in the running gateway, atomically",
	.handler = apply_main,
};

static int replace_main(int argc, char **argv)
{
	return documents_main(
		"replace",
		"usage: npgwctl replace -f PATH [-f PATH ...] [-o text|json|yaml]\n\n"
		"Make the given objects the gateway's whole state: every object not in\n"
		"the files is removed, in the same atomic step (validated, compiled,\n"
		"built and swapped in, or refused with nothing changed).\n\n" DOCS_HELP
			OUTPUT_HELP EXIT_HELP,
		argc, argv, false);
}

const struct npgwctl_command npgwctl_cmd_replace = {
	.name = "replace",
	.usage = "replace -f PATH [-f PATH ...] [-o FMT]",
	.summary = "make the given objects the gateway's whole state, atomically",
	.handler = replace_main,
};

static const char delete_help[] =
	"usage: npgwctl delete KIND NAMESPACE/NAME [NAMESPACE/NAME ...] [-o text|json|yaml]\n"
	"       npgwctl delete namespace NAME [NAME ...] [-o text|json|yaml]\n"
	"       npgwctl delete -f PATH [-f PATH ...] [-o text|json|yaml]\n\n"
	"Remove objects from the running gateway, atomically (all or none). KIND is\n"
	"policy (networkpolicy, netpol), pod (po) or namespace (ns). With -f, the\n"
	"objects the files name are removed (the gateway reads them; their content\n"
	"beyond kind, namespace and name does not matter).\n\n" DOCS_HELP OUTPUT_HELP
		EXIT_HELP;

static int delete_main(int argc, char **argv)
{
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	const struct kind *k;
	cJSON *args, *objs;

	/* -f anywhere: the documents form */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-f") == 0 || strncmp(argv[i], "--filename", 10) == 0 ||
		    (strncmp(argv[i], "-f", 2) == 0 && argv[i][2] != '\0'))
			return documents_main("delete", delete_help, argc, argv, true);

	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(delete_help, stdout);
			return NPGWCTL_EXIT_OK;
		}
		int r = common_opt("delete", opt, &fmt);

		if (r < 0)
			return NPGWCTL_EXIT_USAGE;
		if (r > 0)
			return bad_option("delete", opt, argv);
	}
	if (argc - optind < 2) {
		fprintf(stderr, "npgwctl delete: give KIND and NAMESPACE/NAME, or -f PATH "
				"(npgwctl delete --help)\n");
		return NPGWCTL_EXIT_USAGE;
	}
	k = find_kind(argv[optind]);
	if (k == NULL) {
		fprintf(stderr, "npgwctl delete: unknown kind '%s' (policy, pod or namespace)\n",
			argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	args = cJSON_CreateObject();
	objs = cJSON_AddArrayToObject(args, "objects");
	if (objs == NULL) {
		cJSON_Delete(args);
		return NPGWCTL_EXIT_USAGE;
	}
	for (int i = optind + 1; i < argc; i++) {
		const char *slash = strchr(argv[i], '/');
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToArray(objs, o);
		if (k->namespaced && (slash == NULL || slash == argv[i] || slash[1] == '\0' ||
				      strchr(slash + 1, '/') != NULL)) {
			fprintf(stderr, "npgwctl delete: '%s' is not NAMESPACE/NAME\n", argv[i]);
			cJSON_Delete(args);
			return NPGWCTL_EXIT_USAGE;
		}
		if (!k->namespaced && slash != NULL) {
			fprintf(stderr, "npgwctl delete: '%s': a namespace has a plain name\n",
				argv[i]);
			cJSON_Delete(args);
			return NPGWCTL_EXIT_USAGE;
		}
		cJSON_AddStringToObject(o, "kind", k->k8s);
		if (k->namespaced) {
			char *ns = strndup(argv[i], (size_t)(slash - argv[i]));

			cJSON_AddStringToObject(o, "namespace", ns ? ns : "");
			free(ns);
			cJSON_AddStringToObject(o, "name", slash + 1);
		} else {
			cJSON_AddStringToObject(o, "name", argv[i]);
		}
	}
	return run("delete", "delete", args, CHANGE_TIMEOUT_MS, fmt, NULL);
}

const struct npgwctl_command npgwctl_cmd_delete = {
	.name = "delete",
	.usage = "delete KIND NAMESPACE/NAME ... | delete -f PATH ... [-o FMT]",
	.summary = "remove objects from the running gateway, atomically",
	.handler = delete_main,
};

/* ---- wait ---- */

static int wait_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"timeout", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	double timeout = 30;
	unsigned long long gen;
	cJSON *args;
	char *end;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs("usage: npgwctl wait GENERATION [--timeout SECONDS] [-o text|json|yaml]\n\n"
			      "Block until the gateway's live generation is GENERATION or later\n"
			      "(the number an apply replied with), or the timeout passes.\n\n"
			      "  --timeout SECONDS  give up after this long (default 30; fractions\n"
			      "                    allowed; at most 3600); exit status 1 then\n" OUTPUT_HELP
				      EXIT_HELP,
			      stdout);
			return NPGWCTL_EXIT_OK;
		}
		if (opt == 't') {
			errno = 0;
			timeout = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(timeout > 0 && timeout <= 3600)) {
				fprintf(stderr, "npgwctl wait: --timeout: '%s' is not 0..3600 "
						"seconds\n", optarg);
				return NPGWCTL_EXIT_USAGE;
			}
			continue;
		}
		int r = common_opt("wait", opt, &fmt);

		if (r < 0)
			return NPGWCTL_EXIT_USAGE;
		if (r > 0)
			return bad_option("wait", opt, argv);
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "npgwctl wait: give one GENERATION\n");
		return NPGWCTL_EXIT_USAGE;
	}
	errno = 0;
	gen = strtoull(argv[optind], &end, 10);
	if (errno || *end || end == argv[optind] || argv[optind][0] == '-' ||
	    gen > (1ULL << 53)) {
		fprintf(stderr, "npgwctl wait: '%s' is not a generation number\n", argv[optind]);
		return NPGWCTL_EXIT_USAGE;
	}
	int timeout_ms = (int)(timeout * 1000);

	if (timeout_ms < 1)
		timeout_ms = 1;
	args = cJSON_CreateObject();
	if (args == NULL || !npgw_ctl_add_u64(args, "generation", gen) ||
	    !cJSON_AddNumberToObject(args, "timeout_ms", timeout_ms)) {
		cJSON_Delete(args);
		return NPGWCTL_EXIT_USAGE;
	}
	/* The gateway times the wait out; the margin covers the round trip. */
	return run("wait", "wait", args, timeout_ms + 5000, fmt, NULL);
}

const struct npgwctl_command npgwctl_cmd_wait = {
	.name = "wait",
	.usage = "wait GENERATION [--timeout SECONDS] [-o FMT]",
	.summary = "block until a generation is live",
	.handler = wait_main,
};

/* ---- flows ---- */

static int flows_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"address", required_argument, NULL, 'a'},
		{"port", required_argument, NULL, 'p'},
		{"protocol", required_argument, NULL, 'P'},
		{"state", required_argument, NULL, 's'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum npgwctl_format fmt = NPGWCTL_FMT_TEXT;
	const char *addr = NULL, *proto = NULL, *state = NULL;
	long port = 0;
	bool flush = false;
	cJSON *args;
	char *end;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs("usage: npgwctl flows [--address A] [--port N] [--protocol P]\n"
			      "                     [--state S] [-o text|json|yaml]\n"
			      "       npgwctl flows flush\n\n"
			      "The connections the gateway tracks (each worker's flow table), in\n"
			      "their original direction (opener -> responder), or, with flush,\n"
			      "forget them all (established connections are then classified again\n"
			      "at their next packet).\n\n"
			      "  --address A     flows with A at either end (IPv4 or IPv6)\n"
			      "  --port N        flows with port N at either end\n"
			      "  --protocol P    TCP, UDP, SCTP, ICMP or ICMPv6\n"
			      "  --state S       new, syn-recv, established, closing or closed\n"
			      OUTPUT_HELP EXIT_HELP,
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
			proto = optarg;
			continue;
		case 's':
			state = optarg;
			continue;
		default:
			break;
		}
		int r = common_opt("flows", opt, &fmt);

		if (r < 0)
			return NPGWCTL_EXIT_USAGE;
		if (r > 0)
			return bad_option("flows", opt, argv);
	}
	if (optind < argc && strcmp(argv[optind], "flush") == 0) {
		flush = true;
		optind++;
	}
	if (optind < argc) {
		fprintf(stderr, "npgwctl flows: unexpected argument '%s'\n", argv[optind]);
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
	return run("flows", "flows", args, CALL_TIMEOUT_MS, fmt, NULL);
}

const struct npgwctl_command npgwctl_cmd_flows = {
	.name = "flows",
	.usage = "flows [flush] [--address A] [--port N] [--protocol P] [--state S] [-o FMT]",
	.summary = "the tracked connections, or forget them all",
	.handler = flows_main,
};
