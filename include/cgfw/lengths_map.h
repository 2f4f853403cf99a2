/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cgfw_lens (BPF_MAP_TYPE_ARRAY, 3 entries): the prefix lengths in use.
 *
 * Entry 0 holds the index (1 or 2) of the list the datapath reads; user space
 * writes the other list completely, then flips the index, so a packet sees
 * either the old list or the new one. User space keeps the reference counts
 * that produce the lists in the same entries; the datapath ignores them.
 */
#ifndef CGFW_LENGTHS_MAP_H
#define CGFW_LENGTHS_MAP_H

#include "abi.h"

#define CGFW_LENS_PIN "cgfw_lens"

#define CGFW_LENS_CTL	0
#define CGFW_LENS_SLOTS 3

/*
 * Kinds of rules present at a prefix length: which map, and whether host-wide
 * rules or some cgroup's rules are there, so a packet probes only the keys
 * that can exist (a host-wide blocklist costs one probe per length).
 */
#define CGFW_LEN_PLAIN_HOST 0x1 /* cgfw_rules, scope CGFW_SCOPE_HOST */
#define CGFW_LEN_PORT_HOST  0x2 /* cgfw_prules, scope CGFW_SCOPE_HOST */
#define CGFW_LEN_PLAIN_CG   0x4 /* cgfw_rules, some cgroup's scope */
#define CGFW_LEN_PORT_CG    0x8 /* cgfw_prules, some cgroup's scope */
#define CGFW_LEN_PLAIN	    (CGFW_LEN_PLAIN_HOST | CGFW_LEN_PLAIN_CG)
#define CGFW_LEN_PORT	    (CGFW_LEN_PORT_HOST | CGFW_LEN_PORT_CG)

#define CGFW_LEN4_MAX 33  /* /0 .. /32 */
#define CGFW_LEN6_MAX 129 /* /0 .. /128 */

struct cgfw_len_list {
	__u8 n; /* lengths in use */
	__u8 pad[7];
	__u8 len[136];	/* longest first; only [0, n) valid */
	__u8 kind[136]; /* CGFW_LEN_* for len[i] */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_len_list, 280);

struct cgfw_lens_val {
	__u32 active; /* entry 0 only: 1 or 2 */
	__u32 pad;
	struct cgfw_len_list v4;
	struct cgfw_len_list v6;
	/* reference counts, user space only: [port + 2 * cgroup][prefixlen] */
	__u32 count4[4][CGFW_LEN4_MAX + 3];
	__u32 count6[4][CGFW_LEN6_MAX + 3];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_lens_val, 8 + 2 * 280 + 4 * 4 * 36 + 4 * 4 * 132);

#endif /* CGFW_LENGTHS_MAP_H */
