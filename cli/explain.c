// SPDX-License-Identifier: GPL-2.0-only
/*
 * cgfw explain: the verdict the datapath gives a packet and what decided it
 * (lib/cgroup/explain.c runs the programs' own code); for policy rules, the
 * file, line and workload they came from.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pkt_cls.h>

#include <cgfw/meta_map.h>
#include <cgfw/ops.h>
#include <cgfw/tc.h>

#include "cli.h"

/* "ADDR", "ADDR:PORT", "[V6ADDR]:PORT", "[V6ADDR]" or ":PORT" (no address: @allow_noaddr). */
static int parse_end(const char *what, const char *s, bool allow_noaddr, uint8_t *family,
		     uint8_t addr[16], uint16_t *port)
{
	char buf[128];
	const char *a = s, *p = NULL;
	struct cgfw_prefix pfx;
	size_t alen;

	if (strlen(s) >= sizeof(buf))
		return cgfw_seterr(EINVAL, "%s: too long", what);
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] && end[1] != ':'))
			return cgfw_seterr(EINVAL, "%s '%s': expected [IPV6]:PORT", what, s);
		a = s + 1;
		alen = (size_t)(end - a);
		p = end[1] ? end + 2 : NULL;
	} else {
		const char *colon = strchr(s, ':');

		/* One colon: ADDR:PORT (IPv4 or none); more: a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':')) {
			alen = (size_t)(colon - s);
			p = colon + 1;
		} else {
			alen = strlen(s);
		}
	}
	memcpy(buf, a, alen);
	buf[alen] = 0;
	*port = 0;
	if (p) {
		uint16_t lo, hi;

		if (cgfw_parse_ports(p, &lo, &hi) < 0 || lo != hi || !lo)
			return cgfw_seterr(EINVAL, "%s '%s': bad port '%s' (1-65535)", what, s, p);
		*port = lo;
	}
	if (!alen) {
		if (!allow_noaddr)
			return cgfw_seterr(EINVAL, "%s '%s': an address is needed", what, s);
		memset(addr, 0, 16);
		return 0;
	}
	if (cgfw_parse_addr(buf, &pfx) < 0)
		return cgfw_seterr(EINVAL, "%s '%s': not an IPv4 or IPv6 address", what, s);
	if (*family && *family != pfx.family)
		return cgfw_seterr(EINVAL, "%s '%s': the two ends are of different families", what,
				   s);
	*family = pfx.family;
	memcpy(addr, pfx.addr, 16);
	return 0;
}

static const char *reason_text(int r)
{
	switch (r) {
	case CGFW_R_ALLOW_DEFAULT:
		return "allowed by the default";
	case CGFW_R_ALLOW_RULE:
		return "allowed by a rule";
	case CGFW_R_ALLOW_REPLY:
		return "allowed as a reply of a flow admitted the other way";
	case CGFW_R_DROP_RULE:
		return "dropped by a rule";
	case CGFW_R_DROP_DEFAULT:
		return "dropped by the default";
	case CGFW_R_UNPARSED:
		return "not parsed (the default applies)";
	case CGFW_R_AUDIT_RULE:
		return "audit: a rule would drop it; passed";
	case CGFW_R_AUDIT_DEFAULT:
		return "audit: the default would drop it; passed";
	}
	return "?";
}

/* The policy rule a listed rule came from, when it has the policy origin. */
static const struct cgfw_pol_rule *provenance(const struct cgfw_policy *pol,
					      const struct cgfw_rule *r,
					      const struct cgfw_pol_workload **ret_w)
{
	const struct cgfw_pol_workload *w;

	if (r->origin != CGFW_ORIGIN_POLICY || !(w = cgfw_policy_workload_of(pol, r->scope)))
		return NULL;
	for (size_t i = 0; i < w->nrules; i++) {
		const struct cgfw_rule *p = &w->rules[i].r;
		uint8_t m[16];
		bool all = r->proto == CGFW_PROTO_ICMP || (!p->port_lo && !p->port_hi);

		cgfw_mask(p->pfx.family, p->pfx.len, p->pfx.addr, m);
		if (p->pfx.family == r->pfx.family && p->pfx.len == r->pfx.len &&
		    !memcmp(m, r->pfx.addr, 16) && p->proto == r->proto && p->action == r->action &&
		    (p->dirs & r->dirs) &&
		    (!r->proto || (all ? (r->port_lo == 0 && r->port_hi == 65535) || !r->port_lo :
					 (p->port_lo == r->port_lo && p->port_hi == r->port_hi)))) {
			*ret_w = w;
			return &w->rules[i];
		}
	}
	return NULL;
}

static json_t *rule_json(const struct cgfw_explain_step *s, int k, const struct cgfw_policy *pol,
			 const char *scope)
{
	const struct cgfw_pol_workload *w = NULL;
	const struct cgfw_pol_rule *pr = provenance(pol, &s->rule[k], &w);
	json_t *o = cgfw_rule_json(&s->rule[k], scope);

	json_object_set_new(o, "scope_kind", json_string(k ? "cgroup" : "host"));
	json_object_set_new(o, "packets", json_integer((json_int_t)s->stats[k].packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)s->stats[k].bytes));
	json_object_set_new(o, "last_hit", cgfw_time_json(s->stats[k].last_ns));
	if (pr) {
		json_object_set_new(o, "workload", json_string(w->name));
		json_object_set_new(o, "file", json_string(pr->file ? pr->file : "?"));
		json_object_set_new(o, "line", json_integer(pr->line));
	}
	return o;
}

