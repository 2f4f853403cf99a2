// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw commands for the TC (interface) datapath: tc, tproxy, inbound,
 * redirect, monitor. Parsing and printing only; the work is in libcgfw
 * (lib/tc.h). Exit status: 0 ok, 1 runtime failure, 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgfw.h"
#include "cli.h"
#include "tc.h"

enum {
	OPT_JSON = 0x100,
	OPT_PRETTY,
	OPT_STATEFUL,
	OPT_ICMP,
	OPT_NO_SSH,
	OPT_MODE,
	OPT_DST,
	OPT_SRC,
	OPT_PROTO,
	OPT_PORTS,
	OPT_TO,
	OPT_IFACE,
	OPT_FROM_FILE,
	OPT_WATCH,
	OPT_COUNT,
};

static const struct option tc_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "stateful", no_argument, NULL, OPT_STATEFUL },
	{ "icmp", no_argument, NULL, OPT_ICMP },
	{ "no-ssh", no_argument, NULL, OPT_NO_SSH },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "dst", required_argument, NULL, OPT_DST },
	{ "src", required_argument, NULL, OPT_SRC },
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "ports", required_argument, NULL, OPT_PORTS },
	{ "port", required_argument, NULL, OPT_PORTS },
	{ "to", required_argument, NULL, OPT_TO },
	{ "iface", required_argument, NULL, OPT_IFACE },
	{ "from-file", required_argument, NULL, OPT_FROM_FILE },
	{ "watch", no_argument, NULL, OPT_WATCH },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ NULL, 0, NULL, 0 },
};

struct targs {
	char cmd[64]; /* "tproxy add", for messages */
	uint32_t flags;
	uint8_t mode;
	struct cgfw_tc_rule rule;
	const char *from_file;
	bool watch;
	long count;
	int npos;
	char **pos;
};

/*
 * Parse the options after "OBJECT VERB" (argv[0] is the verb); @allowed lists
 * the OPT_ codes the verb takes. Rule options fill a->rule as typed.
 */
static int parse(const char *object, int argc, char **argv, const int *allowed, struct targs *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	snprintf(a->cmd, sizeof(a->cmd), "%s %s", object, argv[0]);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":jp", tc_opts, NULL)) != -1) {
		bool ok = c == 'j' || c == 'p' || c == OPT_JSON || c == OPT_PRETTY;
		const char *field = NULL;

		if (c == '?')
			return usage_error(object, "unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			return usage_error(object, "option '%s' needs a value", argv[optind - 1]);
		for (const int *o = allowed; *o && !ok; o++)
			ok = *o == c;
		if (!ok)
			return usage_error(object, "option '%s' does not apply to '%s'",
					   argv[optind - 1], a->cmd);
		switch (c) {
		case 'j':
		case OPT_JSON:
			json_mode = true;
			break;
		case 'p':
		case OPT_PRETTY:
			json_mode = json_pretty = true;
			break;
		case OPT_STATEFUL:
			a->flags |= CGFW_TC_STATEFUL;
			break;
		case OPT_ICMP:
			a->flags |= CGFW_TC_ICMP;
			break;
		case OPT_NO_SSH:
			a->flags |= CGFW_TC_NO_SSH;
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "tcx"))
				a->mode = CGFW_TC_MODE_TCX;
			else if (!strcmp(optarg, "clsact"))
				a->mode = CGFW_TC_MODE_CLSACT;
			else if (strcmp(optarg, "auto"))
				return usage_error(object,
						   "invalid --mode '%s' (auto, tcx or clsact)",
						   optarg);
			break;
		case OPT_DST:
			field = "dst";
			break;
		case OPT_SRC:
			field = "src";
			break;
		case OPT_PROTO:
			field = "proto";
			break;
		case OPT_PORTS:
			field = "ports";
			break;
		case OPT_TO:
			field = "to";
			break;
		case OPT_IFACE:
			field = "iface";
			break;
		case OPT_FROM_FILE:
			a->from_file = optarg;
			break;
		case OPT_WATCH:
			a->watch = true;
			break;
		case OPT_COUNT: {
			char *end;

			a->count = strtol(optarg, &end, 10);
			if (*end || a->count < 1)
				return usage_error(
					object, "invalid --count '%s' (a positive number)", optarg);
			break;
		}
		}
		if (field && cgfw_tc_rule_set(&a->rule, field, optarg) < 0)
			return fail(-EINVAL);
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	return 0;
}

