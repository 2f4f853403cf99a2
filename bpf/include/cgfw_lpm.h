/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Longest-prefix-match lookup over an image compiled by lib/lpm (layout in
 * include/cgfw/lpm_map.h, design in docs/LPM.md). Header only, and the same
 * code compiles in user space, so the unit tests run the datapath's own walk
 * against a naive reference.
 *
 * The includer says how to reach element @idx of an image:
 *
 *   CGFW_LPM_CTX_T           the type of the first argument (default void *)
 *   CGFW_LPM_ELEM(ctx, idx)  a const struct cgfw_lpm_elem *, or NULL when
 *                            @idx is out of range
 *
 * In a BPF program (include <bpf/bpf_helpers.h> first) the default is an
 * ARRAY map reached through @ctx (an inner map of an ARRAY_OF_MAPS, or
 * &some_global_array), @base being the image's first element there (0 for a
 * map of its own, the half's offset in an A/B array): the verifier inlines
 * those lookups when it knows the array's max_entries, that is when the
 * inner map template has no BPF_F_INNER_MAP (docs/LPM.md has the numbers:
 * 3-5 ns inlined, about 9 ns as a call).
 *
 * Every lookup is a bounded walk: the root, then at most CGFW_LPM_DEPTH4 or
 * CGFW_LPM_DEPTH6 records, then at most one leaf; no helper calls besides
 * the element accesses, no backtracking. A corrupt image can give a wrong
 * value, never an unbounded walk or an access outside the map.
 */
#ifndef CGFW_BPF_LPM_H
#define CGFW_BPF_LPM_H

#include <cgfw/lpm_map.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif

#ifndef CGFW_LPM_CTX_T
#define CGFW_LPM_CTX_T void *
#endif

#ifndef CGFW_LPM_ELEM
#ifdef __bpf__
static __always_inline const struct cgfw_lpm_elem *cgfw_lpm_elem_(void *map, __u32 idx)
{
	return bpf_map_lookup_elem(map, &idx);
}
#define CGFW_LPM_ELEM(ctx, idx) cgfw_lpm_elem_((ctx), (idx))
#else
#error "define CGFW_LPM_ELEM(ctx, idx) before including cgfw_lpm.h"
#endif
#endif

/*
 * Keeps the compiler from dropping a mask it can prove redundant but the
 * verifier cannot (a table index must be visibly bounded).
 */
#define cgfw_lpm_barrier_var(x) __asm__ __volatile__("" : "+r"(x))

/*
 * BPF has no popcount instruction (nor does the x86 JIT emit one). The
 * child index, taken at every level, uses the node's per-byte prefix counts
 * and this table (one load from .rodata); the leaf index, once per lookup,
 * the SWAR sum (a dozen ALU operations and one multiply).
 */
#define CGFW_LPM_P2(n) n, n + 1, n + 1, n + 2
#define CGFW_LPM_P4(n) CGFW_LPM_P2(n), CGFW_LPM_P2(n + 1), CGFW_LPM_P2(n + 1), CGFW_LPM_P2(n + 2)
#define CGFW_LPM_P6(n) CGFW_LPM_P4(n), CGFW_LPM_P4(n + 1), CGFW_LPM_P4(n + 1), CGFW_LPM_P4(n + 2)
static const __u8 cgfw_lpm_pop8[256] = { CGFW_LPM_P6(0), CGFW_LPM_P6(1), CGFW_LPM_P6(1),
					 CGFW_LPM_P6(2) };

static __always_inline __u32 cgfw_lpm_popcount(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (__u32)((x * 0x0101010101010101ull) >> 56);
}

/* The bits of @n's vec below slot @s (0..63). */
static __always_inline __u32 cgfw_lpm_rank(const struct cgfw_lpm_node *n, __u32 s)
{
	__u32 g = s & 56, low = (__u32)(n->vec >> g) & ((1u << (s & 7)) - 1);

	cgfw_lpm_barrier_var(low);
	return (__u32)((n->rank >> g) & 0xff) + cgfw_lpm_pop8[low & 0xff];
}

/*
 * A STRIDE record read at slot @s: either the next record (*@next) or, with
 * *@next = 0, the value it returns.
 */
