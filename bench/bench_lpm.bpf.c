// SPDX-License-Identifier: GPL-2.0-only
/*
 * Baseline: a firewall that is one BPF_MAP_TYPE_LPM_TRIE lookup of the
 * destination address (a trie per family), dropping on a match. It reads only
 * the address it needs, so the difference to cgfw is the price of cgfw's
 * parsing, counters and seen-IP record plus the lookup structure itself.
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bench_maps.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BENCH_LPM_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bench_lpm4_key);
	__type(value, __u8);
} bench_lpm4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BENCH_LPM_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bench_lpm6_key);
	__type(value, __u8);
} bench_lpm6 SEC(".maps");

SEC("cgroup_skb/egress")
int bench_lpm(struct __sk_buff *skb)
{
	/* cgroup_skb data starts at the IP header. */
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct bench_lpm4_key k = { .prefixlen = 32 };

		if (bpf_skb_load_bytes(skb, offsetof(struct iphdr, daddr), k.addr, 4) < 0)
			return 1;
		return bpf_map_lookup_elem(&bench_lpm4, &k) ? 0 : 1;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct bench_lpm6_key k = { .prefixlen = 128 };

		if (bpf_skb_load_bytes(skb, offsetof(struct ipv6hdr, daddr), k.addr, 16) < 0)
			return 1;
		return bpf_map_lookup_elem(&bench_lpm6, &k) ? 0 : 1;
	}
	return 1;
}