static int open_tc(unsigned flags, struct cgfw_tc **tc)
{
	return cgfw_tc_open(flags, tc);
}

/* For listings: no state yet is an empty listing, anything else an error. */
static int open_tc_read(struct cgfw_tc **tc, bool *none)
{
	int err = open_tc(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, tc);

	*none = err == -ENOENT;
	return *none ? 0 : err;
}

static void print_u64(const char *name, uint64_t v)
{
	printf("%s=%" PRIu64, name, v);
}

/* ---- cgfw tc ------------------------------------------------------------------------ */

static int tc_attach(int argc, char **argv)
{
	static const int allowed[] = { OPT_STATEFUL, OPT_ICMP, OPT_NO_SSH, OPT_MODE, 0 };
	struct cgfw_tc_attach_opts o = {};
	struct cgfw_tc_iface info;
	struct cgfw_tc *tc = NULL;
	struct targs a;
	int err;

	err = parse("tc", argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos != 1)
		return usage_error("tc", "attach: expected one IFACE");
	if ((a.flags & (CGFW_TC_ICMP | CGFW_TC_NO_SSH)) && !(a.flags & CGFW_TC_STATEFUL))
		return usage_error("tc", "attach: --icmp and --no-ssh apply to --stateful only");
	o.flags = a.flags;
	o.mode = a.mode;
	err = open_tc(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &tc);
	if (!err)
		err = cgfw_tc_attach(tc, a.pos[0], &o, &info);
	cgfw_tc_close(tc);
	if (err)
		return fail(err);
	if (json_mode) {
		print_json(cgfw_tc_iface_json(&info));
	} else {
		printf("attached %s (ifindex %u, %s%s%s%s)\n", info.name, info.ifindex,
		       info.mode == CGFW_TC_MODE_TCX ? "tcx" : "clsact",
		       info.flags & CGFW_TC_STATEFUL ? ", stateful" : "",
		       info.flags & CGFW_TC_STATEFUL && info.flags & CGFW_TC_ICMP ? ", icmp echo" :
										    "",
		       info.flags & CGFW_TC_STATEFUL && !(info.flags & CGFW_TC_NO_SSH) ?
			       ", ssh to own addresses" :
			       "");
	}
	return 0;
}

static int tc_detach(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct cgfw_tc *tc = NULL;
	struct targs a;
	int err;

	err = parse("tc", argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos != 1)
		return usage_error("tc", "detach: expected one IFACE");
	err = open_tc(CGFW_OPEN_LOCK, &tc);
	if (err == -ENOENT)
		err = cgfw_seterr(ENOENT, "interface %s is not attached", a.pos[0]);
	if (!err)
		err = cgfw_tc_detach(tc, a.pos[0]);
	cgfw_tc_close(tc);
	if (err)
		return fail(err);
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "detached", json_string(a.pos[0]));
		print_json(o);
	} else {
		printf("detached %s\n", a.pos[0]);
	}
	return 0;
}

static json_t *counters_json(const struct cgfw_tc_stats *s, int dir)
{
	json_t *o = json_object();

	for (int r = 0; r < CGFW_TC_R_COUNT; r++) {
		if (dir == 1 && r != CGFW_TC_R_PASS_NOMATCH && r != CGFW_TC_R_RESTORE)
			continue;
		json_object_set_new(o, cgfw_tc_reason_name(r),
				    json_pack("{s:I, s:I}", "packets",
					      (json_int_t)s->packets[dir][r], "bytes",
					      (json_int_t)s->bytes[dir][r]));
	}
	return o;
}