static void print_rule(const struct cgfw_explain_step *s, int k, const struct cgfw_policy *pol)
{
	const struct cgfw_rule *r = &s->rule[k];
	const struct cgfw_pol_workload *w = NULL;
	const struct cgfw_pol_rule *pr = provenance(pol, r, &w);
	char pfx[CGFW_ADDRSTRLEN], ports[24] = "";

	cgfw_format_prefix(&r->pfx, pfx, sizeof(pfx));
	if ((r->proto == CGFW_PROTO_TCP || r->proto == CGFW_PROTO_UDP) &&
	    !(r->port_lo == 0 && r->port_hi == 65535))
		snprintf(ports, sizeof(ports),
			 r->port_lo == r->port_hi ? " port %u" : " ports %u-%u", r->port_lo,
			 r->port_hi);
	printf("    rule: %s %s%s%s%s (%s, %s)", r->action == CGFW_DENY ? "deny" : "allow", pfx,
	       r->proto ? " " : "", r->proto ? cgfw_proto_name(r->proto) : "", ports,
	       k ? "the cgroup's rule" : "host-wide rule",
	       r->origin == CGFW_ORIGIN_POLICY ? "policy" : "manual");
	if (pr)
		printf(", workload %s, %s:%d", w->name, pr->file ? pr->file : "?", pr->line);
	printf("; %" PRIu64 " packets so far\n", s->stats[k].packets);
}

/* ADDR:PORT, an IPv6 address in brackets. */
static const char *endpoint(uint8_t family, const char *addr, uint16_t port, char *buf, size_t n)
{
	snprintf(buf, n, family == CGFW_FAMILY_INET ? "%s:%u" : "[%s]:%u", addr, port);
	return buf;
}

