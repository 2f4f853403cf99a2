// SPDX-License-Identifier: GPL-2.0-only
/* cgfw commands for the cgroup datapath: attach, rules, defaults, listings, exec. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cgfw/meta_map.h>
#include <cgfw/ops.h>

#include "cli.h"

static int resolve(const char *path, bool must_exist, struct cgfw_cgroup *cg)
{
	return cgfw_cgroup_resolve(NULL, path, must_exist, cg);
}

int cmd_attach(struct ctx *c)
{
	struct cgfw_cgroup cg;
	int err;

	err = resolve(c->argv[0], true, &cg);
	if (!err)
		err = cli_open(c);
	if (!err)
		err = cgfw_attach(c->st, &cg);
	if (err)
		return err;
	if (json_mode)
		print_json(json_pack("{s:s, s:I}", "attached", cgfw_cgroup_name(&cg), "cgroup_id",
				     (json_int_t)cg.id));
	else
		printf("attached %s (cgroup id %" PRIu64 ")\n", cgfw_cgroup_name(&cg), cg.id);
	return 0;
}

int cmd_detach(struct ctx *c)
{
	struct cgfw_cgroup cg;
	int err;

	/* The cgroup may already be gone: detach by its recorded path then. */
	err = resolve(c->argv[0], false, &cg);
	if (!err && !cgfw_state_exists())
		err = cgfw_seterr(EINVAL, "cgroup %s is not attached", c->argv[0]);
	if (!err)
		err = cli_open(c);
	if (!err)
		err = cgfw_detach(c->st, c->argv[0], &cg);
	if (err)
		return err;
	if (json_mode)
		print_json(json_pack("{s:s}", "detached", cgfw_cgroup_name(&cg)));
	else
		printf("detached %s\n", cgfw_cgroup_name(&cg));
	return 0;
}

static void progress(size_t done, size_t total, void *arg)
{
	static time_t last;
	time_t now = time(NULL);

	if (now == last && done != total)
		return;
	last = now;
	fprintf(stderr, "\rcgfw: writing rules %zu/%zu", done, total);
	if (done == total)
		fputc('\n', stderr);
}

/* block, unblock, allow, unallow: data is the action, with 1 << 8 for adding. */
int cmd_rule(struct ctx *c)
{
	const char *from = opt_str(c, O_FROM_FILE), *cgroup = opt_str(c, O_CGROUP);
	bool add = c->cmd->data >> 8;
	struct cgfw_rule tmpl = {}, *rules = NULL, one;
	struct cgfw_attachment att;
	struct cgfw_cgroup cg = {};
	size_t n = 0;
	int err;

	if (from ? c->argc != 0 : c->argc != 1)
		return cli_usage(c, from ? "--from-file takes no ADDR as well" :
					   "expected one ADDR[/LEN]");
	tmpl.action = (uint8_t)(c->cmd->data & 0xff);
	tmpl.dirs = opt_dirs(c);
	tmpl.origin = CGFW_ORIGIN_MANUAL;
	tmpl.proto = c->v[O_PROTO].proto;
	if (opt_set(c, O_PORT)) {
		if (!opt_set(c, O_PROTO) || tmpl.proto == CGFW_PROTO_ICMP)
			return cli_usage(c, "--port '%s' needs --proto tcp or --proto udp",
					 opt_str(c, O_PORT));
		tmpl.port_lo = c->v[O_PORT].lo;
		tmpl.port_hi = c->v[O_PORT].hi;
	}
	if (cgroup) {
		err = resolve(cgroup, true, &cg);
		if (err)
			return err;
		tmpl.scope = cg.id;
	}
	if (from) {
		err = cgfw_rules_from_file(from, &tmpl, &rules, &n);
		if (err)
			return err;
	} else {
		one = tmpl;
		err = cgfw_parse_prefix(c->argv[0], &one.pfx);
		if (err)
			return err;
		rules = &one;
		n = 1;
	}
	err = cli_open(c);
	if (!err && cgroup && cgfw_attachment_get(c->st, cg.id, &att) < 0)
		err = cgfw_seterr(EINVAL, "cgroup %s is not attached; run 'cgfw attach %s' first",
				  cgroup, cgroup);
	if (!err)
		err = cgfw_rules_update(c->st, rules, n, add,
					from && isatty(STDERR_FILENO) ? progress : NULL, NULL);
	if (err >= 0) {
		if (json_mode) {
			print_json(json_pack("{s:s, s:I, s:i}", "command", c->name, "rules",
					     (json_int_t)n, "changed", err));
		} else if (from) {
			printf("%s: %zu rules read, %d changed\n", c->name, n, err);
		} else {
			char buf[CGFW_ADDRSTRLEN];

			cgfw_format_prefix(&rules[0].pfx, buf, sizeof(buf));
			printf("%s %s%s\n", c->name, buf, err ? "" : ": no change");
		}
		err = 0;
	}
	if (rules != &one)
		free(rules);
	return err;
}