static int tc_list(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct cgfw_tc *tc = NULL;
	struct cgfw_tc_iface *ifs = NULL;
	struct cgfw_tc_stats s = {};
	size_t n = 0;
	struct targs a;
	bool none;
	int err;

	err = parse("tc", argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos)
		return usage_error("tc", "list: unexpected argument '%s'", a.pos[0]);
	err = open_tc_read(&tc, &none);
	if (!err && !none) {
		err = cgfw_tc_ifaces(tc, &ifs, &n);
		if (!err)
			err = cgfw_tc_stats_get(tc, &s);
	}
	cgfw_tc_close(tc);
	if (err) {
		free(ifs);
		return fail(err);
	}
	if (json_mode) {
		json_t *o = json_object(), *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, cgfw_tc_iface_json(&ifs[i]));
		json_object_set_new(o, "interfaces", arr);
		json_object_set_new(o, "rules",
				    json_pack("{s:I, s:I, s:I}", "tproxy",
					      (json_int_t)s.rules[CGFW_TC_TPROXY], "redirect",
					      (json_int_t)s.rules[CGFW_TC_REDIRECT], "inbound",
					      (json_int_t)s.rules[CGFW_TC_INBOUND]));
		json_object_set_new(o, "table",
				    json_pack("{s:I, s:I}", "capacity",
					      (json_int_t)s.table_capacity, "entries",
					      (json_int_t)s.table_entries));
		json_object_set_new(o, "counters",
				    json_pack("{s:o, s:o}", "ingress", counters_json(&s, 0),
					      "egress", counters_json(&s, 1)));
		print_json(o);
		free(ifs);
		return 0;
	}
	printf("%-16s %-8s %-7s %-9s %-5s %-4s %-5s %s\n", "IFACE", "IFINDEX", "MODE", "STATEFUL",
	       "ICMP", "SSH", "LIVE", "SSH ADDRESSES");
	for (size_t i = 0; i < n; i++) {
		const struct cgfw_tc_iface *f = &ifs[i];
		bool st = f->flags & CGFW_TC_STATEFUL;

		printf("%-16s %-8u %-7s %-9s %-5s %-4s %-5s", f->name, f->ifindex,
		       f->mode == CGFW_TC_MODE_TCX ? "tcx" : "clsact", st ? "yes" : "no",
		       st && (f->flags & CGFW_TC_ICMP) ? "yes" : "-",
		       st ? (f->flags & CGFW_TC_NO_SSH ? "no" : "yes") : "-",
		       !f->this_netns ? "(other netns)" :
		       f->live	      ? "yes" :
					"NO");
		for (size_t j = 0; j < f->naddrs && j < CGFW_TC_MAX_SHOWN_ADDRS; j++) {
			char buf[CGFW_ADDRSTRLEN];

			cgfw_format_addr(f->addrs[j].family, f->addrs[j].addr, buf, sizeof(buf));
			printf("%s%s", j ? "," : " ", buf);
		}
		printf("\n");
	}
	printf("\nrules: %zu tproxy, %zu redirect, %zu inbound; table %u of %u entries\n",
	       s.rules[CGFW_TC_TPROXY], s.rules[CGFW_TC_REDIRECT], s.rules[CGFW_TC_INBOUND],
	       s.table_entries, s.table_capacity);
	printf("ingress:");
	for (int r = 0; r < CGFW_TC_R_COUNT; r++)
		if (s.packets[0][r]) {
			printf(" ");
			print_u64(cgfw_tc_reason_name(r), s.packets[0][r]);
		}
	printf("\negress:");
	for (int r = 0; r < CGFW_TC_R_COUNT; r++)
		if (s.packets[1][r]) {
			printf(" ");
			print_u64(cgfw_tc_reason_name(r), s.packets[1][r]);
		}
	printf("\n");
	free(ifs);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: a signal ends the wait at once. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void synced(size_t n, void *arg)
{
	if (!n)
		return;
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "synced", json_integer((json_int_t)n));
		print_json(o);
	} else {
		printf("address changes recorded: %zu\n", n);
	}
	fflush(stdout);
}

static int tc_sync(int argc, char **argv)
{
	static const int allowed[] = { OPT_WATCH, 0 };
	struct cgfw_tc *tc = NULL;
	size_t n = 0;
	struct targs a;
	int err;

	err = parse("tc", argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos)
		return usage_error("tc", "sync: unexpected argument '%s'", a.pos[0]);
	if (a.watch) {
		catch_signals();
		err = cgfw_tc_watch(&stop, synced, NULL);
		return err ? fail(err) : 0;
	}
	err = open_tc(CGFW_OPEN_LOCK, &tc);
	if (!err)
		err = cgfw_tc_sync(tc, &n);
	cgfw_tc_close(tc);
	if (err)
		return fail(err);
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "synced", json_integer((json_int_t)n));
		print_json(o);
	} else {
		printf("address changes recorded: %zu\n", n);
	}
	return 0;
}

