// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus text exposition format (0.0.4), written so that it cannot
 * come out invalid: families once each and contiguous, names checked,
 * values escaped and valid UTF-8, no two samples of a family with the same
 * labels. See metrics.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cgfw/metrics.h>

/* A sample's series ("name{labels}") in the text, for the duplicate check. */
struct series {
	uint64_t hash; /* 0: free slot */
	size_t off, len;
};

struct cgfw_metrics {
	char *buf;
	size_t len, cap;
	int err;
	/* The current family. */
	char *family; /* NULL: none yet */
	enum cgfw_metric_type type;
	struct series *set; /* open addressing, a power of two */
	size_t nset, capset;
	/* Every family declared so far, NUL-separated. */
	char *names;
	size_t names_len;
};

int cgfw_metrics_new(struct cgfw_metrics **ret)
{
	struct cgfw_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return cgfw_seterr(ENOMEM, "out of memory");
	*ret = m;
	return 0;
}

void cgfw_metrics_free(struct cgfw_metrics *m)
{
	if (!m)
		return;
	free(m->buf);
	free(m->family);
	free(m->set);
	free(m->names);
	free(m);
}

static int fail(struct cgfw_metrics *m, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct cgfw_metrics *m, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m->err = cgfw_seterr(err, "metrics: %s", msg);
	return m->err;
}

static int reserve(struct cgfw_metrics *m, size_t more)
{
	size_t cap;
	char *b;

	if (m->len + more + 1 <= m->cap)
		return 0;
	cap = m->cap ? m->cap : 4096;
	while (cap < m->len + more + 1)
		cap *= 2;
	b = realloc(m->buf, cap);
	if (!b)
		return fail(m, ENOMEM, "out of memory");
	m->buf = b;
	m->cap = cap;
	return 0;
}

static int put(struct cgfw_metrics *m, const char *s, size_t n)
{
	int err = reserve(m, n);

	if (err)
		return err;
	memcpy(m->buf + m->len, s, n);
	m->len += n;
	m->buf[m->len] = 0;
	return 0;
}

static int puts_(struct cgfw_metrics *m, const char *s)
{
	return put(m, s, strlen(s));
}

