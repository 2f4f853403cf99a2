/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_cgroups (BPF_MAP_TYPE_HASH): one entry per attached cgroup, keyed by
 * its cgroup v2 id (__u64, host byte order).
 */
#ifndef CGFW_CGROUP_MAP_H
#define CGFW_CGROUP_MAP_H

#include "abi.h"

#define CGFW_CGROUPS_PIN     "cgfw_cgroups"
#define CGFW_CGROUPS_MAX     65536
#define CGFW_CGROUP_PATH_MAX 480

struct cgfw_cgroup_val {
	__u8 def[CGFW_DIR_COUNT]; /* CGFW_VERDICT_ALLOW or CGFW_VERDICT_DENY */
	__u8 pad[6];
	__u64 attached_ns;		 /* CLOCK_REALTIME of the first attach */
	char path[CGFW_CGROUP_PATH_MAX]; /* relative to the cgroup2 mount, NUL-terminated */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_cgroup_val, 496);

#endif /* CGFW_CGROUP_MAP_H */
