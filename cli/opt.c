// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every option of every command, declared once with its type and help, and
 * the parser that fills a command's context from them. A value is checked
 * as its type says before the command runs, so a bad value is an error that
 * names the option and changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const mode_choices[] = { "auto", "tcx", "clsact", NULL };

const struct opt cli_opts[O_MAX] = {
	[O_CGROUP] = { "cgroup", NULL, T_STRING, "CGROUP",
		       "the workload: a cgroup v2 path, absolute or relative to the cgroup2 mount" },
	[O_INGRESS] = { "ingress", NULL, T_FLAG, NULL, "only packets the workload receives" },
	[O_EGRESS] = { "egress", NULL, T_FLAG, NULL, "only packets the workload sends" },
	[O_PROTO] = { "proto", NULL, T_PROTO, "tcp|udp|icmp",
		      "only this protocol (icmp means ICMPv6 for IPv6 rules)" },
	[O_PORT] = { "port", NULL, T_PORTS, "N[-M]",
		     "only this destination port or range (needs --proto tcp or udp)" },
	[O_FROM_FILE] = { "from-file", NULL, T_FILE, "FILE",
			  "read the rules from FILE ('-' for stdin), one per line, all or nothing" },
	[O_YES] = { "yes", NULL, T_FLAG, NULL, "confirm" },
	[O_STATEFUL] = { "stateful", NULL, T_FLAG, NULL,
			 "admit inbound traffic only for local sockets, rules and exceptions" },
	[O_ICMP] = { "icmp", NULL, T_FLAG, NULL, "admit ICMP echo requests (with --stateful)" },
	[O_NO_SSH] = { "no-ssh", NULL, T_FLAG, NULL, "no ssh exception (with --stateful)" },
	[O_MODE] = { "mode", NULL, T_ENUM, "auto|tcx|clsact",
		     "how to attach: tcx where the kernel has it (auto), or always one way",
		     mode_choices },
	[O_DST] = { "dst", NULL, T_TC, "PREFIX", "destination prefix (IPv4 or IPv6)" },
	[O_SRC] = { "src", NULL, T_TC, "PREFIX", "source prefix (default: any)" },
	[O_TC_PROTO] = { "proto", NULL, T_TC, "tcp|udp", "protocol" },
	[O_PORTS] = { "ports", "port", T_TC, "LOW[-HIGH]", "destination ports" },
	[O_TO] = { "to", NULL, T_TC, "[ADDR:]PORT",
		   "the listener (tproxy) or the new destination (redirect)" },
	[O_IFACE] = { "iface", NULL, T_TC, "IFACE",
		      "only packets of this interface (default: any)" },
	[O_WATCH] = { "watch", NULL, T_FLAG, NULL, "keep following changes until Ctrl-C" },
	[O_COUNT] = { "count", NULL, T_COUNT, "N", "stop after N events" },
	[O_AUDIT] = { "audit", NULL, T_FLAG, NULL,
		      "audit mode: what would be dropped passes, counted and reported" },
	[O_ENFORCE] = { "enforce", NULL, T_FLAG, NULL, "leave audit mode: drop again" },
	[O_STATS] = { "stats", NULL, T_FLAG, NULL, "with each rule's packets, bytes and last hit" },
	[O_XFROM] = { "from", "local", T_STRING, "[ADDR][:PORT]",
		      "the workload's own end, or with --iface the source (default: no address, "
		      "port 40000)" },
	[O_XIFACE] = { "iface", NULL, T_STRING, "IFACE",
		       "the interface programs of IFACE instead of a cgroup's" },
	[O_LISTEN] = { "listen", NULL, T_STRING, "ADDR:PORT",
		       "serve /metrics over HTTP on ADDR:PORT ([IPV6]:PORT) until Ctrl-C" },
};

uint8_t opt_dirs(const struct ctx *c)
{
	uint8_t d = (opt_set(c, O_INGRESS) ? CGFW_DIR_BIT(CGFW_DIR_INGRESS) : 0) |
		    (opt_set(c, O_EGRESS) ? CGFW_DIR_BIT(CGFW_DIR_EGRESS) : 0);

	return d ? d : CGFW_DIR_BOTH;
}

static bool takes(const struct cmd *cmd, enum opt_id id)
{
	for (const enum opt_id *o = cmd->opts; o && *o; o++)
		if (*o == id)
			return true;
	return false;
}

/* The option called @name: the command's own first, then any (for the message). */
static enum opt_id find_opt(const struct cmd *cmd, const char *name, size_t len, bool *ret_own)
{
	enum opt_id any = O_NONE;

