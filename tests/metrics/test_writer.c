// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests (Check) of lib/metrics, the Prometheus text exposition writer:
 * the exact text, escaping and UTF-8 repair of label values and help, name
 * and label checks, duplicate families and series, sticky errors, number
 * formatting. No kernel, no root.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgfw/metrics.h>

#define L(...) ((const struct cgfw_label[]){ __VA_ARGS__, { NULL, NULL } })

static struct cgfw_metrics *m;

static void setup(void)
{
	ck_assert_int_eq(cgfw_metrics_new(&m), 0);
}

static void teardown(void)
{
	cgfw_metrics_free(m);
	m = NULL;
}

static const char *text(void)
{
	const char *t = cgfw_metrics_text(m, NULL);

	ck_assert_msg(t != NULL, "writer failed: %s", cgfw_errmsg());
	return t;
}

/* The sample line of the only family written so far (the third line). */
static const char *sample_line(void)
{
	const char *t = text(), *p = strchr(t, '\n');

	ck_assert_ptr_nonnull(p);
	p = strchr(p + 1, '\n');
	ck_assert_ptr_nonnull(p);
	return p + 1;
}

START_TEST(test_exact_text)
{
	ck_assert_int_eq(cgfw_metrics_family(m, "cgfw_packets_total", CGFW_METRIC_COUNTER,
					     "Packets decided."),
			 0);
	ck_assert_int_eq(
		cgfw_metrics_u64(m, L({ "cgroup", "app.slice" }, { "reason", "drop" }), 42), 0);
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "cgroup", "/" }, { "reason", "drop" }), 0), 0);
	ck_assert_int_eq(cgfw_metrics_family(m, "cgfw_up", CGFW_METRIC_GAUGE, "Up."), 0);
	ck_assert_int_eq(cgfw_metrics_u64(m, NULL, 1), 0);
	ck_assert_str_eq(text(), "# HELP cgfw_packets_total Packets decided.\n"
				 "# TYPE cgfw_packets_total counter\n"
				 "cgfw_packets_total{cgroup=\"app.slice\",reason=\"drop\"} 42\n"
				 "cgfw_packets_total{cgroup=\"/\",reason=\"drop\"} 0\n"
				 "# HELP cgfw_up Up.\n"
				 "# TYPE cgfw_up gauge\n"
				 "cgfw_up 1\n");
	ck_assert_int_eq(cgfw_metrics_error(m), 0);
}
END_TEST

START_TEST(test_empty)
{
	size_t len = 99;

	ck_assert_str_eq(cgfw_metrics_text(m, &len), "");
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_label_escaping)
{
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "v", "a\\b\"c\nd'e\tf{}=," }), 1), 0);
	ck_assert_str_eq(sample_line(), "x{v=\"a\\\\b\\\"c\\nd'e\tf{}=,\"} 1\n");
}
END_TEST

START_TEST(test_empty_label_value)
{
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "cgroup", "" }), 3), 0);
	ck_assert_str_eq(sample_line(), "x{cgroup=\"\"} 3\n");
}
END_TEST

START_TEST(test_help_escaping)
{
	/* In help only backslash and newline are escaped; a quote stays. */
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "a \"quoted\" back\\slash\nline two");
	ck_assert_str_eq(text(),
			 "# HELP x a \"quoted\" back\\\\slash\\nline two\n# TYPE x gauge\n");
}
END_TEST

START_TEST(test_utf8)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "caf\xc3\xa9", "caf\xc3\xa9" },	    /* é: valid */
		{ "\xe2\x82\xac", "\xe2\x82\xac" },	    /* €: valid */
		{ "\xf0\x9f\x94\xa5", "\xf0\x9f\x94\xa5" }, /* U+1F525: valid */
		{ "a\xff"
		  "b",
		  "a\xef\xbf\xbd"
		  "b" },						    /* not a lead byte */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },		    /* overlong '/' */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* a surrogate */
		{ "\xf4\x90\x80\x80",
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* above U+10FFFF */
		{ "ab\xe2\x82", "ab\xef\xbf\xbd\xef\xbf\xbd" },		/* cut short */
		{ "\x80", "\xef\xbf\xbd" },				/* a lone continuation */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[128], got[128];
		size_t n = cgfw_metrics_escape(cases[i].in, got, sizeof(got));

		snprintf(want, sizeof(want), "%s", cases[i].out);
		ck_assert_msg(!strcmp(got, want), "case %zu: got '%s', want '%s'", i, got, want);
		ck_assert_uint_eq(n, strlen(want));
	}
	/* And in help text. */
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "bad \xfe byte");
	ck_assert_str_eq(text(), "# HELP x bad \xef\xbf\xbd byte\n# TYPE x gauge\n");
}
END_TEST