static int cmd_tc(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("tc", "expected attach, detach, list or sync");
	if (!strcmp(argv[1], "attach"))
		return tc_attach(argc - 1, argv + 1);
	if (!strcmp(argv[1], "detach"))
		return tc_detach(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return tc_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sync"))
		return tc_sync(argc - 1, argv + 1);
	return usage_error("tc", "unknown verb '%s' (attach, detach, list or sync)", argv[1]);
}

/* ---- tproxy, inbound, redirect ------------------------------------------------------------ */

static void rule_text(const struct cgfw_tc_rule *r, char *buf, size_t n)
{
	char d[CGFW_ADDRSTRLEN], s[CGFW_ADDRSTRLEN] = "";

	cgfw_format_prefix(&r->dst, d, sizeof(d));
	if (r->src.len)
		cgfw_format_prefix(&r->src, s, sizeof(s));
	if (r->port_lo == r->port_hi)
		snprintf(buf, n, "--dst %s%s%s --proto %s --ports %u%s%s", d, s[0] ? " --src " : "",
			 s, cgfw_proto_name(r->proto), r->port_lo, r->ifname[0] ? " --iface " : "",
			 r->ifname);
	else
		snprintf(buf, n, "--dst %s%s%s --proto %s --ports %u-%u%s%s", d,
			 s[0] ? " --src " : "", s, cgfw_proto_name(r->proto), r->port_lo,
			 r->port_hi, r->ifname[0] ? " --iface " : "", r->ifname);
}

static int rule_change(const char *object, uint8_t kind, int argc, char **argv, bool add)
{
	static const int allowed[] = { OPT_DST, OPT_SRC,   OPT_PROTO,	  OPT_PORTS,
				       OPT_TO,	OPT_IFACE, OPT_FROM_FILE, 0 };
	struct cgfw_tc_rule *rules = NULL;
	struct cgfw_tc *tc = NULL;
	size_t n = 0;
	struct targs a;
	int err;

	err = parse(object, argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos)
		return usage_error(object, "%s: unexpected argument '%s'", argv[0], a.pos[0]);
	a.rule.kind = kind;
	if (kind == CGFW_TC_INBOUND && (a.rule.seen & CGFW_TC_OPT_TO))
		return usage_error(object, "%s: --to does not apply to inbound rules", argv[0]);
	if (a.from_file) {
		err = cgfw_tc_rules_from_file(a.from_file, &a.rule, add, &rules, &n);
		if (err)
			return fail(err);
	} else {
		err = cgfw_tc_rule_check(&a.rule, add);
		if (err)
			return usage_error(object, "%s: %s", argv[0], cgfw_errmsg());
		rules = &a.rule;
		n = 1;
	}
	err = open_tc(add ? CGFW_OPEN_CREATE | CGFW_OPEN_LOCK : CGFW_OPEN_LOCK, &tc);
	if (err == -ENOENT && !add)
		err = 0; /* nothing to delete from */
	else if (!err)
		err = cgfw_tc_rules_update(tc, rules, n, add);
	cgfw_tc_close(tc);
	if (err < 0) {
		if (rules != &a.rule)
			free(rules);
		return fail(err);
	}
	if (!a.from_file && !add && err == 0) {
		char buf[256];

		rule_text(&a.rule, buf, sizeof(buf));
		return fail(cgfw_seterr(ENOENT, "%s: no %s rule matches %s", a.cmd,
					cgfw_tc_kind_name(kind), buf));
	}
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "command", json_string(a.cmd));
		json_object_set_new(o, "rules", json_integer((json_int_t)n));
		json_object_set_new(o, "changed", json_integer(err));
		print_json(o);
	} else if (a.from_file) {
		printf("%s: %zu rules read, %d changed\n", a.cmd, n, err);
	} else {
		char buf[256];

		rule_text(&a.rule, buf, sizeof(buf));
		printf("%s %s%s\n", a.cmd, buf, err ? "" : ": no change");
	}
	if (rules != &a.rule)
		free(rules);
	return 0;
}

