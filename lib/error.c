// SPDX-License-Identifier: GPL-2.0-only
/* One error message per thread: the library sets it, main() prints it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cgfw.h"

static __thread char errbuf[1024];

const char *cgfw_errmsg(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}

void cgfw_clearerr(void)
{
	errbuf[0] = 0;
}

int cgfw_seterr(int err, const char *fmt, ...)
{
	char tmp[sizeof(errbuf)];
	va_list ap;

	/* Through a copy: callers may pass cgfw_errmsg() to wrap the last error. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	memcpy(errbuf, tmp, sizeof(errbuf));
	return err > 0 ? -err : err;
}
