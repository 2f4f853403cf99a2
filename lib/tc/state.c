// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TC state: pinned maps under the same root (and lock) as the cgroup
 * state, created on first use by loading the TC object once with its
 * programs switched off. The rule table proper is an inner map of
 * cgfw_tc_rtab that user space replaces with a bigger one when it fills.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "cgfw_tc.skel.h"

uint64_t cgfw_netns_id(void)
{
	struct stat s;

	return stat("/proc/self/ns/net", &s) == 0 ? (uint64_t)s.st_ino : 0;
}

static void cgfw_tc_skel_free(void *skel)
{
	cgfw_tc_bpf__destroy(skel);
}

static int cgfw_tc_skel_prog_fds(void *skel, int *ret_in, int *ret_eg)
{
	struct cgfw_tc_bpf *s = skel;

	*ret_in = bpf_program__fd(s->progs.cgfw_tc_ingress);
	*ret_eg = bpf_program__fd(s->progs.cgfw_tc_egress);
	return 0;
}

static int cgfw_tc_skel_load(struct cgfw_tc *tc, uint32_t flags, uint32_t attach_id,
			     uint32_t l2_len, bool progs, void **ret_skel)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = cgfw_tc_root(tc));
	struct cgfw_tc_bpf *skel;
	int err;

	*ret_skel = NULL;
	skel = cgfw_tc_bpf__open_opts(&opts);
	if (!skel)
		return cgfw_seterr(errno, "cannot open the TC BPF object: %s", strerror(errno));
	skel->rodata->cgfw_flags = flags;
	skel->rodata->cgfw_attach_id = attach_id;
	skel->rodata->cgfw_l2_len = l2_len;
	if (!progs) {
		/* Only the maps: created and pinned by name. */
		bpf_program__set_autoload(skel->progs.cgfw_tc_ingress, false);
		bpf_program__set_autoload(skel->progs.cgfw_tc_egress, false);
	}
	err = cgfw_tc_bpf__load(skel);
	if (err) {
		cgfw_tc_bpf__destroy(skel);
		return cgfw_seterr(
			cgfw_runtime_err(err),
			progs ? "cannot load the TC programs (verifier or map mismatch under "
				"%s; CGFW_DEBUG=1 shows libbpf's log): %s" :
				"cannot create the TC maps under %s: %s",
			cgfw_tc_root(tc), strerror(-err));
	}
	*ret_skel = skel;
	return 0;
}

static struct cgfw_pin_set pin_set(struct cgfw_tc *tc, struct cgfw_pin_map maps[11]);

static void close_fds(struct cgfw_tc *tc)
{
	struct cgfw_pin_map maps[11];
	struct cgfw_pin_set set = pin_set(tc, maps);

	cgfw_pin_set_close(&set);
	if (tc->table_fd >= 0)
		close(tc->table_fd);
	tc->table_fd = -1;
}

static int new_table(uint32_t max)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);

	return bpf_map_create(BPF_MAP_TYPE_HASH, "cgfw_tc_table", sizeof(struct cgfw_tc_key),
			      sizeof(struct cgfw_tc_val), max, &opts);
}

