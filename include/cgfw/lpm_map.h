/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The longest-prefix-match image (lib/lpm compiles it, bpf/include/cgfw_lpm.h
 * walks it): a set of (prefix, value) for IPv4 and IPv6 as one flat array of
 * 32-byte elements, meant to be copied as is into a BPF_MAP_TYPE_ARRAY (key
 * __u32 element index, value struct cgfw_lpm_elem, max_entries at least the
 * image's element count): through the mmap of a BPF_F_MMAPABLE array, or
 * with bpf_map_update_batch on keys 0..n-1. docs/LPM.md explains the design
 * and the numbers behind it.
 *
 * Structure: a leaf-pushed multibit trie. A direct-indexed root per family
 * covers the first CGFW_LPM_ROOT_BITS bits; below it, records of three kinds:
 *   - STRIDE: a Poptrie node (Asai & Ohara, SIGCOMM 2015) reading the next
 *     CGFW_LPM_STRIDE bits: a 64-bit map of the slots that continue in a child
 *     record and a 64-bit map of where runs of equal leaf values start, so the
 *     children and the leaves are found by counting bits and stored densely;
 *   - TAIL: one prefix below this point (path compression: a random long
 *     prefix costs one record whatever its length);
 *   - SKIP: all prefixes below share the next bits; check them, then go on.
 * Leaf pushing means a lookup never backtracks: every record knows the value
 * an address gets when it leaves the record's region.
 *
 * Byte order: every field is in host byte order (the image is built and read
 * on the same machine). Addresses and keys are left aligned: an address is a
 * 128-bit number (hi, lo) whose bit 127 is the first bit on the wire; an IPv4
 * address a.b.c.d is hi = (a.b.c.d as a host u32) << 32, lo = 0.
 *
 * Indices: every element index stored in the image is relative to the
 * image's first element, so an image can be copied anywhere (its own inner
 * map of an ARRAY_OF_MAPS, or one half of an A/B array) without rewriting.
 * Element 0 is the header; index 0 therefore means "none".
 *
 * An all-zero array is a valid empty image (every lookup returns 0).
 */
#ifndef CGFW_LPM_MAP_H
#define CGFW_LPM_MAP_H

#include "abi.h"

/*
 * Suggested pin name of the ARRAY_OF_MAPS whose slots hold images (see
 * cgfw_lpm.h for the glue); the integrator owns the layout of the slots.
 */
#define CGFW_LPM_PIN "cgfw_lpm"

#define CGFW_LPM_MAGIC	 0x6c706d31u /* "lpm1" */
#define CGFW_LPM_VERSION 2

#define CGFW_LPM_ELEM_SIZE 32

/*
 * Bits read by the direct-indexed root, the same for both families of an
 * image: CGFW_LPM_ROOT_BITS (16) unless the image was built with fewer
 * (CGFW_LPM_F_ROOT_BITS): a 16-bit root is 1 MiB, which a workload's handful
 * of rules does not need; a 4-bit root is 256 bytes. The walk is told the
 * image's root bits (they are in its header too).
 */
#define CGFW_LPM_ROOT_BITS     16
#define CGFW_LPM_ROOT_BITS_MIN 4
#define CGFW_LPM_ROOT_SLOTS    (1u << CGFW_LPM_ROOT_BITS)
#define CGFW_LPM_ROOT_PER_ELEM 4 /* struct cgfw_lpm_root per element */
#define CGFW_LPM_ROOT_ELEMS    (CGFW_LPM_ROOT_SLOTS / CGFW_LPM_ROOT_PER_ELEM)

/* Layout of the start of an image with @rb root bits (element indices). */
#define CGFW_LPM_HDR		  0
#define CGFW_LPM_ROOT4		  1
#define CGFW_LPM_ROOT_ELEMS_B(rb) ((1u << (rb)) / CGFW_LPM_ROOT_PER_ELEM)
#define CGFW_LPM_ROOT6_B(rb)	  (CGFW_LPM_ROOT4 + CGFW_LPM_ROOT_ELEMS_B(rb))
#define CGFW_LPM_RECORDS_B(rb)	  (CGFW_LPM_ROOT6_B(rb) + CGFW_LPM_ROOT_ELEMS_B(rb))
/* The same for the default 16 root bits. */
#define CGFW_LPM_ROOT6	 CGFW_LPM_ROOT6_B(CGFW_LPM_ROOT_BITS)
#define CGFW_LPM_RECORDS CGFW_LPM_RECORDS_B(CGFW_LPM_ROOT_BITS) /* first record */

/* Bits a STRIDE record reads; 64 slots, one bit each in a __u64. */
#define CGFW_LPM_STRIDE 6

/*
 * Records a lookup visits below the root, at most. Every record but the
 * last one advances the bit position by at least CGFW_LPM_STRIDE, starting
 * at the image's root bits; the compiler never makes a deeper image. The
 * walk's bound is the one of the smallest root.
 */
