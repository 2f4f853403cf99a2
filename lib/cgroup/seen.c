// SPDX-License-Identifier: GPL-2.0-only
/*
 * The remote addresses each workload exchanged packets with, and the
 * datapath's counters by reason (seen_map.h). The per-CPU caches are drained
 * into the hash first (util.c), so a listing reads one map and is exact.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

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

struct conv {
	uint64_t cgid;
	const struct cgfw_state *st;
};

static void fill(struct cgfw_seen *o, const struct cgfw_seen_key *k, const struct cgfw_seen_val *v,
		 const struct conv *c)
{
	o->cgid = k->cgid;
	o->family = k->family;
	o->dir = k->dir;
	memcpy(o->addr, k->addr, 16);
	o->packets = v->packets;
	o->bytes = v->bytes;
	o->dropped = v->dropped;
	o->first_ns = cgfw_jiffies_to_realtime(c->st, v->first_j);
	o->last_ns = cgfw_jiffies_to_realtime(c->st, v->last_j);
	if (o->last_ns < o->first_ns)
		o->last_ns = o->first_ns;
}

static int seen_conv(const void *key, const void *val, void *out, void *arg)
{
	const struct cgfw_seen_key *k = key;
	const struct conv *c = arg;

	if (c->cgid && k->cgid != c->cgid)
		return 0;
	fill(out, k, val, c);
	return 1;
}

/* Add an offline CPU's cached entry to the listing. */
static int merge(struct cgfw_seen **all, size_t *n, const struct cgfw_seen_slot *s,
		 const struct conv *c)
{
	struct cgfw_seen x, *m;

	if (c->cgid && s->key.cgid != c->cgid)
		return 0;
	fill(&x, &s->key, &s->val, c);
	for (size_t i = 0; i < *n; i++) {
		struct cgfw_seen *o = &(*all)[i];

		if (o->cgid == x.cgid && o->family == x.family && o->dir == x.dir &&
		    !memcmp(o->addr, x.addr, 16)) {
			o->packets += x.packets;
			o->bytes += x.bytes;
			o->dropped += x.dropped;
			if (x.first_ns && x.first_ns < o->first_ns)
				o->first_ns = x.first_ns;
			if (x.last_ns > o->last_ns)
				o->last_ns = x.last_ns;
			return 0;
		}
	}
	m = realloc(*all, (*n + 1) * sizeof(*m));
	if (!m)
		return cgfw_seterr(ENOMEM, "out of memory");
	m[(*n)++] = x;
	*all = m;
	return 0;
}

int cgfw_seen_list(struct cgfw_state *st, uint64_t cgid, struct cgfw_seen **ret, size_t *ret_n)
{
	_cleanup_free_ struct cgfw_seen_slot *off = NULL;
	struct conv c = { .cgid = cgid, .st = st };
	struct cgfw_seen *out = NULL;
	size_t n = 0, noff = 0;
	int err;

	err = cgfw_seen_drain(st, &off, &noff);
	if (!err)
		err = cgfw_map_collect(st->seen_fd, CGFW_SEEN_PIN, sizeof(struct cgfw_seen_key),
				       sizeof(struct cgfw_seen_val), sizeof(*out), seen_conv, &c,
				       (void **)&out, &n);
	for (size_t i = 0; !err && i < noff; i++)
		err = merge(&out, &n, &off[i], &c);
	if (err) {
		free(out);
		return err;
	}
	if (n)
		qsort(out, n, sizeof(*out), cmp_seen);
	*ret = out;
	*ret_n = n;
	return 0;
}

int cgfw_seen_flush(struct cgfw_state *st, uint64_t cgid)
{
	struct cgfw_seen_key *keys = NULL;
	void *vals = NULL;
	size_t n = 0;
	int err;

	err = cgfw_seen_forget_cached(st, cgid);
	if (err)
		return err;
	err = cgfw_map_dump(st->seen_fd, sizeof(*keys), sizeof(struct cgfw_seen_val),
			    (void **)&keys, &vals, &n);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_SEEN_PIN, strerror(-err));
	for (size_t i = 0; i < n; i++)
		if (!cgid || keys[i].cgid == cgid)
			bpf_map_delete_elem(st->seen_fd, &keys[i]);
	free(keys);
	free(vals);
	return 0;
}

int cgfw_counters_get(struct cgfw_state *st, uint64_t packets[CGFW_DIR_COUNT][8],
		      uint64_t bytes[CGFW_DIR_COUNT][8])
{
	int ncpu = libbpf_num_possible_cpus();
	_cleanup_free_ struct cgfw_pc_val *v = NULL;

	if (ncpu <= 0)
		return cgfw_seterr(EIO, "cannot count the CPUs");
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return cgfw_seterr(ENOMEM, "out of memory");
	for (__u32 k = 0; k < 2; k++) {
		if (bpf_map_lookup_elem(st->pc_fd, &k, v) < 0)
			return cgfw_seterr(errno, "cannot read %s: %s", CGFW_PC_PIN,
					   strerror(errno));
		for (int cpu = 0; cpu < ncpu; cpu++)
			for (int d = 0; d < CGFW_DIR_COUNT; d++)
				for (int r = 0; r < CGFW_R_COUNT && r < 8; r++) {
					const struct cgfw_stat_val *s =
						&v[cpu].stats[d * CGFW_R_COUNT + r];

					packets[d][r] += s->packets;
					bytes[d][r] += s->bytes;
				}
	}
	return 0;
}

int cgfw_cgroup_counters(struct cgfw_state *st, uint64_t cgid, uint64_t packets[CGFW_DIR_COUNT][8],
			 uint64_t bytes[CGFW_DIR_COUNT][8])
{
	int ncpu = libbpf_num_possible_cpus();
	_cleanup_free_ struct cgfw_cgstat_val *v = NULL;
	struct cgfw_cgroup_val reg;
	__u32 slot;

	if (bpf_map_lookup_elem(st->cgroups_fd, &cgid, &reg) < 0)
		return cgfw_seterr(ENOENT, "cgroup id %llu is not attached",
				   (unsigned long long)cgid);
	slot = reg.slot;
	if (slot >= CGFW_CGSTATS_SLOTS)
		return cgfw_seterr(ERANGE, "cgroup id %llu has no counters of its own (slot %u)",
				   (unsigned long long)cgid, slot);
	if (ncpu <= 0)
		return cgfw_seterr(EIO, "cannot count the CPUs");
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return cgfw_seterr(ENOMEM, "out of memory");
	if (bpf_map_lookup_elem(st->cgstats_fd, &slot, v) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", CGFW_CGSTATS_PIN, strerror(errno));
	memset(packets, 0, sizeof(uint64_t) * CGFW_DIR_COUNT * 8);
	memset(bytes, 0, sizeof(uint64_t) * CGFW_DIR_COUNT * 8);
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (int d = 0; d < CGFW_DIR_COUNT; d++)
			for (int r = 0; r < CGFW_R_COUNT && r < 8; r++) {
				const struct cgfw_stat_val *s = &v[cpu].s[d * CGFW_R_COUNT + r];

				packets[d][r] += s->packets;
				bytes[d][r] += s->bytes;
			}
	return 0;
}
