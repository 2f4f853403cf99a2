// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cgroup datapath's pinned maps: created on first use by loading the
 * cgroup object once with pinning by name, opened by every later command,
 * which first makes the registry and the links match the live rule set if
 * a command died half way (attach.c, cgfw_state_repair).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "cgfw_cgroup.skel.h"

static int prep_tmpl(struct cgfw_cgroup_bpf *skel, void *arg)
{
	return bpf_map__set_inner_map_fd(skel->maps.cgfw_rs, *(int *)arg);
}

/* Create every map by loading the cgroup object once with pinning by name. */
static int create_maps(struct cgfw_pin *pin, void *arg)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = BPF_F_MMAPABLE);
	struct cgfw_meta_val meta = { .layout_version = CGFW_LAYOUT_VERSION };
	struct cgfw_state *st = arg;
	struct cgfw_cgroup_bpf *skel;
	_cleanup_close_ int tmpl = -1;
	struct rs empty = {};
	struct rs_scope host = { .def = { CGFW_VERDICT_ALLOW, CGFW_VERDICT_ALLOW }, .used = true };
	__u32 zero = 0;
	int err;

	/* The template every rule set's inner map is made like. */
	tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cgfw_rs_tmpl", sizeof(__u32), CGFW_RS_ELEM_SIZE,
			      CGFW_RS_MIN_ELEMS, &mopts);
	if (tmpl < 0)
		return cgfw_seterr(cgfw_runtime_err(-errno), "cannot create the rule set: %s",
				   strerror(errno));
	err = cgfw_cgroup_open_load(cgfw_pin_root(pin), prep_tmpl, &tmpl, &skel);
	if (!err)
		cgfw_cgroup_bpf__destroy(skel);
	if (err)
		return cgfw_seterr(cgfw_runtime_err(err), "cannot create the maps under %s: %s",
				   cgfw_pin_root(pin), strerror(-err));
	st->pin = pin;
	err = cgfw_pin_get(pin, CGFW_RS_PIN, &st->rs_fd);
	if (!err)
		err = cgfw_pin_get(pin, CGFW_META_PIN, &st->meta_fd);
	if (err)
		return cgfw_seterr(err, "maps under %s vanished after creation: %s",
				   cgfw_pin_root(pin), strerror(-err));
	/* A first, empty rule set: the host scope, allowing everything. */
	{
		_cleanup_free_ union cgfw_rs_elem *e = NULL;
		size_t n = 0;
		int fd;

		empty.scopes = &host;
		empty.nscopes = 1;
		empty.gen = 1;
		err = cgfw_rs_compile(&empty, NULL, 0, &e, &n);
		if (err)
			return err;
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cgfw_rs_set", sizeof(__u32),
				    CGFW_RS_ELEM_SIZE, CGFW_RS_MIN_ELEMS, &mopts);
		if (fd < 0)
			return cgfw_seterr(errno, "cannot create the rule set: %s",
					   strerror(errno));
		for (__u32 i = 0; i < n && !err; i++)
			err = bpf_map_update_elem(fd, &i, &e[i], BPF_ANY) < 0 ? -errno : 0;
		if (!err)
			err = bpf_map_update_elem(st->rs_fd, &zero, &fd, BPF_ANY) < 0 ? -errno : 0;
		close(fd);
		if (err)
			return cgfw_seterr(err, "cannot install the rule set: %s", strerror(-err));
	}
	err = cgfw_clock_hz(&meta.hz);
	if (!err) {
		uint64_t j, ns;

		err = cgfw_clock_now(&j, &ns);
		meta.anchor_j = j;
		meta.anchor_boot_ns = ns;
	}
	if (err)
		return err;
	/* Written last: a state without a version is an unfinished one. */
	meta.created_ns = cgfw_now_realtime();
	if (bpf_map_update_elem(st->meta_fd, &zero, &meta, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_META_PIN, strerror(errno));
	close(st->rs_fd);
	close(st->meta_fd);
	st->rs_fd = st->meta_fd = -1;
	return 0;
}

#define NMAPS 7

static struct cgfw_pin_set pin_set(struct cgfw_state *st, struct cgfw_pin_map maps[NMAPS])
{
	const struct cgfw_pin_map m[NMAPS] = {
		{ CGFW_CGROUPS_PIN, &st->cgroups_fd }, { CGFW_RS_PIN, &st->rs_fd },
		{ CGFW_SEEN_PIN, &st->seen_fd },       { CGFW_PC_PIN, &st->pc_fd },
		{ CGFW_FLOWS_PIN, &st->flows_fd },     { CGFW_META_PIN, &st->meta_fd },
		{ CGFW_CGSTATS_PIN, &st->cgstats_fd },
	};

