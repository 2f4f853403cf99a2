// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cgroup datapath's pinned maps: created on first use by loading the
 * cgroup object once with pinning by name, opened by every later command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "cgfw_cgroup.skel.h"

/* Create every map by loading the cgroup object once with pinning by name. */
static int create_maps(struct cgfw_pin *pin, void *arg)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = cgfw_pin_root(pin));
	struct cgfw_meta_val meta = { .layout_version = CGFW_LAYOUT_VERSION };
	_cleanup_close_ int lens_fd = -1, meta_fd = -1;
	struct cgfw_cgroup_bpf *skel;
	__u32 zero = 0;
	int err;

	skel = cgfw_cgroup_bpf__open_opts(&opts);
	if (!skel)
		return cgfw_seterr(errno, "cannot open the cgroup BPF object: %s", strerror(errno));
	err = cgfw_cgroup_bpf__load(skel);
	cgfw_cgroup_bpf__destroy(skel);
	if (err)
		return cgfw_seterr(cgfw_runtime_err(err), "cannot create the maps under %s: %s",
				   cgfw_pin_root(pin), strerror(-err));
	err = cgfw_pin_get(pin, CGFW_LENS_PIN, &lens_fd);
	if (!err)
		err = cgfw_pin_get(pin, CGFW_META_PIN, &meta_fd);
	if (err)
		return cgfw_seterr(err, "maps under %s vanished after creation: %s",
				   cgfw_pin_root(pin), strerror(-err));
	/* The lengths list starts empty, slot 1 active. */
	err = cgfw_slot_init(lens_fd, CGFW_LENS_PIN, sizeof(struct cgfw_lens_val));
	if (err)
		return err;
	/* Written last: a state without a version is an unfinished one. */
	meta.created_ns = cgfw_now_realtime();
	if (bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_META_PIN, strerror(errno));
	return 0;
}

static struct cgfw_pin_set pin_set(struct cgfw_state *st, struct cgfw_pin_map maps[8])
{
	const struct cgfw_pin_map m[8] = {
		{ CGFW_RULES_PIN, &st->rules_fd }, { CGFW_PRULES_PIN, &st->prules_fd },
		{ CGFW_LENS_PIN, &st->lens_fd },   { CGFW_CGROUPS_PIN, &st->cgroups_fd },
		{ CGFW_SEEN_PIN, &st->seen_fd },   { CGFW_FLOWS_PIN, &st->flows_fd },
		{ CGFW_STATS_PIN, &st->stats_fd }, { CGFW_META_PIN, &st->meta_fd },
	};

	memcpy(maps, m, sizeof(m));
	return (struct cgfw_pin_set){
		.what = "cgroup",
		.meta = CGFW_META_PIN,
		.version = CGFW_LAYOUT_VERSION,
		.maps = maps,
		.nmaps = 8,
		.create = create_maps,
	};
}

static struct cgfw_state *state_new(void)
{
	struct cgfw_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->rules_fd = st->prules_fd = st->lens_fd = st->cgroups_fd = -1;
	st->seen_fd = st->flows_fd = st->meta_fd = st->stats_fd = -1;
	return st;
}

int cgfw_state_open_at(struct cgfw_pin *pin, struct cgfw_state **ret)
{
	struct cgfw_pin_map maps[8];
	struct cgfw_pin_set set;
	struct cgfw_state *st;
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
	struct cgfw_pin_map maps[8];
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

/* ---- the prefix lengths in use ----------------------------------------------------------- */

int cgfw_lens_read(struct cgfw_state *st, struct cgfw_lens_val *ret)
{
	return cgfw_slot_read(st->lens_fd, CGFW_LENS_PIN, sizeof(*ret), ret);
}

static void lens_list(struct cgfw_len_list *list, const __u32 *c, int max, int stride)
{
	memset(list, 0, sizeof(*list));
	for (int l = max - 1; l >= 0; l--) {
		__u8 kind = (c[0 * stride + l] ? CGFW_LEN_PLAIN_HOST : 0) |
			    (c[1 * stride + l] ? CGFW_LEN_PORT_HOST : 0) |
			    (c[2 * stride + l] ? CGFW_LEN_PLAIN_CG : 0) |
			    (c[3 * stride + l] ? CGFW_LEN_PORT_CG : 0);

		if (kind) {
			list->len[list->n] = (__u8)l;
			list->kind[list->n++] = kind;
		}
	}
}

int cgfw_lens_publish(struct cgfw_state *st, struct cgfw_lens_val *v)
{
	lens_list(&v->v4, &v->count4[0][0], CGFW_LEN4_MAX, CGFW_LEN4_MAX + 3);
	lens_list(&v->v6, &v->count6[0][0], CGFW_LEN6_MAX, CGFW_LEN6_MAX + 3);
	return cgfw_slot_publish(st->lens_fd, CGFW_LENS_PIN, sizeof(*v), v);
}

/* ---- status --------------------------------------------------------------------------------- */

int cgfw_status_get(struct cgfw_state *st, struct cgfw_status *ret)
{
	struct cgfw_meta_val meta = {};
	struct cgfw_lens_val lens;
	struct cgfw_status s = {};
	__u64 *keys = NULL;
	struct cgfw_cgroup_val *vals = NULL;
	__u32 k = 0;
	int err;

	snprintf(s.root, sizeof(s.root), "%s", cgfw_state_root_of(st));
	if (bpf_map_lookup_elem(st->meta_fd, &k, &meta) == 0) {
		s.layout_version = meta.layout_version;
		s.created_ns = meta.created_ns;
	}
	err = cgfw_lens_read(st, &lens);
	if (err)
		return err;
	for (int l = 0; l < CGFW_LEN4_MAX; l++)
		for (int c = 0; c < 4; c++)
			s.rules4 += lens.count4[c][l];
	for (int l = 0; l < CGFW_LEN6_MAX; l++)
		for (int c = 0; c < 4; c++)
			s.rules6 += lens.count6[c][l];
	s.lens4 = lens.v4.n;
	s.lens6 = lens.v6.n;
	err = cgfw_map_dump(st->cgroups_fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			    (void **)&vals, &s.attachments);
	if (err)
		return cgfw_seterr(err, "cannot read %s: %s", CGFW_CGROUPS_PIN, strerror(-err));
	free(keys);
	free(vals);
	for (int d = 0; d < CGFW_DIR_COUNT; d++) {
		for (int r = 0; r < CGFW_R_COUNT; r++) {
			uint64_t sum[2] = { 0, 0 };

			if (cgfw_map_percpu_sum(st->stats_fd, (__u32)(d * CGFW_R_COUNT + r), 2,
						sum))
				continue;
			s.packets[d][r] = sum[0];
			s.bytes[d][r] = sum[1];
		}
	}
	*ret = s;
	return 0;
}
