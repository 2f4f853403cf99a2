// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runner for the cgfw unit suites.
 *
 *   cgfw_unit            run every suite
 *   cgfw_unit NAME...    run only the named suites (addr, ports, rule, ...)
 *   cgfw_unit --list     print the suite names
 *
 * Every test result is printed (failures always, passes with CK_VERBOSITY=verbose),
 * and the output ends with Check's summary line, e.g.
 * "100%: Checks: 42, Failures: 0, Errors: 0".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static const struct {
	const char *name;
	Suite *(*make)(void);
} suites[] = {
	{ "addr", addr_suite },	      { "ports", ports_suite },	  { "rule", rule_suite },
	{ "verdict", verdict_suite }, { "cgroup", cgroup_suite }, { "json", json_suite },
	{ "file", file_suite },
};

#define NSUITES (sizeof(suites) / sizeof(suites[0]))

int main(int argc, char **argv)
{
	const char *verbosity = getenv("CK_VERBOSITY");
	bool verbose = verbosity && !strcmp(verbosity, "verbose");
	SRunner *sr = NULL;
	TestResult **results;
	int failed, n, picked = 0;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < NSUITES; i++)
			printf("%s\n", suites[i].name);
		return 0;
	}
	for (size_t i = 0; i < NSUITES; i++) {
		bool want = argc < 2;

		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], suites[i].name);
		if (!want)
			continue;
		picked++;
		if (!sr)
			sr = srunner_create(suites[i].make());
		else
			srunner_add_suite(sr, suites[i].make());
	}
	if (!sr || (argc >= 2 && picked != argc - 1)) {
		fprintf(stderr, "cgfw_unit: unknown suite name (try --list)\n");
		if (sr)
			srunner_free(sr);
		return 2;
	}

	srunner_run_all(sr, CK_SILENT);
	results = srunner_results(sr);
	n = srunner_ntests_run(sr);
	for (int i = 0; i < n; i++) {
		static const char *const kind[] = {
			[CK_PASS] = "Passed", [CK_FAILURE] = "Failure", [CK_ERROR] = "Error"
		};
		int t = tr_rtype(results[i]);

		if (verbose || t != CK_PASS)
			printf("%s:%d:%s:%s: %s\n", tr_lfile(results[i]), tr_lno(results[i]),
			       t >= CK_PASS && t <= CK_ERROR ? kind[t] : "?", tr_tcname(results[i]),
			       tr_msg(results[i]));
	}
	free(results);
	srunner_print(sr, CK_MINIMAL); /* the closing summary line */
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
