/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_rules (BPF_MAP_TYPE_HASH): address rules without protocol or port.
 * cgfw_prules (BPF_MAP_TYPE_HASH): rules scoped to a protocol and port ranges.
 *
 * Both are keyed by (scope, family, prefix length, protocol, masked address).
 * A lookup probes one key per prefix length in use (see lengths_map.h), so
 * its cost does not grow with the number of rules.
 */
#ifndef CGFW_RULE_MAP_H
#define CGFW_RULE_MAP_H

#include "abi.h"

#define CGFW_RULES_PIN	"cgfw_rules"
#define CGFW_PRULES_PIN "cgfw_prules"

/* Capacity of the address-rule map. Buckets are allocated up front, entries on use. */
#define CGFW_RULES_MAX	(1u << 21)
#define CGFW_PRULES_MAX (1u << 16)

struct cgfw_rule_key {
	__u64 scope;	/* cgroup id (host byte order), or CGFW_SCOPE_HOST */
	__u8 family;	/* CGFW_FAMILY_INET or CGFW_FAMILY_INET6 */
	__u8 prefixlen; /* 0..32 or 0..128 */
	__u8 proto;	/* CGFW_PROTO_ANY in cgfw_rules; tcp/udp/icmp in cgfw_prules */
	__u8 pad[5];	/* must be zero */
	__u8 addr[16];	/* network byte order, host bits cleared; IPv4 in addr[0..3] */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_rule_key, 32);

/* Value of cgfw_rules: action bits per direction (CGFW_ACT_*). */
struct cgfw_rule_val {
	__u8 act[CGFW_DIR_COUNT];
	__u8 pad[2];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_rule_val, 4);

/* One port range of a protocol rule. An entry with no action bits is free. */
struct cgfw_port_entry {
	__u16 lo; /* host byte order, inclusive */
	__u16 hi; /* host byte order, inclusive */
	__u8 act[CGFW_DIR_COUNT];
	__u8 pad[2];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_port_entry, 8);

#define CGFW_PORT_ENTRIES 8

/* Value of cgfw_prules: up to CGFW_PORT_ENTRIES ranges for one (scope, prefix, protocol). */
struct cgfw_port_rule_val {
	struct cgfw_port_entry e[CGFW_PORT_ENTRIES];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_port_rule_val, 64);

#endif /* CGFW_RULE_MAP_H */
