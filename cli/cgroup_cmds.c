// SPDX-License-Identifier: GPL-2.0-only
/* cgfw commands for the cgroup datapath. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgfw.h"
#include "cli.h"
#include "policy.h"

enum {
	OPT_CGROUP = 0x100,
	OPT_INGRESS,
	OPT_EGRESS,
	OPT_PROTO,
	OPT_PORT,
	OPT_FROM_FILE,
	OPT_JSON,
	OPT_PRETTY,
	OPT_YES,
};

static const struct option common_opts[] = {
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "ingress", no_argument, NULL, OPT_INGRESS },
	{ "egress", no_argument, NULL, OPT_EGRESS },
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "from-file", required_argument, NULL, OPT_FROM_FILE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "yes", no_argument, NULL, OPT_YES },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *cmd;
	const char *cgroup;
	const char *proto;
	const char *port;
	const char *from_file;
	uint8_t dirs;
	bool yes;
	int npos;
	char **pos;
};

/* Parse options; @allowed is a string of OPT_ codes the command takes. */
static int parse(int argc, char **argv, const int *allowed, struct args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->cmd = argv[0];
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, strcmp(a->cmd, "exec") ? ":jp" : "+:jp", common_opts,
				NULL)) != -1) {
		bool ok = false;

		if (c == 'j')
			c = OPT_JSON;
		if (c == 'p')
			c = OPT_PRETTY;
		if (c == '?')
			return usage_error(a->cmd, "unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			return usage_error(a->cmd, "option '%s' needs a value", argv[optind - 1]);
		for (const int *o = allowed; *o; o++)
			ok |= *o == c;
		if (c == OPT_JSON || c == OPT_PRETTY)
			ok = true;
		if (!ok)
			return usage_error(a->cmd, "option '%s' does not apply here", argv[optind - 1]);
		switch (c) {
		case OPT_CGROUP:
			a->cgroup = optarg;
			break;
		case OPT_INGRESS:
			a->dirs |= CGFW_DIR_BIT(CGFW_DIR_INGRESS);
			break;
		case OPT_EGRESS:
			a->dirs |= CGFW_DIR_BIT(CGFW_DIR_EGRESS);
			break;
		case OPT_PROTO:
			a->proto = optarg;
			break;
		case OPT_PORT:
			a->port = optarg;
			break;
		case OPT_FROM_FILE:
			a->from_file = optarg;
			break;
		case OPT_JSON:
			json_mode = true;
			break;
		case OPT_PRETTY:
			json_mode = json_pretty = true;
			break;
		case OPT_YES:
			a->yes = true;
			break;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "--") && strcmp(a->cmd, "exec") != 0)
		optind++;
	a->pos = argv + optind;
	a->npos = argc - optind;
	if (!a->dirs)
		a->dirs = CGFW_DIR_BOTH;
	return 0;
}

static int resolve(const char *path, bool must_exist, struct cgfw_cgroup *cg)
{
	return cgfw_cgroup_resolve(NULL, path, must_exist, cg);
}

static const char *cg_display(const struct cgfw_cgroup *cg)
{
	return cg->rel[0] ? cg->rel : "/";
}

static int open_state(unsigned flags, struct cgfw_state **st)
{
	return cgfw_state_open(flags, st);
}

static int cmd_attach(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct cgfw_state *st = NULL;
	struct cgfw_cgroup cg;
	struct args a;
	int err;

	err = parse(argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos != 1)
		return usage_error("attach", "expected one CGROUP");
	err = resolve(a.pos[0], true, &cg);
	if (!err)
		err = open_state(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &st);
	if (!err)
		err = cgfw_attach(st, &cg);
	cgfw_state_close(st);
	if (err)
		return fail(err);
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "attached", json_string(cg_display(&cg)));
		json_object_set_new(o, "cgroup_id", json_integer((json_int_t)cg.id));
		print_json(o);
	} else {
		printf("attached %s (cgroup id %" PRIu64 ")\n", cg_display(&cg), cg.id);
	}
	return 0;
}

