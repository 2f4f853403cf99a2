// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the values the CLI's options take, as a user types them:
 * cgfw_parse_prefix(), cgfw_parse_addr(), cgfw_parse_ports(),
 * cgfw_parse_proto() (block/allow ADDR, --port, --proto) and
 * cgfw_tc_rule_set() for --dst, --src, --proto, --ports and --to (tproxy,
 * inbound, redirect). The input, up to its first NUL byte (an argument holds
 * none), goes to every one of them.
 *
 * Invariants besides memory safety:
 * - a prefix has a family, a length within it and no host bit set; it is
 *   the address before the '/' (inet_pton) masked bit by bit to the length;
 *   formatted and parsed again it is the same prefix;
 * - an address is a prefix of full length, the same cgfw_parse_prefix()
 *   gives, and survives formatting; without '/' both parsers agree;
 * - ports are 1 <= LOW <= HIGH <= 65535, only digits and one '-', and read
 *   back from "LOW" or "LOW-HIGH"; a protocol is one of its names;
 * - cgfw_tc_rule_set() changes only the option's own fields and its "seen"
 *   bit, to what the core parsers give; --proto is tcp or udp; --to has a
 *   port, an address exactly when the value has a ':' ('[]:80' and ':80'
 *   are errors), and reads back from its formatted form;
 * - every failure is -EINVAL with a one-line message without control bytes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include <cgfw/core.h>
#include <cgfw/tc.h>

/* ---- core parsers ---------------------------------------------------------------------- */

/* The prefix the string means: inet_pton of the address, masked bit by bit. */
static int ref_prefix(const char *s, struct cgfw_prefix *ret)
{
	const char *slash = strchr(s, '/');
	char a[128];
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct cgfw_prefix p = {};
	unsigned long len;
	char *end;

	if (alen >= sizeof(a))
		return -1;
	memcpy(a, s, alen);
	a[alen] = 0;
	if (inet_pton(AF_INET, a, p.addr) == 1)
		p.family = CGFW_FAMILY_INET;
	else if (inet_pton(AF_INET6, a, p.addr) == 1)
		p.family = CGFW_FAMILY_INET6;
	else
		return -1;
	len = p.family == CGFW_FAMILY_INET ? 32 : 128;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || *end || len > (p.family == CGFW_FAMILY_INET ? 32u : 128u))
			return -1;
	}
	p.len = (uint8_t)len;
	for (unsigned b = p.len; b < 128; b++)
		p.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
	*ret = p;
	return 0;
}

static void check_prefix(const char *s, struct cgfw_prefix *ret, bool *ret_ok)
{
	struct cgfw_prefix p, back, ref;
	char buf[CGFW_ADDRSTRLEN];
	int err;

	cgfw_clearerr();
	err = cgfw_parse_prefix(s, &p);
	*ret_ok = !err;
	if (err) {
		fuzz_check_failure(err, 0);
		/* inet_pton takes what cgfw refuses only when the string is too long. */
		if (strlen(s) < CGFW_ADDRSTRLEN && ref_prefix(s, &ref) == 0)
			fuzz_fail("'%s' is the prefix %u/%u, refused: %s", s, ref.family, ref.len,
				  cgfw_errmsg());
		return;
	}
	fuzz_check_prefix(&p, s);
	if (ref_prefix(s, &ref) < 0)
		fuzz_fail("'%s' is no prefix, but it parsed", s);
	if (memcmp(&p, &ref, sizeof(p)))
		fuzz_fail("'%s' parsed to another prefix than it means", s);
	cgfw_format_prefix(&p, buf, sizeof(buf));
	if (strlen(buf) + 1 >= sizeof(buf))
		fuzz_fail("'%s' formatted to '%s', which may be cut", s, buf);
	if (cgfw_parse_prefix(buf, &back) < 0 || memcmp(&p, &back, sizeof(p)))
		fuzz_fail("'%s' formatted to '%s', which does not read back", s, buf);
	*ret = p;
}

