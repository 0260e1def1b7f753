/*
 * npgwctl.h: the npgwctl command registry and what the commands share.
 * Each command lives in a file of its own and exports one struct
 * npgwctl_command; main.c lists them. A handler gets argv with argv[0] the
 * command name (global options such as --socket already taken out, from
 * anywhere on the line), and returns the exit status: NPGW_EXIT_OK,
 * NPGW_EXIT_FAIL (the check failed: errors found; or the gateway refused
 * the request), or NPGW_EXIT_USAGE (bad arguments, unreadable input, no
 * connection to the gateway), the convention npgw --check shares
 * (npgw_common.h).
 */
#ifndef NPGWCTL_H
#define NPGWCTL_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "npgw_common.h"

#define NPGWCTL_EXIT_OK NPGW_EXIT_OK
#define NPGWCTL_EXIT_FAIL NPGW_EXIT_FAIL
#define NPGWCTL_EXIT_USAGE NPGW_EXIT_USAGE

#define NPGWCTL_CALL_TIMEOUT_MS 10000 /* status, get... */
#define NPGWCTL_CHANGE_TIMEOUT_MS 120000 /* apply builds tables: seconds for 100k rules */

struct npgwctl_command {
	const char *name;
	const char *usage; /* "validate -f PATH [-f PATH ...] [-o text|json]" */
	const char *summary; /* one line for npgwctl --help */
	int (*handler)(int argc, char **argv);
	/* Its options, for shell completion: "-f --filename -o --output". */
	const char *options;
};

/* Here, offline. */
extern const struct npgwctl_command npgwctl_cmd_validate;
extern const struct npgwctl_command npgwctl_cmd_explain;
extern const struct npgwctl_command npgwctl_cmd_completion;
/* Asking the running gateway. */
extern const struct npgwctl_command npgwctl_cmd_version; /* info.c */
extern const struct npgwctl_command npgwctl_cmd_list_commands;
extern const struct npgwctl_command npgwctl_cmd_status;
extern const struct npgwctl_command npgwctl_cmd_stats; /* stats.c */
extern const struct npgwctl_command npgwctl_cmd_get; /* get.c */
extern const struct npgwctl_command npgwctl_cmd_describe; /* describe.c */
extern const struct npgwctl_command npgwctl_cmd_apply; /* change.c */
extern const struct npgwctl_command npgwctl_cmd_delete;
extern const struct npgwctl_command npgwctl_cmd_replace;
extern const struct npgwctl_command npgwctl_cmd_diff; /* diff.c */
extern const struct npgwctl_command npgwctl_cmd_wait; /* wait.c */
extern const struct npgwctl_command npgwctl_cmd_flows; /* flows.c */

/* Every command, in the order of npgwctl --help (main.c). */
extern const struct npgwctl_command *const npgwctl_commands[];
extern const size_t npgwctl_n_commands;
const struct npgwctl_command *npgwctl_find_command(const char *name);
extern const struct npgwctl_command npgwctl_cmd_observe; /* observe.c */

/* The control socket: --socket PATH, else $NPGW_SOCKET, else the default
 * (set by main before a command runs). */
extern const char *npgwctl_socket;

/*
 * Send cmd with args (borrowed; NULL: none) to the gateway and wait up to
 * timeout_ms. Returns NPGWCTL_EXIT_OK with *result (the caller frees it),
 * NPGWCTL_EXIT_FAIL when the gateway refused (code, message and details
 * printed to stderr as "npgwctl NAME: CODE: MESSAGE"), or
 * NPGWCTL_EXIT_USAGE when it could not be reached (printed).
 */
int npgwctl_remote_call(const char *name, const char *cmd, const cJSON *args, int timeout_ms,
			cJSON **result);

/*
 * {"documents": [{"name", "text"}...]} from files, directories and "-"
 * (stdin), read through lib/doc (npgw_doc_read_path: the daemon's file
 * size limit and encoding checks), and checked against the control
 * socket's message limit before anything is sent. NULL after printing
 * why.
 */
cJSON *npgwctl_read_documents(char **paths, size_t n, const char *cmd);

/* ---- options every command shares (remote.c) ---- */

/* Print "npgwctl CMD: unknown option..." for a getopt error. Returns
 * NPGWCTL_EXIT_USAGE. */
int npgwctl_bad_option(const char *cmd, int opt, char **argv);

/* Watching: --watch repeats a command every interval until interrupted
 * (SIGINT or SIGTERM end it with status 0). */
struct npgwctl_watch {
	bool on;
	double interval_s; /* --interval, default 2 */
};

/* Parse --interval's value. Returns 0 or -1 after printing why. */
int npgwctl_parse_interval(const char *cmd, const char *s, struct npgwctl_watch *w);

/* Send, print with fmt (or with text() for the text formats), exit status;
 * args is taken. With w->on, repeat until interrupted. */
enum npgwctl_format;
int npgwctl_run(const char *name, const char *cmd, cJSON *args, int timeout_ms,
		enum npgwctl_format fmt, void (*text)(const cJSON *, enum npgwctl_format),
		const struct npgwctl_watch *w);

/* Catch SIGINT and SIGTERM to end a watch cleanly. */
void npgwctl_watch_signals(void);
/* Sleep for the watch interval; false when interrupted (stop watching). */
bool npgwctl_watch_sleep(const struct npgwctl_watch *w);

/* A protocol name in any case ("tcp", "Udp"), as the contract spells it
 * ("TCP"), or NULL. accept_icmp: also ICMP and ICMPv6 (flows). */
