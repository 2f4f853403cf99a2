// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the rule-list files (`block --from-file`, a policy's
 * allow_file/deny_file, `tproxy|inbound|redirect add|del --from-file`), read
 * from a scratch file holding the fuzzed bytes.
 *
 * Input: one selector byte, then the file. Selector % 4: 0 cgfw_rules_from_file(),
 * 1 cgfw_tc_rules_from_file() adding, 2 the same deleting (a match only),
 * 3 cgfw_lines_each() itself; selector / 4 picks the template's variant
 * (the rule kind for tc, the line whose callback fails for lines_each).
 *
 * Invariants besides memory safety, against a reference reading of the
 * lines (split at '\n', '#' to the end of the line removed, blanks around
 * removed, empty lines skipped, a NUL byte anywhere in a line is an error):
 * - lines_each hands over exactly the reference lines, in order; a failing
 *   callback's error is "FILE:LINE: its message" with the line's number;
 * - on success there is one rule per reference line, equal to the template
 *   but for what the line sets, every prefix with its host bits clear, a tc
 *   rule complete for its kind (cgfw_tc_rule_check), an address rule the
 *   line's own cgfw_parse_prefix();
 * - on failure -EINVAL and "FILE:LINE: message", LINE a line of the file
 *   holding something, every line above it valid, and the message one of a
 *   fixed set: no error ever shows what the file holds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include <cgfw/core.h>
#include <cgfw/tc.h>

static char dir[256], path[300], head_path[320];

/* What an error about one line may say (after "FILE:LINE: "); '#' is a number. */
static const char *const addr_msgs[] = {
	"a NUL byte: not a text file",
	"invalid line: not an address or prefix (# characters; the content is not shown)",
};
static const char *const tc_msgs[] = {
	"a NUL byte: not a text file",
	"expected an option (the content is not shown)",
	"unknown option (the content is not shown)",
	"invalid value for --dst (the content is not shown)",
	"invalid value for --src (the content is not shown)",
	"invalid value for --proto (the content is not shown)",
	"invalid value for --ports (the content is not shown)",
	"invalid value for --port (the content is not shown)",
	"invalid value for --to (the content is not shown)",
	"invalid value for --iface (the content is not shown)",
	"%s: --dst PREFIX is required",
	"%s: --proto tcp|udp is required",
	"%s: --ports LOW[-HIGH] is required",
	"%s: --src and --dst are of different address families",
	"%s: --to [ADDR:]PORT is required",
	"%s: --to ADDR:PORT is required",
	"%s: --to and --dst are of different address families",
	"inbound: --to does not apply (inbound rules only admit)",
	"redirect: --to needs an address (ADDR:PORT)",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup("lines", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/list.txt", dir);
	snprintf(head_path, sizeof(head_path), "%s/head.txt", dir);
	return 0;
}

/* ---- the reference reading ---------------------------------------------------------- */

struct ref_line {
	char *s;	 /* stripped content */
	size_t lineno;	 /* 1-based number in the file */
	size_t off, end; /* the raw line in the file */
};

struct ref {
	struct ref_line *v;
	size_t n;
	size_t nul_line; /* first line holding a NUL byte, 0: none */
	size_t nlines;
};

static void ref_read(const char *d, size_t len, struct ref *r)
{
	size_t off = 0, lineno = 0;

	memset(r, 0, sizeof(*r));
	r->v = calloc(len + 1, sizeof(*r->v));
	if (!r->v)
		abort();
	while (off < len) {
		const char *nl = memchr(d + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - d) + 1 : len, a = off, b;

		lineno++;
		if (memchr(d + off, 0, end - off)) {
			r->nul_line = lineno;
			break;
		}
		b = end;
		for (size_t i = off; i < end; i++)
			if (d[i] == '#') {
				b = i;
				break;
			}
		while (a < b && (d[a] == ' ' || d[a] == '\t'))
			a++;
		while (b > a && (d[b - 1] == '\n' || d[b - 1] == '\r' || d[b - 1] == ' ' ||
				 d[b - 1] == '\t'))
			b--;
		if (b > a) {
			r->v[r->n].s = strndup(d + a, b - a);
			r->v[r->n].lineno = lineno;
			r->v[r->n].off = off;
			r->v[r->n].end = end;
			r->n++;
		}
		off = end;
	}
	r->nlines = lineno;
}

static void ref_free(struct ref *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].s);
	free(r->v);
}