static int cmd_detach(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct cgfw_state *st = NULL;
	struct cgfw_cgroup cg;
	struct args a;
	int err;

	err = parse(argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos != 1)
		return usage_error("detach", "expected one CGROUP");
	/* The cgroup may already be gone: detach by its recorded path then. */
	err = resolve(a.pos[0], false, &cg);
	if (!err)
		err = open_state(CGFW_OPEN_LOCK, &st);
	if (!err)
		err = cgfw_detach(st, a.pos[0], &cg);
	cgfw_state_close(st);
	if (err)
		return fail(err);
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "detached", json_string(cg_display(&cg)));
		print_json(o);
	} else {
		printf("detached %s\n", cg_display(&cg));
	}
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

static int rule_cmd(int argc, char **argv, uint8_t action, bool add)
{
	static const int allowed[] = { OPT_CGROUP, OPT_INGRESS, OPT_EGRESS, OPT_PROTO,
				       OPT_PORT,   OPT_FROM_FILE, 0 };
	struct cgfw_state *st = NULL;
	struct cgfw_rule tmpl = {}, *rules = NULL, one;
	struct cgfw_cgroup cg = {};
	size_t n = 0;
	struct args a;
	int err;

	err = parse(argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.from_file ? a.npos != 0 : a.npos != 1)
		return usage_error(a.cmd, a.from_file ? "--from-file takes no ADDR as well"
						      : "expected one ADDR[/LEN]");
	tmpl.action = action;
	tmpl.dirs = a.dirs;
	tmpl.origin = CGFW_ORIGIN_MANUAL;
	if (a.proto && cgfw_parse_proto(a.proto, &tmpl.proto) < 0)
		return fail(-EINVAL);
	if (a.port) {
		if (!a.proto || tmpl.proto == CGFW_PROTO_ICMP)
			return usage_error(a.cmd, "--port '%s' needs --proto tcp or --proto udp", a.port);
		if (cgfw_parse_ports(a.port, &tmpl.port_lo, &tmpl.port_hi) < 0)
			return fail(-EINVAL);
	}
	if (a.cgroup) {
		err = resolve(a.cgroup, true, &cg);
		if (err)
			return fail(err);
		tmpl.scope = cg.id;
	}
	if (a.from_file) {
		err = cgfw_rules_from_file(a.from_file, &tmpl, &rules, &n);
		if (err)
			return fail(err);
	} else {
		one = tmpl;
		if (cgfw_parse_prefix(a.pos[0], &one.pfx) < 0)
			return fail(-EINVAL);
		rules = &one;
		n = 1;
	}
	err = open_state(CGFW_OPEN_CREATE | CGFW_OPEN_LOCK, &st);
	if (!err && a.cgroup) {
		struct cgfw_attachment att;

		if (cgfw_attachment_get(st, cg.id, &att) < 0)
			err = cgfw_seterr(ENOENT, "cgroup %s is not attached; run 'cgfw attach %s' first",
					  a.cgroup, a.cgroup);
	}
	if (!err)
		err = cgfw_rules_update(st, rules, n, add,
					a.from_file && isatty(STDERR_FILENO) ? progress : NULL, NULL);
	cgfw_state_close(st);
	if (rules != &one)
		free(rules);
	if (err < 0)
		return fail(err);
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "command", json_string(a.cmd));
		json_object_set_new(o, "rules", json_integer((json_int_t)n));
		json_object_set_new(o, "changed", json_integer(err));
		print_json(o);
	} else if (a.from_file) {
		printf("%s: %zu rules read, %d changed\n", a.cmd, n, err);
	} else {
		char buf[CGFW_ADDRSTRLEN];

		cgfw_format_prefix(&rules[0].pfx, buf, sizeof(buf));
		printf("%s %s%s\n", a.cmd, buf, err ? "" : ": no change");
	}
	return 0;
}

static int cmd_block(int argc, char **argv)
{
	return rule_cmd(argc, argv, CGFW_DENY, true);
}

static int cmd_unblock(int argc, char **argv)
{
	return rule_cmd(argc, argv, CGFW_DENY, false);
}

static int cmd_allow(int argc, char **argv)
{
	return rule_cmd(argc, argv, CGFW_ALLOW, true);
}

