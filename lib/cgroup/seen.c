// SPDX-License-Identifier: GPL-2.0-only
/* The remote addresses each workload exchanged packets with. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cmp_seen(const void *a, const void *b)
{
	const struct cgfw_seen *x = a, *y = b;

	if (x->cgid != y->cgid)
		return x->cgid < y->cgid ? -1 : 1;
	if (x->family != y->family)
		return x->family - y->family;
	if (memcmp(x->addr, y->addr, 16))
		return memcmp(x->addr, y->addr, 16);
	return x->dir - y->dir;
}

int cgfw_seen_list(struct cgfw_state *st, uint64_t cgid, struct cgfw_seen **ret, size_t *ret_n)
{
	struct cgfw_seen_key *keys = NULL;
	struct cgfw_seen_val *vals = NULL;
	struct cgfw_seen *out;
	size_t n = 0, m = 0;
	int err;

	err = cgfw_map_dump(st->seen_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			    (void **)&vals, &n);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_SEEN_PIN, strerror(-err));
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(keys);
		free(vals);
		return cgfw_seterr(ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (cgid && keys[i].cgid != cgid)
			continue;
		out[m].cgid = keys[i].cgid;
		out[m].family = keys[i].family;
		out[m].dir = keys[i].dir;
		memcpy(out[m].addr, keys[i].addr, 16);
		out[m].packets = vals[i].packets;
		out[m].bytes = vals[i].bytes;
		out[m].dropped = vals[i].dropped;
		out[m].first_ns = cgfw_boot_to_realtime(vals[i].first_ns);
		/* Converted once: a second conversion samples the clocks again and
		 * could put last_seen before first_seen. */
		out[m].last_ns = out[m].first_ns && vals[i].last_ns >= vals[i].first_ns ?
					 out[m].first_ns + (vals[i].last_ns - vals[i].first_ns) :
					 cgfw_boot_to_realtime(vals[i].last_ns);
		m++;
	}
	free(keys);
	free(vals);
	qsort(out, m, sizeof(*out), cmp_seen);
	*ret = out;
	*ret_n = m;
	return 0;
}
