/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_seen (BPF_MAP_TYPE_LRU_HASH): the remote addresses each attached
 * workload exchanged packets with. LRU, so a scan cannot exhaust it.
 */
#ifndef CGFW_SEEN_MAP_H
#define CGFW_SEEN_MAP_H

#include "abi.h"

#define CGFW_SEEN_PIN "cgfw_seen"
#define CGFW_SEEN_MAX 65536

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
	__u64 first_ns; /* CLOCK_BOOTTIME */
	__u64 last_ns;	/* CLOCK_BOOTTIME */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_seen_val, 40);

#endif /* CGFW_SEEN_MAP_H */