/* The line number of an error "PATH:LINE: msg"; the message in *ret_msg. */
static size_t error_line(const char *e, const char *file, const char **ret_msg)
{
	size_t n = strlen(file), line = 0;
	const char *c;

	if (strncmp(e, file, n) || e[n] != ':')
		fuzz_fail("error does not start with FILE: '%s'", e);
	c = e + n + 1;
	if (*c < '1' || *c > '9')
		fuzz_fail("error without a line number: '%s'", e);
	for (; *c >= '0' && *c <= '9'; c++)
		line = line * 10 + (size_t)(*c - '0');
	if (c[0] != ':' || c[1] != ' ' || !c[2])
		fuzz_fail("error is not FILE:LINE: message: '%s'", e);
	*ret_msg = c + 2;
	return line;
}

static void check_msg(const char *msg, const char *const *msgs, size_t n)
{
	static const char *const kinds[] = { "tproxy", "redirect", "inbound" };
	char buf[256];

	for (size_t i = 0; i < n; i++) {
		if (!strstr(msgs[i], "%s")) {
			if (fuzz_match(msg, msgs[i]))
				return;
			continue;
		}
		for (size_t k = 0; k < CGFW_ARRAY_SIZE(kinds); k++) {
			snprintf(buf, sizeof(buf), msgs[i], kinds[k]);
			if (!strcmp(msg, buf))
				return;
		}
	}
	fuzz_fail("unexpected error message (does it show the file's content?): '%s'", msg);
}

/*
 * The error names line L: the file holds a NUL byte there, or something that
 * does not read on its own (@reads) while every line above it does.
 */
static void check_error_line(const struct ref *r, size_t line, const uint8_t *d,
			     int (*reads)(const uint8_t *d, size_t len))
{
	size_t k = 0;

	if (r->nul_line && line == r->nul_line) {
		if (r->n && !reads(d, r->v[r->n - 1].end))
			fuzz_fail("error names the NUL byte of line %zu, but a line above it is "
				  "not valid either",
				  line);
		return;
	}
	while (k < r->n && r->v[k].lineno != line)
		k++;
	if (k == r->n)
		fuzz_fail("error names line %zu, which holds no rule (%zu lines)", line, r->nlines);
	if (reads(d + r->v[k].off, r->v[k].end - r->v[k].off))
		fuzz_fail("error names line %zu, which reads on its own", line);
	if (k && !reads(d, r->v[k - 1].end))
		fuzz_fail("error names line %zu, but a line above it is not valid either", line);
}

/* ---- address lists -------------------------------------------------------------------- */

static const struct cgfw_rule addr_tmpl[2] = {
	{ .scope = 7, .dirs = CGFW_DIR_BOTH, .action = CGFW_DENY, .origin = CGFW_ORIGIN_MANUAL },
	{ .scope = 0,
	  .proto = CGFW_PROTO_TCP,
	  .port_lo = 80,
	  .port_hi = 90,
	  .dirs = CGFW_DIR_BIT(CGFW_DIR_EGRESS),
	  .action = CGFW_ALLOW,
	  .origin = CGFW_ORIGIN_POLICY },
};

static const struct cgfw_rule *addr_cur;

/* Do these bytes read as an address list without error? */
static int addr_reads(const uint8_t *d, size_t len)
{
	struct cgfw_rule *rules = NULL;
	size_t n = 0;
	int err;

	fuzz_write(head_path, d, len);
	err = cgfw_rules_from_file(head_path, addr_cur, &rules, &n);
	free(rules);
	return err == 0;
}

