// SPDX-License-Identifier: GPL-2.0-only
/*
 * The programs of bpf/cgroup/cgfw_util.bpf.c, run with BPF_PROG_RUN.
 *
 * The datapath's clock: the programs stamp seen entries with jiffies
 * (bpf_jiffies64() is a load; reading a clock source costs a helper call on
 * every packet), so user space needs the current jiffies and the tick rate,
 * without the kernel's config: one program reads jiffies and CLOCK_BOOTTIME
 * together.
 *
 * The seen caches: one program, run on each CPU in turn, empties that CPU's
 * cache into the hash (or forgets entries), so listings read one map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "cgfw_util.skel.h"

static int run(struct cgfw_util_bpf *skel, uint64_t *j, uint64_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.cgfw_clock), &opts) < 0)
		return cgfw_seterr(errno, "cannot read the datapath's clock: %s", strerror(errno));
	*j = skel->bss->cgfw_jiffies;
	*ns = skel->bss->cgfw_boot_ns;
	return 0;
}

/* Load the utility programs, on the maps pinned under @root (NULL: maps of their own). */
static int open_util(const char *root, struct cgfw_util_bpf **ret)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = root);
	struct cgfw_util_bpf *skel;
	int err;

	skel = cgfw_util_bpf__open_opts(&opts);
	if (!skel)
		return cgfw_seterr(errno, "cannot open the utility BPF object: %s",
				   strerror(errno));
	if (!root) {
		/* The clock alone: no maps to share, none to pin. */
		bpf_map__set_autocreate(skel->maps.cgfw_seen, false);
		bpf_map__set_autocreate(skel->maps.cgfw_pc, false);
		bpf_program__set_autoload(skel->progs.cgfw_drain, false);
	}
	err = cgfw_util_bpf__load(skel);
	if (err) {
		cgfw_util_bpf__destroy(skel);
		return cgfw_seterr(cgfw_runtime_err(err), "cannot load the utility programs: %s",
				   strerror(-err));
	}
	*ret = skel;
	return 0;
}

static int open_clock(struct cgfw_util_bpf **ret)
{
	return open_util(NULL, ret);
}

int cgfw_clock_now(uint64_t *ret_jiffies, uint64_t *ret_boot_ns)
{
	struct cgfw_util_bpf *skel;
	int err = open_clock(&skel);

	if (err)
		return err;
	err = run(skel, ret_jiffies, ret_boot_ns);
	cgfw_util_bpf__destroy(skel);
	return err;
}

int cgfw_clock_hz(uint32_t *ret_hz)
{
	/* The rates a kernel is configured with; the measurement picks the nearest. */
	static const uint32_t rates[] = { 100, 250, 300, 1000 };
	struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 };
	struct cgfw_util_bpf *skel;
	uint64_t j0, n0, j1, n1;
	double hz, best = 1e18;
	uint32_t pick = rates[0];
	int err;

	err = open_clock(&skel);
	if (err)
		return err;
	err = run(skel, &j0, &n0);
	if (!err) {
		nanosleep(&pause, NULL);
		err = run(skel, &j1, &n1);
	}
	cgfw_util_bpf__destroy(skel);
	if (err)
		return err;
	if (n1 <= n0 || j1 <= j0)
		return cgfw_seterr(EIO, "the kernel's clock did not advance");
	hz = (double)(j1 - j0) * 1e9 / (double)(n1 - n0);
	for (size_t i = 0; i < CGFW_ARRAY_SIZE(rates); i++) {
		double d = hz > rates[i] ? hz - rates[i] : rates[i] - hz;

		if (d < best) {
			best = d;
			pick = rates[i];
		}
	}
	*ret_hz = pick;
	return 0;
}

uint64_t cgfw_jiffies_to_realtime(const struct cgfw_state *st, uint64_t j)
{
	uint64_t tick = 1000000000ull / (st->hz ? st->hz : 250);
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
	struct cgfw_util_bpf *skel;
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
