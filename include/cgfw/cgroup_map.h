/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_cgroups (BPF_MAP_TYPE_HASH, user space only): the registry of
 * attached cgroups, keyed by cgroup v2 id (__u64, host byte order): the
 * scope slot each one's rules and defaults have in the rule set
 * (ruleset_map.h), baked into its programs, and what listings show.
 */
#ifndef CGFW_CGROUP_MAP_H
#define CGFW_CGROUP_MAP_H

#include "abi.h"

#define CGFW_CGROUPS_PIN     "cgfw_cgroups"
#define CGFW_CGROUPS_MAX     65535 /* slots 1..65535 */
#define CGFW_CGROUP_PATH_MAX 480

struct cgfw_cgroup_val {
	__u16 slot; /* scope slot in the rule set, 1.. */
	__u8 pad[6];
	__u64 attached_ns;		 /* CLOCK_REALTIME of the first attach */
	char path[CGFW_CGROUP_PATH_MAX]; /* relative to the cgroup2 mount, NUL-terminated */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_cgroup_val, 496);

#endif /* CGFW_CGROUP_MAP_H */