static void fuzz_addr_list(const uint8_t *d, unsigned variant, const struct ref *r)
{
	const struct cgfw_rule *tmpl = addr_cur = &addr_tmpl[variant % 2];
	struct cgfw_rule *rules = NULL;
	size_t n = 0;
	const char *msg;
	int err;

	cgfw_clearerr();
	err = cgfw_rules_from_file(path, tmpl, &rules, &n);
	if (err) {
		size_t line;

		fuzz_check_failure(err, 0);
		line = error_line(cgfw_errmsg(), path, &msg);
		check_msg(msg, addr_msgs, CGFW_ARRAY_SIZE(addr_msgs));
		check_error_line(r, line, d, addr_reads);
		return;
	}
	if (r->nul_line)
		fuzz_fail("a NUL byte on line %zu was read as text", r->nul_line);
	if (n != r->n)
		fuzz_fail("%zu rules from %zu lines", n, r->n);
	for (size_t i = 0; i < n; i++) {
		struct cgfw_rule want = *tmpl;

		fuzz_check_prefix(&rules[i].pfx, "rule");
		if (cgfw_parse_prefix(r->v[i].s, &want.pfx) < 0)
			fuzz_fail("line %zu became a rule, but is no prefix", r->v[i].lineno);
		if (memcmp(&rules[i], &want, sizeof(want)))
			fuzz_fail("the rule of line %zu is not the template with its prefix",
				  r->v[i].lineno);
	}
	free(rules);
}

/* ---- tc rule files --------------------------------------------------------------------- */

static struct cgfw_tc_rule tc_tmpl;
static bool tc_add;

static void tc_check_rule(const struct cgfw_tc_rule *t, size_t lineno)
{
	if (t->kind != tc_tmpl.kind)
		fuzz_fail("line %zu: rule kind %u, not the template's %u", lineno, t->kind,
			  tc_tmpl.kind);
	if (cgfw_tc_rule_check(t, tc_add) < 0)
		fuzz_fail("line %zu was read, but the rule is not complete: %s", lineno,
			  cgfw_errmsg());
	fuzz_check_prefix(&t->dst, "--dst");
	if (t->seen & CGFW_TC_OPT_SRC)
		fuzz_check_prefix(&t->src, "--src");
	if (t->proto != CGFW_PROTO_TCP && t->proto != CGFW_PROTO_UDP)
		fuzz_fail("line %zu: protocol %u", lineno, t->proto);
	if (!t->port_lo || t->port_lo > t->port_hi)
		fuzz_fail("line %zu: ports %u-%u", lineno, t->port_lo, t->port_hi);
	if ((t->seen & CGFW_TC_OPT_TO) && !t->to_port)
		fuzz_fail("line %zu: --to without a port", lineno);
	if (t->has_to_addr && t->to_family != CGFW_FAMILY_INET && t->to_family != CGFW_FAMILY_INET6)
		fuzz_fail("line %zu: --to address of family %u", lineno, t->to_family);
	if (t->ifname[sizeof(t->ifname) - 1])
		fuzz_fail("line %zu: interface name not terminated", lineno);
	if (t->id || t->packets || t->bytes)
		fuzz_fail("line %zu: parsing set the rule's id or counters", lineno);
}

/* Do these bytes read as a tc rule file without error? */
static int tc_reads(const uint8_t *d, size_t len)
{
	struct cgfw_tc_rule *rules = NULL;
	size_t n = 0;
	int err;

	fuzz_write(head_path, d, len);
	err = cgfw_tc_rules_from_file(head_path, &tc_tmpl, tc_add, &rules, &n);
	free(rules);
	return err == 0;
}

