// SPDX-License-Identifier: GPL-2.0-only
/*
 * The program of bpf/cgroup/cgfw_util.bpf.c, run with BPF_PROG_RUN, and the
 * datapath's jiffies stamps as wall-clock time (the clock: cgfw_clock_now()
 * and cgfw_clock_hz() of lib/pin).
 *
 * The seen caches: one program, run on each CPU in turn, empties that CPU's
 * cache into the hash (or forgets entries), so listings read one map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "cgfw_util.skel.h"

/* Load the utility program on the maps pinned under @root. */
static int open_util(const char *root, struct cgfw_util_bpf **ret)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = root);
	struct cgfw_util_bpf *skel;
	int err;

	skel = cgfw_util_bpf__open_opts(&opts);
	if (!skel)
		return cgfw_seterr(errno, "cannot open the utility BPF object: %s",
				   strerror(errno));
	err = cgfw_util_bpf__load(skel);
	if (err) {
		cgfw_util_bpf__destroy(skel);
		return cgfw_seterr(cgfw_runtime_err(err), "cannot load the utility programs: %s",
				   strerror(-err));
	}
	*ret = skel;
	return 0;
}

uint64_t cgfw_jiffies_to_realtime(const struct cgfw_state *st, uint64_t j)
{
	uint64_t tick = cgfw_clock_tick_ns(st->hz);
	int64_t d;

	if (!j || !st->anchor_j)
		return 0;
	/* From the fixed anchor: the same stamp gives the same time in every listing. */
	d = (int64_t)(j - st->anchor_j) * (int64_t)tick;
	if (d < 0 && (uint64_t)-d > st->anchor_boot_ns)
		return 0;
	return cgfw_boot_to_realtime((uint64_t)((int64_t)st->anchor_boot_ns + d));
}

/* ---- the seen caches ------------------------------------------------------------------- */

/*
 * Run cgfw_drain on every CPU until no slot is left behind. A CPU that is
 * offline runs no program: its cache is read directly (@offline gets its
 * slots, the caller merges them).
 */
static int drain(struct cgfw_state *st, uint32_t mode, uint64_t cgid, struct cgfw_seen_slot **ret,
		 size_t *ret_n)
{
	struct cgfw_util_bpf *skel = NULL;
	_cleanup_free_ struct cgfw_pc_val *all = NULL;
	struct cgfw_seen_slot *off = NULL;
	int ncpu = libbpf_num_possible_cpus(), err;
	size_t noff = 0;
	__u32 zero = 0;

	if (ncpu <= 0)
		return cgfw_seterr(EIO, "cannot count the CPUs");
	err = open_util(cgfw_state_root_of(st), &skel);
	if (err)
		return err;
	skel->bss->cgfw_drain_mode = mode;
	skel->bss->cgfw_drain_cgid = cgid;
	for (int cpu = 0; cpu < ncpu && !err; cpu++) {
		for (int tries = 0;; tries++) {
			LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU,
				    .cpu = (__u32)cpu);

			skel->bss->cgfw_left = skel->bss->cgfw_busy = 0;
			if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.cgfw_drain), &opts) <
			    0) {
				if (errno == ENXIO) { /* offline */
					if (!all) {
						all = calloc((size_t)ncpu, sizeof(*all));
						if (!all) {
							err = cgfw_seterr(ENOMEM, "out of memory");
							break;
						}
						if (bpf_map_lookup_elem(st->pc_fd, &zero, all) <
						    0) {
							err = cgfw_seterr(errno,
									  "cannot read %s: %s",
									  CGFW_PC_PIN,
									  strerror(errno));
							break;
						}
					}
					for (int i = 0;
					     i < CGFW_SEEN_CACHE && mode == CGFW_DRAIN_MOVE; i++) {
						const struct cgfw_seen_slot *s = &all[cpu].seen[i];
						struct cgfw_seen_slot *m;

						if (!s->key.cgid)
							continue;
						m = realloc(off, (noff + 1) * sizeof(*off));
						if (!m) {
							err = cgfw_seterr(ENOMEM, "out of memory");
							break;
						}
						off = m;
						off[noff++] = *s;
					}
					break;
				}
				err = cgfw_seterr(errno,
						  "cannot drain the seen cache of CPU %d: %s", cpu,
						  strerror(errno));
				break;
			}
			if (!skel->bss->cgfw_left && !skel->bss->cgfw_busy)
				break;
			if (tries == 1000) {
				err = cgfw_seterr(
					EAGAIN, "the seen cache of CPU %d stayed in use; try again",
					cpu);
				break;
			}
			usleep(1000);
		}
	}
	cgfw_util_bpf__destroy(skel);
	if (err) {
		free(off);
		return err;
	}
	if (ret) {
		*ret = off;
		*ret_n = noff;
	} else {
		free(off);
	}
	return 0;
}

int cgfw_seen_drain(struct cgfw_state *st, struct cgfw_seen_slot **ret_offline, size_t *ret_n)
{
	return drain(st, CGFW_DRAIN_MOVE, 0, ret_offline, ret_n);
}

int cgfw_seen_forget_cached(struct cgfw_state *st, uint64_t cgid)
{
	return drain(st, cgid ? CGFW_DRAIN_FORGET : CGFW_DRAIN_FORGET_ALL, cgid, NULL, NULL);
}
