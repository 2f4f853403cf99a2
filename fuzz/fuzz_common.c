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
#include <cgfw/core.h>

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
	for (const unsigned char *c = (const unsigned char *)msg; *c; c++)
		if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
			fuzz_fail("error message holds the control byte %#x: '%s'", *c, msg);
}

void fuzz_check_failure(int err, int other)
{
	if (err >= 0 || (err != -EINVAL && err != other))
		fuzz_fail("failure %d (%s), not -EINVAL: %s", err, strerror(-err), cgfw_errmsg());
	fuzz_check_errmsg(cgfw_errmsg());
}

void fuzz_check_prefix(const struct cgfw_prefix *p, const char *what)
{
	unsigned max;

	if (p->family != CGFW_FAMILY_INET && p->family != CGFW_FAMILY_INET6)
		fuzz_fail("%s: address family %u", what, p->family);
	max = p->family == CGFW_FAMILY_INET ? 32 : 128;
	if (p->len > max)
		fuzz_fail("%s: prefix length %u above %u", what, p->len, max);
	/* Bit by bit, not with cgfw_mask(): the host bits and the bytes past the family's. */
	for (unsigned b = p->len; b < 128; b++)
		if (p->addr[b / 8] & (0x80 >> (b % 8)))
			fuzz_fail("%s: bit %u is set beyond the prefix length %u", what, b, p->len);
}

int fuzz_match(const char *s, const char *pat)
{
	while (*pat) {
		if (*pat == '#') {
			if (*s < '0' || *s > '9')
				return 0;
			while (*s >= '0' && *s <= '9')
				s++;
			pat++;
		} else if (*s++ != *pat++) {
			return 0;
		}
	}
	return !*s;
}