START_TEST(test_escape_truncation)
{
	char buf[6], big[7];
	size_t n;

	/* Whole escapes and sequences only, always terminated, full length returned. */
	n = cgfw_metrics_escape("abcd\\e", buf, sizeof(buf));
	ck_assert_uint_eq(n, 7);
	ck_assert_str_eq(buf, "abcd");
	n = cgfw_metrics_escape("abc\xe2\x82\xac", buf, sizeof(buf));
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(buf, "abc");
	n = cgfw_metrics_escape("abc\xe2\x82\xac", big, sizeof(big));
	ck_assert_uint_eq(n, 6);
	ck_assert_str_eq(big, "abc\xe2\x82\xac");
	ck_assert_uint_eq(cgfw_metrics_escape("a\"b", NULL, 0), 4);
}
END_TEST

START_TEST(test_metric_names)
{
	static const char *const bad[] = { "", "1abc", "a-b", "a.b", "a b", "cgfw:rate", "é" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cgfw_metrics *w;

		ck_assert_int_eq(cgfw_metrics_new(&w), 0);
		ck_assert_msg(cgfw_metrics_family(w, bad[i], CGFW_METRIC_GAUGE, "h") == -EINVAL,
			      "'%s' was accepted", bad[i]);
		cgfw_metrics_free(w);
	}
	ck_assert_int_eq(cgfw_metrics_family(m, "_ok_Name9", CGFW_METRIC_GAUGE, "h"), 0);
}
END_TEST

START_TEST(test_counter_suffix)
{
	ck_assert_int_eq(cgfw_metrics_family(m, "cgfw_packets", CGFW_METRIC_COUNTER, "h"), -EINVAL);
	ck_assert_msg(strstr(cgfw_errmsg(), "_total") != NULL, "message: %s", cgfw_errmsg());
}
END_TEST

START_TEST(test_gauge_suffix)
{
	ck_assert_int_eq(cgfw_metrics_family(m, "cgfw_rules_total", CGFW_METRIC_GAUGE, "h"),
			 -EINVAL);
}
END_TEST

START_TEST(test_help_required)
{
	ck_assert_int_eq(cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, ""), -EINVAL);
}
END_TEST

START_TEST(test_family_twice)
{
	ck_assert_int_eq(cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h"), 0);
	ck_assert_int_eq(cgfw_metrics_family(m, "y", CGFW_METRIC_GAUGE, "h"), 0);
	ck_assert_int_eq(cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h"), -EEXIST);
	ck_assert_msg(strstr(cgfw_errmsg(), "x") != NULL, "message: %s", cgfw_errmsg());
}
END_TEST

START_TEST(test_sample_without_family)
{
	ck_assert_int_eq(cgfw_metrics_u64(m, NULL, 1), -EINVAL);
}
END_TEST

START_TEST(test_label_names)
{
	static const char *const bad[] = { "__name__", "__x", "1a", "a-b", "", "a:b" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cgfw_metrics *w;

		ck_assert_int_eq(cgfw_metrics_new(&w), 0);
		cgfw_metrics_family(w, "x", CGFW_METRIC_GAUGE, "h");
		ck_assert_msg(cgfw_metrics_u64(w, L({ bad[i], "v" }), 1) == -EINVAL,
			      "label name '%s' was accepted", bad[i]);
		cgfw_metrics_free(w);
	}
}
END_TEST

START_TEST(test_label_twice)
{
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "a", "1" }, { "b", "2" }, { "a", "3" }), 1),
			 -EINVAL);
}
END_TEST

