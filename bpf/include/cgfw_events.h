/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Decision events for `cgfw monitor`, shared by the TC and the cgroup
 * programs: the pinned ring buffer and a per-CPU token bucket in front of it.
 * When the bucket is empty or the ring is full the event is counted as lost
 * and the packet goes on: events are dropped, never packets.
 */
#ifndef CGFW_BPF_EVENTS_H
#define CGFW_BPF_EVENTS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <cgfw/event_map.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CGFW_EVENTS_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgfw_evrate_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_evrate SEC(".maps");

/*
 * A clock that reads no clock source: CLOCK_MONOTONIC at tick resolution
 * (bpf_ktime_get_ns() costs ~40 ns a call on some machines, a VM clock
 * source; this is a load). No CONFIG_HZ, so the programs load on kernels
 * whose config is not in /boot or /proc (containers, minimal images).
 */
static __always_inline __u64 cgfw_coarse_ns(void)
{
	return bpf_ktime_get_coarse_ns();
}

/*
 * The clock of the event bucket: jiffies times the tick, which the program
 * defines (its loader measured the rate; bpf_jiffies64() is inlined to a
 * load, where the coarse clock is a helper call, ~30 ns with this machine's
 * mitigations). The TC and the cgroup programs share the per-CPU bucket, so
 * both must pace it on this one clock: a bucket stamped on another would
 * refuse the other's events (jiffies start far from CLOCK_MONOTONIC).
 */
#ifndef CGFW_EVENT_NOW_NS
#error "define CGFW_EVENT_NOW_NS() (jiffies times the tick) before cgfw_events.h"
#endif

/*
 * Is there room in the bucket? Inline, so a refused flood costs no call: the
 * event is counted as lost here. (cgfw_event_reserve checks again.)
 */
static __always_inline int cgfw_event_room(void)
{
	__u32 zero = 0;
	struct cgfw_evrate_val *r = bpf_map_lookup_elem(&cgfw_evrate, &zero);
	__u64 now;

	if (!r)
		return 0;
	now = CGFW_EVENT_NOW_NS();
	if (r->tat > now && r->tat - now > CGFW_EVENT_BURST_NS) {
		r->lost++;
		return 0;
	}
	return 1;
}

/*
 * A zeroed event with its timestamp, or NULL when over the rate or the ring
 * is full. The bucket (1000 events/s per CPU, bursts of 256) runs on
 * jiffies (CGFW_EVENT_NOW_NS), so a flood that is refused
 * costs an array lookup and a load.
 */
static __always_inline struct cgfw_event *cgfw_event_reserve(void)
{
	__u32 zero = 0;
	struct cgfw_evrate_val *r = bpf_map_lookup_elem(&cgfw_evrate, &zero);
	struct cgfw_event *e;
	__u64 now, tat, interval;

	if (!r)
		return NULL;
	now = CGFW_EVENT_NOW_NS();
	interval = CGFW_EVENT_INTERVAL_NS;
	tat = r->tat > now ? r->tat : now;
	if (tat - now > CGFW_EVENT_BURST_NS) {
		r->lost++;
		return NULL;
	}
	/* The token is spent even when the ring is full: with nobody reading
	 * it (no `cgfw monitor`), a flood pays the bucket, not a reserve (a
	 * locked helper call) per packet. */
	r->tat = tat + interval;
	e = bpf_ringbuf_reserve(&cgfw_events, sizeof(*e), 0);
	if (!e) {
		r->lost++;
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	return e;
}

#endif /* CGFW_BPF_EVENTS_H */