/* --iface: the interface programs. A is the destination, B (--from) the source. */
static int explain_iface(struct ctx *c, struct cgfw_explain_pkt *x, const char *ifname)
{
	struct cgfw_tc_explanation r;
	char src[CGFW_ADDRSTRLEN], dst[CGFW_ADDRSTRLEN];
	char e1[CGFW_ADDRSTRLEN + 8], e2[CGFW_ADDRSTRLEN + 8];
	const uint8_t *sa = x->dir == CGFW_DIR_EGRESS ? x->local : x->remote;
	const uint8_t *da = x->dir == CGFW_DIR_EGRESS ? x->remote : x->local;
	uint16_t sp = x->dir == CGFW_DIR_EGRESS ? x->lport : x->rport;
	uint16_t dp = x->dir == CGFW_DIR_EGRESS ? x->rport : x->lport;
	bool drop;
	int err;

	err = cgfw_tc_open(CGFW_OPEN_LOCK | CGFW_OPEN_SHARED, &c->tc);
	if (err == -ENOENT)
		err = cgfw_seterr(EINVAL, "interface %s is not attached (no TC state)", ifname);
	if (!err)
		err = cgfw_tc_explain(c->tc, ifname, x, &r);
	if (err)
		return err;
	cgfw_format_addr(x->family, sa, src, sizeof(src));
	cgfw_format_addr(x->family, da, dst, sizeof(dst));
	drop = r.verdict == TC_ACT_SHOT;
	if (json_mode) {
		json_t *o = json_object();

		json_object_set_new(o, "iface", json_string(r.ifname));
		json_object_set_new(o, "direction",
				    json_string(x->dir == CGFW_DIR_INGRESS ? "ingress" : "egress"));
		json_object_set_new(o, "proto", json_string(cgfw_proto_name(x->proto)));
		json_object_set_new(o, "src", json_string(src));
		json_object_set_new(o, "src_port", json_integer(sp));
		json_object_set_new(o, "dst", json_string(dst));
		json_object_set_new(o, "dst_port", json_integer(dp));
		json_object_set_new(o, "verdict", json_string(drop ? "drop" : "pass"));
		json_object_set_new(o, "reason", json_string(cgfw_tc_reason_name(r.reason)));
		json_object_set_new(o, "stateful", json_boolean(r.flags & CGFW_TC_STATEFUL));
		json_object_set_new(o, "listener", json_boolean(r.listener));
		json_object_set_new(o, "rule",
				    r.has_rule ? cgfw_tc_rule_json(&r.rule) : json_null());
		print_json(o);
		return 0;
	}
	printf("%s %s %s -> %s on %s: %s (%s)\n", x->dir == CGFW_DIR_INGRESS ? "ingress" : "egress",
	       cgfw_proto_name(x->proto), endpoint(x->family, src, sp, e1, sizeof(e1)),
	       endpoint(x->family, dst, dp, e2, sizeof(e2)), r.ifname, drop ? "DROP" : "PASS",
	       cgfw_tc_reason_name(r.reason));
	if (r.has_rule) {
		char d[CGFW_ADDRSTRLEN];

		cgfw_format_prefix(&r.rule.dst, d, sizeof(d));
		printf("  rule %u: %s --dst %s --proto %s --ports %u-%u", r.rule.id,
		       cgfw_tc_kind_name(r.rule.kind), d, cgfw_proto_name(r.rule.proto),
		       r.rule.port_lo, r.rule.port_hi);
		if (r.rule.src.len) {
			char s2[CGFW_ADDRSTRLEN];

			cgfw_format_prefix(&r.rule.src, s2, sizeof(s2));
			printf(" --src %s", s2);
		}
		if (r.rule.ifname[0])
			printf(" --iface %s", r.rule.ifname);
		if (r.rule.kind != CGFW_TC_INBOUND) {
			char t[CGFW_ADDRSTRLEN] = "";

			if (r.rule.has_to_addr)
				cgfw_format_addr(r.rule.to_family, r.rule.to_addr, t, sizeof(t));
			printf(" --to %s%s%u", t, t[0] ? ":" : "", r.rule.to_port);
		}
		printf("; %" PRIu64 " packets so far\n", r.rule.packets);
		if (r.rule.kind == CGFW_TC_TPROXY)
			printf("  listener: %s\n",
			       r.listener ? "found" : "none (the SYN is dropped)");
	} else {
		printf("  no rule matched%s\n",
		       r.flags & CGFW_TC_STATEFUL ? " (the interface is stateful)" : "");
	}
	return 0;
}

