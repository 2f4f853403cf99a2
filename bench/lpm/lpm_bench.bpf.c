// SPDX-License-Identifier: GPL-2.0-only
/*
 * Programs of the LPM micro-benchmark (lpm_bench.c), all cgroup_skb egress
 * like the datapath, all reading the destination address the same way:
 *   - empty: the floor every figure is net of;
 *   - load4/6: reading the destination address alone;
 *   - trie4/6: one BPF_MAP_TYPE_LPM_TRIE lookup, the naive baseline;
 *   - aom4/6: the cgfw_lpm walk of the image in slot 0 of an ARRAY_OF_MAPS
 *     (the recommended glue, cgfw_lpm.h);
 *   - ab4/6: the same walk over one half of a global A/B array, the half
 *     chosen by a control map;
 *   - mix*: the walk (or the trie) over BENCH_MIX addresses in one run, so
 *     the figure includes the cache misses of addresses that differ.
 * They return 0 (drop) when a prefix matches, 1 otherwise; the bench checks
 * every verdict against the user-space lookup.
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "cgfw_lpm.h"
#include "lpm_bench.h"

char LICENSE[] SEC("license") = "GPL";

/* Images: inner arrays sized by user space before load (template max_entries). */
CGFW_LPM_IMAGES(bench_images, 2, 1);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2); /* resized by user space: 2 halves */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct cgfw_lpm_elem);
} bench_ab SEC(".maps");

/* Element index of the live half of bench_ab. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_ab_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BENCH_TRIE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bench_trie4_key);
	__type(value, __u32);
} bench_trie4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BENCH_TRIE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bench_trie6_key);
	__type(value, __u32);
} bench_trie6 SEC(".maps");

/* Addresses of the mix programs, host order, written by user space. */
__u32 mix4[BENCH_MIX];
__u64 mix6[BENCH_MIX][2];

static __always_inline int daddr4(struct __sk_buff *skb, __u32 *a)
{
	__be32 d;

	if (bpf_skb_load_bytes(skb, offsetof(struct iphdr, daddr), &d, 4) < 0)
		return -1;
	*a = bpf_ntohl(d);
	return 0;
}

static __always_inline int daddr6(struct __sk_buff *skb, __u64 *hi, __u64 *lo)
{
	__u64 d[2];

	if (bpf_skb_load_bytes(skb, offsetof(struct ipv6hdr, daddr), d, 16) < 0)
		return -1;
	*hi = bpf_be64_to_cpu(d[0]);
	*lo = bpf_be64_to_cpu(d[1]);
	return 0;
}

SEC("cgroup_skb/egress")
int empty(struct __sk_buff *skb)
{
	return 1;
}

/* Reading the address alone: what the lookups cost on top of it. */
SEC("cgroup_skb/egress")
int load4(struct __sk_buff *skb)
{
	__u32 a;

	if (daddr4(skb, &a))
		return 1;
	return a == 0x01020304;
}

SEC("cgroup_skb/egress")
int load6(struct __sk_buff *skb)
{
	__u64 hi, lo;

	if (daddr6(skb, &hi, &lo))
		return 1;
	return (hi ^ lo) == 0x01020304;
}

SEC("cgroup_skb/egress")
int trie4(struct __sk_buff *skb)
{
	struct bench_trie4_key k = { .prefixlen = 32 };

	if (bpf_skb_load_bytes(skb, offsetof(struct iphdr, daddr), k.addr, 4) < 0)
		return 1;
	return bpf_map_lookup_elem(&bench_trie4, &k) ? 0 : 1;
}

SEC("cgroup_skb/egress")
int trie6(struct __sk_buff *skb)
{
	struct bench_trie6_key k = { .prefixlen = 128 };

	if (bpf_skb_load_bytes(skb, offsetof(struct ipv6hdr, daddr), k.addr, 16) < 0)
		return 1;
	return bpf_map_lookup_elem(&bench_trie6, &k) ? 0 : 1;
}

SEC("cgroup_skb/egress")
int aom4(struct __sk_buff *skb)
{
	__u32 a;

	if (daddr4(skb, &a))
		return 1;
	return cgfw_lpm_slot_lookup4(&bench_images, 0, a) ? 0 : 1;
}

SEC("cgroup_skb/egress")
int aom6(struct __sk_buff *skb)
{
	__u64 hi, lo;

	if (daddr6(skb, &hi, &lo))
		return 1;
	return cgfw_lpm_slot_lookup6(&bench_images, 0, hi, lo) ? 0 : 1;
}

SEC("cgroup_skb/egress")
int ab4(struct __sk_buff *skb)
{
	__u32 a, zero = 0, *base;

	if (daddr4(skb, &a))
		return 1;
	base = bpf_map_lookup_elem(&bench_ab_ctl, &zero);
	if (!base)
		return 1;
	return cgfw_lpm_lookup4(&bench_ab, *base, CGFW_LPM_ROOT_BITS, a) ? 0 : 1;
}

SEC("cgroup_skb/egress")
int ab6(struct __sk_buff *skb)
{
	__u32 zero = 0, *base;
	__u64 hi, lo;

	if (daddr6(skb, &hi, &lo))
		return 1;
	base = bpf_map_lookup_elem(&bench_ab_ctl, &zero);
	if (!base)
		return 1;
	return cgfw_lpm_lookup6(&bench_ab, *base, CGFW_LPM_ROOT_BITS, hi, lo) ? 0 : 1;
}

/*
 * BENCH_MIX lookups of different addresses per run. bpf_loop, so the
 * verifier checks one walk, not BENCH_MIX of them; the callback call is in
 * mixnone too, and comes out of the figures.
 */
static int mix_aom4(__u32 i, __u32 *n)
{
	*n += !!cgfw_lpm_slot_lookup4(&bench_images, 0, mix4[i & (BENCH_MIX - 1)]);
	return 0;
}

static int mix_aom6(__u32 i, __u32 *n)
{
	i &= BENCH_MIX - 1;
	*n += !!cgfw_lpm_slot_lookup6(&bench_images, 0, mix6[i][0], mix6[i][1]);
	return 0;
}

static int mix_trie4(__u32 i, __u32 *n)
{
	struct bench_trie4_key k = { .prefixlen = 32 };

	*(__be32 *)k.addr = bpf_htonl(mix4[i & (BENCH_MIX - 1)]);
	*n += !!bpf_map_lookup_elem(&bench_trie4, &k);
	return 0;
}

static int mix_trie6(__u32 i, __u32 *n)
{
	struct bench_trie6_key k = { .prefixlen = 128 };

	i &= BENCH_MIX - 1;
	*(__u64 *)k.addr = bpf_cpu_to_be64(mix6[i][0]);
	*(__u64 *)(k.addr + 8) = bpf_cpu_to_be64(mix6[i][1]);
	*n += !!bpf_map_lookup_elem(&bench_trie6, &k);
	return 0;
}

static int mix_none(__u32 i, __u32 *n)
{
	*n += mix4[i & (BENCH_MIX - 1)] & 1;
	return 0;
}

#define MIX_PROG(name, cb)                      \
	SEC("cgroup_skb/egress")                \
	int name(struct __sk_buff *skb)         \
	{                                       \
		__u32 n = 0;                    \
                                                \
		bpf_loop(BENCH_MIX, cb, &n, 0); \
		return n & 1;                   \
	}

MIX_PROG(mixaom4, mix_aom4)
MIX_PROG(mixaom6, mix_aom6)
MIX_PROG(mixtrie4, mix_trie4)
MIX_PROG(mixtrie6, mix_trie6)
MIX_PROG(mixnone4, mix_none)