int cmd_default(struct ctx *c)
{
	struct cgfw_cgroup cg;
	uint8_t verdict;
	int err;

	if (!strcmp(c->argv[0], "allow"))
		verdict = CGFW_VERDICT_ALLOW;
	else if (!strcmp(c->argv[0], "deny"))
		verdict = CGFW_VERDICT_DENY;
	else
		return cli_usage(c, "invalid verdict '%s' (allow or deny)", c->argv[0]);
	err = resolve(opt_str(c, O_CGROUP), true, &cg);
	if (!err && !cgfw_state_exists())
		err = cgfw_seterr(EINVAL, "cgroup %s is not attached; run 'cgfw attach %s' first",
				  opt_str(c, O_CGROUP), opt_str(c, O_CGROUP));
	if (!err && opt_set(c, O_AUDIT) && opt_set(c, O_ENFORCE))
		err = cli_usage(c, "--audit and --enforce exclude each other");
	if (!err)
		err = cli_open(c);
	if (!err && !(opt_set(c, O_AUDIT) || opt_set(c, O_ENFORCE))) {
		err = cgfw_set_default(c->st, &cg, opt_dirs(c), verdict);
	} else if (!err) {
		/* The default and the mode: one change, so no packet sees a mix. */
		struct cgfw_attachment a;
		_cleanup_change_ struct cgfw_change *ch = NULL;

		if (cgfw_attachment_get(c->st, cg.id, &a) < 0)
			err = cgfw_seterr(EINVAL,
					  "cgroup %s is not attached; run 'cgfw attach %s' first",
					  cgfw_cgroup_name(&cg), cgfw_cgroup_name(&cg));
		if (!err)
			err = cgfw_change_begin(c->st, &ch);
		if (!err)
			err = cgfw_change_default(ch, cg.id, opt_dirs(c), verdict);
		if (!err)
			err = cgfw_change_audit(ch, cg.id, opt_set(c, O_AUDIT));
		if (!err)
			err = cgfw_change_commit(ch);
	}
	if (err)
		return err;
	if (json_mode) {
		json_t *o = json_pack("{s:s, s:s}", "cgroup", cgfw_cgroup_name(&cg), "default",
				      c->argv[0]);

		if (opt_set(c, O_AUDIT) || opt_set(c, O_ENFORCE))
			json_object_set_new(o, "mode",
					    json_string(opt_set(c, O_AUDIT) ? "audit" : "enforce"));
		print_json(o);
	} else {
		printf("default %s for %s%s\n", c->argv[0], cgfw_cgroup_name(&cg),
		       opt_set(c, O_AUDIT)   ? " (audit mode: nothing is dropped, would-drops are "
					       "counted and reported)" :
		       opt_set(c, O_ENFORCE) ? " (enforced)" :
					       "");
	}
	return 0;
}

static void fmt_time(uint64_t ns, char *buf, size_t n);

