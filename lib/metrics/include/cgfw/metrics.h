/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgfw metrics: a writer of the Prometheus text exposition format (version
 * 0.0.4, what node_exporter's textfile collector and a Prometheus scrape
 * read). It knows nothing of cgfw's state: `cgfw metrics` (cli/metrics.c)
 * reads the state and writes it through here.
 *
 * The writer keeps the text valid by construction: a family is declared once
 * with its type and help (# HELP, # TYPE), its samples follow it (a family's
 * samples are never split), metric and label names are checked, label values
 * and help text are escaped (backslash, double quote, newline) and made valid
 * UTF-8 (an invalid byte becomes U+FFFD), a sample whose labels repeat one of
 * its family's is refused, counters end in _total and nothing else does.
 *
 * Errors are sticky, like a FILE's: after the first failure every call
 * returns it again and writes nothing, so a caller may check once, at the
 * end (cgfw_metrics_error()). Conventions as in core.h.
 */
#ifndef CGFW_METRICS_H
#define CGFW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <cgfw/core.h>

#define CGFW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum cgfw_metric_type {
	CGFW_METRIC_COUNTER = 1,
	CGFW_METRIC_GAUGE,
};

/* A label; arrays of them end with { NULL, NULL }. */
struct cgfw_label {
	const char *name;
	const char *value;
};

struct cgfw_metrics;

int cgfw_metrics_new(struct cgfw_metrics **ret);
void cgfw_metrics_free(struct cgfw_metrics *m);
static inline void cgfw_metrics_freep(struct cgfw_metrics **m)
{
	cgfw_metrics_free(*m);
}
#define _cleanup_metrics_ _cleanup_(cgfw_metrics_freep)

/*
 * Start the family @name: its # HELP and # TYPE lines. -EINVAL for a name
 * that is not [a-zA-Z_][a-zA-Z0-9_]* (no colons: those are for recording
 * rules), a counter without the _total suffix or a gauge with it, an empty
 * help; -EEXIST for a family declared before.
 */
int cgfw_metrics_family(struct cgfw_metrics *m, const char *name, enum cgfw_metric_type type,
			const char *help);
/*
 * A sample of the current family. @labels: NULL (none) or an array ended by
 * { NULL, NULL }. -EINVAL for no family, an invalid or reserved (__) label
 * name, a label named twice, a counter value that is negative or NaN;
 * -EEXIST for labels that are the same as an earlier sample's.
 */
int cgfw_metrics_u64(struct cgfw_metrics *m, const struct cgfw_label *labels, uint64_t value);
int cgfw_metrics_double(struct cgfw_metrics *m, const struct cgfw_label *labels, double value);

/* The first error (0: none); its message was set when it happened. */
int cgfw_metrics_error(const struct cgfw_metrics *m);
/* The text so far (NUL-terminated), or NULL after an error. */
const char *cgfw_metrics_text(const struct cgfw_metrics *m, size_t *ret_len);
/* Hand over the text (free() it); the writer is empty again. NULL after an error. */
char *cgfw_metrics_take(struct cgfw_metrics *m, size_t *ret_len);

/*
 * Write @s as a label value (without the quotes) into @buf: \\, \" and \n
 * escaped, invalid UTF-8 as U+FFFD. Always NUL-terminated; returns the
 * length the whole value needs (as snprintf).
 */
size_t cgfw_metrics_escape(const char *s, char *buf, size_t n);

#endif /* CGFW_METRICS_H */
