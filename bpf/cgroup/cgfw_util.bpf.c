// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program user space runs with BPF_PROG_RUN, never attached (the clock
 * both datapaths share is bpf/common/cgfw_clock.bpf.c):
 *
 * cgfw_drain empties one CPU's seen cache (seen_map.h) into the hash, run
 * on that CPU (BPF_F_TEST_RUN_ON_CPU), so `cgfw seen` reads one map and
 * loses nothing: a slot moves only when the hash took it, and a cache in
 * use by an interrupted program is left for the next try (@cgfw_busy).
 * cgfw_drain_mode says whether it moves the slots or forgets them (those of
 * cgfw_drain_cgid, or all).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "cgfw_seen.h"

char LICENSE[] SEC("license") = "GPL";

/* In: what to do and for which cgroup. Out: slots left, caches found in use. */
__u32 cgfw_drain_mode = 0; /* CGFW_DRAIN_* */
__u64 cgfw_drain_cgid = 0;
__u32 cgfw_left = 0;
__u32 cgfw_busy = 0;

SEC("raw_tp")
int cgfw_drain(void *ctx)
{
	__u32 zero = 0, left = 0;
	struct cgfw_pc_val *pc = bpf_map_lookup_elem(&cgfw_pc, &zero);

	if (!pc)
		return 0;
	if (pc->busy) {
		__sync_fetch_and_add(&cgfw_busy, 1);
		return 0;
	}
	pc->busy = 1;
	pc->seq++;
	cgfw_barrier();
	for (__u32 i = 0; i < CGFW_SEEN_CACHE; i++) {
		struct cgfw_seen_slot *s = &pc->seen[i];

		if (!s->key.cgid)
			continue;
		if (cgfw_drain_mode == CGFW_DRAIN_MOVE) {
			if (seen_add(&s->key, &s->val)) {
				left++;
				continue;
			}
		} else if (cgfw_drain_mode == CGFW_DRAIN_FORGET && s->key.cgid != cgfw_drain_cgid) {
			continue;
		}
		__builtin_memset(s, 0, sizeof(*s));
	}
	cgfw_barrier();
	pc->seq++;
	pc->busy = 0;
	__sync_fetch_and_add(&cgfw_left, left);
	return 0;
}
