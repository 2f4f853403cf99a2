// SPDX-License-Identifier: GPL-2.0-only
/*
 * The building blocks an LPM walk can be made of, one program each, timed
 * by `lpm_bench --primitives` (docs/LPM.md, table 1): single accesses per
 * run (net of empty), and chains of PRIM_K dependent accesses (net of the
 * same loop without them), on the same element ("same", always in L1) or
 * on random elements of a 8 MiB array ("rand", cache and TLB misses).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "cgfw_lpm.h"
#include "lpm_bench.h"

char LICENSE[] SEC("license") = "GPL";

volatile __u32 seed = 1;
volatile __u32 zero_mask; /* 0, read at run time: keeps a chain on one element */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PRIM_ARR);
	__type(key, __u32);
	__type(value, __u32);
} arr SEC(".maps");

struct inner_t {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PRIM_ARR);
	__type(key, __u32);
	__type(value, __u32);
} inner SEC(".maps");

/* The same, but with BPF_F_INNER_MAP: inner maps may differ in size. */
struct innerf_t {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PRIM_ARR);
	__uint(map_flags, BPF_F_INNER_MAP);
	__type(key, __u32);
	__type(value, __u32);
} innerf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner_t);
} aom SEC(".maps") = { .values = { &inner } };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct innerf_t);
} aomf SEC(".maps") = { .values = { &innerf } };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PRIM_HASH);
	__type(key, struct prim_hkey);
	__type(value, __u32);
} h32 SEC(".maps");

#define TRIE(name, keyt)                              \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);  \
		__uint(max_entries, BENCH_TRIE_MAX);  \
		__uint(map_flags, BPF_F_NO_PREALLOC); \
		__type(key, keyt);                    \
		__type(value, __u32);                 \
	} name SEC(".maps")
TRIE(trie1, struct bench_trie4_key);
TRIE(trie_big4, struct bench_trie4_key);
TRIE(trie_big6, struct bench_trie6_key);

#define STEP(v) (((v) * 2654435761u + 1) & (PRIM_ARR - 1))

SEC("cgroup_skb/egress")
int p_empty(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/egress")
int p_loop(struct __sk_buff *skb)
{
	__u32 k = seed;

	for (int i = 0; i < PRIM_K; i++)
		k = STEP(k);
	return k & 1;
}

SEC("cgroup_skb/egress")
int p_arr1(struct __sk_buff *skb)
{
	__u32 k = seed, *v = bpf_map_lookup_elem(&arr, &k);

	return v ? *v & 1 : 0;
}

#define CHAIN(map, next)                                         \
	do {                                                     \
		for (int i = 0; i < PRIM_K; i++) {               \
			__u32 *v = bpf_map_lookup_elem(map, &k); \
			if (!v)                                  \
				return 0;                        \
			k = next;                                \
		}                                                \
	} while (0)

SEC("cgroup_skb/egress")
int p_arr_same(struct __sk_buff *skb)
{
	__u32 k = seed, z = zero_mask;

	CHAIN(&arr, STEP(*v & z));
	return k & 1;
}

SEC("cgroup_skb/egress")
int p_arr_rand(struct __sk_buff *skb)
{
	__u32 k = seed;

	CHAIN(&arr, STEP(*v));
	return k & 1;
}

SEC("cgroup_skb/egress")
int p_aom1(struct __sk_buff *skb)
{
	__u32 z = 0, k = seed, *v;
	void *m = bpf_map_lookup_elem(&aom, &z);

	if (!m)
		return 0;
	v = bpf_map_lookup_elem(m, &k);
	return v ? *v & 1 : 0;
}

SEC("cgroup_skb/egress")
int p_aom_same(struct __sk_buff *skb)
{
	__u32 slot = 0, k = seed, z = zero_mask;
	void *m = bpf_map_lookup_elem(&aom, &slot);

	if (!m)
		return 0;
	CHAIN(m, STEP(*v & z));
	return k & 1;
}

SEC("cgroup_skb/egress")
int p_aom_rand(struct __sk_buff *skb)
{
	__u32 slot = 0, k = seed;
	void *m = bpf_map_lookup_elem(&aom, &slot);

	if (!m)
		return 0;
	CHAIN(m, STEP(*v));
	return k & 1;
}

SEC("cgroup_skb/egress")
int p_aomf1(struct __sk_buff *skb)
{
	__u32 z = 0, k = seed, *v;
	void *m = bpf_map_lookup_elem(&aomf, &z);

	if (!m)
		return 0;
	v = bpf_map_lookup_elem(m, &k);
	return v ? *v & 1 : 0;
}

SEC("cgroup_skb/egress")
int p_aomf_same(struct __sk_buff *skb)
{
	__u32 slot = 0, k = seed, z = zero_mask;
	void *m = bpf_map_lookup_elem(&aomf, &slot);

	if (!m)
		return 0;
	CHAIN(m, STEP(*v & z));
	return k & 1;
}

SEC("cgroup_skb/egress")
int p_hash1(struct __sk_buff *skb)
{
	struct prim_hkey hk = { seed & (PRIM_HASH - 1), 2, 3, 4 };
	__u32 *v = bpf_map_lookup_elem(&h32, &hk);

	return v ? *v & 1 : 0;
}

SEC("cgroup_skb/egress")
int p_hash_chain(struct __sk_buff *skb)
{
	struct prim_hkey hk = { seed & (PRIM_HASH - 1), 2, 3, 4 };
	__u32 k = seed;

	for (int i = 0; i < PRIM_K; i++) {
		__u32 *v = bpf_map_lookup_elem(&h32, &hk);

		if (!v)
			return 0;
		hk.a = *v;
		k = STEP(k);
	}
	return (hk.a ^ k) & 1;
}

SEC("cgroup_skb/egress")
int p_trie1(struct __sk_buff *skb)
{
	struct bench_trie4_key k = { 32, { 192, 0, 2, 7 } };

	return bpf_map_lookup_elem(&trie1, &k) ? 0 : 1;
}

SEC("cgroup_skb/egress")
int p_trie_big4(struct __sk_buff *skb)
{
	struct bench_trie4_key k = { 32, { 192, 0, 2, 7 } };

	return bpf_map_lookup_elem(&trie_big4, &k) ? 0 : 1;
}

SEC("cgroup_skb/egress")
int p_trie_big6(struct __sk_buff *skb)
{
	struct bench_trie6_key k = { 128, { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 } };

	return bpf_map_lookup_elem(&trie_big6, &k) ? 0 : 1;
}

SEC("cgroup_skb/egress")
int p_popcount(struct __sk_buff *skb)
{
	__u64 k = seed;

	for (int i = 0; i < PRIM_K; i++)
		k = STEP(k) + cgfw_lpm_popcount(k);
	return k & 1;
}
