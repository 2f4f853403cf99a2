// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the policy parser (cgfw_policy_parse_buf) on arbitrary
 * bytes, then the saved form of the interfaces (JSON, re-read through the
 * parser) on whatever parsed. Invariants checked besides memory safety:
 * a result is either 0 with no errors or -EINVAL with errors; every error
 * starts with FILE:LINE:COL (LINE, COL >= 1); every rule that parsed is well
 * formed; the interfaces' saved form reads back to the same thing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include <cgfw/policy.h>

static char dir[256], name[512];

int __real_cgfw_rules_from_file(const char *path, const struct cgfw_rule *tmpl,
				struct cgfw_rule **ret, size_t *ret_n);

/*
 * Linked with --wrap=cgfw_rules_from_file: list files named by a fuzzed
 * policy are read only below the scratch directory (no /dev/zero, no FIFO,
 * no "-" for stdin); anything else fails the way a missing file does.
 */
int __wrap_cgfw_rules_from_file(const char *path, const struct cgfw_rule *tmpl,
				struct cgfw_rule **ret, size_t *ret_n)
{
	size_t n = strlen(dir);

	if (strncmp(path, dir, n) || path[n] != '/' || strstr(path, "..") ||
	    strchr(path + n + 1, '/'))
		return cgfw_seterr(EINVAL, "cannot open %s: %s", path, strerror(ENOENT));
	return __real_cgfw_rules_from_file(path, tmpl, ret, ret_n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char list[] = "# a list file\n198.51.100.0/24\n203.0.113.7\n2001:db8::/48\n";
	static const char bad[] = "198.51.100.1\nnot-an-address\n";
	char p[600];

	(void)argc;
	(void)argv;
	fuzz_setup("policy", dir, sizeof(dir));
	/* deny_file: list.txt / bad.txt resolve here, relative to the policy's name. */
	snprintf(p, sizeof(p), "%s/list.txt", dir);
	fuzz_write(p, list, sizeof(list) - 1);
	snprintf(p, sizeof(p), "%s/bad.txt", dir);
	fuzz_write(p, bad, sizeof(bad) - 1);
	snprintf(name, sizeof(name), "%s/fuzz.yaml", dir);
	return 0;
}

static void check_error(const char *e)
{
	size_t n = strlen(name);
	int line = -1, col = -1, used = 0;

	if (strncmp(e, name, n) || e[n] != ':')
		fuzz_fail("error does not start with the file name: '%s'", e);
	if (sscanf(e + n, ":%d:%d: %n", &line, &col, &used) != 2 || !used)
		fuzz_fail("error is not FILE:LINE:COL: message: '%s'", e);
	if (line < 1 || col < 1)
		fuzz_fail("error position %d:%d is not in the file: '%s'", line, col, e);
	if (!e[n + used])
		fuzz_fail("error without a message: '%s'", e);
}

static void check_rule(const struct cgfw_pol_workload *w, const struct cgfw_rule *r)
{
	unsigned max = r->pfx.family == CGFW_FAMILY_INET ? 32 : 128;

	if (r->action != CGFW_ALLOW && r->action != CGFW_DENY)
		fuzz_fail("workload %s: rule without action", w->name);
	if (r->origin != CGFW_ORIGIN_POLICY)
		fuzz_fail("workload %s: rule without the policy origin", w->name);
	if (r->pfx.family != CGFW_FAMILY_INET && r->pfx.family != CGFW_FAMILY_INET6)
		fuzz_fail("workload %s: rule without an address family", w->name);
	if (r->pfx.len > max)
		fuzz_fail("workload %s: prefix length %u", w->name, r->pfx.len);
	if (!r->dirs || (r->dirs & ~CGFW_DIR_BOTH))
		fuzz_fail("workload %s: rule directions %#x", w->name, r->dirs);
	if (r->port_lo > r->port_hi)
		fuzz_fail("workload %s: port range %u-%u", w->name, r->port_lo, r->port_hi);
	if ((r->port_lo || r->port_hi) && r->proto != CGFW_PROTO_TCP && r->proto != CGFW_PROTO_UDP)
		fuzz_fail("workload %s: ports on protocol %u", w->name, r->proto);
}

static void check_ifaces_roundtrip(const struct cgfw_policy *pol)
{
	struct cgfw_policy back = {};
	json_t *a, *b;
	int err;

	a = cgfw_ifaces_to_json(pol);
	err = cgfw_ifaces_from_json(a, &back);
	if (err)
		fuzz_fail("saved interfaces do not read back: %s", cgfw_errmsg());
	b = cgfw_ifaces_to_json(&back);
	if (!json_equal(a, b)) {
		char *sa = json_dumps(a, JSON_COMPACT), *sb = json_dumps(b, JSON_COMPACT);

		fuzz_fail("saved interfaces changed on reading back:\n%s\n%s", sa, sb);
	}
	json_decref(a);
	json_decref(b);
	cgfw_policy_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgfw_policy pol = {};
	int err;

	err = cgfw_policy_parse_buf(name, (const char *)data, size, &pol);
	if (err && (err != -EINVAL || !pol.nerrors))
		fuzz_fail("parse returned %d with %zu errors", err, pol.nerrors);
	if (!err && pol.nerrors)
		fuzz_fail("parse returned 0 with %zu errors", pol.nerrors);
	for (size_t i = 0; i < pol.nerrors; i++)
		check_error(pol.errors[i]);
	if (!err) {
		for (size_t i = 0; i < pol.nworkloads; i++) {
			const struct cgfw_pol_workload *w = &pol.workloads[i];

			if (!w->name || cgfw_policy_workload(&pol, w->name) != w)
				fuzz_fail("workload %zu: no name, or a duplicate name", i);
			for (size_t k = 0; k < w->nrules; k++)
				check_rule(w, &w->rules[k].r);
		}
		check_ifaces_roundtrip(&pol);
	}
	cgfw_policy_free(&pol);
	return 0;
}