/* ---- UTF-8 and escaping ---------------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at @s (1..4), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Escape @s: always \\ and \n, \" when @quote; invalid UTF-8 as U+FFFD. */
static size_t escape(const char *s, bool quote, char *buf, size_t n)
{
	static const char repl[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	while (*p) {
		char tmp[4];
		const char *out = tmp;
		size_t len = utf8_seq(p), w;

		if (!len) {
			out = repl;
			w = 3;
			len = 1;
		} else if (*p == '\\' || (quote && *p == '"')) {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			w = 2;
		} else if (*p == '\n') {
			tmp[0] = '\\';
			tmp[1] = 'n';
			w = 2;
		} else {
			out = (const char *)p;
			w = len;
		}
		/* Never a partial sequence or escape in the buffer. */
		if (n && o + w < n)
			memcpy(buf + o, out, w);
		else if (n && o < n)
			n = o + 1;
		o += w;
		p += len;
	}
	if (n)
		buf[o < n ? o : n - 1] = 0;
	return o;
}

size_t cgfw_metrics_escape(const char *s, char *buf, size_t n)
{
	return escape(s, true, buf, n);
}

static int put_escaped(struct cgfw_metrics *m, const char *s, bool quote)
{
	size_t need = escape(s, quote, NULL, 0);
	int err = reserve(m, need);

	if (err)
		return err;
	escape(s, quote, m->buf + m->len, need + 1);
	m->len += need;
	return 0;
}

/* ---- names ----------------------------------------------------------------------------- */

static bool valid_name(const char *s)
{
	if (!s || !*s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static bool declared(const struct cgfw_metrics *m, const char *name)
{
	for (size_t o = 0; o < m->names_len; o += strlen(m->names + o) + 1)
		if (!strcmp(m->names + o, name))
			return true;
	return false;
}

int cgfw_metrics_family(struct cgfw_metrics *m, const char *name, enum cgfw_metric_type type,
			const char *help)
{
	char esc[128];
	size_t nlen;
	char *names, *fam;
	int err;

	if (m->err)
		return m->err;
	if (!valid_name(name))
		return fail(m, EINVAL, "invalid metric name '%s'",
			    cgfw_escape(name ? name : "", esc, sizeof(esc)));
	if (type != CGFW_METRIC_COUNTER && type != CGFW_METRIC_GAUGE)
		return fail(m, EINVAL, "%s: unknown metric type %d", name, (int)type);
	if (type == CGFW_METRIC_COUNTER && !ends_with(name, "_total"))
		return fail(m, EINVAL, "counter %s does not end in _total", name);
	if (type == CGFW_METRIC_GAUGE && ends_with(name, "_total"))
		return fail(m, EINVAL, "gauge %s ends in _total (the suffix of counters)", name);
	if (!help || !*help)
		return fail(m, EINVAL, "%s has no help text", name);
	if (declared(m, name))
		return fail(m, EEXIST, "family %s declared twice", name);
	nlen = strlen(name);
	names = realloc(m->names, m->names_len + nlen + 1);
	if (!names)
		return fail(m, ENOMEM, "out of memory");
	m->names = names;
	memcpy(m->names + m->names_len, name, nlen + 1);
	m->names_len += nlen + 1;
	fam = strdup(name);
	if (!fam)
		return fail(m, ENOMEM, "out of memory");
	free(m->family);
	m->family = fam;
	m->type = type;
	m->nset = 0;
	if (m->set)
		memset(m->set, 0, m->capset * sizeof(*m->set));
	err = puts_(m, "# HELP ");
	if (!err)
		err = puts_(m, name);
	if (!err)
		err = puts_(m, " ");
	if (!err)
		err = put_escaped(m, help, false);
	if (!err)
		err = puts_(m, "\n# TYPE ");
	if (!err)
		err = puts_(m, name);
	if (!err)
		err = puts_(m, type == CGFW_METRIC_COUNTER ? " counter\n" : " gauge\n");
	return err;
}

/* ---- samples --------------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;
}

/* Record the series at buf[off, off + len) for the family; -EEXIST if it is there. */
static int series_add(struct cgfw_metrics *m, size_t off, size_t len)
{
	uint64_t h = fnv1a(m->buf + off, len);
	size_t mask, i;

	if ((m->nset + 1) * 2 > m->capset) {
		size_t cap = m->capset ? m->capset * 2 : 64;
		struct series *set = calloc(cap, sizeof(*set));

		if (!set)
			return fail(m, ENOMEM, "out of memory");
		for (size_t j = 0; j < m->capset; j++) {
			if (!m->set[j].hash)
				continue;
			for (i = m->set[j].hash & (cap - 1); set[i].hash; i = (i + 1) & (cap - 1))
				;
			set[i] = m->set[j];
		}
		free(m->set);
		m->set = set;
		m->capset = cap;
	}
	mask = m->capset - 1;
	for (i = h & mask; m->set[i].hash; i = (i + 1) & mask)
		if (m->set[i].hash == h && m->set[i].len == len &&
		    !memcmp(m->buf + m->set[i].off, m->buf + off, len))
			return -EEXIST;
	m->set[i] = (struct series){ .hash = h, .off = off, .len = len };
	m->nset++;
	return 0;
}

static int sample(struct cgfw_metrics *m, const struct cgfw_label *labels, const char *value)
{
	size_t start = m->len, nlabels = 0;
	int err;

	if (m->err)
		return m->err;
	if (!m->family)
		return fail(m, EINVAL, "a sample before any family");
	for (const struct cgfw_label *l = labels; l && l->name; l++, nlabels++) {
		char esc[128];

		if (!valid_name(l->name) || !strncmp(l->name, "__", 2))
			return fail(m, EINVAL, "%s: invalid label name '%s'", m->family,
				    cgfw_escape(l->name, esc, sizeof(esc)));
		if (!l->value)
			return fail(m, EINVAL, "%s: label %s has no value", m->family, l->name);
		for (const struct cgfw_label *k = labels; k != l; k++)
			if (!strcmp(k->name, l->name))
				return fail(m, EINVAL, "%s: label %s given twice", m->family,
					    l->name);
	}
	err = puts_(m, m->family);
	for (size_t i = 0; !err && i < nlabels; i++) {
		err = puts_(m, i ? "," : "{");
		if (!err)
			err = puts_(m, labels[i].name);
		if (!err)
			err = puts_(m, "=\"");
		if (!err)
			err = put_escaped(m, labels[i].value, true);
		if (!err)
			err = puts_(m, "\"");
	}
	if (!err && nlabels)
		err = puts_(m, "}");
	if (err)
		return err;
	err = series_add(m, start, m->len - start);
	if (err) {
		char esc[256];

		m->len = start;
		m->buf[start] = 0;
		if (err == -EEXIST) {
			/* Name the series as it was written (escaped, one line). */
			char line[256];

			snprintf(line, sizeof(line), "%s", m->family);
			for (size_t i = 0; i < nlabels; i++) {
				size_t o = strlen(line);

				snprintf(line + o, sizeof(line) - o, "%s%s=\"%s\"", i ? "," : "{",
					 labels[i].name, labels[i].value);
			}
			if (nlabels) {
				size_t o = strlen(line);

				snprintf(line + o, sizeof(line) - o, "}");
			}
			return fail(m, EEXIST, "two samples of %s",
				    cgfw_escape(line, esc, sizeof(esc)));
		}
		return err;
	}
	err = puts_(m, " ");
	if (!err)
		err = puts_(m, value);
	if (!err)
		err = puts_(m, "\n");
	return err;
}

int cgfw_metrics_u64(struct cgfw_metrics *m, const struct cgfw_label *labels, uint64_t value)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64, value);
	return sample(m, labels, v);
}

int cgfw_metrics_double(struct cgfw_metrics *m, const struct cgfw_label *labels, double value)
{
	char v[40];

	if (m->err)
		return m->err;
	if (m->family && m->type == CGFW_METRIC_COUNTER && (isnan(value) || value < 0))
		return fail(m, EINVAL, "counter %s: value %g is not a count", m->family, value);
	if (isnan(value))
		snprintf(v, sizeof(v), "NaN");
	else if (isinf(value))
		snprintf(v, sizeof(v), value > 0 ? "+Inf" : "-Inf");
	else {
		/* The shortest of the two forms that reads back as the same number. */
		snprintf(v, sizeof(v), "%.15g", value);
		if (strtod(v, NULL) != value)
			snprintf(v, sizeof(v), "%.17g", value);
	}
	return sample(m, labels, v);
}

/* ---- the result ------------------------------------------------------------------------ */

int cgfw_metrics_error(const struct cgfw_metrics *m)
{
	return m->err;
}

const char *cgfw_metrics_text(const struct cgfw_metrics *m, size_t *ret_len)
{
	if (m->err)
		return NULL;
	if (ret_len)
		*ret_len = m->len;
	return m->buf ? m->buf : "";
}

char *cgfw_metrics_take(struct cgfw_metrics *m, size_t *ret_len)
{
	char *b;

	if (m->err)
		return NULL;
	b = m->buf ? m->buf : strdup("");
	if (!b) {
		fail(m, ENOMEM, "out of memory");
		return NULL;
	}
	if (ret_len)
		*ret_len = m->len;
	m->buf = NULL;
	m->len = m->cap = 0;
	m->nset = 0;
	if (m->set)
		memset(m->set, 0, m->capset * sizeof(*m->set));
	free(m->family);
	m->family = NULL;
	free(m->names);
	m->names = NULL;
	m->names_len = 0;
	return b;
}
