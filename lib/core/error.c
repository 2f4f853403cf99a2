// SPDX-License-Identifier: GPL-2.0-only
/*
 * One error message per thread: the library sets it, the CLI prints it. And
 * notices: what the library did that the user should hear about (a change a
 * killed command left, completed), kept until the CLI prints them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cgfw/core.h>

static __thread char errbuf[1024];

const char *cgfw_errmsg(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

void cgfw_clearerr(void)
{
	errbuf[0] = 0;
}

const char *cgfw_escape(const char *s, char *buf, size_t n)
{
	size_t o = 0;

	if (!n)
		return buf;
	for (; *s && o + 1 < n; s++) {
		unsigned char c = (unsigned char)*s;

		/* A tab moves no cursor and breaks no line: it stays. */
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			if (o + 4 >= n)
				break;
			snprintf(buf + o, n - o, "\\x%02x", c);
			o += 4;
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o] = 0;
	return buf;
}

int cgfw_seterr(int err, const char *fmt, ...)
{
	char tmp[sizeof(errbuf)];
	va_list ap;

	/* Through a copy: callers may pass cgfw_errmsg() to wrap the last error. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Whatever the input held (a newline in a path, an escape sequence), the
	 * message stays one line that is safe to print. */
	cgfw_escape(tmp, errbuf, sizeof(errbuf));
	return err > 0 ? -err : err;
}

static __thread char notices[8][512];
static __thread size_t nnotices;

void cgfw_notice(const char *fmt, ...)
{
	char tmp[sizeof(notices[0])];
	va_list ap;

	if (nnotices == CGFW_ARRAY_SIZE(notices))
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* The same thing said twice is said once. */
	for (size_t i = 0; i < nnotices; i++)
		if (!strcmp(notices[i], tmp))
			return;
	cgfw_escape(tmp, notices[nnotices++], sizeof(notices[0]));
}

const char *cgfw_notice_next(void)
{
	static __thread size_t taken;

	if (taken < nnotices)
		return notices[taken++];
	taken = nnotices = 0;
	return NULL;
}