static int cmd_unallow(int argc, char **argv)
{
	return rule_cmd(argc, argv, CGFW_ALLOW, false);
}

static int cmd_default(int argc, char **argv)
{
	static const int allowed[] = { OPT_CGROUP, OPT_INGRESS, OPT_EGRESS, 0 };
	struct cgfw_state *st = NULL;
	struct cgfw_cgroup cg;
	uint8_t verdict;
	struct args a;
	int err;

	err = parse(argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos != 1)
		return usage_error("default", "expected 'allow' or 'deny'");
	if (!strcmp(a.pos[0], "allow"))
		verdict = CGFW_VERDICT_ALLOW;
	else if (!strcmp(a.pos[0], "deny"))
		verdict = CGFW_VERDICT_DENY;
	else
		return usage_error("default", "invalid verdict '%s' (allow or deny)", a.pos[0]);
	if (!a.cgroup)
		return usage_error("default", "--cgroup CGROUP is required");
	err = resolve(a.cgroup, true, &cg);
	if (!err)
		err = open_state(CGFW_OPEN_LOCK, &st);
	if (!err)
		err = cgfw_set_default(st, &cg, a.dirs, verdict);
	cgfw_state_close(st);
	if (err)
		return fail(err);
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "cgroup", json_string(cg_display(&cg)));
		json_object_set_new(o, "default", json_string(a.pos[0]));
		print_json(o);
	} else {
		printf("default %s for %s\n", a.pos[0], cg_display(&cg));
	}
	return 0;
}

static const char *scope_name(uint64_t scope, const struct cgfw_attachment *att, size_t n,
			      char *buf, size_t len)
{
	if (scope == CGFW_SCOPE_HOST)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (att[i].id == scope)
			return att[i].path[0] ? att[i].path : "/";
	snprintf(buf, len, "id:%" PRIu64, scope);
	return buf;
}

static const char *dirs_str(uint8_t d)
{
	return d == CGFW_DIR_BOTH ? "both" : d == CGFW_DIR_BIT(CGFW_DIR_INGRESS) ? "ingress" : "egress";
}

