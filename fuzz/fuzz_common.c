// SPDX-License-Identifier: GPL-2.0-only
/* Scratch directory and invariant helpers of the cgfw fuzz targets (see fuzz_common.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"

static char scratch[256];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void cleanup(void)
{
	if (scratch[0])
		nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_setup(const char *tag, char *dir, size_t n)
{
	snprintf(scratch, sizeof(scratch), "/tmp/cgfw-fuzz-%s-XXXXXX", tag);
	if (!mkdtemp(scratch))
		fuzz_fail("cannot create %s: %s", scratch, strerror(errno));
	atexit(cleanup);
	snprintf(dir, n, "%s", scratch);
}

void fuzz_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		fuzz_fail("cannot write %s: %s", path, strerror(errno));
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "INVARIANT BROKEN: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

void fuzz_check_errmsg(const char *msg)
{
	if (!msg[0])
		fuzz_fail("a failure left no error message");
	if (strchr(msg, '\n'))
		fuzz_fail("error message is not one line: '%s'", msg);
}