/* The scope of a rule for listings: NULL for host-wide rules. */
static const char *scope_name(uint64_t scope, const struct cgfw_attachment *att, size_t n,
			      char *buf, size_t len)
{
	return scope == CGFW_SCOPE_HOST ? NULL : cgfw_attachment_name(att, n, scope, buf, len);
}

static void print_list(const struct cgfw_attachment *att, size_t na, const struct cgfw_rule *rules,
		       const struct cgfw_rule_stats *stats, size_t nr,
		       const struct cgfw_cgroup *only)
{
	printf("%-40s %-20s %-8s %-8s %-8s %s\n", "ATTACHED CGROUP", "ID", "INGRESS", "EGRESS",
	       "MODE", "LINKS");
	for (size_t i = 0; i < na; i++) {
		if (only && strcmp(att[i].path, only->rel))
			continue;
		printf("%-40s %-20" PRIu64 " %-8s %-8s %-8s %s\n",
		       att[i].path[0] ? att[i].path : "/", att[i].id,
		       cgfw_verdict_name(att[i].def[CGFW_DIR_INGRESS]),
		       cgfw_verdict_name(att[i].def[CGFW_DIR_EGRESS]),
		       att[i].audit ? "audit" : "enforce",
		       att[i].ingress && att[i].egress ? "ok" :
		       att[i].ingress || att[i].egress ? "partial" :
							 "missing (cgroup gone?)");
	}
	printf("\n%-30s %-6s %-8s %-24s %-5s %-11s %-7s", "RULE SCOPE", "ACTION", "DIR", "PREFIX",
	       "PROTO", "PORTS", "ORIGIN");
	if (stats)
		printf(" %10s %12s %s", "PACKETS", "BYTES", "LAST HIT");
	printf("\n");
	for (size_t i = 0; i < nr; i++) {
		char buf[32], pfx[CGFW_ADDRSTRLEN], ports[16] = "-";
		const char *s = scope_name(rules[i].scope, att, na, buf, sizeof(buf));
		const struct cgfw_rule *r = &rules[i];

		if (only && s && strcmp(s, cgfw_cgroup_name(only)))
			continue;
		cgfw_format_prefix(&r->pfx, pfx, sizeof(pfx));
		if ((r->proto == CGFW_PROTO_TCP || r->proto == CGFW_PROTO_UDP) &&
		    !(r->port_lo == 0 && r->port_hi == 65535)) {
			if (r->port_lo == r->port_hi)
				snprintf(ports, sizeof(ports), "%u", r->port_lo);
			else
				snprintf(ports, sizeof(ports), "%u-%u", r->port_lo, r->port_hi);
		}
		printf("%-30s %-6s %-8s %-24s %-5s %-11s %-7s", s ? s : "* (all attached)",
		       r->action == CGFW_DENY ? "deny" : "allow", cgfw_dirs_name(r->dirs), pfx,
		       cgfw_proto_name(r->proto), ports,
		       r->origin == CGFW_ORIGIN_POLICY ? "policy" : "manual");
		if (stats) {
			char t[32] = "-";

			if (stats[i].last_ns)
				fmt_time(stats[i].last_ns, t, sizeof(t));
			printf(" %10" PRIu64 " %12" PRIu64 " %s", stats[i].packets, stats[i].bytes,
			       t);
		}
		printf("\n");
	}
}

