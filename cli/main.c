// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw: per-workload firewall on cgroup_skb and TC eBPF programs.
 * Daemonless like bpftool: each command opens the pinned state, changes it
 * and exits. This file only parses arguments and prints; the work is in
 * libcgfw. Exit status: 0 ok, 1 runtime failure, 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgfw.h"
#include "cli.h"

bool json_mode;
bool json_pretty;

int fail(int err)
{
	if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
		fprintf(stderr, "cgfw: %s (cgfw needs root: CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)\n",
			cgfw_errmsg());
	else
		fprintf(stderr, "cgfw: %s\n", cgfw_errmsg());
	return err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cgfw%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'cgfw %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_USAGE;
}

void print_json(json_t *j)
{
	size_t flags = JSON_ENCODE_ANY | (json_pretty ? JSON_INDENT(2) : JSON_COMPACT);

	json_dumpf(j, stdout, flags);
	fputc('\n', stdout);
	json_decref(j);
}

/* Command tables, one per area of the CLI. */
static const struct cmd *const cmd_tables[] = { cgfw_cmds, cgfw_tc_cmds, cgfw_policy_cmds };

static const struct cmd *find_cmd(const char *name)
{
	for (size_t t = 0; t < sizeof(cmd_tables) / sizeof(cmd_tables[0]); t++)
		for (const struct cmd *c = cmd_tables[t]; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	return NULL;
}

static void main_usage(FILE *f)
{
	fprintf(f,
		"Usage: cgfw [--json] [--pretty] COMMAND [ARGS...]\n"
		"       cgfw help [COMMAND] | cgfw COMMAND --help\n\n"
		"Per-workload firewall: cgroup_skb programs enforce IP rules per cgroup v2.\n\n"
		"Commands:\n");
	for (size_t t = 0; t < sizeof(cmd_tables) / sizeof(cmd_tables[0]); t++)
		for (const struct cmd *c = cmd_tables[t]; c->name; c++)
			fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nGlobal options:\n"
		   "  -j, --json     machine-readable output\n"
		   "  -p, --pretty   indented JSON (implies --json)\n"
		   "  -V, --version  print the version\n"
		   "\nState lives under %s; exit status 0 ok, 1 failure, 2 bad input.\n",
		cgfw_state_root());
}

int cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		main_usage(stdout);
		return 0;
	}
	c = find_cmd(argv[1]);
	if (!c)
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	fputs(c->help, stdout);
	return 0;
}

int cmd_version(int argc, char **argv)
{
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "version", json_string(CGFW_VERSION));
		json_object_set_new(o, "layout_version", json_integer(CGFW_LAYOUT_VERSION));
		print_json(o);
	} else {
		printf("cgfw %s (state layout %d)\n", CGFW_VERSION, CGFW_LAYOUT_VERSION);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	int i = 1;

	/* Global options come before the command. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json_mode = true;
		} else if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty")) {
			json_mode = json_pretty = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			main_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			return cmd_version(0, NULL);
		} else {
			return usage_error(NULL, "unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	c = find_cmd(argv[i]);
	if (!c)
		return usage_error(NULL, "unknown command '%s'", argv[i]);
	for (int j = i + 1; j < argc; j++) {
		if (!strcmp(argv[j], "--"))
			break;
		if (!strcmp(argv[j], "-h") || !strcmp(argv[j], "--help")) {
			fputs(c->help, stdout);
			return 0;
		}
	}
	optind = 1;
	return c->fn(argc - i, argv + i);
}