	for (int id = 1; id < O_MAX; id++) {
		const struct opt *o = &cli_opts[id];
		bool match = (strlen(o->name) == len && !strncmp(o->name, name, len)) ||
			     (o->alias && strlen(o->alias) == len && !strncmp(o->alias, name, len));

		if (!match)
			continue;
		if (takes(cmd, id)) {
			*ret_own = true;
			return id;
		}
		if (!any)
			any = id;
	}
	*ret_own = false;
	return any;
}

static int set_value(struct ctx *c, enum opt_id id, const char *val)
{
	const struct opt *o = &cli_opts[id];
	struct optval *v = &c->v[id];
	char *end;
	int err = 0;

	v->set = true;
	v->str = val;
	switch (o->type) {
	case T_FLAG:
	case T_STRING:
	case T_FILE:
		return 0;
	case T_PROTO:
		err = cgfw_parse_proto(val, &v->proto);
		break;
	case T_PORTS:
		err = cgfw_parse_ports(val, &v->lo, &v->hi);
		break;
	case T_COUNT:
		errno = 0;
		v->num = strtol(val, &end, 10);
		if (errno || end == val || *end || v->num < 1)
			return cli_usage(c, "invalid --%s '%s' (a positive number)", o->name, val);
		return 0;
	case T_ENUM:
		for (int i = 0; o->choices[i]; i++)
			if (!strcmp(o->choices[i], val)) {
				v->choice = i;
				return 0;
			}
		return cli_usage(c, "invalid --%s '%s' (%s)", o->name, val, o->metavar);
	case T_TC:
		/* The library names the option and the value. */
		return cgfw_tc_rule_set(&c->rule, o->name, val);
	}
	if (err)
		return cgfw_seterr(EINVAL, "--%s: %s", o->name, cgfw_errmsg());
	return 0;
}

static bool is_global(const char *a)
{
	return !strcmp(a, "-j") || !strcmp(a, "--json") || !strcmp(a, "-p") ||
	       !strcmp(a, "--pretty");
}

void cli_global(const char *a)
{
	json_mode = true;
	if (!strcmp(a, "-p") || !strcmp(a, "--pretty"))
		json_pretty = true;
}

int cli_parse(struct ctx *c, int argc, char **argv)
{
	const struct cmd *cmd = c->cmd;
	bool tail = false;
	int npos = 0;

	/* Positional arguments are gathered at the front of argv, in order. */
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		const char *eq;
		enum opt_id id;
		bool own;

		if (tail || a[0] != '-' || !a[1]) {
			argv[npos++] = a;
			tail = tail || (cmd->flags & CMD_TAIL);
			continue;
		}
		if (!strcmp(a, "--")) {
			while (++i < argc)
				argv[npos++] = argv[i];
			break;
		}
		if (is_global(a)) {
			cli_global(a);
			continue;
		}
		if (a[1] != '-')
			return cli_usage(c, "unknown option '%s'", a);
		eq = strchr(a + 2, '=');
		id = find_opt(cmd, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), &own);
		if (!id)
			return cli_usage(c, "unknown option '%.*s'",
					 eq ? (int)(eq - a) : (int)strlen(a), a);
		if (!own)
			return cli_usage(c, "option '--%s' does not apply to 'cgfw %s'",
					 cli_opts[id].name, c->name);
		if (cli_opts[id].type == T_FLAG) {
			if (eq)
				return cli_usage(c, "option '--%s' takes no value",
						 cli_opts[id].name);
			c->v[id].set = true;
			continue;
		}
		if (eq) {
			if (!eq[1])
				return cli_usage(c, "option '--%s' needs a value",
						 cli_opts[id].name);
		} else if (i + 1 >= argc) {
			return cli_usage(c, "option '--%s' needs a value", cli_opts[id].name);
		}
		{
			int err = set_value(c, id, eq ? eq + 1 : argv[++i]);

			if (err)
				return err;
		}
	}
	/* NULL-terminated, as execvp() wants it (argv[argc] was NULL). */
	argv[npos] = NULL;
	c->argc = npos;
	c->argv = argv;
	for (const enum opt_id *r = cmd->required; r && *r; r++)
		if (!c->v[*r].set)
			return cli_usage(c, "--%s%s%s is required", cli_opts[*r].name,
					 cli_opts[*r].metavar ? " " : "",
					 cli_opts[*r].metavar ? cli_opts[*r].metavar : "");
	if (npos < cmd->min_args)
		return cli_usage(c, "expected %s", cmd->args ? cmd->args : "more arguments");
	if (cmd->max_args >= 0 && npos > cmd->max_args)
		return cli_usage(c, "unexpected argument '%s'", argv[cmd->max_args]);
	return 0;
}