static int cmd_list(int argc, char **argv)
{
	static const int allowed[] = { OPT_CGROUP, 0 };
	struct cgfw_state *st = NULL;
	struct cgfw_attachment *att = NULL;
	struct cgfw_rule *rules = NULL;
	size_t na = 0, nr = 0;
	struct cgfw_cgroup cg = {};
	struct args a;
	int err;

	err = parse(argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos)
		return usage_error("list", "unexpected argument '%s'", a.pos[0]);
	if (a.cgroup) {
		err = resolve(a.cgroup, false, &cg);
		if (err)
			return fail(err);
	}
	if (!cgfw_state_exists()) {
		/* Nothing was ever attached: an empty listing, not an error. */
		err = 0;
	} else {
		err = open_state(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st);
		if (!err)
			err = cgfw_attachments(st, &att, &na);
		if (!err)
			err = cgfw_rules_list(st, &rules, &nr);
		cgfw_state_close(st);
		if (err)
			return fail(err);
	}

	if (json_mode) {
		json_t *o = json_object(), *ja = json_array(), *jr = json_array();

		for (size_t i = 0; i < na; i++)
			if (!a.cgroup || !strcmp(att[i].path, cg.rel))
				json_array_append_new(ja, cgfw_attachment_json(&att[i]));
		for (size_t i = 0; i < nr; i++) {
			char buf[32];
			const char *s = scope_name(rules[i].scope, att, na, buf, sizeof(buf));

			if (a.cgroup && s && strcmp(s, cg.rel[0] ? cg.rel : "/"))
				continue;
			json_array_append_new(jr, cgfw_rule_json(&rules[i], s));
		}
		json_object_set_new(o, "attachments", ja);
		json_object_set_new(o, "rules", jr);
		print_json(o);
	} else {
		printf("%-40s %-20s %-8s %-8s %s\n", "ATTACHED CGROUP", "ID", "INGRESS", "EGRESS",
		       "LINKS");
		for (size_t i = 0; i < na; i++) {
			if (a.cgroup && strcmp(att[i].path, cg.rel))
				continue;
			printf("%-40s %-20" PRIu64 " %-8s %-8s %s\n", att[i].path[0] ? att[i].path : "/",
			       att[i].id,
			       att[i].def[CGFW_DIR_INGRESS] == CGFW_VERDICT_DENY ? "deny" : "allow",
			       att[i].def[CGFW_DIR_EGRESS] == CGFW_VERDICT_DENY ? "deny" : "allow",
			       att[i].ingress && att[i].egress ? "ok"
			       : att[i].ingress || att[i].egress ? "partial"
								   : "missing (cgroup gone?)");
		}
		printf("\n%-30s %-6s %-8s %-24s %-5s %-11s %s\n", "RULE SCOPE", "ACTION", "DIR",
		       "PREFIX", "PROTO", "PORTS", "ORIGIN");
		for (size_t i = 0; i < nr; i++) {
			char buf[32], pfx[CGFW_ADDRSTRLEN], ports[16] = "-";
			const char *s = scope_name(rules[i].scope, att, na, buf, sizeof(buf));
			const struct cgfw_rule *r = &rules[i];

			if (a.cgroup && s && strcmp(s, cg.rel[0] ? cg.rel : "/"))
				continue;
			cgfw_format_prefix(&r->pfx, pfx, sizeof(pfx));
			if ((r->proto == CGFW_PROTO_TCP || r->proto == CGFW_PROTO_UDP) &&
			    !(r->port_lo == 0 && r->port_hi == 65535)) {
				if (r->port_lo == r->port_hi)
					snprintf(ports, sizeof(ports), "%u", r->port_lo);
				else
					snprintf(ports, sizeof(ports), "%u-%u", r->port_lo, r->port_hi);
			}
			printf("%-30s %-6s %-8s %-24s %-5s %-11s %s\n", s ? s : "* (all attached)",
			       r->action == CGFW_DENY ? "deny" : "allow", dirs_str(r->dirs), pfx,
			       cgfw_proto_name(r->proto), ports,
			       r->origin == CGFW_ORIGIN_POLICY ? "policy" : "manual");
		}
	}
	free(att);
	free(rules);
	return 0;
}

