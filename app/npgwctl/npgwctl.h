/*
 * npgwctl.h: the npgwctl command registry. Each command lives in its own
 * file and exports one struct npgwctl_command; main.c lists them. A
 * handler gets argv with argv[0] the command name, and returns the exit
 * status: NPGWCTL_EXIT_OK, _FAIL (the check failed: errors found; or the
 * gateway refused the request), or _USAGE (bad arguments, unreadable
 * input, no connection to the gateway).
 */
#ifndef NPGWCTL_H
#define NPGWCTL_H

#include <stdio.h>

#include <cjson/cJSON.h>

#define NPGWCTL_EXIT_OK 0
#define NPGWCTL_EXIT_FAIL 1
#define NPGWCTL_EXIT_USAGE 2

struct npgwctl_command {
	const char *name;
	const char *usage; /* "validate -f PATH [-f PATH ...] [-o text|json]" */
	const char *summary; /* one line for npgwctl --help */
	int (*handler)(int argc, char **argv);
};

/* Here, offline. */
extern const struct npgwctl_command npgwctl_cmd_validate;
extern const struct npgwctl_command npgwctl_cmd_explain;
/* Asking the running gateway (remote.c). */
extern const struct npgwctl_command npgwctl_cmd_version;
extern const struct npgwctl_command npgwctl_cmd_list_commands;
extern const struct npgwctl_command npgwctl_cmd_status;
extern const struct npgwctl_command npgwctl_cmd_stats;
extern const struct npgwctl_command npgwctl_cmd_get;
extern const struct npgwctl_command npgwctl_cmd_apply;
extern const struct npgwctl_command npgwctl_cmd_delete;
extern const struct npgwctl_command npgwctl_cmd_replace;
extern const struct npgwctl_command npgwctl_cmd_wait;
extern const struct npgwctl_command npgwctl_cmd_flows;
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

/* ---- output (output.c) ---- */

enum npgwctl_format {
	NPGWCTL_FMT_TEXT, /* for people */
	NPGWCTL_FMT_JSON,
	NPGWCTL_FMT_YAML,
};

/* "text", "json" or "yaml". Returns 0, or -1 after printing why. */
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
