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

static int seen_conv(const void *key, const void *val, void *out, void *arg)
{
	const struct cgfw_seen_key *k = key;
	const struct cgfw_seen_val *v = val;
	struct cgfw_seen *o = out;
	uint64_t cgid = *(const uint64_t *)arg;

	if (cgid && k->cgid != cgid)
		return 0;
	o->cgid = k->cgid;
	o->family = k->family;
	o->dir = k->dir;
	memcpy(o->addr, k->addr, 16);
	o->packets = v->packets;
	o->bytes = v->bytes;
	o->dropped = v->dropped;
	o->first_ns = cgfw_boot_to_realtime(v->first_ns);
	/* Converted once: a second conversion samples the clocks again and could
	 * put last_seen before first_seen. */
	o->last_ns = o->first_ns && v->last_ns >= v->first_ns ?
			     o->first_ns + (v->last_ns - v->first_ns) :
			     cgfw_boot_to_realtime(v->last_ns);
	return 1;
}

int cgfw_seen_list(struct cgfw_state *st, uint64_t cgid, struct cgfw_seen **ret, size_t *ret_n)
{
	struct cgfw_seen *out;
	size_t n;
	int err;

	err = cgfw_map_collect(st->seen_fd, CGFW_SEEN_PIN, sizeof(struct cgfw_seen_key),
			       sizeof(struct cgfw_seen_val), sizeof(*out), seen_conv, &cgid,
			       (void **)&out, &n);
	if (err)
		return err;
	qsort(out, n, sizeof(*out), cmp_seen);
	*ret = out;
	*ret_n = n;
	return 0;
}