START_TEST(test_label_without_value)
{
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "a", NULL }), 1), -EINVAL);
}
END_TEST

START_TEST(test_duplicate_series)
{
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "a", "1" }), 1), 0);
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "a", "2" }), 1), 0);
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "a", "1" }), 5), -EEXIST);
	ck_assert_msg(strstr(cgfw_errmsg(), "x{a=\"1\"}") != NULL, "message: %s", cgfw_errmsg());
}
END_TEST

START_TEST(test_duplicate_unlabelled)
{
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	ck_assert_int_eq(cgfw_metrics_u64(m, NULL, 1), 0);
	ck_assert_int_eq(cgfw_metrics_u64(m, NULL, 2), -EEXIST);
}
END_TEST

START_TEST(test_same_labels_other_family)
{
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "a", "1" }), 1), 0);
	cgfw_metrics_family(m, "y", CGFW_METRIC_GAUGE, "h");
	ck_assert_int_eq(cgfw_metrics_u64(m, L({ "a", "1" }), 1), 0);
	ck_assert_int_eq(cgfw_metrics_error(m), 0);
}
END_TEST

START_TEST(test_many_series)
{
	char v[16];

	/* Past several growths of the duplicate table, duplicates are still found. */
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	for (int i = 0; i < 20000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		ck_assert_int_eq(cgfw_metrics_u64(m, L({ "i", v }), (uint64_t)i), 0);
	}
	for (int i = 0; i < 20000; i += 997) {
		struct cgfw_metrics *w;
		char line[64];

		/* The same in a fresh writer, to keep *m usable. */
		ck_assert_int_eq(cgfw_metrics_new(&w), 0);
		cgfw_metrics_family(w, "x", CGFW_METRIC_GAUGE, "h");
		for (int j = 0; j <= i; j++) {
			snprintf(v, sizeof(v), "%d", j);
			cgfw_metrics_u64(w, L({ "i", v }), 0);
		}
		snprintf(v, sizeof(v), "%d", i / 2);
		ck_assert_int_eq(cgfw_metrics_u64(w, L({ "i", v }), 0), -EEXIST);
		cgfw_metrics_free(w);
		snprintf(line, sizeof(line), "\nx{i=\"%d\"} %d\n", i, i);
		ck_assert_ptr_nonnull(strstr(text(), line));
	}
}
END_TEST

START_TEST(test_sticky_error)
{
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	ck_assert_int_eq(cgfw_metrics_family(m, "bad-name", CGFW_METRIC_GAUGE, "h"), -EINVAL);
	/* Later calls fail the same way and write nothing. */
	ck_assert_int_eq(cgfw_metrics_u64(m, NULL, 1), -EINVAL);
	ck_assert_int_eq(cgfw_metrics_family(m, "y", CGFW_METRIC_GAUGE, "h"), -EINVAL);
	ck_assert_int_eq(cgfw_metrics_error(m), -EINVAL);
	ck_assert_ptr_null(cgfw_metrics_text(m, NULL));
	ck_assert_ptr_null(cgfw_metrics_take(m, NULL));
}
END_TEST

START_TEST(test_u64)
{
	cgfw_metrics_family(m, "x_total", CGFW_METRIC_COUNTER, "h");
	cgfw_metrics_u64(m, NULL, UINT64_MAX);
	ck_assert_str_eq(sample_line(), "x_total 18446744073709551615\n");
}
END_TEST

START_TEST(test_doubles)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0.1, "0.1" },
		{ 1.5, "1.5" },
		{ 0, "0" },
		{ 1e21, "1e+21" },
		{ 1796171473.2054884, "1796171473.2054884" },
		{ -2.25, "-2.25" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cgfw_metrics *w;
		char want[64];
		const char *t;

		ck_assert_int_eq(cgfw_metrics_new(&w), 0);
		cgfw_metrics_family(w, "x", CGFW_METRIC_GAUGE, "h");
		ck_assert_int_eq(cgfw_metrics_double(w, NULL, cases[i].v), 0);
		t = cgfw_metrics_text(w, NULL);
		snprintf(want, sizeof(want), "\nx %s\n", cases[i].want);
		ck_assert_msg(strstr(t, want) != NULL, "%.17g: got '%s'", cases[i].v, t);
		/* It reads back as the same number. */
		ck_assert(strtod(strstr(t, want) + 3, NULL) == cases[i].v);
		cgfw_metrics_free(w);
	}
}
END_TEST