static int rule_list(const char *object, uint8_t kind, int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct cgfw_tc_rule *rules = NULL;
	struct cgfw_tc_route *routes = NULL;
	struct cgfw_tc *tc = NULL;
	size_t n = 0, nr = 0;
	struct targs a;
	bool none;
	int err;

	err = parse(object, argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos)
		return usage_error(object, "list: unexpected argument '%s'", a.pos[0]);
	err = open_tc_read(&tc, &none);
	if (!err && !none) {
		err = cgfw_tc_rules_list(tc, kind, &rules, &n);
		if (!err && kind == CGFW_TC_TPROXY)
			err = cgfw_tc_routes(tc, &routes, &nr);
	}
	cgfw_tc_close(tc);
	if (err) {
		free(rules);
		return fail(err);
	}
	if (json_mode) {
		json_t *o = json_object(), *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, cgfw_tc_rule_json(&rules[i]));
		json_object_set_new(o, "rules", arr);
		if (kind == CGFW_TC_TPROXY) {
			arr = json_array();
			for (size_t i = 0; i < nr; i++)
				json_array_append_new(arr, cgfw_tc_route_json(&routes[i]));
			json_object_set_new(o, "routes", arr);
		}
		print_json(o);
	} else {
		printf("%-6s %-28s %-22s %-5s %-11s %-26s %-10s %12s %14s\n", "ID", "DST", "SRC",
		       "PROTO", "PORTS", kind == CGFW_TC_INBOUND ? "" : "TO", "IFACE", "PACKETS",
		       "BYTES");
		for (size_t i = 0; i < n; i++) {
			const struct cgfw_tc_rule *r = &rules[i];
			char d[CGFW_ADDRSTRLEN], s[CGFW_ADDRSTRLEN] = "*", p[16],
						 to[CGFW_ADDRSTRLEN + 8] = "";

			cgfw_format_prefix(&r->dst, d, sizeof(d));
			if (r->src.len)
				cgfw_format_prefix(&r->src, s, sizeof(s));
			if (r->port_lo == r->port_hi)
				snprintf(p, sizeof(p), "%u", r->port_lo);
			else
				snprintf(p, sizeof(p), "%u-%u", r->port_lo, r->port_hi);
			if (r->kind != CGFW_TC_INBOUND) {
				char ad[CGFW_ADDRSTRLEN];

				if (r->has_to_addr) {
					cgfw_format_addr(r->dst.family, r->to_addr, ad, sizeof(ad));
					snprintf(to, sizeof(to),
						 r->dst.family == CGFW_FAMILY_INET6 ? "[%s]:%u" :
										      "%s:%u",
						 ad, r->to_port);
				} else {
					snprintf(to, sizeof(to), "(this host):%u", r->to_port);
				}
			}
			printf("%-6u %-28s %-22s %-5s %-11s %-26s %-10s %12" PRIu64 " %14" PRIu64
			       "\n",
			       r->id, d, s, cgfw_proto_name(r->proto), p, to,
			       r->ifindex ? r->ifname : "*", r->packets, r->bytes);
		}
		if (kind == CGFW_TC_TPROXY && nr) {
			printf("\n%-40s %-8s %s\n", "LOCAL ROUTE (table local)", "RULES",
			       "ADDED BY");
			for (size_t i = 0; i < nr; i++) {
				char buf[CGFW_ADDRSTRLEN];

				cgfw_format_prefix(&routes[i].pfx, buf, sizeof(buf));
				printf("%-40s %-8u %s%s\n", buf, routes[i].refs,
				       routes[i].owned ? "cgfw" : "(was there)",
				       routes[i].this_netns ? "" : " [other netns]");
			}
		}
	}
	free(rules);
	free(routes);
	return 0;
}