#define CGFW_LPM_DEPTH_B(w, rb) (((w) - (rb) + CGFW_LPM_STRIDE - 1) / CGFW_LPM_STRIDE + 1)
#define CGFW_LPM_DEPTH4		CGFW_LPM_DEPTH_B(32, CGFW_LPM_ROOT_BITS_MIN)  /* 6 */
#define CGFW_LPM_DEPTH6		CGFW_LPM_DEPTH_B(128, CGFW_LPM_ROOT_BITS_MIN) /* 22 */

/* Record kinds (the byte at offset 28 of every record). */
#define CGFW_LPM_KIND_STRIDE 1
#define CGFW_LPM_KIND_TAIL   2
#define CGFW_LPM_KIND_SKIP   3

/* Element 0. Not read by the datapath; user space checks it. */
struct cgfw_lpm_header {
	__u32 magic;	/* CGFW_LPM_MAGIC */
	__u16 version;	/* CGFW_LPM_VERSION */
	__u8 root_bits; /* CGFW_LPM_ROOT_BITS */
	__u8 stride;	/* CGFW_LPM_STRIDE */
	__u32 elems;	/* elements in the image, header included */
	__u32 records;	/* elements from CGFW_LPM_RECORDS on: records and leaves */
	__u32 leaves;	/* leaf values stored */
	__u32 prefixes4;
	__u32 prefixes6;
	__u32 pad;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_lpm_header, 32);

/*
 * A root slot: the addresses whose first CGFW_LPM_ROOT_BITS bits are the
 * slot's index get @value, unless @node is set: then the walk goes on at
 * record @node, which knows the value for every address of the slot.
 */
struct cgfw_lpm_root {
	__u32 value;
	__u32 node;
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_lpm_root, 8);

/*
 * STRIDE: slot s (0..63) is the CGFW_LPM_STRIDE address bits from @pos on,
 * read as a number (first bit most significant).
 *   - Bit s of @vec set: the slot continues in record @child + the number of
 *     bits of @vec below s. That number is byte s / 8 of @rank (byte 0 is 0)
 *     plus the bits of @vec from 8 * (s / 8) to s: a byte-table popcount,
 *     because BPF has no popcount instruction.
 *   - Otherwise the slot's value is leaf number popcount(leafvec & ((2 << s)
 *     - 1)) - 1 of the node. The node's leaves follow its @nchild children:
 *     leaf number k is __u32 k % 8 of element @child + @nchild + k / 8. A set
 *     bit of @leafvec starts a run of slots with the same value; bit 0 is
 *     always set.
 *   - With CGFW_LPM_NODE_ONE_LEAF in @flags every leaf slot has the same
 *     value, kept in the high 32 bits of @leafvec; no leaves are stored (a
 *     read and an element saved: most nodes above the last level).
 * @pos is at most W - CGFW_LPM_STRIDE (26 for IPv4, 122 for IPv6): the last
 * stride of a path may re-read bits already matched.
 */
#define CGFW_LPM_NODE_ONE_LEAF 0x1

struct cgfw_lpm_node {
	__u64 vec;
	__u64 leafvec;
	__u64 rank;
	__u32 child;
	__u8 kind; /* CGFW_LPM_KIND_STRIDE */
	__u8 pos;
	__u8 nchild; /* bits set in @vec */
	__u8 flags;  /* CGFW_LPM_NODE_* */
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_lpm_node, 32);

/*
 * TAIL and SKIP: the address matches when its first @len bits (1..128) are
 * those of (@key_hi, @key_lo) (bits past @len are zero). On no match the
 * result is @miss. On a match TAIL's result is @next_or_value; SKIP goes on
 * at record @next_or_value.
 */
struct cgfw_lpm_tail {
	__u64 key_hi;
	__u64 key_lo;
	__u32 next_or_value;
	__u32 miss;
	__u8 len;
	__u8 pad[3];
	__u8 kind; /* CGFW_LPM_KIND_TAIL or CGFW_LPM_KIND_SKIP */
	__u8 pad2[3];
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_lpm_tail, 32);

/* One element of an image: which member is meant depends on the index. */
struct cgfw_lpm_elem {
	union {
		struct cgfw_lpm_header hdr;			   /* element 0 */
		struct cgfw_lpm_root root[CGFW_LPM_ROOT_PER_ELEM]; /* root areas */
		struct cgfw_lpm_node node;			   /* records */
		struct cgfw_lpm_tail tail;			   /* records */
		__u32 leaf[8];					   /* a node's leaves */
	};
};
CGFW_ABI_ASSERT_SIZE(struct cgfw_lpm_elem, CGFW_LPM_ELEM_SIZE);

#endif /* CGFW_LPM_MAP_H */
