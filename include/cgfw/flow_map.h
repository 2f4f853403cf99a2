/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_flows (BPF_MAP_TYPE_LRU_HASH): flows an allow rule admitted, so that
 * their packets in the other direction (the replies) are admitted as well
 * under a default-deny policy. cgroup_skb is stateless; this is its memory.
 */
#ifndef CGFW_FLOW_MAP_H
#define CGFW_FLOW_MAP_H

#include "abi.h"

#define CGFW_FLOWS_PIN "cgfw_flows"
#define CGFW_FLOWS_MAX 262144

struct cgfw_flow_key {
	__u64 cgid;
	__u8 family;
	__u8 proto;
	__u16 lport; /* network byte order */
	__u16 rport; /* network byte order */
	__u8 pad[2];
	__u8 laddr[16];
	__u8 raddr[16];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_flow_key, 48);

struct cgfw_flow_val {
	__u32 allowed; /* CGFW_DIR_BIT()s an allow rule admitted */
	__u32 pad;
	__u64 last_ns;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_flow_val, 16);

#endif /* CGFW_FLOW_MAP_H */
