// SPDX-License-Identifier: GPL-2.0-only
/*
 * Another cgroup_skb program, standing in for systemd's firewall or a
 * container engine's, for the coexistence test: it counts the packets it
 * sees per direction and lets every one of them through.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} other_count SEC(".maps");

static __always_inline int count(__u32 dir)
{
	__u64 *v = bpf_map_lookup_elem(&other_count, &dir);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 1;
}

SEC("cgroup_skb/ingress")
int other_ingress(struct __sk_buff *skb)
{
	return count(0);
}

SEC("cgroup_skb/egress")
int other_egress(struct __sk_buff *skb)
{
	return count(1);
}
