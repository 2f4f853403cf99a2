// SPDX-License-Identifier: GPL-2.0-only
/* JSON helpers: timestamps, and files replaced atomically. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	FILE *f = NULL;
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* Never through a link someone planted, never readable by others. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return cgfw_seterr(err, "cannot write %s: %s", tmp, strerror(-err));
	}
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

int cgfw_check_owned(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return cgfw_seterr(errno, "cannot stat %s: %s", path, strerror(errno));
	if (st.st_uid != geteuid())
		return cgfw_seterr(EPERM,
				   "refusing %s: owned by uid %u, not %u (cgfw did not write it; "
				   "remove it, or chown it if it is yours)",
				   path, st.st_uid, geteuid());
	if (st.st_mode & 022)
		return cgfw_seterr(
			EPERM,
			"refusing %s: mode %04o lets others write it (chmod go-w %s if it "
			"is yours)",
			path, st.st_mode & 07777, path);
	return 0;
}

/* Saved state of 4M rules is about 600 MiB of JSON; more is not ours. */
#define CGFW_JSON_FILE_MAX (1024 << 20)

int cgfw_read_json_file(const char *path, json_t **ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	json_error_t je;
	struct stat st;
	json_t *j;
	int err;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return cgfw_seterr(errno,
				   errno == ELOOP ? "refusing %s: a symbolic link" :
						    "cannot open %s: %s",
				   path, strerror(errno));
	}
	err = cgfw_check_owned(fd, path);
	if (err)
		return err;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return cgfw_seterr(EPERM, "refusing %s: not a regular file", path);
	/*
	 * Whole, then parsed: json_loadfd() reads one byte per read(2), which
	 * made a saved policy of 100k rules cost seconds of system calls.
	 */
	if (st.st_size > CGFW_JSON_FILE_MAX)
		return cgfw_seterr(EFBIG, "refusing %s: larger than %d MiB", path,
				   CGFW_JSON_FILE_MAX >> 20);
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		return -ENOMEM;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cgfw_seterr(errno, "cannot read %s: %s", path, strerror(errno));
		if (n == 0)
			break; /* shrank while read: parse what is there, it must be whole JSON */
		len += (size_t)n;
	}
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return cgfw_seterr(EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	*ret = j;
	return 0;
}