static void check_addr(const char *s, const struct cgfw_prefix *pfx, bool pfx_ok)
{
	struct cgfw_prefix a, back;
	char buf[CGFW_ADDRSTRLEN];
	int err;

	cgfw_clearerr();
	err = cgfw_parse_addr(s, &a);
	if (err) {
		fuzz_check_failure(err, 0);
		if (!strchr(s, '/') && pfx_ok)
			fuzz_fail("'%s' is a prefix without a length, but no address", s);
		return;
	}
	if (!pfx_ok || memcmp(&a, pfx, sizeof(a)))
		fuzz_fail("address '%s' is not the prefix cgfw_parse_prefix() reads", s);
	if (a.len != (a.family == CGFW_FAMILY_INET ? 32 : 128))
		fuzz_fail("address '%s' has the length %u", s, a.len);
	cgfw_format_addr(a.family, a.addr, buf, sizeof(buf));
	if (cgfw_parse_addr(buf, &back) < 0 || memcmp(&a, &back, sizeof(a)))
		fuzz_fail("address '%s' formatted to '%s', which does not read back", s, buf);
}

static void check_ports(const char *s, uint16_t *ret_lo, uint16_t *ret_hi, bool *ret_ok)
{
	uint16_t lo = 0, hi = 0, blo = 0, bhi = 0;
	char buf[16];
	int err;

	cgfw_clearerr();
	err = cgfw_parse_ports(s, &lo, &hi);
	*ret_ok = !err;
	if (err) {
		fuzz_check_failure(err, 0);
		return;
	}
	if (!lo || lo > hi)
		fuzz_fail("'%s' gave the ports %u-%u", s, lo, hi);
	if (strspn(s, "0123456789-") != strlen(s) || (strchr(s, '-') != strrchr(s, '-')))
		fuzz_fail("'%s' is not N or N-M, but gave the ports %u-%u", s, lo, hi);
	if (lo == hi)
		snprintf(buf, sizeof(buf), "%u", lo);
	else
		snprintf(buf, sizeof(buf), "%u-%u", lo, hi);
	if (cgfw_parse_ports(buf, &blo, &bhi) < 0 || blo != lo || bhi != hi)
		fuzz_fail("ports '%s' formatted to '%s', which does not read back", s, buf);
	*ret_lo = lo;
	*ret_hi = hi;
}

static void check_proto(const char *s)
{
	static const char *const names[] = { "tcp", "udp", "icmp", "icmpv6", "icmp6" };
	uint8_t p = 0xee, back = 0xee;
	bool known = false;
	int err;

	for (size_t i = 0; i < CGFW_ARRAY_SIZE(names); i++)
		known |= !strcmp(s, names[i]);
	cgfw_clearerr();
	err = cgfw_parse_proto(s, &p);
	if (err) {
		fuzz_check_failure(err, 0);
		if (known)
			fuzz_fail("protocol '%s' refused", s);
		return;
	}
	if (!known || (p != CGFW_PROTO_TCP && p != CGFW_PROTO_UDP && p != CGFW_PROTO_ICMP))
		fuzz_fail("'%s' is the protocol %u", s, p);
	if (cgfw_parse_proto(cgfw_proto_name(p), &back) < 0 || back != p)
		fuzz_fail("protocol %u's name '%s' does not read back", p, cgfw_proto_name(p));
}

/* ---- cgfw_tc_rule_set -------------------------------------------------------------------- */

/* A rule with every byte set, so any field changed by mistake shows. */
static void tc_template(struct cgfw_tc_rule *r)
{
	memset(r, 0x5a, sizeof(*r));
	r->has_to_addr = false; /* a bool holds 0 or 1 */
	r->seen = 0;
	r->ifname[sizeof(r->ifname) - 1] = 0;
}

/* Copy the fields an option may set from @from to @to. */
static void tc_copy_fields(const char *opt, struct cgfw_tc_rule *to,
			   const struct cgfw_tc_rule *from)
{
	if (!strcmp(opt, "dst")) {
		to->dst = from->dst;
	} else if (!strcmp(opt, "src")) {
		to->src = from->src;
	} else if (!strcmp(opt, "proto")) {
		to->proto = from->proto;
	} else if (!strcmp(opt, "ports")) {
		to->port_lo = from->port_lo;
		to->port_hi = from->port_hi;
	} else if (!strcmp(opt, "to")) {
		to->has_to_addr = from->has_to_addr;
		to->to_family = from->to_family;
		memcpy(to->to_addr, from->to_addr, sizeof(to->to_addr));
		to->to_port = from->to_port;
	}
	to->seen = from->seen;
}

