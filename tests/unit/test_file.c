// SPDX-License-Identifier: GPL-2.0-only
/* Address lists read from files (lib/file.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"

#define TMPL "/tmp/cgfw-unit-file-XXXXXX"
static char tmpdir[sizeof(TMPL)];
static char path[PATH_MAX];

static void setup(void)
{
	memcpy(tmpdir, TMPL, sizeof(TMPL));
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/list.txt", tmpdir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
}

static void write_list(const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}
#define WRITE_LIST(lit) write_list(lit, sizeof(lit) - 1)

static const struct cgfw_rule tmpl = {
	.scope = 99,
	.proto = CGFW_PROTO_TCP,
	.port_lo = 443,
	.port_hi = 443,
	.dirs = CGFW_DIR_BIT(CGFW_DIR_EGRESS),
	.action = CGFW_DENY,
	.origin = CGFW_ORIGIN_POLICY,
};

static void expect_rule(const struct cgfw_rule *r, const char *pfx)
{
	char buf[CGFW_ADDRSTRLEN];

	cgfw_format_prefix(&r->pfx, buf, sizeof(buf));
	ck_assert_str_eq(buf, pfx);
	/* Everything but the prefix comes from the template. */
	ck_assert_uint_eq(r->scope, tmpl.scope);
	ck_assert_int_eq(r->proto, tmpl.proto);
	ck_assert_int_eq(r->port_lo, tmpl.port_lo);
	ck_assert_int_eq(r->port_hi, tmpl.port_hi);
	ck_assert_int_eq(r->dirs, tmpl.dirs);
	ck_assert_int_eq(r->action, tmpl.action);
	ck_assert_int_eq(r->origin, tmpl.origin);
}

START_TEST(test_comments_blanks_whitespace)
{
	struct cgfw_rule *rules = NULL;
	size_t n = 0;

	WRITE_LIST("# blocklist, generated\n"
		   "\n"
		   "192.0.2.1\n"
		   "   198.51.100.0/24   \n"
		   "\t\n"
		   "203.0.113.9/32 # a host, written as a /32\n"
		   "   # indented comment\n"
		   "2001:db8::/32\n"
		   "10.1.2.3/8\n"
		   "2001:db8::5"); /* no final newline */
	ck_assert_int_eq(cgfw_rules_from_file(path, &tmpl, &rules, &n), 0);
	ck_assert_uint_eq(n, 6);
	expect_rule(&rules[0], "192.0.2.1");
	expect_rule(&rules[1], "198.51.100.0/24");
	expect_rule(&rules[2], "203.0.113.9");
	expect_rule(&rules[3], "2001:db8::/32");
	expect_rule(&rules[4], "10.0.0.0/8"); /* normalised like on the command line */
	expect_rule(&rules[5], "2001:db8::5");
	free(rules);
}
END_TEST

START_TEST(test_crlf)
{
	struct cgfw_rule *rules = NULL;
	size_t n = 0;

	WRITE_LIST("# from Windows\r\n192.0.2.1\r\n\r\n198.51.100.0/24\r\n2001:db8::1 \r\n");
	ck_assert_int_eq(cgfw_rules_from_file(path, &tmpl, &rules, &n), 0);
	ck_assert_uint_eq(n, 3);
	expect_rule(&rules[0], "192.0.2.1");
	expect_rule(&rules[1], "198.51.100.0/24");
	expect_rule(&rules[2], "2001:db8::1");
	free(rules);
}
END_TEST

START_TEST(test_only_comments)
{
	struct cgfw_rule *rules = (struct cgfw_rule *)&tmpl;
	size_t n = 77;

	WRITE_LIST("# nothing yet\n\n   \n");
	ck_assert_int_eq(cgfw_rules_from_file(path, &tmpl, &rules, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(rules);
}
END_TEST

START_TEST(test_many_lines)
{
	struct cgfw_rule *rules = NULL;
	size_t n = 0;
	FILE *f = fopen(path, "w");

	/* More than one allocation's worth. */
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 10000; i++)
		fprintf(f, "10.%d.%d.0/24\n", i / 256, i % 256);
	fclose(f);
	ck_assert_int_eq(cgfw_rules_from_file(path, &tmpl, &rules, &n), 0);
	ck_assert_uint_eq(n, 10000);
	expect_rule(&rules[0], "10.0.0.0/24");
	expect_rule(&rules[9999], "10.39.15.0/24");
	free(rules);
}
END_TEST

/*
 * A bad line: -EINVAL, "FILE:LINE: <cause>", nothing returned. The line's
 * content is never echoed: a list option may name a file that is no list
 * (/etc/shadow), and the error must not print what it holds.
 */
static void expect_bad(const char *text, size_t len, int line, const char *bad)
{
	struct cgfw_rule *sentinel = (struct cgfw_rule *)&tmpl, *rules = sentinel;
	char where[PATH_MAX + 32];
	size_t n = 12345;
	const char *msg;

	write_list(text, len);
	cgfw_clearerr();
	ck_assert_int_eq(cgfw_rules_from_file(path, &tmpl, &rules, &n), -EINVAL);
	ck_assert_msg(rules == sentinel && n == 12345, "results returned on error");
	msg = cgfw_errmsg();
	snprintf(where, sizeof(where), "%s:%d: ", path, line);
	ck_assert_msg(!strncmp(msg, where, strlen(where)), "message '%s' does not start with '%s'",
		      msg, where);
	ck_assert_msg(strstr(msg, bad) == NULL, "content '%s' echoed in '%s'", bad, msg);
	/* The location is said once, then the cause. */
	ck_assert_msg(strstr(msg + strlen(where), path) == NULL, "path repeated in '%s'", msg);
	ck_assert_msg(strstr(msg, "invalid") != NULL, "cause missing from '%s'", msg);
}
#define EXPECT_BAD(lit, line, bad) expect_bad(lit, sizeof(lit) - 1, line, bad)

START_TEST(test_bad_line)
{
	EXPECT_BAD("192.0.2.1\n# ok so far\n\n300.1.2.3\n198.51.100.1\n", 4, "300.1.2.3");
	EXPECT_BAD("192.0.2.1\r\n10.0.0.0/33\r\n", 2, "10.0.0.0/33");
	EXPECT_BAD("2001:db8::/129\n", 1, "2001:db8::/129");
	EXPECT_BAD("192.0.2.1\n192.0.2.2 192.0.2.3\n", 2, "192.0.2.2 192.0.2.3");
	EXPECT_BAD("1.2.3\n", 1, "1.2.3");
}
END_TEST

START_TEST(test_missing_file)
{
	struct cgfw_rule *rules = NULL;
	size_t n = 0;
	char missing[PATH_MAX + 16];

	snprintf(missing, sizeof(missing), "%s/nope.txt", tmpdir);
	ck_assert_int_eq(cgfw_rules_from_file(missing, &tmpl, &rules, &n), -EINVAL);
	ck_assert_errmsg_has(missing);
	ck_assert_ptr_null(rules);
}
END_TEST

Suite *file_suite(void)
{
	Suite *s = suite_create("file");
	TCase *tc = tcase_create("rules_from_file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_comments_blanks_whitespace);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_only_comments);
	tcase_add_test(tc, test_many_lines);
	tcase_add_test(tc, test_bad_line);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return s;
}
