/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef CGFW_CLI_H
#define CGFW_CLI_H

#include <jansson.h>
#include <stdbool.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *help;
};

extern const struct cmd cgfw_cmds[];    /* cgroup datapath: cgroup_cmds.c */
extern const struct cmd cgfw_tc_cmds[]; /* interface datapath: tc_cmds.c */
extern const struct cmd cgfw_policy_cmds[]; /* policies and the OCI hook: policy_cmds.c */
extern bool json_mode, json_pretty;

int fail(int err);
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void print_json(json_t *j);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
