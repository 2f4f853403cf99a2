// SPDX-License-Identifier: GPL-2.0-only
/* JSON helpers: timestamps, and files replaced atomically. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cgfw/core.h>

json_t *cgfw_time_json(uint64_t ns)
{
	char buf[64];
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (!ns)
		return json_null();
	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ns % 1000000000ull / 1000000ull));
	return json_string(buf);
}

int cgfw_write_json_file(const char *path, json_t *j)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	int err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return cgfw_seterr(errno, "cannot write %s: %s", tmp, strerror(errno));
	if (json_dumpf(j, f, JSON_COMPACT) < 0 || fputc('\n', f) == EOF || fflush(f) ||
	    fsync(fileno(f)))
		err = -EIO;
	if (fclose(f) && !err)
		err = -EIO;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return cgfw_seterr(err, "cannot write %s: %s", path, strerror(-err));
	}
	return 0;
}

int cgfw_read_json_file(const char *path, json_t **ret)
{
	json_error_t je;
	json_t *j;

	j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		if (access(path, F_OK) < 0)
			return -ENOENT;
		return cgfw_seterr(EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	}
	*ret = j;
	return 0;
}