int cmd_list(struct ctx *c)
{
	_cleanup_free_ struct cgfw_attachment *att = NULL;
	_cleanup_free_ struct cgfw_rule *rules = NULL;
	_cleanup_free_ struct cgfw_rule_stats *stats = NULL;
	const char *cgroup = opt_str(c, O_CGROUP);
	bool want_stats = opt_set(c, O_STATS);
	struct cgfw_cgroup cg = {};
	size_t na = 0, nr = 0;
	int err;

	if (cgroup) {
		err = resolve(cgroup, false, &cg);
		if (err)
			return err;
	}
	err = cli_open(c);
	if (!err && c->st)
		err = cgfw_attachments(c->st, &att, &na);
	if (!err && c->st)
		err = cgfw_rules_list_stats(c->st, &rules, want_stats ? &stats : NULL, &nr);
	if (err)
		return err;
	if (!json_mode) {
		print_list(att, na, rules, want_stats ? stats : NULL, nr, cgroup ? &cg : NULL);
		return 0;
	}
	{
		json_t *o = json_object(), *ja = json_array(), *jr = json_array();

		for (size_t i = 0; i < na; i++)
			if (!cgroup || !strcmp(att[i].path, cg.rel))
				json_array_append_new(ja, cgfw_attachment_json(&att[i]));
		for (size_t i = 0; i < nr; i++) {
			char buf[32];
			const char *s = scope_name(rules[i].scope, att, na, buf, sizeof(buf));

			if (cgroup && s && strcmp(s, cgfw_cgroup_name(&cg)))
				continue;
			{
				json_t *j = cgfw_rule_json(&rules[i], s);

				if (want_stats && stats) {
					json_object_set_new(
						j, "packets",
						json_integer((json_int_t)stats[i].packets));
					json_object_set_new(
						j, "bytes",
						json_integer((json_int_t)stats[i].bytes));
					json_object_set_new(j, "last_hit",
							    cgfw_time_json(stats[i].last_ns));
				}
				json_array_append_new(jr, j);
			}
		}
		json_object_set_new(o, "attachments", ja);
		json_object_set_new(o, "rules", jr);
		print_json(o);
	}
	return 0;
}

static void fmt_time(uint64_t ns, char *buf, size_t n)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

int cmd_seen(struct ctx *c)
{
	_cleanup_free_ struct cgfw_attachment *att = NULL;
	_cleanup_free_ struct cgfw_seen *seen = NULL;
	const char *cgroup = opt_str(c, O_CGROUP);
	struct cgfw_attachment one;
	struct cgfw_cgroup cg = {};
	size_t na = 0, ns = 0;
	int err;

	if (cgroup) {
		err = resolve(cgroup, true, &cg);
		if (err)
			return err;
	}
	err = cli_open(c);
	if (err)
		return err;
	if (cgroup && (!c->st || cgfw_attachment_get(c->st, cg.id, &one) < 0))
		return cgfw_seterr(EINVAL, "cgroup %s is not attached", cgroup);
	if (c->st) {
		err = cgfw_attachments(c->st, &att, &na);
		if (!err)
			err = cgfw_seen_list(c->st, cgroup ? cg.id : 0, &seen, &ns);
		if (err)
			return err;
	}
	if (json_mode) {
		json_t *arr = json_array();

		for (size_t i = 0; i < ns; i++) {
			char buf[32];

			json_array_append_new(
				arr,
				cgfw_seen_json(&seen[i], cgfw_attachment_name(att, na, seen[i].cgid,
									      buf, sizeof(buf))));
		}
		print_json(arr);
		return 0;
	}
	printf("%-30s %-39s %-7s %10s %12s %8s %-19s %-19s\n", "CGROUP", "REMOTE", "DIR", "PACKETS",
	       "BYTES", "DROPPED", "FIRST SEEN", "LAST SEEN");
	for (size_t i = 0; i < ns; i++) {
		char buf[32], addr[CGFW_ADDRSTRLEN], t1[32], t2[32];
		const char *s = cgfw_attachment_name(att, na, seen[i].cgid, buf, sizeof(buf));

		cgfw_format_addr(seen[i].family, seen[i].addr, addr, sizeof(addr));
		fmt_time(seen[i].first_ns, t1, sizeof(t1));
		fmt_time(seen[i].last_ns, t2, sizeof(t2));
		printf("%-30s %-39s %-7s %10" PRIu64 " %12" PRIu64 " %8" PRIu64 " %-19s %-19s\n", s,
		       addr, seen[i].dir == CGFW_DIR_INGRESS ? "in" : "out", seen[i].packets,
		       seen[i].bytes, seen[i].dropped, t1, t2);
	}
	return 0;
}

