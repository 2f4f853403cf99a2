// SPDX-License-Identifier: GPL-2.0-only
/* cgfw commands for the TC (interface) datapath: tc, tproxy, inbound, redirect. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- cgfw tc ------------------------------------------------------------------------ */

int cmd_tc_attach(struct ctx *c)
{
	static const uint8_t modes[] = { 0, CGFW_TC_MODE_TCX, CGFW_TC_MODE_CLSACT };
	struct cgfw_tc_attach_opts o = {};
	struct cgfw_tc_iface info;
	int err;

	o.flags = (opt_set(c, O_STATEFUL) ? CGFW_TC_STATEFUL : 0) |
		  (opt_set(c, O_ICMP) ? CGFW_TC_ICMP : 0) |
		  (opt_set(c, O_NO_SSH) ? CGFW_TC_NO_SSH : 0);
	if ((o.flags & (CGFW_TC_ICMP | CGFW_TC_NO_SSH)) && !(o.flags & CGFW_TC_STATEFUL))
		return cli_usage(c, "--icmp and --no-ssh apply to --stateful only");
	o.mode = opt_set(c, O_MODE) ? modes[c->v[O_MODE].choice] : 0;
	err = cli_open(c);
	if (!err)
		err = cgfw_tc_attach(c->tc, c->argv[0], &o, &info);
	if (err)
		return err;
	if (json_mode) {
		print_json(cgfw_tc_iface_json(&info));
		return 0;
	}
	printf("attached %s (ifindex %u, %s%s%s%s)\n", info.name, info.ifindex,
	       info.mode == CGFW_TC_MODE_TCX ? "tcx" : "clsact",
	       info.flags & CGFW_TC_STATEFUL ? ", stateful" : "",
	       info.flags & CGFW_TC_STATEFUL && info.flags & CGFW_TC_ICMP ? ", icmp echo" : "",
	       info.flags & CGFW_TC_STATEFUL && !(info.flags & CGFW_TC_NO_SSH) ?
		       ", ssh to own addresses" :
		       "");
	return 0;
}

