/*
 * main.c: npgwctl, the npgw command-line tool. A table of commands
 * ({name, usage, handler}, one file each); main picks one by name.
 */
#include <stdio.h>
#include <string.h>

#include "npgwctl.h"

static const struct npgwctl_command *const commands[] = {
	&npgwctl_cmd_validate,
	&npgwctl_cmd_explain,
};

static void usage(FILE *out)
{
	fprintf(out, "usage: npgwctl COMMAND [OPTIONS]\n"
		     "       npgwctl COMMAND --help\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\nExit status: 0 success, 1 the command found errors, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return NPGWCTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return NPGWCTL_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("npgwctl %s\n", NPGW_VERSION);
		return NPGWCTL_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i]->name) == 0)
			return commands[i]->handler(argc - 1, argv + 1);
	fprintf(stderr, "npgwctl: unknown command '%s' (npgwctl --help lists them)\n", argv[1]);
	return NPGWCTL_EXIT_USAGE;
}
