// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TC state: pinned maps under the same root (and lock) as the cgroup
 * state, created on first use by loading the TC object once with its
 * programs switched off. The rules are a compiled rule set in an inner map
 * of cgfw_tc_rtab that every change replaces (ruleset.c); opening the state
 * under the lock makes this namespace's routes match it (a command killed
 * part way may have left them behind).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
	skel->rodata->cgfw_tick_ns = cgfw_clock_tick_ns(tc->hz);
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

static struct cgfw_pin_set pin_set(struct cgfw_tc *tc, struct cgfw_pin_map maps[10]);

static void close_fds(struct cgfw_tc *tc)
{
	struct cgfw_pin_map maps[10];
	struct cgfw_pin_set set = pin_set(tc, maps);

	cgfw_pin_set_close(&set);
}

/* Create every map by loading the TC object once with its programs off. */
static int create_maps(struct cgfw_pin *pin, void *arg)
{
	struct cgfw_tc_meta_val meta = { .next_attach_id = 1 };
	struct cgfw_tc *tc = arg;
	_cleanup_close_ int rtab_fd = -1, meta_fd = -1, fd = -1;
	_cleanup_free_ union cgfw_tc_elem *e = NULL;
	struct cgfw_tc_set empty = { .next_id = 1 };
	size_t n = 0;
	void *skel;
	__u32 zero = 0;
	int err;

	/* The programs' clock is jiffies: the tick rate, measured once (100 ms). */
	err = cgfw_clock_hz(&meta.hz);
	if (err)
		return err;
	tc->hz = meta.hz;
	err = cgfw_tc_skel_load(tc, 0, 0, 14, false, &skel);
	if (err)
		return err;
	cgfw_tc_skel_free(skel);
	err = cgfw_pin_get(pin, CGFW_TC_RTAB_PIN, &rtab_fd);
	if (!err)
		err = cgfw_pin_get(pin, CGFW_TC_META_PIN, &meta_fd);
	if (err)
		return cgfw_seterr(err, "TC maps under %s vanished after creation: %s",
				   cgfw_pin_root(pin), strerror(-err));
	/* A first, empty rule set. */
	err = cgfw_tc_set_compile(&empty, &e, &n);
	if (!err)
		err = cgfw_tc_set_new_map(e, n, CGFW_TC_MIN_ELEMS, &fd);
	if (err)
		return err;
	if (bpf_map_update_elem(rtab_fd, &zero, &fd, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot install the TC rule set: %s", strerror(errno));
	/* Written last: a state without a version is an unfinished one. */
	meta.layout_version = CGFW_TC_LAYOUT_VERSION;
	meta.created_ns = cgfw_now_realtime();
	if (bpf_map_update_elem(meta_fd, &zero, &meta, BPF_ANY) < 0)
		return cgfw_seterr(errno, "cannot write %s: %s", CGFW_TC_META_PIN, strerror(errno));
	return 0;
}

static struct cgfw_pin_set pin_set(struct cgfw_tc *tc, struct cgfw_pin_map maps[10])
{
	const struct cgfw_pin_map m[10] = {
		{ CGFW_TC_META_PIN, &tc->meta_fd },	{ CGFW_TC_RTAB_PIN, &tc->rtab_fd },
		{ CGFW_TC_IFACES_PIN, &tc->ifaces_fd }, { CGFW_TC_IFADDR_PIN, &tc->ifaddr_fd },
		{ CGFW_TC_CONN_PIN, &tc->conn_fd },	{ CGFW_TC_UDPFLOW_PIN, &tc->udpflow_fd },
		{ CGFW_TC_STATS_PIN, &tc->stats_fd },	{ CGFW_TC_ROUTES_PIN, &tc->routes_fd },
		{ CGFW_EVENTS_PIN, &tc->events_fd },	{ CGFW_EVRATE_PIN, &tc->evrate_fd },
	};

	memcpy(maps, m, sizeof(m));
	return (struct cgfw_pin_set){
		.what = "TC",
		.meta = CGFW_TC_META_PIN,
		.version = CGFW_TC_LAYOUT_VERSION,
		.maps = maps,
		.nmaps = 10,
		.create = create_maps,
		.arg = tc,
	};
}

/*
 * The tick rate the state keeps. A state made before it was kept has none:
 * measured now, and kept when this command holds the lock.
 */
static int read_hz(struct cgfw_tc *tc)
{
	struct cgfw_tc_meta_val meta;
	int err;

	if (tc->hz)
		return 0;
	err = cgfw_tc_meta_read(tc, &meta);
	if (!err && !meta.hz) {
		err = cgfw_clock_hz(&meta.hz);
		if (!err && cgfw_pin_locked(tc->pin))
			err = cgfw_tc_meta_write(tc, &meta);
	}
	if (!err)
		tc->hz = meta.hz;
	return err;
}

int cgfw_tc_open_at(struct cgfw_pin *pin, struct cgfw_tc **ret)
{
	struct cgfw_pin_map maps[10];
	struct cgfw_pin_set set;
	struct cgfw_tc *tc;
	int err;

	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return cgfw_seterr(ENOMEM, "out of memory");
	tc->rtab_fd = tc->ifaces_fd = tc->ifaddr_fd = tc->conn_fd = -1;
	tc->udpflow_fd = tc->meta_fd = tc->stats_fd = tc->routes_fd = -1;
	tc->events_fd = tc->evrate_fd = -1;
	tc->netns = cgfw_netns_id();
	tc->pin = pin;
	set = pin_set(tc, maps);
	err = cgfw_pin_set_open(pin, &set);
	if (err) {
		free(tc);
		return err;
	}
	err = read_hz(tc);
	if (err) {
		cgfw_tc_close(tc);
		return err;
	}
	/* Under the exclusive lock: what a killed command left out of step, the
	 * programs of a rule set that grew and the routes. */
	if (cgfw_pin_locked(pin)) {
		struct cgfw_tc_set live = {};

		err = cgfw_tc_reload(tc, false, true);
		if (err > 0)
			cgfw_notice("%d interface%s still ran programs of a TC rule set that was "
				    "replaced (a command was killed): loaded again",
				    err, err == 1 ? "" : "s");
		if (err >= 0)
			err = cgfw_tc_set_read(tc, &live);
		if (!err) {
			err = cgfw_tc_routes_sync(tc, &live, false);
			if (err > 0)
				cgfw_notice("the local routes of the tproxy rules were out of step "
					    "(a command was killed): %d set right",
					    err);
		}
		cgfw_tc_set_free(&live);
		if (err < 0) {
			cgfw_tc_close(tc);
			return err;
		}
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

int cgfw_tc_stats_get(struct cgfw_tc *tc, struct cgfw_tc_stats *ret)
{
	struct cgfw_tc_stats s = {};
	_cleanup_free_ struct cgfw_tc_rule *rules = NULL;
	size_t n = 0;
	int err;

	for (__u32 k = 0; k < 2 * CGFW_TC_R_COUNT; k++) {
		uint64_t sum[2] = { 0, 0 };

		if (cgfw_map_percpu_sum(tc->stats_fd, k, 2, sum))
			continue;
		s.packets[k / CGFW_TC_R_COUNT][k % CGFW_TC_R_COUNT] = sum[0];
		s.bytes[k / CGFW_TC_R_COUNT][k % CGFW_TC_R_COUNT] = sum[1];
	}
	{
		const union cgfw_tc_elem *e;
		size_t ne, mapped;

		err = cgfw_tc_set_map(tc, false, &e, &ne, &mapped, NULL);
		if (err)
			return err;
		s.table_entries = (uint32_t)ne;
		s.table_capacity = (uint32_t)(mapped / CGFW_TC_ELEM_SIZE);
		munmap((void *)e, mapped);
	}
	err = cgfw_tc_rules_list(tc, 0, &rules, &n);
	if (err)
		return err;
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