/* Create every map by loading the TC object once with its programs off. */
static int create_maps(struct cgfw_pin *pin, void *arg)
{
	struct cgfw_tc_meta_val meta = { .next_rule_id = 1, .next_attach_id = 1 };
	struct cgfw_tc *tc = arg;
	_cleanup_close_ int lens_fd = -1, rtab_fd = -1, meta_fd = -1, fd = -1;
	void *skel;
	__u32 zero = 0;
	int err;

	err = cgfw_tc_skel_load(tc, 0, 0, 14, false, &skel);
	if (err)
		return err;
	cgfw_tc_skel_free(skel);
	err = cgfw_pin_get(pin, CGFW_TC_LENS_PIN, &lens_fd);
	if (!err)
		err = cgfw_pin_get(pin, CGFW_TC_RTAB_PIN, &rtab_fd);
	if (!err)
		err = cgfw_pin_get(pin, CGFW_TC_META_PIN, &meta_fd);
	if (err)
		return cgfw_seterr(err, "TC maps under %s vanished after creation: %s",
				   cgfw_pin_root(pin), strerror(-err));
	err = cgfw_slot_init(lens_fd, CGFW_TC_LENS_PIN, sizeof(struct cgfw_tc_lens_val));
	if (err)
		return err;
	fd = new_table(CGFW_TC_TABLE_MIN);
	if (fd < 0)
		return cgfw_seterr(errno, "cannot create the TC rule table: %s", strerror(errno));
	if (bpf_map_update_elem(rtab_fd, &zero, &fd, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot install the TC rule table: %s", strerror(errno));
	/* Written last: a state without a version is an unfinished one. */
	meta.layout_version = CGFW_TC_LAYOUT_VERSION;
	meta.created_ns = cgfw_now_realtime();
	if (bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_TC_META_PIN, strerror(errno));
	return 0;
}

static struct cgfw_pin_set pin_set(struct cgfw_tc *tc, struct cgfw_pin_map maps[11])
{
	const struct cgfw_pin_map m[11] = {
		{ CGFW_TC_META_PIN, &tc->meta_fd },	  { CGFW_TC_RTAB_PIN, &tc->rtab_fd },
		{ CGFW_TC_LENS_PIN, &tc->lens_fd },	  { CGFW_TC_IFACES_PIN, &tc->ifaces_fd },
		{ CGFW_TC_IFADDR_PIN, &tc->ifaddr_fd },	  { CGFW_TC_CONN_PIN, &tc->conn_fd },
		{ CGFW_TC_UDPFLOW_PIN, &tc->udpflow_fd }, { CGFW_TC_STATS_PIN, &tc->stats_fd },
		{ CGFW_TC_ROUTES_PIN, &tc->routes_fd },	  { CGFW_EVENTS_PIN, &tc->events_fd },
		{ CGFW_EVRATE_PIN, &tc->evrate_fd },
	};

	memcpy(maps, m, sizeof(m));
	return (struct cgfw_pin_set){
		.what = "TC",
		.meta = CGFW_TC_META_PIN,
		.version = CGFW_TC_LAYOUT_VERSION,
		.maps = maps,
		.nmaps = 11,
		.create = create_maps,
		.arg = tc,
	};
}

int cgfw_tc_open_at(struct cgfw_pin *pin, struct cgfw_tc **ret)
{
	struct cgfw_pin_map maps[11];
	struct cgfw_pin_set set;
	struct cgfw_tc *tc;
	int err;

	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return cgfw_seterr(ENOMEM, "out of memory");
	tc->rtab_fd = tc->lens_fd = tc->ifaces_fd = tc->ifaddr_fd = tc->conn_fd = -1;
	tc->udpflow_fd = tc->meta_fd = tc->stats_fd = tc->routes_fd = -1;
	tc->events_fd = tc->evrate_fd = tc->table_fd = -1;
	tc->netns = cgfw_netns_id();
	tc->pin = pin;
	set = pin_set(tc, maps);
	err = cgfw_pin_set_open(pin, &set);
	if (err) {
		free(tc);
		return err;
	}
	*ret = tc;
	return 0;
}

int cgfw_tc_open(unsigned flags, struct cgfw_tc **ret)
{
	struct cgfw_pin *pin = NULL;
	int err;

	err = cgfw_pin_open(flags, &pin);
	if (!err)
		err = cgfw_tc_open_at(pin, ret);
	if (err) {
		cgfw_pin_close(pin);
		return err;
	}
	(*ret)->own_pin = true;
	return 0;
}

void cgfw_tc_close(struct cgfw_tc *tc)
{
	if (!tc)
		return;
	close_fds(tc);
	if (tc->own_pin)
		cgfw_pin_close(tc->pin);
	free(tc);
}

int cgfw_tc_table(struct cgfw_tc *tc, int *ret_fd, uint32_t *ret_max)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info), zero = 0, id;

	if (tc->table_fd < 0) {
		if (bpf_map_lookup_elem(tc->rtab_fd, &zero, &id) < 0)
			return cgfw_seterr(errno, "no TC rule table in %s: %s", CGFW_TC_RTAB_PIN,
					   strerror(errno));
		tc->table_fd = bpf_map_get_fd_by_id(id);
		if (tc->table_fd < 0)
			return cgfw_seterr(errno, "cannot open the TC rule table: %s",
					   strerror(errno));
	}
	*ret_fd = tc->table_fd;
	if (ret_max) {
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(tc->table_fd, &info, &len) < 0)
			return cgfw_seterr(errno, "cannot query the TC rule table: %s",
					   strerror(errno));
		*ret_max = info.max_entries;
	}
	return 0;
}