static void fuzz_tc_list(const uint8_t *d, unsigned variant, bool add, const struct ref *r)
{
	struct cgfw_tc_rule *rules = NULL;
	size_t n = 0;
	const char *msg;
	int err;

	memset(&tc_tmpl, 0, sizeof(tc_tmpl));
	tc_tmpl.kind = (uint8_t)(CGFW_TC_TPROXY + variant % 3);
	tc_add = add;
	cgfw_clearerr();
	err = cgfw_tc_rules_from_file(path, &tc_tmpl, add, &rules, &n);
	if (err) {
		char e[1024];
		size_t line;

		fuzz_check_failure(err, 0);
		snprintf(e, sizeof(e), "%s", cgfw_errmsg());
		line = error_line(e, path, &msg);
		check_msg(msg, tc_msgs, CGFW_ARRAY_SIZE(tc_msgs));
		check_error_line(r, line, d, tc_reads);
		return;
	}
	if (r->nul_line)
		fuzz_fail("a NUL byte on line %zu was read as text", r->nul_line);
	if (n != r->n)
		fuzz_fail("%zu rules from %zu lines", n, r->n);
	for (size_t i = 0; i < n; i++) {
		tc_check_rule(&rules[i], r->v[i].lineno);
		if ((rules[i].seen & CGFW_TC_OPT_IFACE) &&
		    (!rules[i].ifname[0] || !rules[i].ifindex))
			fuzz_fail("line %zu: --iface without a name or index", r->v[i].lineno);
	}
	free(rules);
}

/* ---- cgfw_lines_each ---------------------------------------------------------------------- */

struct walk {
	const struct ref *r;
	size_t seen, fail_at;
};

static int walk_line(char *s, void *arg)
{
	struct walk *w = arg;

	if (w->seen >= w->r->n)
		fuzz_fail("line '%s' is more than the %zu lines the file holds", s, w->r->n);
	if (strcmp(s, w->r->v[w->seen].s))
		fuzz_fail("line %zu handed over as '%s', not '%s'", w->r->v[w->seen].lineno, s,
			  w->r->v[w->seen].s);
	if (++w->seen == w->fail_at)
		return cgfw_seterr(EINVAL, "stop here");
	return 0;
}

static void fuzz_walk(unsigned variant, const struct ref *r)
{
	struct walk w = { .r = r, .fail_at = variant };
	const char *msg;
	size_t line;
	int err;

	cgfw_clearerr();
	err = cgfw_lines_each(path, walk_line, &w);
	if (!err) {
		if (r->nul_line)
			fuzz_fail("a NUL byte on line %zu was read as text", r->nul_line);
		if (w.seen != r->n || (w.fail_at && w.fail_at <= r->n))
			fuzz_fail("%zu of %zu lines handed over", w.seen, r->n);
		return;
	}
	fuzz_check_failure(err, 0);
	line = error_line(cgfw_errmsg(), path, &msg);
	if (w.fail_at && w.fail_at <= r->n && w.seen == w.fail_at) {
		if (line != r->v[w.fail_at - 1].lineno || strcmp(msg, "stop here"))
			fuzz_fail("the callback's error became '%s' (line %zu)", cgfw_errmsg(),
				  r->v[w.fail_at - 1].lineno);
		return;
	}
	if (line != r->nul_line || strcmp(msg, "a NUL byte: not a text file"))
		fuzz_fail("unexpected error '%s'", cgfw_errmsg());
	if (w.seen != r->n)
		fuzz_fail("%zu lines before the NUL byte, %zu handed over", r->n, w.seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ref r;
	unsigned sel, variant;

	if (size < 1)
		return 0;
	sel = data[0] % 4;
	variant = data[0] / 4;
	fuzz_write(path, data + 1, size - 1);
	ref_read((const char *)data + 1, size - 1, &r);
	switch (sel) {
	case 0:
		fuzz_addr_list(data + 1, variant, &r);
		break;
	case 1:
	case 2:
		fuzz_tc_list(data + 1, variant, sel == 1, &r);
		break;
	default:
		fuzz_walk(variant, &r);
		break;
	}
	ref_free(&r);
	return 0;
}
