/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The TC rule table: tproxy, redirect and inbound rules of every interface.
 *
 * cgfw_tc_rtab (BPF_MAP_TYPE_ARRAY_OF_MAPS, 1 slot) holds the table proper, a
 * BPF_MAP_TYPE_HASH (BPF_F_NO_PREALLOC) of cgfw_tc_key -> cgfw_tc_val. When the
 * table fills up, user space copies it into a bigger one and swaps the slot, so
 * the number of rules is bounded by memory, not by a constant.
 *
 * One HEAD key per (family, destination prefix, protocol). Its value holds the
 * first CGFW_TC_INLINE entries of that prefix in precedence order. When there
 * are more, single-port entries move to PORT sub-keys (one per port, looked up
 * with the packet's destination port) and the remaining entries continue, in
 * order, in CHUNK sub-keys 1..nchunks. PORTLIST sub-keys list the ports that
 * have a PORT sub-key (user space only). Sub-keys carry the generation of the
 * head that owns them: user space writes a new layout under a new generation,
 * then swaps the head in one update, so a packet sees the old layout or the
 * new one, never a mix.
 *
 * Precedence (the datapath picks the matching entry with the highest rank):
 *   1. longest destination prefix (probed longest first, see cgfw_tc_lens),
 *   2. longest source prefix,
 *   3. a rule bound to the packet's interface beats one for any interface,
 *   4. the narrowest port range,
 *   5. the lowest first port.
 * Within one key no two entries tie on all five, so the choice is unique.
 *
 * cgfw_tc_lens (BPF_MAP_TYPE_ARRAY, 3 slots): the destination prefix lengths
 * that have HEAD keys, double-buffered as in lengths_map.h.
 */
#ifndef CGFW_TC_RULE_MAP_H
#define CGFW_TC_RULE_MAP_H

#include "abi.h"
#include "lengths_map.h"

#define CGFW_TC_RTAB_PIN "cgfw_tc_rtab"
#define CGFW_TC_LENS_PIN "cgfw_tc_lens"

/* Smallest table; it doubles (at least) whenever it must grow. */
#define CGFW_TC_TABLE_MIN 4096

/* Rule kinds. */
#define CGFW_TC_TPROXY	 1
#define CGFW_TC_REDIRECT 2
#define CGFW_TC_INBOUND	 3

/* Key types. */
#define CGFW_TC_KEY_HEAD     0
#define CGFW_TC_KEY_CHUNK    1
#define CGFW_TC_KEY_PORT     2
#define CGFW_TC_KEY_PORTLIST 3

struct cgfw_tc_key {
	__u8 family;	/* CGFW_FAMILY_INET or CGFW_FAMILY_INET6 */
	__u8 prefixlen; /* destination prefix length */
	__u8 proto;	/* CGFW_PROTO_TCP or CGFW_PROTO_UDP */
	__u8 type;	/* CGFW_TC_KEY_* */
	__u16 gen;	/* 0 for a head; the owning head's generation otherwise */
	__u16 sub;	/* chunk or portlist index (1..), or port (host order); 0 for a head */
	__u8 addr[16];	/* destination prefix, network byte order, host bits cleared */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_key, 24);

struct cgfw_tc_entry {
	__u32 id;      /* rule id, unique, never 0 */
	__u32 ifindex; /* only packets of this interface; 0: any interface */
	__u16 port_lo; /* destination ports, host byte order, inclusive */
	__u16 port_hi;
	__u16 to_port;	  /* tproxy listener / redirect port, network byte order */
	__u8 kind;	  /* CGFW_TC_TPROXY, _REDIRECT, _INBOUND */
	__u8 src_len;	  /* source prefix length; 0: any source */
	__u8 src[16];	  /* source prefix, network byte order, host bits cleared */
	__u8 to_addr[16]; /* tproxy listener address (all zero: the packet's own
			   * destination) or redirect destination */
	__u64 packets;	  /* counters, added to atomically by the datapath */
	__u64 bytes;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_entry, 64);

#define CGFW_TC_INLINE	   4
#define CGFW_TC_PORTLIST_N (CGFW_TC_INLINE * sizeof(struct cgfw_tc_entry) / 2)

/* Head flags. */
#define CGFW_TC_F_PORTIDX 0x1 /* PORT sub-keys exist */

struct cgfw_tc_val {
	__u16 n;	   /* valid entries in e[] (ports[] in a PORTLIST) */
	__u16 gen;	   /* head: generation of its sub-keys */
	__u16 nchunks;	   /* head: CHUNK sub-keys 1..nchunks */
	__u8 flags;	   /* head: CGFW_TC_F_* */
	__u8 nportlists;   /* head: PORTLIST sub-keys 1..nportlists */
	__u64 portmask[4]; /* head: bit (port % 256) set for every PORT sub-key, so most
			    * ports without one cost no lookup */
	union {
		struct cgfw_tc_entry e[CGFW_TC_INLINE];
		__u16 ports[CGFW_TC_PORTLIST_N];
	};
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_val, 40 + CGFW_TC_INLINE * 64);

struct cgfw_tc_lens_val {
	__u32 active; /* entry 0 only: 1 or 2 */
	__u32 pad;
	struct cgfw_len_list v4;
	struct cgfw_len_list v6;
	__u32 count4[CGFW_LEN4_MAX + 3]; /* heads per prefix length, user space only */
	__u32 count6[CGFW_LEN6_MAX + 3];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_lens_val, 8 + 2 * 280 + 4 * 36 + 4 * 132);

#endif /* CGFW_TC_RULE_MAP_H */