START_TEST(test_special_doubles)
{
	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	cgfw_metrics_double(m, L({ "k", "nan" }), NAN);
	cgfw_metrics_double(m, L({ "k", "inf" }), INFINITY);
	cgfw_metrics_double(m, L({ "k", "-inf" }), -INFINITY);
	ck_assert_ptr_nonnull(strstr(text(), "x{k=\"nan\"} NaN\n"));
	ck_assert_ptr_nonnull(strstr(text(), "x{k=\"inf\"} +Inf\n"));
	ck_assert_ptr_nonnull(strstr(text(), "x{k=\"-inf\"} -Inf\n"));
}
END_TEST

START_TEST(test_counter_values)
{
	cgfw_metrics_family(m, "x_total", CGFW_METRIC_COUNTER, "h");
	ck_assert_int_eq(cgfw_metrics_double(m, L({ "k", "a" }), 2.5), 0);
	ck_assert_int_eq(cgfw_metrics_double(m, L({ "k", "b" }), -1), -EINVAL);
}
END_TEST

START_TEST(test_counter_nan)
{
	cgfw_metrics_family(m, "x_total", CGFW_METRIC_COUNTER, "h");
	ck_assert_int_eq(cgfw_metrics_double(m, NULL, NAN), -EINVAL);
}
END_TEST

START_TEST(test_take)
{
	size_t len = 0;
	char *t;

	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	cgfw_metrics_u64(m, NULL, 7);
	t = cgfw_metrics_take(m, &len);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t, "# HELP x h\n# TYPE x gauge\nx 7\n");
	ck_assert_uint_eq(len, strlen(t));
	free(t);
	/* Empty again: a new exposition may declare the same families. */
	ck_assert_str_eq(text(), "");
	ck_assert_int_eq(cgfw_metrics_u64(m, NULL, 1), -EINVAL); /* no family yet */
}
END_TEST

START_TEST(test_take_then_reuse)
{
	char *t;

	cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h");
	cgfw_metrics_u64(m, NULL, 7);
	free(cgfw_metrics_take(m, NULL));
	ck_assert_int_eq(cgfw_metrics_family(m, "x", CGFW_METRIC_GAUGE, "h"), 0);
	ck_assert_int_eq(cgfw_metrics_u64(m, NULL, 8), 0);
	t = cgfw_metrics_take(m, NULL);
	ck_assert_str_eq(t, "# HELP x h\n# TYPE x gauge\nx 8\n");
	free(t);
}
END_TEST

static Suite *writer_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("writer");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_exact_text);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_label_escaping);
	tcase_add_test(tc, test_empty_label_value);
	tcase_add_test(tc, test_help_escaping);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_escape_truncation);
	tcase_add_test(tc, test_metric_names);
	tcase_add_test(tc, test_counter_suffix);
	tcase_add_test(tc, test_gauge_suffix);
	tcase_add_test(tc, test_help_required);
	tcase_add_test(tc, test_family_twice);
	tcase_add_test(tc, test_sample_without_family);
	tcase_add_test(tc, test_label_names);
	tcase_add_test(tc, test_label_twice);
	tcase_add_test(tc, test_label_without_value);
	tcase_add_test(tc, test_duplicate_series);
	tcase_add_test(tc, test_duplicate_unlabelled);
	tcase_add_test(tc, test_same_labels_other_family);
	tcase_add_test(tc, test_many_series);
	tcase_add_test(tc, test_sticky_error);
	tcase_add_test(tc, test_u64);
	tcase_add_test(tc, test_doubles);
	tcase_add_test(tc, test_special_doubles);
	tcase_add_test(tc, test_counter_values);
	tcase_add_test(tc, test_counter_nan);
	tcase_add_test(tc, test_take);
	tcase_add_test(tc, test_take_then_reuse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(writer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
