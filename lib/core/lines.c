// SPDX-License-Identifier: GPL-2.0-only
/* Line files: address lists for large blocklists, TC rule lists. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cgfw/core.h>

/* Open a list file: a regular file (or "-", stdin). */
static int open_list(const char *path, FILE **ret)
{
	struct stat st;
	FILE *f;
	int fd;

	if (!strcmp(path, "-")) {
		*ret = stdin;
		return 0;
	}
	/* O_NONBLOCK: a FIFO planted in place of a file must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return cgfw_seterr(errno == ENOENT || errno == EISDIR ? EINVAL : errno,
				   "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return cgfw_seterr(EINVAL, "%s is not a regular file", path);
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return cgfw_seterr(errno, "cannot read %s: %s", path, strerror(errno));
	}
	*ret = f;
	return 0;
}

int cgfw_lines_each(const char *path, cgfw_line_fn fn, void *arg)
{
	size_t lineno = 0, len = 0;
	char *line = NULL;
	ssize_t got;
	FILE *f = NULL;
	int err;

	err = open_list(path, &f);
	if (err)
		return err;
	while ((got = getline(&line, &len, f)) >= 0) {
		char *s = line, *e;

		lineno++;
		if (memchr(line, 0, (size_t)got)) {
			err = cgfw_seterr(EINVAL, "%s:%zu: a NUL byte: not a text file", path,
					  lineno);
			break;
		}
		e = strchr(s, '#');
		if (e)
			*e = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*s)
			continue;
		err = fn(s, arg);
		if (err) {
			err = cgfw_seterr(err, "%s:%zu: %s", path, lineno, cgfw_errmsg());
			break;
		}
	}
	if (!err && ferror(f))
		err = cgfw_seterr(errno ? errno : EIO, "cannot read %s: %s", path, strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
	return err;
}

struct rules_read {
	const struct cgfw_rule *tmpl;
	struct cgfw_rule *out;
	size_t n, cap;
};

static int rule_line(char *s, void *arg)
{
	struct rules_read *rr = arg;
	struct cgfw_rule r = *rr->tmpl;

	/*
	 * The error names the line, never its content: a list option may point
	 * at a file that is no list, and an error must not print what it holds.
	 */
	if (cgfw_parse_prefix(s, &r.pfx) < 0)
		return cgfw_seterr(EINVAL,
				   "invalid line: not an address or prefix (%zu characters; "
				   "the content is not shown)",
				   strlen(s));
	if (rr->n == rr->cap) {
		size_t cap = rr->cap ? rr->cap * 2 : 4096;
		struct cgfw_rule *m = realloc(rr->out, cap * sizeof(*m));

		if (!m)
			return cgfw_seterr(ENOMEM, "out of memory");
		rr->out = m;
		rr->cap = cap;
	}
	rr->out[rr->n++] = r;
	return 0;
}

int cgfw_rules_from_file(const char *path, const struct cgfw_rule *tmpl, struct cgfw_rule **ret,
			 size_t *ret_n)
{
	struct rules_read rr = { .tmpl = tmpl };
	int err;

	err = cgfw_lines_each(path, rule_line, &rr);
	if (err) {
		free(rr.out);
		return err;
	}
	*ret = rr.out;
	*ret_n = rr.n;
	return 0;
}
