// SPDX-License-Identifier: GPL-2.0-only
/* Line files: address lists for large blocklists, TC rule lists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgfw/core.h>

int cgfw_lines_each(const char *path, cgfw_line_fn fn, void *arg)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t lineno = 0, len = 0;
	char *line = NULL;
	int err = 0;

	if (!f)
		return cgfw_seterr(errno == ENOENT ? EINVAL : errno, "cannot open %s: %s", path,
				   strerror(errno));
	while (getline(&line, &len, f) >= 0) {
		char *s = line, *e;

		lineno++;
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
		err = cgfw_seterr(EIO, "cannot read %s: %s", path, strerror(errno));
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
	int err;

	err = cgfw_parse_prefix(s, &r.pfx);
	if (err)
		return err;
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
