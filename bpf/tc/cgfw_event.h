/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Decision events for `cgfw monitor`, shared by the TC and the cgroup
 * programs: the pinned ring buffer and a per-CPU token bucket in front of it.
 * When the bucket is empty or the ring is full the event is counted as lost
 * and the packet goes on: events are dropped, never packets.
 */
#ifndef CGFW_BPF_EVENT_H
#define CGFW_BPF_EVENT_H

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

extern unsigned long CONFIG_HZ __kconfig __weak;

static __always_inline __u64 cgfw_hz(void)
{
	return CONFIG_HZ ? CONFIG_HZ : 250;
}

/*
 * A clock with jiffy resolution, in microjiffies (1e6 per jiffy): no
 * division. bpf_ktime_get_ns() costs ~40 ns a call on some machines (a VM
 * clock source); jiffies are a load.
 */
static __always_inline __u64 cgfw_coarse_ujiffies(void)
{
	return bpf_jiffies64() * 1000000ull;
}

/* Durations in the same unit: @ms milliseconds are ms * HZ microjiffies. */
#define CGFW_UJIFFIES_MS(ms) ((__u64)(ms) * cgfw_hz() * 1000ull)

/*
 * A zeroed event with its timestamp, or NULL when over the rate or the ring
 * is full. The bucket (1000 events/s per CPU, bursts of 256) runs on the
 * coarse clock, so a flood that is refused costs an array lookup and a load.
 */
static __always_inline struct cgfw_event *cgfw_event_reserve(void)
{
	__u32 zero = 0;
	struct cgfw_evrate_val *r = bpf_map_lookup_elem(&cgfw_evrate, &zero);
	struct cgfw_event *e;
	__u64 now, tat, interval;

	if (!r)
		return NULL;
	now = cgfw_coarse_ujiffies();
	interval = CGFW_UJIFFIES_MS(1) * (CGFW_EVENT_INTERVAL_NS / 1000000ull);
	tat = r->tat > now ? r->tat : now;
	if (tat - now > interval * (CGFW_EVENT_BURST_NS / CGFW_EVENT_INTERVAL_NS)) {
		r->lost++;
		return NULL;
	}
	e = bpf_ringbuf_reserve(&cgfw_events, sizeof(*e), 0);
	if (!e) {
		r->lost++;
		return NULL;
	}
	r->tat = tat + interval;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	return e;
}

#endif /* CGFW_BPF_EVENT_H */
