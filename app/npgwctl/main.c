/*
 * main.c: npgwctl, the npgw command-line tool. A table of commands
 * ({name, usage, handler}, one file each); main takes the global options
 * out of the line wherever they stand (--socket PATH, as kubectl takes
 * --context anywhere), then picks a command by name. `npgwctl help CMD`
 * is `npgwctl CMD --help`.
 */
#include <stdlib.h>
#include <string.h>

#include "npgw_ctl.h"
#include "npgwctl.h"

const struct npgwctl_command *const npgwctl_commands[] = {
	&npgwctl_cmd_get,
	&npgwctl_cmd_describe,
	&npgwctl_cmd_apply,
	&npgwctl_cmd_diff,
	&npgwctl_cmd_delete,
	&npgwctl_cmd_replace,
	&npgwctl_cmd_validate,
	&npgwctl_cmd_explain,
	&npgwctl_cmd_status,
	&npgwctl_cmd_stats,
	&npgwctl_cmd_flows,
	&npgwctl_cmd_wait,
	&npgwctl_cmd_version,
	&npgwctl_cmd_list_commands,
	&npgwctl_cmd_completion,
};
const size_t npgwctl_n_commands = NPGW_ARRAY_SIZE(npgwctl_commands);

const struct npgwctl_command *npgwctl_find_command(const char *name)
{
	for (size_t c = 0; c < npgwctl_n_commands; c++)
		if (strcmp(name, npgwctl_commands[c]->name) == 0)
			return npgwctl_commands[c];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: npgwctl COMMAND [OPTIONS] [--socket PATH]\n"
		     "       npgwctl help COMMAND\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < npgwctl_n_commands; i++)
		fprintf(out, "  %-14s %s\n", npgwctl_commands[i]->name, npgwctl_commands[i]->summary);
	fprintf(out,
		"  help           help for a command: npgwctl help COMMAND\n"
		"\nGlobal options (anywhere on the line):\n"
		"  --socket PATH  the gateway's control socket (default: $NPGW_SOCKET, else\n"
		"                 %s); validate and explain --offline do not use it\n"
		"  --help         this help\n"
		"  --version      npgwctl's version (npgwctl version asks the gateway too)\n"
		"\nKinds (get, describe, delete): networkpolicies (networkpolicy, netpol),\n"
		"pods (pod, po), namespaces (namespace, ns); describe and get also take\n"
		"endpoints (endpoint, ep): a pod with the policies that select it.\n"
		"\nExit status: 0 success, 1 the command found errors or the gateway refused\n"
		"the request, 2 usage error, unreadable input or no connection (npgw --check\n"
		"uses the same). See npgwctl(1).\n",
		NPGW_CTL_DEFAULT_PATH);
}

/* Take --socket PATH / --socket=PATH out of argv wherever it stands (until
 * a "--"). Returns the new argc, or -1 after printing why. */
static int take_globals(int argc, char **argv)
{
	int out = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "--socket") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0') {
				fprintf(stderr, "npgwctl: --socket needs a PATH\n");
				return -1;
			}
			npgwctl_socket = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--socket=", 9) == 0) {
			if (argv[i][9] == '\0') {
				fprintf(stderr, "npgwctl: --socket needs a PATH\n");
				return -1;
			}
			npgwctl_socket = argv[i] + 9;
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

int main(int argc, char **argv)
{
	const char *env = getenv("NPGW_SOCKET");
	const struct npgwctl_command *cmd;
	int i = 1;

	if (env != NULL && env[0] != '\0')
		npgwctl_socket = env;
	argc = take_globals(argc, argv);
	if (argc < 0)
		return NPGWCTL_EXIT_USAGE;
	/* What stands before the command name. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return NPGWCTL_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("npgwctl %s\n", NPGW_VERSION);
			return NPGWCTL_EXIT_OK;
		}
		fprintf(stderr, "npgwctl: unknown option '%s' (npgwctl --help)\n", argv[i]);
		return NPGWCTL_EXIT_USAGE;
	}
	if (i >= argc) {
		usage(stderr);
		return NPGWCTL_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		char help[] = "--help";
		char *hargv[3];

		if (i + 1 >= argc) {
			usage(stdout);
			return NPGWCTL_EXIT_OK;
		}
		cmd = npgwctl_find_command(argv[i + 1]);
		if (cmd == NULL || i + 2 < argc) {
			fprintf(stderr, "npgwctl help: %s '%s' (npgwctl --help lists the commands)\n",
				cmd == NULL ? "unknown command" : "one command, not",
				cmd == NULL ? argv[i + 1] : argv[i + 2]);
			return NPGWCTL_EXIT_USAGE;
		}
		hargv[0] = argv[i + 1];
		hargv[1] = help;
		hargv[2] = NULL;
		return cmd->handler(2, hargv);
	}
	cmd = npgwctl_find_command(argv[i]);
	if (cmd != NULL)
		return cmd->handler(argc - i, argv + i);
	fprintf(stderr, "npgwctl: unknown command '%s' (npgwctl --help lists them)\n", argv[i]);
	return NPGWCTL_EXIT_USAGE;
}
