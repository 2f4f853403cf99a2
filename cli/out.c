// SPDX-License-Identifier: GPL-2.0-only
/*
 * Output and errors, in one place: JSON on stdout under --json, one line of
 * text otherwise; a failure is one line on stderr ("cgfw: ..." or
 * {"error": "..."}) and exit status 1 (runtime) or 2 (bad input).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

bool json_mode;
bool json_pretty;

void print_json(json_t *j)
{
	size_t flags = JSON_ENCODE_ANY | (json_pretty ? JSON_INDENT(2) : JSON_COMPACT);

	json_dumpf(j, stdout, flags);
	fputc('\n', stdout);
	json_decref(j);
}

int cli_usage(struct ctx *c, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c)
		c->usage = true;
	return cgfw_seterr(EINVAL, "%s", msg);
}

void cli_notices(void)
{
	const char *n;

	while ((n = cgfw_notice_next())) {
		if (json_mode) {
			json_t *o = json_pack("{s:s}", "notice", n);

			json_dumpf(o, stderr, JSON_COMPACT);
			fputc('\n', stderr);
			json_decref(o);
		} else {
			fprintf(stderr, "cgfw: %s\n", n);
		}
	}
}

int cli_fail(const struct ctx *c, int err)
{
	const char *name = c && c->name[0] ? c->name : NULL;
	char msg[1400];

	if (c && c->usage)
		snprintf(msg, sizeof(msg), "%s%s%s (see 'cgfw %s%s--help')", name ? name : "",
			 name ? ": " : "", cgfw_errmsg(), name ? name : "", name ? " " : "");
	else if ((err == -EPERM || err == -EACCES) && geteuid() != 0)
		snprintf(msg, sizeof(msg),
			 "%s (cgfw needs root: CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)",
			 cgfw_errmsg());
	else
		snprintf(msg, sizeof(msg), "%s", cgfw_errmsg());
	if (json_mode) {
		json_t *o = json_pack("{s:s}", "error", msg);

		json_dumpf(o, stderr, JSON_COMPACT);
		fputc('\n', stderr);
		json_decref(o);
	} else {
		fprintf(stderr, "cgfw: %s\n", msg);
	}
	return err == -EINVAL ? EXIT_USAGE : EXIT_RUNTIME;
}
