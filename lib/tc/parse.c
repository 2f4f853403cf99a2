// SPDX-License-Identifier: GPL-2.0-only
/* tproxy, redirect and inbound rules as users type them: options and rule files. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- parsing ------------------------------------------------------------------ */

static int parse_to(struct cgfw_tc_rule *r, const char *val)
{
	char buf[CGFW_ADDRSTRLEN + 16];
	const char *port = val, *colon;
	struct cgfw_prefix a;
	uint16_t lo, hi;

	if (strlen(val) >= sizeof(buf))
		return cgfw_seterr(EINVAL, "invalid --to '%.40s...'", val);
	r->has_to_addr = false;
	memset(r->to_addr, 0, sizeof(r->to_addr));
	if (val[0] == '[') {
		const char *end = strchr(val, ']');

		if (!end || end[1] != ':')
			return cgfw_seterr(EINVAL, "invalid --to '%s' (use [IPV6]:PORT)", val);
		memcpy(buf, val + 1, (size_t)(end - val - 1));
		buf[end - val - 1] = 0;
		port = end + 2;
		if (!buf[0])
			return cgfw_seterr(EINVAL, "invalid --to '%s': empty address in brackets",
					   val);
	} else if ((colon = strchr(val, ':'))) {
		if (strchr(colon + 1, ':'))
			return cgfw_seterr(EINVAL,
					   "invalid --to '%s' (IPv6 needs brackets: "
					   "[IPV6]:PORT)",
					   val);
		memcpy(buf, val, (size_t)(colon - val));
		buf[colon - val] = 0;
		port = colon + 1;
		if (!buf[0])
			return cgfw_seterr(
				EINVAL,
				"invalid --to '%s': empty address before ':' (PORT alone "
				"means this host)",
				val);
	} else {
		buf[0] = 0;
	}
	if (buf[0]) {
		if (cgfw_parse_addr(buf, &a) < 0)
			return cgfw_seterr(EINVAL, "invalid address '%s' in --to '%s'", buf, val);
		r->has_to_addr = true;
		r->to_family = a.family;
		memcpy(r->to_addr, a.addr, 16);
	}
	if (cgfw_parse_ports(port, &lo, &hi) < 0 || lo != hi)
		return cgfw_seterr(EINVAL, "invalid port in --to '%s' (1-65535)", val);
	r->to_port = lo;
	return 0;
}

int cgfw_tc_rule_set(struct cgfw_tc_rule *r, const char *opt, const char *val)
{
	if (!val)
		return cgfw_seterr(EINVAL, "--%s needs a value", opt);
	if (!strcmp(opt, "dst")) {
		if (cgfw_parse_prefix(val, &r->dst) < 0)
			return cgfw_seterr(EINVAL, "invalid --dst '%s': %s", val, cgfw_errmsg());
		r->seen |= CGFW_TC_OPT_DST;
	} else if (!strcmp(opt, "src")) {
		if (cgfw_parse_prefix(val, &r->src) < 0)
			return cgfw_seterr(EINVAL, "invalid --src '%s': %s", val, cgfw_errmsg());
		r->seen |= CGFW_TC_OPT_SRC;
	} else if (!strcmp(opt, "proto")) {
		if (!strcmp(val, "tcp"))
			r->proto = CGFW_PROTO_TCP;
		else if (!strcmp(val, "udp"))
			r->proto = CGFW_PROTO_UDP;
		else
			return cgfw_seterr(EINVAL, "invalid --proto '%s' (tcp or udp)", val);
		r->seen |= CGFW_TC_OPT_PROTO;
	} else if (!strcmp(opt, "ports") || !strcmp(opt, "port")) {
		if (cgfw_parse_ports(val, &r->port_lo, &r->port_hi) < 0)
			return cgfw_seterr(EINVAL, "invalid --ports '%s' (N or N-M, 1-65535)", val);
		r->seen |= CGFW_TC_OPT_PORTS;
	} else if (!strcmp(opt, "to")) {
		int err = parse_to(r, val);

		if (err)
			return err;
		r->seen |= CGFW_TC_OPT_TO;
	} else if (!strcmp(opt, "iface")) {
		unsigned idx = strlen(val) < IF_NAMESIZE ? if_nametoindex(val) : 0;

		if (!idx)
			return cgfw_seterr(EINVAL,
					   "invalid --iface '%s': no such interface in this "
					   "network namespace",
					   val);
		r->ifindex = idx;
		snprintf(r->ifname, sizeof(r->ifname), "%s", val);
		r->seen |= CGFW_TC_OPT_IFACE;
	} else {
		return cgfw_seterr(EINVAL, "unknown option '--%s'", opt);
	}
	return 0;
}