static int rule_flush(const char *object, uint8_t kind, int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct cgfw_tc *tc = NULL;
	struct targs a;
	int err;

	err = parse(object, argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos)
		return usage_error(object, "flush: unexpected argument '%s'", a.pos[0]);
	err = open_tc(CGFW_OPEN_LOCK, &tc);
	if (err == -ENOENT)
		err = 0;
	else if (!err)
		err = cgfw_tc_rules_flush(tc, kind);
	cgfw_tc_close(tc);
	if (err < 0)
		return fail(err);
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "command", json_string(a.cmd));
		json_object_set_new(o, "removed", json_integer(err));
		print_json(o);
	} else {
		printf("%s: %d %s rules removed\n", a.cmd, err, object);
	}
	return 0;
}

static int rule_cmd(const char *object, uint8_t kind, int argc, char **argv)
{
	if (argc < 2)
		return usage_error(object, "expected add, del, list or flush");
	if (!strcmp(argv[1], "add"))
		return rule_change(object, kind, argc - 1, argv + 1, true);
	if (!strcmp(argv[1], "del") || !strcmp(argv[1], "delete"))
		return rule_change(object, kind, argc - 1, argv + 1, false);
	if (!strcmp(argv[1], "list") || !strcmp(argv[1], "show"))
		return rule_list(object, kind, argc - 1, argv + 1);
	if (!strcmp(argv[1], "flush"))
		return rule_flush(object, kind, argc - 1, argv + 1);
	return usage_error(object, "unknown verb '%s' (add, del, list or flush)", argv[1]);
}

static int cmd_tproxy(int argc, char **argv)
{
	return rule_cmd("tproxy", CGFW_TC_TPROXY, argc, argv);
}

static int cmd_inbound(int argc, char **argv)
{
	return rule_cmd("inbound", CGFW_TC_INBOUND, argc, argv);
}

static int cmd_redirect(int argc, char **argv)
{
	return rule_cmd("redirect", CGFW_TC_REDIRECT, argc, argv);
}

/* ---- monitor --------------------------------------------------------------------------------- */

struct mon {
	struct cgfw_attachment *att;
	size_t natt;
	time_t refreshed;
	long count, seen;
};

static void refresh_cgroups(struct mon *m)
{
	struct cgfw_state *st = NULL;

	if (m->refreshed == time(NULL))
		return;
	m->refreshed = time(NULL);
	if (!cgfw_state_exists() || cgfw_state_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st) < 0)
		return;
	free(m->att);
	m->att = NULL;
	m->natt = 0;
	cgfw_attachments(st, &m->att, &m->natt);
	cgfw_state_close(st);
}

static const char *cgroup_of(struct mon *m, uint64_t id)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < m->natt; i++)
			if (m->att[i].id == id)
				return m->att[i].path[0] ? m->att[i].path : "/";
		if (!pass)
			refresh_cgroups(m);
	}
	return NULL;
}

static int on_event(const struct cgfw_event *e, void *arg)
{
	struct mon *m = arg;
	const char *cg = NULL;

	if (e->source == CGFW_EV_CGROUP_INGRESS || e->source == CGFW_EV_CGROUP_EGRESS)
		cg = cgroup_of(m, e->cgid);
	if (json_mode) {
		print_json(cgfw_event_json(e, cg));
	} else {
		char buf[512];

		cgfw_event_format(e, cg, buf, sizeof(buf));
		puts(buf);
	}
	m->seen++;
	return m->count && m->seen >= m->count ? 1 : 0;
}

static void report_lost(uint64_t lost)
{
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "action", json_string("lost"));
		json_object_set_new(o, "events", json_integer((json_int_t)lost));
		print_json(o);
	} else {
		printf("-- %" PRIu64
		       " events not sent by the datapath (rate limit or full buffer); "
		       "their packets were handled as usual\n",
		       lost);
	}
}

