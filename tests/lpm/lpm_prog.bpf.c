// SPDX-License-Identifier: GPL-2.0-only
/*
 * The LPM walk in the kernel, for prog_lpm.c: tc programs (so BPF_PROG_RUN
 * hands back the whole 32-bit value as retval) that look up the packet's
 * destination in an image, reached through the recommended ARRAY_OF_MAPS
 * glue (slot 0) or through one half of an A/B array.
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "cgfw_lpm.h"

char LICENSE[] SEC("license") = "GPL";

CGFW_LPM_IMAGES(test_images, 1, 1); /* capacity set by the test (template) */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2); /* resized by the test: two halves */
	__type(key, __u32);
	__type(value, struct cgfw_lpm_elem);
} test_ab SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* element index of the live half */
} test_ab_ctl SEC(".maps");

/* 0: the ARRAY_OF_MAPS slot, 1: the A/B array. */
static __always_inline __u32 lookup(struct __sk_buff *skb, int ab)
{
	__u32 zero = 0, *base = 0;

	if (ab) {
		base = bpf_map_lookup_elem(&test_ab_ctl, &zero);
		if (!base)
			return 0xffffffff;
	}
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__be32 d;

		if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, daddr), &d, 4))
			return 0xffffffff;
		if (ab)
			return cgfw_lpm_lookup4(&test_ab, *base, CGFW_LPM_ROOT_BITS, bpf_ntohl(d));
		return cgfw_lpm_slot_lookup4(&test_images, 0, bpf_ntohl(d));
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u64 d[2];

		if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr, daddr), d, 16))
			return 0xffffffff;
		if (ab)
			return cgfw_lpm_lookup6(&test_ab, *base, CGFW_LPM_ROOT_BITS,
						bpf_be64_to_cpu(d[0]), bpf_be64_to_cpu(d[1]));
		return cgfw_lpm_slot_lookup6(&test_images, 0, bpf_be64_to_cpu(d[0]),
					     bpf_be64_to_cpu(d[1]));
	}
	return 0xfffffffe;
}

SEC("tc")
int lpm_aom(struct __sk_buff *skb)
{
	return (int)lookup(skb, 0);
}

SEC("tc")
int lpm_ab(struct __sk_buff *skb)
{
	return (int)lookup(skb, 1);
}