static void fmt_time(uint64_t ns, char *buf, size_t n)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static int cmd_seen(int argc, char **argv)
{
	static const int allowed[] = { OPT_CGROUP, 0 };
	struct cgfw_state *st = NULL;
	struct cgfw_attachment *att = NULL;
	struct cgfw_seen *seen = NULL;
	size_t na = 0, ns = 0;
	struct cgfw_cgroup cg = {};
	struct args a;
	int err;

	err = parse(argc, argv, allowed, &a);
	if (err)
		return err;
	if (a.npos)
		return usage_error("seen", "unexpected argument '%s'", a.pos[0]);
	if (a.cgroup) {
		err = resolve(a.cgroup, true, &cg);
		if (err)
			return fail(err);
	}
	if (cgfw_state_exists()) {
		err = open_state(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st);
		if (!err && a.cgroup) {
			struct cgfw_attachment one;

			if (cgfw_attachment_get(st, cg.id, &one) < 0)
				err = cgfw_seterr(ENOENT, "cgroup %s is not attached", a.cgroup);
		}
		if (!err)
			err = cgfw_attachments(st, &att, &na);
		if (!err)
			err = cgfw_seen_list(st, a.cgroup ? cg.id : 0, &seen, &ns);
		cgfw_state_close(st);
		if (err)
			return fail(err);
	} else if (a.cgroup) {
		return fail(cgfw_seterr(ENOENT, "cgroup %s is not attached", a.cgroup));
	}
	if (json_mode) {
		json_t *arr = json_array();

		for (size_t i = 0; i < ns; i++) {
			char buf[32];

			json_array_append_new(arr, cgfw_seen_json(&seen[i], scope_name(seen[i].cgid, att,
										       na, buf,
										       sizeof(buf))));
		}
		print_json(arr);
	} else {
		printf("%-30s %-39s %-7s %10s %12s %8s %-19s %-19s\n", "CGROUP", "REMOTE", "DIR",
		       "PACKETS", "BYTES", "DROPPED", "FIRST SEEN", "LAST SEEN");
		for (size_t i = 0; i < ns; i++) {
			char buf[32], addr[CGFW_ADDRSTRLEN], t1[32], t2[32];
			const char *s = scope_name(seen[i].cgid, att, na, buf, sizeof(buf));

			cgfw_format_addr(seen[i].family, seen[i].addr, addr, sizeof(addr));
			fmt_time(seen[i].first_ns, t1, sizeof(t1));
			fmt_time(seen[i].last_ns, t2, sizeof(t2));
			printf("%-30s %-39s %-7s %10" PRIu64 " %12" PRIu64 " %8" PRIu64 " %-19s %-19s\n",
			       s ? s : "?", addr, seen[i].dir == CGFW_DIR_INGRESS ? "in" : "out",
			       seen[i].packets, seen[i].bytes, seen[i].dropped, t1, t2);
		}
	}
	free(att);
	free(seen);
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct cgfw_state *st = NULL;
	struct cgfw_status s = {};
	bool exists;
	struct args a;
	int err;

	err = parse(argc, argv, allowed, &a);
	if (err)
		return err;
	exists = cgfw_state_exists();
	if (exists) {
		err = open_state(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &st);
		if (!err)
			err = cgfw_status_get(st, &s);
		cgfw_state_close(st);
		if (err)
			return fail(err);
	}
	if (json_mode) {
		json_t *o = json_object(), *c = json_object();

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

			for (int r = 0; r < 6; r++)
				json_object_set_new(dj, cgfw_reason_name(r),
						    json_integer((json_int_t)s.packets[d][r]));
			json_object_set_new(c, d == CGFW_DIR_INGRESS ? "ingress" : "egress", dj);
		}
		json_object_set_new(o, "packets", c);
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
		printf("%-8s", d == CGFW_DIR_INGRESS ? "ingress" : "egress");
		for (int r = 0; r < 6; r++)
			printf(" %s=%" PRIu64, cgfw_reason_name(r), s.packets[d][r]);
		printf("\n");
	}
	return 0;
}