static __always_inline __u32 cgfw_lpm_stride(CGFW_LPM_CTX_T ctx, __u32 base,
					     const struct cgfw_lpm_node *n, __u32 s, __u32 *next)
{
	const struct cgfw_lpm_elem *e;
	__u64 bit;
	__u32 k;

	s &= 63;
	bit = 1ull << s;
	if (n->vec & bit) {
		*next = n->child + cgfw_lpm_rank(n, s);
		return 0;
	}
	*next = 0;
	if (n->flags & CGFW_LPM_NODE_ONE_LEAF)
		return (__u32)(n->leafvec >> 32);
	k = cgfw_lpm_popcount(n->leafvec & (bit | (bit - 1))) - 1;
	e = CGFW_LPM_ELEM(ctx, base + n->child + n->nchild + (k >> 3));
	return e ? e->leaf[k & 7] : 0;
}

/* An image's root bits, as the walk may use them (CGFW_LPM_ROOT_BITS_MIN..16). */
static __always_inline __u32 cgfw_lpm_rb(__u32 rb)
{
	rb &= 31;
	if (rb < CGFW_LPM_ROOT_BITS_MIN)
		rb = CGFW_LPM_ROOT_BITS_MIN;
	if (rb > CGFW_LPM_ROOT_BITS)
		rb = CGFW_LPM_ROOT_BITS;
	return rb;
}

/*
 * The value of the longest IPv4 prefix containing @addr (host byte order)
 * in the image of @rb root bits whose element 0 is element @base of @ctx; 0
 * if none.
 */
static __always_inline __u32 cgfw_lpm_lookup4(CGFW_LPM_CTX_T ctx, __u32 base, __u32 rb, __u32 addr)
{
	const struct cgfw_lpm_elem *e;
	const struct cgfw_lpm_root *r;
	__u32 i, d, v;

	rb = cgfw_lpm_rb(rb);
	e = CGFW_LPM_ELEM(ctx, base + CGFW_LPM_ROOT4 + (addr >> ((32 - rb + 2) & 31)));
	if (!e)
		return 0;
	r = &e->root[(addr >> ((32 - rb) & 31)) & (CGFW_LPM_ROOT_PER_ELEM - 1)];
	i = r->node;
	if (!i)
		return r->value;
	for (d = 0; d < CGFW_LPM_DEPTH4; d++) {
		e = CGFW_LPM_ELEM(ctx, base + i);
		if (!e)
			return 0;
		if (e->node.kind == CGFW_LPM_KIND_STRIDE) {
			v = cgfw_lpm_stride(ctx, base, &e->node,
					    addr >> ((32 - CGFW_LPM_STRIDE - e->node.pos) & 31),
					    &i);
			if (!i)
				return v;
			continue;
		}
		/* TAIL or SKIP: @len is 1..32 for IPv4. */
		if ((addr ^ (__u32)(e->tail.key_hi >> 32)) &
		    (__u32)(0xffffffff00000000ull >> (e->tail.len & 63)))
			return e->tail.miss;
		if (e->tail.kind == CGFW_LPM_KIND_TAIL)
			return e->tail.next_or_value;
		i = e->tail.next_or_value;
	}
	return 0;
}

/* Whether the first @len (1..128) bits of (@hi, @lo) are those of @t's key. */
static __always_inline int cgfw_lpm_match6(const struct cgfw_lpm_tail *t, __u64 hi, __u64 lo)
{
	__u32 len = t->len;
	__u64 dh = hi ^ t->key_hi;

	if (len <= 64)
		return !(dh >> ((64 - len) & 63)) || !len;
	return !dh && !((lo ^ t->key_lo) >> ((128 - len) & 63));
}

/* The 6 bits of (@hi, @lo) from bit position @pos (0..122) on. */
static __always_inline __u32 cgfw_lpm_slot6(__u64 hi, __u64 lo, __u32 pos)
{
	if (pos <= 64 - CGFW_LPM_STRIDE)
		return (__u32)(hi >> ((64 - CGFW_LPM_STRIDE - pos) & 63));
	if (pos >= 64)
		return (__u32)(lo >> ((128 - CGFW_LPM_STRIDE - pos) & 63));
	return (__u32)((hi << ((pos - (64 - CGFW_LPM_STRIDE)) & 63)) |
		       (lo >> ((128 - CGFW_LPM_STRIDE - pos) & 63)));
}

/*
 * The value of the longest IPv6 prefix containing the address (@hi, @lo):
 * its first and last 8 bytes as host-order numbers (bpf_be64_to_cpu of the
 * two halves on the wire). 0 if none.
 */
