/*
 * npgwctl.h: the npgwctl command registry. Each command lives in its own
 * file and exports one struct npgwctl_command; main.c lists them. A
 * handler gets argv with argv[0] the command name, and returns the exit
 * status: NPGWCTL_EXIT_OK, _FAIL (the check failed: errors found), or
 * _USAGE (bad arguments, unreadable input).
 */
#ifndef NPGWCTL_H
#define NPGWCTL_H

#define NPGWCTL_EXIT_OK 0
#define NPGWCTL_EXIT_FAIL 1
#define NPGWCTL_EXIT_USAGE 2

struct npgwctl_command {
	const char *name;
	const char *usage; /* "validate -f PATH [-f PATH ...] [-o text|json]" */
	const char *summary; /* one line for npgwctl --help */
	int (*handler)(int argc, char **argv);
};

extern const struct npgwctl_command npgwctl_cmd_validate;
extern const struct npgwctl_command npgwctl_cmd_explain;

#endif /* NPGWCTL_H */
