// SPDX-License-Identifier: GPL-2.0-only
/* Address lists: one address or prefix per line, for large blocklists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgfw.h"

int cgfw_rules_from_file(const char *path, const struct cgfw_rule *tmpl, struct cgfw_rule **ret,
			 size_t *ret_n)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	struct cgfw_rule *out = NULL;
	size_t n = 0, cap = 0, lineno = 0, len = 0;
	char *line = NULL;
	ssize_t got;
	int err = 0;

	if (!f)
		return cgfw_seterr(errno == ENOENT ? EINVAL : errno, "cannot open %s: %s", path,
				   strerror(errno));
	while ((got = getline(&line, &len, f)) >= 0) {
		char *s = line, *e;
		struct cgfw_rule r = *tmpl;

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
		if (cgfw_parse_prefix(s, &r.pfx) < 0) {
			err = cgfw_seterr(EINVAL, "%s:%zu: %s", path, lineno, cgfw_errmsg());
			goto out;
		}
		if (n == cap) {
			struct cgfw_rule *m = realloc(out, (cap = cap ? cap * 2 : 4096) * sizeof(*out));

			if (!m) {
				err = cgfw_seterr(ENOMEM, "out of memory reading %s", path);
				goto out;
			}
			out = m;
		}
		out[n++] = r;
	}
	if (ferror(f))
		err = cgfw_seterr(EIO, "cannot read %s: %s", path, strerror(errno));
out:
	free(line);
	if (f != stdin)
		fclose(f);
	if (err) {
		free(out);
		return err;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}