int cmd_explain(struct ctx *c)
{
	_cleanup_free_ struct cgfw_explain_step *steps = NULL;
	struct cgfw_explain_pkt x = {};
	struct cgfw_policy pol = {};
	struct cgfw_cgroup cg;
	const char *from = opt_str(c, O_XFROM);
	char ra[CGFW_ADDRSTRLEN], la[CGFW_ADDRSTRLEN];
	size_t n = 0;
	bool pass = true;
	int err;

	const char *ifname = opt_str(c, O_XIFACE);

	if (!ifname == !opt_str(c, O_CGROUP))
		return cli_usage(c, "give one of --cgroup CGROUP or --iface IFACE");
	if (opt_set(c, O_INGRESS) && opt_set(c, O_EGRESS))
		return cli_usage(c, "give one direction: --ingress or --egress");
	if (!ifname && !opt_set(c, O_INGRESS) && !opt_set(c, O_EGRESS))
		return cli_usage(c, "give one direction: --ingress or --egress");
	x.dir = opt_set(c, O_EGRESS) ? CGFW_DIR_EGRESS : CGFW_DIR_INGRESS;
	if (!strcmp(c->argv[0], "tcp") || !strcmp(c->argv[0], "udp") ||
	    !strcmp(c->argv[0], "icmp")) {
		err = cgfw_parse_proto(c->argv[0], &x.proto);
	} else {
		char *end;
		unsigned long v = strtoul(c->argv[0], &end, 10);

		err = (*end || end == c->argv[0] || v > 255) ?
			      cli_usage(c, "invalid protocol '%s' (tcp, udp, icmp or a number)",
					c->argv[0]) :
			      0;
		x.proto = (uint8_t)v;
	}
	if (!err)
		err = parse_end("address", c->argv[1], false, &x.family, x.remote, &x.rport);
	if (!err && from)
		err = parse_end("--from", from, true, &x.family, x.local, &x.lport);
	if (err)
		return err == -EINVAL ? (c->usage = true, err) : err;
	if (!x.lport)
		x.lport = 40000; /* an ephemeral port for the workload's end */
	if (!x.rport && (x.proto == CGFW_PROTO_TCP || x.proto == CGFW_PROTO_UDP))
		return cli_usage(c, "%s needs a port: ADDR:PORT", cgfw_proto_name(x.proto));
	if (ifname) {
		/* Interfaces: ADDR:PORT is the destination, --from the source. */
		if (x.dir == CGFW_DIR_INGRESS) {
			uint8_t a[16];
			uint16_t pt = x.rport;

			memcpy(a, x.remote, 16);
			memcpy(x.remote, x.local, 16);
			memcpy(x.local, a, 16);
			x.rport = x.lport;
			x.lport = pt;
		}
		return explain_iface(c, &x, ifname);
	}
	err = cgfw_cgroup_resolve(NULL, opt_str(c, O_CGROUP), true, &cg);
	if (!err && !cgfw_state_exists())
		err = cgfw_seterr(EINVAL, "cgroup %s is not attached", opt_str(c, O_CGROUP));
	if (!err)
		err = cli_open(c);
	if (!err)
		err = cgfw_explain(c->st, &cg, &x, &steps, &n);
	if (err)
		return err;
	if (cgfw_policy_load_saved(&pol) < 0)
		memset(&pol, 0, sizeof(pol));
	for (size_t i = 0; i < n; i++)
		pass &= steps[i].verdict == CGFW_VERDICT_ALLOW;
	cgfw_format_addr(x.family, x.remote, ra, sizeof(ra));
	cgfw_format_addr(x.family, x.local, la, sizeof(la));
	if (json_mode) {
		json_t *o = json_object(), *js = json_array();

		json_object_set_new(o, "verdict", json_string(pass ? "allow" : "deny"));
		json_object_set_new(o, "direction",
				    json_string(x.dir == CGFW_DIR_INGRESS ? "ingress" : "egress"));
		json_object_set_new(o, "proto", json_string(cgfw_proto_name(x.proto)));
		json_object_set_new(o, "remote", json_string(ra));
		json_object_set_new(o, "remote_port", json_integer(x.rport));
		json_object_set_new(o, "local", json_string(la));
		json_object_set_new(o, "local_port", json_integer(x.lport));
		for (size_t i = 0; i < n; i++) {
			const struct cgfw_explain_step *s = &steps[i];
			json_t *j = json_object(), *jr = json_array();

			json_object_set_new(j, "cgroup", json_string(s->path));
			json_object_set_new(j, "cgroup_id", json_integer((json_int_t)s->cgid));
			json_object_set_new(j, "ancestor", json_boolean(s->cgid != cg.id));
			json_object_set_new(j, "verdict",
					    json_string(cgfw_verdict_name(s->verdict)));
			json_object_set_new(j, "reason", json_string(cgfw_reason_name(s->reason)));
			json_object_set_new(j, "default", json_string(cgfw_verdict_name(s->def)));
			json_object_set_new(j, "audit", json_boolean(s->audit));
			json_object_set_new(j, "reply", json_boolean(s->reply));
			for (int k = 0; k < 2; k++)
				if (s->has_rule[k])
					json_array_append_new(jr, rule_json(s, k, &pol,
									    k ? s->path : NULL));
			json_object_set_new(j, "rules", jr);
			json_array_append_new(js, j);
		}
		json_object_set_new(o, "steps", js);
		print_json(o);
	} else {
		bool in = x.dir == CGFW_DIR_INGRESS;
		char e1[CGFW_ADDRSTRLEN + 8], e2[CGFW_ADDRSTRLEN + 8];

		printf("%s %s %s -> %s: %s\n", in ? "ingress" : "egress", cgfw_proto_name(x.proto),
		       endpoint(x.family, in ? ra : la, in ? x.rport : x.lport, e1, sizeof(e1)),
		       endpoint(x.family, in ? la : ra, in ? x.lport : x.rport, e2, sizeof(e2)),
		       pass ? "ALLOW" : "DENY");
		for (size_t i = 0; i < n; i++) {
			const struct cgfw_explain_step *s = &steps[i];

			printf("  %s %s (id %" PRIu64 "%s): %s, %s\n",
			       s->cgid == cg.id ? "cgroup" : "ancestor", s->path, s->cgid,
			       s->audit ? ", audit mode" : "", cgfw_verdict_name(s->verdict),
			       reason_text(s->reason));
			for (int k = 0; k < 2; k++)
				if (s->has_rule[k])
					print_rule(s, k, &pol);
			if (!s->has_rule[0] && !s->has_rule[1])
				printf("    no rule matched; default %s\n",
				       cgfw_verdict_name(s->def));
		}
	}
	cgfw_policy_free(&pol);
	return 0;
}
