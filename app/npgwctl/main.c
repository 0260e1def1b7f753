/*
 * main.c: npgwctl, the npgw command-line tool. A table of commands
 * ({name, usage, handler}, one file each); main reads the global options
 * (--socket), then picks a command by name.
 */
#include <stdlib.h>
#include <string.h>

#include "npgw_ctl.h"
#include "npgwctl.h"

static const struct npgwctl_command *const commands[] = {
	&npgwctl_cmd_validate,
	&npgwctl_cmd_explain,
	&npgwctl_cmd_apply,
	&npgwctl_cmd_delete,
	&npgwctl_cmd_replace,
	&npgwctl_cmd_get,
	&npgwctl_cmd_status,
	&npgwctl_cmd_stats,
	&npgwctl_cmd_wait,
	&npgwctl_cmd_flows,
	&npgwctl_cmd_observe,
	&npgwctl_cmd_version,
	&npgwctl_cmd_list_commands,
};

static void usage(FILE *out)
{
	fprintf(out, "usage: npgwctl [--socket PATH] COMMAND [OPTIONS]\n"
		     "       npgwctl COMMAND --help\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-14s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out,
		"\nGlobal options (before the command):\n"
		"  --socket PATH  the gateway's control socket (default: $NPGW_SOCKET, else\n"
		"                 %s); validate and explain --offline do not use it\n"
		"  --help         this help\n"
		"  --version      npgwctl's version (npgwctl version asks the gateway too)\n"
		"\nExit status: 0 success, 1 the command found errors or the gateway refused\n"
		"the request, 2 usage error, unreadable input or no connection.\n",
		NPGW_CTL_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	const char *env = getenv("NPGW_SOCKET");
	int i = 1;

	if (env != NULL && env[0] != '\0')
		npgwctl_socket = env;
	/* Global options come before the command name. */
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return NPGWCTL_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("npgwctl %s\n", NPGW_VERSION);
			return NPGWCTL_EXIT_OK;
		}
		if (strcmp(argv[i], "--socket") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0') {
				fprintf(stderr, "npgwctl: --socket needs a PATH\n");
				return NPGWCTL_EXIT_USAGE;
			}
			npgwctl_socket = argv[i + 1];
			i += 2;
			continue;
		}
		if (strncmp(argv[i], "--socket=", 9) == 0 && argv[i][9] != '\0') {
			npgwctl_socket = argv[i] + 9;
			i++;
			continue;
		}
		fprintf(stderr, "npgwctl: unknown option '%s' (npgwctl --help)\n", argv[i]);
		return NPGWCTL_EXIT_USAGE;
	}
	if (i >= argc) {
		usage(stderr);
		return NPGWCTL_EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return NPGWCTL_EXIT_OK;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c]->name) == 0)
			return commands[c]->handler(argc - i, argv + i);
	fprintf(stderr, "npgwctl: unknown command '%s' (npgwctl --help lists them)\n", argv[i]);
	return NPGWCTL_EXIT_USAGE;
}