static int cmd_exec(int argc, char **argv)
{
	static const int allowed[] = { OPT_CGROUP, 0 };
	struct cgfw_cgroup cg;
	struct args a;
	int err;

	err = parse(argc, argv, allowed, &a);
	if (err)
		return err;
	if (!a.cgroup)
		return usage_error("exec", "--cgroup CGROUP is required");
	if (a.npos && !strcmp(a.pos[0], "--")) {
		a.pos++;
		a.npos--;
	}
	if (a.npos < 1)
		return usage_error("exec", "expected a command after --");
	err = resolve(a.cgroup, false, &cg);
	if (!err)
		err = cgfw_cgroup_create(&cg);
	if (!err && cgfw_cgroup_resolve(NULL, a.cgroup, true, &cg) == 0) {
		/* A policy workload waiting for this cgroup is enforced before CMD runs. */
		int pend = cgfw_policy_enforce_pending(&cg);

		if (pend < 0)
			err = pend;
	}
	if (!err)
		err = cgfw_cgroup_enter(&cg);
	if (err)
		return fail(err);
	execvp(a.pos[0], a.pos);
	fprintf(stderr, "cgfw: cannot run %s: %s\n", a.pos[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int cmd_reset(int argc, char **argv)
{
	static const int allowed[] = { OPT_YES, 0 };
	struct args a;
	int err;

	err = parse(argc, argv, allowed, &a);
	if (err)
		return err;
	if (!a.yes)
		return usage_error("reset", "this detaches everything and removes every rule; "
					    "confirm with --yes");
	err = cgfw_reset();
	if (err)
		return fail(err);
	if (!json_mode)
		printf("removed all cgfw state under %s\n", cgfw_state_root());
	return 0;
}

#define RULE_HELP(verb, what)                                                                  \
	"Usage: cgfw " verb " ADDR[/LEN] [--cgroup CGROUP] [--ingress|--egress]\n"            \
	"                  [--proto tcp|udp|icmp] [--port N[-M]]\n"                           \
	"       cgfw " verb " --from-file FILE [same options]\n\n" what "\n\n"                 \
	"ADDR is IPv4 or IPv6; host bits of a prefix are cleared (10.1.2.3/8 is 10.0.0.0/8).\n" \
	"Without --cgroup the rule applies to every attached cgroup; without a direction,\n" \
	"to both. --port matches the destination port (the remote service on egress, the\n" \
	"local service on ingress) and needs --proto tcp or udp. --from-file reads one\n"     \
	"address or prefix per line ('#' comments allowed), all or nothing.\n\n"             \
	"Precedence: longest prefix; at equal length a rule with a protocol beats one\n"     \
	"without; then deny beats allow; then replies of allowed flows; then the default.\n"

const struct cmd cgfw_cmds[] = {
	{ "attach", cmd_attach, "attach the firewall to a cgroup v2 cgroup",
	  "Usage: cgfw attach CGROUP\n\n"
	  "Attach cgfw's ingress and egress programs to CGROUP, an absolute path on the\n"
	  "cgroup2 filesystem or a path relative to its mount (app.slice). Descendant\n"
	  "cgroups are covered. Other programs on the cgroup keep running. Idempotent;\n"
	  "re-attaching swaps in the current program atomically. Enforcement continues\n"
	  "after cgfw exits.\n" },
	{ "detach", cmd_detach, "detach from a cgroup and drop its rules and records",
	  "Usage: cgfw detach CGROUP\n\n"
	  "Remove cgfw's programs from CGROUP together with its rules, default verdicts,\n"
	  "seen addresses and flows. Works after the cgroup directory was removed.\n" },
	{ "block", cmd_block, "deny an address or prefix",
	  RULE_HELP("block", "Deny traffic to and from an address or prefix.") },
	{ "unblock", cmd_unblock, "remove a block rule",
	  RULE_HELP("unblock", "Remove a rule added with 'cgfw block' (same arguments).") },
	{ "allow", cmd_allow, "allow an address or prefix (for default deny)",
	  RULE_HELP("allow", "Allow traffic to and from an address or prefix. Replies of flows an\n"
			     "allow rule admits are admitted too.") },
	{ "unallow", cmd_unallow, "remove an allow rule",
	  RULE_HELP("unallow", "Remove a rule added with 'cgfw allow' (same arguments).") },
	{ "default", cmd_default, "set a cgroup's default verdict",
	  "Usage: cgfw default allow|deny --cgroup CGROUP [--ingress|--egress]\n\n"
	  "The verdict for packets no rule matches (allowlist mode is 'deny'). Without a\n"
	  "direction, both. The cgroup must be attached.\n" },
	{ "list", cmd_list, "show attachments and rules",
	  "Usage: cgfw list [--cgroup CGROUP] [--json]\n\n"
	  "Attached cgroups with their defaults, and every rule with its scope, action,\n"
	  "direction, prefix, protocol, ports and origin (manual or policy). With --cgroup,\n"
	  "that cgroup's attachment, its rules and the host-wide rules.\n" },
	{ "seen", cmd_seen, "remote addresses each workload exchanged packets with",
	  "Usage: cgfw seen [--cgroup CGROUP] [--json]\n\n"
	  "Per attached cgroup, remote address and direction: packets, bytes, dropped\n"
	  "packets, first and last seen. Kept in an LRU map of 65536 entries.\n" },
	{ "status", cmd_status, "state, counts and datapath counters",
	  "Usage: cgfw status [--json]\n" },
	{ "exec", cmd_exec, "run a command inside a cgroup",
	  "Usage: cgfw exec --cgroup CGROUP -- CMD [ARGS...]\n\n"
	  "Create CGROUP if needed (libcgroup), move into it and run CMD.\n" },
	{ "reset", cmd_reset, "detach everything and remove all state",
	  "Usage: cgfw reset --yes\n" },
	{ "help", cmd_help, "show help for a command", "Usage: cgfw help [COMMAND]\n" },
	{ "version", cmd_version, "print the version", "Usage: cgfw version [--json]\n" },
	{ NULL, NULL, NULL, NULL },
};