const char *npgwctl_protocol(const char *s, bool accept_icmp);

#define NPGWCTL_OUTPUT_HELP                                                                    \
	"  -o, --output FMT  text (default: for people), json or yaml (the result\n"             \
	"                    as the gateway sent it)\n"                                          \
	"  -h, --help        this help\n"
#define NPGWCTL_WATCH_HELP                                                                     \
	"  -w, --watch       ask again every --interval seconds (default 2) until\n"            \
	"                    interrupted\n"                                                      \
	"  --interval S      seconds between two answers when watching (0.1..3600)\n"
#define NPGWCTL_EXIT_HELP                                                                      \
	"\nExit status: 0 success, 1 the gateway refused (its error code and message\n"         \
	"on stderr), 2 usage error or no connection to the gateway.\n"

/* ---- kinds (kinds.c) ---- */

/* The kinds get, describe and delete know, with the names people type. */
struct npgwctl_kind {
	const char *get; /* the gateway's get kind: "policies" */
	const char *k8s; /* the Kubernetes kind: "NetworkPolicy" */
	const char *singular; /* for -o name and messages: "networkpolicy" */
	const char *names[8]; /* every accepted spelling, NULL-terminated */
	bool namespaced;
	/* Cluster-scoped kinds the gateway keeps in its policy or pod list
	 * (the tiers, Node): the pseudo-namespace they live under there. */
	const char *scope;
};

/* The kind named s (singular, plural or short, any case), or NULL. */
const struct npgwctl_kind *npgwctl_find_kind(const char *s);
/* "networkpolicies (networkpolicy, netpol, policies, policy), pods (...)": for help. */
extern const struct npgwctl_kind npgwctl_kinds[];
extern const size_t npgwctl_n_kinds;

/*
 * Split a name given on the command line: "NS/NAME", or "NAME" in ns (NULL:
 * any namespace). A namespace kind takes a plain NAME. Writes *ns_out and
 * *name_out (pointers into a copy the caller frees, returned). NULL after
 * printing why.
 */
char *npgwctl_split_name(const char *cmd, const struct npgwctl_kind *k, const char *arg,
			 const char *ns, const char **ns_out, const char **name_out);

/* The gateway's objects (namespaces, pods, policies: three get requests)
 * read back into a cluster with the daemon's loader (describe.c). Returns
 * an exit status; *out is the cluster (caller frees) on NPGWCTL_EXIT_OK. */
struct npgw_k8s_cluster;
int npgwctl_fetch_cluster(const char *cmd, struct npgw_k8s_cluster **out);

/* describe pod / get endpoints: names[0..n) (NS/NAME, or NAME in ns or in
 * any namespace), every pod when n == 0; describe: the full view, else a
 * table (describe.c). */
int npgwctl_endpoints_main(const char *cmd, int n, char **names, int describe, const char *ns,
			   const char *selector, enum npgwctl_format fmt);

/* diff -f and apply --dry-run (diff.c). */
int npgwctl_diff_run(const char *cmd, char **paths, size_t n, enum npgwctl_format fmt,
		     bool dry_run);

/* ---- label selectors (kinds.c): kubectl's -l syntax ---- */

struct npgwctl_selector;
/* Parse "app=web,tier!=db,env in (a,b),!legacy,owner". NULL after printing
 * why. */
struct npgwctl_selector *npgwctl_selector_parse(const char *cmd, const char *s);
/* Does the JSON label map (metadata.labels; NULL: none) match? */
bool npgwctl_selector_matches(const struct npgwctl_selector *sel, const cJSON *labels);
void npgwctl_selector_free(struct npgwctl_selector *sel);

/* ---- output (output.c) ---- */

enum npgwctl_format {
	NPGWCTL_FMT_TEXT, /* for people */
	NPGWCTL_FMT_JSON,
	NPGWCTL_FMT_YAML,
	NPGWCTL_FMT_WIDE, /* text with more columns (get) */
	NPGWCTL_FMT_NAME, /* kind/name per line (get) */
};

/* Formats a command takes, as a mask of 1 << NPGWCTL_FMT_*. */
#define NPGWCTL_FMTS_DATA                                                                      \
	((1u << NPGWCTL_FMT_TEXT) | (1u << NPGWCTL_FMT_JSON) | (1u << NPGWCTL_FMT_YAML))
#define NPGWCTL_FMTS_ALL (NPGWCTL_FMTS_DATA | (1u << NPGWCTL_FMT_WIDE) | (1u << NPGWCTL_FMT_NAME))

/* One of the formats in mask ("text", "wide", "json", "yaml", "name"). Returns 0, or -1
 * after printing why. */
int npgwctl_parse_format_in(const char *cmd, const char *s, unsigned int mask,
			    enum npgwctl_format *out);
/* text, json or yaml. */
int npgwctl_parse_format(const char *cmd, const char *s, enum npgwctl_format *out);

/* A result in a format: JSON (indented), YAML, or the generic text. */
void npgwctl_print_result(const cJSON *result, enum npgwctl_format fmt);

/* Block-style YAML that reads back as the same JSON value in YAML 1.1 and
 * 1.2 (strings a reader could take for something else are quoted). */
void npgwctl_print_yaml(const cJSON *v, FILE *out);

/* For people: key: value lines, nested objects indented, a list of objects
 * as a table. */
void npgwctl_print_text(const cJSON *v, FILE *out);

/* A list of objects as a table, indented: a column per key. */
void npgwctl_print_table(const cJSON *array, int indent, FILE *out);

#endif /* NPGWCTL_H */