int cgfw_tc_table_grow(struct cgfw_tc *tc, uint32_t want)
{
	void *keys = NULL, *vals = NULL;
	uint32_t old_max, max;
	size_t n = 0, done = 0;
	__u32 zero = 0;
	int old_fd, fd, err;

	err = cgfw_tc_table(tc, &old_fd, &old_max);
	if (err)
		return err;
	max = old_max < CGFW_TC_TABLE_MIN ? CGFW_TC_TABLE_MIN : old_max;
	while (max < want) {
		if (max >= (1u << 31))
			return cgfw_seterr(ENOSPC, "the TC rule table cannot hold %u entries",
					   want);
		max *= 2;
	}
	if (max == old_max)
		return 0;
	fd = new_table(max);
	if (fd < 0)
		return cgfw_seterr(errno,
				   "cannot grow the TC rule table to %u entries: %s (it holds %u; "
				   "the limit is kernel memory)",
				   max, strerror(errno), old_max);
	err = cgfw_map_dump(old_fd, sizeof(struct cgfw_tc_key), sizeof(struct cgfw_tc_val), &keys,
			    &vals, &n);
	if (err) {
		err = cgfw_seterr(err, "cannot read the TC rule table: %s", strerror(-err));
		goto out;
	}
	while (done < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 cnt = (__u32)(n - done > 65536 ? 65536 : n - done);

		if (bpf_map_update_batch(fd, (char *)keys + done * sizeof(struct cgfw_tc_key),
					 (char *)vals + done * sizeof(struct cgfw_tc_val), &cnt,
					 &opts) < 0) {
			err = cgfw_seterr(errno,
					  "cannot copy the TC rule table (%zu of %zu entries): %s "
					  "(the limit is kernel memory)",
					  done + cnt, n, strerror(errno));
			goto out;
		}
		done += cnt;
	}
	/* Packets see the old table or the new one, both complete. */
	if (bpf_map_update_elem(tc->rtab_fd, &zero, &fd, BPF_ANY) < 0) {
		err = cgfw_seterr(errno, "cannot install the grown TC rule table: %s",
				  strerror(errno));
		goto out;
	}
	close(old_fd);
	tc->table_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(keys);
	free(vals);
	return err;
}

int cgfw_tc_meta_read(struct cgfw_tc *tc, struct cgfw_tc_meta_val *ret)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(tc->meta_fd, &zero, ret) < 0)
		return cgfw_seterr(errno, "cannot read %s: %s", CGFW_TC_META_PIN, strerror(errno));
	return 0;
}

int cgfw_tc_meta_write(struct cgfw_tc *tc, const struct cgfw_tc_meta_val *v)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(tc->meta_fd, &zero, v, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_TC_META_PIN, strerror(errno));
	return 0;
}

int cgfw_tc_lens_read(struct cgfw_tc *tc, struct cgfw_tc_lens_val *ret)
{
	return cgfw_slot_read(tc->lens_fd, CGFW_TC_LENS_PIN, sizeof(*ret), ret);
}

/* Rebuild the lists from the counts, write the inactive slot, then flip. */
int cgfw_tc_lens_publish(struct cgfw_tc *tc, struct cgfw_tc_lens_val *v)
{
	memset(&v->v4, 0, sizeof(v->v4));
	memset(&v->v6, 0, sizeof(v->v6));
	for (int l = CGFW_LEN4_MAX - 1; l >= 0; l--)
		if (v->count4[l]) {
			v->v4.kind[v->v4.n] = 1;
			v->v4.len[v->v4.n++] = (__u8)l;
		}
	for (int l = CGFW_LEN6_MAX - 1; l >= 0; l--)
		if (v->count6[l]) {
			v->v6.kind[v->v6.n] = 1;
			v->v6.len[v->v6.n++] = (__u8)l;
		}
	return cgfw_slot_publish(tc->lens_fd, CGFW_TC_LENS_PIN, sizeof(*v), v);
}

int cgfw_tc_stats_get(struct cgfw_tc *tc, struct cgfw_tc_stats *ret)
{
	struct cgfw_tc_stats s = {};
	struct cgfw_tc_meta_val meta;
	_cleanup_free_ struct cgfw_tc_rule *rules = NULL;
	size_t n = 0;
	int fd, err;

	for (__u32 k = 0; k < 2 * CGFW_TC_R_COUNT; k++) {
		uint64_t sum[2] = { 0, 0 };

		if (cgfw_map_percpu_sum(tc->stats_fd, k, 2, sum))
			continue;
		s.packets[k / CGFW_TC_R_COUNT][k % CGFW_TC_R_COUNT] = sum[0];
		s.bytes[k / CGFW_TC_R_COUNT][k % CGFW_TC_R_COUNT] = sum[1];
	}
	err = cgfw_tc_meta_read(tc, &meta);
	if (!err)
		err = cgfw_tc_table(tc, &fd, &s.table_capacity);
	if (!err)
		err = cgfw_tc_rules_list(tc, 0, &rules, &n);
	if (err)
		return err;
	s.table_entries = meta.table_entries;
	for (size_t i = 0; i < n; i++)
		if (rules[i].kind < 4)
			s.rules[rules[i].kind]++;
	*ret = s;
	return 0;
}

int cgfw_tc_prog_load(struct cgfw_tc *tc, uint32_t flags, uint32_t attach_id, uint32_t l2_len,
		      struct cgfw_tc_prog **ret)
{
	struct cgfw_tc_prog *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return cgfw_seterr(ENOMEM, "out of memory");
	err = cgfw_tc_skel_load(tc, flags, attach_id, l2_len, true, &p->skel);
	if (err) {
		free(p);
		return err;
	}
	cgfw_tc_skel_prog_fds(p->skel, &p->ingress_fd, &p->egress_fd);
	*ret = p;
	return 0;
}

void cgfw_tc_prog_free(struct cgfw_tc_prog *p)
{
	if (!p)
		return;
	cgfw_tc_skel_free(p->skel);
	free(p);
}
