/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_tc_ifaces (BPF_MAP_TYPE_HASH, user space only): the interfaces cgfw is
 * attached to, keyed by network namespace and ifindex, with what detach needs
 * to leave the interface as it was found.
 *
 * cgfw_tc_ifaddr (BPF_MAP_TYPE_HASH): the addresses of each attached
 * interface, for the stateful ssh exception. Keyed by the attachment id baked
 * into that interface's program, so interfaces of different network
 * namespaces never mix. Kept in sync by user space (attach, `cgfw tc sync`).
 */
#ifndef CGFW_TC_IFACE_MAP_H
#define CGFW_TC_IFACE_MAP_H

#include "abi.h"

#define CGFW_TC_IFACES_PIN "cgfw_tc_ifaces"
#define CGFW_TC_IFADDR_PIN "cgfw_tc_ifaddr"
#define CGFW_TC_IFACES_MAX 1024
#define CGFW_TC_IFADDR_MAX 16384

/* Attachment flags, also baked into the program as cgfw_flags. */
#define CGFW_TC_STATEFUL 0x1
#define CGFW_TC_ICMP	 0x2 /* stateful: admit ICMP echo requests */
#define CGFW_TC_NO_SSH	 0x4 /* stateful: no ssh exception */

/* How the programs are attached. */
#define CGFW_TC_MODE_TCX    1
#define CGFW_TC_MODE_CLSACT 2

struct cgfw_tc_iface_key {
	__u64 netns; /* inode of the network namespace */
	__u32 ifindex;
	__u32 pad;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_iface_key, 16);

struct cgfw_tc_iface_val {
	char name[16];	    /* IFNAMSIZ */
	__u32 attach_id;    /* unique per attachment, baked into the programs */
	__u32 flags;	    /* CGFW_TC_STATEFUL ... */
	__u8 mode;	    /* CGFW_TC_MODE_* */
	__u8 qdisc_created; /* clsact: cgfw added the clsact qdisc */
	__u8 l2_len;	    /* bytes before the IP header (14 on Ethernet, 0 on L3 devices) */
	__u8 pad;
	__u16 prio[2];	  /* clsact: filter priority, ingress and egress */
	__u32 handle;	  /* clsact: filter handle */
	__u32 prog_id[2]; /* ingress and egress program ids */
	__u32 pad2;
	__u64 attached_ns; /* CLOCK_REALTIME */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_iface_val, 56);

struct cgfw_tc_ifaddr_key {
	__u32 attach_id;
	__u8 family;
	__u8 pad[3];
	__u8 addr[16]; /* network byte order */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_ifaddr_key, 24);

#endif /* CGFW_TC_IFACE_MAP_H */
