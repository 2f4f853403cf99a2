/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seen-address maps (include/cgfw/seen_map.h) as the BPF objects that
 * use them declare them: the cgroup programs count into them, the utility
 * programs (cgfw_util.bpf.c) drain the per-CPU caches for user space.
 */
#ifndef CGFW_BPF_SEEN_H
#define CGFW_BPF_SEEN_H

#include <cgfw/seen_map.h>

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CGFW_SEEN_MAX);
	__type(key, struct cgfw_seen_key);
	__type(value, struct cgfw_seen_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct cgfw_pc_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgfw_pc SEC(".maps");

/*
 * Only this CPU touches its cache entry, and a program that interrupts
 * another runs to its end before the other goes on: the compiler must not
 * move stores across the busy flag, and that is all.
 */
#define cgfw_barrier() __asm__ __volatile__("" ::: "memory")

/* The hash map side of seen: add @v to @k's entry, or make it. 0, or <0 if neither worked. */
static __always_inline int seen_add(const struct cgfw_seen_key *k, const struct cgfw_seen_val *v)
{
	struct cgfw_seen_val *o;

	o = bpf_map_lookup_elem(&cgfw_seen, k);
	if (!o) {
		if (!bpf_map_update_elem(&cgfw_seen, k, v, BPF_NOEXIST))
			return 0;
		o = bpf_map_lookup_elem(&cgfw_seen, k); /* somebody made it meanwhile */
		if (!o)
			return -1;
	}
	__sync_fetch_and_add(&o->packets, v->packets);
	__sync_fetch_and_add(&o->bytes, v->bytes);
	if (v->dropped)
		__sync_fetch_and_add(&o->dropped, v->dropped);
	if (v->first_j < o->first_j)
		o->first_j = v->first_j;
	if (v->last_j > o->last_j)
		o->last_j = v->last_j;
	return 0;
}

static __always_inline __u32 seen_hash(const struct cgfw_seen_key *k)
{
	const __u32 *a = (const __u32 *)k->addr;
	__u32 x = a[0] ^ a[1] ^ a[2] ^ a[3] ^ (__u32)k->cgid ^ ((__u32)k->dir << 31);

	return (x * 0x9e3779b1u) >> 24 & (CGFW_SEEN_CACHE - 1);
}

static __always_inline int same_key(const struct cgfw_seen_key *a, const struct cgfw_seen_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

#endif /* CGFW_BPF_SEEN_H */
