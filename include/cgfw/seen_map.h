/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The remote addresses each attached workload exchanged packets with, per
 * (cgroup, remote address, direction): packets, bytes, drops, first and last
 * seen, exact.
 *
 * cgfw_pc (BPF_MAP_TYPE_PERCPU_ARRAY, 2 entries): per CPU, the datapath's
 * counters by reason and a small direct-mapped cache of seen entries, so a
 * packet of a known peer costs no hash lookup. Entry 0 is used by one
 * program at a time on a CPU (its @busy flag); a program that interrupts
 * another on the same CPU counts through entry 1 and the hash instead.
 * cgfw_seen (BPF_MAP_TYPE_LRU_HASH): the entries the caches replaced (and
 * those counted while a cache was busy); LRU, so a scan cannot exhaust it.
 * `cgfw seen` first drains the caches into the hash (a program run on each
 * CPU, bpf/cgroup/cgfw_util.bpf.c) and then reads the hash alone.
 *
 * Timestamps are jiffies (bpf_jiffies64, a load); cgfw_meta has the tick
 * rate user space measured, and a probe program reads the current jiffies.
 */
#ifndef CGFW_SEEN_MAP_H
#define CGFW_SEEN_MAP_H

#include "abi.h"
#include "meta_map.h"

#define CGFW_SEEN_PIN "cgfw_seen"
#define CGFW_SEEN_MAX 65536
#define CGFW_PC_PIN   "cgfw_pc"

struct cgfw_seen_key {
	__u64 cgid;
	__u8 family;
	__u8 dir; /* CGFW_DIR_* */
	__u8 pad[6];
	__u8 addr[16]; /* remote address, network byte order */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_seen_key, 32);

struct cgfw_seen_val {
	__u64 packets; /* all packets, allowed and dropped */
	__u64 bytes;
	__u64 dropped;
	__u64 first_j; /* jiffies */
	__u64 last_j;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_seen_val, 40);

/* Slots of each CPU's seen cache; a power of two. */
#define CGFW_SEEN_CACHE 128

struct cgfw_seen_slot {
	struct cgfw_seen_key key; /* key.cgid 0: a free slot */
	struct cgfw_seen_val val;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_seen_slot, 72);

struct cgfw_pc_val {
	__u32 busy; /* a program is using this entry (entry 0 only) */
	__u32 seq;  /* bumped before and after every cache change (odd: changing) */
	struct cgfw_stat_val stats[CGFW_STATS_MAX];
	struct cgfw_seen_slot seen[CGFW_SEEN_CACHE]; /* entry 0 only */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_pc_val, 8 + 16 * CGFW_STATS_MAX + 72 * CGFW_SEEN_CACHE);

/* What cgfw_drain (bpf/cgroup/cgfw_util.bpf.c) does with a CPU's cache. */
#define CGFW_DRAIN_MOVE	      0 /* every slot into cgfw_seen */
#define CGFW_DRAIN_FORGET     1 /* drop the slots of one cgroup */
#define CGFW_DRAIN_FORGET_ALL 2 /* drop every slot */

#endif /* CGFW_SEEN_MAP_H */
