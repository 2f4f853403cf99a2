/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The TC rule set: the tproxy, redirect and inbound rules of every interface.
 *
 * cgfw_tc_rtab (BPF_MAP_TYPE_ARRAY_OF_MAPS, 1 slot) holds it: an inner
 * BPF_MAP_TYPE_ARRAY (BPF_F_MMAPABLE) of 32-byte elements, compiled by user
 * space. A change writes a complete new rule set into a fresh inner map and
 * makes it live with one update of the slot: a packet sees the old rules or
 * the new ones, and a command killed at any moment leaves one of them.
 * Every inner map has the template's size, so the verifier inlines each
 * element access (a helper call through the map's ops costs ~20 ns with
 * today's mitigations); a rule set that outgrows it gets a new cgfw_tc_rtab
 * with a larger template, and the interfaces' programs are loaded again.
 *
 * Layout (element indices):
 *   0          struct cgfw_tc_hdr
 *   1          struct cgfw_tc_roots: one LPM image (lpm_map.h) per family and
 *              protocol, over the destination prefixes that have rules; the
 *              value of a prefix is its node (1-based)
 *   ...        the images
 *   hdr.nodes  node i (1-based) in the two elements nodes + 2 (i - 1):
 *              struct cgfw_tc_node_a, struct cgfw_tc_node_b
 *   ...        the entries of each node, two elements each (cgfw_tc_entry_a,
 *              cgfw_tc_entry_b), best first
 *   ...        per node, its port intervals (struct cgfw_tc_ival, sorted,
 *              disjoint): for each range of destination ports, the entries
 *              that can decide there, in precedence order: the node's own,
 *              best first, then its parent's, and so on up. So a packet
 *              costs one LPM walk, one binary search and a short scan
 *              whatever the rules, their prefix lengths and their ports.
 *   ...        the candidate lists (element indices of entries), shared by
 *              intervals with the same list
 *   hdr.recs   one struct cgfw_tc_rec per rule, in entry order (user space)
 *
 * Precedence (the datapath takes the matching entry with the highest rank):
 *   1. longest destination prefix (the image's node, then its parents),
 *   2. longest source prefix,
 *   3. a rule bound to the packet's interface beats one for any interface,
 *   4. the narrowest port range,
 *   5. the lowest first port.
 * Within one node no two entries tie on all five, so the choice is unique.
 */
#ifndef CGFW_TC_RULE_MAP_H
#define CGFW_TC_RULE_MAP_H

#include "abi.h"
#include "lpm_map.h"

#define CGFW_TC_RTAB_PIN "cgfw_tc_rtab"

#define CGFW_TC_MAGIC	0x74726763u /* "cgrt" */
#define CGFW_TC_VERSION 1

#define CGFW_TC_ELEM_SIZE 32
/* The first template's size (2 MiB); it grows fourfold when a rule set needs more. */
#define CGFW_TC_MIN_ELEMS (1u << 16)
/* Rules of one rule set, at most. */
#define CGFW_TC_RULES_MAX (1u << 22)
/* The nesting of destination prefixes a packet may walk (IPv6: /0 ... /128). */
#define CGFW_TC_MAX_DEPTH 130

/* Rule kinds. */
#define CGFW_TC_TPROXY	 1
#define CGFW_TC_REDIRECT 2
#define CGFW_TC_INBOUND	 3

struct cgfw_tc_hdr {
	__u32 magic;   /* CGFW_TC_MAGIC */
	__u16 version; /* CGFW_TC_VERSION */
	__u16 pad;
	__u32 elems; /* elements in use */
	__u32 nrules;
	__u32 nodes; /* element of node 1 */
	__u32 nnodes;
	__u32 recs;    /* element of the first record */
	__u32 next_id; /* the id the next new rule gets */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_hdr, 32);

/* Image index: CGFW_TC_ROOT(family, proto). */
#define CGFW_TC_ROOT(fam, proto) \
	(((fam) == CGFW_FAMILY_INET6 ? 2 : 0) + ((proto) == CGFW_PROTO_UDP ? 1 : 0))

struct cgfw_tc_roots {
	__u32 img[4]; /* element of the image; 0: no rules of this family and protocol */
	__u64 gen;    /* change number */
	__u8 rb[4];   /* its root bits */
	__u32 pad;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_roots, 32);

struct cgfw_tc_node_a {
	__u8 addr[16]; /* the destination prefix, network order, host bits clear */
	__u8 len;
	__u8 family;
	__u8 proto;
	__u8 pad;
	__u32 parent; /* the node of the longest prefix that contains this one, 0: none */
	__u32 first;  /* element of its first entry */
	__u32 n;      /* entries */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_node_a, 32);

struct cgfw_tc_node_b {
	__u32 ivals;  /* element of its first port interval */
	__u32 nivals; /* port intervals */
	__u8 pad[24];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_node_b, 32);

/* Destination ports lo..hi of a node and the entries that may decide for them. */
struct cgfw_tc_ival {
	__u16 lo, hi; /* host order, inclusive */
	__u32 cands;  /* element of the first candidate */
	__u32 ncands;
	__u32 pad;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_ival, 16);

#define CGFW_TC_IVALS 2 /* per element */
#define CGFW_TC_CANDS 8 /* candidates (__u32 entry elements) per element */
/* Candidate references of one rule set, at most (what overlapping ranges can cost). */
#define CGFW_TC_CANDS_MAX (1u << 24)

/* What an entry matches and does. */
struct cgfw_tc_entry_a {
	__u32 id;      /* rule id, unique, never 0 */
	__u32 ifindex; /* only packets of this interface; 0: any interface */
	__u16 port_lo; /* destination ports, host byte order, inclusive */
	__u16 port_hi;
	__u16 to_port; /* tproxy listener / redirect port, network byte order */
	__u8 kind;     /* CGFW_TC_TPROXY, _REDIRECT, _INBOUND */
	__u8 src_len;  /* source prefix length; 0: any source */
	__u8 src[16];  /* source prefix, network byte order, host bits cleared */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_entry_a, 32);

struct cgfw_tc_entry_b {
	__u8 to_addr[16]; /* tproxy listener (all zero: the packet's own destination), or
			   * redirect destination */
	__u64 packets;	  /* counters, added to atomically by the datapath and carried */
	__u64 bytes;	  /* into every new rule set by user space */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_entry_b, 32);

/* What user space keeps per rule beside the datapath's part. */
struct cgfw_tc_rec {
	__u32 id;
	__u32 pad;
	__u64 netns; /* the network namespace the rule was added in (its local route's) */
	__u8 pad2[16];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_tc_rec, 32);

union cgfw_tc_elem {
	struct cgfw_lpm_elem lpm;
	struct cgfw_tc_hdr hdr;
	struct cgfw_tc_roots roots;
	struct cgfw_tc_node_a na;
	struct cgfw_tc_node_b nb;
	struct cgfw_tc_entry_a ea;
	struct cgfw_tc_entry_b eb;
	struct cgfw_tc_ival iv[CGFW_TC_IVALS];
	__u32 cand[CGFW_TC_CANDS];
	struct cgfw_tc_rec rec;
};
CGFW_ABI_ASSERT_SIZE(union cgfw_tc_elem, 32);

#endif /* CGFW_TC_RULE_MAP_H */