static __always_inline __u32 cgfw_lpm_lookup6(CGFW_LPM_CTX_T ctx, __u32 base, __u32 rb, __u64 hi,
					      __u64 lo)
{
	const struct cgfw_lpm_elem *e;
	const struct cgfw_lpm_root *r;
	__u32 i, d, v;

	rb = cgfw_lpm_rb(rb);
	e = CGFW_LPM_ELEM(ctx, base + CGFW_LPM_ROOT4 + (1u << (rb - 2)) +
				       (__u32)(hi >> ((64 - rb + 2) & 63)));
	if (!e)
		return 0;
	r = &e->root[(hi >> ((64 - rb) & 63)) & (CGFW_LPM_ROOT_PER_ELEM - 1)];
	i = r->node;
	if (!i)
		return r->value;
	for (d = 0; d < CGFW_LPM_DEPTH6; d++) {
		e = CGFW_LPM_ELEM(ctx, base + i);
		if (!e)
			return 0;
		if (e->node.kind == CGFW_LPM_KIND_STRIDE) {
			v = cgfw_lpm_stride(ctx, base, &e->node,
					    cgfw_lpm_slot6(hi, lo, e->node.pos), &i);
			if (!i)
				return v;
			continue;
		}
		if (!cgfw_lpm_match6(&e->tail, hi, lo))
			return e->tail.miss;
		if (e->tail.kind == CGFW_LPM_KIND_TAIL)
			return e->tail.next_or_value;
		i = e->tail.next_or_value;
	}
	return 0;
}

#ifdef __bpf__
/*
 * Glue for the recommended layout: images live in the slots of an
 * ARRAY_OF_MAPS, one inner BPF_F_MMAPABLE ARRAY per image. A new image is
 * written into an inner map no slot holds (no packet can see it), then made
 * live by one bpf_map_update_elem of the slot. That update returns only
 * after an RCU grace period (maybe_wait_bpf_programs(), 6.1 included): when
 * it returns, no program still walks the old image, so user space may
 * rewrite that map for the next change (two inner maps per slot, used in
 * turn, no allocation per change) or close it (the kernel frees it).
 *
 * Every inner map must have the template's max_entries (@capacity elements):
 * that is what lets the verifier inline each element access. The template
 * deliberately has no BPF_F_INNER_MAP, which would allow other sizes at the
 * price of a function call per access (about 9 ns here). To choose the
 * capacity at load time, create a template array with the same flags and
 * value size and hand it to bpf_map__set_inner_map_fd() before load:
 * libbpf 1.1 crashes in bpf_map__set_max_entries(bpf_map__inner_map()). An
 * image larger than the capacity needs programs loaded with a larger one.
 *
 * Needs <bpf/bpf_helpers.h> first. Usage:
 *   CGFW_LPM_IMAGES(cgfw_lpm, 2, 1 << 20);
 *   v = cgfw_lpm_slot_lookup4(&cgfw_lpm, slot, addr);
 */
#define CGFW_LPM_IMAGES(name, slots, capacity)            \
	struct name##_image {                             \
		__uint(type, BPF_MAP_TYPE_ARRAY);         \
		__uint(max_entries, capacity);            \
		__uint(map_flags, BPF_F_MMAPABLE);        \
		__type(key, __u32);                       \
		__type(value, struct cgfw_lpm_elem);      \
	};                                                \
	struct {                                          \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); \
		__uint(max_entries, slots);               \
		__type(key, __u32);                       \
		__array(values, struct name##_image);     \
	} name SEC(".maps")

/* The IPv4 lookup in the image of slot @slot of @images; 0 for an empty slot. */
static __always_inline __u32 cgfw_lpm_slot_lookup4(void *images, __u32 slot, __u32 addr)
{
	void *img = bpf_map_lookup_elem(images, &slot);

	return img ? cgfw_lpm_lookup4(img, 0, CGFW_LPM_ROOT_BITS, addr) : 0;
}

static __always_inline __u32 cgfw_lpm_slot_lookup6(void *images, __u32 slot, __u64 hi, __u64 lo)
{
	void *img = bpf_map_lookup_elem(images, &slot);

	return img ? cgfw_lpm_lookup6(img, 0, CGFW_LPM_ROOT_BITS, hi, lo) : 0;
}
#endif /* __bpf__ */

#endif /* CGFW_BPF_LPM_H */
