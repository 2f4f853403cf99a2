// SPDX-License-Identifier: GPL-2.0-only
/*
 * The datapath's clock (bpf/common/cgfw_clock.bpf.c, run with
 * BPF_PROG_RUN): both datapaths stamp and pace in jiffies, so user space
 * reads the current jiffies beside CLOCK_BOOTTIME and, once at creation of a
 * state, measures the tick rate.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cgfw/pin.h>

#include "cgfw_clock.skel.h"

static int open_clock(struct cgfw_clock_bpf **ret)
{
	struct cgfw_clock_bpf *skel = cgfw_clock_bpf__open();
	int err;

	if (!skel)
		return cgfw_seterr(errno, "cannot open the clock BPF object: %s", strerror(errno));
	err = cgfw_clock_bpf__load(skel);
	if (err) {
		cgfw_clock_bpf__destroy(skel);
		return cgfw_seterr(cgfw_runtime_err(err), "cannot load the clock program: %s",
				   strerror(-err));
	}
	*ret = skel;
	return 0;
}

static int run(struct cgfw_clock_bpf *skel, uint64_t *j, uint64_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.cgfw_clock), &opts) < 0)
		return cgfw_seterr(errno, "cannot read the datapath's clock: %s", strerror(errno));
	*j = skel->bss->cgfw_jiffies;
	*ns = skel->bss->cgfw_boot_ns;
	return 0;
}

int cgfw_clock_now(uint64_t *ret_jiffies, uint64_t *ret_boot_ns)
{
	struct cgfw_clock_bpf *skel;
	int err = open_clock(&skel);

	if (err)
		return err;
	err = run(skel, ret_jiffies, ret_boot_ns);
	cgfw_clock_bpf__destroy(skel);
	return err;
}

int cgfw_clock_hz(uint32_t *ret_hz)
{
	/* The rates a kernel is configured with; the measurement picks the nearest. */
	static const uint32_t rates[] = { 100, 250, 300, 1000 };
	struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 };
	struct cgfw_clock_bpf *skel;
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
	cgfw_clock_bpf__destroy(skel);
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
