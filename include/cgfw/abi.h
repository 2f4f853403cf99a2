/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Definitions shared by every cgfw map ABI header. Included unchanged by the
 * BPF programs (clang -target bpf) and by user space. Fixed-width types only,
 * padding spelled out, sizes checked.
 */
#ifndef CGFW_ABI_H
#define CGFW_ABI_H

#include <linux/types.h>

#define CGFW_ABI_ASSERT_SIZE(type, size)       \
	_Static_assert(sizeof(type) == (size), \
		       #type " changed size: this breaks the pinned map ABI")

/* Bumped whenever any pinned map's key or value layout changes. */
#define CGFW_LAYOUT_VERSION 4

/* Address families as stored in map keys (not AF_* values, which differ by OS). */
#define CGFW_FAMILY_INET  4
#define CGFW_FAMILY_INET6 6

/* Direction, as seen from the workload. Used as an index. */
#define CGFW_DIR_INGRESS 0
#define CGFW_DIR_EGRESS	 1
#define CGFW_DIR_COUNT	 2

#define CGFW_DIR_BIT(dir) (1u << (dir))
#define CGFW_DIR_BOTH	  (CGFW_DIR_BIT(CGFW_DIR_INGRESS) | CGFW_DIR_BIT(CGFW_DIR_EGRESS))

/* Rule scope 0 means "every attached cgroup"; otherwise it is a cgroup v2 id. */
#define CGFW_SCOPE_HOST 0

/* Verdicts. */
#define CGFW_VERDICT_NONE  0 /* no rule decided */
#define CGFW_VERDICT_ALLOW 1
#define CGFW_VERDICT_DENY  2

/*
 * Rule action bits. A rule value holds one byte of bits per direction. Each
 * origin (rules typed by hand, rules owned by an applied policy) has its own
 * pair of bits so the two never overwrite each other; the datapath treats
 * them alike.
 */
#define CGFW_ORIGIN_MANUAL 0
#define CGFW_ORIGIN_POLICY 1
#define CGFW_ORIGIN_COUNT  2

#define CGFW_ACT_ALLOW_BIT(origin) ((__u8)(1u << (2 * (origin))))
#define CGFW_ACT_DENY_BIT(origin)  ((__u8)(2u << (2 * (origin))))
#define CGFW_ACT_ALLOW_ANY	   ((__u8)0x55)
#define CGFW_ACT_DENY_ANY	   ((__u8)0xaa)

/* IP protocol numbers used in keys. */
#define CGFW_PROTO_ANY	  0
#define CGFW_PROTO_ICMP	  1
#define CGFW_PROTO_TCP	  6
#define CGFW_PROTO_UDP	  17
#define CGFW_PROTO_ICMPV6 58

#endif /* CGFW_ABI_H */
