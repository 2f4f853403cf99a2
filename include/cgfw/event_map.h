/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_events (BPF_MAP_TYPE_RINGBUF): decision events of the TC and the
 * cgroup programs, read by `cgfw monitor`.
 * cgfw_evrate (BPF_MAP_TYPE_PERCPU_ARRAY, 1 entry): a token bucket per CPU
 * (kept as a theoretical arrival time, GCRA) that bounds the event rate, and the
 * number of events not sent because of it or of a full ring. Under a flood
 * the programs drop events, never packets.
 */
#ifndef CGFW_EVENT_MAP_H
#define CGFW_EVENT_MAP_H

#include "abi.h"

#define CGFW_EVENTS_PIN "cgfw_events"
#define CGFW_EVRATE_PIN "cgfw_evrate"

#define CGFW_EVENTS_SIZE       (256 * 1024)
#define CGFW_EVENT_INTERVAL_NS 1000000ull		      /* 1000 events/s per CPU */
#define CGFW_EVENT_BURST_NS    (256 * CGFW_EVENT_INTERVAL_NS) /* bursts of 256 */

/* Where an event comes from. */
#define CGFW_EV_TC_INGRESS     1
#define CGFW_EV_TC_EGRESS      2
#define CGFW_EV_CGROUP_INGRESS 3
#define CGFW_EV_CGROUP_EGRESS  4

/* What happened. */
#define CGFW_EV_DROP	  1
#define CGFW_EV_INTERCEPT 2
#define CGFW_EV_REDIRECT  3
#define CGFW_EV_AUDIT	  4 /* audit mode: would have been dropped, passed */

struct cgfw_event {
	__u64 ts_ns;   /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 cgid;    /* cgroup events: the enforcing cgroup's id */
	__u32 ifindex; /* tc events: the interface */
	__u32 rule_id; /* tc events: the rule that decided, 0 if none */
	__u32 len;     /* packet length */
	__u8 source;   /* CGFW_EV_TC_* / CGFW_EV_CGROUP_* */
	__u8 action;   /* CGFW_EV_DROP ... */
	__u8 reason;   /* tc: enum cgfw_tc_reason; cgroup: enum cgfw_reason */
	__u8 family;   /* 0 if not IP */
	__u8 proto;
	__u8 pad;
	__u16 sport;   /* network byte order */
	__u16 dport;   /* network byte order */
	__u16 to_port; /* network byte order: listener or new destination port */
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 to_addr[16]; /* listener or new destination address */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_event, 88);

struct cgfw_evrate_val {
	__u64 tat;  /* theoretical arrival time of the next event (CLOCK_MONOTONIC at
			 * tick resolution: a clock without a clock-source read) */
	__u64 lost; /* events not sent: over the rate or ring full */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_evrate_val, 16);

#endif /* CGFW_EVENT_MAP_H */
