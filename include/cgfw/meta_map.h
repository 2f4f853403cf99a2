/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_meta (BPF_MAP_TYPE_ARRAY, 1 entry): the layout version of the pinned
 * state, written once when the state is created.
 * cgfw_stats (BPF_MAP_TYPE_PERCPU_ARRAY): datapath counters by reason.
 */
#ifndef CGFW_META_MAP_H
#define CGFW_META_MAP_H

#include "abi.h"

#define CGFW_META_PIN  "cgfw_meta"
#define CGFW_STATS_PIN "cgfw_stats"

struct cgfw_meta_val {
	__u32 layout_version;
	__u32 pad;
	__u64 created_ns; /* CLOCK_REALTIME */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_meta_val, 16);

/* Why a packet got its verdict: index into cgfw_stats. */
enum cgfw_reason {
	CGFW_R_ALLOW_DEFAULT = 0,
	CGFW_R_ALLOW_RULE,
	CGFW_R_ALLOW_REPLY,
	CGFW_R_DROP_RULE,
	CGFW_R_DROP_DEFAULT,
	CGFW_R_UNPARSED, /* not IPv4/IPv6 or too short: default verdict */
	CGFW_R_COUNT,
};

/* Entries of cgfw_stats: index dir * CGFW_R_COUNT + reason. */
#define CGFW_STATS_MAX (CGFW_DIR_COUNT * CGFW_R_COUNT)

struct cgfw_stat_val {
	__u64 packets;
	__u64 bytes;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_stat_val, 16);

#endif /* CGFW_META_MAP_H */