	memcpy(maps, m, sizeof(m));
	return (struct cgfw_pin_set){
		.what = "cgroup",
		.meta = CGFW_META_PIN,
		.version = CGFW_LAYOUT_VERSION,
		.maps = maps,
		.nmaps = NMAPS,
		.create = create_maps,
		.arg = st,
	};
}

static struct cgfw_state *state_new(void)
{
	struct cgfw_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->cgroups_fd = st->rs_fd = st->seen_fd = st->pc_fd = st->flows_fd = st->meta_fd = -1;
	st->cgstats_fd = -1;
	return st;
}

int cgfw_state_open_at(struct cgfw_pin *pin, struct cgfw_state **ret)
{
	struct cgfw_pin_map maps[NMAPS];
	struct cgfw_pin_set set;
	struct cgfw_meta_val meta = {};
	struct cgfw_state *st;
	__u32 zero = 0;
	int err;

	st = state_new();
	if (!st)
		return cgfw_seterr(ENOMEM, "out of memory");
	st->pin = pin;
	set = pin_set(st, maps);
	err = cgfw_pin_set_open(pin, &set);
	if (err) {
		free(st);
		return err;
	}
	if (bpf_map_lookup_elem(st->meta_fd, &zero, &meta) == 0) {
		st->hz = meta.hz;
		st->anchor_j = meta.anchor_j;
		st->anchor_boot_ns = meta.anchor_boot_ns;
	}
	st->locked = cgfw_pin_locked(pin);
	err = cgfw_state_repair(st);
	if (err) {
		cgfw_state_close(st);
		return err;
	}
	*ret = st;
	return 0;
}

int cgfw_state_open(unsigned flags, struct cgfw_state **ret)
{
	struct cgfw_pin *pin = NULL;
	int err;

	err = cgfw_pin_open(flags, &pin);
	if (!err)
		err = cgfw_state_open_at(pin, ret);
	if (err) {
		cgfw_pin_close(pin);
		return err;
	}
	(*ret)->own_pin = true;
	return 0;
}

void cgfw_state_close(struct cgfw_state *st)
{
	struct cgfw_pin_map maps[NMAPS];
	struct cgfw_pin_set set;

	if (!st)
		return;
	set = pin_set(st, maps);
	cgfw_pin_set_close(&set);
	if (st->own_pin)
		cgfw_pin_close(st->pin);
	free(st);
}

bool cgfw_state_exists(void)
{
	return cgfw_pin_exists(CGFW_META_PIN);
}

/* ---- status --------------------------------------------------------------------------------- */

int cgfw_status_get(struct cgfw_state *st, struct cgfw_status *ret)
{
	struct cgfw_meta_val meta = {};
	struct cgfw_status s = {};
	const union cgfw_rs_elem *e;
	size_t n, mapped;
	__u64 *keys = NULL;
	struct cgfw_cgroup_val *vals = NULL;
	__u32 k = 0;
	int err;

	snprintf(s.root, sizeof(s.root), "%s", cgfw_state_root_of(st));
	if (bpf_map_lookup_elem(st->meta_fd, &k, &meta) == 0) {
		s.layout_version = meta.layout_version;
		s.created_ns = meta.created_ns;
	}
	err = cgfw_rs_map_live(st, &e, &n, &mapped);
	if (err)
		return err;
	s.rules4 = e[CGFW_RS_INFO].info.rules4;
	s.rules6 = e[CGFW_RS_INFO].info.rules6;
	s.lens4 = e[CGFW_RS_INFO].info.lens4;
	s.lens6 = e[CGFW_RS_INFO].info.lens6;
	s.rs_elems = n;
	s.rs_capacity = mapped / CGFW_RS_ELEM_SIZE;
	s.rs_gen = e[CGFW_RS_HDR].hdr.gen;
	cgfw_rs_unmap(e, mapped);
	s.seen_max = CGFW_SEEN_MAX;
	s.flows_max = CGFW_FLOWS_MAX;
	if (cgfw_seen_drain(st, NULL, NULL) == 0) {
		void *dk = NULL, *dv = NULL;

		if (cgfw_map_dump(st->seen_fd, sizeof(struct cgfw_seen_key),
				  sizeof(struct cgfw_seen_val), &dk, &dv, &s.seen_entries) == 0) {
			free(dk);
			free(dv);
		}
	}
	{
		void *dk = NULL, *dv = NULL;

		if (cgfw_map_dump(st->flows_fd, sizeof(struct cgfw_flow_key),
				  sizeof(struct cgfw_flow_val), &dk, &dv, &s.flows_entries) == 0) {
			free(dk);
			free(dv);
		}
	}
	err = cgfw_map_dump(st->cgroups_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			    (void **)&vals, &s.attachments);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_CGROUPS_PIN, strerror(-err));
	free(keys);
	free(vals);
	err = cgfw_counters_get(st, s.packets, s.bytes);
	if (err)
		return err;
	*ret = s;
	return 0;
}