int cmd_tc_detach(struct ctx *c)
{
	int err;

	err = cli_open(c);
	if (!err && !c->tc)
		err = cgfw_seterr(EINVAL, "interface %s is not attached", c->argv[0]);
	if (!err)
		err = cgfw_tc_detach(c->tc, c->argv[0]);
	if (err)
		return err;
	if (json_mode)
		print_json(json_pack("{s:s}", "detached", c->argv[0]));
	else
		printf("detached %s\n", c->argv[0]);
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

static void print_counters(const char *what, const uint64_t *packets)
{
	printf("%s:", what);
	for (int r = 0; r < CGFW_TC_R_COUNT; r++)
		if (packets[r])
			printf(" %s=%" PRIu64, cgfw_tc_reason_name(r), packets[r]);
	printf("\n");
}

int cmd_tc_list(struct ctx *c)
{
	_cleanup_free_ struct cgfw_tc_iface *ifs = NULL;
	struct cgfw_tc_stats s = {};
	size_t n = 0;
	int err;

	err = cli_open(c);
	if (!err && c->tc) {
		err = cgfw_tc_ifaces(c->tc, &ifs, &n);
		if (!err)
			err = cgfw_tc_stats_get(c->tc, &s);
	}
	if (err)
		return err;
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
	print_counters("ingress", s.packets[0]);
	print_counters("egress", s.packets[1]);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

void cli_catch_signals(volatile sig_atomic_t **ret_stop)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: a signal ends the wait at once. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	*ret_stop = &stop;
}

static void print_synced(size_t n)
{
	if (json_mode)
		print_json(json_pack("{s:I}", "synced", (json_int_t)n));
	else
		printf("address changes recorded: %zu\n", n);
	fflush(stdout);
}

static void synced(size_t n, void *arg)
{
	if (n)
		print_synced(n);
}

int cmd_tc_sync(struct ctx *c)
{
	struct cgfw_tc *tc = NULL;
	size_t n = 0;
	int err;

	if (opt_set(c, O_WATCH)) {
		volatile sig_atomic_t *stopp;

		cli_catch_signals(&stopp);
		return cgfw_tc_watch(stopp, synced, NULL);
	}
	err = cgfw_tc_open(CGFW_OPEN_LOCK, &tc);
	if (!err)
		err = cgfw_tc_sync(tc, &n);
	cgfw_tc_close(tc);
	if (err)
		return err;
	print_synced(n);
	return 0;
}

/* ---- tproxy, inbound, redirect ------------------------------------------------------------ */

static void rule_text(const struct cgfw_tc_rule *r, char *buf, size_t n)
{
	char d[CGFW_ADDRSTRLEN], s[CGFW_ADDRSTRLEN] = "", p[16];

	cgfw_format_prefix(&r->dst, d, sizeof(d));
	if (r->src.len)
		cgfw_format_prefix(&r->src, s, sizeof(s));
	if (r->port_lo == r->port_hi)
		snprintf(p, sizeof(p), "%u", r->port_lo);
	else
		snprintf(p, sizeof(p), "%u-%u", r->port_lo, r->port_hi);
	snprintf(buf, n, "--dst %s%s%s --proto %s --ports %s%s%s", d, s[0] ? " --src " : "", s,
		 cgfw_proto_name(r->proto), p, r->ifname[0] ? " --iface " : "", r->ifname);
}

/* add and del of one kind: data is the kind, with 1 << 8 for adding. */
int cmd_tc_rule_change(struct ctx *c)
{
	uint8_t kind = (uint8_t)(c->cmd->data & 0xff);
	bool add = c->cmd->data >> 8;
	const char *from = opt_str(c, O_FROM_FILE);
	struct cgfw_tc_rule *rules = NULL;
	size_t n = 0;
	int err;

	c->rule.kind = kind;
	if (kind == CGFW_TC_INBOUND && (c->rule.seen & CGFW_TC_OPT_TO))
		return cli_usage(c, "--to does not apply to inbound rules");
	if (from) {
		err = cgfw_tc_rules_from_file(from, &c->rule, add, &rules, &n);
		if (err)
			return err;
	} else {
		err = cgfw_tc_rule_check(&c->rule, add);
		if (err)
			return cli_usage(c, "%s", cgfw_errmsg());
		rules = &c->rule;
		n = 1;
	}
	err = cli_open(c);
	/* No TC state: nothing to delete from. */
	if (!err && c->tc)
		err = cgfw_tc_rules_update(c->tc, rules, n, add);
	if (err >= 0 && !from && !add && err == 0) {
		char buf[256];

		rule_text(&c->rule, buf, sizeof(buf));
		err = cgfw_seterr(EINVAL, "%s: no %s rule matches %s", c->name,
				  cgfw_tc_kind_name(kind), buf);
	} else if (err >= 0) {
		if (json_mode) {
			print_json(json_pack("{s:s, s:I, s:i}", "command", c->name, "rules",
					     (json_int_t)n, "changed", err));
		} else if (from) {
			printf("%s: %zu rules read, %d changed\n", c->name, n, err);
		} else {
			char buf[256];

			rule_text(&c->rule, buf, sizeof(buf));
			printf("%s %s%s\n", c->name, buf, err ? "" : ": no change");
		}
		err = 0;
	}
	if (rules != &c->rule)
		free(rules);
	return err;
}

static void print_rules(uint8_t kind, const struct cgfw_tc_rule *rules, size_t n,
			const struct cgfw_tc_route *routes, size_t nr)
{
	printf("%-6s %-28s %-22s %-5s %-11s %-26s %-10s %12s %14s\n", "ID", "DST", "SRC", "PROTO",
	       "PORTS", kind == CGFW_TC_INBOUND ? "" : "TO", "IFACE", "PACKETS", "BYTES");
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
					 r->dst.family == CGFW_FAMILY_INET6 ? "[%s]:%u" : "%s:%u",
					 ad, r->to_port);
			} else {
				snprintf(to, sizeof(to), "(this host):%u", r->to_port);
			}
		}
		printf("%-6u %-28s %-22s %-5s %-11s %-26s %-10s %12" PRIu64 " %14" PRIu64 "\n",
		       r->id, d, s, cgfw_proto_name(r->proto), p, to, r->ifindex ? r->ifname : "*",
		       r->packets, r->bytes);
	}
	if (kind != CGFW_TC_TPROXY || !nr)
		return;
	printf("\n%-40s %-8s %s\n", "LOCAL ROUTE (table local)", "RULES", "ADDED BY");
	for (size_t i = 0; i < nr; i++) {
		char buf[CGFW_ADDRSTRLEN];

		cgfw_format_prefix(&routes[i].pfx, buf, sizeof(buf));
		printf("%-40s %-8u %s%s\n", buf, routes[i].refs,
		       routes[i].owned ? "cgfw" : "(was there)",
		       routes[i].this_netns ? "" : " [other netns]");
	}
}

int cmd_tc_rule_list(struct ctx *c)
{
	uint8_t kind = (uint8_t)c->cmd->data;
	_cleanup_free_ struct cgfw_tc_rule *rules = NULL;
	_cleanup_free_ struct cgfw_tc_route *routes = NULL;
	size_t n = 0, nr = 0;
	int err;

	err = cli_open(c);
	if (!err && c->tc) {
		err = cgfw_tc_rules_list(c->tc, kind, &rules, &n);
		if (!err && kind == CGFW_TC_TPROXY)
			err = cgfw_tc_routes(c->tc, &routes, &nr);
	}
	if (err)
		return err;
	if (!json_mode) {
		print_rules(kind, rules, n, routes, nr);
		return 0;
	}
	{
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
	}
	return 0;
}

int cmd_tc_rule_flush(struct ctx *c)
{
	uint8_t kind = (uint8_t)c->cmd->data;
	int err;

	err = cli_open(c);
	if (!err && c->tc)
		err = cgfw_tc_rules_flush(c->tc, kind);
	if (err < 0)
		return err;
	if (json_mode)
		print_json(json_pack("{s:s, s:i}", "command", c->name, "removed", err));
	else
		printf("%s: %d %s rules removed\n", c->name, err, cgfw_tc_kind_name(kind));
	return 0;
}
