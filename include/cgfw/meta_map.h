/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_meta (BPF_MAP_TYPE_ARRAY, 1 entry): the layout version of the pinned
 * state and the tick rate, written once when the state is created.
 * The datapath's counters by reason are in cgfw_pc (seen_map.h).
 */
#ifndef CGFW_META_MAP_H
#define CGFW_META_MAP_H

#include "abi.h"

#define CGFW_META_PIN "cgfw_meta"

struct cgfw_meta_val {
	__u32 layout_version;
	__u32 hz;	  /* the tick rate of the datapath's jiffies, measured at creation */
	__u64 created_ns; /* CLOCK_REALTIME */
	/* A jiffies count and CLOCK_BOOTTIME read together: the fixed point that
	 * turns the datapath's jiffies stamps into times, the same every time. */
	__u64 anchor_j;
	__u64 anchor_boot_ns;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_meta_val, 32);

/* Why a packet got its verdict: index into the counters. */
enum cgfw_reason {
	CGFW_R_ALLOW_DEFAULT = 0,
	CGFW_R_ALLOW_RULE,
	CGFW_R_ALLOW_REPLY,
	CGFW_R_DROP_RULE,
	CGFW_R_DROP_DEFAULT,
	CGFW_R_UNPARSED,      /* not IPv4/IPv6 or too short: default verdict */
	CGFW_R_AUDIT_RULE,    /* audit mode: a deny rule would have dropped it; passed */
	CGFW_R_AUDIT_DEFAULT, /* audit mode: the default would have dropped it; passed */
	CGFW_R_COUNT,
};

struct cgfw_stat_val {
	__u64 packets;
	__u64 bytes;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_stat_val, 16);

/* Counters by verdict: index dir * CGFW_R_COUNT + reason. */
#define CGFW_STATS_MAX (CGFW_DIR_COUNT * CGFW_R_COUNT)

/*
 * cgfw_cgstats (BPF_MAP_TYPE_PERCPU_ARRAY): the same counters per attached
 * cgroup, indexed by its scope slot, for the first CGFW_CGSTATS_SLOTS slots
 * (every cgroup is in the totals of cgfw_pc). Zeroed when a slot is given
 * to a cgroup.
 */
#define CGFW_CGSTATS_PIN   "cgfw_cgstats"
#define CGFW_CGSTATS_SLOTS 4096

struct cgfw_cgstat_val {
	struct cgfw_stat_val s[CGFW_STATS_MAX];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_cgstat_val, 16 * CGFW_STATS_MAX);

#endif /* CGFW_META_MAP_H */