static int cmd_monitor(int argc, char **argv)
{
	static const int allowed[] = { OPT_COUNT, 0 };
	struct cgfw_monitor *mon = NULL;
	struct mon m = {};
	uint64_t lost = 0;
	time_t last = time(NULL);
	struct targs a;
	int err;

	err = parse("monitor", argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos)
		return usage_error("monitor", "unexpected argument '%s'", a.pos[0]);
	m.count = a.count;
	/* Reading state first: the ip netns exec check, and names for cgroups. */
	if (!cgfw_state_exists()) {
		struct cgfw_state *st = NULL;

		err = cgfw_state_open(0, &st);
		cgfw_state_close(st);
		return fail(err ? err : cgfw_seterr(ENOENT, "no cgfw state: nothing is attached"));
	}
	refresh_cgroups(&m);
	err = cgfw_monitor_open(on_event, &m, &mon);
	if (err)
		return fail(err);
	setvbuf(stdout, NULL, _IOLBF, 0);
	catch_signals();
	if (!json_mode)
		fprintf(stderr, "cgfw: monitoring decision events; Ctrl-C to stop\n");
	while (!stop) {
		err = cgfw_monitor_poll(mon, 200);
		if (err < 0 && err != -EINTR)
			break;
		err = 0;
		if (m.count && m.seen >= m.count)
			break;
		if (time(NULL) != last) {
			uint64_t now = cgfw_monitor_lost(mon);

			last = time(NULL);
			if (now > lost) {
				report_lost(now - lost);
				lost = now;
			}
		}
	}
	if (!err && cgfw_monitor_lost(mon) > lost)
		report_lost(cgfw_monitor_lost(mon) - lost);
	cgfw_monitor_close(mon);
	free(m.att);
	return err ? fail(err) : 0;
}

/* ---- help ------------------------------------------------------------------------------------ */

#define RULE_OPTS_HELP                                                                           \
	"Matching: --dst PREFIX (IPv4 or IPv6), --src PREFIX (default: any), --proto tcp|udp,\n" \
	"--ports LOW[-HIGH] (destination ports), --iface IFACE (default: every attached\n"       \
	"interface). The same match identifies a rule for 'del'.\n\n"                            \
	"Precedence, shared by tproxy, redirect and inbound rules: the longest destination\n"    \
	"prefix wins; then the longest source prefix; then a rule bound to the interface\n"      \
	"beats one for every interface; then the narrowest port range; then the lowest first\n"  \
	"port. Adding a rule with the same match and kind changes its target; the same match\n"  \
	"with another kind is refused.\n\n"                                                      \
	"--from-file FILE (or - for stdin) reads one rule per line in the options' syntax\n"     \
	"('--dst 198.51.100.0/24 --proto tcp --ports 80 --to 9000', '#' comments); options\n"    \
	"on the command line are defaults for every line. All or nothing.\n\n"                   \
	"'list' shows every rule with its packet and byte counters (--json for JSON);\n"         \
	"'flush' removes every rule of this kind.\n"