int cmd_status(struct ctx *c)
{
	struct cgfw_status s = {};
	bool exists;
	int err;

	err = cli_open(c);
	exists = c->st != NULL;
	if (!err && exists)
		err = cgfw_status_get(c->st, &s);
	if (err)
		return err;
	if (json_mode) {
		json_t *o = json_object(), *p = json_object();

		json_object_set_new(o, "version", json_string(CGFW_VERSION));
		json_object_set_new(o, "state_root", json_string(cgfw_state_root()));
		json_object_set_new(o, "initialized", json_boolean(exists));
		json_object_set_new(o, "layout_version", json_integer(s.layout_version));
		json_object_set_new(o, "attachments", json_integer((json_int_t)s.attachments));
		json_object_set_new(o, "rules_ipv4", json_integer((json_int_t)s.rules4));
		json_object_set_new(o, "rules_ipv6", json_integer((json_int_t)s.rules6));
		json_object_set_new(o, "prefix_lengths_ipv4", json_integer(s.lens4));
		json_object_set_new(o, "prefix_lengths_ipv6", json_integer(s.lens6));
		for (int d = 0; d < CGFW_DIR_COUNT; d++) {
			json_t *dj = json_object();

			for (int r = 0; r < CGFW_R_COUNT; r++)
				json_object_set_new(dj, cgfw_reason_name(r),
						    json_integer((json_int_t)s.packets[d][r]));
			json_object_set_new(p, cgfw_dir_name(d), dj);
		}
		json_object_set_new(o, "packets", p);
		print_json(o);
		return 0;
	}
	printf("cgfw %s, state %s: %s\n", CGFW_VERSION, cgfw_state_root(),
	       exists ? "initialized" : "not initialized (nothing attached)");
	if (!exists)
		return 0;
	printf("layout version %u; %zu cgroups attached\n", s.layout_version, s.attachments);
	printf("rules: %zu IPv4 (%u prefix lengths), %zu IPv6 (%u prefix lengths)\n", s.rules4,
	       s.lens4, s.rules6, s.lens6);
	for (int d = 0; d < CGFW_DIR_COUNT; d++) {
		printf("%-8s", cgfw_dir_name(d));
		for (int r = 0; r < CGFW_R_COUNT; r++)
			printf(" %s=%" PRIu64, cgfw_reason_name(r), s.packets[d][r]);
		printf("\n");
	}
	return 0;
}

int cmd_exec(struct ctx *c)
{
	const char *cgroup = opt_str(c, O_CGROUP);
	struct cgfw_cgroup cg;
	int err;

	err = resolve(cgroup, false, &cg);
	if (!err)
		err = cgfw_cgroup_create(&cg);
	if (!err && resolve(cgroup, true, &cg) == 0) {
		/* A policy workload waiting for this cgroup is enforced before CMD runs. */
		int pend = cgfw_policy_enforce_pending(&cg);

		if (pend < 0)
			err = pend;
	}
	if (!err)
		err = cgfw_cgroup_enter(&cg);
	if (err)
		return err;
	execvp(c->argv[0], c->argv);
	err = errno;
	fprintf(stderr, "cgfw: cannot run %s: %s\n", c->argv[0], strerror(err));
	return err == ENOENT ? 127 : 126;
}

int cmd_reset(struct ctx *c)
{
	int err;

	if (!opt_set(c, O_YES))
		return cli_usage(c, "this detaches everything and removes every rule; confirm with "
				    "--yes");
	err = cgfw_reset();
	if (err)
		return err;
	if (json_mode)
		print_json(json_pack("{s:b, s:s}", "reset", 1, "state_root", cgfw_state_root()));
	else
		printf("removed all cgfw state under %s\n", cgfw_state_root());
	return 0;
}
