/* SPDX-License-Identifier: GPL-2.0-only */
/* cgfw unit tests (Check): one suite per library area, run by unit_main.c. */
#ifndef CGFW_UNIT_H
#define CGFW_UNIT_H

#include <check.h>
#include <string.h>

#include <cgfw/cgroup.h>
#include <cgfw/ops.h>

Suite *addr_suite(void);
Suite *ports_suite(void);
Suite *rule_suite(void);
Suite *verdict_suite(void);
Suite *cgroup_suite(void);
Suite *json_suite(void);
Suite *file_suite(void);

/* The last library error names @needle (the input that failed). */
#define ck_assert_errmsg_has(needle)                           \
	ck_assert_msg(strstr(cgfw_errmsg(), (needle)) != NULL, \
		      "error message '%s' does not contain '%s'", cgfw_errmsg(), (needle))

#endif /* CGFW_UNIT_H */