static void check_to(const char *s, const struct cgfw_tc_rule *r)
{
	struct cgfw_tc_rule back;
	char a[CGFW_ADDRSTRLEN], buf[CGFW_ADDRSTRLEN + 16];

	if (!r->to_port)
		fuzz_fail("--to '%s' without a port", s);
	if (r->has_to_addr != (strchr(s, ':') != NULL))
		fuzz_fail("--to '%s': has an address: %d", s, r->has_to_addr);
	if (!r->has_to_addr) {
		snprintf(buf, sizeof(buf), "%u", r->to_port);
	} else {
		struct cgfw_prefix p = { .family = r->to_family,
					 .len = r->to_family == CGFW_FAMILY_INET ? 32 : 128 };

		memcpy(p.addr, r->to_addr, 16);
		fuzz_check_prefix(&p, s);
		cgfw_format_addr(r->to_family, r->to_addr, a, sizeof(a));
		snprintf(buf, sizeof(buf), r->to_family == CGFW_FAMILY_INET6 ? "[%s]:%u" : "%s:%u",
			 a, r->to_port);
	}
	tc_template(&back);
	if (cgfw_tc_rule_set(&back, "to", buf) < 0)
		fuzz_fail("--to '%s' formatted to '%s', which is refused: %s", s, buf,
			  cgfw_errmsg());
	if (back.has_to_addr != r->has_to_addr || back.to_port != r->to_port ||
	    (r->has_to_addr &&
	     (back.to_family != r->to_family || memcmp(back.to_addr, r->to_addr, 16))))
		fuzz_fail("--to '%s' formatted to '%s', which reads back to another target", s,
			  buf);
}

static void check_tc(const char *opt, const char *s, const struct cgfw_prefix *pfx, bool pfx_ok,
		     uint16_t lo, uint16_t hi, bool ports_ok)
{
	struct cgfw_tc_rule r, want;
	int err;

	tc_template(&r);
	want = r;
	cgfw_clearerr();
	err = cgfw_tc_rule_set(&r, opt, s);
	if (err) {
		fuzz_check_failure(err, 0);
		if ((!strcmp(opt, "dst") || !strcmp(opt, "src")) && pfx_ok)
			fuzz_fail("--%s '%s' refused, but it is a prefix", opt, s);
		if (!strcmp(opt, "ports") && ports_ok)
			fuzz_fail("--ports '%s' refused, but it is a port range", s);
		return;
	}
	tc_copy_fields(opt, &want, &r);
	if (memcmp(&r, &want, sizeof(r)))
		fuzz_fail("--%s '%s' changed a field of another option", opt, s);
	if (!strcmp(opt, "dst") || !strcmp(opt, "src")) {
		const struct cgfw_prefix *p = !strcmp(opt, "dst") ? &r.dst : &r.src;

		if (!pfx_ok || memcmp(p, pfx, sizeof(*p)))
			fuzz_fail("--%s '%s' is not the prefix cgfw_parse_prefix() reads", opt, s);
		if (r.seen != (!strcmp(opt, "dst") ? CGFW_TC_OPT_DST : CGFW_TC_OPT_SRC))
			fuzz_fail("--%s '%s': seen %#x", opt, s, r.seen);
	} else if (!strcmp(opt, "proto")) {
		if ((r.proto != CGFW_PROTO_TCP || strcmp(s, "tcp")) &&
		    (r.proto != CGFW_PROTO_UDP || strcmp(s, "udp")))
			fuzz_fail("--proto '%s' is the protocol %u", s, r.proto);
		if (r.seen != CGFW_TC_OPT_PROTO)
			fuzz_fail("--proto '%s': seen %#x", s, r.seen);
	} else if (!strcmp(opt, "ports")) {
		if (!ports_ok || r.port_lo != lo || r.port_hi != hi)
			fuzz_fail("--ports '%s' gave %u-%u, not what cgfw_parse_ports() reads", s,
				  r.port_lo, r.port_hi);
		if (r.seen != CGFW_TC_OPT_PORTS)
			fuzz_fail("--ports '%s': seen %#x", s, r.seen);
	} else {
		check_to(s, &r);
		if (r.seen != CGFW_TC_OPT_TO)
			fuzz_fail("--to '%s': seen %#x", s, r.seen);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const opts[] = { "dst", "src", "proto", "ports", "to" };
	size_t n = strnlen((const char *)data, size);
	struct cgfw_prefix pfx = {};
	uint16_t lo = 0, hi = 0;
	bool pfx_ok, ports_ok;
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = 0;
	check_prefix(s, &pfx, &pfx_ok);
	check_addr(s, &pfx, pfx_ok);
	check_ports(s, &lo, &hi, &ports_ok);
	check_proto(s);
	for (size_t i = 0; i < CGFW_ARRAY_SIZE(opts); i++)
		check_tc(opts[i], s, &pfx, pfx_ok, lo, hi, ports_ok);
	free(s);
	return 0;
}
