/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the cgfw fuzz targets: a private scratch directory and invariant checks. */
#ifndef CGFW_FUZZ_COMMON_H
#define CGFW_FUZZ_COMMON_H

#include <stddef.h>

/* Create /tmp/cgfw-fuzz-TAG-XXXXXX (removed at exit) and copy its path to dir. */
void fuzz_setup(const char *tag, char *dir, size_t n);
/* Write a whole file (aborts on failure: the fuzzer's own setup is broken). */
void fuzz_write(const char *path, const void *data, size_t len);
/* Abort with a message: a broken invariant is a finding. */
void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Every cgfw error message is one line, without control bytes (a tab is no control byte). */
void fuzz_check_errmsg(const char *msg);
/* The error of a failure: -EINVAL (bad input) unless @other is also allowed, and the message. */
void fuzz_check_failure(int err, int other);

struct cgfw_prefix;
/* A prefix as the parsers return it: a family, a length within it, host bits clear. */
void fuzz_check_prefix(const struct cgfw_prefix *p, const char *what);
/* Whether @s matches @pat, where '#' in @pat stands for a run of one or more digits. */
int fuzz_match(const char *s, const char *pat);

#endif /* CGFW_FUZZ_COMMON_H */
