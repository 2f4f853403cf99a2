// SPDX-License-Identifier: GPL-2.0-only
/* Plans: the lines `policy apply` and `policy diff` report. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgfw/policy.h>

void cgfw_plan_free(struct cgfw_plan *plan)
{
	free(plan->lines);
	memset(plan, 0, sizeof(*plan));
}

void cgfw_plan_note(struct cgfw_plan *plan, char op, const char *fmt, ...)
{
	struct cgfw_plan_line *m;
	va_list ap;

	if (!plan)
		return;
	m = realloc(plan->lines, (plan->n + 1) * sizeof(*m));
	if (!m)
		return;
	plan->lines = m;
	m[plan->n].op = op;
	va_start(ap, fmt);
	vsnprintf(m[plan->n].text, sizeof(m[plan->n].text), fmt, ap);
	va_end(ap);
	plan->n++;
}