int cgfw_tc_rule_check(const struct cgfw_tc_rule *r, bool add)
{
	const char *k = cgfw_tc_kind_name(r->kind);

	if (r->kind < CGFW_TC_TPROXY || r->kind > CGFW_TC_INBOUND)
		return cgfw_seterr(EINVAL, "invalid rule kind %u", r->kind);
	if (!(r->seen & CGFW_TC_OPT_DST))
		return cgfw_seterr(EINVAL, "%s: --dst PREFIX is required", k);
	if (!(r->seen & CGFW_TC_OPT_PROTO))
		return cgfw_seterr(EINVAL, "%s: --proto tcp|udp is required", k);
	if (!(r->seen & CGFW_TC_OPT_PORTS))
		return cgfw_seterr(EINVAL, "%s: --ports LOW[-HIGH] is required", k);
	if ((r->seen & CGFW_TC_OPT_SRC) && r->src.family != r->dst.family)
		return cgfw_seterr(EINVAL, "%s: --src and --dst are of different address families",
				   k);
	if (!add)
		return 0;
	if (r->kind == CGFW_TC_INBOUND && (r->seen & CGFW_TC_OPT_TO))
		return cgfw_seterr(EINVAL,
				   "inbound: --to does not apply (inbound rules only admit)");
	if (r->kind != CGFW_TC_INBOUND && !(r->seen & CGFW_TC_OPT_TO))
		return cgfw_seterr(EINVAL, "%s: --to %s is required", k,
				   r->kind == CGFW_TC_TPROXY ? "[ADDR:]PORT" : "ADDR:PORT");
	if (r->kind == CGFW_TC_REDIRECT && !r->has_to_addr)
		return cgfw_seterr(EINVAL, "redirect: --to needs an address (ADDR:PORT)");
	if (r->has_to_addr && r->to_family != r->dst.family)
		return cgfw_seterr(EINVAL, "%s: --to and --dst are of different address families",
				   k);
	return 0;
}

static bool known_option(const char *opt)
{
	static const char *const names[] = { "dst", "src", "proto", "ports", "port", "to", "iface" };

	for (size_t i = 0; i < CGFW_ARRAY_SIZE(names); i++)
		if (!strcmp(opt, names[i]))
			return true;
	return false;
}

/*
 * Split a line into options ("--dst X", "--dst=X") and set each. Errors name
 * the option, never the line's content (the file may be no rule file).
 */
static int parse_line(char *s, struct cgfw_tc_rule *r)
{
	char *save = NULL, *tok = strtok_r(s, " \t", &save);

	while (tok) {
		char *opt = tok, *val, *eq;

		if (strncmp(opt, "--", 2) != 0)
			return cgfw_seterr(EINVAL, "expected an option (the content is not shown)");
		opt += 2;
		eq = strchr(opt, '=');
		if (eq) {
			*eq = 0;
			val = eq + 1;
		} else {
			val = strtok_r(NULL, " \t", &save);
		}
		if (!known_option(opt))
			return cgfw_seterr(EINVAL, "unknown option (the content is not shown)");
		if (cgfw_tc_rule_set(r, opt, val) < 0)
			return cgfw_seterr(
				EINVAL, "invalid value for --%s (the content is not shown)", opt);
		tok = strtok_r(NULL, " \t", &save);
	}
	return 0;
}

struct rules_read {
	const struct cgfw_tc_rule *tmpl;
	bool add;
	struct cgfw_tc_rule *out;
	size_t n, cap;
};

static int rule_line(char *s, void *arg)
{
	struct rules_read *rr = arg;
	struct cgfw_tc_rule r = *rr->tmpl;
	int err;

	err = parse_line(s, &r);
	if (!err)
		err = cgfw_tc_rule_check(&r, rr->add);
	if (err)
		return cgfw_seterr(EINVAL, "%s", cgfw_errmsg());
	if (rr->n == rr->cap) {
		size_t cap = rr->cap ? rr->cap * 2 : 4096;
		struct cgfw_tc_rule *m = realloc(rr->out, cap * sizeof(*m));

		if (!m)
			return cgfw_seterr(ENOMEM, "out of memory");
		rr->out = m;
		rr->cap = cap;
	}
	rr->out[rr->n++] = r;
	return 0;
}

int cgfw_tc_rules_from_file(const char *path, const struct cgfw_tc_rule *tmpl, bool add,
			    struct cgfw_tc_rule **ret, size_t *ret_n)
{
	struct rules_read rr = { .tmpl = tmpl, .add = add };
	int err;

	err = cgfw_lines_each(path, rule_line, &rr);
	if (err) {
		free(rr.out);
		return err;
	}
	*ret = rr.out;
	*ret_n = rr.n;
	return 0;
}