const struct cmd cgfw_tc_cmds[] = {
	{ "tc", cmd_tc, "attach the interface programs (tproxy, stateful inbound, redirect)",
	  "Usage: cgfw tc attach IFACE [--stateful [--icmp] [--no-ssh]] [--mode auto|tcx|clsact]\n"
	  "       cgfw tc detach IFACE\n"
	  "       cgfw tc list [--json]\n"
	  "       cgfw tc sync [--watch]\n\n"
	  "attach: put cgfw's ingress and egress programs on IFACE (Ethernet or L3 device;\n"
	  "never loopback). A tcx link where the kernel has tcx, else a cls_bpf filter on\n"
	  "a clsact qdisc at the lowest free priority; other programs and filters on the\n"
	  "interface keep running. Every interface shares one set of pinned maps (rules,\n"
	  "counters). Attaching again changes the settings atomically.\n"
	  "  --stateful  inbound TCP and UDP pass only when they belong to a local socket\n"
	  "              (an established flow, a reply to a flow this host opened), match a\n"
	  "              tproxy, redirect or inbound rule, or are: ssh (tcp/22) to one of\n"
	  "              IFACE's own addresses, a DHCP client reply (udp 67->68, 547->546).\n"
	  "              ICMP echo requests are dropped, other ICMP passes; other IP\n"
	  "              protocols pass. A packet that cannot be parsed is dropped.\n"
	  "  --icmp      admit ICMP echo requests (with --stateful)\n"
	  "  --no-ssh    no ssh exception (with --stateful)\n"
	  "detach: remove the programs and leave IFACE as it was found (the clsact qdisc\n"
	  "goes only if cgfw added it and no other filter uses it).\n"
	  "list: attached interfaces, the addresses the ssh exception uses, rule counts\n"
	  "and the datapath counters by reason.\n"
	  "sync: copy the interfaces' current addresses into the ssh exception (attach\n"
	  "does it too); --watch follows address changes until Ctrl-C.\n\n"
	  "Inside another network namespace run cgfw with nsenter --net=/run/netns/NAME:\n"
	  "'ip netns exec' remounts /sys and hides the bpffs that holds cgfw's state.\n" },
	{ "tproxy", cmd_tproxy, "intercept flows into a local transparent listener",
	  "Usage: cgfw tproxy add --dst PREFIX [--src PREFIX] --proto tcp|udp --ports LOW[-HIGH]\n"
	  "                       --to [ADDR:]PORT [--iface IFACE]\n"
	  "       cgfw tproxy add --from-file FILE [options as defaults]\n"
	  "       cgfw tproxy del --dst PREFIX [--src PREFIX] --proto tcp|udp --ports LOW[-HIGH]\n"
	  "                       [--iface IFACE]\n"
	  "       cgfw tproxy list [--json] | cgfw tproxy flush\n\n"
	  "Packets arriving on an attached interface that match are spliced into the\n"
	  "listener at ADDR:PORT (default address: the packet's own destination, which\n"
	  "finds listeners on the wildcard address) with bpf_sk_assign: the accepted TCP\n"
	  "socket's local address, or a UDP datagram's IP_RECVORIGDSTADDR, is the original\n"
	  "destination. Packets of an established flow go to their own socket first. No\n"
	  "listener: dropped and counted (drop_no_listener). A first fragment that matches\n"
	  "is dropped (drop_fragment): later fragments could not follow it.\n"
	  "cgfw adds a local route (table local, proto 207) for each intercepted prefix,\n"
	  "as bpf_sk_assign needs, and removes it with the last rule that needs it; a\n"
	  "route that was already there is used and left alone.\n\n" RULE_OPTS_HELP },
	{ "inbound", cmd_inbound, "admit inbound traffic on stateful interfaces",
	  "Usage: cgfw inbound add --dst PREFIX [--src PREFIX] --proto tcp|udp --ports LOW[-HIGH]\n"
	  "                        [--iface IFACE]\n"
	  "       cgfw inbound add --from-file FILE\n"
	  "       cgfw inbound del (same match) | list [--json] | flush\n\n"
	  "On interfaces attached with --stateful, packets matching an inbound rule are\n"
	  "admitted to the local stack (services this host offers). Elsewhere they pass\n"
	  "anyway. A matching inbound rule also wins over less specific tproxy and\n"
	  "redirect rules (precedence below).\n\n" RULE_OPTS_HELP },
	{ "redirect", cmd_redirect, "rewrite destinations (DNAT) and restore replies",
	  "Usage: cgfw redirect add --dst ADDR[/LEN] [--src PREFIX] --proto tcp|udp --ports P[-Q]\n"
	  "                         --to ADDR:PORT [--iface IFACE]\n"
	  "       cgfw redirect add --from-file FILE\n"
	  "       cgfw redirect del (same match) | list [--json] | flush\n\n"
	  "Ingress rewrites the destination of matching packets to ADDR:PORT, fixing the\n"
	  "IPv4 header and TCP/UDP checksums, and remembers the original in an LRU\n"
	  "connection map (262144 flows). Egress rewrites the source of the replies back,\n"
	  "so the client sees the address and port it dialled. Use it for services on\n"
	  "this host (or reached back through an attached interface). Fragments: a first\n"
	  "fragment that matches is dropped (drop_fragment); later fragments and packets\n"
	  "too short to parse are never rewritten.\n\n" RULE_OPTS_HELP },
	{ "monitor", cmd_monitor, "stream decision events (drops, intercepts, redirects)",
	  "Usage: cgfw monitor [--json] [--count N]\n\n"
	  "Print decision events as they happen: drops, intercepts and redirects of the\n"
	  "interface programs, and drops of the cgroup programs. --json prints one JSON\n"
	  "object per line. The datapath sends at most 1000 events per second per CPU\n"
	  "(bursts of 256) through a 256 KiB ring buffer; beyond that it drops events,\n"
	  "never packets, and the count of events not sent is reported. Ctrl-C (SIGINT)\n"
	  "or SIGTERM stops it; --count N stops after N events.\n" },
	{ NULL, NULL, NULL, NULL },
};
